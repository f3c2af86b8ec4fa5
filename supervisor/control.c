/* The control socket: clients (zstor with `socket` in its config) send one
 * request frame per connection and get one reply frame (after progress frames,
 * for a retrieve that asks for them); see the README's client protocol. Each
 * request is checked against the message table, logged with the peer's
 * SO_PEERCRED identity, and becomes a job.
 *
 *   store     path: absolute path of the file the descriptor is (for --delete
 *             and logs); key_path: the absolute canonical path the key is
 *             computed from (path when absent); fd: the file, read-only
 *   retrieve  path: as stored (the key is computed from it as given); fd: a
 *             temporary file beside the target, which the client renames;
 *             progress: "progress" frames before the reply, as the encoder
 *             reports them
 *   check     path, as for retrieve
 *   rebuild   exactly one of path (as for retrieve) or key (a metadata key)
 *
 * A bad request gets {ok: false, error} and the connection closes; the daemon
 * serves on. Each request is allowed only when the client could do the same
 * itself (rights.c); connections, bytes and time are bounded (admit.c).
 *
 * The first bytes of a connection also tell upstream zstor's clients apart
 * (upstream.c): their requests are turned into the same messages, with the
 * descriptors the master opens as the client, and answered in kind. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "health.h"
#include "log.h"
#include "master.h"
#include "meta_key.h"
#include "rights.h"
#include "upstream.h"

struct conn {
	LIST_ENTRY(conn)	 entry;
	int			 fd;
	struct ucred		 peer;		/* who connected */
	/* the same, with groups and umask: read with the request */
	struct asuser		*who;
	struct event		*rd_ev, *wr_ev, *timer_ev;
	struct frame_reader	 rd;
	struct frame_writer	*wr;		/* made for the reply */
	size_t			 held;		/* granted by admit_bytes */
	int			 admitted;	/* counted by admit_take */
	enum { PROTO_SNIFF, PROTO_V1, PROTO_UPSTREAM } proto;
	uint8_t			 sniff[UPSTREAM_SNIFF];	/* the first bytes */
	size_t			 nsniff;
	int			 sniff_fds[IPC_FDS_MAX]; /* with byte 0 */
	int			 nsniff_fds;
	uint8_t			*up_body;	/* upstream's frame */
	size_t			 up_len, up_got;
	struct upstream_pending	*pend;		/* upstream's retrieve */
	int64_t			 req_id;
	struct job		*job;
};

static int		 listen_fd = -1;
static struct event	*listen_ev, *pause_ev;
static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);

