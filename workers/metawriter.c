/* The metawriter: the only process that talks to the four metadata backends.
 *
 *   meta_get {key, writable?, checksum_only?}
 *                              result: ok with meta, checksum and settled
 *                              (all 4 backends agree) when found, ok without
 *                              them when nothing is stored; with writable,
 *                              fails first unless all 4 are up (a store or a
 *                              rebuild will follow); with checksum_only,
 *                              without meta (a store needs the record only
 *                              when the file has its checksum)
 *   meta_put {key, meta, base?}
 *                              metastore_replace (base: only over that
 *                              record); result: ok once saved, or failed with
 *                              drop (the pieces to delete) or in_doubt (keep
 *                              them all)
 *
 * The connections stay open across requests (worker_job_pool): each request
 * forgets the failures of the last, so a metadata backend that comes back is
 * used at once. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "metastore.h"
#include "worker.h"

/* The "meta" or "base" field of m decoded; 1 when absent. */
static int
mw_meta_arg(struct msg *m, const char *field, struct metadata *meta,
    struct err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(meta, 0, sizeof(*meta));
	if (!msg_has(m, field))
		return 1;
	if (msg_get_hex(m, field, &buf, &len) == -1)
		return err_set(e, "internal error: bad %s in the job", field);
	rc = meta_decode(buf, len, meta, e);
	free(buf);
	return rc;
}

/* Adds meta as hex to a reply; -1 when it cannot travel in one frame. */
static int
mw_set_meta(struct msg *r, const char *field, const struct metadata *meta,
    struct err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (meta_encode(meta, &buf, &len, e) == -1)
		return -1;
	if ((rc = msg_meta_fits(len, e)) == 0)
		rc = msg_set_hex(r, field, buf, len);
	free(buf);
	return rc;
}

static int
mw_get(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	const char *key = msg_get_str(m, "key");
	struct metastore ms;
	struct metadata meta;
	struct msg *r;
	struct err e;
	int settled = 0, rc;

	metastore_init(&ms, &w->cfg, worker_job_pool(w));
	rc = 0;
	if (msg_get_bool(m, "writable") == 1)
		rc = metastore_writable(&ms, &e);
	if (rc == 0)
		rc = metastore_load_state(&ms, key, &meta, &settled, &e);
	if (rc == -1) {
		log_warnx("load %s: %s", key, e.msg);
		return worker_result_fail(w, job, &e);
	}
	if (rc == 1)
		return worker_result_ok(w, job, NULL, 0, NULL);
	if ((r = worker_result(job, NULL)) == NULL) {
		meta_free(&meta);
		return -1;
	}
	rc = 0;
	if (msg_get_bool(m, "checksum_only") != 1)
		rc = mw_set_meta(r, "meta", &meta, &e);
	msg_set_hex(r, "checksum", meta.checksum, B2_LEN);
	msg_set_bool(r, "settled", settled);
	meta_free(&meta);
	if (rc == -1) {
		msg_free(r);
		return worker_result_fail(w, job, &e);
	}
	return worker_send(w, r);
}

/* The answer to a failed put: what the master must delete, or that it must
 * keep everything. */
static int
mw_put_failed(struct worker *w, int64_t job, const char *key,
    enum meta_outcome how, const struct metadata *drop, struct err *e)
{
	struct msg *r;
	struct err why = *e;

	log_warnx("save %s: %s", key, e->msg);
	if ((r = worker_result(job, &why)) == NULL)
		return -1;
	if (how == META_IN_DOUBT)
		msg_set_bool(r, "in_doubt", 1);
	else if (drop->nshards > 0 && mw_set_meta(r, "drop", drop, e) == -1)
		log_warnx("save %s: %s; the pieces of the failed update stay "
		    "behind", key, e->msg);
	return worker_send(w, r);
}

static int
mw_put(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	const char *key = msg_get_str(m, "key");
	struct metadata meta, base, drop;
	enum meta_outcome how;
	struct metastore ms;
	struct err e;
	int rc, has_base;

	if (mw_meta_arg(m, "meta", &meta, &e) != 0) {
		err_prefix(&e, "internal error: meta_put without metadata");
		return worker_result_fail(w, job, &e);
	}
	if ((has_base = mw_meta_arg(m, "base", &base, &e)) == -1) {
		meta_free(&meta);
		return worker_result_fail(w, job, &e);
	}
	metastore_init(&ms, &w->cfg, worker_job_pool(w));
	rc = metastore_replace(&ms, key, &meta, has_base == 0 ? &base : NULL,
	    &how, &drop, &e);
	meta_free(&meta);
	meta_free(&base);
	if (rc == -1) {
		rc = mw_put_failed(w, job, key, how, &drop, &e);
		meta_free(&drop);
		return rc;
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
	case MT_META_SCAN:
		return metawriter_scan(w, m);
	default:
		return worker_refuse(w, m);
	}
}
