/* The snappy calls the framing makes, through one table. The daemon, the tests
 * and the tools link libsnappy (snappy_linked.c, in the library); zstor loads
 * libsnappy.so at the first command that frames or unframes
 * (client/snappy_lazy.c), which no command through the daemon does. It loads
 * the shared library rather than link the archive: Debian 12's libsnappy.a
 * compresses text at less than half the rate of its libsnappy.so (about 300
 * against 650 MB/s on this project's bench machine), and linking the shared
 * one, with the libstdc++ it needs, cost every start 0.4 ms of CPU. */
#ifndef SNAPPY_API_H
#define SNAPPY_API_H

#include <snappy-c.h>

#include "err.h"

struct snappy_api {
	snappy_status	(*compress)(const char *, size_t, char *, size_t *);
	snappy_status	(*uncompress)(const char *, size_t, char *, size_t *);
	snappy_status	(*uncompressed_length)(const char *, size_t,
			    size_t *);
};

/* The table; NULL (e set) when libsnappy cannot be loaded. Thread-safe. */
const struct snappy_api *snappy_api(struct err *e);

#endif
