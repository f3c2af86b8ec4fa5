/* Metadata: bincode against the reference vectors, the sealed 2+2 storage
 * values, metadata keys, path cleaning, the strict decoder's rejections, and a
 * mutation fuzz of decode and open that must never crash or leak. */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "hex.h"
#include "log.h"
#include "meta_key.h"
#include "meta_seal.h"
#include "rs.h"
#include "t.h"

int main(void);

#define FUZZ_ROUNDS 100000

static cJSON *
item(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *s = item(o, name);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static char *
dup_or_null(const cJSON *o, const char *name)
{
	const char *s = str(o, name);

	return s ? strdup(s) : NULL;
}

static void
unhex_into(uint8_t *out, const char *hex, size_t n)
{
	if (hex == NULL || strlen(hex) != 2 * n ||
	    hex_decode(out, hex, n) == -1) {
		fprintf(stderr, "bad vector hex\n");
		exit(2);
	}
}

static void
shard_from_json(const cJSON *js, struct shard_info *s)
{
	const cJSON *keys = item(js, "keys");
	struct err e;
	int i;

	s->idx = (uint64_t)item(js, "idx")->valuedouble;
	unhex_into(s->checksum, str(js, "checksum"), B2_LEN);
	s->nkeys = (size_t)cJSON_GetArraySize(keys);
	s->keys = calloc(s->nkeys + 1, sizeof(*s->keys));
	for (i = 0; i < (int)s->nkeys; i++) {
		s->keys[i].kind = KEY_V2;
		s->keys[i].id = (uint64_t)cJSON_GetArrayItem(keys,
		    i)->valuedouble;
	}
	if (zaddr_parse(str(js, "address"), &s->ci.addr, &e) == -1) {
		fprintf(stderr, "vector address: %s\n", e.msg);
		exit(2);
	}
	s->ci.ns = dup_or_null(js, "namespace");
	s->ci.password = dup_or_null(js, "password");
}

static void
meta_from_json(const cJSON *js, struct metadata *m)
{
	const cJSON *shards = item(js, "shards");
	int i;

	memset(m, 0, sizeof(*m));
	m->data_shards = (uint64_t)item(js, "data_shards")->valuedouble;
	m->disposable_shards = (uint64_t)item(js,
	    "disposable_shards")->valuedouble;
	unhex_into(m->checksum, str(js, "checksum"), B2_LEN);
	unhex_into(m->key, str(item(js, "encryption"), "key"), 32);
	m->nshards = (size_t)cJSON_GetArraySize(shards);
	m->shards = calloc(m->nshards + 1, sizeof(*m->shards));
	for (i = 0; i < (int)m->nshards; i++)
		shard_from_json(cJSON_GetArrayItem(shards, i), &m->shards[i]);
}

static int
shard_equal(const struct shard_info *a, const struct shard_info *b)
{
	size_t i;

	if (a->idx != b->idx || memcmp(a->checksum, b->checksum, B2_LEN) != 0 ||
	    a->nkeys != b->nkeys || !ci_equal(&a->ci, &b->ci))
		return 0;
	for (i = 0; i < a->nkeys; i++)
		if (a->keys[i].kind != b->keys[i].kind ||
		    a->keys[i].id != b->keys[i].id)
			return 0;
	return 1;
}

static int
meta_equal(const struct metadata *a, const struct metadata *b)
{
	size_t i;

	if (a->data_shards != b->data_shards ||
	    a->disposable_shards != b->disposable_shards ||
	    memcmp(a->checksum, b->checksum, B2_LEN) != 0 ||
	    memcmp(a->key, b->key, 32) != 0 || a->nshards != b->nshards)
		return 0;
	for (i = 0; i < a->nshards; i++)
		if (!shard_equal(&a->shards[i], &b->shards[i]))
			return 0;
	return 1;
}

/* The decoded addresses print back as the vector's "address" strings. */
static void
check_addresses(const cJSON *js, const struct metadata *m, const char *name)
{
	const cJSON *shards = item(js, "shards");
	char buf[300];
	size_t i;

	for (i = 0; i < m->nshards; i++) {
		zaddr_format(&m->shards[i].ci.addr, buf, sizeof(buf));
		T_CHECK(strcmp(buf, str(cJSON_GetArrayItem(shards, (int)i),
		    "address")) == 0, "%s shard %zu: address %s", name, i, buf);
	}
}

static void
test_example(const cJSON *ex)
{
	const char *name = str(ex, "name");
	struct metadata want, got;
	uint8_t *bin, *enc, *re;
	size_t binlen, enclen, relen;
	struct err e;

	meta_from_json(item(ex, "structured"), &want);
	bin = t_unhex(str(ex, "bincode"), &binlen);
	T_CHECK(meta_encode(&want, &enc, &enclen, &e) == 0, "%s encode: %s",
	    name, e.msg);
	T_CHECK(enclen == binlen && memcmp(enc, bin, binlen) == 0,
	    "%s: encoding differs from the vector", name);
	T_CHECK(meta_decode(bin, binlen, &got, &e) == 0, "%s decode: %s", name,
	    e.msg);
	T_CHECK(meta_equal(&got, &want), "%s: decoded fields differ", name);
	check_addresses(item(ex, "structured"), &got, name);
	T_CHECK(meta_encode(&got, &re, &relen, &e) == 0 && relen == binlen &&
	    memcmp(re, bin, binlen) == 0, "%s: re-encoding differs", name);
	free(re);
	meta_free(&got);
	/* trailing bytes are allowed, as upstream allows them */
	enc = realloc(enc, enclen + 3);
	memcpy(enc + enclen, "xyz", 3);
	T_CHECK(meta_decode(enc, enclen + 3, &got, &e) == 0 &&
	    meta_equal(&got, &want), "%s: trailing bytes rejected", name);
	meta_free(&got);
	free(enc);
	free(bin);
	meta_free(&want);
}

static const cJSON *
find_example(const cJSON *v, const char *name)
{
	const cJSON *ex;

	cJSON_ArrayForEach(ex, item(v, "examples"))
		if (strcmp(str(ex, "name"), name) == 0)
			return ex;
	fprintf(stderr, "no example %s\n", name);
	exit(2);
}

/* Opens the subset of values selected by mask and returns meta_open's
 * result. */
static int
open_subset(uint8_t *const values[4], const size_t lens[4], unsigned mask,
    const uint8_t key[32], struct metadata *m, struct err *e)
{
	uint8_t *sel[4];
	size_t sl[4];
	int i;

	for (i = 0; i < 4; i++) {
		sel[i] = (mask >> i & 1) ? values[i] : NULL;
		sl[i] = (mask >> i & 1) ? lens[i] : 0;
	}
	return meta_open(sel, sl, key, m, e);
}

static int
popcount4(unsigned mask)
{
	return (mask & 1) + (mask >> 1 & 1) + (mask >> 2 & 1) + (mask >> 3 & 1);
}

static void
check_all_subsets(uint8_t *const values[4], const size_t lens[4],
    const uint8_t key[32], const struct metadata *want)
{
	static const char one[] = "key reconstruction failed, data is "
	    "corrupted. Need at least 2 shards, only 1 available";
	struct metadata got;
	struct err e;
	unsigned mask;
	int rc;

	for (mask = 0; mask < 16; mask++) {
		rc = open_subset(values, lens, mask, key, &got, &e);
		if (popcount4(mask) == 0)
			T_CHECK(rc == 1, "open with no values gave %d", rc);
		else if (popcount4(mask) == 1)
			T_CHECK(rc == -1 && strcmp(e.msg, one) == 0,
			    "open with one value (mask %x) gave %d", mask, rc);
		else {
			T_CHECK(rc == 0, "open mask %x: %s", mask,
			    rc ? e.msg : "");
			if (rc == 0) {
				T_CHECK(meta_equal(&got, want),
				    "open mask %x: wrong record", mask);
				meta_free(&got);
			}
		}
	}
}

/* sealed -> pad (pad byte given, normally the pad length) -> RS(2,2) ->
 * values. */
static void
values_from_sealed(const uint8_t *sealed, size_t len, int padbyte,
    uint8_t *values[4], size_t lens[4])
{
	size_t sl = rs_shard_len(len, 2), pad = rs_pad_len(len, 2);
	uint8_t *buf = malloc(4 * sl), *data[2], *parity[2];
	struct rs *rs;
	struct err e;
	int i;

	memcpy(buf, sealed, len);
	memset(buf + len, padbyte < 0 ? (int)pad : padbyte, pad);
	data[0] = buf, data[1] = buf + sl, parity[0] = buf + 2 * sl,
	    parity[1] = buf + 3 * sl;
	rs = rs_new(2, 2, &e);
	rs_encode(rs, sl, data, parity);
	rs_free(rs);
	for (i = 0; i < 4; i++)
		if (metaval_encode((unsigned)i, buf + (size_t)i * sl, sl,
		    &values[i], &lens[i], &e) == -1)
			exit(2);
	free(buf);
}

static void
free_values(uint8_t *values[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		free(values[i]);
		values[i] = NULL;
	}
}

static void
test_storage_vectors(const cJSON *st, uint8_t *const values[4],
    const size_t lens[4], const uint8_t *plain, size_t plainlen,
    const uint8_t key[32], const uint8_t *nonce)
{
	uint8_t *sealed, *mine, *want;
	size_t sealedlen, minelen, wantlen, sl;
	struct err e;
	int i;

	sealed = t_unhex(str(st, "sealed"), &sealedlen);
	T_CHECK(gcm_seal(key, nonce, plain, plainlen, &mine, &minelen,
	    &e) == 0 &&
	    minelen == sealedlen && memcmp(mine, sealed, sealedlen) == 0,
	    "storage: sealed bincode differs");
	free(mine);
	for (i = 0; i < 4; i++) {
		want = t_unhex(cJSON_GetArrayItem(item(st, "values"),
		    i)->valuestring, &wantlen);
		T_CHECK(lens[i] == wantlen &&
		    memcmp(values[i], want, wantlen) == 0,
		    "storage: value %d differs", i);
		free(want);
		want = t_unhex(cJSON_GetArrayItem(item(st, "shards"),
		    i)->valuestring, &sl);
		T_CHECK(lens[i] == 1 + sl + B2_LEN &&
		    memcmp(values[i] + 1, want, sl) == 0,
		    "storage: shard %d differs", i);
		free(want);
	}
	free(sealed);
}

/* Values that fail their checksum, carry idx >= 4 or repeat an idx are
 * skipped. */
static void
test_skipped_values(uint8_t *const values[4], const size_t lens[4],
    const uint8_t key[32], const struct metadata *want)
{
	uint8_t *v[4], *bad = malloc(lens[1]), *idx4;
	size_t l[4], idx4len;
	struct metadata got;
	struct err e;

	memcpy(bad, values[1], lens[1]);
	bad[lens[1] / 2] ^= 0x01;
	v[0] = values[0], v[1] = bad, v[2] = NULL, v[3] = NULL;
	l[0] = lens[0], l[1] = lens[1], l[2] = 0, l[3] = 0;
	T_CHECK(meta_open(v, l, key, &got, &e) == -1 &&
	    strstr(e.msg, "only 1") != NULL, "corrupted value was not skipped");
	v[2] = values[3], l[2] = lens[3];
	T_CHECK(meta_open(v, l, key, &got, &e) == 0 && meta_equal(&got, want),
	    "open around a corrupted value failed");
	meta_free(&got);
	/* the same idx twice counts once */
	v[1] = values[0], l[1] = lens[0], v[2] = NULL, l[2] = 0;
	T_CHECK(meta_open(v, l, key, &got, &e) == -1 &&
	    strstr(e.msg, "only 1") != NULL, "duplicate idx counted twice");
	/* idx 4 is out of range even with a valid checksum */
	metaval_encode(4, values[1] + 1, lens[1] - 1 - B2_LEN, &idx4, &idx4len,
	    &e);
	v[1] = idx4, l[1] = idx4len;
	T_CHECK(meta_open(v, l, key, &got, &e) == -1 &&
	    strstr(e.msg, "only 1") != NULL, "idx 4 accepted");
	free(idx4);
	free(bad);
}

/* Two intact values of different lengths come from two different records (an
 * update that landed on some backends only): they are never combined. With a
 * consistent pair among them, that pair opens. */
static void
test_mixed_lengths(uint8_t *const values[4], const size_t lens[4],
    const uint8_t key[32], const struct metadata *want)
{
	struct metadata other, got;
	uint8_t *longer[4] = { 0 }, *v[4];
	size_t llens[4], l[4];
	struct err e;
	int i;

	/* The same record with one more shard: a longer sealed record. */
	memset(&other, 0, sizeof(other));
	other = *want;
	other.nshards = want->nshards + 1;
	other.shards = calloc(other.nshards, sizeof(*other.shards));
	memcpy(other.shards, want->shards,
	    want->nshards * sizeof(*other.shards));
	other.shards[want->nshards] = want->shards[0];
	other.shards[want->nshards].idx = want->nshards % other.data_shards;
	T_CHECK(meta_seal(&other, key, NULL, longer, llens, &e) == 0,
	    "seal: %s", e.msg);
	free(other.shards);
	T_CHECK(llens[1] != lens[0],
	    "the longer record's values are as long (%zu)", llens[1]);
	/* value 0 of one record, value 1 of the other: no pair */
	for (i = 0; i < 4; i++)
		v[i] = NULL, l[i] = 0;
	v[0] = values[0], l[0] = lens[0];
	v[1] = longer[1], l[1] = llens[1];
	T_CHECK(meta_open(v, l, key, &got, &e) == -1 &&
	    strstr(e.msg, "intact shards differ in length") != NULL,
	    "values of different lengths combined: %s", e.msg);
	/* ... plus value 2 of the longer record: that pair opens */
	v[2] = longer[2], l[2] = llens[2];
	T_CHECK(meta_open(v, l, key, &got, &e) == 0 &&
	    got.nshards == want->nshards + 1,
	    "the consistent pair did not open: %s", e.msg);
	if (got.shards != NULL)
		meta_free(&got);
	free_values(longer);
}

static void
test_open_failures(const uint8_t *plain, size_t plainlen, const uint8_t key[32],
    const uint8_t *nonce)
{
	uint8_t *values[4] = { 0 }, *sealed, wrong[32];
	size_t lens[4], sealedlen;
	struct metadata got;
	struct err e;

	memcpy(wrong, key, 32);
	wrong[0] ^= 1;
	gcm_seal(key, nonce, plain, plainlen, &sealed, &sealedlen, &e);
	values_from_sealed(sealed, sealedlen, -1, values, lens);
	T_CHECK(meta_open(values, lens, wrong, &got, &e) == -1,
	    "wrong key opened");
	free_values(values);
	values_from_sealed(sealed, sealedlen, 7, values, lens);
	T_CHECK(meta_open(values, lens, key, &got, &e) == -1 &&
	    strstr(e.msg, "padding"), "bad pad byte: %s", e.msg);
	free_values(values);
	free(sealed);
	/* authentic but not bincode */
	gcm_seal(key, nonce, "nonsense", 8, &sealed, &sealedlen, &e);
	values_from_sealed(sealed, sealedlen, -1, values, lens);
	T_CHECK(meta_open(values, lens, key, &got, &e) == -1 &&
	    strstr(e.msg, "truncated"), "non-bincode record: %s", e.msg);
	free_values(values);
	free(sealed);
}

/* Two records under one key, their values mixed across the four backends as a
 * failed update leaves them: a reader opens one of the two whole, never a
 * blend, and only four values of one record count as settled. b differs from a
 * in its checksum; with grow, b also has one more piece, so its values are
 * longer. */
static void
test_mixed_records(const struct metadata *a, const uint8_t key[32], int grow)
{
	uint8_t *va[4], *vb[4], *mix[4];
	size_t la[4], lb[4], lm[4];
	struct metadata b, got;
	struct err e;
	unsigned mask, i, na;
	int rc;

	T_CHECK(meta_copy(a, &b, &e) == 0, "copy: %s", e.msg);
	b.checksum[0] ^= 0x5a;
	if (grow && b.nshards > 0) {
		struct shard_info *si = &b.shards[0];

		si->keys = reallocarray(si->keys, si->nkeys + 1,
		    sizeof(*si->keys));
		si->keys[si->nkeys].kind = KEY_V2;
		si->keys[si->nkeys++].id = 999999;
	}
	T_CHECK(meta_seal(a, key, NULL, va, la, &e) == 0, "seal a: %s", e.msg);
	T_CHECK(meta_seal(&b, key, NULL, vb, lb, &e) == 0, "seal b: %s", e.msg);
	for (mask = 0; mask < 16; mask++) {	/* bit i: backend i holds b */
		for (i = 0, na = 0; i < 4; i++) {
			mix[i] = mask >> i & 1 ? vb[i] : va[i];
			lm[i] = mask >> i & 1 ? lb[i] : la[i];
			na += !(mask >> i & 1);
		}
		rc = meta_open(mix, lm, key, &got, &e);
		T_CHECK(rc == 0,
		    "mix %x (grow %d): a reader opens one record: %s", mask,
		    grow, e.msg);
		if (rc == 0) {
			T_CHECK(meta_equal(&got, a) || meta_equal(&got, &b),
			    "mix %x: the record opened is one of the two",
			    mask);
			if (na >= 3)
				T_CHECK(meta_equal(&got, a), "mix %x: a on 3",
				    mask);
			if (na <= 1)
				T_CHECK(meta_equal(&got, &b), "mix %x: b on 3",
				    mask);
			meta_free(&got);
		}
		T_CHECK(meta_values_agree(mix, lm) == (mask == 0 || mask == 15),
		    "mix %x: settled only when all four are one record", mask);
	}
	free_values(va);
	free_values(vb);
	meta_free(&b);
}

/* meta_diff keeps the pieces the other record does not list on the same
 * backend, and all of them against no record. */
static void
test_diff(const struct metadata *a)
{
	struct metadata b, d;
	size_t i, total = 0, left = 0;
	struct err e;

	for (i = 0; i < a->nshards; i++)
		total += a->shards[i].nkeys;
	T_CHECK(meta_diff(a, NULL, &d) == 0 && meta_equal(&d, a),
	    "diff against nothing is the record");
	meta_free(&d);
	T_CHECK(meta_diff(a, a, &d) == 0, "diff with itself");
	for (i = 0; i < d.nshards; i++)
		left += d.shards[i].nkeys;
	T_CHECK(left == 0, "a record minus itself has no pieces (%zu)", left);
	meta_free(&d);
	if (a->nshards < 2 || a->shards[0].nkeys == 0)
		return;
	/* b: a's first piece moved to another backend (a's second shard's) */
	T_CHECK(meta_copy(a, &b, &e) == 0, "copy: %s", e.msg);
	ci_free(&b.shards[0].ci);
	ci_copy(&b.shards[0].ci, &a->shards[1].ci);
	T_CHECK(meta_diff(a, &b, &d) == 0, "diff");
	for (i = 0, left = 0; i < d.nshards; i++)
		left += d.shards[i].nkeys;
	T_CHECK(left == a->shards[0].nkeys || ci_equal(&a->shards[0].ci,
	    &a->shards[1].ci), "the pieces on the backend b lacks stay (%zu of "
	    "%zu)", left, total);
	meta_free(&d);
	meta_free(&b);
}

static void
test_storage(const cJSON *v)
{
	const cJSON *st = item(v, "storage");
	uint8_t *key, *nonce, *plain, *values[4];
	size_t keylen, noncelen, plainlen, lens[4];
	struct metadata want;
	struct err e;

	meta_from_json(item(find_example(v, str(st, "example")), "structured"),
	    &want);
	key = t_unhex(str(st, "key"), &keylen);
	nonce = t_unhex(str(st, "nonce"), &noncelen);
	plain = t_unhex(str(st, "plain"), &plainlen);
	T_CHECK(meta_seal(&want, key, nonce, values, lens, &e) == 0, "seal: %s",
	    e.msg);
	test_storage_vectors(st, values, lens, plain, plainlen, key, nonce);
	check_all_subsets(values, lens, key, &want);
	test_skipped_values(values, lens, key, &want);
	test_mixed_lengths(values, lens, key, &want);
	test_open_failures(plain, plainlen, key, nonce);
	test_mixed_records(&want, key, 0);
	test_mixed_records(&want, key, 1);
	test_diff(&want);
	free_values(values);
	/* a random nonce still opens */
	T_CHECK(meta_seal(&want, key, NULL, values, lens, &e) == 0, "seal: %s",
	    e.msg);
	check_all_subsets(values, lens, key, &want);
	free_values(values);
	free(key);
	free(nonce);
	free(plain);
	meta_free(&want);
}

static void
test_keys(const cJSON *v)
{
	const cJSON *k;
	char out[128] = "";
	struct err e = { "" };

	cJSON_ArrayForEach(k, item(v, "keys")) {
		int rc = meta_key(str(k, "prefix"), str(k, "root"),
		    str(k, "path"), out, sizeof(out), &e);

		T_CHECK(rc == 0 && strcmp(out, str(k, "key")) == 0,
		    "key for %s: %s", str(k, "path"), rc ? e.msg : out);
	}
	T_CHECK(meta_key("p", "/virtualroot", "/virtualrootx/a", out,
	    sizeof(out), &e) == -1 &&
	    strcmp(e.msg, "attempting to access file /virtualrootx/a which is "
	    "not in the file tree rooted at /virtualroot") == 0,
	    "sibling of root accepted: %s", e.msg);
	T_CHECK(meta_key("p", "/virtualroot", "virtualroot/a", out, sizeof(out),
	    &e) == -1, "relative path under a root accepted");
	T_CHECK(meta_key("p", "/virtualroot/", "/virtualroot/./a/b/", out,
	    sizeof(out), &e) == 0 &&
	    strcmp(out, "/p/meta/575aa62220a2c597f5def8d269b6acac") == 0,
	    "uncleaned root and path: %s", out);
	T_CHECK(meta_key("p", "/", "/a/b", out, sizeof(out), &e) == 0 &&
	    strcmp(out, "/p/meta/575aa62220a2c597f5def8d269b6acac") == 0,
	    "root / did not strip the leading slash: %s", out);
	T_CHECK(meta_key("someprefix", NULL, "/data//./f1", out, sizeof(out),
	    &e) == 0 && strcmp(out,
	    "/someprefix/meta/34601cbbc5e8373430d1f4aae2515fb9") == 0,
	    "no root: %s", out);
	T_CHECK(meta_key("p", NULL, "/a", out, 40, &e) == -1,
	    "key overflowed out");
	T_CHECK(meta_key("p", NULL, "/a", out, 41, &e) == 0,
	    "exact-size out rejected");
	T_CHECK(meta_key("p", NULL, "/a\xff", out, sizeof(out), &e) == -1,
	    "non-UTF-8 path accepted");
}

static void
test_path_clean(void)
{
	static const char *cases[][2] = {
		{ "", "." }, { ".", "." }, { "/", "/" }, { "//", "/" },
		{ "//a/./b/../c/", "/a/c" }, { "a/..", "." }, { "/..", "/" },
		{ "/../..", "/" }, { "/../a", "/a" }, { "..", ".." },
		{ "../..", "../.." },
		{ "../a/..", ".." }, { "a/../..", ".." },
		{ "a/../../b", "../b" },
		{ "./a", "a" }, { "a/./b", "a/b" }, { "abc/", "abc" },
		{ "a//b", "a/b" },
		{ "/a/b/c/../../d", "/a/d" }, { "...", "..." },
		{ "/.../..a/.b", "/.../..a/.b" },
		{ "a/b/../../..", ".." }, { "/abc/def/../../..", "/" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path_clean(cases[i][0], out, sizeof(out));
		T_CHECK(strcmp(out, cases[i][1]) == 0,
		    "path_clean(\"%s\") = \"%s\", want \"%s\"", cases[i][0],
		    out, cases[i][1]);
	}
	path_clean("/abcdef/g", out, 4);
	T_CHECK(strcmp(out, "/ab") == 0,
	    "path_clean does not truncate to outlen: %s", out);
}

/* A small valid record with one key of each kind and both path extensions. */
static void
make_ext_meta(struct metadata *m)
{
	struct err e;

	memset(m, 0, sizeof(*m));
	m->data_shards = 1;
	m->disposable_shards = 1;
	memset(m->key, 0xab, 32);
	m->nshards = 2;
	m->shards = calloc(2, sizeof(*m->shards));
	m->shards[0].idx = 0;
	m->shards[0].nkeys = 2;
	m->shards[0].keys = calloc(2, sizeof(struct shard_key));
	m->shards[0].keys[0] = (struct shard_key){ KEY_V1, 0xfffffffe };
	m->shards[0].keys[1] = (struct shard_key){ KEY_V2, 0x0102030405060708 };
	zaddr_parse("unix:/run/zdb.sock", &m->shards[0].ci.addr, &e);
	m->shards[0].ci.ns = strdup("ns\xc3\xa9");
	m->shards[1].idx = 1;
	zaddr_parse("dir:/srv/disk1", &m->shards[1].ci.addr, &e);
	m->shards[1].ci.password = strdup("secret");
}

static int
has_bytes(const uint8_t *buf, size_t len, const void *needle, size_t n)
{
	return memmem(buf, len, needle, n) != NULL;
}

static void
test_extension(void)
{
	static const uint8_t unix_tag[] = { 2, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0,
	    '/', 'r' };
	static const uint8_t dir_tag[] = { 3, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0,
	    '/', 's' };
	static const uint8_t v1_key[] = { 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 1,
	    0, 0, 0, 8, 7 };
	struct metadata m, got;
	uint8_t *enc;
	size_t len;
	struct err e;

	make_ext_meta(&m);
	T_CHECK(m.shards[0].ci.addr.kind == ADDR_UNIX &&
	    m.shards[1].ci.addr.kind == ADDR_DIR,
	    "zaddr_parse of unix:/dir: addresses");
	T_CHECK(meta_encode(&m, &enc, &len, &e) == 0, "encode extension: %s",
	    e.msg);
	T_CHECK(has_bytes(enc, len, unix_tag, sizeof(unix_tag)),
	    "unix address layout");
	T_CHECK(has_bytes(enc, len, dir_tag, sizeof(dir_tag)),
	    "dir address layout");
	T_CHECK(has_bytes(enc, len, v1_key, sizeof(v1_key)),
	    "V1 then V2 key layout");
	T_CHECK(meta_decode(enc, len, &got, &e) == 0 && meta_equal(&got, &m),
	    "extension round trip: %s", e.msg);
	meta_free(&got);
	free(enc);
	m.shards[0].keys[0].id = (uint64_t)UINT32_MAX + 1;
	T_CHECK(meta_encode(&m, &enc, &len, &e) == -1,
	    "V1 key over 32 bits encoded");
	meta_free(&m);
}

/* Decodes buf after patching len bytes at off; expects a failure whose message
 * contains want. */
static void
expect_reject(const uint8_t *buf, size_t len, size_t off, const void *patch,
    size_t plen, const char *want, const char *what)
{
	uint8_t *copy = malloc(len);
	struct metadata m;
	struct err e;
	int rc;

	memcpy(copy, buf, len);
	memcpy(copy + off, patch, plen);
	rc = meta_decode(copy, len, &m, &e);
	T_CHECK(rc == -1 && strstr(e.msg, want) != NULL, "%s: rc %d, %s", what,
	    rc, rc ? e.msg : "accepted");
	if (rc == 0)
		meta_free(&m);
	free(copy);
}

static void
test_truncations(const uint8_t *bin, size_t len, const char *name)
{
	struct metadata m;
	struct err e;
	size_t n;
	int bad = 0;

	for (n = 0; n < len; n++) {
		if (meta_decode(bin, n, &m, &e) == 0) {
			meta_free(&m);
			bad++;
		} else if (strstr(e.msg, "truncated at byte") == NULL)
			bad++;
	}
	T_CHECK(bad == 0, "%s: %d truncations accepted or misreported", name,
	    bad);
	T_CHECK(meta_decode(bin, 0, &m, &e) == -1 &&
	    strcmp(e.msg,
	    "metadata: truncated at byte 0 (reading data_shards)") == 0,
	    "empty input: %s", e.msg);
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Offsets into the ipv6_loopback_one_shard encoding. */
#define OFF_DISPOSABLE 8
#define OFF_ENC_TAG 32
#define OFF_KEYLEN 36
#define OFF_KEYHEX 44
#define OFF_COMP_TAG 108
#define OFF_NSHARDS 112
#define OFF_IDX 120
#define OFF_NKEYS 144
#define OFF_KEY_TAG 152
#define OFF_ADDR_TAG 164
#define OFF_NS_OPT 186
#define OFF_NS_LEN 187
#define OFF_NS 195

static void
test_rejects(const uint8_t *bin, size_t len)
{
	uint8_t u64[8], one = 1, two = 2, big = 0xff, zero = 0;
	uint8_t tag4[4] = { 4, 0, 0, 0 }, tag2[4] = { 2, 0, 0, 0 };

	T_CHECK(len == OFF_NS + 4 + 1 && bin[OFF_NS] == 't',
	    "offsets do not match the vector");
	expect_reject(bin, len, OFF_ENC_TAG, &one, 1, "encryption tag",
	    "AES tag 1");
	expect_reject(bin, len, OFF_COMP_TAG, &one, 1, "compression tag",
	    "snappy tag 1");
	expect_reject(bin, len, OFF_ADDR_TAG, tag4, 4, "address tag",
	    "address tag 4");
	expect_reject(bin, len, OFF_KEY_TAG, tag2, 4, "key tag", "key tag 2");
	expect_reject(bin, len, OFF_NS_OPT, &two, 1, "namespace",
	    "option tag 2");
	expect_reject(bin, len, OFF_KEYLEN, "\x3f", 1, "key length",
	    "63-char key");
	expect_reject(bin, len, OFF_KEYHEX + 5, "g", 1, "not a hex",
	    "non-hex key");
	expect_reject(bin, len, OFF_NS, "\xff", 1, "UTF-8",
	    "invalid UTF-8 namespace");
	expect_reject(bin, len, OFF_NS, "\xc0\x80", 2, "UTF-8",
	    "overlong NUL namespace");
	expect_reject(bin, len, OFF_NS + 1, "\0", 1, "NUL", "NUL in namespace");
	expect_reject(bin, len, OFF_IDX, "\x03", 1, "index",
	    "idx = data+disposable");
	expect_reject(bin, len, OFF_IDX + 7, &big, 1, "index", "huge idx");
	expect_reject(bin, len, 0, &zero, 1, "shard counts", "data_shards 0");
	expect_reject(bin, len, OFF_DISPOSABLE, &zero, 1, "shard counts",
	    "disposable 0");
	put_u64(u64, 255);
	expect_reject(bin, len, OFF_DISPOSABLE, u64, 8, "shard counts",
	    "257 shards");
	put_u64(u64, UINT64_MAX);
	expect_reject(bin, len, OFF_DISPOSABLE, u64, 8, "shard counts",
	    "2^64-1 disposable");
	expect_reject(bin, len, OFF_NSHARDS, u64, 8, "limit", "2^64-1 shards");
	expect_reject(bin, len, OFF_NKEYS, u64, 8, "limit", "2^64-1 keys");
	expect_reject(bin, len, OFF_NS_LEN, u64, 8, "too long",
	    "2^64-1 string");
	put_u64(u64, META_MAX_KEYS);
	expect_reject(bin, len, OFF_NKEYS, u64, 8,
	    "truncated at byte 144 (reading shard 0 key count)",
	    "2^20 keys in a short record");
	put_u64(u64, 200);
	expect_reject(bin, len, OFF_NSHARDS, u64, 8,
	    "truncated at byte 112 (reading shard count)",
	    "200 shards in a short record");
	put_u64(u64, 300);
	expect_reject(bin, len, OFF_NS_LEN, u64, 8, "truncated",
	    "string past the end");
}

static void
test_decoder(const cJSON *v)
{
	const cJSON *ex;
	uint8_t *bin;
	size_t len;

	cJSON_ArrayForEach(ex, item(v, "examples")) {
		bin = t_unhex(str(ex, "bincode"), &len);
		test_truncations(bin, len, str(ex, "name"));
		free(bin);
	}
	bin = t_unhex(str(find_example(v, "ipv6_loopback_one_shard"),
	    "bincode"), &len);
	test_rejects(bin, len);
	free(bin);
}

/* ---- fuzz ---- */

/* One random edit of buf (capacity cap); returns the new length. */
static size_t
mutate_once(uint8_t *buf, size_t len, size_t cap)
{
	size_t off = t_rng_below(len), n, i;

	switch (t_rng() % 6) {
	case 0:
		if (len)
			buf[off] ^= (uint8_t)(1u << (t_rng() % 8));
		return len;
	case 1:
		if (len)
			buf[off] = (uint8_t)t_rng();
		return len;
	case 2:
		return t_rng_below(len + 1);
	case 3:
		n = 1 + t_rng_below(16);
		for (i = 0; i < n && len < cap; i++)
			buf[len++] = (uint8_t)t_rng();
		return len;
	case 4:
		/* make a length or count field huge */
		n = 1 + t_rng_below(8);
		for (i = 0; i < n && off + i < len; i++)
			buf[off + i] = 0xff;
		return len;
	default:
		/* small value in a u64 slot: counts and lengths off by a
		 * little */
		if (len >= 8 && off <= len - 8)
			put_u64(buf + off, t_rng_below(300));
		return len;
	}
}

static size_t
mutate(uint8_t *buf, size_t len, size_t cap)
{
	int n = 1 + (int)t_rng_below(4);

	while (n-- > 0)
		len = mutate_once(buf, len, cap);
	return len;
}

/* Every accepted record must re-encode, and decode again to the same fields.
 * Returns 0 when that fails, 1 when accepted, 2 when rejected. */
static int
fuzz_decode_one(const uint8_t *buf, size_t len)
{
	struct metadata m, again;
	uint8_t *enc;
	size_t enclen;
	struct err e;
	int ok = 1;

	if (meta_decode(buf, len, &m, &e) == -1)
		return 2;
	if (meta_encode(&m, &enc, &enclen, &e) == -1)
		ok = 0;
	else {
		if (meta_decode(enc, enclen, &again, &e) == -1)
			ok = 0;
		else {
			ok = meta_equal(&m, &again);
			meta_free(&again);
		}
		free(enc);
	}
	meta_free(&m);
	return ok;
}

static void
fuzz_decode(uint8_t *const seeds[], const size_t seedlens[], int nseeds,
    int rounds)
{
	uint8_t *buf;
	size_t cap = 4096, len;
	int i, s, bad = 0, accepted = 0;

	buf = malloc(cap);
	for (i = 0; i < rounds; i++) {
		s = (int)t_rng_below((size_t)nseeds);
		memcpy(buf, seeds[s], seedlens[s]);
		len = mutate(buf, seedlens[s], cap);
		/* an exact-size copy so that ASan catches any read past the
		 * end */
		{
			uint8_t *exact = malloc(len ? len : 1);

			memcpy(exact, buf, len);
			switch (fuzz_decode_one(exact, len)) {
			case 0:
				bad++;
				break;
			case 1:
				accepted++;
				break;
			}
			free(exact);
		}
	}
	free(buf);
	T_CHECK(bad == 0, "fuzz decode: %d accepted records did not round-trip",
	    bad);
	T_CHECK(accepted > rounds / 20 && accepted < rounds,
	    "fuzz decode: %d of %d accepted", accepted, rounds);
}

/* How often each outcome happened, to show the fuzz reaches every layer. */
static int fuzz_seen[3];

static int
fuzz_open_one(uint8_t *const values[4], const size_t lens[4],
    const uint8_t key[32])
{
	struct metadata m;
	struct err e;
	int rc = meta_open(values, lens, key, &m, &e);

	if (rc == 0)
		meta_free(&m);
	if (rc < -1 || rc > 1)
		return 0;
	fuzz_seen[rc + 1]++;
	return 1;
}

/* Mutates stored values directly (mostly caught by the checksum) or mutates a
 * shard and re-wraps it with a valid checksum, so RS, padding and GCM see the
 * damage. */
static void
fuzz_open_round(uint8_t *const base[4], const size_t baselens[4],
    const uint8_t key[32], int *bad)
{
	uint8_t *v[4], buf[2048];
	size_t l[4], len;
	int i, target = (int)t_rng_below(4), rewrap = t_rng() & 1;
	struct err e;

	for (i = 0; i < 4; i++) {
		if (t_rng_below(5) == 0 && i != target) {
			v[i] = NULL, l[i] = 0;
			continue;
		}
		memcpy(buf, base[i], baselens[i]);
		len = baselens[i];
		if (i == target || t_rng_below(8) == 0)
			len = rewrap ? 1 + mutate(buf + 1, len - 1 - B2_LEN,
			    sizeof(buf) - 1) : mutate(buf, len, sizeof(buf));
		if (rewrap && len >= 1)
			metaval_encode(buf[0] % 5, buf + 1, len - 1, &v[i],
			    &l[i], &e);
		else {
			v[i] = malloc(len ? len : 1);
			memcpy(v[i], buf, len);
			l[i] = len;
		}
	}
	*bad += !fuzz_open_one(v, l, key);
	for (i = 0; i < 4; i++)
		free(v[i]);
}

static void
fuzz_open(uint8_t *const seeds[], const size_t seedlens[], int nseeds,
    const uint8_t key[32], int rounds)
{
	uint8_t *base[4], *sealed, plain[4096];
	size_t baselens[4], sealedlen, len;
	int i, s, bad = 0;
	struct err e;

	for (i = 0; i < rounds; i++) {
		s = (int)t_rng_below((size_t)nseeds);
		memcpy(plain, seeds[s], seedlens[s]);
		len = seedlens[s];
		/* half the rounds damage the record before it is sealed */
		if (i & 1)
			len = mutate(plain, len, sizeof(plain));
		gcm_seal(key, NULL, plain, len, &sealed, &sealedlen, &e);
		values_from_sealed(sealed, sealedlen, -1, base, baselens);
		free(sealed);
		fuzz_open_round(base, baselens, key, &bad);
		free_values(base);
	}
	T_CHECK(bad == 0, "fuzz open: %d bad return codes", bad);
	T_CHECK(fuzz_seen[0] > rounds / 10 && fuzz_seen[1] > rounds / 10 &&
	    fuzz_seen[2] > 0,
	    "fuzz open outcomes: %d errors, %d opened, %d not found",
	    fuzz_seen[0], fuzz_seen[1], fuzz_seen[2]);
}

static void
test_fuzz(const cJSON *v)
{
	uint8_t *seeds[4], key[32];
	size_t lens[4];
	const cJSON *ex;
	struct metadata m;
	struct err e;
	int n = 0;

	cJSON_ArrayForEach(ex, item(v, "examples"))
		seeds[n] = t_unhex(str(ex, "bincode"), &lens[n]), n++;
	make_ext_meta(&m);
	meta_encode(&m, &seeds[n], &lens[n], &e);
	meta_free(&m);
	n++;
	memset(key, 0x42, sizeof(key));
	fuzz_decode(seeds, lens, n, FUZZ_ROUNDS * 6 / 10);
	fuzz_open(seeds, lens, n, key, FUZZ_ROUNDS * 4 / 10);
	while (n-- > 0)
		free(seeds[n]);
}

int
main(void)
{
	cJSON *v = t_load_vectors("metadata.json");
	const cJSON *ex;

	t_rng_seed(0x9e3779b97f4a7c15ULL);
	if (sodium_init() < 0)
		return 2;
	/* skipped values are logged as warnings; keep them out of the test
	 * output */
	log_init("/dev/null", 0);
	cJSON_ArrayForEach(ex, item(v, "examples"))
		test_example(ex);
	test_storage(v);
	test_keys(v);
	test_path_clean();
	test_extension();
	test_decoder(v);
	test_fuzz(v);
	cJSON_Delete(v);
	return t_finish();
}
