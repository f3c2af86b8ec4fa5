/* zstor-master --worker ROLE: the start-up handshake, the sandbox, and the loop
 * that hands each message from the master to the role's dispatcher. */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backend.h"
#include "blake2b.h"
#include "frame.h"
#include "heap.h"
#include "log.h"
#include "msg.h"
#include "pool.h"
#include "worker.h"

#define WORKER_DIRS_MAX	64	/* dir: backends one role may use */
/* An encoder's helpers: at most four stages of one object run beside its
 * main thread (a store writes one stripe while the next is hashed on two
 * cores; a retrieve fetches, checks the shards, hashes the output and writes
 * it at once). */
#define ENCODER_THREADS	4

/* What each role does with a job; the master's half of this table is in
 * supervisor/proc.c. */
static int (*const role_dispatch[SANDBOX_ROLES])(struct worker *, struct msg *,
    const int *) = {
	[SANDBOX_ENCODER] = encoder_dispatch,
	[SANDBOX_METAWRITER] = metawriter_dispatch,
	[SANDBOX_REPAIRER] = repairer_dispatch,
	[SANDBOX_EVICTOR] = evictor_dispatch,
};

/* A role that takes several jobs at once: the messages that may join a batch,
 * and what answers one (the metawriter: its round trips are shared). */
static int (*const role_batchable[SANDBOX_ROLES])(const struct msg *) = {
	[SANDBOX_METAWRITER] = metawriter_batchable,
};
static int (*const role_batch[SANDBOX_ROLES])(struct worker *, struct msg **,
    size_t) = {
	[SANDBOX_METAWRITER] = metawriter_batch,
};

/* A role's timers between messages (workers/worker.h). */
static int64_t (*const role_idle[SANDBOX_ROLES])(struct worker *) = {
	[SANDBOX_REPAIRER] = repairer_idle,
};

int
worker_send(struct worker *w, struct msg *m)
{
	struct err e;
	int rc;

	rc = msg_send(w->sock, m, NULL, 0, &e);
	if (rc == -1)
		log_warnx("cannot answer the master: %s", e.msg);
	msg_free(m);
	return rc;
}

struct msg *
worker_result(int64_t job, const struct err *why)
{
	struct msg *m;
	struct err e;

	if ((m = msg_new(MT_RESULT, job, &e)) == NULL) {
		log_warnx("%s", e.msg);
		return NULL;
	}
	msg_set_bool(m, "ok", why == NULL);
	if (why != NULL)
		msg_set_str(m, "error", why->msg);
	return m;
}

int
worker_result_fail(struct worker *w, int64_t job, const struct err *why)
{
	struct msg *m;

	if ((m = worker_result(job, why)) == NULL)
		return -1;
	return worker_send(w, m);
}

int
worker_result_ok(struct worker *w, int64_t job, const uint8_t *meta,
    size_t metalen, const uint8_t *checksum)
{
	struct msg *m;

	if ((m = worker_result(job, NULL)) == NULL)
		return -1;
	if (meta != NULL)
		msg_set_hex(m, "meta", meta, metalen);
	if (checksum != NULL)
		msg_set_hex(m, "checksum", checksum, B2_LEN);
	return worker_send(w, m);
}

struct pool *
worker_job_pool(struct worker *w)
{
	pool_next_job(&w->pool);
	return &w->pool;
}

int
worker_refuse(struct worker *w, const struct msg *m)
{
	struct err e;

	err_set(&e, "the %s does not take %s messages",
	    sandbox_role_name(w->role), msg_type_name(m));
	log_warnx("%s", e.msg);
	return worker_result_fail(w, msg_id(m), &e);
}

static int
dir_listed(const char **dirs, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(dirs[i], path) == 0)
			return 1;
	return 0;
}

static void
dir_add(const char **dirs, size_t *n, const struct backend_ci *ci)
{
	if (ci->addr.kind != ADDR_DIR || *n >= WORKER_DIRS_MAX ||
	    dir_listed(dirs, *n, ci->addr.path))
		return;
	dirs[(*n)++] = ci->addr.path;
}

/* The dir: backends the role reads and writes: data backends for the encoder,
 * metadata backends for the metawriter, both for the repairer (health checks,
 * scrub, garbage collection). Pointers into cfg. */
static size_t
role_dirs(enum sandbox_role role, const struct config *cfg, const char **dirs)
{
	size_t i, j, n = 0;

	if (role == SANDBOX_ENCODER || role == SANDBOX_REPAIRER)
		for (i = 0; i < cfg->ngroups; i++)
			for (j = 0; j < cfg->groups[i].nbackends; j++)
				dir_add(dirs, &n, &cfg->groups[i].backends[j]);
	if (role == SANDBOX_METAWRITER || role == SANDBOX_REPAIRER)
		for (i = 0; i < META_BACKENDS; i++)
			dir_add(dirs, &n, &cfg->meta_backends[i]);
	return n;
}

