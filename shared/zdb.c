/* The 0-db client. One non-blocking hiredis connection per backend, whose
 * reader parses the replies; commands are queued in our own output (zout.h,
 * values sent from their buffers with writev) and one poll() loop
 * drives every connection of a backend_run, so backends work in parallel and
 * the ops of one backend are pipelined, their replies matched in FIFO order.
 * hiredis 0.14 has no timeouts for non-blocking contexts: the deadline is ours,
 * and a connection that misses it is dropped, to be reopened (and re-SELECTed)
 * on its next use. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include "backend_impl.h"
#include "log.h"
#include "zdb_bulk.h"
#include "zout.h"

#define ZDB_KEY_MAX 255		/* 0-db's MAX_KEY_LENGTH */
#define ZDB_READ_CHUNK (256 * 1024)	/* hiredis' own reads are 16 KiB */
#define ZDB_READ_ROUNDS 8		/* chunks per wakeup before serving
					 * others */
/* Array elements one reply may announce in all (SCAN batches are the only
 * arrays 0-db sends). hiredis 0.14 allocates an array's element pointers as
 * soon as it reads "*N", so without a bound a server's "*1700000000" alone
 * makes it allocate 13 GB. */
#define ZDB_REPLY_ELEMENTS_MAX (1 << 20)
/* Bytes one reply may hold, in its strings and in what hiredis holds of it
 * unfinished. The longest 0-db sends is a SCAN batch (a value is at most
 * ZDB_VALUE_MAX): within the elements allowed above, 2^18 keys of 255 bytes,
 * 64 MiB. hiredis 0.14 waits for a value's whole length before it parses it,
 * so without a bound a server's "$9999999999" makes it buffer whatever
 * follows until the memory runs out (3.5 GiB in the 5 s of a GET's timeout,
 * on loopback), and an array of large values would do it in pieces. */
#define ZDB_REPLY_BYTES_MAX ((size_t)ZDB_REPLY_ELEMENTS_MAX / 4 * 256)

enum zconn_state {
	ZC_DOWN,	/* no connection: the next use connects */
	ZC_CONNECTING,	/* non-blocking connect under way */
	ZC_CONNECTED,	/* connected, namespace not selected yet */
	ZC_SELECTING,	/* SELECT sent alone; ops wait for its answer */
	ZC_READY,	/* ops are pipelined */
};

struct zdb {
	struct backend base;
	char addr[ADDR_PATH_MAX + 16];	/* for "is 0-db running at ...?" */
	redisContext *ctx;
	struct zout out;	/* what goes to the server */
	enum zconn_state state;
	/* backend_open reads NSINFO before SELECT, as upstream */
	int skip_select;
	/* the connection was kept from an earlier run, not made for this one */
	int reused;
	/* this run's ops went again on a new connection (zdb_retry): the first
	 * one may have taken a write before it broke */
	int resent;

	/* The ops of the running backend_run, in order: [0, done) answered,
	 * [done, sent) in flight, [sent, n) not sent yet. */
	struct bop **q;
	size_t n, done, sent, cap;
	int listed;
	uint8_t *rbuf;		/* ZDB_READ_CHUNK bytes, shared by the run */
	/* what the reply being read may still hold; which bound it passed */
	size_t elements_left, bytes_left;
	enum { ZR_WITHIN, ZR_ELEMENTS, ZR_BYTES } over;
	struct zbulk bulk;	/* a GET's large value being read, or none */
};

/* 0-db's error replies, exactly as it sends them, and what the operator can
 * do. */
static const struct zdb_advice {
	const char *error;
	const char *advice;
} zdb_advices[] = {
	{ "No space left on this namespace",
	    "the namespace is full: raise its maxsize or remove this backend" },
	{ "Namespace is in read-only mode",
	    "the namespace was selected without its password, or the 0-db runs "
	    "with "
	    "--protect: set the namespace password in the config" },
	{ "Namespace is temporarily locked (read-only)",
	    "an operator locked the namespace: unlock it (NSSET <ns> lock 0) "
	    "or "
	    "remove this backend" },
	{ "Namespace is temporarily frozen (read-write disabled)",
	    "an operator froze the namespace: unfreeze it (NSSET <ns> freeze "
	    "0) or "
	    "remove this backend" },
	{ "Namespace is protected by worm mode",
	    "the namespace is write-once (worm): stored values cannot change" },
	{ "Cannot delete a key when namespace is in worm mode",
	    "the namespace is write-once (worm): values cannot be deleted" },
	{ "Access denied",
	    "wrong namespace password: fix the password in the config" },
	{ "Namespace protected and private",
	    "the namespace needs a password: add it to the config" },
	{ "Namespace not found",
	    "the namespace does not exist on this 0-db: create it (NSNEW) or "
	    "fix the "
	    "namespace name in the config" },
	{ "Payload too big",
	    "0-db takes values of at most 8 MiB and dropped the connection" },
	{ "Password too long",
	    "0-db takes passwords of at most 255 bytes: fix the password in "
	    "the config" },
	{ "Invalid key, only update authorized",
	    "the namespace is in sequential mode: it only takes new values "
	    "with an "
	    "empty key" },
	{ "Invalid argument, key needed",
	    "the namespace is in user-key mode, but a sequential one was "
	    "expected" },
	{ "Key too large", "0-db keys are at most 255 bytes" },
	{ "Cannot write data right now",
	    "the 0-db cannot write to its data disk: check that server's disk "
	    "and log" },
	{ "Cannot write index right now",
	    "the 0-db cannot write to its index disk: check that server's disk "
	    "and log" },
	{ "Your active namespace is not available anymore (probably removed).",
	    "the namespace was deleted on the server: recreate it or remove "
	    "this backend" },
	{ "Permission denied", "the command needs 0-db admin rights" },
	{ "Command not supported",
	    "the server does not speak the 0-db v2 protocol: check the "
	    "address" },
};

