/* Frames over socketpairs and the strict message table. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "msg.h"
#include "msg_impl.h"
#include "t.h"

int main(void);

static void
pair(int sv[2], int nonblock)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0) |
	    SOCK_CLOEXEC, 0, sv) == -1) {
		perror("socketpair");
		exit(2);
	}
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static int
temp_file(void)
{
	char path[] = "/tmp/zstor-test-ipc.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	return fd;
}

static int
same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Writes raw bytes with nfds copies of fd attached (0: none). */
static void
send_raw(int sock, const void *buf, size_t len, int fd, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };
	struct msghdr mh;
	struct cmsghdr *c;
	int fds[4] = { fd, fd, fd, fd };

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(sock, &mh, 0) != (ssize_t)len) {
		perror("sendmsg");
		exit(2);
	}
}

static size_t
make_frame(uint8_t *out, const char *json)
{
	size_t n = strlen(json);

	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	memcpy(out + 4, json, n);
	return n + 4;
}

/* The one-descriptor shape of most tests (fd -1: none) over the frame calls,
 * which take up to IPC_FDS_MAX; a frame with more than one fails here. */
static int
one_fd(int rc, const int *fds, int nfds, int *fd, struct err *e)
{
	int i;

	*fd = nfds > 0 ? fds[0] : -1;
	if (nfds <= 1)
		return rc;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	*fd = -1;
	return err_set(e, "%d descriptors where one was expected", nfds);
}

static int
send1(int sock, const char *json, size_t len, int fd, struct err *e)
{
	return frame_send(sock, json, len, &fd, fd >= 0, e);
}

static int
recv1(int sock, char **json, size_t *len, int *fd, int timeout_ms,
    struct err *e)
{
	int fds[IPC_FDS_MAX], nfds = 0, rc;

	rc = frame_recv(sock, json, len, fds, &nfds, timeout_ms, e);
	return one_fd(rc, fds, nfds, fd, e);
}

static int
next1(struct frame_reader *r, char **json, size_t *len, int *fd, struct err *e)
{
	int fds[IPC_FDS_MAX], nfds = 0, rc;

	rc = frame_next(r, json, len, fds, &nfds, e);
	return one_fd(rc, fds, nfds, fd, e);
}

static int
push1(struct frame_writer *w, const char *json, size_t len, int fd,
    struct err *e)
{
	return frame_writer_push(w, json, len, &fd, fd >= 0, e);
}

/* Feeds and then takes one frame; the first -1 wins. */
static int
feed_next(struct frame_reader *r, int sock, char **json, size_t *len, int *fd,
    struct err *e)
{
	int rc = frame_reader_feed(r, sock, e);

	if (rc == -1)
		return -1;
	return next1(r, json, len, fd, e);
}

static void
test_round_trip(void)
{
	struct frame_reader r;
	struct err e = { "" };
	char *json;
	size_t len;
	int sv[2], fd, file = temp_file();

	pair(sv, 0);
	T_CHECK(send1(sv[0], "{\"a\":1}", 7, -1, &e) == 0, "send: %s", e.msg);
	T_CHECK(recv1(sv[1], &json, &len, &fd, 1000, &e) == 1, "recv: %s",
	    e.msg);
	T_CHECK(json && len == 7 && strcmp(json, "{\"a\":1}") == 0 && fd == -1,
	    "round trip without fd");
	free(json);

	T_CHECK(send1(sv[0], "{\"b\":2}", 7, file, &e) == 0, "send fd: %s",
	    e.msg);
	T_CHECK(recv1(sv[1], &json, &len, &fd, 1000, &e) == 1, "recv fd: %s",
	    e.msg);
	T_CHECK(fd >= 0 && same_file(fd, file),
	    "received fd is not the same file");
	T_CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "received fd not cloexec");
	T_CHECK(json && strcmp(json, "{\"b\":2}") == 0,
	    "round trip with fd: body");
	free(json);
	close(fd);

	/* The same through the incremental reader. */
	frame_reader_init(&r);
	T_CHECK(send1(sv[0], "{\"c\":3}", 7, file, &e) == 0, "send: %s", e.msg);
	T_CHECK(feed_next(&r, sv[1], &json, &len, &fd, &e) == 1, "reader: %s",
	    e.msg);
	T_CHECK(fd >= 0 && same_file(fd, file) && json &&
	    strcmp(json, "{\"c\":3}") == 0, "reader round trip with fd");
	free(json);
	if (fd >= 0)
		close(fd);
	close(sv[0]);
	T_CHECK(frame_reader_feed(&r, sv[1], &e) == 0, "reader sees EOF");
	T_CHECK(next1(&r, &json, &len, &fd, &e) == 0,
	    "clean EOF between frames");
	T_CHECK(recv1(sv[1], &json, &len, &fd, 100, &e) == 0,
	    "frame_recv clean EOF");
	frame_reader_free(&r);
	close(sv[1]);
	close(file);
}

static void
test_byte_by_byte(void)
{
	struct frame_reader r;
	struct err e = { "" };
	uint8_t buf[64];
	size_t n = make_frame(buf, "{\"split\":true}"), i, len;
	char *json = NULL;
	int sv[2], fd = -1, file = temp_file(), rc = 0, early = 0;

	pair(sv, 1);
	frame_reader_init(&r);
	for (i = 0; i < n; i++) {
		send_raw(sv[0], buf + i, 1, file, i == 0);
		rc = feed_next(&r, sv[1], &json, &len, &fd, &e);
		if (i + 1 < n && rc != 0)
			early = 1;
	}
	T_CHECK(!early, "frame_next returned a frame early or failed: %s",
	    e.msg);
	T_CHECK(rc == 1 && json && strcmp(json, "{\"split\":true}") == 0,
	    "byte-by-byte frame: rc %d %s", rc, e.msg);
	T_CHECK(fd >= 0 && same_file(fd, file), "byte-by-byte fd");
	free(json);
	if (fd >= 0)
		close(fd);
	frame_reader_free(&r);

	/* The blocking receiver gets the same bytes split the same way. */
	for (i = 0; i < n; i++)
		send_raw(sv[0], buf + i, 1, file, i == 0);
	rc = recv1(sv[1], &json, &len, &fd, 1000, &e);
	T_CHECK(rc == 1 && fd >= 0 && same_file(fd, file),
	    "frame_recv split: %s", e.msg);
	free(json);
	if (fd >= 0)
		close(fd);
	close(sv[0]);
	close(sv[1]);
	close(file);
}

