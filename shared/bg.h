/* One background thread that runs one task at a time, so a pipeline stage can
 * overlap with the next on a second core (hashing beside compression, writing a
 * stripe while the next is encoded). The thread is a helper borrowed from
 * tpool.h. Without one (bg_threads_allowed(0), or none left) tasks run inline
 * in bg_post. */
#ifndef BG_H
#define BG_H

#include <pthread.h>

struct tpool_slot;

struct bg {
	struct tpool_slot *slot;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	void (*fn)(void *);
	void		*arg;
	int		 busy, quit, threaded;
};

void	bg_threads_allowed(int on);
void	bg_start(struct bg *b);
/* Runs fn(arg) in the background; waits first for the previous task. */
void	bg_post(struct bg *b, void (*fn)(void *), void *arg);
/* Waits until the current task, if any, is done. */
void	bg_wait(struct bg *b);
void	bg_stop(struct bg *b);

#endif
