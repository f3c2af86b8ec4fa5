/*
 * Upstream's placement for policies that only its unsigned wrap can place.
 * Upstream sums (c_g - RN) over the groups of S left after dropping the RG
 * fullest in usize: a negative total wraps to a huge value and passes.
 * Upstream's README policy (10 of 15, redundant_groups = 1,
 * redundant_nodes = 1) has no spread that passes the signed check, so every
 * store upstream makes with it is one of these: placement.c uses this draw only
 * when the signed one has nothing to draw from, and upstream's list then holds
 * exactly the pairs (S, c) below.
 *
 * The pairs: S a subset of the usable groups F with RG < |S| <= max_groups and
 * sum_S(len_g - RN) >= M; c over S with c_g <= len_g (0 allowed) summing to N;
 * the wrapped check passing. Each is drawn with weight prod_S 1/c_g!, as
 * upstream's uniform pick over shard sequences gives. Such policies are rare
 * and their pairs few: nearly all shards sit in the RG fullest groups (the
 * others of S hold fewer than RN * (max_groups - RG)). A bounded search lists
 * the groups holding shards; the groups of S left empty weigh 1 each and only
 * change |S| and the room, so for each listing they are counted, not listed. It
 * runs twice: once to total the weights, once to draw.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "placement_impl.h"

/* Search nodes per pass; past it the settings get an error in about a
 * millisecond.  Upstream's own listing, of shard sequences, takes far longer on
 * such settings. */
#define WRAP_MAX_NODES	((size_t)1 << 14)

struct wrap {
	const struct wrap_in *in;
	unsigned *c;		/* shards of each group; 0: empty or not in S */
	unsigned *sorted;	/* the non-zero counts, sorted */
	unsigned *others;	/* groups holding no shard: may join S empty */
	unsigned *suffix;	/* backends of groups j.. */
	unsigned *tops;		/* see push_top */
	long double *ways;	/* [j][z][s]: subsets of others[0..j) (see
				 * zero_ways) */
	unsigned limit;		/* RN * (max_groups - RG): the rest stays
				 * below */
	unsigned need;		/* room cap: s is counted up to M */
	long double *inv_fact;
	size_t nodes;
	long double target, acc;
	int drawing, found;
	unsigned worst_groups;	/* fewest whole groups a passing pair
				 * survives */
};