static void
test_two_in_one_write(void)
{
	struct frame_reader r;
	struct err e = { "" };
	uint8_t buf[128];
	size_t n = make_frame(buf, "{\"one\":1}"), len;
	char *a = NULL, *b = NULL, *c = NULL;
	int sv[2], fd1, fd2, fd3, file = temp_file();

	n += make_frame(buf + n, "{\"two\":2}");
	pair(sv, 1);
	frame_reader_init(&r);
	send_raw(sv[0], buf, n, -1, 0);
	T_CHECK(frame_reader_feed(&r, sv[1], &e) == 1, "feed: %s", e.msg);
	T_CHECK(next1(&r, &a, &len, &fd1, &e) == 1 &&
	    strcmp(a, "{\"one\":1}") == 0, "first of two frames");
	T_CHECK(next1(&r, &b, &len, &fd2, &e) == 1 &&
	    strcmp(b, "{\"two\":2}") == 0, "second of two frames");
	T_CHECK(next1(&r, &c, &len, &fd3, &e) == 0, "no third frame");
	free(a);
	free(b);

	/* A frame, then one with an fd, in one read: the fd is the second's. */
	send_raw(sv[0], buf, 13, -1, 0);
	send_raw(sv[0], buf + 13, n - 13, file, 1);
	T_CHECK(frame_reader_feed(&r, sv[1], &e) == 1, "feed: %s", e.msg);
	T_CHECK(frame_reader_feed(&r, sv[1], &e) == 1, "feed: %s", e.msg);
	a = b = NULL;
	T_CHECK(next1(&r, &a, &len, &fd1, &e) == 1 && fd1 == -1,
	    "fd went to the wrong frame");
	T_CHECK(next1(&r, &b, &len, &fd2, &e) == 1 && same_file(fd2, file),
	    "fd lost: %s", e.msg);
	free(a);
	free(b);
	if (fd2 >= 0)
		close(fd2);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
	close(file);
}

/* Bytes that must make both readers fail with an error containing want. */
static void
expect_bad_stream(const char *what, const uint8_t *bytes, size_t n,
    int close_after, const char *want)
{
	struct frame_reader r;
	struct err e = { "" };
	char *json = NULL;
	size_t len;
	int sv[2], fd, rc, i;

	for (i = 0; i < 2; i++) {
		pair(sv, 0);
		send_raw(sv[0], bytes, n, -1, 0);
		if (close_after)
			close(sv[0]);
		e.msg[0] = '\0';
		if (i == 0) {
			frame_reader_init(&r);
			do {
				rc = feed_next(&r, sv[1], &json, &len, &fd, &e);
			} while (rc == 0 && !r.eof);
			frame_reader_free(&r);
		} else
			rc = recv1(sv[1], &json, &len, &fd, 1000, &e);
		T_CHECK(rc == -1 && strstr(e.msg, want) != NULL,
		    "%s (%s): rc %d, error \"%s\"", what,
		    i ? "frame_recv" : "reader", rc, e.msg);
		if (!close_after)
			close(sv[0]);
		close(sv[1]);
	}
}

static void
test_bad_lengths(void)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, '{', '}' };
	static const uint8_t huge[] = { 0, 0x10, 0, 1, '{', '}' };
	static const uint8_t cut[] = { 0, 0, 0, 10, '{', '"', 'a' };
	static const uint8_t hdr_cut[] = { 0, 0 };
	struct err e = { "" };

	expect_bad_stream("length 0", zero, sizeof(zero), 0, "length 0");
	expect_bad_stream("length > 1 MiB", huge, sizeof(huge), 0,
	    "larger than");
	expect_bad_stream("EOF mid-frame", cut, sizeof(cut), 1,
	    "peer closed the connection in the middle of a frame");
	expect_bad_stream("EOF mid-header", hdr_cut, sizeof(hdr_cut), 1,
	    "peer closed the connection in the middle of a frame");
	T_CHECK(send1(0, "x", 0, -1, &e) == -1, "frame_send accepts length 0");
	T_CHECK(send1(0, "x", IPC_FRAME_MAX + 1, -1, &e) == -1,
	    "frame_send accepts more than 1 MiB");
}

