/* Rebuild: shards that cannot be read are recreated from the others and written
 * to healthy backends that hold no other shard of the object; the readable
 * shards stay where they are. When the config's M/P differ from the object's,
 * the object is re-encoded whole with the config's, and the metadata records
 * what was used. */
#include <stdlib.h>
#include <string.h>

#include "blake2b.h"
#include "log.h"
#include "obj.h"
#include "prand.h"
#include "scratch.h"

/* Whether ci already holds a readable or newly placed shard of the object. */
static int
holds_shard(const struct metadata *m, const struct fetched *f,
    const uint8_t *placed, const struct backend_ci *ci)
{
	size_t i;

	for (i = 0; i < m->nshards; i++) {
		uint64_t idx = m->shards[i].idx;

		if (((f->good[idx] && !f->rebuilt[idx]) || placed[idx]) &&
		    ci_equal(&m->shards[i].ci, ci))
			return 1;
	}
	return 0;
}

/* A healthy backend for one more shard: in the group holding the fewest shards
 * of this object, at random within it; NULL when none is left. */
static const struct backend_ci *
pick_spare(const struct config *cfg, struct pool *pool,
    const struct metadata *nm, const struct fetched *f, const uint8_t *placed)
{
	size_t g, j, best_g = 0, best_count = SIZE_MAX, count, i, nfree;

	for (g = 0; g < cfg->ngroups; g++) {
		const struct group *gr = &cfg->groups[g];

		for (count = 0, i = 0; i < nm->nshards; i++)
			for (j = 0; j < gr->nbackends; j++)
				count += ci_equal(&nm->shards[i].ci,
				    &gr->backends[j]);
		for (nfree = 0, j = 0; j < gr->nbackends; j++)
			nfree += !pool_is_failed(pool, &gr->backends[j],
			    NS_SEQUENTIAL) &&
			    !holds_shard(nm, f, placed, &gr->backends[j]);
		if (nfree > 0 && count < best_count)
			best_g = g, best_count = count;
	}
	if (best_count == SIZE_MAX)
		return NULL;
	for (;;) {
		const struct group *gr = &cfg->groups[best_g];
		const struct backend_ci *ci = &gr->backends[prand_uniform(
		    (uint32_t)gr->nbackends)];

		if (!pool_is_failed(pool, ci, NS_SEQUENTIAL) &&
		    !holds_shard(nm, f, placed, ci))
			return ci;
	}
}

/* Writes one rebuilt shard from its scratch file to a spare backend. Its
 * checksum stays the record's: rebuilt_matches found the shard has it. */
static int
write_shard(struct pool *pool, const struct fetched *f, unsigned idx,
    struct backend *b, struct shard_info *si, struct err *e)
{
	uint8_t *buf;
	struct bop op;
	uint64_t off;
	int rc = 0;

	/* From here on si->keys lists only what this call writes on b. */
	free(si->keys);
	si->keys = NULL;
	si->nkeys = 0;
	if ((buf = malloc(OBJ_STRIPE)) == NULL)
		return err_set(e, "out of memory");
	for (off = 0; off < f->shard_len && rc == 0; off += OBJ_STRIPE) {
		size_t len = f->shard_len - off < OBJ_STRIPE ?
		    (size_t)(f->shard_len - off) : OBJ_STRIPE;
		struct shard_key *k = reallocarray(si->keys, si->nkeys + 1,
		    sizeof(*k));

		if (k == NULL || pread_full(f->fd, buf, len,
		    (off_t)(fetched_at(f, idx) + off), e) < 0) {
			si->keys = k ? k : si->keys;
			rc = k ? -1 : err_set(e, "out of memory");
			break;
		}
		si->keys = k;
		memset(&op, 0, sizeof(op));
		op.b = b, op.kind = BOP_SEQ_SET, op.val = buf, op.vallen = len;
		backend_run(&op, 1, pool->timeout_ms);
		if (op.rc < 0) {
			*e = op.err;
			rc = -1;
			break;
		}
		si->keys[si->nkeys++] = op.newkey;
	}
	free(buf);
	return rc;
}

