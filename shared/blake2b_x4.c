/* BLAKE2b (RFC 7693) four chains at a time, one per 64-bit lane of AVX2
 * vectors. All four chains have seen the same number of bytes, so the
 * counter and the last-block flag are shared, and the message words of the
 * four blocks are transposed so that vector i holds word i of each. */
#include <string.h>

#include "blake2b_x4.h"

static enum b2x4_path path_limit = B2X4_AVX512;

static const uint64_t iv[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
	0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
	0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

#ifdef __x86_64__
#include <immintrin.h>

/* the message schedule; rounds 10 and 11 use rows 0 and 1 again */
static const uint8_t sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

#define AVX2	__attribute__((target("avx2")))
#define AVX512	__attribute__((target("avx2,avx512f,avx512vl")))

/* m[4k .. 4k+3] = words 4k .. 4k+3 of the four blocks, one block a lane. */
AVX2 static inline void
load_words(__m256i m[16], const uint8_t *const p[B2X4_LANES])
{
	__m256i a, b, c, d, t0, t1, t2, t3;
	int k;

	for (k = 0; k < 4; k++) {
		a = _mm256_loadu_si256((const __m256i *)(const void *)(p[0] +
		    32 * k));
		b = _mm256_loadu_si256((const __m256i *)(const void *)(p[1] +
		    32 * k));
		c = _mm256_loadu_si256((const __m256i *)(const void *)(p[2] +
		    32 * k));
		d = _mm256_loadu_si256((const __m256i *)(const void *)(p[3] +
		    32 * k));
		t0 = _mm256_unpacklo_epi64(a, b);	/* a0 b0 a2 b2 */
		t1 = _mm256_unpackhi_epi64(a, b);	/* a1 b1 a3 b3 */
		t2 = _mm256_unpacklo_epi64(c, d);
		t3 = _mm256_unpackhi_epi64(c, d);
		m[4 * k + 0] = _mm256_permute2x128_si256(t0, t2, 0x20);
		m[4 * k + 1] = _mm256_permute2x128_si256(t1, t3, 0x20);
		m[4 * k + 2] = _mm256_permute2x128_si256(t0, t2, 0x31);
		m[4 * k + 3] = _mm256_permute2x128_si256(t1, t3, 0x31);
	}
}

/* With AVX2 alone, rotations are byte shuffles, or a shift, an add and an or
 * for 63; AVX-512VL rotates in one instruction, a quarter faster in all. */
#define ROT_BYTES(x, a, b, c, d, e, f, g, h) _mm256_shuffle_epi8((x),	\
	_mm256_setr_epi8(a, b, c, d, e, f, g, h, a + 8, b + 8, c + 8,	\
	d + 8, e + 8, f + 8, g + 8, h + 8, a, b, c, d, e, f, g, h,	\
	a + 8, b + 8, c + 8, d + 8, e + 8, f + 8, g + 8, h + 8))
#define ROR32(x)	_mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define ROR24(x)	ROT_BYTES((x), 3, 4, 5, 6, 7, 0, 1, 2)
#define ROR16(x)	ROT_BYTES((x), 2, 3, 4, 5, 6, 7, 0, 1)
#define ROR63(x)	_mm256_or_si256(_mm256_srli_epi64((x), 63),	\
	_mm256_add_epi64((x), (x)))
#define COMPRESS4	AVX2 static void compress4_avx2
#include "blake2b_x4_rounds.h"
#undef ROR32
#undef ROR24
#undef ROR16
#undef ROR63
#undef COMPRESS4

#define ROR32(x)	_mm256_ror_epi64((x), 32)
#define ROR24(x)	_mm256_ror_epi64((x), 24)
#define ROR16(x)	_mm256_ror_epi64((x), 16)
#define ROR63(x)	_mm256_ror_epi64((x), 63)
#define COMPRESS4	AVX512 static void compress4_avx512
#include "blake2b_x4_rounds.h"

static void
compress4(struct b2x4 *s, const uint8_t *const p[B2X4_LANES], int last)
{
	if (s->simd == B2X4_AVX512)
		compress4_avx512(s, p, last);
	else
		compress4_avx2(s, p, last);
}

