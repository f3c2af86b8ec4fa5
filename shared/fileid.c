#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileid.h"

void
file_id_from_stat(const struct stat *st, struct file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

int
file_id_of_fd(int fd, struct file_id *id, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return err_set(e, "cannot stat the file: %s", strerror(errno));
	file_id_from_stat(&st, id);
	return 0;
}

int
file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int
file_unlink_same(const char *path, const struct file_id *id, struct err *e)
{
	struct file_id now;
	struct stat st;

	if (lstat(path, &st) == -1)
		return err_set(e, "not deleting %s: %s", path, strerror(errno));
	file_id_from_stat(&st, &now);
	if (!file_id_equal(&now, id))
		return err_set(e, "not deleting %s: it changed since it was "
		    "uploaded (it is kept, and the stored copy is the one read "
		    "before the change)", path);
	if (unlink(path) == -1)
		return err_set(e, "Failed to delete file %s: %s", path,
		    strerror(errno));
	return 0;
}
