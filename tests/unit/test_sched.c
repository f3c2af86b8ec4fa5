/*
 * The scheduler's step machine, without forking: supervisor/sched.c linked
 * with stand-ins for the process table (proc_idle, proc_send, proc_hold,
 * proc_release, proc_has_room, proc_name), the control socket
 * (control_reply, control_progress), failure records and
 * asuser_unlink_same. A stand-in worker records each step it is sent and
 * holds one at a time unless a test gives it more room; the test answers
 * them with the results a real worker would give.
 */
#include <sys/time.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "health.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "scratch.h"
#include "sweep.h"
#include "t.h"

#define SENT_MAX	64

/* A worker as the scheduler sees it. */
struct proc {
	const char		*name;
	enum sandbox_role	 role;
	int			 up;	/* ready; proc_idle may hand it out */
	int			 fail_send;	/* the next send breaks it */
	struct job		*job;	/* the oldest step it holds */
	struct job		*more[4];	/* the others, oldest first */
	size_t			 nmore;
	size_t			 room;	/* steps it may hold; 0 or 1: one */
	int			 scratch;	/* 0: none yet */
};

/* A client connection waiting for its reply. */
struct conn {
	int	 replied;
	int	 ok;
	char	 error[ERR_MSG_MAX];
	int	 checksum;
	int	 progressed;	/* progress frames passed on */
	uint64_t done, total;	/* the last one's */
};

/* What a worker was sent. */
struct sent {
	struct proc	*p;
	enum msg_type	 type;
	int64_t		 id;
	int		 nfds;
	int		 writable;
	int		 sum_only;	/* meta_get: checksum_only */
	int		 old;		/* encode: the stored checksum came */
	int		 unchanged;	/* verify: the answer it will give */
	int		 meta;
	int		 base;		/* meta_put: replace only this record */
	int		 cand;		/* candidates given, -1: none */
	int		 progress;	/* decode: progress asked for */
	int		 sync;		/* decode: output flushed first */
};

static struct master	 the_master;
struct master		*master = &the_master;
static struct proc	 mw = { .name = "metawriter",
			    .role = SANDBOX_METAWRITER, .up = 1 };
static struct proc	 enc = { .name = "encoder",
			    .role = SANDBOX_ENCODER, .up = 1 };
static struct sent	 sent[SENT_MAX];
static size_t		 nsent;
static int		 drained, recorded, forgotten, unlinked;

static const uint8_t	 meta_bytes[] = { 1, 2, 3, 4, 5 };
/* What the next answer adds: settled (meta_get), drop or in_doubt
 * (meta_put), unchanged (verify). */
static int		 ans_settled, ans_drop, ans_in_doubt, ans_unchanged;
static const uint8_t	 sum_bytes[B2_LEN] = { 0xaa, 0xbb };

const char *
proc_name(const struct proc *p)
{
	return p->name;
}

/* A stand-in holds up to p->room steps (one unless a test says more); the
 * test answers the oldest first. */
void
proc_hold(struct proc *p, struct job *j)
{
	if (p->job == NULL)
		p->job = j;
	else if (p->nmore < sizeof(p->more) / sizeof(p->more[0]))
		p->more[p->nmore++] = j;
}

void
proc_release(struct proc *p, struct job *j)
{
	size_t i;

	if (p->job == j) {
		p->job = p->nmore > 0 ? p->more[0] : NULL;
		i = 0;
	} else {
		for (i = 0; i < p->nmore && p->more[i] != j; i++)
			;
		if (i == p->nmore)
			return;
	}
	if (p->nmore > 0) {
		memmove(&p->more[i], &p->more[i + 1],
		    (p->nmore - i - 1) * sizeof(p->more[0]));
		p->nmore--;
	}
}

/* As proc.c: one scratch file per worker, kept across its steps. */
int
proc_scratch(struct proc *p, struct err *e)
{
	if (p->scratch == 0)
		p->scratch = scratch_open(e);
	return p->scratch;
}

struct proc *
proc_idle(enum sandbox_role role)
{
	struct proc *p = role == SANDBOX_METAWRITER ? &mw : &enc;

	return p->role == role && p->up && p->job == NULL ? p : NULL;
}

int
proc_has_room(const struct proc *p)
{
	return p->up && p->job != NULL && 1 + p->nmore < p->room;
}

