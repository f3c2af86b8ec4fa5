/* The per-backend metrics (upstream's names and labels), read from the
 * master's health table at each scrape.
 *
 * HOOK: the health table (supervisor/health.c) is not in the tree yet; until
 * it is, no per-backend series are emitted. */
#include "metrics.h"

void
metrics_backends_collect(void *arg)
{
	(void)arg;
}
