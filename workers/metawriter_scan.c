/* The metawriter's walks over every metadata key, one piece of one SCAN batch
 * per message, for the master's repair sweep and metadata re-dispersal:
 *
 *   meta_scan {backend, cursor?, after?, before?, every?, redisperse?}
 *       SCANs metadata backend `backend` from `cursor` (none: the oldest
 *       key), goes past the key `after` when the batch still holds it (done
 *       by an earlier message; when it is gone the batch is taken from its
 *       start again), and takes the next keys with the metadata prefix and a
 *       timestamp not after `before`, at most SCAN_ITEMS (24) of them.
 *       result: items [{key, meta} | {key, metas, stray} (every) |
 *       {key, error}]; then partial with the same cursor and the key to go
 *       past next time, or the cursor of the next batch, or done.
 *       With redisperse each record is saved again over the 4 current
 *       backends (metastore_replace with the loaded record as base: a store
 *       racing it is never undone) and items only lists the failures.
 *
 * A saved record moves to the end of 0-db's SCAN order, so positions in a
 * batch are not counts: `after` is the last key of the piece that stayed
 * where it was; keys before it in the batch were all done, and no key is
 * passed over unseen. Memory stays bounded: one SCAN batch of keys (what
 * 0-db finds in 2 ms) and at most 24 records; the master keeps the
 * position. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "log.h"
#include "metastore.h"
#include "worker.h"

#define SCAN_ITEMS	24		/* keys per message */
#define SCAN_HEX_MAX	(256 * 1024)	/* hex of records per message */

struct scan_req {
	int		 every, redisperse;
	int64_t		 before;	/* 0: no limit */
	char		 prefix[300];
	size_t		 hexlen;	/* what the items hold so far */
	unsigned	 loaded, failed, saved;
	/* an item could not be built: the message fails rather than leave
	 * out a key (garbage collection would take it for unreferenced) */
	int		 oom;
};

/* A metadata key: the prefix, then printable ASCII. */
static int
scan_is_ours(const struct scan_req *r, const struct scan_entry *se)
{
	size_t i, n = strlen(r->prefix);

	if (se->keylen <= n || se->keylen > 255 ||
	    memcmp(se->key, r->prefix, n) != 0)
		return 0;
	for (i = n; i < se->keylen; i++)
		if (se->key[i] < 0x21 || se->key[i] > 0x7e)
			return 0;
	return 1;
}

/* A key as zstor makes them under another prefix ("/other/meta/..."): its
 * records are not ours to read, and garbage collection cannot tell their
 * pieces from garbage (another instance sharing the backends, or a prefix
 * changed in the config). */
static int
scan_is_foreign(const struct scan_entry *se)
{
	const char *k = (const char *)se->key, *m;

	if (se->keylen < 8 || k[0] != '/' || se->keylen > 255)
		return 0;
	m = memmem(k + 1, se->keylen - 1, "/meta/", 6);
	return m != NULL && m > k + 1 && memchr(k + 1, '/', m - k - 1) == NULL;
}

/* An item that makes garbage collection delete nothing, naming the key. */
static void
scan_foreign(const struct scan_entry *se, struct scan_req *r, cJSON *items)
{
	char key[256];
	cJSON *o;

	memcpy(key, se->key, se->keylen);
	key[se->keylen] = '\0';
	log_warnx("meta_scan: %s is a metadata key under another prefix than "
	    "%s: garbage collection deletes nothing while it is there", key,
	    r->prefix);
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "key", key) == NULL ||
	    cJSON_AddStringToObject(o, "error", "a metadata key under "
	    "another prefix") == NULL || !cJSON_AddItemToArray(items, o)) {
		cJSON_Delete(o);
		r->oom = 1;
	}
}

static int
scan_add_meta(cJSON *o, const char *field, const struct metadata *m,
    struct scan_req *r)
{
	uint8_t *buf;
	size_t len;
	char *hex;
	struct err e;
	int rc;

