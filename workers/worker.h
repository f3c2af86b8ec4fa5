/* The worker side of zstor-master: "zstor-master --worker ROLE" runs one role
 * (encoder, metawriter, repairer, evictor) in a sandbox and takes jobs from the
 * master over its socketpair on fd 3.
 *
 * Start-up is hello -> config -> ready; afterwards the worker reads one message
 * at a time and answers it before reading the next, so a master that sends a
 * job never waits on a worker that does two things at once. A job is one
 * message with every descriptor it needs (the client's file, a scratch file)
 * and its id, answered by one "result" with that id: the worker keeps nothing
 * between messages but its config and its backend connections. */
#ifndef WORKER_H
#define WORKER_H

#include <stdint.h>

#include "config.h"
#include "err.h"
#include "msg.h"
#include "pool.h"
#include "sandbox.h"

/* the socketpair, as the master dup2'd it */
#define WORKER_FD		3
/* the master's config must come by then */
#define WORKER_HELLO_MS		10000
/* Exit status asking for an immediate respawn: a reloaded config needs a
 * sandbox this process can no longer enter (new dir: backends, cache dir). */
#define WORKER_EXIT_RESPAWN	75

struct worker {
	enum sandbox_role	 role;
	int			 sock;
	int			 debug;
	struct config		 cfg;
	int			 has_cfg;
	uint64_t		 cfg_gen;	/* bumped by each config */
	int			 timeout_ms;	/* per backend operation */
	/* backend connections, kept across jobs (see pool.h) */
	struct pool		 pool;
};

/* Entry point from main() for "--worker ROLE"; never returns. */
void	worker_main(const char *role, int debug) __attribute__((noreturn));

/* The result of job (the id of its message). result_fail takes the error of
 * the job; result_ok may add metadata (bincode, sent as hex) and a checksum.
 * -1 when the master cannot be answered. worker_result makes a result to
 * add fields to before worker_send (which frees it): ok without why, else
 * failed with it; NULL (logged) without memory. */
struct msg *worker_result(int64_t job, const struct err *why);
int	worker_send(struct worker *w, struct msg *m);
int	worker_result_fail(struct worker *w, int64_t job,
	    const struct err *why);
int	worker_result_ok(struct worker *w, int64_t job, const uint8_t *meta,
	    size_t metalen, const uint8_t *checksum);
/* The worker's connections for a new job: the last job's failures
 * forgotten, idle connections expired. */
struct pool *worker_job_pool(struct worker *w);
/* Refuses a message this role does not take, with a failed result. */
int	worker_refuse(struct worker *w, const struct msg *m);

/* Role job handlers: each answers the message with exactly one result. fds
 * are its descriptors, as many as the message table says, owned by the
 * caller. Returns -1 only when the worker should stop (the master is gone). */
int	encoder_dispatch(struct worker *w, struct msg *m, const int *fds);
int	evictor_dispatch(struct worker *w, struct msg *m, const int *fds);
int	metawriter_dispatch(struct worker *w, struct msg *m, const int *fds);
/* Whether m may join a batch (gets and puts), and a batch of such messages
 * answered (each with one result), their round trips to the four metadata
 * backends shared. */
int	metawriter_batchable(const struct msg *m);
int	metawriter_batch(struct worker *w, struct msg **msgs, size_t n);
/* meta_scan (workers/metawriter_scan.c) */
int	metawriter_scan(struct worker *w, struct msg *m);
int	repairer_dispatch(struct worker *w, struct msg *m, const int *fds);
/* A role's own timers: runs what is due and returns the milliseconds until it
 * must run again (-1: the master is gone). The worker waits for the master's
 * next message at most that long. */
int64_t	repairer_idle(struct worker *w);

/* Waits at most ms (-1: for ever) for the master's next message; 1 when one
 * is there, 0 when the time ran out. */
int	worker_wait(struct worker *w, int64_t ms);

#endif
