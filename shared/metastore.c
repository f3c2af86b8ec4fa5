#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "meta_key.h"
#include "meta_seal.h"
#include "metastore.h"

/* What the four backends hold under one key. */
struct meta_values {
	struct backend *b[META_BACKENDS];	/* NULL: unreachable */
	uint8_t *v[META_BACKENDS];		/* NULL: no value */
	size_t len[META_BACKENDS];
	int answered[META_BACKENDS];
	int nanswered;
	char dead[1024];			/* the failed ones:
						 * add_failure */
};

void
metastore_init(struct metastore *ms, const struct config *cfg,
    struct pool *pool)
{
	ms->cfg = cfg;
	ms->pool = pool;
}

int
metastore_key(struct metastore *ms, const char *path, char *key, size_t keylen,
    struct err *e)
{
	return meta_key(ms->cfg->meta_prefix, ms->cfg->root, path, key, keylen,
	    e);
}

static void
add_name(char *list, size_t len, const char *name)
{
	if (list[0])
		strlcat(list, ", ", len);
	strlcat(list, name, len);
}

/* Backends that did not answer are listed by name after "unreachable: "; a
 * backend that answered "no" (a wrong password, a wrong mode, a directory the
 * workers cannot write) is not unreachable: its whole message follows. */
static int
is_unreachable(const char *why)
{
	static const char *const kinds[] = { "refused", "timeout", "no route",
	    "connection lost", "missing", "error", NULL };
	const char *cause = backend_cause(why);
	int i;

	for (i = 0; kinds[i] != NULL; i++)
		if (strcmp(cause, kinds[i]) == 0)
			return 1;
	return 0;
}

static void
add_failure(char *list, size_t len, const char *name, const char *why)
{
	static const char tag[] = "unreachable: ";
	char tmp[2048];
	size_t end;

	if (!is_unreachable(why)) {
		if (list[0] != '\0')
			strlcat(list, "; ", len);
		strlcat(list, why, len);
		return;
	}
	if (strncmp(list, tag, sizeof(tag) - 1) != 0) {
		snprintf(tmp, sizeof(tmp), "%s%s%s%s", tag, name,
		    list[0] != '\0' ? "; " : "", list);
		strlcpy(list, tmp, len);
		return;
	}
	/* Into the names after the tag, before any message. */
	end = strcspn(list, ";");
	snprintf(tmp, sizeof(tmp), "%.*s, %s%s", (int)end, list, name,
	    list + end);
	strlcpy(list, tmp, len);
}

/* Opens the metadata backends, all at once; says why the ones that failed did
 * in `dead`. */
static int
metastore_open_all(struct metastore *ms, struct backend *b[META_BACKENDS],
    char *dead, size_t deadlen)
{
	const struct backend_ci *cis[META_BACKENDS];
	struct err e;
	char name[300];
	int i, up = 0;

	dead[0] = '\0';
	for (i = 0; i < META_BACKENDS; i++)
		cis[i] = &ms->cfg->meta_backends[i];
	pool_open_all(ms->pool, cis, META_BACKENDS, NS_USERKEY);
	for (i = 0; i < META_BACKENDS; i++) {
		b[i] = pool_get(ms->pool, &ms->cfg->meta_backends[i],
		    NS_USERKEY, &e);
		if (b[i] != NULL) {
			up++;
			continue;
		}
		ci_name(&ms->cfg->meta_backends[i], name, sizeof(name));
		add_failure(dead, deadlen, name, e.msg);
	}
	return up;
}

int
metastore_writable(struct metastore *ms, struct err *e)
{
	struct backend *b[META_BACKENDS];
	char dead[1024];

	if (metastore_open_all(ms, b, dead, sizeof(dead)) == META_BACKENDS)
		return 0;
	return err_set(e, "metadata store is not writable: %s; stores are "
	    "refused until all 4 metadata backends work (check them with "
	    "`zstor status`)", dead);
}

static void
values_free(struct meta_values *mv)
{
	int i;

	for (i = 0; i < META_BACKENDS; i++)
		free(mv->v[i]);
}

