/* zstor-master: the privileged parent of the sandboxed workers.
 *
 *   main.c      arguments, start-up, signals, reload, shutdown
 *   proc.c      the process table: spawn, handshake, respawn, worker frames
 *   relay.c     each worker's stderr, line by line into the master's log
 *   control.c   the control socket: one request and one reply per connection
 *   sched.c     jobs, their priority queues and their steps across workers
 *   failures.c  --save-failure records that survive a restart
 *   asuser.c    acting on paths with the rights of the client who named them
 *   notify.c    the pid file and sd_notify
 *   trust.c     which state paths are safe to trust
 *   admit.c     connection, byte and descriptor limits of the control socket
 *   rights.c    what a client may do to a path: what it could do itself
 *   wuser.c     the user the workers drop to
 *
 * One thread, one libevent loop; nothing here blocks on a backend: the master
 * never talks to one. */
#ifndef MASTER_H
#define MASTER_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <event2/event.h>

#include "asuser.h"
#include "blake2b.h"
#include "config.h"
#include "err.h"
#include "fileid.h"
#include "frame.h"
#include "msg.h"
#include "sandbox.h"

#define MASTER_NAME		"zstor-master"
#define HANDSHAKE_SECS		10	/* hello -> config -> ready */
/* a client's request frame, and our reply */
#define REQUEST_SECS		30
/* shutdown: finish queued jobs by then */
#define DRAIN_SECS		30
#define RESPAWN_MIN_SECS	1
#define RESPAWN_MAX_SECS	30
#define RETRY_MIN_SECS		1	/* background stores */
#define RETRY_MAX_SECS		600
#define DEFAULT_PID_FILE	"/var/run/zstor.pid"
#define MAX_CLIENTS		1024	/* --max-clients */
#define MAX_CLIENTS_PER_USER	128	/* --max-clients-per-user, but root */
#define CLIENT_FRAME_MAX	(64 * 1024)	/* a request: a few paths */
#define ADMIT_SMALL		4096	/* frames always read */
#define ADMIT_POOL		(16 * 1024 * 1024)	/* for larger ones */

struct master {
	struct event_base	*base;
	char			*config_path;
	char			*log_file;	/* NULL: stderr */
	int			 debug;
	struct config		 cfg;
	char			*cfg_text;	/* what the workers get */
	size_t			 cfg_len;
	uint64_t		 cfg_gen;	/* bumped by each reload */
	char			*pid_path;
	char			*sock_path;
	char			*failures_dir;
	char			*admin_group;	/* may rebuild by key */
	gid_t			 admin_gid;
	int			 max_clients;
	int			 max_clients_per_user;
	int			 request_secs;	/* --request-timeout */
	/* every worker was ready: READY=1 sent */
	int			 started;
	/* workers still to confirm a reload */
	int			 reloading;
	int			 stopping;	/* draining the queues */
	/* drained: workers are let go */
	int			 exiting;
};

extern struct master	*master;

/* wuser.c: picks the workers' user (root only) and puts it in their
 * environment; NULL when they run as we do. */
const char	*worker_user_choose(const char *asked);

/* Jobs. A job runs as steps, each on one worker; between steps it waits in
 * the queue of the role its next step needs. */
enum job_kind	{ JOB_STORE, JOB_RETRIEVE, JOB_CHECK, JOB_REBUILD, JOB_DROP,
		  JOB_WALK,	/* sweep.c: sweep, re-dispersal */
		  JOB_GC };	/* gc.c: garbage collection */
enum job_prio	{ PRIO_INTERACTIVE, PRIO_BACKGROUND, PRIO_REPAIR, PRIO_LEVELS };
enum job_step	{ STEP_META_GET, STEP_ENCODE, STEP_DECODE, STEP_REENCODE,
		  STEP_META_PUT, STEP_DROP, STEP_META_SCAN, STEP_SWEEP_CHECK,
		  STEP_GC_MARK, STEP_GC_COLLECT, STEP_VERIFY };

struct conn;
struct proc;

struct job {
	TAILQ_ENTRY(job)	 queue;		/* while waiting for a worker */
	TAILQ_ENTRY(job)	 all;
	int64_t			 id;
	enum job_kind		 kind;
	enum job_prio		 prio;
	enum job_step		 step;
	int			 waiting;
	struct proc		*worker;	/* runs the current step */
	/* to answer; NULL once answered */
	struct conn		*conn;
	uid_t			 uid;		/* who asked */
	gid_t			 gid;
	char			 what[160];	/* "store /a/b", for logs */
	char			*path;		/* the file (store, retrieve) */
	/* store: the key derives from it */
	char			*key_path;
	char			*key;		/* metadata key */
	int			 fd;		/* the client's file */
	int			 del;
	/* retrieve: the client asked for progress frames */
	int			 progress;
	/* retrieve: the encoder flushes the output before it answers; set
	 * for upstream's clients, whose file the master renames into place
	 * in its event loop (a client of ours flushes and renames its own) */
	int			 sync_output;
	int			 save_failure;
	int			 background;
	int			 recorded;	/* has a failure record */
	int			 has_old;	/* a record is stored under
						 * key */
	int			 settled;	/* ... alike on all 4
						 * backends */
	uint8_t			 old_sum[B2_LEN];	/* ... its checksum */
	/* store: the file has old_sum (its checksum, sum); the record is
	 * fetched and verified before the upload is skipped */
	int			 same;
	uint8_t			 sum[B2_LEN];
	struct file_id		 read_as;	/* the file as the encoder got
						 * it */
	uint8_t			*meta;		/* bincode metadata */
	size_t			 metalen;
	uint8_t			*base;		/* meta_put: replace only
						 * this */
	size_t			 baselen;
	unsigned		 attempts;
	struct walk		*walk;		/* JOB_WALK: sweep.c's */
	struct event		*retry_ev;
	struct timespec		 started;	/* this attempt (monotonic) */
	int			 uploaded;	/* store: shards were written */
	/* The daemon's own request (not a client's): told of the outcome
	 * instead of a client, and not counted as a command. */
	void			(*done)(void *, int ok, const char *error,
				    const uint8_t *checksum);
	void			*done_arg;
};

