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

/* The calls, each once: the table's field and the library's name. */
#define SNAPPY_CALLS(X)						\
	X(compress, snappy_compress)				\
	X(uncompress, snappy_uncompress)			\
	X(uncompressed_length, snappy_uncompressed_length)

struct snappy_api {
#define SNAPPY_FIELD(field, name)	__typeof__(&name) field;
	SNAPPY_CALLS(SNAPPY_FIELD)
#undef SNAPPY_FIELD
};

/* The table; NULL (e set) when libsnappy cannot be loaded. Thread-safe. */
const struct snappy_api *snappy_api(struct err *e);

#endif
