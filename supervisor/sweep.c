/* The walks over every metadata key (sweep.h).
 *
 * The repair sweep: meta_scan on the metawriter hands out the records of up
 * to 24 keys at a time (bounded memory: the position is a SCAN cursor and
 * the last key of that batch already done); each piece goes to the
 * repairer's sweep_check, whose answer names the objects to rebuild; those
 * are queued with sched_repair (repair priority: after every interactive
 * request and background store). After each piece the position is written
 * to <pid_file>.sweep, so that a restarted daemon goes on where it stopped;
 * the file goes when the sweep is complete.
 *
 * The re-dispersal: after a reload that replaced a metadata backend, once
 * the health checks find all 4 metadata backends healthy, meta_scan with
 * redisperse saves every record again over the current 4, on one of the
 * backends that were kept, all SCAN batches. A newer reload that changes
 * them again starts a new pass; the older stops at its next step. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "health.h"
#include "hex.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "scratch.h"
#include "sweep.h"

#define STATE_MAX	2048

enum walk_kind { WALK_SWEEP, WALK_REDISPERSE };

struct walk {
	enum walk_kind	 kind;
	struct job	*job;		/* NULL: not running */
	int		 backend;	/* the metadata backend scanned */
	struct scan_pos	 pos;
	int64_t		 before;	/* later keys: new enough */
	uint64_t	 gen;		/* re-dispersal: for this reload */
	cJSON		*items;		/* sweep: piece to check */
	uint64_t	 keys, failed, saved;
};

static struct walk		 sweep = { .kind = WALK_SWEEP };
static struct walk		 redisp = { .kind = WALK_REDISPERSE };
static struct sweep_stats	 stats;
static struct event		*sweep_ev, *redisp_ev;
static int64_t			 interval_ms = SWEEP_INTERVAL_MS;
static uint64_t			 scrub_rate = SCRUB_RATE_DEFAULT;
static uint64_t			 redisp_gen;
/* re-dispersal: the metadata backends the reload kept */
static char			 kept[4][BACKEND_NAME_MAX];

static void	walk_start(struct walk *);

const struct sweep_stats *
sweep_stats(void)
{
	return &stats;
}

static void
timer_in(struct event *ev, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* ---- the sweep's position across restarts ---- */

static void
state_path(char *out, size_t len)
{
	snprintf(out, len, "%s.sweep", master->pid_path);
}

static void
state_save(const struct walk *w)
{
	char path[4096], tmp[4200], hex[2 * CURSOR_MAX + 1] = "-";
	char ahex[2 * 256 + 1] = "-", text[STATE_MAX];
	int fd, ok;

	if (w->pos.cursorlen > 0)
		hex_encode(hex, w->pos.cursor, w->pos.cursorlen);
	if (w->pos.afterlen > 0)
		hex_encode(ahex, w->pos.after, w->pos.afterlen);
	snprintf(text, sizeof(text), "zstor-sweep 2 %d %s %s %lld\n",
	    w->backend, hex, ahex, (long long)w->before);
	state_path(path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	ok = fd != -1 && write_full(fd, text, strlen(text)) == 0;
	if (fd != -1)
		close(fd);
	if (!ok || rename(tmp, path) == -1) {
		log_warn("sweep: cannot keep its position in %s", path);
		unlink(tmp);
	}
}

/* "-" (nothing) or hex of at most max bytes. */
static int
hex_field(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	*len = 0;
	if (strcmp(hex, "-") == 0)
		return 0;
	if (n == 0 || n % 2 != 0 || n / 2 > max ||
	    hex_decode(out, hex, n / 2) == -1)
		return -1;
	*len = n / 2;
	return 0;
}

/* The position a previous daemon left; 0 with none (or a bad one). */
static int
state_load(struct walk *w)
{
	char path[4096], buf[STATE_MAX], hex[STATE_MAX], ahex[STATE_MAX];
	long long before;
	struct stat st;
	ssize_t n;
	int fd, b;

	state_path(path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 022) == 0)
		n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "zstor-sweep 2 %d %1100s %600s %lld", &b,
		    hex, ahex, &before) == 4 && b >= 0 && b < META_BACKENDS &&
		    before >= 0 && hex_field(hex, w->pos.cursor, CURSOR_MAX,
		    &w->pos.cursorlen) == 0 && hex_field(ahex, w->pos.after,
		    sizeof(w->pos.after), &w->pos.afterlen) == 0) {
			w->backend = b;
			w->before = before;
			return 1;
		}
	}
	log_warnx("sweep: ignoring %s: not a sweep position this daemon "
	    "wrote; the sweep starts from the first key", path);
	return 0;
}