static const char *
zdb_advice(const char *error, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(zdb_advices) / sizeof(zdb_advices[0]); i++)
		if (strlen(zdb_advices[i].error) == len &&
		    memcmp(zdb_advices[i].error, error, len) == 0)
			return zdb_advices[i].advice;
	return "unexpected 0-db error: check that server's log";
}

static const char *
zdb_ns(const struct zdb *z)
{
	return z->base.ci.ns != NULL ? z->base.ci.ns : "default";
}

static void
zdb_drop(struct zdb *z)
{
	if (z->ctx != NULL)
		redisFree(z->ctx);
	z->ctx = NULL;
	zout_clear(&z->out);
	zbulk_free(&z->bulk);
	z->state = ZC_DOWN;
}

/* Fails every unanswered op of this run with the same cause and drops the
 * connection: whatever it still carries can no longer be matched to an op. */
static void __attribute__((format(printf, 2, 3)))
zdb_fail_conn(struct zdb *z, const char *fmt, ...)
{
	char cause[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	for (; z->done < z->n; z->done++)
		bop_fail(z->q[z->done], "%s", cause);
	z->sent = z->n;
	if (z->ctx != NULL)
		log_debug("%s: dropping the connection: %s", z->base.name,
		    cause);
	zdb_drop(z);
}

/* hiredis' reply functions with a bounded createArray and createString:
 * the reader's privdata is the connection, whose budget each reply starts
 * afresh. */
static redisReplyObjectFunctions zdb_reply_fn;
static void *(*hiredis_create_array)(const redisReadTask *, int);
static void *(*hiredis_create_string)(const redisReadTask *, char *, size_t);

static void
zdb_fail_too_long(struct zdb *z)
{
	zdb_fail_conn(z, "protocol error: a reply longer than %zu bytes, more "
	    "than 0-db sends (is this address really a 0-db?)",
	    ZDB_REPLY_BYTES_MAX);
}

static void
zdb_budget_reset(struct zdb *z)
{
	z->elements_left = ZDB_REPLY_ELEMENTS_MAX;
	z->bytes_left = ZDB_REPLY_BYTES_MAX;
	z->over = ZR_WITHIN;
}

static void *
zdb_create_array(const redisReadTask *t, int elements)
{
	struct zdb *z = t->privdata;

	if (elements < 0 || z == NULL || (size_t)elements > z->elements_left) {
		if (z != NULL)
			z->over = ZR_ELEMENTS;
		return NULL;
	}
	z->elements_left -= (size_t)elements;
	return hiredis_create_array(t, elements);
}

static void *
zdb_create_string(const redisReadTask *t, char *str, size_t len)
{
	struct zdb *z = t->privdata;

	if (z == NULL || len > z->bytes_left) {
		if (z != NULL)
			z->over = ZR_BYTES;
		return NULL;
	}
	z->bytes_left -= len;
	return hiredis_create_string(t, str, len);
}

static void
zdb_bound_reader(struct zdb *z)
{
	redisReader *r = z->ctx->reader;

	if (hiredis_create_array == NULL) {
		zdb_reply_fn = *r->fn;
		hiredis_create_array = r->fn->createArray;
		hiredis_create_string = r->fn->createString;
		zdb_reply_fn.createArray = zdb_create_array;
		zdb_reply_fn.createString = zdb_create_string;
	}
	r->fn = &zdb_reply_fn;
	r->privdata = z;
	zdb_budget_reset(z);
}

static int
zdb_connect(struct zdb *z)
{
	const struct zaddr *a = &z->base.ci.addr;
	char ip[INET6_ADDRSTRLEN];

	if (a->kind == ADDR_UNIX)
		z->ctx = redisConnectUnixNonBlock(a->path);
	else {
		if (inet_ntop(a->kind == ADDR_IP4 ? AF_INET : AF_INET6, a->ip,
		    ip, sizeof(ip)) == NULL) {
			zdb_fail_conn(z, "cannot connect: bad address %s",
			    z->addr);
			return -1;
		}
		z->ctx = redisConnectNonBlock(ip, a->port);
	}
	if (z->ctx == NULL) {
		zdb_fail_conn(z, "cannot connect: out of memory");
		return -1;
	}
	if (z->ctx->err) {
		zdb_fail_conn(z, "cannot connect: %s (is 0-db running and "
		    "reachable at %s?)", z->ctx->errstr, z->addr);
		return -1;
	}
	zdb_bound_reader(z);
	z->state = ZC_CONNECTING;
	return 0;
}

static void
zdb_connect_done(struct zdb *z)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(z->ctx->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0) {
		zdb_fail_conn(z, "cannot connect: %s (is 0-db running and "
		    "reachable at %s?)", strerror(soerr), z->addr);
		return;
	}
	z->state = ZC_CONNECTED;
}

