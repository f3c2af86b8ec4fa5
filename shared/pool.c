#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"

int
pool_timeout_ms(void)
{
	const char *v = getenv("ZSTOR_TIMEOUT_MS");
	long ms = v != NULL ? strtol(v, NULL, 10) : 0;

	return ms > 0 && ms < 3600000 ? (int)ms : ZDB_TIMEOUT_MS;
}

void
pool_init(struct pool *p, int timeout_ms)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = timeout_ms;
}

void
pool_free(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].b)
			backend_close(p->v[i].b);
		ci_free(&p->v[i].ci);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

struct pool_entry *
pool_entry(struct pool *p, const struct backend_ci *ci, enum ns_mode mode)
{
	struct pool_entry *pe;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].mode == mode && ci_equal(&p->v[i].ci, ci))
			return &p->v[i];
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct pool_entry *v = reallocarray(p->v, cap, sizeof(*v));

		if (v == NULL)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	pe = &p->v[p->n];
	memset(pe, 0, sizeof(*pe));
	if (ci_copy(&pe->ci, ci) < 0)
		return NULL;
	pe->mode = mode;
	p->n++;
	return pe;
}

struct backend *
pool_get(struct pool *p, const struct backend_ci *ci, enum ns_mode mode,
    struct err *e)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	if (pe == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (pe->failed) {
		*e = pe->why;
		return NULL;
	}
	if (pe->b == NULL) {
		pe->b = backend_open(ci, mode, p->timeout_ms, e);
		if (pe->b == NULL) {
			pe->failed = 1;
			pe->why = *e;
			log_warnx("%s", e->msg);
		}
	}
	return pe->b;
}

void
pool_fail(struct pool *p, const struct backend_ci *ci, enum ns_mode mode,
    const struct err *why)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	if (pe == NULL)
		return;
	if (pe->b)
		backend_close(pe->b);
	pe->b = NULL;
	pe->failed = 1;
	if (why)
		pe->why = *why;
}

void
pool_fail_alive(struct pool *p, const struct backend_ci *ci, enum ns_mode mode,
    const struct err *why)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	if (pe == NULL)
		return;
	pe->failed = 1;
	if (why)
		pe->why = *why;
}

struct backend *
pool_cleanup_get(struct pool *p, const struct backend_ci *ci, enum ns_mode mode)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);
	struct err e;

	if (pe == NULL)
		return NULL;
	if (pe->failed)
		return pe->b;
	return pool_get(p, ci, mode, &e);
}

int
pool_is_failed(struct pool *p, const struct backend_ci *ci, enum ns_mode mode)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	return pe == NULL || pe->failed;
}
