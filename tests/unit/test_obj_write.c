/* Store pass 2 (obj_write) on directory backends: a shard is written in pieces,
 * one per stripe, and with no spare backend a piece that fails fails the store,
 * whichever stripe it belongs to; what was written is deleted, also on the
 * backend that refused the piece. The failure is made by a directory
 * standing where the backend's next value file would be renamed to. A rebuild
 * writes a shard only when it has the checksum its record holds. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "obj.h"
#include "pool.h"
#include "scratch.h"
#include "t.h"

int main(void);

#define NB 3	/* backends, one group: 2 data shards + 1 parity */

static struct backend_ci cis[NB];
static struct group group = { NB, cis };

static void
config_init(struct config *cfg)
{
	unsigned i;
	char name[8];

	memset(cfg, 0, sizeof(*cfg));
	cfg->minimal_shards = 2;
	cfg->expected_shards = NB;
	cfg->ngroups = 1;
	cfg->groups = &group;
	memset(cfg->key, 0x42, sizeof(cfg->key));
	for (i = 0; i < NB; i++) {
		snprintf(name, sizeof(name), "b%u", i);
		t_dir_ci(&cis[i], name, "data");
	}
}

/* Value files (16 hex digits) in backend i's namespace directory. */
static unsigned
count_values(unsigned i)
{
	char path[512];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/data", cis[i].addr.path);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strlen(de->d_name) == 16 && de->d_type == DT_REG;
	closedir(d);
	return n;
}

/* Seals `len` random bytes into a scratch file. */
static int
seal_random(const struct config *cfg, size_t len, struct sealed *s)
{
	uint8_t *buf = malloc(len);
	struct err e;
	size_t i;
	int fd, rc;

	if (buf == NULL || (fd = scratch_open(&e)) < 0)
		abort();
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)t_rng();
	rc = write_full(fd, buf, len) == 0 && lseek(fd, 0, SEEK_SET) == 0 ?
	    obj_seal(fd, -1, cfg->key, s, &e) : -1;
	T_CHECK(rc == 0, "seal: %s", e.msg);
	close(fd);
	free(buf);
	return rc;
}

/* Makes piece `piece` (0 = the first) of the next value written to backend i
 * fail: one probe SET learns the next id, and a directory takes the name of the
 * value that many ids later. */
static void
block_piece(struct pool *pool, unsigned i, unsigned piece, char *blocked,
    size_t len)
{
	struct bop op = { .kind = BOP_SEQ_SET, .val = "probe", .vallen = 5 };
	struct err e;
	char sub[600];

	op.b = pool_get(pool, &cis[i], NS_SEQUENTIAL, &e);
	if (op.b == NULL)
		abort();
	backend_run(&op, 1, pool->timeout_ms);
	T_CHECK(op.rc == 0, "probe SET: %s", op.err.msg);
	snprintf(blocked, len, "%s/data/%016" PRIx64, cis[i].addr.path,
	    op.newkey.id + 1 + piece);
	snprintf(sub, sizeof(sub), "%s/x", blocked);
	if (mkdir(blocked, 0700) < 0 || mkdir(sub, 0700) < 0)
		abort();
}

static void
unblock(const char *blocked)
{
	char sub[600];

	snprintf(sub, sizeof(sub), "%s/x", blocked);
	rmdir(sub);
	rmdir(blocked);
}

/* A file of 2 stripes per shard; backend `bad` fails piece `piece`. */
static void
check_piece_failure(const struct config *cfg, unsigned bad, unsigned piece)
{
	struct sealed s = { .fd = -1 };
	struct metadata m;
	struct pool pool;
	struct err e = { "" };
	char blocked[512];
	unsigned i, before = 0, after = 0;
	int rc;

	pool_init(&pool, 10000);
	if (seal_random(cfg, 2 * (OBJ_STRIPE + OBJ_STRIPE / 2), &s) < 0)
		return;
	block_piece(&pool, bad, piece, blocked, sizeof(blocked));
	for (i = 0; i < NB; i++)
		before += count_values(i);
	rc = obj_write(cfg, &pool, &s, &m, &e);
	T_CHECK(rc == -1 && strstr(e.msg, "writing shards") != NULL &&
	    strstr(e.msg, cis[bad].addr.path) != NULL,
	    "piece %u of a shard on b%u failed, the store gave %d: %s",
	    piece + 1, bad, rc, rc ? e.msg : "no error");
	if (rc == 0)
		meta_free(&m);
	for (i = 0; i < NB; i++)
		after += count_values(i);
	T_CHECK(after == before,
	    "piece %u on b%u failed: %u pieces left behind", piece + 1, bad,
	    after - before);
	unblock(blocked);
	sealed_close(&s);
	pool_free(&pool);
}

