/* Snappy framing: vectors, split independence, round trips and mutated
 * frames. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snappy_frame.h"
#include "t.h"

int main(void);

static int
fail_write(void *ctx, const void *data, size_t len, struct err *e)
{
	(void)ctx;
	(void)data;
	(void)len;
	return err_set(e, "sink refuses");
}

/* Split modes: 0 whole, 1 byte by byte, 2 random pieces. */
static size_t
piece(int mode, size_t left)
{
	size_t n = mode == 0 ? left : mode == 1 ? 1 : 1 + t_rng_below(3000);

	return n > left ? left : n;
}

/* Decodes in pieces; returns 0 with out filled, or -1 with e set. */
static int
decode(const uint8_t *in, size_t len, int mode, struct t_buf *out,
    struct err *e)
{
	struct sink s = { t_buf_write, out };
	struct sf_dec *d = sf_dec_new(&s, NULL);
	size_t off = 0, n;
	int rc = 0;

	out->len = 0;
	while (rc == 0 && off < len) {
		n = piece(mode, len - off);
		rc = sf_dec_write(d, in + off, n, e);
		off += n;
	}
	if (rc == 0)
		rc = sf_dec_finish(d, e);
	sf_dec_free(d);
	return rc;
}

static int
encode(const uint8_t *in, size_t len, int mode, struct t_buf *out,
    struct err *e)
{
	struct sink s = { t_buf_write, out };
	struct sf_enc *enc = sf_enc_new(&s, NULL);
	size_t off = 0, n;
	int rc = 0;

	out->len = 0;
	while (rc == 0 && off < len) {
		n = piece(mode, len - off);
		rc = sf_enc_write(enc, in + off, n, e);
		off += n;
	}
	if (rc == 0)
		rc = sf_enc_finish(enc, e);
	sf_enc_free(enc);
	return rc;
}

static void
check_crcs(const cJSON *v)
{
	const cJSON *c;
	uint8_t *in;
	size_t len;
	uint32_t crc, masked;

	cJSON_ArrayForEach(c,
	    cJSON_GetObjectItemCaseSensitive(v, "crc_checks")) {
		in = t_unhex(t_jstr(c, "input"), &len);
		crc = (uint32_t)strtoul(t_jstr(c, "crc32c"), NULL, 16);
		masked = (uint32_t)strtoul(t_jstr(c, "masked"), NULL, 16);
		T_CHECK(sf_crc32c(in, len) == crc,
		    "crc32c(%s) = %08x, want %08x", t_jstr(c, "input"),
		    sf_crc32c(in, len), crc);
		T_CHECK(sf_mask_crc(crc) == masked,
		    "mask(%08x) = %08x, want %08x", crc, sf_mask_crc(crc),
		    masked);
		free(in);
	}
}

static void
check_valid(const cJSON *v)
{
	const cJSON *c;
	struct t_buf out = { 0 };
	struct err e;
	uint8_t *framed, *plain;
	size_t flen, plen;
	int mode, n = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "valid")) {
		framed = t_unhex(t_jstr(c, "framed"), &flen);
		plain = t_unhex(t_jstr(c, "plain"), &plen);
		for (mode = 0; mode < 3; mode++) {
			e.msg[0] = '\0';
			T_CHECK(decode(framed, flen, mode, &out, &e) == 0,
			    "valid %s (mode %d): %s", t_jstr(c, "name"), mode,
			    e.msg);
			T_CHECK(t_same(out.p, out.len, plain, plen),
			    "valid %s (mode %d): wrong output",
			    t_jstr(c, "name"), mode);
		}
		free(framed);
		free(plain);
		n++;
	}
	T_CHECK(n == 9, "expected 9 valid cases, found %d", n);
	free(out.p);
}

static void
check_invalid(const cJSON *v)
{
	const cJSON *c;
	struct t_buf out = { 0 };
	struct err e;
	uint8_t *framed;
	size_t flen;
	int mode, n = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "invalid")) {
		framed = t_unhex(t_jstr(c, "framed"), &flen);
		for (mode = 0; mode < 3; mode++) {
			e.msg[0] = '\0';
			T_CHECK(decode(framed, flen, mode, &out, &e) == -1,
			    "invalid %s (mode %d) accepted", t_jstr(c, "name"),
			    mode);
			T_CHECK(strncmp(e.msg, "snappy frame: ", 14) == 0,
			    "invalid %s: unclear error \"%s\"",
			    t_jstr(c, "name"), e.msg);
		}
		if (strcmp(t_jstr(c, "name"), "wrong_crc") == 0)
			T_CHECK(strcmp(e.msg,
			    "snappy frame: chunk at offset 10: CRC "
			    "mismatch (stored 0x191c1fba, computed "
			    "0x191c1fbb)") == 0, "wrong_crc message: %s",
			    e.msg);
		free(framed);
		n++;
	}
	T_CHECK(n == 11, "expected 11 invalid cases, found %d", n);
	free(out.p);
}

