/* Whole objects (objects.json) through the engine: the vector's shards are put
 * on directory backends with metadata naming them, and obj_fetch and obj_open
 * bring the file back under every pattern of lost shards up to the parity
 * count, and refuse one more. A wrong file checksum in the metadata fails
 * the retrieve; a shard of the wrong length is not used. The pieces count a
 * progress display reads goes only forward, and to the end when the file
 * comes back. The other way, encoding `compressed` gives the exact shards. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aesgcm.h"
#include "backend.h"
#include "blake2b.h"
#include "log.h"
#include "obj.h"
#include "pool.h"
#include "rs.h"
#include "scratch.h"
#include "snappy_frame.h"
#include "t.h"

int main(void);

struct vec {
	uint8_t	 key[GCM_KEY_LEN];
	uint8_t	 nonce[GCM_NONCE_LEN];
	unsigned k, p;
};

struct object {
	const char	*name;
	uint8_t		*file, *checksum, *compressed, *sealed;
	size_t		 file_len, compressed_len, sealed_len, shard_len;
	uint8_t		*shards[RS_MAX_SHARDS], *shard_sums[RS_MAX_SHARDS];
	unsigned	 nshards, nsums;
	struct shard_key keys[RS_MAX_SHARDS];	/* where put_shards left each */
	struct shard_key bad[RS_MAX_SHARDS];	/* and a copy with a byte off */
};

/* How a lost shard is lost: every way the engine meets one. */
enum loss { LOSS_BACKEND, LOSS_KEY, LOSS_CORRUPT, LOSS_UNLISTED, LOSSES };

static struct pool pool;

static void
unhex_fixed(uint8_t *out, size_t want, const char *hex, const char *what)
{
	size_t len;
	uint8_t *b = t_unhex(hex, &len);

	T_CHECK(len == want, "%s has %zu bytes, want %zu", what, len, want);
	memcpy(out, b, len < want ? len : want);
	free(b);
}

static void
object_load(struct object *o, const cJSON *j)
{
	const cJSON *x;
	size_t len;

	memset(o, 0, sizeof(*o));
	o->name = t_jstr(j, "name");
	o->file = t_unhex(t_jstr(j, "file"), &o->file_len);
	o->checksum = t_unhex(t_jstr(j, "file_checksum"), &len);
	o->compressed = t_unhex(t_jstr(j, "compressed"), &o->compressed_len);
	o->sealed = t_unhex(t_jstr(j, "sealed"), &o->sealed_len);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "shards"))
		if (o->nshards < RS_MAX_SHARDS)
			o->shards[o->nshards++] = t_unhex(x->valuestring,
			    &o->shard_len);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j,
	    "shard_checksums"))
		if (o->nsums < RS_MAX_SHARDS)
			o->shard_sums[o->nsums++] = t_unhex(x->valuestring,
			    &len);
}

static void
object_free(struct object *o)
{
	unsigned i;

	free(o->file);
	free(o->checksum);
	free(o->compressed);
	free(o->sealed);
	for (i = 0; i < o->nshards; i++)
		free(o->shards[i]);
	for (i = 0; i < o->nsums; i++)
		free(o->shard_sums[i]);
}

/* ---- the shards on backends, the metadata that names them ---- */

static void
shard_ci(struct backend_ci *ci, unsigned i)
{
	char name[16];

	snprintf(name, sizeof(name), "b%u", i);
	t_dir_ci(ci, name, "data");
}

/* A backend whose directory does not exist: a dead one. */
static void
gone_ci(struct backend_ci *ci)
{
	char addr[ADDR_PATH_MAX + 8];
	struct err e;

	memset(ci, 0, sizeof(*ci));
	snprintf(addr, sizeof(addr), "dir:%s/gone", t_tmpdir());
	if (zaddr_parse(addr, &ci->addr, &e) == -1 ||
	    (ci->ns = strdup("data")) == NULL)
		abort();
}

