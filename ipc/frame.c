/* Frames with descriptor passing on stream unix sockets; see frame.h.
 *
 * Where a received descriptor belongs: Linux hands out a message's descriptors
 * with the first read that touches any of its bytes, and that read may also
 * return earlier bytes sent without descriptors. So the readers take a frame's
 * first byte with a read of its own, then the rest of the header, then exactly
 * the body: descriptors that come with the one-byte read were sent on the
 * frame's first byte; descriptors that come with any other read were not. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#define RECV_FDS_MAX	8		/* room for a misbehaving peer's
					 * extras */

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int
frame_len_check(uint64_t len, struct err *e)
{
	if (len == 0)
		return err_set(e,
		    "frame of length 0 (a frame holds one JSON object)");
	if (len > IPC_FRAME_MAX)
		return err_set(e,
		    "frame of %llu bytes is larger than the %d byte limit",
		    (unsigned long long)len, IPC_FRAME_MAX);
	return 0;
}

/* One sendmsg of up to two segments; nfds descriptors ride on its first
 * byte. */
static ssize_t
send_segments(int sock, const void *a, size_t alen, const void *b, size_t blen,
    const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
	} cmsgbuf;
	struct iovec iov[2];
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	iov[0].iov_base = (void *)(uintptr_t)a;
	iov[0].iov_len = alen;
	iov[1].iov_base = (void *)(uintptr_t)b;
	iov[1].iov_len = blen;
	mh.msg_iov = iov;
	mh.msg_iovlen = blen ? 2 : 1;
	if (nfds > 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* Waits for events on sock until the deadline (NULL: none). */
static int
wait_sock(int sock, short events, const struct timespec *deadline,
    struct err *e)
{
	struct pollfd pfd = { .fd = sock, .events = events };
	struct timespec now;
	long long ms;
	int rc;

	for (;;) {
		ms = -1;
		if (deadline != NULL) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
			    (deadline->tv_nsec - now.tv_nsec) / 1000000;
			if (ms < 0)
				ms = 0;
		}
		rc = poll(&pfd, 1, (int)ms);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return err_set(e, "timed out waiting for the peer");
		if (errno != EINTR)
			return err_set(e, "poll: %s", strerror(errno));
	}
}

static int
frame_fds_check(const int *fds, int nfds, struct err *e)
{
	int i;

	if (nfds < 0 || nfds > IPC_FDS_MAX || (nfds > 0 && fds == NULL))
		return err_set(e, "a frame carries 0 to %d file descriptors, "
		    "not %d", IPC_FDS_MAX, nfds);
	for (i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return err_set(e, "descriptor %d of a frame is %d", i,
			    fds[i]);
	return 0;
}

int
frame_send(int sock, const char *json, size_t len, const int *fds, int nfds,
    struct err *e)
{
	uint8_t hdr[IPC_FRAME_HDR];
	size_t total = IPC_FRAME_HDR + len, sent = 0;
	ssize_t n;

	if (frame_len_check(len, e) == -1 ||
	    frame_fds_check(fds, nfds, e) == -1)
		return -1;
	put_be32(hdr, (uint32_t)len);
	while (sent < total) {
		if (sent < IPC_FRAME_HDR)
			n = send_segments(sock, hdr + sent,
			    IPC_FRAME_HDR - sent, json, len, fds,
			    sent == 0 ? nfds : 0);
		else
			n = send_segments(sock, json + (sent - IPC_FRAME_HDR),
			    total - sent, NULL, 0, NULL, 0);
		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_sock(sock, POLLOUT, NULL, e) == -1)
				return -1;
			continue;
		}
		return err_set(e, "cannot send a frame: %s", strerror(errno));
	}
	return 0;
}

static void
close_fds(const int *fds, int nfds)
{
	int i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* One recvmsg into buf. Descriptors land in fds (close-on-exec); a peer that
 * sent more than fit is reported through *truncated (the kernel closed
 * those). */
static ssize_t
recv_with_fds(int sock, void *buf, size_t len, int *fds, int *nfds,
    int *truncated)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * RECV_FDS_MAX)];
	} cmsgbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	size_t i, count;
	int fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	*nfds = 0;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return n;
	*truncated = (mh.msg_flags & MSG_CTRUNC) != 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (*nfds < RECV_FDS_MAX)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* Accepts at most IPC_FDS_MAX descriptors per recvmsg; closes the rest. */
static int
check_fd_count(int *fds, int nfds, int truncated, struct err *e)
{
	if (nfds <= IPC_FDS_MAX && !truncated)
		return 0;
	close_fds(fds, nfds);
	return err_set(e, "a frame carried %s%d file descriptors (at most %d "
	    "are allowed)", truncated ? "more than " : "", nfds, IPC_FDS_MAX);
}

