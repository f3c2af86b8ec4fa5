/* The compression of four blocks, one per lane: included by blake2b_x4.c once
 * for each instruction set, with COMPRESS4 naming the function and ROR32,
 * ROR24, ROR16 and ROR63 rotating each 64-bit lane right. */
#define ADD(a, b)	_mm256_add_epi64((a), (b))
#define XOR(a, b)	_mm256_xor_si256((a), (b))
#define G(a, b, c, d, x, y) do {				\
	v[a] = ADD(ADD(v[a], v[b]), (x));			\
	v[d] = ROR32(XOR(v[d], v[a]));				\
	v[c] = ADD(v[c], v[d]);					\
	v[b] = ROR24(XOR(v[b], v[c]));				\
	v[a] = ADD(ADD(v[a], v[b]), (y));			\
	v[d] = ROR16(XOR(v[d], v[a]));				\
	v[c] = ADD(v[c], v[d]);					\
	v[b] = ROR63(XOR(v[b], v[c]));				\
} while (0)

COMPRESS4(struct b2x4 *s, const uint8_t *const p[B2X4_LANES], int last)
{
	__m256i v[16], m[16];
	int i, r;

	load_words(m, p);
	for (i = 0; i < 8; i++) {
		v[i] = _mm256_loadu_si256((const __m256i *)(const void *)s->h[i]);
		v[i + 8] = _mm256_set1_epi64x((long long)iv[i]);
	}
	v[12] = XOR(v[12], _mm256_set1_epi64x((long long)s->t));
	if (last)
		v[14] = XOR(v[14], _mm256_set1_epi64x(-1));
	for (r = 0; r < 12; r++) {
		const uint8_t *z = sigma[r % 10];

		G(0, 4, 8, 12, m[z[0]], m[z[1]]);
		G(1, 5, 9, 13, m[z[2]], m[z[3]]);
		G(2, 6, 10, 14, m[z[4]], m[z[5]]);
		G(3, 7, 11, 15, m[z[6]], m[z[7]]);
		G(0, 5, 10, 15, m[z[8]], m[z[9]]);
		G(1, 6, 11, 12, m[z[10]], m[z[11]]);
		G(2, 7, 8, 13, m[z[12]], m[z[13]]);
		G(3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (i = 0; i < 8; i++)
		_mm256_storeu_si256((__m256i *)(void *)s->h[i],
		    XOR(_mm256_loadu_si256((const __m256i *)(const void *)
		    s->h[i]), XOR(v[i], v[i + 8])));
}

#undef ADD
#undef XOR
#undef G
