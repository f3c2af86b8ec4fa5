/* The generic backend layer: open dispatches on the address kind, backend_run
 * hands each implementation its share of the ops, and the helpers every
 * implementation uses to name backends and ops in messages. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_impl.h"

/* The order backend_run serves implementations in: local directories first
 * (they finish synchronously), then 0-dbs, which all wait on the network
 * together. */
static const struct backend_impl *const backend_impls[] = { &dir_impl,
    &zdb_impl };

int64_t
backend_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
ns_mode_text(enum ns_mode mode)
{
	return mode == NS_SEQUENTIAL ? "sequential" : "user-key";
}

int
backend_init(struct backend *b, const struct backend_impl *impl,
    const struct backend_ci *ci, enum ns_mode mode, struct err *e)
{
	b->impl = impl;
	b->mode = mode;
	ci_name(ci, b->name, sizeof(b->name));
	if (ci_copy(&b->ci, ci) < 0)
		return err_set(e, "%s: out of memory", b->name);
	return 0;
}

void
backend_fini(struct backend *b)
{
	ci_free(&b->ci);
}

/* 0-db may close a socket we are writing to (it does so on "Payload too big");
 * with SIGPIPE at its default that would kill the whole process. */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static void
backend_ignore_sigpipe(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, ignore_sigpipe);
}

struct backend *
backend_open(const struct backend_ci *ci, enum ns_mode want, int timeout_ms,
    struct err *e)
{
	if (ci == NULL) {
		err_set(e, "no backend given");
		return NULL;
	}
	backend_ignore_sigpipe();
	if (ci->addr.kind == ADDR_DIR)
		return dir_impl.open(ci, want, timeout_ms, e);
	return zdb_impl.open(ci, want, timeout_ms, e);
}

struct backend *
backend_attach(const struct backend_ci *ci, enum ns_mode want, int timeout_ms,
    struct err *e)
{
	if (ci == NULL || ci->addr.kind == ADDR_DIR)
		return backend_open(ci, want, timeout_ms, e);
	backend_ignore_sigpipe();
	return zdb_impl.attach(ci, want, e);
}

void
backend_open_many(const struct backend_ci *const *cis, size_t n,
    enum ns_mode want, int timeout_ms, struct backend **out, struct err *errs)
{
	const struct backend_ci **zcis;
	struct backend **zout;
	struct err *zerrs;
	size_t i, k, nz = 0;

	zcis = calloc(n ? n : 1, sizeof(*zcis));
	zout = calloc(n ? n : 1, sizeof(*zout));
	zerrs = calloc(n ? n : 1, sizeof(*zerrs));
	for (i = 0; i < n; i++) {
		out[i] = NULL;
		if (zcis == NULL || zout == NULL || zerrs == NULL ||
		    cis[i] == NULL || cis[i]->addr.kind == ADDR_DIR)
			out[i] = backend_open(cis[i], want, timeout_ms,
			    &errs[i]);
		else
			zcis[nz++] = cis[i];
	}
	if (nz > 0) {
		backend_ignore_sigpipe();
		zdb_impl.open_many(zcis, nz, want, timeout_ms, zout, zerrs);
	}
	for (i = 0, k = 0; i < n && k < nz; i++)
		if (cis[i] == zcis[k]) {
			out[i] = zout[k];
			errs[i] = zerrs[k++];
		}
	free(zcis);
	free(zout);
	free(zerrs);
}

const struct nsinfo *
backend_open_info(const struct backend *b)
{
	return b->has_info ? &b->info : NULL;
}

int
backend_alive(struct backend *b)
{
	return b->impl->alive == NULL || b->impl->alive(b);
}

void
backend_close(struct backend *b)
{
	if (b != NULL)
		b->impl->close(b);
}

const char *
backend_name(const struct backend *b)
{
	return b->name;
}

const struct backend_ci *
backend_ci(const struct backend *b)
{
	return &b->ci;
}

static void
bop_reset(struct bop *op)
{
	op->rc = 0;
	memset(&op->newkey, 0, sizeof(op->newkey));
	op->out = NULL;
	op->outlen = 0;
	memset(&op->info, 0, sizeof(op->info));
	memset(&op->scan, 0, sizeof(op->scan));
	op->err.msg[0] = '\0';
}

size_t
backend_run(struct bop *ops, size_t n, int timeout_ms)
{
	struct bop **mine;
	int64_t deadline;
	size_t i, k, nmine, failed = 0;

	if (timeout_ms < 0)
		timeout_ms = 0;
	deadline = backend_now_ms() + timeout_ms;
	for (i = 0; i < n; i++)
		bop_reset(&ops[i]);
	if (n == 0)
		return 0;
	if ((mine = calloc(n, sizeof(*mine))) == NULL) {
		for (i = 0; i < n; i++)
			err_set(&ops[i].err,
			    "out of memory running %zu backend operations", n);
		for (i = 0; i < n; i++)
			ops[i].rc = -1;
		return n;
	}
	for (i = 0; i < n; i++) {
		if (ops[i].b == NULL) {
			ops[i].rc = -1;
			err_set(&ops[i].err,
			    "backend operation without a backend");
		}
	}
	for (k = 0; k < sizeof(backend_impls) / sizeof(backend_impls[0]); k++) {
		for (i = 0, nmine = 0; i < n; i++)
			if (ops[i].b != NULL &&
			    ops[i].b->impl == backend_impls[k])
				mine[nmine++] = &ops[i];
		if (nmine > 0)
			backend_impls[k]->run(mine, nmine, deadline,
			    timeout_ms);
	}
	free(mine);
	for (i = 0; i < n; i++)
		if (ops[i].rc == -1)
			failed++;
	return failed;
}

