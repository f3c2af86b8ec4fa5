/* The OpenSSL calls AES-GCM and the version line make, through one table.
 * The daemon, the tests and the tools link libcrypto (evp_linked.c, in the
 * library); zstor loads it only once a command needs it (client/evp_lazy.c):
 * through the daemon a command never does, and loading libcrypto.so is about
 * two-thirds of a start's CPU, paid by every process 0-db's hook starts. */
#ifndef EVP_H
#define EVP_H

#include <openssl/evp.h>

#include "err.h"

/* The calls, each once: the table's field and the library's name. */
#define EVP_CALLS(X)						\
	X(ctx_new, EVP_CIPHER_CTX_new)				\
	X(ctx_free, EVP_CIPHER_CTX_free)			\
	X(ctx_ctrl, EVP_CIPHER_CTX_ctrl)			\
	X(cipher_init, EVP_CipherInit_ex)			\
	X(cipher_update, EVP_CipherUpdate)			\
	X(encrypt_final, EVP_EncryptFinal_ex)			\
	X(decrypt_final, EVP_DecryptFinal_ex)			\
	X(aes_256_gcm, EVP_aes_256_gcm)				\
	X(version, OpenSSL_version)

struct evp_api {
#define EVP_FIELD(field, name)	__typeof__(&name) field;
	EVP_CALLS(EVP_FIELD)
#undef EVP_FIELD
};

/* The table; NULL (e set) when libcrypto cannot be loaded. Thread-safe. */
const struct evp_api	*evp_api(struct err *e);

#endif
