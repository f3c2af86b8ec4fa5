/* The process table: which workers run, how they start (fork and exec of this
 * program with --worker ROLE, the socketpair on fd 3), the hello -> config ->
 * ready handshake, respawn with backoff, and the frames from each worker.
 *
 * A worker's stderr is a pipe to us; relay.c puts its lines in our log. A
 * worker that sends a frame it should not is buggy or compromised: it is killed
 * and started again, and the job it held fails; the master carries on. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "health.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "scratch.h"
#include "worker.h"

enum proc_state {
	PROC_DOWN,	/* not running, or exited and not reaped yet */
	PROC_HELLO,	/* started, waiting for hello */
	PROC_CONFIG,	/* config sent, waiting for ready */
	PROC_READY,
};

struct proc;

/* A role: how many of it run, and what its own frames (beyond hello and
 * ready) do. Slots are fixed at start-up; a role with runs() NULL always
 * runs, one with runs() only while the config says so (a reload starts or
 * stops it). */
struct proc_role {
	enum sandbox_role	 sandbox;	/* and its name */
	int			 per_core;	/* else one */
	unsigned		 hold;		/* steps one may hold at once */
	int			(*runs)(const struct config *);
	/* a frame of this role's own; -1: bad frame. NULL: it sends none */
	int			(*dispatch)(struct proc *, struct msg *);
	/* it died or was killed (what it was asked is lost); may be NULL */
	void			(*lost)(struct proc *);
};

struct proc {
	const struct proc_role	*role;
	unsigned		 slot;
	char			 name[32];	/* "encoder 2" */
	int			 wanted;
	enum proc_state		 state;
	pid_t			 pid;
	int			 sock;
	struct relay		 err;		/* its stderr */
	struct event		*rd_ev, *wr_ev, *timer_ev;
	struct frame_reader	 rd;
	struct frame_writer	 wr;
	struct job		*held[IPC_JOBS_HELD_MAX];	/* its steps */
	unsigned		 nheld;
	uint64_t		 gen_sent;	/* config generation sent ... */
	uint64_t		 gen_acked;	/* ... and confirmed by ready */
	/* reaped: pid must not be signalled */
	int			 exited;
	/* seconds before the next start */
	int			 backoff;
	time_t			 ready_at;
	/* -1, or the scratch file its steps get, kept across its jobs: made
	 * for each step, it cost more than a small store's other work
	 * (ext4 allocating an inode); emptied after each answer, closed when
	 * the worker goes */
	int			 scratch;
};

static int	evictor_runs(const struct config *);
static int	job_dispatch(struct proc *, struct msg *);
static int	repairer_frame(struct proc *, struct msg *);

/* The roles, in start order; the worker's half of this table is in
 * workers/worker.c. One encoder per core (at least two, so that one long
 * store does not hold up every retrieve); the evictor while the config names
 * its cache directory. An idle metawriter takes several steps at once and
 * answers them in one round trip to the metadata backends; the others take
 * one step at a time. */
static const struct proc_role proc_roles[] = {
	{ SANDBOX_METAWRITER,	0, IPC_JOBS_HELD_MAX, NULL,	job_dispatch,
	    NULL },
	{ SANDBOX_ENCODER,	1, 1,	NULL,		job_dispatch,	NULL },
	{ SANDBOX_REPAIRER,	0, 1,	NULL,		repairer_frame,	NULL },
	{ SANDBOX_EVICTOR,	0, 1,	evictor_runs,	evict_dispatch,
	    evict_lost },
};
#define PROC_ROLES	(sizeof(proc_roles) / sizeof(proc_roles[0]))

static struct proc	*procs;
static size_t		 nprocs;

static void	proc_spawn(struct proc *);
static void	proc_lost(struct proc *, const char *);
static void	proc_close(struct proc *);
static void	proc_check_ready(void);

/* Its one duty needs both keys. */
static int
evictor_runs(const struct config *cfg)
{
	return cfg->zdb_data_dir_path != NULL &&
	    cfg->has_max_zdb_data_dir_size;
}

static size_t
role_slots(const struct proc_role *r)
{
	long n;

	if (!r->per_core)
		return 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 2 : (size_t)n;
}

