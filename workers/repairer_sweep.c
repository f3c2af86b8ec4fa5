/* The repairer's part of the repair sweep: the objects of one piece of a
 * metadata SCAN (items from the metawriter, through the master) are checked,
 * and the keys of those that need a rebuild go back to the master, which
 * queues them at repair priority.
 *
 *   sweep_check {items, down, unsure?, scrub_rate}
 *       an object needs a rebuild when a shard sits on a backend the health
 *       checks find unreachable (down), or a backend not in the config that
 *       cannot be reached; with a scrub_rate (bytes/s, 0: none), every shard
 *       of every object is also read and checked (its keys exist, its
 *       BLAKE2b matches): a missing, short or corrupt shard needs a rebuild.
 *       Shards on backends that are unknown (unsure) are not read: they are
 *       neither damaged nor repaired yet.
 *       result: items = the keys to rebuild; stats.
 *
 * The scrub reads at scrub_rate on average; while it waits the health checks
 * go on, and a message from the master ends the waiting (the rest of the
 * piece is read at full speed, so that the master is answered soon). Bad or
 * unreadable metadata is logged and skipped. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "log.h"
#include "obj.h"
#include "repairer.h"

struct pace {
	struct worker	*w;
	uint64_t	 rate;		/* bytes/s; 0: none */
	uint64_t	 bytes;
	int64_t		 start_ms;
	int		 hurry;		/* the master is waiting */
};

struct sweep_stats {
	unsigned	objects, degraded, damaged, unreadable, bad_meta;
	uint64_t	scrubbed;
};

/* After each round of pieces: wait until the bytes read fit the rate,
 * checking the backends' health meanwhile. */
static void
scrub_pace(void *arg, uint64_t bytes)
{
	struct pace *p = arg;
	int64_t due, now, wait;

	p->bytes += bytes;
	if (p->rate == 0 || p->hurry)
		return;
	due = p->start_ms + (int64_t)(p->bytes * 1000 / p->rate);
	while (!p->hurry && (now = repairer_now_ms()) < due) {
		if (health_tick(p->w) == -1)
			return;
		wait = due - now;
		if (health_due_in(p->w) < wait)
			wait = health_due_in(p->w);
		if (worker_wait(p->w, wait))
			p->hurry = 1;
	}
}

static int
name_listed(const cJSON *list, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, list)
		if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
			return 1;
	return 0;
}

static int
in_config(const struct config *cfg, const struct backend_ci *ci)
{
	size_t g, j;

	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++)
			if (ci_equal(&cfg->groups[g].backends[j], ci))
				return 1;
	return 0;
}

/* A shard's backend is out of reach: unreachable by the health checks, or
 * not in the config and not answering now (the pool remembers for the rest
 * of this message). Unsure ones are marked failed so the scrub skips them. */
static int
shard_down(struct worker *w, struct pool *probe, const struct shard_info *si,
    const cJSON *down, const cJSON *unsure, struct pool *pool)
{
	char name[BACKEND_NAME_MAX];
	struct err e;

	ci_name(&si->ci, name, sizeof(name));
	if (name_listed(down, name))
		return 1;
	if (name_listed(unsure, name)) {
		err_set(&e, "%s: not read: its health checks fail", name);
		pool_fail(pool, &si->ci, NS_SEQUENTIAL, &e);
		return 0;
	}
	if (in_config(&w->cfg, &si->ci))
		return 0;
	return pool_get(probe, &si->ci, NS_SEQUENTIAL, &e) == NULL;
}

/* Whether the object of m needs a rebuild. */
static int
sweep_object(struct worker *w, const char *key, const struct metadata *m,
    const cJSON *down, const cJSON *unsure, struct pool *pool,
    struct pool *probe, struct pace *pace, struct sweep_stats *st)
{
	uint8_t good[RS_MAX_SHARDS];
	struct err e;
	size_t i;
	int reach = 0, bad = 0;