static void
fill(uint8_t *p, size_t len, int compressible)
{
	static const char words[] = "the quick brown fox jumps over a lazy "
	    "dog ";
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = compressible ?
		    (uint8_t)words[(i + i / 4096) % (sizeof(words) - 1)] :
		    (uint8_t)t_rng();
}

/* Round trip through streaming encoder and decoder with random splits; the
 * framed bytes must not depend on the split and must use the expected chunk
 * type. */
static void
check_roundtrip(size_t len, int compressible)
{
	struct t_buf framed = { 0 }, framed2 = { 0 }, plain = { 0 };
	uint8_t *in = malloc(len + 1), *oneshot;
	size_t oneshot_len;
	struct err e;

	fill(in, len, compressible);
	T_CHECK(encode(in, len, 2, &framed, &e) == 0, "encode %zu: %s", len,
	    e.msg);
	T_CHECK(encode(in, len, 2, &framed2, &e) == 0, "encode %zu: %s", len,
	    e.msg);
	T_CHECK(sf_compress(in, len, &oneshot, &oneshot_len, &e) == 0,
	    "sf_compress %zu: %s", len, e.msg);
	T_CHECK(t_same(framed.p, framed.len, framed2.p, framed2.len) &&
	    t_same(framed.p, framed.len, oneshot, oneshot_len),
	    "encoding of %zu bytes depends on the write split", len);
	if (len == 0)
		T_CHECK(framed.len == 0 && oneshot == NULL,
		    "empty input framed to %zu bytes", framed.len);
	else
		T_CHECK(framed.len > 14 &&
		    memcmp(framed.p, "\xff\x06\0\0sNaPpY", 10) == 0 &&
		    framed.p[10] == (compressible && len > 100 ? 0x00 : 0x01),
		    "%zu bytes: bad stream start or chunk type", len);
	T_CHECK(decode(framed.p, framed.len, 2, &plain, &e) == 0,
	    "decode %zu: %s", len, e.msg);
	T_CHECK(t_same(plain.p, plain.len, in, len),
	    "round trip of %zu %s bytes differs", len,
	    compressible ? "compressible" : "random");
	free(in);
	free(oneshot);
	free(framed.p);
	free(framed2.p);
	free(plain.p);
}

static void
mutate(uint8_t *p, size_t *len, size_t cap)
{
	size_t at = t_rng_below(*len);

	switch (t_rng_below(5)) {
	case 0:
		if (*len)
			p[at] ^= (uint8_t)(1 << t_rng_below(8));
		break;
	case 1:
		if (*len)
			p[at] = (uint8_t)t_rng();
		break;
	case 2:
		*len = t_rng_below(*len + 1);
		break;
	case 3:
		if (*len < cap) {
			memmove(p + at + 1, p + at, *len - at);
			p[at] = (uint8_t)t_rng();
			(*len)++;
		}
		break;
	default:
		if (*len) {
			memmove(p + at, p + at + 1, *len - at - 1);
			(*len)--;
		}
		break;
	}
}

/* Mutated frames must fail cleanly or decode; either way the outcome must not
 * depend on how the input is split. */
static void
check_mutations(const uint8_t *const *seeds, const size_t *seed_len, int nseeds,
    int rounds)
{
	uint8_t m[4096];
	struct t_buf a = { 0 }, b = { 0 };
	struct err e;
	size_t len;
	int i, k, ra, rb, bad = 0, ok = 0;

	for (i = 0; i < rounds; i++) {
		k = (int)t_rng_below((size_t)nseeds);
		len = seed_len[k];
		memcpy(m, seeds[k], len);
		for (ra = 1 + (int)t_rng_below(3); ra > 0; ra--)
			mutate(m, &len, sizeof(m));
		ra = decode(m, len, 0, &a, &e);
		rb = decode(m, len, 2, &b, &e);
		if (ra != rb || (ra == 0 && !t_same(a.p, a.len, b.p, b.len)))
			bad++;
		ok += ra == 0;
	}
	fprintf(stderr, "mutations: %d of %d decoded\n", ok, rounds);
	T_CHECK(bad == 0,
	    "%d of %d mutated frames decode differently when split", bad,
	    rounds);
	T_CHECK(ok < rounds, "no mutated frame was rejected");
	free(a.p);
	free(b.p);
}

static void
check_sink_failure(void)
{
	struct sink s = { fail_write, NULL };
	struct sf_enc *enc = sf_enc_new(&s, NULL);
	struct sf_dec *dec = sf_dec_new(&s, NULL);
	static const uint8_t frame[] =
	    "\xff\x06\0\0sNaPpY\x01\x09\0\0\xbb\x1f\x1c\x19hello";
	struct err e;

	T_CHECK(sf_enc_write(enc, "hello", 5, &e) == 0,
	    "buffered write failed");
	T_CHECK(sf_enc_finish(enc, &e) == -1 &&
	    strcmp(e.msg, "sink refuses") == 0,
	    "encoder hides a sink failure: %s", e.msg);
	T_CHECK(sf_dec_write(dec, frame, sizeof(frame) - 1, &e) == -1 &&
	    strcmp(e.msg, "sink refuses") == 0, "decoder hides a sink failure");
	T_CHECK(sf_dec_finish(dec, &e) == -1,
	    "decoder finishes after a failure");
	sf_enc_free(enc);
	sf_dec_free(dec);
}

