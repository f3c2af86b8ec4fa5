/* Daemon mode, client side: requests to zstor-master over the config's unix
 * socket, and `zstor monitor`, which becomes the daemon.
 *
 * A request is one connection: connect, send one frame (with the file's
 * descriptor for store and retrieve), wait for one reply frame (after the
 * progress frames a retrieve on a terminal asks for). There is no
 * deadline on the reply: a store or retrieve of a large file may take long,
 * and a daemon that dies closes the socket, which ends the wait. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "frame.h"
#include "hex.h"
#include "log.h"
#include "msg.h"

#define MASTER_PROGRAM		"zstor-master"
/* After a failed send, how long to look for the reply the daemon may have
 * sent before it closed (it answers a bad request, then hangs up). */
#define LATE_REPLY_MS		1000

static int64_t request_id;

static int
daemon_connect(const struct cli *c, struct err *e)
{
	struct sockaddr_un sun;
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, c->cfg.socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		err_set(e, "socket path %s is longer than %zu bytes; choose a "
		    "shorter `socket` in %s", c->cfg.socket,
		    sizeof(sun.sun_path) - 1, c->config_path);
		return DAEMON_FAILED;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		err_set(e, "socket: %s", strerror(errno));
		return DAEMON_FAILED;
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return s;
	err_set(e, "could not connect to the zstor daemon at %s: %s; start it "
	    "with `zstor -c %s monitor` (or systemctl start zstor-master), or "
	    "remove `socket` from the config to run commands without a daemon",
	    c->cfg.socket, strerror(errno), c->config_path);
	close(s);
	return DAEMON_DOWN;
}

/* The daemon's first reply bytes, looked at without taking them, are
 * upstream's framing: it is upstream's daemon. */
static int
answers_upstream(int s, int timeout_ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	uint8_t b[FRAME_SNIFF];

	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	return recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) ==
	    (ssize_t)sizeof(b) && frame_is_upstream(b);
}

static int
bad_answer(const struct cli *c, struct err *e)
{
	return err_prefix(e, "bad answer from the zstor daemon at %s (is it "
	    "from another zstor release?)", c->cfg.socket);
}

/* Reads one frame from the daemon into *m. */
static int
read_frame(const struct cli *c, int s, int timeout_ms, struct msg **m,
    struct err *e)
{
	int fds[IPC_FDS_MAX], nfds, rc, i;
	char *json;
	size_t len;

	*m = NULL;
	rc = frame_recv(s, &json, &len, fds, &nfds, timeout_ms, e);
	if (rc == 0 || (rc < 0 && strstr(e->msg, "reset") != NULL))
		return err_set(e, "the daemon at %s closed the connection "
		    "without an answer: it stopped or crashed (see its log), "
		    "or it is upstream zstor's daemon (zstor_v2 monitor), "
		    "which does not speak zstor-master's protocol (version %d) "
		    "and drops what it cannot read", c->cfg.socket,
		    MSG_PROTO_VERSION);
	if (rc < 0)
		return err_prefix(e, "no answer from the zstor daemon at %s",
		    c->cfg.socket);
	for (i = 0; i < nfds; i++)
		close(fds[i]);	/* the daemon sends none; msg_check_fds says
				 * so */
	*m = msg_parse(json, len, MSG_MASTER_TO_CLIENT, e);
	free(json);
	if (*m != NULL && msg_check_fds(*m, nfds, e) == 0)
		return 0;
	msg_free(*m);
	*m = NULL;
	return bad_answer(c, e);
}

/* A progress frame before the reply to request id, for pg: only when the
 * request asked (pg not NULL), for that request, and a share of the work. */
static int
take_progress(const struct cli *c, const struct msg *m, int64_t id,
    struct obj_progress *pg, struct err *e)
{
	uint64_t done, total;

	if (pg == NULL)
		err_set(e, "it sends progress for request %lld, which did not "
		    "ask for it", (long long)msg_id(m));
	else if (msg_id(m) != id)
		err_set(e, "it sends progress for request %lld, not %lld",
		    (long long)msg_id(m), (long long)id);
	else if (msg_get_progress(m, &done, &total, e) == 0) {
		obj_progress_set(pg, done, total);
		return 0;
	}
	return bad_answer(c, e);
}

