#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"

int
pool_timeout_ms(void)
{
	const char *v = getenv("ZSTOR_TIMEOUT_MS");
	long ms = v != NULL ? strtol(v, NULL, 10) : 0;

	return ms > 0 && ms < 3600000 ? (int)ms : ZDB_TIMEOUT_MS;
}

static int64_t
pool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
pool_init(struct pool *p, int timeout_ms)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = timeout_ms;
	p->idle_ms = POOL_IDLE_MS;
	p->job = 1;
}

/* Closes its connection; what it said about space goes with it. */
static void
entry_drop(struct pool_entry *pe)
{
	if (pe->b != NULL)
		backend_close(pe->b);
	pe->b = NULL;
	pe->has_space = 0;
}

static void
entry_space(struct pool *p, struct pool_entry *pe, const struct nsinfo *ni)
{
	pe->space = *ni;
	pe->has_space = 1;
	pe->space_ms = pool_now_ms();
	pe->info_gen = p->info_gen;
}

void
pool_next_job(struct pool *p)
{
	int64_t now = pool_now_ms();
	size_t i;

	p->job++;
	p->info_gen++;
	for (i = 0; i < p->n; i++) {
		struct pool_entry *pe = &p->v[i];

		if (pe->failed || now - pe->used_ms > p->idle_ms)
			entry_drop(pe);
		pe->failed = 0;
		pe->why.msg[0] = '\0';
	}
}

void
pool_invalidate(struct pool *p, const struct backend_ci *ci)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (ci_equal(&p->v[i].ci, ci))
			entry_drop(&p->v[i]);
}

/* An entry opened now, or its open failure recorded. */
static void
entry_opened(struct pool *p, struct pool_entry *pe, struct backend *b,
    const struct err *e)
{
	pe->b = b;
	pe->checked_job = p->job;
	pe->used_ms = pool_now_ms();
	if (b != NULL && backend_open_info(b) != NULL)
		entry_space(p, pe, backend_open_info(b));
	if (b == NULL) {
		pe->failed = 1;
		pe->why = *e;
		log_warnx("%s", e->msg);
	}
}

/* A backend kept from an earlier job is checked once per job. */
static void
entry_check(struct pool *p, struct pool_entry *pe)
{
	if (pe->b == NULL || pe->checked_job == p->job)
		return;
	pe->checked_job = p->job;
	if (!backend_alive(pe->b)) {
		log_debug("%s: no longer at its place; opening it again",
		    backend_name(pe->b));
		entry_drop(pe);
	}
}

void
pool_open_all(struct pool *p, const struct backend_ci *const *cis, size_t n,
    enum ns_mode mode)
{
	const struct backend_ci **want = calloc(n ? n : 1, sizeof(*want));
	/* at: entries, by index: pool_entry moves them */
	size_t *at = calloc(n ? n : 1, sizeof(*at));
	struct backend **got = calloc(n ? n : 1, sizeof(*got));
	struct err *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t i, j, k = 0;

	if (want == NULL || at == NULL || got == NULL || errs == NULL)
		goto done;	/* pool_get opens them one by one */
	for (i = 0; i < n; i++) {
		struct pool_entry *e = pool_entry(p, cis[i], mode);

		if (e == NULL || e->failed)
			continue;
		entry_check(p, e);
		for (j = 0; j < k && at[j] != (size_t)(e - p->v); j++)
			;
		if (e->b == NULL && j == k) {
			at[k] = (size_t)(e - p->v);
			want[k++] = cis[i];
		}
	}
	backend_open_many(want, k, mode, p->timeout_ms, got, errs);
	for (i = 0; i < k; i++)
		entry_opened(p, &p->v[at[i]], got[i], &errs[i]);
done:
	free(want);
	free(at);
	free(got);
	free(errs);
}

const struct nsinfo *
pool_known_space(struct pool *p, const struct backend_ci *ci,
    enum ns_mode mode, uint64_t need)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);
	uint64_t free_b, want;

	if (pe == NULL || pe->b == NULL || pe->failed || !pe->has_space)
		return NULL;
	if (pe->info_gen == p->info_gen)
		return &pe->space;
	if (pool_now_ms() - pe->space_ms >= POOL_SPACE_TTL_MS ||
	    need > UINT64_MAX / POOL_SPACE_MARGIN)
		return NULL;
	free_b = nsinfo_free_space(&pe->space);
	want = need > POOL_SPACE_FLOOR / POOL_SPACE_MARGIN ?
	    need * POOL_SPACE_MARGIN : POOL_SPACE_FLOOR;
	if (free_b < want)
		return NULL;
	return &pe->space;
}

void
pool_space_read(struct pool *p, const struct backend_ci *ci,
    enum ns_mode mode, const struct nsinfo *ni)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	if (pe != NULL)
		entry_space(p, pe, ni);
}

void
pool_space_take(struct pool *p, const struct backend_ci *ci,
    enum ns_mode mode, uint64_t need)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);
	struct nsinfo *ni;

	if (pe == NULL || !pe->has_space)
		return;
	ni = &pe->space;
	ni->data_size_bytes += need;
	ni->data_disk_freespace_bytes -= need < ni->data_disk_freespace_bytes ?
	    need : ni->data_disk_freespace_bytes;
}

void
pool_info_spent(struct pool *p)
{
	p->info_gen++;
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
	entry_check(p, pe);
	if (pe->b == NULL)
		entry_opened(p, pe, backend_open(ci, mode, p->timeout_ms, e),
		    e);
	else
		pe->used_ms = pool_now_ms();
	return pe->b;
}

void
pool_fail(struct pool *p, const struct backend_ci *ci, enum ns_mode mode,
    const struct err *why)
{
	struct pool_entry *pe = pool_entry(p, ci, mode);

	if (pe == NULL)
		return;
	entry_drop(pe);
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