/* Frames one encoder's stream with the bytes [lo, hi) framed apart and put
 * in their place; 0 with *got the stream, or -1 with e set. */
static int
encode_apart(const uint8_t *in, size_t len, size_t lo, size_t hi,
    struct t_buf *got, struct err *e)
{
	uint8_t *frames = malloc((hi - lo) / SF_CHUNK_MAX * SF_FRAME_MAX +
	    SF_FRAME_MAX);
	struct sink s = { t_buf_write, got };
	struct sf_enc *enc = sf_enc_new(&s, e);
	size_t flen;
	int rc;

	got->len = 0;
	rc = enc != NULL && frames != NULL &&
	    sf_enc_write(enc, in, lo, e) == 0 &&
	    sf_frame_chunks(enc, in + lo, hi - lo, frames, &flen, e) == 0 &&
	    sf_enc_put_frames(enc, frames, flen, e) == 0 &&
	    sf_enc_write(enc, in + hi, len - hi, e) == 0 &&
	    sf_enc_finish(enc, e) == 0 ? 0 : -1;
	sf_enc_free(enc);
	free(frames);
	return rc;
}

/* Chunks framed apart (a store frames a block's chunks on two threads) and
 * put in their place make the stream the encoder makes of the same bytes,
 * the first ones with the stream identifier; frames after a partial chunk
 * are refused. */
static void
check_put_frames(void)
{
	size_t len = 6 * SF_CHUNK_MAX + 7, lo, hi, want_len;
	uint8_t *in = malloc(len), *want;
	struct t_buf got = { 0 };
	struct sink s = { t_buf_write, &got };
	struct sf_enc *enc;
	struct err e;

	/* stored and compressed chunks both among the ones framed apart */
	fill(in, 3 * SF_CHUNK_MAX, 1);
	fill(in + 3 * SF_CHUNK_MAX, len - 3 * SF_CHUNK_MAX, 0);
	T_CHECK(sf_compress(in, len, &want, &want_len, &e) == 0,
	    "sf_compress: %s", e.msg);
	for (lo = 0; lo < len; lo += 2 * SF_CHUNK_MAX) {
		for (hi = lo + SF_CHUNK_MAX; hi <= len; hi += SF_CHUNK_MAX) {
			if (hi + SF_CHUNK_MAX > len)
				hi = len;	/* with the short tail */
			T_CHECK(encode_apart(in, len, lo, hi, &got, &e) == 0,
			    "framing [%zu, %zu) apart: %s", lo, hi, e.msg);
			T_CHECK(t_same(got.p, got.len, want, want_len),
			    "bytes [%zu, %zu) framed apart differ from one "
			    "stream", lo, hi);
		}
	}
	enc = sf_enc_new(&s, &e);
	T_CHECK(enc != NULL && sf_enc_write(enc, in, 5, &e) == 0 &&
	    sf_enc_put_frames(enc, want + 10, 20, &e) == -1 &&
	    strcmp(e.msg, "snappy frame: frames put after a partial chunk") == 0,
	    "frames put after a partial chunk: %s", e.msg);
	sf_enc_free(enc);
	free(in);
	free(want);
	free(got.p);
}

static void
check_fuzz(const cJSON *v)
{
	const cJSON *c;
	uint8_t *seeds[32], *plain = malloc(1500);
	size_t lens[32];
	int n = 0, i;
	struct err e;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "valid")) {
		if (strlen(t_jstr(c, "framed")) > 2 * 1024 || n >= 28)
			continue;
		seeds[n] = t_unhex(t_jstr(c, "framed"), &lens[n]);
		n++;
	}
	for (i = 0; i < 3; i++) {
		fill(plain, 500 + 400 * (size_t)i, i != 1);
		if (sf_compress(plain, 500 + 400 * (size_t)i, &seeds[n],
		    &lens[n], &e) == 0)
			n++;
	}
	check_mutations((const uint8_t *const *)seeds, lens, n, 100000);
	for (i = 0; i < n; i++)
		free(seeds[i]);
	free(plain);
}

int
main(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537,
	    3 * 65536 + 7, 1 << 20 };
	cJSON *v = t_load_vectors("snappy_frames.json");
	size_t i;

	t_rng_seed(0x9e3779b97f4a7c15ULL);
	check_crcs(v);
	check_valid(v);
	check_invalid(v);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_roundtrip(sizes[i], 0);
		check_roundtrip(sizes[i], 1);
	}
	check_sink_failure();
	check_put_frames();
	check_fuzz(v);
	cJSON_Delete(v);
	return t_finish();
}
