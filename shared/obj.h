/* The object engine: a file becomes one sealed stream (BLAKE2b of the plain
 * bytes, snappy framing, AES-256-GCM), which is padded, cut into M data shards,
 * extended with P parity shards and written in pieces of at most 2 MiB to N
 * backends; and the way back. Every pass streams in stripes through scratch
 * files, so memory does not grow with the file. */
#ifndef OBJ_H
#define OBJ_H

#include <stdint.h>

#include "config.h"
#include "err.h"
#include "meta.h"
#include "pool.h"
#include "rs.h"

#define OBJ_STRIPE ZDB_PIECE_MAX	/* bytes of each shard handled per
					 * round */

/* A pass that needs a scratch file works in one per job. The caller may pass
 * it (a sandboxed worker cannot open files; its master opens an O_TMPFILE for
 * it) or pass -1 to have one opened in $TMPDIR when it is needed. */

/* A sealed stream E = nonce || ciphertext || tag: in memory, or in a scratch
 * file at base. */
struct sealed {
	int fd;
	int owned;		/* fd was opened here and is closed by
				 * sealed_close */
	uint64_t base;
	uint64_t len;
	uint8_t checksum[B2_LEN];	/* of the plain file */
	uint8_t *mem;		/* the stream, when it stayed in memory */
};

/* Sealed streams up to this size stay in memory: no scratch file is written
 * and read back (nor opened, when the caller passed none). It bounds what
 * they add to the peak RSS; a longer stream goes to the file. */
#define OBJ_SEAL_MEM_MAX	(16u * 1024 * 1024)

/* Store pass 1: hashes, compresses and encrypts in_fd into memory or the
 * scratch file (truncated first). */
int obj_seal(int in_fd, int scratch_fd, const uint8_t key[32],
    struct sealed *out, struct err *e);
void sealed_close(struct sealed *s);

/* Store pass 2: encodes s with the config's M+P and writes the shards to
 * backends chosen by placement, retrying placement without backends that are
 * unreachable or short of space. Fills m (shards, counts, checksum, key). On
 * failure deletes what it wrote. */
int obj_write(const struct config *cfg, struct pool *pool,
    const struct sealed *s, struct metadata *m, struct err *e);

/* Best-effort deletion of an object's shards (after a failed store), or of some
 * pieces on one backend; failures are logged. */
void obj_delete_shards(struct pool *pool, const struct metadata *m);
void obj_delete_keys(struct pool *pool, struct backend *b,
    const struct shard_key *keys, size_t n);

/* Shards of one object as fetched into a scratch file: shard i at i * slot,
 * where slot bounds any shard of the object (the file is sparse, so the room
 * costs nothing). */
struct fetched {
	unsigned data, parity;
	uint64_t shard_len;
	int fd;
	int owned;
	uint64_t slot;
	uint8_t good[RS_MAX_SHARDS];
	uint8_t rebuilt[RS_MAX_SHARDS];	/* reconstructed, not read */
	/* read and matching their checksum; good are those of the length
	 * most of them have (a shard's own checksum cannot vouch for its
	 * length when the record itself is wrong) */
	uint8_t verified[RS_MAX_SHARDS];
	uint64_t vlen[RS_MAX_SHARDS];
};

/* Reads and verifies shards (data shards first) until `data` good ones are in
 * hand; with all set, tries every shard. Then rebuilds missing data shards (all
 * missing shards with all set). */
int obj_fetch(struct pool *pool, const struct metadata *m, int all,
    int scratch_fd, struct fetched *f, struct err *e);
void fetched_close(struct fetched *f);
/* Reads shards as obj_fetch does and checks each against its checksum, keeping
 * nothing; good[] says which passed. 0 when at least `data` did (with all,
 * every shard is read), -1 otherwise, e naming the failures. */
int obj_check(struct pool *pool, const struct metadata *m, int all,
    uint8_t good[RS_MAX_SHARDS], struct err *e);
/* Logs which shards a retrieve read (good[i] set), for the tests and the
 * curious. */
void obj_log_read(const uint8_t *good, unsigned data, unsigned parity);
/* Offset of shard i in the scratch file. */
uint64_t fetched_at(const struct fetched *f, unsigned i);

/* A whole retrieve into out_fd (empty, at offset 0): obj_stream, and when
 * that fails, the output reset and obj_fetch + obj_open, which read parity
 * for what is missing or bad. Fails when the tag or the file checksum does
 * not match. */
int obj_retrieve(struct pool *pool, const struct metadata *m, int scratch_fd,
    int out_fd, struct err *e);
/* The retrieve without scratch file: data shards only, each byte written
 * once; -1 on anything unexpected (the output is then garbage). */
int obj_stream(struct pool *pool, const struct metadata *m, int out_fd,
    struct err *e);

/* Decrypts, decompresses and hashes the fetched object into out_fd; fails when
 * the tag or the file checksum does not match. */
int obj_open(const struct fetched *f, const uint8_t key[32],
    const uint8_t checksum[B2_LEN], int out_fd, struct err *e);

/* Re-creates the shards of m that are missing or bad on healthy backends of
 * cfg; with a different M/P in cfg re-encodes the whole object. *changed tells
 * whether anything was written (then nm is the new metadata to save). */
int obj_rebuild(const struct config *cfg, struct pool *pool,
    const struct metadata *m, int scratch_fd, struct metadata *nm, int *changed,
    struct err *e);

#endif
