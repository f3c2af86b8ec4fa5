/* The metawriter: the only process that talks to the four metadata backends.
 *
 *   meta_get {key, writable?}  result: ok with meta and checksum when found, ok
 *                              without them when nothing is stored; with
 *                              writable, fails first unless all 4 are up (a
 *                              store or a rebuild will follow)
 *   meta_put {key, meta}       result: ok once saved
 *
 * A fresh pool per request, so a metadata backend that comes back is used at
 * once; the cost is one connect per backend per request, small beside a
 * store. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "metastore.h"
#include "worker.h"

static int
mw_get(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	const char *key = msg_get_str(m, "key");
	struct metastore ms;
	struct metadata meta;
	struct pool pool;
	struct err e;
	uint8_t *buf;
	size_t len;
	int rc;

	pool_init(&pool, w->timeout_ms);
	metastore_init(&ms, &w->cfg, &pool);
	rc = 0;
	if (msg_get_bool(m, "writable") == 1)
		rc = metastore_writable(&ms, &e);
	if (rc == 0)
		rc = metastore_load(&ms, key, &meta, &e);
	pool_free(&pool);
	if (rc == -1) {
		log_warnx("load %s: %s", key, e.msg);
		return worker_result_fail(w, job, &e);
	}
	if (rc == 1)
		return worker_result_ok(w, job, NULL, 0, NULL);
	rc = meta_encode(&meta, &buf, &len, &e);
	if (rc == 0 && msg_meta_fits(len, &e) == -1) {
		free(buf);
		rc = -1;
	}
	if (rc == 0) {
		rc = worker_result_ok(w, job, buf, len, meta.checksum);
		free(buf);
	} else
		rc = worker_result_fail(w, job, &e);
	meta_free(&meta);
	return rc;
}

static int
mw_put(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	const char *key = msg_get_str(m, "key");
	struct metastore ms;
	struct metadata meta;
	struct pool pool;
	struct err e;
	uint8_t *buf;
	size_t len;
	int rc;

	if (msg_get_hex(m, "meta", &buf, &len) == -1) {
		err_set(&e, "internal error: meta_put without metadata");
		return worker_result_fail(w, job, &e);
	}
	rc = meta_decode(buf, len, &meta, &e);
	free(buf);
	if (rc == -1)
		return worker_result_fail(w, job, &e);
	pool_init(&pool, w->timeout_ms);
	metastore_init(&ms, &w->cfg, &pool);
	rc = metastore_save(&ms, key, &meta, &e);
	pool_free(&pool);
	meta_free(&meta);
	if (rc == -1) {
		log_warnx("save %s: %s", key, e.msg);
		return worker_result_fail(w, job, &e);
	}
	log_debug("saved %s", key);
	return worker_result_ok(w, job, NULL, 0, NULL);
}

int
metawriter_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	(void)fds;
	switch (msg_type(m)) {
	case MT_META_GET:
		return mw_get(w, m);
	case MT_META_PUT:
		return mw_put(w, m);
	default:
		return worker_refuse(w, m);
	}
}
