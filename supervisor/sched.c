/* The scheduler: jobs, their queues, and their steps across workers.
 *
 * A job is a short chain of steps; each step runs on one worker and the job
 * waits between steps in the queue of the role its next step needs:
 *
 *   store     meta_get (writable)  encode     meta_put   [drop_shards]
 *             ... when the file has the stored checksum, instead of the
 *             meta_put:            meta_get   verify     [meta_put] or, when
 *             the record does not read back, encode again and meta_put
 *   retrieve  meta_get             decode
 *   check     meta_get
 *   rebuild   meta_get (writable)  reencode   meta_put if changed
 *
 * A step is one message whose id is the job's, answered by one "result" with
 * the same id. The encoder's steps carry a scratch file the master opens (a
 * sandboxed encoder can open none; one per encoder, proc_scratch), after the
 * client's file for encode and decode.
 *
 * The store asks for the stored checksum first (not the record: most stores
 * are of new or changed files) and hands it to the encoder. A file that has
 * it is not uploaded (after the one read pass that computes the checksum);
 * the master then fetches the record and an encoder verifies that it reads
 * back (store_unchanged, as the standalone store does) before the upload is
 * skipped for good.
 *
 * Queues are FIFO per priority: interactive requests (retrieve, check, blocking
 * store, rebuild from the CLI) before background stores before repairs. A
 * worker holds one step at a time, and an idle one takes the first job of the
 * highest priority waiting for its role; an idle metawriter takes the first
 * IPC_JOBS_HELD_MAX at once, and answers them in one round trip to the
 * metadata backends (the next batch is what waits when it is done, so a
 * request never waits behind lower ones sent before it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "hex.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "sweep.h"

TAILQ_HEAD(jobq, job);

enum { Q_META, Q_ENCODER, Q_REPAIRER, Q_ROLES };

static struct jobq	queues[Q_ROLES][PRIO_LEVELS];
static struct jobq	jobs = TAILQ_HEAD_INITIALIZER(jobs);
static int64_t		last_job_id;
static int		queues_ready;

static void	job_fail(struct job *, const char *);

static void
queues_init(void)
{
	int r, p;

	for (r = 0; r < Q_ROLES; r++)
		for (p = 0; p < PRIO_LEVELS; p++)
			TAILQ_INIT(&queues[r][p]);
	queues_ready = 1;
}

static int
step_queue(enum job_step step)
{
	if (step == STEP_SWEEP_CHECK || step == STEP_GC_MARK ||
	    step == STEP_GC_COLLECT)
		return Q_REPAIRER;
	return step == STEP_META_GET || step == STEP_META_PUT ||
	    step == STEP_META_SCAN ? Q_META : Q_ENCODER;
}

static void
job_on_retry(int fd, short ev, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)ev;
	j->step = STEP_META_GET;
	clock_gettime(CLOCK_MONOTONIC, &j->started);
	sched_submit(j);
}

struct job *
job_new(enum job_kind kind, const char *what)
{
	struct job *j;

	if (!queues_ready)
		queues_init();
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	if ((j->retry_ev = evtimer_new(master->base, job_on_retry,
	    j)) == NULL) {
		free(j);
		return NULL;
	}
	j->id = ++last_job_id;
	clock_gettime(CLOCK_MONOTONIC, &j->started);
	j->kind = kind;
	j->fd = -1;
	strlcpy(j->what, what, sizeof(j->what));
	TAILQ_INSERT_TAIL(&jobs, j, all);
	return j;
}

void
job_free(struct job *j)
{
	if (j->waiting)
		TAILQ_REMOVE(&queues[step_queue(j->step)][j->prio], j, queue);
	if (j->worker != NULL)
		proc_release(j->worker, j);
	if (j->conn != NULL)
		control_reply(j->conn, 0, "internal error: the request was "
		    "dropped", NULL);
	if (j->done != NULL)
		j->done(j->done_arg, 0, "the request was dropped", NULL);
	TAILQ_REMOVE(&jobs, j, all);
	event_free(j->retry_ev);
	if (j->fd != -1)
		close(j->fd);
	free(j->path);
	free(j->key_path);
	free(j->key);
	free(j->meta);
	free(j->base);
	free(j);
}

/* A store or rebuild needs all 4 metadata backends writable: refused at
 * once while the health checks see one down, instead of after the
 * metawriter's connect timeout. */
