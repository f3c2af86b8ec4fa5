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
#define EVP_NAME(field, name)	#name,
#define EVP_SLOT(field, name)	&evp_loaded.field,
	static const char *const names[] = { EVP_CALLS(EVP_NAME) };
	void *const slots[] = { EVP_CALLS(EVP_SLOT) };

	if (lazy_lib_load(EVP_LIBCRYPTO, names, slots,
	    sizeof(names) / sizeof(names[0]), evp_why, sizeof(evp_why)) == 0)
		evp_ok = &evp_loaded;
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
