/*
 * Backend selection for one object: upstream's shard_stores with its bugs fixed
 * (signed arithmetic, the right group indices), drawing from the same
 * distribution.
 *
 * What upstream draws. Notation: M = minimal_shards, N = expected_shards,
 * RG = redundant_groups, RN = redundant_nodes, len_g = usable backends of group
 * g, F = the groups with len_g >= RN. Upstream lists the subsets S of F with
 * RG < |S| <= max_groups and sum_S(len_g - RN) >= M; for each, every sequence
 * that drops the N shards one at a time into S's groups (at most len_g into
 * group g); it keeps the sequences whose counts c pass the redundancy check and
 * picks one uniformly. A count vector c over S is the end of N!/prod_S(c_g!)
 * sequences, so a pair (S, c) is drawn with probability proportional to that
 * multinomial.
 *
 * The check, in signed arithmetic (upstream sums usize, so a negative total
 * wraps and passes): the sum over S minus its RG fullest groups of (c_g - RN)
 * is >= M. That sum is N - top(c) - RN * (|S| - RG), top(c) being the sum of
 * the RG largest counts in S, so the check reads
 *
 *	RN * |S| + top(c) <= Q,		Q = N - M + RN * RG.
 *
 * It implies upstream's candidate rules, so we need not track them:
 * c_g <= len_g and len_g >= RN give sum_S(len_g - RN) >= M; top(c) >= 0 gives
 * RN * (|S| - RG) <= N - M, which is |S| <= max_groups when RN > 0
 * (max_groups = |F| when RN = 0); and the program below only counts pairs where
 * at least RG groups hold shards, so |S| >= RG, and if only RG did then
 * top(c) = N and RN * |S| + N > Q (M >= 1), so |S| > RG. The target is
 * therefore every pair (S, c) that passes the check, with weight prod_S 1/c_g!.
 *
 * Counting under top(c). In a valid pair the RG-th largest count v is >= 1
 * (more than RG groups hold shards). For a given c exactly one v has fewer than
 * RG groups above it and at least RG at or above it, and with a = #{g :
 * c_g > v}
 *
 *	top(c) = sum_{c_g > v} c_g + (RG - a) * v.
 *
 * So for each v a dynamic program walks the groups of F in order with the state
 *	t  shards placed so far,
 *	a  groups above v (must stay < RG),
 *	e  min(#groups at or above v, RG) (must end at RG),
 *	w  RN * |S| + sum of the counts above v,
 * and keeps only states with w + (RG - a) * v <= Q: the left side never
 * decreases as groups are added (a group above v adds c_g + RN to w and takes
 * only v off the rest), so a state that fails it can never recover. Each group
 * is left out of S (weight 1) or joins S with 0 <= c <= len_g shards (weight
 * 1/c!); layer g holds the summed weights after the first g groups. RG = 0 is
 * the same program without a pivot: v = N + 1, which no count reaches. Since
 * w >= RN * (RG + 1) + a and top(c) >= RG*v, v runs from 1 to min(max len_g,
 * (Q - RN * (RG + 1)) / RG).
 *
 * Drawing: choose v in proportion to its total, then a final state, then walk
 * back group by group choosing each predecessor in proportion to its weight
 * times the option's. That is an exact draw (up to long double rounding) in
 * O(V * |F| * N * a * e * w * len) time, never listing sequences. Weights are
 * products of 1/c! >= 1/N!, far inside long double range on x86-64 and arm64.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "placement_impl.h"
#include "prand.h"

/* Table cells, 16 bytes each: 128 MiB. Only very wide settings need more (N in
 * the hundreds over about a hundred groups with redundant_groups >= 4); they
 * get an error saying so rather than minutes of work. */
#define PLAN_MAX_CELLS	((size_t)1 << 23)

struct usable {
	unsigned idx;		/* into cfg->groups */
	unsigned avail;		/* its backends not excluded: len_g */
};

struct cell {
	unsigned t, a, e, w;	/* see the top of the file */
};