static int
job_refused(struct job *j)
{
	char why[ERR_MSG_MAX], msg[ERR_MSG_MAX + 160];

	if (j->step != STEP_META_GET ||
	    (j->kind != JOB_STORE && j->kind != JOB_REBUILD) ||
	    health_meta_writable(why, sizeof(why)) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "metadata is not writable: %s; stores "
	    "are accepted again once all 4 metadata backends answer", why);
	job_fail(j, msg);
	return 1;
}

void
sched_submit(struct job *j)
{
	if (job_refused(j))
		return;
	TAILQ_INSERT_TAIL(&queues[step_queue(j->step)][j->prio], j, queue);
	j->waiting = 1;
	sched_run();
}

/* Jobs in a queue or on a worker; background stores waiting to retry do not
 * count: shutdown does not wait for them. */
static int
sched_busy(void)
{
	struct job *j;

	TAILQ_FOREACH(j, &jobs, all)
		if (j->waiting || j->worker != NULL)
			return 1;
	return 0;
}

static void
job_reply(struct job *j, int ok, const char *error, const uint8_t *sum)
{
	void (*done)(void *, int, const char *, const uint8_t *) = j->done;
	struct conn *c = j->conn;

	if (done != NULL) {
		j->done = NULL;
		done(j->done_arg, ok, error, sum);
	}
	if (c == NULL)
		return;
	j->conn = NULL;
	control_reply(c, ok, error, sum);
}

static int
step_needs_scratch(enum job_step step)
{
	return step == STEP_ENCODE || step == STEP_DECODE ||
	    step == STEP_REENCODE;
}

/* The first meta_get of a store asks for the stored checksum only. */
static int
job_wants_record(const struct job *j)
{
	return j->kind != JOB_STORE || j->same;
}

/* The message for j's current step and the descriptors it carries: the
 * client's file for encode and decode, then scratch (-1: none). */
static struct msg *
step_build(struct job *j, int scratch, int fds[IPC_FDS_MAX], int *nfds,
    struct err *e)
{
	static const enum msg_type types[] = { MT_META_GET, MT_ENCODE,
	    MT_DECODE, MT_REENCODE, MT_META_PUT, MT_DROP_SHARDS, MT_META_SCAN,
	    MT_SWEEP_CHECK, MT_GC_MARK, MT_GC_COLLECT, MT_VERIFY };
	struct msg *m = msg_new(types[j->step], j->id, e);
	struct cJSON *cand;

	*nfds = 0;
	if (m == NULL)
		return NULL;
	if (j->kind == JOB_WALK)
		return walk_step_build(j, m);
	if (j->kind == JOB_GC)
		return gc_step_build(j, m);
	if (j->step != STEP_DROP)
		msg_set_str(m, "key", j->key);
	if (j->step == STEP_META_GET && j->kind != JOB_RETRIEVE &&
	    j->kind != JOB_CHECK)
		msg_set_bool(m, "writable", 1);
	if (j->step == STEP_META_GET && !job_wants_record(j))
		msg_set_bool(m, "checksum_only", 1);
	if (j->step == STEP_ENCODE || j->step == STEP_VERIFY)
		msg_set_str(m, "path", j->path);
	if (j->step == STEP_ENCODE && j->has_old)
		msg_set_hex(m, "checksum", j->old_sum, B2_LEN);
	if (j->step == STEP_VERIFY)
		msg_set_hex(m, "checksum", j->sum, B2_LEN);
	if (j->step == STEP_DECODE || j->step == STEP_REENCODE ||
	    j->step == STEP_META_PUT || j->step == STEP_DROP ||
	    j->step == STEP_VERIFY)
		msg_set_hex(m, "meta", j->meta, j->metalen);
	if (j->step == STEP_DECODE && j->progress)
		msg_set_bool(m, "progress", 1);
	if (j->step == STEP_DECODE && j->sync_output)
		msg_set_bool(m, "sync", 1);
	if ((j->step == STEP_ENCODE || j->step == STEP_REENCODE ||
	    j->step == STEP_VERIFY) && (cand = health_candidates()) != NULL)
		msg_set_json(m, "backends", cand);
	if (j->step == STEP_META_PUT && j->base != NULL)
		msg_set_hex(m, "base", j->base, j->baselen);
	/* --delete later removes only the file the encoder is given now. */
	if (j->step == STEP_ENCODE &&
	    file_id_of_fd(j->fd, &j->read_as, e) == -1) {
		msg_free(m);
		return NULL;
	}
	if (j->step == STEP_ENCODE || j->step == STEP_DECODE)
		fds[(*nfds)++] = j->fd;
	if (scratch != -1)
		fds[(*nfds)++] = scratch;
	return m;
}