static int
role_runs(const struct proc_role *r, const struct config *cfg)
{
	return r->runs == NULL || r->runs(cfg);
}

static const char *
role_name(const struct proc_role *r)
{
	return sandbox_role_name(r->sandbox);
}

const char *
proc_name(const struct proc *p)
{
	return p->name;
}

void
proc_hold(struct proc *p, struct job *j)
{
	p->held[p->nheld++] = j;
}

void
proc_release(struct proc *p, struct job *j)
{
	unsigned i;

	for (i = 0; i < p->nheld; i++)
		if (p->held[i] == j) {
			p->held[i] = p->held[--p->nheld];
			return;
		}
}

int
proc_has_room(const struct proc *p)
{
	return p->state == PROC_READY && p->nheld < p->role->hold;
}

/* The step p holds for job id, or NULL. */
static struct job *
proc_held(struct proc *p, int64_t id)
{
	unsigned i;

	for (i = 0; i < p->nheld; i++)
		if (p->held[i]->id == id)
			return p->held[i];
	return NULL;
}

int
proc_scratch(struct proc *p, struct err *e)
{
	if (p->scratch == -1)
		p->scratch = scratch_open(e);
	return p->scratch;
}

/* p answered the last step it held: what it left in the scratch file is
 * freed (a large retrieve's must not hold the disk until the next one). */
static void
proc_scratch_done(struct proc *p)
{
	if (p->scratch != -1 && ftruncate(p->scratch, 0) == -1) {
		log_warnx("%s: cannot empty the scratch file: %s; making a "
		    "new one", p->name, strerror(errno));
		close(p->scratch);
		p->scratch = -1;
	}
}

struct proc *
proc_idle(enum sandbox_role role)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].role->sandbox == role &&
		    procs[i].state == PROC_READY && procs[i].nheld == 0)
			return &procs[i];
	return NULL;
}

/* Start-up is over when every worker that should run is ready; a reload
 * when every running worker confirmed it (one that is starting or down gets
 * the new config in its handshake). Both end with READY=1 for systemd. */
static void
proc_check_ready(void)
{
	size_t i;
	int all = 1, acked = 1;

	for (i = 0; i < nprocs; i++) {
		if (procs[i].wanted && procs[i].state != PROC_READY)
			all = 0;
		if (procs[i].state == PROC_READY &&
		    procs[i].gen_acked != master->cfg_gen)
			acked = 0;
	}
	if (master->reloading && acked) {
		master->reloading = 0;
		log_info("every running worker took the new config");
		if (master->started)
			notify_systemd("READY=1");
	}
	if (!master->started && all && acked) {
		master->started = 1;
		log_info("every worker is ready");
		notify_systemd("READY=1");
	}
}

static int
proc_send_config(struct proc *p)
{
	struct msg *m;
	struct err e;

	if ((m = msg_new(MT_CONFIG, 0, &e)) == NULL) {
		log_warnx("%s: %s", p->name, e.msg);
		return -1;
	}
	msg_set_str(m, "text", master->cfg_text);
	p->gen_sent = master->cfg_gen;
	return proc_send(p, m, NULL, 0);
}

static int
proc_on_hello(struct proc *p, struct msg *m)
{
	const char *role = msg_get_str(m, "role");
	int64_t pid = msg_get_int(m, "pid");

	if (p->state != PROC_HELLO || strcmp(role, role_name(p->role)) != 0 ||
	    pid != (int64_t)p->pid) {
		log_warnx("%s (pid %d): unexpected hello from role %s pid %lld",
		    p->name, (int)p->pid, role, (long long)pid);
		return -1;
	}
	p->state = PROC_CONFIG;
	(void)proc_send_config(p);	/* a failure already killed p */
	return 0;
}

static int
proc_on_ready(struct proc *p)
{
	if (p->state == PROC_CONFIG) {
		p->state = PROC_READY;
		p->ready_at = time(NULL);
		evtimer_del(p->timer_ev);
		log_debug("%s (pid %d) is ready", p->name, (int)p->pid);
	} else if (p->state != PROC_READY) {
		log_warnx("%s: ready before hello", p->name);
		return -1;
	}
	p->gen_acked = p->gen_sent;
	if (p->gen_acked != master->cfg_gen) {	/* a reload came meanwhile */
		(void)proc_send_config(p);
		return 0;
	}
	proc_check_ready();
	sched_run();
	return 0;
}

