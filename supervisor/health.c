/* The health table (health.h): built from the config, updated from the
 * repairer's rounds of checks, read by the scheduler, the control socket and
 * the metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "master.h"
#include "health.h"

static struct health_entry	*table;
static size_t			 nentries;
static time_t			 unreachable_after =
				    HEALTH_UNREACHABLE_SECS;
static time_t			 last_round;

static const char *const state_names[] = {
	[HEALTH_UNCHECKED] = "unchecked", [HEALTH_HEALTHY] = "healthy",
	[HEALTH_LOWSPACE] = "lowspace", [HEALTH_UNKNOWN] = "unknown",
	[HEALTH_UNREACHABLE] = "unreachable",
};

static const char *const error_names[] = {
	[HERR_NONE] = "", [HERR_REFUSED] = "refused",
	[HERR_TIMEOUT] = "timeout", [HERR_PASSWORD] = "password",
	[HERR_MODE] = "mode", [HERR_FULL] = "full", [HERR_OTHER] = "error",
};

const char *
health_state_name(enum health_state s)
{
	return (unsigned)s <= HEALTH_UNREACHABLE ? state_names[s] : "?";
}

const char *
health_error_name(enum health_error e)
{
	return (unsigned)e <= HERR_OTHER ? error_names[e] : "?";
}

void
health_set_unreachable_after(time_t secs)
{
	unreachable_after = secs;
}

time_t
health_last_round(void)
{
	return last_round;
}

static struct health_entry *
health_lookup(struct health_entry *v, size_t n, const char *name, int meta)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].meta == meta && strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

const struct health_entry *
health_find(const char *name, int meta)
{
	return health_lookup(table, nentries, name, meta);
}

static void
health_add(struct health_entry *v, size_t *n, const struct backend_ci *ci,
    int meta)
{
	struct health_entry *old, *h = &v[*n];
	char name[BACKEND_NAME_MAX];

	ci_name(ci, name, sizeof(name));
	if (health_lookup(v, *n, name, meta) != NULL)
		return;
	if ((old = health_lookup(table, nentries, name, meta)) != NULL)
		*h = *old;
	else {
		memset(h, 0, sizeof(*h));
		strlcpy(h->name, name, sizeof(h->name));
		zaddr_format(&ci->addr, h->address, sizeof(h->address));
		strlcpy(h->ns, ci->ns != NULL ? ci->ns : "", sizeof(h->ns));
		h->meta = meta;
		h->since = time(NULL);
	}
	(*n)++;
}

int
health_load(void)
{
	const struct config *cfg = &master->cfg;
	struct health_entry *v;
	size_t n = 0, g, j;
	int i;

	v = calloc(config_nbackends(cfg) + META_BACKENDS, sizeof(*v));
	if (v == NULL)
		return -1;
	for (i = 0; i < META_BACKENDS; i++)
		health_add(v, &n, &cfg->meta_backends[i], 1);
	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++)
			health_add(v, &n, &cfg->groups[g].backends[j], 0);
	free(table);
	table = v;
	nentries = n;
	return 0;
}

static void
health_set(struct health_entry *h, enum health_state s, time_t now)
{
	if (h->state == s)
		return;
	if (s == HEALTH_HEALTHY && h->state != HEALTH_UNCHECKED)
		log_info("backend %s is healthy again", h->name);
	else if (s == HEALTH_UNKNOWN)
		log_warnx("backend %s failed its health check: %s", h->name,
		    h->error_msg);
	else if (s == HEALTH_UNREACHABLE)
		log_warnx("backend %s is unreachable: it failed every check "
		    "for %lld s; the repair sweep rebuilds its objects "
		    "elsewhere", h->name, (long long)(now - h->since));
	else if (s == HEALTH_LOWSPACE)
		log_warnx("backend %s is low on space: %" PRIu64 " bytes "
		    "free", h->name, h->free_bytes);
	h->state = s;
	h->since = now;
}

/* Upstream's mark_unreachable: Unknown since the first failure, Unreachable
 * once that lasted long enough. */
static void
health_failed(struct health_entry *h, enum health_error cls,
    const char *msg, time_t now)
{
	h->failures++;
	h->error = cls;
	h->error_at = now;
	strlcpy(h->error_msg, msg, sizeof(h->error_msg));
	if (h->state == HEALTH_UNREACHABLE)
		return;
	if (h->state != HEALTH_UNKNOWN)
		health_set(h, HEALTH_UNKNOWN, now);
	else if (now - h->since >= unreachable_after)
		health_set(h, HEALTH_UNREACHABLE, now);
}

static int
json_u64(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	struct err e;

	if (!cJSON_IsString(v) || msg_parse_u64(v->valuestring, out, &e) == -1)
		return -1;
	return 0;
}

static int
health_info(const cJSON *o, struct nsinfo *ni, uint64_t *free_bytes)
{
	memset(ni, 0, sizeof(*ni));
	if (!cJSON_IsObject(o) ||
	    json_u64(o, "entries", &ni->entries) == -1 ||
	    json_u64(o, "data_size_bytes", &ni->data_size_bytes) == -1 ||
	    json_u64(o, "data_limits_bytes", &ni->data_limits_bytes) == -1 ||
	    json_u64(o, "index_size_bytes", &ni->index_size_bytes) == -1 ||
	    json_u64(o, "stats_index_io_errors",
	    &ni->stats_index_io_errors) == -1 ||
	    json_u64(o, "stats_index_faults", &ni->stats_index_faults) == -1 ||
	    json_u64(o, "stats_data_io_errors",
	    &ni->stats_data_io_errors) == -1 ||
	    json_u64(o, "stats_data_faults", &ni->stats_data_faults) == -1 ||
	    json_u64(o, "index_disk_freespace_bytes",
	    &ni->index_disk_freespace_bytes) == -1 ||
	    json_u64(o, "data_disk_freespace_bytes",
	    &ni->data_disk_freespace_bytes) == -1 ||
	    json_u64(o, "free_bytes", free_bytes) == -1)
		return -1;
	return 0;
}

