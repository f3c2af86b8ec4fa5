/* The metadata store's batches (metastore_batch) over four directory
 * backends: gets and puts of different keys in one batch give what each call
 * alone gives; a put sees what the batch's own gets do not change; a put with
 * a base that no longer holds writes nothing and hands back its pieces to
 * delete; with a backend gone, gets still read (3 of 4) and puts refuse, and
 * the single calls built on batches agree; a put every backend refuses says
 * the previous value was kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metastore.h"
#include "pool.h"
#include "t.h"

int main(void);

static struct config	cfg;
static struct pool	pool;
static struct metastore	ms;

/* A record of one shard with one piece; tag makes its checksum. */
static void
record(struct metadata *m, uint8_t tag, uint64_t piece)
{
	memset(m, 0, sizeof(*m));
	m->data_shards = 1;
	m->disposable_shards = 1;
	memset(m->checksum, tag, sizeof(m->checksum));
	memset(m->key, 7, sizeof(m->key));
	m->nshards = 1;
	if ((m->shards = calloc(1, sizeof(*m->shards))) == NULL ||
	    (m->shards->keys = calloc(1, sizeof(*m->shards->keys))) == NULL)
		exit(2);
	m->shards->nkeys = 1;
	m->shards->keys->kind = KEY_V1;
	m->shards->keys->id = piece;
	t_dir_ci(&m->shards->ci, "data", "d");
}

static void
req(struct meta_req *q, enum meta_req_kind kind, const char *key,
    const struct metadata *put, const struct metadata *base)
{
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->key = key;
	q->put = put;
	q->base = base;
}

static void
reqs_free(struct meta_req *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (q[i].kind == META_REQ_GET && q[i].rc == 0)
			meta_free(&q[i].meta);
		if (q[i].kind == META_REQ_PUT)
			meta_free(&q[i].drop);
	}
}

static void
test_puts_then_gets(struct metadata *a, struct metadata *b)
{
	struct meta_req q[4];
	int i;

	req(&q[0], META_REQ_PUT, "/k/a", a, NULL);
	req(&q[1], META_REQ_PUT, "/k/b", b, NULL);
	metastore_batch(&ms, q, 2);
	for (i = 0; i < 2; i++)
		T_CHECK(q[i].rc == 0 && q[i].how == META_COMMITTED,
		    "put %d of a batch: rc %d how %d (%s)", i, q[i].rc,
		    q[i].how, q[i].err.msg);
	reqs_free(q, 2);

	req(&q[0], META_REQ_GET, "/k/b", NULL, NULL);
	req(&q[1], META_REQ_GET, "/k/none", NULL, NULL);
	req(&q[2], META_REQ_GET, "/k/a", NULL, NULL);
	metastore_batch(&ms, q, 3);
	T_CHECK(q[0].rc == 0 && q[0].settled &&
	    memcmp(q[0].meta.checksum, b->checksum, B2_LEN) == 0,
	    "get b: rc %d settled %d", q[0].rc, q[0].settled);
	T_CHECK(q[1].rc == 1, "get of a key never stored: rc %d", q[1].rc);
	T_CHECK(q[2].rc == 0 && q[2].settled &&
	    memcmp(q[2].meta.checksum, a->checksum, B2_LEN) == 0 &&
	    q[2].meta.nshards == 1 && q[2].meta.shards->keys->id == 11,
	    "get a: rc %d", q[2].rc);
	reqs_free(q, 3);
}

/* A put and a get of different keys in one batch; then a put over a base
 * that was replaced meanwhile writes nothing. */
static void
test_mixed_and_base(struct metadata *a, struct metadata *b,
    struct metadata *a2)
{
	struct metadata got;
	struct meta_req q[2];
	struct err e;

	req(&q[0], META_REQ_GET, "/k/b", NULL, NULL);
	req(&q[1], META_REQ_PUT, "/k/a", a2, a);
	metastore_batch(&ms, q, 2);
	T_CHECK(q[0].rc == 0 &&
	    memcmp(q[0].meta.checksum, b->checksum, B2_LEN) == 0,
	    "get beside a put: rc %d", q[0].rc);
	T_CHECK(q[1].rc == 0, "put over its base: %s", q[1].err.msg);
	reqs_free(q, 2);
	T_CHECK(metastore_load(&ms, "/k/a", &got, &e) == 0 &&
	    memcmp(got.checksum, a2->checksum, B2_LEN) == 0,
	    "the put of a mixed batch is what a load reads");
	meta_free(&got);

