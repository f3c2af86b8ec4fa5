/* Store pass 2: choose backends, then cut the sealed stream into stripes, add
 * parity and write one piece per shard per stripe, all backends in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "blake2b_x4.h"
#include "log.h"
#include "obj.h"
#include "placement.h"
#include "prand.h"
#include "rs.h"
#include "scratch.h"

/* Checks the free space of the chosen backends, opened all at once; marks the
 * failing ones and keeps the first reason in why. NSINFO is read once per
 * backend per store: those opened for this store told their space then.
 * Returns the number of failures, -1 without memory. */
static int
check_space(const struct config *cfg, struct pool *pool,
    const struct bref *refs, struct backend **chosen, unsigned char *excluded,
    uint64_t need, struct err *why)
{
	unsigned n = cfg->expected_shards, i, k, nops = 0, nq = 0, failures = 0;
	struct bop *ops = calloc(2 * n, sizeof(*ops)), *q = ops + n;
	unsigned *which = calloc(2 * n, sizeof(*which)), *qat = which + n;
	const struct backend_ci **cis = calloc(n, sizeof(*cis));
	const struct nsinfo *ni;
	struct err e;

	if (ops == NULL || which == NULL || cis == NULL) {
		free(ops), free(which), free(cis);
		return -1;
	}
	for (i = 0; i < n; i++)
		cis[i] = &cfg->groups[refs[i].group].backends[refs[i].backend];
	pool_open_all(pool, cis, n, NS_SEQUENTIAL);
	for (i = 0; i < n; i++) {
		chosen[i] = pool_get(pool, cis[i], NS_SEQUENTIAL, &e);
		if (chosen[i] == NULL) {
			excluded[placement_flat_index(cfg, refs[i])] = 1;
			if (failures++ == 0 && why->msg[0] == '\0')
				*why = e;
			continue;
		}
		ops[nops].b = chosen[i];
		ops[nops].kind = BOP_NSINFO;
		if ((ni = pool_known_space(pool, cis[i], NS_SEQUENTIAL,
		    need)) != NULL)
			ops[nops].info = *ni;
		else
			qat[nq++] = nops;
		which[nops++] = i;
	}
	for (k = 0; k < nq; k++)
		q[k] = ops[qat[k]];
	backend_run(q, nq, pool->timeout_ms);
	for (k = 0; k < nq; k++) {
		ops[qat[k]] = q[k];
		if (q[k].rc == 0)
			pool_space_read(pool, cis[which[qat[k]]],
			    NS_SEQUENTIAL, &q[k].info);
	}
	for (i = 0; i < nops; i++) {
		struct bref r = refs[which[i]];

		if (ops[i].rc == 0 && nsinfo_free_space(&ops[i].info) >= need) {
			pool_space_take(pool, cis[which[i]], NS_SEQUENTIAL,
			    need);
			continue;
		}
		if (ops[i].rc == 0)
			err_set(&ops[i].err, "%s: namespace only has %llu "
			    "bytes of space left, but %llu bytes are needed",
			    backend_name(ops[i].b),
			    (unsigned long long)nsinfo_free_space(&ops[i].info),
			    (unsigned long long)need);
		log_warnx("%s; choosing other backends", ops[i].err.msg);
		pool_fail(pool, cis[which[i]], NS_SEQUENTIAL, &ops[i].err);
		excluded[placement_flat_index(cfg, r)] = 1;
		if (failures++ == 0 && why->msg[0] == '\0')
			*why = ops[i].err;
	}
	free(ops);
	free(which);
	free(cis);
	return (int)failures;
}

/* Upstream's find_valid_backends: pick, check, drop the failures, pick
 * again. */
static int
choose_backends(const struct config *cfg, struct pool *pool, uint64_t shard_len,
    struct backend **chosen, struct bref *refs, struct err *e)
{
	size_t nb = config_nbackends(cfg), g, j, flat = 0, left_out = 0;
	unsigned char *excluded = calloc(nb ? nb : 1, 1);
	struct err why = { "" };
	int failures;

