/* AES-256-GCM through OpenSSL's EVP interface, no associated data, sealed as
 * nonce(12) || ciphertext || tag(16) like upstream's aes_gcm::Aes256Gcm output
 * with the nonce in front.
 *
 * The decoder does not know where the ciphertext ends until the input does, so
 * it always holds back the last 16 bytes it has seen: they are the tag if no
 * more input follows. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "evp.h"

#define GCM_STEP 65536	/* bytes passed to OpenSSL per call */

/* A cipher context and the table its calls go through. */
struct gcm_ctx {
	const struct evp_api	*api;
	EVP_CIPHER_CTX		*ctx;
};

struct gcm_enc {
	struct gcm_ctx	 c;
	struct sink	 out;
	int		 failed;
	uint8_t		 buf[GCM_STEP];
};

struct gcm_dec {
	struct gcm_ctx	 c;
	struct sink	 out;
	int		 failed;
	uint8_t		 nonce[GCM_NONCE_LEN];
	unsigned long long total;	/* sealed bytes seen */
	/* newest bytes: maybe the tag */
	uint8_t		 tail[GCM_TAG_LEN];
	size_t		 tail_len;
	uint8_t		 buf[GCM_STEP];
};

/* Runs len bytes through the cipher (either direction) and on to the sink. */
static int
gcm_update(const struct gcm_ctx *c, uint8_t *tmp, const struct sink *out,
    const uint8_t *p, size_t len, struct err *e)
{
	int n, outl;

	while (len > 0) {
		n = len > GCM_STEP ? GCM_STEP : (int)len;
		if (c->api->cipher_update(c->ctx, tmp, &outl, p, n) != 1)
			return err_set(e, "AES-GCM: cipher update failed");
		if (sink_write(out, tmp, (size_t)outl, e) == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A context for AES-256-GCM with the key set; the nonce may come later. */
static int
gcm_ctx_new(struct gcm_ctx *c, const uint8_t key[GCM_KEY_LEN], int encrypt,
    struct err *e)
{
	const struct evp_api *a;

	if ((a = c->api = evp_api(e)) == NULL)
		return -1;
	if ((c->ctx = a->ctx_new()) == NULL)
		return err_set(e, "AES-GCM: out of memory for the cipher "
		    "context");
	if (a->cipher_init(c->ctx, a->aes_256_gcm(), NULL, NULL, NULL,
	    encrypt) != 1 ||
	    a->ctx_ctrl(c->ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE_LEN,
	    NULL) != 1 ||
	    a->cipher_init(c->ctx, NULL, NULL, key, NULL, encrypt) != 1)
		return err_set(e, "AES-GCM: cannot set up the cipher");
	return 0;
}

static int
gcm_set_nonce(const struct gcm_ctx *c, const uint8_t nonce[GCM_NONCE_LEN],
    int encrypt, struct err *e)
{
	if (c->api->cipher_init(c->ctx, NULL, NULL, NULL, nonce,
	    encrypt) != 1)
		return err_set(e, "AES-GCM: cannot set the nonce");
	return 0;
}

static void
gcm_ctx_free(struct gcm_ctx *c)
{
	if (c->ctx != NULL)
		c->api->ctx_free(c->ctx);
}

/* ---- encryption ---- */

struct gcm_enc *
gcm_enc_new(const uint8_t key[GCM_KEY_LEN], const uint8_t *nonce,
    const struct sink *out, struct err *e)
{
	uint8_t fresh[GCM_NONCE_LEN];
	struct gcm_enc *g;

	if (nonce == NULL) {
		if (sodium_init() < 0) {
			err_set(e, "AES-GCM: cannot initialise the random "
			    "generator");
			return NULL;
		}
		randombytes_buf(fresh, sizeof(fresh));
		nonce = fresh;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		err_set(e, "AES-GCM: out of memory for the encryptor");
		return NULL;
	}
	g->out = *out;
	if (gcm_ctx_new(&g->c, key, 1, e) == -1 ||
	    gcm_set_nonce(&g->c, nonce, 1, e) == -1 ||
	    sink_write(&g->out, nonce, GCM_NONCE_LEN, e) == -1) {
		gcm_enc_free(g);
		return NULL;
	}
	return g;
}

int
gcm_enc_write(struct gcm_enc *g, const void *buf, size_t len, struct err *e)
{
	if (g->failed)
		return err_set(e,
		    "AES-GCM: encryptor used after an earlier failure");
	if (gcm_update(&g->c, g->buf, &g->out, buf, len, e) == -1) {
		g->failed = 1;
		return -1;
	}
	return 0;
}

int
gcm_enc_finish(struct gcm_enc *g, struct err *e)
{
	uint8_t tag[GCM_TAG_LEN];
	int outl;

	if (g->failed)
		return err_set(e,
		    "AES-GCM: encryptor used after an earlier failure");
	g->failed = 1;	/* whatever happens, the stream is over */
	if (g->c.api->encrypt_final(g->c.ctx, g->buf, &outl) != 1 ||
	    g->c.api->ctx_ctrl(g->c.ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
	    tag) != 1)
		return err_set(e, "AES-GCM: cannot compute the tag");
	return sink_write(&g->out, tag, sizeof(tag), e);
}

void
gcm_enc_free(struct gcm_enc *g)
{
	if (g == NULL)
		return;
	gcm_ctx_free(&g->c);
	free(g);
}

/* ---- decryption ---- */

struct gcm_dec *
gcm_dec_new(const uint8_t key[GCM_KEY_LEN], const struct sink *out,
    struct err *e)
{
	struct gcm_dec *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		err_set(e, "AES-GCM: out of memory for the decryptor");
		return NULL;
	}
	g->out = *out;
	if (gcm_ctx_new(&g->c, key, 0, e) == -1) {
		gcm_dec_free(g);
		return NULL;
	}
	return g;
}

/* Takes the leading nonce bytes from the input; returns how many it used. */
static size_t
gcm_dec_take_nonce(struct gcm_dec *g, const uint8_t *p, size_t len,
    struct err *e, int *rc)
{
	size_t have = g->total, n = GCM_NONCE_LEN - have;

	*rc = 0;
	if (n > len)
		n = len;
	memcpy(g->nonce + have, p, n);
	g->total += n;
	if (g->total == GCM_NONCE_LEN)
		*rc = gcm_set_nonce(&g->c, g->nonce, 0, e);
	return n;
}

/* Decrypts everything but the newest 16 bytes of tail || p. */
static int
gcm_dec_hold_back(struct gcm_dec *g, const uint8_t *p, size_t len,
    struct err *e)
{
	size_t total = g->tail_len + len, release, from_tail, from_buf;

	if (total <= GCM_TAG_LEN) {
		memcpy(g->tail + g->tail_len, p, len);
		g->tail_len = total;
		return 0;
	}
	release = total - GCM_TAG_LEN;
	from_tail = release < g->tail_len ? release : g->tail_len;
	from_buf = release - from_tail;
	if (gcm_update(&g->c, g->buf, &g->out, g->tail, from_tail, e) == -1)
		return -1;
	memmove(g->tail, g->tail + from_tail, g->tail_len - from_tail);
	g->tail_len -= from_tail;
	if (gcm_update(&g->c, g->buf, &g->out, p, from_buf, e) == -1)
		return -1;
	memcpy(g->tail + g->tail_len, p + from_buf, len - from_buf);
	g->tail_len += len - from_buf;
	return 0;
}

int
gcm_dec_write(struct gcm_dec *g, const void *buf, size_t len, struct err *e)
{
	const uint8_t *p = buf;
	size_t n;
	int rc = 0;

	if (g->failed)
		return err_set(e,
		    "AES-GCM: decryptor used after an earlier failure");
	if (g->total < GCM_NONCE_LEN && len > 0) {
		n = gcm_dec_take_nonce(g, p, len, e, &rc);
		p += n;
		len -= n;
	}
	if (rc == 0 && len > 0) {
		g->total += len;
		rc = gcm_dec_hold_back(g, p, len, e);
	}
	if (rc == -1)
		g->failed = 1;
	return rc;
}

int
gcm_dec_finish(struct gcm_dec *g, struct err *e)
{
	int outl;

	if (g->failed)
		return err_set(e,
		    "AES-GCM: decryptor used after an earlier failure");
	g->failed = 1;	/* whatever happens, the stream is over */
	if (g->total < GCM_OVERHEAD)
		return err_set(e,
		    "AES-GCM: sealed data is %llu bytes, shorter than "
		    "nonce and tag (%d bytes)", g->total, GCM_OVERHEAD);
	if (g->c.api->ctx_ctrl(g->c.ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
	    g->tail) != 1)
		return err_set(e, "AES-GCM: cannot set the tag");
	if (g->c.api->decrypt_final(g->c.ctx, g->buf, &outl) != 1)
		return err_set(e,
		    "AES-GCM: authentication failed (wrong key or "
		    "corrupt data)");
	return 0;
}

void
gcm_dec_free(struct gcm_dec *g)
{
	if (g == NULL)
		return;
	gcm_ctx_free(&g->c);
	free(g);
}

/* ---- one-shot helpers ---- */

/* Output of known size collected in one buffer. */
struct gcm_fixed {
	uint8_t	*buf;
	size_t	 len, cap;
};

static int
gcm_fixed_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct gcm_fixed *f = ctx;

	if (len > f->cap - f->len)
		return err_set(e, "AES-GCM: output longer than expected");
	memcpy(f->buf + f->len, buf, len);
	f->len += len;
	return 0;
}

int
gcm_seal(const uint8_t key[GCM_KEY_LEN], const uint8_t *nonce,
    const void *plain, size_t len, uint8_t **out, size_t *outlen, struct err *e)
{
	struct gcm_fixed f = { NULL, 0, 0 };
	struct sink s = { gcm_fixed_write, &f };
	struct gcm_enc *g;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (len > SIZE_MAX - GCM_OVERHEAD)
		return err_set(e, "AES-GCM: input too large");
	f.cap = len + GCM_OVERHEAD;
	if ((f.buf = malloc(f.cap)) == NULL)
		return err_set(e, "AES-GCM: out of memory for %zu bytes",
		    f.cap);
	if ((g = gcm_enc_new(key, nonce, &s, e)) != NULL) {
		if (gcm_enc_write(g, plain, len, e) == 0)
			rc = gcm_enc_finish(g, e);
		gcm_enc_free(g);
	}
	if (rc == -1) {
		free(f.buf);
		return -1;
	}
	*out = f.buf;
	*outlen = f.len;
	return 0;
}

int
gcm_open(const uint8_t key[GCM_KEY_LEN], const void *sealed, size_t len,
    uint8_t **out, size_t *outlen, struct err *e)
{
	struct gcm_fixed f = { NULL, 0, 0 };
	struct sink s = { gcm_fixed_write, &f };
	struct gcm_dec *g;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (len < GCM_OVERHEAD)
		return err_set(e,
		    "AES-GCM: sealed data is %zu bytes, shorter than "
		    "nonce and tag (%d bytes)", len, GCM_OVERHEAD);
	f.cap = len - GCM_OVERHEAD;
	if ((f.buf = malloc(f.cap ? f.cap : 1)) == NULL)
		return err_set(e, "AES-GCM: out of memory for %zu bytes",
		    f.cap);
	if ((g = gcm_dec_new(key, &s, e)) != NULL) {
		if (gcm_dec_write(g, sealed, len, e) == 0)
			rc = gcm_dec_finish(g, e);
		gcm_dec_free(g);
	}
	if (rc == -1) {
		/* Never hand out plaintext that did not authenticate. */
		sodium_memzero(f.buf, f.cap);
		free(f.buf);
		return -1;
	}
	*out = f.buf;
	*outlen = f.len;
	return 0;
}
