#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tpool.h"

enum slot_state { SLOT_IDLE, SLOT_RUNNING, SLOT_DONE };

struct tpool_slot {
	pthread_cond_t	 cv;
	void		(*fn)(void *);
	void		*arg;
	enum slot_state	 state;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cv = PTHREAD_COND_INITIALIZER;
static struct tpool_slot *slots[TPOOL_MAX];
static unsigned nslots, nstarted;
static int no_new;

static void *
helper(void *arg)
{
	struct tpool_slot *s = arg;

	pthread_mutex_lock(&mu);
	nstarted++;
	pthread_cond_broadcast(&started_cv);
	for (;;) {
		while (s->state != SLOT_RUNNING)
			pthread_cond_wait(&s->cv, &mu);
		pthread_mutex_unlock(&mu);
		s->fn(s->arg);
		pthread_mutex_lock(&mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&s->cv);
	}
	return NULL;
}

/* One more helper, under mu. Signals stay with the main thread: a helper
 * starts with all of them blocked but those its own faults raise (a
 * seccomp trap's SIGSYS must reach its handler, not kill by default). */
static struct tpool_slot *
spawn(void)
{
	struct tpool_slot *s;
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if (nslots == TPOOL_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	pthread_cond_init(&s->cv, NULL);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &at, helper, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		pthread_cond_destroy(&s->cv);
		free(s);
		return NULL;
	}
	slots[nslots++] = s;
	return s;
}

int
tpool_prespawn(unsigned n, struct err *e)
{
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n && rc == 0; i++)
		if (spawn() == NULL)
			rc = err_set(e, "cannot start helper thread %u of %u",
			    i + 1, n);
	/* A new thread makes system calls of its own as it starts (rseq,
	 * set_robust_list): let them happen before a sandbox forbids them. */
	while (nstarted < nslots)
		pthread_cond_wait(&started_cv, &mu);
	pthread_mutex_unlock(&mu);
	return rc;
}

void
tpool_no_new_threads(void)
{
	pthread_mutex_lock(&mu);
	no_new = 1;
	pthread_mutex_unlock(&mu);
}

int
tpool_run(void (*fn)(void *), void *arg, struct tpool_slot **slot)
{
	struct tpool_slot *s = NULL;
	unsigned i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nslots && s == NULL; i++)
		if (slots[i]->state == SLOT_IDLE)
			s = slots[i];
	if (s == NULL && !no_new)
		s = spawn();
	if (s != NULL) {
		s->fn = fn;
		s->arg = arg;
		s->state = SLOT_RUNNING;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&mu);
	*slot = s;
	return s != NULL ? 0 : -1;
}

void
tpool_join(struct tpool_slot *s)
{
	pthread_mutex_lock(&mu);
	while (s->state != SLOT_DONE)
		pthread_cond_wait(&s->cv, &mu);
	s->state = SLOT_IDLE;
	pthread_mutex_unlock(&mu);
}

unsigned
tpool_size(void)
{
	unsigned n;

	pthread_mutex_lock(&mu);
	n = nslots;
	pthread_mutex_unlock(&mu);
	return n;
}