/* The same store without a blocked name succeeds, in two pieces per shard. */
static void
check_success(const struct config *cfg)
{
	struct sealed s = { .fd = -1 };
	struct metadata m;
	struct pool pool;
	struct err e = { "" };
	size_t i, pieces = 0;

	pool_init(&pool, 10000);
	if (seal_random(cfg, 2 * (OBJ_STRIPE + OBJ_STRIPE / 2), &s) < 0)
		return;
	T_CHECK(obj_write(cfg, &pool, &s, &m, &e) == 0, "store: %s", e.msg);
	for (i = 0; i < m.nshards; i++)
		pieces += m.shards[i].nkeys;
	T_CHECK(m.nshards == NB && pieces == 2 * NB, "%zu shards in %zu pieces",
	    m.nshards, pieces);
	obj_delete_shards(&pool, &m);
	meta_free(&m);
	sealed_close(&s);
	pool_free(&pool);
}

/* The value file of piece `piece` of shard i of m. */
static void
piece_path(const struct metadata *m, unsigned i, unsigned piece, char *out,
    size_t len)
{
	snprintf(out, len, "%s/data/%016" PRIx64, m->shards[i].ci.addr.path,
	    m->shards[i].keys[piece].id);
}

/* A retrieve streams the data shards into the output; a piece missing, or
 * corrupt, in the middle of the stream stops it, and the object is read
 * again through parity: the output is whole and verified either way. */
static void
check_retrieve_mid_stream(const struct config *cfg, int corrupt)
{
	const char *how = corrupt ? "corrupt" : "missing";
	struct sealed s = { .fd = -1 };
	struct metadata m;
	struct pool pool;
	struct err e = { "" };
	char path[600];
	uint8_t byte;
	int fd, rc;

	pool_init(&pool, 10000);
	if (seal_random(cfg, 2 * (OBJ_STRIPE + OBJ_STRIPE / 2), &s) < 0)
		return;
	if (obj_write(cfg, &pool, &s, &m, &e) < 0 || m.shards[1].nkeys != 2) {
		T_CHECK(0, "store for the retrieve: %s", e.msg);
		return;
	}
	fd = scratch_open(&e);
	T_CHECK(obj_stream(&pool, &m, fd, &e) == 0 &&
	    lseek(fd, 0, SEEK_END) == 2 * (OBJ_STRIPE + OBJ_STRIPE / 2),
	    "stream of a healthy object: %s", e.msg);
	piece_path(&m, 1, 1, path, sizeof(path));
	if (corrupt) {
		int vfd = open(path, O_RDWR);

		T_CHECK(vfd >= 0 && pread(vfd, &byte, 1, 100) == 1, "read %s",
		    path);
		byte ^= 0x10;
		T_CHECK(pwrite(vfd, &byte, 1, 100) == 1, "corrupt %s", path);
		close(vfd);
	} else
		T_CHECK(unlink(path) == 0, "remove %s", path);
	rc = ftruncate(fd, 0);
	/* corrupt bytes may trip the unframing before the shard's checksum */
	T_CHECK(rc == 0 && obj_stream(&pool, &m, fd, &e) == -1 &&
	    (corrupt || strstr(e.msg, "missing")),
	    "stream with the second piece of data shard 1 %s: %s", how, e.msg);
	rc = ftruncate(fd, 0);
	T_CHECK(rc == 0 && obj_retrieve(&pool, &m, -1, fd, &e) == 0 &&
	    lseek(fd, 0, SEEK_END) == 2 * (OBJ_STRIPE + OBJ_STRIPE / 2),
	    "retrieve with a %s piece mid-stream, through parity: %s", how,
	    e.msg);
	close(fd);
	obj_delete_shards(&pool, &m);
	meta_free(&m);
	sealed_close(&s);
	pool_free(&pool);
}

/* A record whose checksum for a shard is not what the other shards give
 * back: the rebuild writes nothing and says so. With the record right, the
 * same rebuild rewrites the shard. */
