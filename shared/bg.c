#include "bg.h"
#include "tpool.h"

static int threads_allowed = 1;

void
bg_threads_allowed(int on)
{
	threads_allowed = on;
}

static void
bg_loop(void *arg)
{
	struct bg *b = arg;
	struct bg_task t;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (b->done == b->posted && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (b->done == b->posted)
			break;	/* quit, and nothing left */
		t = b->q[b->done % BG_QUEUE];
		pthread_mutex_unlock(&b->mu);
		t.fn(t.arg);
		pthread_mutex_lock(&b->mu);
		b->done++;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
}

void
bg_start(struct bg *b)
{
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->posted = b->done = 0;
	b->quit = b->threaded = b->asked = 0;
	b->depth = 1;
}

void
bg_depth(struct bg *b, unsigned depth)
{
	b->depth = depth < 1 ? 1 : depth > BG_QUEUE ? BG_QUEUE : depth;
}

void
bg_wait_for(struct bg *b, uint64_t ticket)
{
	if (!b->threaded)
		return;		/* inline: done when posted */
	pthread_mutex_lock(&b->mu);
	while (b->done < ticket)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

void
bg_wait(struct bg *b)
{
	bg_wait_for(b, b->posted);
}

uint64_t
bg_post(struct bg *b, void (*fn)(void *), void *arg, size_t bytes)
{
	uint64_t ticket;

	if (bytes >= BG_INLINE_MAX && !b->asked) {
		b->asked = 1;
		b->threaded = threads_allowed &&
		    tpool_run(bg_loop, b, &b->slot) == 0;
	}
	if (!b->threaded || bytes < BG_INLINE_MAX) {
		bg_wait(b);	/* tasks stay in order */
		fn(arg);
		pthread_mutex_lock(&b->mu);
		ticket = ++b->posted;
		b->done = ticket;
		pthread_mutex_unlock(&b->mu);
		return ticket;
	}
	pthread_mutex_lock(&b->mu);
	while (b->posted - b->done >= b->depth)
		pthread_cond_wait(&b->cv, &b->mu);
	b->q[b->posted % BG_QUEUE] = (struct bg_task){ fn, arg };
	ticket = ++b->posted;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return ticket;
}

void
bg_stop(struct bg *b)
{
	if (b->threaded) {
		pthread_mutex_lock(&b->mu);
		b->quit = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		tpool_join(b->slot);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
}
