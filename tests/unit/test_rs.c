/* Reed-Solomon: upstream's matrix, encoded vectors, and every erasure pattern
 * of 10+5 and 16+4 up to one more than the parity count. */
#include <cjson/cJSON.h>
#include <isa-l/erasure_code.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs.h"
#include "t.h"

int main(void);

static unsigned
jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (unsigned)v->valuedouble : 0;
}

/* n shards of len bytes each, in one allocation, with their pointer table. */
struct shards {
	uint8_t	*mem;
	uint8_t	*p[RS_MAX_SHARDS];
};

static void
shards_alloc(struct shards *s, unsigned n, size_t len)
{
	unsigned i;

	s->mem = calloc(n, len ? len : 1);
	for (i = 0; i < n; i++)
		s->p[i] = s->mem + (size_t)i * len;
}

static void
check_spot(const cJSON *v)
{
	const cJSON *c;
	unsigned a, b, want;
	int n = 0;

	cJSON_ArrayForEach(c,
	    cJSON_GetObjectItemCaseSensitive(v, "spot_checks")) {
		want = (unsigned)strtoul(c->valuestring, NULL, 16);
		if (sscanf(c->string, "gmul(%x,%x)", &a, &b) == 2)
			T_CHECK(gf_mul((unsigned char)a,
			    (unsigned char)b) == want, "%s = %02x, want %02x",
			    c->string, gf_mul((unsigned char)a,
			    (unsigned char)b), want);
		else if (sscanf(c->string, "inverse(%x)", &a) == 1)
			T_CHECK(gf_inv((unsigned char)a) == want, "%s wrong",
			    c->string);
		else
			T_CHECK(0, "unknown spot check %s", c->string);
		n++;
	}
	T_CHECK(n == 4, "expected 4 spot checks, found %d", n);
}

static void
check_matrix(const cJSON *m)
{
	unsigned k = jnum(m, "data"), p = jnum(m, "parity"), r, c;
	const cJSON *row;
	const uint8_t *mat;
	uint8_t *want;
	size_t len;
	struct err e;
	struct rs *rs;
	int ident = 1;

	if ((rs = rs_new(k, p, &e)) == NULL) {
		T_CHECK(0, "rs_new(%u, %u): %s", k, p, e.msg);
		return;
	}
	mat = rs_matrix(rs);
	for (r = 0; r < k; r++)
		for (c = 0; c < k; c++)
			ident &= mat[r * k + c] == (r == c);
	T_CHECK(ident, "%u+%u: top rows are not the identity", k, p);
	r = k;
	cJSON_ArrayForEach(row,
	    cJSON_GetObjectItemCaseSensitive(m, "parity_rows")) {
		want = t_unhex(row->valuestring, &len);
		T_CHECK(len == k && r < k + p &&
		    memcmp(mat + r * k, want, k) == 0,
		    "%u+%u: parity row %u differs", k, p, r - k);
		free(want);
		r++;
	}
	T_CHECK(r == k + p, "%u+%u: %u parity rows in vectors", k, p, r - k);
	rs_free(rs);
}

/* Pads and splits input as upstream does; returns the shard length. */
static size_t
pad_split(const uint8_t *in, size_t len, unsigned k, struct shards *s,
    unsigned n)
{
	size_t pad = rs_pad_len(len, k), slen = rs_shard_len(len, k);

	shards_alloc(s, n, slen);
	memcpy(s->mem, in, len);
	memset(s->mem + len, (int)pad, pad);
	return slen;
}

/* Erases the listed shards (filling them with junk), rebuilds, unpads,
 * compares. */
static void
check_decode(struct rs *rs, const struct shards *orig, size_t slen,
    const uint8_t *in, size_t len, const unsigned *erase, unsigned nerase,
    const char *name)
{
	unsigned k = rs_data(rs), n = k + rs_parity(rs), i;
	uint8_t present[RS_MAX_SHARDS];
	struct shards w;
	struct err e;
	size_t pad;

	shards_alloc(&w, n, slen);
	memcpy(w.mem, orig->mem, n * slen);
	memset(present, 1, n);
	for (i = 0; i < nerase; i++) {
		present[erase[i]] = 0;
		memset(w.p[erase[i]], 0xee, slen);
	}
	T_CHECK(rs_reconstruct(rs, slen, w.p, present, &e) == 0, "%s: %s", name,
	    e.msg);
	T_CHECK(memcmp(w.mem, orig->mem, n * slen) == 0,
	    "%s: rebuilt shards differ", name);
	pad = w.mem[k * slen - 1];
	T_CHECK(pad >= 1 && pad <= k && k * slen - pad == len &&
	    memcmp(w.mem, in, len) == 0, "%s: decoded input differs", name);
	free(w.mem);
}

