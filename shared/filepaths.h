/* Where a stored file's key comes from and what a retrieved file looks like:
 * one rule each, for the client and for the daemon acting for a client. */
#ifndef FILEPATHS_H
#define FILEPATHS_H

#include <sys/types.h>

#include <stddef.h>

#include "err.h"

/* The path a store's key is computed from: realpath of keydir (file's own
 * directory when NULL) plus the file's name. No file is created to find it. */
int	store_key_path(const char *file, const char *keydir, char *out,
	    size_t outlen, struct err *e);

/* Gives fd, a retrieved file about to be renamed over name in dirfd
 * (AT_FDCWD: name is a path), the identity of the file there: its mode, owner
 * and group (an owner we may not give, not being root, stays ours); with no
 * file there, 0666 & ~umask. */
int	file_take_identity(int fd, int dirfd, const char *name, mode_t umask,
	    struct err *e);

/* mkdir -p of dir, each new directory 0777 & ~umask. */
int	make_dirs(const char *dir, mode_t umask, struct err *e);

#endif
