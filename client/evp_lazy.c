/* evp.h for zstor: libcrypto is loaded at the first call, once for all
 * threads (store -f DIR seals on several). A command through the daemon never
 * gets here, so its process does not load the library at all. */
#include <pthread.h>

#include "evp.h"
#include "lazy_lib.h"

/* The soname the Makefile links the daemon against (libssl3 in Debian 12). */
#define EVP_LIBCRYPTO	"libcrypto.so.3"

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;
static struct evp_api evp_loaded;
static const struct evp_api *evp_ok;
static char evp_why[256];

static void
evp_load(void)
{
	static const char *const names[] = { "EVP_CIPHER_CTX_new",
	    "EVP_CIPHER_CTX_free", "EVP_CIPHER_CTX_ctrl", "EVP_CipherInit_ex",
	    "EVP_CipherUpdate", "EVP_EncryptFinal_ex", "EVP_DecryptFinal_ex",
	    "EVP_aes_256_gcm", "OpenSSL_version" };
	struct evp_api *a = &evp_loaded;
	void *const slots[] = { &a->ctx_new, &a->ctx_free, &a->ctx_ctrl,
	    &a->cipher_init, &a->cipher_update, &a->encrypt_final,
	    &a->decrypt_final, &a->aes_256_gcm, &a->version };

	if (lazy_lib_load(EVP_LIBCRYPTO, names, slots,
	    sizeof(names) / sizeof(names[0]), evp_why, sizeof(evp_why)) == 0)
		evp_ok = a;
}

const struct evp_api *
evp_api(struct err *e)
{
	pthread_once(&evp_once, evp_load);
	if (evp_ok == NULL)
		err_set(e, "AES-GCM needs OpenSSL's libcrypto: %s (install "
		    "Debian's libssl3)", evp_why);
	return evp_ok;
}
