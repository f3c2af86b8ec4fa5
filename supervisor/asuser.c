/* Acting for a client. The master may run as root, and a client may be anyone
 * allowed on the control socket: the paths it names (a file to delete after a
 * store, a file to reopen when a recorded store is resumed) are touched only
 * with the rights of the user who asked, never with the master's own. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asuser.h"
#include "log.h"

#define ASUSER_GROUPS_MAX	256

struct saved_ids {
	uid_t	euid;
	gid_t	egid;
	int	ngroups;
	gid_t	groups[ASUSER_GROUPS_MAX];
};

/* Takes on uid, gid and uid's groups as effective ids; 1 when nothing had to
 * change (the master already is that user). */
static int
asuser_enter(uid_t uid, gid_t gid, struct saved_ids *s, struct err *e)
{
	gid_t groups[ASUSER_GROUPS_MAX];
	int n = ASUSER_GROUPS_MAX;
	struct passwd *pw;

	s->euid = geteuid();
	s->egid = getegid();
	if (uid == s->euid)
		return 1;
	if (s->euid != 0)
		return err_set(e, "zstor-master runs as uid %d and cannot act for "
		    "uid %d", (int)s->euid, (int)uid);
	if ((s->ngroups = getgroups(ASUSER_GROUPS_MAX, s->groups)) == -1)
		return err_set(e, "getgroups: %s", strerror(errno));
	groups[0] = gid;
	if ((pw = getpwuid(uid)) == NULL ||
	    getgrouplist(pw->pw_name, gid, groups, &n) == -1)
		n = 1;	/* no such user, or too many groups: the primary only */
	if (setgroups((size_t)n, groups) == -1 || setegid(gid) == -1 ||
	    seteuid(uid) == -1) {
		err_set(e, "cannot act as uid %d: %s", (int)uid, strerror(errno));
		if (setegid(s->egid) == -1 ||
		    setgroups((size_t)s->ngroups, s->groups) == -1)
			fatal("cannot return to our own groups");
		return -1;
	}
	return 0;
}

static void
asuser_leave(const struct saved_ids *s)
{
	/* Failing here would leave the master with a client's rights. */
	if (seteuid(s->euid) == -1 || setegid(s->egid) == -1 ||
	    setgroups((size_t)s->ngroups, s->groups) == -1)
		fatal("cannot return to our own user and groups");
}

/* --delete: unlinks path only if it still is the file that was stored. */
int
asuser_unlink_same(uid_t uid, gid_t gid, const char *path,
    const struct file_id *read_as, struct err *e)
{
	struct saved_ids s;
	int same, rc;

	if ((same = asuser_enter(uid, gid, &s, e)) == -1)
		return -1;
	rc = file_unlink_same(path, read_as, e);
	if (!same)
		asuser_leave(&s);
	return rc;
}

/* Opens a file to store for the user who asked to store it. */
int
asuser_open(uid_t uid, gid_t gid, const char *path, struct err *e)
{
	struct saved_ids s;
	struct stat st;
	int same, fd;

	if ((same = asuser_enter(uid, gid, &s, e)) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		err_set(e, "cannot open %s: %s", path, strerror(errno));
	if (!same)
		asuser_leave(&s);
	if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))) {
		close(fd);
		return err_set(e, "%s: only regular files can be stored", path);
	}
	return fd;
}
