/* A stand-in for upstream zstor's daemon, for our client's test: listens on a
 * unix socket, takes one connection and reads the 2-byte length upstream's
 * daemon reads, then either hangs up at once, leaving the rest unread (what
 * upstream does with a frame it cannot decode: the client sees a reset), or
 * answers with the given bytes (an upstream reply, or frames of our protocol
 * made by hand) and hangs up.
 *
 *   fake-upstream SOCKET close
 *   fake-upstream SOCKET reply HEX
 *
 * Prints "listening" once the socket is bound; exits after one connection. */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t hdr[2], reply[512];
	int s, c, reply_len = 0;

	if (argc < 3 || (strcmp(argv[2], "reply") == 0 && (argc != 4 ||
	    strlen(argv[3]) > 2 * sizeof(reply) ||
	    hex_decode(reply, argv[3], strlen(argv[3]) / 2) < 0))) {
		fprintf(stderr, "usage: fake-upstream SOCKET close | reply "
		    "HEX\n");
		return 2;
	}
	if (strcmp(argv[2], "reply") == 0)
		reply_len = (int)strlen(argv[3]) / 2;
	strncpy(sun.sun_path, argv[1], sizeof(sun.sun_path) - 1);
	unlink(argv[1]);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(s, 1) == -1) {
		perror("fake-upstream");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	if ((c = accept(s, NULL, NULL)) == -1)
		return 1;
	if (read(c, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && reply_len > 0)
		(void)!write(c, reply, (size_t)reply_len);
	close(c);
	close(s);
	unlink(argv[1]);
	return 0;
}