	if (excluded == NULL)
		return err_set(e, "out of memory");
	for (g = 0; g < cfg->ngroups; g++)
		for (j = 0; j < cfg->groups[g].nbackends; j++, flat++) {
			struct pool_entry *pe = pool_entry(pool,
			    &cfg->groups[g].backends[j], NS_SEQUENTIAL);

			if (pe != NULL && pe->failed && why.msg[0] == '\0')
				why = pe->why;
			excluded[flat] = (unsigned char)(pe == NULL ||
			    pe->failed);
		}
	do {
		for (left_out = 0, flat = 0; flat < nb; flat++)
			left_out += excluded[flat];
		if (placement_pick(cfg, excluded, refs, e) < 0) {
			free(excluded);
			if (left_out > 0)
				err_prefix(e, "%zu of %zu data backends cannot "
				    "be used (first: %s)", left_out, nb,
				    why.msg);
			return err_prefix(e, "no set of healthy backends with "
			    "enough space satisfies the redundancy settings");
		}
		failures = check_space(cfg, pool, refs, chosen, excluded,
		    shard_len, &why);
	} while (failures > 0);
	free(excluded);
	return failures < 0 ? err_set(e, "out of memory") : 0;
}

/* Data shard i of the padded stream, bytes [off, off+len). */
static int
fill_data_stripe(const struct sealed *s, uint64_t shard_len, unsigned i,
    uint64_t off, size_t len, uint8_t pad, uint8_t *buf, struct err *e)
{
	uint64_t g = (uint64_t)i * shard_len + off;
	size_t have = 0;

	if (g < s->len) {
		have = s->len - g < len ? (size_t)(s->len - g) : len;
		if (s->mem != NULL)
			memcpy(buf, s->mem + g, have);
		else if (pread_full(s->fd, buf, have, (off_t)(s->base + g),
		    e) < 0)
			return -1;
	}
	memset(buf + have, pad, len - have);
	return 0;
}

static int
add_key(struct shard_info *si, const struct shard_key *k)
{
	struct shard_key *v = reallocarray(si->keys, si->nkeys + 1, sizeof(*v));

	if (v == NULL)
		return -1;
	si->keys = v;
	si->keys[si->nkeys++] = *k;
	return 0;
}

/* One stripe: a buffer per shard and a write per live shard. Two of them
 * alternate so the next stripe is read, encoded and hashed here while the
 * background thread writes the previous one. */
struct stripe {
	uint8_t **buf;
	struct bop *ops;
	unsigned *which;	/* ops[k] writes shard which[k] */
	unsigned nops;
	size_t len;
	struct metadata *m;
	int timeout;
	unsigned n;
	int posted;		/* written, results not looked at yet */
	int failed;		/* out of memory recording keys */
};

/* One store's write pass. A shard whose backend fails is dead: it is left out
 * of the later stripes and written again, whole, to a spare afterwards. */
struct wpass {
	const struct config *cfg;
	struct pool *pool;
	const struct sealed *s;
	struct metadata *m;
	struct bref *refs;
	struct backend **chosen;
	struct rs *rs;
	uint64_t shard_len;
	uint8_t dead[RS_MAX_SHARDS];
	uint8_t refused[RS_MAX_SHARDS];	/* ... by an answer: it is alive */
	struct err *cause;	/* why each dead shard died */
	struct err why;		/* the first failure */
};

static void
stripe_free(struct stripe *st, unsigned n)
{
	unsigned i;

	if (st->buf)
		for (i = 0; i < n; i++)
			free(st->buf[i]);
	free(st->buf);
	free(st->ops);
	free(st->which);
}

static int
stripe_init(struct stripe *st, unsigned n, size_t len)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->n = n;
	st->buf = calloc(n, sizeof(*st->buf));
	st->ops = calloc(n, sizeof(*st->ops));
	st->which = calloc(n, sizeof(*st->which));
	if (st->buf == NULL || st->ops == NULL || st->which == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((st->buf[i] = malloc(len)) == NULL)
			return -1;
	return 0;
}

/* Background task: write every live shard's piece of the stripe, record the
 * keys. Every key written is recorded, so that a failed store can delete all
 * it wrote; failures are the main thread's to look at (stripe_reap). */
