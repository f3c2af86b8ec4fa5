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
 * Gets and puts that arrive together are answered as one batch
 * (metastore_batch): one pipelined round trip of GETs for all their keys, then
 * one of SETs for every put; a key seen twice starts the next batch.
 *
 * The connections stay open across requests (worker_job_pool): each batch
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

/* The answer to a get. */
static int
mw_get_done(struct worker *w, struct msg *m, struct meta_req *q)
{
	int64_t job = msg_id(m);
	struct msg *r;
	struct err e;
	int rc;

	if (q->rc == -1) {
		log_warnx("load %s: %s", q->key, q->err.msg);
		return worker_result_fail(w, job, &q->err);
	}
	if (q->rc == 1)
		return worker_result_ok(w, job, NULL, 0, NULL);
	if ((r = worker_result(job, NULL)) == NULL)
		return -1;
	rc = 0;
	if (msg_get_bool(m, "checksum_only") != 1)
		rc = mw_set_meta(r, "meta", &q->meta, &e);
	msg_set_hex(r, "checksum", q->meta.checksum, B2_LEN);
	msg_set_bool(r, "settled", q->settled);
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

/* The answer to a put. */
static int
mw_put_done(struct worker *w, struct msg *m, struct meta_req *q)
{
	if (q->rc == -1)
		return mw_put_failed(w, msg_id(m), q->key, q->how, &q->drop,
		    &q->err);
	log_debug("saved %s", q->key);
	return worker_result_ok(w, msg_id(m), NULL, 0, NULL);
}

/* What a request of msgs needs besides its message: the records a put carries,
 * decoded. */
struct mw_args {
	struct metadata	put, base;
	int		has_base;	/* 0: base is there */
};

/* Whether the metadata store is writable, asked once per batch. */
struct mw_writable {
	int		rc;	/* 1: not asked yet */
	struct err	why;	/* with rc -1 */
};

/* Makes q of m; 0, or -1 when m was answered (a failure) instead. */
static int
mw_request(struct worker *w, struct metastore *ms, struct msg *m,
    struct mw_args *a, struct mw_writable *wr, struct meta_req *q)
{
	struct err e;

	memset(q, 0, sizeof(*q));
	q->key = msg_get_str(m, "key");
	a->has_base = 1;
	if (msg_type(m) == MT_META_GET) {
		q->kind = META_REQ_GET;
		if (msg_get_bool(m, "writable") != 1)
			return 0;
		if (wr->rc == 1)
			wr->rc = metastore_writable(ms, &wr->why);
		if (wr->rc == 0)
			return 0;
		log_warnx("load %s: %s", q->key, wr->why.msg);
		worker_result_fail(w, msg_id(m), &wr->why);
		return -1;
	}
	q->kind = META_REQ_PUT;
	if (mw_meta_arg(m, "meta", &a->put, &e) != 0) {
		err_prefix(&e, "internal error: meta_put without metadata");
		worker_result_fail(w, msg_id(m), &e);
		return -1;
	}
	if ((a->has_base = mw_meta_arg(m, "base", &a->base, &e)) == -1) {
		meta_free(&a->put);
		worker_result_fail(w, msg_id(m), &e);
		return -1;
	}
	q->put = &a->put;
	q->base = a->has_base == 0 ? &a->base : NULL;
	return 0;
}

/* msgs[0..n), all gets and puts on different keys, as one metastore
 * batch. */
static int
mw_run(struct worker *w, struct msg **msgs, size_t n)
{
	struct meta_req q[META_BATCH_MAX];
	struct mw_args a[META_BATCH_MAX];
	struct msg *of[META_BATCH_MAX];
	struct mw_writable wr = { .rc = 1 };
	struct metastore ms;
	size_t i, nq = 0;
	int rc = 0;

	metastore_init(&ms, &w->cfg, worker_job_pool(w));
	for (i = 0; i < n; i++)
		if (mw_request(w, &ms, msgs[i], &a[nq], &wr, &q[nq]) == 0)
			of[nq++] = msgs[i];
	metastore_batch(&ms, q, nq);
	for (i = 0; i < nq; i++) {
		if (q[i].kind == META_REQ_GET) {
			if (mw_get_done(w, of[i], &q[i]) == -1)
				rc = -1;
			if (q[i].rc == 0)
				meta_free(&q[i].meta);
			continue;
		}
		if (mw_put_done(w, of[i], &q[i]) == -1)
			rc = -1;
		meta_free(&q[i].drop);
		meta_free(&a[i].put);
		meta_free(&a[i].base);
	}
	return rc;
}

/* Whether msgs[i]'s key is one of msgs[first..i). */
static int
mw_key_repeats(struct msg **msgs, size_t first, size_t i)
{
	const char *key = msg_get_str(msgs[i], "key");

	for (; first < i; first++)
		if (strcmp(msg_get_str(msgs[first], "key"), key) == 0)
			return 1;
	return 0;
}

int
metawriter_batchable(const struct msg *m)
{
	return msg_type(m) == MT_META_GET || msg_type(m) == MT_META_PUT;
}

int
metawriter_batch(struct worker *w, struct msg **msgs, size_t n)
{
	size_t first = 0, i;
	int rc = 0;

	/* A key seen twice starts a new batch there: the later request must
	 * see what the earlier did. */
	for (i = 1; i <= n; i++) {
		if (i < n && i - first < META_BATCH_MAX &&
		    !mw_key_repeats(msgs, first, i))
			continue;
		if (mw_run(w, msgs + first, i - first) == -1)
			rc = -1;
		first = i;
	}
	return rc;
}

int
metawriter_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	(void)fds;
	switch (msg_type(m)) {
	case MT_META_GET:
	case MT_META_PUT:
		return metawriter_batch(w, &m, 1);
	case MT_META_SCAN:
		return metawriter_scan(w, m);
	default:
		return worker_refuse(w, m);
	}
}
