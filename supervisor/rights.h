/* What a client may do to a path through the daemon (rights.c). */
#ifndef RIGHTS_H
#define RIGHTS_H

#include <sys/types.h>

#include "asuser.h"
#include "err.h"

enum rights_op {
	RIGHTS_STORE,		/* fd: the file the client passed */
	RIGHTS_RETRIEVE,
	RIGHTS_SEARCH,		/* check, rebuild by path */
};

/* The peer of a control connection, as the kernel saw it at connect. Its
 * umask is read (from /proc) only with_umask, for a client the daemon makes
 * files for (upstream's retrieve); else it is 022. */
int	rights_identify(int sock, struct asuser *who, int with_umask,
	    struct err *e);
/* 0 when who may do op to path (fd for RIGHTS_STORE, else -1); -1 with the
 * reason in e otherwise. */
int	rights_check(const struct asuser *who, enum rights_op op,
	    const char *path, int fd, struct err *e);
int	rights_in_group(const struct asuser *who, gid_t gid);
/* The gid of a group named on the command line (--admin-group). */
int	rights_group(const char *name, gid_t *gid, struct err *e);

#endif
