/* GET /metrics over HTTP (libevent's evhttp), on [::]:prometheus_port, for
 * Prometheus. It runs in the master's loop and must never hold it up, nor let
 * a client make the master grow:
 *
 *   - a request's headers are at most HTTP_HEADERS_MAX bytes and its body
 *     HTTP_BODY_MAX (a scrape has none);
 *   - a read or write that makes no progress for HTTP_IDLE_SECS closes the
 *     connection (evhttp's timeout), and so does a connection that has not
 *     sent a whole request, and been answered, HTTP_REQUEST_SECS after it
 *     opened or after its last request (a client trickling bytes in);
 *   - at most HTTP_CONNS_MAX connections at once: at the limit the listening
 *     socket is not read, and new clients wait in the kernel's backlog until
 *     one goes.
 *
 * evhttp has no hook for a connection's end. Each connection's bufferevent
 * is made here (evhttp's bevcb) and one reference to it kept: evhttp frees
 * it by dropping its own and clearing its callbacks, which a sweep every
 * HTTP_SWEEP_MS notices; dropping ours then closes the socket. Holding the
 * reference also keeps every bufferevent this file touches alive. */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

struct hconn {
	LIST_ENTRY(hconn)	 entry;
	struct bufferevent	*bev;	/* evhttp's; one ref ours */
	struct event		*deadline;
};

static struct evhttp			*http;
static struct evhttp_bound_socket	*bound;
static int				 bound_port = -1;
static LIST_HEAD(, hconn)		 hconns =
    LIST_HEAD_INITIALIZER(hconns);
static int				 nconns;
static int				 paused;
static struct event			*sweep_ev;

static void
listener_pause(int pause)
{
	struct evconnlistener *l;

	if (bound == NULL || pause == paused)
		return;
	l = evhttp_bound_socket_get_listener(bound);
	if (pause ? evconnlistener_disable(l) : evconnlistener_enable(l)) {
		log_warnx("metrics: cannot %s the listening socket",
		    pause ? "pause" : "resume");
		return;
	}
	paused = pause;
	if (pause)
		log_debug("metrics: %d connections, the most taken; new ones "
		    "wait", nconns);
}

/* Whether evhttp still uses the connection: freeing it clears its
 * callbacks (and before evhttp set them, the sweep cannot run). */
static int
hconn_alive(const struct hconn *c)
{
	bufferevent_event_cb eventcb;

	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
	return eventcb != NULL;
}

static void
hconn_arm(struct hconn *c)
{
	struct timeval tv = { HTTP_REQUEST_SECS, 0 };

	evtimer_add(c->deadline, &tv);
}

/* The connection took too long: evhttp closes it as after its own
 * timeout. */
static void
hconn_on_deadline(int fd, short ev, void *arg)
{
	struct hconn *c = arg;

	(void)fd;
	(void)ev;
	if (!hconn_alive(c))
		return;
	metric_inc(MX(MF_HTTP_TIMEOUTS), 1);
	bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
	    BEV_TRIG_DEFER_CALLBACKS);
}

static void
sweep_arm(void)
{
	struct timeval tv = { 0, HTTP_SWEEP_MS * 1000 };

	if (sweep_ev != NULL && !evtimer_pending(sweep_ev, NULL))
		evtimer_add(sweep_ev, &tv);
}

void
metrics_http_sweep(void)
{
	struct hconn *c, *next;

	for (c = LIST_FIRST(&hconns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (hconn_alive(c))
			continue;
		LIST_REMOVE(c, entry);
		event_free(c->deadline);
		bufferevent_decref(c->bev);	/* the last ref: closes it */
		free(c);
		nconns--;
	}
	metric_set(MX(MF_HTTP_CONNECTIONS), nconns);
	if (nconns < HTTP_CONNS_MAX)
		listener_pause(0);
	if (nconns > 0)
		sweep_arm();
}

static void
sweep_on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	metrics_http_sweep();
}

/* evhttp asks for each new connection's bufferevent (it sets the socket
 * on it). NULL lets evhttp make its own, uncounted: only when out of
 * memory. */