static void
state_forget(void)
{
	char path[4096];

	state_path(path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("sweep: cannot remove %s", path);
}

/* ---- starting and ending walks ---- */

/* The metadata backend with the most entries among the healthy ones (and,
 * for a re-dispersal, among those the reload kept). */
static int
walk_pick_backend(const struct walk *w)
{
	const struct health_entry *h;
	char name[BACKEND_NAME_MAX];
	uint64_t most = 0;
	int i, k, best = -1;

	for (i = 0; i < META_BACKENDS; i++) {
		ci_name(&master->cfg.meta_backends[i], name, sizeof(name));
		if ((h = health_find(name, 1)) == NULL ||
		    (h->state != HEALTH_HEALTHY && h->state != HEALTH_LOWSPACE))
			continue;
		if (w->kind == WALK_REDISPERSE) {
			for (k = 0; k < 4; k++)
				if (strcmp(kept[k], name) == 0)
					break;
			if (k == 4)
				continue;
		}
		if (best == -1 || h->info.entries > most) {
			best = i;
			most = h->info.entries;
		}
	}
	return best;
}

static void
walk_end(struct walk *w, const char *why)
{
	if (w->items != NULL)
		cJSON_Delete(w->items);
	w->items = NULL;
	w->job = NULL;
	if (w->kind == WALK_REDISPERSE) {
		if (why == NULL)
			log_info("metadata re-dispersal: done, %" PRIu64
			    " keys saved again over the 4 current metadata "
			    "backends, "
			    "%" PRIu64 " failed", w->saved, w->failed);
		else
			log_warnx("metadata re-dispersal stopped: %s", why);
		return;
	}
	stats.running = 0;
	if (why == NULL) {
		stats.sweeps++;
		state_forget();
		gc_after_sweep();
		log_info("sweep: done in %lld s: %" PRIu64 " objects, %" PRIu64
		    " with a shard on an unreachable backend, %" PRIu64 " with "
		    "a damaged shard, %" PRIu64 " unreadable, %" PRIu64 " bad "
		    "metadata, %" PRIu64 " rebuilds queued, %" PRIu64 " bytes "
		    "scrubbed", (long long)(time(NULL) - stats.started),
		    stats.objects, stats.degraded, stats.damaged,
		    stats.unreadable, stats.bad_meta, stats.queued,
		    stats.scrubbed_bytes);
	} else
		log_warnx("sweep: stopped, it goes on at the next one: %s",
		    why);
	timer_in(sweep_ev, interval_ms);
}

static void
walk_start(struct walk *w)
{
	struct job *j;

	if (w->job != NULL || master->stopping)
		return;
	if (w->kind == WALK_SWEEP && !state_load(w)) {
		memset(&w->pos, 0, sizeof(w->pos));
		w->before = (int64_t)time(NULL);
		w->backend = walk_pick_backend(w);
	} else if (w->kind == WALK_REDISPERSE) {
		/* a record saved again moves to the end of the SCAN order:
		 * keys stored in the second of the start or later are left
		 * alone (they were stored with the new config: the pass starts
		 * more than a second after the reload) */
		memset(&w->pos, 0, sizeof(w->pos));
		w->before = (int64_t)time(NULL) - 1;
		w->backend = walk_pick_backend(w);
	}
	if (w->backend < 0) {
		if (w->kind == WALK_SWEEP)
			log_warnx("sweep: no metadata backend is healthy; "
			    "trying again in %lld s", (long long)interval_ms /
			    1000);
		w->backend = 0;
		walk_end(w, "no healthy metadata backend to scan");
		return;
	}
	if ((j = job_new(JOB_WALK, w->kind == WALK_SWEEP ? "repair sweep" :
	    "metadata re-dispersal")) == NULL) {
		walk_end(w, "out of memory");
		return;
	}
	w->keys = w->failed = w->saved = 0;
	if (w->kind == WALK_SWEEP) {
		uint64_t done = stats.sweeps;

		memset(&stats, 0, sizeof(stats));
		stats.sweeps = done;
		stats.running = 1;
		stats.started = time(NULL);
		log_info("sweep: starting%s on metadata backend %d",
		    w->pos.cursorlen > 0 || w->pos.afterlen > 0 ?
		    " where the last one "
		    "stopped" : "", w->backend);
	} else
		log_info("metadata re-dispersal: starting on metadata backend "
		    "%d", w->backend);
	j->prio = PRIO_REPAIR;
	j->walk = w;
	j->step = STEP_META_SCAN;
	w->job = j;
	sched_submit(j);
}

static void
sweep_on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	walk_start(&sweep);
}