/* As proc.c: a send that fails loses the worker, and its job fails. */
int
proc_send(struct proc *p, struct msg *m, const int *fds, int nfds)
{
	struct sent *s = &sent[nsent < SENT_MAX ? nsent++ : SENT_MAX - 1];
	struct job *j;
	int i;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->type = msg_type(m);
	s->id = msg_id(m);
	s->nfds = nfds;
	for (i = 0; i < nfds; i++)
		if (fcntl(fds[i], F_GETFD) == -1)
			s->nfds = -1;	/* not an open descriptor */
	if (s->type == MT_META_GET) {
		s->writable = msg_get_bool(m, "writable") == 1;
		s->sum_only = msg_get_bool(m, "checksum_only") == 1;
	}
	if (s->type == MT_ENCODE)
		s->old = msg_has(m, "checksum");
	if (s->type == MT_ENCODE || s->type == MT_REENCODE ||
	    s->type == MT_VERIFY)
		s->cand = msg_has(m, "backends") ?
		    cJSON_GetArraySize(msg_get_json(m, "backends")) : -1;
	if (s->type == MT_META_PUT)
		s->base = msg_has(m, "base");
	if (s->type == MT_DECODE) {
		s->progress = msg_get_bool(m, "progress");
		s->sync = msg_get_bool(m, "sync");
	}
	if (s->type == MT_DECODE || s->type == MT_REENCODE ||
	    s->type == MT_META_PUT || s->type == MT_DROP_SHARDS ||
	    s->type == MT_VERIFY)
		s->meta = msg_has(m, "meta");
	if (s->type == MT_VERIFY)
		s->old = msg_has(m, "checksum");
	msg_free(m);
	if (!p->fail_send)
		return 0;
	p->fail_send = 0;
	if ((j = p->job) != NULL) {
		p->job = NULL;
		sched_lost(j, "the worker is gone");
	}
	return -1;
}

void
control_reply(struct conn *c, int ok, const char *error,
    const uint8_t *checksum)
{
	c->replied++;
	c->ok = ok;
	snprintf(c->error, sizeof(c->error), "%s", error != NULL ? error : "");
	c->checksum = checksum != NULL;
}

void
control_progress(struct conn *c, uint64_t done, uint64_t total)
{
	c->progressed++;
	c->done = done;
	c->total = total;
}

void
failures_record(struct job *j)
{
	j->recorded = 1;
	recorded++;
}

void
failures_forget(struct job *j)
{
	j->recorded = 0;
	forgotten++;
}

int
asuser_unlink_same(uid_t uid, gid_t gid, const char *path,
    const struct file_id *read_as, struct err *e)
{
	(void)uid;
	(void)gid;
	(void)path;
	(void)read_as;
	(void)e;
	unlinked++;
	return 0;
}

void
master_drained(void)
{
	drained++;
}

/* Outcomes counted for the metrics: [0] failed, [1] succeeded. */
static int		 ended[2];

void
metrics_job_end(const struct job *j, int ok)
{
	(void)j;
	ended[ok != 0]++;
}

/* The health table, as the scheduler asks it: a metadata backend down, and
 * the data backends an encoder may use. */
static const char	*meta_down;
static int		 cand_given;

int
health_meta_writable(char *why, size_t len)
{
	if (meta_down == NULL)
		return 0;
	snprintf(why, len, "%s is unknown since 3 s", meta_down);
	return -1;
}

/* The walks (sweep.c) are not driven here. */
struct msg *
walk_step_build(struct job *j, struct msg *m)
{
	(void)j;
	return m;
}

int
walk_answer(struct job *j, struct msg *m)
{
	(void)m;
	job_free(j);
	return 0;
}

void
walk_failed(struct job *j, const char *why)
{
	(void)j;
	(void)why;
}

struct msg *
gc_step_build(struct job *j, struct msg *m)
{
	(void)j;
	return m;
}

int
gc_answer(struct job *j, struct msg *m)
{
	(void)m;
	job_free(j);
	return 0;
}

int
gc_failed(struct job *j, const char *why)
{
	(void)j;
	(void)why;
	return 0;
}

struct cJSON *
health_candidates(void)
{
	if (!cand_given)
		return NULL;
	return cJSON_CreateStringArray((const char *[]){ "d1", "d2" }, 2);
}

static void
reset(void)
{
	memset(sent, 0, sizeof(sent));
	nsent = 0;
	drained = recorded = forgotten = unlinked = 0;
	ans_settled = ans_drop = ans_in_doubt = ans_unchanged = 0;
	ended[0] = ended[1] = 0;
	mw.up = enc.up = 1;
	mw.job = enc.job = NULL;
	mw.nmore = enc.nmore = 0;
	mw.room = enc.room = 1;
	master->stopping = 0;
}

static struct sent *
last_sent(void)
{
	return nsent > 0 ? &sent[nsent - 1] : NULL;
}

static struct job *
new_job(enum job_kind kind, enum job_prio prio, struct conn *c)
{
	struct job *j = job_new(kind, kind == JOB_STORE ? "store /a" :
	    kind == JOB_RETRIEVE ? "retrieve /a" : "check /a");

	if (j == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	j->prio = prio;
	j->key = strdup("/zstor-meta/meta/00");
	j->path = strdup("/a");
	if (kind == JOB_STORE || kind == JOB_RETRIEVE)
		j->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c != NULL) {
		j->conn = c;
		memset(c, 0, sizeof(*c));
	}
	return j;
}

