/* The event loop: one listener (TCP or unix socket), one bufferevent per
 * client, requests run one at a time per connection in arrival order. The
 * faults that are about time and liveness live here: a hang parks every parsed
 * request until the fault is lifted, a slow fault holds each reply back, and
 * down ends the process the way a crash would. */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "zdbd.h"

struct server;

struct conn {
	struct server		*srv;
	struct session		 sess;
	struct bufferevent	*bev;
	struct request		 req;
	int			 parsed;	/* req holds a request not yet
						 * run */
	struct evbuffer		*reply;		/* replies not yet handed out */
	struct event		*delay;		/* slow fault: reply release */
	int			 delaying;
	int			 closing;	/* drop once the output is
						 * out */
	TAILQ_ENTRY(conn)	 link;
};

struct server {
	struct zdbd		*zdbd;
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct event		*resume;	/* wakes parked requests */
	int			 down;
	TAILQ_HEAD(, conn)	 conns;
};

static void conn_process(struct conn *);

static void
conn_free(struct conn *c)
{
	TAILQ_REMOVE(&c->srv->conns, c, link);
	TAILQ_REMOVE(&c->srv->zdbd->sessions, &c->sess, link);
	resp_request_reset(&c->req);
	bufferevent_free(c->bev);
	evbuffer_free(c->reply);
	event_free(c->delay);
	free(c);
}

/* Ends the connection once what was written to it has left. */
static void
conn_close_soon(struct conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (!c->delaying &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

/* Writes n bytes of out, waiting for room; drops what is left when the
 * client went away (its bufferevent then reports it). */
static void
conn_write_n(int fd, struct evbuffer *out, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int w;

	while (n > 0) {
		if ((w = evbuffer_write_atmost(out, fd, (ev_ssize_t)n)) > 0) {
			n -= (size_t)w;
			continue;
		}
		if (w == 0 || (errno != EAGAIN && errno != EINTR)) {
			evbuffer_drain(out, evbuffer_get_length(out));
			return;
		}
		(void)poll(&pfd, 1, 1000);
	}
}

/* The chop fault: what a flush hands out goes in pieces, cut where a client's
 * reader may trip (after a bulk string's '$', after its header and some of
 * its value, before its final LF or CRLF), with a pause after each piece so
 * that the client reads it alone. The loop waits meanwhile: a test tool. */
static void
conn_flush_chopped(struct conn *c, struct evbuffer *out)
{
	static unsigned turn;
	size_t len = evbuffer_get_length(out), at = 0, end, cut[2];
	unsigned k;

	cut[0] = 1, cut[1] = len;
	if (turn % 3 == 1)
		cut[0] = 100, cut[1] = len - 1;
	else if (turn % 3 == 2)
		cut[0] = 20, cut[1] = len - 2;
	turn++;
	for (k = 0; at < len; k++) {
		end = k < 2 && cut[k] > at && cut[k] < len ? cut[k] : len;
		conn_write_n(bufferevent_getfd(c->bev), out, end - at);
		at = end;
		if (at < len)
			usleep(2000);
	}
}

/* Each reply goes out with a write of its own, with Nagle on, as 0-db
 * sends them: a client that pipelines must not wait for the kernel's
 * delayed ACK between replies (what is left is written by the bufferevent,
 * which keeps the start of its output frozen otherwise). */
static void
conn_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	bufferevent_write_buffer(c->bev, c->reply);
	evbuffer_unfreeze(out, 1);
	if (c->srv->zdbd->fault == FAULT_CHOP)
		conn_flush_chopped(c, out);
	else
		(void)evbuffer_write(out, bufferevent_getfd(c->bev));
	evbuffer_freeze(out, 1);
}

static void
delay_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->delaying = 0;
	conn_flush(c);
	if (c->closing)
		conn_close_soon(c);
	else
		conn_process(c);
}

