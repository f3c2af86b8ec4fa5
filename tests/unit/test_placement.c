/*
 * Placement: the draw must follow upstream's distribution (with signed
 * arithmetic and correct group indices), every pick must survive the redundancy
 * settings, and large configs must be planned in well under 5 ms.
 *
 * The reference distribution is computed here the slow way, as upstream does
 * it: every candidate subset, every count vector, weighted by the number of
 * shard sequences (the multinomial) that reach it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "placement.h"
#include "t.h"

int main(void);

#define MAXG	32
#define MAXB	16
#define MAXN	256
#define DRAWS	40000

struct fixture {
	struct config cfg;
	struct group groups[MAXG];
	struct backend_ci ci[MAXG][MAXB];
	unsigned char excl[MAXG * MAXB];
};

static struct fixture *
fixture_new(const unsigned *sizes, size_t ng, unsigned m, unsigned n,
    unsigned rg, unsigned rn)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t g;

	if (f == NULL)
		abort();
	for (g = 0; g < ng; g++) {
		f->groups[g].nbackends = sizes[g];
		f->groups[g].backends = f->ci[g];
	}
	f->cfg.ngroups = ng;
	f->cfg.groups = f->groups;
	f->cfg.minimal_shards = m;
	f->cfg.expected_shards = n;
	f->cfg.redundant_groups = rg;
	f->cfg.redundant_nodes = rn;
	return f;
}

static size_t
flat_total(const struct config *cfg)
{
	size_t g, n = 0;

	for (g = 0; g < cfg->ngroups; g++)
		n += cfg->groups[g].nbackends;
	return n;
}

static int
cmp_desc(const void *x, const void *y)
{
	unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/*
 * What a pick must satisfy; returns NULL or why not. counts gets shards per
 * group.
 */
static const char *
pick_problem(const struct config *cfg, const unsigned char *excl,
    const struct bref *out, unsigned *counts)
{
	unsigned char used[MAXG * MAXB] = { 0 };
	unsigned sorted[MAXG], left = 0, n = cfg->expected_shards, i;
	long check = 0;
	size_t flat;

	memset(counts, 0, MAXG * sizeof(*counts));
	for (i = 0; i < n; i++) {
		if (out[i].group >= cfg->ngroups ||
		    out[i].backend >= cfg->groups[out[i].group].nbackends)
			return "backend out of range";
		flat = placement_flat_index(cfg, out[i]);
		if (used[flat]++)
			return "backend used twice";
		if (excl && excl[flat])
			return "excluded backend used";
		/* Groups come in runs, fullest first. */
		if (i > 0 && out[i].group != out[i - 1].group &&
		    counts[out[i].group])
			return "group split in two runs";
		counts[out[i].group]++;
	}
	for (i = 1; i < n; i++)
		if (out[i].group != out[i - 1].group &&
		    counts[out[i].group] > counts[out[i - 1].group])
			return "groups not in descending order of shards";
	/* Lose the RG fullest groups entirely and RN backends in every other
	 * one. */
	memcpy(sorted, counts, sizeof(sorted));
	qsort(sorted, cfg->ngroups, sizeof(*sorted), cmp_desc);
	for (i = cfg->redundant_groups; i < cfg->ngroups; i++) {
		if (sorted[i] > cfg->redundant_nodes)
			left += sorted[i] - cfg->redundant_nodes;
		if (sorted[i] > 0)
			check += (long)sorted[i] - (long)cfg->redundant_nodes;
	}
	if (left < cfg->minimal_shards)
		return "redundancy not met";
	/* Upstream's check in signed arithmetic, over the groups used (a group
	 * of S left empty only lowers the sum, so this is implied). */
	return check >= (long)cfg->minimal_shards ? NULL : "signed check fails";
}

