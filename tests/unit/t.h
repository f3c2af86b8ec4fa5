/* Minimal unit-test harness: each test binary prints one line per failed check
 * and a closing "N passed, N failed" line that scripts/run-tests adds up. */
#ifndef T_H
#define T_H

#include <stddef.h>
#include <stdint.h>

extern int t_passed, t_failed;

void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int	t_finish(void);

/* Vector files live in tests/vectors; T_VECTORS overrides the directory. */
char	*t_read_file(const char *path, size_t *len);
struct cJSON *t_load_vectors(const char *name);
/* Decode lowercase/uppercase hex into a fresh buffer; aborts the test on bad
 * hex. */
uint8_t	*t_unhex(const char *hex, size_t *len);

/* The string value of key in o; "" when absent or not a string. */
const char	*t_jstr(const struct cJSON *o, const char *key);
/* memcmp of two buffers that may be empty (and NULL). */
int	t_same(const void *a, size_t alen, const void *b, size_t blen);

/* A small deterministic generator (xorshift64*) for reproducible random
 * tests. */
void	t_rng_seed(uint64_t seed);
uint64_t	t_rng(void);
size_t	t_rng_below(size_t n);	/* 0 .. n-1; 0 when n is 0 */

/* A sink target that collects everything written to it (p is malloc'd). */
struct err;
struct t_buf {
	uint8_t	*p;
	size_t	 len, cap;
};
int	t_buf_write(void *ctx, const void *data, size_t len, struct err *e);

/* One scratch directory per test binary, made on first use and removed with
 * everything in it at exit (a forked child must leave with _exit). */
const char *t_tmpdir(void);

/* A directory backend "dir:<t_tmpdir()>/<name>" with namespace ns (the base
 * directory is created; ns NULL is the default namespace). */
struct backend_ci;
void t_dir_ci(struct backend_ci *ci, const char *name, const char *ns);

#define T_CHECK(cond, ...) do {                                     \
	if (cond) t_passed++;                                       \
	else t_fail(__FILE__, __LINE__, __VA_ARGS__);               \
} while (0)

#define T_EQ_MEM(a, b, n, ...) T_CHECK(memcmp((a), (b), (n)) == 0, __VA_ARGS__)

#endif
