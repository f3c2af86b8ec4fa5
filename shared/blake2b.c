/* BLAKE2b-128 through libsodium. Passing an output length of 16 to the init
 * call puts 16 into the parameter block, which is what upstream's
 * Blake2bVar(16) does; cutting a 64-byte digest short would give different
 * bytes. */
#include <sodium.h>

#include "blake2b.h"

void
b2_init(struct b2 *h)
{
	int rc;

	/* Idempotent and thread-safe; it only selects the fastest
	 * implementation, and the portable one still hashes correctly if it
	 * fails. */
	rc = sodium_init();
	(void)rc;
	crypto_generichash_blake2b_init(&h->st, NULL, 0, B2_LEN);
}

void
b2_update(struct b2 *h, const void *buf, size_t len)
{
	if (len == 0)
		return;
	crypto_generichash_blake2b_update(&h->st, buf, len);
}

void
b2_final(struct b2 *h, uint8_t out[B2_LEN])
{
	crypto_generichash_blake2b_final(&h->st, out, B2_LEN);
}

void
b2_hash(const void *buf, size_t len, uint8_t out[B2_LEN])
{
	struct b2 h;

	b2_init(&h);
	b2_update(&h, buf, len);
	b2_final(&h, out);
}
