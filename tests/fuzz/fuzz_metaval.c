/* The four stored values of one object's metadata (2+2 Reed-Solomon, AES-GCM,
 * bincode) as meta_open finds them on the metadata backends. The input is
 *   key (32 bytes) || 4 lengths (2 bytes each, little-endian) || the values
 * with a length of 0 for a missing value; lengths past the end are cut. */
#include <string.h>

#include "fuzz.h"
#include "meta.h"
#include "meta_seal.h"

#define HDR (32 + 2 * META_BACKENDS)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *values[META_BACKENDS], key[32];
	size_t lens[META_BACKENDS], off = HDR, i;
	struct metadata m;
	struct err e;

	if (size < HDR)
		return 0;
	memcpy(key, data, 32);
	for (i = 0; i < META_BACKENDS; i++) {
		size_t want = (size_t)data[32 + 2 * i] |
		    (size_t)data[33 + 2 * i] << 8;

		lens[i] = want < size - off ? want : size - off;
		values[i] = lens[i] ? (uint8_t *)(uintptr_t)(data + off) : NULL;
		off += lens[i];
	}
	if (meta_open(values, lens, key, &m, &e) == 0)
		meta_free(&m);
	return 0;
}