/* The worker p answers the step it holds. */
static int
answer(struct proc *p, int ok, const char *error, int meta, int sum)
{
	struct job *j = p->job;
	struct msg *m;
	struct err e;
	int rc;

	if (j == NULL)
		return -2;
	if ((m = msg_new(MT_RESULT, j->id, &e)) == NULL) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
	msg_set_bool(m, "ok", ok);
	if (error != NULL)
		msg_set_str(m, "error", error);
	if (meta)
		msg_set_hex(m, "meta", meta_bytes, sizeof(meta_bytes));
	if (sum)
		msg_set_hex(m, "checksum", sum_bytes, sizeof(sum_bytes));
	if (ans_settled)
		msg_set_bool(m, "settled", 1);
	if (ans_drop)
		msg_set_hex(m, "drop", meta_bytes, sizeof(meta_bytes));
	if (ans_in_doubt)
		msg_set_bool(m, "in_doubt", 1);
	if (ans_unchanged)
		msg_set_bool(m, "unchanged", 1);
	ans_settled = ans_drop = ans_in_doubt = ans_unchanged = 0;
	rc = sched_answer(p, j, m);
	msg_free(m);
	return rc;
}

/* Seconds until j's retry timer fires; -1 when it is not set. */
static double
retry_in(struct job *j)
{
	struct timeval when, now;

	if (!evtimer_pending(j->retry_ev, &when))
		return -1;
	gettimeofday(&now, NULL);
	return (double)(when.tv_sec - now.tv_sec) +
	    (double)(when.tv_usec - now.tv_usec) / 1e6;
}

