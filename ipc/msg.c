/* The message table and strict reading; building is in msg_build.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hex.h"
#include "log.h"
#include "msg_impl.h"

#define REQ	1
#define OPT	0

#define C2M	MSG_CLIENT_TO_MASTER
#define M2C	MSG_MASTER_TO_CLIENT
#define M2W	MSG_MASTER_TO_WORKER
#define W2M	MSG_WORKER_TO_MASTER

/*
 * Every message of the client protocol and of the worker IPC that is sent.
 * Type names are unique across directions; enum msg_type is generated from
 * the entries below, in this order (one entry starts each line that begins
 * with '{ "'). A change here that a deployed client would notice bumps
 * MSG_PROTO_VERSION and the README's protocol section (an optional request
 * field, and what only it asks for, is none: retrieve's progress).
 */
static const struct msg_def msg_table[] = {
	/* client -> master; "v" and "id" in each, one reply per request */
	{ "store", C2M, 1, {			/* fd: the file, read-only */
		{ "path", MSG_STR, REQ }, { "key_path", MSG_STR, OPT },
		{ "delete", MSG_BOOL, REQ }, { "blocking", MSG_BOOL, REQ },
		{ "save_failure", MSG_BOOL, REQ } } },
	{ "retrieve", C2M, 1, {		/* fd: temp file beside the target */
		/* progress: send "progress" frames before the reply */
		{ "path", MSG_STR, REQ }, { "progress", MSG_BOOL, OPT } } },
	{ "rebuild", C2M, 0, {			/* exactly one of path, key */
		{ "path", MSG_STR, OPT }, { "key", MSG_STR, OPT } } },
	{ "check", C2M, 0, {
		{ "path", MSG_STR, REQ } } },
	/* answered with the health table */
	{ "status", C2M, 0, { { NULL, 0, 0 } } },
	/* master -> client */
	{ "reply", M2C, 0, {
		{ "ok", MSG_BOOL, REQ }, { "error", MSG_STR, OPT },
		{ "checksum", MSG_HEX, OPT }, { "output", MSG_STR, OPT },
		/* status: the daemon's health table (README) */
		{ "health", MSG_ARRAY, OPT } } },
	/* before the reply of a retrieve that asked: pieces fetched of those
	 * planned (msg_get_progress) */
	{ "progress", M2C, 0, {
		{ "done", MSG_INT, REQ }, { "total", MSG_INT, REQ } } },

	/* start-up and reload: hello -> config -> ready; id 0 */
	{ "hello", W2M, 0, {
		{ "role", MSG_STR, REQ }, { "pid", MSG_INT, REQ } } },
	{ "config", M2W, 0, {			/* the config file's text */
		{ "text", MSG_STR, REQ } } },
	{ "ready", W2M, 0, { { NULL, 0, 0 } } },

	/* encoder jobs, id the job; each ends with a "result" of the same id */
	{ "encode", M2W, 2, {		/* fds: the input file, scratch */
		{ "key", MSG_STR, REQ }, { "path", MSG_STR, REQ },
		{ "backends", MSG_ARRAY, OPT },
		/* the checksum of the record stored under key: a file that
		 * has it is not uploaded, and the result carries no meta */
		{ "checksum", MSG_HEX, OPT } } },
	/* store: whether the record stored under key holds the file
	 * (checksum) and reads back; result: unchanged, or an upload
	 * follows */
	{ "verify", M2W, 0, {
		{ "key", MSG_STR, REQ }, { "path", MSG_STR, REQ },
		{ "meta", MSG_HEX, REQ }, { "checksum", MSG_HEX, REQ },
		{ "backends", MSG_ARRAY, OPT } } },
	{ "decode", M2W, 2, {		/* fds: the output file, scratch */
		{ "key", MSG_STR, REQ }, { "meta", MSG_HEX, REQ },
		/* send job_progress while decoding */
		{ "progress", MSG_BOOL, OPT },
		/* fsync the output before the result */
		{ "sync", MSG_BOOL, OPT } } },
	/* a decode's pieces fetched of those planned, twice a second at
	 * most, before its result */
	{ "job_progress", W2M, 0, {
		{ "done", MSG_INT, REQ }, { "total", MSG_INT, REQ } } },
	/* rebuild: unreadable shards onto healthy backends */
	{ "reencode", M2W, 1, {			/* fd: scratch */
		{ "key", MSG_STR, REQ }, { "meta", MSG_HEX, REQ },
		{ "backends", MSG_ARRAY, OPT } } },
	/* the pieces a failed metadata update left unreachable */
	{ "drop_shards", M2W, 0, {
		{ "meta", MSG_HEX, REQ } } },

	/* metawriter jobs; meta is the bincode metadata as hex */
	/* writable: fail unless all 4 up; checksum_only: the result carries
	 * the record's checksum, not the record */
	{ "meta_get", M2W, 0, {
		{ "key", MSG_STR, REQ }, { "writable", MSG_BOOL, OPT },
		{ "checksum_only", MSG_BOOL, OPT } } },
	{ "meta_put", M2W, 0, {		/* base: replace only that record */
		{ "key", MSG_STR, REQ }, { "meta", MSG_HEX, REQ },
		{ "base", MSG_HEX, OPT } } },

	/* repairer -> master, id 0, after each round of health checks: per
	 * backend {name, meta, ok, class and error, or info} */
	{ "health", W2M, 0, {
		{ "backends", MSG_ARRAY, REQ }, { "took_ms", MSG_INT, REQ } } },

	/* one piece of a walk over every metadata key (metawriter_scan.c) */
	{ "meta_scan", M2W, 0, {
		{ "backend", MSG_INT, REQ }, { "cursor", MSG_HEX, OPT },
		{ "after", MSG_HEX, OPT }, { "before", MSG_INT, OPT },
		{ "every", MSG_BOOL, OPT }, { "redisperse", MSG_BOOL, OPT } } },
	/* repairer: check the objects of a meta_scan's items; result: the
	 * keys to rebuild as items */
	{ "sweep_check", M2W, 0, {
		{ "items", MSG_ARRAY, REQ }, { "down", MSG_ARRAY, REQ },
		{ "unsure", MSG_ARRAY, OPT },
		{ "scrub_rate", MSG_U64, REQ } } },

	/* repairer, garbage collection (repairer_gc.c): mark the pieces the
	 * records of a meta_scan (every) reference, pass gc; then per data
	 * backend, one SCAN batch per message, the unmarked pieces older than
	 * before (Unix seconds) are counted and, with delete, deleted */
	{ "gc_mark", M2W, 0, {
		{ "gc", MSG_INT, REQ }, { "items", MSG_ARRAY, REQ },
		{ "first", MSG_BOOL, OPT } } },
	{ "gc_collect", M2W, 0, {
		{ "gc", MSG_INT, REQ }, { "backend", MSG_STR, REQ },
		{ "cursor", MSG_HEX, OPT }, { "before", MSG_INT, REQ },
		{ "delete", MSG_BOOL, REQ } } },

	/* evictor: whether the file (fd, opened read-only) still has the
	 * stored checksum; answered by a result */
	{ "evict_hash", M2W, 1, {
		{ "path", MSG_STR, REQ }, { "checksum", MSG_HEX, REQ } } },

	/* any job's outcome; from meta_get, settled: all 4 backends agree; from
	 * a failed meta_put, drop: the pieces no reader can reach, or in_doubt:
	 * both records are kept */
	{ "result", W2M, 0, {
		{ "ok", MSG_BOOL, REQ }, { "error", MSG_STR, OPT },
		{ "meta", MSG_HEX, OPT }, { "checksum", MSG_HEX, OPT },
		{ "stats", MSG_OBJECT, OPT }, { "settled", MSG_BOOL, OPT },
		{ "drop", MSG_HEX, OPT }, { "in_doubt", MSG_BOOL, OPT },
		/* verify: the stored record holds the file */
		{ "unchanged", MSG_BOOL, OPT },
		/* meta_scan, sweep_check: what was found, where to go on */
		{ "items", MSG_ARRAY, OPT }, { "cursor", MSG_HEX, OPT },
		{ "after", MSG_HEX, OPT }, { "partial", MSG_BOOL, OPT },
		{ "done", MSG_BOOL, OPT } } },
};