/* main.c */
void		 master_reload(void);
void		 master_drained(void);

/* proc.c */
int		 proc_init(struct err *e);
void		 proc_start_all(void);
void		 proc_reap(void);
void		 proc_push_config(void);
void		 proc_stop_all(void);
/* Sends m with its nfds descriptors to p (which gets copies); a failure
 * kills and respawns p. */
int		 proc_send(struct proc *p, struct msg *m, const int *fds,
		    int nfds);
/* A worker of role that holds no step, or NULL; whether p may take one more
 * step with those it took in the same turn (the metawriter takes several). */
struct proc	*proc_idle(enum sandbox_role role);
int		 proc_has_room(const struct proc *p);
/* p is killed (and started again), saying why; what it held fails. */
void		 proc_kill(struct proc *p, const char *why);
const char	*proc_name(const struct proc *p);
/* p takes j's step, or is done with it. */
void		 proc_hold(struct proc *p, struct job *j);
void		 proc_release(struct proc *p, struct job *j);
/* The scratch file for p's steps (an encoder's): opened on first use, kept
 * while p lives; -1 (e filled) when none can be made. */
int		 proc_scratch(struct proc *p, struct err *e);

/* relay.c: a worker's stderr pipe, read until it ends. */
struct relay {
	struct event	*ev;		/* NULL: closed */
	int		 fd;
	const char	*name;		/* the worker, for lines not its own */
	pid_t		 pid;
	char		 buf[2048];	/* a partial line */
	size_t		 len;
};

/* Relays fd (after the rest of an earlier pipe); -1: out of memory. */
int		 relay_open(struct relay *r, int fd, const char *name,
		    pid_t pid);
/* Logs what is left and closes the pipe. */
void		 relay_close(struct relay *r);

/* sched.c */
struct job	*job_new(enum job_kind kind, const char *what);
void		 job_free(struct job *j);
void		 sched_submit(struct job *j);
void		 sched_run(void);
/* A worker's result for the step it holds; -1: not a valid answer (a bug in
 * the worker: the caller kills it). */
int		 sched_answer(struct proc *p, struct job *j, struct msg *m);
/* A worker's job_progress for the step it holds, passed on to the client that
 * asked; -1 as for sched_answer. */
int		 sched_progress(struct proc *p, struct job *j, struct msg *m);
/* The worker holding j died or was killed. */
void		 sched_lost(struct job *j, const char *why);
void		 sched_repair(const char *key);
void		 sched_abort_all(const char *why);
void		 sched_fail_waiting(enum sandbox_role role, const char *why);
void		 sched_shutdown(void);
/* Jobs waiting for a worker, per priority, and jobs on one. */
void		 sched_counts(size_t waiting[PRIO_LEVELS], size_t *running);

/* control.c */
int		 control_listen(const char *path, struct err *e);
/* Tells a client refused at the door why, without waiting, in protocol v1. */
void		 control_refuse_fd(int fd, const char *why);
void		 control_close(int exiting);
void		 control_reply(struct conn *c, int ok, const char *error,
		    const uint8_t *checksum);
/* A progress frame before the reply; dropped while the client has not read
 * the last one (the next one says more). */
void		 control_progress(struct conn *c, uint64_t done,
		    uint64_t total);

/* admit.c */
void		 admit_init(void);
enum admit_log_kind { ADMIT_LOG_CONN, ADMIT_LOG_REQUEST, ADMIT_LOG_FDS,
		    ADMIT_LOG_OTHER, ADMIT_LOG_KINDS };
void		 admit_log(enum admit_log_kind kind, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
int		 admit_take(uid_t uid, struct err *e);
void		 admit_give(uid_t uid);
int		 admit_bytes(size_t *held, size_t want, struct err *e);
int		 admit_no_fds(int sock, int err);

/* evict.c: the 0-db data directory's size limit */
#define EVICT_SECS	60
void		 evict_init(int secs);
int		 evict_dispatch(struct proc *p, struct msg *m);
void		 evict_lost(struct proc *p);

/* zdbfs.c: 0-db-fs statistics from zdbfs_mountpoint */
#define ZDBFS_SECS	1
/* Starts, moves or stops the polls, after the config (start, reload). */
void		 zdbfs_apply_config(void);
/* 1 when pid was the child of a poll. */
int		 zdbfs_reaped(pid_t pid);

/* failures.c */
int		 failures_init(const char *pid_path, struct err *e);
void		 failures_record(struct job *j);
void		 failures_forget(struct job *j);
void		 failures_resume(void);

/* trust.c: flags of trust_check */
#define TRUST_DIR	0x1	/* a directory (else a regular file) */
#define TRUST_ROOT	0x2	/* root's will do too */
#define TRUST_STICKY	0x4	/* others may write it when it is sticky */

struct stat;
int		 trust_check(const struct stat *st, const char *path, int flags,
		    struct err *e);
int		 trust_parent(const char *path, struct err *e);
int		 trust_open_dir(const char *path, struct err *e);

/* notify.c */
int		 pid_file_claim(const char *path, struct err *e);
void		 pid_file_remove(const char *path);
void		 notify_systemd(const char *state);

#endif
