/* The OpenSSL calls AES-GCM and the version line make, through one table.
 * The daemon, the tests and the tools link libcrypto (evp_linked.c, in the
 * library); zstor loads it only once a command needs it (client/evp_lazy.c):
 * through the daemon a command never does, and loading libcrypto.so is about
 * two-thirds of a start's CPU, paid by every process 0-db's hook starts. */
#ifndef EVP_H
#define EVP_H

#include <openssl/evp.h>

#include "err.h"

struct evp_api {
	EVP_CIPHER_CTX	*(*ctx_new)(void);
	void		 (*ctx_free)(EVP_CIPHER_CTX *);
	int		 (*ctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
	int		 (*cipher_init)(EVP_CIPHER_CTX *, const EVP_CIPHER *,
			    ENGINE *, const unsigned char *,
			    const unsigned char *, int);
	int		 (*cipher_update)(EVP_CIPHER_CTX *, unsigned char *,
			    int *, const unsigned char *, int);
	int		 (*encrypt_final)(EVP_CIPHER_CTX *, unsigned char *,
			    int *);
	int		 (*decrypt_final)(EVP_CIPHER_CTX *, unsigned char *,
			    int *);
	const EVP_CIPHER *(*aes_256_gcm)(void);
	const char	*(*version)(int);
};

/* The table; NULL (e set) when libcrypto cannot be loaded. Thread-safe. */
const struct evp_api	*evp_api(struct err *e);

#endif