/* A rebuild that cannot finish takes back the shards it had already placed. */
static void
drop_placed(struct pool *pool, const struct metadata *nm, const uint8_t *placed)
{
	struct backend *b;
	struct err e;
	size_t i;

	for (i = 0; i < nm->nshards; i++)
		if (placed[nm->shards[i].idx] &&
		    (b = pool_get(pool, &nm->shards[i].ci, NS_SEQUENTIAL,
		    &e)) != NULL)
			obj_delete_keys(pool, b, nm->shards[i].keys,
			    nm->shards[i].nkeys);
}

/* A shard rebuilt from shards that each matched their checksums is the one
 * the record names, unless those shards are not of one encoding (a record
 * assembled wrongly, or a fault in the decoder): then nothing is written, so
 * that the record never comes to vouch for a shard it did not hold. */
static int
rebuilt_matches(const struct fetched *f, const struct shard_info *si,
    struct err *e)
{
	uint8_t *buf, sum[B2_LEN];
	uint64_t off;
	struct b2 h;
	size_t len;

	if ((buf = malloc(OBJ_STRIPE)) == NULL)
		return err_set(e, "out of memory");
	b2_init(&h);
	for (off = 0; off < f->shard_len; off += len) {
		len = f->shard_len - off < OBJ_STRIPE ?
		    (size_t)(f->shard_len - off) : OBJ_STRIPE;
		if (pread_full(f->fd, buf, len, (off_t)(fetched_at(f,
		    (unsigned)si->idx) + off), e) < 0) {
			free(buf);
			return -1;
		}
		b2_update(&h, buf, len);
	}
	free(buf);
	b2_final(&h, sum);
	if (memcmp(sum, si->checksum, B2_LEN) == 0)
		return 0;
	return err_set(e, "shard %llu, rebuilt from the readable ones, does "
	    "not have the checksum its record holds: the record and the "
	    "shards disagree, so nothing was rewritten; retrieve the file "
	    "and store it again", (unsigned long long)si->idx);
}

static int
place_rebuilt(const struct config *cfg, struct pool *pool,
    const struct fetched *f, struct metadata *nm, uint8_t *placed,
    struct err *e)
{
	size_t i;

	for (i = 0; i < nm->nshards; i++)
		if (f->rebuilt[nm->shards[i].idx] &&
		    rebuilt_matches(f, &nm->shards[i], e) == -1)
			return -1;
	for (i = 0; i < nm->nshards; i++) {
		struct shard_info *si = &nm->shards[i];
		const struct backend_ci *ci;
		struct backend *b = NULL;
		struct bop op;

		if (!f->rebuilt[si->idx])
			continue;
		while (b == NULL) {
			if ((ci = pick_spare(cfg, pool, nm, f, placed)) == NULL)
				return err_set(e,
				    "no healthy backend is left that holds no "
				    "other "
				    "shard of this object: add backends to the "
				    "config or bring "
				    "the dead ones back");
			memset(&op, 0, sizeof(op));
			op.kind = BOP_NSINFO;
			if ((op.b = b = pool_get(pool, ci, NS_SEQUENTIAL,
			    e)) == NULL)
				continue;
			backend_run(&op, 1, pool->timeout_ms);
			if (op.rc == 0 &&
			    nsinfo_free_space(&op.info) < f->shard_len)
				err_set(&op.err, "%s: not enough space for a "
				    "%llu-byte shard", backend_name(b),
				    (unsigned long long)f->shard_len);
			else if (op.rc == 0) {
				if (write_shard(pool, f, (unsigned)si->idx, b,
				    si, &op.err) == 0)
					break;
				/* si->keys now lists what this attempt wrote on
				 * b. */
				obj_delete_keys(pool, b, si->keys, si->nkeys);
			}
			log_warnx("rebuild: %s; trying another backend",
			    op.err.msg);
			pool_fail(pool, ci, NS_SEQUENTIAL, &op.err);
			b = NULL;
		}
		ci_free(&si->ci);
		if (ci_copy(&si->ci, ci) < 0)
			return err_set(e, "out of memory");
		placed[si->idx] = 1;
	}
	return 0;
}

/* Different M/P: the data shards less padding are the sealed stream; encode it
 * again with the config's parameters. */
