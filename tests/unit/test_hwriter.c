/* The background writer: bytes land at their offsets whatever the cuts, a
 * finish in the middle of a stream does not disturb what follows, hashes match,
 * and a failing write is reported; with and without the background thread. */
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"
#include "hwriter.h"
#include "scratch.h"
#include "t.h"

int main(void);

#define TOTAL (3 * 1024 * 1024 + 17)

static void
run(int threads, uint64_t base)
{
	uint8_t *data = malloc(TOTAL), *back = malloc(TOTAL), want[B2_LEN],
	    got[B2_LEN];
	uint8_t in_want[B2_LEN], in_got[B2_LEN];
	struct b2 out_hash, in_hash, in_ref;
	struct hwriter w;
	struct sink s;
	struct err e;
	size_t off = 0;
	int fd = scratch_open(&e), cuts = 0;

	bg_threads_allowed(threads);
	randombytes_buf(data, TOTAL);
	b2_init(&out_hash);
	b2_init(&in_hash);
	b2_init(&in_ref);
	hwriter_init(&w, fd, base, &out_hash);
	s = hwriter_sink(&w);
	while (off < TOTAL) {
		size_t n = 1 + randombytes_uniform(200000);

		if (n > TOTAL - off)
			n = TOTAL - off;
		T_CHECK(sink_write(&s, data + off, n, &e) == 0, "sink_write");
		if (randombytes_uniform(3) == 0) {
			hwriter_cut(&w, &in_hash, data + off, n);
			b2_update(&in_ref, data + off, n);
			cuts++;
		}
		/* a finish mid-stream, then more */
		if (randombytes_uniform(10) == 0)
			T_CHECK(hwriter_finish(&w, &e) == 0,
			    "finish mid-stream: %s", e.msg);
		off += n;
	}
	T_CHECK(hwriter_finish(&w, &e) == 0, "finish: %s", e.msg);
	T_CHECK(w.total == TOTAL, "total %llu", (unsigned long long)w.total);
	T_CHECK(pread_full(fd, back, TOTAL, (off_t)base, &e) == 0, "read back");
	T_CHECK(memcmp(back, data, TOTAL) == 0,
	    "bytes at their offsets (threads %d)", threads);
	b2_final(&out_hash, got);
	b2_hash(data, TOTAL, want);
	T_CHECK(memcmp(got, want, B2_LEN) == 0,
	    "hash of the output (threads %d)", threads);
	b2_final(&in_hash, in_got);
	b2_final(&in_ref, in_want);
	T_CHECK(cuts == 0 || memcmp(in_got, in_want, B2_LEN) == 0,
	    "hash of the input blocks");
	hwriter_free(&w);
	close(fd);
	free(data);
	free(back);
}

/* A stream kept in memory up to max bytes: a shorter one never touches a
 * file (none is opened without one), a longer one spills to the file, the
 * bytes kept so far first, and all of it lands at its offsets. */
static void
kept(int threads, size_t max, int with_fd)
{
	uint8_t *data = malloc(TOTAL), *back = malloc(TOTAL), *mem;
	int fd = -1, spill = max < TOTAL;
	struct hwriter w;
	struct sink s;
	struct err e;
	size_t off, n;

	bg_threads_allowed(threads);
	randombytes_buf(data, TOTAL);
	if (with_fd)
		fd = scratch_open(&e);
	hwriter_init(&w, fd, 0, NULL);
	hwriter_keep(&w, max);
	s = hwriter_sink(&w);
	for (off = 0; off < TOTAL; off += n) {
		n = TOTAL - off < 300000 ? TOTAL - off : 300000;
		sink_write(&s, data + off, n, &e);
		hwriter_cut(&w, NULL, NULL, 0);
	}
	T_CHECK(hwriter_finish(&w, &e) == 0, "kept: finish: %s", e.msg);
	mem = hwriter_mem(&w);
	T_CHECK(spill == (mem == NULL) && w.opened == (spill && !with_fd),
	    "kept %zu of %d bytes (fd %d): in memory %d, opened %d", max,
	    TOTAL, with_fd, mem != NULL, w.opened);
	if (mem != NULL)
		T_CHECK(memcmp(mem, data, TOTAL) == 0, "kept: the bytes in "
		    "memory");
	else
		T_CHECK(pread_full(w.fd, back, TOTAL, 0, &e) == 0 &&
		    memcmp(back, data, TOTAL) == 0, "spilled: the bytes in the "
		    "file, those kept first too");
	if (w.opened)
		close(w.fd);
	if (with_fd)
		close(fd);
	hwriter_free(&w);
	free(mem);
	free(data);
	free(back);
}

/* A stream that is never cut (one sealed piece of compressible data unframes
 * to tens of MiB at once) is cut by itself: its buffers stay near
 * HW_CUT_BYTES, and with the writeback started as it goes the bytes and
 * the hash are as they were given. */