static struct bufferevent *
hconn_new(struct event_base *b, void *arg)
{
	struct hconn *c;

	(void)arg;
	if (sweep_ev == NULL &&
	    (sweep_ev = evtimer_new(b, sweep_on_timer, NULL)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->deadline = evtimer_new(b, hconn_on_deadline, c)) == NULL ||
	    (c->bev = bufferevent_socket_new(b, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL) {
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		return NULL;
	}
	bufferevent_incref(c->bev);
	/* Past what a request may hold, reading stops until evhttp takes
	 * some; a connection evhttp has let go reads no more than this. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_READ_MAX);
	LIST_INSERT_HEAD(&hconns, c, entry);
	nconns++;
	metric_set(MX(MF_HTTP_CONNECTIONS), nconns);
	hconn_arm(c);
	sweep_arm();
	if (nconns >= HTTP_CONNS_MAX)
		listener_pause(1);
	return c->bev;
}

/* A request came whole: its connection has HTTP_REQUEST_SECS again, for
 * the reply and the next request. */
static void
hconn_rearm(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct hconn *c;

	if (evcon == NULL)
		return;
	bev = evhttp_connection_get_bufferevent(evcon);
	LIST_FOREACH(c, &hconns, entry)
		if (c->bev == bev) {
			hconn_arm(c);
			return;
		}
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(oh, "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add(b, text, strlen(text));
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
reply_metrics(struct evhttp_request *req)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct evbuffer *b;
	char len[32];

	metric_inc(MX(MF_SCRAPES), 1);
	if ((b = evbuffer_new()) == NULL || metrics_render(b) == -1) {
		if (b != NULL)
			evbuffer_free(b);
		reply_text(req, 500, "Internal Server Error",
		    "out of memory for the metrics; try again\n");
		return;
	}
	evhttp_add_header(oh, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp would send the body of a HEAD reply */
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(b));
		evhttp_add_header(oh, "Content-Length", len);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else
		evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
http_on_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	(void)arg;
	hconn_rearm(req);
	if (req->major != 1) {
		/* evhttp would answer in the client's version */
		req->major = 1;
		req->minor = 0;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		reply_text(req, 505, "HTTP Version Not Supported",
		    "HTTP/1.0 and HTTP/1.1 only\n");
	} else if (path == NULL || strcmp(path, "/metrics") != 0)
		reply_text(req, 404, "Not Found",
		    "not found: the metrics are at /metrics\n");
	else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "/metrics takes GET and HEAD only\n");
	} else
		reply_metrics(req);
}

struct evhttp *
metrics_http_new(struct event_base *b)
{
	struct evhttp *h;

	if ((h = evhttp_new(b)) == NULL)
		return NULL;
	evhttp_set_max_headers_size(h, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h, HTTP_BODY_MAX);
	evhttp_set_timeout(h, HTTP_IDLE_SECS);
	/* every method evhttp knows reaches us: 404 or 405, not 501 */
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(h, NULL);
	evhttp_set_gencb(h, http_on_request, NULL);
	evhttp_set_bevcb(h, hconn_new, NULL);
	return h;
}

/* A listening TCP socket on [::]:port, also for IPv4 clients; 0.0.0.0 when
 * the kernel has no IPv6. */
static int
listen_socket(int port, struct err *e)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd, on = 1, off = 0, v6 = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
		v6 = 0;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	}
	if (fd == -1)
		return err_set(e, "metrics: socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&s6, 0, sizeof(s6));
	memset(&s4, 0, sizeof(s4));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)port);
	s6.sin6_addr = in6addr_any;
	s4.sin_family = AF_INET;
	s4.sin_port = htons((uint16_t)port);
	s4.sin_addr.s_addr = htonl(INADDR_ANY);
	if ((v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
	    sizeof(off)) == -1) ||
	    (v6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6)) :
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4))) == -1 ||
	    listen(fd, HTTP_BACKLOG) == -1) {
		err_set(e, "metrics: cannot listen on %s:%d: %s (is another "
		    "program using prometheus_port?)", v6 ? "[::]" : "0.0.0.0",
		    port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
metrics_http_accept(int fd, struct err *e)
{
	struct evhttp_bound_socket *b;

	if (http == NULL)
		return err_set(e, "metrics: the HTTP server is not set up");
	if ((b = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		return err_set(e, "metrics: out of memory for the listening "
		    "socket");
	if (bound != NULL)
		evhttp_del_accept_socket(http, bound);
	bound = b;
	paused = 0;
	if (nconns >= HTTP_CONNS_MAX)
		listener_pause(1);
	return 0;
}

int
metrics_http_start(struct event_base *b, struct err *e)
{
	if (http == NULL && (http = metrics_http_new(b)) == NULL)
		return err_set(e, "metrics: out of memory for the HTTP "
		    "server");
	return 0;
}

int
metrics_http_listen(struct event_base *b, int port, struct err *e)
{
	int fd;

	if (port == bound_port && bound != NULL)
		return 0;
	if (metrics_http_start(b, e) == -1 ||
	    (fd = listen_socket(port, e)) == -1)
		return -1;
	if (metrics_http_accept(fd, e) == -1) {
		close(fd);
		return -1;
	}
	bound_port = port;
	log_info("metrics: serving GET /metrics on port %d", port);
	return 0;
}

void
metrics_http_unlisten(void)
{
	if (bound == NULL)
		return;
	evhttp_del_accept_socket(http, bound);
	bound = NULL;
	bound_port = -1;
	paused = 0;
	log_info("metrics: no longer served (no prometheus_port)");
}

void
metrics_http_stop(void)
{
	if (http == NULL)
		return;
	evhttp_free(http);
	metrics_http_sweep();
	http = NULL;
	bound = NULL;
	bound_port = -1;
	paused = 0;
}

int
metrics_http_connections(void)
{
	return nconns;
}
