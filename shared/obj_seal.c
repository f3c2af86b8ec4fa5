/* Store pass 1: one read of the file feeds the checksum and the compressor,
 * whose frames are encrypted into the scratch file. Per 1 MiB block the
 * background thread hashes the block and writes the sealed bytes before it,
 * while this thread compresses and encrypts; input blocks go round HW_RING
 * buffers, as many as the hash may fall behind by, so a read never overwrites
 * a block still being hashed. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aesgcm.h"
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

static int
seal_stream(int in_fd, struct b2 *hash, struct sf_enc *sf, struct hwriter *w,
    struct err *e)
{
	uint8_t *block[HW_RING] = { NULL };
	struct err ignored;
	ssize_t n;
	int rc = 0, cur = 0, i;

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
		if (sf_enc_write(sf, block[cur], (size_t)n, e) < 0) {
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
