/* Progress of a store or retrieve on a terminal (progress.c). */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <pthread.h>
#include <stdint.h>

#include "obj_progress.h"

struct progress {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 running, stop, shown;
	int		 kick, kicked;	/* draw now: the first pieces came */
	const char	*what, *name;
	int		 fd;
	int		 by_offset;	/* fd's offset, else its size */
	uint64_t	 total;		/* 0: unknown (shown past 64 MiB) */
	double		 t0;
	/* A retrieve's pieces, fetched of planned: its fraction and time
	 * left, the size being unknown. */
	struct obj_progress count;
};

/* Does nothing unless stderr is a terminal and the file is over 64 MiB (or
 * of unknown size). */
void progress_start(struct progress *p, const char *what, const char *name,
    int fd, uint64_t total, int by_offset);
/* The pieces count of a retrieve's display, for the engine or the daemon's
 * frames to advance; NULL when nothing is displayed. */
struct obj_progress *progress_count(struct progress *p);
void progress_stop(struct progress *p);

#endif