#define MSG_TABLE_LEN	(sizeof(msg_table) / sizeof(msg_table[0]))

_Static_assert(MSG_TABLE_LEN == MSG_TYPES, "msg_types.h is not the table's");

const struct msg_def *
msg_table_entry(size_t i)
{
	return i < MSG_TABLE_LEN ? &msg_table[i] : NULL;
}

const struct msg_def *
msg_def_find(const char *type)
{
	size_t i;

	for (i = 0; i < MSG_TABLE_LEN; i++)
		if (strcmp(msg_table[i].type, type) == 0)
			return &msg_table[i];
	return NULL;
}

const char *
msg_dir_name(enum msg_dir dir)
{
	static const char *names[] = { "client->master", "master->client",
	    "master->worker", "worker->master" };

	return (unsigned)dir < 4 ? names[dir] : "?";
}

const char *
msg_kind_name(enum msg_kind kind)
{
	static const char *names[] = { "a string", "a boolean", "an integer",
	    "a decimal string (u64)", "a lowercase hex string", "an object",
	    "an array" };

	return (unsigned)kind < 7 ? names[kind] : "?";
}

int
msg_meta_fits(size_t len, struct err *e)
{
	if (len <= MSG_META_MAX)
		return 0;
	return err_set(e,
	    "the metadata of this object (%zu bytes) is too large "
	    "to pass between zstor-master's processes (at most %d); use zstor "
	    "without a daemon for this object", len, MSG_META_MAX);
}

