/* What every harness shares (linked into each one). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"

void
fuzz_quiet(void)
{
	static int done;

	if (!done && log_init("/dev/null", 0) == 0)
		done = 1;
}

void
fuzz_broken(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}
