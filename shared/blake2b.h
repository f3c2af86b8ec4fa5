/* BLAKE2b-128: unkeyed BLAKE2b with the digest-length parameter set to 16 (not
 * a truncated BLAKE2b-512). Used for file, shard and metadata-path
 * checksums. */
#ifndef BLAKE2B_H
#define BLAKE2B_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define B2_LEN 16

struct b2 {
	crypto_generichash_blake2b_state	st;
};

void	b2_init(struct b2 *h);
void	b2_update(struct b2 *h, const void *buf, size_t len);
void	b2_final(struct b2 *h, uint8_t out[B2_LEN]);
void	b2_hash(const void *buf, size_t len, uint8_t out[B2_LEN]);

#endif
