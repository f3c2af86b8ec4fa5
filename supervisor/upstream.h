/* Upstream zstor's client protocol on the control socket (upstream.c). */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "asuser.h"
#include "err.h"
#include "frame.h"
#include "msg.h"

#define UPSTREAM_HDR		2	/* big-endian length */
#define UPSTREAM_SNIFF		FRAME_SNIFF	/* tell the protocols apart */

/* A retrieve written for the client: a temporary file beside the target,
 * renamed into place as the client once the object is verified. */
struct upstream_pending {
	int		 dirfd;		/* the target's directory, O_PATH */
	int		 fd;		/* the temporary file */
	char		 tmp[300];
	char		 name[256];
};

/* The request in body (len bytes, the frame's length) as the message our
 * protocol would carry, without what only the client's filesystem can say
 * (store's key_path, the descriptors): upstream_prepare adds those. */
struct msg	*upstream_parse(const uint8_t *body, size_t len, struct err *e);

/* As who: opens a file to store (and computes its key path), or creates the
 * temporary file of a retrieve (*pend then set); *fd is the descriptor for
 * the job. 0, or -1 with the reason in e. */
int		 upstream_prepare(const struct asuser *who, struct msg *m,
		    int *fd, struct upstream_pending **pend, struct err *e);
/* As who: renames a verified retrieve into place (ok), or removes it; frees
 * pend. A failure of the rename turns ok into an error in e: returns 0 or
 * -1. */
int		 upstream_finish(const struct asuser *who,
		    struct upstream_pending *pend, int ok, struct err *e);

/* Upstream's reply frame into out (at least 1024 bytes): Success, Err(error)
 * or Checksum(sum); returns its length. */
size_t		 upstream_reply(uint8_t *out, size_t cap, int ok,
		    const char *error, const uint8_t *sum);

#endif