/* SETs one value on data backend i; its key goes to *k. */
static int
put_value(unsigned i, const uint8_t *val, size_t len, struct shard_key *k)
{
	struct backend_ci ci;
	struct bop op = { .kind = BOP_SEQ_SET, .val = val, .vallen = len };
	struct err e;

	shard_ci(&ci, i);
	op.b = pool_get(&pool, &ci, NS_SEQUENTIAL, &e);
	ci_free(&ci);
	if (op.b == NULL) {
		T_CHECK(0, "backend b%u: %s", i, e.msg);
		return -1;
	}
	backend_run(&op, 1, pool.timeout_ms);
	T_CHECK(op.rc == 0, "SET on b%u: %s", i, op.err.msg);
	*k = op.newkey;
	return op.rc == 0 ? 0 : -1;
}

/* Each shard, and a copy of it with its middle byte changed: what a disk
 * that corrupts data hands back. */
static int
put_shards(struct object *o)
{
	size_t mid = o->shard_len / 2;
	unsigned i;
	int rc;

	for (i = 0; i < o->nshards; i++) {
		if (put_value(i, o->shards[i], o->shard_len, &o->keys[i]) < 0)
			return -1;
		o->shards[i][mid] ^= 0x01;
		rc = put_value(i, o->shards[i], o->shard_len, &o->bad[i]);
		o->shards[i][mid] ^= 0x01;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The metadata of o as stored, with the shards in lost (a bit mask) lost, shard
 * i the way (i + turn) % LOSSES says. */
static void
meta_build(const struct vec *v, const struct object *o, unsigned lost,
    unsigned turn, struct metadata *m)
{
	struct shard_info *si;
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->data_shards = v->k;
	m->disposable_shards = v->p;
	memcpy(m->checksum, o->checksum, B2_LEN);
	memcpy(m->key, v->key, sizeof(m->key));
	if ((m->shards = calloc(o->nshards, sizeof(*m->shards))) == NULL)
		abort();
	for (i = 0; i < o->nshards; i++) {
		enum loss how = (enum loss)((i + turn) % LOSSES);

		if ((lost >> i & 1) && how == LOSS_UNLISTED)
			continue;
		si = &m->shards[m->nshards++];
		si->idx = i;
		memcpy(si->checksum, o->shard_sums[i], B2_LEN);
		if ((si->keys = malloc(sizeof(*si->keys))) == NULL)
			abort();
		si->keys[0] = o->keys[i];
		si->nkeys = 1;
		if ((lost >> i & 1) && how == LOSS_BACKEND)
			gone_ci(&si->ci);
		else
			shard_ci(&si->ci, i);
		if ((lost >> i & 1) && how == LOSS_KEY)
			si->keys[0].id += 1000000;
		if ((lost >> i & 1) && how == LOSS_CORRUPT)
			si->keys[0] = o->bad[i];
	}
}

/* What a retrieve does: fetch (data shards first), then open into a file; the
 * file's bytes come back in out. f is closed on failure. */
static int
engine_retrieve(const struct metadata *m, const uint8_t key[32],
    struct fetched *f, struct t_buf *out, struct err *e)
{
	uint8_t buf[65536];
	ssize_t n;
	off_t off = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if (obj_fetch(&pool, m, 0, -1, f, e) < 0)
		return -1;
	if ((fd = scratch_open(e)) < 0) {
		fetched_close(f);
		return -1;
	}
	rc = obj_open(f, key, m->checksum, fd, e);
	while (rc == 0 && (n = pread(fd, buf, sizeof(buf), off)) > 0) {
		t_buf_write(out, buf, (size_t)n, e);
		off += n;
	}
	close(fd);
	if (rc < 0)
		fetched_close(f);
	return rc;
}

/* The fractions a retrieve's pieces count showed, in order. */
struct seen {
	double	 last;
	int	 calls, backwards, over;
};

static void
seen_fraction(void *arg, uint64_t done, uint64_t total)
{
	struct seen *s = arg;
	double f = total > 0 ? (double)done / (double)total : 2;

	s->backwards += f < s->last;
	s->over += f > 1;
	s->last = f;
	s->calls++;
}

/* The retrieve the commands run: obj_retrieve, straight from the data
 * shards, or again through parity when that fails; with the pieces count a
 * progress display reads. */
static int
whole_retrieve(const struct metadata *m, struct t_buf *out, struct seen *seen,
    struct err *e)
{
	struct obj_progress pg;
	uint8_t buf[65536];
	ssize_t n;
	off_t off = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(*seen));
	if ((fd = scratch_open(e)) < 0)
		return -1;
	obj_progress_init(&pg, seen_fraction, seen);
	pool.progress = &pg;
	rc = obj_retrieve(&pool, m, -1, fd, e);
	pool.progress = NULL;
	obj_progress_free(&pg);
	while (rc == 0 && (n = pread(fd, buf, sizeof(buf), off)) > 0) {
		t_buf_write(out, buf, (size_t)n, e);
		off += n;
	}
	close(fd);
	return rc;
}

static void
pattern_name(unsigned lost, unsigned n, char *out, size_t len)
{
	unsigned i;

	snprintf(out, len, "%s", lost ? "" : "none");
	for (i = 0; i < n; i++)
		if (lost >> i & 1)
			snprintf(out + strlen(out), len - strlen(out), "%u ",
			    i);
}

/* Lost data shards are rebuilt, nothing else is; with every data shard there,
 * no parity shard is read. */
static void
check_fetched(const struct object *o, const struct fetched *f, unsigned k,
    unsigned lost, const char *pattern)
{
	unsigned i, read_parity = 0, wrong = 0;

	for (i = 0; i < o->nshards; i++) {
		if (i >= k)
			read_parity += f->good[i] && !f->rebuilt[i];
		else if (f->rebuilt[i] != (lost >> i & 1))
			wrong++;
	}
	T_CHECK(wrong == 0, "%s (lost %s): %u data shards rebuilt or not as "
	    "they should be", o->name, pattern, wrong);
	if ((lost & ((1u << k) - 1)) == 0)
		T_CHECK(read_parity == 0, "%s (lost %s): %u parity shards "
		    "read with every data shard healthy", o->name, pattern,
		    read_parity);
}

static void
check_pattern(const struct vec *v, const struct object *o, unsigned lost,
    unsigned turn)
{
	unsigned bits = (unsigned)__builtin_popcount(lost);
	struct metadata m;
	struct fetched f;
	struct t_buf out;
	struct seen seen;
	struct err e = { "" };
	char pattern[64];
	int rc;

	pattern_name(lost, o->nshards, pattern, sizeof(pattern));
	meta_build(v, o, lost, turn, &m);
	rc = engine_retrieve(&m, v->key, &f, &out, &e);
	if (bits <= v->p) {
		T_CHECK(rc == 0, "%s (lost %s): %s", o->name, pattern, e.msg);
		T_CHECK(rc != 0 || t_same(out.p, out.len, o->file, o->file_len),
		    "%s (lost %s): the file differs", o->name, pattern);
		if (rc == 0)
			check_fetched(o, &f, v->k, lost, pattern);
	} else
		T_CHECK(rc == -1 &&
		    strstr(e.msg, "shards needed could be read"),
		    "%s (lost %s): expected too few shards, got %d: %s",
		    o->name, pattern, rc, e.msg);
	fetched_close(&f);
	free(out.p);
	rc = whole_retrieve(&m, &out, &seen, &e);
	T_CHECK(seen.backwards == 0 && seen.over == 0, "%s (lost %s): the "
	    "pieces count went back %d times, past the end %d times", o->name,
	    pattern, seen.backwards, seen.over);
	if (bits <= v->p) {
		T_CHECK(rc == 0 && t_same(out.p, out.len, o->file, o->file_len),
		    "%s (lost %s): obj_retrieve: %s", o->name, pattern, e.msg);
		T_CHECK(seen.calls > 0 && seen.last == 1, "%s (lost %s): the "
		    "pieces count ended at %.0f%% (%d updates)", o->name,
		    pattern, seen.last * 100, seen.calls);
	} else
		T_CHECK(rc == -1 &&
		    strstr(e.msg, "shards needed could be read"),
		    "%s (lost %s): obj_retrieve: expected too few shards, got "
		    "%d: %s", o->name, pattern, rc, e.msg);
	free(out.p);
	meta_free(&m);
}

/* Every pattern of up to `parity` lost shards comes back; every one of
 * parity + 1 fails cleanly. Each pattern is tried with two ways of losing
 * each shard. */
static void
check_erasures(const struct vec *v, struct object *o)
{
	unsigned n = v->k + v->p, lost, turn;
	int done = 0;

	T_CHECK(o->nshards == n && n < 16, "%s: %u shards", o->name,
	    o->nshards);
	if (o->nshards != n || n >= 16 || put_shards(o) < 0)
		return;
	for (lost = 0; lost < (1u << n); lost++) {
		if ((unsigned)__builtin_popcount(lost) > v->p + 1)
			continue;
		for (turn = 0; turn < LOSSES; turn += 2)
			check_pattern(v, o, lost, turn + lost % 2);
		done++;
	}
	printf("%s: %d erasure patterns through obj_fetch and obj_open\n",
	    o->name, done);
}

/* Whether msg holds one of the words in alts, which a '|' separates. */
static int
says_one_of(const char *msg, const char *alts)
{
	char buf[128], *word, *next = buf;

	strlcpy(buf, alts, sizeof(buf));
	while ((word = strsep(&next, "|")) != NULL)
		if (strstr(msg, word) != NULL)
			return 1;
	return 0;
}

/* obj_stream alone: the healthy object straight into the output, and a
 * corrupt, a missing and a dead data shard refused (obj_retrieve then reads
 * parity). */
static void
check_stream(const struct vec *v, const struct object *o)
{
	/* a corrupt byte trips the unframing, the tag or the padding check,
	 * whichever meets it first */
	static const char *const why[LOSSES] = { "cannot open",
	    "missing", "AES-GCM|snappy frame|padding", "not listed" };
	struct metadata m;
	struct err e = { "" };
	off_t len;
	int fd, rc, how;

	for (how = -1; how < LOSSES; how++) {
		/* shard 1 is lost the way (1 + turn) % LOSSES says */
		meta_build(v, o, how < 0 ? 0 : 2,
		    (unsigned)(how < 0 ? 0 : (how + LOSSES - 1) % LOSSES), &m);
		if ((fd = scratch_open(&e)) < 0)
			return;
		rc = obj_stream(&pool, &m, fd, &e);
		len = lseek(fd, 0, SEEK_END);
		close(fd);
		if (how < 0)
			T_CHECK(rc == 0 && len == (off_t)o->file_len,
			    "%s: obj_stream of the healthy object: %s", o->name,
			    e.msg);
		else
			T_CHECK(rc == -1 && says_one_of(e.msg, why[how]),
			    "%s: obj_stream with data shard 1 lost (%d): %s",
			    o->name, how, e.msg);
		meta_free(&m);
		pool_free(&pool);	/* the dead backend's failure */
		pool_init(&pool, 10000);
	}
}

/* Good shards under metadata whose file checksum is not the file's: the output
 * must not be trusted. */
static void
check_wrong_checksum(const struct vec *v, const struct object *o)
{
	struct metadata m;
	struct fetched f;
	struct t_buf out;
	struct err e = { "" };
	int rc;

	meta_build(v, o, 0, 0, &m);
	m.checksum[B2_LEN - 1] ^= 0x80;
	rc = engine_retrieve(&m, v->key, &f, &out, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "file checksum mismatch"),
	    "%s: a wrong file checksum in the metadata gave %d: %s", o->name,
	    rc, e.msg);
	fetched_close(&f);
	free(out.p);
	meta_free(&m);
}