/* One frame from p; -1 when it is not one p may send now. */
static int
proc_on_frame(struct proc *p, const char *json, size_t len, int nfds)
{
	struct msg *m;
	struct err e;
	int rc = -1;

	if ((m = msg_parse(json, len, MSG_WORKER_TO_MASTER, &e)) == NULL ||
	    msg_check_fds(m, nfds, &e) == -1) {
		log_warnx("%s (pid %d) sent a bad frame: %s", p->name,
		    (int)p->pid, e.msg);
		msg_free(m);
		return -1;
	}
	switch (msg_type(m)) {
	case MT_HELLO:
		rc = proc_on_hello(p, m);
		break;
	case MT_READY:
		rc = proc_on_ready(p);
		break;
	default:
		if (p->state != PROC_READY)
			log_warnx("%s: %s before the handshake ended", p->name,
			    msg_type_name(m));
		else if (p->role->dispatch == NULL)
			log_warnx("%s: unexpected %s message", p->name,
			    msg_type_name(m));
		else
			rc = p->role->dispatch(p, m);
	}
	msg_free(m);
	return rc;
}

static void
proc_on_read(int sock, short ev, void *arg)
{
	struct proc *p = arg;
	char *json, why[ERR_MSG_MAX + 64];
	int fds[IPC_FDS_MAX], nfds, rc, i;
	struct err e;
	size_t len;

	(void)sock;
	(void)ev;
	rc = frame_reader_feed(&p->rd, p->sock, &e);
	while (rc != -1 && p->sock != -1) {
		int got = frame_next(&p->rd, &json, &len, fds, &nfds, &e);

		if (got == 0)
			break;
		if (got == -1) {
			rc = -1;
			break;
		}
		for (i = 0; i < nfds; i++)
			close(fds[i]);	/* workers send none: a bad frame */
		got = proc_on_frame(p, json, len, nfds);
		free(json);
		if (got == -1) {
			proc_lost(p, "sent a frame it should not (a bug in the "
			    "worker); it was killed and is started again");
			return;
		}
	}
	if (p->sock == -1)
		return;
	if (rc == -1) {
		snprintf(why, sizeof(why), "broke its connection: %s", e.msg);
		proc_lost(p, why);
	} else if (rc == 0) {
		/* it exited: its job fails when we learn how (proc_reap) */
		log_debug("%s (pid %d) closed its socket", p->name,
		    (int)p->pid);
		proc_close(p);
	}
}

static void
proc_on_write(int sock, short ev, void *arg)
{
	struct proc *p = arg;
	struct err e;
	char why[ERR_MSG_MAX + 32];
	int rc;

	(void)sock;
	(void)ev;
	if ((rc = frame_writer_flush(&p->wr, p->sock, &e)) == -1) {
		snprintf(why, sizeof(why), "cannot be written to: %s", e.msg);
		proc_lost(p, why);
	} else if (rc == 0)
		event_add(p->wr_ev, NULL);
}

int
proc_send(struct proc *p, struct msg *m, const int *fds, int nfds)
{
	char *json, why[ERR_MSG_MAX + 32];
	struct err e;
	size_t len;
	int rc = -1;

	if (p->sock == -1) {
		msg_free(m);
		return -1;
	}
	if (msg_check_fds(m, nfds, &e) == 0 &&
	    (json = msg_encode(m, &len, &e)) != NULL) {
		rc = frame_writer_push(&p->wr, json, len, fds, nfds, &e);
		cJSON_free(json);
	}
	msg_free(m);
	if (rc == 0 && (rc = frame_writer_flush(&p->wr, p->sock, &e)) == 0)
		event_add(p->wr_ev, NULL);
	if (rc == -1) {
		snprintf(why, sizeof(why), "cannot be sent a message: %s",
		    e.msg);
		proc_lost(p, why);
		return -1;
	}
	return 0;
}