static void
step_start(struct proc *p, struct job *j)
{
	int fds[IPC_FDS_MAX], nfds, scratch = -1;
	struct msg *m = NULL;
	struct err e;

	proc_hold(p, j);
	j->worker = p;
	if (!step_needs_scratch(j->step) ||
	    (scratch = proc_scratch(p, &e)) != -1)
		m = step_build(j, scratch, fds, &nfds, &e);
	if (m != NULL) {
		log_debug("%s: %s on %s", j->what, msg_type_name(m),
		    proc_name(p));
		(void)proc_send(p, m, fds, nfds);	/* a failure fails j */
		return;
	}
	proc_release(p, j);
	j->worker = NULL;
	job_fail(j, e.msg);
}

static struct job *
queue_pop(int q)
{
	struct job *j;
	int prio;

	for (prio = 0; prio < PRIO_LEVELS; prio++)
		if ((j = TAILQ_FIRST(&queues[q][prio])) != NULL) {
			TAILQ_REMOVE(&queues[q][prio], j, queue);
			j->waiting = 0;
			return j;
		}
	return NULL;
}

void
sched_run(void)
{
	static const enum sandbox_role roles[Q_ROLES] = {
		[Q_META] = SANDBOX_METAWRITER, [Q_ENCODER] = SANDBOX_ENCODER,
		[Q_REPAIRER] = SANDBOX_REPAIRER };
	struct proc *p;
	struct job *j;
	int q;

	if (!queues_ready)
		queues_init();
	for (q = 0; q < Q_ROLES; q++)
		while ((p = proc_idle(roles[q])) != NULL &&
		    (j = queue_pop(q)) != NULL) {
			step_start(p, j);
			while (proc_has_room(p) && (j = queue_pop(q)) != NULL)
				step_start(p, j);
		}
	if (master->stopping && !sched_busy())
		master_drained();
}

static void
job_next(struct job *j, enum job_step step)
{
	j->step = step;
	sched_submit(j);
}

/* Deletes the file of a stored job if asked (it must still be the same file)
 * and answers ok. */
static void
job_succeed(struct job *j, const uint8_t *sum)
{
	struct err e;

	if (j->kind == JOB_STORE) {
		log_info("stored %s as %s", j->path, j->key);
		if (j->del && asuser_unlink_same(j->uid, j->gid, j->path,
		    &j->read_as, &e) == -1)
			log_warnx("%s", e.msg);
		if (j->recorded)
			failures_forget(j);
	} else if (j->done != NULL)
		log_debug("%s: done", j->what);
	else if (j->kind != JOB_DROP)
		log_info("%s: done", j->what);
	metrics_job_end(j, 1);
	job_reply(j, 1, NULL, sum);
	job_free(j);
}

/* A failed store that should not be lost (a background store, or one with
 * --save-failure) is tried again later: 1 s, 2 s, 4 s ... 10 min. */
