#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "meta_key.h"
#include "meta_seal.h"
#include "metastore.h"

void
metastore_init(struct metastore *ms, const struct config *cfg, struct pool *pool)
{
	ms->cfg = cfg;
	ms->pool = pool;
}

int
metastore_key(struct metastore *ms, const char *path, char *key, size_t keylen, struct err *e)
{
	return meta_key(ms->cfg->meta_prefix, ms->cfg->root, path, key, keylen, e);
}

/* Opens the metadata backends; names the unreachable ones in `dead`. */
static int
metastore_open_all(struct metastore *ms, struct backend *b[META_BACKENDS], char *dead,
    size_t deadlen)
{
	struct err e;
	char name[300];
	int i, up = 0;

	dead[0] = '\0';
	for (i = 0; i < META_BACKENDS; i++) {
		b[i] = pool_get(ms->pool, &ms->cfg->meta_backends[i], NS_USERKEY, &e);
		if (b[i] != NULL) {
			up++;
			continue;
		}
		ci_name(&ms->cfg->meta_backends[i], name, sizeof(name));
		if (dead[0])
			strlcat(dead, ", ", deadlen);
		strlcat(dead, name, deadlen);
	}
	return up;
}

int
metastore_writable(struct metastore *ms, struct err *e)
{
	struct backend *b[META_BACKENDS];
	char dead[1024];

	if (metastore_open_all(ms, b, dead, sizeof(dead)) == META_BACKENDS)
		return 0;
	return err_set(e, "metadata store is not writable: metadata backend(s) %s unreachable; "
	    "stores are refused until all 4 metadata backends are up (check them with "
	    "`zstor status`)", dead);
}

int
metastore_load(struct metastore *ms, const char *key, struct metadata *m, struct err *e)
{
	struct backend *b[META_BACKENDS];
	struct bop ops[META_BACKENDS];
	uint8_t *values[META_BACKENDS] = { 0 };
	size_t lens[META_BACKENDS] = { 0 }, slot[META_BACKENDS], n = 0, i;
	char dead[1024];
	int answered = 0, rc;

	metastore_open_all(ms, b, dead, sizeof(dead));
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < META_BACKENDS; i++) {
		if (b[i] == NULL)
			continue;
		ops[n].b = b[i];
		ops[n].kind = BOP_GET;
		ops[n].key = key;
		ops[n].keylen = strlen(key);
		slot[n++] = i;
	}
	backend_run(ops, n, ms->pool->timeout_ms);
	for (i = 0; i < n; i++) {
		if (ops[i].rc < 0) {
			log_warnx("reading metadata %s: %s", key, ops[i].err.msg);
			if (dead[0])
				strlcat(dead, ", ", sizeof(dead));
			strlcat(dead, backend_name(ops[i].b), sizeof(dead));
			continue;
		}
		answered++;
		values[slot[i]] = ops[i].out;
		lens[slot[i]] = ops[i].outlen;
	}
	rc = meta_open(values, lens, ms->cfg->key, m, e);
	for (i = 0; i < n; i++)
		free(ops[i].out);
	/* "Not found" is only certain when at most one backend could hold a shard we
	 * did not see: with fewer answers a stored object could be hidden. */
	if (rc == 1 && answered < META_BACKENDS - 1)
		return err_set(e, "metadata %s could not be read: only %d of 4 metadata "
		    "backends answered (unreachable: %s)", key, answered, dead);
	if (rc < 0)
		return err_prefix(e, "metadata %s", key);
	return rc;
}

int
metastore_save(struct metastore *ms, const char *key, const struct metadata *m, struct err *e)
{
	struct backend *b[META_BACKENDS];
	struct bop ops[META_BACKENDS];
	uint8_t *values[META_BACKENDS] = { 0 };
	size_t lens[META_BACKENDS];
	char dead[1024];
	int i, rc = 0;

	if (metastore_open_all(ms, b, dead, sizeof(dead)) != META_BACKENDS)
		return metastore_writable(ms, e);
	if (meta_seal(m, ms->cfg->key, NULL, values, lens, e) < 0)
		return -1;
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < META_BACKENDS; i++) {
		ops[i].b = b[i];
		ops[i].kind = BOP_KEY_SET;
		ops[i].key = key;
		ops[i].keylen = strlen(key);
		ops[i].val = values[i];
		ops[i].vallen = lens[i];
	}
	backend_run(ops, META_BACKENDS, ms->pool->timeout_ms);
	for (i = 0; i < META_BACKENDS; i++) {
		if (ops[i].rc < 0 && rc == 0) {
			*e = ops[i].err;
			rc = err_prefix(e, "saving metadata %s", key);
		}
		free(values[i]);
	}
	return rc;
}