/* Upstream's enumeration, over count vectors instead of sequences. */
struct upstream {
	const struct config *cfg;
	unsigned avail[MAXG];
	size_t members[MAXG], k;
	unsigned c[MAXG];
	unsigned base;
	int wrap;		/* upstream's unsigned sum: a negative one
				 * passes */
	double *p;
	double fact[MAXN + 1];	/* small N only: 170! is the largest double */
};

static size_t
key_of(const unsigned *counts, size_t ng, unsigned base)
{
	size_t key = 0, g;

	for (g = ng; g-- > 0;)
		key = key * base + counts[g];
	return key;
}

static void
upstream_leaf(struct upstream *u)
{
	unsigned sorted[MAXG];
	long sum = 0;
	double w;
	size_t i;

	for (i = 0; i < u->k; i++)
		sorted[i] = u->c[u->members[i]];
	qsort(sorted, u->k, sizeof(*sorted), cmp_desc);
	for (i = u->cfg->redundant_groups; i < u->k; i++)
		sum += (long)sorted[i] - (long)u->cfg->redundant_nodes;
	if (sum < (long)u->cfg->minimal_shards && !(u->wrap && sum < 0))
		return;
	w = u->fact[u->cfg->expected_shards];
	for (i = 0; i < u->k; i++)
		w /= u->fact[sorted[i]];
	u->p[key_of(u->c, u->cfg->ngroups, u->base)] += w;
}

static void
upstream_fill(struct upstream *u, size_t pos, unsigned left)
{
	size_t g;
	unsigned x;

	if (pos == u->k) {
		if (left == 0)
			upstream_leaf(u);
		return;
	}
	g = u->members[pos];
	for (x = 0; x <= left && x <= u->avail[g]; x++) {
		u->c[g] = x;
		upstream_fill(u, pos + 1, left - x);
	}
	u->c[g] = 0;
}

/* Probability of every count vector (indexed by key_of), normalised. */
static double *
upstream_dist(const struct config *cfg, const unsigned char *excl,
    unsigned base, size_t nkeys, int wrap)
{
	struct upstream u;
	size_t g, b, flat = 0, nf = 0, fl[MAXG], i;
	unsigned long mask, maxg,
	    p = cfg->expected_shards - cfg->minimal_shards;
	long room;
	double total = 0;

	memset(&u, 0, sizeof(u));
	u.cfg = cfg;
	u.base = base;
	u.wrap = wrap;
	u.p = calloc(nkeys, sizeof(double));
	u.fact[0] = 1;
	for (i = 1; i <= 64; i++)
		u.fact[i] = u.fact[i - 1] * (double)i;
	for (g = 0; g < cfg->ngroups; g++) {
		for (b = 0; b < cfg->groups[g].nbackends; b++, flat++)
			u.avail[g] += !(excl && excl[flat]);
		if (u.avail[g] >= cfg->redundant_nodes)
			fl[nf++] = g;
	}
	maxg = cfg->redundant_nodes == 0 ? cfg->ngroups :
	    p / cfg->redundant_nodes + cfg->redundant_groups;
	for (mask = 1; mask < (1ul << nf); mask++) {
		u.k = 0;
		room = 0;
		for (i = 0; i < nf; i++)
			if (mask & (1ul << i)) {
				u.members[u.k++] = fl[i];
				room += (long)u.avail[fl[i]] -
				    (long)cfg->redundant_nodes;
			}
		if (u.k > maxg || u.k <= cfg->redundant_groups ||
		    room < (long)cfg->minimal_shards)
			continue;
		upstream_fill(&u, 0, cfg->expected_shards);
	}
	for (i = 0; i < nkeys; i++)
		total += u.p[i];
	for (i = 0; i < nkeys && total > 0; i++)
		u.p[i] /= total;
	return u.p;
}

/*
 * Within a group every usable backend is equally likely: each one's use must be
 * near the group's uses over its usable backends.
 */
