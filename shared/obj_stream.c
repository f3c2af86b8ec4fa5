/* Retrieve without a scratch file, when every data shard reads back whole.
 * The data shards are fetched in order, a batch of pieces at a time: while a
 * helper fetches the next batch, this thread decrypts and unframes this one
 * into the output, whose hash and write run on another (opener.h). Each byte
 * is written once, to the output. The output counts only once the GCM tag and
 * the file checksum matched; on any failure obj_retrieve reads the object
 * again the slow way, through parity, which also names what is wrong.
 *
 * The shards' own checksums are not computed here: every byte of the data
 * shards is checked without them. The GCM tag covers the whole sealed stream,
 * nonce included, so a byte there that differs from what the store wrote
 * fails the tag (short of forging it without the key), and the padding after
 * it must be what a store writes (stream_end). A whole stream sealed for
 * another object under the same key passes the tag but not the file
 * checksum, unless its file is this one byte for byte. The slow path, which
 * does check each shard, is what tells which one is bad. Hashing the shards
 * here too was half of a random retrieve's BLAKE2b. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"
#include "blake2b.h"
#include "log.h"
#include "obj.h"
#include "opener.h"

/* A fetch asks for up to STREAM_BYTES of pieces: two full ones at first.
 * The first piece is the longest of all (a shard's pieces are full but its
 * last, and the shards are of one length), so when it is shorter, the object
 * has at most one piece per shard, and the next fetches ask for as many as
 * fit, up to STREAM_PIECES_MAX: a 4 KiB object over 10 data shards takes two
 * round trips to the servers instead of five. */
#define STREAM_BYTES		(2 * OBJ_STRIPE)
#define STREAM_PIECES_MAX	16

struct batch {
	struct bop	 ops[STREAM_PIECES_MAX];
	uint8_t		 kb[STREAM_PIECES_MAX][8];
	unsigned	 shard[STREAM_PIECES_MAX];
	size_t		 n;
	int		 timeout;
	struct stream	*s;
};

struct stream {
	const struct shard_info	*si[RS_MAX_SHARDS];	/* data shards */
	struct backend	*b[RS_MAX_SHARDS];
	unsigned	 data;
	unsigned	 cur;		/* next piece to fetch: shard, key */
	size_t		 next;
	size_t		 first_len;	/* of the first piece; 0 before */
	uint64_t	 len[RS_MAX_SHARDS];
	/* The last `data` bytes seen: the padding is among them. */
	uint8_t		 held[RS_MAX_SHARDS];
	size_t		 nheld;
	uint64_t	 total;
	struct opener	 op;
};

static void
batch_free(struct batch *bt)
{
	size_t k;

	for (k = 0; k < bt->n; k++)
		free(bt->ops[k].out);
	bt->n = 0;
}

static size_t
batch_bytes(const struct batch *bt)
{
	size_t k, n = 0;

	for (k = 0; k < bt->n; k++)
		n += bt->ops[k].outlen;
	return n;
}

/* The next pieces in the order of the sealed stream. */
static void
batch_plan(struct stream *s, struct batch *bt)
{
	const struct shard_info *si;
	size_t max = STREAM_BYTES / OBJ_STRIPE;

	if (s->first_len > 0 && s->first_len < OBJ_STRIPE)
		max = STREAM_BYTES / s->first_len;
	if (max > STREAM_PIECES_MAX)
		max = STREAM_PIECES_MAX;
	memset(bt->ops, 0, sizeof(bt->ops));
	bt->n = 0;
	while (bt->n < max && s->cur < s->data) {
		si = s->si[s->cur];
		if (s->next >= si->nkeys) {
			s->cur++, s->next = 0;
			continue;
		}
		bt->ops[bt->n].b = s->b[s->cur];
		bt->ops[bt->n].kind = BOP_GET;
		bt->ops[bt->n].key = bt->kb[bt->n];
		bt->ops[bt->n].keylen = shard_key_bytes(&si->keys[s->next++],
		    bt->kb[bt->n]);
		bt->shard[bt->n++] = s->cur;
	}
}

