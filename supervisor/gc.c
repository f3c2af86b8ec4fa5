/* Garbage collection: pieces on the data backends that no metadata
 * references (left by failed stores, a killed master, replaced versions).
 *
 * A pass, started by SIGUSR2 (or after each sweep with --gc), is one job at
 * repair priority:
 *   1. mark: every key of each of the 4 metadata backends in turn (all SCAN
 *      batches: a key a failed update left on some backends only is still
 *      seen), meta_scan with every (each decodable record among the 4
 *      values) on the metawriter, then gc_mark on the repairer, which keeps
 *      one bitmap of referenced sequential ids per data namespace;
 *   2. collect: every data backend of the config, one SCAN batch per
 *      gc_collect: pieces not marked and older than the grace period are
 *      reported and deleted.
 * Nothing is deleted when a metadata backend could not be scanned to its
 * end, or when any key could not be loaded from all 4 backends or holds a
 * value that decodes to no record: those are counted and reported, and the
 * collect phase only counts what it would delete. Pieces younger than the
 * grace period are never touched, so a store in flight is safe; metadata
 * updates through the daemon never interleave with the pass's reads (the
 * metawriter does one thing at a time). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "health.h"
#include "log.h"
#include "master.h"
#include "sweep.h"

static struct {
	struct job	*job;
	int64_t		 pass;
	int		 meta;		/* being marked; 4: collect */
	struct scan_pos	 pos;		/* in it, or in data */
	cJSON		*items;
	/* the data backends */
	char		(*names)[BACKEND_NAME_MAX];
	size_t		 nnames, cur;
	int64_t		 before;	/* stored before: old enough */
	uint64_t	 keys, records, unsafe, incomplete;
	int		 marking;	/* the first gc_mark was sent */
	uint64_t	 seen, orphans, deleted, failed, skipped;
	uint64_t	 held;	/* data backends where deletion was held back */
} gc;

static int64_t	grace = GC_GRACE_SECS;
static int	after_sweep;

void
gc_init(int64_t grace_secs, int sweep)
{
	grace = grace_secs;
	after_sweep = sweep;
}

void
gc_after_sweep(void)
{
	if (after_sweep)
		gc_start("after the sweep");
}

static void
gc_end(const char *why)
{
	int del = gc.unsafe == 0 && gc.incomplete == 0 && gc.held == 0;

	cJSON_Delete(gc.items);
	gc.items = NULL;
	free(gc.names);
	gc.names = NULL;
	gc.job = NULL;
	if (why != NULL) {
		log_warnx("gc: stopped, nothing more is deleted: %s", why);
		return;
	}
	log_info("gc: done: %" PRIu64 " keys (read on each metadata "
	    "backend), %" PRIu64 " records marked, %"
	    PRIu64 " pieces seen, %" PRIu64 " orphans older than %lld s, %"
	    PRIu64 " deleted, %" PRIu64 " failed, %" PRIu64 " backends "
	    "skipped%s", gc.keys, gc.records, gc.seen, gc.orphans,
	    (long long)grace, gc.deleted, gc.failed, gc.skipped, del ? "" :
	    " (nothing deleted: see the warning above)");
}

static void
gc_names(void)
{
	const struct config *cfg = &master->cfg;
	size_t g, j, n = 0;

	gc.names = calloc(config_nbackends(cfg) + 1, sizeof(*gc.names));
	if (gc.names == NULL)
		return;
	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++)
			ci_name(&cfg->groups[g].backends[j], gc.names[n++],
			    sizeof(gc.names[0]));
	gc.nnames = n;
}

void
gc_start(const char *why)
{
	struct job *j;

	if (gc.job != NULL) {
		log_warnx("gc: a pass is already running");
		return;
	}
	if (master->stopping)
		return;
	memset(&gc.pos, 0, sizeof(gc.pos));
	gc.meta = 0;
	gc.cur = 0;
	gc.keys = gc.records = gc.unsafe = gc.incomplete = 0;
	gc.marking = 0;
	gc.seen = gc.orphans = gc.deleted = gc.failed = gc.skipped = 0;
	gc.held = 0;
	gc.before = (int64_t)time(NULL) - grace;
	gc_names();
	if (gc.names == NULL || (j = job_new(JOB_GC,
	    "garbage collection")) == NULL) {
		gc_end("out of memory");
		return;
	}
	gc.pass++;
	log_info("gc: starting (%s): pieces no metadata references, stored "
	    "more than %lld s ago, are deleted", why, (long long)grace);
	j->prio = PRIO_REPAIR;
	j->step = STEP_META_SCAN;
	gc.job = j;
	sched_submit(j);
}

