/* evp.h for the programs that link libcrypto. Only evp_api is defined here,
 * so that zstor, which links its own (client/evp_lazy.c) before the library,
 * never pulls this one in. */
#include <openssl/crypto.h>

#include "evp.h"

static const struct evp_api linked = {
#define EVP_LINKED(field, name)	.field = name,
	EVP_CALLS(EVP_LINKED)
};

const struct evp_api *
evp_api(struct err *e)
{
	(void)e;
	return &linked;
}
