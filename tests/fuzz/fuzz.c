/* What every harness shares (linked into each one). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"

__attribute__((weak)) void
fuzz_setup(void)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (log_init("/dev/null", 0) == -1)
		fuzz_broken("cannot send the log to /dev/null");
	fuzz_setup();
	return 0;
}

void
fuzz_broken(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}
