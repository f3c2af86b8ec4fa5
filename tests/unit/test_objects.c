/* Whole objects (objects.json): decode from shards with erasures through RS, AES-GCM,
 * snappy framing and BLAKE2b; encode from `compressed` to the exact shards. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "blake2b.h"
#include "rs.h"
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
};

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
			o->shards[o->nshards++] = t_unhex(x->valuestring, &o->shard_len);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "shard_checksums"))
		if (o->nsums < RS_MAX_SHARDS)
			o->shard_sums[o->nsums++] = t_unhex(x->valuestring, &len);
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

/* RS-decodes and unpads: returns the sealed bytes (malloc'd) or NULL. */
static uint8_t *
rs_decode(struct rs *rs, const struct object *o, const uint8_t *present, size_t *len,
    struct err *e)
{
	unsigned k = rs_data(rs), n = k + rs_parity(rs), i;
	size_t slen = o->shard_len, pad;
	uint8_t *mem = malloc(n * slen + 1), *ptr[RS_MAX_SHARDS];

	for (i = 0; i < n; i++) {
		ptr[i] = mem + i * slen;
		if (present[i])
			memcpy(ptr[i], o->shards[i], slen);
		else
			memset(ptr[i], 0x5a, slen);
	}
	if (rs_reconstruct(rs, slen, ptr, present, e) == -1) {
		free(mem);
		return NULL;
	}
	pad = slen ? mem[k * slen - 1] : 0;
	if (pad < 1 || pad > k || pad > k * slen) {
		err_set(e, "bad padding %zu", pad);
		free(mem);
		return NULL;
	}
	*len = k * slen - pad;
	return mem;
}

static void
check_decode(struct rs *rs, const struct vec *v, const struct object *o,
    const uint8_t *present, const char *pattern)
{
	uint8_t *sealed, *compressed = NULL, *file = NULL, sum[B2_LEN];
	size_t slen, clen = 0, flen = 0;
	struct err e = { "" };
	int ok;

	sealed = rs_decode(rs, o, present, &slen, &e);
	ok = sealed != NULL &&
	    gcm_open(v->key, sealed, slen, &compressed, &clen, &e) == 0 &&
	    sf_decompress(compressed, clen, &file, &flen, &e) == 0;
	T_CHECK(ok, "%s (lost %s): %s", o->name, pattern, e.msg);
	if (ok) {
		b2_hash(file, flen, sum);
		T_CHECK(memcmp(sum, o->checksum, B2_LEN) == 0, "%s (lost %s): checksum",
		    o->name, pattern);
		T_CHECK(t_same(file, flen, o->file, o->file_len), "%s (lost %s): file differs",
		    o->name, pattern);
	}
	free(sealed);
	free(compressed);
	free(file);
}

/* Every pattern of up to `parity` lost shards. */
static void
check_erasures(const struct vec *v, const struct object *o)
{
	unsigned n = v->k + v->p, mask, bits, i;
	uint8_t present[RS_MAX_SHARDS];
	char pattern[64];
	struct err e;
	struct rs *rs = rs_new(v->k, v->p, &e);
	int done = 0;

	T_CHECK(o->nshards == n && n < 16, "%s: %u shards", o->name, o->nshards);
	if (rs == NULL || o->nshards != n || n >= 16)
		goto out;
	for (mask = 0; mask < (1U << n); mask++) {
		bits = (unsigned)__builtin_popcount(mask);
		if (bits > v->p)
			continue;
		pattern[0] = '\0';
		for (i = 0; i < n; i++) {
			present[i] = !(mask & (1U << i));
			if (!present[i])
				snprintf(pattern + strlen(pattern), sizeof(pattern) -
				    strlen(pattern), "%u ", i);
		}
		check_decode(rs, v, o, present, bits ? pattern : "none");
		done++;
	}
	printf("%s: decoded with %d erasure patterns\n", o->name, done);
out:
	rs_free(rs);
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

	T_CHECK(gcm_seal(v->key, v->nonce, o->compressed, o->compressed_len, &sealed,
	    &len, &e) == 0 && t_same(sealed, len, o->sealed, o->sealed_len),
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
		T_CHECK(memcmp(ptr[i], o->shards[i], slen) == 0, "%s: shard %u differs",
		    o->name, i);
		b2_hash(ptr[i], slen, sum);
		T_CHECK(memcmp(sum, o->shard_sums[i], B2_LEN) == 0,
		    "%s: shard %u checksum differs", o->name, i);
	}
	b2_hash(o->file, o->file_len, sum);
	T_CHECK(memcmp(sum, o->checksum, B2_LEN) == 0, "%s: file checksum", o->name);
	T_CHECK(sf_compress(o->file, o->file_len, &framed, &flen, &e) == 0 &&
	    sf_decompress(framed, flen, &back, &blen, &e) == 0 &&
	    t_same(back, blen, o->file, o->file_len), "%s: compressor round trip",
	    o->name);
	free(framed);
	free(back);
	free(mem);
	free(sealed);
	rs_free(rs);
}

/* ---- streaming: AES-GCM decryptor feeding the snappy decoder ---- */

struct file_out {
	struct b2	 hash;
	uint8_t		*p;
	size_t		 len, cap;
};

static int
file_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct file_out *f = ctx;

	(void)e;
	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		f->p = realloc(f->p, f->cap);
	}
	memcpy(f->p + f->len, buf, len);
	f->len += len;
	b2_update(&f->hash, buf, len);
	return 0;
}

static int
unframe_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	return sf_dec_write(ctx, buf, len, e);
}

static void
check_stream_decode(const struct vec *v, const struct object *o)
{
	struct file_out f = { .p = NULL };
	struct sink to_file = { file_write, &f };
	struct sf_dec *sd = sf_dec_new(&to_file);
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
	T_CHECK(rc == 0 && t_same(f.p, f.len, o->file, o->file_len) &&
	    memcmp(sum, o->checksum, B2_LEN) == 0, "%s: streamed decode: %s",
	    o->name, e.msg);
	gcm_dec_free(gd);
	sf_dec_free(sd);
	free(f.p);
}

int
main(void)
{
	cJSON *j = t_load_vectors("objects.json");
	const cJSON *x;
	struct object o;
	struct vec v;
	int n = 0;

	unhex_fixed(v.key, GCM_KEY_LEN, t_jstr(j, "key"), "key");
	unhex_fixed(v.nonce, GCM_NONCE_LEN, t_jstr(j, "nonce"), "nonce");
	x = cJSON_GetObjectItemCaseSensitive(j, "data_shards");
	v.k = cJSON_IsNumber(x) ? (unsigned)x->valuedouble : 0;
	x = cJSON_GetObjectItemCaseSensitive(j, "parity_shards");
	v.p = cJSON_IsNumber(x) ? (unsigned)x->valuedouble : 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "objects")) {
		object_load(&o, x);
		check_erasures(&v, &o);
		check_encode(&v, &o);
		check_stream_decode(&v, &o);
		object_free(&o);
		n++;
	}
	T_CHECK(n == 3, "expected 3 objects, found %d", n);
	cJSON_Delete(j);
	return t_finish();
}