int
backend_scan(struct backend *b, const uint8_t *cursor, size_t cursorlen,
    struct scan_batch *out, int timeout_ms, struct err *e)
{
	struct bop op;

	memset(&op, 0, sizeof(op));
	memset(out, 0, sizeof(*out));
	op.b = b;
	op.kind = BOP_SCAN;
	op.key = cursor;
	op.keylen = cursor != NULL ? cursorlen : 0;
	backend_run(&op, 1, timeout_ms);
	if (op.rc < 0) {
		if (e != NULL)
			*e = op.err;
		return -1;
	}
	*out = op.scan;
	return op.rc;
}

void
scan_batch_free(struct scan_batch *sb)
{
	size_t i;

	if (sb == NULL)
		return;
	for (i = 0; i < sb->n; i++)
		free(sb->entries[i].key);
	free(sb->entries);
	free(sb->cursor);
	memset(sb, 0, sizeof(*sb));
}

uint64_t
nsinfo_free_space(const struct nsinfo *ni)
{
	uint64_t room;

	if (ni->data_limits_bytes == 0)
		return ni->data_disk_freespace_bytes;
	/* A limit lowered below the current size leaves no room, not 2^64 -
	 * x. */
	if (ni->data_size_bytes >= ni->data_limits_bytes)
		return 0;
	room = ni->data_limits_bytes - ni->data_size_bytes;
	return room < ni->data_disk_freespace_bytes ? room :
	    ni->data_disk_freespace_bytes;
}

unsigned
nsinfo_usage_percent(const struct nsinfo *ni)
{
	unsigned __int128 used = ni->data_size_bytes, whole;

	if (ni->data_limits_bytes != 0)
		whole = ni->data_limits_bytes;
	else
		whole = used + ni->data_disk_freespace_bytes;
	if (whole == 0)
		return 0;
	return (unsigned)(used * 100 / whole);
}

size_t
shard_key_bytes(const struct shard_key *k, uint8_t out[8])
{
	size_t n = k->kind == KEY_V1 ? 4 : 8, i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(k->id >> (8 * i));
	return n;
}

/* Printable keys (metadata paths) read best as text, binary ones as hex. */
static void
describe_key(const uint8_t *key, size_t len, char *out, size_t outlen)
{
	size_t i, shown = len > 32 ? 32 : len;
	int printable = len > 0;
	char *p = out;

	for (i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e || key[i] == '"')
			printable = 0;
	if (printable) {
		snprintf(out, outlen, "\"%.*s\"", len > 200 ? 200 : (int)len,
		    (const char *)key);
		return;
	}
	if (outlen < 2 * shown + 8) {
		snprintf(out, outlen, "(%zu bytes)", len);
		return;
	}
	p += sprintf(p, "0x");
	for (i = 0; i < shown; i++)
		p += sprintf(p, "%02x", key[i]);
	if (shown < len)
		sprintf(p, "...");
}

void
bop_describe(const struct bop *op, char *out, size_t len)
{
	static const char *const verbs[] = {
		[BOP_SEQ_SET] = "SET", [BOP_GET] = "GET", [BOP_KEY_SET] = "SET",
		[BOP_DEL] = "DEL", [BOP_NSINFO] = "NSINFO", [BOP_PING] = "PING",
		[BOP_SCAN] = "SCAN",
	};
	char key[300];
	const char *verb = (unsigned)op->kind < sizeof(verbs) /
	    sizeof(verbs[0]) ? verbs[op->kind] : NULL;

	if (verb == NULL) {
		snprintf(out, len, "operation %d", (int)op->kind);
		return;
	}
	if ((op->kind == BOP_GET || op->kind == BOP_KEY_SET ||
	    op->kind == BOP_DEL) && op->key != NULL) {
		describe_key(op->key, op->keylen, key, sizeof(key));
		snprintf(out, len, "%s key %s", verb, key);
	} else
		snprintf(out, len, "%s", verb);
}

static int
bop_failv(struct bop *op, int refused, const char *fmt, va_list ap)
{
	char what[400], cause[ERR_MSG_MAX];

	vsnprintf(cause, sizeof(cause), fmt, ap);
	bop_describe(op, what, sizeof(what));
	err_set(&op->err, "%s: %s failed: %s",
	    op->b != NULL ? op->b->name : "?", what, cause);
	op->rc = -1;
	op->refused = refused;
	return -1;
}

