/* Client mode: send one command to any 0-db (the double or a real one) and
 * print the reply, so shell tests need neither redis-cli nor a scripting
 * language.
 *
 *   zdbd-double --client HOST:PORT|unix:PATH [--raw-hex | --raw]
 *               [--select NS [--password PW]] CMD [ARG...]
 *
 * An argument "@file" sends the file's bytes, "hex:6869" sends decoded bytes.
 * --select first sends SELECT on the same connection, since a new connection
 * always starts in namespace "default". Output: status and bulk replies as they
 * are (bulk as lowercase hex with --raw-hex), nil as "(nil)", integers as
 * numbers, arrays one element per line (nested ones flattened), errors as
 * "(error) text"; --raw prints the reply's exact bytes instead, for
 * byte-for-byte comparisons between servers. Exit: 0 reply, 1 error reply or
 * connection lost, 2 cannot connect, 64 usage. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "zdbd.h"

#define EXIT_REPLY_ERROR	1
#define EXIT_NO_SERVER		2
#define EXIT_USAGE		64

struct reader {
	int	 fd;
	FILE	*tee;		/* --raw: every reply byte goes here */
	size_t	 pos;
	size_t	 len;
	uint8_t	 buf[64 * 1024];
};

struct client_opts {
	const char	*addr;
	const char	*select_ns;
	const char	*password;
	int		 as_hex;
	int		 raw;
	FILE		*out;	/* the readable form; /dev/null with --raw */
};

struct arg {
	const uint8_t	*data;
	size_t		 len;
	uint8_t		*owned;		/* to free, when loaded */
};

static int
read_file(const char *path, struct arg *a)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 ||
	    (a->owned = malloc(st.st_size + 1)) == NULL) {
		fprintf(stderr, "zdbd-double: %s: %s\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, a->owned + got, st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	a->data = a->owned;
	a->len = got;
	return 0;
}

/* "@file", "hex:..." or the bytes of the argument itself. */
static int
arg_load(const char *s, struct arg *a)
{
	size_t n;

	if (s[0] == '@')
		return read_file(s + 1, a);
	if (strncmp(s, "hex:", 4) == 0) {
		n = strlen(s + 4);
		if (n % 2 != 0 || (a->owned = malloc(n / 2 + 1)) == NULL ||
		    hex_decode(a->owned, s + 4, n / 2) == -1) {
			fprintf(stderr, "zdbd-double: bad hex argument: %s\n",
			    s);
			return -1;
		}
		a->data = a->owned;
		a->len = n / 2;
		return 0;
	}
	a->data = (const uint8_t *)s;	/* argv outlives the request */
	a->len = strlen(s);
	return 0;
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT, where HOST may be [v6addr]. */
static int
connect_tcp(const char *addr)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hl;
	int fd = -1, one = 1;

	if (colon == NULL || (hl = (size_t)(colon - addr)) >= sizeof(host))
		return -1;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd != -1 && connect(fd, ai->ai_addr,
		    ai->ai_addrlen) == -1) {
			close(fd);
			fd = -1;
		}
	}
	/* The request goes out in several small writes; without this, Nagle
	 * holds the later ones for the peer's delayed ACK (40 ms a command). */
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(res);
	return fd;
}

/* -1 when the server stopped reading (it may still have answered). */
static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
send_request(int fd, const struct arg *args, int n)
{
	char head[32];
	int i;

	snprintf(head, sizeof(head), "*%d\r\n", n);
	if (write_all(fd, head, strlen(head)) == -1)
		return;
	for (i = 0; i < n; i++) {
		snprintf(head, sizeof(head), "$%zu\r\n", args[i].len);
		if (write_all(fd, head, strlen(head)) == -1 ||
		    write_all(fd, args[i].data, args[i].len) == -1 ||
		    write_all(fd, "\r\n", 2) == -1)
			return;
	}
}

static int
rd_fill(struct reader *r)
{
	ssize_t n;

	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	r->pos = 0;
	r->len = (size_t)n;
	return 0;
}

static int
rd_exact(struct reader *r, uint8_t *dst, size_t n)
{
	size_t take;

	while (n > 0) {
		if (r->pos == r->len && rd_fill(r) == -1)
			return -1;
		take = r->len - r->pos < n ? r->len - r->pos : n;
		memcpy(dst, r->buf + r->pos, take);
		if (r->tee != NULL)
			fwrite(dst, 1, take, r->tee);
		r->pos += take;
		dst += take;
		n -= take;
	}
	return 0;
}

/* One CRLF-terminated line, without the CRLF. */
static int
rd_line(struct reader *r, char *line, size_t cap)
{
	size_t n = 0;
	uint8_t ch;

	for (;;) {
		if (rd_exact(r, &ch, 1) == -1)
			return -1;
		if (ch == '\n' && n > 0 && line[n - 1] == '\r') {
			line[n - 1] = '\0';
			return 0;
		}
		if (n + 1 >= cap)
			return -1;
		line[n++] = (char)ch;
	}
}

static int
print_bulk(struct reader *r, long long len, const struct client_opts *o)
{
	uint8_t *data;
	char *hex = NULL;
	int rc = -1;

	if (len < 0) {
		fprintf(o->out, "(nil)\n");
		return 0;
	}
	if ((data = malloc((size_t)len + 2)) == NULL ||
	    rd_exact(r, data, (size_t)len + 2) == -1)
		goto out;
	if (o->as_hex) {
		if ((hex = malloc((size_t)len * 2 + 1)) == NULL)
			goto out;
		hex_encode(hex, data, (size_t)len);
		fprintf(o->out, "%s\n", hex);
	} else {
		fwrite(data, 1, (size_t)len, o->out);
		fputc('\n', o->out);
	}
	rc = 0;
out:
	free(hex);
	free(data);
	return rc;
}

