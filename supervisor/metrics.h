/* The master's metrics: counters, gauges and histograms that the rest of the
 * master updates, and their text in the Prometheus exposition format 0.0.4
 * that metrics_http.c serves on GET /metrics.
 *
 * Every family is an entry of one table (metrics_table.c, indexed by enum
 * metric_family below): its name, help, type and label names. A series is a
 * family with one value per label, made on first use:
 *
 *	metric_inc(MX(MF_STORE_FINISHED, ok ? "true" : "false"), 1);
 *	metric_observe(MX(MF_COMMAND_SECONDS, "store"), secs);
 *	metric_set(MX(MF_QUEUE_DEPTH, "interactive"), n);
 *
 * Updates never fail: out of memory, a series is not kept (its update is
 * lost, and logged once). The number of label values must be the family's: a
 * wrong count is a bug in the caller and ends the process (fatalx).
 *
 * Values that live elsewhere (the health table, the queues) are read at each
 * scrape by collectors (metrics_collector_add). A family marked `swept`
 * keeps only the series its collector touched in the last collection, so a
 * backend removed from the config disappears from the metrics. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRIC_LABELS_MAX	4

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_def {
	const char	*name;
	const char	*help;
	enum metric_type type;
	/* label names, NULL-terminated */
	const char	*labels[METRIC_LABELS_MAX + 1];
	/* histograms: bucket upper bounds, ascending, +Inf implied */
	const double	*buckets;
	size_t		 nbuckets;
	/* series not set by the last collection are dropped */
	int		 swept;
};

/* The families, in the order of the table in metrics_table.c. */
enum metric_family {
	/* upstream's, by name, type and labels (README: Metrics) */
	MF_CONNECTION_STATUS,
	MF_ENTRIES,
	MF_DATA_SIZE,
	MF_DATA_LIMIT,
	MF_INDEX_SIZE,
	MF_INDEX_IO_ERRORS,
	MF_INDEX_FAULTS,
	MF_DATA_IO_ERRORS,
	MF_DATA_FAULTS,
	MF_INDEX_DISK_FREE,
	MF_DATA_DISK_FREE,
	MF_STORE_FINISHED,
	MF_RETRIEVE_FINISHED,
	MF_REBUILD_FINISHED,
	MF_CHECK_FINISHED,
	MF_FS_FUSE_REQS,
	MF_FS_CACHE_HITS,
	MF_FS_CACHE_MISS,
	MF_FS_CACHE_FULL,
	MF_FS_CACHE_LINEAR_FLUSH,
	MF_FS_CACHE_RANDOM_FLUSH,
	MF_FS_CACHE_BRANCHES,
	MF_FS_CACHE_BRANCHES_ALLOCATED,
	MF_FS_CACHE_ENTRIES,
	MF_FS_CACHE_BLOCKS,
	MF_FS_CACHE_BLOCKSIZE,
	MF_FS_SYSCALLS,
	MF_FS_BYTES_READ,
	MF_FS_BYTES_WRITTEN,
	MF_FS_FUSE_ERRORS,
	/* ours, named by the Prometheus conventions */
	MF_BUILD_INFO,
	MF_STORED_BYTES,
	MF_RETRIEVED_BYTES,
	MF_COMMAND_SECONDS,
	MF_QUEUE_DEPTH,
	MF_JOBS_RUNNING,
	MF_WORKER_RESTARTS,
	MF_CONFIG_RELOADS,
	MF_CONFIG_RELOAD_OK,
	MF_BACKEND_STATE,
	MF_SWEEP_SCANNED,
	MF_SWEEP_DEGRADED,
	MF_SWEEP_REPAIRED,
	MF_SWEEP_FAILED,
	MF_SCRUB_BYTES,
	MF_EVICTIONS,
	MF_EVICTED_BYTES,
	MF_EVICTION_SKIPPED,
	MF_EVICTION_PASSES,
	MF_CACHE_DIR_BYTES,
	MF_CACHE_DIR_LIMIT,
	MF_ZDBFS_UP,
	MF_ZDBFS_POLL_ERRORS,
	MF_SCRAPES,
	MF_HTTP_TIMEOUTS,
	MF_HTTP_CONNECTIONS,
	MF_FAMILIES	/* how many */
};

struct metric;

/* The table (metrics_table.c); an application other than the master (a
 * test) may pass its own to metrics_init. */
extern const struct metric_def	metrics_table[MF_FAMILIES];

/* Uses defs[0 .. n-1] as the families; the master calls it with
 * metrics_table. Series made before are dropped. */
void	metrics_init(const struct metric_def *defs, size_t n);

/* The series of family f with the label values vals (NULL-terminated, as
 * many as f has labels); NULL when out of memory. MX(f, "a", "b") builds the
 * list. */
struct metric	*metric_of(int f, const char *const *vals);
#define MX(f, ...) \
	metric_of((f), (const char *const []){ __VA_ARGS__ __VA_OPT__(,) NULL })

/* Counters only go up (by >= 0); gauges either way. m may be NULL. */
void	metric_inc(struct metric *m, double by);
void	metric_set(struct metric *m, double v);
/* A counter that mirrors a source's own counter (0-db's, 0-db-fs's): the
 * source's value v is exported, and a source that went back (it restarted)
 * is added on top of what was exported, so the counter never decreases
 * while the daemon runs. */
void	metric_follow(struct metric *m, uint64_t v);
void	metric_observe(struct metric *m, double v);
/* The value of a counter or gauge (the count of a histogram); tests. */
double	metric_value(const struct metric *m);

/* Collectors run, in the order added, before each rendering. */
void	metrics_collector_add(void (*fn)(void *), void *arg);

/* Runs the collectors, then appends every family with series to out (an
 * evbuffer) in the text format 0.0.4. -1 when out of memory. */
struct evbuffer;
int	metrics_render(struct evbuffer *out);

/* The master's side (metrics_zstor.c, metrics_backends.c). */
struct job;

/* The table, the series shown from the start, the collectors. */
void	metrics_master_init(void);
/* Serves on the config's prometheus_port (start and reload), or stops. */
void	metrics_apply_config(void);
/* A command's outcome (upstream's counters, durations, bytes moved). */
void	metrics_job_end(const struct job *j, int ok);
void	metrics_reloaded(int ok);
void	metrics_worker_restarted(const char *role);
/* Collector: the health table's backends. */
void	metrics_backends_collect(void *arg);

#endif