static size_t
uneven_groups(const struct config *cfg, const unsigned char *excl,
    const unsigned *uses)
{
	size_t g, b, flat = 0, base, n, bad = 0;
	double sum, mean;

	for (g = 0; g < cfg->ngroups; g++,
	    flat += cfg->groups[g - 1].nbackends) {
		sum = 0;
		n = 0;
		for (b = 0, base = flat; b < cfg->groups[g].nbackends; b++)
			if (!(excl && excl[base + b])) {
				sum += uses[base + b];
				n++;
			}
		if (n == 0 || sum < 4000)
			continue;
		mean = sum / n;
		for (b = 0; b < cfg->groups[g].nbackends; b++)
			if (!(excl && excl[base + b]) &&
			    (uses[base + b] < 0.93 * mean ||
			    uses[base + b] > 1.07 * mean))
				bad++;
	}
	return bad;
}

/* Draws many picks, checks each, and compares the count vectors with
 * upstream's. wrap: a policy only upstream's unsigned wrap places; each pick
 * must then be a count vector upstream's wrapped check passes (it meets no
 * redundancy). */
static void
check_distribution_as(const char *name, const struct config *cfg,
    const unsigned char *excl, int wrap)
{
	struct bref out[MAXN];
	struct err e;
	unsigned counts[MAXG], base = 1, *uses;
	size_t g, nkeys = 1, i, j, support = 0, bad = 0, fails = 0;
	double *want, *got, tvd = 0;
	const char *why = NULL;

	for (g = 0; g < cfg->ngroups; g++)
		if (cfg->groups[g].nbackends + 1 > base)
			base = (unsigned)cfg->groups[g].nbackends + 1;
	for (g = 0; g < cfg->ngroups; g++)
		nkeys *= base;
	want = upstream_dist(cfg, excl, base, nkeys, wrap);
	got = calloc(nkeys, sizeof(double));
	uses = calloc(flat_total(cfg), sizeof(*uses));
	for (i = 0; i < DRAWS; i++) {
		if (placement_pick(cfg, excl, out, &e) == -1) {
			fails++;
			continue;
		}
		why = pick_problem(cfg, excl, out, counts);
		if (wrap && (why == NULL ||
		    strcmp(why, "redundancy not met") == 0 ||
		    strcmp(why, "signed check fails") == 0))
			why = want[key_of(counts, cfg->ngroups, base)] > 0 ?
			    NULL : "not a spread upstream places";
		if (why != NULL)
			bad++;
		got[key_of(counts, cfg->ngroups, base)] += 1.0 / DRAWS;
		for (j = 0; j < cfg->expected_shards; j++)
			uses[placement_flat_index(cfg, out[j])]++;
	}
	for (i = 0; i < nkeys; i++) {
		support += want[i] > 0;
		tvd += (want[i] > got[i] ? want[i] - got[i] : got[i] -
		    want[i]) / 2;
	}
	printf("%s: %zu count vectors, total variation %.4f\n", name, support,
	    tvd);
	T_CHECK(fails == 0, "%s: %zu picks failed (%s)", name, fails, e.msg);
	T_CHECK(bad == 0, "%s: %zu bad picks (%s)", name, bad, why);
	T_CHECK(support > 0, "%s: reference has no valid count vector", name);
	T_CHECK(tvd < 0.03, "%s: total variation %.4f from upstream", name,
	    tvd);
	T_CHECK(uneven_groups(cfg, excl, uses) == 0,
	    "%s: backends of a group not equally used", name);
	free(want);
	free(got);
	free(uses);
}

static void
check_distribution(const char *name, const struct config *cfg,
    const unsigned char *excl)
{
	check_distribution_as(name, cfg, excl, 0);
}

static void
expect_policy(const struct config *cfg, int how, unsigned worst,
    const char *name)
{
	struct placement_policy pp;
	struct err e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = placement_policy(cfg, &pp, &e);
	T_CHECK((rc == 0) == (how != PLACED_NONE) && pp.how == how &&
	    (how != PLACED_WRAP || pp.worst_groups == worst), "%s: policy "
	    "placed %d (want %d), survives %u whole groups (want %u): %s", name,
	    pp.how, how, pp.worst_groups, worst, e.msg);
}