/* The child between fork and exec: only async-signal-safe calls. Its socket
 * goes to fd 3 and its stderr to the log pipe; nothing else stays open.
 * It dies with the master (SIGKILL when the master goes, kept across the
 * exec), so no worker goes on writing to backends for a dead master; a master
 * that died before the prctl shows as another parent, and the child leaves. */
static void __attribute__((noreturn))
proc_exec(char *const argv[], int sock, int errw, pid_t master_pid)
{
	sigset_t none;
	int devnull;

	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL) == -1 ||
	    getppid() != master_pid)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(devnull, STDOUT_FILENO) == -1 ||
	    dup2(errw, STDERR_FILENO) == -1)
		_exit(126);
	/* dup2 onto itself would keep close-on-exec */
	if (sock == WORKER_FD)
		fcntl(sock, F_SETFD, 0);
	else if (dup2(sock, WORKER_FD) == -1)
		_exit(126);
	closefrom(WORKER_FD + 1);
	/* the same binary as ours, even if the file was replaced since */
	execv("/proc/self/exe", argv);
	_exit(127);
}

static void
proc_on_timer(int fd, short ev, void *arg)
{
	struct proc *p = arg;

	(void)fd;
	(void)ev;
	if (p->state == PROC_HELLO || p->state == PROC_CONFIG)
		proc_lost(p, "did not finish its start-up (hello, config, "
		    "ready) "
		    "in time");
	else if (p->state == PROC_DOWN && p->pid == 0 && p->wanted &&
	    !master->exiting)
		proc_spawn(p);
}

static int
proc_fds(int sv[2], int errp[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (pipe2(errp, O_CLOEXEC) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1) {
		close(sv[0]);
		close(sv[1]);
		close(errp[0]);
		close(errp[1]);
		return -1;
	}
	return 0;
}

static void
proc_spawn(struct proc *p)
{
	struct timeval hs = { HANDSHAKE_SECS, 0 }, retry = { RESPAWN_MAX_SECS,
	    0 };
	char name[] = MASTER_NAME, wflag[] = "--worker", cflag[] = "-c";
	char dflag[] = "-d", role[32], *argv[8];
	int sv[2], errp[2], n = 0;
	pid_t pid, self = getpid();

	strlcpy(role, role_name(p->role), sizeof(role));
	argv[n++] = name;
	argv[n++] = wflag;
	argv[n++] = role;
	argv[n++] = cflag;
	argv[n++] = master->config_path;
	if (master->debug)
		argv[n++] = dflag;
	argv[n] = NULL;
	if (proc_fds(sv, errp) == -1 || (pid = fork()) == -1) {
		log_warn("cannot start the %s; trying again in %d s", p->name,
		    RESPAWN_MAX_SECS);
		evtimer_add(p->timer_ev, &retry);
		return;
	}
	if (pid == 0)
		proc_exec(argv, sv[1], errp[1], self);
	close(sv[1]);
	close(errp[1]);
	p->pid = pid;
	p->exited = 0;
	p->sock = sv[0];
	p->state = PROC_HELLO;
	p->gen_sent = p->gen_acked = 0;
	frame_reader_init(&p->rd);
	frame_writer_init(&p->wr);
	p->rd_ev = event_new(master->base, p->sock, EV_READ | EV_PERSIST,
	    proc_on_read, p);
	p->wr_ev = event_new(master->base, p->sock, EV_WRITE, proc_on_write, p);
	if (p->rd_ev == NULL || p->wr_ev == NULL ||
	    relay_open(&p->err, errp[0], p->name, pid) == -1)
		fatalx("out of memory for the events of a worker");
	event_add(p->rd_ev, NULL);
	evtimer_add(p->timer_ev, &hs);
	log_debug("started %s, pid %d", p->name, (int)pid);
}

/* Closes p's socket and kills it; proc_reap() starts it again once it is
 * gone. Its job, if any, stays with it until then or until proc_lost(). */
static void
proc_close(struct proc *p)
{
	if (p->sock == -1)
		return;
	event_free(p->rd_ev);
	event_free(p->wr_ev);
	p->rd_ev = p->wr_ev = NULL;
	frame_reader_free(&p->rd);
	frame_writer_free(&p->wr);
	close(p->sock);
	p->sock = -1;
	if (p->scratch != -1)
		close(p->scratch);
	p->scratch = -1;
	p->state = PROC_DOWN;
	evtimer_del(p->timer_ev);
	if (p->pid > 0 && !p->exited)
		kill(p->pid, SIGKILL);
}

/* The jobs p held fail, saying why. */
static void
proc_fail_jobs(struct proc *p, const char *why)
{
	char msg[ERR_MSG_MAX];

	if (p->role->lost != NULL)
		p->role->lost(p);
	snprintf(msg, sizeof(msg),
	    "the zstor-master %s working on this request "
	    "(pid %d) %.500s; the request was not completed, try again",
	    role_name(p->role), (int)p->pid, why);
	while (p->nheld > 0)
		sched_lost(p->held[--p->nheld], msg);
}

/* p cannot be used any more, for a reason of ours (a bad frame, a deadline). */
static void
proc_lost(struct proc *p, const char *why)
{
	if (p->sock == -1)
		return;
	log_warnx("%s (pid %d) %s", p->name, (int)p->pid, why);
	proc_close(p);
	proc_fail_jobs(p, why);
}

static void
proc_describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "was killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WTERMSIG(status) == SIGSYS ? ": its sandbox refused a "
		    "system call" : "");
	else
		snprintf(out, len, "stopped (status %#x)", status);
}

