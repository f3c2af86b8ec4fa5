#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "prand.h"

struct prand_buf {
	uint8_t	bytes[PRAND_BUF];
	size_t	left;		/* unused bytes at the end of bytes */
};

static __thread struct prand_buf pr;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A child of fork() starts with its own draws, not a copy of the parent's
 * (only the forking thread lives on in the child). */
static void
prand_forget(void)
{
	pr.left = 0;
}

static void
prand_register(void)
{
	(void)pthread_atfork(NULL, NULL, prand_forget);
}

static void
prand_take(void *out, size_t n)
{
	pthread_once(&atfork_once, prand_register);
	if (pr.left < n) {
		randombytes_buf(pr.bytes, sizeof(pr.bytes));
		pr.left = sizeof(pr.bytes);
	}
	memcpy(out, pr.bytes + sizeof(pr.bytes) - pr.left, n);
	pr.left -= n;
}

uint64_t
prand_u64(void)
{
	uint64_t x;

	prand_take(&x, sizeof(x));
	return x;
}

uint32_t
prand_uniform(uint32_t n)
{
	uint32_t x, floor;

	if (n < 2)
		return 0;
	/* 2^32 mod n: values below it would make x % n favour the low end */
	floor = -n % n;
	do
		prand_take(&x, sizeof(x));
	while (x < floor);
	return x % n;
}
