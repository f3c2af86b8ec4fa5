/* AES-256-GCM: vectors, streaming with random splits, tampering and short
 * input. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "t.h"

int main(void);

/* maxpiece 0 feeds everything at once. */
static size_t
piece(size_t maxpiece, size_t left)
{
	size_t n = maxpiece ? 1 + (size_t)(t_rng() % maxpiece) : left;

	return n > left ? left : n;
}

static int
seal_stream(const uint8_t *key, const uint8_t *nonce, const uint8_t *in,
    size_t len, size_t maxpiece, struct t_buf *out, struct err *e)
{
	struct sink s = { t_buf_write, out };
	struct gcm_enc *g;
	size_t off = 0, n;
	int rc = 0;

	out->len = 0;
	if ((g = gcm_enc_new(key, nonce, &s, e)) == NULL)
		return -1;
	while (rc == 0 && off < len) {
		n = piece(maxpiece, len - off);
		rc = gcm_enc_write(g, in + off, n, e);
		off += n;
	}
	if (rc == 0)
		rc = gcm_enc_finish(g, e);
	gcm_enc_free(g);
	return rc;
}

/* *held is how much plaintext came out before finish. */
static int
open_stream(const uint8_t *key, const uint8_t *in, size_t len, size_t maxpiece,
    struct t_buf *out, size_t *held, struct err *e)
{
	struct sink s = { t_buf_write, out };
	struct gcm_dec *g;
	size_t off = 0, n;
	int rc = 0;

	out->len = 0;
	if ((g = gcm_dec_new(key, &s, e)) == NULL)
		return -1;
	while (rc == 0 && off < len) {
		n = piece(maxpiece, len - off);
		rc = gcm_dec_write(g, in + off, n, e);
		off += n;
	}
	*held = out->len;
	if (rc == 0)
		rc = gcm_dec_finish(g, e);
	gcm_dec_free(g);
	return rc;
}

static void
check_case(const cJSON *c)
{
	const char *name = t_jstr(c, "name");
	uint8_t *key, *nonce, *plain, *sealed, *out;
	size_t klen, nlen, plen, slen, olen, held, maxpiece;
	struct t_buf b = { 0 };
	struct err e;

	key = t_unhex(t_jstr(c, "key"), &klen);
	nonce = t_unhex(t_jstr(c, "nonce"), &nlen);
	plain = t_unhex(t_jstr(c, "plain"), &plen);
	sealed = t_unhex(t_jstr(c, "sealed"), &slen);
	T_CHECK(klen == GCM_KEY_LEN && nlen == GCM_NONCE_LEN, "%s: bad vector",
	    name);

	T_CHECK(gcm_seal(key, nonce, plain, plen, &out, &olen, &e) == 0 &&
	    t_same(out, olen, sealed, slen), "%s: gcm_seal differs", name);
	free(out);
	T_CHECK(gcm_open(key, sealed, slen, &out, &olen, &e) == 0 &&
	    t_same(out, olen, plain, plen), "%s: gcm_open differs", name);
	free(out);
	for (maxpiece = 1; maxpiece <= 64; maxpiece *= 4) {
		T_CHECK(seal_stream(key, nonce, plain, plen, maxpiece, &b,
		    &e) == 0 && t_same(b.p, b.len, sealed, slen),
		    "%s: streamed seal differs", name);
		T_CHECK(open_stream(key, sealed, slen, maxpiece, &b, &held,
		    &e) == 0 && t_same(b.p, b.len, plain, plen),
		    "%s: streamed open differs", name);
		T_CHECK(held == plen,
		    "%s: %zu bytes out before the tag check, want %zu", name,
		    held, plen);
	}
	free(b.p);
	free(key);
	free(nonce);
	free(plain);
	free(sealed);
}

