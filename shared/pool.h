/* The connections one command (or one worker) holds, keyed by backend identity
 * and mode, opened on first use. A backend that failed stays marked for the
 * rest of the command, so placement retries without it (upstream's
 * remove_shard). */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

#include "backend.h"
#include "config.h"
#include "err.h"

struct pool_entry {
	struct backend_ci	 ci;
	enum ns_mode		 mode;
	/* NULL until opened, or after a failure */
	struct backend		*b;
	int			 failed;
	struct err		 why;	/* why it failed */
};

struct pool {
	struct pool_entry	*v;
	size_t			 n, cap;
	int			 timeout_ms;
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