/*
 * Upstream's README policy (10 of 15, one group and one node redundant) keeps 8
 * shards at best after its losses, so no spread meets it; upstream still places
 * it, through its unsigned wrap, and so do we, drawing as upstream draws.  The
 * fixed algorithm stays for every policy it can place (the signed cases above).
 */
static void
test_wrap_policies(void)
{
	static const unsigned s15_15[] = { 15, 15 }, s14x3[] = { 14, 14, 14 },
	    s16_4_4[] = { 16, 4, 4 }, s555[] = { 5, 5, 5 },
	    s10x3[] = { 10, 10, 10 }, s10x4[] = { 10, 10, 10, 10 };
	struct fixture *f;

	f = fixture_new(s15_15, 2, 10, 15, 1, 1);
	check_distribution_as("README policy over 15,15 (wrap)", &f->cfg, NULL,
	    1);
	expect_policy(&f->cfg, PLACED_WRAP, 0, "15,15");
	free(f);
	f = fixture_new(s14x3, 3, 10, 15, 1, 1);
	check_distribution_as("README policy over 3x14 (wrap)", &f->cfg, NULL,
	    1);
	expect_policy(&f->cfg, PLACED_WRAP, 0, "3x14");
	free(f);
	f = fixture_new(s16_4_4, 3, 10, 15, 1, 1);
	check_distribution_as("README policy over 16,4,4 (wrap)", &f->cfg, NULL,
	    1);
	free(f);
	/* RG = 2, RN = 2 over 3 groups of 10: (10,5,0) and its like. */
	f = fixture_new(s10x3, 3, 10, 15, 2, 2);
	check_distribution_as("3x10 M=10 N=15 RG=2 RN=2 (wrap)", &f->cfg, NULL,
	    1);
	expect_policy(&f->cfg, PLACED_WRAP, 0, "3x10 RG=2 RN=2");
	free(f);
	/* Over 3 groups of 5 even the wrap finds nothing: every store fails. */
	f = fixture_new(s555, 3, 10, 15, 1, 1);
	expect_policy(&f->cfg, PLACED_NONE, 0, "3x5");
	free(f);
	/* A policy the fixed algorithm meets is placed by it. */
	f = fixture_new(s10x4, 4, 2, 6, 1, 1);
	expect_policy(&f->cfg, PLACED_SIGNED, 0, "4x10 M=2 N=6");
	free(f);
}

static void
test_distributions(void)
{
	static const unsigned s2222[] = { 2, 2, 2, 2 },
	    s2334[] = { 2, 3, 3, 4 }, s22233[] = { 2, 2, 2, 3, 3 },
	    s555[] = { 5, 5, 5 }, s23[] = { 2, 3 }, s3333[] = { 3, 3, 3, 3 },
	    s22222[] = { 2, 2, 2, 2, 2 }, s333[] = { 3, 3, 3 };
	struct fixture *f;

	f = fixture_new(s3333, 4, 2, 6, 1, 1);
	check_distribution("4x3 M=2 N=6 RG=1 RN=1", &f->cfg, NULL);
	free(f);
	/* Count vectors such as (2,1,1,0), whose check sums to -1, pass
	 * upstream's wrapped unsigned sum; the reference and we reject them. */
	f = fixture_new(s2222, 4, 1, 4, 1, 1);
	check_distribution("4x2 M=1 N=4 RG=1 RN=1 (signed)", &f->cfg, NULL);
	free(f);
	f = fixture_new(s22233, 5, 2, 8, 2, 1);
	check_distribution("2,2,2,3,3 M=2 N=8 RG=2 RN=1", &f->cfg, NULL);
	free(f);
	f = fixture_new(s22222, 5, 2, 6, 2, 0);
	check_distribution("5x2 M=2 N=6 RG=2 RN=0", &f->cfg, NULL);
	free(f);
	/* (g): RN = 0, RG = 0, and both. */
	f = fixture_new(s555, 3, 2, 6, 0, 2);
	check_distribution("3x5 M=2 N=6 RG=0 RN=2", &f->cfg, NULL);
	free(f);
	f = fixture_new(s2334, 4, 2, 4, 1, 0);
	check_distribution("2,3,3,4 M=2 N=4 RG=1 RN=0", &f->cfg, NULL);
	free(f);
	f = fixture_new(s333, 3, 4, 6, 0, 1);
	check_distribution("3x3 M=4 N=6 RG=0 RN=1", &f->cfg, NULL);
	free(f);
	f = fixture_new(s23, 2, 2, 4, 0, 0);
	check_distribution("2,3 M=2 N=4 RG=0 RN=0", &f->cfg, NULL);
	free(f);
}