struct plan {
	unsigned n, m, rg, rn;
	unsigned q;		/* N - M + RN * RG */
	unsigned v;		/* pivot of the tables' current contents */
	size_t ng;		/* |F| */
	struct usable *ug;	/* F, in config order */
	unsigned maxlen, total;	/* largest len_g and sum of len_g over F */
	unsigned *lo, *hi;	/* t range of layer g: shards that can still
				 * reach N */
	size_t *off;		/* first cell of layer g; off[ng + 1] = all
				 * cells */
	size_t edim, wdim;	/* sizes of the e and w axes
				 * (a has max(RG, 1)) */
	size_t stride;		/* cells per value of t: all (a, e, w) */
	long double *tab;	/* all layers; zero where not live */
	size_t *live;		/* layer g's live cells: live[off[g] ...],
				 * nlive[g] */
	size_t *nlive;
	long double *inv_fact;	/* 1/c! for c = 0..N */
	int unplaceable;	/* no pair passes the signed check */
	unsigned *least;	/* least[r], r = 0..N: see plan_least */
};

long double
placement_rand_unit(void)
{
	/* 53 random bits: uniform in [0, 1), never 1. */
	return (long double)(prand_u64() >> 11) * 0x1p-53L;
}

size_t
placement_flat_index(const struct config *cfg, struct bref r)
{
	size_t g, i = 0;

	for (g = 0; g < r.group && g < cfg->ngroups; g++)
		i += cfg->groups[g].nbackends;
	return i + r.backend;
}

/* Layer g holds, for each t from lo[g] to hi[g], a block of (a, e, w) cells. */
static size_t
cell_index(const struct plan *p, size_t g, const struct cell *c)
{
	return p->off[g] + (c->t - p->lo[g]) * p->stride +
	    (c->a * p->edim + c->e) * p->wdim + c->w;
}

static void
cell_decode(const struct plan *p, size_t g, size_t idx, struct cell *c)
{
	size_t i = idx - p->off[g], rest = i % p->stride;

	c->t = p->lo[g] + (unsigned)(i / p->stride);
	c->w = (unsigned)(rest % p->wdim);
	rest /= p->wdim;
	c->e = (unsigned)(rest % p->edim);
	c->a = (unsigned)(rest / p->edim);
}

/* Adds weight to cell idx of layer g, listing the cell when it turns live. */
static void
cell_add(struct plan *p, size_t g, size_t idx, long double wt)
{
	if (p->tab[idx] == 0 && wt > 0)
		p->live[p->off[g] + p->nlive[g]++] = idx;
	p->tab[idx] += wt;
}

static int
cell_same(const struct cell *x, const struct cell *y)
{
	return x->t == y->t && x->a == y->a && x->e == y->e && x->w == y->w;
}

static long double
option_weight(const struct plan *p, int c)
{
	return c < 0 ? 1.0L : p->inv_fact[c];
}

/*
 * Where group g's option c takes state `from`: c = -1 leaves the group out of
 * S, c >= 0 puts it in S with c shards. Returns 0 when the result cannot be
 * part of a valid pair.
 */
static int
cell_move(const struct plan *p, size_t g, const struct cell *from, int c,
    struct cell *to)
{
	*to = *from;
	if (c >= 0) {
		if ((unsigned)c > p->ug[g].avail ||
		    from->t + (unsigned)c > p->hi[g + 1])
			return 0;
		to->t += c;
		to->w += p->rn;
		if ((unsigned)c >= p->v) {
			to->e = to->e + 1 < p->rg ? to->e + 1 : p->rg;
			if ((unsigned)c > p->v) {
				if (++to->a >= p->rg)
					return 0;
				to->w += c;
			}
		}
	}
	if (to->t < p->lo[g + 1] || to->w >= p->wdim)
		return 0;
	return to->w + (unsigned long long)(p->rg - to->a) * p->v +
	    p->least[p->n - to->t] <= p->q;
}

/*
 * Phi = w + (RG - a) * v only grows: a group joining S with c shards adds RN,
 * or c + RN - v when c > v. least[r] is the least it can still grow while
 * placing r more shards, over any number of groups of up to max len_g shards (a
 * lower bound: it forgets how many groups are left and that fewer than RG may
 * sit above v). States with Phi + least[N - t] > Q cannot end valid; dropping
 * them early keeps the tables small without changing any total.
 */
static void
plan_least(struct plan *p)
{
	unsigned r, c, rise, best;

	p->least[0] = 0;
	for (r = 1; r <= p->n; r++) {
		best = UINT32_MAX;	/* maxlen >= 1 (total >= N) sets it */
		for (c = 1; c <= r && c <= p->maxlen; c++) {
			rise = p->rn + (c > p->v ? c - p->v : 0);
			if (p->least[r - c] + rise < best)
				best = p->least[r - c] + rise;
		}
		p->least[r] = best;
	}
}

