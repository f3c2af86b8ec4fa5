/* snappy_api.h for the programs that link libsnappy. Only snappy_api is
 * defined here, so that zstor, which links its own (client/snappy_lazy.c)
 * before the library, never pulls this one in. */
#include "snappy_api.h"

static const struct snappy_api linked = {
#define SNAPPY_LINKED(field, name)	.field = name,
	SNAPPY_CALLS(SNAPPY_LINKED)
};

const struct snappy_api *
snappy_api(struct err *e)
{
	(void)e;
	return &linked;
}
