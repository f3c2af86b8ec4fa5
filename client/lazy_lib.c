#include <dlfcn.h>
#include <stdio.h>

#include "lazy_lib.h"

static int
lazy_lib_load(struct lazy_lib *l)
{
	const char *msg;
	void *lib, *p;
	size_t i;

	if ((lib = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		/* dlerror names the file */
		msg = dlerror();
		snprintf(l->why, sizeof(l->why), "%s", msg ? msg : l->soname);
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		if ((p = dlsym(lib, l->names[i])) == NULL) {
			snprintf(l->why, sizeof(l->why), "%s has no %s",
			    l->soname, l->names[i]);
			return -1;	/* it stays loaded, unused */
		}
		*(void **)l->slots[i] = p;
	}
	return 0;
}

int
lazy_lib_get(struct lazy_lib *l, struct err *e)
{
	int ok;

	pthread_mutex_lock(&l->mu);
	if (!l->tried) {
		l->tried = 1;
		l->ok = lazy_lib_load(l) == 0;
	}
	ok = l->ok;
	pthread_mutex_unlock(&l->mu);
	if (ok)
		return 0;
	return err_set(e, "%s: %s (install Debian's %s)", l->needed_by, l->why,
	    l->package);
}