static void
stripe_write(void *arg)
{
	struct stripe *st = arg;
	unsigned k;

	backend_run(st->ops, st->nops, st->timeout);
	for (k = 0; k < st->nops; k++)
		if (st->ops[k].rc == 0 && add_key(&st->m->shards[st->which[k]],
		    &st->ops[k].newkey) < 0)
			st->failed = 1;
}

/* The stripe at off of every shard into st->buf: data read from the sealed
 * stream (padding past its end), parity computed. */
static int
stripe_compute(struct stripe *st, struct wpass *w, uint64_t off, struct err *e)
{
	unsigned m = w->cfg->minimal_shards, i;
	uint8_t pad = (uint8_t)rs_pad_len(w->s->len, m);

	for (i = 0; i < m; i++)
		if (fill_data_stripe(w->s, w->shard_len, i, off, st->len, pad,
		    st->buf[i], e) < 0)
			return -1;
	rs_encode(w->rs, st->len, st->buf, st->buf + m);
	return 0;
}

/* The hashing of a stripe, split between this thread and a helper: groups of
 * four shards (blake2b_x4.h), [0, half) here, [half, ngroups) there. Every
 * shard is hashed once, while its piece is still in the cache. */
struct hash_half {
	struct b2x4 *hash;
	uint8_t **buf;
	size_t len;
	unsigned n;		/* shards */
	unsigned from, to;	/* groups */
};

static unsigned
hash_groups(unsigned n)
{
	return (n + B2X4_LANES - 1) / B2X4_LANES;
}

static void
hash_shards(void *arg)
{
	struct hash_half *h = arg;
	const uint8_t *in[B2X4_LANES];
	unsigned g, j, i;

	for (g = h->from; g < h->to; g++) {
		/* a group short of four repeats its first shard */
		for (j = 0; j < B2X4_LANES; j++) {
			i = g * B2X4_LANES + j;
			in[j] = h->buf[i < h->n ? i : g * B2X4_LANES];
		}
		b2x4_update(&h->hash[g], in, h->len);
	}
}

/* stripe_compute, every piece hashed into its shard's checksum (on two
 * cores), and a write for each shard still alive. */
static int
stripe_fill(struct stripe *st, struct wpass *w, uint64_t off,
    struct b2x4 *hash, struct bg *hasher, struct err *e)
{
	struct hash_half mine, theirs;
	unsigned i;

	if (stripe_compute(st, w, off, e) < 0)
		return -1;
	mine.hash = theirs.hash = hash;
	mine.buf = theirs.buf = st->buf;
	mine.len = theirs.len = st->len;
	mine.n = theirs.n = st->n;
	/* this thread also read and encoded the stripe: it takes fewer */
	mine.from = 0;
	mine.to = theirs.from = hash_groups(st->n) / 2;
	theirs.to = hash_groups(st->n);
	bg_post(hasher, hash_shards, &theirs,
	    (size_t)(theirs.to - theirs.from) * B2X4_LANES * theirs.len);
	hash_shards(&mine);
	bg_wait(hasher);
	memset(st->ops, 0, st->n * sizeof(*st->ops));
	st->nops = 0;
	for (i = 0; i < st->n; i++) {
		if (w->dead[i])
			continue;
		st->ops[st->nops].b = w->chosen[i];
		st->ops[st->nops].kind = BOP_SEQ_SET;
		st->ops[st->nops].val = st->buf[i];
		st->ops[st->nops].vallen = st->len;
		st->which[st->nops++] = i;
	}
	return 0;
}

/* A shard's backend failed: the shard is dead for the rest of the pass. (Its
 * backend is failed for the rest of the command only once the background
 * thread is done: a write to it may still be in flight.) */
static void
shard_died(struct wpass *w, unsigned i, const struct bop *op)
{
	const struct err *why = &op->err;

	if (w->dead[i])
		return;
	w->dead[i] = 1;
	w->refused[i] = (uint8_t)op->refused;
	w->cause[i] = *why;
	log_warnx("shard %u: %s; writing it to a spare", i, why->msg);
	if (w->why.msg[0] == '\0')
		w->why = *why;
}

/* Looks at the results of a stripe the background thread finished. */
static void
stripe_reap(struct stripe *st, struct wpass *w)
{
	unsigned k;

	if (!st->posted)
		return;
	st->posted = 0;
	for (k = 0; k < st->nops; k++)
		if (st->ops[k].rc != 0)
			shard_died(w, st->which[k], &st->ops[k]);
}