	/* a is a2 now: a put over a fails and keeps a2 */
	req(&q[0], META_REQ_PUT, "/k/a", b, a);
	metastore_batch(&ms, q, 1);
	T_CHECK(q[0].rc == -1 && q[0].how == META_ROLLED_BACK &&
	    strstr(q[0].err.msg, "changed while it was being rebuilt") != NULL,
	    "put over a stale base: rc %d: %s", q[0].rc, q[0].err.msg);
	T_CHECK(q[0].drop.nshards == 1 && q[0].drop.shards->nkeys == 1 &&
	    q[0].drop.shards->keys->id == 12,
	    "... and hands back its piece (a, its base, does not list it)");
	reqs_free(q, 1);
	T_CHECK(metastore_load(&ms, "/k/a", &got, &e) == 0 &&
	    memcmp(got.checksum, a2->checksum, B2_LEN) == 0,
	    "... and the record stays");
	meta_free(&got);
}

/* Metadata backend 3 gone: gets read from the other three, puts refuse and
 * drop what they would have written; the single calls say the same. */
static void
test_backend_gone(struct metadata *a2, struct metadata *c)
{
	struct meta_req q[2];
	struct metadata drop, got;
	enum meta_outcome how;
	char path[600], aside[620];
	struct err e;

	snprintf(path, sizeof(path), "%s/m3", t_tmpdir());
	snprintf(aside, sizeof(aside), "%s.aside", path);
	if (rename(path, aside) == -1)
		exit(2);
	pool_next_job(&pool);
	req(&q[0], META_REQ_GET, "/k/a", NULL, NULL);
	req(&q[1], META_REQ_PUT, "/k/c", c, NULL);
	metastore_batch(&ms, q, 2);
	T_CHECK(q[0].rc == 0 && !q[0].settled &&
	    memcmp(q[0].meta.checksum, a2->checksum, B2_LEN) == 0,
	    "3 of 4 backends: a get reads, unsettled: rc %d (%s)", q[0].rc,
	    q[0].err.msg);
	T_CHECK(q[1].rc == -1 && q[1].how == META_ROLLED_BACK &&
	    strstr(q[1].err.msg, "not writable") != NULL &&
	    q[1].drop.nshards == 1 && q[1].drop.shards->nkeys == 1,
	    "3 of 4 backends: a put refuses and drops its piece: %s",
	    q[1].err.msg);
	reqs_free(q, 2);
	T_CHECK(metastore_replace(&ms, "/k/c", c, NULL, &how, &drop, &e) ==
	    -1 && how == META_ROLLED_BACK && drop.nshards == 1,
	    "metastore_replace says the same");
	meta_free(&drop);
	if (rename(aside, path) == -1)
		exit(2);
	pool_next_job(&pool);
	T_CHECK(metastore_load(&ms, "/k/c", &got, &e) == 1,
	    "the refused put left nothing a reader sees");
}

/* Every backend refuses the put (its directory for values being written
 * is gone, so no value can be written; the values read back as before):
 * nothing to put back, and the error still says the previous value was
 * kept. */
static void
test_all_refused(struct metadata *a2, struct metadata *c)
{
	struct meta_req q;
	struct metadata got;
	char path[600];
	struct err e;
	int i;

	pool_next_job(&pool);
	req(&q, META_REQ_GET, "/k/a", NULL, NULL);
	metastore_batch(&ms, &q, 1);	/* the backends are open */
	reqs_free(&q, 1);
	for (i = 0; i < META_BACKENDS; i++) {
		snprintf(path, sizeof(path), "%s/m%d/meta/tmp", t_tmpdir(), i);
		if (rmdir(path) == -1)
			exit(2);
	}
	req(&q, META_REQ_PUT, "/k/a", c, NULL);
	metastore_batch(&ms, &q, 1);
	T_CHECK(q.rc == -1 && q.how == META_ROLLED_BACK &&
	    strstr(q.err.msg, "previous value was kept") != NULL,
	    "all 4 writes refused: rolled back, saying so: %s", q.err.msg);
	reqs_free(&q, 1);
	T_CHECK(metastore_load(&ms, "/k/a", &got, &e) == 0 &&
	    memcmp(got.checksum, a2->checksum, B2_LEN) == 0,
	    "... and the previous value reads back: %s", e.msg);
	meta_free(&got);
}

int
main(void)
{
	struct metadata a, b, a2, c;
	char name[16];
	int i;

	log_init(NULL, 0);
	memset(cfg.key, 3, sizeof(cfg.key));
	for (i = 0; i < META_BACKENDS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		t_dir_ci(&cfg.meta_backends[i], name, "meta");
	}
	pool_init(&pool, 5000);
	metastore_init(&ms, &cfg, &pool);
	record(&a, 0xa1, 11);
	record(&b, 0xb1, 12);
	record(&a2, 0xa2, 13);
	record(&c, 0xc1, 14);
	test_puts_then_gets(&a, &b);
	test_mixed_and_base(&a, &b, &a2);
	test_backend_gone(&a2, &c);
	test_all_refused(&a2, &c);
	pool_free(&pool);
	meta_free(&a);
	meta_free(&b);
	meta_free(&a2);
	meta_free(&c);
	return t_finish();
}
