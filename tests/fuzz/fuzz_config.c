/* The config file: the TOML reader, the schema and the checks across keys. */
#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct err e;

	if (config_parse((const char *)data, size, "fuzz.toml", &cfg,
	    &e) == 0) {
		(void)config_check_writable(&cfg, &e);
		(void)config_nbackends(&cfg);
	}
	config_free(&cfg);
	return 0;
}
