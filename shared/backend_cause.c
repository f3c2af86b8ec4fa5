/* The cause of a backend failure in a word or two, for `zstor status`'s
 * table: the full message (logged, and on stderr) says the rest. */
#include <string.h>

#include "backend.h"

static const struct {
	const char *says;
	const char *cause;
} causes[] = {
	{ "Connection refused", "refused" },
	{ "timeout after", "timeout" },
	{ "Access denied", "wrong password" },
	{ "Namespace protected and private", "password needed" },
	{ "mode, but it is in", "wrong mode" },
	{ "No space left", "full" },
	{ "Namespace not found", "no such namespace" },
	{ "cannot write the backend directory", "no permission" },
	{ "Permission denied", "no permission" },
	{ "No route to host", "no route" },
	{ "Network is unreachable", "no route" },
	{ "No such file or directory", "missing" },
	{ "connection lost", "connection lost" },
};

const char *
backend_cause(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		if (strstr(msg, causes[i].says) != NULL)
			return causes[i].cause;
	return "error";
}