static int
meta_init_shards(struct metadata *m, const struct config *cfg,
    const struct bref *refs)
{
	unsigned i;

	m->nshards = cfg->expected_shards;
	m->shards = calloc(m->nshards, sizeof(*m->shards));
	if (m->shards == NULL)
		return -1;
	for (i = 0; i < m->nshards; i++) {
		m->shards[i].idx = i;
		if (ci_copy(&m->shards[i].ci,
		    &cfg->groups[refs[i].group].backends[refs[i].backend]) < 0)
			return -1;
	}
	return 0;
}

/* Whether backend j of group g already holds a shard of the object. */
static int
holds_shard(const struct wpass *w, unsigned g, unsigned j)
{
	unsigned i;

	for (i = 0; i < w->m->nshards; i++)
		if (w->refs[i].group == g && w->refs[i].backend == j)
			return 1;
	return 0;
}

/* A spare for dead shard i: a healthy backend of the same group that holds no
 * shard of the object, with room for one. The same group keeps the count of
 * shards per group, and so the redundancy the placement promised. */
static struct backend *
pick_spare(struct wpass *w, unsigned i, unsigned *backend)
{
	const struct group *gr = &w->cfg->groups[w->refs[i].group];
	unsigned start = prand_uniform((uint32_t)gr->nbackends), t, j;
	struct backend *b;
	struct bop op;
	struct err e;

	for (t = 0; t < gr->nbackends; t++) {
		j = (start + t) % (unsigned)gr->nbackends;
		if (holds_shard(w, w->refs[i].group, j) ||
		    pool_is_failed(w->pool, &gr->backends[j], NS_SEQUENTIAL) ||
		    (b = pool_get(w->pool, &gr->backends[j], NS_SEQUENTIAL,
		    &e)) == NULL)
			continue;
		memset(&op, 0, sizeof(op));
		op.b = b;
		op.kind = BOP_NSINFO;
		backend_run(&op, 1, w->pool->timeout_ms);
		if (op.rc == 0 && nsinfo_free_space(&op.info) >= w->shard_len) {
			*backend = j;
			return b;
		}
		if (op.rc == 0)
			err_set(&op.err,
			    "%s: not enough space left for a shard",
			    backend_name(b));
		pool_fail(w->pool, &gr->backends[j], NS_SEQUENTIAL, &op.err);
	}
	return NULL;
}

/* Writes shard i whole to b, computing it again stripe by stripe (its
 * checksum is already known: the pass hashed every shard). */
static int
write_shard_to(struct wpass *w, struct stripe *st, unsigned i,
    struct backend *b, struct shard_info *si, struct err *e)
{
	uint64_t off;
	struct bop op;

	for (off = 0; off < w->shard_len; off += OBJ_STRIPE) {
		st->len = w->shard_len - off < OBJ_STRIPE ?
		    (size_t)(w->shard_len - off) : OBJ_STRIPE;
		if (stripe_compute(st, w, off, e) < 0)
			return -1;
		memset(&op, 0, sizeof(op));
		op.b = b, op.kind = BOP_SEQ_SET;
		op.val = st->buf[i], op.vallen = st->len;
		backend_run(&op, 1, w->pool->timeout_ms);
		if (op.rc != 0) {
			*e = op.err;
			return -1;
		}
		if (add_key(si, &op.newkey) < 0)
			return err_set(e, "out of memory");
	}
	return 0;
}

/* Dead shard i to a spare of its group; 1 when no spare is left. The pieces
 * it had on the dead backend cannot be deleted now: they stay behind. */
