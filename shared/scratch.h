/* Scratch files hold an object's sealed bytes between the passes of a store or a
 * retrieve, so memory stays bounded whatever the file size. They are unlinked from
 * the start (O_TMPFILE) and vanish with the descriptor. */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "sink.h"

/* In $TMPDIR, else /var/tmp. */
int scratch_open(struct err *e);

/* Full-length positional I/O that retries short transfers and EINTR. */
int pread_full(int fd, void *buf, size_t len, off_t off, struct err *e);
int pwrite_full(int fd, const void *buf, size_t len, off_t off, struct err *e);
/* Reads until len bytes or end of file; returns the count or -1. */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* A sink that appends to a file descriptor through a buffer. */
struct fd_writer {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint64_t total;
};
int fd_writer_init(struct fd_writer *w, int fd, size_t cap, struct err *e);
int fd_writer_flush(struct fd_writer *w, struct err *e);
void fd_writer_free(struct fd_writer *w);
struct sink fd_writer_sink(struct fd_writer *w);

#endif
