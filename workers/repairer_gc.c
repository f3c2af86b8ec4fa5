/* The repairer's part of garbage collection: which pieces on the data
 * backends no metadata references.
 *
 *   gc_mark {gc, items}    items of a meta_scan with every: each decodable
 *                          record of each key marks its pieces (all of
 *                          them: after a failed update two records may be
 *                          there, and a reader may pick either). result
 *                          stats: records, unsafe (keys that could not be
 *                          loaded from all 4 backends, values that decode
 *                          to no record, records that do not decode).
 *   gc_collect {gc, backend, cursor?, before, delete}
 *                          one SCAN batch of that data backend's namespace:
 *                          pieces not marked and stored before `before`
 *                          are orphans; with delete they are deleted.
 *                          result: cursor (or done), stats: seen, orphans,
 *                          deleted, failed, held (1: records reference a
 *                          backend the config does not name, so nothing
 *                          was deleted).
 *
 * The marks are one bitmap per data namespace, indexed by the 0-db
 * sequential id (dense integers from 0): memory is the highest id
 * referenced / 8 bytes per namespace, about 1.25 MB per 10^7 pieces,
 * whatever the number of keys. An id above GC_ID_MAX marks its namespace
 * unsafe (nothing is deleted there). The marks live between messages, for
 * the pass `gc` only: a restarted repairer has none, and refuses to
 * collect. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "log.h"
#include "repairer.h"

#define GC_ID_MAX	(1ULL << 33)	/* 1 GiB of bitmap at most */

struct gcns {
	char		 name[BACKEND_NAME_MAX];
	uint64_t	*bits;
	uint64_t	 nwords;
	int		 overflow;
};

static struct gcns	*gcns;
static size_t		 ngcns;
static int64_t		 gc_pass = -1;

static void
gc_reset(int64_t pass)
{
	size_t i;

	for (i = 0; i < ngcns; i++)
		free(gcns[i].bits);
	free(gcns);
	gcns = NULL;
	ngcns = 0;
	gc_pass = pass;
}

static struct gcns *
gc_ns(const char *name, int add)
{
	struct gcns *v;
	size_t i;

	for (i = 0; i < ngcns; i++)
		if (strcmp(gcns[i].name, name) == 0)
			return &gcns[i];
	if (!add || (v = reallocarray(gcns, ngcns + 1, sizeof(*v))) == NULL)
		return NULL;
	gcns = v;
	memset(&gcns[ngcns], 0, sizeof(gcns[ngcns]));
	strlcpy(gcns[ngcns].name, name, sizeof(gcns[ngcns].name));
	return &gcns[ngcns++];
}

/* The name marks are kept under: the backend's name with runs of '/'
 * collapsed and none before the namespace, so that the record's spelling of
 * a dir: path ("/srv/a/") and the config's ("/srv/a") meet. */
static void
gc_name(const struct backend_ci *ci, char *out, size_t len)
{
	char raw[BACKEND_NAME_MAX];
	size_t i, o = 0;

	ci_name(ci, raw, sizeof(raw));
	for (i = 0; raw[i] != '\0' && o + 1 < len; i++) {
		if (raw[i] == '/' && o > 0 && out[o - 1] == '/')
			continue;
		out[o++] = raw[i];
	}
	out[o] = '\0';
}

/* -1 when the mark cannot be kept (then the namespace is unsafe). */
static int
gc_set(struct gcns *ns, uint64_t id)
{
	uint64_t w = id / 64, n;
	uint64_t *v;

	if (id >= GC_ID_MAX)
		return -1;
	if (w >= ns->nwords) {
		n = ns->nwords ? ns->nwords : 1024;
		while (n <= w)
			n *= 2;
		if ((v = realloc(ns->bits, n * sizeof(*v))) == NULL)
			return -1;
		memset(v + ns->nwords, 0, (n - ns->nwords) * sizeof(*v));
		ns->bits = v;
		ns->nwords = n;
	}
	ns->bits[w] |= 1ULL << (id % 64);
	return 0;
}

static int
gc_isset(const struct gcns *ns, uint64_t id)
{
	return id / 64 < ns->nwords &&
	    (ns->bits[id / 64] & (1ULL << (id % 64))) != 0;
}