static int
zdb_append_op(struct zdb *z, const struct bop *op)
{
	const char *argv[3];
	size_t lens[3];
	int argc = 0;

#define ARG(p, l) do { argv[argc] = (p); lens[argc] = (l); argc++; } while (0)
	switch (op->kind) {
	case BOP_SEQ_SET:
		ARG("SET", 3);
		ARG("", 0);
		ARG(op->vallen ? op->val : "", op->vallen);
		break;
	case BOP_KEY_SET:
		ARG("SET", 3);
		ARG(op->key, op->keylen);
		ARG(op->vallen ? op->val : "", op->vallen);
		break;
	case BOP_GET:
	case BOP_DEL:
		ARG(op->kind == BOP_GET ? "GET" : "DEL", 3);
		ARG(op->key, op->keylen);
		break;
	case BOP_NSINFO:
		ARG("NSINFO", 6);
		ARG(zdb_ns(z), strlen(zdb_ns(z)));
		break;
	case BOP_PING:
		ARG("PING", 4);
		break;
	case BOP_SCAN:
		ARG("SCAN", 4);
		if (op->key != NULL)
			ARG(op->key, op->keylen);
		break;
	}
#undef ARG
	return zout_cmd(&z->out, argc, argv, lens);
}

static int
zdb_append_select(struct zdb *z)
{
	const char *argv[3] = { "SELECT", z->base.ci.ns, z->base.ci.password };
	size_t lens[3] = { 6, strlen(z->base.ci.ns), 0 };

	if (argv[2] != NULL)
		lens[2] = strlen(argv[2]);
	if (zout_cmd(&z->out, argv[2] != NULL ? 3 : 2, argv, lens) < 0) {
		zdb_fail_conn(z, "out of memory");
		return -1;
	}
	return 0;
}

/* Drains the replies already received, then fails the rest: a server closing
 * the connection may have said why first. */
static int zdb_drain(struct zdb *);

static int zdb_connect(struct zdb *);

/* A connection kept from an earlier run broke before answering anything in
 * this one: the server closed it while it was idle (a restart, its namespace
 * deleted and made again). Nothing was answered, so everything goes again on
 * a new connection, once. (Had the server taken a SET and closed before
 * answering, that value stays behind unreferenced, as the pieces of a failed
 * store do.) */
static void
zdb_retry(struct zdb *z, const char *cause)
{
	log_debug("%s: the kept connection broke (%s); reconnecting",
	    z->base.name, cause);
	zdb_drop(z);
	z->reused = 0;
	z->resent = 1;
	z->sent = 0;
	zdb_connect(z);
}

static int
zdb_conn_lost(struct zdb *z, const char *why)
{
	char cause[256];

	strlcpy(cause, why, sizeof(cause));
	if (zdb_drain(z) < 0)
		return -1;
	if (z->done == 0 && z->reused && z->n > 0) {
		zdb_retry(z, cause);
		return -1;
	}
	if (z->done < z->n)
		zdb_fail_conn(z, "connection lost: %s (the server closed or "
		    "reset the "
		    "connection; it is reopened on the next use)", cause);
	else
		zdb_drop(z);
	return -1;
}

/* Keeps about one piece queued: the socket buffers keep the pipeline full,
 * and the values queued must stay where they are until written. */
static int
zdb_fill(struct zdb *z)
{
	while (z->sent < z->n && zout_pending(&z->out) < ZDB_PIECE_MAX) {
		if (zdb_append_op(z, z->q[z->sent]) < 0) {
			zdb_fail_conn(z, "out of memory");
			return -1;
		}
		z->sent++;
	}
	return 0;
}

static int
zdb_flush(struct zdb *z)
{
	if (zout_pending(&z->out) == 0)
		return 0;
	if (zout_write(&z->out, z->ctx->fd) < 0)
		return zdb_conn_lost(z, strerror(errno));
	return 0;
}

/* Moves a connected backend on: SELECT first when a namespace is configured,
 * then ops, writing until the socket is full or nothing is left. */