	if (meta_encode(m, &buf, &len, &e) == -1)
		return -1;
	if ((hex = malloc(2 * len + 1)) == NULL) {
		free(buf);
		return -1;
	}
	hex_encode(hex, buf, len);
	free(buf);
	r->hexlen += 2 * len;
	if (strcmp(field, "meta") == 0)
		rc = cJSON_AddStringToObject(o, "meta", hex) != NULL;
	else
		rc = cJSON_AddItemToArray(cJSON_GetObjectItem(o, "metas"),
		    cJSON_CreateString(hex));
	free(hex);
	return rc ? 0 : -1;
}

/* One key's item; NULL when there is nothing to say (redisperse: saved). */
static cJSON *
scan_item(struct metastore *ms, const char *key, struct scan_req *r)
{
	struct metadata recs[META_EVERY_MAX];
	size_t n = 0, i;
	enum meta_outcome how;
	struct metadata drop;
	cJSON *o = cJSON_CreateObject();
	struct err e;
	int rc, stray = 0;

	if (o == NULL || cJSON_AddStringToObject(o, "key", key) == NULL ||
	    (r->every && cJSON_AddArrayToObject(o, "metas") == NULL)) {
		cJSON_Delete(o);
		r->oom = 1;
		return NULL;
	}
	if (r->every)
		rc = metastore_load_every(ms, key, recs, &n, &stray, &e);
	else
		rc = metastore_load(ms, key, &recs[0], &e), n = rc == 0;
	if (rc == 1 && (!r->every || stray == 0)) {
		/* no value decodes: corrupt, or deleted since the SCAN */
		r->failed++;
		cJSON_AddStringToObject(o, "error", "no readable metadata "
		    "value under this key (corrupt, or deleted meanwhile)");
		return o;
	}
	if (rc == -1) {
		r->failed++;
		cJSON_AddStringToObject(o, "error", e.msg);
		return o;
	}
	r->loaded++;
	if (r->redisperse) {
		rc = metastore_replace(ms, key, &recs[0], &recs[0], &how, &drop,
		    &e);
		meta_free(&drop);
		meta_free(&recs[0]);
		if (rc == 0) {
			r->saved++;
			cJSON_Delete(o);
			return NULL;
		}
		r->failed++;
		cJSON_AddStringToObject(o, "error", e.msg);
		return o;
	}
	for (i = 0; i < n; i++) {
		if (scan_add_meta(o, r->every ? "metas" : "meta", &recs[i],
		    r) == -1)
			r->oom = 1;
		meta_free(&recs[i]);
	}
	if (r->every)
		cJSON_AddNumberToObject(o, "stray", stray);
	return o;
}

static int
scan_reply(struct worker *w, int64_t job, cJSON *items,
    const struct scan_batch *sb, const uint8_t *cursor, size_t cursorlen,
    int partial, ssize_t stable, int done, const struct scan_req *r)
{
	struct msg *res;
	cJSON *stats = cJSON_CreateObject();

	if ((res = worker_result(job, NULL)) == NULL) {
		cJSON_Delete(items);
		cJSON_Delete(stats);
		return -1;
	}
	msg_set_json(res, "items", items);
	if (done)
		msg_set_bool(res, "done", 1);
	else if (partial) {
		msg_set_bool(res, "partial", 1);
		if (cursor != NULL)
			msg_set_hex(res, "cursor", cursor, cursorlen);
		if (stable >= 0)
			msg_set_hex(res, "after", sb->entries[stable].key,
			    sb->entries[stable].keylen);
	} else
		msg_set_hex(res, "cursor", sb->cursor, sb->cursorlen);
	cJSON_AddNumberToObject(stats, "keys", r->loaded + r->failed);
	cJSON_AddNumberToObject(stats, "failed", r->failed);
	cJSON_AddNumberToObject(stats, "saved", r->saved);
	msg_set_json(res, "stats", stats);
	return worker_send(w, res);
}

/* Takes keys from entry `from` on until the budget is spent; returns where
 * the next message starts (sb->n: the batch is done) and in *stable the
 * last entry before that which this message did not move (-1: none). */
static size_t
scan_take(struct metastore *ms, const struct scan_batch *sb, size_t from,
    struct scan_req *r, cJSON *items, ssize_t *stable)
{
	char key[256];
	size_t i, taken = 0;
	unsigned saved;
	cJSON *o;