/* Layer g + 1 from layer g: every option of group g from every live state. */
static void
plan_step(struct plan *p, size_t g)
{
	const size_t *live = p->live + p->off[g];
	struct cell from, to;
	long double wt;
	size_t i;
	int c, cmax;

	for (i = 0; i < p->nlive[g]; i++) {
		wt = p->tab[live[i]];
		cell_decode(p, g, live[i], &from);
		/* No more shards than the group has or N leaves room for. */
		cmax = (int)(p->hi[g + 1] - from.t);
		if (cmax > (int)p->ug[g].avail)
			cmax = (int)p->ug[g].avail;
		for (c = -1; c <= cmax; c++)
			if (cell_move(p, g, &from, c, &to))
				cell_add(p, g + 1, cell_index(p, g + 1, &to),
				    wt * option_weight(p, c));
	}
}

/* Fills the tables for pivot v; returns the total weight of the valid pairs. */
static long double
plan_run(struct plan *p, unsigned v)
{
	const size_t *live = p->live + p->off[p->ng];
	struct cell c;
	long double total = 0;
	size_t g, i;

	/* Only the cells the last run made live need clearing. */
	for (g = 0; g <= p->ng; g++) {
		for (i = 0; i < p->nlive[g]; i++)
			p->tab[p->live[p->off[g] + i]] = 0;
		p->nlive[g] = 0;
	}
	p->v = v;
	plan_least(p);
	/* Layer 0 is the single state "nothing placed" (lo[0] = 0: enough
	 * backends). */
	cell_add(p, 0, 0, 1);
	for (g = 0; g < p->ng; g++)
		plan_step(p, g);
	for (i = 0; i < p->nlive[p->ng]; i++) {
		cell_decode(p, p->ng, live[i], &c);
		if (c.e == p->rg)
			total += p->tab[live[i]];
	}
	return total;
}

/* Picks one final state (t = N, e = RG) in proportion to its weight. */
static void
walk_start(const struct plan *p, long double total, struct cell *cur)
{
	const size_t *live = p->live + p->off[p->ng];
	struct cell c;
	long double target = placement_rand_unit() * total, acc = 0;
	size_t i;

	for (i = 0; i < p->nlive[p->ng]; i++) {
		cell_decode(p, p->ng, live[i], &c);
		if (c.e != p->rg)
			continue;
		*cur = c;	/* the last live one if rounding leaves acc
				 * short */
		if ((acc += p->tab[live[i]]) > target)
			return;
	}
}

/*
 * Chooses how group g led to `cur` in layer g + 1, in proportion to the weight
 * of the predecessor times the option's; sets count[g] and moves cur back to
 * layer g.
 */
static void
walk_step(const struct plan *p, size_t g, struct cell *cur, unsigned *count)
{
	const size_t *live = p->live + p->off[g];
	struct cell from, to, prev = *cur;
	long double target, acc = 0;
	size_t i;
	int c, opt, prev_c = -1;

	target = placement_rand_unit() * p->tab[cell_index(p, g + 1, cur)];
	for (i = 0; i < p->nlive[g]; i++) {
		cell_decode(p, g, live[i], &from);
		if (from.t > cur->t)
			continue;
		/* Only two options can end here: out of S, or in S with the
		 * shards added. */
		for (opt = 0; opt < 2; opt++) {
			c = opt == 0 ? -1 : (int)(cur->t - from.t);
			if (!cell_move(p, g, &from, c, &to) ||
			    !cell_same(&to, cur))
				continue;
			prev = from;
			prev_c = c;
			acc += p->tab[live[i]] * option_weight(p, c);
			if (acc > target)
				goto found;
		}
	}
found:
	count[g] = prev_c > 0 ? (unsigned)prev_c : 0;
	*cur = prev;
}

static int
err_unable(const struct plan *p, struct err *e)
{
	char why[256];

	if (p->total < p->n)
		snprintf(why, sizeof(why),
		    "only %u usable backends for %u shards", p->total, p->n);
	else
		snprintf(why, sizeof(why), "no spread of the %u shards keeps "
		    "%u of them after losing the %u fullest groups and %u "
		    "backends in every other group", p->n, p->m, p->rg, p->rn);
	return err_set(e, "unable to find a valid configuration due to "
	    "redundancy settings (M=%u, N=%u, redundant_groups=%u, "
	    "redundant_nodes=%u, groups with enough backends: %zu, usable "
	    "backends in them: %u): %s", p->m, p->n, p->rg, p->rn, p->ng,
	    p->total, why);
}