static void
test_fd_errors(void)
{
	struct frame_reader r;
	struct err e = { "" };
	uint8_t buf[64];
	size_t n = make_frame(buf, "{\"x\":1}"), len;
	char *json = NULL;
	int sv[2], fd, rc, file = temp_file(), before;

	before = count_fds();
	pair(sv, 1);
	frame_reader_init(&r);
	send_raw(sv[0], buf, n, file, 3);
	rc = feed_next(&r, sv[1], &json, &len, &fd, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "at most 2"), "three fds: %d %s", rc,
	    e.msg);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
	T_CHECK(count_fds() == before,
	    "three fds in a frame leaked a descriptor");

	pair(sv, 1);
	frame_reader_init(&r);
	send_raw(sv[0], buf, 2, -1, 0);
	send_raw(sv[0], buf + 2, n - 2, file, 1);
	rc = feed_next(&r, sv[1], &json, &len, &fd, &e);
	if (rc == 0)
		rc = feed_next(&r, sv[1], &json, &len, &fd, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "middle of a frame"),
	    "fd on byte 2: %s", e.msg);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
	T_CHECK(count_fds() == before, "fd mid-frame leaked a descriptor");

	pair(sv, 0);
	send_raw(sv[0], buf, n, file, 4);
	rc = recv1(sv[1], &json, &len, &fd, 1000, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "at most 2"),
	    "frame_recv four fds: %s", e.msg);
	close(sv[0]);
	close(sv[1]);
	T_CHECK(count_fds() == before, "frame_recv leaked a descriptor");
	close(file);
}

static void
test_timeout(void)
{
	struct timespec t0, t1;
	struct err e = { "" };
	char *json;
	size_t len;
	int sv[2], fd, rc;
	long ms;

	pair(sv, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = recv1(sv[1], &json, &len, &fd, 150, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	T_CHECK(rc == -1 && strstr(e.msg, "timed out"), "timeout: %d %s", rc,
	    e.msg);
	T_CHECK(ms >= 140 && ms < 2000, "timeout took %ld ms", ms);
	/* A frame that stops halfway times out too. */
	send_raw(sv[0], "\0\0\0\x05{", 5, -1, 0);
	rc = recv1(sv[1], &json, &len, &fd, 100, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "timed out"),
	    "partial frame timeout: %s", e.msg);
	close(sv[0]);
	close(sv[1]);
}

/* A 1 MiB frame through a full socket: the writer queues, the reader drains. */
static void
test_writer_big(void)
{
	struct frame_writer w;
	struct frame_reader r;
	struct err e = { "" };
	char *big = malloc(IPC_FRAME_MAX), *json = NULL;
	size_t len = 0;
	int sv[2], fd = -1, got = 0, flushed = 0, rounds = 0,
	    file = temp_file();

	memset(big, ' ', IPC_FRAME_MAX);
	big[0] = '{';
	big[IPC_FRAME_MAX - 1] = '}';
	pair(sv, 1);
	frame_writer_init(&w);
	frame_reader_init(&r);
	T_CHECK(push1(&w, big, IPC_FRAME_MAX, file, &e) == 0, "push: %s",
	    e.msg);
	T_CHECK(push1(&w, "{}", 2, -1, &e) == 0, "push: %s", e.msg);
	T_CHECK(frame_writer_flush(&w, sv[0], &e) == 0,
	    "1 MiB fit in a socket buffer?");
	while (got < 2 && rounds++ < 100000) {
		flushed = frame_writer_flush(&w, sv[0], &e);
		if (frame_reader_feed(&r, sv[1], &e) == -1)
			break;
		while (next1(&r, &json, &len, &fd, &e) == 1) {
			if (got++ == 0)
				T_CHECK(len == IPC_FRAME_MAX &&
				    same_file(fd, file) &&
				    memcmp(json, big, len) == 0,
				    "1 MiB frame content");
			else
				T_CHECK(len == 2 && fd == -1,
				    "small frame after the big one");
			if (fd >= 0)
				close(fd);
			free(json);
		}
	}
	T_CHECK(got == 2 && flushed == 1 && !frame_writer_pending(&w),
	    "writer/reader: got %d flushed %d: %s", got, flushed, e.msg);
	frame_writer_free(&w);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
	close(file);
	free(big);
}

/* The blocking sender with a frame bigger than the socket buffer. */
static void
test_send_big(void)
{
	struct err e = { "" };
	char *big = malloc(IPC_FRAME_MAX), *json = NULL;
	size_t len = 0;
	int sv[2], fd, rc, status;
	pid_t pid;

	memset(big, 'x', IPC_FRAME_MAX);
	pair(sv, 0);
	if ((pid = fork()) == 0) {
		close(sv[1]);
		_exit(send1(sv[0], big, IPC_FRAME_MAX, -1, &e) == 0 ? 0 : 1);
	}
	close(sv[0]);
	rc = recv1(sv[1], &json, &len, &fd, 5000, &e);
	T_CHECK(rc == 1 && len == IPC_FRAME_MAX && memcmp(json, big, len) == 0,
	    "1 MiB blocking frame: %s", e.msg);
	waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "big sender failed");
	free(json);
	free(big);
	close(sv[1]);
}

static cJSON *
sample_json(enum msg_kind kind)
{
	cJSON *j;

	if (kind == MSG_ARRAY) {
		j = cJSON_CreateArray();
		cJSON_AddItemToArray(j, cJSON_CreateString("10.0.0.1:9900"));
		cJSON_AddItemToArray(j, cJSON_CreateNumber(7));
	} else {
		j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "entries", 12);
	}
	return j;
}

static const uint8_t sample_hex[] = { 0x00, 0xab, 0xff, 0x10 };

static void
set_sample(struct msg *m, const struct msg_field *f)
{
	switch (f->kind) {
	case MSG_STR:
		msg_set_str(m, f->name, "/data/caf\xc3\xa9 \"quoted\"\n");
		break;
	case MSG_BOOL:
		msg_set_bool(m, f->name, 1);
		break;
	case MSG_INT:
		msg_set_int(m, f->name, -((1LL << 53) - 1));
		break;
	case MSG_U64:
		msg_set_u64(m, f->name, UINT64_MAX);
		break;
	case MSG_HEX:
		msg_set_hex(m, f->name, sample_hex, sizeof(sample_hex));
		break;
	default:
		msg_set_json(m, f->name, sample_json(f->kind));
	}
}