int
bop_fail(struct bop *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bop_failv(op, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
bop_refuse(struct bop *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bop_failv(op, 1, fmt, ap);
	va_end(ap);
	return -1;
}

/* NSINFO is parsed by field name: the order differs between 0-db versions and
 * its README. Every field upstream zstor reads is required; the rest is
 * ignored. */
enum nsinfo_type { NSF_NAME, NSF_U64, NSF_BOOL, NSF_MODE, NSF_CHECK_U64 };

static const struct nsinfo_field {
	const char *name;
	enum nsinfo_type type;
	size_t off;
} nsinfo_fields[] = {
#define F(n, t, m) { n, t, offsetof(struct nsinfo, m) }
	F("name", NSF_NAME, name),
	F("entries", NSF_U64, entries),
	F("public", NSF_BOOL, public_),
	F("password", NSF_BOOL, password),
	F("data_size_bytes", NSF_U64, data_size_bytes),
	F("data_limits_bytes", NSF_U64, data_limits_bytes),
	F("index_size_bytes", NSF_U64, index_size_bytes),
	F("mode", NSF_MODE, mode),
	F("worm", NSF_BOOL, worm),
	F("locked", NSF_BOOL, locked),
	F("stats_index_io_errors", NSF_U64, stats_index_io_errors),
	F("stats_index_io_error_last", NSF_CHECK_U64, entries),
	F("stats_index_faults", NSF_U64, stats_index_faults),
	F("stats_data_io_errors", NSF_U64, stats_data_io_errors),
	F("stats_data_io_error_last", NSF_CHECK_U64, entries),
	F("stats_data_faults", NSF_U64, stats_data_faults),
	F("index_disk_freespace_bytes", NSF_U64, index_disk_freespace_bytes),
	F("data_disk_freespace_bytes", NSF_U64, data_disk_freespace_bytes),
#undef F
};

static int
nsinfo_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static int
nsinfo_is(const char *v, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(v, word, len) == 0;
}

static int
nsinfo_set(const struct nsinfo_field *f, const char *v, size_t len,
    struct nsinfo *ni, struct err *e)
{
	char *at = (char *)ni + f->off;
	const char *want = "an unsigned integer";
	uint64_t x;

	switch (f->type) {
	case NSF_NAME:
		want = "at most 128 bytes";
		if (len >= sizeof(ni->name))
			break;
		memcpy(ni->name, v, len);
		ni->name[len] = '\0';
		return 0;
	case NSF_U64:
	case NSF_CHECK_U64:
		if (nsinfo_u64(v, len, &x) < 0)
			break;
		if (f->type == NSF_U64)
			memcpy(at, &x, sizeof(x));
		return 0;
	case NSF_BOOL:
		want = "yes or no";
		if (!nsinfo_is(v, len, "yes") && !nsinfo_is(v, len, "no"))
			break;
		*(int *)(void *)at = nsinfo_is(v, len, "yes");
		return 0;
	case NSF_MODE:
		want = "userkey or sequential";
		if (nsinfo_is(v, len, "userkey"))
			ni->mode = NS_USERKEY;
		else if (nsinfo_is(v, len, "sequential"))
			ni->mode = NS_SEQUENTIAL;
		else
			break;
		return 0;
	}
	return err_set(e,
	    "NSINFO field \"%s\" has the malformed value \"%.*s\" "
	    "(expected %s)", f->name, len > 64 ? 64 : (int)len, v, want);
}

static void
nsinfo_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
	    (*s)[*len - 1] == '\r'))
		(*len)--;
}

/* One "key: value" line; lines of any other shape carry nothing we need. */
static int
nsinfo_line(const char *line, size_t len, struct nsinfo *ni, uint32_t *seen,
    struct err *e)
{
	const char *sep, *v;
	size_t klen, vlen, i;

	nsinfo_trim(&line, &len);
	if (len == 0 || line[0] == '#')
		return 0;
	if ((sep = memchr(line, ':', len)) == NULL)
		return 0;
	klen = (size_t)(sep - line);
	v = sep + 1;
	vlen = len - klen - 1;
	nsinfo_trim(&v, &vlen);
	for (i = 0; i < sizeof(nsinfo_fields) / sizeof(nsinfo_fields[0]); i++) {
		if (!nsinfo_is(line, klen, nsinfo_fields[i].name))
			continue;
		if (nsinfo_set(&nsinfo_fields[i], v, vlen, ni, e) < 0)
			return -1;
		*seen |= 1u << i;
	}
	return 0;
}

int
nsinfo_parse(const char *text, size_t len, struct nsinfo *ni, struct err *e)
{
	const char *p = text, *end = text + len, *nl;
	uint32_t seen = 0;
	size_t i;

	memset(ni, 0, sizeof(*ni));
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nsinfo_line(p, (size_t)(nl - p), ni, &seen, e) < 0)
			return -1;
		p = nl + 1;
	}
	for (i = 0; i < sizeof(nsinfo_fields) / sizeof(nsinfo_fields[0]); i++)
		if (!(seen & (1u << i)))
			return err_set(e,
			    "NSINFO field \"%s\" is missing (is this a 0-db "
			    "v2?)", nsinfo_fields[i].name);
	return 0;
}