int
msg_dir_is_client(enum msg_dir dir)
{
	return dir == MSG_CLIENT_TO_MASTER || dir == MSG_MASTER_TO_CLIENT;
}

static const char *
json_kind_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	return "something else";
}

const struct msg_field *
msg_field_find(const struct msg_def *def, const char *name)
{
	size_t i;

	for (i = 0; i < MSG_FIELDS_MAX && def->fields[i].name != NULL; i++)
		if (strcmp(def->fields[i].name, name) == 0)
			return &def->fields[i];
	return NULL;
}

/* A JSON number that is an integer within +-2^53, or the raw decimal text
 * of one (as messages keep their integers); -1 otherwise. */
static int
json_integer(const cJSON *v, int64_t *out)
{
	char *end;
	double d;

	if (cJSON_IsRaw(v) && v->valuestring != NULL) {
		errno = 0;
		*out = strtoll(v->valuestring, &end, 10);
		return errno == 0 && end != v->valuestring && *end == '\0' &&
		    *out >= -MSG_INT_MAX && *out <= MSG_INT_MAX ? 0 : -1;
	}
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= -(double)MSG_INT_MAX && d <= (double)MSG_INT_MAX))
		return -1;
	if ((double)(int64_t)d != d)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* Canonical decimal: digits only, no leading zero, at most UINT64_MAX. */
int
msg_parse_u64(const char *s, uint64_t *out, struct err *e)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0')
		return err_set(e, "is empty, expected a decimal string (u64)");
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return err_set(e,
			    "\"%.32s\" is not a decimal string of "
			    "digits (u64)", s);
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return err_set(e, "\"%.32s\" is larger than %" PRIu64,
			    s, UINT64_MAX);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (s[0] == '0' && s[1] != '\0')
		return err_set(e, "\"%.32s\" has a leading zero", s);
	*out = v;
	return 0;
}

static int
check_hex(const char *s, struct err *e)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return err_set(e, "is not lowercase hex (byte %zu)", i);
	if (i % 2)
		return err_set(e, "has an odd number (%zu) of hex digits", i);
	return 0;
}

