/* Progress of a large store or retrieve on stderr, when stderr is a terminal:
 * bytes, rate and time left, redrawn twice a second on one line, as rclone
 * and restic do. Nothing is printed otherwise, so scripts and hooks see what
 * they always saw. A store is followed by the offset of the descriptor being
 * read (the daemon reads the same open file, so its reads move it too); a
 * retrieve by the size of the file being written. */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
progress_draw(struct progress *p, uint64_t pos)
{
	double el = now_s() - p->t0, rate = el > 0.2 ? pos / el : 0;
	char eta[32] = "-", total[48] = "";
	uint64_t left;

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
		if (rate > 0 && pos <= p->total) {
			left = (uint64_t)((p->total - pos) / rate);
			snprintf(eta, sizeof(eta), "%u:%02u",
			    (unsigned)(left / 60), (unsigned)(left % 60));
		}
	}
	fprintf(stderr, "\r\033[Kzstor: %s %s: %.1f MiB%s, %.1f MiB/s, ETA %s",
	    p->what, p->name, pos / 1048576.0, total, rate / 1048576.0, eta);
	p->shown = 1;
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
		if (p->total > 0 || pos > PROGRESS_MIN)
			progress_draw(p, pos);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PROGRESS_TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!p->stop &&
		    pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
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
	p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
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
	p->running = 0;
}
