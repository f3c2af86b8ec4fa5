/* Scratch files hold an object's sealed bytes between the passes of a store or
 * a retrieve, so memory stays bounded whatever the file size. They are unlinked
 * from the start (O_TMPFILE) and vanish with the descriptor. */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* In scratch_dir(): $TMPDIR, else /var/tmp. */
int	scratch_open(struct err *e);
const char	*scratch_dir(void);
/* e for a scratch file that could not be written (why: the write's error):
 * names the directory and the room job ("a store of this file") needs. */
int	scratch_full(struct err *e, const char *why, uint64_t need,
	    const char *job);

/* Full-length positional I/O that retries short transfers and EINTR. */
int	pread_full(int fd, void *buf, size_t len, off_t off, struct err *e);
int	pwrite_full(int fd, const void *buf, size_t len, off_t off,
	    struct err *e);
/* Reads until len bytes or end of file; returns the count or -1. */
ssize_t	read_full(int fd, void *buf, size_t len);
int	write_full(int fd, const void *buf, size_t len);

#endif
