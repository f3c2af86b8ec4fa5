/* Store pass 2: choose backends, then cut the sealed stream into stripes, add parity
 * and write one piece per shard per stripe, all backends in parallel. */
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "blake2b.h"
#include "log.h"
#include "obj.h"
#include "placement.h"
#include "rs.h"
#include "scratch.h"

/* Checks the free space of the chosen backends; marks the failing ones and keeps
 * the first reason in why. Returns the number of failures, -1 without memory. */
static int
check_space(const struct config *cfg, struct pool *pool, const struct bref *refs,
    struct backend **chosen, unsigned char *excluded, uint64_t need, struct err *why)
{
	unsigned n = cfg->expected_shards, i, nops = 0, failures = 0;
	struct bop *ops = calloc(n, sizeof(*ops));
	unsigned *which = calloc(n, sizeof(*which));
	struct err e;

	if (ops == NULL || which == NULL) {
		free(ops), free(which);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct backend_ci *ci = &cfg->groups[refs[i].group].backends[refs[i].backend];

		chosen[i] = pool_get(pool, ci, NS_SEQUENTIAL, &e);
		if (chosen[i] == NULL) {
			excluded[placement_flat_index(cfg, refs[i])] = 1;
			if (failures++ == 0 && why->msg[0] == '\0')
				*why = e;
			continue;
		}
		ops[nops].b = chosen[i];
		ops[nops].kind = BOP_NSINFO;
		which[nops++] = i;
	}
	backend_run(ops, nops, pool->timeout_ms);
	for (i = 0; i < nops; i++) {
		struct bref r = refs[which[i]];
		const struct backend_ci *ci = &cfg->groups[r.group].backends[r.backend];

		if (ops[i].rc == 0 && nsinfo_free_space(&ops[i].info) >= need)
			continue;
		if (ops[i].rc == 0)
			err_set(&ops[i].err, "%s: namespace only has %llu bytes of space left, "
			    "but %llu bytes are needed", backend_name(ops[i].b),
			    (unsigned long long)nsinfo_free_space(&ops[i].info),
			    (unsigned long long)need);
		log_warnx("%s; choosing other backends", ops[i].err.msg);
		pool_fail(pool, ci, NS_SEQUENTIAL, &ops[i].err);
		excluded[placement_flat_index(cfg, r)] = 1;
		if (failures++ == 0 && why->msg[0] == '\0')
			*why = ops[i].err;
	}
	free(ops);
	free(which);
	return (int)failures;
}

/* Upstream's find_valid_backends: pick, check, drop the failures, pick again. */
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
			struct pool_entry *pe = pool_entry(pool, &cfg->groups[g].backends[j],
			    NS_SEQUENTIAL);

			if (pe != NULL && pe->failed && why.msg[0] == '\0')
				why = pe->why;
			excluded[flat] = (unsigned char)(pe == NULL || pe->failed);
		}
	do {
		for (left_out = 0, flat = 0; flat < nb; flat++)
			left_out += excluded[flat];
		if (placement_pick(cfg, excluded, refs, e) < 0) {
			free(excluded);
			if (left_out > 0)
				err_prefix(e, "%zu of %zu data backends are unreachable or short of "
				    "space (first: %s)", left_out, nb, why.msg);
			return err_prefix(e, "no set of healthy backends with enough space "
			    "satisfies the redundancy settings");
		}
		failures = check_space(cfg, pool, refs, chosen, excluded, shard_len, &why);
	} while (failures > 0);
	free(excluded);
	return failures < 0 ? err_set(e, "out of memory") : 0;
}