/* Fires j's retry timer now instead of after its delay. */
static void
fire_retry(struct job *j)
{
	evtimer_del(j->retry_ev);
	event_active(j->retry_ev, EV_TIMEOUT, 1);
	event_base_loop(master->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* meta_get (writable), encode with the file and scratch, meta_put, reply. */
static void
test_store(void)
{
	struct conn c;
	struct job *j;
	struct sent *s;

	reset();
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	j->del = 1;
	sched_submit(j);
	s = last_sent();
	T_CHECK(nsent == 1 && s->p == &mw && s->type == MT_META_GET &&
	    s->writable && s->sum_only && s->id == j->id,
	    "store: meta_get (writable, the checksum only) first");
	T_CHECK(answer(&mw, 1, NULL, 0, 0) == 0, "store: meta_get answered");
	s = last_sent();
	T_CHECK(nsent == 2 && s->p == &enc && s->type == MT_ENCODE &&
	    s->nfds == 2 && !s->old && s->id == j->id,
	    "store: encode with the file and a scratch file, no old record");
	T_CHECK(answer(&enc, 1, NULL, 1, 1) == 0, "store: encode answered");
	s = last_sent();
	T_CHECK(nsent == 3 && s->p == &mw && s->type == MT_META_PUT &&
	    s->meta &&
	    !s->base && s->nfds == 0,
	    "store: meta_put with the metadata, over whatever is stored");
	T_CHECK(c.replied == 0,
	    "store: answered before its metadata was saved");
	T_CHECK(answer(&mw, 1, NULL, 0, 0) == 0, "store: meta_put answered");
	T_CHECK(c.replied == 1 && c.ok && unlinked == 1,
	    "store: ok once saved, and the file deleted (--delete)");
	T_CHECK(mw.job == NULL && enc.job == NULL, "store: workers left busy");
}

/* The outcome of a daemon's own check. */
struct own_outcome {
	int	calls, ok, has_sum;
	char	error[128];
};

static void
own_done(void *arg, int ok, const char *error, const uint8_t *sum)
{
	struct own_outcome *o = arg;

	o->calls++;
	o->ok = ok;
	o->has_sum = sum != NULL;
	snprintf(o->error, sizeof(o->error), "%s", error ? error : "");
}

/* A job of the daemon's own (the evictor's metadata lookups) is told its
 * outcome once, whatever happens to it, and is not counted as a command;
 * a client's job is counted once per outcome. */
static void
test_own_jobs(void)
{
	struct own_outcome o;
	struct conn c;
	struct job *j;

	reset();
	memset(&o, 0, sizeof(o));
	j = new_job(JOB_CHECK, PRIO_BACKGROUND, NULL);
	j->done = own_done;
	j->done_arg = &o;
	sched_submit(j);
	T_CHECK(answer(&mw, 1, NULL, 1, 1) == 0, "own check: answered");
	T_CHECK(o.calls == 1 && o.ok && o.has_sum,
	    "own check: told once, with the stored checksum");
	T_CHECK(ended[0] + ended[1] == 1, "own check: the metrics hook is "
	    "called (and skips it: metrics_zstor.c)");

	memset(&o, 0, sizeof(o));
	j = new_job(JOB_CHECK, PRIO_BACKGROUND, NULL);
	j->done = own_done;
	j->done_arg = &o;
	sched_submit(j);
	T_CHECK(answer(&mw, 0, "metadata backend down", 0, 0) == 0,
	    "own check: failure answered");
	T_CHECK(o.calls == 1 && !o.ok &&
	    strcmp(o.error, "metadata backend down") == 0,
	    "own check: told of the failure, with its error");

	memset(&o, 0, sizeof(o));
	j = new_job(JOB_CHECK, PRIO_BACKGROUND, NULL);
	j->done = own_done;
	j->done_arg = &o;
	mw.up = 0;
	sched_submit(j);
	job_free(j);
	T_CHECK(o.calls == 1 && !o.ok, "own check: told when it is dropped");
	mw.up = 1;

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	(void)answer(&mw, 0, "metadata backend down", 0, 0);
	T_CHECK(ended[0] == 1 && ended[1] == 0 && c.replied == 1,
	    "a failed retrieve is counted as failed, once");
}

/* The stored checksum goes to the encoder; a file that has it is not
 * uploaded. The record is then fetched and verified: when it reads back
 * there is nothing to save, unless the 4 backends do not hold it alike (then
 * it is saved again, over itself only); when it does not, the file is
 * uploaded after all. */
static void
store_until_verify(struct conn *c)
{
	struct job *j;
	struct sent *s;

	reset();
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 1);
	T_CHECK(last_sent()->type == MT_ENCODE && last_sent()->old,
	    "unchanged: encode gets the stored checksum");
	answer(&enc, 1, NULL, 0, 1);
	s = last_sent();
	T_CHECK(nsent == 3 && s->type == MT_META_GET && s->writable &&
	    !s->sum_only && c->replied == 0,
	    "unchanged: the same checksum fetches the whole record");
}

static void
test_store_unchanged(void)
{
	struct conn c;
	struct sent *s;

	store_until_verify(&c);
	ans_settled = 1;
	answer(&mw, 1, NULL, 1, 1);
	s = last_sent();
	T_CHECK(nsent == 4 && s->type == MT_VERIFY && s->p == &enc &&
	    s->meta && s->old && s->nfds == 0,
	    "unchanged: verify gets the record and the file's checksum");
	ans_unchanged = 1;
	answer(&enc, 1, NULL, 0, 0);
	T_CHECK(nsent == 4 && c.replied == 1 && c.ok,
	    "unchanged: ok without a meta_put");

	store_until_verify(&c);
	answer(&mw, 1, NULL, 1, 1);		/* not settled */
	ans_unchanged = 1;
	answer(&enc, 1, NULL, 0, 0);
	s = last_sent();
	T_CHECK(nsent == 5 && s->type == MT_META_PUT && s->meta && s->base &&
	    c.replied == 0, "unsettled: the record is saved again over itself");
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "unsettled: ok once saved");

	store_until_verify(&c);
	answer(&mw, 1, NULL, 1, 1);
	answer(&enc, 1, NULL, 0, 0);		/* does not read back */
	s = last_sent();
	T_CHECK(nsent == 5 && s->type == MT_ENCODE && !s->old &&
	    s->nfds == 2 && c.replied == 0,
	    "unreadable record: the file is uploaded after all");
	answer(&enc, 1, NULL, 1, 1);
	s = last_sent();
	T_CHECK(s->type == MT_META_PUT && s->meta && !s->base,
	    "unreadable record: its new record is saved");
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "unreadable record: ok once saved");

	store_until_verify(&c);
	answer(&mw, 1, NULL, 0, 0);		/* deleted meanwhile */
	T_CHECK(last_sent()->type == MT_ENCODE && !last_sent()->old,
	    "record gone before the verify: the file is uploaded");
	answer(&enc, 0, "failed", 0, 0);

	store_until_verify(&c);
	T_CHECK(answer(&mw, 1, NULL, 0, 1) == -1 && c.replied == 1 && !c.ok,
	    "the record asked for, only its checksum given: malformed");

	reset();
	sched_submit(new_job(JOB_STORE, PRIO_INTERACTIVE, &c));
	answer(&mw, 1, NULL, 0, 0);		/* nothing stored */
	T_CHECK(answer(&enc, 1, NULL, 0, 1) == -1 && c.replied == 1 && !c.ok,
	    "an encoder that skips a file with no stored checksum: malformed");
}

/* A failed save: the shards just written are dropped by a job of their own,
 * and the client hears why the store failed. */