/* Reads the reply frame, after any progress frames (pg: the request asked
 * for them), and checks it answers request id. */
static int
read_reply(const struct cli *c, int s, int64_t id, int timeout_ms,
    struct obj_progress *pg, struct msg **reply, struct err *e)
{
	int rc;

	*reply = NULL;
	if (answers_upstream(s, timeout_ms))
		return err_set(e, "the daemon at %s answers in upstream "
		    "zstor's protocol (zstor_v2 monitor), not zstor-master's "
		    "(version %d): run zstor-master from this release, or use "
		    "upstream's zstor with that daemon", c->cfg.socket,
		    MSG_PROTO_VERSION);
	for (;;) {
		if (read_frame(c, s, timeout_ms, reply, e) < 0)
			return -1;
		if (msg_type(*reply) != MT_PROGRESS)
			break;
		rc = take_progress(c, *reply, id, pg, e);
		msg_free(*reply);
		*reply = NULL;
		if (rc < 0)
			return -1;
	}
	/* id 0 and not ok: refused at the door, before our request was read
	 * (too many connections, say) */
	if (msg_id(*reply) == id ||
	    (msg_id(*reply) == 0 && msg_get_bool(*reply, "ok") == 0))
		return 0;
	err_set(e, "it answers request %lld, not %lld",
	    (long long)msg_id(*reply), (long long)id);
	msg_free(*reply);
	*reply = NULL;
	return bad_answer(c, e);
}

/* Sends req (with fd, or -1) on a connection of its own and reads the reply,
 * after the progress frames the request asked for (pg not NULL). Takes req.
 * On ok:false returns DAEMON_REFUSED with the daemon's error in e. */
static int
daemon_call(const struct cli *c, struct msg *req, int fd,
    struct obj_progress *pg, struct msg **reply, struct err *e)
{
	int64_t id = msg_id(req);
	const char *why;
	char *json;
	size_t len;
	int s, rc;

	*reply = NULL;
	json = msg_encode(req, &len, e);
	msg_free(req);
	if (json == NULL)
		return DAEMON_FAILED;
	if ((s = daemon_connect(c, e)) < 0) {
		free(json);
		return s;
	}
	if (frame_send(s, json, len, &fd, fd >= 0, e) == 0)
		rc = read_reply(c, s, id, -1, pg, reply, e);
	else {
		struct err send_err = *e;

		/* A daemon that hung up while we sent (upstream's drops our
		 * frame) is explained by read_reply, not by the broken pipe. */
		if ((rc = read_reply(c, s, id, LATE_REPLY_MS, pg, reply,
		    e)) < 0 && strstr(e->msg, "closed the connection") == NULL)
			err_set(e, "could not send the request to the zstor "
			    "daemon at %s: %s", c->cfg.socket, send_err.msg);
	}
	close(s);
	free(json);
	if (rc < 0)
		return DAEMON_FAILED;
	if (msg_get_bool(*reply, "ok") == 1)
		return 0;
	why = msg_get_str(*reply, "error");
	err_set(e, "%s", why != NULL ? why : "the daemon failed without saying "
	    "why (see its log)");
	msg_free(*reply);
	*reply = NULL;
	return DAEMON_REFUSED;
}

/* Sends a request whose reply carries nothing but ok. */
static int
daemon_call_ok(const struct cli *c, struct msg *req, int fd,
    struct obj_progress *pg, struct err *e)
{
	struct msg *reply;
	int rc = daemon_call(c, req, fd, pg, &reply, e);

	msg_free(reply);
	return rc;
}

static struct msg *
request_new(enum msg_type type, struct err *e)
{
	return msg_new(type, ++request_id, e);
}

int
daemon_store(const struct cli *c, const struct store_req *r, int fd,
    struct err *e)
{
	struct msg *m = request_new(MT_STORE, e);

	if (m == NULL)
		return DAEMON_FAILED;
	msg_set_str(m, "path", r->path);
	msg_set_str(m, "key_path", r->key_path);
	msg_set_bool(m, "delete", r->del);
	msg_set_bool(m, "blocking", r->blocking);
	msg_set_bool(m, "save_failure", r->save_failure);
	return daemon_call_ok(c, m, fd, NULL, e);
}

