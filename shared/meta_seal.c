/* The metadata record as it sits on the four metadata backends: bincode, sealed
 * with AES-256-GCM, padded and split by RS(2,2), each shard stored as [idx] ||
 * shard || BLAKE2b-128(shard). Any two intact values give the record back. */
#include <stdlib.h>
#include <string.h>

#include "aesgcm.h"
#include "log.h"
#include "meta_seal.h"
#include "rs.h"

#define META_DATA 2
#define META_PARITY 2

int
metaval_encode(unsigned idx, const uint8_t *shard, size_t len, uint8_t **out,
    size_t *outlen, struct err *e)
{
	uint8_t *v;

	if (idx > UINT8_MAX)
		return err_set(e,
		    "metadata value: shard index %u does not fit a byte", idx);
	if (len > SIZE_MAX - 1 - B2_LEN ||
	    (v = malloc(1 + len + B2_LEN)) == NULL)
		return err_set(e, "metadata value: out of memory for %zu bytes",
		    len);
	v[0] = (uint8_t)idx;
	memcpy(v + 1, shard, len);
	b2_hash(shard, len, v + 1 + len);
	*out = v;
	*outlen = 1 + len + B2_LEN;
	return 0;
}

int
metaval_decode(const uint8_t *val, size_t len, unsigned *idx,
    const uint8_t **shard, size_t *shard_len, struct err *e)
{
	uint8_t sum[B2_LEN];
	size_t n;

	if (val == NULL || len < 1 + 1 + B2_LEN)
		return err_set(e, "metadata value: %zu bytes is too short",
		    val ? len : 0);
	n = len - 1 - B2_LEN;
	b2_hash(val + 1, n, sum);
	if (memcmp(sum, val + 1 + n, B2_LEN) != 0)
		return err_set(e, "metadata value: shard checksum mismatch");
	*idx = val[0];
	*shard = val + 1;
	*shard_len = n;
	return 0;
}

/* Pads sealed as upstream does and splits it into two data shards plus two
 * parity shards, all in one buffer of 4 * shard_len bytes. */
static int
split_rs(const uint8_t *sealed, size_t len, uint8_t **out, size_t *shard_len,
    struct err *e)
{
	size_t pad = rs_pad_len(len, META_DATA),
	    sl = rs_shard_len(len, META_DATA);
	uint8_t *buf, *data[META_DATA], *parity[META_PARITY];
	struct rs *rs;

	if ((rs = rs_new(META_DATA, META_PARITY, e)) == NULL)
		return -1;
	if ((buf = malloc(sl * META_BACKENDS)) == NULL) {
		rs_free(rs);
		return err_set(e, "metadata: out of memory");
	}
	memcpy(buf, sealed, len);
	memset(buf + len, (int)pad, pad);
	data[0] = buf, data[1] = buf + sl;
	parity[0] = buf + 2 * sl, parity[1] = buf + 3 * sl;
	rs_encode(rs, sl, data, parity);
	rs_free(rs);
	*out = buf;
	*shard_len = sl;
	return 0;
}

int
meta_seal(const struct metadata *m, const uint8_t key[32], const uint8_t *nonce,
    uint8_t *values[META_BACKENDS], size_t lens[META_BACKENDS], struct err *e)
{
	uint8_t *plain = NULL, *sealed = NULL, *shards = NULL;
	size_t plen, slen, sl = 0;
	int i, rc = -1;

	for (i = 0; i < META_BACKENDS; i++)
		values[i] = NULL, lens[i] = 0;
	if (meta_encode(m, &plain, &plen, e) == -1 ||
	    gcm_seal(key, nonce, plain, plen, &sealed, &slen, e) == -1 ||
	    split_rs(sealed, slen, &shards, &sl, e) == -1)
		goto out;
	for (i = 0; i < META_BACKENDS; i++)
		if (metaval_encode((unsigned)i, shards + (size_t)i * sl, sl,
		    &values[i], &lens[i], e) == -1)
			goto out;
	rc = 0;
out:
	if (rc == -1)
		for (i = 0; i < META_BACKENDS; i++) {
			free(values[i]);
			values[i] = NULL, lens[i] = 0;
		}
	free(plain);
	free(sealed);
	free(shards);
	return rc;
}

/* The intact values, indexed by shard idx. */
struct valid {
	const uint8_t *shard[META_BACKENDS];
	size_t len[META_BACKENDS];
	int count;
};

static void
collect_valid(uint8_t *const values[META_BACKENDS],
    const size_t lens[META_BACKENDS], struct valid *v)
{
	const uint8_t *shard;
	struct err e;
	unsigned idx;
	size_t n;
	int i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < META_BACKENDS; i++) {
		if (values[i] == NULL || lens[i] == 0)
			continue;
		if (metaval_decode(values[i], lens[i], &idx, &shard, &n,
		    &e) == -1) {
			log_warnx("metadata backend %d: skipping value: %s", i,
			    e.msg);
			continue;
		}
		if (idx >= META_BACKENDS || v->shard[idx] != NULL) {
			log_warnx("metadata backend %d: skipping value with %s "
			    "shard index %u", i,
			    idx >= META_BACKENDS ? "out of range" : "duplicate",
			    idx);
			continue;
		}
		v->shard[idx] = shard;
		v->len[idx] = n;
		v->count++;
	}
}