static void
zdb_advance(struct zdb *z)
{
	if (z->state == ZC_CONNECTED) {
		if (z->base.ci.ns != NULL && !z->skip_select) {
			if (zdb_append_select(z) < 0)
				return;
			z->state = ZC_SELECTING;
		} else
			z->state = ZC_READY;
	}
	for (;;) {
		if (z->state == ZC_READY && zdb_fill(z) < 0)
			return;
		if (zdb_flush(z) < 0)
			return;
		if (zout_pending(&z->out) > 0 || z->state != ZC_READY ||
		    z->sent == z->n)
			return;
	}
}

static const char *
zdb_reply_type(const redisReply *r)
{
	switch (r->type) {
	case REDIS_REPLY_STRING:
		return "bulk string";
	case REDIS_REPLY_ARRAY:
		return "array";
	case REDIS_REPLY_INTEGER:
		return "integer";
	case REDIS_REPLY_NIL:
		return "nil";
	case REDIS_REPLY_STATUS:
		return "status";
	default:
		return "error";
	}
}

static int
zdb_unexpected(struct bop *op, const redisReply *r)
{
	return bop_fail(op,
	    "unexpected %s reply (is this address really a 0-db v2?)",
	    zdb_reply_type(r));
}

static void
zdb_seq_set_reply(struct bop *op, const redisReply *r)
{
	const uint8_t *p = (const uint8_t *)r->str;
	size_t i;

	if (r->type != REDIS_REPLY_STRING) {
		zdb_unexpected(op, r);
		return;
	}
	if (r->len != 4 && r->len != 8) {
		bop_fail(op, "the server answered a key of %zu bytes; 0-db "
		    "keys are 4 "
		    "(v1) or 8 (v2) bytes", r->len);
		return;
	}
	op->newkey.kind = r->len == 4 ? KEY_V1 : KEY_V2;
	op->newkey.id = 0;
	for (i = 0; i < r->len; i++)
		op->newkey.id |= (uint64_t)p[i] << (8 * i);
}

static uint8_t *
zdb_memdup(const void *p, size_t len)
{
	uint8_t *d = malloc(len + 1);

	if (d != NULL)
		memcpy(d, p, len);
	return d;
}

/* SCAN: [cursor, [[key, size, timestamp], ...]]. */
static void
zdb_scan_reply(struct bop *op, const redisReply *r)
{
	const redisReply *list, *e;
	struct scan_batch *sb = &op->scan;
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		goto bad;
	list = r->element[1];
	sb->cursor = zdb_memdup(r->element[0]->str, r->element[0]->len);
	sb->cursorlen = r->element[0]->len;
	sb->entries = calloc(list->elements + 1, sizeof(*sb->entries));
	if (sb->cursor == NULL || sb->entries == NULL)
		goto nomem;
	for (i = 0; i < list->elements; i++) {
		e = list->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[1]->type != REDIS_REPLY_INTEGER ||
		    e->element[2]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->integer < 0 || e->element[2]->integer < 0)
			goto bad;
		sb->entries[i].key = zdb_memdup(e->element[0]->str,
		    e->element[0]->len);
		if (sb->entries[i].key == NULL)
			goto nomem;
		sb->entries[i].keylen = e->element[0]->len;
		sb->entries[i].size = (uint64_t)e->element[1]->integer;
		sb->entries[i].timestamp = (uint64_t)e->element[2]->integer;
		sb->n++;
	}
	return;
bad:
	scan_batch_free(sb);
	bop_fail(op, "malformed SCAN reply (is this address really a 0-db "
	    "v2?)");
	return;
nomem:
	scan_batch_free(sb);
	bop_fail(op, "out of memory reading the SCAN reply");
}

static void
zdb_error_reply(struct bop *op, const redisReply *r)
{
	if (op->kind == BOP_DEL && r->len == 13 &&
	    memcmp(r->str, "Key not found", 13) == 0)
		op->rc = 1;
	else if (op->kind == BOP_SCAN && r->len == 12 &&
	    memcmp(r->str, "No more data", 12) == 0)
		op->rc = 1;
	else
		bop_refuse(op, "%.*s (%s)", (int)r->len, r->str,
		    zdb_advice(r->str, r->len));
}

static void
zdb_reply_to_op(struct bop *op, redisReply *r)
{
	struct err e;

	if (r->type == REDIS_REPLY_ERROR) {
		zdb_error_reply(op, r);
		return;
	}
	switch (op->kind) {
	case BOP_SEQ_SET:
		zdb_seq_set_reply(op, r);
		break;
	case BOP_GET:
		if (r->type == REDIS_REPLY_NIL)
			op->rc = 1;
		else if (r->type != REDIS_REPLY_STRING)
			zdb_unexpected(op, r);
		else {
			/* hiredis 0.14 allocates reply strings with malloc and
			 * frees them with free: take the value, do not copy
			 * it. */
			op->out = (uint8_t *)r->str;
			op->outlen = r->len;
			r->str = NULL;
		}
		break;
	case BOP_KEY_SET:
		/* nil: the value was already stored, byte for byte */
		if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
			zdb_unexpected(op, r);
		break;
	case BOP_DEL:
	case BOP_PING:
		if (r->type != REDIS_REPLY_STATUS)
			zdb_unexpected(op, r);
		break;
	case BOP_NSINFO:
		if (r->type != REDIS_REPLY_STRING)
			zdb_unexpected(op, r);
		else if (nsinfo_parse(r->str, r->len, &op->info, &e) < 0)
			bop_fail(op, "%s", e.msg);
		break;
	case BOP_SCAN:
		zdb_scan_reply(op, r);
		break;
	}
}