static int
check_sample(const struct msg *m, const struct msg_field *f)
{
	const cJSON *j;
	uint8_t *hex;
	uint64_t u;
	size_t n;
	int ok;

	switch (f->kind) {
	case MSG_STR:
		return strcmp(msg_get_str(m, f->name),
		    "/data/caf\xc3\xa9 \"quoted\"\n") == 0;
	case MSG_BOOL:
		return msg_get_bool(m, f->name) == 1;
	case MSG_INT:
		return msg_get_int(m, f->name) == -((1LL << 53) - 1);
	case MSG_U64:
		return msg_get_u64(m, f->name, &u) == 0 && u == UINT64_MAX;
	case MSG_HEX:
		ok = msg_get_hex(m, f->name, &hex, &n) == 0 &&
		    n == sizeof(sample_hex) && memcmp(hex, sample_hex, n) == 0;
		free(hex);
		return ok;
	default:
		j = msg_get_json(m, f->name);
		return j != NULL &&
		    (f->kind == MSG_ARRAY ? cJSON_GetArraySize(j) == 2 :
		    cJSON_GetObjectItem(j, "entries") != NULL);
	}
}

/* Builds the message with all fields (all = 1) or the required ones only. */
static void
round_trip_def(enum msg_type t, int all)
{
	const struct msg_def *d = msg_table_entry(t);
	struct err e = { "" };
	struct msg *m, *back;
	char *json;
	size_t len, i;
	int ok = 1;

	m = msg_new(t, 12345, &e);
	T_CHECK(m != NULL, "msg_new %s: %s", d->type, e.msg);
	if (m == NULL)
		return;
	for (i = 0; i < MSG_FIELDS_MAX && d->fields[i].name; i++)
		if (all || d->fields[i].required)
			set_sample(m, &d->fields[i]);
	json = msg_encode(m, &len, &e);
	T_CHECK(json != NULL, "encode %s: %s", d->type, e.msg);
	back = json ? msg_parse(json, len, d->dir, &e) : NULL;
	T_CHECK(back != NULL, "parse %s: %s (%s)", d->type, e.msg,
	    json ? json : "");
	if (back != NULL) {
		T_CHECK(msg_type(back) == t &&
		    strcmp(msg_type_name(back), d->type) == 0 &&
		    msg_id(back) == 12345, "%s: type or id changed", d->type);
		for (i = 0; i < MSG_FIELDS_MAX && d->fields[i].name; i++) {
			if (!all && !d->fields[i].required)
				T_CHECK(!msg_has(back, d->fields[i].name),
				    "%s.%s present", d->type,
				    d->fields[i].name);
			else if (!check_sample(back, &d->fields[i]))
				ok = 0;
		}
		T_CHECK(ok, "%s: a field did not round-trip", d->type);
	}
	msg_free(back);
	free(json);
	msg_free(m);
}

static void
test_table_round_trip(void)
{
	const struct msg_def *d, *d2;
	struct err e = { "" };
	struct msg *m;
	size_t i, j, n = 0, len;
	char *json;

	for (i = 0; (d = msg_table_entry(i)) != NULL; i++, n++) {
		for (j = 0; (d2 = msg_table_entry(j)) != NULL; j++)
			T_CHECK(i == j || strcmp(d->type, d2->type) != 0,
			    "type %s twice in the table", d->type);
		for (j = 0; j < MSG_FIELDS_MAX && d->fields[j].name; j++)
			T_CHECK(strcmp(d->fields[j].name, "type") &&
			    strcmp(d->fields[j].name, "id") &&
			    strcmp(d->fields[j].name, "v"),
			    "%s uses a header name as a field", d->type);
		round_trip_def((enum msg_type)i, 1);
		round_trip_def((enum msg_type)i, 0);
		m = msg_new((enum msg_type)i, 1, &e);
		for (j = 0; j < MSG_FIELDS_MAX && d->fields[j].name; j++)
			if (d->fields[j].required)
				break;
		if (j < MSG_FIELDS_MAX && d->fields[j].name) {
			json = msg_encode(m, &len, &e);
			T_CHECK(json == NULL &&
			    strstr(e.msg, "missing required field"),
			    "%s built without %s", d->type, d->fields[j].name);
			free(json);
		}
		msg_free(m);
	}
	T_CHECK(n == MSG_TYPES && n >= 16,
	    "table has %zu messages, msg_types.h %d", n, MSG_TYPES);
}

static int	is_fatal(void (*)(const struct msg *), const struct msg *);

static void
new_unknown(const struct msg *unused)
{
	struct err e;

	(void)unused;
	(void)msg_new(MSG_TYPES, 1, &e);
}