	for (i = 0; i < m->nshards; i++)
		reach |= shard_down(w, probe, &m->shards[i], down, unsure,
		    pool);
	if (reach) {
		st->degraded++;
		log_info("sweep: %s has a shard on an unreachable backend",
		    key);
		return 1;
	}
	if (pace->rate == 0)
		return 0;
	if (obj_check(pool, m, 1, good, &e) == -1) {
		st->unreadable++;
		log_warnx("scrub: %s cannot be read: %s", key, e.msg);
		return 0;
	}
	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].idx < RS_MAX_SHARDS &&
		    !good[m->shards[i].idx] &&
		    !pool_is_failed(pool, &m->shards[i].ci, NS_SEQUENTIAL))
			bad = 1;
	if (bad) {
		st->damaged++;
		log_warnx("scrub: %s has a missing or corrupt shard", key);
	}
	return bad;
}

/* The record of one item; -1 (logged) when it is bad. */
static int
sweep_item_meta(const cJSON *it, const char **key, struct metadata *m)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "meta");
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(it, "error");
	uint8_t *buf = NULL;
	size_t len;
	struct err e;
	int rc;

	*key = cJSON_IsString(k) ? k->valuestring : "?";
	if (cJSON_IsString(er)) {
		log_warnx("sweep: skipping %s: %s", *key, er->valuestring);
		return -1;
	}
	len = cJSON_IsString(v) ? strlen(v->valuestring) / 2 : 0;
	if (!cJSON_IsString(k) || len == 0 || (buf = malloc(len)) == NULL ||
	    hex_decode(buf, v->valuestring, len) == -1) {
		free(buf);
		log_warnx("sweep: skipping %s: malformed item", *key);
		return -1;
	}
	rc = meta_decode(buf, len, m, &e);
	free(buf);
	if (rc == -1)
		log_warnx("sweep: skipping %s: bad metadata: %s", *key, e.msg);
	return rc;
}

static int
sweep_reply(struct worker *w, int64_t job, cJSON *repair,
    const struct sweep_stats *st)
{
	cJSON *stats = cJSON_CreateObject();
	struct msg *res;

	if ((res = worker_result(job, NULL)) == NULL) {
		cJSON_Delete(repair);
		cJSON_Delete(stats);
		return -1;
	}
	cJSON_AddNumberToObject(stats, "objects", st->objects);
	cJSON_AddNumberToObject(stats, "degraded", st->degraded);
	cJSON_AddNumberToObject(stats, "damaged", st->damaged);
	cJSON_AddNumberToObject(stats, "unreadable", st->unreadable);
	cJSON_AddNumberToObject(stats, "bad_meta", st->bad_meta);
	cJSON_AddNumberToObject(stats, "scrubbed_bytes", (double)st->scrubbed);
	msg_set_json(res, "items", repair);
	msg_set_json(res, "stats", stats);
	return worker_send(w, res);
}

int
repairer_sweep_check(struct worker *w, struct msg *m)
{
	const cJSON *items = msg_get_json(m, "items"), *it;
	const cJSON *down = msg_get_json(m, "down");
	const cJSON *unsure = msg_get_json(m, "unsure");
	struct sweep_stats st = { 0 };
	struct pace pace = { .w = w };
	struct pool pool, probe;
	struct metadata meta;
	const char *key;
	cJSON *repair = cJSON_CreateArray();

	msg_get_u64(m, "scrub_rate", &pace.rate);
	pace.start_ms = repairer_now_ms();
	pool_init(&pool, w->timeout_ms);
	pool.on_read = scrub_pace;
	pool.on_read_arg = &pace;
	pool_init(&probe, HEALTH_DEADLINE_MIN_MS);
	cJSON_ArrayForEach(it, items) {
		if (sweep_item_meta(it, &key, &meta) == -1) {
			st.bad_meta++;
			continue;
		}
		st.objects++;
		if (sweep_object(w, key, &meta, down, unsure, &pool, &probe,
		    &pace, &st) && repair != NULL)
			cJSON_AddItemToArray(repair, cJSON_CreateString(key));
		meta_free(&meta);
	}
	st.scrubbed = pace.bytes;
	pool_free(&pool);
	pool_free(&probe);
	if (repair == NULL)
		return worker_result_fail(w, msg_id(m),
		    &(struct err){ "out of memory" });
	return sweep_reply(w, msg_id(m), repair, &st);
}
