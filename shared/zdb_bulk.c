/* Large bulk strings read without hiredis (zdb_bulk.h). */
#include <stdlib.h>
#include <string.h>

#include "zdb_bulk.h"

#define ZBULK_DIGITS_MAX 10	/* more than ZBULK_MAX has */

long
zbulk_begin(struct zbulk *b, const uint8_t *p, size_t n)
{
	size_t i, len = 0;

	if (n < 2 || p[0] != '$')
		return 0;
	for (i = 1; i < n && i <= ZBULK_DIGITS_MAX && p[i] >= '0' &&
	    p[i] <= '9'; i++)
		len = len * 10 + (size_t)(p[i] - '0');
	/* no digits, a sign, a header cut short: hiredis decides */
	if (i == 1 || i + 1 >= n || p[i] != '\r' || p[i + 1] != '\n')
		return 0;
	if (len < ZBULK_MIN || len > ZBULK_MAX)
		return 0;
	if ((b->buf = malloc(len + 2)) == NULL)
		return -1;
	b->len = len;
	b->have = 0;
	return (long)(i + 2);
}

size_t
zbulk_room(const struct zbulk *b)
{
	return b->len + 2 - b->have;
}

size_t
zbulk_take(struct zbulk *b, const uint8_t *p, size_t n)
{
	size_t k = zbulk_room(b);

	if (k > n)
		k = n;
	memcpy(b->buf + b->have, p, k);
	b->have += k;
	return k;
}

int
zbulk_ends_well(struct zbulk *b)
{
	if (b->buf[b->len] != '\r' || b->buf[b->len + 1] != '\n')
		return 0;
	b->buf[b->len] = '\0';
	return 1;
}

void
zbulk_free(struct zbulk *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->have = 0;
}
