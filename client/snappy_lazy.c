/* snappy_api.h for zstor: libsnappy is loaded at the first call, once for all
 * threads. A command through the daemon never gets here. */
#include "lazy_lib.h"
#include "snappy_api.h"

static struct snappy_api loaded;

#define SNAPPY_NAME(field, name)	#name,
#define SNAPPY_SLOT(field, name)	&loaded.field,
static const char *const names[] = { SNAPPY_CALLS(SNAPPY_NAME) };
static void *const slots[] = { SNAPPY_CALLS(SNAPPY_SLOT) };

/* The soname the Makefile links the daemon against (libsnappy1v5). */
static struct lazy_lib lib = LAZY_LIB("libsnappy.so.1", names, slots,
    "snappy framing needs libsnappy", "libsnappy1v5");

const struct snappy_api *
snappy_api(struct err *e)
{
	return lazy_lib_get(&lib, e) == 0 ? &loaded : NULL;
}
