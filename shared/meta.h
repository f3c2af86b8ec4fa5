/* Object metadata and upstream's bincode (legacy fixed-int LE) encoding of it;
 * meta_seal.h seals it for the metadata backends, meta_key.h names it. */
#ifndef META_H
#define META_H

#include <stddef.h>
#include <stdint.h>

#include "blake2b.h"
#include "config.h"
#include "err.h"

/* Sane limits for the strict decoder: more would be a corrupt record. */
#define META_MAX_SHARDS 256
#define META_MAX_KEYS (1u << 20)
#define META_MAX_STRING 4096

/* bincode tags: 4-byte and 8-byte seq ids */
enum key_kind { KEY_V1 = 0, KEY_V2 = 1 };

struct shard_key {
	enum key_kind	kind;
	uint64_t	id;
};

struct shard_info {
	uint64_t		 idx;
	uint8_t			 checksum[B2_LEN];
	size_t			 nkeys;
	struct shard_key	*keys;
	struct backend_ci	 ci;
};

struct metadata {
	uint64_t		 data_shards;
	uint64_t		 disposable_shards;
	/* of the original file */
	uint8_t			 checksum[B2_LEN];
	/* AES-256 key, stored as 64 lowercase hex chars */
	uint8_t			 key[32];
	size_t			 nshards;
	struct shard_info	*shards;
};

/* bincode. *out is malloc'd. Decode rejects truncation, bad tags, counts over
 * the limits, invalid UTF-8 strings and shard indices >= data+disposable;
 * trailing bytes are allowed as upstream allows them. */
int	meta_encode(const struct metadata *m, uint8_t **out, size_t *len,
	    struct err *e);
int	meta_decode(const uint8_t *buf, size_t len, struct metadata *m,
	    struct err *e);
void	meta_free(struct metadata *m);
/* Deep copy (out is freed with meta_free). */
int	meta_copy(const struct metadata *m, struct metadata *out,
	    struct err *e);
/* out = a with only the pieces that b does not list on the same backend (all
 * of a when b is NULL); -1 without memory. */
int	meta_diff(const struct metadata *a, const struct metadata *b,
	    struct metadata *out);
/* Strict UTF-8 as Rust's str accepts it (no overlong forms, surrogates or >
 * U+10FFFF). */
int	meta_utf8_valid(const void *buf, size_t len);

#endif