int
msg_value_check(const struct msg_field *f, const cJSON *v, struct err *e)
{
	int64_t i;
	uint64_t u;
	int ok;

	switch (f->kind) {
	case MSG_STR:
		ok = cJSON_IsString(v);
		break;
	case MSG_BOOL:
		ok = cJSON_IsBool(v);
		break;
	case MSG_INT:
		if (cJSON_IsNumber(v) && json_integer(v, &i) == -1)
			return err_set(e,
			    "is not an integer within +-(2^53-1)");
		ok = cJSON_IsNumber(v);
		break;
	case MSG_U64:
		if (cJSON_IsString(v))
			return msg_parse_u64(v->valuestring, &u, e);
		ok = 0;
		break;
	case MSG_HEX:
		if (cJSON_IsString(v))
			return check_hex(v->valuestring, e);
		ok = 0;
		break;
	case MSG_OBJECT:
		ok = cJSON_IsObject(v);
		break;
	case MSG_ARRAY:
		ok = cJSON_IsArray(v);
		break;
	default:
		ok = 0;
	}
	if (!ok)
		return err_set(e, "must be %s, not %s", msg_kind_name(f->kind),
		    json_kind_name(v));
	return 0;
}

static int
is_header(const char *name)
{
	return strcmp(name, "type") == 0 || strcmp(name, "id") == 0 ||
	    strcmp(name, "v") == 0;
}

/* Every member of root against def: no unknown field, kinds right, required
 * fields present. Header members ("type", "id", "v") were checked already. */
static int
msg_check_fields(const struct msg_def *def, const cJSON *root, struct err *e)
{
	const struct msg_field *f;
	const cJSON *c;
	struct err why;
	size_t i;

	for (c = root->child; c != NULL; c = c->next) {
		if (is_header(c->string) &&
		    (strcmp(c->string, "v") != 0 ||
		    msg_dir_is_client(def->dir)))
			continue;
		if ((f = msg_field_find(def, c->string)) == NULL)
			return err_set(e, "%s: unknown field \"%.64s\"",
			    def->type, c->string);
		if (msg_value_check(f, c, &why) == -1)
			return err_set(e, "%s: field \"%s\" %s", def->type,
			    f->name, why.msg);
	}
	for (i = 0; i < MSG_FIELDS_MAX && def->fields[i].name != NULL; i++) {
		f = &def->fields[i];
		if (f->required &&
		    cJSON_GetObjectItemCaseSensitive(root, f->name) == NULL)
			return err_set(e, "%s: missing required field \"%s\"",
			    def->type, f->name);
	}
	return 0;
}

/* "type" names a message of this direction. */
static const struct msg_def *
check_type(const cJSON *root, enum msg_dir dir, struct err *e)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
	const struct msg_def *def;

	if (t == NULL) {
		err_set(e, "message has no \"type\"");
		return NULL;
	}
	if (!cJSON_IsString(t)) {
		err_set(e, "message \"type\" must be a string, not %s",
		    json_kind_name(t));
		return NULL;
	}
	if ((def = msg_def_find(t->valuestring)) == NULL) {
		err_set(e, "unknown message type \"%.64s\"", t->valuestring);
		return NULL;
	}
	if (def->dir != dir) {
		err_set(e, "message type \"%s\" goes %s, it is not accepted %s",
		    def->type, msg_dir_name(def->dir), msg_dir_name(dir));
		return NULL;
	}
	return def;
}

/* "id" (and "v" in the client protocol). */
static int
check_id_version(const struct msg_def *def, const cJSON *root, int64_t *id,
    struct err *e)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "id");
	int64_t v;

	if (c == NULL)
		return err_set(e, "%s: message has no \"id\"", def->type);
	if (!cJSON_IsNumber(c))
		return err_set(e, "%s: \"id\" must be an integer, not %s",
		    def->type, json_kind_name(c));
	if (json_integer(c, id) == -1 || *id < 0)
		return err_set(e, "%s: \"id\" must be an integer 0..2^53-1",
		    def->type);
	if (!msg_dir_is_client(def->dir))
		return 0;
	if ((c = cJSON_GetObjectItemCaseSensitive(root, "v")) == NULL)
		return err_set(e, "%s: message has no protocol version \"v\" "
		    "(this daemon speaks version %d)", def->type,
		    MSG_PROTO_VERSION);
	if (json_integer(c, &v) == -1)
		return err_set(e,
		    "%s: protocol version \"v\" must be an integer, "
		    "not %s", def->type, json_kind_name(c));
	if (v != MSG_PROTO_VERSION)
		return err_set(e, "%s: unsupported protocol version %lld (this "
		    "daemon speaks version %d; use a zstor client of the same "
		    "release)", def->type, (long long)v, MSG_PROTO_VERSION);
	return 0;
}

