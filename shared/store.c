#include <string.h>

#include "log.h"
#include "obj.h"
#include "store.h"

int
store_unchanged(struct pool *pool, const struct metadata *old,
    const uint8_t sum[B2_LEN], const char *path, const char *key)
{
	uint8_t good[RS_MAX_SHARDS];
	struct err e;

	if (old == NULL || memcmp(old->checksum, sum, B2_LEN) != 0)
		return 0;
	if (obj_check(pool, old, 0, good, &e) == -1) {
		log_warnx("%s: stored with the same checksum, but the stored "
		    "object cannot be read back (%s): uploading it again", path,
		    e.msg);
		return 0;
	}
	log_info("Skipping %s: already uploaded with the same checksum (key "
	    "%s)", path, key);
	return 1;
}

int
store_commit(struct metastore *ms, struct pool *pool, const char *key,
    const struct metadata *m, const struct metadata *base, struct err *e)
{
	enum meta_outcome how;
	struct metadata drop;

	if (metastore_replace(ms, key, m, base, &how, &drop, e) == 0)
		return 0;
	if (how == META_ROLLED_BACK)
		obj_delete_shards(pool, &drop);
	meta_free(&drop);
	return -1;
}
