/* Key paths of stores, identities of retrieved files; see filepaths.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filepaths.h"

int
store_key_path(const char *file, const char *keydir, char *out, size_t outlen,
    struct err *e)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], real[PATH_MAX];
	const char *dir, *base;

	strlcpy(dcopy, file, sizeof(dcopy));
	strlcpy(bcopy, file, sizeof(bcopy));
	dir = keydir ? keydir : dirname(dcopy);
	base = basename(bcopy);
	if (realpath(dir, real) == NULL)
		return err_set(e, "key path directory %s: %s (it must be an "
		    "existing directory)", dir, strerror(errno));
	if ((size_t)snprintf(out, outlen, "%s/%s", strcmp(real, "/") ? real :
	    "", base) >= outlen)
		return err_set(e, "key path too long");
	return 0;
}

int
file_take_identity(int fd, int dirfd, const char *name, mode_t umask,
    struct err *e)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
		if (fchown(fd, st.st_uid, st.st_gid) == -1 && errno != EPERM)
			return err_set(e, "cannot give the retrieved file "
			    "the owner of %s: %s", name, strerror(errno));
		if (fchmod(fd, st.st_mode & 07777) == -1)
			return err_set(e, "cannot give the retrieved file "
			    "the mode of %s: %s", name, strerror(errno));
		return 0;
	}
	if (fchmod(fd, 0666 & ~umask) == -1)
		return err_set(e, "cannot set the mode of the retrieved "
		    "file: %s", strerror(errno));
	return 0;
}

int
make_dirs(const char *dir, mode_t umask, struct err *e)
{
	char buf[PATH_MAX], *p, c;

	if (strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		return err_set(e, "path too long");
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, 0777 & ~umask) < 0 && errno != EEXIST)
			return err_set(e, "cannot create directory %s: %s", buf,
			    strerror(errno));
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}
