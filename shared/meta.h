/* Object metadata: upstream's bincode (legacy fixed-int LE) encoding, the 2+2 value
 * stored on the four metadata backends, and the metadata keys. */
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

enum key_kind { KEY_V1 = 0, KEY_V2 = 1 };	/* bincode tags: 4-byte and 8-byte seq ids */

struct shard_key {
	enum key_kind kind;
	uint64_t id;
};

struct shard_info {
	uint64_t idx;
	uint8_t checksum[B2_LEN];
	size_t nkeys;
	struct shard_key *keys;
	struct backend_ci ci;
};

struct metadata {
	uint64_t data_shards;
	uint64_t disposable_shards;
	uint8_t checksum[B2_LEN];	/* of the original file */
	uint8_t key[32];		/* AES-256 key, stored as 64 lowercase hex chars */
	size_t nshards;
	struct shard_info *shards;
};

/* bincode. *out is malloc'd. Decode rejects truncation, bad tags, counts over the
 * limits, invalid UTF-8 strings and shard indices >= data+disposable; trailing
 * bytes are allowed as upstream allows them. */
int meta_encode(const struct metadata *m, uint8_t **out, size_t *len, struct err *e);
int meta_decode(const uint8_t *buf, size_t len, struct metadata *m, struct err *e);
void meta_free(struct metadata *m);
/* Strict UTF-8 as Rust's str accepts it (no overlong forms, surrogates or > U+10FFFF). */
int meta_utf8_valid(const void *buf, size_t len);

/* One stored value: [idx] || shard || BLAKE2b-128(shard). */
int metaval_encode(unsigned idx, const uint8_t *shard, size_t len, uint8_t **out,
    size_t *outlen, struct err *e);
/* Validates length and checksum; *shard points into val. */
int metaval_decode(const uint8_t *val, size_t len, unsigned *idx, const uint8_t **shard,
    size_t *shard_len, struct err *e);

/* bincode -> AES-GCM (random nonce unless nonce given) -> RS(2,2) -> 4 values. */
int meta_seal(const struct metadata *m, const uint8_t key[32], const uint8_t *nonce,
    uint8_t *values[META_BACKENDS], size_t lens[META_BACKENDS], struct err *e);
/* values[i] NULL (or len 0) = missing. Returns 0 and fills m; 1 when no valid value
 * exists (not found); -1 on error (1 valid shard only, failed tag, bad bincode). */
int meta_open(uint8_t *const values[META_BACKENDS], const size_t lens[META_BACKENDS],
    const uint8_t key[32], struct metadata *m, struct err *e);

/* Lexical cleaning as Go's path.Clean / Rust path-clean: collapse //, drop ., resolve
 * .. lexically; "" becomes "."; never touches the filesystem. */
void path_clean(const char *in, char *out, size_t outlen);
/* "/" prefix "/meta/" hex(BLAKE2b-128(hashed)); hashed = cleaned path, relative to the
 * cleaned root when root is non-NULL ("" when equal to root). Fails when the path is
 * not under root. out must hold at least strlen(prefix) + 40 bytes. */
int meta_key(const char *prefix, const char *root, const char *path, char *out,
    size_t outlen, struct err *e);

#endif