/* Whether the sandbox entered for old also covers what new needs. */
static int
sandbox_covers(enum sandbox_role role, const struct config *old,
    const struct config *new)
{
	const char *od[WORKER_DIRS_MAX], *nd[WORKER_DIRS_MAX];
	size_t on = role_dirs(role, old, od), nn = role_dirs(role, new, nd), i;

	if ((on == 0) != (nn == 0))
		/* the seccomp list differs with and without dirs */
		return 0;
	for (i = 0; i < nn; i++)
		if (!dir_listed(od, on, nd[i]))
			return 0;
	return 1;
}

static void
close_fds(const int *fds, int nfds)
{
	int i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* 1 with *m and its descriptors (*nfds of them, as the table says), 0 when
 * the master closed the connection, -1 on a bad frame or message (a bug in
 * the master) or the deadline. */
static int
worker_recv(struct worker *w, struct msg **m, int fds[IPC_FDS_MAX], int *nfds,
    int timeout_ms, struct err *e)
{
	char *json;
	size_t len;
	int rc;

	*m = NULL;
	if ((rc = frame_recv(w->sock, &json, &len, fds, nfds, timeout_ms,
	    e)) != 1)
		return rc;
	*m = msg_parse(json, len, MSG_MASTER_TO_WORKER, e);
	free(json);
	if (*m != NULL && msg_check_fds(*m, *nfds, e) == -1) {
		msg_free(*m);
		*m = NULL;
	}
	if (*m == NULL) {
		close_fds(fds, *nfds);
		*nfds = 0;
		return -1;
	}
	return 1;
}

static void
worker_say(struct worker *w, enum msg_type type)
{
	struct msg *m;
	struct err e;

	if ((m = msg_new(type, 0, &e)) == NULL)
		fatalx("%s", e.msg);
	if (type == MT_HELLO) {
		msg_set_str(m, "role", sandbox_role_name(w->role));
		msg_set_int(m, "pid", getpid());
	}
	if (worker_send(w, m) == -1)
		exit(1);
}

/* A "config" message: the text of the config file the master validated. */
static int
worker_config(struct worker *w, struct msg *m, struct err *e)
{
	const char *text = msg_get_str(m, "text");
	struct config cfg;

	if (config_parse(text, strlen(text), "config from the master", &cfg,
	    e) == -1)
		return -1;
	if (w->has_cfg && !sandbox_covers(w->role, &w->cfg, &cfg)) {
		log_info("the new config needs other directories than this "
		    "sandbox allows; exiting so that the master starts a fresh "
		    "%s", sandbox_role_name(w->role));
		exit(WORKER_EXIT_RESPAWN);
	}
	if (w->has_cfg) {
		/* backends, passwords and namespaces may have changed */
		pool_free(&w->pool);
		pool_init(&w->pool, w->timeout_ms);
		config_free(&w->cfg);
	}
	w->cfg = cfg;
	w->has_cfg = 1;
	w->cfg_gen++;
	return 0;
}

/* Whether a backend the role reaches is a 0-db on a unix socket. */
static int
uses_unix(enum sandbox_role role, const struct config *cfg)
{
	size_t i, j;

	if (role == SANDBOX_EVICTOR)
		return 0;
	for (i = 0; role != SANDBOX_METAWRITER && i < cfg->ngroups; i++)
		for (j = 0; j < cfg->groups[i].nbackends; j++)
			if (cfg->groups[i].backends[j].addr.kind == ADDR_UNIX)
				return 1;
	for (i = 0; role != SANDBOX_ENCODER && i < META_BACKENDS; i++)
		if (cfg->meta_backends[i].addr.kind == ADDR_UNIX)
			return 1;
	return 0;
}

static void
worker_enter_sandbox(struct worker *w)
{
	const char *dirs[WORKER_DIRS_MAX];
	struct sandbox_opts o;
	struct err e;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.user = getenv(WORKER_USER_ENV);	/* chosen by the master */
	o.unix_backends = uses_unix(w->role, &w->cfg);
	n = role_dirs(w->role, &w->cfg, dirs);
	o.dirs = dirs;
	o.ndirs = n;
	if (w->role == SANDBOX_ENCODER)
		o.threads = ENCODER_THREADS;
	if (sandbox_enter(w->role, &o, &e) == -1)
		fatalx("%s", e.msg);
	log_debug("sandboxed (Landlock ABI %d, %zu dir: backend(s))",
	    sandbox_landlock_abi(), n);
}

/* hello -> config -> sandbox -> ready. */
static void
worker_handshake(struct worker *w)
{
	int fds[IPC_FDS_MAX], nfds, rc;
	struct msg *m;
	struct err e;

	worker_say(w, MT_HELLO);
	if ((rc = worker_recv(w, &m, fds, &nfds, WORKER_HELLO_MS, &e)) != 1)
		fatalx("waiting for the config: %s", rc == 0 ? "the master "
		    "closed the connection" : e.msg);
	if (msg_type(m) != MT_CONFIG)
		fatalx("expected a config message, got %s", msg_type_name(m));
	if (worker_config(w, m, &e) == -1)
		fatalx("%s", e.msg);
	msg_free(m);
	worker_enter_sandbox(w);
	worker_say(w, MT_READY);
}

/* One message from the master: a reload, or a job for the role. */
static int
worker_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	struct err e;

	switch (msg_type(m)) {
	case MT_CONFIG:
		if (worker_config(w, m, &e) == -1)
			fatalx("reloaded config: %s", e.msg);
		log_debug("config reloaded");
		worker_say(w, MT_READY);
		return 0;
	default:
		if (role_dispatch[w->role] == NULL)
			return worker_refuse(w, m);
		return role_dispatch[w->role](w, m, fds);
	}
}

