#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"

int
scratch_open(struct err *e)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/var/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, "cannot create a scratch file in %s: %s (set TMPDIR to a "
		    "writable directory with room for the object)", dir, strerror(errno));
	return fd;
}

int
pread_full(int fd, void *buf, size_t len, off_t off, struct err *e)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, "read of scratch file failed: %s", strerror(errno));
		if (n == 0)
			return err_set(e, "scratch file ended early at offset %lld", (long long)off);
		p += n, len -= (size_t)n, off += n;
	}
	return 0;
}

int
pwrite_full(int fd, const void *buf, size_t len, off_t off, struct err *e)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, "write of scratch file failed: %s", strerror(errno));
		p += n, len -= (size_t)n, off += n;
	}
	return 0;
}

ssize_t
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

int
fd_writer_init(struct fd_writer *w, int fd, size_t cap, struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->cap = cap;
	w->buf = malloc(cap);
	if (w->buf == NULL)
		return err_set(e, "out of memory for a %zu-byte write buffer", cap);
	return 0;
}

int
fd_writer_flush(struct fd_writer *w, struct err *e)
{
	if (w->len && write_full(w->fd, w->buf, w->len) < 0)
		return err_set(e, "write failed: %s", strerror(errno));
	w->len = 0;
	return 0;
}

void
fd_writer_free(struct fd_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}

static int
fd_writer_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct fd_writer *w = ctx;
	const uint8_t *p = buf;

	w->total += len;
	if (len >= w->cap) {
		if (fd_writer_flush(w, e) < 0)
			return -1;
		if (write_full(w->fd, p, len) < 0)
			return err_set(e, "write failed: %s", strerror(errno));
		return 0;
	}
	if (w->len + len > w->cap && fd_writer_flush(w, e) < 0)
		return -1;
	memcpy(w->buf + w->len, p, len);
	w->len += len;
	return 0;
}

struct sink
fd_writer_sink(struct fd_writer *w)
{
	struct sink s = { fd_writer_write, w };

	return s;
}
