/* evp.h for zstor: libcrypto is loaded at the first call, once for all
 * threads (store -f DIR seals on several). A command through the daemon never
 * gets here, so its process does not load the library at all. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "evp.h"

/* The soname the Makefile links the daemon against (libssl3 in Debian 12). */
#define EVP_LIBCRYPTO	"libcrypto.so.3"

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;
static struct evp_api evp_loaded;
static const struct evp_api *evp_ok;
static char evp_why[256];

static int
evp_sym(void *lib, const char *name, void *slot)
{
	void *p = dlsym(lib, name);

	if (p == NULL) {
		snprintf(evp_why, sizeof(evp_why), "%s has no %s",
		    EVP_LIBCRYPTO, name);
		return -1;
	}
	*(void **)slot = p;
	return 0;
}

static void
evp_load(void)
{
	struct evp_api *a = &evp_loaded;
	const char *why;
	void *lib;

	if ((lib = dlopen(EVP_LIBCRYPTO, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(evp_why, sizeof(evp_why), "%s",
		    why ? why : EVP_LIBCRYPTO ": cannot be loaded");
		return;
	}
	if (evp_sym(lib, "EVP_CIPHER_CTX_new", &a->ctx_new) < 0 ||
	    evp_sym(lib, "EVP_CIPHER_CTX_free", &a->ctx_free) < 0 ||
	    evp_sym(lib, "EVP_CIPHER_CTX_ctrl", &a->ctx_ctrl) < 0 ||
	    evp_sym(lib, "EVP_CipherInit_ex", &a->cipher_init) < 0 ||
	    evp_sym(lib, "EVP_CipherUpdate", &a->cipher_update) < 0 ||
	    evp_sym(lib, "EVP_EncryptFinal_ex", &a->encrypt_final) < 0 ||
	    evp_sym(lib, "EVP_DecryptFinal_ex", &a->decrypt_final) < 0 ||
	    evp_sym(lib, "EVP_aes_256_gcm", &a->aes_256_gcm) < 0 ||
	    evp_sym(lib, "OpenSSL_version", &a->version) < 0)
		return;		/* the library stays loaded: it is not used */
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
