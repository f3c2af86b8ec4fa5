/* Paths touched with the rights of the client who named them (asuser.c).
 * Apart from master.h: <grp.h> and the config's struct group collide. */
#ifndef ASUSER_H
#define ASUSER_H

#include <sys/types.h>

#include "err.h"
#include "fileid.h"

/* --delete: unlinks path only if it still is the file that was read. */
int	asuser_unlink_same(uid_t uid, gid_t gid, const char *path,
	    const struct file_id *read_as, struct err *e);
/* A file to store, opened read-only; it must be a regular file. */
int	asuser_open(uid_t uid, gid_t gid, const char *path, struct err *e);

#endif
