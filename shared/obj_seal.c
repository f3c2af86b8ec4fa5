/* Store pass 1: one read of the file feeds the checksum and the compressor,
 * whose frames are encrypted into the scratch file. Per 1 MiB block, a
 * background thread hashes it and another writes the sealed bytes before it,
 * while this thread and a helper compress the next block's chunks and this
 * thread encrypts them. Input blocks go round HW_RING buffers, as many as the
 * hash may fall behind by, so a read never overwrites a block still being
 * hashed. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aesgcm.h"
#include "bg.h"
#include "blake2b.h"
#include "hwriter.h"
#include "obj.h"
#include "scratch.h"
#include "snappy_frame.h"

#define SEAL_READ_BLOCK (1024 * 1024)

void
sealed_close(struct sealed *s)
{
	if (s->fd >= 0 && s->owned)
		close(s->fd);
	s->fd = -1;
	free(s->mem);
	s->mem = NULL;
}

static int
gcm_sink_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return gcm_enc_write(ctx, buf, len, e);
}

/* A full block's chunks, framed by this thread and a helper at once: each
 * takes the next chunk not taken until none is left, so a helper that wakes
 * late (on two cores Linux often wakes it on this thread's core, behind it)
 * takes fewer, and this thread never waits for one that has not begun. */
#define SEAL_CHUNKS	(SEAL_READ_BLOCK / SF_CHUNK_MAX)

struct seal_share {
	const struct sf_enc *sf;
	const uint8_t	*in;
	uint8_t		*frames;	/* SEAL_CHUNKS x SF_FRAME_MAX */
	size_t		 flen[SEAL_CHUNKS];
	unsigned	 next, done;	/* chunks taken, framed */
	int		 failed;
	struct err	 err;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint64_t	 ticket;	/* of the helper's task */
	unsigned	 alone;		/* blocks to frame alone */
};

/* Incompressible chunks cost snappy little, and sharing them costs a copy
 * each and the helper's core, which the hash needs: after a shared block
 * none of whose chunks compressed, this many are framed alone. */
#define SEAL_ALONE_AFTER_STORED	8

