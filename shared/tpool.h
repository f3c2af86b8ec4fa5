/* Helper threads, kept for the life of the process, that the pipelines of
 * one object borrow (bg.h). A sandboxed worker cannot create threads once its
 * seccomp filter is in (clone is not on its list), so it starts its helpers
 * before (tpool_prespawn, called by the sandbox at the right step) and no new
 * ones after; elsewhere a helper is created when none is idle. */
#ifndef TPOOL_H
#define TPOOL_H

#include "err.h"

#define TPOOL_MAX	32

struct tpool_slot;

/* Starts n more idle helpers now. */
int	tpool_prespawn(unsigned n, struct err *e);
/* From now on only the helpers that exist are used. */
void	tpool_no_new_threads(void);
/* Runs fn(arg) on an idle helper; 0 with *slot to join, -1 when no helper
 * can be had (the caller then does the work itself). */
int	tpool_run(void (*fn)(void *), void *arg, struct tpool_slot **slot);
/* Waits until fn returned; the helper is idle again. */
void	tpool_join(struct tpool_slot *slot);
/* Helpers that exist, busy or idle. */
unsigned	tpool_size(void);

#endif
