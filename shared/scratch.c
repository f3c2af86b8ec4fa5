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
		return err_set(e,
		    "cannot create a scratch file in %s: %s (set TMPDIR to a "
		    "writable directory with room for the object)", dir,
		    strerror(errno));
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
			return err_set(e, "read of scratch file failed: %s",
			    strerror(errno));
		if (n == 0)
			return err_set(e,
			    "scratch file ended early at offset %lld",
			    (long long)off);
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
			return err_set(e, "write of scratch file failed: %s",
			    strerror(errno));
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