/* Data shard `which` replaced by a value one byte shorter (or longer) than the
 * others, whose checksum the metadata records: it is not used; parity stands
 * in for it. */
static void
check_wrong_length(const struct vec *v, const struct object *o, unsigned which,
    int longer)
{
	size_t len = longer ? o->shard_len + 1 : o->shard_len - 1;
	uint8_t *bad = calloc(1, len + 1);
	struct shard_key k;
	struct metadata m;
	struct fetched f;
	struct t_buf out;
	struct err e = { "" };
	int rc;

	if (bad == NULL)
		abort();
	memcpy(bad, o->shards[which], len < o->shard_len ? len : o->shard_len);
	if (put_value(which, bad, len, &k) < 0) {
		free(bad);
		return;
	}
	meta_build(v, o, 0, 0, &m);
	m.shards[which].keys[0] = k;
	b2_hash(bad, len, m.shards[which].checksum);
	rc = engine_retrieve(&m, v->key, &f, &out, &e);
	T_CHECK(rc == 0 && t_same(out.p, out.len, o->file, o->file_len),
	    "%s: shard %u of %zu bytes (others %zu): %s", o->name, which, len,
	    o->shard_len, rc ? e.msg : "the file differs");
	T_CHECK(rc != 0 || (f.rebuilt[which] && f.shard_len == o->shard_len),
	    "%s: shard %u of %zu bytes was used as a good shard", o->name,
	    which, len);
	fetched_close(&f);
	free(out.p);
	free(bad);
	meta_free(&m);
}