int
meta_values_agree(uint8_t *const values[META_BACKENDS],
    const size_t lens[META_BACKENDS])
{
	uint8_t *buf, *data[META_DATA], *parity[META_PARITY];
	struct valid v;
	struct err e;
	struct rs *rs;
	size_t sl;
	int i, same;

	collect_valid(values, lens, &v);
	if (v.count != META_BACKENDS)
		return 0;
	sl = v.len[0];
	for (i = 1; i < META_BACKENDS; i++)
		if (v.len[i] != sl)
			return 0;
	if ((rs = rs_new(META_DATA, META_PARITY, &e)) == NULL)
		return 0;
	if ((buf = malloc(META_BACKENDS * sl)) == NULL) {
		rs_free(rs);
		return 0;
	}
	/* The parity the data shards give must be the parity stored. */
	for (i = 0; i < META_DATA; i++) {
		data[i] = buf + (size_t)i * sl;
		memcpy(data[i], v.shard[i], sl);
	}
	for (i = 0; i < META_PARITY; i++)
		parity[i] = buf + (size_t)(META_DATA + i) * sl;
	rs_encode(rs, sl, data, parity);
	same = memcmp(parity[0], v.shard[2], sl) == 0 &&
	    memcmp(parity[1], v.shard[3], sl) == 0;
	free(buf);
	rs_free(rs);
	return same;
}

/* Upstream's padding: the last byte says how many (1..data) bytes, all equal to
 * it. */
static int
unpad(const uint8_t *buf, size_t *len, struct err *e)
{
	size_t pad, i;

	pad = *len ? buf[*len - 1] : 0;
	if (pad < 1 || pad > META_DATA || pad > *len)
		return err_set(e, "bad padding byte %zu", pad);
	for (i = *len - pad; i < *len; i++)
		if (buf[i] != pad)
			return err_set(e, "inconsistent padding");
	*len -= pad;
	return 0;
}

/* Rebuilds the sealed record from shards a and b and opens it. */
static int
open_pair(struct rs *rs, const struct valid *v, int a, int b,
    const uint8_t key[32], uint8_t **plain, size_t *plen, struct err *e)
{
	uint8_t *buf, *shards[META_BACKENDS], present[META_BACKENDS] = { 0 };
	size_t sl = v->len[a], len;
	int i, rc = -1;

	if ((buf = malloc(sl * META_BACKENDS)) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < META_BACKENDS; i++)
		shards[i] = buf + (size_t)i * sl;
	memcpy(shards[a], v->shard[a], sl);
	memcpy(shards[b], v->shard[b], sl);
	present[a] = present[b] = 1;
	len = META_DATA * sl;
	if (rs_reconstruct(rs, sl, shards, present, e) == 0 &&
	    unpad(buf, &len, e) == 0 &&
	    gcm_open(key, buf, len, plain, plen, e) == 0)
		rc = 0;
	free(buf);
	return rc;
}

/* Tries the pairs in index order, the first being the pair upstream would use;
 * a later pair can still succeed when one value is a stale but intact
 * leftover. */
static int
open_any_pair(const struct valid *v, const uint8_t key[32], uint8_t **plain,
    size_t *plen, struct err *e)
{
	struct err first, tmp;
	struct rs *rs;
	int a, b, tried = 0;

	if ((rs = rs_new(META_DATA, META_PARITY, e)) == NULL)
		return -1;
	for (a = 0; a < META_BACKENDS; a++)
		for (b = a + 1; b < META_BACKENDS; b++) {
			if (v->shard[a] == NULL || v->shard[b] == NULL ||
			    v->len[a] != v->len[b])
				continue;
			if (open_pair(rs, v, a, b, key, plain, plen,
			    tried ? &tmp : &first) == 0) {
				rs_free(rs);
				return 0;
			}
			tried++;
		}
	rs_free(rs);
	if (!tried)
		return err_set(e, "intact shards differ in length");
	return err_set(e, "%s", first.msg);
}

int
meta_open(uint8_t *const values[META_BACKENDS],
    const size_t lens[META_BACKENDS], const uint8_t key[32], struct metadata *m,
    struct err *e)
{
	struct valid v;
	uint8_t *plain;
	size_t plen;
	int rc;

	memset(m, 0, sizeof(*m));
	collect_valid(values, lens, &v);
	if (v.count == 0)
		return 1;
	if (v.count == 1)
		return err_set(e,
		    "key reconstruction failed, data is corrupted. "
		    "Need at least 2 shards, only 1 available");
	if (open_any_pair(&v, key, &plain, &plen, e) == -1)
		return err_prefix(e, "metadata: cannot open record");
	rc = meta_decode(plain, plen, m, e);
	free(plain);
	return rc;
}
