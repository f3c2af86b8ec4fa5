/* Frames on a stream unix socket, between the client and zstor-master and
 * between the master and its workers.
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of one
 * UTF-8 JSON object; the length is 1 .. IPC_FRAME_MAX. A frame carries at most
 * IPC_FDS_MAX file descriptors, in the order given, sent with SCM_RIGHTS on the
 * frame's first byte (so that a job and its scratch file are one message).
 *
 * Two ways to read: frame_recv() blocks for exactly one frame (the client and
 * simple workers), frame_reader_feed()/frame_next() read incrementally without
 * blocking (the master's event loop). Both read a frame's first byte on its own
 * and never read past a frame's end: that is how they know a descriptor came
 * with the first byte, and it lets a socket pass from one to the other between
 * frames. frame_send() blocks until the frame is written; frame_writer_*()
 * queue frames for an event loop.
 *
 * After any -1 from a reading function the stream is out of step: close it. */
#ifndef FRAME_H
#define FRAME_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define IPC_FRAME_HDR		4
#define IPC_FRAME_MAX		(1024 * 1024)
#define FRAME_READER_QUEUE	16	/* complete frames one feed may hold */
#define FRAME_WRITER_MAX	64	/* frames queued on one writer */
#define IPC_FDS_MAX		2	/* descriptors one frame may carry */
/* Jobs the master gives one worker at once: one, or up to this many to a
 * metawriter, which answers them in batches (workers/metawriter.c). */
#define IPC_JOBS_HELD_MAX	8

/* Writes one frame with nfds descriptors (fds may be NULL for none); waits
 * while the socket is full, also when it is non-blocking. The caller keeps its
 * descriptors. */
int	frame_send(int sock, const char *json, size_t len, const int *fds,
	    int nfds, struct err *e);

/* Reads one frame, waiting at most timeout_ms in all (-1: no limit). Returns 1
 * with *json a malloc'd NUL-terminated copy (free it) and fds[0 .. *nfds-1]
 * the frame's descriptors, now the caller's; 0 when the peer closed the
 * connection between frames; -1 on a socket error, a protocol error or the
 * deadline. */
int	frame_recv(int sock, char **json, size_t *len, int fds[IPC_FDS_MAX],
	    int *nfds, int timeout_ms, struct err *e);

struct frame_done {
	char		*json;
	size_t		 len;
	int		 fds[IPC_FDS_MAX];
	int		 nfds;
};

struct frame_reader {
	/* the frame being read */
	uint8_t			 hdr[IPC_FRAME_HDR];
	size_t			 hlen;
	char			*body;
	size_t			 blen;
	size_t			 got;
	/* with its first byte */
	int			 fds[IPC_FDS_MAX];
	int			 nfds;
	struct frame_done	 q[FRAME_READER_QUEUE];	/* complete frames */
	size_t			 qhead;
	size_t			 qcount;
	int			 eof;
	/* the largest frame taken; 0: IPC_FRAME_MAX */
	size_t			 max;
};

void	frame_reader_init(struct frame_reader *r);
/* Frames longer than max (at most IPC_FRAME_MAX) are a protocol error: a
 * reader for peers whose frames are small holds no more than that. */
void	frame_reader_limit(struct frame_reader *r, size_t max);
/* Frees frames and closes descriptors that no frame_next() handed out. */
void	frame_reader_free(struct frame_reader *r);
/* Reads what the socket holds without blocking, up to FRAME_READER_QUEUE
 * complete frames. Returns 1 when it read or nothing was ready (wait for the
 * next readable event), 0 when the peer closed the connection, -1 on a socket
 * or protocol error (bad length, more than IPC_FDS_MAX fds for a frame, an fd
 * not on a frame's first byte). After 1 or 0, call frame_next() until it
 * returns 0. */
int	frame_reader_feed(struct frame_reader *r, int sock, struct err *e);
/* Returns 1 with the next complete frame (*json malloc'd and NUL-terminated,
 * fds[0 .. *nfds-1] its descriptors, all now the caller's), 0 when more bytes
 * are needed or the stream ended cleanly between frames, -1 on a protocol
 * error (including a stream that ended in the middle of a frame). */
int	frame_next(struct frame_reader *r, char **json, size_t *len,
	    int fds[IPC_FDS_MAX], int *nfds, struct err *e);
/* For a reader that must see a stream's first bytes before it knows which
 * framing it speaks (the control socket: ours or upstream's). The first
 * FRAME_SNIFF bytes of a stream are upstream zstor's framing (a 2-byte length,
 * then a bincode u32 tag whose high bytes are 0), not ours (a 4-byte length,
 * then a JSON object, which never holds a NUL byte).
 *
 * frame_recv_some is one non-blocking read of at most len bytes, with the
 * descriptors that came with them in fds[0 .. *nfds-1]; -1 with errno EAGAIN
 * or EINTR when nothing is there, -1 with e set (and another errno) on an
 * error, else the bytes read (0: end of stream). frame_reader_preload hands
 * bytes so read, and the descriptors of the first, to the reader as if it
 * had read them itself. */
#define FRAME_SNIFF	5
int	frame_is_upstream(const uint8_t *b);
ssize_t	frame_recv_some(int sock, void *buf, size_t len, int fds[IPC_FDS_MAX],
	    int *nfds, struct err *e);
int	frame_reader_preload(struct frame_reader *r, const uint8_t *p, size_t n,
	    const int *fds, int nfds, struct err *e);

/* Outgoing frames for an event loop: push queues a copy of the frame and
 * duplicates of its descriptors (the caller keeps its own); flush writes what
 * the socket takes. */
struct frame_out {
	uint8_t		*bytes;	/* header and JSON */
	size_t		 len;
	size_t		 off;	/* bytes already written */
	int		 fds[IPC_FDS_MAX];	/* go with the first byte, */
	int		 nfds;			/* then closed */
};

struct frame_writer {
	struct frame_out	 q[FRAME_WRITER_MAX];
	size_t			 head;
	size_t			 count;
};

void	frame_writer_init(struct frame_writer *w);
/* Drops unsent frames and closes their descriptors. */
void	frame_writer_free(struct frame_writer *w);
int	frame_writer_push(struct frame_writer *w, const char *json, size_t len,
	    const int *fds, int nfds, struct err *e);
/* Returns 1 when the queue is empty, 0 when the socket is full and frames wait
 * (ask for a writable event), -1 on a socket error. */
int	frame_writer_flush(struct frame_writer *w, int sock, struct err *e);
int	frame_writer_pending(const struct frame_writer *w);

#endif