/* Marks every piece of one record (hex bincode); -1 when it is bad. */
static int
gc_mark_record(const char *hex)
{
	char name[BACKEND_NAME_MAX];
	struct metadata m;
	struct gcns *ns;
	size_t len = strlen(hex) / 2, i, k;
	uint8_t *buf;
	struct err e;
	int rc = 0;

	if (len == 0 || (buf = malloc(len)) == NULL)
		return -1;
	if (hex_decode(buf, hex, len) == -1 || meta_decode(buf, len, &m,
	    &e) == -1) {
		free(buf);
		return -1;
	}
	free(buf);
	for (i = 0; i < m.nshards; i++) {
		gc_name(&m.shards[i].ci, name, sizeof(name));
		if ((ns = gc_ns(name, 1)) == NULL) {
			rc = -1;
			continue;
		}
		for (k = 0; k < m.shards[i].nkeys; k++)
			if (gc_set(ns, m.shards[i].keys[k].id) == -1)
				ns->overflow = 1;
	}
	meta_free(&m);
	return rc;
}

int
repairer_gc_mark(struct worker *w, struct msg *m)
{
	const cJSON *it, *v, *metas, *stray;
	uint64_t records = 0, unsafe = 0;
	cJSON *stats = cJSON_CreateObject();
	struct msg *res;
	struct err e;

	/* Only the pass's first message starts the marks: a repairer
	 * restarted since holds none of the earlier ones, and must not go on
	 * as if it did (collect would delete what they referenced). */
	if (msg_get_bool(m, "first") == 1)
		gc_reset(msg_get_int(m, "gc"));
	else if (msg_get_int(m, "gc") != gc_pass) {
		cJSON_Delete(stats);
		return err_set(&e, "gc: this repairer holds no marks of pass "
		    "%lld (it was restarted); nothing deleted",
		    (long long)msg_get_int(m, "gc")),
		    worker_result_fail(w, msg_id(m), &e);
	}
	cJSON_ArrayForEach(it, msg_get_json(m, "items")) {
		metas = cJSON_GetObjectItemCaseSensitive(it, "metas");
		stray = cJSON_GetObjectItemCaseSensitive(it, "stray");
		if (cJSON_GetObjectItemCaseSensitive(it, "error") != NULL ||
		    !cJSON_IsArray(metas) || !cJSON_IsNumber(stray)) {
			unsafe++;
			continue;
		}
		if (stray->valuedouble != 0)
			unsafe++;
		cJSON_ArrayForEach(v, metas) {
			if (!cJSON_IsString(v) ||
			    gc_mark_record(v->valuestring) == -1)
				unsafe++;
			else
				records++;
		}
	}
	if ((res = worker_result(msg_id(m), NULL)) == NULL) {
		cJSON_Delete(stats);
		return -1;
	}
	cJSON_AddNumberToObject(stats, "records", (double)records);
	cJSON_AddNumberToObject(stats, "unsafe", (double)unsafe);
	msg_set_json(res, "stats", stats);
	return worker_send(w, res);
}

static const struct backend_ci *
gc_find_backend(const struct config *cfg, const char *name)
{
	char n[BACKEND_NAME_MAX];
	size_t g, j;

	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++) {
			ci_name(&cfg->groups[g].backends[j], n, sizeof(n));
			if (strcmp(n, name) == 0)
				return &cfg->groups[g].backends[j];
		}
	return NULL;
}

/* The name of a backend records reference that no data backend of cfg is,
 * or NULL. */
static const char *
gc_marks_elsewhere(const struct config *cfg)
{
	char n[BACKEND_NAME_MAX];
	size_t i, g, j;
	int found;

	for (i = 0; i < ngcns; i++) {
		found = 0;
		for (g = 0; g < cfg->ngroups && !found; g++)
			for (j = 0; j < cfg->groups[g].nbackends; j++) {
				gc_name(&cfg->groups[g].backends[j], n,
				    sizeof(n));
				if (strcmp(n, gcns[i].name) == 0) {
					found = 1;
					break;
				}
			}
		if (!found)
			return gcns[i].name;
	}
	return NULL;
}

/* Records that reference a backend the config does not name stop deletion
 * on every backend: it may be one of the config's under another address (a
 * unix socket and a TCP port of one 0-db, a host name and its address), whose
 * pieces those records marked under the other name. Said once a pass. */
static int
gc_counts_only(const struct config *cfg)
{
	static int64_t warned = -1;
	const char *other = gc_marks_elsewhere(cfg);

	if (other == NULL)
		return 0;
	if (warned != gc_pass)
		log_warnx("gc: metadata references %s, which is not a data "
		    "backend of the config: it may be one of them under "
		    "another address, so orphans are counted, not deleted; "
		    "rebuild the objects stored there (zstor rebuild) or add "
		    "it to the config", other);
	warned = gc_pass;
	return 1;
}

struct gc_counts {
	uint64_t	seen, orphans, deleted, failed;
	uint64_t	held;	/* 1: deletion was asked for, not done */
};

