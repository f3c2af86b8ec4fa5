/* Writes N synthetic metadata records for the sweep benchmark: object i has
 * shard j on the config's data backend (i + j) mod B under sequential id i,
 * with the config's M+P, sealed and SET on the 4 metadata backends in
 * pipelined batches (the store path's per-key update is far slower, and the
 * records only need to be there). With FIRST, the ids start there instead
 * of 0: records that reference the config's backends but no piece on them.
 *   put-meta CONFIG N [FIRST] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backend.h"
#include "config.h"
#include "meta.h"
#include "meta_seal.h"
#include "pool.h"

#define BATCH	256
#define RS_SHARDS_BENCH	64

int main(int argc, char **argv);

static const struct backend_ci *
nth_backend(const struct config *cfg, size_t i)
{
	size_t g;

	for (g = 0; g < cfg->ngroups; g++) {
		if (i < cfg->groups[g].nbackends)
			return &cfg->groups[g].backends[i];
		i -= cfg->groups[g].nbackends;
	}
	return NULL;
}

/* The sealed values of object i into vals[4]. */
static int
seal_one(const struct config *cfg, size_t i, uint64_t first, uint8_t *vals[4],
    size_t lens[4])
{
	struct shard_info si[RS_SHARDS_BENCH];
	struct shard_key keys[RS_SHARDS_BENCH];
	struct metadata m;
	struct err e;
	size_t n = cfg->expected_shards, j, nb = config_nbackends(cfg);

	memset(&m, 0, sizeof(m));
	m.data_shards = cfg->minimal_shards;
	m.disposable_shards = cfg->expected_shards - cfg->minimal_shards;
	randombytes_buf(m.checksum, sizeof(m.checksum));
	memcpy(m.key, cfg->key, 32);
	m.nshards = n;
	m.shards = si;
	for (j = 0; j < n; j++) {
		memset(&si[j], 0, sizeof(si[j]));
		si[j].idx = j;
		randombytes_buf(si[j].checksum, sizeof(si[j].checksum));
		keys[j].kind = KEY_V2;
		keys[j].id = first + i;
		si[j].nkeys = 1;
		si[j].keys = &keys[j];
		si[j].ci = *nth_backend(cfg, (i + j) % nb);
	}
	if (meta_seal(&m, cfg->key, NULL, vals, lens, &e) == -1) {
		fprintf(stderr, "put-meta: %s\n", e.msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char keys[BATCH][128];
	static uint8_t *vals[BATCH][4];
	static size_t lens[BATCH][4];
	struct bop ops[BATCH * 4];
	struct backend *b[4];
	struct config cfg;
	struct pool pool;
	struct err e;
	size_t n, i, k, nb, q;
	uint64_t first = 0;
	unsigned char h[16];
	int j;

	if (argc < 3 || argc > 4 || (n = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: put-meta CONFIG N [FIRST]\n");
		return 2;
	}
	if (argc == 4)
		first = strtoull(argv[3], NULL, 10);
	if (sodium_init() < 0 || config_load(argv[1], &cfg, &e) < 0 ||
	    cfg.expected_shards > RS_SHARDS_BENCH) {
		fprintf(stderr, "put-meta: %s\n", e.msg);
		return 1;
	}
	pool_init(&pool, ZDB_TIMEOUT_MS);
	for (j = 0; j < 4; j++)
		if ((b[j] = pool_get(&pool, &cfg.meta_backends[j], NS_USERKEY,
		    &e)) == NULL) {
			fprintf(stderr, "put-meta: %s\n", e.msg);
			return 1;
		}
	for (i = 0; i < n; i += nb) {
		nb = n - i < BATCH ? n - i : BATCH;
		for (k = 0, q = 0; k < nb; k++) {
			size_t id = i + k;

			crypto_generichash(h, sizeof(h), (const uint8_t *)&id,
			    sizeof(id), NULL, 0);
			snprintf(keys[k], sizeof(keys[k]), "/%s/meta/",
			    cfg.meta_prefix);
			for (j = 0; j < 16; j++)
				snprintf(keys[k] + strlen(keys[k]), 3, "%02x",
				    h[j]);
			if (seal_one(&cfg, i + k, first, vals[k], lens[k]) == -1)
				return 1;
			for (j = 0; j < 4; j++) {
				memset(&ops[q], 0, sizeof(ops[q]));
				ops[q].b = b[j];
				ops[q].kind = BOP_KEY_SET;
				ops[q].key = keys[k];
				ops[q].keylen = strlen(keys[k]);
				ops[q].val = vals[k][j];
				ops[q].vallen = lens[k][j];
				q++;
			}
		}
		if (backend_run(ops, q, ZDB_TIMEOUT_MS) > 0) {
			fprintf(stderr, "put-meta: %s\n", ops[0].err.msg);
			return 1;
		}
		for (k = 0; k < nb; k++)
			for (j = 0; j < 4; j++)
				free(vals[k][j]);
	}
	pool_free(&pool);
	config_free(&cfg);
	return 0;
}
