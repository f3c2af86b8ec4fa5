#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"

const char *
scratch_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir == NULL || *dir == '\0' ? "/var/tmp" : dir;
}

int
scratch_full(struct err *e, const char *why, uint64_t need, const char *job)
{
	char cause[ERR_MSG_MAX];

	snprintf(cause, sizeof(cause), "%s", why);
	return err_set(e, "the scratch file in %s (TMPDIR): %s; %s needs "
	    "about %llu bytes there: free space on that filesystem, or set "
	    "TMPDIR to one with room", scratch_dir(), cause, job,
	    (unsigned long long)need);
}

int
scratch_open(struct err *e)
{
	const char *dir = scratch_dir();
	int fd;

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
			return err_set(e, "read failed: %s", strerror(errno));
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
			return err_set(e, "write failed: %s", strerror(errno));
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