/* Backoff doubles from 1 s to 30 s while a worker keeps dying, and starts
 * over once one ran for 30 s. A worker that asked to be restarted for a new
 * sandbox comes back at once. */
static void
proc_schedule_respawn(struct proc *p, int status)
{
	struct timeval tv = { 0, 0 };

	if (master->exiting || !p->wanted)
		return;
	if (p->ready_at != 0 && time(NULL) - p->ready_at >= RESPAWN_MAX_SECS)
		p->backoff = RESPAWN_MIN_SECS;
	if (!(WIFEXITED(status) &&
	    WEXITSTATUS(status) == WORKER_EXIT_RESPAWN)) {
		metrics_worker_restarted(role_name(p->role));
		tv.tv_sec = p->backoff;
		p->backoff = p->backoff * 2 > RESPAWN_MAX_SECS ?
		    RESPAWN_MAX_SECS : p->backoff * 2;
		log_info("starting the %s again in %lld s", p->name,
		    (long long)tv.tv_sec);
	}
	p->ready_at = 0;
	evtimer_add(p->timer_ev, &tv);
}

/* Workers of role that are up (idle or busy). */
static size_t
proc_idle_or_busy(enum sandbox_role role)
{
	size_t i, n = 0;

	for (i = 0; i < nprocs; i++)
		n += procs[i].role->sandbox == role &&
		    procs[i].state == PROC_READY;
	return n;
}

/* A worker died before it was ready and no other of its role is up: the
 * requests waiting for that role would wait for ever; they fail now. */
static void
proc_cannot_start(struct proc *p, const char *how)
{
	char why[ERR_MSG_MAX];

	snprintf(why, sizeof(why), "the zstor-master %s cannot start (it %s); "
	    "see the daemon's log", role_name(p->role), how);
	sched_fail_waiting(p->role->sandbox, why);
}

static struct proc *
proc_by_pid(pid_t pid)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/* SIGCHLD: collect every exited worker. */
void
proc_reap(void)
{
	struct proc *p;
	char how[160];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((p = proc_by_pid(pid)) == NULL) {
			(void)zdbfs_reaped(pid);	/* a poll's child */
			continue;
		}
		proc_describe_exit(status, how, sizeof(how));
		p->exited = 1;
		proc_close(p);
		if (p->nheld > 0 || (p->wanted && !master->exiting &&
		    !(WIFEXITED(status) &&
		    WEXITSTATUS(status) == WORKER_EXIT_RESPAWN)))
			log_warnx("%s (pid %d) %s", p->name, (int)pid, how);
		else
			log_debug("%s (pid %d) %s", p->name, (int)pid, how);
		proc_fail_jobs(p, how);
		p->pid = 0;
		if (p->ready_at == 0 &&
		    proc_idle_or_busy(p->role->sandbox) == 0)
			proc_cannot_start(p, how);
		proc_schedule_respawn(p, status);
	}
}

