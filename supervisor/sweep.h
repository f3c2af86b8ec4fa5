/* The master's walks over every metadata key (supervisor/sweep.c): the
 * repair sweep (first soon after start, then every 600 s, one at a time,
 * its position kept in <pid_file>.sweep across restarts) and the metadata
 * re-dispersal after a reload replaced a metadata backend. Each walk is a
 * job of its own at repair priority, stepping through meta_scan on the
 * metawriter (and sweep_check on the repairer for the sweep). */
#ifndef SWEEP_H
#define SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SWEEP_INTERVAL_MS	(600 * 1000)
#define SWEEP_FIRST_MS		(10 * 1000)
/* the scrub's default pace: well under what a store or a disk notices */
#define SCRUB_RATE_DEFAULT	(2ULL * 1024 * 1024)

struct job;
struct msg;

/* Where a walk is in a metadata backend's SCAN (meta_scan's answers). */
#define CURSOR_MAX	512	/* 0-db's are 17 bytes, dir:'s longer */
struct scan_pos {
	uint8_t		 cursor[CURSOR_MAX];
	size_t		 cursorlen;	/* 0: from the oldest key */
	uint8_t		 after[256];	/* in that batch, past it */
	size_t		 afterlen;	/* 0: from the batch's start */
	int		 done;		/* the last piece is out */
};

/* Takes the position a meta_scan answered; -1 when malformed. */
int	scan_pos_advance(struct scan_pos *p, const struct msg *m);
/* Puts the position in a meta_scan. */
void	scan_pos_build(const struct scan_pos *p, struct msg *m);
/* The hex field name of m, at most max bytes, into out (*len 0: absent);
 * -1 when malformed. */
int	hex_of(const struct msg *m, const char *name, uint8_t *out,
	    size_t max, size_t *len);

/* What the sweeps did, for the logs and the metrics. */
struct sweep_stats {
	uint64_t	sweeps;		/* completed */
	int		running;
	time_t		started;	/* of the current or last one */
	uint64_t	keys, objects, degraded, damaged, unreadable, bad_meta;
	uint64_t	queued;		/* rebuilds queued */
	uint64_t	scrubbed_bytes;
};

void	sweep_init(int64_t first_ms, int64_t interval_ms,
	    uint64_t scrub_rate);
/* The current or last sweep's figures (read-only). */
const struct sweep_stats *sweep_stats(void);
/* After a reload: re-disperse every metadata value when the metadata
 * backends changed (names of the old ones); cancels an older pass. */
void	redisperse_after_reload(char *const old_meta[4]);

/* The scheduler's hooks for the walks' jobs. */
struct msg *walk_step_build(struct job *j, struct msg *m);
int	walk_answer(struct job *j, struct msg *m);
void	walk_failed(struct job *j, const char *why);

/* Garbage collection (supervisor/gc.c): pieces on data backends that no
 * metadata references, older than the grace period, are deleted. */
#define GC_GRACE_SECS	(24 * 3600)

void	gc_init(int64_t grace_secs, int after_sweep);
/* Starts a pass (SIGUSR2, or after a sweep with --gc); one at a time. */
void	gc_start(const char *why);
/* After every completed sweep. */
void	gc_after_sweep(void);
struct msg *gc_step_build(struct job *j, struct msg *m);
int	gc_answer(struct job *j, struct msg *m);
int	gc_failed(struct job *j, const char *why);

#endif
