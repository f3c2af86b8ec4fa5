/* The repairer: the health checks of every backend (repairer_health.c), on
 * its own timer between the master's messages (and while the scrub paces
 * itself), and the checks of the repair sweep (repairer_sweep.c).
 *
 * It holds no job of its own between messages, like every worker; its
 * timers run whenever it waits for the master. */
#include <stdlib.h>

#include "log.h"
#include "repairer.h"

int64_t
repairer_idle(struct worker *w)
{
	if (!w->has_cfg)
		return -1;
	return health_tick(w);
}

int
repairer_dispatch(struct worker *w, struct msg *m, const int *fds)
{
	(void)fds;
	switch (msg_type(m)) {
	case MT_SWEEP_CHECK:
		return repairer_sweep_check(w, m);
	case MT_GC_MARK:
		return repairer_gc_mark(w, m);
	case MT_GC_COLLECT:
		return repairer_gc_collect(w, m);
	default:
		return worker_refuse(w, m);
	}
}
