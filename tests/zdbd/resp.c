/* RESP2 as 0-db speaks it: requests are arrays of bulk strings, parsed
 * incrementally from a connection's input buffer; replies are written into an
 * output buffer. Error texts and the close-or-continue choice follow 0-db
 * v2.0.7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "zdbd.h"

#define HEADER_LINE_MAX 64	/* "*N" and "$len" lines are short */

/* 1: a line was read into buf; 0: not there yet; -1: no CRLF where one must
 * be. */
static int
read_header_line(struct evbuffer *in, char *buf, size_t cap)
{
	struct evbuffer_ptr eol;
	size_t eol_len;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);
	if (eol.pos < 0)
		return evbuffer_get_length(in) > cap ? -1 : 0;
	if ((size_t)eol.pos >= cap)
		return -1;
	evbuffer_remove(in, buf, (size_t)eol.pos);
	buf[eol.pos] = '\0';
	evbuffer_drain(in, eol_len);
	return 1;
}

void
resp_request_reset(struct request *r)
{
	int i;

	for (i = 0; i < r->have; i++) {
		free(r->argv[i]);
		r->argv[i] = NULL;
	}
	r->state = REQ_ARRAY;
	r->argc = r->have = 0;
	r->need = 0;
}

/* "*N": anything that does not start with '*' is an inline command, which 0-db
 * refuses and answers by hanging up. */
static int
step_array(struct request *r, struct evbuffer *in, struct evbuffer *out,
    enum parse_result *res)
{
	char line[HEADER_LINE_MAX];
	unsigned char first;
	long n;
	int got;

	*res = PARSE_MORE;
	if (evbuffer_copyout(in, &first, 1) != 1)
		return 0;
	if (first != '*') {
		reply_error(out, "Malformed request, array expected");
		*res = PARSE_CLOSE;
		return 0;
	}
	if ((got = read_header_line(in, line, sizeof(line))) <= 0) {
		if (got < 0) {
			reply_error(out, "Malformed request, array expected");
			*res = PARSE_CLOSE;
		}
		return 0;
	}
	n = strtol(line + 1, NULL, 10);
	if (n <= 0 || n > ZDBD_MAX_ARGS) {
		reply_error(out, n <= 0 ? "Missing arguments" :
		    "Too many arguments");
		*res = PARSE_SKIP;
		return 0;
	}
	r->argc = (int)n;
	r->state = REQ_ARGLEN;
	return 1;
}

/* "$len": the size limit is enforced here, before any payload is read, so an
 * oversized value costs the server nothing; the client is dropped as 0-db
 * does. */
static int
step_arglen(struct request *r, struct evbuffer *in, struct evbuffer *out,
    enum parse_result *res)
{
	char line[HEADER_LINE_MAX];
	long long len;
	int got;

	*res = PARSE_MORE;
	if ((got = read_header_line(in, line, sizeof(line))) == 0)
		return 0;
	if (got < 0 || line[0] != '$' ||
	    (len = strtoll(line + 1, NULL, 10)) < 0) {
		reply_error(out, "Malformed query string");
		resp_request_reset(r);
		*res = got < 0 ? PARSE_CLOSE : PARSE_SKIP;
		return 0;
	}
	if (len > ZDBD_MAX_PAYLOAD) {
		reply_error(out, "Payload too big");
		*res = PARSE_CLOSE;
		return 0;
	}
	r->need = (size_t)len;
	r->state = REQ_ARGDATA;
	return 1;
}

/* The payload and the two bytes after it, which 0-db skips without looking. */
static int
step_argdata(struct request *r, struct evbuffer *in, enum parse_result *res)
{
	uint8_t *arg;

	*res = PARSE_MORE;
	if (evbuffer_get_length(in) < r->need + 2)
		return 0;
	if ((arg = malloc(r->need + 1)) == NULL)
		return 0;	/* try again on the next read */
	evbuffer_remove(in, arg, r->need);
	evbuffer_drain(in, 2);
	arg[r->need] = '\0';	/* lets handlers parse numbers in place */
	r->argv[r->have] = arg;
	r->argl[r->have] = r->need;
	if (++r->have == r->argc) {
		r->state = REQ_ARRAY;
		*res = PARSE_DONE;
		return 0;
	}
	r->state = REQ_ARGLEN;
	return 1;
}

enum parse_result
resp_parse(struct request *r, struct evbuffer *in, struct evbuffer *out)
{
	enum parse_result res = PARSE_MORE;
	int again = 1;

	while (again) {
		switch (r->state) {
		case REQ_ARRAY:
			again = step_array(r, in, out, &res);
			break;
		case REQ_ARGLEN:
			again = step_arglen(r, in, out, &res);
			break;
		case REQ_ARGDATA:
			again = step_argdata(r, in, &res);
			break;
		}
	}
	return res;
}

void
reply_status(struct evbuffer *out, const char *text)
{
	evbuffer_add_printf(out, "+%s\r\n", text);
}

void
reply_error(struct evbuffer *out, const char *text)
{
	evbuffer_add_printf(out, "-%s\r\n", text);
}

void
reply_int(struct evbuffer *out, long long v)
{
	evbuffer_add_printf(out, ":%lld\r\n", v);
}

void
reply_bulk(struct evbuffer *out, const void *data, size_t len)
{
	evbuffer_add_printf(out, "$%zu\r\n", len);
	evbuffer_add(out, data, len);
	evbuffer_add(out, "\r\n", 2);
}

void
reply_bulk_str(struct evbuffer *out, const char *s)
{
	reply_bulk(out, s, strlen(s));
}

void
reply_nil(struct evbuffer *out)
{
	evbuffer_add(out, "$-1\r\n", 5);
}

void
reply_array(struct evbuffer *out, size_t n)
{
	evbuffer_add_printf(out, "*%zu\r\n", n);
}