static void
uncut(int threads)
{
	uint8_t *data = malloc(TOTAL), *back = malloc(TOTAL), want[B2_LEN],
	    got[B2_LEN];
	struct b2 out_hash;
	struct hwriter w;
	struct sink s;
	struct err e;
	size_t off, n;
	int fd = scratch_open(&e);

	bg_threads_allowed(threads);
	randombytes_buf(data, TOTAL);
	b2_init(&out_hash);
	hwriter_init(&w, fd, 0, &out_hash);
	hwriter_writeback(&w);
	s = hwriter_sink(&w);
	for (off = 0; off < TOTAL; off += n) {
		n = TOTAL - off < 65536 ? TOTAL - off : 65536;
		T_CHECK(sink_write(&s, data + off, n, &e) == 0, "uncut: take");
	}
	T_CHECK(w.out[0].cap <= HW_CUT_BYTES && w.out[1].cap <= HW_CUT_BYTES,
	    "uncut: buffers of %zu and %zu bytes for a %d-byte stream (threads "
	    "%d)", w.out[0].cap, w.out[1].cap, TOTAL, threads);
	T_CHECK(hwriter_finish(&w, &e) == 0, "uncut: finish: %s", e.msg);
	T_CHECK(pread_full(fd, back, TOTAL, 0, &e) == 0 &&
	    memcmp(back, data, TOTAL) == 0, "uncut: the bytes in the file");
	b2_final(&out_hash, got);
	b2_hash(data, TOTAL, want);
	T_CHECK(memcmp(got, want, B2_LEN) == 0, "uncut: the hash");
	hwriter_free(&w);
	close(fd);
	free(data);
	free(back);
}

static void
failing_write(void)
{
	int fd = open("/dev/null", O_RDONLY);
	struct hwriter w;
	struct sink s;
	struct err e;

	hwriter_init(&w, fd, 0, NULL);
	s = hwriter_sink(&w);
	sink_write(&s, "abc", 3, &e);
	hwriter_cut(&w, NULL, NULL, 0);
	T_CHECK(hwriter_finish(&w, &e) == -1, "a failed write is reported");
	T_CHECK(strstr(e.msg, "write") != NULL, "... saying so: %s", e.msg);
	hwriter_free(&w);
	close(fd);
}

/* bg.h: a large task goes to a helper, a small one runs inline, after it. */
struct order {
	pthread_t	 main;
	pthread_t	 ran_on[2];
	int		 done[2];
	int		 seen;	/* the small task found the large one done */
};

static void
large_task(void *arg)
{
	struct order *o = arg;

	usleep(20000);
	o->ran_on[0] = pthread_self();
	o->done[0] = 1;
}

static void
small_task(void *arg)
{
	struct order *o = arg;

	o->seen = o->done[0];
	o->ran_on[1] = pthread_self();
	o->done[1] = 1;
}

static void
bg_order(void)
{
	struct order o = { .main = pthread_self() };
	struct bg b;

	bg_threads_allowed(1);
	bg_start(&b);
	bg_post(&b, large_task, &o, BG_INLINE_MAX);
	bg_post(&b, small_task, &o, BG_INLINE_MAX - 1);
	T_CHECK(o.done[1] && o.seen, "bg: a small task runs after the large "
	    "one before it");
	bg_wait(&b);
	T_CHECK(!pthread_equal(o.ran_on[0], o.main) &&
	    pthread_equal(o.ran_on[1], o.main), "bg: the large one on a "
	    "helper, the small one inline");
	bg_stop(&b);
}

/* bg.h with a depth: tasks queue without waiting for each other, run in
 * order, and a ticket says when one is done. */
struct gated {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 open;
	int		 ran[BG_QUEUE], nran;
};

struct gated_task {
	struct gated	*g;
	int		 id;
};

static void
gated_run(void *arg)
{
	struct gated_task *t = arg;
	struct gated *g = t->g;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;	/* a bug must fail the test, not hang it */
	pthread_mutex_lock(&g->mu);
	while (!g->open &&
	    pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
		;
	g->ran[g->nran++] = t->id;
	pthread_mutex_unlock(&g->mu);
}

static int
gated_count(struct gated *g)
{
	int n;

	pthread_mutex_lock(&g->mu);
	n = g->nran;
	pthread_mutex_unlock(&g->mu);
	return n;
}

static void
bg_queue(void)
{
	struct gated g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	    0, { 0 }, 0 };
	struct gated_task t[3] = { { &g, 1 }, { &g, 2 }, { &g, 3 } };
	uint64_t ticket[3];
	struct bg b;
	int i;

	bg_threads_allowed(1);
	bg_start(&b);
	bg_depth(&b, 3);
	for (i = 0; i < 3; i++)
		ticket[i] = bg_post(&b, gated_run, &t[i], BG_INLINE_MAX);
	T_CHECK(gated_count(&g) == 0, "bg: three tasks at depth 3 were posted "
	    "without waiting for one (%d ran first)", gated_count(&g));
	T_CHECK(ticket[0] + 1 == ticket[1] && ticket[1] + 1 == ticket[2],
	    "bg: tickets follow each other");
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	bg_wait_for(&b, ticket[1]);
	T_CHECK(gated_count(&g) >= 2, "bg: the second task's ticket came "
	    "back before it ran");
	bg_wait(&b);
	T_CHECK(g.nran == 3 && g.ran[0] == 1 && g.ran[1] == 2 && g.ran[2] == 3,
	    "bg: queued tasks ran in order (%d: %d %d %d)", g.nran, g.ran[0],
	    g.ran[1], g.ran[2]);
	bg_stop(&b);
}

int
main(void)
{
	int i;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < 4; i++) {
		run(1, (uint64_t)i * 4096);
		run(0, (uint64_t)i * 7);
	}
	for (i = 0; i < 2; i++) {
		kept(i, TOTAL, 0);
		kept(i, TOTAL, 1);
		kept(i, 1024 * 1024, 0);
		kept(i, 1024 * 1024, 1);
	}
	uncut(1);
	uncut(0);
	bg_threads_allowed(1);
	failing_write();
	bg_threads_allowed(0);
	failing_write();
	bg_order();
	bg_queue();
	return t_finish();
}