/* GETs each of keys[0..n) on every reachable metadata backend, pipelined
 * (one round trip for them all), each answer in its key's and its backend's
 * slot. */
static void
values_get_many(struct metastore *ms, const char *const *keys, size_t n,
    struct meta_values *mv)
{
	struct backend *b[META_BACKENDS];
	char dead[sizeof(mv->dead)];
	struct bop *ops;
	size_t nops = 0, k, i, o;

	metastore_open_all(ms, b, dead, sizeof(dead));
	for (k = 0; k < n; k++) {
		memset(&mv[k], 0, sizeof(mv[k]));
		memcpy(mv[k].b, b, sizeof(b));
		strlcpy(mv[k].dead, dead, sizeof(mv[k].dead));
	}
	if ((ops = calloc(n * META_BACKENDS, sizeof(*ops))) == NULL) {
		for (k = 0; k < n; k++)
			strlcpy(mv[k].dead, "out of memory", sizeof(mv[k].dead));
		return;
	}
	for (k = 0; k < n; k++)
		for (i = 0; i < META_BACKENDS; i++) {
			if (b[i] == NULL)
				continue;
			ops[nops].b = b[i];
			ops[nops].kind = BOP_GET;
			ops[nops].key = keys[k];
			ops[nops].keylen = strlen(keys[k]);
			nops++;
		}
	backend_run(ops, nops, ms->pool->timeout_ms);
	for (k = 0, o = 0; k < n; k++)
		for (i = 0; i < META_BACKENDS; i++) {
			if (b[i] == NULL)
				continue;
			if (ops[o].rc < 0) {
				log_warnx("reading metadata %s: %s", keys[k],
				    ops[o].err.msg);
				add_failure(mv[k].dead, sizeof(mv[k].dead),
				    backend_name(b[i]), ops[o].err.msg);
			} else {
				mv[k].answered[i] = 1;
				mv[k].nanswered++;
				mv[k].v[i] = ops[o].out;
				mv[k].len[i] = ops[o].outlen;
			}
			o++;
		}
	free(ops);
}

static void
values_get(struct metastore *ms, const char *key, struct meta_values *mv)
{
	values_get_many(ms, &key, 1, mv);
}

/* Opens the record in mv: 0 found, 1 none, -1 error naming what is missing. */
static int
values_open(struct metastore *ms, const char *key, struct meta_values *mv,
    struct metadata *m, struct err *e)
{
	int rc = meta_open(mv->v, mv->len, ms->cfg->key, m, e);

	/* "Not found" is only certain when at most one backend could hold a
	 * shard we did not see: with fewer answers a stored object could be
	 * hidden. */
	if (rc == 1 && mv->nanswered < META_BACKENDS - 1)
		return err_set(e, "metadata %s could not be read: only %d of 4 "
		    "metadata backends answered (%s); retry when they are back",
		    key, mv->nanswered, mv->dead);
	if (rc < 0 && mv->nanswered < META_BACKENDS)
		return err_set(e, "metadata %s could not be read: %s; %d of 4 "
		    "metadata backends answered (%s); retry when they are back",
		    key, e->msg, mv->nanswered, mv->dead);
	if (rc < 0)
		return err_prefix(e, "metadata %s", key);
	return rc;
}

/* The record under key is still base (bincode for bincode). */
static int
values_hold(struct metastore *ms, const char *key, struct meta_values *mv,
    const struct metadata *base, struct err *e)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	struct metadata cur;
	int same;

	if (values_open(ms, key, mv, &cur, e) != 0)
		return err_set(e, "the metadata of %s changed while it was "
		    "being rebuilt (it is gone or unreadable now); nothing was "
		    "saved", key);
	same = meta_encode(&cur, &a, &alen, e) == 0 &&
	    meta_encode(base, &b, &blen, e) == 0 && alen == blen &&
	    memcmp(a, b, alen) == 0;
	meta_free(&cur);
	free(a);
	free(b);
	if (!same)
		return err_set(e, "the metadata of %s changed while it was "
		    "being rebuilt (it was stored again); nothing was saved",
		    key);
	return 0;
}

