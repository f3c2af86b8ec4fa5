/* Sends one hand-made, possibly malformed, frame to a zstor-master control
 * socket and says what came back, for the daemon's protocol tests.
 *
 *   send-frame [options] SOCKET BODY
 *     BODY            the frame's JSON text (with --hex: hex digits of any
 *                     bytes)
 *     --hex           BODY is hex, for invalid UTF-8 and NUL bytes
 *     --len N         the header says N instead of BODY's length
 *     --raw           no header: BODY alone
 *     --fd PATH       a descriptor of PATH on the frame's first byte (repeat
 *                     for two); opened read-write when allowed, else
 *                     read-only
 *     --fd-late PATH  a descriptor of PATH on the frame's second byte
 *     --cut N         send only the first N bytes of the frame
 *     --eof           then shut down the writing side (a frame cut short)
 *     --timeout MS    how long to wait for an answer (default 10000)
 *     --raw-reply     print the answer's bytes as hex ("bytes HEX"), whatever
 *                     their framing, up to the daemon's close (upstream's
 *                     protocol)
 *
 * Prints "reply JSON" followed by "then closed" or "then open", or "closed"
 * when the daemon hung up without an answer. Exit 0 for those, 3 when nothing
 * happened before the timeout (a daemon that waits forever is a bug too), 2 on
 * bad usage, 1 when the socket cannot be reached. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "hex.h"

#define MAX_FDS		2
#define AFTER_REPLY_MS	1000

int main(int argc, char **argv);

struct sender {
	const char	*sock_path;
	uint8_t		*frame;		/* header (unless raw) and body */
	size_t		 len;
	size_t		 cut;		/* bytes to send */
	int		 fds[MAX_FDS];
	int		 nfds;
	int		 late_fd;
	int		 eof;
	int		 raw_reply;
	int		 timeout_ms;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: send-frame [--hex] [--len N] [--raw] [--fd PATH]... "
	    "[--fd-late PATH] [--cut N] [--eof] [--timeout MS] [--raw-reply] "
	    "SOCKET BODY\n");
	exit(2);
}

static int
open_fd(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "send-frame: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

/* The frame's bytes: header with the real or the forced length, then body. */
static void
build_frame(struct sender *s, const char *body, int is_hex, int raw,
    long long forced_len)
{
	size_t blen = is_hex ? strlen(body) / 2 : strlen(body);
	size_t hlen = raw ? 0 : IPC_FRAME_HDR;
	uint32_t n = forced_len >= 0 ? (uint32_t)forced_len : (uint32_t)blen;

	if ((s->frame = malloc(hlen + blen + 1)) == NULL)
		exit(1);
	if (!raw) {
		s->frame[0] = (uint8_t)(n >> 24);
		s->frame[1] = (uint8_t)(n >> 16);
		s->frame[2] = (uint8_t)(n >> 8);
		s->frame[3] = (uint8_t)n;
	}
	if (is_hex && (strlen(body) % 2 != 0 ||
	    hex_decode(s->frame + hlen, body, blen) < 0))
		usage();
	if (!is_hex)
		memcpy(s->frame + hlen, body, blen);
	s->len = hlen + blen;
}

static void
parse_args(struct sender *s, int argc, char **argv)
{
	long long forced_len = -1, cut = -1;
	int i, is_hex = 0, raw = 0;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--hex") == 0)
			is_hex = 1;
		else if (strcmp(a, "--raw") == 0)
			raw = 1;
		else if (strcmp(a, "--eof") == 0)
			s->eof = 1;
		else if (strcmp(a, "--raw-reply") == 0)
			s->raw_reply = 1;
		else if (v == NULL)
			usage();
		else if (strcmp(a, "--len") == 0)
			forced_len = strtoll(v, NULL, 0), i++;
		else if (strcmp(a, "--cut") == 0)
			cut = strtoll(v, NULL, 0), i++;
		else if (strcmp(a, "--timeout") == 0)
			s->timeout_ms = atoi(v), i++;
		else if (strcmp(a, "--fd") == 0 && s->nfds < MAX_FDS)
			s->fds[s->nfds++] = open_fd(v), i++;
		else if (strcmp(a, "--fd-late") == 0)
			s->late_fd = open_fd(v), i++;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	s->sock_path = argv[i];
	build_frame(s, argv[i + 1], is_hex, raw, forced_len);
	s->cut = cut >= 0 && (size_t)cut < s->len ? (size_t)cut : s->len;
}

/* One sendmsg of len bytes with nfds descriptors. Errors are not fatal: the
 * daemon may hang up early, and what it said before that still counts. */
static int
send_part(int sock, const uint8_t *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (len == 0)
		return 0;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Byte 0 with --fd, byte 1 with --fd-late, then the rest up to the cut. */
static void
send_frame(const struct sender *s, int sock)
{
	size_t first = s->cut < 1 ? s->cut : 1,
	    second = s->cut < 2 ? s->cut : 2;

	if (send_part(sock, s->frame, first, s->fds, s->nfds) == 0 &&
	    send_part(sock, s->frame + first, second - first, &s->late_fd,
	    s->late_fd >= 0) == 0)
		(void)send_part(sock, s->frame + second, s->cut - second, NULL,
		    0);
	if (s->eof)
		shutdown(sock, SHUT_WR);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (sock < 0 || connect(sock, (struct sockaddr *)&sun,
	    sizeof(sun)) < 0) {
		fprintf(stderr, "send-frame: connect %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	return sock;
}

/* frame_recv's error for a peer that said nothing in time. */
static int
is_timeout(const struct err *e)
{
	return strstr(e->msg, "timed out") != NULL;
}

static int
report_answer(int sock, int timeout_ms)
{
	int fds[IPC_FDS_MAX], nfds = 0, rc;
	struct err e;
	char *json;
	size_t len;

	rc = frame_recv(sock, &json, &len, fds, &nfds, timeout_ms, &e);

	if (rc < 0 && is_timeout(&e)) {
		printf("timeout: no answer in %d ms\n", timeout_ms);
		return 3;
	}
	if (rc <= 0) {
		printf("closed%s%s\n", rc < 0 ? ": " : "", rc < 0 ? e.msg : "");
		return 0;
	}
	printf("reply %s\n", json);
	free(json);
	while (nfds > 0)
		close(fds[--nfds]);
	rc = frame_recv(sock, &json, &len, fds, &nfds, AFTER_REPLY_MS, &e);
	printf("then %s\n", rc == 0 || (rc < 0 && !is_timeout(&e)) ? "closed" :
	    "open");
	if (rc == 1)
		free(json);
	while (nfds > 0)
		close(fds[--nfds]);
	return 0;
}

/* Every byte until the peer closes, as hex; "timeout" when it never does. */
static int
report_raw(int sock, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint8_t buf[4096];
	ssize_t n;

	printf("bytes ");
	for (;;) {
		if (poll(&p, 1, timeout_ms) != 1) {
			printf("\ntimeout: no close in %d ms\n", timeout_ms);
			return 3;
		}
		if ((n = read(sock, buf, sizeof(buf))) <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			printf("%02x", buf[i]);
	}
	printf("\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct sender s = { .late_fd = -1, .timeout_ms = 10000 };

	int sock, rc;

	parse_args(&s, argc, argv);
	sock = connect_to(s.sock_path);
	send_frame(&s, sock);
	rc = s.raw_reply ? report_raw(sock, s.timeout_ms) :
	    report_answer(sock, s.timeout_ms);
	close(sock);
	free(s.frame);
	return rc;
}
