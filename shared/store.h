/* The rules of a store that zstor and the daemon share, so that both decide
 * alike, log the same lines and fail the same way:
 *
 *   - an upload is skipped only when the record under the key has the file's
 *     checksum and enough of its shards read back intact: a record whose
 *     shards are gone must neither stop the upload nor let --delete remove
 *     the only copy;
 *   - a skipped upload whose record is not on all four metadata backends alike
 *     saves the record again, settling what a failed update left;
 *   - a failed metadata update deletes only the pieces no reader can reach
 *     (metastore_replace says which), and nothing when its outcome is in doubt;
 *   - --delete removes the file only if it still is the file that was read
 *     (fileid.h). */
#ifndef STORE_H
#define STORE_H

#include "blake2b.h"
#include "meta.h"
#include "metastore.h"
#include "pool.h"

/* 1 when old (NULL: nothing stored) already is this file; logs the skip. */
int store_unchanged(struct pool *pool, const struct metadata *old,
    const uint8_t sum[B2_LEN], const char *path, const char *key);
/* metastore_replace, then the deletion of what it says is unreachable. */
int store_commit(struct metastore *ms, struct pool *pool, const char *key,
    const struct metadata *m, const struct metadata *base, struct err *e);

#endif