/* Frames chunks until none is left to take; by either thread. */
static void
seal_share_run(void *arg)
{
	struct seal_share *sh = arg;
	struct err e;
	unsigned i;
	int rc;

	for (;;) {
		pthread_mutex_lock(&sh->mu);
		i = sh->next < SEAL_CHUNKS ? sh->next++ : SEAL_CHUNKS;
		pthread_mutex_unlock(&sh->mu);
		if (i == SEAL_CHUNKS)
			return;
		rc = sf_frame_chunks(sh->sf, sh->in + (size_t)i * SF_CHUNK_MAX,
		    SF_CHUNK_MAX, sh->frames + (size_t)i * SF_FRAME_MAX,
		    &sh->flen[i], &e);
		pthread_mutex_lock(&sh->mu);
		if (rc < 0 && !sh->failed)
			sh->failed = 1, sh->err = e;
		if (++sh->done == SEAL_CHUNKS)
			pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
}

static int
seal_block(struct sf_enc *sf, struct bg *bg, struct seal_share *sh,
    const uint8_t *block, size_t n, struct err *e)
{
	unsigned i;

	if (n < SEAL_READ_BLOCK || sh->frames == NULL || sh->alone > 0) {
		sh->alone -= sh->alone > 0;
		return sf_enc_write(sf, block, n, e);
	}
	/* the helper's last task may still be looking for a chunk */
	bg_wait_for(bg, sh->ticket);
	sh->sf = sf;
	sh->in = block;
	sh->next = sh->done = 0;
	sh->failed = 0;
	sh->ticket = bg_post(bg, seal_share_run, sh, SEAL_READ_BLOCK / 2);
	seal_share_run(sh);
	pthread_mutex_lock(&sh->mu);
	while (sh->done < SEAL_CHUNKS)
		pthread_cond_wait(&sh->cv, &sh->mu);
	pthread_mutex_unlock(&sh->mu);
	if (sh->failed) {
		*e = sh->err;
		return -1;
	}
	sh->alone = SEAL_ALONE_AFTER_STORED;
	for (i = 0; i < SEAL_CHUNKS; i++) {
		if (sh->flen[i] < SF_CHUNK_MAX)
			sh->alone = 0;	/* it compressed */
		if (sf_enc_put_frames(sf, sh->frames + (size_t)i * SF_FRAME_MAX,
		    sh->flen[i], e) < 0)
			return -1;
	}
	return 0;
}

static int
seal_stream(int in_fd, struct b2 *hash, struct sf_enc *sf, struct hwriter *w,
    struct err *e)
{
	uint8_t *block[HW_RING] = { NULL };
	struct seal_share share = { .frames = NULL };
	struct err ignored;
	struct bg bg;
	ssize_t n;
	int rc = 0, cur = 0, i;

	pthread_mutex_init(&share.mu, NULL);
	pthread_cond_init(&share.cv, NULL);
	bg_start(&bg);
	(void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		/* a small file needs one block, a large one all of them */
		if (block[cur] == NULL &&
		    (block[cur] = malloc(SEAL_READ_BLOCK)) == NULL) {
			rc = err_set(e, "out of memory");
			break;
		}
		if ((n = read_full(in_fd, block[cur], SEAL_READ_BLOCK)) <= 0) {
			if (n < 0)
				rc = err_set(e, "read failed: %s",
				    strerror(errno));
			break;
		}
		/* without their buffer, full blocks are framed here alone */
		if (n == SEAL_READ_BLOCK && share.frames == NULL)
			share.frames = malloc(SEAL_CHUNKS * SF_FRAME_MAX);
		if (seal_block(sf, &bg, &share, block[cur], (size_t)n, e) < 0) {
			rc = -1;
			break;
		}
		hwriter_cut(w, hash, block[cur], (size_t)n);
		if ((size_t)n < SEAL_READ_BLOCK)
			break;
		cur = (cur + 1) % HW_RING;
	}
	/* The last blocks may still be hashed in the background: wait before
	 * freeing them (keeping the first error). */
	if (hwriter_finish(w, rc < 0 ? &ignored : e) < 0)
		rc = -1;
	bg_stop(&bg);
	pthread_mutex_destroy(&share.mu);
	pthread_cond_destroy(&share.cv);
	free(share.frames);
	for (i = 0; i < HW_RING; i++)
		free(block[i]);
	return rc;
}

/* About what sealing in_fd takes: the file, if it does not compress. */
static uint64_t
sealed_guess(int in_fd)
{
	struct stat st;

	if (fstat(in_fd, &st) == -1 || st.st_size < 0)
		return 0;
	return (uint64_t)st.st_size + (uint64_t)st.st_size / 64 + 65536;
}

int
obj_seal(int in_fd, int scratch_fd, const uint8_t key[32], struct sealed *out,
    struct err *e)
{
	struct hwriter w;
	struct sink to_out, to_gcm;
	struct gcm_enc *gcm = NULL;
	struct sf_enc *sf = NULL;
	struct b2 hash;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->fd = scratch_fd;
	if (scratch_fd >= 0 && ftruncate(scratch_fd, 0) < 0)
		return err_set(e, "cannot reset the scratch file: %s",
		    strerror(errno));
	b2_init(&hash);
	/* without a scratch file, one is opened only if the stream outgrows
	 * memory */
	hwriter_init(&w, scratch_fd, 0, NULL);
	hwriter_keep(&w, OBJ_SEAL_MEM_MAX);
	to_out = hwriter_sink(&w);
	if ((gcm = gcm_enc_new(key, NULL, &to_out, e)) == NULL)
		goto done;
	to_gcm.write = gcm_sink_write;
	to_gcm.ctx = gcm;
	if ((sf = sf_enc_new(&to_gcm, e)) == NULL)
		goto done;
	/* The tail (last frames and the tag) goes out with the final flush. */
	if (seal_stream(in_fd, &hash, sf, &w, e) < 0 ||
	    sf_enc_finish(sf, e) < 0 || gcm_enc_finish(gcm, e) < 0 ||
	    hwriter_finish(&w, e) < 0) {
		if (w.failed)
			scratch_full(e, w.err.msg, sealed_guess(in_fd),
			    "a store of this file");
		goto done;
	}
	b2_final(&hash, out->checksum);
	out->len = w.total;
	out->mem = hwriter_mem(&w);
	rc = 0;
done:
	if (w.opened) {
		out->fd = w.fd;
		out->owned = 1;
	}
	sf_enc_free(sf);
	gcm_enc_free(gcm);
	hwriter_free(&w);
	if (rc < 0)
		sealed_close(out);
	return rc;
}
