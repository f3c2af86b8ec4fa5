/* Whether a file is still the one that was read: the rule --delete follows (and
 * the cache evictor). Same device, inode, size and modification time: a file
 * replaced, truncated or written in place since it was read is another file. */
#ifndef FILEID_H
#define FILEID_H

#include <sys/stat.h>
#include <sys/types.h>

#include <time.h>

#include "err.h"

struct file_id {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

void	file_id_from_stat(const struct stat *st, struct file_id *id);
int	file_id_of_fd(int fd, struct file_id *id, struct err *e);
int	file_id_equal(const struct file_id *a, const struct file_id *b);
/* Unlinks path (not following a final symlink) if it still is the file id
 * describes; -1 with e saying why not. */
int	file_unlink_same(const char *path, const struct file_id *id,
	    struct err *e);

#endif