static void
close_all(const int *fds, int nfds)
{
	int i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

static void
conn_close(struct conn *c)
{
	struct err e;

	if (c->job != NULL)
		c->job->conn = NULL;	/* the job goes on, unanswered */
	LIST_REMOVE(c, entry);
	event_free(c->rd_ev);
	event_free(c->wr_ev);
	event_free(c->timer_ev);
	frame_reader_free(&c->rd);
	if (c->wr != NULL) {
		frame_writer_free(c->wr);
		free(c->wr);
	}
	(void)admit_bytes(&c->held, 0, NULL);
	if (c->admitted)
		admit_give(c->peer.uid);
	if (c->pend != NULL && upstream_finish(c->who, c->pend, 0, &e) == -1)
		log_warnx("uid %d pid %d: %s", (int)c->peer.uid,
		    (int)c->peer.pid, e.msg);
	close_all(c->sniff_fds, c->nsniff_fds);
	free(c->up_body);
	close(c->fd);
	free(c->who);
	free(c);
}

static void
conn_on_write(int fd, short ev, void *arg)
{
	struct timeval tv = { master->request_secs, 0 };
	struct conn *c = arg;
	struct err e;
	int rc;

	(void)fd;
	if (ev & EV_TIMEOUT) {
		log_warnx("uid %d pid %d: the client did not read its reply in "
		    "time", (int)c->peer.uid, (int)c->peer.pid);
		conn_close(c);
		return;
	}
	if ((rc = frame_writer_flush(c->wr, c->fd, &e)) == 0) {
		event_add(c->wr_ev, &tv);	/* the client reads slowly */
		return;
	}
	if (rc == 1 && c->job != NULL)
		return;		/* a progress frame; the reply comes later */
	if (rc == -1)
		log_debug("uid %d pid %d: reply not delivered: %s",
		    (int)c->peer.uid, (int)c->peer.pid, e.msg);
	conn_close(c);
}

/* Upstream's reply: a retrieve's file goes into place first, as the client
 * (its failure is the answer then). One small frame into an empty socket
 * buffer: sent at once, or not at all. */
static void
upstream_answer(struct conn *c, int ok, const char *error,
    const uint8_t *checksum)
{
	uint8_t out[1024];
	struct err e;
	size_t n;

	if (c->pend != NULL) {
		if (upstream_finish(c->who, c->pend, ok, &e) == -1 && ok) {
			ok = 0;
			error = e.msg;
			checksum = NULL;
		}
		c->pend = NULL;
	}
	n = upstream_reply(out, sizeof(out), ok, error, checksum);
	if (send(c->fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		log_debug("uid %d pid %d: reply not delivered: %s",
		    (int)c->peer.uid, (int)c->peer.pid, strerror(errno));
	conn_close(c);
}

static void	reply_with(struct conn *, int, const char *, const uint8_t *,
		    struct cJSON *);

void
control_reply(struct conn *c, int ok, const char *error,
    const uint8_t *checksum)
{
	reply_with(c, ok, error, checksum, NULL);
}

/* status: the health table (README, "zstor status with a daemon"). */
static void
conn_status(struct conn *c)
{
	struct cJSON *table = health_json();

	if (table == NULL)
		control_reply(c, 0, "out of memory", NULL);
	else
		reply_with(c, 1, NULL, NULL, table);
}

/* A message of type for c's request, and the writer to queue it on; NULL
 * (logged) without memory. */
static struct msg *
conn_msg(struct conn *c, enum msg_type type)
{
	struct msg *m = NULL;
	struct err e;

	if (c->wr == NULL && (c->wr = malloc(sizeof(*c->wr))) != NULL)
		frame_writer_init(c->wr);
	if (c->wr == NULL)
		log_warnx("%s: out of memory", type == MT_REPLY ? "reply" :
		    "progress");
	else if ((m = msg_new(type, c->req_id, &e)) == NULL)
		log_warnx("%s", e.msg);
	return m;
}

/* Queues m (which it takes) and writes what the socket takes at once: the
 * loop may end before a write event (shutdown). The rest goes when the
 * socket is writable. Once the reply is written, c is closed. */
static void
conn_send(struct conn *c, struct msg *m)
{
	struct timeval tv = { master->request_secs, 0 };
	const char *type = msg_type_name(m);
	struct err e;
	char *json;
	size_t len;
	int rc;

	json = msg_encode(m, &len, &e);
	msg_free(m);
	if (json == NULL || frame_writer_push(c->wr, json, len, NULL, 0,
	    &e) == -1) {
		log_warnx("%s: %s", type, e.msg);
		cJSON_free(json);
		conn_close(c);
		return;
	}
	cJSON_free(json);
	if ((rc = frame_writer_flush(c->wr, c->fd, &e)) == 0)
		event_add(c->wr_ev, &tv);
	else if (rc == -1 || c->job == NULL) {
		if (rc == -1)
			log_debug("uid %d pid %d: %s not delivered: %s",
			    (int)c->peer.uid, (int)c->peer.pid, type, e.msg);
		conn_close(c);
	}
}

/* The reply, with the health table when given (which it takes). */
static void
reply_with(struct conn *c, int ok, const char *error,
    const uint8_t *checksum, struct cJSON *health)
{
	struct msg *m;

	c->job = NULL;
	if (c->proto == PROTO_UPSTREAM) {
		cJSON_Delete(health);
		upstream_answer(c, ok, error, checksum);
		return;
	}
	if ((m = conn_msg(c, MT_REPLY)) == NULL) {
		cJSON_Delete(health);
		conn_close(c);
		return;
	}
	msg_set_bool(m, "ok", ok);
	if (error != NULL)
		msg_set_str(m, "error", error);
	if (checksum != NULL)
		msg_set_hex(m, "checksum", checksum, B2_LEN);
	if (health != NULL)
		msg_set_json(m, "health", health);
	event_del(c->rd_ev);
	event_del(c->timer_ev);
	conn_send(c, m);
}

void
control_progress(struct conn *c, uint64_t done, uint64_t total)
{
	struct msg *m;

	if (c->proto != PROTO_V1 ||
	    (c->wr != NULL && frame_writer_pending(c->wr)) ||
	    (m = conn_msg(c, MT_PROGRESS)) == NULL)
		return;
	msg_set_int(m, "done", (int64_t)done);
	msg_set_int(m, "total", (int64_t)total);
	conn_send(c, m);
}

static int
conn_refuse(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Answers the request with an error; returns -1 for the caller's return. */
static int
conn_refuse(struct conn *c, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("uid %d pid %d: refused: %s", (int)c->peer.uid,
	    (int)c->peer.pid, msg);
	control_reply(c, 0, msg, NULL);
	return -1;
}

/* The same for refusals that come in floods (limits, deadlines): logged
 * once per interval. */
static void
conn_refuse_limit(struct conn *c, const char *msg)
{
	admit_log(ADMIT_LOG_REQUEST, "uid %d pid %d: refused: %s",
	    (int)c->peer.uid, (int)c->peer.pid, msg);
	control_reply(c, 0, msg, NULL);
}

/* The metadata key of path, as the standalone commands compute it. */
static int
key_of(const char *path, char *key, size_t len, struct err *e)
{
	return meta_key(master->cfg.meta_prefix, master->cfg.root, path, key,
	    len, e);
}

static struct job *
conn_job(struct conn *c, enum job_kind kind, const char *what,
    const char *path, const char *key)
{
	struct job *j;

	if ((j = job_new(kind, what)) == NULL)
		return NULL;
	j->uid = c->peer.uid;
	j->gid = c->peer.gid;
	j->prio = PRIO_INTERACTIVE;
	if ((path != NULL && (j->path = strdup(path)) == NULL) ||
	    (j->key = strdup(key)) == NULL) {
		job_free(j);
		return NULL;
	}
	return j;
}

static int
conn_store(struct conn *c, struct msg *m, int *fd)
{
	const char *path = msg_get_str(m, "path");
	const char *kp = msg_has(m, "key_path") ? msg_get_str(m, "key_path") :
	    path;
	int blocking = msg_get_bool(m, "blocking");
	char key[512], what[160];
	struct stat st;
	struct job *j;
	struct err e;

	if (path[0] != '/' || kp[0] != '/')
		return conn_refuse(c, "store: path and key_path must be "
		    "absolute (the client resolves them)");
	if (fstat(*fd, &st) == -1 || !S_ISREG(st.st_mode))
		return conn_refuse(c,
		    "store %s: only regular files can be stored", path);
	if (key_of(kp, key, sizeof(key), &e) == -1)
		return conn_refuse(c, "store %s: %s", path, e.msg);
	if (rights_check(c->who, RIGHTS_STORE, kp, *fd, &e) == -1)
		return conn_refuse(c, "store %s: %s", path, e.msg);
	snprintf(what, sizeof(what), "store %s", path);
	if ((j = conn_job(c, JOB_STORE, what, path, key)) == NULL ||
	    (j->key_path = strdup(kp)) == NULL) {
		if (j != NULL)
			job_free(j);
		return conn_refuse(c, "store %s: out of memory", path);
	}
	j->fd = *fd;
	*fd = -1;
	j->del = msg_get_bool(m, "delete") == 1;
	j->save_failure = msg_get_bool(m, "save_failure") == 1;
	j->background = !blocking;
	if (j->background) {
		j->prio = PRIO_BACKGROUND;
		control_reply(c, 1, NULL, NULL);	/* queued is enough */
	} else {
		j->conn = c;
		c->job = j;
	}
	sched_submit(j);
	return 0;
}

/* retrieve and check: the key of path as given, like the standalone ones. */
static int
conn_lookup(struct conn *c, struct msg *m, int *fd)
{
	const char *path = msg_get_str(m, "path"), *type = msg_type_name(m);
	int retrieve = msg_type(m) == MT_RETRIEVE;
	char key[512], what[160];
	struct stat st;
	struct job *j;
	struct err e;

	if (retrieve && (fstat(*fd, &st) == -1 || !S_ISREG(st.st_mode)))
		return conn_refuse(c, "retrieve %s: the descriptor must be a "
		    "regular file to write to", path);
	if (key_of(path, key, sizeof(key), &e) == -1)
		return conn_refuse(c, "%s %s: %s", type, path, e.msg);
	if (rights_check(c->who, retrieve ? RIGHTS_RETRIEVE : RIGHTS_SEARCH,
	    path, -1, &e) == -1)
		return conn_refuse(c, "%s %s: %s", type, path, e.msg);
	snprintf(what, sizeof(what), "%s %s", type, path);
	if ((j = conn_job(c, retrieve ? JOB_RETRIEVE : JOB_CHECK, what, path,
	    key)) == NULL)
		return conn_refuse(c, "%s %s: out of memory", type, path);
	if (retrieve) {
		j->fd = *fd;
		*fd = -1;
		j->progress = msg_get_bool(m, "progress") == 1;
		j->sync_output = c->pend != NULL;
	}
	j->conn = c;
	c->job = j;
	sched_submit(j);
	return 0;
}

static int
conn_rebuild(struct conn *c, struct msg *m)
{
	const char *path = msg_has(m, "path") ? msg_get_str(m, "path") : NULL;
	const char *key = msg_has(m, "key") ? msg_get_str(m, "key") : NULL;
	char buf[512], what[160];
	struct job *j;
	struct err e;

	if (path == NULL && key == NULL)
		return conn_refuse(c, "Either `file` or `key` argument must be "
		    "set");
	if (path != NULL && key != NULL)
		return conn_refuse(c,
		    "Only one of `file` or `key` argument must be set");
	if (path != NULL && key_of(path, buf, sizeof(buf), &e) == -1)
		return conn_refuse(c, "rebuild %s: %s", path, e.msg);
	if (path != NULL && rights_check(c->who, RIGHTS_SEARCH, path, -1,
	    &e) == -1)
		return conn_refuse(c, "rebuild %s: %s", path, e.msg);
	if (key != NULL && c->peer.uid != 0 && (master->admin_group ==
	    NULL || !rights_in_group(c->who, master->admin_gid)))
		return conn_refuse(c, "rebuild %s: not allowed: uid %d may not "
		    "rebuild by key; only root%s%s may", key, (int)c->peer.uid,
		    master->admin_group != NULL ? " or members of group " : "",
		    master->admin_group != NULL ? master->admin_group :
		    " (start zstor-master with --admin-group to name a group "
		    "that may too)");
	snprintf(what, sizeof(what), "rebuild %s", path != NULL ? path : key);
	if ((j = conn_job(c, JOB_REBUILD, what, path, path != NULL ? buf :
	    key)) == NULL)
		return conn_refuse(c, "%s: out of memory", what);
	j->conn = c;
	c->job = j;
	sched_submit(j);
	return 0;
}

static void
conn_log(const struct conn *c, const struct msg *m)
{
	const char *arg = NULL;
	int store = msg_type(m) == MT_STORE;

	if (msg_type(m) != MT_STATUS)
		arg = msg_has(m, "path") ? msg_get_str(m, "path") :
		    msg_get_str(m, "key");
	log_info("uid %d pid %d: %s%s%s%s%s", (int)c->peer.uid,
	    (int)c->peer.pid, msg_type_name(m), arg != NULL ? " " : "",
	    arg != NULL ? arg : "", store && msg_get_bool(m, "blocking") == 0 ?
	    " (background)" : "", store && msg_get_bool(m, "delete") == 1 ?
	    " (delete)" : "");
}

/* The id of a request that failed the strict checks, so that the error
 * reply still carries it when it can be read at all. */
static int64_t
conn_guess_id(const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	int64_t v = 0;

	if (cJSON_IsNumber(id) && id->valuedouble >= 0 &&
	    id->valuedouble <= (double)MSG_INT_MAX &&
	    id->valuedouble == (double)(int64_t)id->valuedouble)
		v = (int64_t)id->valuedouble;
	cJSON_Delete(root);
	return v;
}

/* Who is asking, with its groups (and its umask for upstream's clients, whose
 * files the daemon makes): read once the request is in. */
static int
conn_identify(struct conn *c, int with_umask)
{
	struct err e;

	if ((c->who = malloc(sizeof(*c->who))) == NULL)
		return conn_refuse(c, "out of memory");
	if (rights_identify(c->fd, c->who, with_umask, &e) == -1)
		return conn_refuse(c, "who is asking: %s", e.msg);
	return 0;
}

/* A request of either protocol, checked and with its descriptor (the
 * client's, or one the master opened as the client). Takes fd. */
static void
conn_dispatch(struct conn *c, struct msg *m, int fd)
{
	if (master->stopping)
		conn_refuse(c, "zstor-master is shutting down");
	else {
		conn_log(c, m);
		switch (msg_type(m)) {
		case MT_STORE:
			conn_store(c, m, &fd);
			break;
		case MT_RETRIEVE:
		case MT_CHECK:
			conn_lookup(c, m, &fd);
			break;
		case MT_REBUILD:
			conn_rebuild(c, m);
			break;
		case MT_STATUS:
			conn_status(c);
			break;
		default:
			conn_refuse(c, "%s: zstor-master does not answer this "
			    "request in this version", msg_type_name(m));
		}
	}
	if (fd != -1)
		close(fd);
}

/* One request frame with its nfds descriptors, which are ours to close. */
static void
conn_request(struct conn *c, const char *json, size_t len, const int *fds,
    int nfds)
{
	struct msg *m;
	struct err e;
	int fd = nfds > 0 ? fds[0] : -1, i;

	if ((m = msg_parse(json, len, MSG_CLIENT_TO_MASTER, &e)) == NULL) {
		c->req_id = conn_guess_id(json, len);
		conn_refuse(c, "%s", e.msg);
	} else {
		c->req_id = msg_id(m);
		if (msg_check_fds(m, nfds, &e) == -1)
			conn_refuse(c, "%s", e.msg);
		else if (conn_identify(c, 0) == 0) {
			conn_dispatch(c, m, fd);
			fd = -1;
		}
	}
	msg_free(m);
	if (fd != -1)
		close(fd);
	for (i = 1; i < nfds; i++)
		close(fds[i]);
}

/* Upstream's request: the master opens, as the client, what our client
 * would have passed. */
static void
conn_upstream_request(struct conn *c)
{
	struct msg *m;
	struct err e;
	int fd = -1;

	if ((m = upstream_parse(c->up_body, c->up_len, &e)) == NULL) {
		conn_refuse(c, "%s", e.msg);
		return;
	}
	if (conn_identify(c, 1) == 0) {
		if (!master->stopping && upstream_prepare(c->who, m, &fd,
		    &c->pend, &e) == -1)
			conn_refuse(c, "%s %s: %s", msg_type_name(m),
			    msg_get_str(m, "path") != NULL ? msg_get_str(m,
			    "path") : "", e.msg);
		else
			conn_dispatch(c, m, fd);
	}
	msg_free(m);
}

static void
conn_on_timeout(int sock, short ev, void *arg)
{
	(void)sock;
	(void)ev;
	char msg[80];

	snprintf(msg, sizeof(msg), "no complete request within %d s",
	    master->request_secs);
	conn_refuse_limit(arg, msg);
}

/* The bytes the unfinished frame of c may hold, from its header: checked
 * against the pool as soon as the header is in. */
static int
conn_reserve(struct conn *c, struct err *e)
{
	size_t want = c->rd.hlen == IPC_FRAME_HDR ? c->rd.blen : 0;

	return want == c->held ? 0 : admit_bytes(&c->held, want, e);
}

/* Our frames, after the first bytes were read to tell the protocols apart. */
static void
conn_read_v1(struct conn *c)
{
	struct err e;
	char *json;
	size_t len;
	int fds[IPC_FDS_MAX], nfds, fed = 1, rc;

	if (c->nsniff > 0) {
		rc = frame_reader_preload(&c->rd, c->sniff, c->nsniff,
		    c->sniff_fds, c->nsniff_fds, &e);
		c->nsniff = 0;
		c->nsniff_fds = 0;
		if (rc == -1) {
			conn_refuse(c, "%s", e.msg);
			return;
		}
	} else if ((fed = frame_reader_feed(&c->rd, c->fd, &e)) == -1) {
		conn_refuse(c, "%s", e.msg);
		return;
	}
	if (conn_reserve(c, &e) == -1) {
		conn_refuse_limit(c, e.msg);
		return;
	}
	if ((rc = frame_next(&c->rd, &json, &len, fds, &nfds, &e)) == -1) {
		conn_refuse(c, "%s", e.msg);
		return;
	}
	if (rc == 0) {
		if (fed == 0) {
			log_debug("uid %d pid %d: closed without a request",
			    (int)c->peer.uid, (int)c->peer.pid);
			conn_close(c);
		}
		return;
	}
	event_del(c->rd_ev);
	event_del(c->timer_ev);
	(void)admit_bytes(&c->held, 0, NULL);	/* out of the reader now */
	conn_request(c, json, len, fds, nfds);	/* may close c */
	free(json);
}

/* Upstream's frame: the length from the first bytes, then the body. */
static void
conn_read_upstream(struct conn *c)
{
	int fds[IPC_FDS_MAX], nfds;
	struct err e;
	ssize_t n;

	if (c->up_body == NULL) {
		c->up_len = (size_t)c->sniff[0] << 8 | c->sniff[1];
		if (c->up_len < UPSTREAM_SNIFF - UPSTREAM_HDR) {
			conn_refuse(c, "upstream request of %zu bytes",
			    c->up_len);
			return;
		}
		if (admit_bytes(&c->held, c->up_len, &e) == -1) {
			conn_refuse_limit(c, e.msg);
			return;
		}
		if ((c->up_body = malloc(c->up_len)) == NULL) {
			conn_refuse(c, "out of memory");
			return;
		}
		c->up_got = UPSTREAM_SNIFF - UPSTREAM_HDR;
		memcpy(c->up_body, c->sniff + UPSTREAM_HDR, c->up_got);
	}
	while (c->up_got < c->up_len) {
		n = frame_recv_some(c->fd, c->up_body + c->up_got, c->up_len -
		    c->up_got, fds, &nfds, &e);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (nfds > 0) {
			close_all(fds, nfds);
			n = err_set(&e, "a descriptor came with an upstream "
			    "request (that protocol has none)");
		}
		if (n <= 0) {
			conn_refuse(c, "%s", n == 0 ? "the connection closed "
			    "in the middle of a request" : e.msg);
			return;
		}
		c->up_got += (size_t)n;
	}
	event_del(c->rd_ev);
	event_del(c->timer_ev);
	conn_upstream_request(c);		/* may close c */
}

/* The first UPSTREAM_SNIFF bytes say which protocol the client speaks; a
 * descriptor may come with the first of them (ours), never with the others. */
static int
conn_sniff(struct conn *c)
{
	int fds[IPC_FDS_MAX], nfds;
	struct err e;
	ssize_t n;

	while (c->nsniff < UPSTREAM_SNIFF) {
		n = frame_recv_some(c->fd, c->sniff + c->nsniff,
		    c->nsniff == 0 ? 1 : UPSTREAM_SNIFF - c->nsniff, fds, &nfds,
		    &e);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (nfds > 0 && c->nsniff == 0) {
			memcpy(c->sniff_fds, fds, sizeof(int) * (size_t)nfds);
			c->nsniff_fds = nfds;
		} else if (nfds > 0) {
			close_all(fds, nfds);
			n = err_set(&e, "a file descriptor arrived in the "
			    "middle of a frame (it must come with the frame's "
			    "first byte)");
		}
		if (n == 0 && c->nsniff == 0) {
			log_debug("uid %d pid %d: closed without a request",
			    (int)c->peer.uid, (int)c->peer.pid);
			conn_close(c);
			return -1;
		}
		if (n <= 0)
			return conn_refuse(c, "%s", n == 0 ? "peer closed the "
			    "connection in the middle of a frame" : e.msg);
		c->nsniff += (size_t)n;
	}
	c->proto = frame_is_upstream(c->sniff) ? PROTO_UPSTREAM : PROTO_V1;
	if (c->proto == PROTO_UPSTREAM && c->nsniff_fds > 0)
		return conn_refuse(c, "a descriptor came with an upstream "
		    "request (that protocol has none)");
	return 1;
}

static void
conn_on_read(int sock, short ev, void *arg)
{
	struct conn *c = arg;

	(void)sock;
	(void)ev;
	if (c->proto == PROTO_SNIFF && conn_sniff(c) != 1)
		return;
	if (c->proto == PROTO_V1)
		conn_read_v1(c);
	else
		conn_read_upstream(c);
}

void
control_refuse_fd(int fd, const char *why)
{
	struct msg *m;
	struct err e;
	uint8_t *frame;
	char *json;
	size_t len;

	if ((m = msg_new(MT_REPLY, 0, &e)) == NULL)
		return;
	msg_set_bool(m, "ok", 0);
	msg_set_str(m, "error", why);
	json = msg_encode(m, &len, &e);
	msg_free(m);
	if (json != NULL && (frame = malloc(len + IPC_FRAME_HDR)) != NULL) {
		frame[0] = (uint8_t)(len >> 24);
		frame[1] = (uint8_t)(len >> 16);
		frame[2] = (uint8_t)(len >> 8);
		frame[3] = (uint8_t)len;
		memcpy(frame + IPC_FRAME_HDR, json, len);
		/* an empty socket buffer takes it whole; else it is dropped */
		(void)!send(fd, frame, len + IPC_FRAME_HDR, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		free(frame);
	}
	cJSON_free(json);
}

static void
conn_new(int fd)
{
	struct timeval tv = { master->request_secs, 0 };
	socklen_t len = sizeof(struct ucred);
	struct conn *c;
	struct err e;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		admit_log(ADMIT_LOG_OTHER, "out of memory for a connection");
		close(fd);
		return;
	}
	c->fd = fd;
	LIST_INSERT_HEAD(&conns, c, entry);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) == -1) {
		log_warn("SO_PEERCRED");
		c->peer.uid = (uid_t)-1;
		c->peer.gid = (gid_t)-1;
	}
	if (admit_take(c->peer.uid, &e) == -1) {
		admit_log(ADMIT_LOG_CONN, "uid %d pid %d: refused: %s",
		    (int)c->peer.uid, (int)c->peer.pid, e.msg);
		control_refuse_fd(fd, e.msg);
		LIST_REMOVE(c, entry);
		close(fd);
		free(c);
		return;
	}
	c->admitted = 1;
	frame_reader_init(&c->rd);
	frame_reader_limit(&c->rd, CLIENT_FRAME_MAX);
	c->rd_ev = event_new(master->base, fd, EV_READ | EV_PERSIST,
	    conn_on_read, c);
	c->wr_ev = event_new(master->base, fd, EV_WRITE, conn_on_write, c);
	c->timer_ev = evtimer_new(master->base, conn_on_timeout, c);
	if (c->rd_ev == NULL || c->wr_ev == NULL || c->timer_ev == NULL)
		fatalx("out of memory for the events of a connection");
	event_add(c->rd_ev, NULL);
	evtimer_add(c->timer_ev, &tv);
}

static void
control_on_resume(int sock, short ev, void *arg)
{
	(void)sock;
	(void)ev;
	(void)arg;
	if (listen_ev != NULL)
		event_add(listen_ev, NULL);
}

/* Out of descriptors: stop watching the socket for a second rather than
 * wake up for the same waiting client again and again. */
static void
control_pause(void)
{
	struct timeval tv = { 1, 0 };

	event_del(listen_ev);
	evtimer_add(pause_ev, &tv);
}

static void
control_on_accept(int sock, short ev, void *arg)
{
	int fd, n;

	(void)ev;
	(void)arg;
	/* A bounded batch: the loop serves the clients already in between. */
	for (n = 0; n < 256; n++) {
		if ((fd = accept4(sock, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) != -1) {
			conn_new(fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			if (admit_no_fds(sock, errno) == -1) {
				control_pause();
				return;
			}
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			admit_log(ADMIT_LOG_OTHER, "accept on the control "
			    "socket: %s", strerror(errno));
		return;
	}
}

/* Binds the socket in place of a stale one (a daemon killed with SIGKILL
 * leaves it behind); mode 0660: the socket's group may use the daemon. Its
 * directory must be one where no one else can replace it (trust.c). */
int
control_listen(const char *path, struct err *e)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return err_set(e, "socket path %s is too long (at most %zu "
		    "bytes)", path, sizeof(sun.sun_path) - 1);
	if (trust_parent(path, e) == -1)
		return -1;
	if ((listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return err_set(e, "socket: %s", strerror(errno));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove the old socket %s", path);
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return err_set(e, "Failed to bind unix socket %s: %s", path,
		    strerror(errno));
	if (chmod(path, 0660) == -1)
		return err_set(e, "chmod %s: %s", path, strerror(errno));
	if (listen(listen_fd, 512) == -1)
		return err_set(e, "listen on %s: %s", path, strerror(errno));
	admit_init();
	listen_ev = event_new(master->base, listen_fd, EV_READ | EV_PERSIST,
	    control_on_accept, NULL);
	pause_ev = evtimer_new(master->base, control_on_resume, NULL);
	if (listen_ev == NULL || pause_ev == NULL ||
	    event_add(listen_ev, NULL) == -1)
		return err_set(e, "cannot watch the control socket");
	return 0;
}

/* No new connections; the socket file goes. Connections already accepted
 * are answered; with exiting, what is left of them is closed. */
void
control_close(int exiting)
{
	while (exiting && !LIST_EMPTY(&conns))
		conn_close(LIST_FIRST(&conns));
	if (listen_fd == -1)
		return;
	event_free(listen_ev);
	listen_ev = NULL;
	event_free(pause_ev);
	pause_ev = NULL;
	close(listen_fd);
	listen_fd = -1;
	if (unlink(master->sock_path) == -1 && errno != ENOENT)
		log_warn("cannot remove the socket %s", master->sock_path);
}
