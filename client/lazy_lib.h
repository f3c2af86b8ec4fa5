/* A shared library zstor loads at its first use instead of at every start
 * (client/evp_lazy.c, client/snappy_lazy.c): most of its processes are
 * commands through the daemon, which never need it. */
#ifndef LAZY_LIB_H
#define LAZY_LIB_H

#include <pthread.h>
#include <stddef.h>

#include "err.h"

struct lazy_lib {
	const char		*soname;
	const char *const	*names;		/* of the calls */
	void *const		*slots;		/* their function pointers */
	size_t			 n;
	const char		*needed_by;	/* "snappy framing needs libsnappy" */
	const char		*package;	/* Debian's, that ships it */
	pthread_mutex_t		 mu;
	int			 tried, ok;
	char			 why[256];
};

#define LAZY_LIB(soname, names, slots, needed_by, package)		\
	{ soname, names, slots, sizeof(names) / sizeof((names)[0]),	\
	  needed_by, package, PTHREAD_MUTEX_INITIALIZER, 0, 0, "" }

/* 0 once the library is loaded and every call found (the first call, from
 * any thread, tries; later ones know); -1 with e saying what needs it, why it
 * cannot be had and which package to install. */
int	lazy_lib_get(struct lazy_lib *l, struct err *e);

#endif