/* The ops that put back, on every backend whose write may have landed, what
 * it held before (or delete the key where it held nothing); returns how many
 * it wrote into undo. */
static size_t
restore_ops(const char *key, const struct meta_values *old,
    const struct bop wrote[META_BACKENDS], struct bop undo[META_BACKENDS])
{
	size_t n = 0, i;

	for (i = 0; i < META_BACKENDS; i++) {
		if (wrote[i].rc == -1 && wrote[i].refused)
			continue;	/* it still holds the old value */
		undo[n].b = old->b[i];
		undo[n].kind = old->v[i] != NULL ? BOP_KEY_SET : BOP_DEL;
		undo[n].key = key;
		undo[n].keylen = strlen(key);
		undo[n].val = old->v[i];
		undo[n].vallen = old->len[i];
		n++;
	}
	return n;
}

/* Once the restore ops ran: how many backends may still hold the new value,
 * named in `left`. */
static int
restore_stuck(const char *key, const struct bop *undo, size_t n, char *left,
    size_t leftlen)
{
	size_t i;
	int stuck = 0;

	left[0] = '\0';
	for (i = 0; i < n; i++) {
		if (undo[i].rc >= 0)
			continue;
		log_warnx("putting back metadata %s: %s", key,
		    undo[i].err.msg);
		add_name(left, leftlen, backend_name(undo[i].b));
		stuck++;
	}
	return stuck;
}

/* A get of a batch, once its values are in. */
static void
req_get(struct metastore *ms, struct meta_req *r, struct meta_values *mv)
{
	r->rc = values_open(ms, r->key, mv, &r->meta, &r->err);
	r->settled = r->rc == 0 && meta_values_agree(mv->v, mv->len);
}

/* A put of a batch, once the values it replaces are in: its SETs in ops, of
 * the values in nv (the caller frees them), or -1 (r->err saying why) when
 * nothing may be written. */
static int
req_put_sets(struct metastore *ms, struct meta_req *r,
    struct meta_values *old, struct bop ops[META_BACKENDS],
    uint8_t *nv[META_BACKENDS])
{
	size_t nl[META_BACKENDS];
	int i;

	if (old->nanswered < META_BACKENDS)
		return err_set(&r->err, "metadata store is not writable: "
		    "metadata backend(s) %s did not answer; stores are refused "
		    "until all 4 metadata backends are up (check them with "
		    "`zstor status`)", old->dead);
	if (r->base != NULL && values_hold(ms, r->key, old, r->base,
	    &r->err) == -1)
		return -1;
	if (meta_seal(r->put, ms->cfg->key, NULL, nv, nl, &r->err) == -1)
		return err_prefix(&r->err, "saving metadata %s (the previous "
		    "value was kept)", r->key);
	for (i = 0; i < META_BACKENDS; i++) {
		ops[i].b = old->b[i];
		ops[i].kind = BOP_KEY_SET;
		ops[i].key = r->key;
		ops[i].keylen = strlen(r->key);
		ops[i].val = nv[i];
		ops[i].vallen = nl[i];
	}
	return 0;
}

/* A put of a batch once its SETs are answered: 0 when every SET landed
 * (committed), or how many restore ops it wrote into undo, r->err keeping
 * the first failure. */
static size_t
req_put_end(struct meta_req *r, const struct meta_values *old,
    const struct bop wrote[META_BACKENDS], struct bop undo[META_BACKENDS])
{
	int i, failed = 0;

	for (i = 0; i < META_BACKENDS; i++)
		if (wrote[i].rc == -1 && failed++ == 0)
			r->err = wrote[i].err;
	if (failed == 0) {
		r->rc = 0;
		r->how = META_COMMITTED;
		return 0;
	}
	r->rc = -1;
	return restore_ops(r->key, old, wrote, undo);
}

/* A failed put once its restore ops ran: rolled back, or in doubt when
 * putting back failed on two or more backends. */