/* The usable groups F, after taking the excluded backends away. */
static int
plan_groups(struct plan *p, const struct config *cfg,
    const unsigned char *excluded, struct err *e)
{
	size_t g, b, flat = 0;
	unsigned avail;

	p->n = cfg->expected_shards;
	p->m = cfg->minimal_shards;
	p->rg = cfg->redundant_groups;
	p->rn = cfg->redundant_nodes;
	if (p->m == 0 || p->m >= p->n)
		return err_set(e, "invalid shard counts (minimal_shards=%u, "
		    "expected_shards=%u): need 1 <= minimal_shards < "
		    "expected_shards", p->m, p->n);
	if ((p->ug = calloc(cfg->ngroups + 1, sizeof(*p->ug))) == NULL)
		return err_set(e, "placement: out of memory");
	for (g = 0; g < cfg->ngroups; g++) {
		avail = 0;
		for (b = 0; b < cfg->groups[g].nbackends; b++, flat++)
			if (excluded == NULL || !excluded[flat])
				avail++;
		if (avail < p->rn)
			continue;
		p->ug[p->ng].idx = (unsigned)g;
		p->ug[p->ng++].avail = avail;
		p->total += avail;
		if (avail > p->maxlen)
			p->maxlen = avail;
	}
	if (p->ng == 0)
		return err_set(e, "no available groups (none has "
		    "redundant_nodes=%u usable backends)", p->rn);
	return 0;
}