static enum health_error
health_class(const char *s)
{
	int i;

	for (i = HERR_REFUSED; i <= HERR_OTHER; i++)
		if (strcmp(s, error_names[i]) == 0)
			return (enum health_error)i;
	return HERR_NONE;
}

/* One backend's result; -1 when malformed. */
static int
health_one(const cJSON *o, time_t now)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "meta");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, "class");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "error");
	struct health_entry *h;
	struct nsinfo ni;
	uint64_t free_bytes;
	enum health_error c;

	if (!cJSON_IsString(name) || !cJSON_IsBool(meta) || !cJSON_IsBool(ok))
		return -1;
	h = health_lookup(table, nentries, name->valuestring,
	    cJSON_IsTrue(meta));
	if (cJSON_IsFalse(ok)) {
		if (!cJSON_IsString(cls) || !cJSON_IsString(msg) ||
		    (c = health_class(cls->valuestring)) == HERR_NONE)
			return -1;
		if (h != NULL) {
			h->checks++;
			h->checked = now;
			health_failed(h, c, msg->valuestring, now);
		}
		return 0;
	}
	if (health_info(cJSON_GetObjectItemCaseSensitive(o, "info"), &ni,
	    &free_bytes) == -1)
		return -1;
	if (h == NULL)		/* a backend the config no longer has */
		return 0;
	h->checks++;
	h->checked = h->last_ok = now;
	h->info = ni;
	h->has_info = 1;
	h->free_bytes = free_bytes;
	if (free_bytes <= 100ULL * 1024 * 1024) {
		h->error = HERR_FULL;
		h->error_at = now;
		snprintf(h->error_msg, sizeof(h->error_msg), "%s: only %"
		    PRIu64 " bytes free", h->name, free_bytes);
		health_set(h, HEALTH_LOWSPACE, now);
	} else
		health_set(h, HEALTH_HEALTHY, now);
	return 0;
}

int
health_update(const struct msg *m)
{
	const cJSON *list = msg_get_json(m, "backends"), *o;
	time_t now = time(NULL);

	cJSON_ArrayForEach(o, list)
		if (health_one(o, now) == -1) {
			log_warnx("the repairer sent a malformed health "
			    "result");
			return -1;
		}
	last_round = now;
	return 0;
}

void
health_foreach(void (*fn)(const struct health_entry *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		fn(&table[i], arg);
}

int
health_usable(const struct health_entry *h)
{
	return h->state != HEALTH_UNREACHABLE &&
	    !(h->state == HEALTH_UNKNOWN && h->error == HERR_TIMEOUT);
}

int
health_meta_writable(char *why, size_t len)
{
	char one[BACKEND_NAME_MAX + ERR_MSG_MAX + 64];
	size_t i;
	int bad = 0;

	why[0] = '\0';
	for (i = 0; i < nentries; i++) {
		const struct health_entry *h = &table[i];

		if (!h->meta || health_usable(h))
			continue;
		snprintf(one, sizeof(one), "%s%s is %s since %lld s (%s)",
		    bad ? "; " : "", h->name, health_state_name(h->state),
		    (long long)(time(NULL) - h->since), h->error_msg);
		strlcat(why, one, len);
		bad = 1;
	}
	return bad ? -1 : 0;
}

cJSON *
health_candidates(void)
{
	cJSON *a;
	size_t i;
	int all = 1;

	for (i = 0; i < nentries; i++)
		if (!table[i].meta && !health_usable(&table[i]))
			all = 0;
	if (all || (a = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < nentries; i++)
		if (!table[i].meta && health_usable(&table[i]))
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(table[i].name));
	return a;
}

static void
health_entry_json(const struct health_entry *h, void *arg)
{
	cJSON *o = cJSON_CreateObject(), *a = arg;
	char v[24];

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "backend", h->name);
	cJSON_AddStringToObject(o, "type", h->meta ? "meta" : "data");
	cJSON_AddStringToObject(o, "state", health_state_name(h->state));
	cJSON_AddNumberToObject(o, "since", (double)h->since);
	cJSON_AddNumberToObject(o, "checked", (double)h->checked);
	if (h->error != HERR_NONE) {
		cJSON_AddStringToObject(o, "error",
		    health_error_name(h->error));
		cJSON_AddStringToObject(o, "error_msg", h->error_msg);
		cJSON_AddNumberToObject(o, "error_at", (double)h->error_at);
	}
	if (h->has_info) {
		snprintf(v, sizeof(v), "%" PRIu64, h->info.entries);
		cJSON_AddStringToObject(o, "entries", v);
		snprintf(v, sizeof(v), "%" PRIu64, h->info.data_size_bytes);
		cJSON_AddStringToObject(o, "used_bytes", v);
		snprintf(v, sizeof(v), "%" PRIu64, h->free_bytes);
		cJSON_AddStringToObject(o, "free_bytes", v);
	}
	cJSON_AddItemToArray(a, o);
}

cJSON *
health_json(void)
{
	cJSON *a = cJSON_CreateArray();

	if (a != NULL)
		health_foreach(health_entry_json, a);
	return a;
}