static void
test_undo_after_failed_save(void)
{
	struct conn c;
	struct job *j;
	struct sent *s;
	int64_t id;

	reset();
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	id = j->id;
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	answer(&enc, 1, NULL, 1, 1);
	ans_drop = 1;
	T_CHECK(answer(&mw, 0, "2 of 4 metadata backends failed", 0, 0) == 0,
	    "undo: failed meta_put answered");
	s = last_sent();
	T_CHECK(s != NULL && s->p == &enc && s->type == MT_DROP_SHARDS &&
	    s->meta && s->nfds == 0, "undo: drop_shards with what the "
	    "metawriter named");
	T_CHECK(s != NULL && s->id != id, "undo: the drop is a job of its own");
	T_CHECK(c.replied == 1 && !c.ok && strstr(c.error, "2 of 4") != NULL,
	    "undo: the client gets the save's error: %s", c.error);
	T_CHECK(answer(&enc, 1, NULL, 0, 0) == 0 && enc.job == NULL,
	    "undo: drop_shards answered");
	T_CHECK(c.replied == 1, "undo: the drop answered the client again");

	/* a failed encode leaves nothing to undo */
	reset();
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	answer(&enc, 0, "no backend left", 0, 0);
	T_CHECK(nsent == 2 && c.replied == 1 && !c.ok,
	    "undo: a failed encode drops nothing");

	/* an update in doubt keeps every piece: either record may be read */
	reset();
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	answer(&enc, 1, NULL, 1, 1);
	ans_in_doubt = 1;
	answer(&mw, 0, "readers may see the new or the previous version", 0, 0);
	T_CHECK(nsent == 3 && c.replied == 1 && !c.ok &&
	    strstr(c.error, "previous version") != NULL,
	    "in doubt: nothing dropped, the client told: %s", c.error);
}

/* A rebuild saves its new record only over the one it rebuilt from. */
static void
test_rebuild_base(void)
{
	struct conn c;
	struct job *j;
	struct sent *s;

	reset();
	j = new_job(JOB_REBUILD, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 1, 1);
	s = last_sent();
	T_CHECK(s->type == MT_REENCODE && s->meta,
	    "rebuild: reencode the record");
	answer(&enc, 1, NULL, 1, 1);
	s = last_sent();
	T_CHECK(s->type == MT_META_PUT && s->meta && s->base,
	    "rebuild: meta_put over the record it rebuilt from");
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "rebuild: ok once saved");

	/* the record changed meanwhile: start over from the one stored now,
	 * twice at most */
	j = new_job(JOB_REBUILD, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	for (int round = 0; round < 3; round++) {
		answer(&mw, 1, NULL, 1, 1);
		answer(&enc, 1, NULL, 1, 1);
		answer(&mw, 0, "the metadata of k changed while it was being "
		    "rebuilt (it was stored again); nothing was saved", 0, 0);
		if (round < 2)
			T_CHECK(last_sent()->type == MT_META_GET &&
			    c.replied == 0, "rebuild: a changed record is "
			    "rebuilt again (%d)", round);
	}
	T_CHECK(c.replied == 1 && !c.ok && strstr(c.error, "changed while"),
	    "rebuild: the third change fails it, saying why");
}

/* A background store that fails is tried again 1 s, 2 s, 4 s ... later, up
 * to 10 min; each try starts over at meta_get. */
static void
test_retries(void)
{
	static const double want[] = { 1, 2, 4, 8 };
	struct job *j;
	double in;
	size_t i;

	reset();
	j = new_job(JOB_STORE, PRIO_BACKGROUND, NULL);
	j->background = 1;
	sched_submit(j);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		T_CHECK(last_sent()->type == MT_META_GET && mw.job == j,
		    "retry %zu: starts at meta_get", i);
		answer(&mw, 0, "metadata backend down", 0, 0);
		in = retry_in(j);
		T_CHECK(in > want[i] - 0.5 && in <= want[i] + 0.01,
		    "retry %zu: in %.2f s, wanted %.0f s", i, in, want[i]);
		T_CHECK(mw.job == NULL && j->prio == PRIO_BACKGROUND,
		    "retry %zu: waits off the queue", i);
		fire_retry(j);
	}
	answer(&mw, 0, "metadata backend down", 0, 0);
	j->attempts = 30;
	fire_retry(j);
	answer(&mw, 0, "metadata backend down", 0, 0);
	in = retry_in(j);
	T_CHECK(in > RETRY_MAX_SECS - 1 && in <= RETRY_MAX_SECS + 0.01,
	    "retry: capped at %d s, got %.2f s", RETRY_MAX_SECS, in);
	fire_retry(j);
	answer(&mw, 1, NULL, 0, 0);
	answer(&enc, 1, NULL, 1, 1);
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(mw.job == NULL && enc.job == NULL && nsent == 9,
	    "retry: a store that succeeds is done (%zu steps)", nsent);

	/* --save-failure: recorded, the client told, and retried */
	reset();
	{
		struct conn c;

		j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
		j->save_failure = 1;
		sched_submit(j);
		answer(&mw, 0, "metadata backend down", 0, 0);
		T_CHECK(recorded == 1 && c.replied == 1 && !c.ok &&
		    strstr(c.error, "--save-failure") != NULL &&
		    retry_in(j) > 0,
		    "save_failure: recorded, answered, retried: %s", c.error);
		fire_retry(j);
		answer(&mw, 1, NULL, 0, 0);
		answer(&enc, 1, NULL, 1, 1);
		answer(&mw, 1, NULL, 0, 0);
		T_CHECK(forgotten == 1 && c.replied == 1,
		    "save_failure: the record goes once stored");
	}

	/* an interactive store, a retrieve and a check are not retried */
	reset();
	{
		struct conn c;

		j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
		sched_submit(j);
		answer(&mw, 0, "metadata backend down", 0, 0);
		T_CHECK(c.replied == 1 && !c.ok && recorded == 0 && nsent == 1,
		    "retrieve: fails at once");
	}
}

