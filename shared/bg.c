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

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->busy && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (b->quit && !b->busy)
			break;
		pthread_mutex_unlock(&b->mu);
		b->fn(b->arg);
		pthread_mutex_lock(&b->mu);
		b->busy = 0;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
}

void
bg_start(struct bg *b)
{
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->busy = b->quit = b->threaded = b->asked = 0;
}

void
bg_wait(struct bg *b)
{
	if (!b->threaded)
		return;
	pthread_mutex_lock(&b->mu);
	while (b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

void
bg_post(struct bg *b, void (*fn)(void *), void *arg, size_t bytes)
{
	if (bytes >= BG_INLINE_MAX && !b->asked) {
		b->asked = 1;
		b->threaded = threads_allowed &&
		    tpool_run(bg_loop, b, &b->slot) == 0;
	}
	if (!b->threaded || bytes < BG_INLINE_MAX) {
		bg_wait(b);	/* tasks stay in order */
		fn(arg);
		return;
	}
	bg_wait(b);
	pthread_mutex_lock(&b->mu);
	b->fn = fn;
	b->arg = arg;
	b->busy = 1;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
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