static void
test_builder_misuse(void)
{
	struct err e = { "" };
	struct msg *m;
	size_t len;
	char *json;

	T_CHECK(is_fatal(new_unknown, NULL), "built an unknown type");
	T_CHECK(msg_new(MT_STATUS, -1, &e) == NULL, "built a negative id");
	T_CHECK(msg_new(MT_STATUS, (1LL << 53) + 1, &e) == NULL,
	    "built an id > 2^53");

	m = msg_new(MT_CHECK, 1, &e);
	T_CHECK(msg_set_bool(m, "path", 1) == -1, "set bool on a string field");
	msg_set_str(m, "path", "/a");	/* too late: the first error sticks */
	json = msg_encode(m, &len, &e);
	T_CHECK(json == NULL && strstr(e.msg, "must be a string"),
	    "sticky error: %s", e.msg);
	msg_free(m);

	m = msg_new(MT_CHECK, 1, &e);
	msg_set_str(m, "path", "/a");
	T_CHECK(msg_set_str(m, "colour", "red") == -1, "set an unknown field");
	T_CHECK(msg_encode(m, &len, &e) == NULL &&
	    strstr(e.msg, "no field \"colour\""), "unknown field built: %s",
	    e.msg);
	msg_free(m);

	m = msg_new(MT_CHECK, 1, &e);
	T_CHECK(msg_set_str(m, "path", "\xff") == -1, "set invalid UTF-8");
	msg_free(m);

	m = msg_new(MT_HELLO, 1, &e);
	T_CHECK(msg_set_int(m, "pid", (1LL << 53) + 1) == -1,
	    "int beyond 2^53");
	msg_free(m);

	m = msg_new(MT_ENCODE, 1, &e);
	T_CHECK(msg_set_json(m, "backends", cJSON_CreateObject()) == -1,
	    "object given for an array field");
	msg_free(m);

	m = msg_new(MT_STATUS, 7, &e);
	json = msg_encode(m, &len, &e);
	T_CHECK(json && strcmp(json,
	    "{\"v\":1,\"type\":\"status\",\"id\":7}") == 0,
	    "status encodes as %s", json ? json : e.msg);
	T_CHECK(msg_check_fds(m, 0, &e) == 0 && msg_check_fds(m, 1, &e) == -1,
	    "status with an fd");
	free(json);
	msg_free(m);

	m = msg_new(MT_READY, 8, &e);
	json = msg_encode(m, &len, &e);
	T_CHECK(json && strcmp(json, "{\"type\":\"ready\",\"id\":8}") == 0,
	    "worker messages carry no version: %s", json ? json : e.msg);
	free(json);
	msg_free(m);
}

struct bad {
	enum msg_dir	 dir;
	const char	*json;
	size_t		 len;	/* 0: strlen */
	const char	*want;
};

#define C	MSG_CLIENT_TO_MASTER
#define H	"\"v\":1,\"id\":1,"
#define NUL_FRAME "{" H "\"type\":\"check\",\"path\":\"a\0b\"}"

