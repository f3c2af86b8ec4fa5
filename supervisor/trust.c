/* Which state paths zstor-master trusts: its failure records, its pid file
 * and the directories of both and of its control socket. A path that another
 * local user can change is a way to make the daemon act for them (plant a
 * record that stores and deletes a file as root, swap the pid file for a
 * link), so each one is checked before use and the daemon refuses to start
 * when one is not safe, saying which and why. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

static const char *
trust_kind(mode_t mode)
{
	return S_ISDIR(mode) ? "directory" : S_ISREG(mode) ? "file" :
	    "special file";
}

/* st is what path (a directory or a regular file, by want_dir) is. Owned by
 * the daemon's user (or root, with TRUST_ROOT) and writable by nobody else,
 * or, with TRUST_STICKY, a sticky directory, where no one else can remove
 * or replace the daemon's own entries (/tmp). */
int
trust_check(const struct stat *st, const char *path, int flags, struct err *e)
{
	uid_t me = geteuid();
	int want_dir = (flags & TRUST_DIR) != 0;

	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return err_set(e, "%s is a %s, not a %s", path,
		    trust_kind(st->st_mode), want_dir ? "directory" : "regular "
		    "file");
	if (st->st_uid != me && !((flags & TRUST_ROOT) && st->st_uid == 0))
		return err_set(e, "%s is owned by uid %d, not by "
		    "zstor-master's user (uid %d): that user could plant what "
		    "the daemon then trusts; remove it, or chown it to uid %d",
		    path, (int)st->st_uid, (int)me, (int)me);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !((flags & TRUST_STICKY) && (st->st_mode & S_ISVTX)))
		return err_set(e, "%s is writable by its group or by others "
		    "(mode %04o): they could plant or replace what the daemon "
		    "trusts; chmod go-w it", path,
		    (unsigned)st->st_mode & 07777);
	return 0;
}

/* The directory that holds path: the pid file's, the socket's. */
int
trust_parent(const char *path, struct err *e)
{
	char buf[PATH_MAX], *dir;
	struct stat st;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return err_set(e, "%s: path too long", path);
	dir = dirname(buf);
	if (stat(dir, &st) == -1)
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (trust_check(&st, dir, TRUST_DIR | TRUST_ROOT | TRUST_STICKY,
	    e) == -1)
		return err_prefix(e, "the directory of %s cannot be trusted",
		    path);
	return 0;
}

/* Opens a directory of the daemon's own (created 0700 when missing), not
 * through a symbolic link, and checks it; the descriptor is what the daemon
 * then works in, so the check and the use are of the same directory. */
int
trust_open_dir(const char *path, struct err *e)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", path,
		    strerror(errno));
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return err_set(e, "cannot open %s: %s%s", path, strerror(errno),
		    errno == ELOOP || errno == ENOTDIR ? " (it must be a "
		    "directory, not a link)" : "");
	if (fstat(fd, &st) == -1 || trust_check(&st, path, TRUST_DIR,
	    e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}
