/* The encoder: one job at a time from the master, each one pass of the object
 * engine over descriptors the master handed over with the job and connections
 * to the data backends.
 *
 *   encode       fds: input, scratch. Seal the input file; when it has the
 *                stored checksum the master sent, answer without metadata
 *                (the master has the record verified); else write the shards
 *                and return the metadata (the master saves it through the
 *                metawriter)
 *   verify       whether the stored record holds the file and reads back
 *                (store_unchanged): then the upload is skipped
 *   decode       fds: output, scratch. Fetch, verify, decrypt and decompress
 *                into the client's file; with progress, job_progress frames
 *                on the way; with sync, the file flushed to the disk
 *   reencode     fd: scratch. Rebuild an object's unreadable shards; metadata
 *                back if changed
 *   drop_shards  delete the pieces a failed metadata update left unreachable
 *
 * The connections stay open across jobs (worker_job_pool); a backend that
 * failed is marked failed for the rest of the job only, as in the standalone
 * commands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "log.h"
#include "obj.h"
#include "store.h"
#include "worker.h"

/* The "meta" field as decoded metadata. */
static int
enc_meta_arg(struct msg *m, struct metadata *meta, struct err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (msg_get_hex(m, "meta", &buf, &len) == -1)
		return err_set(e, "internal error: job without metadata");
	rc = meta_decode(buf, len, meta, e);
	free(buf);
	if (rc == -1)
		err_prefix(e, "metadata");
	return rc;
}

/* Sends the metadata of a job back; -2 (nothing sent) when it is too large
 * for a frame, so that the caller can undo the job. */
static int
enc_reply_meta(struct worker *w, int64_t job, const struct metadata *meta,
    struct err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (meta_encode(meta, &buf, &len, e) == -1)
		return worker_result_fail(w, job, e);
	if (msg_meta_fits(len, e) == -1) {
		free(buf);
		return -2;
	}
	rc = worker_result_ok(w, job, buf, len, meta->checksum);
	free(buf);
	return rc;
}

/* The master's health checks found the data backends missing from the
 * job's "backends" unreachable: they are marked failed for this job, so that
 * placement and rebuild go around them instead of waiting on a connect
 * timeout, and a shard there counts as missing. */
static void
enc_candidates(struct worker *w, struct msg *m, struct pool *pool)
{
	const struct cJSON *list = msg_get_json(m, "backends"), *c;
	char name[BACKEND_NAME_MAX];
	struct err why;
	size_t g, j;
	int listed;

	if (list == NULL)
		return;
	err_set(&why, "left out: zstor-master's health checks find it "
	    "unreachable (see zstor status)");
	for (g = 0; g < w->cfg.ngroups; g++)
		for (j = 0; j < w->cfg.groups[g].nbackends; j++) {
			const struct backend_ci *ci =
			    &w->cfg.groups[g].backends[j];

			ci_name(ci, name, sizeof(name));
			listed = 0;
			cJSON_ArrayForEach(c, list)
				if (cJSON_IsString(c) &&
				    strcmp(c->valuestring, name) == 0)
					listed = 1;
			if (!listed)
				pool_fail(pool, ci, NS_SEQUENTIAL, &why);
		}
}

/* Seals in_fd (read from its start: a retried store reuses the descriptor);
 * 1 when the file has the checksum of the record stored under the key: the
 * master then has that record verified (enc_verify) before it skips the
 * upload. */
static int
enc_seal(struct worker *w, struct msg *m, int in_fd, int scratch,
    struct sealed *s, struct err *e)
{
	uint8_t *old;
	size_t len;
	int same;

	if (lseek(in_fd, 0, SEEK_SET) == -1)
		return err_set(e, "cannot read the file from its start: %s",
		    strerror(errno));
	if (obj_seal(in_fd, scratch, w->cfg.key, s, e) == -1)
		return -1;
	if (!msg_has(m, "checksum"))
		return 0;
	if (msg_get_hex(m, "checksum", &old, &len) == -1)
		return err_set(e, "internal error: bad checksum in the job");
	same = len == B2_LEN && memcmp(old, s->checksum, B2_LEN) == 0;
	free(old);
	return same;
}

static int
enc_store(struct worker *w, struct msg *m, int in_fd, int scratch)
{
	int64_t job = msg_id(m);
	const char *path = msg_get_str(m, "path");
	struct sealed s = { .fd = -1 };
	struct metadata meta;
	struct pool *pool = worker_job_pool(w);
	struct err e;
	int rc;

	enc_candidates(w, m, pool);
	rc = enc_seal(w, m, in_fd, scratch, &s, &e);
	if (rc == 1) {
		rc = worker_result_ok(w, job, NULL, 0, s.checksum);
		goto done;
	}
	if (rc == 0)
		rc = obj_write(&w->cfg, pool, &s, &meta, &e);
	if (rc == -1) {
		log_warnx("store %s: %s", path, e.msg);
		rc = worker_result_fail(w, job, &e);
		goto done;
	}
	log_debug("store %s: %zu shards written", path, meta.nshards);
	if ((rc = enc_reply_meta(w, job, &meta, &e)) == -2) {
		obj_delete_shards(pool, &meta);
		rc = worker_result_fail(w, job, &e);
	}
	meta_free(&meta);
done:
	sealed_close(&s);
	return rc;
}

/* Whether the record stored under the key holds the file and reads back
 * (store_unchanged, which logs the skip); when not, the master has the file
 * uploaded. */