static const struct bad bad_frames[] = {
	{ C, "{\"v\":1,\"type\":\"status\",\"id\":1", 0, "not valid JSON" },
	{ C, "\"status\"", 0, "a string, not a JSON object" },
	{ C, "[{\"v\":1,\"type\":\"status\",\"id\":1}]", 0,
	    "an array, not a JSON object" },
	{ C, "42", 0, "a number, not a JSON object" },
	{ C, "{}", 0, "has no \"type\"" },
	{ C, "{\"v\":1,\"id\":1}", 0, "has no \"type\"" },
	{ C, "{" H "\"type\":7}", 0, "\"type\" must be a string" },
	{ C, "{" H "\"type\":\"fly\"}", 0, "unknown message type \"fly\"" },
	{ C, "{\"v\":1,\"type\":\"status\"}", 0, "has no \"id\"" },
	{ C, "{\"v\":1,\"type\":\"status\",\"id\":\"1\"}", 0,
	    "\"id\" must be an integer, not a string" },
	{ C, "{\"v\":1,\"type\":\"status\",\"id\":1.5}", 0,
	    "\"id\" must be an integer 0..2^53" },
	{ C, "{\"v\":1,\"type\":\"status\",\"id\":-3}", 0,
	    "\"id\" must be an integer 0..2^53" },
	{ C, "{\"v\":1,\"type\":\"status\",\"id\":1e300}", 0,
	    "\"id\" must be an integer 0..2^53" },
	{ C, "{\"v\":2,\"type\":\"status\",\"id\":1}", 0,
	    "unsupported protocol version 2" },
	{ C, "{\"type\":\"status\",\"id\":1}", 0, "no protocol version" },
	{ C, "{\"v\":\"1\",\"type\":\"status\",\"id\":1}", 0,
	    "\"v\" must be an integer, not a string" },
	{ C, "{" H "\"type\":\"check\"}", 0,
	    "missing required field \"path\"" },
	{ C, "{" H "\"type\":\"store\",\"path\":\"/a\",\"delete\":false,"
	    "\"blocking\":true}", 0,
	    "missing required field \"save_failure\"" },
	{ C, "{" H "\"type\":\"store\",\"path\":\"/a\",\"delete\":\"yes\","
	    "\"blocking\":true,\"save_failure\":false}", 0,
	    "field \"delete\" must be a boolean, not a string" },
	{ C, "{" H "\"type\":\"check\",\"path\":true}", 0,
	    "\"path\" must be a string, not a boolean" },
	{ C, "{" H "\"type\":\"check\",\"path\":5}", 0,
	    "\"path\" must be a string, not a number" },
	{ C, "{" H "\"type\":\"check\",\"path\":null}", 0,
	    "\"path\" must be a string, not null" },
	{ C, "{" H "\"type\":\"check\",\"path\":{\"a\":[]}}", 0,
	    "must be a string, not an object" },
	{ MSG_MASTER_TO_CLIENT,
	    "{" H "\"type\":\"reply\",\"ok\":true,\"checksum\":\"zz\"}", 0,
	    "\"checksum\" is not lowercase hex" },
	{ MSG_MASTER_TO_CLIENT,
	    "{" H "\"type\":\"reply\",\"ok\":true,\"checksum\":\"AB\"}", 0,
	    "is not lowercase hex" },
	{ MSG_MASTER_TO_CLIENT,
	    "{" H "\"type\":\"reply\",\"ok\":true,\"checksum\":\"abc\"}", 0,
	    "odd number" },
	{ MSG_MASTER_TO_CLIENT, "{" H "\"type\":\"reply\",\"ok\":1}", 0,
	    "\"ok\" must be a boolean, not a number" },
	{ MSG_WORKER_TO_MASTER,
	    "{\"id\":1,\"type\":\"hello\",\"role\":\"x\","
	    "\"pid\":9007199254740994}", 0, "not an integer within" },
	{ MSG_WORKER_TO_MASTER,
	    "{\"id\":1,\"type\":\"hello\",\"role\":\"x\",\"pid\":2.5}", 0,
	    "not an integer within" },
	{ C, "{" H "\"type\":\"status\",\"x\":1}", 0, "unknown field \"x\"" },
	{ MSG_WORKER_TO_MASTER, "{\"v\":1,\"id\":1,\"type\":\"ready\"}", 0,
	    "unknown field \"v\"" },
	{ C, "{" H "\"type\":\"status\"}x", 0, "trailing bytes" },
	{ C, "{" H "\"type\":\"status\"}{}", 0, "trailing bytes" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"/a\",\"path\":\"/b\"}", 0,
	    "duplicate key \"path\"" },
	{ C, "{" H "\"type\":\"status\",\"type\":\"status\"}", 0,
	    "duplicate key \"type\"" },
	{ MSG_WORKER_TO_MASTER, "{\"id\":1,\"type\":\"result\",\"ok\":true,"
	    "\"stats\":{\"a\":1,\"b\":{\"c\":1,\"c\":2}}}", 0,
	    "duplicate key \"c\"" },
	{ C, "{" H "\"type\":\"status\",\"x\":{\"a\":[1,2,{]}}", 0,
	    "not valid JSON" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"a\\u0000b\"}", 0,
	    "NUL character" },
	{ C, NUL_FRAME, sizeof(NUL_FRAME) - 1, "NUL byte" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"\xff\"}", 0,
	    "invalid UTF-8" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"\xc0\xaf\"}", 0,
	    "invalid UTF-8" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"\xed\xa0\x80\"}", 0,
	    "invalid UTF-8" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"\xe2\x82\"}", 0,
	    "invalid UTF-8" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"a\x01\"}", 0,
	    "control character" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"\\q\"}", 0, "bad escape" },
	{ C, "{\"v\":1,\"id\":01,\"type\":\"status\"}", 0, "malformed number" },
	{ C, "{\"v\":1,\"id\":1.,\"type\":\"status\"}", 0, "malformed number" },
	{ C, "\xef\xbb\xbf{" H "\"type\":\"status\"}", 0, "outside a string" },
	{ C, "{" H "\"type\":\"hello\",\"role\":\"encoder\",\"pid\":1}", 0,
	    "goes worker->master, it is not accepted client->master" },
	{ C, "{" H "\"type\":\"reply\",\"ok\":true}", 0,
	    "goes master->client" },
	{ MSG_WORKER_TO_MASTER, "{\"id\":1,\"type\":\"encode\",\"key\":\"k\","
	    "\"path\":\"p\"}", 0, "goes master->worker" },
	{ MSG_MASTER_TO_WORKER,
	    "{\"id\":1,\"type\":\"meta_get\",\"job\":1,\"key\":\"k\"}", 0,
	    "unknown field \"job\"" },
	{ C, "", 0, "message of 0 bytes" },
	{ C, "{" H "\"type\":\"retrieve\",\"path\":\"/a\",\"progress\":1}", 0,
	    "field \"progress\" must be a boolean, not a number" },
	{ C, "{" H "\"type\":\"check\",\"path\":\"/a\",\"progress\":true}", 0,
	    "check: unknown field \"progress\"" },
	{ MSG_MASTER_TO_CLIENT, "{" H "\"type\":\"progress\",\"done\":1}", 0,
	    "missing required field \"total\"" },
	{ MSG_MASTER_TO_CLIENT,
	    "{" H "\"type\":\"progress\",\"done\":\"1\",\"total\":2}", 0,
	    "field \"done\" must be an integer, not a string" },
	{ MSG_MASTER_TO_CLIENT,
	    "{\"id\":1,\"type\":\"job_progress\",\"done\":1,\"total\":2}", 0,
	    "goes worker->master, it is not accepted master->client" },
	{ MSG_WORKER_TO_MASTER,
	    "{\"id\":1,\"type\":\"job_progress\",\"done\":1.5,\"total\":2}", 0,
	    "not an integer within" },
};

static void
test_bad_frames(void)
{
	const struct bad *b;
	struct err e;
	struct msg *m;
	size_t i, n = sizeof(bad_frames) / sizeof(bad_frames[0]);

	for (i = 0; i < n; i++) {
		b = &bad_frames[i];
		strcpy(e.msg, "(no error)");
		m = msg_parse(b->json, b->len ? b->len : strlen(b->json),
		    b->dir, &e);
		T_CHECK(m == NULL && strstr(e.msg, b->want) != NULL,
		    "bad frame %zu %s: wanted \"%s\", got \"%s\"", i, b->json,
		    b->want, m ? "accepted" : e.msg);
		msg_free(m);
	}
	T_CHECK(n >= 25, "only %zu malformed frames", n);
}

/* Integers above 10^15 survive a parse and a new encoding exactly (cJSON
 * alone prints them with 15 significant digits), and read back the same
 * from a parsed and from a built message. */