/* The orphans of one batch, deleted when asked. */
static void
gc_batch(struct backend *b, const struct gcns *ns, const struct scan_batch *sb,
    int64_t before, int del, int timeout_ms, struct gc_counts *c)
{
	struct bop *ops = calloc(sb->n ? sb->n : 1, sizeof(*ops));
	size_t i, k, n = 0;
	uint64_t id;

	for (i = 0; i < sb->n; i++) {
		const struct scan_entry *se = &sb->entries[i];

		c->seen++;
		if (se->keylen != 4 && se->keylen != 8)
			continue;	/* not a sequential id */
		for (id = 0, k = se->keylen; k > 0; k--)
			id = id << 8 | se->key[k - 1];
		if ((ns != NULL && (ns->overflow || gc_isset(ns, id))) ||
		    se->timestamp >= (uint64_t)before)
			continue;
		c->orphans++;
		log_debug("gc: %s: piece %llu is referenced by no metadata%s",
		    backend_name(b), (unsigned long long)id,
		    del ? ": deleting it" : "");
		if (del && ops != NULL) {
			ops[n].b = b;
			ops[n].kind = BOP_DEL;
			ops[n].key = se->key;
			ops[n].keylen = se->keylen;
			n++;
		}
	}
	backend_run(ops, n, timeout_ms);
	for (i = 0; i < n; i++) {
		if (ops[i].rc < 0) {
			c->failed++;
			log_warnx("gc: %s", ops[i].err.msg);
		} else
			c->deleted++;
	}
	free(ops);
}

static int
gc_reply(struct worker *w, int64_t job, const struct scan_batch *sb, int done,
    const struct gc_counts *c)
{
	cJSON *stats = cJSON_CreateObject();
	struct msg *res;

	if ((res = worker_result(job, NULL)) == NULL) {
		cJSON_Delete(stats);
		return -1;
	}
	if (done)
		msg_set_bool(res, "done", 1);
	else
		msg_set_hex(res, "cursor", sb->cursor, sb->cursorlen);
	cJSON_AddNumberToObject(stats, "seen", (double)c->seen);
	cJSON_AddNumberToObject(stats, "orphans", (double)c->orphans);
	cJSON_AddNumberToObject(stats, "deleted", (double)c->deleted);
	cJSON_AddNumberToObject(stats, "failed", (double)c->failed);
	cJSON_AddNumberToObject(stats, "held", (double)c->held);
	msg_set_json(res, "stats", stats);
	return worker_send(w, res);
}

int
repairer_gc_collect(struct worker *w, struct msg *m)
{
	const char *name = msg_get_str(m, "backend");
	const struct backend_ci *ci = gc_find_backend(&w->cfg, name);
	int del = msg_get_bool(m, "delete") == 1;
	char cname[BACKEND_NAME_MAX];
	struct gcns *ns;
	struct gc_counts c = { 0 };
	struct scan_batch sb;
	struct backend *b;
	uint8_t *cursor = NULL;
	size_t cursorlen = 0;
	struct err e;
	int rc, scanned;

	if (msg_get_int(m, "gc") != gc_pass)
		return err_set(&e, "gc: this repairer holds no marks of pass "
		    "%lld (it was restarted); nothing deleted",
		    (long long)msg_get_int(m, "gc")),
		    worker_result_fail(w, msg_id(m), &e);
	if (ci == NULL)
		return err_set(&e, "gc: %s is not a data backend of the "
		    "config", name), worker_result_fail(w, msg_id(m), &e);
	if ((b = backend_open(ci, NS_SEQUENTIAL, w->timeout_ms, &e)) == NULL)
		return worker_result_fail(w, msg_id(m), &e);
	if (msg_has(m, "cursor") &&
	    msg_get_hex(m, "cursor", &cursor, &cursorlen) == -1) {
		backend_close(b);
		return err_set(&e, "gc_collect: bad cursor"),
		    worker_result_fail(w, msg_id(m), &e);
	}
	scanned = backend_scan(b, cursor, cursorlen, &sb, w->timeout_ms, &e);
	free(cursor);
	if (scanned == -1) {
		backend_close(b);
		return worker_result_fail(w, msg_id(m), &e);
	}
	if (scanned == 0) {
		gc_name(ci, cname, sizeof(cname));
		ns = gc_ns(cname, 0);
		if (del && gc_counts_only(&w->cfg))
			del = 0, c.held = 1;
		gc_batch(b, ns, &sb, msg_get_int(m, "before"), del,
		    w->timeout_ms, &c);
	}
	rc = gc_reply(w, msg_id(m), &sb, scanned == 1, &c);
	scan_batch_free(&sb);
	backend_close(b);
	return rc;
}
