/* Store pass 1: one read of the file feeds the checksum and the compressor, whose
 * frames are encrypted into the scratch file. Per 1 MiB block the background
 * thread hashes the block and writes the sealed bytes of the block before it,
 * while this thread compresses and encrypts; two input and two output buffers
 * alternate, and output goes out with positional writes, so nothing races. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aesgcm.h"
#include "bg.h"
#include "blake2b.h"
#include "obj.h"
#include "scratch.h"
#include "snappy_frame.h"

#define SEAL_READ_BLOCK (1024 * 1024)

/* Sealed bytes of one block, on their way to the scratch file. */
struct outbuf {
	uint8_t *buf;
	size_t len, cap;
	uint64_t at;		/* file offset */
};

struct seal {
	int fd;
	struct b2 hash;
	struct outbuf out[2];
	int cur;		/* output buffer being filled */
	uint64_t written;	/* bytes handed to out[] so far */
	/* the background task */
	const uint8_t *block;
	size_t block_len;
	struct outbuf *flush;
	int failed;
	struct err err;
};

void
sealed_close(struct sealed *s)
{
	if (s->fd >= 0 && s->owned)
		close(s->fd);
	s->fd = -1;
}

static int
out_append(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct seal *sl = ctx;
	struct outbuf *o = &sl->out[sl->cur];

	if (o->len + len > o->cap) {
		size_t cap = (o->len + len) * 2;
		uint8_t *nb = realloc(o->buf, cap);

		if (nb == NULL)
			return err_set(e, "out of memory");
		o->buf = nb, o->cap = cap;
	}
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	sl->written += len;
	return 0;
}

static int
gcm_sink_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return gcm_enc_write(ctx, buf, len, e);
}

static void
outbuf_flush(struct seal *sl, struct outbuf *o)
{
	if (o->len && !sl->failed && pwrite_full(sl->fd, o->buf, o->len, (off_t)o->at,
	    &sl->err) < 0)
		sl->failed = 1;
	o->len = 0;
}

static void
seal_task(void *arg)
{
	struct seal *sl = arg;

	b2_update(&sl->hash, sl->block, sl->block_len);
	if (sl->flush)
		outbuf_flush(sl, sl->flush);
}

/* Hands the block just encrypted to the background thread with the output so far,
 * and starts a fresh output buffer. */
static void
seal_block_done(struct seal *sl, struct bg *bgt, const uint8_t *block, size_t len)
{
	bg_wait(bgt);
	sl->block = block;
	sl->block_len = len;
	sl->flush = &sl->out[sl->cur];
	sl->cur ^= 1;
	sl->out[sl->cur].at = sl->written;
	bg_post(bgt, seal_task, sl);
}

static int
seal_stream(int in_fd, struct seal *sl, struct sf_enc *sf, struct err *e)
{
	uint8_t *block[2] = { malloc(SEAL_READ_BLOCK), malloc(SEAL_READ_BLOCK) };
	struct bg bgt;
	ssize_t n;
	int rc = 0, cur = 0;

	if (block[0] == NULL || block[1] == NULL) {
		free(block[0]), free(block[1]);
		return err_set(e, "out of memory");
	}
	bg_start(&bgt);
	(void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read_full(in_fd, block[cur], SEAL_READ_BLOCK)) > 0) {
		if (sf_enc_write(sf, block[cur], (size_t)n, e) < 0) {
			rc = -1;
			break;
		}
		seal_block_done(sl, &bgt, block[cur], (size_t)n);
		if ((size_t)n < SEAL_READ_BLOCK)
			break;
		cur ^= 1;
	}
	if (n < 0)
		rc = err_set(e, "read failed: %s", strerror(errno));
	bg_stop(&bgt);
	free(block[0]);
	free(block[1]);
	return rc;
}

static int
seal_init(struct seal *sl, int fd, struct err *e)
{
	memset(sl, 0, sizeof(*sl));
	sl->fd = fd;
	b2_init(&sl->hash);
	if (ftruncate(fd, 0) < 0)
		return err_set(e, "cannot reset the scratch file: %s", strerror(errno));
	return 0;
}

int
obj_seal(int in_fd, int scratch_fd, const uint8_t key[32], struct sealed *out, struct err *e)
{
	struct seal sl;
	struct sink to_out = { out_append, &sl }, to_gcm;
	struct gcm_enc *gcm = NULL;
	struct sf_enc *sf = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->fd = scratch_fd;
	if (scratch_fd < 0 && (out->fd = scratch_open(e)) < 0)
		return -1;
	out->owned = scratch_fd < 0;
	if (seal_init(&sl, out->fd, e) < 0)
		goto done;
	if ((gcm = gcm_enc_new(key, NULL, &to_out, e)) == NULL)
		goto done;
	to_gcm.write = gcm_sink_write;
	to_gcm.ctx = gcm;
	if ((sf = sf_enc_new(&to_gcm)) == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if (seal_stream(in_fd, &sl, sf, e) < 0 || sf_enc_finish(sf, e) < 0 ||
	    gcm_enc_finish(gcm, e) < 0)
		goto done;
	outbuf_flush(&sl, &sl.out[sl.cur]);	/* the tail: last frames and the tag */
	if (sl.failed) {
		*e = sl.err;
		goto done;
	}
	b2_final(&sl.hash, out->checksum);
	out->len = sl.written;
	rc = 0;
done:
	sf_enc_free(sf);
	gcm_enc_free(gcm);
	free(sl.out[0].buf);
	free(sl.out[1].buf);
	if (rc < 0)
		sealed_close(out);
	return rc;
}
