/* The version, the commit it was built from and the libraries it was built
 * with, for -V of both programs. */
#ifndef VERSION_H
#define VERSION_H

#include <stdio.h>

extern const char zstor_version[];
extern const char zstor_commit[];

/* "PROG VERSION (commit C)" and a line of library versions. */
void version_print(FILE *f, const char *prog);

#endif