/* Data shard i of the padded stream, bytes [off, off+len). */
static int
fill_data_stripe(const struct sealed *s, uint64_t shard_len, unsigned i, uint64_t off,
    size_t len, uint8_t pad, uint8_t *buf, struct err *e)
{
	uint64_t g = (uint64_t)i * shard_len + off;
	size_t have = 0;

	if (g < s->len) {
		have = s->len - g < len ? (size_t)(s->len - g) : len;
		if (pread_full(s->fd, buf, have, (off_t)(s->base + g), e) < 0)
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

/* One stripe: a buffer and a write per shard. Two of them alternate so the next
 * stripe is read, encoded and hashed here while the background thread writes the
 * previous one. */
struct stripe {
	uint8_t **buf;
	struct bop *ops;
	size_t len;
	struct metadata *m;
	int timeout;
	unsigned n;
	int failed;
	struct err err;
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
}

static int
stripe_init(struct stripe *st, unsigned n, size_t len)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->n = n;
	st->buf = calloc(n, sizeof(*st->buf));
	st->ops = calloc(n, sizeof(*st->ops));
	if (st->buf == NULL || st->ops == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((st->buf[i] = malloc(len)) == NULL)
			return -1;
	return 0;
}

/* Background task: write every shard's piece of the stripe, record the keys. */
static void
stripe_write(void *arg)
{
	struct stripe *st = arg;
	unsigned i;

	backend_run(st->ops, st->n, st->timeout);
	/* Every key written is recorded, also after a failure, so that a failed
	 * store can delete all it wrote. */
	for (i = 0; i < st->n; i++) {
		if (st->ops[i].rc == 0 && add_key(&st->m->shards[i],
		    &st->ops[i].newkey) < 0 && !st->failed) {
			err_set(&st->err, "out of memory");
			st->failed = 1;
		}
		if (st->ops[i].rc != 0 && !st->failed) {
			st->err = st->ops[i].err;
			st->failed = 1;
		}
	}
}

/* The stripe at off of every shard: data read from the sealed stream (padding
 * past its end), parity computed, every piece hashed into its shard's checksum. */
static int
stripe_fill(struct stripe *st, struct rs *rs, unsigned m, const struct sealed *s,
    uint64_t shard_len, uint64_t off, struct b2 *hash, struct backend **chosen,
    struct err *e)
{
	uint8_t pad = (uint8_t)rs_pad_len(s->len, m);
	unsigned i;

	for (i = 0; i < m; i++)
		if (fill_data_stripe(s, shard_len, i, off, st->len, pad, st->buf[i], e) < 0)
			return -1;
	rs_encode(rs, st->len, st->buf, st->buf + m);
	memset(st->ops, 0, st->n * sizeof(*st->ops));
	for (i = 0; i < st->n; i++) {
		b2_update(&hash[i], st->buf[i], st->len);
		st->ops[i].b = chosen[i];
		st->ops[i].kind = BOP_SEQ_SET;
		st->ops[i].val = st->buf[i];
		st->ops[i].vallen = st->len;
	}
	return 0;
}

static int
meta_init_shards(struct metadata *m, const struct config *cfg, const struct bref *refs)
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

static int
write_all_stripes(const struct config *cfg, struct pool *pool, const struct sealed *s,
    struct backend **chosen, struct metadata *m, struct err *e)
{
	unsigned mm = cfg->minimal_shards, n = cfg->expected_shards, i, k = 0;
	uint64_t shard_len = rs_shard_len(s->len, mm), off;
	size_t stripe = shard_len < OBJ_STRIPE ? (size_t)shard_len : OBJ_STRIPE;
	struct b2 *hash = calloc(n, sizeof(*hash));
	struct rs *rs = rs_new(mm, n - mm, e);
	struct stripe st[2];
	struct bg writer;
	int rc = -1;

	memset(st, 0, sizeof(st));
	e->msg[0] = '\0';
	if (rs == NULL || hash == NULL || stripe_init(&st[0], n, stripe) < 0 ||
	    stripe_init(&st[1], n, stripe) < 0) {
		if (rs != NULL)
			err_set(e, "out of memory for 2 x %u stripes of %zu bytes", n, stripe);
		goto done;
	}
	for (i = 0; i < n; i++)
		b2_init(&hash[i]);
	bg_start(&writer);
	for (off = 0; off < shard_len; off += stripe, k ^= 1) {
		st[k].len = shard_len - off < stripe ? (size_t)(shard_len - off) : stripe;
		st[k].m = m;
		st[k].timeout = pool->timeout_ms;
		if (stripe_fill(&st[k], rs, mm, s, shard_len, off, hash, chosen, e) < 0)
			break;
		bg_post(&writer, stripe_write, &st[k]);	/* after the previous write */
		if (st[k ^ 1].failed)
			break;
	}
	bg_stop(&writer);
	for (i = 0; i < 2 && e->msg[0] == '\0'; i++)
		if (st[i].failed)
			*e = st[i].err;
	if (off < shard_len || st[0].failed || st[1].failed) {
		err_prefix(e, "writing shards");
		goto done;
	}
	for (i = 0; i < n; i++)
		b2_final(&hash[i], m->shards[i].checksum);
	rc = 0;
done:
	stripe_free(&st[0], n);
	stripe_free(&st[1], n);
	free(hash);
	rs_free(rs);
	return rc;
}

int
obj_write(const struct config *cfg, struct pool *pool, const struct sealed *s,
    struct metadata *m, struct err *e)
{
	unsigned n = cfg->expected_shards;
	uint64_t shard_len = rs_shard_len(s->len, cfg->minimal_shards);
	struct backend **chosen = calloc(n, sizeof(*chosen));
	struct bref *refs = calloc(n, sizeof(*refs));
	int rc = -1;

	memset(m, 0, sizeof(*m));
	m->data_shards = cfg->minimal_shards;
	m->disposable_shards = n - cfg->minimal_shards;
	memcpy(m->checksum, s->checksum, B2_LEN);
	memcpy(m->key, cfg->key, sizeof(m->key));
	if (chosen == NULL || refs == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if (choose_backends(cfg, pool, shard_len, chosen, refs, e) < 0)
		goto done;
	if (meta_init_shards(m, cfg, refs) < 0) {
		err_set(e, "out of memory");
		goto done;
	}
	rc = write_all_stripes(cfg, pool, s, chosen, m, e);
	if (rc < 0) {
		obj_delete_shards(pool, m);
		meta_free(m);
	}
done:
	free(chosen);
	free(refs);
	return rc;
}

void
obj_delete_keys(struct pool *pool, struct backend *b, const struct shard_key *keys, size_t n)
{
	struct bop *ops = calloc(n ? n : 1, sizeof(*ops));
	uint8_t (*kb)[8] = calloc(n ? n : 1, sizeof(*kb));
	size_t k;

	if (ops == NULL || kb == NULL) {
		free(ops), free(kb);
		log_warnx("%s: out of memory: %zu pieces left behind", backend_name(b), n);
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
				log_warnx("cleaning up %s: %s (the piece stays behind)",
				    backend_name(b), ops[k].err.msg);
				break;
			}
	free(ops);
	free(kb);
}

void
obj_delete_shards(struct pool *pool, const struct metadata *m)
{
	struct backend *b;
	struct err e;
	size_t i;

	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].nkeys > 0 &&
		    (b = pool_get(pool, &m->shards[i].ci, NS_SEQUENTIAL, &e)) != NULL)
			obj_delete_keys(pool, b, m->shards[i].keys, m->shards[i].nkeys);
}
