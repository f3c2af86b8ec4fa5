/* The repairer's health checks: every interval, NSINFO on every data and
 * metadata backend of the config, all in one backend_run so that they run in
 * parallel under one deadline: a hung backend (stopped, or a black hole)
 * costs that deadline once and delays no other check. Connections stay open
 * between rounds; one that failed reconnects on the next round.
 *
 * The results go to the master as one "health" message per round; the master
 * keeps the states (Healthy, LowSpace, Unknown since T, Unreachable). Here
 * each failure is put in a class the operator can act on: refused, timeout,
 * password, mode, full, or error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "repairer.h"

struct hcheck {
	const struct backend_ci	*ci;	/* into the worker's */
	enum ns_mode		 mode;
	struct backend		*b;
	char			 name[BACKEND_NAME_MAX];
};

static struct hcheck	*checks;
static size_t		 nchecks;
static uint64_t		 checks_gen;	/* of their config */
static int64_t		 next_round_ms;

int64_t
repairer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
health_interval_ms(void)
{
	const char *s = getenv(HEALTH_INTERVAL_ENV);
	long v;

	if (s == NULL || (v = strtol(s, NULL, 10)) < 10 || v > 3600000)
		return HEALTH_INTERVAL_MS;
	return v;
}

void
health_reset(void)
{
	size_t i;

	for (i = 0; i < nchecks; i++)
		backend_close(checks[i].b);
	free(checks);
	checks = NULL;
	nchecks = 0;
	checks_gen = 0;
}

static void
health_add(const struct backend_ci *ci, enum ns_mode mode)
{
	struct hcheck *c = &checks[nchecks];
	size_t i;

	for (i = 0; i < nchecks; i++)
		if (checks[i].mode == mode && ci_equal(checks[i].ci, ci))
			return;
	memset(c, 0, sizeof(*c));
	c->ci = ci;
	c->mode = mode;
	ci_name(ci, c->name, sizeof(c->name));
	nchecks++;
}

/* The backends of the worker's current config, once per config. */
static int
health_targets(struct worker *w)
{
	const struct config *cfg = &w->cfg;
	size_t g, j, i;

	if (checks != NULL && checks_gen == w->cfg_gen)
		return 0;
	health_reset();
	if ((checks = calloc(config_nbackends(cfg) + META_BACKENDS,
	    sizeof(*checks))) == NULL)
		return -1;
	for (i = 0; i < META_BACKENDS; i++)
		health_add(&cfg->meta_backends[i], NS_USERKEY);
	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++)
			health_add(&cfg->groups[g].backends[j], NS_SEQUENTIAL);
	checks_gen = w->cfg_gen;
	return 0;
}

/* What the operator can do about a failure, as one word. */
static const char *
health_class(const char *msg)
{
	if (strstr(msg, "Access denied") != NULL ||
	    strstr(msg, "protected and private") != NULL ||
	    strstr(msg, "read-only mode") != NULL)
		return "password";
	if (strstr(msg, "No space left") != NULL)
		return "full";
	if (strstr(msg, "timeout") != NULL)
		return "timeout";
	if (strstr(msg, "cannot connect") != NULL ||
	    strstr(msg, "connection lost") != NULL ||
	    strstr(msg, "Connection refused") != NULL ||
	    strstr(msg, "No such file") != NULL)
		return "refused";
	return "error";
}

static cJSON *
health_info_json(const struct nsinfo *ni)
{
	cJSON *o = cJSON_CreateObject();
	char v[24];

#define U(f) do {							\
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ni->f);	\
	cJSON_AddStringToObject(o, #f, v);				\
} while (0)
	if (o == NULL)
		return NULL;
	U(entries);
	U(data_size_bytes);
	U(data_limits_bytes);
	U(index_size_bytes);
	U(stats_index_io_errors);
	U(stats_index_faults);
	U(stats_data_io_errors);
	U(stats_data_faults);
	U(index_disk_freespace_bytes);
	U(data_disk_freespace_bytes);
#undef U
	snprintf(v, sizeof(v), "%llu",
	    (unsigned long long)nsinfo_free_space(ni));
	cJSON_AddStringToObject(o, "free_bytes", v);
	return o;
}

