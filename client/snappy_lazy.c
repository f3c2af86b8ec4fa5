/* snappy_api.h for zstor: libsnappy is loaded at the first call, once for all
 * threads. A command through the daemon never gets here. */
#include <pthread.h>

#include "lazy_lib.h"
#include "snappy_api.h"

/* The soname the Makefile links the daemon against (libsnappy1v5). */
#define SNAPPY_SONAME	"libsnappy.so.1"

static pthread_once_t snappy_once = PTHREAD_ONCE_INIT;
static struct snappy_api snappy_loaded;
static const struct snappy_api *snappy_ok;
static char snappy_why[256];

static void
snappy_load(void)
{
#define SNAPPY_NAME(field, name)	#name,
#define SNAPPY_SLOT(field, name)	&snappy_loaded.field,
	static const char *const names[] = { SNAPPY_CALLS(SNAPPY_NAME) };
	void *const slots[] = { SNAPPY_CALLS(SNAPPY_SLOT) };

	if (lazy_lib_load(SNAPPY_SONAME, names, slots,
	    sizeof(names) / sizeof(names[0]), snappy_why,
	    sizeof(snappy_why)) == 0)
		snappy_ok = &snappy_loaded;
}

const struct snappy_api *
snappy_api(struct err *e)
{
	pthread_once(&snappy_once, snappy_load);
	if (snappy_ok == NULL)
		err_set(e, "snappy framing needs libsnappy: %s (install "
		    "Debian's libsnappy1v5)", snappy_why);
	return snappy_ok;
}