static int
zdb_on_reply(struct zdb *z, redisReply *r)
{
	struct bop *op;

	if (z->state == ZC_SELECTING) {
		if (r->type == REDIS_REPLY_ERROR) {
			zdb_fail_conn(z, "cannot SELECT namespace %s: %.*s "
			    "(%s)", zdb_ns(z), (int)r->len, r->str,
			    zdb_advice(r->str, r->len));
			return -1;
		}
		z->state = ZC_READY;
		return 0;
	}
	if (z->done >= z->sent) {
		zdb_fail_conn(z, "unexpected %s reply without a request (is "
		    "this "
		    "address really a 0-db?)", zdb_reply_type(r));
		return -1;
	}
	op = z->q[z->done++];
	zdb_reply_to_op(op, r);
	/* A write refused after a resend may have landed the first time:
	 * whoever rolls back must not count on the old value being there. */
	if (z->resent && op->rc == -1 && (op->kind == BOP_KEY_SET ||
	    op->kind == BOP_SEQ_SET || op->kind == BOP_DEL))
		op->refused = 0;
	return 0;
}

static int
zdb_drain(struct zdb *z)
{
	void *reply;
	int rc;

	for (;;) {
		if (redisGetReplyFromReader(z->ctx, &reply) != REDIS_OK) {
			if (z->over == ZR_ELEMENTS)
				zdb_fail_conn(z, "protocol error: a reply "
				    "announces more than %d array elements "
				    "(is this address really a 0-db?)",
				    ZDB_REPLY_ELEMENTS_MAX);
			else if (z->over == ZR_BYTES)
				zdb_fail_too_long(z);
			else
				zdb_fail_conn(z, "protocol error: %s (is this "
				    "address really a 0-db?)",
				    z->ctx->errstr);
			return -1;
		}
		if (reply == NULL)
			return 0;
		zdb_budget_reset(z);
		rc = zdb_on_reply(z, reply);
		freeReplyObject(reply);
		if (rc < 0)
			return -1;
	}
}

/* 0-db sends each reply with a send() of its own and leaves Nagle on: with
 * two replies of a pipeline due, it holds the second until the first is
 * acknowledged, and the kernel delays that ACK for 40 ms. So while replies
 * are still due, the ACK of what came goes out at once (TCP_QUICKACK lasts
 * until the kernel turns it off again: it is set after each read). */
