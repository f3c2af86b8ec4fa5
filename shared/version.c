#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <seccomp.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "evp.h"
#include "version.h"

/* The Makefile passes these; a build outside it still compiles. */
#ifndef ZSTOR_VERSION
#define ZSTOR_VERSION "unknown"
#endif
#ifndef ZSTOR_COMMIT
#define ZSTOR_COMMIT "unknown"
#endif
#ifndef ZSTOR_BUILT_WITH
#define ZSTOR_BUILT_WITH ""
#endif

const char zstor_version[] = ZSTOR_VERSION;
const char zstor_commit[] = ZSTOR_COMMIT;

void
version_print(FILE *f, const char *prog)
{
	const struct scmp_version *sv = seccomp_version();
	const struct evp_api *evp;
	struct err e;

	fprintf(f, "%s %s (commit %s)\n", prog, zstor_version, zstor_commit);
	fprintf(f, "libraries: libevent %s, hiredis %d.%d.%d, libsodium %s, "
	    "cJSON %s, libseccomp %u.%u.%u, %s; built with: %s\n",
	    event_get_version(), HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
	    sodium_version_string(), cJSON_Version(), sv->major, sv->minor,
	    sv->micro, (evp = evp_api(&e)) != NULL ?
	    evp->version(OPENSSL_VERSION) : e.msg, ZSTOR_BUILT_WITH);
}