static void
check_invalid(const cJSON *c)
{
	const char *name = t_jstr(c, "name");
	static uint8_t sentinel;
	uint8_t *key, *sealed, *out = &sentinel;
	size_t klen, slen, olen = 1, held;
	struct t_buf b = { 0 };
	struct err e;

	key = t_unhex(t_jstr(c, "key"), &klen);
	sealed = t_unhex(t_jstr(c, "sealed"), &slen);
	T_CHECK(gcm_open(key, sealed, slen, &out, &olen, &e) == -1 &&
	    out == NULL && olen == 0, "invalid %s: gcm_open accepted it", name);
	T_CHECK(strcmp(e.msg,
	    "AES-GCM: authentication failed (wrong key or corrupt "
	    "data)") == 0, "invalid %s: message \"%s\"", name, e.msg);
	T_CHECK(open_stream(key, sealed, slen, 3, &b, &held, &e) == -1,
	    "invalid %s: streamed open accepted it", name);
	free(b.p);
	free(key);
	free(sealed);
}

/* 0..27 bytes cannot hold nonce and tag. */
static void
check_short(void)
{
	uint8_t key[GCM_KEY_LEN] = { 1 }, in[GCM_OVERHEAD], *out;
	struct t_buf b = { 0 };
	size_t len, olen, held;
	struct err e;

	memset(in, 0xa5, sizeof(in));
	for (len = 0; len < GCM_OVERHEAD; len++) {
		T_CHECK(gcm_open(key, in, len, &out, &olen, &e) == -1 &&
		    out == NULL, "gcm_open accepted %zu bytes", len);
		T_CHECK(strstr(e.msg, "shorter than nonce and tag") != NULL,
		    "short input message: %s", e.msg);
		T_CHECK(open_stream(key, in, len, 1, &b, &held, &e) == -1 &&
		    b.len == 0, "streamed open accepted %zu bytes", len);
		T_CHECK(strstr(e.msg, "shorter than nonce and tag") != NULL,
		    "short streamed input message: %s", e.msg);
	}
	free(b.p);
}

/* Large random data, random nonce, random splits; and a wrong key. */
static void
check_stream_large(void)
{
	uint8_t key[GCM_KEY_LEN], key2[GCM_KEY_LEN], *plain, *one, *two;
	size_t len = 300000, i, olen, olen2, held;
	struct t_buf b = { 0 };
	struct err e;

	for (i = 0; i < GCM_KEY_LEN; i++) {
		key[i] = (uint8_t)t_rng();
		key2[i] = key[i] ^ (i == 7);
	}
	plain = malloc(len);
	for (i = 0; i < len; i++)
		plain[i] = (uint8_t)t_rng();
	T_CHECK(gcm_seal(key, NULL, plain, len, &one, &olen, &e) == 0 &&
	    gcm_seal(key, NULL, plain, len, &two, &olen2, &e) == 0 &&
	    olen == len + GCM_OVERHEAD && memcmp(one, two, GCM_NONCE_LEN) != 0,
	    "random nonces repeat or wrong length");
	T_CHECK(seal_stream(key, one, plain, len, 70000, &b, &e) == 0 &&
	    t_same(b.p, b.len, one, olen),
	    "streamed seal differs from one-shot");
	T_CHECK(open_stream(key, one, olen, 100000, &b, &held, &e) == 0 &&
	    t_same(b.p, b.len, plain, len), "streamed open differs");
	T_CHECK(open_stream(key, two, olen2, 17, &b, &held, &e) == 0 &&
	    t_same(b.p, b.len, plain, len),
	    "streamed open (small pieces) differs");
	T_CHECK(open_stream(key2, one, olen, 0, &b, &held, &e) == -1 &&
	    strstr(e.msg, "authentication failed") != NULL,
	    "wrong key accepted");
	free(one);
	free(two);
	free(plain);
	free(b.p);
}

int
main(void)
{
	cJSON *v = t_load_vectors("aesgcm.json");
	const cJSON *c;
	int n = 0;

	t_rng_seed(0x243f6a8885a308d3ULL);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "cases")) {
		check_case(c);
		n++;
	}
	T_CHECK(n == 3, "expected 3 cases, found %d", n);
	n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "invalid")) {
		check_invalid(c);
		n++;
	}
	T_CHECK(n == 2, "expected 2 invalid cases, found %d", n);
	check_short();
	check_stream_large();
	cJSON_Delete(v);
	return t_finish();
}
