/* Writes the objects of tests/vectors/objects.json to the backends of a config
 * in upstream's layout, as upstream zstor would have stored them: shard i of an
 * object goes to data backend i of the config (in pieces of at most 2 MiB), and
 * the metadata, built from the vector's shard checksums, goes to the metadata
 * backends under the key of DIR/<name>. DIR/<name>.expected gets the file's
 * bytes.
 *   put-objects CONFIG OBJECTS.json DIR */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "hex.h"
#include "metastore.h"
#include "pool.h"

int main(int argc, char **argv);

static uint8_t *
unhex(const char *s, size_t *len)
{
	uint8_t *out;

	*len = strlen(s) / 2;
	out = malloc(*len + 1);
	if (out == NULL || hex_decode(out, s, *len) < 0) {
		fprintf(stderr, "put-objects: bad hex in vectors\n");
		exit(1);
	}
	return out;
}

static const struct backend_ci *
data_backend(const struct config *cfg, size_t i)
{
	size_t g;

	for (g = 0; g < cfg->ngroups; g++) {
		if (i < cfg->groups[g].nbackends)
			return &cfg->groups[g].backends[i];
		i -= cfg->groups[g].nbackends;
	}
	fprintf(stderr, "put-objects: the config has too few data backends\n");
	exit(1);
}

/* SETs one shard in pieces; fills si->keys. */
static void
put_shard(struct pool *pool, struct shard_info *si, const uint8_t *shard,
    size_t len)
{
	struct backend *b;
	struct err e;
	size_t off = 0;

	if ((b = pool_get(pool, &si->ci, NS_SEQUENTIAL, &e)) == NULL) {
		fprintf(stderr, "put-objects: %s\n", e.msg);
		exit(1);
	}
	do {
		size_t n = len - off < ZDB_PIECE_MAX ? len - off :
		    ZDB_PIECE_MAX;
		struct bop op = { .b = b, .kind = BOP_SEQ_SET,
		    .val = shard + off, .vallen = n };

		backend_run(&op, 1, pool->timeout_ms);
		if (op.rc != 0) {
			fprintf(stderr, "put-objects: %s\n", op.err.msg);
			exit(1);
		}
		si->keys = reallocarray(si->keys, si->nkeys + 1,
		    sizeof(*si->keys));
		si->keys[si->nkeys++] = op.newkey;
		off += n;
	} while (off < len);
}

static void
put_object(const struct config *cfg, struct metastore *ms, const cJSON *obj,
    const cJSON *top, const char *dir)
{
	const cJSON *shards = cJSON_GetObjectItem(obj, "shards");
	const cJSON *sums = cJSON_GetObjectItem(obj, "shard_checksums");
	const char *name = cJSON_GetObjectItem(obj, "name")->valuestring;
	struct metadata m = { 0 }, drop;
	enum meta_outcome how;
	char path[4096], key[512];
	uint8_t *buf;
	size_t len, i;
	struct err e;
	FILE *f;

	m.data_shards = (uint64_t)cJSON_GetObjectItem(top,
	    "data_shards")->valueint;
	m.disposable_shards = (uint64_t)cJSON_GetObjectItem(top,
	    "parity_shards")->valueint;
	buf = unhex(cJSON_GetObjectItem(top, "key")->valuestring, &len);
	memcpy(m.key, buf, 32);
	free(buf);
	buf = unhex(cJSON_GetObjectItem(obj, "file_checksum")->valuestring,
	    &len);
	memcpy(m.checksum, buf, B2_LEN);
	free(buf);
	m.nshards = (size_t)cJSON_GetArraySize(shards);
	m.shards = calloc(m.nshards, sizeof(*m.shards));
	for (i = 0; i < m.nshards; i++) {
		struct shard_info *si = &m.shards[i];

		si->idx = i;
		ci_copy(&si->ci, data_backend(cfg, i));
		buf = unhex(cJSON_GetArrayItem(sums, (int)i)->valuestring,
		    &len);
		memcpy(si->checksum, buf, B2_LEN);
		free(buf);
		buf = unhex(cJSON_GetArrayItem(shards, (int)i)->valuestring,
		    &len);
		put_shard(ms->pool, si, buf, len);
		free(buf);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (metastore_key(ms, path, key, sizeof(key), &e) < 0 ||
	    metastore_replace(ms, key, &m, NULL, &how, &drop, &e) < 0) {
		fprintf(stderr, "put-objects: %s: %s\n", name, e.msg);
		exit(1);
	}
	meta_free(&m);
	meta_free(&drop);
	snprintf(path, sizeof(path), "%s/%s.expected", dir, name);
	buf = unhex(cJSON_GetObjectItem(obj, "file")->valuestring, &len);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len ||
	    fclose(f) != 0) {
		fprintf(stderr, "put-objects: cannot write %s\n", path);
		exit(1);
	}
	free(buf);
	printf("%s\n", name);
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct metastore ms;
	struct pool pool;
	const cJSON *obj;
	cJSON *top;
	struct err e;
	char *text;
	FILE *f;
	long n;

	if (argc != 4) {
		fprintf(stderr, "usage: put-objects CONFIG OBJECTS.json DIR\n");
		return 2;
	}
	if (config_load(argv[1], &cfg, &e) < 0) {
		fprintf(stderr, "put-objects: %s\n", e.msg);
		return 1;
	}
	if ((f = fopen(argv[2], "rb")) == NULL || fseek(f, 0, SEEK_END) < 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    (text = malloc((size_t)n + 1)) == NULL ||
	    fread(text, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "put-objects: cannot read %s\n", argv[2]);
		return 1;
	}
	fclose(f);
	text[n] = '\0';
	if ((top = cJSON_Parse(text)) == NULL) {
		fprintf(stderr, "put-objects: %s is not JSON\n", argv[2]);
		return 1;
	}
	pool_init(&pool, ZDB_TIMEOUT_MS);
	metastore_init(&ms, &cfg, &pool);
	cJSON_ArrayForEach(obj, cJSON_GetObjectItem(top, "objects"))
		put_object(&cfg, &ms, obj, top, argv[3]);
	pool_free(&pool);
	cJSON_Delete(top);
	free(text);
	config_free(&cfg);
	return 0;
}
