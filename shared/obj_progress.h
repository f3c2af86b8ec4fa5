/* How far an object read is: the pieces it fetched of the pieces it plans to
 * fetch. The metadata records neither the file's size nor its shards', but it
 * lists every piece (at most 2 MiB each), so the count is known before the
 * first byte and the fraction measures the work done. A retrieve's progress
 * display reads it from another thread (hence the lock); the engine advances
 * it when a pool carries one (pool.h).
 *
 * A retrieve whose stream fails starts a second pass through parity
 * (obj_retrieve): the pieces the first pass fetched are counted as done and
 * the second pass's are added, and the fraction shown never goes back nor past
 * one: it stays where it was until the new pass overtakes it. */
#ifndef OBJ_PROGRESS_H
#define OBJ_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

struct obj_progress {
	pthread_mutex_t	 mu;
	uint64_t	 carry;		/* fetched by earlier passes */
	uint64_t	 done, total;	/* this pass */
	uint64_t	 shown_done, shown_total;	/* the largest so far */
	/* NULL, or called with each new fraction to show, outside the lock,
	 * in the thread that advanced the count (for a retrieve, the one
	 * that called obj_retrieve) */
	void		(*fn)(void *arg, uint64_t done, uint64_t total);
	void		*arg;
};

void	obj_progress_init(struct obj_progress *p,
	    void (*fn)(void *, uint64_t, uint64_t), void *arg);
void	obj_progress_free(struct obj_progress *p);
/* Each of these does nothing when p is NULL, so that the engine calls them
 * whether a count is kept or not. */
/* A new pass that plans to fetch total pieces. */
void	obj_progress_pass(struct obj_progress *p, uint64_t total);
/* n more pieces fetched; plan pieces added to the pass's plan, or dropped
 * from it (negative: a shard that failed keeps the rest of its pieces). */
void	obj_progress_add(struct obj_progress *p, uint64_t n, int64_t plan);
/* A fraction counted elsewhere (the daemon's frames), never shown backwards. */
void	obj_progress_set(struct obj_progress *p, uint64_t done, uint64_t total);
/* The fraction to show; total 0 while nothing is planned. */
void	obj_progress_get(struct obj_progress *p, uint64_t *done,
	    uint64_t *total);

#endif