static void
req_put_undone(struct meta_req *r, const struct bop *undo, size_t n)
{
	char left[1024];

	if (restore_stuck(r->key, undo, n, left, sizeof(left)) > 1) {
		r->how = META_IN_DOUBT;
		err_prefix(&r->err, "saving metadata %s failed, and putting "
		    "the previous value back failed too on %s: readers may see "
		    "the new or the previous version, so the shards of both "
		    "are kept (store the file again to settle it); the first "
		    "failure", r->key, left);
		return;
	}
	err_prefix(&r->err, "saving metadata %s (the previous value was kept)",
	    r->key);
}

/* Every request failed, nothing done. */
static void
batch_refused(struct meta_req *reqs, size_t n, const char *why)
{
	size_t k;

	for (k = 0; k < n; k++) {
		reqs[k].rc = -1;
		err_set(&reqs[k].err, "metadata %s: %s", reqs[k].key, why);
	}
}

/* A batch is at most three pipelined rounds over the 4 backends: the GETs of
 * every key, the SETs of every put, and, only when some put failed, the
 * restores of all failed puts at once, so that a backend hanging between
 * rounds costs one timeout per round, not one per request. */
void
metastore_batch(struct metastore *ms, struct meta_req *reqs, size_t n)
{
	struct meta_values *mv = calloc(n, sizeof(*mv));
	struct bop *ops = calloc(n * META_BACKENDS, sizeof(*ops));
	struct bop *undo = calloc(n * META_BACKENDS, sizeof(*undo));
	uint8_t **sealed = calloc(n * META_BACKENDS, sizeof(*sealed));
	const char **keys = calloc(n, sizeof(*keys));
	size_t *at = calloc(n, sizeof(*at)), *nundo = calloc(n, sizeof(*nundo));
	size_t k, nops = 0, nu = 0;

	for (k = 0; k < n; k++) {
		reqs[k].how = META_ROLLED_BACK;
		memset(&reqs[k].drop, 0, sizeof(reqs[k].drop));
	}
	if (mv == NULL || ops == NULL || undo == NULL || sealed == NULL ||
	    keys == NULL || at == NULL || nundo == NULL) {
		batch_refused(reqs, n, "out of memory; nothing was read or "
		    "written");
		goto out;
	}
	for (k = 0; k < n; k++)
		keys[k] = reqs[k].key;
	values_get_many(ms, keys, n, mv);
	for (k = 0; k < n; k++) {
		at[k] = SIZE_MAX;
		if (reqs[k].kind == META_REQ_GET)
			req_get(ms, &reqs[k], &mv[k]);
		else if ((reqs[k].rc = req_put_sets(ms, &reqs[k], &mv[k],
		    &ops[nops], &sealed[nops])) == 0) {
			at[k] = nops;
			nops += META_BACKENDS;
		}
	}
	backend_run(ops, nops, ms->pool->timeout_ms);
	/* The restores of request k follow those of the requests before it. */
	for (k = 0; k < n; k++)
		if (at[k] != SIZE_MAX) {
			nundo[k] = req_put_end(&reqs[k], &mv[k], &ops[at[k]],
			    &undo[nu]);
			nu += nundo[k];
		}
	backend_run(undo, nu, ms->pool->timeout_ms);
	for (k = 0, nu = 0; k < n; k++) {
		/* also with nothing to put back: every write was refused */
		if (at[k] != SIZE_MAX && reqs[k].rc == -1)
			req_put_undone(&reqs[k], &undo[nu], nundo[k]);
		nu += nundo[k];
		values_free(&mv[k]);
	}
	for (k = 0; k < nops; k++)
		free(sealed[k]);
out:
	/* What a failed put wrote that no reader can reach: the caller
	 * deletes it. */
	for (k = 0; k < n; k++)
		if (reqs[k].kind == META_REQ_PUT && reqs[k].rc == -1 &&
		    reqs[k].how == META_ROLLED_BACK &&
		    meta_diff(reqs[k].put, reqs[k].base, &reqs[k].drop) == -1)
			log_warnx("%s: out of memory; the pieces of the failed "
			    "update stay behind", reqs[k].key);
	free(mv);
	free(ops);
	free(sealed);
	free(keys);
	free(at);
	free(undo);
	free(nundo);
}