static int
cmp_desc(const void *x, const void *y)
{
	unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/*
 * Upstream's candidate test, kept for its error: some S with RG
 * < |S| <= max_groups and sum_S(len_g - RN) >= M. Adding a group never lowers
 * the sum, so the best S is the max_groups groups with the most room.
 */
static int
plan_candidates(const struct plan *p, struct err *e)
{
	unsigned long long maxg, sum = 0;
	unsigned *room;
	size_t k, i;

	maxg = p->rn == 0 ? p->ng :
	    (unsigned long long)(p->n - p->m) / p->rn + p->rg;
	k = maxg < p->ng ? (size_t)maxg : p->ng;
	if (k > p->rg) {
		if ((room = malloc(p->ng * sizeof(*room))) == NULL)
			return err_set(e, "placement: out of memory");
		for (i = 0; i < p->ng; i++)
			room[i] = p->ug[i].avail - p->rn;
		qsort(room, p->ng, sizeof(*room), cmp_desc);
		for (i = 0; i < k; i++)
			sum += room[i];
		free(room);
	}
	if (k <= p->rg || sum < p->m)
		return err_set(e, "could not find any viable backend "
		    "distribution to satisfy redundancy requirement (M=%u, "
		    "N=%u, redundant_groups=%u, redundant_nodes=%u, groups "
		    "with enough backends: %zu)", p->m, p->n, p->rg, p->rn,
		    p->ng);
	return 0;
}

/* Axis sizes and layer ranges; then the tables. */
static int
plan_alloc(struct plan *p, struct err *e)
{
	size_t g, wcap, done = 0, rem, c;

	if (p->total < p->n)
		return err_unable(p, e);
	/* RN * RG <= max len_g * |F| here: RN <= len_g, and RG < |F| passed
	 * above. */
	p->q = p->n - p->m + p->rn * p->rg;
	/* w = RN * |S| + (at most RG - 1 counts above v), whatever Q allows. */
	wcap = (size_t)p->rn * p->ng +
	    (p->rg ? (size_t)(p->rg - 1) * p->maxlen : 0);
	p->wdim = (wcap < p->q ? wcap : p->q) + 1;
	p->edim = p->rg + 1;
	p->stride = (p->rg ? p->rg : 1) * p->edim * p->wdim;
	p->lo = calloc(p->ng + 1, sizeof(*p->lo));
	p->hi = calloc(p->ng + 1, sizeof(*p->hi));
	p->off = calloc(p->ng + 2, sizeof(*p->off));
	p->inv_fact = calloc(p->n + 1, sizeof(*p->inv_fact));
	p->least = calloc(p->n + 1, sizeof(*p->least));
	if (!p->lo || !p->hi || !p->off || !p->inv_fact || !p->least)
		return err_set(e, "placement: out of memory");
	for (g = 0; g <= p->ng; g++) {
		/* t shards after g groups: at most what they hold, and at least
		 * what the rest cannot take (total >= N, so lo <= hi). */
		rem = p->total - done;
		p->lo[g] = p->n - (unsigned)(rem < p->n ? rem : p->n);
		p->hi[g] = (unsigned)(done < p->n ? done : p->n);
		c = (size_t)(p->hi[g] - p->lo[g] + 1) * p->stride;
		if (p->stride > PLAN_MAX_CELLS ||
		    c > PLAN_MAX_CELLS - p->off[g])
			return err_set(e, "redundancy settings too large to "
			    "plan (N=%u, redundant_groups=%u, "
			    "redundant_nodes=%u over %zu groups)", p->n, p->rg,
			    p->rn, p->ng);
		p->off[g + 1] = p->off[g] + c;
		if (g < p->ng)
			done += p->ug[g].avail;
	}
	p->tab = calloc(p->off[p->ng + 1], sizeof(*p->tab));
	p->live = malloc(p->off[p->ng + 1] * sizeof(*p->live));
	p->nlive = calloc(p->ng + 1, sizeof(*p->nlive));
	if (!p->tab || !p->live || !p->nlive)
		return err_set(e, "placement: out of memory");
	p->inv_fact[0] = 1;
	for (c = 1; c <= p->n; c++)
		p->inv_fact[c] = p->inv_fact[c - 1] / c;
	return 0;
}

static void
plan_free(struct plan *p)
{
	free(p->ug);
	free(p->lo);
	free(p->hi);
	free(p->off);
	free(p->inv_fact);
	free(p->least);
	free(p->tab);
	free(p->live);
	free(p->nlive);
}

/* Index drawn in proportion to w[0..n-1] (total > 0); skips zero weights. */
static size_t
pick_weighted(const long double *w, size_t n, long double total)
{
	long double target = placement_rand_unit() * total, acc = 0;
	size_t i, last = 0;

	for (i = 0; i < n; i++) {
		if (w[i] == 0)
			continue;
		last = i;
		if ((acc += w[i]) > target)
			break;
	}
	return last;
}

/* Draws the count of every group of F (0: not used). */
static int
plan_draw(struct plan *p, unsigned *count, struct err *e)
{
	long double *wv, total = 0;
	unsigned vlo = 1, vhi = 0, v;
	struct cell cur = { 0, 0, 0, 0 };
	size_t g;

	if (p->rg == 0)
		vlo = vhi = p->n + 1;
	else if (p->q >= p->rn * (p->rg + 1)) {
		vhi = (p->q - p->rn * (p->rg + 1)) / p->rg;
		if (vhi > p->maxlen)
			vhi = p->maxlen;
	}
	if (vhi < vlo) {
		p->unplaceable = 1;
		return err_unable(p, e);
	}
	if ((wv = calloc(vhi - vlo + 1, sizeof(*wv))) == NULL)
		return err_set(e, "placement: out of memory");
	for (v = vlo; v <= vhi; v++)
		total += wv[v - vlo] = plan_run(p, v);
	if (total == 0) {
		free(wv);
		p->unplaceable = 1;
		return err_unable(p, e);
	}
	v = vlo + (unsigned)pick_weighted(wv, vhi - vlo + 1, total);
	if (v != p->v)
		plan_run(p, v);
	walk_start(p, wv[v - vlo], &cur);
	for (g = p->ng; g-- > 0;)
		walk_step(p, g, &cur, count);
	free(wv);
	return 0;
}

/* c distinct backends of group gi chosen uniformly among the usable ones. */
static int
choose_in_group(const struct config *cfg, const unsigned char *excluded,
    unsigned gi, unsigned c, struct bref *out, struct err *e)
{
	const struct group *grp = &cfg->groups[gi];
	struct bref first = { gi, 0 };
	size_t base = placement_flat_index(cfg, first), b;
	unsigned *pool, n = 0, i, j, tmp;

	if ((pool = malloc((grp->nbackends + 1) * sizeof(*pool))) == NULL)
		return err_set(e, "placement: out of memory");
	for (b = 0; b < grp->nbackends; b++)
		if (excluded == NULL || !excluded[base + b])
			pool[n++] = (unsigned)b;
	/* The first c steps of a Fisher-Yates shuffle. */
	for (i = 0; i < c && i < n; i++) {
		j = i + prand_uniform(n - i);
		tmp = pool[i];
		pool[i] = pool[j];
		pool[j] = tmp;
		out[i].group = gi;
		out[i].backend = pool[i];
	}
	free(pool);
	return 0;
}

/*
 * Shards in upstream's order: fullest group first, config order among equals
 * (what its stable sort gives), shard i on the i-th backend.
 */
static int
place_shards(const struct config *cfg, const unsigned char *excluded,
    const struct plan *p, const unsigned *count, struct bref *out,
    struct err *e)
{
	size_t *order, nused = 0, i, j, k = 0, tmp;
	int rc = 0;

	if ((order = malloc(p->ng * sizeof(*order))) == NULL)
		return err_set(e, "placement: out of memory");
	for (i = 0; i < p->ng; i++)
		if (count[i] > 0)
			order[nused++] = i;
	for (i = 1; i < nused; i++)
		for (j = i; j > 0 && count[order[j]] > count[order[j - 1]];
		    j--) {
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	for (i = 0; i < nused && rc == 0; i++) {
		rc = choose_in_group(cfg, excluded, p->ug[order[i]].idx,
		    count[order[i]], out + k, e);
		k += count[order[i]];
	}
	free(order);
	return rc;
}

/* Upstream's wrapped draw over F, for a policy the signed check cannot place.
 * count NULL only evaluates. */
static int
wrap_pick(const struct plan *p, unsigned *count, struct wrap_out *wo,
    struct err *e)
{
	struct wrap_in in;
	unsigned *avail;
	size_t g;
	int rc;

	if ((avail = calloc(p->ng + 1, sizeof(*avail))) == NULL)
		return err_set(e, "placement: out of memory");
	for (g = 0; g < p->ng; g++)
		avail[g] = p->ug[g].avail;
	memset(&in, 0, sizeof(in));
	in.ng = p->ng;
	in.avail = avail;
	in.n = p->n;
	in.m = p->m;
	in.rg = p->rg;
	in.rn = p->rn;
	in.max_groups = p->rn == 0 ? p->ng :
	    (unsigned long long)(p->n - p->m) / p->rn + p->rg;
	if (in.max_groups > p->ng)
		in.max_groups = p->ng;
	in.count = count;
	rc = placement_wrap_draw(&in, wo, e);
	free(avail);
	return rc;
}

/* Draws the counts, by the signed check or, when it has nothing, upstream's
 * wrapped one; *how says which (PLACED_SIGNED, PLACED_WRAP). */
static int
plan_pick(const struct config *cfg, const unsigned char *excluded,
    struct plan *p, unsigned **count, int *how, struct wrap_out *wo,
    struct err *e)
{
	struct err ours, wrap;

	*how = PLACED_NONE;
	memset(wo, 0, sizeof(*wo));
	if (plan_groups(p, cfg, excluded, e) == -1 ||
	    plan_candidates(p, e) == -1 ||
	    plan_alloc(p, e) == -1)
		return -1;
	if ((*count = calloc(p->ng, sizeof(**count))) == NULL)
		return err_set(e, "placement: out of memory");
	if (plan_draw(p, *count, &ours) == 0) {
		*how = PLACED_SIGNED;
		return 0;
	}
	if (!p->unplaceable)
		return err_set(e, "%s", ours.msg);
	if (wrap_pick(p, *count, wo, &wrap) == -1)
		return err_set(e, "%s; %s", ours.msg, wrap.msg);
	if (!wo->placeable)
		return err_set(e, "%s", ours.msg);
	*how = PLACED_WRAP;
	return 0;
}

int
placement_pick(const struct config *cfg, const unsigned char *excluded,
    struct bref *out, struct err *e)
{
	struct wrap_out wo;
	struct plan p;
	unsigned *count = NULL;
	int rc = -1, how;

	/* Idempotent and thread-safe; cheap once done. */
	if (sodium_init() < 0)
		return err_set(e, "placement: libsodium failed to initialise");
	memset(&p, 0, sizeof(p));
	if (plan_pick(cfg, excluded, &p, &count, &how, &wo, e) == 0)
		rc = place_shards(cfg, excluded, &p, count, out, e);
	free(count);
	plan_free(&p);
	return rc;
}

int
placement_policy(const struct config *cfg, struct placement_policy *pp,
    struct err *e)
{
	struct wrap_out wo;
	struct plan p;
	unsigned *count = NULL;
	int rc;

	if (sodium_init() < 0)
		return err_set(e, "placement: libsodium failed to initialise");
	memset(&p, 0, sizeof(p));
	memset(pp, 0, sizeof(*pp));
	rc = plan_pick(cfg, NULL, &p, &count, &pp->how, &wo, e);
	pp->worst_groups = wo.worst_groups;
	free(count);
	plan_free(&p);
	return rc;
}
