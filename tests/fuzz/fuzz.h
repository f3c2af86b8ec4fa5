/* libFuzzer harnesses: each fuzz_*.c defines LLVMFuzzerTestOneInput over one
 * decoder of untrusted bytes. A harness aborts only on a broken invariant
 * (such as a value that decodes, encodes and then fails to decode); every
 * other failure must come back as an error. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* fuzz.c's: logs go nowhere (a decoder's warnings are not findings), then
 * fuzz_setup. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* A harness's own start-up, if it has one (fuzz.c has an empty default). */
void fuzz_setup(void);
/* Aborts with a message: an invariant the harness checks was broken. */
void fuzz_broken(const char *what) __attribute__((noreturn));

#endif