/* A padding byte other than the last one changed: the stream, which checks
 * the data shards by the tag and the padding and not by their checksums, must
 * refuse it; through parity the file comes back. 1 when o's padding is long
 * enough to try. */
static int
check_padding(const struct vec *v, const struct object *o)
{
	size_t at = o->sealed_len, pad = rs_pad_len(o->sealed_len, v->k);
	unsigned which = (unsigned)(at / o->shard_len);
	struct shard_key k;
	struct metadata m;
	struct t_buf out;
	struct seen seen;
	struct err e = { "" };
	int fd, rc;

	if (pad < 2)
		return 0;
	o->shards[which][at % o->shard_len] ^= 0x40;
	rc = put_value(which, o->shards[which], o->shard_len, &k);
	o->shards[which][at % o->shard_len] ^= 0x40;
	if (rc < 0)
		return 1;
	meta_build(v, o, 0, 0, &m);
	m.shards[which].keys[0] = k;
	if ((fd = scratch_open(&e)) < 0)
		return 1;
	rc = obj_stream(&pool, &m, fd, &e);
	close(fd);
	T_CHECK(rc == -1 && strstr(e.msg, "padding"),
	    "%s: obj_stream with the first of %zu padding bytes changed: %s",
	    o->name, pad, rc ? e.msg : "accepted");
	rc = whole_retrieve(&m, &out, &seen, &e);
	T_CHECK(rc == 0 && t_same(out.p, out.len, o->file, o->file_len),
	    "%s: obj_retrieve with a padding byte changed: %s", o->name,
	    rc ? e.msg : "the file differs");
	free(out.p);
	meta_free(&m);
	return 1;
}

