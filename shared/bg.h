/* One background thread that runs tasks in order, so a pipeline stage can
 * overlap with the next on a second core (hashing beside compression, writing a
 * stripe while the next is encoded). The thread is a helper borrowed from
 * tpool.h, at the first task worth handing over: a task that touches fewer
 * than BG_INLINE_MAX bytes runs inline in bg_post, since handing it over and
 * back (two wakeups) would cost more than it saves; the pipelines of a small
 * object take no helper at all. Without one (bg_threads_allowed(0), or none
 * left) every task runs inline.
 *
 * By default a task waits for the one before (bg_post returns once the
 * previous task is done). bg_depth lets up to BG_QUEUE tasks be in flight,
 * so that a stage whose pace varies (a hash that shares the cores with the
 * stage feeding it) falls behind and catches up instead of stopping the
 * feeder at every step; bg_post's ticket then says when one of them is done. */
#ifndef BG_H
#define BG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define BG_INLINE_MAX	(64 * 1024)

struct tpool_slot;

#define BG_QUEUE	4

struct bg_task {
	void	(*fn)(void *);
	void	*arg;
};

struct bg {
	struct tpool_slot *slot;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct bg_task	 q[BG_QUEUE];
	unsigned	 depth;		/* tasks in flight at most */
	uint64_t	 posted, done;	/* tasks so far; the ticket of each */
	int		 quit, threaded;
	int		 asked;		/* a helper was asked for */
};

void	bg_threads_allowed(int on);
void	bg_start(struct bg *b);
/* Lets up to depth (1..BG_QUEUE) tasks be queued or running at once. */
void	bg_depth(struct bg *b, unsigned depth);
/* Runs fn(arg), which touches about `bytes` bytes, in the background, after
 * the tasks posted before it; first waits until fewer than the depth are in
 * flight. Its ticket, for bg_wait_for. */
uint64_t bg_post(struct bg *b, void (*fn)(void *), void *arg, size_t bytes);
/* Waits until every task posted is done. */
void	bg_wait(struct bg *b);
/* Waits until the task of this ticket (and all before it) is done. */
void	bg_wait_for(struct bg *b, uint64_t ticket);
void	bg_stop(struct bg *b);

#endif
