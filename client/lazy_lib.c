#include <dlfcn.h>
#include <stdio.h>

#include "lazy_lib.h"

int
lazy_lib_load(const char *soname, const char *const *names,
    void *const *slots, size_t n, char *why, size_t whylen)
{
	const char *msg;
	void *lib, *p;
	size_t i;

	if ((lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		/* dlerror names the file */
		msg = dlerror();
		snprintf(why, whylen, "%s", msg ? msg : soname);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((p = dlsym(lib, names[i])) == NULL) {
			snprintf(why, whylen, "%s has no %s", soname, names[i]);
			return -1;	/* it stays loaded, unused */
		}
		*(void **)slots[i] = p;
	}
	return 0;
}
