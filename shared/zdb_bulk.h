/* A large bulk string of a 0-db reply, read straight into the buffer it is
 * handed over in. hiredis would copy each byte twice on the way (into its
 * reader's buffer, then into the reply string) and move what follows a reply
 * to the front of that buffer after each one: for a retrieve, whose pieces
 * are 2 MiB values, that was a third of the fetching thread's CPU. */
#ifndef ZDB_BULK_H
#define ZDB_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* Smaller values go through hiredis: its copies cost less than a read of
 * their own. Values larger than 0-db stores go there too, and zdb.c bounds
 * what hiredis may hold of them. The fuzz build sets ZBULK_MIN to 1
 * (Makefile). */
#ifndef ZBULK_MIN
#define ZBULK_MIN	(64 * 1024)
#endif
#define ZBULK_MAX	ZDB_VALUE_MAX

struct zbulk {
	uint8_t	*buf;	/* len + 2 bytes: the value and its CRLF */
	size_t	 len;
	size_t	 have;	/* of buf, filled */
};

/* When p starts with the whole header of a bulk string of ZBULK_MIN to
 * ZBULK_MAX bytes ("$<len>\r\n"), allocates its buffer and returns the
 * header's length; 0 when it does not (hiredis reads it), -1 when out of
 * memory. */
long	zbulk_begin(struct zbulk *, const uint8_t *p, size_t n);
/* Bytes still to come. */
size_t	zbulk_room(const struct zbulk *);
/* Copies what belongs to the value of p[0..n); returns how much. */
size_t	zbulk_take(struct zbulk *, const uint8_t *p, size_t n);
/* Once zbulk_room is 0: whether the value ended with its CRLF. The value
 * is then NUL-terminated, as hiredis' strings are. */
int	zbulk_ends_well(struct zbulk *);
void	zbulk_free(struct zbulk *);

#endif
