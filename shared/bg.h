/* One background thread that runs one task at a time, so a pipeline stage can
 * overlap with the next on a second core (hashing beside compression, writing a
 * stripe while the next is encoded). The thread is a helper borrowed from
 * tpool.h, at the first task worth handing over: a task that touches fewer
 * than BG_INLINE_MAX bytes runs inline in bg_post, since handing it over and
 * back (two wakeups) would cost more than it saves; the pipelines of a small
 * object take no helper at all. Without one (bg_threads_allowed(0), or none
 * left) every task runs inline. */
#ifndef BG_H
#define BG_H

#include <pthread.h>
#include <stddef.h>

#define BG_INLINE_MAX	(64 * 1024)

struct tpool_slot;

struct bg {
	struct tpool_slot *slot;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	void (*fn)(void *);
	void		*arg;
	int		 busy, quit, threaded;
	int		 asked;		/* a helper was asked for */
};

void	bg_threads_allowed(int on);
void	bg_start(struct bg *b);
/* Runs fn(arg), which touches about `bytes` bytes, in the background; waits
 * first for the previous task. */
void	bg_post(struct bg *b, void (*fn)(void *), void *arg, size_t bytes);
/* Waits until the current task, if any, is done. */
void	bg_wait(struct bg *b);
void	bg_stop(struct bg *b);

#endif