/* Keeps integer name of root as its exact decimal text, as msg_new and
 * msg_set_int build them: cJSON prints doubles with 15 significant digits,
 * so a parsed message encoded again would change integers above 10^15. */
static int
keep_exact(cJSON *root, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name), *raw;
	char num[24];
	int64_t i;

	if (v == NULL || !cJSON_IsNumber(v) || json_integer(v, &i) == -1)
		return 0;
	snprintf(num, sizeof(num), "%lld", (long long)i);
	if ((raw = cJSON_CreateRaw(num)) == NULL)
		return -1;
	return cJSON_ReplaceItemInObjectCaseSensitive(root, name, raw) ? 0 : -1;
}

static int
keep_exact_ints(const struct msg_def *def, cJSON *root, struct err *e)
{
	size_t i;

	if (keep_exact(root, "id") == -1)
		return err_set(e, "out of memory for a message");
	for (i = 0; i < MSG_FIELDS_MAX && def->fields[i].name != NULL; i++)
		if (def->fields[i].kind == MSG_INT &&
		    keep_exact(root, def->fields[i].name) == -1)
			return err_set(e, "out of memory for a message");
	return 0;
}

static struct msg *
msg_from_root(cJSON *root, enum msg_dir dir, struct err *e)
{
	const struct msg_def *def;
	struct msg *m;
	int64_t id = 0;

	if (!cJSON_IsObject(root)) {
		err_set(e, "message is %s, not a JSON object",
		    json_kind_name(root));
		goto fail;
	}
	if (msg_dup_check(root, e) == -1)
		goto fail;
	if ((def = check_type(root, dir, e)) == NULL)
		goto fail;
	if (check_id_version(def, root, &id, e) == -1 ||
	    msg_check_fields(def, root, e) == -1 ||
	    keep_exact_ints(def, root, e) == -1)
		goto fail;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		err_set(e, "out of memory for a message");
		goto fail;
	}
	m->def = def;
	m->root = root;
	m->id = id;
	return m;
fail:
	cJSON_Delete(root);
	return NULL;
}

struct msg *
msg_parse(const char *json, size_t len, enum msg_dir dir, struct err *e)
{
	const char *end = NULL;
	cJSON *root;
	size_t i;

	if (len == 0 || len > IPC_FRAME_MAX) {
		err_set(e, "message of %zu bytes (1..%d allowed)", len,
		    IPC_FRAME_MAX);
		return NULL;
	}
	if (msg_text_check(json, len, e) == -1) {
		err_prefix(e, "message is not valid JSON");
		return NULL;
	}
	if ((root = cJSON_ParseWithLengthOpts(json, len, &end, 0)) == NULL) {
		err_set(e, "message is not valid JSON (error at byte %zu)",
		    end != NULL ? (size_t)(end - json) : (size_t)0);
		return NULL;
	}
	for (i = (size_t)(end - json); i < len; i++)
		if (strchr(" \t\r\n", json[i]) == NULL || json[i] == '\0') {
			cJSON_Delete(root);
			err_set(e, "trailing bytes after the JSON object (at "
			    "byte %zu)", i);
			return NULL;
		}
	return msg_from_root(root, dir, e);
}

int
msg_check_fds(const struct msg *m, int nfds, struct err *e)
{
	int want = m->def->nfds;

	if (nfds == want)
		return 0;
	if (want == 0)
		return err_set(e, "%s: this message must not carry a file "
		    "descriptor", m->def->type);
	if (nfds == 0)
		return err_set(e, "%s: this message needs %s and came without",
		    m->def->type, want == 1 ? "a file descriptor" :
		    "two file descriptors");
	return err_set(e, "%s: this message carries %d file descriptor%s, not "
	    "%d", m->def->type, want, want == 1 ? "" : "s", nfds);
}

