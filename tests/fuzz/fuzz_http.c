/* The metrics endpoint as a client reaches it: the master's own evhttp server
 * (metrics_http.c, with its limits and handler) on a unix socket, fed the
 * input as one client's bytes, then the client's end of the stream. The
 * server must answer with HTTP or close, close the connection once the
 * client has gone, leave no connection counted behind it, and a 200 is
 * the metrics. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "metrics.h"
#include "metrics_http.h"

#define REPLY_MAX	(256 * 1024)
#define WAIT_SECS	3	/* far below the server's own timeouts */

static struct event_base	*base;
static struct sockaddr_un	 where;
static char			 reply[REPLY_MAX];

static void
remove_socket(void)
{
	unlink(where.sun_path);
}

void
fuzz_setup(void)
{
	struct err e;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fuzz_broken("no event base");
	metrics_init(metrics_table, MF_FAMILIES);
	metric_inc(MX(MF_STORE_FINISHED, "true"), 3);
	metric_observe(MX(MF_COMMAND_SECONDS, "store"), 0.25);
	where.sun_family = AF_UNIX;
	snprintf(where.sun_path, sizeof(where.sun_path),
	    "/tmp/zstor-fuzz-http.%d", (int)getpid());
	unlink(where.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&where,
	    sizeof(where)) == -1 || listen(fd, 16) == -1)
		fuzz_broken("cannot listen on a unix socket in /tmp");
	atexit(remove_socket);
	if (metrics_http_start(base, &e) == -1 ||
	    metrics_http_accept(fd, &e) == -1)
		fuzz_broken(e.msg);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends data, then the end of the client's stream, and reads what the
 * server says until it closes; the reply's length, or -1 when the server
 * kept the connection. */
static long
exchange(const uint8_t *data, size_t size)
{
	size_t sent = 0, got = 0;
	int fd, eof_sent = 0;
	double until = now() + WAIT_SECS;
	ssize_t n = 0;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || connect(fd, (struct sockaddr *)&where,
	    sizeof(where)) == -1)
		fuzz_broken("cannot connect to the server");
	while (now() < until) {
		if (sent < size && (n = write(fd, data + sent, size - sent)) >
		    0)
			sent += (size_t)n;
		if ((sent == size || (n == -1 && errno == EPIPE)) &&
		    !eof_sent++)
			shutdown(fd, SHUT_WR);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		metrics_http_sweep();
		n = read(fd, reply + got,
		    got < REPLY_MAX ? REPLY_MAX - got : 0);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;	/* closed (or reset) by the server */
	}
	close(fd);
	return now() < until ? (long)got : -1;
}

static void __attribute__((noreturn))
broken_reply(const char *what, long len)
{
	fprintf(stderr, "fuzz: the reply (%ld bytes): %.*s\n", len,
	    (int)(len < 400 ? len : 400), reply);
	fuzz_broken(what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long len;
	int i;

	if ((len = exchange(data, size)) == -1)
		fuzz_broken("the server kept a connection after its client "
		    "went away");
	for (i = 0; i < 100 && metrics_http_connections() > 0; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		metrics_http_sweep();
	}
	if (metrics_http_connections() != 0)
		fuzz_broken("a closed connection is still counted");
	/* evhttp answers a request it refuses itself in the version the
	 * request named, even "HTTP/0.1": only "HTTP/" is certain */
	if (len > 0 && (len < 9 || memcmp(reply, "HTTP/", 5) != 0))
		broken_reply("the server wrote something other than HTTP",
		    len);
	if (len >= 12 && memcmp(reply + 9, "200", 3) == 0 &&
	    memmem(reply, (size_t)len, "version=0.0.4", 13) == NULL)
		broken_reply("a 200 reply is not the metrics", len);
	return 0;
}
