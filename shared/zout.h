/* The 0-db client's output to one connection: commands in RESP, queued in
 * order and written with writev. A large value (a 2 MiB piece) is sent from
 * its caller's buffer, which must stay untouched until zout_pending is 0 or
 * zout_clear; only the headers are copied. hiredis would copy each value
 * twice into its output buffer and shift it after every partial write. */
#ifndef ZOUT_H
#define ZOUT_H

#include <stddef.h>

struct zseg {
	const char	*p;
	size_t		 len;
	char		*own;	/* malloc'd bytes p points into, or NULL */
};

struct zout {
	struct zseg	*v;
	size_t		 n, head, cap;
	size_t		 queued;	/* bytes not written yet */
};

/* Values of at least this many bytes are not copied. */
#define ZOUT_DIRECT_MIN	(16 * 1024)

/* Queues one command; -1 without memory. */
int	zout_cmd(struct zout *o, int argc, const char *const *argv,
	    const size_t *lens);
/* Writes what the socket takes now: 0, or -1 with errno set on an error
 * (EAGAIN is not one). */
int	zout_write(struct zout *o, int fd);
size_t	zout_pending(const struct zout *o);
/* Forgets everything queued. */
void	zout_clear(struct zout *o);

#endif