/* Prints one reply; returns 0, 1 when it held an error, -1 when the connection
 * broke or the reply made no sense. */
static int
print_reply(struct reader *r, const struct client_opts *o)
{
	char line[1024];
	long long n, i;
	int rc = 0, sub;

	if (rd_line(r, line, sizeof(line)) == -1)
		return -1;
	n = strtoll(line + 1, NULL, 10);
	switch (line[0]) {
	case '+':
	case ':':
		fprintf(o->out, "%s\n", line + 1);
		return 0;
	case '-':
		fprintf(o->out, "(error) %s\n", line + 1);
		return 1;
	case '$':
		return print_bulk(r, n, o);
	case '*':
		if (n < 0)
			fprintf(o->out, "(nil)\n");
		for (i = 0; i < n; i++) {
			if ((sub = print_reply(r, o)) == -1)
				return -1;
			rc |= sub;
		}
		return rc;
	}
	return -1;
}

static int
client_usage(void)
{
	fprintf(stderr, "usage: zdbd-double --client HOST:PORT|unix:PATH "
	    "[--raw-hex | --raw]\n"
	    "           [--select NS [--password PW]] CMD [ARG...]\n"
	    "       ARG: text, @file (its contents) or hex:HEX (bytes)\n");
	return EXIT_USAGE;
}

/* Options come before the command; a trailing --raw-hex is taken too. Returns
 * the index of the command word, or -1. */
static int
client_parse(int *argc, char **argv, struct client_opts *o)
{
	int i;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--raw-hex") == 0)
			o->as_hex = 1;
		else if (strcmp(argv[i], "--raw") == 0)
			o->raw = 1;
		else if (i + 1 == *argc)
			break;
		else if (strcmp(argv[i], "--client") == 0)
			o->addr = argv[++i];
		else if (strcmp(argv[i], "--select") == 0)
			o->select_ns = argv[++i];
		else if (strcmp(argv[i], "--password") == 0)
			o->password = argv[++i];
		else
			break;
	}
	if (*argc - i > 1 && strcmp(argv[*argc - 1], "--raw-hex") == 0) {
		o->as_hex = 1;
		(*argc)--;
	}
	if (o->addr == NULL || i >= *argc)
		return -1;
	return i;
}

/* SELECT on this connection before the command. Its "+OK" is not printed, nor
 * teed with --raw: the output is the command's reply alone. */
static int
client_select(struct reader *r, const struct client_opts *o)
{
	struct arg sel[3] = {
		{ (const uint8_t *)"SELECT", 6, NULL },
		{ (const uint8_t *)o->select_ns, strlen(o->select_ns), NULL },
		{ (const uint8_t *)o->password,
		    o->password != NULL ? strlen(o->password) : 0, NULL },
	};
	FILE *tee = r->tee;
	char line[1024];
	int rc;

	send_request(r->fd, sel, o->password != NULL ? 3 : 2);
	r->tee = NULL;
	rc = rd_line(r, line, sizeof(line));
	r->tee = tee;
	if (rc == -1)
		return -1;
	if (line[0] == '+')
		return 0;
	printf("(error) %s\n", line[0] == '-' ? line + 1 : line);
	return 1;
}

static int
client_connect(const char *addr)
{
	if (strncmp(addr, "unix:", 5) == 0)
		return connect_unix(addr + 5);
	return connect_tcp(addr);
}

/* Sends the command and prints the reply: 0 for a reply, 1 for an error reply,
 * -1 when the server hung up first. */
static int
client_exchange(struct reader *r, const struct client_opts *o,
    const struct arg *args, int n)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);	/* a server that hangs up mid-request */
	if (o->select_ns != NULL && (rc = client_select(r, o)) != 0)
		return rc;
	send_request(r->fd, args, n);
	return print_reply(r, o);
}

static void
args_free(struct arg *args, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(args[i].owned);
	free(args);
}

int
client_main(int argc, char **argv)
{
	struct client_opts o = { .out = stdout };
	struct reader r = { .fd = -1 };
	struct arg *args;
	int i, j, n, rc = EXIT_USAGE;

	if ((i = client_parse(&argc, argv, &o)) == -1)
		return client_usage();
	n = argc - i;
	if ((args = calloc((size_t)n, sizeof(*args))) == NULL)
		return EXIT_USAGE;
	for (j = 0; j < n; j++)
		if (arg_load(argv[i + j], &args[j]) == -1)
			goto out;
	if (o.raw) {
		r.tee = stdout;
		if ((o.out = fopen("/dev/null", "w")) == NULL)
			goto out;
	}
	if ((r.fd = client_connect(o.addr)) == -1) {
		fprintf(stderr, "zdbd-double: cannot connect to %s\n", o.addr);
		rc = EXIT_NO_SERVER;
		goto out;
	}
	if ((rc = client_exchange(&r, &o, args, n)) == -1)
		fprintf(stderr, "zdbd-double: %s closed the connection without "
		    "a reply\n", o.addr);
	rc = rc == 0 ? 0 : EXIT_REPLY_ERROR;
out:
	fflush(stdout);
	if (r.fd != -1)
		close(r.fd);
	if (o.out != stdout)
		fclose(o.out);
	args_free(args, n);
	return rc;
}