static void
batch_fetch(void *arg)
{
	struct batch *bt = arg;

	backend_run(bt->ops, bt->n, bt->timeout);
}

static int
batch_check(const struct batch *bt, struct err *e)
{
	size_t k;

	for (k = 0; k < bt->n; k++) {
		if (bt->ops[k].rc < 0) {
			*e = bt->ops[k].err;
			return -1;
		}
		if (bt->ops[k].rc > 0)
			return err_set(e, "%s: a piece of shard %u is missing",
			    backend_name(bt->ops[k].b), bt->shard[k]);
	}
	return 0;
}

/* Passes on all but the last `data` bytes seen, which may be padding. */
static int
stream_feed(struct stream *s, const uint8_t *p, size_t n, struct err *e)
{
	size_t keep = s->data, all = s->nheld + n, out, from_held, from_p;

	s->total += n;
	if (all <= keep) {
		memcpy(s->held + s->nheld, p, n);
		s->nheld = all;
		return 0;
	}
	out = all - keep;
	from_held = out < s->nheld ? out : s->nheld;
	if (from_held > 0 && opener_write(&s->op, s->held, from_held, e) < 0)
		return -1;
	memmove(s->held, s->held + from_held, s->nheld - from_held);
	s->nheld -= from_held;
	from_p = out - from_held;
	if (from_p > 0 && opener_write(&s->op, p, from_p, e) < 0)
		return -1;
	memcpy(s->held + s->nheld, p + from_p, n - from_p);
	s->nheld += n - from_p;
	return 0;
}

static int
batch_decode(struct stream *s, const struct batch *bt, struct err *e)
{
	size_t k;

	for (k = 0; k < bt->n; k++) {
		s->len[bt->shard[k]] += bt->ops[k].outlen;
		if (stream_feed(s, bt->ops[k].out, bt->ops[k].outlen, e) < 0)
			return -1;
	}
	return 0;
}

/* Every batch: fetch the next, decode this one. */
static int
stream_pieces(struct stream *s, struct pool *pool, struct err *e)
{
	struct batch bt[2];
	struct bg fetcher;
	int k = 0, rc = 0;

	memset(bt, 0, sizeof(bt));
	bt[0].s = bt[1].s = s;
	bt[0].timeout = bt[1].timeout = pool->timeout_ms;
	bg_start(&fetcher);
	batch_plan(s, &bt[0]);
	batch_fetch(&bt[0]);
	while (bt[k].n > 0 && rc == 0) {
		if ((rc = batch_check(&bt[k], e)) < 0)
			break;
		if (s->first_len == 0)
			s->first_len = bt[k].ops[0].outlen;
		obj_progress_add(pool->progress, bt[k].n, 0);
		batch_plan(s, &bt[k ^ 1]);
		/* the next batch is about as large as this one */
		if (bt[k ^ 1].n > 0)
			bg_post(&fetcher, batch_fetch, &bt[k ^ 1],
			    batch_bytes(&bt[k]));
		rc = batch_decode(s, &bt[k], e);
		bg_wait(&fetcher);
		batch_free(&bt[k]);
		k ^= 1;
	}
	bg_stop(&fetcher);
	batch_free(&bt[0]);
	batch_free(&bt[1]);
	return rc;
}

/* The data shards all read back, and all of one length, as a store writes
 * them. */
static int
stream_lengths(const struct stream *s, struct err *e)
{
	unsigned i;

	for (i = 0; i < s->data; i++) {
		if (s->len[i] == 0 || s->len[i] != s->len[0])
			return err_set(e, "%s: shard %u is %llu bytes, shard "
			    "0 %llu", backend_name(s->b[i]), i,
			    (unsigned long long)s->len[i],
			    (unsigned long long)s->len[0]);
	}
	return 0;
}

/* The sealed stream's end: the held bytes less the padding, each byte of
 * which holds its length (obj_open reads only the last one: the shard
 * checksums cover the rest there). */