int
metastore_load_state(struct metastore *ms, const char *key, struct metadata *m,
    int *settled, struct err *e)
{
	struct meta_req r = { .kind = META_REQ_GET, .key = key };

	metastore_batch(ms, &r, 1);
	if (r.rc == 0)
		*m = r.meta;
	else if (r.rc == -1)
		*e = r.err;
	if (settled != NULL)
		*settled = r.settled;
	return r.rc;
}

int
metastore_load(struct metastore *ms, const char *key, struct metadata *m,
    struct err *e)
{
	return metastore_load_state(ms, key, m, NULL, e);
}

int
metastore_replace(struct metastore *ms, const char *key,
    const struct metadata *m, const struct metadata *base,
    enum meta_outcome *how, struct metadata *drop, struct err *e)
{
	struct meta_req r = { .kind = META_REQ_PUT, .key = key, .put = m,
	    .base = base };

	metastore_batch(ms, &r, 1);
	*how = r.how;
	*drop = r.drop;
	if (r.rc == -1)
		*e = r.err;
	return r.rc;
}

/* Whether two records are the same, byte for byte. */
static int
meta_same(const struct metadata *a, const struct metadata *b)
{
	uint8_t *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	struct err e;
	int same;

	same = meta_encode(a, &x, &xl, &e) == 0 &&
	    meta_encode(b, &y, &yl, &e) == 0 && xl == yl &&
	    memcmp(x, y, xl) == 0;
	free(x);
	free(y);
	return same;
}

int
metastore_load_every(struct metastore *ms, const char *key,
    struct metadata recs[META_EVERY_MAX], size_t *nrecs, int *stray,
    struct err *e)
{
	uint8_t *pair[META_BACKENDS];
	size_t lens[META_BACKENDS];
	int used[META_BACKENDS] = { 0 }, i, j, k, present = 0, lone;
	struct meta_values mv;
	struct metadata m;
	struct err pe;

	*nrecs = 0;
	*stray = 0;
	values_get(ms, key, &mv);
	if (mv.nanswered < META_BACKENDS) {
		values_free(&mv);
		return err_set(e, "metadata %s: only %d of 4 metadata backends "
		    "answered (unreachable: %s)", key, mv.nanswered, mv.dead);
	}
	for (i = 0; i < META_BACKENDS; i++)
		present += mv.v[i] != NULL;
	for (i = 0; i < META_BACKENDS; i++)
		for (j = i + 1; j < META_BACKENDS; j++) {
			if (mv.v[i] == NULL || mv.v[j] == NULL)
				continue;
			memset(pair, 0, sizeof(pair));
			memset(lens, 0, sizeof(lens));
			pair[i] = mv.v[i], lens[i] = mv.len[i];
			pair[j] = mv.v[j], lens[j] = mv.len[j];
			if (meta_open(pair, lens, ms->cfg->key, &m, &pe) != 0)
				continue;	/* shards of two records */
			used[i] = used[j] = 1;
			for (k = 0; k < (int)*nrecs; k++)
				if (meta_same(&recs[k], &m))
					break;
			if (k < (int)*nrecs || *nrecs == META_EVERY_MAX)
				meta_free(&m);
			else
				recs[(*nrecs)++] = m;
		}
	/* A value that belongs to no decodable record is corrupt, or the lone
	 * value of a record no reader can ever open (an update that landed on
	 * one backend and was not put back there): only the first is
	 * counted. Two intact values left over may be one record that did not
	 * open (another key, a record past our limits, out of memory): stray
	 * too, as no one can tell them from a record a reader may need. */
	for (i = 0, lone = 0; i < META_BACKENDS; i++) {
		const uint8_t *sh;
		size_t shlen;
		unsigned idx;

		if (mv.v[i] == NULL || used[i])
			continue;
		if (metaval_decode(mv.v[i], mv.len[i], &idx, &sh, &shlen,
		    &pe) == -1)
			(*stray)++;
		else
			lone++;
	}
	if (lone > 1)
		*stray += lone;
	else if (lone == 1)
		log_debug("metadata %s: a lone value (no reader can open its "
		    "record)", key);
	values_free(&mv);
	return present == 0 ? 1 : 0;
}