/* (c): a group too small for RN is skipped, and indices still name config
 * groups. */
static void
test_filtered_group(void)
{
	static const unsigned s1555[] = { 1, 5, 5, 5 }, s144[] = { 1, 4, 4 };
	struct fixture *f;
	struct bref out[MAXN];
	struct err e;
	size_t i, j, hits = 0, bad = 0;

	f = fixture_new(s1555, 4, 2, 9, 1, 2);
	check_distribution("1,5,5,5 M=2 N=9 RG=1 RN=2 (group 0 filtered)",
	    &f->cfg, NULL);
	free(f);
	f = fixture_new(s144, 3, 2, 4, 0, 2);
	for (i = 0; i < 2000; i++) {
		if (placement_pick(&f->cfg, NULL, out, &e) == -1) {
			bad++;
			continue;
		}
		for (j = 0; j < 4; j++)
			hits += out[j].group == 0;
	}
	T_CHECK(bad == 0 && hits == 0,
	    "filtered group 0 used %zu times, %zu failures", hits, bad);
	free(f);
}

/* The boundary: a group with exactly redundant_nodes backends is usable. Here
 * it is needed: 4 shards over 1 + 3 backends with RN = 1 fit only across both
 * groups (1 + 3), the 3-group keeping 2 after losing one backend. */
static void
test_exactly_rn(void)
{
	static const unsigned s13[] = { 1, 3 };
	struct fixture *f;
	struct bref out[MAXN];
	struct err e;
	size_t i, j, hits = 0, bad = 0;

	f = fixture_new(s13, 2, 2, 4, 0, 1);
	check_distribution("1,3 M=2 N=4 RG=0 RN=1 (a group of exactly RN "
	    "needed)", &f->cfg, NULL);
	for (i = 0; i < 200; i++) {
		if (placement_pick(&f->cfg, NULL, out, &e) == -1) {
			bad++;
			continue;
		}
		for (j = 0; j < 4; j++)
			hits += out[j].group == 0;
	}
	T_CHECK(bad == 0 && hits == 200, "group of exactly RN backends used "
	    "%zu times in 200 picks, %zu failures (%s)", hits, bad,
	    bad ? e.msg : "");
	free(f);
}

