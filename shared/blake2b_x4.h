/* Four BLAKE2b-128 chains advanced together over inputs of the same length:
 * the shards of a stripe. With AVX2 each 64-bit lane of a vector belongs to one
 * chain, so one pass of the rounds hashes four blocks, two to two and a half
 * times the bytes per second of one chain (which must work across its own
 * state words and shuffle them between half-rounds). The digests are
 * BLAKE2b-128's (blake2b.h), byte for byte; without AVX2 each lane is a
 * libsodium chain. A caller with fewer than four inputs repeats one and drops
 * the extra digests. */
#ifndef BLAKE2B_X4_H
#define BLAKE2B_X4_H

#include <stddef.h>
#include <stdint.h>

#include "blake2b.h"

#define B2X4_LANES	4
#define B2X4_BLOCK	128

enum b2x4_path { B2X4_PORTABLE, B2X4_AVX2, B2X4_AVX512 };

struct b2x4 {
	enum b2x4_path	 simd;
	/* with simd: chain value word i of lane j at h[i][j] */
	uint64_t	 h[8][B2X4_LANES];
	uint64_t	 t;		/* bytes hashed so far, each lane */
	uint8_t		 buf[B2X4_LANES][B2X4_BLOCK];
	size_t		 buflen;	/* each lane's bytes in buf */
	struct b2	 one[B2X4_LANES];	/* without simd */
};

/* The fastest way every later b2x4_init may take (for tests); the CPU may
 * allow less. */
void	b2x4_path_limit(enum b2x4_path max);
/* "portable", "AVX2" or "AVX-512VL": the path s takes (for reports). */
const char *b2x4_path_name(const struct b2x4 *s);
void	b2x4_init(struct b2x4 *s);
/* Adds len bytes of in[j] to chain j, for each of the four. */
void	b2x4_update(struct b2x4 *s, const uint8_t *const in[B2X4_LANES],
	    size_t len);
void	b2x4_final(struct b2x4 *s, uint8_t out[B2X4_LANES][B2_LEN]);

#endif