static int
job_retry(struct job *j, const char *why)
{
	struct timeval tv = { RETRY_MIN_SECS, 0 };
	char msg[ERR_MSG_MAX + 80];
	unsigned i;

	if (j->kind != JOB_STORE || !(j->background || j->save_failure))
		return 0;
	if (j->save_failure && !j->recorded)
		failures_record(j);
	if (master->stopping)
		return 0;	/* a recorded store comes back at the next
				 * start */
	if (j->conn != NULL) {
		snprintf(msg, sizeof(msg), "%s (recorded with --save-failure: "
		    "zstor-master retries the store)", why);
		job_reply(j, 0, msg, NULL);
	}
	for (i = 0; i < j->attempts && tv.tv_sec < RETRY_MAX_SECS; i++)
		tv.tv_sec *= 2;
	if (tv.tv_sec > RETRY_MAX_SECS)
		tv.tv_sec = RETRY_MAX_SECS;
	j->attempts++;
	j->background = 1;
	j->prio = PRIO_BACKGROUND;
	j->has_old = 0;
	j->same = 0;
	j->uploaded = 0;
	free(j->meta);
	j->meta = NULL;
	free(j->base);
	j->base = NULL;
	log_info("%s: failed, queueing a retry in %lld s", j->what,
	    (long long)tv.tv_sec);
	evtimer_add(j->retry_ev, &tv);
	return 1;
}

static void
job_fail(struct job *j, const char *why)
{
	log_warnx("%s: %s", j->what, why);
	metrics_job_end(j, 0);
	if (j->kind == JOB_GC) {
		if (!gc_failed(j, why))
			job_free(j);
		return;
	}
	if (j->kind == JOB_WALK) {
		walk_failed(j, why);
		job_free(j);
		return;
	}
	if (job_retry(j, why))
		return;
	job_reply(j, 0, why, NULL);
	job_free(j);
}

void
sched_lost(struct job *j, const char *why)
{
	j->worker = NULL;
	job_fail(j, why);
}

/* Keeps a result's metadata for the next step. */
static int
job_take_meta(struct job *j, struct msg *m)
{
	free(j->meta);
	j->meta = NULL;
	return msg_get_hex(m, "meta", &j->meta, &j->metalen);
}

/* A store's meta_get: the checksum for the encoder, or the record to verify
 * once the file turned out to have that checksum. A record gone meanwhile
 * means an upload. */
static void
store_got_meta(struct job *j, int found, const uint8_t *sum)
{
	if (!j->same) {
		if ((j->has_old = found))
			memcpy(j->old_sum, sum, B2_LEN);
		job_next(j, STEP_ENCODE);
	} else if (found)
		job_next(j, STEP_VERIFY);
	else {
		j->same = j->has_old = 0;
		job_next(j, STEP_ENCODE);
	}
}

static int
answer_meta_get(struct job *j, struct msg *m)
{
	uint8_t *sum = NULL;
	size_t len = 0;
	char why[ERR_MSG_MAX];
	int found = msg_has(m, "checksum");

	if (found != msg_has(m, "meta") && job_wants_record(j))
		return -1;
	if (found && (msg_get_hex(m, "checksum", &sum, &len) == -1 ||
	    len != B2_LEN ||
	    (job_wants_record(j) && job_take_meta(j, m) == -1))) {
		free(sum);
		return -1;
	}
	j->settled = msg_get_bool(m, "settled") == 1;
	if (j->kind == JOB_CHECK)
		job_succeed(j, sum);
	else if (j->kind == JOB_STORE)
		store_got_meta(j, found, sum);
	else if (found)
		job_next(j, j->kind == JOB_RETRIEVE ? STEP_DECODE :
		    STEP_REENCODE);
	else {
		snprintf(why, sizeof(why),
		    "no metadata found for file (key %s)%s", j->key,
		    j->kind == JOB_RETRIEVE ? ": it was never stored under "
		    "this path; use the absolute path it was stored with" : "");
		job_fail(j, why);
	}
	free(sum);
	return 0;
}

/* A metadata update failed and the metawriter named the pieces no reader can
 * reach (metastore_replace): an encoder deletes them. */