/* A re-dispersal waits until the health checks find all 4 healthy. */
static void
redisp_on_timer(int fd, short ev, void *arg)
{
	char why[ERR_MSG_MAX];
	int i, ok = 1;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < META_BACKENDS; i++) {
		char name[BACKEND_NAME_MAX];
		const struct health_entry *h;

		ci_name(&master->cfg.meta_backends[i], name, sizeof(name));
		if ((h = health_find(name, 1)) == NULL ||
		    h->state != HEALTH_HEALTHY)
			ok = 0;
	}
	if (!ok || redisp.job != NULL || health_meta_writable(why,
	    sizeof(why)) == -1) {
		timer_in(redisp_ev, 500);
		return;
	}
	redisp.gen = redisp_gen;
	walk_start(&redisp);
}

void
redisperse_after_reload(char *const old_meta[4])
{
	char name[BACKEND_NAME_MAX];
	int i, k, changed = 0, n = 0;

	memset(kept, 0, sizeof(kept));
	for (i = 0; i < META_BACKENDS; i++) {
		ci_name(&master->cfg.meta_backends[i], name, sizeof(name));
		for (k = 0; k < 4; k++)
			if (old_meta[k] != NULL &&
			    strcmp(old_meta[k], name) == 0)
				break;
		if (k == 4)
			changed = 1;
		else
			strlcpy(kept[n++], name, sizeof(kept[0]));
	}
	if (!changed)
		return;
	redisp_gen++;
	log_info("reload replaced a metadata backend: every metadata value is "
	    "saved again over the current 4 once all of them answer");
	timer_in(redisp_ev, 1500);
}

void
sweep_init(int64_t first_ms, int64_t every_ms, uint64_t rate)
{
	interval_ms = every_ms;
	scrub_rate = rate;
	sweep_ev = evtimer_new(master->base, sweep_on_timer, NULL);
	redisp_ev = evtimer_new(master->base, redisp_on_timer, NULL);
	if (sweep_ev == NULL || redisp_ev == NULL)
		fatalx("out of memory for the sweep's timers");
	timer_in(sweep_ev, first_ms);
}

/* ---- the steps ---- */

/* Names of the data backends in state s, for sweep_check. */
struct names_arg {
	cJSON			*a;
	enum health_state	 s;
};

static void
names_add(const struct health_entry *h, void *arg)
{
	struct names_arg *na = arg;

	if (!h->meta && h->state == na->s)
		cJSON_AddItemToArray(na->a, cJSON_CreateString(h->name));
}

static cJSON *
names_in(enum health_state s)
{
	struct names_arg na = { cJSON_CreateArray(), s };

	if (na.a != NULL)
		health_foreach(names_add, &na);
	return na.a;
}

struct msg *
walk_step_build(struct job *j, struct msg *m)
{
	struct walk *w = j->walk;

	if (j->step == STEP_META_SCAN) {
		msg_set_int(m, "backend", w->backend);
		scan_pos_build(&w->pos, m);
		if (w->before > 0)
			msg_set_int(m, "before", w->before);
		if (w->kind == WALK_REDISPERSE)
			msg_set_bool(m, "redisperse", 1);
		return m;
	}
	msg_set_json(m, "items", w->items);
	w->items = NULL;
	msg_set_json(m, "down", names_in(HEALTH_UNREACHABLE));
	msg_set_json(m, "unsure", names_in(HEALTH_UNKNOWN));
	msg_set_u64(m, "scrub_rate", scrub_rate);
	return m;
}

static uint64_t
stat_of(const struct msg *m, const char *name)
{
	const cJSON *st = msg_get_json(m, "stats");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, name);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ?
	    (uint64_t)v->valuedouble : 0;
}

/* Copies the hex field name of m (at most max bytes) into out. */
int
hex_of(const struct msg *m, const char *name, uint8_t *out, size_t max,
    size_t *len)
{
	uint8_t *v = NULL;
	size_t n;

	*len = 0;
	if (!msg_has(m, name))
		return 0;
	if (msg_get_hex(m, name, &v, &n) == -1 || n == 0 || n > max) {
		free(v);
		return -1;
	}
	memcpy(out, v, n);
	*len = n;
	free(v);
	return 0;
}

int
scan_pos_advance(struct scan_pos *p, const struct msg *m)
{
	if (msg_get_bool(m, "done") == 1) {
		p->done = 1;
		return 0;
	}
	if (msg_get_bool(m, "partial") == 1)
		return hex_of(m, "cursor", p->cursor, CURSOR_MAX,
		    &p->cursorlen) == -1 || hex_of(m, "after", p->after,
		    sizeof(p->after), &p->afterlen) == -1 ? -1 : 0;
	p->afterlen = 0;
	if (!msg_has(m, "cursor"))
		return -1;	/* a finished batch must say where to go on */
	return hex_of(m, "cursor", p->cursor, CURSOR_MAX, &p->cursorlen);
}