static void
check_rs_case(const cJSON *c)
{
	unsigned k = jnum(c, "data"), p = jnum(c, "parity"), i,
	    erase[RS_MAX_SHARDS];
	const char *name = t_jstr(c, "name");
	const cJSON *sh, *dc, *x;
	uint8_t *in, *want;
	size_t len, slen, wlen;
	struct shards s;
	struct err e;
	struct rs *rs = rs_new(k, p, &e);

	in = t_unhex(t_jstr(c, "input"), &len);
	slen = pad_split(in, len, k, &s, k + p);
	T_CHECK(slen == jnum(c, "shard_len"), "%s: shard length %zu", name,
	    slen);
	rs_encode(rs, slen, s.p, s.p + k);
	i = 0;
	cJSON_ArrayForEach(sh, cJSON_GetObjectItemCaseSensitive(c, "shards")) {
		want = t_unhex(sh->valuestring, &wlen);
		T_CHECK(i < k + p && wlen == slen &&
		    memcmp(s.p[i], want, slen) == 0, "%s: shard %u differs",
		    name, i);
		free(want);
		i++;
	}
	T_CHECK(i == k + p, "%s: %u shards in vectors", name, i);
	cJSON_ArrayForEach(dc,
	    cJSON_GetObjectItemCaseSensitive(c, "decode_cases")) {
		i = 0;
		cJSON_ArrayForEach(x, dc)
			erase[i++] = (unsigned)x->valuedouble;
		check_decode(rs, &s, slen, in, len, erase, i, name);
	}
	/* Every case: lose the first `parity` shards. */
	for (i = 0; i < p; i++)
		erase[i] = i;
	check_decode(rs, &s, slen, in, len, erase, p, name);
	free(s.mem);
	free(in);
	rs_free(rs);
}

static void
check_crate_kat(const cJSON *kat)
{
	unsigned k = jnum(kat, "data"), p = jnum(kat, "parity"), i = 0;
	uint8_t *data[RS_MAX_SHARDS], *parity[RS_MAX_SHARDS],
	    *want[RS_MAX_SHARDS];
	const cJSON *x;
	size_t len = 0;
	struct err e;
	struct rs *rs = rs_new(k, p, &e);

	cJSON_ArrayForEach(x,
	    cJSON_GetObjectItemCaseSensitive(kat, "data_shards"))
		data[i++] = t_unhex(x->valuestring, &len);
	T_CHECK(i == k, "crate_kat: %u data shards", i);
	i = 0;
	cJSON_ArrayForEach(x,
	    cJSON_GetObjectItemCaseSensitive(kat, "parity_shards")) {
		want[i] = t_unhex(x->valuestring, &len);
		parity[i] = calloc(1, len);
		i++;
	}
	T_CHECK(i == p, "crate_kat: %u parity shards", i);
	rs_encode(rs, len, data, parity);
	for (i = 0; i < p; i++) {
		T_CHECK(memcmp(parity[i], want[i], len) == 0,
		    "crate_kat: parity %u", i);
		free(parity[i]);
		free(want[i]);
	}
	for (i = 0; i < k; i++)
		free(data[i]);
	rs_free(rs);
}

/* Walks every subset of `size` shards out of n in lexicographic order. */
static int
next_combination(unsigned *idx, unsigned size, unsigned n)
{
	int i = (int)size - 1;

	while (i >= 0 && idx[i] == n - size + (unsigned)i)
		i--;
	if (i < 0)
		return 0;
	idx[i]++;
	for (i++; i < (int)size; i++)
		idx[i] = idx[i - 1] + 1;
	return 1;
}

/* A failed reconstruct must leave every shard untouched. */
static int
fails_cleanly(struct rs *rs, const struct shards *orig, size_t slen,
    const unsigned *erase, unsigned nerase)
{
	unsigned n = rs_data(rs) + rs_parity(rs), i;
	uint8_t present[RS_MAX_SHARDS];
	struct shards w;
	struct err e = { "" };
	int ok;

	shards_alloc(&w, n, slen);
	memcpy(w.mem, orig->mem, n * slen);
	memset(present, 1, n);
	for (i = 0; i < nerase; i++)
		present[erase[i]] = 0;
	ok = rs_reconstruct(rs, slen, w.p, present, &e) == -1 &&
	    strstr(e.msg, "too few shards") != NULL &&
	    memcmp(w.mem, orig->mem, n * slen) == 0;
	free(w.mem);
	return ok;
}

