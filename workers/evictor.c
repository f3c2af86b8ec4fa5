/* The evictor: tells the master whether a file of the 0-db data directory is
 * still the file that was stored, by its content.
 *
 *   evict_hash {path, checksum}  fd: the file, opened read-only by the master
 *                                result: ok with the file's BLAKE2b-128 when
 *                                it equals checksum (the one stored); not ok
 *                                with it when it differs; not ok without it
 *                                when the file cannot be read
 *
 * The master lists the directory, opens the files and unlinks them: the
 * evictor touches no path at all, so that a directory only root may enter
 * (as 0-db makes it in QSFS) needs nothing from its sandbox. path is for its
 * messages only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blake2b.h"
#include "hex.h"
#include "log.h"
#include "worker.h"

#define HASH_BUF	(1024 * 1024)

static uint8_t	*hash_buf;

/* The BLAKE2b-128 of everything fd holds, read from its start. */
static int
hash_fd(int fd, uint8_t sum[B2_LEN], struct err *e)
{
	struct b2 h;
	off_t off = 0;
	ssize_t n;

	if (hash_buf == NULL && (hash_buf = malloc(HASH_BUF)) == NULL)
		return err_set(e, "out of memory for reading");
	b2_init(&h);
	while ((n = pread(fd, hash_buf, HASH_BUF, off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return err_set(e, "cannot read it: %s",
			    strerror(errno));
		b2_update(&h, hash_buf, (size_t)n);
		off += n;
	}
	b2_final(&h, sum);
	return 0;
}

static int
ev_hash(struct worker *w, struct msg *m, int fd)
{
	const char *path = msg_get_str(m, "path");
	uint8_t *stored, sum[B2_LEN];
	char have[2 * B2_LEN + 1], want[2 * B2_LEN + 1];
	struct msg *r;
	struct err e;
	size_t len;
	int same;

	if (msg_get_hex(m, "checksum", &stored, &len) == -1 || len != B2_LEN) {
		free(stored);
		err_set(&e, "%s: the stored checksum is not %d bytes", path,
		    B2_LEN);
		return worker_result_fail(w, msg_id(m), &e);
	}
	if (hash_fd(fd, sum, &e) == -1) {
		free(stored);
		err_prefix(&e, "%s", path);
		return worker_result_fail(w, msg_id(m), &e);
	}
	same = memcmp(sum, stored, B2_LEN) == 0;
	hex_encode(have, sum, B2_LEN);
	hex_encode(want, stored, B2_LEN);
	free(stored);
	if (same)
		return worker_result_ok(w, msg_id(m), NULL, 0, sum);
	err_set(&e, "%s changed since it was stored (its checksum is %s, the "
	    "stored one %s)", path, have, want);
	if ((r = worker_result(msg_id(m), &e)) == NULL)
		return -1;
	msg_set_hex(r, "checksum", sum, B2_LEN);
	return worker_send(w, r);
}

int
evictor_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	switch (msg_type(m)) {
	case MT_EVICT_HASH:
		return ev_hash(w, m, fds[0]);
	default:
		return worker_refuse(w, m);
	}
}
