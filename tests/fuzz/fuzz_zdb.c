/* 0-db replies (RESP) as the 0-db client reads them. A server thread answers
 * the client's connection with the input's bytes, whatever was asked, then
 * closes; the client opens the backend (PING, NSINFO, SELECT) and runs a few
 * pipelined operations. The first byte picks the namespace mode (bit 0),
 * whether a namespace is selected (bit 1) and how many operations follow
 * (bits 2-4); the rest is the byte stream of replies. */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "fuzz.h"

#define TIMEOUT_MS	2000

static struct sockaddr_un where;
static int listener = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *cur;	/* the reply stream of the input being run */
static size_t cur_len;
static unsigned gen, served_gen;

/* The first connection of an input gets the replies; any later one (the
 * client reconnects after a broken connection, and the harness's own end
 * marker) is closed at once. Connections are taken in order, so when the
 * marker is closed the input's bytes are no longer in use. */
static void *
serve(void *arg)
{
	uint8_t buf[4096];
	const uint8_t *p;
	size_t len = 0;
	ssize_t n;
	int c;

	(void)arg;
	for (;;) {
		if ((c = accept(listener, NULL, NULL)) == -1)
			continue;
		pthread_mutex_lock(&mu);
		p = served_gen != gen ? cur : NULL;
		len = cur_len;
		served_gen = gen;
		pthread_mutex_unlock(&mu);
		for (; p != NULL && len > 0; p += n, len -= (size_t)n)
			if ((n = write(c, p, len)) <= 0)
				break;
		shutdown(c, SHUT_WR);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	return NULL;
}

static void
remove_socket(void)
{
	unlink(where.sun_path);
}

void
fuzz_setup(void)
{
	pthread_t t;

	signal(SIGPIPE, SIG_IGN);
	where.sun_family = AF_UNIX;
	snprintf(where.sun_path, sizeof(where.sun_path),
	    "/tmp/zstor-fuzz-zdb.%d", (int)getpid());
	unlink(where.sun_path);
	if ((listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(listener, (struct sockaddr *)&where, sizeof(where)) == -1 ||
	    listen(listener, 64) == -1 ||
	    pthread_create(&t, NULL, serve, NULL) != 0) {
		perror("fuzz_zdb: listening socket");
		exit(1);
	}
	atexit(remove_socket);
}

/* Connects and waits until the server closes: every earlier connection has
 * been served. */
static void
wait_served(void)
{
	char c;
	int s;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	if (connect(s, (struct sockaddr *)&where, sizeof(where)) == 0)
		while (read(s, &c, 1) > 0)
			;
	close(s);
}

static void
run_ops(struct backend *b, enum ns_mode mode, unsigned nops)
{
	static const enum bop_kind seq[] = { BOP_SEQ_SET, BOP_GET, BOP_DEL,
	    BOP_NSINFO, BOP_PING, BOP_GET, BOP_SEQ_SET };
	static const enum bop_kind user[] = { BOP_KEY_SET, BOP_GET, BOP_SCAN,
	    BOP_DEL, BOP_NSINFO, BOP_SCAN, BOP_PING };
	static const uint8_t key[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	struct bop ops[7];
	unsigned i;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < nops && i < 7; i++) {
		ops[i].b = b;
		ops[i].kind = mode == NS_SEQUENTIAL ? seq[i] : user[i];
		ops[i].key = key;
		ops[i].keylen = sizeof(key);
		ops[i].val = "value";
		ops[i].vallen = 5;
		if (ops[i].kind == BOP_SCAN && i == 2)
			ops[i].key = NULL, ops[i].keylen = 0;
	}
	backend_run(ops, i, TIMEOUT_MS);
	for (i = 0; i < nops && i < 7; i++) {
		free(ops[i].out);
		if (ops[i].kind == BOP_SCAN)
			scan_batch_free(&ops[i].scan);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ns_mode mode;
	struct backend_ci ci;
	struct backend *b;
	struct err e;
	char addr[sizeof(where.sun_path) + 8];

	if (size < 1)
		return 0;
	mode = data[0] & 1 ? NS_USERKEY : NS_SEQUENTIAL;
	memset(&ci, 0, sizeof(ci));
	snprintf(addr, sizeof(addr), "unix:%s", where.sun_path);
	if (zaddr_parse(addr, &ci.addr, &e) == -1)
		abort();
	ci.ns = data[0] & 2 ? (char *)(uintptr_t)"fuzz" : NULL;
	pthread_mutex_lock(&mu);
	cur = data + 1;
	cur_len = size - 1;
	gen++;
	pthread_mutex_unlock(&mu);
	if ((b = backend_open(&ci, mode, TIMEOUT_MS, &e)) != NULL) {
		run_ops(b, mode, (unsigned)(data[0] >> 2 & 7));
		backend_close(b);
	}
	wait_served();
	return 0;
}
