/* A sink receives a stream of bytes from one pipeline stage and passes it on to
 * the next (compressor -> encryptor -> scratch file, and back). Returning -1
 * (with e set) stops the stream. */
#ifndef SINK_H
#define SINK_H

#include <stddef.h>

#include "err.h"

struct sink {
	int (*write)(void *ctx, const void *buf, size_t len, struct err *e);
	void	*ctx;
};

static inline int
sink_write(const struct sink *s, const void *buf, size_t len, struct err *e)
{
	return len ? s->write(s->ctx, buf, len, e) : 0;
}

#endif
