/* AES-256-GCM without associated data, sealed as nonce(12) || ciphertext ||
 * tag(16). Streaming in both directions. Opening releases plaintext before the
 * tag is checked: callers must treat the output as untrusted until
 * gcm_dec_finish returns 0 (retrieve writes to a temporary file and renames it
 * only after that). */
#ifndef AESGCM_H
#define AESGCM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sink.h"

#define GCM_KEY_LEN 32
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
#define GCM_OVERHEAD (GCM_NONCE_LEN + GCM_TAG_LEN)

struct gcm_enc;
struct gcm_dec;

/* nonce NULL draws a fresh random nonce. The nonce is written to out first. */
struct gcm_enc	*gcm_enc_new(const uint8_t key[GCM_KEY_LEN],
	    const uint8_t *nonce, const struct sink *out, struct err *e);
int	gcm_enc_write(struct gcm_enc *g, const void *buf, size_t len,
	    struct err *e);
int gcm_enc_finish(struct gcm_enc *g, struct err *e);	/* writes the tag */
void	gcm_enc_free(struct gcm_enc *g);

struct gcm_dec	*gcm_dec_new(const uint8_t key[GCM_KEY_LEN],
	    const struct sink *out, struct err *e);
int	gcm_dec_write(struct gcm_dec *g, const void *buf, size_t len,
	    struct err *e);
/* Fails when the input was shorter than nonce+tag or the tag does not
 * verify. */
int	gcm_dec_finish(struct gcm_dec *g, struct err *e);
void	gcm_dec_free(struct gcm_dec *g);

/* One-shot helpers; *out is malloc'd. */
int	gcm_seal(const uint8_t key[GCM_KEY_LEN], const uint8_t *nonce,
	    const void *plain, size_t len, uint8_t **out, size_t *outlen,
	    struct err *e);
int	gcm_open(const uint8_t key[GCM_KEY_LEN], const void *sealed, size_t len,
	    uint8_t **out, size_t *outlen, struct err *e);

#endif