static int
job_drop(struct job *j, struct msg *m)
{
	struct job *d;
	char what[200];

	snprintf(what, sizeof(what), "cleanup after %s", j->what);
	if ((d = job_new(JOB_DROP, what)) == NULL) {
		log_warnx("%s: out of memory; its shards stay on the backends",
		    j->what);
		return 0;
	}
	if (msg_get_hex(m, "drop", &d->meta, &d->metalen) == -1) {
		job_free(d);
		return -1;
	}
	d->prio = j->prio;
	job_next(d, STEP_DROP);
	return 0;
}

/* The file has the stored checksum and nothing was uploaded: the record is
 * fetched for an encoder to verify. */
static int
store_same(struct job *j, struct msg *m)
{
	uint8_t *sum = NULL;
	size_t len;

	if (!j->has_old || msg_get_hex(m, "checksum", &sum, &len) == -1 ||
	    len != B2_LEN) {
		free(sum);
		return -1;
	}
	memcpy(j->sum, sum, B2_LEN);
	free(sum);
	j->same = 1;
	job_next(j, STEP_META_GET);
	return 0;
}

/* An encoder's answer: new metadata to save, or none (the file has the
 * stored checksum, or nothing to rebuild). A rebuild replaces only the
 * record it rebuilt from. */
static int
answer_encoded(struct job *j, struct msg *m)
{
	if (!msg_has(m, "meta")) {
		if (j->kind == JOB_STORE)
			return store_same(j, m);
		job_succeed(j, NULL);
		return 0;
	}
	if (j->kind == JOB_REBUILD) {
		free(j->base);
		j->base = j->meta;
		j->baselen = j->metalen;
		j->meta = NULL;
	}
	if (job_take_meta(j, m) == -1)
		return -1;
	j->uploaded = j->kind == JOB_STORE;
	job_next(j, STEP_META_PUT);
	return 0;
}

/* The verdict on the stored record of a file that has its checksum: the
 * upload is skipped, or done after all when the record does not read back.
 * An unchanged file whose record the 4 backends do not hold alike saves that
 * record again, over itself only (store.h). */
static int
answer_verified(struct job *j, struct msg *m)
{
	if (msg_get_bool(m, "unchanged") != 1) {
		j->same = j->has_old = 0;
		job_next(j, STEP_ENCODE);
		return 0;
	}
	if (j->settled) {
		job_succeed(j, NULL);
		return 0;
	}
	if ((j->base = malloc(j->metalen)) == NULL)
		return -1;
	memcpy(j->base, j->meta, j->metalen);
	j->baselen = j->metalen;
	job_next(j, STEP_META_PUT);
	return 0;
}

/* A rebuild whose record was replaced meanwhile (a repair of the sweep, a
 * store) starts over from the record now stored, twice at most: the new
 * record may need no rebuild, or another one. */
static int
rebuild_again(struct job *j, const char *error)
{
	if (j->kind != JOB_REBUILD || j->step != STEP_META_PUT ||
	    error == NULL || strstr(error, "changed while it was being "
	    "rebuilt") == NULL || j->attempts >= 2)
		return 0;
	j->attempts++;
	log_info("%s: the record changed meanwhile; rebuilding from the one "
	    "stored now", j->what);
	free(j->base);
	j->base = NULL;
	free(j->meta);
	j->meta = NULL;
	job_next(j, STEP_META_GET);
	return 1;
}

/* A result for the step j holds. */
static int
answer_result(struct job *j, struct msg *m)
{
	const char *error = msg_get_str(m, "error");

	if (msg_get_bool(m, "ok") != 1) {
		if (j->step == STEP_META_PUT && msg_has(m, "drop") &&
		    job_drop(j, m) == -1)
			return -1;
		if (rebuild_again(j, error))
			return 0;
		job_fail(j, error != NULL ? error : "failed (no reason given)");
		return 0;
	}
	if (j->kind == JOB_WALK)
		return walk_answer(j, m);
	if (j->kind == JOB_GC)
		return gc_answer(j, m);
	switch (j->step) {
	case STEP_META_GET:
		return answer_meta_get(j, m);
	case STEP_ENCODE:
	case STEP_REENCODE:
		return answer_encoded(j, m);
	case STEP_VERIFY:
		return answer_verified(j, m);
	default:
		job_succeed(j, NULL);
		return 0;
	}
}