static void
test_big_ints(void)
{
	static const char in[] =
	    "{\"type\":\"hello\",\"id\":5555555555555551,"
	    "\"role\":\"encoder\",\"pid\":9007199254740991}";
	struct msg *m, *again, *built;
	struct err e;
	size_t len;
	char *enc = NULL;

	m = msg_parse(in, sizeof(in) - 1, MSG_WORKER_TO_MASTER, &e);
	T_CHECK(m != NULL, "parse: %s", e.msg);
	if (m == NULL)
		return;
	enc = msg_encode(m, &len, &e);
	again = enc ? msg_parse(enc, len, MSG_WORKER_TO_MASTER, &e) : NULL;
	T_CHECK(again != NULL && msg_id(again) == 5555555555555551LL &&
	    msg_get_int(again, "pid") == 9007199254740991LL,
	    "encoded again: %s", enc ? enc : e.msg);
	T_CHECK(msg_get_int(m, "pid") == 9007199254740991LL,
	    "pid of the parsed message: %lld",
	    (long long)msg_get_int(m, "pid"));
	built = msg_new(MT_HELLO, 1, &e);
	msg_set_str(built, "role", "encoder");
	msg_set_int(built, "pid", 5555555555555551LL);
	T_CHECK(msg_get_int(built, "pid") == 5555555555555551LL,
	    "pid of a built message: %lld",
	    (long long)msg_get_int(built, "pid"));
	msg_free(built);
	msg_free(again);
	msg_free(m);
	cJSON_free(enc);
}

/* The u64 kind, as a field of it is checked: canonical decimal strings only
 * (no table message has one, so the check is called directly). */
static void
test_u64(void)
{
	static const struct msg_field f = { "bytes", MSG_U64, 1 };
	static const struct {
		const char	*s;	/* NULL: the number n */
		double		 n;
		const char	*want;	/* NULL: accepted */
	} cases[] = {
		{ NULL, 12, "must be a decimal string (u64), not a number" },
		{ "12a", 0, "not a decimal string" },
		{ "18446744073709551616", 0,
		    "larger than 18446744073709551615" },
		{ "-1", 0, "not a decimal string" },
		{ NULL, -1, "not a number" },
		{ "007", 0, "leading zero" },
		{ "", 0, "is empty" },
		{ "18446744073709551615", 0, NULL },
		{ "0", 0, NULL },
	};
	struct err e;
	cJSON *v;
	uint64_t u;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(e.msg, "(no error)");
		v = cases[i].s != NULL ? cJSON_CreateString(cases[i].s) :
		    cJSON_CreateNumber(cases[i].n);
		rc = msg_value_check(&f, v, &e);
		cJSON_Delete(v);
		if (cases[i].want == NULL)
			T_CHECK(rc == 0, "u64 case %zu: %s", i, e.msg);
		else
			T_CHECK(rc == -1 &&
			    strstr(e.msg, cases[i].want) != NULL,
			    "u64 case %zu: wanted \"%s\", got \"%s\"", i,
			    cases[i].want, rc == 0 ? "accepted" : e.msg);
	}
	T_CHECK(msg_parse_u64("18446744073709551615", &u, &e) == 0 &&
	    u == UINT64_MAX, "u64 max");
}

/* Two descriptors on one frame arrive together and in order, through both
 * readers and the writer; a frame never takes more than IPC_FDS_MAX. */
static void
test_two_fds(void)
{
	struct frame_writer w;
	struct frame_reader r;
	struct err e = { "" };
	int sv[2], two[2], fds[IPC_FDS_MAX], three[3], nfds = 0, before;
	char *json = NULL;
	size_t len;

	two[0] = temp_file();
	two[1] = temp_file();
	before = count_fds();
	pair(sv, 0);
	T_CHECK(frame_send(sv[0], "{\"a\":1}", 7, two, 2, &e) == 0,
	    "send two: %s", e.msg);
	T_CHECK(frame_recv(sv[1], &json, &len, fds, &nfds, 1000, &e) == 1 &&
	    nfds == 2 && same_file(fds[0], two[0]) && same_file(fds[1], two[1]),
	    "two fds in order through frame_recv: %d %s", nfds, e.msg);
	while (nfds > 0)
		close(fds[--nfds]);
	free(json);
	json = NULL;
	three[0] = three[1] = three[2] = two[0];
	T_CHECK(frame_send(sv[0], "{}", 2, three, 3, &e) == -1 &&
	    strstr(e.msg, "0 to 2"), "sent three fds: %s", e.msg);
	close(sv[0]);
	close(sv[1]);

	pair(sv, 1);
	frame_writer_init(&w);
	frame_reader_init(&r);
	T_CHECK(frame_writer_push(&w, "{}", 2, two, 2, &e) == 0 &&
	    frame_writer_flush(&w, sv[0], &e) == 1, "writer with two: %s",
	    e.msg);
	T_CHECK(frame_reader_feed(&r, sv[1], &e) == 1 &&
	    frame_next(&r, &json, &len, fds, &nfds, &e) == 1 && nfds == 2 &&
	    same_file(fds[0], two[0]) && same_file(fds[1], two[1]),
	    "two fds in order through the reader: %d %s", nfds, e.msg);
	while (nfds > 0)
		close(fds[--nfds]);
	free(json);
	frame_writer_free(&w);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
	T_CHECK(count_fds() == before, "two fds leaked a descriptor");
	close(two[0]);
	close(two[1]);
}

/* Runs fn in a child: 1 when it ended the child with status 1 (fatalx). */
static int
is_fatal(void (*fn)(const struct msg *), const struct msg *m)
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		fn(m);
		_exit(0);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static void
get_bool_of_str(const struct msg *m)
{
	(void)msg_get_bool(m, "path");
}

static void
get_str_unknown(const struct msg *m)
{
	(void)msg_get_str(m, "nope");
}

static void
get_int_of_bool(const struct msg *m)
{
	(void)msg_get_int(m, "delete");
}

static void
has_unknown(const struct msg *m)
{
	(void)msg_has(m, "nope");
}

static void
get_json_of_str(const struct msg *m)
{
	(void)msg_get_json(m, "path");
}