static enum b2x4_path
cpu_path(void)
{
	if (!__builtin_cpu_supports("avx2"))
		return B2X4_PORTABLE;
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl"))
		return B2X4_AVX512;
	return B2X4_AVX2;
}
#else
/* Elsewhere every lane is a libsodium chain. */
static void
compress4(struct b2x4 *s, const uint8_t *const p[B2X4_LANES], int last)
{
	(void)s, (void)p, (void)last;
}

static enum b2x4_path
cpu_path(void)
{
	return B2X4_PORTABLE;
}
#endif

void
b2x4_path_limit(enum b2x4_path max)
{
	path_limit = max;
}

const char *
b2x4_path_name(const struct b2x4 *s)
{
	static const char *const name[] = { "portable", "AVX2", "AVX-512VL" };

	return name[s->simd];
}

void
b2x4_init(struct b2x4 *s)
{
	int i, j;

	memset(s, 0, sizeof(*s));
	s->simd = cpu_path();
	if (s->simd > path_limit)
		s->simd = path_limit;
	if (s->simd == B2X4_PORTABLE) {
		for (j = 0; j < B2X4_LANES; j++)
			b2_init(&s->one[j]);
		return;
	}
	for (i = 0; i < 8; i++)
		for (j = 0; j < B2X4_LANES; j++)
			s->h[i][j] = iv[i];
	/* the parameter block: digest length, no key, fanout and depth 1 */
	for (j = 0; j < B2X4_LANES; j++)
		s->h[0][j] ^= 0x01010000ULL | B2_LEN;
}

static const uint8_t *const *
lanes_at(const uint8_t *const in[B2X4_LANES], size_t off,
    const uint8_t *p[B2X4_LANES])
{
	int j;

	for (j = 0; j < B2X4_LANES; j++)
		p[j] = in[j] + off;
	return p;
}

void
b2x4_update(struct b2x4 *s, const uint8_t *const in[B2X4_LANES], size_t len)
{
	const uint8_t *p[B2X4_LANES], *bufs[B2X4_LANES];
	size_t off = 0, fill;
	int j;

	if (s->simd == B2X4_PORTABLE) {
		for (j = 0; j < B2X4_LANES; j++)
			b2_update(&s->one[j], in[j], len);
		return;
	}
	if (len == 0)
		return;
	for (j = 0; j < B2X4_LANES; j++)
		bufs[j] = s->buf[j];
	/* BLAKE2b compresses a block only once more input follows it: the
	 * last one, full or not, waits for b2x4_final. */
	if (s->buflen + len > B2X4_BLOCK) {
		fill = B2X4_BLOCK - s->buflen;
		for (j = 0; j < B2X4_LANES; j++)
			memcpy(s->buf[j] + s->buflen, in[j], fill);
		s->t += B2X4_BLOCK;
		compress4(s, bufs, 0);
		s->buflen = 0;
		off = fill;
		while (len - off > B2X4_BLOCK) {
			s->t += B2X4_BLOCK;
			compress4(s, lanes_at(in, off, p), 0);
			off += B2X4_BLOCK;
		}
	}
	for (j = 0; j < B2X4_LANES; j++)
		memcpy(s->buf[j] + s->buflen, in[j] + off, len - off);
	s->buflen += len - off;
}

void
b2x4_final(struct b2x4 *s, uint8_t out[B2X4_LANES][B2_LEN])
{
	const uint8_t *bufs[B2X4_LANES];
	int i, j;

	if (s->simd == B2X4_PORTABLE) {
		for (j = 0; j < B2X4_LANES; j++)
			b2_final(&s->one[j], out[j]);
		return;
	}
	for (j = 0; j < B2X4_LANES; j++) {
		memset(s->buf[j] + s->buflen, 0, B2X4_BLOCK - s->buflen);
		bufs[j] = s->buf[j];
	}
	s->t += s->buflen;
	compress4(s, bufs, 1);
	/* little-endian words; x86 is the only target of the vector path */
	for (j = 0; j < B2X4_LANES; j++)
		for (i = 0; i < B2_LEN / 8; i++)
			memcpy(out[j] + 8 * i, &s->h[i][j], 8);
}