int
worker_wait(struct worker *w, int64_t ms)
{
	struct pollfd p = { .fd = w->sock, .events = POLLIN };
	int rc;

	if (ms > INT_MAX)
		ms = INT_MAX;
	while ((rc = poll(&p, 1, ms < 0 ? -1 : (int)ms)) == -1 &&
	    errno == EINTR)
		;
	return rc != 0;	/* an error: let the read report it */
}

/* The master's next message; the worker ends when the master is gone or sent
 * what no master sends. */
static struct msg *
worker_take(struct worker *w, int *fds, int *nfds)
{
	struct msg *m;
	struct err e;
	int rc;

	if ((rc = worker_recv(w, &m, fds, nfds, -1, &e)) == 0) {
		log_debug("the master closed the connection; exiting");
		exit(0);
	}
	if (rc == -1)
		fatalx("bad message from the master: %s", e.msg);
	return m;
}

/* m, and the messages the master has sent already that may join it, as one
 * batch; *next is the one that may not (its descriptors in fds), or NULL. */
static int
worker_batch(struct worker *w, struct msg *m, struct msg **next, int *fds,
    int *nfds)
{
	struct msg *batch[IPC_JOBS_HELD_MAX];
	size_t n = 0, i;
	int rc;

	batch[n++] = m;
	*next = NULL;
	while (n < IPC_JOBS_HELD_MAX && worker_wait(w, 0)) {
		m = worker_take(w, fds, nfds);
		if (!role_batchable[w->role](m)) {
			*next = m;
			break;
		}
		batch[n++] = m;
	}
	rc = role_batch[w->role](w, batch, n);
	for (i = 0; i < n; i++)
		msg_free(batch[i]);
	return rc;
}

static void __attribute__((noreturn))
worker_loop(struct worker *w)
{
	int fds[IPC_FDS_MAX], nfds = 0, rc;
	struct msg *m, *next = NULL;
	int64_t ms;

	for (;;) {
		if ((m = next) != NULL)
			next = NULL;
		else {
			if (role_idle[w->role] != NULL) {
				if ((ms = role_idle[w->role](w)) == -1)
					exit(1);
				if (!worker_wait(w, ms))
					continue;
			}
			m = worker_take(w, fds, &nfds);
		}
		if (role_batch[w->role] != NULL && role_batchable[w->role](m))
			rc = worker_batch(w, m, &next, fds, &nfds);
		else {
			rc = worker_dispatch(w, m, fds);
			close_fds(fds, nfds);
			msg_free(m);
		}
		if (rc == -1)
			exit(1);
	}
}

/* Everything that reads files happens here, before the
 * sandbox forbids it: libsodium's set-up, the time zone for log lines. */
static void
worker_preload(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (sodium_init() == -1)
		fatalx("libsodium cannot start");
	heap_keep();
	tzset();
	localtime_r(&now, &tm);
}

void
worker_main(const char *role, int debug)
{
	static struct worker w;
	struct stat st;

	if (sandbox_role_parse(role, &w.role) == -1)
		fatalx("unknown worker role \"%s\"", role);
	log_init(NULL, debug);
	log_set_prefix(role);
	/* exec of /proc/self/exe names the process "exe" */
	(void)prctl(PR_SET_NAME, "zstor-master", 0, 0, 0);
	setproctitle("%s", role);
	if (fstat(WORKER_FD, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatalx("fd %d is not the master's socket; workers are started "
		    "by "
		    "zstor-master, not by hand", WORKER_FD);
	w.sock = WORKER_FD;
	w.debug = debug;
	w.timeout_ms = pool_timeout_ms();
	pool_init(&w.pool, w.timeout_ms);
	worker_preload();
	worker_handshake(&w);
	worker_loop(&w);
}
