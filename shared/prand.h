/* Randomness for choices that must be unpredictable and evenly spread but
 * guard no secret: which backends hold an object, which spare takes a shard.
 * The bytes are the kernel's (randombytes_buf), fetched PRAND_BUF at a time
 * per thread: libsodium's generator and glibc's arc4random make a system call
 * for every draw, and one store of a small object draws some 17 times.
 * Nonces and keys never come from here; they stay one kernel call each. */
#ifndef PRAND_H
#define PRAND_H

#include <stdint.h>

#define PRAND_BUF	256

uint64_t	prand_u64(void);
/* Uniform in [0, n); 0 when n < 2. */
uint32_t	prand_uniform(uint32_t n);

#endif
