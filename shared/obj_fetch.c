/* Retrieve: read shards (data shards first, parity only for missing or bad
 * ones) piece by piece into scratch files, verify each against its checksum,
 * rebuild what is missing stripe by stripe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blake2b.h"
#include "hex.h"
#include "log.h"
#include "obj.h"
#include "rs.h"
#include "scratch.h"

struct round {
	const struct shard_info *si[RS_MAX_SHARDS];
	struct backend *b[RS_MAX_SHARDS];
	struct b2 hash[RS_MAX_SHARDS];
	uint64_t len[RS_MAX_SHARDS];
	size_t n;
	/* the scratch file could not be written: no shard is to blame */
	int local_failed;
	struct err local;
	uint64_t shard_guess;	/* bytes of the shard it failed on */
};

void
fetched_close(struct fetched *f)
{
	if (f->fd >= 0 && f->owned)
		close(f->fd);
	f->fd = -1;
	memset(f->good, 0, sizeof(f->good));
	memset(f->rebuilt, 0, sizeof(f->rebuilt));
}

uint64_t
fetched_at(const struct fetched *f, unsigned i)
{
	return (uint64_t)i * f->slot;
}

static void
note_failure(char *why, size_t len, const struct shard_info *si,
    const char *msg)
{
	char line[ERR_MSG_MAX + 64];

	snprintf(line, sizeof(line), "%sshard %llu: %s", why[0] ? "; " : "",
	    (unsigned long long)si->idx, msg);
	strlcat(why, line, len);
	log_warnx("could not use shard %llu: %s", (unsigned long long)si->idx,
	    msg);
}

/* Drops shard r->si[i] from the round: its data is unusable. */
static void
round_drop(struct round *r, size_t i, char *why, size_t whylen, const char *msg)
{
	note_failure(why, whylen, r->si[i], msg);
	r->b[i] = NULL;
}

/* GETs piece j of every live shard of the round into its scratch file;
 * returns how many it asked for. */
static size_t
round_piece(struct round *r, size_t j, struct fetched *f, int timeout,
    char *why, size_t whylen)
{
	struct bop ops[RS_MAX_SHARDS];
	uint8_t kb[RS_MAX_SHARDS][8];
	size_t which[RS_MAX_SHARDS], n = 0, i;
	struct err e;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < r->n; i++) {
		if (r->b[i] == NULL || j >= r->si[i]->nkeys)
			continue;
		ops[n].b = r->b[i];
		ops[n].kind = BOP_GET;
		ops[n].key = kb[n];
		ops[n].keylen = shard_key_bytes(&r->si[i]->keys[j], kb[n]);
		which[n++] = i;
	}
	backend_run(ops, n, timeout);
	for (i = 0; i < n; i++) {
		size_t s = which[i];
		unsigned idx = (unsigned)r->si[s]->idx;

		if (ops[i].rc == 1) {
			snprintf(e.msg, sizeof(e.msg), "%s: missing key %llu",
			    backend_name(ops[i].b),
			    (unsigned long long)r->si[s]->keys[j].id);
			round_drop(r, s, why, whylen, e.msg);
		} else if (ops[i].rc < 0) {
			round_drop(r, s, why, whylen, ops[i].err.msg);
		} else if (r->len[s] + ops[i].outlen > f->slot) {
			snprintf(e.msg, sizeof(e.msg),
			    "%s: shard is longer than its %llu keys "
			    "can hold", backend_name(ops[i].b),
			    (unsigned long long)r->si[s]->nkeys);
			round_drop(r, s, why, whylen, e.msg);
		} else if (f->fd >= 0 &&
		    pwrite_full(f->fd, ops[i].out, ops[i].outlen,
		    (off_t)(fetched_at(f, idx) + r->len[s]), &e) < 0) {
			if (!r->local_failed) {
				r->local = e;
				r->shard_guess = r->si[s]->nkeys *
				    ops[i].outlen;
			}
			r->local_failed = 1;
			r->b[s] = NULL;
		} else {
			b2_update(&r->hash[s], ops[i].out, ops[i].outlen);
			r->len[s] += ops[i].outlen;
		}
		free(ops[i].out);
	}
	return n;
}

/* Shards of one object all have one length: the good ones are the verified
 * shards of the length most of them have, whichever was read first. */
static void
settle_lengths(struct fetched *f)
{
	unsigned n = f->data + f->parity, i, j, votes, best = 0;

	for (i = 0; i < n; i++) {
		if (!f->verified[i])
			continue;
		for (votes = 0, j = 0; j < n; j++)
			votes += f->verified[j] && f->vlen[j] == f->vlen[i];
		if (votes > best)
			best = votes, f->shard_len = f->vlen[i];
	}
	for (i = 0; i < n; i++)
		f->good[i] = f->verified[i] && f->vlen[i] == f->shard_len;
}

