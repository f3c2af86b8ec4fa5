/* The client side of daemon mode. With `socket` in the config, store, retrieve,
 * rebuild and check are requests to zstor-master: one connection per request,
 * one request frame and one reply frame, after progress frames for a retrieve
 * that asks for them (the client protocol in the README). Like upstream, a
 * client never falls back to running the command itself. `zstor monitor` runs
 * the daemon in the foreground. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stddef.h>

#include "cli.h"
#include "obj_progress.h"

/* A request returns 0 when the daemon did it, or one of these. */
#define DAEMON_FAILED	(-1)	/* failed here or on the way; e says what */
#define DAEMON_REFUSED	(-2)	/* the daemon answered ok:false; e holds its
				 * error */
#define DAEMON_DOWN	(-3)	/* nothing answers at the socket; e says how to
				 * start it */

struct store_req {
	const char	*path;		/* absolute path of the file */
	const char	*key_path;	/* the path its metadata key is computed
					 * from */
	int		 del;		/* --delete */
	int		 blocking;	/* not --notblocking */
	int		 save_failure;	/* --save-failure */
};

/* fd: the file, opened read-only by the client with its own permissions. */
int	daemon_store(const struct cli *c, const struct store_req *r, int fd,
	    struct err *e);
/* fd: a temporary file beside the target, for the daemon to fill. With pg,
 * the daemon is asked for its progress, which goes there. */
int	daemon_retrieve(const struct cli *c, const char *path, int fd,
	    struct obj_progress *pg, struct err *e);
/* Exactly one of path and key. */
int	daemon_rebuild(const struct cli *c, const char *path, const char *key,
	    struct err *e);
/* hex gets the 32-digit checksum, or "" when nothing is stored under path. */
int	daemon_check(const struct cli *c, const char *path, char *hex,
	    size_t hexlen, struct err *e);

/* Prints and logs the failure of command cmd on subject (a path or a key),
 * rc being a DAEMON_* value or -1 from the standalone path: upstream's
 * "Zstor error: ..." for the daemon's own answers (naming the subject),
 * "zstor: cmd subject: ..." for the rest. */
void	report_failure(const char *cmd, const char *subject, int rc,
	    const struct err *e);

/* zstor monitor: execs zstor-master in the foreground. */
int	cmd_monitor(struct cli *c, int argc, char **argv);

#endif