static void
check_rebuild_disagrees(const struct config *cfg)
{
	struct sealed s = { .fd = -1 };
	struct metadata m, nm;
	struct pool pool;
	struct err e = { "" };
	char path[600];
	unsigned before;
	int changed, fd, rc;

	pool_init(&pool, 10000);
	if (seal_random(cfg, OBJ_STRIPE, &s) < 0)
		return;
	if (obj_write(cfg, &pool, &s, &m, &e) < 0) {
		T_CHECK(0, "store for the rebuild: %s", e.msg);
		return;
	}
	m.shards[2].checksum[0] ^= 1;
	before = count_values(0) + count_values(1) + count_values(2);
	fd = scratch_open(&e);
	rc = obj_rebuild(cfg, &pool, &m, fd, &nm, &changed, &e);
	T_CHECK(rc == -1 && !changed && strstr(e.msg, "disagree") != NULL,
	    "rebuild of a shard its record disagrees with: %s",
	    rc ? e.msg : "rebuilt");
	T_CHECK(count_values(0) + count_values(1) + count_values(2) == before,
	    "... and nothing was written");
	if (rc == 0)
		meta_free(&nm);
	m.shards[2].checksum[0] ^= 1;
	piece_path(&m, 2, 0, path, sizeof(path));
	T_CHECK(unlink(path) == 0, "remove %s", path);
	rc = ftruncate(fd, 0) == 0 ? obj_rebuild(cfg, &pool, &m, fd, &nm,
	    &changed, &e) : -1;
	T_CHECK(rc == 0 && changed, "rebuild of a lost shard the record "
	    "agrees with: %s", rc ? e.msg : "nothing rewritten");
	if (rc == 0) {
		obj_delete_shards(&pool, &nm);
		meta_free(&nm);
	}
	close(fd);
	obj_delete_shards(&pool, &m);
	meta_free(&m);
	sealed_close(&s);
	pool_free(&pool);
}

static void
count_batches(void *arg, uint64_t done, uint64_t total)
{
	(void)total;
	if (done > 0)
		(*(unsigned *)arg)++;
}

/* A small object over 10 data shards (one piece each) streams back in two
 * fetches, two pieces and then the eight left, not in five of two. */
#define WIDE 12
static void
check_small_fetches(void)
{
	static struct backend_ci wide[WIDE];
	struct group g = { WIDE, wide };
	struct sealed s = { .fd = -1 };
	struct obj_progress pg;
	struct metadata m;
	struct config cfg;
	struct pool pool;
	struct err e = { "" };
	unsigned i, batches = 0;
	char name[8];
	int fd, rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.minimal_shards = 10;
	cfg.expected_shards = WIDE;
	cfg.ngroups = 1;
	cfg.groups = &g;
	memset(cfg.key, 0x42, sizeof(cfg.key));
	for (i = 0; i < WIDE; i++) {
		snprintf(name, sizeof(name), "w%u", i);
		t_dir_ci(&wide[i], name, "data");
	}
	pool_init(&pool, 10000);
	if (seal_random(&cfg, 4096, &s) == 0 &&
	    (rc = obj_write(&cfg, &pool, &s, &m, &e)) == 0) {
		obj_progress_init(&pg, count_batches, &batches);
		pool.progress = &pg;
		fd = scratch_open(&e);
		rc = obj_stream(&pool, &m, fd, &e);
		T_CHECK(rc == 0 && lseek(fd, 0, SEEK_END) == 4096,
		    "stream of a 4 KiB object over 10 data shards: %s", e.msg);
		T_CHECK(batches == 2, "... in %u fetches, not 2", batches);
		pool.progress = NULL;
		obj_progress_free(&pg);
		close(fd);
		obj_delete_shards(&pool, &m);
		meta_free(&m);
	} else
		T_CHECK(0, "store of a 4 KiB object over %d backends: %s", WIDE,
		    e.msg);
	sealed_close(&s);
	pool_free(&pool);
	for (i = 0; i < WIDE; i++)
		ci_free(&wide[i]);
}

int
main(void)
{
	struct config cfg;
	unsigned i;

	log_init("/dev/null", 0);
	t_rng_seed(7);
	config_init(&cfg);
	check_success(&cfg);
	check_retrieve_mid_stream(&cfg, 0);
	check_retrieve_mid_stream(&cfg, 1);
	check_rebuild_disagrees(&cfg);
	check_small_fetches();
	for (i = 0; i < NB; i++) {
		check_piece_failure(&cfg, i, 1);	/* the second stripe */
		check_piece_failure(&cfg, i, 0);	/* the first */
	}
	for (i = 0; i < NB; i++)
		ci_free(&cis[i]);
	return t_finish();
}