void
scan_pos_build(const struct scan_pos *p, struct msg *m)
{
	if (p->cursorlen > 0)
		msg_set_hex(m, "cursor", p->cursor, p->cursorlen);
	if (p->afterlen > 0)
		msg_set_hex(m, "after", p->after, p->afterlen);
}

static void
redisp_note(struct walk *w, const struct msg *m)
{
	const cJSON *it, *k, *e;
	uint64_t before = w->keys;

	w->keys += stat_of(m, "keys");
	w->saved += stat_of(m, "saved");
	w->failed += stat_of(m, "failed");
	cJSON_ArrayForEach(it, msg_get_json(m, "items")) {
		k = cJSON_GetObjectItemCaseSensitive(it, "key");
		e = cJSON_GetObjectItemCaseSensitive(it, "error");
		log_warnx("metadata re-dispersal: %s: %s",
		    cJSON_IsString(k) ? k->valuestring : "?",
		    cJSON_IsString(e) ? e->valuestring : "failed");
	}
	if (w->keys / 1000 != before / 1000)
		log_info("metadata re-dispersal: %" PRIu64 " keys so far, %"
		    PRIu64 " saved again, %" PRIu64 " failed", w->keys,
		    w->saved, w->failed);
}

static int
walk_scanned(struct job *j, struct walk *w, const struct msg *m)
{
	const cJSON *items = msg_get_json(m, "items");

	if (items == NULL || scan_pos_advance(&w->pos, m) == -1)
		return -1;
	if (w->kind == WALK_REDISPERSE) {
		redisp_note(w, m);
		j->step = STEP_META_SCAN;
	} else {
		stats.keys += stat_of(m, "keys");
		if (cJSON_GetArraySize(items) > 0) {
			if ((w->items = cJSON_Duplicate(items, 1)) == NULL)
				return -1;
			j->step = STEP_SWEEP_CHECK;
		} else {
			state_save(w);
			j->step = STEP_META_SCAN;
		}
	}
	if (w->pos.done && j->step == STEP_META_SCAN) {
		walk_end(w, NULL);
		job_free(j);
		return 0;
	}
	sched_submit(j);
	return 0;
}

static int
walk_checked(struct job *j, struct walk *w, const struct msg *m)
{
	const cJSON *items = msg_get_json(m, "items"), *k;

	if (items == NULL)
		return -1;
	cJSON_ArrayForEach(k, items)
		if (!cJSON_IsString(k) || k->valuestring[0] != '/')
			return -1;
	cJSON_ArrayForEach(k, items) {
		sched_repair(k->valuestring);
		stats.queued++;
	}
	stats.objects += stat_of(m, "objects");
	stats.degraded += stat_of(m, "degraded");
	stats.damaged += stat_of(m, "damaged");
	stats.unreadable += stat_of(m, "unreadable");
	stats.bad_meta += stat_of(m, "bad_meta");
	stats.scrubbed_bytes += stat_of(m, "scrubbed_bytes");
	metric_inc(MX(MF_SWEEP_SCANNED), (double)stat_of(m, "objects"));
	metric_inc(MX(MF_SWEEP_DEGRADED), (double)(stat_of(m, "degraded") +
	    stat_of(m, "damaged")));
	metric_inc(MX(MF_SWEEP_FAILED), (double)(stat_of(m, "unreadable") +
	    stat_of(m, "bad_meta")));
	metric_inc(MX(MF_SCRUB_BYTES), (double)stat_of(m, "scrubbed_bytes"));
	state_save(w);
	if (w->pos.done) {
		walk_end(w, NULL);
		job_free(j);
		return 0;
	}
	j->step = STEP_META_SCAN;
	sched_submit(j);
	return 0;
}

int
walk_answer(struct job *j, struct msg *m)
{
	struct walk *w = j->walk;

	if (w->kind == WALK_REDISPERSE && w->gen != redisp_gen) {
		walk_end(w, "a newer reload replaced the metadata backends "
		    "again; a new pass starts");
		job_free(j);
		timer_in(redisp_ev, 0);
		return 0;
	}
	if (j->step == STEP_META_SCAN)
		return walk_scanned(j, w, m);
	return walk_checked(j, w, m);
}

void
walk_failed(struct job *j, const char *why)
{
	walk_end(j->walk, why);
}
