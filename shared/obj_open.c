/* Retrieve, last pass: the data shards, less their padding, are decrypted,
 * unframed and hashed into the output; the hash and the write of each block run
 * in the background while the next block is decrypted. The output is only
 * trusted by the caller once this returns 0 (tag and file checksum
 * verified). */
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "blake2b.h"
#include "hex.h"
#include "hwriter.h"
#include "obj.h"
#include "opener.h"
#include "scratch.h"
#include "snappy_frame.h"

#define OPEN_BLOCK (1024 * 1024)

static int
sf_sink_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return sf_dec_write(ctx, buf, len, e);
}

/* Length of the sealed stream: all data shards less the padding. */
static int
sealed_length(const struct fetched *f, uint64_t *elen, struct err *e)
{
	uint64_t total = (uint64_t)f->data * f->shard_len;
	uint8_t pad;

	if (f->shard_len == 0)
		return err_set(e, "object has empty shards");
	if (pread_full(f->fd, &pad, 1,
	    (off_t)(fetched_at(f, f->data - 1) + f->shard_len - 1), e) < 0)
		return -1;
	if (pad < 1 || pad > f->data || pad > total)
		return err_set(e,
		    "object padding is invalid (last byte %u for %u data "
		    "shards)", pad, f->data);
	*elen = total - pad;
	return 0;
}

static int
feed_shards(const struct fetched *f, uint64_t elen, struct opener *o,
    struct err *e)
{
	uint8_t *block = malloc(OPEN_BLOCK);
	uint64_t done = 0, off;
	unsigned i;
	int rc = 0;

	if (block == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < f->data && done < elen && rc == 0; i++) {
		for (off = 0; off < f->shard_len && done < elen; ) {
			size_t len = OPEN_BLOCK;

			if (f->shard_len - off < len)
				len = (size_t)(f->shard_len - off);
			if (elen - done < len)
				len = (size_t)(elen - done);
			if (pread_full(f->fd, block, len,
			    (off_t)(fetched_at(f, i) + off), e) < 0 ||
			    opener_write(o, block, len, e) < 0) {
				rc = -1;
				break;
			}
			off += len, done += len;
		}
	}
	free(block);
	return rc;
}

int
opener_init(struct opener *o, const uint8_t key[32], int out_fd,
    struct err *e)
{
	memset(o, 0, sizeof(*o));
	b2_init(&o->hash);
	hwriter_init(&o->w, out_fd, 0, &o->hash);
	/* a retrieved file is fsynced before it counts (by zstor, or by the
	 * encoder for upstream's clients) */
	hwriter_writeback(&o->w);
	o->to_plain = hwriter_sink(&o->w);
	if ((o->sf = sf_dec_new(&o->to_plain, e)) == NULL)
		return -1;
	o->to_sf.write = sf_sink_write;
	o->to_sf.ctx = o->sf;
	if ((o->gcm = gcm_dec_new(key, &o->to_sf, e)) == NULL)
		return -1;
	return 0;
}

/* Each block's plain bytes are hashed and written in the background while
 * the next is decrypted. */
int
opener_write(struct opener *o, const void *buf, size_t len, struct err *e)
{
	if (gcm_dec_write(o->gcm, buf, len, e) < 0)
		return -1;
	hwriter_cut(&o->w, NULL, NULL, 0);
	return 0;
}

int
opener_finish(struct opener *o, const uint8_t checksum[B2_LEN], struct err *e)
{
	char want[2 * B2_LEN + 1], got[2 * B2_LEN + 1];
	uint8_t sum[B2_LEN];

	if (gcm_dec_finish(o->gcm, e) < 0 || sf_dec_finish(o->sf, e) < 0 ||
	    hwriter_finish(&o->w, e) < 0) {
		if (o->w.failed)
			err_set(e, "the file being retrieved: %s; it needs "
			    "at least %llu bytes on the "
			    "filesystem of its directory: free space there",
			    o->w.err.msg, (unsigned long long)o->w.total);
		return -1;
	}
	b2_final(&o->hash, sum);
	if (memcmp(sum, checksum, B2_LEN) != 0) {
		hex_encode(want, checksum, B2_LEN);
		hex_encode(got, sum, B2_LEN);
		return err_set(e, "file checksum mismatch after decoding "
		    "(expected %s, got %s)", want, got);
	}
	return 0;
}

void
opener_free(struct opener *o)
{
	/* waits for the background before anything is freed */
	hwriter_free(&o->w);
	gcm_dec_free(o->gcm);
	sf_dec_free(o->sf);
}

int
obj_open(const struct fetched *f, const uint8_t key[32],
    const uint8_t checksum[B2_LEN], int out_fd, struct err *e)
{
	struct opener o;
	uint64_t elen = 0;
	int rc = -1;

	if (sealed_length(f, &elen, e) < 0)
		return -1;
	if (opener_init(&o, key, out_fd, e) == 0 &&
	    feed_shards(f, elen, &o, e) == 0 &&
	    opener_finish(&o, checksum, e) == 0)
		rc = 0;
	opener_free(&o);
	return rc;
}
