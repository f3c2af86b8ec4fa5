/* Object metadata as bincode. What decodes must encode, and decode again to
 * the same encoding. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "meta.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metadata m, again;
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len, len2;
	struct err e;

	if (meta_decode(data, size, &m, &e) != 0)
		return 0;
	if (meta_encode(&m, &enc, &len, &e) != 0)
		fuzz_broken("decoded metadata does not encode");
	if (meta_decode(enc, len, &again, &e) != 0)
		fuzz_broken("encoded metadata does not decode");
	if (meta_encode(&again, &enc2, &len2, &e) != 0 || len2 != len ||
	    memcmp(enc, enc2, len) != 0)
		fuzz_broken("metadata changes through encode and decode");
	free(enc);
	free(enc2);
	meta_free(&m);
	meta_free(&again);
	return 0;
}