static int
stream_end(struct stream *s, const uint8_t checksum[B2_LEN], struct err *e)
{
	uint8_t pad;
	size_t i;

	if (stream_lengths(s, e) < 0)
		return -1;
	pad = s->held[s->nheld - 1];
	if (pad < 1 || pad > s->data || pad > s->total)
		return err_set(e, "object padding is invalid (last byte %u "
		    "for %u data shards)", pad, s->data);
	for (i = s->nheld - pad; i < s->nheld; i++)
		if (s->held[i] != pad)
			return err_set(e, "object padding is invalid (byte %u "
			    "of %u is %u)", (unsigned)(i - (s->nheld - pad)),
			    pad, s->held[i]);
	if (opener_write(&s->op, s->held, s->nheld - pad, e) < 0)
		return -1;
	return opener_finish(&s->op, checksum, e);
}

/* The pieces of the data shards: what the stream fetches. */
static uint64_t
stream_planned(const struct stream *s)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < s->data; i++)
		n += s->si[i]->nkeys;
	return n;
}

/* The data shards of m and their backends, or -1 when one is not listed or
 * cannot be reached. */
static int
stream_init(struct stream *s, struct pool *pool, const struct metadata *m,
    struct err *e)
{
	const struct backend_ci *cis[RS_MAX_SHARDS];
	size_t i;

	memset(s, 0, sizeof(*s));
	if (m->data_shards < 1 || m->disposable_shards < 1 ||
	    m->data_shards + m->disposable_shards > RS_MAX_SHARDS)
		return err_set(e, "invalid shard counts");
	s->data = (unsigned)m->data_shards;
	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].idx < s->data &&
		    s->si[m->shards[i].idx] == NULL)
			s->si[m->shards[i].idx] = &m->shards[i];
	for (i = 0; i < s->data; i++) {
		if (s->si[i] == NULL)
			return err_set(e, "shard %zu is not listed", i);
		cis[i] = &s->si[i]->ci;
	}
	pool_open_all(pool, cis, s->data, NS_SEQUENTIAL);
	for (i = 0; i < s->data; i++)
		if ((s->b[i] = pool_get(pool, cis[i], NS_SEQUENTIAL,
		    e)) == NULL)
			return -1;
	return 0;
}

int
obj_stream(struct pool *pool, const struct metadata *m, int out_fd,
    struct err *e)
{
	struct stream *s = malloc(sizeof(*s));
	uint8_t good[RS_MAX_SHARDS];
	int rc = -1;

	if (s == NULL)
		return err_set(e, "out of memory");
	if (stream_init(s, pool, m, e) == 0) {
		obj_progress_pass(pool->progress, stream_planned(s));
		if (opener_init(&s->op, m->key, out_fd, e) == 0 &&
		    stream_pieces(s, pool, e) == 0 &&
		    stream_end(s, m->checksum, e) == 0)
			rc = 0;
		opener_free(&s->op);
	}
	if (rc == 0) {
		memset(good, 0, sizeof(good));
		memset(good, 1, s->data);
		obj_log_read(good, s->data, (unsigned)m->disposable_shards);
	}
	free(s);
	return rc;
}

int
obj_retrieve(struct pool *pool, const struct metadata *m, int scratch_fd,
    int out_fd, struct err *e)
{
	struct fetched f;
	struct err why;
	int rc;

	if (obj_stream(pool, m, out_fd, &why) == 0)
		return 0;
	log_info("%s: reading the object again through its parity", why.msg);
	obj_progress_pass(pool->progress, 0);	/* round_run plans it */
	if (ftruncate(out_fd, 0) == -1 || lseek(out_fd, 0, SEEK_SET) == -1)
		return err_set(e, "cannot reset the output file: %s",
		    strerror(errno));
	if (obj_fetch(pool, m, 0, scratch_fd, &f, e) < 0)
		return -1;
	rc = obj_open(&f, m->key, m->checksum, out_fd, e);
	fetched_close(&f);
	return rc;
}