/* Verified shards left out for their length, for the failure report. */
static void
note_odd_lengths(const struct fetched *f, char *why, size_t whylen)
{
	struct shard_info si = { 0 };
	char msg[128];
	unsigned i;

	for (i = 0; i < f->data + f->parity; i++) {
		if (!f->verified[i] || f->good[i])
			continue;
		si.idx = i;
		snprintf(msg, sizeof(msg),
		    "shard is %llu bytes, others are %llu",
		    (unsigned long long)f->vlen[i],
		    (unsigned long long)f->shard_len);
		note_failure(why, whylen, &si, msg);
	}
}

/* Bytes piece j of the round's live shards held (the scrub's pacing). */
static uint64_t
round_bytes(const struct round *r, size_t j)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->b[i] != NULL && j < r->si[i]->nkeys)
			n += r->len[i] / (j + 1);
	return n;
}

static void
round_run(struct round *r, struct pool *pool, struct fetched *f, char *why,
    size_t whylen)
{
	size_t i, j, maxkeys = 0, got;
	uint64_t planned = 0, fetched = 0;
	uint8_t sum[B2_LEN];
	struct err e;

	for (i = 0; i < r->n; i++) {
		b2_init(&r->hash[i]);
		r->len[i] = 0;
		r->b[i] = pool_get(pool, &r->si[i]->ci, NS_SEQUENTIAL, &e);
		if (r->b[i] == NULL) {
			note_failure(why, whylen, r->si[i], e.msg);
			continue;
		}
		if (r->si[i]->nkeys > maxkeys)
			maxkeys = r->si[i]->nkeys;
		planned += r->si[i]->nkeys;
	}
	obj_progress_add(pool->progress, 0, (int64_t)planned);
	for (j = 0; j < maxkeys; j++) {
		got = round_piece(r, j, f, pool->timeout_ms, why, whylen);
		fetched += got;
		obj_progress_add(pool->progress, got, 0);
		if (pool->on_read != NULL)
			pool->on_read(pool->on_read_arg, round_bytes(r, j));
	}
	/* the pieces of shards that failed on the way are not fetched */
	obj_progress_add(pool->progress, 0, -(int64_t)(planned - fetched));
	for (i = 0; i < r->n; i++) {
		if (r->b[i] == NULL)
			continue;
		b2_final(&r->hash[i], sum);
		if (memcmp(sum, r->si[i]->checksum, B2_LEN) != 0) {
			snprintf(e.msg, sizeof(e.msg),
			    "%s: shard checksum verification failed "
			    "(corrupt data on the backend)",
			    backend_name(r->b[i]));
			round_drop(r, i, why, whylen, e.msg);
			continue;
		}
		f->verified[r->si[i]->idx] = 1;
		f->vlen[r->si[i]->idx] = r->len[i];
	}
	settle_lengths(f);
}

static unsigned
count_good(const struct fetched *f)
{
	unsigned i, n = 0;

	for (i = 0; i < f->data + f->parity; i++)
		n += f->good[i];
	return n;
}

/* Which shards a retrieve read: with every data shard healthy, only those. */
void
obj_log_read(const uint8_t *good, unsigned data, unsigned parity)
{
	char list[RS_MAX_SHARDS * 4 + 1] = "", num[16];
	unsigned i;

	for (i = 0; i < data + parity; i++) {
		if (!good[i])
			continue;
		snprintf(num, sizeof(num), "%s%u", list[0] ? "," : "", i);
		strlcat(list, num, sizeof(list));
	}
	log_debug("read shards %s of %u+%u", list, data, parity);
}

/* Shards in index order (data first); duplicates of an index are ignored. */
static void
order_shards(const struct metadata *m, const struct shard_info **by_idx)
{
	size_t i;

	memset(by_idx, 0, RS_MAX_SHARDS * sizeof(*by_idx));
	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].idx < RS_MAX_SHARDS &&
		    by_idx[m->shards[i].idx] == NULL)
			by_idx[m->shards[i].idx] = &m->shards[i];
}

static int
fetch_rounds(struct pool *pool, const struct metadata *m, int all,
    struct fetched *f, struct err *e)
{
	const struct shard_info *by_idx[RS_MAX_SHARDS];
	unsigned n = f->data + f->parity, next = 0, good;
	char why[4096] = "";
	struct round r;

