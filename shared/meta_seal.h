/* The value stored on each of the four metadata backends: bincode metadata,
 * encrypted with AES-256-GCM and coded 2+2 with Reed-Solomon. */
#ifndef META_SEAL_H
#define META_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

/* One stored value: [idx] || shard || BLAKE2b-128(shard). */
int	metaval_encode(unsigned idx, const uint8_t *shard, size_t len,
	    uint8_t **out, size_t *outlen, struct err *e);
/* Validates length and checksum; *shard points into val. */
int	metaval_decode(const uint8_t *val, size_t len, unsigned *idx,
	    const uint8_t **shard, size_t *shard_len, struct err *e);

/* bincode -> AES-GCM (random nonce unless nonce given) -> RS(2,2) -> 4
 * values. */
int	meta_seal(const struct metadata *m, const uint8_t key[32],
	    const uint8_t *nonce, uint8_t *values[META_BACKENDS],
	    size_t lens[META_BACKENDS], struct err *e);
/* values[i] NULL (or len 0) = missing. Returns 0 and fills m; 1 when no valid
 * value exists (not found); -1 on error (1 valid shard only, failed tag, bad
 * bincode). */
int	meta_open(uint8_t *const values[META_BACKENDS],
	    const size_t lens[META_BACKENDS], const uint8_t key[32],
	    struct metadata *m, struct err *e);
/* All four values are intact shards of one and the same record. */
int	meta_values_agree(uint8_t *const values[META_BACKENDS],
	    const size_t lens[META_BACKENDS]);

#endif