/* Hands the reply out now, or after the slow fault's delay. */
static void
conn_release_reply(struct conn *c)
{
	struct timeval tv;
	unsigned ms = c->srv->zdbd->fault_ms;

	if (c->srv->zdbd->fault != FAULT_SLOW) {
		conn_flush(c);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	c->delaying = 1;
	evtimer_add(c->delay, &tv);
}

/* "down": answer the one who asked, then stop the loop; server_run then closes
 * the listener and every client at once and the process exits, as in a
 * crash. */
static void
server_go_down(struct server *s, struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	conn_flush(c);
	/* A bufferevent keeps the start of its output frozen; this last write
	 * goes out by hand, since the loop will not run again. */
	evbuffer_unfreeze(out, 1);
	evbuffer_write(out, bufferevent_getfd(c->bev));
	s->down = 1;
	event_base_loopbreak(s->base);
}

static enum cmd_result
conn_run(struct conn *c)
{
	struct zdbd *z = c->srv->zdbd;
	struct call call;
	enum fault before = z->fault;
	enum cmd_result res;

	call.srv = z;
	call.sess = &c->sess;
	call.argc = c->req.argc;
	call.argv = c->req.argv;
	call.argl = c->req.argl;
	call.out = c->reply;
	res = cmd_dispatch(&call);
	resp_request_reset(&c->req);
	c->parsed = 0;
	if (before == FAULT_HANG && z->fault != FAULT_HANG)
		event_active(c->srv->resume, 0, 0);
	return res;
}

/* Runs every complete request in the input, in order, until one must wait. */
static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct zdbd *z = c->srv->zdbd;
	enum cmd_result res;

	while (!c->delaying && !c->closing && !c->srv->down) {
		if (!c->parsed) {
			switch (resp_parse(&c->req, in, c->reply)) {
			case PARSE_MORE:
				return;
			case PARSE_SKIP:
				conn_flush(c);
				continue;
			case PARSE_CLOSE:
				conn_flush(c);
				conn_close_soon(c);
				return;
			case PARSE_DONE:
				c->parsed = 1;
				break;
			}
		}
		if (z->fault == FAULT_HANG &&
		    !cmd_is_fault_control(c->req.argv[0], c->req.argl[0]))
			return;		/* parked until the hang is lifted */
		res = conn_run(c);
		if (res == CMD_DOWN) {
			server_go_down(c->srv, c);
			return;
		}
		conn_release_reply(c);
		if (res == CMD_CLOSE) {
			conn_close_soon(c);	/* may free c */
			return;
		}
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&s->conns); c != NULL && !s->down; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_process(c);
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing && !c->delaying)
		conn_free(c);
}

/* The peer went away. Replies still queued are dropped with the socket. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct server *s = arg;
	struct conn *c;

	(void)l;
	(void)sa;
	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->reply = evbuffer_new()) == NULL ||
	    (c->delay = evtimer_new(s->base, delay_done_cb, c)) == NULL ||
	    (c->bev = bufferevent_socket_new(s->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("out of memory for a new client");
		if (c != NULL) {
			if (c->reply != NULL)
				evbuffer_free(c->reply);
			if (c->delay != NULL)
				event_free(c->delay);
			free(c);
		}
		close(fd);
		return;
	}
	c->srv = s;
	c->sess.ns = TAILQ_FIRST(&s->zdbd->spaces);	/* "default" */
	c->sess.writable = 1;
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	TAILQ_INSERT_TAIL(&s->zdbd->sessions, &c->sess, link);
	s->zdbd->clients_lifetime++;
	/* Big reads keep an 8 MiB SET from taking hundreds of callbacks. */
	bufferevent_set_max_single_read(c->bev, 1024 * 1024);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static struct evconnlistener *
listen_unix(struct server *s, const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("unix socket path too long: %s", path);
	/* A socket file left by an earlier (killed) run would block the
	 * bind. */
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);
	return evconnlistener_new_bind(s->base, accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof(sun));
}

static struct evconnlistener *
listen_tcp(struct server *s, const char *host, int port)
{
	struct addrinfo hints, *res, *ai;
	struct evconnlistener *l = NULL;
	char service[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0)
		fatalx("cannot resolve listen address %s: %s", host,
		    gai_strerror(rc));
	/* Reusable: a restarted double must get its port back at once. */
	for (ai = res; ai != NULL && l == NULL; ai = ai->ai_next)
		l = evconnlistener_new_bind(s->base, accept_cb, s,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
		    LEV_OPT_REUSEABLE, 128, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(res);
	return l;
}

static void
write_pidfile(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		fatal("cannot write pidfile %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF)
		fatal("cannot write pidfile %s", path);
}

/* Closes the listener and every client, as the kernel would for a dead process;
 * freeing it all keeps leak checkers quiet in sanitizer builds. */
static void
server_close(struct server *s)
{
	struct conn *c;

	evconnlistener_free(s->listener);
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_free(c);
	event_free(s->resume);
	event_base_free(s->base);
}

int
server_run(struct zdbd *z, const struct server_opts *o)
{
	struct server s;

	memset(&s, 0, sizeof(s));
	s.zdbd = z;
	TAILQ_INIT(&s.conns);
	if ((s.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((s.resume = event_new(s.base, -1, 0, resume_cb, &s)) == NULL)
		fatalx("cannot create the resume event");
	s.listener = o->socket_path != NULL ? listen_unix(&s, o->socket_path) :
	    listen_tcp(&s, o->listen, o->port);
	if (s.listener == NULL)
		fatal("cannot listen on %s",
		    o->socket_path != NULL ? o->socket_path : o->listen);
	if (o->pidfile != NULL)
		write_pidfile(o->pidfile);
	/* Only "down" stops the loop (--fault down: a server that dies at
	 * once). */
	if (z->fault != FAULT_DOWN)
		event_base_dispatch(s.base);
	server_close(&s);
	return 0;
}