static int
enc_verify(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	struct metadata old;
	struct pool *pool = worker_job_pool(w);
	struct msg *r;
	uint8_t *sum = NULL;
	size_t len;
	struct err e;
	int same;

	if (enc_meta_arg(m, &old, &e) == -1)
		return worker_result_fail(w, job, &e);
	if (msg_get_hex(m, "checksum", &sum, &len) == -1 || len != B2_LEN) {
		meta_free(&old);
		free(sum);
		err_set(&e, "internal error: verify without a checksum");
		return worker_result_fail(w, job, &e);
	}
	enc_candidates(w, m, pool);
	same = store_unchanged(pool, &old, sum, msg_get_str(m, "path"),
	    msg_get_str(m, "key"));
	meta_free(&old);
	free(sum);
	if ((r = worker_result(job, NULL)) == NULL)
		return -1;
	msg_set_bool(r, "unchanged", same);
	return worker_send(w, r);
}

/* A decode that asked for progress: the pieces count's fractions go to the
 * master as job_progress, the first once pieces are in, then twice a second
 * at most. The count calls back in the thread that runs the job, which sends
 * every other frame of this worker too (no thread can start in the sandbox
 * to send them, nor need one). */
struct enc_progress {
	struct worker	*w;
	int64_t		 job;
	int64_t		 sent_ms;	/* -1: none yet */
};

#define ENC_PROGRESS_MS	500

static void
enc_progress(void *arg, uint64_t done, uint64_t total)
{
	struct enc_progress *ep = arg;
	int64_t now = backend_now_ms();
	struct msg *m;
	struct err e;

	if (done == 0 || (ep->sent_ms >= 0 &&
	    now - ep->sent_ms < ENC_PROGRESS_MS))
		return;
	if ((m = msg_new(MT_JOB_PROGRESS, ep->job, &e)) == NULL) {
		log_warnx("%s", e.msg);
		return;
	}
	msg_set_int(m, "done", (int64_t)done);
	msg_set_int(m, "total", (int64_t)total);
	ep->sent_ms = now;
	(void)worker_send(ep->w, m);	/* a master gone shows at the result */
}

/* The client's temporary file gets the whole object or an error; it renames
 * the file into place only after an ok. */
static int
enc_retrieve(struct worker *w, struct msg *m, int out_fd, int scratch)
{
	struct enc_progress ep = { w, msg_id(m), -1 };
	struct obj_progress pg;
	int64_t job = msg_id(m);
	struct metadata meta;
	struct pool *pool = worker_job_pool(w);
	struct err e;
	int rc;

	if (enc_meta_arg(m, &meta, &e) == -1)
		return worker_result_fail(w, job, &e);
	rc = 0;
	if (ftruncate(out_fd, 0) == -1 || lseek(out_fd, 0, SEEK_SET) == -1)
		rc = err_set(&e, "cannot reset the output file: %s",
		    strerror(errno));
	obj_progress_init(&pg, enc_progress, &ep);
	if (msg_get_bool(m, "progress") == 1)
		pool->progress = &pg;
	if (rc == 0)
		rc = obj_retrieve(pool, &meta, scratch, out_fd, &e);
	pool->progress = NULL;
	obj_progress_free(&pg);
	/* Only when asked: a client of ours flushes the file itself before
	 * its rename, and an encoder waiting on the disk serves no one. */
	if (rc == 0 && msg_get_bool(m, "sync") == 1 && fsync(out_fd) == -1)
		rc = err_set(&e, "cannot flush the retrieved file: %s",
		    strerror(errno));
	meta_free(&meta);
	if (rc == -1) {
		log_warnx("retrieve %s: %s", msg_get_str(m, "key"), e.msg);
		return worker_result_fail(w, job, &e);
	}
	return worker_result_ok(w, job, NULL, 0, NULL);
}

/* Answers ok with the new metadata when something was rewritten, ok without
 * metadata when every shard was fine. */
static int
enc_rebuild(struct worker *w, struct msg *m, int scratch)
{
	int64_t job = msg_id(m);
	const char *key = msg_get_str(m, "key");
	struct metadata meta, nm;
	struct pool *pool = worker_job_pool(w);
	struct err e;
	int changed = 0, rc;

	if (enc_meta_arg(m, &meta, &e) == -1)
		return worker_result_fail(w, job, &e);
	enc_candidates(w, m, pool);
	rc = obj_rebuild(&w->cfg, pool, &meta, scratch, &nm, &changed, &e);
	if (rc == -1) {
		log_warnx("rebuild %s: %s", key, e.msg);
		rc = worker_result_fail(w, job, &e);
	} else if (changed) {
		if ((rc = enc_reply_meta(w, job, &nm, &e)) == -2)
			rc = worker_result_fail(w, job, &e);
		meta_free(&nm);
	} else {
		rc = worker_result_ok(w, job, NULL, 0, NULL);
	}
	meta_free(&meta);
	return rc;
}

static int
enc_drop(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m);
	struct metadata meta;
	struct err e;

	if (enc_meta_arg(m, &meta, &e) == -1)
		return worker_result_fail(w, job, &e);
	obj_delete_shards(worker_job_pool(w), &meta);
	meta_free(&meta);
	return worker_result_ok(w, job, NULL, 0, NULL);
}

int
encoder_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	switch (msg_type(m)) {
	case MT_ENCODE:
		return enc_store(w, m, fds[0], fds[1]);
	case MT_VERIFY:
		return enc_verify(w, m);
	case MT_DECODE:
		return enc_retrieve(w, m, fds[0], fds[1]);
	case MT_REENCODE:
		return enc_rebuild(w, m, fds[0]);
	case MT_DROP_SHARDS:
		return enc_drop(w, m);
	default:
		return worker_refuse(w, m);
	}
}