/* Jobs waiting for a role that cannot start fail; the other role's queue
 * stays. */
static void
test_fail_waiting(void)
{
	struct conn c1, c2, c3;
	struct job *a, *b, *d;

	reset();
	mw.up = 0;
	a = new_job(JOB_CHECK, PRIO_INTERACTIVE, &c1);
	b = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c2);
	sched_submit(a);
	sched_submit(b);
	enc.up = 0;
	d = new_job(JOB_STORE, PRIO_INTERACTIVE, &c3);
	d->step = STEP_ENCODE;
	sched_submit(d);
	T_CHECK(nsent == 0 && a->waiting && b->waiting && d->waiting,
	    "fail_waiting: jobs wait while no worker is up");
	sched_fail_waiting(SANDBOX_METAWRITER, "the metawriter cannot start");
	T_CHECK(c1.replied == 1 && !c1.ok && c2.replied == 1 && !c2.ok &&
	    strstr(c1.error, "cannot start") != NULL,
	    "fail_waiting: both metawriter jobs failed: %s", c1.error);
	T_CHECK(c3.replied == 0 && d->waiting,
	    "fail_waiting: the encoder's queue was touched");
	sched_fail_waiting(SANDBOX_REPAIRER, "no queue");
	T_CHECK(c3.replied == 0, "fail_waiting: a role without a queue");
	enc.up = 1;
	sched_run();
	T_CHECK(nsent == 1 && last_sent()->type == MT_ENCODE,
	    "fail_waiting: the encoder job runs once one is up");
	answer(&enc, 0, "no backend left", 0, 0);
}

/* Submits, in this order, a repair, a background store, an interactive
 * check, the same repair again (queued once), another background store and
 * another check; want gets the ids in the order they should run (checks,
 * then stores; the repair last), which stay valid once they are freed. */
static void
submit_mixed(struct conn *c1, struct conn *c2, int64_t want[4])
{
	struct job *bg1, *bg2, *ia1, *ia2;

	sched_repair("/zstor-meta/meta/11");
	bg1 = new_job(JOB_STORE, PRIO_BACKGROUND, NULL);
	bg1->background = 1;
	sched_submit(bg1);
	ia1 = new_job(JOB_CHECK, PRIO_INTERACTIVE, c1);
	sched_submit(ia1);
	sched_repair("/zstor-meta/meta/11");	/* already queued: once */
	bg2 = new_job(JOB_STORE, PRIO_BACKGROUND, NULL);
	bg2->background = 1;
	sched_submit(bg2);
	ia2 = new_job(JOB_CHECK, PRIO_INTERACTIVE, c2);
	sched_submit(ia2);
	want[0] = ia1->id;
	want[1] = ia2->id;
	want[2] = bg1->id;
	want[3] = bg2->id;
}

/* Interactive before background before repair, FIFO within each. */
static void
test_priority(void)
{
	struct conn c1, c2;
	int64_t order[6], want[4];
	size_t i, n;

	reset();
	mw.up = 0;
	submit_mixed(&c1, &c2, want);
	T_CHECK(nsent == 0, "priority: nothing ran without a worker");
	mw.up = 1;
	sched_run();
	for (n = 0; n < 6 && mw.job != NULL; n++) {
		order[n] = mw.job->id;
		answer(&mw, 0, "stop here", 0, 0);
	}
	T_CHECK(n == 5, "priority: %zu jobs ran, wanted 5 (one repair)", n);
	T_CHECK(n >= 4 && order[0] == want[0] && order[1] == want[1],
	    "priority: the interactive ones first, in order");
	T_CHECK(n >= 4 && order[2] == want[2] && order[3] == want[3],
	    "priority: then the background stores, in order");
	for (i = 0; i < nsent; i++)
		T_CHECK(sent[i].type == MT_META_GET, "priority: step %zu", i);
	T_CHECK(n == 5 && order[4] != want[2] && order[4] != want[3],
	    "priority: the repair last");
	sched_shutdown();
}

