/* 0-db's NSINFO text, and the space figures computed from it. */
#include "backend.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nsinfo ni;
	struct err e;

	if (nsinfo_parse((const char *)data, size, &ni, &e) == 0) {
		(void)nsinfo_free_space(&ni);
		(void)nsinfo_usage_percent(&ni);
	}
	return 0;
}
