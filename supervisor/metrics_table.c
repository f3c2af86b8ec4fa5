/* Every metric the master exports: name, help, type, labels. The first block
 * keeps upstream zstor's names, types and labels (no _total suffix, the
 * "zstore_" spelling), so that existing dashboards keep working; the rest
 * follow the Prometheus naming conventions. */
#include "metrics.h"

#define BACKEND_LABELS	{ "address", "backend_type", "namespace", NULL }
#define NO_LABELS	{ NULL }

#define COUNTER(id, n, h, ...) \
	[id] = { n, h, METRIC_COUNTER, __VA_ARGS__, NULL, 0, 0 }
#define GAUGE(id, n, h, ...) \
	[id] = { n, h, METRIC_GAUGE, __VA_ARGS__, NULL, 0, 0 }
/* a backend's, set from the health table at each scrape */
#define BACKEND(id, type, n, h) \
	[id] = { n, h, type, BACKEND_LABELS, NULL, 0, 1 }

/* Seconds a command took: from a few milliseconds (check) to large files. */
static const double command_buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
	300, 600, 1800,
};

const struct metric_def metrics_table[MF_FAMILIES] = {
	BACKEND(MF_CONNECTION_STATUS, METRIC_GAUGE, "connection_status",
	    "Status of the connection to the 0-db: 1 when its last health "
	    "check succeeded, 0 when it failed"),
	BACKEND(MF_ENTRIES, METRIC_GAUGE, "entries",
	    "entries in namespace"),
	BACKEND(MF_DATA_SIZE, METRIC_GAUGE, "data_size_bytes",
	    "Bytes of data in the namespace"),
	BACKEND(MF_DATA_LIMIT, METRIC_GAUGE, "data_limit_bytes",
	    "Size limit of the namespace, or the free space of its data disk "
	    "when it has no limit"),
	BACKEND(MF_INDEX_SIZE, METRIC_GAUGE, "index_size_bytes",
	    "Bytes of index of the namespace"),
	BACKEND(MF_INDEX_IO_ERRORS, METRIC_COUNTER, "index_io_errors",
	    "I/O errors of the 0-db on index files"),
	BACKEND(MF_INDEX_FAULTS, METRIC_COUNTER, "index_faults",
	    "Faults of the 0-db on index files"),
	BACKEND(MF_DATA_IO_ERRORS, METRIC_COUNTER, "data_io_errors",
	    "I/O errors of the 0-db on data files"),
	BACKEND(MF_DATA_FAULTS, METRIC_COUNTER, "data_faults",
	    "Faults of the 0-db on data files"),
	BACKEND(MF_INDEX_DISK_FREE, METRIC_GAUGE, "index_disk_freespace_bytes",
	    "Free space on the disk of the 0-db's index"),
	BACKEND(MF_DATA_DISK_FREE, METRIC_GAUGE, "data_disk_freespace_bytes",
	    "Free space on the disk of the 0-db's data"),

	COUNTER(MF_STORE_FINISHED, "zstore_store_commands_finished",
	    "Store commands finished (each attempt of a retried store)",
	    { "success", NULL }),
	COUNTER(MF_RETRIEVE_FINISHED, "zstore_retrieve_commands_finished",
	    "Retrieve commands finished", { "success", NULL }),
	COUNTER(MF_REBUILD_FINISHED, "zstore_rebuild_commands_finished",
	    "Rebuild commands finished, repairs included", { "success", NULL }),
	COUNTER(MF_CHECK_FINISHED, "zstore_check_commands_finished",
	    "Check commands finished", { "success", NULL }),

	COUNTER(MF_FS_FUSE_REQS, "fs_fuse_reqs",
	    "FUSE requests served by 0-db-fs", NO_LABELS),
	COUNTER(MF_FS_CACHE_HITS, "fs_cache_hits",
	    "0-db-fs cache hits", NO_LABELS),
	COUNTER(MF_FS_CACHE_MISS, "fs_cache_miss",
	    "0-db-fs cache misses", NO_LABELS),
	GAUGE(MF_FS_CACHE_FULL, "fs_cache_full",
	    "Times the 0-db-fs cache was full", NO_LABELS),
	GAUGE(MF_FS_CACHE_LINEAR_FLUSH, "fs_cache_linear_flush",
	    "0-db-fs cache linear flushes", NO_LABELS),
	GAUGE(MF_FS_CACHE_RANDOM_FLUSH, "fs_cache_random_flush",
	    "0-db-fs cache random flushes", NO_LABELS),
	GAUGE(MF_FS_CACHE_BRANCHES, "fs_cache_branches",
	    "0-db-fs cache branches", NO_LABELS),
	GAUGE(MF_FS_CACHE_BRANCHES_ALLOCATED, "fs_cache_branches_allocated",
	    "0-db-fs cache branches allocated", NO_LABELS),
	GAUGE(MF_FS_CACHE_ENTRIES, "fs_cache_entries",
	    "0-db-fs cache entries", NO_LABELS),
	GAUGE(MF_FS_CACHE_BLOCKS, "fs_cache_blocks",
	    "0-db-fs cache blocks", NO_LABELS),
	GAUGE(MF_FS_CACHE_BLOCKSIZE, "fs_cache_blocksize",
	    "0-db-fs cache block size", NO_LABELS),
	COUNTER(MF_FS_SYSCALLS, "fs_syscalls",
	    "File system calls served by 0-db-fs", { "syscall", NULL }),
	COUNTER(MF_FS_BYTES_READ, "fs_bytes_read",
	    "Bytes read through 0-db-fs", NO_LABELS),
	COUNTER(MF_FS_BYTES_WRITTEN, "fs_bytes_written",
	    "Bytes written through 0-db-fs", NO_LABELS),
	COUNTER(MF_FS_FUSE_ERRORS, "fs_fuse_errors",
	    "Errors 0-db-fs answered", NO_LABELS),

	GAUGE(MF_BUILD_INFO, "zstor_build_info",
	    "The running zstor-master's version and commit (the value is 1)",
	    { "version", "commit", NULL }),
	COUNTER(MF_STORED_BYTES, "zstor_stored_bytes_total",
	    "Bytes of files uploaded by stores (a file already stored with "
	    "its checksum is not uploaded again, and not counted)", NO_LABELS),
	COUNTER(MF_RETRIEVED_BYTES, "zstor_retrieved_bytes_total",
	    "Bytes of files written by retrieves", NO_LABELS),
	[MF_COMMAND_SECONDS] = { "zstor_command_duration_seconds",
	    "Time from a command's start to its outcome, queueing included",
	    METRIC_HISTOGRAM, { "command", NULL }, command_buckets,
	    sizeof(command_buckets) / sizeof(command_buckets[0]), 0 },
	GAUGE(MF_QUEUE_DEPTH, "zstor_queue_depth",
	    "Jobs waiting for a worker, by priority", { "priority", NULL }),
	GAUGE(MF_JOBS_RUNNING, "zstor_jobs_running",
	    "Jobs a worker is working on", NO_LABELS),
	COUNTER(MF_WORKER_RESTARTS, "zstor_worker_restarts_total",
	    "Workers started again after they died or were killed",
	    { "role", NULL }),
	COUNTER(MF_CONFIG_RELOADS, "zstor_config_reloads_total",
	    "Config reloads asked for (SIGUSR1, SIGHUP), by result",
	    { "result", NULL }),
	GAUGE(MF_CONFIG_RELOAD_OK, "zstor_config_last_reload_successful",
	    "1 when the last reload took the new config, 0 when it was "
	    "refused", NO_LABELS),
	[MF_BACKEND_STATE] = { "zstor_backend_state",
	    "The health state of each backend (1 for its current state)",
	    METRIC_GAUGE, { "address", "backend_type", "namespace", "state" },
	    NULL, 0, 1 },
	COUNTER(MF_SWEEP_SCANNED, "zstor_sweep_objects_scanned_total",
	    "Objects whose metadata the repair sweep read", NO_LABELS),
	COUNTER(MF_SWEEP_DEGRADED, "zstor_sweep_objects_degraded_total",
	    "Objects the repair sweep found with a shard lost, unreachable or "
	    "corrupt", NO_LABELS),
	COUNTER(MF_SWEEP_REPAIRED, "zstor_sweep_objects_repaired_total",
	    "Objects rebuilt by repairs", NO_LABELS),
	COUNTER(MF_SWEEP_FAILED, "zstor_sweep_objects_failed_total",
	    "Objects the repair sweep could not read or repair", NO_LABELS),
	COUNTER(MF_SCRUB_BYTES, "zstor_scrub_bytes_total",
	    "Bytes of shards read and verified by the scrub", NO_LABELS),
	COUNTER(MF_EVICTIONS, "zstor_evictions_total",
	    "Files the evictor deleted from the 0-db data directory",
	    NO_LABELS),
	COUNTER(MF_EVICTED_BYTES, "zstor_evicted_bytes_total",
	    "Bytes of the files the evictor deleted", NO_LABELS),
	COUNTER(MF_EVICTION_SKIPPED, "zstor_eviction_skipped_total",
	    "Files over the limit the evictor kept, by reason",
	    { "reason", NULL }),
	COUNTER(MF_EVICTION_PASSES, "zstor_eviction_passes_total",
	    "Passes of the evictor over the 0-db data directory", NO_LABELS),
	GAUGE(MF_CACHE_DIR_BYTES, "zstor_cache_dir_bytes",
	    "Bytes of the regular files in the 0-db data directory, at the "
	    "evictor's last pass", NO_LABELS),
	GAUGE(MF_CACHE_DIR_LIMIT, "zstor_cache_dir_limit_bytes",
	    "max_zdb_data_dir_size in bytes", NO_LABELS),
	GAUGE(MF_ZDBFS_UP, "zstor_zdbfs_up",
	    "1 when the last statistics poll of 0-db-fs succeeded", NO_LABELS),
	COUNTER(MF_ZDBFS_POLL_ERRORS, "zstor_zdbfs_poll_errors_total",
	    "Statistics polls of 0-db-fs that failed or timed out", NO_LABELS),
	COUNTER(MF_SCRAPES, "zstor_metrics_scrapes_total",
	    "Requests for /metrics served", NO_LABELS),
	COUNTER(MF_HTTP_TIMEOUTS, "zstor_metrics_http_timeouts_total",
	    "Metrics connections closed because a request or its reply took "
	    "too long", NO_LABELS),
	GAUGE(MF_HTTP_CONNECTIONS, "zstor_metrics_http_connections",
	    "Open connections to the metrics endpoint", NO_LABELS),
};
