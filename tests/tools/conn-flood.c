/* Opens many connections to a unix socket and holds them, for the daemon's
 * resource-limit tests: idle ones that never send a byte, and slow writers
 * that send a frame header and the body's first byte, then one byte a second.
 *
 *   conn-flood [--idle N] [--slow N] [--slow-len BYTES] [--hold SECS] SOCKET
 *
 * Slow writers connect first. Prints "ready: N connected, N refused" once
 * every connection is made (refused: the daemon answered or closed it at
 * once), then holds them for --hold seconds (default 30) or until SIGTERM,
 * and prints "done: N still open". Raises its own RLIMIT_NOFILE as needed.
 * "Connected" counts what the daemon neither answered nor closed yet, which
 * includes connections still waiting in its listen backlog. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv);

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
dial(const char *path)
{
	struct sockaddr_un sun;
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/* Open, and the daemon has neither answered nor closed it. */
static int
still_open(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

int
main(int argc, char **argv)
{
	long idle = 0, slow = 0, slow_len = 65536, hold = 30, i, n, open_n;
	struct rlimit rl;
	unsigned char hdr[5];
	int *fds, a;
	time_t end;

	for (a = 1; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		long v = strtol(argv[a + 1], NULL, 0);

		if (strcmp(argv[a], "--idle") == 0)
			idle = v;
		else if (strcmp(argv[a], "--slow") == 0)
			slow = v;
		else if (strcmp(argv[a], "--slow-len") == 0)
			slow_len = v;
		else if (strcmp(argv[a], "--hold") == 0)
			hold = v;
		else
			break;
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: conn-flood [--idle N] [--slow N] "
		    "[--slow-len BYTES] [--hold SECS] SOCKET\n");
		return 2;
	}
	n = idle + slow;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;	/* as root */
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			perror("conn-flood: RLIMIT_NOFILE");
			return 1;
		}
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	if ((fds = calloc((size_t)n + 1, sizeof(int))) == NULL)
		return 1;
	hdr[0] = (unsigned char)(slow_len >> 24);
	hdr[1] = (unsigned char)(slow_len >> 16);
	hdr[2] = (unsigned char)(slow_len >> 8);
	hdr[3] = (unsigned char)slow_len;
	hdr[4] = '{';		/* the body's first byte: the frame is ours */
	for (i = 0; i < n; i++) {
		if ((fds[i] = dial(argv[a])) == -1) {
			fprintf(stderr, "conn-flood: connection %ld: %s\n", i,
			    strerror(errno));
			continue;
		}
		if (i < slow)
			(void)!write(fds[i], hdr, sizeof(hdr));
	}
	for (i = 0, open_n = 0; i < n; i++)
		open_n += fds[i] != -1 && still_open(fds[i]);
	printf("ready: %ld connected, %ld refused\n", open_n, n - open_n);
	fflush(stdout);
	end = time(NULL) + hold;
	while (!stop && time(NULL) < end) {
		for (i = 0; i < slow; i++)
			if (fds[i] != -1)
				(void)!send(fds[i], "{", 1, MSG_NOSIGNAL |
				    MSG_DONTWAIT);
		sleep(1);
	}
	for (i = 0, open_n = 0; i < n; i++)
		open_n += fds[i] != -1 && still_open(fds[i]);
	printf("done: %ld still open\n", open_n);
	fflush(stdout);
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
	return 0;
}
