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

/* Takes on who's uid, gid and groups as effective ids (with no groups given,
 * the user's groups from the group database); 1 when nothing had to change
 * (the master already is that user). */
int
asuser_enter(const struct asuser *who, struct asuser_saved *s, struct err *e)
{
	gid_t groups[ASUSER_GROUPS_MAX];
	int n = ASUSER_GROUPS_MAX;
	struct passwd *pw;

	s->euid = geteuid();
	s->egid = getegid();
	if (who->uid == s->euid)
		return 1;
	if (s->euid != 0)
		return err_set(e,
		    "zstor-master runs as uid %d and cannot act for uid %d",
		    (int)s->euid, (int)who->uid);
	if ((s->ngroups = getgroups(ASUSER_GROUPS_MAX, s->groups)) == -1)
		return err_set(e, "getgroups: %s", strerror(errno));
	if (who->ngroups >= 0) {
		n = who->ngroups;
		memcpy(groups, who->groups, (size_t)n * sizeof(gid_t));
	} else {
		groups[0] = who->gid;
		if ((pw = getpwuid(who->uid)) == NULL ||
		    getgrouplist(pw->pw_name, who->gid, groups, &n) == -1)
			n = 1;	/* no such user, or too many groups */
	}
	if (setgroups((size_t)n, groups) == -1 || setegid(who->gid) == -1 ||
	    seteuid(who->uid) == -1) {
		err_set(e, "cannot act as uid %d: %s", (int)who->uid,
		    strerror(errno));
		if (setegid(s->egid) == -1 ||
		    setgroups((size_t)s->ngroups, s->groups) == -1)
			fatal("cannot return to our own groups");
		return -1;
	}
	return 0;
}

void
asuser_leave(const struct asuser_saved *s)
{
	/* Failing here would leave the master with a client's rights. */
	if (seteuid(s->euid) == -1 || setegid(s->egid) == -1 ||
	    setgroups((size_t)s->ngroups, s->groups) == -1)
		fatal("cannot return to our own user and groups");
}

/* A user known by uid and gid only (a failure record): database groups. */
static void
asuser_plain(uid_t uid, gid_t gid, struct asuser *who)
{
	who->uid = uid;
	who->gid = gid;
	who->ngroups = -1;
}

/* --delete: unlinks path only if it still is the file that was stored. */
int
asuser_unlink_same(uid_t uid, gid_t gid, const char *path,
    const struct file_id *read_as, struct err *e)
{
	struct asuser_saved s;
	struct asuser who;
	int same, rc;

	asuser_plain(uid, gid, &who);
	if ((same = asuser_enter(&who, &s, e)) == -1)
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
	struct asuser_saved s;
	struct asuser who;
	struct stat st;
	int same, fd;

	asuser_plain(uid, gid, &who);
	if ((same = asuser_enter(&who, &s, e)) == -1)
		return -1;
	/* O_NONBLOCK: a FIFO put at the path must not hold up the master */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