int
proc_init(struct err *e)
{
	size_t r, i, n;
	struct proc *p;

	for (r = 0, n = 0; r < PROC_ROLES; r++)
		n += role_slots(&proc_roles[r]);
	if ((procs = calloc(n, sizeof(*procs))) == NULL)
		return err_set(e, "out of memory for the process table");
	for (r = 0, p = procs; r < PROC_ROLES; r++) {
		n = role_slots(&proc_roles[r]);
		for (i = 0; i < n; i++, p++) {
			p->role = &proc_roles[r];
			p->slot = (unsigned)i + 1;
			snprintf(p->name, sizeof(p->name),
			    n > 1 ? "%s %u" : "%s", role_name(p->role),
			    p->slot);
			p->wanted = role_runs(p->role, &master->cfg);
			p->sock = p->err.fd = p->scratch = -1;
			p->backoff = RESPAWN_MIN_SECS;
			if ((p->timer_ev = evtimer_new(master->base,
			    proc_on_timer, p)) == NULL)
				return err_set(e, "out of memory for a timer");
		}
	}
	nprocs = (size_t)(p - procs);
	return 0;
}

void
proc_start_all(void)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].wanted)
			proc_spawn(&procs[i]);
}

/* After a reload: the config goes to every running worker (one starting up
 * gets it in its handshake); the evictor starts or stops with its cache
 * directory. */
void
proc_push_config(void)
{
	struct proc *p;
	size_t i;

	for (i = 0; i < nprocs; i++) {
		p = &procs[i];
		p->wanted = role_runs(p->role, &master->cfg);
		if (p->state == PROC_READY && p->wanted)
			(void)proc_send_config(p);
		else if (p->state != PROC_DOWN && !p->wanted) {
			log_info("stopping the %s: the config no longer needs "
			    "it", p->name);
			kill(p->pid, SIGTERM);
		} else if (p->state == PROC_DOWN && p->pid == 0 && p->wanted &&
		    !evtimer_pending(p->timer_ev, NULL))
			proc_spawn(p);
	}
	proc_check_ready();
}

/* Shutdown: SIGTERM to all, a moment to exit, then SIGKILL. */
void
proc_stop_all(void)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	size_t i, left;
	int tries, status;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid > 0)
			kill(procs[i].pid, SIGTERM);
	for (tries = 0; tries < 60; tries++) {
		for (i = 0, left = 0; i < nprocs; i++) {
			if (procs[i].pid > 0 &&
			    waitpid(procs[i].pid, &status, WNOHANG) != 0)
				procs[i].pid = 0;
			left += procs[i].pid > 0;
		}
		if (left == 0)
			return;
		nanosleep(&tick, NULL);
	}
	for (i = 0; i < nprocs; i++)
		if (procs[i].pid > 0) {
			log_warnx("%s (pid %d) did not stop; killing it",
			    procs[i].name, (int)procs[i].pid);
			kill(procs[i].pid, SIGKILL);
			waitpid(procs[i].pid, &status, 0);
		}
}

/* A result from an encoder or the metawriter for a job it holds, or an
 * encoder's progress on it. */
static int
job_dispatch(struct proc *p, struct msg *m)
{
	struct job *j;

	switch (msg_type(m)) {
	case MT_RESULT:
	case MT_JOB_PROGRESS:
		break;
	default:
		log_warnx("%s: unexpected %s message", p->name,
		    msg_type_name(m));
		return -1;
	}
	if ((j = proc_held(p, msg_id(m))) == NULL) {
		log_warnx("%s: %s for job %lld, which it does not hold",
		    p->name, msg_type_name(m), (long long)msg_id(m));
		return -1;
	}
	if (msg_type(m) == MT_JOB_PROGRESS)
		return sched_progress(p, j, m);
	if (p->nheld == 1)	/* no other step of p may be using it */
		proc_scratch_done(p);
	return sched_answer(p, j, m);
}

/* The repairer's rounds of health checks, and results for the jobs it
 * holds. */
static int
repairer_frame(struct proc *p, struct msg *m)
{
	if (msg_type(m) == MT_HEALTH)
		return health_update(m);
	return job_dispatch(p, m);
}

void
proc_kill(struct proc *p, const char *why)
{
	proc_lost(p, why);
}