/* A worker with room for three takes three waiting steps at once, by
 * priority and FIFO within one, and gets no more until it answered them
 * all; the next turn takes the rest in the same order. */
static void
test_batch_priority(void)
{
	struct conn c1, c2;
	int64_t want[4];
	size_t i;

	reset();
	mw.up = 0;
	mw.room = 3;
	submit_mixed(&c1, &c2, want);
	mw.up = 1;
	sched_run();
	T_CHECK(nsent == 3 && mw.nmore == 2,
	    "batch: three steps taken at once: %zu sent, %zu held", nsent,
	    mw.nmore + (mw.job != NULL));
	for (i = 0; i < 3 && i < nsent; i++)
		T_CHECK(sent[i].id == want[i] && sent[i].type == MT_META_GET,
		    "batch: step %zu of the first batch by priority", i);
	answer(&mw, 0, "stop here", 0, 0);
	answer(&mw, 0, "stop here", 0, 0);
	T_CHECK(nsent == 3, "batch: nothing more while it holds one");
	answer(&mw, 0, "stop here", 0, 0);
	T_CHECK(nsent == 5 && nsent >= 4 && sent[3].id == want[3],
	    "batch: then the other background store and the repair: %zu "
	    "sent", nsent);
	while (mw.job != NULL)
		answer(&mw, 0, "stop here", 0, 0);
	T_CHECK(c1.replied == 1 && c2.replied == 1,
	    "batch: each client answered once");
	sched_shutdown();
	mw.room = 1;
}

/* Shutdown drains the queues and says so once nothing runs; a background
 * store waiting for its retry does not hold it up, and is not retried. */
static void
test_drain(void)
{
	struct conn c, c2;
	struct job *a, *bg, *rec;

	reset();
	bg = new_job(JOB_STORE, PRIO_BACKGROUND, NULL);
	bg->background = 1;
	sched_submit(bg);
	answer(&mw, 0, "metadata backend down", 0, 0);
	T_CHECK(retry_in(bg) > 0, "drain: a store waits for its retry");
	a = new_job(JOB_CHECK, PRIO_INTERACTIVE, &c);
	sched_submit(a);
	master->stopping = 1;
	sched_run();
	T_CHECK(drained == 0, "drain: drained with a job on a worker");
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok && drained >= 1,
	    "drain: drained once the last job answered");

	rec = new_job(JOB_STORE, PRIO_INTERACTIVE, &c2);
	rec->save_failure = 1;
	drained = 0;
	sched_submit(rec);
	answer(&mw, 0, "metadata backend down", 0, 0);
	T_CHECK(recorded == 1 && c2.replied == 1 && !c2.ok &&
	    strstr(c2.error, "retries") == NULL && drained >= 1,
	    "drain: a failing store is recorded, not retried, while stopping: "
	    "%s", c2.error);
	sched_shutdown();
	T_CHECK(recorded == 1, "drain: recorded twice at exit");
}

/* A worker that breaks, answers another job or answers badly. */
static void
test_lost_and_bad_answers(void)
{
	struct conn c;
	struct job *j;
	struct msg *m;
	struct err e;

	reset();
	mw.fail_send = 1;
	j = new_job(JOB_CHECK, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	T_CHECK(c.replied == 1 && !c.ok && strstr(c.error, "gone") != NULL &&
	    mw.job == NULL, "lost: a failed send fails the job: %s", c.error);

	reset();
	j = new_job(JOB_CHECK, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	m = msg_new(MT_RESULT, j->id + 1000, &e);
	msg_set_bool(m, "ok", 1);
	T_CHECK(sched_answer(&mw, j, m) == -1 && mw.job == j && c.replied == 0,
	    "bad answer: another job's id is refused, the job kept");
	msg_free(m);
	sched_lost(j, "killed");
	mw.job = NULL;
	T_CHECK(c.replied == 1 && !c.ok, "lost: the job fails with its worker");

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	T_CHECK(answer(&mw, 1, NULL, 1, 0) == -1 && c.replied == 1 && !c.ok &&
	    strstr(c.error, "malformed") != NULL,
	    "bad answer: metadata without its checksum: %s", c.error);

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && !c.ok && strstr(c.error, "never stored"),
	    "retrieve of nothing: %s", c.error);

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 1, 1);
	T_CHECK(last_sent()->type == MT_DECODE && last_sent()->nfds == 2 &&
	    last_sent()->meta, "retrieve: decode with the file and scratch");
	answer(&enc, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "retrieve: ok");
}