/* One backend's outcome; the mode is checked here (attach does not). */
static cJSON *
health_result(const struct hcheck *c, struct bop *op, const struct err *oe)
{
	cJSON *o = cJSON_CreateObject();
	const char *msg = NULL, *cls = NULL;
	char why[ERR_MSG_MAX];

	if (o == NULL)
		return NULL;
	if (oe != NULL)
		msg = oe->msg;
	else if (op->rc != 0)
		msg = op->rc > 0 ? "NSINFO: unexpected answer" : op->err.msg;
	else if (op->info.mode != c->mode) {
		snprintf(why, sizeof(why), "%s: the namespace is in %s mode, "
		    "%s needs %s mode", c->name,
		    op->info.mode == NS_USERKEY ? "user-key" : "sequential",
		    c->mode == NS_USERKEY ? "metadata" : "data",
		    c->mode == NS_USERKEY ? "user-key" : "sequential");
		msg = why;
		cls = "mode";
	}
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddBoolToObject(o, "meta", c->mode == NS_USERKEY);
	cJSON_AddBoolToObject(o, "ok", msg == NULL);
	if (msg != NULL) {
		cJSON_AddStringToObject(o, "class",
		    cls != NULL ? cls : health_class(msg));
		cJSON_AddStringToObject(o, "error", msg);
	} else
		cJSON_AddItemToObject(o, "info", health_info_json(&op->info));
	return o;
}

static int
health_send(struct worker *w, cJSON *list, int64_t took_ms)
{
	struct msg *m;
	struct err e;

	if ((m = msg_new(MT_HEALTH, 0, &e)) == NULL) {
		cJSON_Delete(list);
		log_warnx("%s", e.msg);
		return -1;
	}
	msg_set_json(m, "backends", list);
	msg_set_int(m, "took_ms", took_ms);
	return worker_send(w, m);
}

/* One round: attach what has no connection, then NSINFO on all at once. */
static int
health_round(struct worker *w, int64_t deadline_ms)
{
	struct bop *ops;
	struct err *errs;
	cJSON *list;
	int64_t t0 = repairer_now_ms();
	size_t i;

	ops = calloc(nchecks ? nchecks : 1, sizeof(*ops));
	errs = calloc(nchecks ? nchecks : 1, sizeof(*errs));
	list = cJSON_CreateArray();
	if (ops == NULL || errs == NULL || list == NULL) {
		free(ops);
		free(errs);
		cJSON_Delete(list);
		return 0;
	}
	for (i = 0; i < nchecks; i++) {
		if (checks[i].b == NULL)
			checks[i].b = backend_attach(checks[i].ci,
			    checks[i].mode, (int)deadline_ms, &errs[i]);
		ops[i].b = checks[i].b;
		ops[i].kind = BOP_NSINFO;
	}
	backend_run(ops, nchecks, (int)deadline_ms);
	for (i = 0; i < nchecks; i++)
		cJSON_AddItemToArray(list, health_result(&checks[i], &ops[i],
		    checks[i].b == NULL ? &errs[i] : NULL));
	free(ops);
	free(errs);
	return health_send(w, list, repairer_now_ms() - t0);
}

int64_t
health_due_in(const struct worker *w)
{
	int64_t now = repairer_now_ms();

	(void)w;
	return next_round_ms <= now ? 0 : next_round_ms - now;
}

int64_t
health_tick(struct worker *w)
{
	int64_t interval = health_interval_ms(), deadline, start;

	if (health_due_in(w) > 0)
		return health_due_in(w);
	deadline = interval > HEALTH_DEADLINE_MIN_MS ? interval :
	    HEALTH_DEADLINE_MIN_MS;
	if (deadline > w->timeout_ms)
		deadline = w->timeout_ms;
	start = repairer_now_ms();
	if (health_targets(w) == -1)
		log_warnx("health checks: out of memory");
	else if (health_round(w, deadline) == -1)
		return -1;
	next_round_ms = start + interval;
	return health_due_in(w);
}
