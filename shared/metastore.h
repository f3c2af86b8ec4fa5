/* The metadata store: four user-key backends holding each object's metadata as
 * 2+2 Reed-Solomon shards. Reads need any 2 valid shards, whatever the other
 * backends do; writes need all 4 backends (upstream refuses stores otherwise). */
#ifndef METASTORE_H
#define METASTORE_H

#include "config.h"
#include "err.h"
#include "meta.h"
#include "pool.h"

struct metastore {
	const struct config *cfg;
	struct pool *pool;
};

void metastore_init(struct metastore *ms, const struct config *cfg, struct pool *pool);
/* 0 when all 4 metadata backends are reachable; -1 naming the dead ones. */
int metastore_writable(struct metastore *ms, struct err *e);
/* 0 found (m filled), 1 no metadata, -1 error (e.g. too few backends answered). */
int metastore_load(struct metastore *ms, const char *key, struct metadata *m, struct err *e);
int metastore_save(struct metastore *ms, const char *key, const struct metadata *m,
    struct err *e);
/* Key of a path (lexical cleaning, virtual root), as in meta_key. */
int metastore_key(struct metastore *ms, const char *path, char *key, size_t keylen,
    struct err *e);

#endif
