/* Progress of a large store or retrieve on stderr, when stderr is a terminal:
 * bytes, rate and time left, redrawn twice a second on one line, as rclone
 * and restic do. Nothing is printed otherwise, so scripts and hooks see what
 * they always saw. A store is followed by the offset of the descriptor being
 * read (the daemon reads the same open file, so its reads move it too); a
 * retrieve by the size of the file being written and, for its fraction and
 * time left, by the pieces fetched of those planned (obj_progress.h), which
 * the engine counts, or the daemon's progress frames. */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "progress.h"

#define PROGRESS_MIN	((uint64_t)64 << 20)	/* smaller files: no progress */
#define PROGRESS_TICK_MS 500

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
progress_pos(const struct progress *p)
{
	struct stat st;
	off_t off;

	if (p->by_offset)
		return (off = lseek(p->fd, 0, SEEK_CUR)) < 0 ? 0 :
		    (uint64_t)off;
	return fstat(p->fd, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

static void
eta_text(char *out, size_t len, double secs)
{
	uint64_t left = (uint64_t)secs;

	snprintf(out, len, "%u:%02u", (unsigned)(left / 60),
	    (unsigned)(left % 60));
}

/* A retrieve's share of its pieces and the time left at the pace so far:
 * elapsed * (1 - f) / f. */
static void
pieces_text(struct progress *p, double el, char *share, size_t sharelen,
    char *eta, size_t etalen)
{
	uint64_t done, planned;

	obj_progress_get(&p->count, &done, &planned);
	if (planned == 0)
		return;
	snprintf(share, sharelen, " (%u%%)", (unsigned)(done * 100 / planned));
	if (done > 0)
		eta_text(eta, etalen, el * (double)(planned - done) /
		    (double)done);
}

static void
progress_draw(struct progress *p, uint64_t pos)
{
	double el = now_s() - p->t0, rate = el > 0.2 ? pos / el : 0;
	char eta[32] = "-", total[48] = "";

	if (p->by_offset && p->total > 0 && pos >= p->total) {
		/* Read and sealed: the last stripes of shards are being
		 * written. */
		fprintf(stderr, "\r\033[Kzstor: %s %s: %.1f MiB read, writing "
		    "the last shards", p->what, p->name, pos / 1048576.0);
		p->shown = 1;
		return;
	}
	if (p->total > 0) {
		snprintf(total, sizeof(total), " of %.1f MiB (%u%%)",
		    p->total / 1048576.0, (unsigned)(pos * 100 / p->total));
		if (rate > 0 && pos <= p->total)
			eta_text(eta, sizeof(eta), (p->total - pos) / rate);
	} else if (!p->by_offset)
		pieces_text(p, el, total, sizeof(total), eta, sizeof(eta));
	fprintf(stderr, "\r\033[Kzstor: %s %s: %.1f MiB%s, %.1f MiB/s, ETA %s",
	    p->what, p->name, pos / 1048576.0, total, rate / 1048576.0, eta);
	p->shown = 1;
}

/* A file of known size was chosen at the start; one of unknown size is
 * large once more than PROGRESS_MIN is written or its pieces planned can
 * hold more (each holds at most ZDB_PIECE_MAX of the sealed file). */
static int
progress_due(struct progress *p, uint64_t pos)
{
	uint64_t done, planned = 0;

	if (p->total > 0 || pos > PROGRESS_MIN)
		return 1;
	if (!p->by_offset)
		obj_progress_get(&p->count, &done, &planned);
	return planned > PROGRESS_MIN / ZDB_PIECE_MAX;
}

static void *
progress_main(void *arg)
{
	struct progress *p = arg;
	struct timespec until;
	uint64_t pos;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		pos = progress_pos(p);
		if (progress_due(p, pos))
			progress_draw(p, pos);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PROGRESS_TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		p->kick = 0;
		while (!p->stop && !p->kick &&
		    pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The first pieces of a retrieve are in: the line is drawn at once rather
 * than at the next tick, with a fraction and a time left. */
static void
progress_advanced(void *arg, uint64_t done, uint64_t planned)
{
	struct progress *p = arg;

	(void)planned;
	pthread_mutex_lock(&p->mu);
	if (done > 0 && !p->kicked) {
		p->kick = p->kicked = 1;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
progress_start(struct progress *p, const char *what, const char *name, int fd,
    uint64_t total, int by_offset)
{
	memset(p, 0, sizeof(*p));
	if (!isatty(STDERR_FILENO) || (total > 0 && total <= PROGRESS_MIN))
		return;
	p->what = what;
	p->name = name;
	p->fd = fd;
	p->total = total;
	p->by_offset = by_offset;
	p->t0 = now_s();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	obj_progress_init(&p->count, progress_advanced, p);
	p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
}

struct obj_progress *
progress_count(struct progress *p)
{
	return p->running && !p->by_offset ? &p->count : NULL;
}

void
progress_stop(struct progress *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	if (p->shown)
		fputs("\r\033[K", stderr);	/* the result line takes its
						 * place */
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	obj_progress_free(&p->count);
	p->running = 0;
}