enum msg_type
msg_type(const struct msg *m)
{
	return (enum msg_type)(m->def - msg_table);
}

const char *
msg_type_name(const struct msg *m)
{
	return m->def->type;
}

int64_t
msg_id(const struct msg *m)
{
	return m->id;
}

const struct msg_def *
msg_def(const struct msg *m)
{
	return m->def;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	cJSON_Delete(m->root);
	free(m);
}

/* The table's entry for field; one the table does not list is a bug in the
 * caller, not in the peer. */
static const struct msg_field *
field_of(const struct msg *m, const char *field)
{
	const struct msg_field *f = msg_field_find(m->def, field);

	if (f == NULL)
		fatalx("message %s has no field \"%s\"", m->def->type, field);
	return f;
}

/* The member for a getter, NULL when absent (msg_parse checked its kind). */
static const cJSON *
get_item(const struct msg *m, const char *field, enum msg_kind kind)
{
	const struct msg_field *f = field_of(m, field);

	if (f->kind != kind)
		fatalx("field \"%s\" of message %s is %s, not %s", field,
		    m->def->type, msg_kind_name(f->kind), msg_kind_name(kind));
	return cJSON_GetObjectItemCaseSensitive(m->root, field);
}

int
msg_has(const struct msg *m, const char *field)
{
	(void)field_of(m, field);
	return cJSON_GetObjectItemCaseSensitive(m->root, field) != NULL;
}

const char *
msg_get_str(const struct msg *m, const char *field)
{
	const cJSON *v = get_item(m, field, MSG_STR);

	return v != NULL ? v->valuestring : NULL;
}

int
msg_get_bool(const struct msg *m, const char *field)
{
	const cJSON *v = get_item(m, field, MSG_BOOL);

	if (v == NULL)
		return -1;
	return cJSON_IsTrue(v) ? 1 : 0;
}

int64_t
msg_get_int(const struct msg *m, const char *field)
{
	const cJSON *v = get_item(m, field, MSG_INT);
	int64_t i;

	if (v == NULL || json_integer(v, &i) == -1)
		return INT64_MIN;
	return i;
}

int
msg_get_u64(const struct msg *m, const char *field, uint64_t *out)
{
	const cJSON *v = get_item(m, field, MSG_U64);

	if (v == NULL)
		return -1;
	return msg_parse_u64(v->valuestring, out, NULL);
}

int
msg_get_hex(const struct msg *m, const char *field, uint8_t **out, size_t *len)
{
	const cJSON *v = get_item(m, field, MSG_HEX);
	size_t n;

	*out = NULL;
	*len = 0;
	if (v == NULL)
		return -1;
	n = strlen(v->valuestring) / 2;
	if ((*out = malloc(n ? n : 1)) == NULL)
		return -1;
	if (hex_decode(*out, v->valuestring, n) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = n;
	return 0;
}

const cJSON *
msg_get_json(const struct msg *m, const char *field)
{
	const struct msg_field *f = field_of(m, field);

	if (f->kind != MSG_OBJECT && f->kind != MSG_ARRAY)
		fatalx("field \"%s\" of message %s is %s, not an object or an "
		    "array", field, m->def->type, msg_kind_name(f->kind));
	return cJSON_GetObjectItemCaseSensitive(m->root, field);
}

int
msg_get_progress(const struct msg *m, uint64_t *done, uint64_t *total,
    struct err *e)
{
	int64_t d = msg_get_int(m, "done"), t = msg_get_int(m, "total");

	if (d < 0 || t < 1 || d > t)
		return err_set(e, "%s: %lld of %lld pieces is not a share of "
		    "the work (0 <= done <= total, total >= 1)",
		    m->def->type, (long long)d, (long long)t);
	*done = (uint64_t)d;
	*total = (uint64_t)t;
	return 0;
}
