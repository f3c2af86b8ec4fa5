/* Reed-Solomon over GF(2^8)/0x11d with upstream's matrix: the (data+parity) x
 * data Vandermonde matrix V[r][c] = r^c multiplied by the inverse of its top
 * square, so the top rows are the identity. ISA-L does the arithmetic
 * (ec_init_tables with our matrix, ec_encode_data); any `data` of the
 * `data+parity` shards rebuild the rest. Shards are processed a stripe at a
 * time: callers pass equal-length slices. */
#ifndef RS_H
#define RS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RS_MAX_SHARDS 256

struct rs;

/* 1 <= data, 1 <= parity, data + parity <= 256. */
struct rs	*rs_new(unsigned data, unsigned parity, struct err *e);
void	rs_free(struct rs *rs);
unsigned	rs_data(const struct rs *rs);
unsigned	rs_parity(const struct rs *rs);
/* Row-major (data+parity) x data encoding matrix, for tests. */
const uint8_t	*rs_matrix(const struct rs *rs);

/* Computes parity[0..parity-1] (len bytes each) from data[0..data-1]. */
void	rs_encode(struct rs *rs, size_t len, uint8_t *const *data,
	    uint8_t *const *parity);

/* shards[0..data+parity-1] each point to len bytes; present[i] != 0 marks the
 * valid ones. Rebuilds every missing shard in place. Fails (clean error,
 * nothing written) when fewer than `data` are present. Keeps the tables of the
 * last erasure pattern in rs, so threads must not share one struct rs for this
 * (rs_encode may be shared). */
int	rs_reconstruct(struct rs *rs, size_t len, uint8_t *const *shards,
	    const uint8_t *present, struct err *e);

/* Upstream's padding: 1..data bytes, each equal to the pad length. */
size_t	rs_pad_len(size_t len, unsigned data);
/* Length of each shard for an unpadded input of len bytes. */
size_t	rs_shard_len(size_t len, unsigned data);

#endif
