/* Store pass 1: one read of the file feeds the checksum and the compressor, whose
 * frames are encrypted straight into the scratch file. */
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

static int
gcm_sink_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return gcm_enc_write(ctx, buf, len, e);
}

void
sealed_close(struct sealed *s)
{
	if (s->fd >= 0 && s->owned)
		close(s->fd);
	s->fd = -1;
}

struct hash_task {
	struct b2 *h;
	const uint8_t *buf;
	size_t len;
};

static void
hash_run(void *arg)
{
	struct hash_task *t = arg;

	b2_update(t->h, t->buf, t->len);
}

/* Reads in_fd to the end through hash and compressor. The hash of a block runs
 * on the background thread while the block is compressed and encrypted here;
 * blocks alternate between two buffers so the next read never overwrites a
 * block still being hashed. */
static int
seal_stream(int in_fd, struct b2 *h, struct sf_enc *sf, struct err *e)
{
	uint8_t *block[2] = { malloc(SEAL_READ_BLOCK), malloc(SEAL_READ_BLOCK) };
	struct hash_task task[2];
	struct bg hasher;
	ssize_t n;
	int rc = 0, cur = 0;

	if (block[0] == NULL || block[1] == NULL) {
		free(block[0]), free(block[1]);
		return err_set(e, "out of memory");
	}
	bg_start(&hasher);
	(void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read_full(in_fd, block[cur], SEAL_READ_BLOCK)) > 0) {
		task[cur] = (struct hash_task){ h, block[cur], (size_t)n };
		bg_post(&hasher, hash_run, &task[cur]);
		if (sf_enc_write(sf, block[cur], (size_t)n, e) < 0) {
			rc = -1;
			break;
		}
		if ((size_t)n < SEAL_READ_BLOCK)
			break;
		cur ^= 1;
	}
	if (n < 0)
		rc = err_set(e, "read failed: %s", strerror(errno));
	bg_stop(&hasher);
	free(block[0]);
	free(block[1]);
	return rc;
}

int
obj_seal(int in_fd, int scratch_fd, const uint8_t key[32], struct sealed *out, struct err *e)
{
	struct fd_writer w;
	struct sink to_file, to_gcm;
	struct gcm_enc *gcm = NULL;
	struct sf_enc *sf = NULL;
	struct b2 h;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->fd = scratch_fd;
	if (scratch_fd < 0 && (out->fd = scratch_open(e)) < 0)
		return -1;
	out->owned = scratch_fd < 0;
	if (ftruncate(out->fd, 0) < 0 || lseek(out->fd, 0, SEEK_SET) < 0) {
		err_set(e, "cannot reset the scratch file: %s", strerror(errno));
		goto fail;
	}
	if (fd_writer_init(&w, out->fd, SEAL_READ_BLOCK, e) < 0)
		goto fail;
	to_file = fd_writer_sink(&w);
	if ((gcm = gcm_enc_new(key, NULL, &to_file, e)) == NULL)
		goto done;
	to_gcm.write = gcm_sink_write;
	to_gcm.ctx = gcm;
	if ((sf = sf_enc_new(&to_gcm)) == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	b2_init(&h);
	if (seal_stream(in_fd, &h, sf, e) < 0 || sf_enc_finish(sf, e) < 0 ||
	    gcm_enc_finish(gcm, e) < 0 || fd_writer_flush(&w, e) < 0)
		goto done;
	b2_final(&h, out->checksum);
	out->len = w.total;
	rc = 0;
done:
	sf_enc_free(sf);
	gcm_enc_free(gcm);
	fd_writer_free(&w);
fail:
	if (rc < 0)
		sealed_close(out);
	return rc;
}
