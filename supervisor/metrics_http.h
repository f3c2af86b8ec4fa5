/* The metrics endpoint: GET /metrics on [::]:prometheus_port (metrics_http.c
 * says how it stays small and never blocks the master). */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include "err.h"

/* at once; more wait in the backlog */
#define HTTP_CONNS_MAX		128
#define HTTP_BACKLOG		128
/* the request line and headers */
#define HTTP_HEADERS_MAX	8192
#define HTTP_BODY_MAX		1024
/* a read or write without progress */
#define HTTP_IDLE_SECS		5
/* to send a whole request and read its reply */
#define HTTP_REQUEST_SECS	10
/* bytes read ahead of evhttp */
#define HTTP_READ_MAX		(64 * 1024)
/* how soon connections evhttp closed are let go */
#define HTTP_SWEEP_MS		250

struct event_base;
struct evhttp;

/* An evhttp server with the endpoint's handler and limits, not listening
 * (the fuzzer drives one; the master uses metrics_http_listen). */
struct evhttp	*metrics_http_new(struct event_base *base);
/* Sets up the master's server once. */
int	metrics_http_start(struct event_base *base, struct err *e);
/* Serves on listening socket fd (instead of any earlier one). */
int	metrics_http_accept(int fd, struct err *e);
/* Serves on [::]:port, instead of any earlier port; 0 when already there.
 * Connections open on an earlier port are served to their end. */
int	metrics_http_listen(struct event_base *base, int port,
	    struct err *e);
/* Stops listening; open connections are served to their end. */
void	metrics_http_unlisten(void);
/* Closes everything (exit). */
void	metrics_http_stop(void);
/* Connections open now. */
int	metrics_http_connections(void);
/* Lets go of the connections evhttp closed (a timer does it every
 * HTTP_SWEEP_MS; the fuzzer calls it at once). */
void	metrics_http_sweep(void);

#endif
