/* The master's walks over every metadata key (supervisor/sweep.c): the
 * repair sweep (first soon after start, then every 600 s, one at a time,
 * its position kept in <pid_file>.sweep across restarts) and the metadata
 * re-dispersal after a reload replaced a metadata backend. Each walk is a
 * job of its own at repair priority, stepping through meta_scan on the
 * metawriter (and sweep_check on the repairer for the sweep). */
#ifndef SWEEP_H
#define SWEEP_H

#include <stdint.h>
#include <time.h>

#define SWEEP_INTERVAL_MS	(600 * 1000)
#define SWEEP_FIRST_MS		(10 * 1000)
/* the scrub's default pace: well under what a store or a disk notices */
#define SCRUB_RATE_DEFAULT	(2ULL * 1024 * 1024)

struct job;
struct msg;

/* What the sweeps did, for the logs and the metrics. */
struct sweep_stats {
	uint64_t	sweeps;		/* completed */
	int		running;
	time_t		started;	/* of the current or last one */
	uint64_t	keys, objects, degraded, damaged, unreadable, bad_meta;
	uint64_t	queued;		/* rebuilds queued */
	uint64_t	scrubbed_bytes;
};

void	sweep_init(int64_t first_ms, int64_t interval_ms, uint64_t scrub_rate);
/* The current or last sweep's figures (read-only). */
const struct sweep_stats *sweep_stats(void);
/* After a reload: re-disperse every metadata value when the metadata
 * backends changed (names of the old ones); cancels an older pass. */
void	redisperse_after_reload(char *const old_meta[4]);

/* The scheduler's hooks for the walks' jobs. */
struct msg *walk_step_build(struct job *j, struct msg *m);
int	walk_answer(struct job *j, struct msg *m);
void	walk_failed(struct job *j, const char *why);

#endif
