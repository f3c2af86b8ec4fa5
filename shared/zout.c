#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zout.h"

#define ZOUT_IOV	64	/* segments per writev */

static int
zout_add(struct zout *o, const char *p, size_t len, char *own)
{
	struct zseg *v;
	size_t cap;

	if (o->n == o->cap) {
		cap = o->cap ? 2 * o->cap : 16;
		if ((v = reallocarray(o->v, cap, sizeof(*v))) == NULL) {
			free(own);
			return -1;
		}
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n].p = p;
	o->v[o->n].len = len;
	o->v[o->n++].own = own;
	o->queued += len;
	return 0;
}

int
zout_cmd(struct zout *o, int argc, const char *const *argv,
    const size_t *lens)
{
	int direct = argc > 0 && lens[argc - 1] >= ZOUT_DIRECT_MIN, i;
	size_t room = 16;
	char *buf, *p;

	for (i = 0; i < argc; i++)
		room += 24 + (direct && i == argc - 1 ? 0 : lens[i] + 2);
	if ((p = buf = malloc(room)) == NULL)
		return -1;
	p += sprintf(p, "*%d\r\n", argc);
	for (i = 0; i < argc; i++) {
		p += sprintf(p, "$%zu\r\n", lens[i]);
		if (direct && i == argc - 1)
			break;
		memcpy(p, argv[i], lens[i]);
		p += lens[i];
		memcpy(p, "\r\n", 2);
		p += 2;
	}
	if (zout_add(o, buf, (size_t)(p - buf), buf) < 0)
		return -1;
	if (direct && (zout_add(o, argv[argc - 1], lens[argc - 1], NULL) < 0 ||
	    zout_add(o, "\r\n", 2, NULL) < 0))
		return -1;
	return 0;
}

int
zout_write(struct zout *o, int fd)
{
	struct iovec iov[ZOUT_IOV];
	struct zseg *s;
	ssize_t w;
	size_t k, n;

	while (o->head < o->n) {
		for (k = o->head, n = 0; k < o->n && n < ZOUT_IOV; k++, n++) {
			iov[n].iov_base = (void *)(uintptr_t)o->v[k].p;
			iov[n].iov_len = o->v[k].len;
		}
		if ((w = writev(fd, iov, (int)n)) < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		o->queued -= (size_t)w;
		while (w > 0) {
			s = &o->v[o->head];
			if ((size_t)w < s->len) {
				s->p += w, s->len -= (size_t)w;
				break;
			}
			w -= (ssize_t)s->len;
			free(s->own);
			o->head++;
		}
	}
	o->head = o->n = 0;
	return 0;
}

size_t
zout_pending(const struct zout *o)
{
	return o->queued;
}

void
zout_clear(struct zout *o)
{
	size_t k;

	for (k = o->head; k < o->n; k++)
		free(o->v[k].own);
	free(o->v);
	memset(o, 0, sizeof(*o));
}
