/* The TOML reader on any text. */
#include "fuzz.h"
#include "toml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_node *t;
	struct err e;

	if ((t = toml_parse((const char *)data, size, "fuzz.toml", &e)) != NULL)
		toml_free(t);
	return 0;
}