	order_shards(m, by_idx);
	while ((good = count_good(f)) < (all ? n : f->data) && next < n) {
		unsigned want = all ? n : f->data - good;

		r.n = 0;
		r.local_failed = 0;
		for (; next < n && r.n < want; next++)
			if (by_idx[next] != NULL)
				r.si[r.n++] = by_idx[next];
			else
				note_failure(why, sizeof(why),
				    &(struct shard_info){ .idx = next },
				    "not listed in the metadata");
		round_run(&r, pool, f, why, sizeof(why));
		if (r.local_failed)
			return scratch_full(e, r.local.msg,
			    f->data * r.shard_guess,
			    "a retrieve of this object");
	}
	note_odd_lengths(f, why, sizeof(why));
	if (good < f->data)
		return err_set(e,
		    "only %u of the %u shards needed could be read: %s", good,
		    f->data, why);
	obj_log_read(f->good, f->data, f->parity);
	return 0;
}

/* Rebuilds the missing shards (data shards only unless all) stripe by
 * stripe. */
static int
reconstruct(struct fetched *f, int all, struct err *e)
{
	unsigned n = f->data + f->parity, i, used = 0;
	uint8_t present[RS_MAX_SHARDS] = { 0 }, fill[RS_MAX_SHARDS] = { 0 };
	uint8_t *buf[RS_MAX_SHARDS] = { 0 };
	size_t stripe = f->shard_len < OBJ_STRIPE ? (size_t)f->shard_len :
	    OBJ_STRIPE;
	struct rs *rs;
	uint64_t off;
	int rc = -1, any = 0;

	for (i = 0; i < n; i++) {
		if (f->good[i] && used < f->data)
			present[i] = 1, used++;
		if (!f->good[i] && (all || i < f->data))
			fill[i] = 1, any = 1;
	}
	if (!any)
		return 0;
	if ((rs = rs_new(f->data, f->parity, e)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((buf[i] = malloc(stripe ? stripe : 1)) == NULL) {
			err_set(e, "out of memory");
			goto done;
		}
	}
	for (off = 0; off < f->shard_len; off += stripe) {
		size_t len = f->shard_len - off < stripe ?
		    (size_t)(f->shard_len - off) : stripe;

		for (i = 0; i < n; i++)
			if (present[i] && pread_full(f->fd, buf[i], len,
			    (off_t)(fetched_at(f, i) + off), e) < 0)
				goto done;
		if (rs_reconstruct(rs, len, buf, present, e) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if (fill[i] && pwrite_full(f->fd, buf[i], len,
			    (off_t)(fetched_at(f, i) + off), e) < 0) {
				scratch_full(e, e->msg, (uint64_t)n *
				    f->shard_len, "rebuilding the missing "
				    "shards of this object");
				goto done;
			}
	}
	for (i = 0; i < n; i++) {
		f->good[i] |= fill[i];
		f->rebuilt[i] = fill[i];
	}
	rc = 0;
done:
	for (i = 0; i < n; i++)
		free(buf[i]);
	rs_free(rs);
	return rc;
}

/* Room for the largest shard of m: 0-db values are at most ZDB_VALUE_MAX. */
static uint64_t
slot_size(const struct metadata *m)
{
	size_t i, most = 1;

	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].nkeys > most)
			most = m->shards[i].nkeys;
	return (uint64_t)most * ZDB_VALUE_MAX;
}

/* The shard counts of m, checked, and room for its shards. */
static int
fetched_init(const struct metadata *m, struct fetched *f, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (m->data_shards < 1 || m->disposable_shards < 1 ||
	    m->data_shards + m->disposable_shards > RS_MAX_SHARDS)
		return err_set(e, "metadata has invalid shard counts %llu+%llu",
		    (unsigned long long)m->data_shards,
		    (unsigned long long)m->disposable_shards);
	f->data = (unsigned)m->data_shards;
	f->parity = (unsigned)m->disposable_shards;
	f->slot = slot_size(m);
	return 0;
}

int
obj_check(struct pool *pool, const struct metadata *m, int all,
    uint8_t good[RS_MAX_SHARDS], struct err *e)
{
	struct fetched f;
	int rc;

	memset(good, 0, RS_MAX_SHARDS);
	if (fetched_init(m, &f, e) < 0)
		return -1;
	rc = fetch_rounds(pool, m, all, &f, e);
	memcpy(good, f.good, RS_MAX_SHARDS);
	return rc;
}

int
obj_fetch(struct pool *pool, const struct metadata *m, int all, int scratch_fd,
    struct fetched *f, struct err *e)
{
	if (fetched_init(m, f, e) < 0)
		return -1;
	f->fd = scratch_fd;
	if (scratch_fd < 0 && (f->fd = scratch_open(e)) < 0)
		return -1;
	f->owned = scratch_fd < 0;
	if (ftruncate(f->fd, 0) < 0) {
		err_set(e, "cannot reset the scratch file: %s",
		    strerror(errno));
		fetched_close(f);
		return -1;
	}
	if (fetch_rounds(pool, m, all, f, e) < 0 ||
	    reconstruct(f, all, e) < 0) {
		fetched_close(f);
		return -1;
	}
	return 0;
}