static void
test_good_frames(void)
{
	struct err e = { "" };
	struct msg *m;
	const char *ok = "{\"v\":1,\"type\":\"store\",\"id\":9,\"path\":\"/a\","
	    "\"delete\":false,\"blocking\":true,\"save_failure\":false,"
	    "\"key_path\":\"/k\"} \n";
	size_t n = IPC_FRAME_MAX - 100, hdr;
	char *big = malloc(IPC_FRAME_MAX + 2);

	m = msg_parse(ok, strlen(ok), MSG_CLIENT_TO_MASTER, &e);
	T_CHECK(m != NULL, "good store with trailing whitespace: %s", e.msg);
	if (m != NULL) {
		T_CHECK(msg_id(m) == 9 && msg_get_bool(m, "blocking") == 1 &&
		    msg_get_bool(m, "delete") == 0 &&
		    strcmp(msg_get_str(m, "key_path"), "/k") == 0,
		    "store getters");
		T_CHECK(msg_check_fds(m, 0, &e) == -1 &&
		    strstr(e.msg, "needs a file descriptor"),
		    "store without fd accepted");
		T_CHECK(msg_check_fds(m, 2, &e) == -1 && strstr(e.msg, "not 2"),
		    "store with two fds accepted");
		T_CHECK(is_fatal(get_bool_of_str, m) &&
		    is_fatal(get_str_unknown, m) &&
		    is_fatal(get_int_of_bool, m) && is_fatal(has_unknown, m) &&
		    is_fatal(get_json_of_str, m),
		    "getter of the wrong kind answered");
		T_CHECK(msg_has(m, "key_path") &&
		    msg_get_str(m, "path") != NULL, "getters of listed fields");
	}
	msg_free(m);

	hdr = (size_t)sprintf(big,
	    "{\"v\":1,\"type\":\"check\",\"id\":1,\"path\":\"");
	memset(big + hdr, 'a', n - hdr - 2);
	memcpy(big + n - 2, "\"}", 2);
	m = msg_parse(big, n, MSG_CLIENT_TO_MASTER, &e);
	T_CHECK(m != NULL && strlen(msg_get_str(m, "path")) == n - hdr - 2,
	    "huge string within limits: %s", e.msg);
	msg_free(m);
	memset(big + hdr, 'a', IPC_FRAME_MAX + 1 - hdr - 2);
	memcpy(big + IPC_FRAME_MAX + 1 - 2, "\"}", 2);
	T_CHECK(msg_parse(big, IPC_FRAME_MAX + 1, MSG_CLIENT_TO_MASTER,
	    &e) == NULL, "a message above 1 MiB was parsed");
	free(big);
}

/* msg_get_progress takes a share of the work, and nothing else. */
static void
test_progress(void)
{
	static const struct {
		const char	*json;
		int		 ok;
	} cases[] = {
		{ "\"done\":0,\"total\":1", 1 },
		{ "\"done\":40,\"total\":40", 1 },
		{ "\"done\":41,\"total\":40", 0 },
		{ "\"done\":-1,\"total\":40", 0 },
		{ "\"done\":0,\"total\":0", 0 },
		{ "\"done\":0,\"total\":-5", 0 },
	};
	struct err e = { "" };
	uint64_t done, total;
	struct msg *m;
	char json[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json), "{" H "\"type\":\"progress\",%s}",
		    cases[i].json);
		m = msg_parse(json, strlen(json), MSG_MASTER_TO_CLIENT, &e);
		T_CHECK(m != NULL, "progress %s: %s", cases[i].json, e.msg);
		if (m == NULL)
			continue;
		done = total = 7;
		rc = msg_get_progress(m, &done, &total, &e);
		T_CHECK(cases[i].ok ? rc == 0 && done <= total && total >= 1 :
		    rc == -1 && strstr(e.msg, "not a share of the work") &&
		    done == 7 && total == 7, "progress %s: %s", cases[i].json,
		    rc == 0 ? "taken" : e.msg);
		msg_free(m);
	}
}

/* msg_send with an fd, frame_recv, msg_parse, msg_check_fds. */
static void
test_send_store(void)
{
	struct err e = { "" };
	struct msg *m, *back = NULL;
	char *json = NULL;
	size_t len;
	int sv[2], fd = -1, file = temp_file();

	pair(sv, 0);
	m = msg_new(MT_STORE, 3, &e);
	msg_set_str(m, "path", "/srv/a");
	msg_set_bool(m, "delete", 0);
	msg_set_bool(m, "blocking", 1);
	msg_set_bool(m, "save_failure", 0);
	T_CHECK(msg_send(sv[0], m, NULL, 0, &e) == -1,
	    "store sent without its fd");
	T_CHECK(msg_send(sv[0], m, (int[]){ file, file }, 2, &e) == -1,
	    "store sent with two fds");
	T_CHECK(msg_send(sv[0], m, &file, 1, &e) == 0, "msg_send: %s", e.msg);
	T_CHECK(recv1(sv[1], &json, &len, &fd, 1000, &e) == 1, "recv: %s",
	    e.msg);
	if (json)
		back = msg_parse(json, len, MSG_CLIENT_TO_MASTER, &e);
	T_CHECK(back != NULL && msg_check_fds(back, fd >= 0, &e) == 0 &&
	    same_file(fd, file) &&
	    strcmp(msg_get_str(back, "path"), "/srv/a") == 0,
	    "store over a socket: %s", e.msg);
	msg_free(back);
	msg_free(m);
	free(json);
	if (fd >= 0)
		close(fd);
	close(file);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_round_trip();
	test_byte_by_byte();
	test_two_in_one_write();
	test_bad_lengths();
	test_fd_errors();
	test_timeout();
	test_writer_big();
	test_send_big();
	test_table_round_trip();
	test_builder_misuse();
	test_bad_frames();
	test_u64();
	test_big_ints();
	test_two_fds();
	test_good_frames();
	test_progress();
	test_send_store();
	return t_finish();
}