static void
check_exhaustive(unsigned k, unsigned p, size_t len)
{
	unsigned n = k + p, idx[RS_MAX_SHARDS], size, i;
	int patterns = 0, failures = 0, t_before = t_failed;
	uint8_t *in = malloc(len);
	char name[64];
	struct shards s;
	struct err e;
	struct rs *rs = rs_new(k, p, &e);
	size_t slen;

	for (i = 0; i < len; i++)
		in[i] = (uint8_t)t_rng();
	slen = pad_split(in, len, k, &s, n);
	rs_encode(rs, slen, s.p, s.p + k);
	for (size = 0; size <= p; size++) {
		for (i = 0; i < size; i++)
			idx[i] = i;
		do {
			snprintf(name, sizeof(name), "%u+%u lose %u", k, p,
			    size);
			check_decode(rs, &s, slen, in, len, idx, size, name);
			patterns++;
		} while (t_failed == t_before &&
		    next_combination(idx, size, n));
	}
	T_CHECK(t_failed == t_before, "%u+%u: a pattern failed", k, p);
	for (i = 0; i <= p; i++)
		idx[i] = i;
	do {
		failures += !fails_cleanly(rs, &s, slen, idx, p + 1);
		patterns++;
	} while (next_combination(idx, p + 1, n));
	T_CHECK(failures == 0, "%u+%u: %d patterns of %u erasures did not fail "
	    "cleanly", k, p, failures, p + 1);
	printf("%u+%u: %d erasure patterns checked\n", k, p, patterns);
	free(s.mem);
	free(in);
	rs_free(rs);
}

static void
check_params(void)
{
	static const unsigned bad[][2] = { { 0, 1 }, { 1, 0 }, { 0, 0 }, { 200,
	    57 }, { 256, 1 }, { 1, 256 }, { UINT_MAX, 2 }, { 2, UINT_MAX } };
	struct err e;
	struct rs *rs;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		rs = rs_new(bad[i][0], bad[i][1], &e);
		T_CHECK(rs == NULL && strncmp(e.msg, "RS: ", 4) == 0,
		    "rs_new(%u, %u) accepted or unclear: %s", bad[i][0],
		    bad[i][1], e.msg);
		rs_free(rs);
	}
	T_CHECK(rs_pad_len(0, 2) == 2 && rs_pad_len(5, 2) == 1 &&
	    rs_pad_len(10, 10) == 10 && rs_pad_len(9, 10) == 1, "rs_pad_len");
	T_CHECK(rs_shard_len(0, 2) == 1 && rs_shard_len(1000, 10) == 101 &&
	    rs_shard_len(999, 10) == 100, "rs_shard_len");
}

/* The largest shapes still build, and 128 parity shards rebuild 128 lost
 * ones. */
static void
check_wide(void)
{
	static const unsigned shapes[][2] = { { 255, 1 }, { 1, 255 }, { 128,
	    128 } };
	unsigned idx[RS_MAX_SHARDS], i, j;
	uint8_t in[500];
	struct shards s;
	struct err e;
	struct rs *rs;
	size_t slen;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)t_rng();
	for (j = 0; j < 3; j++) {
		rs = rs_new(shapes[j][0], shapes[j][1], &e);
		T_CHECK(rs != NULL, "rs_new(%u, %u): %s", shapes[j][0],
		    shapes[j][1], e.msg);
		if (rs == NULL)
			continue;
		slen = pad_split(in, sizeof(in), shapes[j][0], &s,
		    shapes[j][0] + shapes[j][1]);
		rs_encode(rs, slen, s.p, s.p + shapes[j][0]);
		for (i = 0; i < shapes[j][1]; i++)
			idx[i] = i * (shapes[j][0] + shapes[j][1]) /
			    shapes[j][1];
		check_decode(rs, &s, slen, in, sizeof(in), idx, shapes[j][1],
		    "wide");
		free(s.mem);
		rs_free(rs);
	}
}

int
main(void)
{
	cJSON *g = t_load_vectors("gf256.json"), *r = t_load_vectors("rs.json");
	const cJSON *c;
	int n = 0;

	t_rng_seed(0x13198a2e03707344ULL);
	check_spot(g);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(g, "matrices")) {
		check_matrix(c);
		n++;
	}
	T_CHECK(n == 7, "expected 7 matrices, found %d", n);
	n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "cases")) {
		check_rs_case(c);
		n++;
	}
	T_CHECK(n == 8, "expected 8 RS cases, found %d", n);
	check_crate_kat(cJSON_GetObjectItemCaseSensitive(r, "crate_kat"));
	check_params();
	check_wide();
	check_exhaustive(10, 5, 10 * 64 - 1);
	check_exhaustive(16, 4, 16 * 64 - 1);
	cJSON_Delete(g);
	cJSON_Delete(r);
	return t_finish();
}