struct msg *
gc_step_build(struct job *j, struct msg *m)
{
	if (j->step == STEP_META_SCAN) {
		msg_set_int(m, "backend", gc.meta);
		scan_pos_build(&gc.pos, m);
		msg_set_bool(m, "every", 1);
	} else if (j->step == STEP_GC_MARK) {
		msg_set_int(m, "gc", gc.pass);
		if (!gc.marking)	/* the repairer starts its marks */
			msg_set_bool(m, "first", 1);
		gc.marking = 1;
		msg_set_json(m, "items", gc.items);
		gc.items = NULL;
	} else {
		msg_set_int(m, "gc", gc.pass);
		msg_set_str(m, "backend", gc.names[gc.cur]);
		if (gc.pos.cursorlen > 0)
			msg_set_hex(m, "cursor", gc.pos.cursor,
			    gc.pos.cursorlen);
		msg_set_int(m, "before", gc.before);
		msg_set_bool(m, "delete", gc.unsafe == 0 &&
		    gc.incomplete == 0);
	}
	return m;
}

static uint64_t
gc_stat(const struct msg *m, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    msg_get_json(m, "stats"), name);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ?
	    (uint64_t)v->valuedouble : 0;
}

/* The mark phase is over: say whether the collect phase may delete. */
static void
gc_marked(void)
{
	if (gc.unsafe > 0)
		log_warnx("gc: %" PRIu64 " metadata keys or values could not "
		    "be read or decoded: nothing is deleted in this pass, the "
		    "orphans are only counted; fix or remove that metadata "
		    "(zstor-master's log names the keys)", gc.unsafe);
	gc.meta = META_BACKENDS;
	memset(&gc.pos, 0, sizeof(gc.pos));
}

static void
gc_next(struct job *j, enum job_step step)
{
	if (step == STEP_GC_COLLECT && gc.cur >= gc.nnames) {
		gc_end(NULL);
		job_free(j);
		return;
	}
	j->step = step;
	sched_submit(j);
}

/* The metadata backend being marked is done: the next one, or collect. */
static void
gc_meta_done(struct job *j)
{
	memset(&gc.pos, 0, sizeof(gc.pos));
	log_info("gc: metadata backend %d scanned and its records marked (%"
	    PRIu64 " keys so far)", gc.meta, gc.keys);
	if (++gc.meta == META_BACKENDS) {
		gc_marked();
		gc_next(j, STEP_GC_COLLECT);
	} else
		gc_next(j, STEP_META_SCAN);
}

static int
gc_scanned(struct job *j, const struct msg *m)
{
	const cJSON *items = msg_get_json(m, "items");

	if (items == NULL || scan_pos_advance(&gc.pos, m) == -1)
		return -1;
	gc.keys += gc_stat(m, "keys");
	if (cJSON_GetArraySize(items) > 0) {
		if ((gc.items = cJSON_Duplicate(items, 1)) == NULL)
			return -1;
		gc_next(j, STEP_GC_MARK);
		return 0;
	}
	if (gc.pos.done)
		gc_meta_done(j);
	else
		gc_next(j, STEP_META_SCAN);
	return 0;
}

int
gc_answer(struct job *j, struct msg *m)
{
	if (j->step == STEP_META_SCAN)
		return gc_scanned(j, m);
	if (j->step == STEP_GC_MARK) {
		gc.records += gc_stat(m, "records");
		gc.unsafe += gc_stat(m, "unsafe");
		if (gc.pos.done)
			gc_meta_done(j);
		else
			gc_next(j, STEP_META_SCAN);
		return 0;
	}
	gc.seen += gc_stat(m, "seen");
	gc.orphans += gc_stat(m, "orphans");
	gc.deleted += gc_stat(m, "deleted");
	gc.failed += gc_stat(m, "failed");
	gc.held += gc_stat(m, "held");
	if (msg_get_bool(m, "done") == 1) {
		memset(&gc.pos, 0, sizeof(gc.pos));
		gc.cur++;
	} else if (hex_of(m, "cursor", gc.pos.cursor, CURSOR_MAX,
	    &gc.pos.cursorlen) == -1 || gc.pos.cursorlen == 0)
		return -1;
	gc_next(j, STEP_GC_COLLECT);
	return 0;
}

/* A metadata backend that cannot be scanned to its end makes the pass count
 * only; a data backend that cannot be collected is skipped; the repairer
 * losing its marks ends the pass. 1 when the job goes on. */
int
gc_failed(struct job *j, const char *why)
{
	if (j->step == STEP_META_SCAN) {
		gc.incomplete++;
		log_warnx("gc: metadata backend %d could not be scanned to its "
		    "end: nothing is deleted in this pass", gc.meta);
		gc_meta_done(j);
		return 1;
	}
	if (j->step == STEP_GC_COLLECT && strstr(why, "holds no marks") ==
	    NULL && j->worker == NULL && gc.cur < gc.nnames) {
		log_warnx("gc: skipping %s: %s", gc.names[gc.cur], why);
		gc.skipped++;
		gc.cur++;
		memset(&gc.pos, 0, sizeof(gc.pos));
		gc_next(j, STEP_GC_COLLECT);
		return 1;
	}
	gc_end(why);
	return 0;
}