/* The encoder's job_progress of done of total pieces for the job it holds,
 * id that job's plus off. */
static int
progress(int64_t off, int64_t done, int64_t total)
{
	struct msg *m;
	struct err e;
	int rc;

	if ((m = msg_new(MT_JOB_PROGRESS, enc.job->id + off, &e)) == NULL) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
	msg_set_int(m, "done", done);
	msg_set_int(m, "total", total);
	rc = sched_progress(&enc, enc.job, m);
	msg_free(m);
	return rc;
}

/* A retrieve whose client asked for progress has its decode report it, and
 * each report goes to the client before the reply; one that did not ask gets
 * a decode as before. A report for another job, one not asked for, or one
 * that is no share of the work, is a bug in the worker. */
static void
test_progress(void)
{
	struct conn c;
	struct job *j;

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	j->progress = 1;
	j->sync_output = 1;
	sched_submit(j);
	answer(&mw, 1, NULL, 1, 1);
	T_CHECK(last_sent()->type == MT_DECODE && last_sent()->progress == 1,
	    "progress: the decode asks for it");
	T_CHECK(last_sent()->sync == 1, "sync: an upstream client's retrieve "
	    "has the encoder flush the output");
	T_CHECK(progress(0, 3, 40) == 0 && progress(0, 40, 40) == 0 &&
	    c.progressed == 2 && c.done == 40 && c.total == 40 &&
	    c.replied == 0, "progress: passed on to the client (%d, %llu of "
	    "%llu)", c.progressed, (unsigned long long)c.done,
	    (unsigned long long)c.total);
	T_CHECK(progress(1, 3, 40) == -1 && progress(0, 41, 40) == -1 &&
	    progress(0, -1, 40) == -1 && progress(0, 0, 0) == -1 &&
	    c.progressed == 2 && enc.job == j,
	    "progress: another job's, or no share of the work, is refused");
	answer(&enc, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "progress: then the reply");

	reset();
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 1, 1);
	T_CHECK(last_sent()->type == MT_DECODE && last_sent()->progress == -1,
	    "progress: a decode without it when the client did not ask");
	T_CHECK(last_sent()->sync == -1, "sync: our client's does not (it "
	    "flushes the file itself)");
	T_CHECK(progress(0, 3, 40) == -1 && c.progressed == 0,
	    "progress: one not asked for is refused");
	answer(&enc, 1, NULL, 0, 0);
	T_CHECK(c.replied == 1 && c.ok, "progress: the retrieve still ends");
}

/* While the health checks see a metadata backend down, a store is refused
 * at once, naming it, before any worker is asked; a retrieve still runs.
 * Encoders get the candidates the health table gives. */
static void
test_health(void)
{
	struct conn c;
	struct job *j;
	struct sent *s;

	reset();
	meta_down = "127.0.0.1:1/meta2";
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	T_CHECK(nsent == 0 && c.replied == 1 && !c.ok &&
	    strstr(c.error, "metadata is not writable") != NULL &&
	    strstr(c.error, "127.0.0.1:1/meta2") != NULL,
	    "health: a store is refused while a metadata backend is down: %s",
	    c.error);
	j = new_job(JOB_RETRIEVE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	T_CHECK(nsent == 1 && last_sent()->type == MT_META_GET,
	    "health: a retrieve still runs with a metadata backend down");
	answer(&mw, 0, "not found", 0, 0);
	meta_down = NULL;
	cand_given = 1;
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	s = last_sent();
	T_CHECK(s->type == MT_ENCODE && s->cand == 2,
	    "health: the encoder gets the candidates (%d)", s->cand);
	answer(&enc, 0, "failed", 0, 0);
	cand_given = 0;
	j = new_job(JOB_STORE, PRIO_INTERACTIVE, &c);
	sched_submit(j);
	answer(&mw, 1, NULL, 0, 0);
	T_CHECK(last_sent()->type == MT_ENCODE && last_sent()->cand == -1,
	    "health: no candidates when every backend is usable");
	answer(&enc, 0, "failed", 0, 0);
}

int
main(void)
{
	if ((master->base = event_base_new()) == NULL) {
		fprintf(stderr, "no event base\n");
		return 2;
	}
	log_init(NULL, 0);
	test_store();
	T_CHECK(ended[1] == 1 && ended[0] == 0,
	    "a store is counted once, as a success");
	test_own_jobs();
	test_rebuild_base();
	test_store_unchanged();
	test_undo_after_failed_save();
	test_retries();
	test_fail_waiting();
	test_priority();
	test_batch_priority();
	test_drain();
	test_lost_and_bad_answers();
	test_progress();
	test_health();
	event_base_free(master->base);
	return t_finish();
}
