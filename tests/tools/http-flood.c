/* Many slow or broken HTTP clients at once against the metrics endpoint.
 *
 *   http-flood HOST PORT N SECS
 *
 * Opens N connections, one client kind after the other:
 *   trickle   sends "GET /metrics HTTP/1.1" one byte every 200 ms
 *   idle      connects and sends nothing
 *   noread    sends a whole request and never reads the reply
 *   slowread  sends a whole request and reads 64 bytes a second
 * and keeps them for SECS seconds (or until the server closes them). Prints
 * "opened O closed_by_server C answered A" and exits 0; 1 when it could not
 * run. A client the server closes is not reopened. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv);

enum kind { K_TRICKLE, K_IDLE, K_NOREAD, K_SLOWREAD, K_KINDS };

struct client {
	int		 fd;
	enum kind	 kind;
	size_t		 sent;
	int		 answered;
	int		 closed;
	double		 next;		/* when it may act again */
};

static const char request[] =
    "GET /metrics HTTP/1.1\r\nHost: flood\r\nUser-Agent: http-flood\r\n\r\n";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_client(const struct addrinfo *ai)
{
	int fd, rc;

	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	/* A server at its limit leaves clients in its backlog, or beyond it
	 * unanswered: the connection completes later, or never. */
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc == -1 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One step of client c at time t. */
static void
client_step(struct client *c, double t)
{
	char buf[65536];
	size_t want;
	ssize_t n;

	if (c->closed || t < c->next)
		return;
	if (c->kind != K_IDLE && c->sent < sizeof(request) - 1) {
		want = c->kind == K_TRICKLE ? 1 : sizeof(request) - 1 - c->sent;
		n = write(c->fd, request + c->sent, want);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != ENOTCONN)
			c->closed = 1;
		c->next = t + (c->kind == K_TRICKLE ? 0.2 : 0);
		return;
	}
	if (c->kind == K_NOREAD || c->kind == K_IDLE)
		return;
	n = read(c->fd, buf, c->kind == K_SLOWREAD ? 64 : sizeof(buf));
	if (n > 0) {
		if (n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
			c->answered = 1;
		c->next = t + (c->kind == K_SLOWREAD ? 1.0 : 0);
	} else if (n == 0 || (errno != EAGAIN && errno != ENOTCONN))
		c->closed = 1;
}

/* Whether the server closed an idle or non-reading client (a read sees
 * EOF or a reset; the data it sent, if any, is drained first). */
static void
client_probe(struct client *c)
{
	char buf[4096];
	ssize_t n;

	if (c->closed || (c->kind != K_IDLE && c->kind != K_NOREAD))
		return;
	if (c->kind == K_NOREAD && c->sent < sizeof(request) - 1)
		return;
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != ENOTCONN))
		c->closed = 1;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints, *ai;
	struct client *cl;
	int n, i, opened = 0, closed = 0, answered = 0;
	double end, t;

	signal(SIGPIPE, SIG_IGN);	/* a client the server closed */
	if (argc != 5) {
		fprintf(stderr, "usage: http-flood HOST PORT N SECS\n");
		return 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
		fprintf(stderr, "http-flood: cannot resolve %s\n", argv[1]);
		return 1;
	}
	n = atoi(argv[3]);
	end = now() + atof(argv[4]);
	if (n <= 0 || (cl = calloc((size_t)n, sizeof(*cl))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		cl[i].kind = (enum kind)(i % K_KINDS);
		if ((cl[i].fd = open_client(ai)) == -1)
			cl[i].closed = 1;
		else
			opened++;
	}
	while ((t = now()) < end) {
		for (i = 0; i < n; i++) {
			client_step(&cl[i], t);
			client_probe(&cl[i]);
		}
		poll(NULL, 0, 20);
	}
	for (i = 0; i < n; i++) {
		closed += cl[i].closed && cl[i].fd != -1;
		answered += cl[i].answered;
		if (cl[i].fd != -1)
			close(cl[i].fd);
	}
	printf("opened %d closed_by_server %d answered %d\n", opened, closed,
	    answered);
	freeaddrinfo(ai);
	free(cl);
	return 0;
}