static int
cmp_desc_u(const void *x, const void *y)
{
	unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/* Sorts the k non-zero counts; returns those outside the RG fullest. */
static unsigned
wrap_rest(struct wrap *w, unsigned k)
{
	unsigned i, j, rest = 0;

	for (i = 0, j = 0; i < w->in->ng; i++)
		if (w->c[i] > 0)
			w->sorted[j++] = w->c[i];
	qsort(w->sorted, k, sizeof(*w->sorted), cmp_desc_u);
	for (i = w->in->rg; i < k; i++)
		rest += w->sorted[i];
	return rest;
}

static size_t
ways_at(const struct wrap *w, size_t j, unsigned z, unsigned s)
{
	return (j * (w->in->max_groups + 1) + z) * (w->need + 1) + s;
}

/* ways[j][z][s]: subsets of z groups among others[0..j) whose room
 * (len_g - RN) adds up to s, capped at M. */
static void
zero_ways(struct wrap *w, size_t nothers)
{
	const struct wrap_in *in = w->in;
	unsigned z, s, room, to;
	size_t j;

	memset(w->ways, 0, ways_at(w, nothers + 1, 0, 0) * sizeof(*w->ways));
	w->ways[ways_at(w, 0, 0, 0)] = 1;
	for (j = 0; j < nothers; j++) {
		room = in->avail[w->others[j]] - in->rn;
		for (z = 0; z <= in->max_groups; z++)
			for (s = 0; s <= w->need; s++) {
				long double v = w->ways[ways_at(w, j, z, s)];

				if (v == 0)
					continue;
				w->ways[ways_at(w, j + 1, z, s)] += v;
				if (z == in->max_groups)
					continue;
				to = s + room < w->need ? s + room : w->need;
				w->ways[ways_at(w, j + 1, z + 1, to)] += v;
			}
	}
}

/* Upstream's check with z empty groups added to the k that hold shards. */
static int
wrap_z_passes(const struct wrap *w, unsigned k, unsigned z, unsigned rest)
{
	const struct wrap_in *in = w->in;
	int64_t sum;

	if (k + z <= in->rg || k + z > in->max_groups)
		return 0;
	/* Empty groups count in the sum (0 - RN each) unless they sit in the
	 * top. */
	sum = (int64_t)rest - (int64_t)in->rn * (int64_t)(k + z - in->rg);
	return sum < 0 || sum >= (int64_t)in->m;
}

/*
 * A listing of the groups holding shards is complete: add its pairs, one per
 * choice of empty groups.  Which empty groups join S changes nothing placed, so
 * a draw only needs the counts.
 */
static void
wrap_leaf(struct wrap *w, unsigned k, uint64_t spare)
{
	const struct wrap_in *in = w->in;
	unsigned rest = wrap_rest(w, k), z, s, i, left;
	size_t nothers = 0, g;
	long double wt = 1, sub;
	int passed = 0;

	for (g = 0; g < in->ng; g++)
		if (w->c[g] > 0)
			wt *= w->inv_fact[w->c[g]];
		else
			w->others[nothers++] = (unsigned)g;
	/* Counting the empty groups costs about a node per group and room
	 * value. */
	w->nodes += nothers * (w->need + 1);
	if (w->nodes > WRAP_MAX_NODES)
		return;
	zero_ways(w, nothers);
	for (z = 0; z <= in->max_groups && !w->found; z++) {
		if (!wrap_z_passes(w, k, z, rest))
			continue;
		for (s = 0; s <= w->need && !w->found; s++) {
			if (spare + s < in->m ||
			    (sub = w->ways[ways_at(w, nothers, z, s)]) == 0)
				continue;
			passed = 1;
			w->acc += wt * sub;
			if (w->drawing) {
				/* The last pair stands if rounding leaves acc
				 * short. */
				memcpy(in->count, w->c, in->ng * sizeof(*w->c));
				w->found = w->acc > w->target;
			}
		}
	}
	if (!passed)
		return;
	/* Whole groups this placement survives losing, the fullest first. */
	for (i = 0, left = in->n; i < k && left - w->sorted[i] >= in->m; i++)
		left -= w->sorted[i];
	if (i < w->worst_groups)
		w->worst_groups = i;
}

/*
 * The RG largest counts listed so far, at each depth k: tops + k * RG, largest
 * first.  Adding c keeps the RG largest; the one pushed out goes to the rest.
 */
static unsigned
push_top(struct wrap *w, unsigned k, unsigned c)
{
	const unsigned *from = w->tops + (size_t)k * w->in->rg;
	unsigned *to = w->tops + (size_t)(k + 1) * w->in->rg;
	unsigned held = k < w->in->rg ? k : w->in->rg, i, out = c;

	for (i = 0; i < held; i++)
		to[i] = from[i];
	if (held < w->in->rg) {
		to[held++] = c;
		out = 0;
	} else if (held > 0 && c > to[held - 1]) {
		out = to[held - 1];
		to[held - 1] = c;
	}
	for (i = held - 1; i > 0 && to[i] > to[i - 1]; i--) {
		unsigned tmp = to[i];

		to[i] = to[i - 1];
		to[i - 1] = tmp;
	}
	return out;
}

/* Adds groups from `from` on to the listing: t shards over the k groups
 * holding some, rest of them outside the RG largest, with their room.  Each
 * listing is reached once, by adding its groups in config order. */
static void
wrap_walk(struct wrap *w, size_t from, unsigned t, unsigned k, unsigned rest,
    uint64_t spare)
{
	const struct wrap_in *in = w->in;
	unsigned c, cmax, r;
	size_t j;

	if (w->found || ++w->nodes > WRAP_MAX_NODES || rest >= w->limit)
		return;
	if (t == in->n) {
		wrap_leaf(w, k, spare);
		return;
	}
	if (k == in->max_groups || t + w->suffix[from] < in->n)
		return;
	for (j = from; j < in->ng && !w->found; j++) {
		cmax = in->avail[j] < in->n - t ? in->avail[j] : in->n - t;
		for (c = 1; c <= cmax && !w->found; c++) {
			w->c[j] = c;
			r = push_top(w, k, c);
			wrap_walk(w, j + 1, t + c, k + 1, rest + r,
			    spare + in->avail[j] - in->rn);
		}
		w->c[j] = 0;
	}
}

static int
wrap_pass(struct wrap *w, struct err *e)
{
	w->nodes = 0;
	w->acc = 0;
	wrap_walk(w, 0, 0, 0, 0, 0);
	if (w->nodes > WRAP_MAX_NODES)
		return err_set(e, "upstream places it through its unsigned "
		    "wrap, but among more spreads over these %zu groups than "
		    "can be listed; add groups or backends, or lower "
		    "redundant_groups/redundant_nodes", w->in->ng);
	return 0;
}

/* No pair can pass when the RG largest groups cannot hold all but fewer than
 * `limit` shards (upstream's README policy over groups smaller than N - 4). */
static int
wrap_possible(const struct wrap *w)
{
	const struct wrap_in *in = w->in;
	unsigned *caps, top = 0, i;

	if (in->rn == 0 || in->max_groups <= in->rg)
		return 0;
	if ((caps = malloc((in->ng + 1) * sizeof(*caps))) == NULL)
		return 1;
	for (i = 0; i < in->ng; i++)
		caps[i] = in->avail[i];
	qsort(caps, in->ng, sizeof(*caps), cmp_desc_u);
	for (i = 0; i < in->rg && i < in->ng; i++)
		top += caps[i];
	free(caps);
	return top + w->limit > in->n;
}

int
placement_wrap_draw(const struct wrap_in *in, struct wrap_out *out,
    struct err *e)
{
	struct wrap w;
	size_t cells;
	unsigned c;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	memset(out, 0, sizeof(*out));
	w.in = in;
	w.worst_groups = UINT32_MAX;
	w.need = in->m;
	if (in->max_groups > in->ng)
		return err_set(e, "placement: max_groups beyond the groups");
	w.limit = in->rn * (unsigned)(in->max_groups - in->rg);
	if (!wrap_possible(&w))
		return 0;
	cells = (in->ng + 1) * (in->max_groups + 1) * (w.need + 1);
	w.c = calloc(in->ng + 1, sizeof(*w.c));
	w.sorted = calloc(in->ng + 1, sizeof(*w.sorted));
	w.others = calloc(in->ng + 1, sizeof(*w.others));
	w.suffix = calloc(in->ng + 1, sizeof(*w.suffix));
	w.tops = calloc((in->max_groups + 2) * (in->rg + 1), sizeof(*w.tops));
	w.ways = calloc(cells, sizeof(*w.ways));
	w.inv_fact = calloc(in->n + 1, sizeof(*w.inv_fact));
	if (!w.c || !w.sorted || !w.others || !w.suffix || !w.tops || !w.ways ||
	    !w.inv_fact) {
		err_set(e, "placement: out of memory");
		goto out;
	}
	for (c = (unsigned)in->ng; c-- > 0;)
		w.suffix[c] = w.suffix[c + 1] + in->avail[c];
	w.inv_fact[0] = 1;
	for (c = 1; c <= in->n; c++)
		w.inv_fact[c] = w.inv_fact[c - 1] / c;
	if (wrap_pass(&w, e) == -1)
		goto out;
	out->placeable = w.acc > 0;
	out->worst_groups = out->placeable ? w.worst_groups : 0;
	rc = 0;
	if (!out->placeable || in->count == NULL)
		goto out;
	w.target = placement_rand_unit() * w.acc;
	w.drawing = 1;
	rc = wrap_pass(&w, e);
out:
	free(w.c);
	free(w.sorted);
	free(w.others);
	free(w.suffix);
	free(w.tops);
	free(w.ways);
	free(w.inv_fact);
	return rc;
}