static void
zdb_ack_now(struct zdb *z)
{
	int one = 1;

	if (z->ctx != NULL && z->done < z->sent &&
	    z->base.ci.addr.kind != ADDR_UNIX)
		(void)setsockopt(z->ctx->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
}

/* A GET's large value came whole: it is the op's reply. */
static int
zdb_bulk_done(struct zdb *z)
{
	redisReply r;
	int rc;

	if (!zbulk_ends_well(&z->bulk)) {
		zdb_fail_conn(z, "protocol error: a value of %zu bytes does "
		    "not end with CRLF (is this address really a 0-db?)",
		    z->bulk.len);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.type = REDIS_REPLY_STRING;
	r.str = (char *)z->bulk.buf;
	r.len = z->bulk.len;
	z->bulk.buf = NULL;
	zbulk_free(&z->bulk);
	rc = zdb_on_reply(z, &r);
	free(r.str);		/* NULL once the op took it */
	return rc;
}

/* A large value may be read without hiredis only from the start of a reply
 * that hiredis has not begun, and only for a GET: every other reply, and a
 * value whose header a read cut, goes through hiredis as before. hiredis
 * 0.14 is between replies when it has used every byte it holds and its stack
 * of tasks is empty, or holds only the blank task (type -1) that a call for
 * the next reply sets up before any byte of it came. */
#if HIREDIS_MAJOR != 0 || HIREDIS_MINOR != 14
#error "zdb_bulk_may_start reads the state of hiredis 0.14's reader"
#endif
static int
zdb_bulk_may_start(const struct zdb *z)
{
	const redisReader *r = z->ctx->reader;

	if (z->state != ZC_READY || z->done >= z->sent ||
	    z->q[z->done]->kind != BOP_GET || r->pos != r->len)
		return 0;
	return r->ridx == -1 || (r->ridx == 0 && r->rstack[0].type == -1);
}

/* Hands n bytes read to the value being read, to hiredis, or both. */
static int
zdb_feed(struct zdb *z, const uint8_t *p, size_t n)
{
	size_t k;
	long head;

	while (n > 0) {
		if (z->bulk.buf != NULL) {
			k = zbulk_take(&z->bulk, p, n);
			p += k, n -= k;
			if (zbulk_room(&z->bulk) == 0 && zdb_bulk_done(z) < 0)
				return -1;
			continue;
		}
		if (zdb_bulk_may_start(z) &&
		    (head = zbulk_begin(&z->bulk, p, n)) != 0) {
			if (head < 0) {
				zdb_fail_conn(z, "out of memory");
				return -1;
			}
			p += head, n -= (size_t)head;
			continue;
		}
		if (redisReaderFeed(z->ctx->reader, (const char *)p, n) !=
		    REDIS_OK) {
			zdb_fail_conn(z, "out of memory");
			return -1;
		}
		if (zdb_drain(z) < 0)
			return -1;
		if (z->ctx->reader->len - z->ctx->reader->pos >
		    ZDB_REPLY_BYTES_MAX) {
			zdb_fail_too_long(z);
			return -1;
		}
		return 0;
	}
	return 0;
}

/* Reads in large chunks (redisBufferRead reads 16 KiB at a time: 128 system
 * calls per 2 MiB piece), a GET's large value straight into its own buffer,
 * up to its end, so that the next read starts at the next reply. */
static int
zdb_read(struct zdb *z)
{
	uint8_t *to;
	size_t want;
	ssize_t r;
	int i;

	for (i = 0; i < ZDB_READ_ROUNDS; i++) {
		to = z->rbuf, want = ZDB_READ_CHUNK;
		if (z->bulk.buf != NULL)
			to = z->bulk.buf + z->bulk.have,
			want = zbulk_room(&z->bulk);
		r = read(z->ctx->fd, to, want);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			break;
		if (r <= 0)
			return zdb_conn_lost(z,
			    r == 0 ? "the server closed the connection" :
			    strerror(errno));
		if (to != z->rbuf) {
			z->bulk.have += (size_t)r;
			if (zbulk_room(&z->bulk) == 0 && zdb_bulk_done(z) < 0)
				return -1;
		} else if (zdb_feed(z, to, (size_t)r) < 0)
			return -1;
		if ((size_t)r < want)
			break;
	}
	zdb_ack_now(z);
	return 0;
}

/* Rejects client-side what 0-db would refuse, above all values over 8 MiB: 0-db
 * answers those by dropping the connection, which would fail every op
 * behind. */
static int
zdb_check_op(struct bop *op)
{
	if ((unsigned)op->kind > BOP_SCAN)
		return bop_refuse(op, "unknown operation");
	if ((op->kind == BOP_SEQ_SET || op->kind == BOP_KEY_SET) &&
	    op->vallen > ZDB_VALUE_MAX)
		return bop_refuse(op, "a value of %zu bytes is over 0-db's "
		    "limit of %u bytes (8 MiB); it was not sent", op->vallen,
		    ZDB_VALUE_MAX);
	if (op->kind == BOP_GET || op->kind == BOP_DEL ||
	    op->kind == BOP_KEY_SET ||
	    (op->kind == BOP_SCAN && op->key != NULL)) {
		if (op->key == NULL || op->keylen == 0)
			return bop_refuse(op, "empty key");
		if (op->kind != BOP_SCAN && op->keylen > ZDB_KEY_MAX)
			return bop_refuse(op, "a key of %zu bytes is over "
			    "0-db's limit of %d bytes", op->keylen,
			    ZDB_KEY_MAX);
	}
	return 0;
}

static int
zdb_queue(struct zdb *z, struct bop *op)
{
	struct bop **q;
	size_t cap;

	if (z->n == z->cap) {
		cap = z->cap ? 2 * z->cap : 16;
		if ((q = reallocarray(z->q, cap, sizeof(*q))) == NULL)
			return bop_fail(op, "out of memory");
		z->q = q;
		z->cap = cap;
	}
	z->q[z->n++] = op;
	return 0;
}

/* An idle connection that is readable was closed by the server (restart, idle
 * timeout) or carries a stray message: either way it cannot serve ops, and it
 * is dropped before any is sent. One poll looks at every connection of the
 * run (pfd and pz have room for nz). */
static void
zdb_drop_stale(struct zdb **zs, size_t nz, struct pollfd *pfd,
    struct zdb **pz)
{
	size_t i, np = 0;

	for (i = 0; i < nz; i++)
		if (zs[i]->n > 0 && zs[i]->state != ZC_DOWN) {
			pfd[np].fd = zs[i]->ctx->fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			pz[np++] = zs[i];
		}
	if (np == 0 || poll(pfd, np, 0) <= 0)
		return;
	for (i = 0; i < np; i++)
		if (pfd[i].revents != 0) {
			log_debug("%s: the idle connection was closed, "
			    "reconnecting", pz[i]->base.name);
			zdb_drop(pz[i]);
		}
}

static void
zdb_start(struct zdb *z)
{
	if (z->n == 0)
		return;
	z->reused = z->state == ZC_READY;
	z->resent = 0;
	if (z->state == ZC_DOWN && zdb_connect(z) < 0)
		return;
	if (z->state != ZC_CONNECTING)
		zdb_advance(z);
}

static void
zdb_on_events(struct zdb *z, short revents)
{
	if (z->state == ZC_CONNECTING) {
		zdb_connect_done(z);
		if (z->state == ZC_CONNECTED)
			zdb_advance(z);
		return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && zdb_read(z) < 0)
		return;
	if (z->ctx != NULL && z->done < z->n)
		zdb_advance(z);
}

/* Polls every connection with unanswered ops until all are answered or the
 * deadline passes; returns 0, or -1 at the deadline. */
static int
zdb_poll(struct zdb **zs, size_t nz, struct pollfd *pfd, struct zdb **pz,
    int64_t deadline)
{
	size_t i, np;
	int64_t now;

	for (;;) {
		for (i = 0, np = 0; i < nz; i++) {
			if (zs[i]->done == zs[i]->n || zs[i]->ctx == NULL)
				continue;
			pfd[np].fd = zs[i]->ctx->fd;
			pfd[np].events = POLLIN;
			if (zs[i]->state == ZC_CONNECTING)
				pfd[np].events = POLLOUT;
			else if (zout_pending(&zs[i]->out) > 0)
				pfd[np].events |= POLLOUT;
			pfd[np].revents = 0;
			pz[np++] = zs[i];
		}
		if (np == 0)
			return 0;
		if ((now = backend_now_ms()) >= deadline)
			return -1;
		if (poll(pfd, np, (int)(deadline - now)) < 0 &&
		    errno != EINTR) {
			for (i = 0; i < np; i++)
				zdb_fail_conn(pz[i], "poll: %s",
				    strerror(errno));
			return 0;
		}
		for (i = 0; i < np; i++)
			if (pfd[i].revents != 0)
				zdb_on_events(pz[i], pfd[i].revents);
	}
}

static void
zdb_run(struct bop **ops, size_t n, int64_t deadline, int timeout_ms)
{
	struct zdb **zs, **pz, *z;
	struct pollfd *pfd;
	uint8_t *rbuf;
	size_t i, nz = 0;

	zs = calloc(n, sizeof(*zs));
	pz = calloc(n, sizeof(*pz));
	pfd = calloc(n, sizeof(*pfd));
	rbuf = malloc(ZDB_READ_CHUNK);
	if (zs == NULL || pz == NULL || pfd == NULL || rbuf == NULL) {
		for (i = 0; i < n; i++)
			bop_fail(ops[i], "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		z = (struct zdb *)ops[i]->b;
		if (!z->listed) {
			z->listed = 1;
			z->rbuf = rbuf;
			z->n = z->done = z->sent = 0;
			zs[nz++] = z;
		}
		if (zdb_check_op(ops[i]) == 0)
			zdb_queue(z, ops[i]);
	}
	zdb_drop_stale(zs, nz, pfd, pz);
	for (i = 0; i < nz; i++)
		zdb_start(zs[i]);
	if (zdb_poll(zs, nz, pfd, pz, deadline) < 0)
		for (i = 0; i < nz; i++)
			if (zs[i]->done < zs[i]->n)
				zdb_fail_conn(zs[i],
				    "timeout after %d ms (the server did "
				    "not answer in time; the connection was "
				    "dropped and is "
				    "reopened on the next use)", timeout_ms);
	for (i = 0; i < nz; i++) {
		zs[i]->listed = 0;
		zs[i]->rbuf = NULL;
		zs[i]->n = zs[i]->done = zs[i]->sent = 0;
	}
out:
	free(rbuf);
	free(zs);
	free(pz);
	free(pfd);
}

static void
zdb_close(struct backend *b)
{
	struct zdb *z = (struct zdb *)b;

	zdb_drop(z);
	free(z->q);
	backend_fini(&z->base);
	free(z);
}

/* Runs k ops on each backend of zs that is still open (ops[i * k + j] on
 * zs[i]), all backends at once, sharing backend_open's deadline. A backend
 * with a failed op is closed (zs[i] NULL), its first failure in errs[i]. */
static void
zdb_open_run(struct zdb **zs, size_t n, struct bop *ops, size_t k,
    int64_t deadline, int timeout_ms, struct err *errs)
{
	struct bop **p = calloc(n * k > 0 ? n * k : 1, sizeof(*p));
	size_t i, j, np = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < k && zs[i] != NULL; j++) {
			ops[i * k + j].b = &zs[i]->base;
			if (p != NULL)
				p[np++] = &ops[i * k + j];
		}
	if (p == NULL)
		for (i = 0; i < n * k; i++)
			bop_fail(&ops[i], "out of memory");
	else
		zdb_run(p, np, deadline, timeout_ms);
	free(p);
	for (i = 0; i < n; i++)
		for (j = 0; j < k && zs[i] != NULL; j++) {
			if (ops[i * k + j].rc == 0)
				continue;
			if (ops[i * k + j].rc > 0)
				bop_fail(&ops[i * k + j], "unexpected answer");
			errs[i] = ops[i * k + j].err;
			zdb_close(&zs[i]->base);
			zs[i] = NULL;
		}
}

static int
zdb_check_mode(struct zdb *z, const struct nsinfo *ni, enum ns_mode want,
    struct err *e)
{
	if (ni->mode == want)
		return 0;
	return err_set(e,
	    "%s: expected 0-db namespace to be in %s mode, but it is in %s "
	    "mode (%s)", z->base.name, ns_mode_text(want),
	    ns_mode_text(ni->mode),
	    want == NS_SEQUENTIAL ?
	    "data shards need a sequential namespace: run 0-db "
	    "with --mode seq, or NSSET <ns> mode seq on a fresh namespace" :
	    "metadata needs a user-key namespace: run 0-db with --mode user or "
	    "in "
	    "mixed mode");
}

static struct zdb *
zdb_new(const struct backend_ci *ci, enum ns_mode want, struct err *e)
{
	struct zdb *z;

	if (ci->addr.kind != ADDR_IP4 && ci->addr.kind != ADDR_IP6 &&
	    ci->addr.kind != ADDR_UNIX) {
		err_set(e, "not a 0-db address");
		return NULL;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (backend_init(&z->base, &zdb_impl, ci, want, e) < 0) {
		free(z);
		return NULL;
	}
	zaddr_format(&ci->addr, z->addr, sizeof(z->addr));
	z->skip_select = 1;
	return z;
}

/* Upstream's order for each backend: PING, NSINFO (before SELECT), the mode
 * check, then SELECT (sent before a second PING); every backend's step at
 * once. */
static void
zdb_open_many(const struct backend_ci *const *cis, size_t n,
    enum ns_mode want, int timeout_ms, struct backend **out, struct err *errs)
{
	int64_t deadline = backend_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct zdb **zs = calloc(n ? n : 1, sizeof(*zs));
	struct bop *ops = calloc(n > 0 ? 2 * n : 1, sizeof(*ops));
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = NULL;
		if (zs == NULL || ops == NULL)
			err_set(&errs[i], "out of memory");
		else if ((zs[i] = zdb_new(cis[i], want, &errs[i])) != NULL) {
			ops[2 * i].kind = BOP_PING;
			ops[2 * i + 1].kind = BOP_NSINFO;
		}
	}
	if (zs == NULL || ops == NULL)
		goto done;
	zdb_open_run(zs, n, ops, 2, deadline, timeout_ms, errs);
	for (i = 0; i < n; i++) {
		if (zs[i] == NULL)
			continue;
		if (zdb_check_mode(zs[i], &ops[2 * i + 1].info, want,
		    &errs[i]) < 0) {
			zdb_close(&zs[i]->base);
			zs[i] = NULL;
			continue;
		}
		zs[i]->base.info = ops[2 * i + 1].info;
		zs[i]->base.has_info = 1;
		zs[i]->skip_select = 0;
		if (zs[i]->base.ci.ns != NULL && zs[i]->state == ZC_READY)
			zs[i]->state = ZC_CONNECTED;
	}
	/* A namespace is selected before the second PING; the default one
	 * needs no second round. A hung backend may have used up the first
	 * round's deadline: the others get a new one. */
	deadline = backend_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	memset(ops, 0, 2 * n * sizeof(*ops));
	for (i = 0; i < n; i++) {
		ops[i].kind = BOP_PING;
		out[i] = zs[i] != NULL ? &zs[i]->base : NULL;
		if (zs[i] != NULL && zs[i]->base.ci.ns == NULL)
			zs[i] = NULL;
	}
	zdb_open_run(zs, n, ops, 1, deadline, timeout_ms, errs);
	for (i = 0; i < n; i++)
		if (cis[i]->ns != NULL && zs[i] == NULL)
			out[i] = NULL;	/* closed by zdb_open_run */
done:
	free(zs);
	free(ops);
}

static struct backend *
zdb_open(const struct backend_ci *ci, enum ns_mode want, int timeout_ms,
    struct err *e)
{
	struct backend *b;

	zdb_open_many(&ci, 1, want, timeout_ms, &b, e);
	return b;
}

/* A backend that connects on its first backend_run, like one whose connection
 * broke: many of them connect in parallel under the run's one deadline. The
 * mode is not checked: the caller reads NSINFO. */
static struct backend *
zdb_attach(const struct backend_ci *ci, enum ns_mode want, struct err *e)
{
	struct zdb *z;

	if ((z = zdb_new(ci, want, e)) == NULL)
		return NULL;
	z->skip_select = 0;
	return &z->base;
}

const struct backend_impl zdb_impl = {
	.open = zdb_open,
	.open_many = zdb_open_many,
	.attach = zdb_attach,
	.close = zdb_close,
	.run = zdb_run,
};
