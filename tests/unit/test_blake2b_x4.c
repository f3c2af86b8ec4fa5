/* Four chains at once give each chain's BLAKE2b-128, whatever the length and
 * however the input is cut into updates, on every path this CPU has. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blake2b_x4.h"
#include "t.h"

int main(void);

#define MAXLEN	(70 * 1024)

static uint8_t data[B2X4_LANES][MAXLEN];

/* Hashes len bytes of each lane in updates of at most `step` bytes (0:
 * sizes drawn at random, some of them 0). */
static int
agrees(size_t len, size_t step)
{
	const uint8_t *in[B2X4_LANES];
	uint8_t got[B2X4_LANES][B2_LEN], want[B2_LEN];
	struct b2x4 s;
	size_t off = 0, n;
	int j, ok = 1;

	b2x4_init(&s);
	while (off < len) {
		n = step ? step : randombytes_uniform(300);
		if (n > len - off)
			n = len - off;
		for (j = 0; j < B2X4_LANES; j++)
			in[j] = data[j] + off;
		b2x4_update(&s, in, n);
		off += n;
	}
	b2x4_final(&s, got);
	for (j = 0; j < B2X4_LANES; j++) {
		b2_hash(data[j], len, want);
		ok &= memcmp(got[j], want, B2_LEN) == 0;
	}
	return ok;
}

static void
lengths(const char *path)
{
	static const size_t len[] = { 0, 1, 2, 63, 127, 128, 129, 255, 256,
	    257, 383, 384, 385, 1000, 4096 + 5, MAXLEN - 1, MAXLEN };
	static const size_t step[] = { 0, 1, 127, 128, 129, 4096, MAXLEN };
	size_t i, k;

	for (i = 0; i < sizeof(len) / sizeof(len[0]); i++)
		for (k = 0; k < sizeof(step) / sizeof(step[0]); k++)
			T_CHECK(agrees(len[i], step[k]), "%s: %zu bytes in "
			    "updates of %zu: a digest differs from BLAKE2b-128",
			    path, len[i], step[k]);
}

int
main(void)
{
	const uint8_t *same[B2X4_LANES];
	uint8_t got[B2X4_LANES][B2_LEN];
	struct b2x4 s;
	int j;

	enum b2x4_path p, top;
	struct b2x4 want;

	T_CHECK(sodium_init() >= 0, "libsodium");
	randombytes_buf(data, sizeof(data));
	top = !__builtin_cpu_supports("avx2") ? B2X4_PORTABLE :
	    __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") ? B2X4_AVX512 : B2X4_AVX2;
	b2x4_init(&s);
	want.simd = top;
	T_CHECK(s.simd == top, "b2x4_init takes the %s path on a CPU that "
	    "has %s", b2x4_path_name(&s), b2x4_path_name(&want));
	for (p = B2X4_PORTABLE; p <= top; p++) {
		b2x4_path_limit(p);
		b2x4_init(&s);
		want.simd = p;
		T_CHECK(s.simd == p, "limited to %s, b2x4_init took %s",
		    b2x4_path_name(&want), b2x4_path_name(&s));
		lengths(b2x4_path_name(&s));
	}
	b2x4_path_limit(B2X4_AVX512);
	/* lanes fed the same bytes give the same digest */
	for (j = 0; j < B2X4_LANES; j++)
		same[j] = data[0];
	b2x4_init(&s);
	b2x4_update(&s, same, 1000);
	b2x4_final(&s, got);
	for (j = 1; j < B2X4_LANES; j++)
		T_CHECK(memcmp(got[0], got[j], B2_LEN) == 0,
		    "lane %d differs on the same input", j);
	return t_finish();
}