/* From `compressed`: seal, pad, RS-encode must reproduce the stored object. */
static void
check_encode(const struct vec *v, const struct object *o)
{
	uint8_t *sealed, *mem, *ptr[RS_MAX_SHARDS], sum[B2_LEN], *framed, *back;
	size_t len, slen, pad, flen, blen;
	unsigned n = v->k + v->p, i;
	struct err e;
	struct rs *rs = rs_new(v->k, v->p, &e);

	T_CHECK(gcm_seal(v->key, v->nonce, o->compressed, o->compressed_len,
	    &sealed, &len, &e) == 0 &&
	    t_same(sealed, len, o->sealed, o->sealed_len),
	    "%s: sealed differs", o->name);
	slen = rs_shard_len(len, v->k);
	pad = rs_pad_len(len, v->k);
	mem = malloc(n * slen);
	memcpy(mem, sealed, len);
	memset(mem + len, (int)pad, pad);
	for (i = 0; i < n; i++)
		ptr[i] = mem + i * slen;
	rs_encode(rs, slen, ptr, ptr + v->k);
	T_CHECK(slen == o->shard_len && o->nshards == n && o->nsums == n,
	    "%s: shard length %zu, want %zu", o->name, slen, o->shard_len);
	for (i = 0; i < n && i < o->nshards && i < o->nsums; i++) {
		T_CHECK(memcmp(ptr[i], o->shards[i], slen) == 0,
		    "%s: shard %u differs", o->name, i);
		b2_hash(ptr[i], slen, sum);
		T_CHECK(memcmp(sum, o->shard_sums[i], B2_LEN) == 0,
		    "%s: shard %u checksum differs", o->name, i);
	}
	b2_hash(o->file, o->file_len, sum);
	T_CHECK(memcmp(sum, o->checksum, B2_LEN) == 0, "%s: file checksum",
	    o->name);
	T_CHECK(sf_compress(o->file, o->file_len, &framed, &flen, &e) == 0 &&
	    sf_decompress(framed, flen, &back, &blen, &e) == 0 &&
	    t_same(back, blen, o->file, o->file_len),
	    "%s: compressor round trip", o->name);
	free(framed);
	free(back);
	free(mem);
	free(sealed);
	rs_free(rs);
}