static int
respare(struct wpass *w, struct stripe *st, unsigned i, struct err *e)
{
	struct shard_info *si = &w->m->shards[i];
	const struct group *gr;
	struct backend *b;
	unsigned j;

	while ((b = pick_spare(w, i, &j)) != NULL) {
		free(si->keys);
		si->keys = NULL;
		si->nkeys = 0;
		if (write_shard_to(w, st, i, b, si, e) == 0) {
			gr = &w->cfg->groups[w->refs[i].group];
			ci_free(&si->ci);
			if (ci_copy(&si->ci, &gr->backends[j]) < 0)
				return err_set(e, "out of memory");
			log_info("shard %u moved to spare %s", i,
			    backend_name(b));
			w->refs[i].backend = j;
			w->chosen[i] = b;
			w->dead[i] = 0;
			return 0;
		}
		obj_delete_keys(w->pool, b, si->keys, si->nkeys);
		log_warnx("shard %u: spare %s failed: %s", i, backend_name(b),
		    e->msg);
		pool_fail(w->pool,
		    &w->cfg->groups[w->refs[i].group].backends[j],
		    NS_SEQUENTIAL, e);
	}
	return 1;
}

/* Every stripe of every shard, all backends in parallel. Returns 0, -1, or 1
 * when a shard lost its backend and no spare of its group is left: the caller
 * places the object again without the failed backends. */
static int
write_stripes(struct wpass *w, struct stripe st[2], struct b2x4 *hash,
    struct err *e)
{
	size_t stripe = st[0].len;
	unsigned n = w->cfg->expected_shards, i, k = 0;
	struct bg writer, hasher;
	uint64_t off;
	int rc = 0;

	bg_start(&writer);
	bg_start(&hasher);
	for (off = 0; off < w->shard_len; off += stripe, k ^= 1) {
		st[k].len = w->shard_len - off < stripe ?
		    (size_t)(w->shard_len - off) : stripe;
		if ((rc = stripe_fill(&st[k], w, off, hash, &hasher, e)) < 0)
			break;
		st[k].posted = 1;
		/* after the previous write, which is done now */
		bg_post(&writer, stripe_write, &st[k], st[k].len * n);
		stripe_reap(&st[k ^ 1], w);
	}
	bg_stop(&writer);
	bg_stop(&hasher);
	stripe_reap(&st[0], w);
	stripe_reap(&st[1], w);
	for (i = 0; i < n; i++) {
		const struct backend_ci *ci;

		if (!w->dead[i])
			continue;
		ci = &w->cfg->groups[w->refs[i].group]
		    .backends[w->refs[i].backend];
		/* One that answered keeps its connection, to delete the pieces
		 * it took if the store fails. */
		if (w->refused[i])
			pool_fail_alive(w->pool, ci, NS_SEQUENTIAL,
			    &w->cause[i]);
		else
			pool_fail(w->pool, ci, NS_SEQUENTIAL, &w->cause[i]);
	}
	if (rc == 0 && (st[0].failed || st[1].failed))
		rc = err_set(e, "out of memory recording the keys written");
	for (i = 0; i < n && rc == 0; i++)
		if (w->dead[i])
			rc = respare(w, &st[0], i, e);
	if (rc == 1)
		*e = w->why;
	return rc;
}

static int
write_all_stripes(struct wpass *w, struct err *e)
{
	unsigned n = w->cfg->expected_shards, i;
	size_t stripe = w->shard_len < OBJ_STRIPE ? (size_t)w->shard_len :
	    OBJ_STRIPE;
	struct b2x4 *hash = calloc(hash_groups(n), sizeof(*hash));
	uint8_t sums[B2X4_LANES][B2_LEN];
	struct stripe st[2];
	int rc = -1;

	memset(st, 0, sizeof(st));
	memset(w->dead, 0, sizeof(w->dead));
	memset(w->refused, 0, sizeof(w->refused));
	w->why.msg[0] = '\0';
	e->msg[0] = '\0';
	if (hash == NULL || stripe_init(&st[0], n, stripe ? stripe : 1) < 0 ||
	    stripe_init(&st[1], n, stripe ? stripe : 1) < 0) {
		err_set(e, "out of memory for 2 x %u stripes of %zu bytes", n,
		    stripe);
		goto done;
	}
	for (i = 0; i < 2; i++) {
		st[i].m = w->m;
		st[i].timeout = w->pool->timeout_ms;
		st[i].len = stripe;
	}
	for (i = 0; i < hash_groups(n); i++)
		b2x4_init(&hash[i]);
	if ((rc = write_stripes(w, st, hash, e)) != 0) {
		if (rc < 0)
			err_prefix(e, "writing shards");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (i % B2X4_LANES == 0)
			b2x4_final(&hash[i / B2X4_LANES], sums);
		memcpy(w->m->shards[i].checksum, sums[i % B2X4_LANES], B2_LEN);
	}
done:
	stripe_free(&st[0], n);
	stripe_free(&st[1], n);
	free(hash);
	return rc;
}