int
daemon_retrieve(const struct cli *c, const char *path, int fd,
    struct obj_progress *pg, struct err *e)
{
	struct msg *m = request_new(MT_RETRIEVE, e);

	if (m == NULL)
		return DAEMON_FAILED;
	msg_set_str(m, "path", path);
	if (pg != NULL)		/* else the request is as it always was */
		msg_set_bool(m, "progress", 1);
	return daemon_call_ok(c, m, fd, pg, e);
}

int
daemon_rebuild(const struct cli *c, const char *path, const char *key,
    struct err *e)
{
	struct msg *m = request_new(MT_REBUILD, e);

	if (m == NULL)
		return DAEMON_FAILED;
	if (path != NULL)
		msg_set_str(m, "path", path);
	if (key != NULL)
		msg_set_str(m, "key", key);
	return daemon_call_ok(c, m, -1, NULL, e);
}

int
daemon_check(const struct cli *c, const char *path, char *hex, size_t hexlen,
    struct err *e)
{
	struct msg *m = request_new(MT_CHECK, e), *reply;
	uint8_t *sum;
	size_t len;
	int rc;

	hex[0] = '\0';
	if (m == NULL)
		return DAEMON_FAILED;
	msg_set_str(m, "path", path);
	if ((rc = daemon_call(c, m, -1, NULL, &reply, e)) < 0)
		return rc;
	if (msg_has(reply, "checksum") &&
	    msg_get_hex(reply, "checksum", &sum, &len) == 0) {
		if (len * 2 < hexlen)
			hex_encode(hex, sum, len);
		else
			rc = err_set(e, "the daemon answered a checksum of %zu "
			    "bytes", len);
		free(sum);
	}
	msg_free(reply);
	return rc;
}

void
report_failure(const char *cmd, const char *subject, int rc,
    const struct err *e)
{
	/* Some of the daemon's answers name the file, some do not; a
	 * directory store needs to know which file failed. */
	if (rc == DAEMON_REFUSED && strstr(e->msg, subject) != NULL)
		fprintf(stderr, "Zstor error: %s\n", e->msg);
	else if (rc == DAEMON_REFUSED)
		fprintf(stderr, "Zstor error: %s %s: %s\n", cmd, subject,
		    e->msg);
	else if (rc == DAEMON_DOWN)
		cli_error("%s", e->msg);
	else
		cli_error("%s %s: %s", cmd, subject, e->msg);
	log_warnx("%s %s: %s", cmd, subject, e->msg);
}

/* zstor-master beside this zstor (an unpacked build or an install prefix),
 * else the name alone for a PATH search. */
static void
master_program(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(out, outlen, "%s/%s", dirname(self), MASTER_PROGRAM);
		if (access(out, X_OK) == 0)
			return;
	}
	strlcpy(out, MASTER_PROGRAM, outlen);
}

/* Upstream's `zstor monitor` was the daemon; here the daemon is its own program
 * and monitor runs it in the foreground with the same global options. */
int
cmd_monitor(struct cli *c, int argc, char **argv)
{
	char prog[PATH_MAX];
	const char *args[9], *none[1];
	int n = 0;

	if (cli_parse("monitor", NULL, 0, argc, argv, none) < 0)
		return EXIT_USAGE;
	if (c->cfg.socket == NULL) {
		cli_error("monitor: Missing \"socket\" argument in config %s "
		    "(the daemon listens there)", c->config_path);
		return 1;
	}
	master_program(prog, sizeof(prog));
	args[n++] = prog;
	args[n++] = "--foreground";
	args[n++] = "-c";
	args[n++] = c->config_path;
	if (c->debug)
		args[n++] = "-d";
	args[n++] = "--log_file";
	args[n++] = c->log_file;
	args[n] = NULL;
	fflush(NULL);
	execvp(prog, (char *const *)(uintptr_t)args);
	cli_error("monitor: cannot run %s: %s (zstor-master is looked for next "
	    "to zstor, then in PATH; install it with `make install`)", prog,
	    strerror(errno));
	log_warnx("monitor: cannot run %s", prog);
	return 1;
}