	*stable = -1;
	for (i = from; i < sb->n; i++) {
		const struct scan_entry *se = &sb->entries[i];

		if (taken >= SCAN_ITEMS || r->hexlen >= SCAN_HEX_MAX)
			return i;
		if (r->every && !scan_is_ours(r, se) && scan_is_foreign(se)) {
			scan_foreign(se, r, items);
			*stable = (ssize_t)i;
			continue;
		}
		if (!scan_is_ours(r, se) || (r->before > 0 &&
		    se->timestamp > (uint64_t)r->before)) {
			*stable = (ssize_t)i;
			continue;
		}
		memcpy(key, se->key, se->keylen);
		key[se->keylen] = '\0';
		taken++;
		saved = r->saved;
		if ((o = scan_item(ms, key, r)) != NULL &&
		    !cJSON_AddItemToArray(items, o)) {
			cJSON_Delete(o);
			r->oom = 1;
		}
		if (r->saved == saved)
			*stable = (ssize_t)i;
	}
	return sb->n;
}

/* Where this message starts in the batch: past `after` if it is there. */
static size_t
scan_from(const struct msg *m, const struct scan_batch *sb)
{
	uint8_t *after;
	size_t len, i, from = 0;

	if (!msg_has(m, "after") || msg_get_hex(m, "after", &after,
	    &len) == -1)
		return 0;
	for (i = 0; i < sb->n; i++)
		if (sb->entries[i].keylen == len &&
		    memcmp(sb->entries[i].key, after, len) == 0) {
			from = i + 1;
			break;
		}
	free(after);
	return from;
}

int
metawriter_scan(struct worker *w, struct msg *m)
{
	int64_t job = msg_id(m), idx = msg_get_int(m, "backend");
	struct scan_req r = { 0 };
	struct scan_batch sb;
	struct metastore ms;
	struct backend *b;
	struct pool pool;
	uint8_t *cursor = NULL;
	size_t cursorlen = 0, next = 0;
	ssize_t stable = -1;
	cJSON *items;
	struct err e;
	int rc, end;

	if (idx < 0 || idx >= META_BACKENDS) {
		err_set(&e, "meta_scan: no metadata backend %lld",
		    (long long)idx);
		return worker_result_fail(w, job, &e);
	}
	r.every = msg_get_bool(m, "every") == 1;
	r.redisperse = msg_get_bool(m, "redisperse") == 1;
	r.before = msg_has(m, "before") ? msg_get_int(m, "before") : 0;
	snprintf(r.prefix, sizeof(r.prefix), "/%s/meta/", w->cfg.meta_prefix);
	if (msg_has(m, "cursor") &&
	    msg_get_hex(m, "cursor", &cursor, &cursorlen) == -1) {
		err_set(&e, "meta_scan: bad cursor");
		return worker_result_fail(w, job, &e);
	}
	pool_init(&pool, w->timeout_ms);
	metastore_init(&ms, &w->cfg, &pool);
	b = pool_get(&pool, &w->cfg.meta_backends[idx], NS_USERKEY, &e);
	rc = b == NULL ? -1 : backend_scan(b, cursor, cursorlen, &sb,
	    w->timeout_ms, &e);
	if (rc == -1 || (items = cJSON_CreateArray()) == NULL) {
		if (rc != -1)
			scan_batch_free(&sb);
		free(cursor);
		pool_free(&pool);
		log_warnx("meta_scan: %s", rc == -1 ? e.msg : "out of memory");
		return worker_result_fail(w, job, &e);
	}
	end = rc == 1;
	if (!end)
		next = scan_take(&ms, &sb, scan_from(m, &sb), &r, items,
		    &stable);
	if (r.oom) {
		cJSON_Delete(items);
		rc = worker_result_fail(w, job, &(struct err){ "meta_scan: "
		    "out of memory building the items" });
	} else
		rc = scan_reply(w, job, items, &sb, cursor, cursorlen,
		    !end && next < sb.n, stable, end, &r);
	if (!end)
		scan_batch_free(&sb);
	free(cursor);
	pool_free(&pool);
	return rc;
}