/* ---- the stream decoders chained, fed in uneven pieces ---- */

struct file_out {
	struct b2	 hash;
	struct t_buf	 buf;
};

static int
file_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct file_out *f = ctx;

	b2_update(&f->hash, buf, len);
	return t_buf_write(&f->buf, buf, len, e);
}

static int
unframe_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return sf_dec_write(ctx, buf, len, e);
}

/* obj_open feeds its decoders in blocks of 1 MiB; any cut must give the
 * file. */
static void
check_stream_decode(const struct vec *v, const struct object *o)
{
	struct file_out f = { .buf = { NULL, 0, 0 } };
	struct sink to_file = { file_write, &f };
	struct sf_dec *sd = sf_dec_new(&to_file, NULL);
	struct sink to_unframe = { unframe_write, sd };
	struct err e = { "" };
	struct gcm_dec *gd = gcm_dec_new(v->key, &to_unframe, &e);
	size_t off = 0, n, step = 1;
	uint8_t sum[B2_LEN];
	int rc = 0;

	b2_init(&f.hash);
	while (rc == 0 && off < o->sealed_len) {
		n = o->sealed_len - off < step ? o->sealed_len - off : step;
		rc = gcm_dec_write(gd, o->sealed + off, n, &e);
		off += n;
		step = step * 3 + 1;
	}
	if (rc == 0)
		rc = gcm_dec_finish(gd, &e);
	if (rc == 0)
		rc = sf_dec_finish(sd, &e);
	b2_final(&f.hash, sum);
	T_CHECK(rc == 0 && t_same(f.buf.p, f.buf.len, o->file, o->file_len) &&
	    memcmp(sum, o->checksum, B2_LEN) == 0, "%s: streamed decode: %s",
	    o->name, e.msg);
	gcm_dec_free(gd);
	sf_dec_free(sd);
	free(f.buf.p);
}

int
main(void)
{
	cJSON *j = t_load_vectors("objects.json");
	const cJSON *x;
	struct object o;
	struct vec v;
	int n = 0, padded = 0;

	log_init("/dev/null", 0);
	pool_init(&pool, 10000);
	unhex_fixed(v.key, GCM_KEY_LEN, t_jstr(j, "key"), "key");
	unhex_fixed(v.nonce, GCM_NONCE_LEN, t_jstr(j, "nonce"), "nonce");
	x = cJSON_GetObjectItemCaseSensitive(j, "data_shards");
	v.k = cJSON_IsNumber(x) ? (unsigned)x->valuedouble : 0;
	x = cJSON_GetObjectItemCaseSensitive(j, "parity_shards");
	v.p = cJSON_IsNumber(x) ? (unsigned)x->valuedouble : 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "objects")) {
		object_load(&o, x);
		check_erasures(&v, &o);
		check_wrong_checksum(&v, &o);
		check_stream(&v, &o);
		padded += check_padding(&v, &o);
		check_wrong_length(&v, &o, v.k - 1, 0);
		check_wrong_length(&v, &o, v.k - 1, 1);
		/* the first shard read: its length must not rule the others */
		check_wrong_length(&v, &o, 0, 0);
		check_wrong_length(&v, &o, 0, 1);
		check_encode(&v, &o);
		check_stream_decode(&v, &o);
		object_free(&o);
		n++;
	}
	T_CHECK(n == 3, "expected 3 objects, found %d", n);
	T_CHECK(padded > 0, "no object has two padding bytes or more");
	pool_free(&pool);
	cJSON_Delete(j);
	return t_finish();
}
