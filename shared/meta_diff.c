/* Copies of records, and the pieces one record has that another has not: what a
 * failed update may delete without touching a piece the other record needs. */
#include <stdlib.h>
#include <string.h>

#include "meta.h"

/* Deep copy through the canonical encoding: one code path, no field
 * forgotten. */
int
meta_copy(const struct metadata *m, struct metadata *out, struct err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (meta_encode(m, &buf, &len, e) < 0)
		return -1;
	rc = meta_decode(buf, len, out, e);
	free(buf);
	return rc;
}

/* Whether b lists the piece k on ci (any shard: a piece is a piece). */
static int
has_piece(const struct metadata *b, const struct backend_ci *ci,
    const struct shard_key *k)
{
	size_t i, j;

	for (i = 0; i < b->nshards; i++) {
		if (!ci_equal(&b->shards[i].ci, ci))
			continue;
		for (j = 0; j < b->shards[i].nkeys; j++)
			if (b->shards[i].keys[j].id == k->id &&
			    b->shards[i].keys[j].kind == k->kind)
				return 1;
	}
	return 0;
}

int
meta_diff(const struct metadata *a, const struct metadata *b,
    struct metadata *out)
{
	struct shard_info *si;
	struct err e;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (meta_copy(a, out, &e) == -1)
		return -1;
	if (b == NULL)
		return 0;
	for (i = 0; i < out->nshards; i++) {
		si = &out->shards[i];
		for (j = 0; j < si->nkeys;)
			if (has_piece(b, &si->ci, &si->keys[j]))
				si->keys[j] = si->keys[--si->nkeys];
			else
				j++;
	}
	return 0;
}