int
sched_answer(struct proc *p, struct job *j, struct msg *m)
{
	int rc;

	if (msg_id(m) != j->id) {
		log_warnx("%s: answer for job %lld, but it holds job %lld",
		    proc_name(p), (long long)msg_id(m), (long long)j->id);
		return -1;
	}
	proc_release(p, j);
	j->worker = NULL;
	rc = answer_result(j, m);
	if (rc == -1)
		job_fail(j, "internal error: a worker gave a malformed answer");
	sched_run();
	return rc;
}

int
sched_progress(struct proc *p, struct job *j, struct msg *m)
{
	uint64_t done, total;
	struct err e;

	if (msg_id(m) != j->id) {
		log_warnx("%s: progress of job %lld, but it holds job %lld",
		    proc_name(p), (long long)msg_id(m), (long long)j->id);
		return -1;
	}
	if (j->step != STEP_DECODE || !j->progress) {
		log_warnx("%s: progress of %s, which asked for none",
		    proc_name(p), j->what);
		return -1;
	}
	if (msg_get_progress(m, &done, &total, &e) == -1) {
		log_warnx("%s: %s", proc_name(p), e.msg);
		return -1;
	}
	if (j->conn != NULL)
		control_progress(j->conn, done, total);
	return 0;
}

void
sched_repair(const char *key)
{
	struct job *j;
	char what[200];

	TAILQ_FOREACH(j, &jobs, all)
		if (j->kind == JOB_REBUILD && j->prio == PRIO_REPAIR &&
		    strcmp(j->key, key) == 0)
			return;		/* already queued */
	snprintf(what, sizeof(what), "repair %s", key);
	if ((j = job_new(JOB_REBUILD, what)) == NULL ||
	    (j->key = strdup(key)) == NULL) {
		log_warnx("%s: out of memory", what);
		if (j != NULL)
			job_free(j);
		return;
	}
	j->prio = PRIO_REPAIR;
	job_next(j, STEP_META_GET);
}

/* Every job waiting for a worker of role fails with why. */
void
sched_fail_waiting(enum sandbox_role role, const char *why)
{
	int q = role == SANDBOX_METAWRITER ? Q_META : role == SANDBOX_REPAIRER ?
	    Q_REPAIRER : Q_ENCODER, prio;
	struct job *j;

	if (role == SANDBOX_EVICTOR)
		return;
	for (prio = 0; prio < PRIO_LEVELS; prio++)
		while ((j = TAILQ_FIRST(&queues[q][prio])) != NULL) {
			TAILQ_REMOVE(&queues[q][prio], j, queue);
			j->waiting = 0;
			job_fail(j, why);
		}
}

/* The shutdown deadline passed: every job still queued or running fails; a
 * background store with --save-failure stays recorded for the next start. */
void
sched_abort_all(const char *why)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &jobs, all, next) {
		if (!j->waiting && j->worker == NULL)
			continue;
		if (j->save_failure && !j->recorded)
			failures_record(j);
		log_warnx("%s: %s", j->what, why);
		job_reply(j, 0, why, NULL);
		job_free(j);
	}
}

/* Exit: what is left are background stores waiting for a retry. */
void
sched_shutdown(void)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		if (j->kind == JOB_STORE && j->save_failure && !j->recorded)
			failures_record(j);
		if (j->kind == JOB_STORE && !j->recorded)
			log_warnx("%s: not stored and not recorded (no "
			    "--save-failure): it is lost", j->what);
		else if (j->recorded)
			log_info("%s: recorded; retried at the next start",
			    j->what);
		job_free(j);
	}
}

void
sched_counts(size_t waiting[PRIO_LEVELS], size_t *running)
{
	struct job *j;
	int p;

	for (p = 0; p < PRIO_LEVELS; p++)
		waiting[p] = 0;
	*running = 0;
	TAILQ_FOREACH(j, &jobs, all) {
		if (j->waiting)
			waiting[j->prio]++;
		else if (j->worker != NULL)
			(*running)++;
	}
}
