/* A stream of frames as a peer may send it on a control or worker socket, read
 * both ways the master and the workers read (frame_reader_feed and frame_next,
 * and frame_recv), and each frame's JSON parsed as a message. The first byte
 * picks the direction (client or worker to the master, master to a worker). */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame.h"
#include "fuzz.h"
#include "msg.h"

static const enum msg_dir dirs[] = {
	MSG_CLIENT_TO_MASTER, MSG_WORKER_TO_MASTER, MSG_MASTER_TO_WORKER
};

/* A socket whose peer sent data, then closed; -1 when it cannot be made. */
static int
stream_of(const uint8_t *data, size_t size)
{
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	/* What the socket buffer does not take is cut: a frame cut short. */
	n = size ? write(sv[1], data, size) : 0;
	(void)n;
	close(sv[1]);
	return sv[0];
}

static void
take(const char *json, size_t len, const int *fds, int nfds, enum msg_dir dir)
{
	struct msg *m;
	struct err e;
	int i;

	if ((m = msg_parse(json, len, dir, &e)) != NULL) {
		(void)msg_check_fds(m, nfds, &e);
		msg_free(m);
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

static void
read_incrementally(int sock, enum msg_dir dir)
{
	struct frame_reader r;
	int fds[IPC_FDS_MAX], nfds, rc, next;
	struct err e;
	size_t len;
	char *json;

	frame_reader_init(&r);
	fcntl(sock, F_SETFL, O_NONBLOCK);
	do {
		if ((rc = frame_reader_feed(&r, sock, &e)) == -1)
			break;
		while ((next = frame_next(&r, &json, &len, fds, &nfds,
		    &e)) == 1) {
			take(json, len, fds, nfds, dir);
			free(json);
		}
	} while (next != -1 && rc == 1 && !r.eof);
	frame_reader_free(&r);
}

static void
read_blocking(int sock, enum msg_dir dir)
{
	int fds[IPC_FDS_MAX], nfds;
	struct err e;
	size_t len;
	char *json;

	while (frame_recv(sock, &json, &len, fds, &nfds, 1000, &e) == 1) {
		take(json, len, fds, nfds, dir);
		free(json);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum msg_dir dir;
	int sock;

	if (size < 1)
		return 0;
	dir = dirs[data[0] % 3];
	if ((sock = stream_of(data + 1, size - 1)) != -1) {
		read_incrementally(sock, dir);
		close(sock);
	}
	if ((sock = stream_of(data + 1, size - 1)) != -1) {
		read_blocking(sock, dir);
		close(sock);
	}
	return 0;
}
