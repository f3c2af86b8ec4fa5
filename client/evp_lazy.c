/* evp.h for zstor: libcrypto is loaded at the first call, once for all
 * threads (store -f DIR seals on several). A command through the daemon never
 * gets here, so its process does not load the library at all. */
#include "evp.h"
#include "lazy_lib.h"

static struct evp_api loaded;

#define EVP_NAME(field, name)	#name,
#define EVP_SLOT(field, name)	&loaded.field,
static const char *const names[] = { EVP_CALLS(EVP_NAME) };
static void *const slots[] = { EVP_CALLS(EVP_SLOT) };

/* The soname the Makefile links the daemon against (libssl3 in Debian 12). */
static struct lazy_lib lib = LAZY_LIB("libcrypto.so.3", names, slots,
    "AES-GCM needs OpenSSL's libcrypto", "libssl3");

const struct evp_api *
evp_api(struct err *e)
{
	return lazy_lib_get(&lib, e) == 0 ? &loaded : NULL;
}
