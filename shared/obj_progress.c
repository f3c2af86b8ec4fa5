/* The pieces count of an object read (obj_progress.h). */
#include <string.h>

#include "obj_progress.h"

void
obj_progress_init(struct obj_progress *p,
    void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->fn = fn;
	p->arg = arg;
}

void
obj_progress_free(struct obj_progress *p)
{
	pthread_mutex_destroy(&p->mu);
}

/* Takes done of total as the fraction to show when it is not less than the
 * one shown: the only place the rule lives. 1 when it was taken. */
static int
offer(struct obj_progress *p, uint64_t done, uint64_t total)
{
	if (total == 0 || done > total)
		return 0;
	if (p->shown_total != 0 && (double)done / (double)total <
	    (double)p->shown_done / (double)p->shown_total)
		return 0;
	if (done == p->shown_done && total == p->shown_total)
		return 0;
	p->shown_done = done;
	p->shown_total = total;
	return 1;
}

/* Offers this pass's fraction, the earlier passes' pieces counted as done,
 * and tells fn when it was taken. A pass that plans nothing yet offers none:
 * its carry alone would read as the end. Called with the lock held; releases
 * it. */
static void
offer_pass(struct obj_progress *p)
{
	uint64_t done, total;
	int taken;

	taken = p->total > 0 &&
	    offer(p, p->carry + p->done, p->carry + p->total);
	done = p->shown_done;
	total = p->shown_total;
	pthread_mutex_unlock(&p->mu);
	if (taken && p->fn != NULL)
		p->fn(p->arg, done, total);
}

void
obj_progress_pass(struct obj_progress *p, uint64_t total)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->carry += p->done;
	p->done = 0;
	p->total = total;
	offer_pass(p);
}

void
obj_progress_add(struct obj_progress *p, uint64_t n, int64_t plan)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->done += n;
	if (plan < 0 && (uint64_t)-plan > p->total)
		p->total = 0;
	else
		p->total += (uint64_t)plan;
	if (p->total < p->done)		/* fetched more than planned */
		p->total = p->done;
	offer_pass(p);
}

void
obj_progress_set(struct obj_progress *p, uint64_t done, uint64_t total)
{
	int taken;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	taken = offer(p, done, total);
	pthread_mutex_unlock(&p->mu);
	if (taken && p->fn != NULL)
		p->fn(p->arg, done, total);
}

void
obj_progress_get(struct obj_progress *p, uint64_t *done, uint64_t *total)
{
	pthread_mutex_lock(&p->mu);
	*done = p->shown_done;
	*total = p->shown_total;
	pthread_mutex_unlock(&p->mu);
}
