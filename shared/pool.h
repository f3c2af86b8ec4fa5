/* The connections one command (or one worker) holds, keyed by backend identity
 * and mode, opened on first use. A backend that failed stays marked for the
 * rest of the command or job, so placement retries without it (upstream's
 * remove_shard).
 *
 * A worker keeps its pool across jobs: pool_next_job starts a job, forgetting
 * the last job's failures (a backend that died and came back is used again)
 * and closing connections left idle past the pool's expiry. A connection that
 * broke is reopened on its next use (backend_run); pool_invalidate is the
 * hook for whoever learns first that a backend went away (the master's health
 * table): it drops the connection, and the next use reconnects. */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "err.h"
#include "obj_progress.h"

struct pool_entry {
	struct backend_ci	 ci;
	enum ns_mode		 mode;
	/* NULL until opened, or after a failure */
	struct backend		*b;
	int			 failed;
	struct err		 why;	/* why it failed */
	int64_t			 used_ms;	/* last pool_get */
	uint64_t		 checked_job;	/* the job that last found b
						 * alive */
	/* the last NSINFO read of it (at open or by a space check), when,
	 * and of which store; what the pool's stores placed on it since is
	 * added to its data size */
	struct nsinfo		 space;
	int			 has_space;
	int64_t			 space_ms;
	uint64_t		 info_gen;
};

/* Connections unused this long are closed at the next job. */
#define POOL_IDLE_MS	60000
/* A later store takes a backend's space from the last NSINFO instead of
 * asking again while that is younger than POOL_SPACE_TTL_MS and leaves
 * POOL_SPACE_MARGIN times what the store needs, and at least
 * POOL_SPACE_FLOOR bytes: others may write to the backend meanwhile, and a
 * write it refuses for want of space goes to a spare anyway. */
#define POOL_SPACE_TTL_MS	2000
#define POOL_SPACE_MARGIN	16
#define POOL_SPACE_FLOOR	(64ull << 20)

struct pool {
	struct pool_entry	*v;
	size_t			 n, cap;
	int			 timeout_ms;
	int			 idle_ms;
	uint64_t		 job;
	uint64_t		 info_gen;
	/* NULL, or called after each round of shard pieces an object read
	 * fetched, with their bytes: the scrub paces itself there */
	void			(*on_read)(void *arg, uint64_t bytes);
	void			*on_read_arg;
	/* NULL, or advanced as a retrieve fetches pieces (obj_progress.h):
	 * a display of the command's progress */
	struct obj_progress	*progress;
};

/* The deadline of one backend operation: ZDB_TIMEOUT_MS, or what
 * ZSTOR_TIMEOUT_MS says (1 .. 3599999 ms), for tests and impatient operators.
 * The standalone commands and the workers both take it from here. */
int	pool_timeout_ms(void);
void	pool_init(struct pool *p, int timeout_ms);
void	pool_free(struct pool *p);
/* Returns the open backend, opening it if needed; NULL (e filled) when it
 * cannot be reached or is marked failed. */
struct backend	*pool_get(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode, struct err *e);
struct pool_entry	*pool_entry(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode);
/* Opens every backend of cis that is not open yet, all at once (0-dbs
 * connect in parallel); a failure marks its entry failed, as pool_get does.
 * Afterwards pool_get answers from the pool. */
void	pool_open_all(struct pool *p, const struct backend_ci *const *cis,
	    size_t n, enum ns_mode mode);
/* What the last NSINFO of the backend said, with what the pool placed on it
 * since, if that is good enough for a store that needs `need` bytes there:
 * read during this store (opening it reads one), or recent and with room to
 * spare (POOL_SPACE_*). NULL: ask the backend. */
const struct nsinfo	*pool_known_space(struct pool *p,
	    const struct backend_ci *ci, enum ns_mode mode, uint64_t need);
/* A space check read ni from the backend. */
void	pool_space_read(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode, const struct nsinfo *ni);
/* A store chose the backend for `need` bytes. */
void	pool_space_take(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode, uint64_t need);
/* A store is done: what this one read about space is no longer its own. */
void	pool_info_spent(struct pool *p);
/* Starts a job in a long-lived pool: failures are forgotten, connections
 * idle past the expiry closed. */
void	pool_next_job(struct pool *p);
/* Drops the connection to a backend, in every mode; its next use
 * reconnects. */
void	pool_invalidate(struct pool *p, const struct backend_ci *ci);
/* Marks a backend failed and drops its connection. */
void	pool_fail(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode, const struct err *why);
/* pool_fail for a backend that refused an operation: it answered, so its
 * connection stays for pool_cleanup_get. */
void	pool_fail_alive(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode, const struct err *why);
/* The backend to delete from what a failing command wrote to it: opened if
 * needed, or still connected after pool_fail_alive; NULL when unreachable. */
struct backend	*pool_cleanup_get(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode);
int	pool_is_failed(struct pool *p, const struct backend_ci *ci,
	    enum ns_mode mode);

#endif