static void
deadline_after(struct timespec *deadline, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

void
frame_reader_init(struct frame_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void
frame_reader_limit(struct frame_reader *r, size_t max)
{
	r->max = max;
}

void
frame_reader_free(struct frame_reader *r)
{
	struct frame_done *d;
	size_t max;

	while (r->qcount > 0) {
		d = &r->q[r->qhead];
		free(d->json);
		close_fds(d->fds, d->nfds);
		r->qhead = (r->qhead + 1) % FRAME_READER_QUEUE;
		r->qcount--;
	}
	free(r->body);
	close_fds(r->fds, r->nfds);
	max = r->max;
	frame_reader_init(r);
	r->max = max;
}

/* The header is in: check the length and make room for the body. */
static int
reader_start_body(struct frame_reader *r, struct err *e)
{
	uint32_t n = get_be32(r->hdr);

	if (frame_len_check(n, e) == -1)
		return -1;
	if (r->max != 0 && n > r->max)
		return err_set(e, "frame of %u bytes is larger than the %zu "
		    "bytes this reader takes", n, r->max);
	if ((r->body = malloc((size_t)n + 1)) == NULL)
		return err_set(e, "out of memory for a %u byte frame", n);
	r->blen = n;
	r->got = 0;
	return 0;
}

/* The frame is complete: queue it and start on the next one. */
static void
reader_finish_frame(struct frame_reader *r)
{
	struct frame_done *d = &r->q[(r->qhead + r->qcount) %
	    FRAME_READER_QUEUE];

	r->body[r->blen] = '\0';
	d->json = r->body;
	d->len = r->blen;
	memcpy(d->fds, r->fds, sizeof(d->fds));
	d->nfds = r->nfds;
	r->qcount++;
	r->body = NULL;
	r->hlen = r->blen = r->got = 0;
	r->nfds = 0;
}

int
frame_is_upstream(const uint8_t *b)
{
	return b[3] == 0 && b[4] == 0;
}

ssize_t
frame_recv_some(int sock, void *buf, size_t len, int fds[IPC_FDS_MAX],
    int *nfds, struct err *e)
{
	int got[RECV_FDS_MAX], truncated;
	ssize_t n;

	*nfds = 0;
	n = recv_with_fds(sock, buf, len, got, nfds, &truncated);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			err_set(e, "cannot receive: %s", strerror(errno));
		*nfds = 0;
		return -1;
	}
	if (check_fd_count(got, *nfds, truncated, e) == -1) {
		*nfds = 0;
		errno = EPROTO;		/* not "try again" */
		return -1;
	}
	memcpy(fds, got, sizeof(int) * (size_t)*nfds);
	return n;
}

int
frame_reader_preload(struct frame_reader *r, const uint8_t *p, size_t n,
    const int *fds, int nfds, struct err *e)
{
	size_t take;

	memcpy(r->fds, fds, sizeof(int) * (size_t)nfds);
	r->nfds = nfds;
	while (n > 0) {
		if (r->hlen < IPC_FRAME_HDR) {
			r->hdr[r->hlen++] = *p++;
			n--;
			if (r->hlen == IPC_FRAME_HDR &&
			    reader_start_body(r, e) == -1)
				return -1;
		} else {
			take = r->blen - r->got < n ? r->blen - r->got : n;
			memcpy(r->body + r->got, p, take);
			r->got += take;
			p += take;
			n -= take;
		}
		if (r->hlen == IPC_FRAME_HDR && r->got == r->blen) {
			if (n > 0)
				return err_set(e, "bytes after the frame");
			reader_finish_frame(r);
		}
	}
	return 0;
}

enum reader_step { STEP_READ, STEP_EMPTY, STEP_EOF };

/* One read that stops at the end of the current piece: the frame's first byte,
 * the rest of its header, or its body. Returns a reader_step or -1. */
static int
reader_step(struct frame_reader *r, int sock, struct err *e)
{
	int fds[RECV_FDS_MAX], nfds, truncated, first = r->hlen == 0;
	uint8_t *dst;
	size_t want;
	ssize_t n;

	if (r->hlen < IPC_FRAME_HDR) {
		dst = r->hdr + r->hlen;
		want = first ? 1 : IPC_FRAME_HDR - r->hlen;
	} else {
		dst = (uint8_t *)r->body + r->got;
		want = r->blen - r->got;
	}
	n = recv_with_fds(sock, dst, want, fds, &nfds, &truncated);
	if (n < 0) {
		if (errno == EINTR)
			return STEP_READ;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return STEP_EMPTY;
		return err_set(e, "cannot receive a frame: %s",
		    strerror(errno));
	}
	if (check_fd_count(fds, nfds, truncated, e) == -1)
		return -1;
	if (nfds > 0 && !first) {
		close_fds(fds, nfds);
		return err_set(e,
		    "a file descriptor arrived in the middle of a "
		    "frame (it must come with the frame's first byte)");
	}
	if (nfds > 0) {
		memcpy(r->fds, fds, sizeof(int) * (size_t)nfds);
		r->nfds = nfds;
	}
	if (n == 0) {
		r->eof = 1;
		return STEP_EOF;
	}
	if (r->hlen < IPC_FRAME_HDR) {
		r->hlen += (size_t)n;
		if (r->hlen == IPC_FRAME_HDR && reader_start_body(r, e) == -1)
			return -1;
	} else
		r->got += (size_t)n;
	if (r->hlen == IPC_FRAME_HDR && r->got == r->blen)
		reader_finish_frame(r);
	return STEP_READ;
}

/* Reads until max_frames are queued, the socket is empty or the stream ends. */
static int
reader_fill(struct frame_reader *r, int sock, size_t max_frames, struct err *e)
{
	int rc;

	while (r->qcount < max_frames && !r->eof) {
		if ((rc = reader_step(r, sock, e)) == -1)
			return -1;
		if (rc == STEP_EMPTY)
			return 1;
	}
	return r->eof ? 0 : 1;
}

int
frame_reader_feed(struct frame_reader *r, int sock, struct err *e)
{
	return reader_fill(r, sock, FRAME_READER_QUEUE, e);
}

int
frame_next(struct frame_reader *r, char **json, size_t *len,
    int fds[IPC_FDS_MAX], int *nfds, struct err *e)
{
	struct frame_done *d;

	*json = NULL;
	*len = 0;
	*nfds = 0;
	if (r->qcount == 0) {
		if (r->eof && r->hlen > 0)
			return err_set(e, "peer closed the connection in the "
			    "middle of a frame");
		return 0;
	}
	d = &r->q[r->qhead];
	*json = d->json;
	*len = d->len;
	memcpy(fds, d->fds, sizeof(d->fds));
	*nfds = d->nfds;
	memset(d, 0, sizeof(*d));
	r->qhead = (r->qhead + 1) % FRAME_READER_QUEUE;
	r->qcount--;
	return 1;
}

/* The reader machinery, one frame at a time, so nothing past it is read. */
int
frame_recv(int sock, char **json, size_t *len, int fds[IPC_FDS_MAX],
    int *nfds, int timeout_ms, struct err *e)
{
	struct frame_reader r;
	struct timespec deadline;
	int rc;

	*json = NULL;
	*len = 0;
	*nfds = 0;
	if (timeout_ms >= 0)
		deadline_after(&deadline, timeout_ms);
	frame_reader_init(&r);
	while ((rc = reader_fill(&r, sock, 1, e)) == 1 && r.qcount == 0) {
		if (wait_sock(sock, POLLIN, timeout_ms >= 0 ? &deadline : NULL,
		    e) == -1) {
			rc = err_prefix(e, "no complete frame");
			break;
		}
	}
	if (rc != -1)
		rc = frame_next(&r, json, len, fds, nfds, e);
	frame_reader_free(&r);
	return rc;
}

void
frame_writer_init(struct frame_writer *w)
{
	memset(w, 0, sizeof(*w));
}

static void
frame_out_drop(struct frame_out *o)
{
	close_fds(o->fds, o->nfds);
	free(o->bytes);
	memset(o, 0, sizeof(*o));
}

void
frame_writer_free(struct frame_writer *w)
{
	while (w->count > 0) {
		frame_out_drop(&w->q[w->head]);
		w->head = (w->head + 1) % FRAME_WRITER_MAX;
		w->count--;
	}
	w->head = 0;
}

int
frame_writer_push(struct frame_writer *w, const char *json, size_t len,
    const int *fds, int nfds, struct err *e)
{
	struct frame_out *o;
	int i;

	if (frame_len_check(len, e) == -1 ||
	    frame_fds_check(fds, nfds, e) == -1)
		return -1;
	if (w->count == FRAME_WRITER_MAX)
		return err_set(e,
		    "%d frames already wait for the peer (it is not "
		    "reading)", FRAME_WRITER_MAX);
	o = &w->q[(w->head + w->count) % FRAME_WRITER_MAX];
	memset(o, 0, sizeof(*o));
	for (i = 0; i < nfds; i++, o->nfds++)
		if ((o->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
			err_set(e, "cannot duplicate fd %d for a frame: %s",
			    fds[i], strerror(errno));
			frame_out_drop(o);
			return -1;
		}
	if ((o->bytes = malloc(IPC_FRAME_HDR + len)) == NULL) {
		frame_out_drop(o);
		return err_set(e, "out of memory for a %zu byte frame", len);
	}
	put_be32(o->bytes, (uint32_t)len);
	memcpy(o->bytes + IPC_FRAME_HDR, json, len);
	o->len = IPC_FRAME_HDR + len;
	w->count++;
	return 0;
}

int
frame_writer_flush(struct frame_writer *w, int sock, struct err *e)
{
	struct frame_out *o;
	ssize_t n;

	while (w->count > 0) {
		o = &w->q[w->head];
		n = send_segments(sock, o->bytes + o->off, o->len - o->off,
		    NULL, 0, o->fds, o->off == 0 ? o->nfds : 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return err_set(e, "cannot send a frame: %s",
			    strerror(errno));
		}
		o->off += (size_t)n;
		if (n > 0 && o->nfds > 0) {
			close_fds(o->fds, o->nfds);
			o->nfds = 0;
		}
		if (o->off == o->len) {
			frame_out_drop(o);
			w->head = (w->head + 1) % FRAME_WRITER_MAX;
			w->count--;
		}
	}
	return 1;
}

int
frame_writer_pending(const struct frame_writer *w)
{
	return w->count > 0;
}
