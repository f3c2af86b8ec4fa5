/* A shared library zstor loads at its first use instead of at every start
 * (client/evp_lazy.c, client/snappy_lazy.c): most of its processes are
 * commands through the daemon, which never need it. */
#ifndef LAZY_LIB_H
#define LAZY_LIB_H

#include <stddef.h>

/* Loads soname and looks up the n names into the function pointers at
 * slots: 0, or -1 with the reason in why. */
int	lazy_lib_load(const char *soname, const char *const *names,
	    void *const *slots, size_t n, char *why, size_t whylen);

#endif
