/* Paths touched with the rights of the client who named them (asuser.c).
 * Apart from master.h: <grp.h> and the config's struct group collide. */
#ifndef ASUSER_H
#define ASUSER_H

#include <sys/types.h>

#include "err.h"
#include "fileid.h"

#define ASUSER_GROUPS_MAX	256

/* Whom the master acts for: a client on the control socket (its groups as
 * the kernel saw them when it connected), or a user named by a record
 * (ngroups -1: the user's groups from the group database). */
struct asuser {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	int	ngroups;
	gid_t	groups[ASUSER_GROUPS_MAX];
	mode_t	umask;		/* for files created for it */
};

struct asuser_saved {
	uid_t	euid;
	gid_t	egid;
	int	ngroups;
	gid_t	groups[ASUSER_GROUPS_MAX];
};

/* Takes on who's identity as effective ids: 0, or 1 when the master already
 * is that user (nothing to leave); -1 when it cannot. asuser_leave() undoes
 * it, and must follow before anything else happens. */
int	asuser_enter(const struct asuser *who, struct asuser_saved *s,
	    struct err *e);
void	asuser_leave(const struct asuser_saved *s);

/* --delete: unlinks path only if it still is the file that was read. */
int	asuser_unlink_same(uid_t uid, gid_t gid, const char *path,
	    const struct file_id *read_as, struct err *e);
/* A file to store, opened read-only; it must be a regular file. */
int	asuser_open(uid_t uid, gid_t gid, const char *path, struct err *e);

#endif
