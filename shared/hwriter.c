#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "hwriter.h"
#include "scratch.h"

static int
hw_take(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct hwriter *w = ctx;
	struct hwbuf *o = &w->out[w->cur];
	size_t need, cap;
	uint8_t *nb;

	if (o->len > 0 && o->len + len > HW_CUT_BYTES) {
		hwriter_cut(w, NULL, NULL, 0);
		o = &w->out[w->cur];
	}
	if ((need = o->len + len) > o->cap) {
		/* doubling, as small as a small stream needs, and never past
		 * HW_CUT_BYTES unless one take is larger */
		cap = need * 2;
		if (cap > HW_CUT_BYTES)
			cap = need > HW_CUT_BYTES ? need : HW_CUT_BYTES;
		if ((nb = realloc(o->buf, cap)) == NULL)
			return err_set(e, "out of memory");
		o->buf = nb, o->cap = cap;
	}
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	w->total += len;
	return 0;
}

/* In memory while the stream fits the bound; 1 when it no longer does. */
static int
hw_to_mem(struct hwriter *w, const struct hwbuf *o)
{
	size_t end = (size_t)o->at + o->len, cap;
	uint8_t *nb;

	if (w->spilled || end > w->mem_max)
		return 1;
	if (end > w->mem_cap) {
		cap = w->mem_cap ? w->mem_cap : 65536;
		while (cap < end)
			cap *= 2;
		if (cap > w->mem_max)
			cap = w->mem_max;
		if ((nb = realloc(w->mem, cap)) == NULL)
			return 1;
		w->mem = nb, w->mem_cap = cap;
	}
	memcpy(w->mem + o->at, o->buf, o->len);
	return 0;
}

/* The stream outgrew memory: what memory held goes to the file first. */
static int
hw_spill(struct hwriter *w, uint64_t held)
{
	w->spilled = 1;
	if (w->fd < 0) {
		if ((w->fd = scratch_open(&w->err)) < 0)
			return -1;
		w->opened = 1;
	}
	if (held > 0 && w->mem != NULL &&
	    pwrite_full(w->fd, w->mem, (size_t)held, (off_t)w->base,
	    &w->err) < 0)
		return -1;
	free(w->mem);
	w->mem = NULL;
	w->mem_cap = 0;
	return 0;
}

/* Runs on the writing thread, or inline without threads. */
static void
hw_flush(struct hwriter *w, struct hwbuf *o)
{
	if (o->len == 0)
		return;
	if (!w->failed && w->mem_max > 0 && hw_to_mem(w, o) == 0) {
		o->at += o->len;
		o->len = 0;
		return;
	}
	if (!w->failed && (w->fd < 0 || (w->mem_max > 0 && !w->spilled)) &&
	    hw_spill(w, o->at) < 0)
		w->failed = 1;
	if (!w->failed &&
	    pwrite_full(w->fd, o->buf, o->len, (off_t)(w->base + o->at),
	    &w->err) < 0)
		w->failed = 1;
	if (!w->failed && w->writeback)
		(void)sync_file_range(w->fd, (off_t)(w->base + o->at),
		    (off_t)o->len, SYNC_FILE_RANGE_WRITE);
	o->at += o->len;	/* bytes taken later continue from here */
	o->len = 0;
}

static void
hw_write_task(void *arg)
{
	struct hwbuf *o = arg;

	hw_flush(o->w, o);
}

/* Runs on the hashing thread. It has its own copy of the output's extent:
 * the writing thread empties the buffer's length when it is done. */
static void
hw_hash_task(void *arg)
{
	struct hwbuf *o = arg;

	if (o->in_hash)
		b2_update(o->in_hash, o->in, o->inlen);
	if (o->w->out_hash && o->hlen > 0)
		b2_update(o->w->out_hash, o->buf, o->hlen);
}

static void
hw_wait(struct hwriter *w)
{
	bg_wait(&w->hash_bg);
	bg_wait(&w->write_bg);
}

void
hwriter_init(struct hwriter *w, int fd, uint64_t base, struct b2 *out_hash)
{
	int i;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->base = base;
	w->out_hash = out_hash;
	for (i = 0; i < HW_RING; i++)
		w->out[i].w = w;
	bg_start(&w->hash_bg);
	bg_start(&w->write_bg);
	bg_depth(&w->hash_bg, HW_RING - 1);
	bg_depth(&w->write_bg, HW_RING - 1);
}

void
hwriter_writeback(struct hwriter *w)
{
	w->writeback = 1;
}

void
hwriter_keep(struct hwriter *w, size_t max)
{
	w->mem_max = max;
}

uint8_t *
hwriter_mem(struct hwriter *w)
{
	uint8_t *m = w->spilled ? NULL : w->mem;

	if (m == NULL && !w->spilled && w->mem_max > 0)
		m = malloc(1);	/* an empty stream, in memory */
	if (!w->spilled)
		w->mem = NULL;
	return m;
}

struct sink
hwriter_sink(struct hwriter *w)
{
	struct sink s = { hw_take, w };

	return s;
}

void
hwriter_cut(struct hwriter *w, struct b2 *in_hash, const void *in, size_t inlen)
{
	struct hwbuf *o = &w->out[w->cur], *next;
	size_t hashing;

	o->in_hash = in_hash;
	o->in = in;
	o->inlen = inlen;
	o->hlen = o->len;
	hashing = (in_hash ? inlen : 0) + (w->out_hash ? o->hlen : 0);
	/* A task with nothing to do is not posted: one posted would run
	 * inline, after all the tasks before it (a store's cuts between two
	 * input blocks hash nothing, and would wait for the input's hash). */
	o->hashed = hashing > 0 ?
	    bg_post(&w->hash_bg, hw_hash_task, o, hashing) : 0;
	o->written = o->hlen > 0 ?
	    bg_post(&w->write_bg, hw_write_task, o, o->hlen) : 0;
	/* the next buffer, once its last tasks are done */
	w->cur = (w->cur + 1) % HW_RING;
	next = &w->out[w->cur];
	bg_wait_for(&w->hash_bg, next->hashed);
	bg_wait_for(&w->write_bg, next->written);
	next->at = w->total;
}

int
hwriter_finish(struct hwriter *w, struct err *e)
{
	struct hwbuf *o = &w->out[w->cur];

	hw_wait(w);
	if (w->out_hash && o->len > 0)
		b2_update(w->out_hash, o->buf, o->len);
	hw_flush(w, o);
	if (w->failed) {
		*e = w->err;
		return -1;
	}
	return 0;
}

void
hwriter_free(struct hwriter *w)
{
	int i;

	bg_stop(&w->hash_bg);
	bg_stop(&w->write_bg);
	for (i = 0; i < HW_RING; i++)
		free(w->out[i].buf);
	free(w->mem);
}