static int
reencode(const struct config *cfg, struct pool *pool, const struct metadata *m,
    const struct fetched *f, struct metadata *nm, struct err *e)
{
	/* The sealed stream goes after the shard slots, in the same scratch
	 * file. */
	struct sealed s = { .fd = f->fd,
	    .base = fetched_at(f, f->data + f->parity) };
	uint8_t *buf = malloc(OBJ_STRIPE), pad;
	uint64_t off, total = (uint64_t)f->data * f->shard_len, elen;
	size_t len;
	int rc = -1;

	if (buf == NULL || pread_full(f->fd, &pad, 1,
	    (off_t)(fetched_at(f, f->data - 1) + f->shard_len - 1), e) < 0)
		goto done;
	if (pad < 1 || pad > f->data || pad > total) {
		err_set(e, "object padding is invalid");
		goto done;
	}
	elen = total - pad;
	for (off = 0; off < elen; off += len) {
		uint64_t i = off / f->shard_len, o = off % f->shard_len;

		len = OBJ_STRIPE;
		if (f->shard_len - o < len)
			len = (size_t)(f->shard_len - o);
		if (elen - off < len)
			len = (size_t)(elen - off);
		if (pread_full(f->fd, buf, len,
		    (off_t)(fetched_at(f, (unsigned)i) + o), e) < 0)
			goto done;
		if (pwrite_full(s.fd, buf, len, (off_t)(s.base + off), e) < 0) {
			scratch_full(e, e->msg, 2 * elen, "re-encoding this "
			    "object");
			goto done;
		}
	}
	s.len = elen;
	memcpy(s.checksum, m->checksum, B2_LEN);
	if (obj_write(cfg, pool, &s, nm, e) == 0) {
		/* sealed with the object's key */
		memcpy(nm->key, m->key, sizeof(nm->key));
		rc = 0;
	}
done:
	free(buf);
	return rc;
}

/* Upstream's log line, which operators grep for: where the shards were, where
 * they are now. */
static void
log_move(const struct metadata *from, const struct metadata *to)
{
	char a[2048] = "", b[2048] = "", name[300];
	const struct metadata *side[2] = { from, to };
	char *out[2] = { a, b };
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < side[k]->nshards; i++) {
			zaddr_format(&side[k]->shards[i].ci.addr, name,
			    sizeof(name));
			strlcat(out[k], i ? "," : "", sizeof(a));
			strlcat(out[k], name, sizeof(a));
		}
	log_info("Rebuild file from %s to %s", a, b);
}

int
obj_rebuild(const struct config *cfg, struct pool *pool,
    const struct metadata *m, int scratch_fd, struct metadata *nm, int *changed,
    struct err *e)
{
	uint8_t placed[RS_MAX_SHARDS] = { 0 };
	struct fetched f;
	unsigned i;
	int rc = -1, any = 0;

	*changed = 0;
	memset(nm, 0, sizeof(*nm));
	if (obj_fetch(pool, m, 1, scratch_fd, &f, e) < 0)
		return err_prefix(e, "rebuild");
	if (cfg->minimal_shards != m->data_shards ||
	    cfg->expected_shards != m->data_shards + m->disposable_shards) {
		log_info("rebuild re-encodes the object from %llu+%llu to "
		    "%u+%u shards", (unsigned long long)m->data_shards,
		    (unsigned long long)m->disposable_shards,
		    cfg->minimal_shards,
		    cfg->expected_shards - cfg->minimal_shards);
		rc = reencode(cfg, pool, m, &f, nm, e);
		*changed = rc == 0;
		goto done;
	}
	for (i = 0; i < f.data + f.parity; i++)
		any |= f.rebuilt[i];
	if (!any) {
		log_info("rebuild: every shard is readable, nothing to do");
		rc = 0;
		goto done;
	}
	if (meta_copy(m, nm, e) < 0)
		goto done;
	rc = place_rebuilt(cfg, pool, &f, nm, placed, e);
	*changed = rc == 0;
	if (rc < 0) {
		drop_placed(pool, nm, placed);
		meta_free(nm);
	}
done:
	if (*changed)
		log_move(m, nm);
	fetched_close(&f);
	return rc;
}