/* Places and writes the object once; 1 when it must be placed again. */
static int
write_placed(struct wpass *w, struct err *e)
{
	const struct config *cfg = w->cfg;
	struct metadata *m = w->m;
	int rc;

	memset(m, 0, sizeof(*m));
	m->data_shards = cfg->minimal_shards;
	m->disposable_shards = cfg->expected_shards - cfg->minimal_shards;
	memcpy(m->checksum, w->s->checksum, B2_LEN);
	memcpy(m->key, cfg->key, sizeof(m->key));
	if (choose_backends(cfg, w->pool, w->shard_len, w->chosen, w->refs,
	    e) < 0)
		return -1;
	if (meta_init_shards(m, cfg, w->refs) < 0)
		rc = err_set(e, "out of memory");
	else
		rc = write_all_stripes(w, e);
	if (rc != 0) {
		obj_delete_shards(w->pool, m);
		meta_free(m);
	}
	return rc;
}

int
obj_write(const struct config *cfg, struct pool *pool, const struct sealed *s,
    struct metadata *m, struct err *e)
{
	unsigned n = cfg->expected_shards;
	struct wpass w = { .cfg = cfg, .pool = pool, .s = s, .m = m };
	struct err lost = { "" };
	char first[ERR_MSG_MAX];
	int rc = -1;

	memset(m, 0, sizeof(*m));
	w.shard_len = rs_shard_len(s->len, cfg->minimal_shards);
	w.chosen = calloc(n, sizeof(*w.chosen));
	w.refs = calloc(n, sizeof(*w.refs));
	w.cause = calloc(n, sizeof(*w.cause));
	if (w.chosen == NULL || w.refs == NULL || w.cause == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if ((w.rs = rs_new(cfg->minimal_shards, n - cfg->minimal_shards,
	    e)) == NULL)
		goto done;
	/* Each round fails one more backend or ends: the loop is bounded. */
	while ((rc = write_placed(&w, e)) == 1) {
		log_warnx("%s; no spare in its group: placing the object again "
		    "without the failed backends", e->msg);
		lost = *e;
	}
	if (rc == -1 && lost.msg[0] != '\0') {
		snprintf(first, sizeof(first), "%s", e->msg);
		err_set(e,
		    "writing shards: %s; and no other placement is left: %s",
		    lost.msg, first);
	}
done:
	pool_info_spent(pool);
	rs_free(w.rs);
	free(w.chosen);
	free(w.refs);
	free(w.cause);
	return rc;
}

void
obj_delete_keys(struct pool *pool, struct backend *b,
    const struct shard_key *keys, size_t n)
{
	struct bop *ops = calloc(n ? n : 1, sizeof(*ops));
	uint8_t (*kb)[8] = calloc(n ? n : 1, sizeof(*kb));
	size_t k;

	if (ops == NULL || kb == NULL) {
		free(ops), free(kb);
		log_warnx("%s: out of memory: %zu pieces left behind",
		    backend_name(b), n);
		return;
	}
	for (k = 0; k < n; k++) {
		ops[k].b = b;
		ops[k].kind = BOP_DEL;
		ops[k].key = kb[k];
		ops[k].keylen = shard_key_bytes(&keys[k], kb[k]);
	}
	if (backend_run(ops, n, pool->timeout_ms) > 0)
		for (k = 0; k < n; k++)
			if (ops[k].rc < 0) {
				log_warnx("cleaning up %s: %s (the piece stays "
				    "behind)", backend_name(b), ops[k].err.msg);
				break;
			}
	free(ops);
	free(kb);
}

void
obj_delete_shards(struct pool *pool, const struct metadata *m)
{
	struct backend *b;
	size_t i;

	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].nkeys > 0 && (b = pool_cleanup_get(pool,
		    &m->shards[i].ci, NS_SEQUENTIAL)) != NULL)
			obj_delete_keys(pool, b, m->shards[i].keys,
			    m->shards[i].nkeys);
}
