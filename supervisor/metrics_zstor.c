/* What the master's metrics count, and the endpoint's life with the config:
 * the series that exist from the start (as upstream, both values of each
 * command counter and every 0-db-fs metric, 0 until known), the outcome of
 * each command, and the collectors that read the queues and the health table
 * at each scrape. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "master.h"
#include "metrics.h"
#include "metrics_http.h"
#include "version.h"

/* A port that could not be bound is tried again this often. */
#define LISTEN_RETRY_SECS	10

static const char *const prio_names[PRIO_LEVELS] = {
	[PRIO_INTERACTIVE] = "interactive",
	[PRIO_BACKGROUND] = "background",
	[PRIO_REPAIR] = "repair",
};

static struct event	*retry_ev;
static int		 listen_warned;	/* about the port we retry */

/* The upstream counter and the command label of a job kind; -1: not a
 * command (a cleanup). */
static int
kind_family(enum job_kind kind, const char **name)
{
	switch (kind) {
	case JOB_STORE:
		*name = "store";
		return MF_STORE_FINISHED;
	case JOB_RETRIEVE:
		*name = "retrieve";
		return MF_RETRIEVE_FINISHED;
	case JOB_REBUILD:
		*name = "rebuild";
		return MF_REBUILD_FINISHED;
	case JOB_CHECK:
		*name = "check";
		return MF_CHECK_FINISHED;
	default:
		return -1;
	}
}

static double
secs_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

void
metrics_job_end(const struct job *j, int ok)
{
	const char *name = NULL;
	struct stat st;
	int f;

	if (j->done != NULL || (f = kind_family(j->kind, &name)) == -1)
		return;	/* the daemon's own lookups are not commands */
	metric_inc(MX(f, ok ? "true" : "false"), 1);
	metric_observe(MX(MF_COMMAND_SECONDS, name), secs_since(&j->started));
	if (!ok)
		return;
	if (j->kind == JOB_STORE && j->uploaded)
		metric_inc(MX(MF_STORED_BYTES), (double)j->read_as.size);
	if (j->kind == JOB_RETRIEVE && j->fd != -1 && fstat(j->fd, &st) == 0)
		metric_inc(MX(MF_RETRIEVED_BYTES), (double)st.st_size);
	if (j->kind == JOB_REBUILD && j->prio == PRIO_REPAIR)
		metric_inc(MX(MF_SWEEP_REPAIRED), 1);
}

void
metrics_reloaded(int ok)
{
	metric_inc(MX(MF_CONFIG_RELOADS, ok ? "ok" : "refused"), 1);
	metric_set(MX(MF_CONFIG_RELOAD_OK), ok);
}

void
metrics_worker_restarted(const char *role)
{
	metric_inc(MX(MF_WORKER_RESTARTS, role), 1);
}

static void
collect_queues(void *arg)
{
	size_t waiting[PRIO_LEVELS], running;
	int p;

	(void)arg;
	sched_counts(waiting, &running);
	for (p = 0; p < PRIO_LEVELS; p++)
		metric_set(MX(MF_QUEUE_DEPTH, prio_names[p]),
		    (double)waiting[p]);
	metric_set(MX(MF_JOBS_RUNNING), (double)running);
}

/* Every series that upstream always shows, and ours that a dashboard
 * expects before the first event, at 0. */
static void
metrics_series_init(void)
{
	static const char *const syscalls[] = { "getattr", "setattr",
	    "create", "readdir", "open", "read", "write", "mkdir", "unlink",
	    "rmdir", "rename", "link", "symlink", "statsfs", "ioctl" };
	static const char *const skipped[] = { "not_stored", "changed",
	    "error" };
	static const enum job_kind kinds[] = { JOB_STORE, JOB_RETRIEVE,
	    JOB_REBUILD, JOB_CHECK };
	const char *name = NULL;
	size_t i;
	int f;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		f = kind_family(kinds[i], &name);
		metric_inc(MX(f, "true"), 0);
		metric_inc(MX(f, "false"), 0);
		(void)MX(MF_COMMAND_SECONDS, name);
	}
	for (f = MF_FS_FUSE_REQS; f <= MF_FS_FUSE_ERRORS; f++)
		if (f != MF_FS_SYSCALLS)
			(void)MX(f);
	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		(void)MX(MF_FS_SYSCALLS, syscalls[i]);
	for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		(void)MX(MF_EVICTION_SKIPPED, skipped[i]);
	for (i = 0; i < SANDBOX_ROLES; i++)
		(void)MX(MF_WORKER_RESTARTS,
		    sandbox_role_name((enum sandbox_role)i));
	metric_set(MX(MF_BUILD_INFO, zstor_version, zstor_commit), 1);
	metric_inc(MX(MF_CONFIG_RELOADS, "ok"), 0);
	metric_inc(MX(MF_CONFIG_RELOADS, "refused"), 0);
	metric_set(MX(MF_CONFIG_RELOAD_OK), 1);
	for (f = MF_STORED_BYTES; f <= MF_RETRIEVED_BYTES; f++)
		(void)MX(f);
	for (f = MF_SWEEP_SCANNED; f <= MF_EVICTION_PASSES; f++)
		if (f != MF_EVICTION_SKIPPED)
			(void)MX(f);
	(void)MX(MF_ZDBFS_POLL_ERRORS);
	(void)MX(MF_SCRAPES);
	(void)MX(MF_HTTP_TIMEOUTS);
	(void)MX(MF_HTTP_CONNECTIONS);
}

static void
listen_on_retry(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	metrics_apply_config();
}

void
metrics_apply_config(void)
{
	struct timeval tv = { LISTEN_RETRY_SECS, 0 };
	int port = master->cfg.prometheus_port;
	struct err e;

	if (retry_ev != NULL)
		evtimer_del(retry_ev);
	if (port <= 0) {
		metrics_http_unlisten();
		return;
	}
	if (metrics_http_listen(master->base, port, &e) == 0) {
		listen_warned = 0;
		return;
	}
	if (!listen_warned++)
		log_warnx("%s; trying again every %d s (zstor serves files "
		    "meanwhile)", e.msg, LISTEN_RETRY_SECS);
	if (retry_ev == NULL &&
	    (retry_ev = evtimer_new(master->base, listen_on_retry, NULL)) ==
	    NULL)
		fatalx("out of memory for a timer");
	evtimer_add(retry_ev, &tv);
}

void
metrics_master_init(void)
{
	metrics_init(metrics_table, MF_FAMILIES);
	metrics_series_init();
	metrics_collector_add(collect_queues, NULL);
	metrics_collector_add(metrics_backends_collect, NULL);
}