/* (d): excluded backends are never used; too many of them is an error. */
static void
test_excluded(void)
{
	static const unsigned s3333[] = { 3, 3, 3, 3 }, s222[] = { 2, 2, 2 };
	struct fixture *f;
	struct bref out[MAXN];
	struct err e;
	size_t i;

	f = fixture_new(s3333, 4, 2, 6, 1, 0);
	f->excl[0] = f->excl[4] = f->excl[5] = 1;
	check_distribution("4x3 M=2 N=6 RG=1 RN=0, 3 excluded", &f->cfg,
	    f->excl);
	free(f);
	f = fixture_new(s3333, 4, 2, 6, 1, 1);
	f->excl[0] = f->excl[4] = f->excl[5] = 1;
	check_distribution("4x3 M=2 N=6 RG=1 RN=1, 3 excluded", &f->cfg,
	    f->excl);
	/* Group 1 loses its last backend and falls below RN; group 0 keeps
	 * one. */
	f->excl[1] = f->excl[3] = 1;
	check_distribution("4x3 M=2 N=6 RG=1 RN=1, 5 excluded", &f->cfg,
	    f->excl);
	for (i = 0; i < 12; i++)
		f->excl[i] = i >= 5;
	T_CHECK(placement_pick(&f->cfg, f->excl, out, &e) == -1 &&
	    strstr(e.msg, "only 5 usable backends for 6 shards") != NULL,
	    "5 usable backends for 6 shards: %s", e.msg);
	for (i = 0; i < 12; i++)
		f->excl[i] = i >= 3;
	T_CHECK(placement_pick(&f->cfg, f->excl, out, &e) == -1 &&
	    strstr(e.msg, "could not find any viable backend distribution") !=
	    NULL, "one group left with redundant_groups=1: %s", e.msg);
	memset(f->excl, 1, sizeof(f->excl));
	T_CHECK(placement_pick(&f->cfg, f->excl, out, &e) == -1 &&
	    strstr(e.msg, "no available groups") != NULL,
	    "all excluded: %s", e.msg);
	free(f);
	/* RN = 0: a group with every backend excluded may still sit in S,
	 * empty. */
	f = fixture_new(s222, 3, 2, 4, 1, 0);
	f->excl[2] = f->excl[3] = 1;
	check_distribution("3x2 M=2 N=4 RG=1 RN=0, group 1 excluded", &f->cfg,
	    f->excl);
	free(f);
}

static void
expect_error(const unsigned *sizes, size_t ng, unsigned m, unsigned n,
    unsigned rg, unsigned rn, const char *want1, const char *want2)
{
	struct fixture *f = fixture_new(sizes, ng, m, n, rg, rn);
	struct bref out[MAXN];
	struct err e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = placement_pick(&f->cfg, NULL, out, &e);
	T_CHECK(rc == -1, "M=%u N=%u RG=%u RN=%u: expected an error", m, n, rg,
	    rn);
	T_CHECK(strstr(e.msg, want1) != NULL && strstr(e.msg, want2) != NULL,
	    "error \"%s\" lacks \"%s\" / \"%s\"", e.msg, want1, want2);
	free(f);
}

/* (e): each infeasible setting says why, with upstream's words first. */
static void
test_errors(void)
{
	static const unsigned s22[] = { 2, 2 }, s33[] = { 3, 3 },
	    s333[] = { 3, 3, 3 }, s23[] = { 2, 3 };

	expect_error(s22, 2, 2, 4, 0, 3, "no available groups",
	    "redundant_nodes=3");
	expect_error(s33, 2, 2, 4, 2, 0, "could not find any viable backend "
	    "distribution to satisfy redundancy requirement",
	    "groups with enough backends: 2)");
	expect_error(s333, 3, 5, 6, 1, 1,
	    "could not find any viable backend distribution", "M=5, N=6");
	/* Candidates exist (2 groups, room 4 >= 3), but no split of 4
	 * survives. */
	expect_error(s333, 3, 3, 4, 1, 1,
	    "unable to find a valid configuration due to redundancy settings",
	    "M=3, N=4, redundant_groups=1, redundant_nodes=1");
	expect_error(s23, 2, 2, 6, 0, 0, "unable to find a valid configuration",
	    "only 5 usable backends for 6 shards");
	expect_error(s33, 2, 4, 4, 0, 0, "invalid shard counts",
	    "expected_shards=4");
}

/* CPU time: what the picks cost, not how long they waited for a core of a
 * shared, loaded machine. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * (f): ng groups of `size` backends, `picks` picks, each checked, timed.
 * Settings that no spread can meet (ok = 0) must fail, just as fast, with
 * upstream's error.
 */
