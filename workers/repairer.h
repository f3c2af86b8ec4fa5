/* The repairer's parts (workers/repairer*.c): health checks, and the checks
 * the master's repair sweep and garbage collection ask for. */
#ifndef REPAIRER_H
#define REPAIRER_H

#include <stdint.h>

#include "backend.h"
#include "worker.h"

/* Health checks; intervals from the environment the master sets. */
#define HEALTH_INTERVAL_ENV	"ZSTOR_CHECK_MS"
#define HEALTH_INTERVAL_MS	3000
#define HEALTH_DEADLINE_MIN_MS	2000
/* free space at or below this is LowSpace (upstream's threshold) */
#define HEALTH_LOWSPACE_BYTES	(100ULL * 1024 * 1024)

/* The monotonic clock. */
int64_t	repairer_now_ms(void);

/* Runs a round of health checks when one is due and sends its results to
 * the master; returns the milliseconds until the next one is due. */
int64_t	health_tick(struct worker *w);
/* The milliseconds until the next round (0: due now). */
int64_t	health_due_in(const struct worker *w);
/* Drops every connection (the config changed). */
void	health_reset(void);

/* sweep_check (repairer_sweep.c) */
int	repairer_sweep_check(struct worker *w, struct msg *m);

/* gc_mark, gc_collect (repairer_gc.c) */
int	repairer_gc_mark(struct worker *w, struct msg *m);
int	repairer_gc_collect(struct worker *w, struct msg *m);

#endif
