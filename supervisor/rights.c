/* What a client may do to a path through the daemon: only what it could do
 * itself (README, "Who may do what"). The client's identity is the kernel's
 * (SO_PEERCRED, SO_PEERGROUPS, /proc for the umask), and every check runs
 * with that identity (asuser.c) on the path's directory, opened once and
 * then asked through its descriptor, so that no rename between a check and
 * the next can point it elsewhere.
 *
 *   store     the descriptor is the file at the key path, or the client
 *             can write the key path's directory (it could put a file there)
 *   retrieve  the client can write the directory (the file goes in by a
 *             rename) and, when a file is there, read and write that file
 *   check     the client can search the directory
 *   rebuild   by path as check; by key root or the admin group only
 *
 * A directory that does not exist is judged by its nearest existing
 * ancestor: creating it is what the client would have to do. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asuser.h"
#include "log.h"
#include "rights.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

#define DEFAULT_UMASK	022

/* "Key:\t..." of /proc/PID/status, or NULL. */
static const char *
status_field(const char *status, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	for (p = status; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return p + klen + 1;
	}
	return NULL;
}

/* The umask, and the groups when the socket could not say them, from
 * /proc/PID/status, if that process still is the peer's uid (three system
 * calls that a client of our protocol does not need: it makes its files
 * itself). */
static void
peer_status(struct asuser *who)
{
	char path[64], buf[8192], *end;
	const char *v;
	ssize_t n;
	long g;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)who->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((v = status_field(buf, "Uid")) == NULL ||
	    strtol(v, &end, 10) != (long)who->uid)
		return;		/* gone, and its pid taken by another user */
	if ((v = status_field(buf, "Umask")) != NULL)
		who->umask = (mode_t)strtol(v, NULL, 8) & 0777;
	if (who->ngroups >= 0 || (v = status_field(buf, "Groups")) == NULL)
		return;
	who->ngroups = 0;
	while (who->ngroups < ASUSER_GROUPS_MAX &&
	    (g = strtol(v, &end, 10), end != v)) {
		who->groups[who->ngroups++] = (gid_t)g;
		v = end;
	}
}

int
rights_identify(int sock, struct asuser *who, int with_umask, struct err *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(who, 0, sizeof(*who));
	who->ngroups = -1;
	who->umask = DEFAULT_UMASK;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return err_set(e, "SO_PEERCRED: %s", strerror(errno));
	who->uid = cred.uid;
	who->gid = cred.gid;
	who->pid = cred.pid;
	len = sizeof(who->groups);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, who->groups,
	    &len) == 0)
		who->ngroups = (int)(len / sizeof(gid_t));
	if (with_umask || who->ngroups < 0)
		peer_status(who);
	if (who->ngroups < 0) {		/* unknown: the primary group only */
		who->ngroups = 1;
		who->groups[0] = who->gid;
	}
	return 0;
}

int
rights_in_group(const struct asuser *who, gid_t gid)
{
	int i;

	if (who->gid == gid)
		return 1;
	for (i = 0; i < who->ngroups; i++)
		if (who->groups[i] == gid)
			return 1;
	return 0;
}

/* As the client: the directory of path (or, when it does not exist, its
 * nearest existing ancestor), opened O_PATH, in *dir (its name) and the fd
 * returned; *exact says it is path's own directory. -1 when even that
 * cannot be reached. */
static int
open_dir_of(const char *path, char *dir, size_t dirlen, int *exact,
    struct err *e)
{
	char buf[PATH_MAX];
	int fd;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return err_set(e, "path too long");
	*exact = 1;
	for (;;) {
		strlcpy(dir, dirname(buf), dirlen);
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd != -1)
			return fd;
		if (errno != ENOENT || strcmp(dir, "/") == 0 ||
		    strcmp(dir, ".") == 0)
			return err_set(e, "cannot reach %s: %s", dir,
			    strerror(errno));
		*exact = 0;
		strlcpy(buf, dir, sizeof(buf));
	}
}

static int
dir_allows(int dfd, const char *dir, int mode, const char *what,
    struct err *e)
{
	if (faccessat(dfd, "", mode, AT_EACCESS | AT_EMPTY_PATH) == 0)
		return 0;
	return err_set(e, "cannot %s %s: %s", what, dir, strerror(errno));
}

/* The check of one request, as the client. */
static int
check_as(enum rights_op op, const char *path, int fd, struct err *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct stat a, b;
	int dfd, exact = 0, rc = -1;

	if ((dfd = open_dir_of(path, dir, sizeof(dir), &exact, e)) == -1)
		return -1;
	strlcpy(base, path, sizeof(base));
	strlcpy(base, basename(base), sizeof(base));
	switch (op) {
	case RIGHTS_STORE:
		if (exact && fstat(fd, &a) == 0 &&
		    fstatat(dfd, base, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			rc = 0;		/* the file at path itself */
		else if (!exact)
			rc = err_set(e, "%s does not exist", dir);
		else
			rc = dir_allows(dfd, dir, W_OK | X_OK, "write to", e);
		if (rc == -1)
			err_prefix(e, "the descriptor is not the file at %s, "
			    "and", path);
		break;
	case RIGHTS_RETRIEVE:
		rc = dir_allows(dfd, dir, W_OK | X_OK, "write to", e);
		if (rc == 0 && exact && faccessat(dfd, base, R_OK | W_OK,
		    AT_EACCESS | AT_SYMLINK_NOFOLLOW) == -1 && errno != ENOENT)
			rc = err_set(e, "cannot write %s: %s", path,
			    strerror(errno));
		break;
	case RIGHTS_SEARCH:
		rc = dir_allows(dfd, dir, X_OK, "search", e);
		break;
	}
	close(dfd);
	return rc;
}

static const char *const op_verbs[] = {
	[RIGHTS_STORE] = "store under",
	[RIGHTS_RETRIEVE] = "retrieve into",
	[RIGHTS_SEARCH] = "look up",
};

int
rights_check(const struct asuser *who, enum rights_op op, const char *path,
    int fd, struct err *e)
{
	struct asuser_saved s;
	int same, rc;

	if ((same = asuser_enter(who, &s, e)) == -1)
		return -1;
	rc = check_as(op, path, fd, e);
	if (!same)
		asuser_leave(&s);
	if (rc == -1)
		err_prefix(e, "not allowed: uid %d may not %s %s through the "
		    "daemon, as it could not itself (%s)", (int)who->uid,
		    op_verbs[op], path, op == RIGHTS_STORE ? "store needs the "
		    "file at that path, or a directory you can write" :
		    op == RIGHTS_RETRIEVE ? "retrieve needs a directory you "
		    "can write, and the file there writable by you" :
		    "it needs a directory you can search");
	return rc;
}

int
rights_group(const char *name, gid_t *gid, struct err *e)
{
	struct group *gr;

	if ((gr = getgrnam(name)) == NULL)
		return err_set(e, "%s: no such group (create it with groupadd, "
		    "or name another)", name);
	*gid = gr->gr_gid;
	return 0;
}