static void
time_large(size_t ng, unsigned size, unsigned m, unsigned n, unsigned rg,
    unsigned rn, int ok, double limit_ms, size_t picks)
{
	unsigned sizes[MAXG], counts[MAXG];
	struct fixture *f;
	struct bref out[MAXN];
	struct err e;
	size_t i, fails = 0, bad = 0;
	const char *why = NULL;
	double t0, per;

	for (i = 0; i < ng; i++)
		sizes[i] = size;
	f = fixture_new(sizes, ng, m, n, rg, rn);
	memset(&e, 0, sizeof(e));
	t0 = now_ms();
	for (i = 0; i < picks; i++) {
		if (placement_pick(&f->cfg, NULL, out, &e) == -1)
			fails++;
		else if ((why = pick_problem(&f->cfg, NULL, out,
		    counts)) != NULL)
			bad++;
	}
	per = (now_ms() - t0) / picks;
	printf("%zux%u M=%u N=%u RG=%u RN=%u: %.4f ms per pick%s\n", ng, size,
	    m, n, rg, rn, per, ok ? "" : " (infeasible: error)");
	if (ok)
		T_CHECK(fails == 0,
		    "%zux%u M=%u N=%u RG=%u RN=%u: %zu failures (%s)", ng, size,
		    m, n, rg, rn, fails, e.msg);
	else
		T_CHECK(fails == picks &&
		    strstr(e.msg, "unable to find a valid configuration") !=
		    NULL, "%zux%u M=%u N=%u RG=%u RN=%u: %zu failures (%s)", ng,
		    size, m, n, rg, rn, fails, e.msg);
	T_CHECK(bad == 0, "%zux%u M=%u N=%u: %zu bad picks (%s)", ng, size, m,
	    n, bad, why);
	/* A guard against an exponential blow-up, not a speed goal (make bench
	 * measures speed): the machine running the tests may be loaded. */
	T_CHECK(per < 50 * limit_ms,
	    "%zux%u M=%u N=%u RG=%u RN=%u: %.3f ms per pick", ng, size, m, n,
	    rg, rn, per);
	free(f);
}

static void
test_large(void)
{
	/* As asked; none can be met: with RG=1 RN=1, N=15 M=10 needs the
	 * fullest group's c plus |S| - 1 <= 5 while c * |S| >= 15. */
	time_large(20, 10, 10, 15, 1, 1, 0, 5, 1000);
	time_large(20, 10, 10, 15, 2, 2, 0, 5, 1000);
	time_large(20, 10, 16, 20, 1, 1, 0, 5, 1000);
	time_large(20, 10, 16, 20, 2, 2, 0, 5, 1000);
	/* Feasible neighbours. */
	time_large(20, 10, 10, 15, 1, 0, 1, 5, 1000);
	time_large(20, 10, 16, 20, 1, 0, 1, 5, 1000);
	time_large(20, 10, 16, 20, 0, 1, 1, 5, 1000);
	time_large(20, 10, 10, 20, 1, 1, 1, 5, 1000);
	time_large(20, 10, 8, 20, 2, 1, 1, 5, 1000);
	/* Wider spreads have many more states; bounded loosely (sanitizer
	 * builds). */
	time_large(20, 10, 4, 20, 3, 1, 1, 50, 100);
	time_large(20, 10, 30, 60, 2, 2, 1, 50, 100);
	time_large(20, 10, 10, 40, 2, 2, 1, 100, 100);
	time_large(26, 10, 128, 256, 1, 1, 1, 50, 100);
	time_large(24, 12, 128, 256, 2, 2, 1, 50, 100);
}

static void
test_flat_index(void)
{
	static const unsigned s[] = { 2, 5, 3 };
	struct fixture *f = fixture_new(s, 3, 1, 2, 0, 0);
	struct bref r = { 2, 1 };

	T_CHECK(placement_flat_index(&f->cfg, r) == 8, "flat index of (2,1)");
	T_CHECK(flat_total(&f->cfg) == 10, "flat total");
	free(f);
}

int
main(void)
{
	test_flat_index();
	test_distributions();
	test_wrap_policies();
	test_filtered_group();
	test_exactly_rn();
	test_excluded();
	test_errors();
	test_large();
	return t_finish();
}
