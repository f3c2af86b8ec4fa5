/* Backend tests. The directory backend is always tested, in a temporary
 * directory. With ZDB_BIN naming a 0-db binary, the same checks run against
 * real 0-db servers (sequential and user-key on loopback TCP, user-key on a
 * unix socket), plus the 0-db-only ones: passwords, a full namespace, a dead
 * and a hung server. The same runs against the project's 0-db test double,
 * the one built beside this test unless ZDBD_DOUBLE names another. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "backend.h"
#include "log.h"
#include "pool.h"
#include "t.h"
#include "zdb_bulk.h"

int main(void);

#define TMO 10000		/* ms: generous, the machine may be busy */
#define MAX_CHILDREN 8

static pid_t children[MAX_CHILDREN];
static int nchildren;
static char tmproot[] = "/tmp/test_backend.XXXXXX";

/* ------------------------------------------------------------ helpers */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
cleanup(void)
{
	int i;

	for (i = 0; i < nchildren; i++) {
		kill(children[i], SIGCONT);
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	nchildren = 0;
	nftw(tmproot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint8_t *
pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len + 1);
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static int
make_ci(struct backend_ci *ci, const char *addr, const char *ns, const char *pw)
{
	struct err e;

	memset(ci, 0, sizeof(*ci));
	if (zaddr_parse(addr, &ci->addr, &e) < 0) {
		t_fail(__FILE__, __LINE__, "zaddr_parse %s: %s", addr, e.msg);
		return -1;
	}
	ci->ns = ns ? strdup(ns) : NULL;
	ci->password = pw ? strdup(pw) : NULL;
	return 0;
}

static struct backend *
open_be(const char *addr, const char *ns, const char *pw, enum ns_mode mode,
    struct err *e)
{
	struct backend_ci ci;
	struct backend *b;

	if (make_ci(&ci, addr, ns, pw) < 0)
		return NULL;
	b = backend_open(&ci, mode, TMO, e);
	ci_free(&ci);
	return b;
}

static void
op_init(struct bop *op, struct backend *b, enum bop_kind kind)
{
	memset(op, 0, sizeof(*op));
	op->b = b;
	op->kind = kind;
}

/* One op, run alone; returns its rc. */
static int
run1(struct bop *op, int timeout_ms)
{
	backend_run(op, 1, timeout_ms);
	return op->rc;
}

static int
seq_set(struct backend *b, const void *val, size_t len, struct shard_key *k,
    struct err *e)
{
	struct bop op;

	op_init(&op, b, BOP_SEQ_SET);
	op.val = val;
	op.vallen = len;
	run1(&op, TMO);
	*k = op.newkey;
	*e = op.err;
	return op.rc;
}

/* GET by shard key; compares with want when given. */
static int
get_check(struct backend *b, const struct shard_key *k, const uint8_t *want,
    size_t len)
{
	uint8_t kb[8];
	struct bop op;
	int ok;

	op_init(&op, b, BOP_GET);
	op.key = kb;
	op.keylen = shard_key_bytes(k, kb);
	if (run1(&op, TMO) != 0) {
		t_fail(__FILE__, __LINE__, "GET %llu: rc %d: %s",
		    (unsigned long long)k->id, op.rc, op.err.msg);
		return -1;
	}
	ok = op.outlen == len && memcmp(op.out, want, len) == 0;
	free(op.out);
	return ok ? 0 : -1;
}

static int
key_op(struct backend *b, enum bop_kind kind, const char *key, const void *val,
    size_t len, struct bop *op)
{
	op_init(op, b, kind);
	op->key = key;
	op->keylen = strlen(key);
	op->val = val;
	op->vallen = len;
	return run1(op, TMO);
}

/* ------------------------------------------------------------ pure
 * functions */

static const char nsinfo_test[] =
    "# namespace\nname: test\nentries: 1\npublic: yes\nworm: no\nlocked: no\n"
    "password: yes\ndata_size_bytes: 1\ndata_size_mb: 0.00\ndata_limits_bytes: "
    "0\n"
    "index_size_bytes: 65\nindex_size_kb: 0.06\nnext_internal_id: "
    "0x100000000000000\n"
    "mode: userkey\nstats_index_io_errors: 0\nstats_index_io_error_last: 0\n"
    "stats_index_faults: 0\nstats_data_io_errors: 0\nstats_data_io_error_last: "
    "0\n"
    "stats_data_faults: 0\nindex_disk_freespace_bytes: 84885180416\n"
    "index_disk_freespace_mb: 80952.82\ndata_disk_freespace_bytes: "
    "84885180416\n"
    "data_disk_freespace_mb: 80952.82\ndata_path: /var/lib/zdb/user/data/test\n"
    "data_active: /var/lib/zdb/user/data/test/d0\nindex_path: "
    "/var/lib/zdb/user/index/test\n"
    "index_active: /var/lib/zdb/user/index/test/i0\ndata_current_id: 0\n"
    "data_current_offset: 48\n";

/* A non-admin NSINFO (no paths) of a namespace with a limit, from the
 * transcripts. */
static const char nsinfo_nonadmin[] =
    "# namespace\nname: default\nentries: 1\npublic: yes\nworm: no\nlocked: "
    "no\n"
    "password: yes\ndata_size_bytes: 1\ndata_size_mb: 0.00\ndata_limits_bytes: "
    "0\n"
    "index_size_bytes: 65\nindex_size_kb: 0.06\nnext_internal_id: "
    "0x200000000000000\n"
    "mode: userkey\nstats_index_io_errors: 0\nstats_index_io_error_last: 0\n"
    "stats_index_faults: 0\nstats_data_io_errors: 0\nstats_data_io_error_last: "
    "0\n"
    "stats_data_faults: 0\nindex_disk_freespace_bytes: 84573962240\n"
    "index_disk_freespace_mb: 80656.02\ndata_disk_freespace_bytes: "
    "84573962240\n"
    "data_disk_freespace_mb: 80656.02\n\r\n";

static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	if (at == NULL) {
		t_fail(__FILE__, __LINE__, "fixture lacks %s", from);
		strcpy(out, text);
		return out;
	}
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), to);
	strcat(out, at + strlen(from));
	return out;
}

/* The fixture with one change must fail with a message containing want. */
static void
nsinfo_bad(const char *from, const char *to, const char *want)
{
	char *t = replace(nsinfo_test, from, to);
	struct nsinfo ni;
	struct err e;

	T_CHECK(nsinfo_parse(t, strlen(t), &ni, &e) == -1 &&
	    strstr(e.msg, want), "NSINFO with %s changed: %s", from, e.msg);
	free(t);
}

static void
test_nsinfo_parse(void)
{
	struct nsinfo ni;
	struct err e;
	char *t;

	T_CHECK(nsinfo_parse(nsinfo_test, strlen(nsinfo_test), &ni, &e) == 0,
	    "%s", e.msg);
	T_CHECK(strcmp(ni.name, "test") == 0, "name %s", ni.name);
	T_CHECK(ni.entries == 1 && ni.public_ == 1 && ni.password == 1 &&
	    ni.worm == 0 && ni.locked == 0, "flags");
	T_CHECK(ni.data_size_bytes == 1 && ni.data_limits_bytes == 0 &&
	    ni.index_size_bytes == 65, "sizes");
	T_CHECK(ni.mode == NS_USERKEY, "mode");
	T_CHECK(ni.data_disk_freespace_bytes == 84885180416ull &&
	    ni.index_disk_freespace_bytes == 84885180416ull, "disk free");

	T_CHECK(nsinfo_parse(nsinfo_nonadmin, strlen(nsinfo_nonadmin), &ni,
	    &e) == 0, "non-admin NSINFO: %s", e.msg);
	T_CHECK(strcmp(ni.name, "default") == 0, "name %s", ni.name);

	t = replace(nsinfo_test, "mode: userkey\n", "mode: sequential\n");
	T_CHECK(nsinfo_parse(t, strlen(t), &ni, &e) == 0 &&
	    ni.mode == NS_SEQUENTIAL, "sequential");
	free(t);
	t = replace(nsinfo_test, "data_limits_bytes: 0\n",
	    "data_limits_bytes: 10\nspace_available: 9\n");
	T_CHECK(nsinfo_parse(t, strlen(t), &ni, &e) == 0 &&
	    ni.data_limits_bytes == 10, "limit");
	free(t);

	nsinfo_bad("worm: no\n", "", "\"worm\" is missing");
	nsinfo_bad("data_disk_freespace_bytes: 84885180416\n", "",
	    "\"data_disk_freespace_bytes\" is missing");
	nsinfo_bad("entries: 1\n", "entries: many\n",
	    "\"entries\" has the malformed value \"many\"");
	nsinfo_bad("mode: userkey\n", "mode: direct\n",
	    "\"mode\" has the malformed");
	nsinfo_bad("public: yes\n", "public: 1\n",
	    "\"public\" has the malformed");
	T_CHECK(nsinfo_parse("", 0, &ni, &e) == -1 && strstr(e.msg, "name"),
	    "empty: %s", e.msg);
}

static void
test_space(void)
{
	const uint64_t G = 1024ull * 1024 * 1024;
	struct nsinfo ni;

	memset(&ni, 0, sizeof(ni));
	ni.data_disk_freespace_bytes = 5000;
	T_CHECK(nsinfo_free_space(&ni) == 5000, "no limit: disk free");
	ni.data_limits_bytes = 1000;
	ni.data_size_bytes = 400;
	T_CHECK(nsinfo_free_space(&ni) == 600, "limit - used");
	ni.data_disk_freespace_bytes = 100;
	T_CHECK(nsinfo_free_space(&ni) == 100, "disk smaller than room");
	ni.data_size_bytes = 2000;
	T_CHECK(nsinfo_free_space(&ni) == 0, "used over limit");

	memset(&ni, 0, sizeof(ni));
	T_CHECK(nsinfo_usage_percent(&ni) == 0, "0/0");
	ni.data_limits_bytes = 10 * G;
	T_CHECK(nsinfo_usage_percent(&ni) == 0, "0%%");
	ni.data_size_bytes = 10 * G;
	T_CHECK(nsinfo_usage_percent(&ni) == 100, "100%%");
	ni.data_size_bytes = 5 * G;
	T_CHECK(nsinfo_usage_percent(&ni) == 50, "50%%");
	ni.data_size_bytes = 3579139413ull;
	T_CHECK(nsinfo_usage_percent(&ni) == 33, "33%%");
	ni.data_size_bytes = 7158278827ull;
	T_CHECK(nsinfo_usage_percent(&ni) == 66, "66%%");
	ni.data_limits_bytes = 0;
	ni.data_size_bytes = 512 * G;
	ni.data_disk_freespace_bytes = 1024 * G;
	T_CHECK(nsinfo_usage_percent(&ni) == 33, "unlimited 33%%");
}

static void
test_shard_key_bytes(void)
{
	struct shard_key k1 = { KEY_V1, 0x01020304 }, k2 = { KEY_V2, 5 };
	const uint8_t w1[4] = { 4, 3, 2, 1 }, w2[8] = { 5, 0, 0, 0, 0, 0, 0,
	    0 };
	uint8_t b[8];

	T_CHECK(shard_key_bytes(&k1, b) == 4 && memcmp(b, w1, 4) == 0,
	    "v1 key");
	T_CHECK(shard_key_bytes(&k2, b) == 8 && memcmp(b, w2, 8) == 0,
	    "v2 key");
}

/* ------------------------------------------------------------ generic
 * checks */

/* A value over 8 MiB between two others in one pipelined run: refused before it
 * is sent, so the connection (0-db would drop it) carries the op behind it. */
static void
test_oversize(const char *label, struct backend *b, const uint8_t *val)
{
	struct bop ops[3];
	int i;

	for (i = 0; i < 3; i++) {
		op_init(&ops[i], b, BOP_SEQ_SET);
		ops[i].val = val;
		ops[i].vallen = i == 1 ? ZDB_VALUE_MAX + 1 : 100;
	}
	backend_run(ops, 3, TMO);
	T_CHECK(ops[0].rc == 0 && ops[2].rc == 0,
	    "%s: SETs around the big one: %s %s", label, ops[0].err.msg,
	    ops[2].err.msg);
	T_CHECK(ops[2].newkey.id > ops[0].newkey.id, "%s: keys keep increasing",
	    label);
	T_CHECK(ops[1].rc == -1 && strstr(ops[1].err.msg, "8 MiB") &&
	    strstr(ops[1].err.msg, "it was not") &&
	    strstr(ops[1].err.msg, backend_name(b)), "%s: over 8 MiB: %s",
	    label, ops[1].err.msg);
}

/* Sequential namespace: increasing 8-byte keys, reads, misses, 2 MiB pieces,
 * exactly 8 MiB, and a value over 8 MiB refused without harm to the
 * connection. */
static void
test_seq(const char *label, const char *addr, const char *ns)
{
	const size_t big = ZDB_PIECE_MAX, max = ZDB_VALUE_MAX;
	struct shard_key k[5], kbig, kmissing = { KEY_V2, 999999 };
	uint8_t *v[5], *vbig = pattern(max + 1, 7), kb[8];
	struct backend *b;
	struct bop op;
	struct err e;
	int i;

	if ((b = open_be(addr, ns, NULL, NS_SEQUENTIAL, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open %s: %s", label, addr,
		    e.msg);
		free(vbig);
		return;
	}
	for (i = 0; i < 5; i++) {
		v[i] = pattern(100 + (size_t)i, (unsigned)i);
		T_CHECK(seq_set(b, v[i], 100 + (size_t)i, &k[i], &e) == 0,
		    "%s: SET: %s", label, e.msg);
		T_CHECK(k[i].kind == KEY_V2, "%s: 8-byte keys", label);
		T_CHECK(i == 0 || k[i].id > k[i - 1].id, "%s: increasing keys",
		    label);
	}
	for (i = 0; i < 5; i++) {
		T_CHECK(get_check(b, &k[i], v[i], 100 + (size_t)i) == 0,
		    "%s: GET %d", label, i);
		free(v[i]);
	}
	op_init(&op, b, BOP_GET);
	op.key = kb;
	op.keylen = shard_key_bytes(&kmissing, kb);
	T_CHECK(run1(&op, TMO) == 1 && op.out == NULL,
	    "%s: GET missing: rc %d %s", label, op.rc, op.err.msg);

	T_CHECK(seq_set(b, vbig, big, &kbig, &e) == 0, "%s: 2 MiB: %s", label,
	    e.msg);
	T_CHECK(get_check(b, &kbig, vbig, big) == 0, "%s: GET 2 MiB", label);
	T_CHECK(seq_set(b, vbig, max, &kbig, &e) == 0, "%s: 8 MiB: %s", label,
	    e.msg);
	T_CHECK(get_check(b, &kbig, vbig, max) == 0, "%s: GET 8 MiB", label);
	test_oversize(label, b, vbig);
	op_init(&op, b, BOP_NSINFO);
	T_CHECK(run1(&op, TMO) == 0 && op.info.mode == NS_SEQUENTIAL &&
	    op.info.entries >= 8 && op.info.data_disk_freespace_bytes > 0,
	    "%s: NSINFO: %s", label, op.err.msg);
	free(vbig);
	backend_close(b);
}

/* Opening a namespace in the other mode fails with a message saying so. */
static void
test_mode_mismatch(const char *label, const char *addr, const char *ns,
    enum ns_mode wrong)
{
	struct backend *b;
	struct err e;

	b = open_be(addr, ns, NULL, wrong, &e);
	T_CHECK(b == NULL, "%s: opened %s in the wrong mode", label, addr);
	if (b != NULL) {
		backend_close(b);
		return;
	}
	T_CHECK(strstr(e.msg, "mode, but it is in") != NULL &&
	    strstr(e.msg,
	    wrong == NS_SEQUENTIAL ? "in sequential mode" : "in user-key mode"),
	    "%s: mode message: %s", label, e.msg);
}

static void
test_userkey(const char *label, const char *addr, const char *ns)
{
	struct backend *b;
	struct bop op;
	struct err e;
	uint64_t entries;

	if ((b = open_be(addr, ns, NULL, NS_USERKEY, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open %s: %s", label, addr,
		    e.msg);
		return;
	}
	T_CHECK(key_op(b, BOP_KEY_SET, "/t/meta/a", "alpha", 5, &op) == 0,
	    "%s: SET: %s", label, op.err.msg);
	T_CHECK(key_op(b, BOP_KEY_SET, "/t/meta/a", "alpha", 5, &op) == 0,
	    "%s: SET same value: %s", label, op.err.msg);
	T_CHECK(key_op(b, BOP_KEY_SET, "/t/meta/b", "", 0, &op) == 0,
	    "%s: SET empty: %s", label, op.err.msg);
	T_CHECK(key_op(b, BOP_GET, "/t/meta/a", NULL, 0, &op) == 0 &&
	    op.outlen == 5 && memcmp(op.out, "alpha", 5) == 0, "%s: GET: %s",
	    label, op.err.msg);
	free(op.out);
	T_CHECK(key_op(b, BOP_KEY_SET, "/t/meta/a", "beta!!", 6, &op) == 0,
	    "%s: overwrite: %s", label, op.err.msg);
	T_CHECK(key_op(b, BOP_GET, "/t/meta/a", NULL, 0, &op) == 0 &&
	    op.outlen == 6 && memcmp(op.out, "beta!!", 6) == 0,
	    "%s: GET overwritten", label);
	free(op.out);
	T_CHECK(key_op(b, BOP_GET, "/t/meta/b", NULL, 0, &op) == 0 &&
	    op.outlen == 0, "%s: GET empty value: %s", label, op.err.msg);
	free(op.out);
	op_init(&op, b, BOP_NSINFO);
	T_CHECK(run1(&op, TMO) == 0 && op.info.mode == NS_USERKEY,
	    "%s: NSINFO: %s", label, op.err.msg);
	entries = op.info.entries;
	T_CHECK(key_op(b, BOP_DEL, "/t/meta/a", NULL, 0, &op) == 0,
	    "%s: DEL: %s", label, op.err.msg);
	T_CHECK(key_op(b, BOP_DEL, "/t/meta/a", NULL, 0, &op) == 1,
	    "%s: DEL again: %d %s", label, op.rc, op.err.msg);
	T_CHECK(key_op(b, BOP_GET, "/t/meta/a", NULL, 0, &op) == 1,
	    "%s: GET deleted", label);
	T_CHECK(key_op(b, BOP_GET, "/t/meta/never", NULL, 0, &op) == 1,
	    "%s: GET missing", label);
	op_init(&op, b, BOP_NSINFO);
	T_CHECK(run1(&op, TMO) == 0 && op.info.entries == entries - 1,
	    "%s: entries after DEL %llu, before %llu", label,
	    (unsigned long long)op.info.entries, (unsigned long long)entries);
	backend_close(b);
}

/* Stores keys "/scan/NNNNNN" in one pipelined run. */
static void
store_scan_keys(const char *label, struct backend *b, size_t nkeys)
{
	struct bop *ops = calloc(nkeys, sizeof(*ops));
	char (*keys)[32] = calloc(nkeys, sizeof(*keys));
	size_t i;

	for (i = 0; i < nkeys; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/scan/%06zu", i);
		op_init(&ops[i], b, BOP_KEY_SET);
		ops[i].key = keys[i];
		ops[i].keylen = strlen(keys[i]);
		ops[i].val = keys[i];
		ops[i].vallen = 10;
	}
	T_CHECK(backend_run(ops, nkeys, TMO) == 0, "%s: storing scan keys: %s",
	    label, ops[0].err.msg);
	free(ops);
	free(keys);
}

/* Stores nkeys keys, then SCANs to the end. */
static void
test_scan(const char *label, const char *addr, const char *ns, size_t nkeys,
    int want_batches)
{
	unsigned char *seen = calloc(nkeys, 1);
	struct scan_batch sb, prev;
	size_t i, total = 0, batches = 0, dup = 0, foreign = 0, badsize = 0;
	struct backend *b;
	struct err e;
	unsigned idx;
	char key[16];
	int rc;

	if ((b = open_be(addr, ns, NULL, NS_USERKEY, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open: %s", label, e.msg);
		goto out;
	}
	store_scan_keys(label, b, nkeys);
	memset(&prev, 0, sizeof(prev));
	while ((rc = backend_scan(b, prev.cursor, prev.cursorlen, &sb, TMO,
	    &e)) == 0) {
		batches++;
		for (i = 0; i < sb.n; i++, total++) {
			memset(key, 0, sizeof(key));
			if (sb.entries[i].keylen == 12)
				memcpy(key, sb.entries[i].key, 12);
			if (sscanf(key, "/scan/%6u", &idx) != 1 ||
			    idx >= nkeys) {
				foreign++;
				continue;
			}
			dup += seen[idx];
			seen[idx] = 1;
			badsize += sb.entries[i].size != 10;
		}
		scan_batch_free(&prev);
		prev = sb;
		if (batches > nkeys + 10)
			break;
	}
	scan_batch_free(&prev);
	T_CHECK(rc == 1, "%s: scan ended with %d: %s", label, rc, e.msg);
	for (i = 0; i < nkeys && seen[i]; i++)
		;
	T_CHECK(i == nkeys && dup == 0,
	    "%s: scan saw %zu of %zu keys, %zu twice", label, i, nkeys, dup);
	T_CHECK(badsize == 0, "%s: %zu scan entries with a wrong size", label,
	    badsize);
	T_CHECK(batches >= (size_t)want_batches,
	    "%s: %zu batches (%zu entries, %zu others)", label, batches, total,
	    foreign);
	T_CHECK(backend_scan(b, NULL, 0, &sb, TMO, &e) == 0 && sb.n > 0,
	    "%s: scan restarts", label);
	scan_batch_free(&sb);
	backend_close(b);
out:
	free(seen);
}

/* 6 backends x 20 pipelined SETs of 64 KiB in one run, then 120 GETs in one
 * run. */
static void
test_parallel(const char *label, const char *const addrs[6],
    const char *const ns[6])
{
	enum { NB = 6, PER = 20, LEN = 64 * 1024 };
	struct bop *ops = calloc(NB * PER, sizeof(*ops));
	struct shard_key keys[NB * PER];
	uint8_t kb[NB * PER][8], *vals[NB * PER];
	struct backend *b[NB] = { 0 };
	size_t i, bad = 0, failed;
	struct err e;

	for (i = 0; i < NB; i++)
		if ((b[i] = open_be(addrs[i], ns[i], NULL, NS_SEQUENTIAL,
		    &e)) == NULL) {
			t_fail(__FILE__, __LINE__, "%s: open %s: %s", label,
			    addrs[i], e.msg);
			goto out;
		}
	for (i = 0; i < NB * PER; i++) {
		vals[i] = pattern(LEN, (unsigned)(1000 + i));
		op_init(&ops[i], b[i % NB], BOP_SEQ_SET);
		ops[i].val = vals[i];
		ops[i].vallen = LEN;
	}
	failed = backend_run(ops, NB * PER, TMO);
	T_CHECK(failed == 0, "%s: parallel SET: %zu failed: %s", label, failed,
	    ops[0].err.msg);
	for (i = 0; i < NB * PER; i++) {
		keys[i] = ops[i].newkey;
		if (i >= NB && keys[i].id <= keys[i - NB].id)
			bad++;
	}
	T_CHECK(bad == 0, "%s: pipelined keys not increasing per backend",
	    label);
	for (i = 0; i < NB * PER; i++) {
		op_init(&ops[i], b[i % NB], BOP_GET);
		ops[i].key = kb[i];
		ops[i].keylen = shard_key_bytes(&keys[i], kb[i]);
	}
	failed = backend_run(ops, NB * PER, TMO);
	T_CHECK(failed == 0, "%s: parallel GET: %zu failed: %s", label, failed,
	    ops[0].err.msg);
	for (i = 0, bad = 0; i < NB * PER; i++) {
		if (ops[i].rc != 0 || ops[i].outlen != LEN ||
		    memcmp(ops[i].out, vals[i], LEN))
			bad++;
		free(ops[i].out);
		free(vals[i]);
	}
	T_CHECK(bad == 0, "%s: %zu parallel GETs returned wrong data", label,
	    bad);
out:
	for (i = 0; i < NB; i++)
		backend_close(b[i]);
	free(ops);
}

/* ------------------------------------------------------------ directory
 * backend */

static int
count_files(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_dir_persistence(const char *addr, const char *base)
{
	struct shard_key k1, k2, k3;
	char path[512];
	struct backend *b;
	struct bop op;
	struct err e;

	if ((b = open_be(addr, "persist", NULL, NS_SEQUENTIAL, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "dir open: %s", e.msg);
		return;
	}
	T_CHECK(seq_set(b, "one", 3, &k1, &e) == 0, "dir SET: %s", e.msg);
	T_CHECK(seq_set(b, "two", 3, &k2, &e) == 0, "dir SET: %s", e.msg);
	backend_close(b);
	/* a new process (or a crash) continues past every id handed out */
	b = open_be(addr, "persist", NULL, NS_SEQUENTIAL, &e);
	T_CHECK(b != NULL && seq_set(b, "three", 5, &k3, &e) == 0 &&
	    k3.id > k2.id, "dir: id after reopen %llu <= %llu",
	    (unsigned long long)k3.id, (unsigned long long)k2.id);
	backend_close(b);
	/* a lost counter is rebuilt from the stored values, a lost stats file
	 * recounted */
	snprintf(path, sizeof(path), "%s/persist/next", base);
	T_CHECK(unlink(path) == 0, "unlink next");
	snprintf(path, sizeof(path), "%s/persist/stats", base);
	T_CHECK(unlink(path) == 0, "unlink stats");
	b = open_be(addr, "persist", NULL, NS_SEQUENTIAL, &e);
	T_CHECK(b != NULL && seq_set(b, "four", 4, &k1, &e) == 0 &&
	    k1.id > k3.id, "dir: id after losing the counter %llu <= %llu",
	    (unsigned long long)k1.id, (unsigned long long)k3.id);
	op_init(&op, b, BOP_NSINFO);
	T_CHECK(run1(&op, TMO) == 0 && op.info.entries == 4 &&
	    op.info.data_size_bytes == 15,
	    "dir: recounted %llu entries, %llu bytes",
	    (unsigned long long)op.info.entries,
	    (unsigned long long)op.info.data_size_bytes);
	T_CHECK(get_check(b, &k2, (const uint8_t *)"two", 3) == 0,
	    "dir GET after reopen");
	snprintf(path, sizeof(path), "%s/persist/tmp", base);
	T_CHECK(count_files(path) == 0, "dir: temporary files left behind");
	snprintf(path, sizeof(path), "%s/persist/%016llx", base,
	    (unsigned long long)k2.id);
	T_CHECK(access(path, F_OK) == 0, "dir: value file %s", path);
	backend_close(b);
}

/* One batch of large SETs over two namespaces, one of which refuses them
 * (the wrong mode): the values are written before the first fsync
 * (dir_write_early), each lands whole, and the refused one leaves nothing in
 * tmp/. */
static void
test_dir_batch(const char *addr, const char *base)
{
	enum { N = 4, LEN = 300000 };
	struct backend *seq, *user;
	struct bop ops[N + 1];
	uint8_t *val[N];
	char path[512];
	struct err e;
	int i, ok = 1;

	seq = open_be(addr, "batch", NULL, NS_SEQUENTIAL, &e);
	user = open_be(addr, "batch-user", NULL, NS_USERKEY, &e);
	if (seq == NULL || user == NULL) {
		t_fail(__FILE__, __LINE__, "dir open: %s", e.msg);
		return;
	}
	for (i = 0; i < N; i++) {
		val[i] = pattern(LEN + (size_t)i, (unsigned)i + 7);
		op_init(&ops[i], seq, BOP_SEQ_SET);
		ops[i].val = val[i];
		ops[i].vallen = LEN + (size_t)i;
	}
	op_init(&ops[N], user, BOP_SEQ_SET);
	ops[N].val = val[0];
	ops[N].vallen = LEN;
	backend_run(ops, N + 1, TMO);
	for (i = 0; i < N; i++)
		ok = ok && ops[i].rc == 0 && get_check(seq, &ops[i].newkey,
		    val[i], LEN + (size_t)i) == 0;
	T_CHECK(ok, "dir: a batch of large SETs lands whole");
	T_CHECK(ops[N].rc == -1, "dir: ... the SET the namespace's mode "
	    "refuses fails");
	snprintf(path, sizeof(path), "%s/batch-user/tmp", base);
	T_CHECK(count_files(path) == 0, "dir: ... and leaves no file in tmp/");
	snprintf(path, sizeof(path), "%s/batch/tmp", base);
	T_CHECK(count_files(path) == 0, "dir: ... nor do the others");
	for (i = 0; i < N; i++)
		free(val[i]);
	backend_close(seq);
	backend_close(user);
}

/* What no store wrote, in a value's place: a FIFO (whose open would wait for
 * a writer) and a file larger than any value (read whole, it could take all
 * the memory). A GET of either fails at once, saying what the file is. */
static void
test_dir_strangers(struct backend *b, const char *base)
{
	char path[600];
	struct bop op;
	int64_t t0;
	int fd;

	snprintf(path, sizeof(path), "%s/default/%s", base, "706c61696e");
	if (key_op(b, BOP_KEY_SET, "plain", "v", 1, &op) != 0 ||
	    unlink(path) != 0 || mkfifo(path, 0600) != 0) {
		T_CHECK(0, "dir: a FIFO in the place of %s: %s", path,
		    op.err.msg[0] ? op.err.msg : strerror(errno));
		return;
	}
	t0 = now_ms();
	T_CHECK(key_op(b, BOP_GET, "plain", NULL, 0, &op) == -1 &&
	    strstr(op.err.msg, "not a regular file") && now_ms() - t0 < 2000,
	    "dir: GET of a FIFO: %s", op.err.msg);
	free(op.out);
	if (unlink(path) != 0 ||
	    (fd = open(path, O_WRONLY | O_CREAT, 0600)) < 0) {
		T_CHECK(0, "dir: a large file in the place of %s: %s", path,
		    strerror(errno));
		return;
	}
	T_CHECK(ftruncate(fd, (off_t)ZDB_VALUE_MAX + 1) == 0, "truncate %s",
	    path);
	close(fd);
	T_CHECK(key_op(b, BOP_GET, "plain", NULL, 0, &op) == -1 &&
	    strstr(op.err.msg, "too large") && op.out == NULL,
	    "dir: GET of a file over 8 MiB: %s", op.err.msg);
	free(op.out);
	T_CHECK(key_op(b, BOP_DEL, "plain", NULL, 0, &op) == 0,
	    "dir: DEL of it: %s", op.err.msg);
}

static void
test_dir_errors(const char *addr, const char *base)
{
	char key[200], missing[600];
	struct backend *b;
	struct bop op;
	struct err e;

	snprintf(missing, sizeof(missing), "dir:%s/not-there", base);
	T_CHECK(open_be(missing, "x", NULL, NS_USERKEY, &e) == NULL &&
	    strstr(e.msg, "not-there") && strstr(e.msg, "No such file"),
	    "dir: missing directory: %s", e.msg);
	T_CHECK(open_be(addr, "..", NULL, NS_USERKEY, &e) == NULL &&
	    strstr(e.msg, "namespace"), "dir: bad namespace: %s", e.msg);
	if ((b = open_be(addr, NULL, NULL, NS_USERKEY, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "dir: default namespace: %s", e.msg);
		return;
	}
	T_CHECK(strstr(backend_name(b), "/default") != NULL, "dir name %s",
	    backend_name(b));
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	T_CHECK(key_op(b, BOP_KEY_SET, key, "v", 1, &op) == -1 &&
	    strstr(op.err.msg, backend_name(b)), "dir: long key: %s",
	    op.err.msg);
	op_init(&op, b, BOP_SEQ_SET);
	op.val = "x";
	op.vallen = 1;
	T_CHECK(run1(&op, TMO) == -1 && strstr(op.err.msg, "user-key"),
	    "dir: SEQ_SET on a user-key namespace: %s", op.err.msg);
	op_init(&op, b, BOP_PING);
	T_CHECK(run1(&op, TMO) == 0, "dir PING: %s", op.err.msg);
	test_dir_strangers(b, base);
	backend_close(b);
}

/* A worker's pool keeps a dir: backend across jobs, and opens it again when
 * its directory was replaced: a value never goes to a directory nobody finds
 * any more. */
static void
test_pool_dir(const char *addr, const char *base)
{
	char ns[600], old[600];
	struct backend_ci ci;
	struct backend *b1, *b2;
	struct shard_key k;
	struct pool p;
	struct err e;

	if (make_ci(&ci, addr, "kept", NULL) < 0)
		return;
	pool_init(&p, TMO);
	b1 = pool_get(&p, &ci, NS_SEQUENTIAL, &e);
	pool_next_job(&p);
	b2 = pool_get(&p, &ci, NS_SEQUENTIAL, &e);
	T_CHECK(b1 != NULL && b1 == b2, "dir pool: kept across jobs");
	snprintf(ns, sizeof(ns), "%s/kept", base);
	snprintf(old, sizeof(old), "%s/kept-old", base);
	T_CHECK(rename(ns, old) == 0 && mkdir(ns, 0700) == 0,
	    "dir pool: replace the namespace directory");
	pool_next_job(&p);
	b2 = pool_get(&p, &ci, NS_SEQUENTIAL, &e);
	T_CHECK(b2 != NULL && seq_set(b2, "new", 3, &k, &e) == 0,
	    "dir pool: SET after the directory was replaced: %s", e.msg);
	T_CHECK(count_files(ns) >= 3 && count_files(old) == 4,
	    "dir pool: the value went to the new directory (%d files), not "
	    "the old one (%d)", count_files(ns), count_files(old));
	/* a failure lasts for its job only */
	pool_fail(&p, &ci, NS_SEQUENTIAL, NULL);
	T_CHECK(pool_get(&p, &ci, NS_SEQUENTIAL, &e) == NULL,
	    "dir pool: failed for the rest of the job");
	pool_next_job(&p);
	T_CHECK(pool_get(&p, &ci, NS_SEQUENTIAL, &e) != NULL,
	    "dir pool: used again in the next job: %s", e.msg);
	pool_free(&p);
	ci_free(&ci);
}

static void
test_dir(void)
{
	static const char *const ns[6] = { "p0", "p1", "p2", "p3", "p4", "p5" };
	const char *addrs[6];
	char base[300], addr[320];
	int i;

	snprintf(base, sizeof(base), "%s/dir", tmproot);
	if (mkdir(base, 0700) < 0) {
		t_fail(__FILE__, __LINE__, "mkdir %s", base);
		return;
	}
	snprintf(addr, sizeof(addr), "dir:%s", base);
	test_seq("dir", addr, "data1");
	test_mode_mismatch("dir", addr, "data1", NS_USERKEY);
	test_userkey("dir", addr, "meta1");
	test_mode_mismatch("dir", addr, "meta1", NS_SEQUENTIAL);
	test_scan("dir", addr, "scan", 600, 3);
	for (i = 0; i < 6; i++)
		addrs[i] = addr;
	test_parallel("dir", addrs, ns);
	test_dir_persistence(addr, base);
	test_dir_batch(addr, base);
	test_dir_errors(addr, base);
	test_pool_dir(addr, base);
}

/* ------------------------------------------------------------ 0-db servers */

struct zsrv {
	const char *bin;
	int is_double;
	const char *mode;	/* "seq", "user" */
	char dir[300];
	int port;		/* TCP, or 0 */
	char sock[320];		/* unix socket, or "" */
	char addr[340];		/* as the config writes it */
	pid_t pid;
};

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static redisContext *
zsrv_connect(const struct zsrv *s)
{
	struct timeval tv = { 1, 0 };

	if (s->sock[0])
		return redisConnectUnixWithTimeout(s->sock, tv);
	return redisConnectWithTimeout("127.0.0.1", s->port, tv);
}

static int
zsrv_wait(struct zsrv *s)
{
	redisContext *c;
	int i;

	for (i = 0; i < 200; i++) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			return -1;
		if ((c = zsrv_connect(s)) != NULL && c->err == 0) {
			redisFree(c);
			return 0;
		}
		redisFree(c);
		usleep(50 * 1000);
	}
	return -1;
}

static void
zsrv_exec(const struct zsrv *s)
{
	char port[16], data[340], index[340], log[340];
	const char *argv[20];
	int n = 0, fd;

	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(index, sizeof(index), "%s/index", s->dir);
	snprintf(log, sizeof(log), "%s/log", s->dir);
	argv[n++] = s->bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--port";
	argv[n++] = port;
	/* the double keeps a journal too: each server its own */
	argv[n++] = "--data";
	argv[n++] = data;
	argv[n++] = "--index";
	argv[n++] = index;
	if (!s->is_double) {
		argv[n++] = "--datasize";
		argv[n++] = "1M";
	}
	if (s->mode) {
		argv[n++] = "--mode";
		argv[n++] = s->mode;
	}
	if (s->sock[0]) {
		argv[n++] = "--socket";
		argv[n++] = s->sock;
	}
	argv[n] = NULL;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execv(s->bin, (char *const *)(uintptr_t)argv);
	_exit(127);
}

static int
zsrv_start(struct zsrv *s)
{
	if (nchildren == MAX_CHILDREN)
		return -1;
	if (s->sock[0])
		unlink(s->sock);
	if ((s->pid = fork()) < 0)
		return -1;
	if (s->pid == 0)
		zsrv_exec(s);
	children[nchildren++] = s->pid;
	if (zsrv_wait(s) < 0) {
		t_fail(__FILE__, __LINE__, "%s did not start (see %s/log)",
		    s->bin, s->dir);
		return -1;
	}
	return 0;
}

static void
zsrv_kill(struct zsrv *s)
{
	int i;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	for (i = 0; i < nchildren; i++)
		if (children[i] == s->pid)
			children[i] = children[--nchildren];
}

static int
zsrv_init(struct zsrv *s, const char *bin, int is_double, const char *label,
    const char *name, const char *mode, int use_unix)
{
	memset(s, 0, sizeof(*s));
	s->bin = bin;
	s->is_double = is_double;
	s->mode = mode;
	snprintf(s->dir, sizeof(s->dir), "%s/%s-%s", tmproot, label, name);
	if (mkdir(s->dir, 0700) < 0)
		return -1;
	s->port = free_port();
	if (use_unix) {
		snprintf(s->sock, sizeof(s->sock), "%s/zdb.sock", s->dir);
		snprintf(s->addr, sizeof(s->addr), "unix:%s", s->sock);
	} else
		snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d", s->port);
	return zsrv_start(s);
}

/* An admin command on a fresh connection, e.g. zadmin(s, "NSNEW", "x",
 * NULL). */
static int
zadmin(const struct zsrv *s, const char *cmd, ...)
{
	const char *argv[8];
	redisContext *c;
	redisReply *r;
	va_list ap;
	int argc = 0, rc = -1;

	argv[argc++] = cmd;
	va_start(ap, cmd);
	while (argc < 8 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	if ((c = zsrv_connect(s)) == NULL || c->err) {
		redisFree(c);
		return -1;
	}
	r = redisCommandArgv(c, argc, argv, NULL);
	if (r != NULL && r->type != REDIS_REPLY_ERROR)
		rc = 0;
	else
		t_fail(__FILE__, __LINE__, "%s %s: %s", cmd, argv[1],
		    r ? r->str : c->errstr);
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

/* Values on both sides of the size read without hiredis (ZBULK_MIN), up to
 * 0-db's largest, and missing keys among them, in one pipeline, three rounds
 * on one connection; on the double, with every reply cut where a reader may
 * trip (the chop fault), each reply cut each way in turn (10 replies a round,
 * 3 ways). */
static void
test_values_cut(const char *label, const struct zsrv *s, const char *ns)
{
	static const size_t lens[] = { 10, ZBULK_MIN - 1, ZBULK_MIN,
	    ZBULK_MIN + 1, 300000, ZDB_PIECE_MAX, ZDB_PIECE_MAX + 7,
	    ZBULK_MAX };
	enum { NV = sizeof(lens) / sizeof(lens[0]), NOPS = NV + 2 };
	struct shard_key k[NOPS];
	struct bop ops[NOPS];
	uint8_t *v[NV], kb[NOPS][8];
	struct backend *b;
	struct err e;
	size_t i, j, which[NOPS];
	int round, ok;

	if ((b = open_be(s->addr, ns, NULL, NS_SEQUENTIAL, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open %s: %s", label, s->addr,
		    e.msg);
		return;
	}
	for (i = 0; i < NV; i++) {
		v[i] = pattern(lens[i], 40 + (unsigned)i);
		T_CHECK(seq_set(b, v[i], lens[i], &k[i], &e) == 0,
		    "%s: SET of %zu bytes: %s", label, lens[i], e.msg);
	}
	k[NV] = k[NV + 1] = (struct shard_key){ KEY_V2, 999999 };
	if (s->is_double)
		zadmin(s, "XFAULT", "chop", NULL);
	for (round = 0; round < 3; round++) {
		memset(ops, 0, sizeof(ops));
		/* the missing keys after the first value and before the last */
		for (i = 0; i < NOPS; i++) {
			j = i == 1 ? NV : i == NOPS - 2 ? NV + 1 :
			    i - (i > 1) - (i > NOPS - 2);
			ops[i].b = b;
			ops[i].kind = BOP_GET;
			ops[i].key = kb[i];
			ops[i].keylen = shard_key_bytes(&k[j], kb[i]);
			which[i] = j;
		}
		backend_run(ops, NOPS, TMO);
		for (ok = 1, i = 0; i < NOPS; i++) {
			j = which[i];
			if (j >= NV)
				ok &= ops[i].rc == 1 && ops[i].out == NULL;
			else
				ok &= ops[i].rc == 0 &&
				    ops[i].outlen == lens[j] &&
				    memcmp(ops[i].out, v[j], lens[j]) == 0;
			free(ops[i].out);
		}
		T_CHECK(ok, "%s: round %d of %d pipelined GETs of values of 10 "
		    "B to 8 MiB and missing keys%s", label, round + 1, NOPS,
		    s->is_double ? ", every reply cut" : "");
	}
	if (s->is_double)
		zadmin(s, "XFAULT", "none", NULL);
	for (i = 0; i < NV; i++)
		free(v[i]);
	backend_close(b);
}

static void
test_password(const char *label, const struct zsrv *u)
{
	struct backend *b;
	struct bop op;
	struct err e;

	if (zadmin(u, "NSNEW", "secret", NULL) < 0 ||
	    zadmin(u, "NSSET", "secret", "password", "pw1", NULL) < 0 ||
	    zadmin(u, "NSSET", "secret", "public", "0", NULL) < 0)
		return;
	b = open_be(u->addr, "secret", "pw1", NS_USERKEY, &e);
	T_CHECK(b != NULL, "%s: good password: %s", label, e.msg);
	if (b != NULL) {
		T_CHECK(key_op(b, BOP_KEY_SET, "k", "v", 1, &op) == 0,
		    "%s: SET with password: %s", label, op.err.msg);
		backend_close(b);
	}
	b = open_be(u->addr, "secret", "wrong", NS_USERKEY, &e);
	T_CHECK(b == NULL && strstr(e.msg, "Access denied") &&
	    strstr(e.msg, "secret") && strstr(e.msg, u->addr),
	    "%s: bad password: %s", label, e.msg);
	backend_close(b);
	b = open_be(u->addr, "secret", NULL, NS_USERKEY, &e);
	T_CHECK(b == NULL && strstr(e.msg, "Namespace protected and private"),
	    "%s: no password: %s", label, e.msg);
	backend_close(b);
	b = open_be(u->addr, "nosuchns", NULL, NS_USERKEY, &e);
	T_CHECK(b == NULL && strstr(e.msg, "Namespace not found"),
	    "%s: missing namespace: %s", label, e.msg);
	backend_close(b);
}

static void
test_full(const char *label, const struct zsrv *s)
{
	uint8_t *v = pattern(2000, 3);
	struct shard_key k;
	struct backend *b;
	struct err e;

	if (zadmin(s, "NSNEW", "full", NULL) < 0 ||
	    zadmin(s, "NSSET", "full", "maxsize", "1000", NULL) < 0)
		goto out;
	if ((b = open_be(s->addr, "full", NULL, NS_SEQUENTIAL, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open full: %s", label, e.msg);
		goto out;
	}
	T_CHECK(seq_set(b, v, 2000, &k, &e) == -1 &&
	    strstr(e.msg, backend_name(b)) && strstr(e.msg, "No space left") &&
	    strstr(e.msg, "maxsize"), "%s: full namespace: %s", label, e.msg);
	T_CHECK(seq_set(b, v, 500, &k, &e) == 0, "%s: small SET still fits: %s",
	    label, e.msg);
	backend_close(b);
out:
	free(v);
}

/* A server of one connection, on a unix socket under tmproot, that answers
 * as serve() says and then reads until the client goes; writes its address
 * to addr. Returns its pid, or -1. */
static pid_t
script_server(const char *name, void (*serve)(int), char *addr, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[256];
	pid_t pid;
	int l, c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", tmproot, name);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(l, 1) == -1) {
		T_CHECK(0, "%s: listening socket: %s", name, strerror(errno));
		return -1;
	}
	if ((pid = fork()) == 0) {
		if ((c = accept(l, NULL, NULL)) != -1) {
			serve(c);
			while (read(c, buf, sizeof(buf)) > 0)
				;
		}
		_exit(0);
	}
	close(l);
	snprintf(addr, len, "unix:%s", sa.sun_path);
	return pid;
}

static void
script_end(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void
write_str(int c, const char *s, size_t n)
{
	ssize_t w;

	for (; n > 0; s += w, n -= (size_t)w)
		if ((w = write(c, s, n)) <= 0)
			return;
}

/* Reads until what the client sent holds word. */
static void
read_until(int c, const char *word)
{
	char buf[4096];
	size_t have = 0;
	ssize_t r;

	while (have < sizeof(buf) - 1 &&
	    (r = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)r;
		buf[have] = '\0';
		if (memmem(buf, have, word, strlen(word)) != NULL)
			return;
	}
}

static void
serve_huge_array(int c)
{
	static const char answer[] = "+PONG\r\n*1700000000\r\n";

	write_str(c, answer, sizeof(answer) - 1);
}

/* A server that answers PING, then announces an array of 1.7e9 elements:
 * the client refuses it at once, allocating nothing for it (fuzz_zdb found
 * hiredis allocating 13 GB for the header alone). */
static void
test_huge_array(void)
{
	struct backend_ci ci;
	struct backend *b;
	struct err e = { "" };
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	pid_t pid;

	if ((pid = script_server("huge", serve_huge_array, addr,
	    sizeof(addr))) < 0)
		return;
	memset(&ci, 0, sizeof(ci));
	zaddr_parse(addr, &ci.addr, &e);
	b = backend_open(&ci, NS_SEQUENTIAL, 5000, &e);
	T_CHECK(b == NULL && strstr(e.msg, "more than 1048576 array elements"),
	    "huge array: %s", b ? "accepted" : e.msg);
	if (b != NULL)
		backend_close(b);
	script_end(pid);
}

/* How serve_get answers the GET, after opening like 0-db (PING, NSINFO of a
 * user-key namespace): a value of ZBULK_MIN bytes that ends in "XY", not
 * CRLF; a status line "$<ZBULK_MIN>" with such a value after it, the first
 * byte of the line sent alone; the header of a value of 10^10 bytes, and
 * bytes until the client goes; or an array of nine values of 8 MiB, more
 * than a 0-db reply holds. */
enum get_answer { GET_BAD_END, GET_STATUS_DOLLAR, GET_HUGE, GET_ARRAY };
static enum get_answer get_answer;

static void
serve_get(int c)
{
	char head[64];
	char *v = malloc(ZBULK_MIN + 2);
	int n;

	read_until(c, "NSINFO");
	n = snprintf(head, sizeof(head), "+PONG\r\n$%zu\r\n",
	    sizeof(nsinfo_test) - 1);
	write_str(c, head, (size_t)n);
	write_str(c, nsinfo_test, sizeof(nsinfo_test) - 1);
	write_str(c, "\r\n", 2);
	read_until(c, "GET");
	if (get_answer == GET_ARRAY) {
		free(v);
		if ((v = malloc(ZDB_VALUE_MAX)) == NULL)
			return;
		memset(v, 'v', ZDB_VALUE_MAX);
		write_str(c, "*9\r\n", 4);
		for (n = 0; n < 9; n++) {
			snprintf(head, sizeof(head), "$%u\r\n", ZDB_VALUE_MAX);
			write_str(c, head, strlen(head));
			write_str(c, v, ZDB_VALUE_MAX);
			write_str(c, "\r\n", 2);
		}
		free(v);
		return;
	}
	if (get_answer == GET_HUGE) {
		write_str(c, "$9999999999\r\n", 13);
		if (v != NULL) {
			memset(v, 'v', ZBULK_MIN);
			while (write(c, v, ZBULK_MIN) > 0)
				;
		}
		free(v);
		return;
	}
	if (get_answer == GET_STATUS_DOLLAR) {
		write_str(c, "+", 1);
		usleep(50 * 1000);
	}
	n = snprintf(head, sizeof(head), "$%d\r\n", ZBULK_MIN);
	write_str(c, head, (size_t)n);
	if (v != NULL) {
		memset(v, 'v', ZBULK_MIN);
		memcpy(v + ZBULK_MIN, get_answer == GET_BAD_END ? "XY" : "\r\n",
		    2);
		write_str(c, v, ZBULK_MIN + 2);
	}
	free(v);
}

/* A GET answered as get_answer says fails with a message holding want,
 * and hands nothing over: a large value read without hiredis must end as
 * RESP says, and a reply hiredis has begun is not taken for one. */
static void
test_get_answer(enum get_answer how, const char *sock, const char *name,
    const char *want)
{
	struct backend_ci ci;
	struct backend *b;
	struct bop op;
	struct err e = { "" };
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	pid_t pid;

	get_answer = how;
	if ((pid = script_server(sock, serve_get, addr, sizeof(addr))) < 0)
		return;
	memset(&ci, 0, sizeof(ci));
	zaddr_parse(addr, &ci.addr, &e);
	if ((b = backend_open(&ci, NS_USERKEY, 5000, &e)) == NULL)
		T_CHECK(0, "%s: open: %s", name, e.msg);
	else {
		op_init(&op, b, BOP_GET);
		op.key = "k";
		op.keylen = 1;
		T_CHECK(run1(&op, 5000) < 0 && op.out == NULL &&
		    strstr(op.err.msg, want), "%s: rc %d: %s", name, op.rc,
		    op.err.msg);
		free(op.out);
		backend_close(b);
	}
	script_end(pid);
}

static void
test_dead(const char *label)
{
	char addr[400];
	struct err e;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	T_CHECK(open_be(addr, "x", NULL, NS_SEQUENTIAL, &e) == NULL &&
	    strstr(e.msg, "Connection refused") && strstr(e.msg, addr),
	    "%s: dead server: %s", label, e.msg);
	snprintf(addr, sizeof(addr), "unix:%s/nobody.sock", tmproot);
	T_CHECK(open_be(addr, "x", NULL, NS_USERKEY, &e) == NULL &&
	    strstr(e.msg, "No such file") && strstr(e.msg, "nobody.sock"),
	    "%s: dead unix server: %s", label, e.msg);
}

/* A stopped server: the op times out on time, and works again once it
 * resumes. */
static void
test_hung(const char *label, const struct zsrv *s)
{
	struct shard_key k, k0 = { KEY_V2, 0 };
	uint8_t kb[8];
	struct backend *b;
	struct bop op;
	struct err e;
	int64_t t0, ms;

	if ((b = open_be(s->addr, "data1", NULL, NS_SEQUENTIAL, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open: %s", label, e.msg);
		return;
	}
	T_CHECK(seq_set(b, "before", 6, &k, &e) == 0, "%s: SET: %s", label,
	    e.msg);
	kill(s->pid, SIGSTOP);
	op_init(&op, b, BOP_GET);
	op.key = kb;
	op.keylen = shard_key_bytes(&k0, kb);
	t0 = now_ms();
	run1(&op, 500);
	ms = now_ms() - t0;
	T_CHECK(op.rc == -1 && strstr(op.err.msg, "timeout after 500 ms") &&
	    strstr(op.err.msg, backend_name(b)) &&
	    strstr(op.err.msg, "GET key 0x0000000000000000"),
	    "%s: hung server: %s", label, op.err.msg);
	T_CHECK(ms >= 450 && ms < 1500, "%s: timed out after %lld ms", label,
	    (long long)ms);
	kill(s->pid, SIGCONT);
	T_CHECK(get_check(b, &k, (const uint8_t *)"before", 6) == 0,
	    "%s: works again after the server resumed", label);
	backend_close(b);
}

/* The server restarts under an open backend: the next op reconnects. */
static void
test_restart(const char *label, struct zsrv *s)
{
	struct backend *b;
	struct bop op;
	struct err e;

	if ((b = open_be(s->addr, "meta1", NULL, NS_USERKEY, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open: %s", label, e.msg);
		return;
	}
	zsrv_kill(s);
	op_init(&op, b, BOP_PING);
	T_CHECK(run1(&op, TMO) == -1 && strstr(op.err.msg, backend_name(b)),
	    "%s: PING a dead server: %s", label, op.err.msg);
	if (zsrv_start(s) == 0) {
		T_CHECK(key_op(b, BOP_KEY_SET, "/after/restart", "x", 1,
		    &op) == 0, "%s: SET after restart: %s", label, op.err.msg);
		T_CHECK(key_op(b, BOP_GET, "/after/restart", NULL, 0, &op) == 0,
		    "%s: GET after restart: %s", label, op.err.msg);
		free(op.out);
	}
	backend_close(b);
}

/* A pool kept across jobs: connections stay, opens read NSINFO once, an
 * idle connection expires, a failure lasts one job, the health table's
 * invalidation reconnects, and a server that restarted between jobs is used
 * again. Backends are opened all at once, a dead one failing alone. */
/* key_op with the client's debug log caught in log (a string). */
static int
logged_op(struct backend *b, enum bop_kind kind, const char *key,
    const char *val, struct bop *op, char log[1024])
{
	char path[256], *text;
	int rc;

	snprintf(path, sizeof(path), "%s/client.log", t_tmpdir());
	unlink(path);
	log_init(path, 1);
	rc = key_op(b, kind, key, val, strlen(val), op);
	log_init(NULL, 0);
	text = t_read_file(path, NULL);
	snprintf(log, 1024, "%s", text ? text : "(no log)");
	free(text);
	return rc;
}

static void
test_pool(const char *label, struct zsrv *s)
{
	const struct backend_ci *cis[2];
	struct backend_ci ci, dead;
	struct backend *b1, *b2;
	const struct nsinfo *ni;
	uint64_t room;
	char addr[64];
	struct pool p;
	struct bop op;
	struct err e;
	char log[1024];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	if (make_ci(&ci, s->addr, "meta1", NULL) < 0 ||
	    make_ci(&dead, addr, "x", NULL) < 0)
		return;
	pool_init(&p, TMO);
	cis[0] = &ci, cis[1] = &dead;
	pool_open_all(&p, cis, 2, NS_USERKEY);
	T_CHECK((ni = pool_known_space(&p, &ci, NS_USERKEY, UINT64_MAX)) !=
	    NULL && pool_is_failed(&p, &dead, NS_USERKEY) &&
	    strstr(pool_entry(&p, &dead, NS_USERKEY)->why.msg, addr),
	    "%s pool: opened at once, the dead one failed", label);
	b1 = pool_get(&p, &ci, NS_USERKEY, &e);
	room = ni != NULL ? nsinfo_free_space(ni) : 0;
	pool_info_spent(&p);
	T_CHECK(pool_known_space(&p, &ci, NS_USERKEY, room) == NULL &&
	    pool_known_space(&p, &ci, NS_USERKEY, UINT64_MAX) == NULL,
	    "%s pool: the NSINFO of the open serves one store in full", label);
	T_CHECK(room < POOL_SPACE_FLOOR * 2 ||
	    pool_known_space(&p, &ci, NS_USERKEY, 4096) != NULL,
	    "%s pool: ... and later ones that need little of it", label);
	pool_space_take(&p, &ci, NS_USERKEY, room / 2);
	T_CHECK(room < POOL_SPACE_FLOOR * 2 ||
	    ((ni = pool_known_space(&p, &ci, NS_USERKEY, 4096)) != NULL &&
	    nsinfo_free_space(ni) == room - room / 2),
	    "%s pool: what a store takes is counted", label);
	pool_entry(&p, &ci, NS_USERKEY)->space_ms -= POOL_SPACE_TTL_MS;
	T_CHECK(pool_known_space(&p, &ci, NS_USERKEY, 4096) == NULL,
	    "%s pool: ... until it is %d ms old", label, POOL_SPACE_TTL_MS);
	pool_next_job(&p);
	b2 = pool_get(&p, &ci, NS_USERKEY, &e);
	T_CHECK(b1 != NULL && b1 == b2 && pool_get(&p, &dead, NS_USERKEY,
	    &e) == NULL, "%s pool: kept across jobs", label);
	pool_invalidate(&p, &ci);
	T_CHECK(pool_entry(&p, &ci, NS_USERKEY)->b == NULL &&
	    (b2 = pool_get(&p, &ci, NS_USERKEY, &e)) != NULL &&
	    key_op(b2, BOP_KEY_SET, "/pool/a", "x", 1, &op) == 0,
	    "%s pool: invalidated, reconnected: %s", label, op.err.msg);
	p.idle_ms = -1;
	pool_next_job(&p);
	T_CHECK(pool_entry(&p, &ci, NS_USERKEY)->b == NULL,
	    "%s pool: idle connection expired", label);
	p.idle_ms = POOL_IDLE_MS;
	b1 = pool_get(&p, &ci, NS_USERKEY, &e);
	zsrv_kill(s);
	if (b1 != NULL && zsrv_start(s) == 0) {
		pool_next_job(&p);
		b2 = pool_get(&p, &ci, NS_USERKEY, &e);
		T_CHECK(b2 != NULL && logged_op(b2, BOP_KEY_SET, "/pool/b", "y",
		    &op, log) == 0, "%s pool: the server restarted between jobs: "
		    "%s", label, op.err.msg);
		/* found closed before the request went out, not sent on the
		 * dead connection and sent again */
		T_CHECK(strstr(log, "the idle connection was closed") != NULL &&
		    strstr(log, "the kept connection broke") == NULL,
		    "%s pool: ... its closed connection seen before the "
		    "request, the log says: %s", label, log);
	}
	pool_free(&p);
	ci_free(&ci);
	ci_free(&dead);
}

/* Rounds of 8 GETs pipelined on one connection: 0-db sends each reply on
 * its own with Nagle on, so a client that let the kernel delay its ACKs
 * would wait 40 ms a round for the second reply: a second for 25 rounds.
 * Unstalled they take well under a millisecond each; the bound is half the
 * stall's cost, so that a loaded machine running the other suites beside
 * this one cannot make it fail. */
static void
test_pipeline(const char *label, const char *addr, const char *ns)
{
	static const char *const keys[8] = { "/p/0", "/p/1", "/p/2", "/p/3",
	    "/p/4", "/p/5", "/p/6", "/p/7" };
	struct bop ops[8];
	struct backend *b;
	struct err e;
	int64_t t0;
	int round, i, ok = 1;

	if ((b = open_be(addr, ns, NULL, NS_USERKEY, &e)) == NULL) {
		t_fail(__FILE__, __LINE__, "%s: open %s: %s", label, addr,
		    e.msg);
		return;
	}
	t0 = backend_now_ms();
	for (round = 0; round < 25; round++) {
		memset(ops, 0, sizeof(ops));
		for (i = 0; i < 8; i++) {
			ops[i].b = b;
			ops[i].kind = BOP_GET;
			ops[i].key = keys[i];
			ops[i].keylen = strlen(keys[i]);
		}
		backend_run(ops, 8, 5000);
		for (i = 0; i < 8; i++)
			ok &= ops[i].rc == 1;
	}
	T_CHECK(ok, "%s: 25 rounds of 8 pipelined GETs, all answered", label);
	T_CHECK(backend_now_ms() - t0 < 500, "%s: ... in %lld ms, with no "
	    "delayed-ACK stall between replies", label,
	    (long long)(backend_now_ms() - t0));
	backend_close(b);
}

static void
test_zdb_suite(const char *label, const char *bin, int is_double)
{
	static const char *const pns[6] = { "p0", "p1", "p2", "p3", "p4",
	    "p5" };
	const char *addrs[6];
	struct zsrv seq, user, unx;
	int i;

	if (zsrv_init(&seq, bin, is_double, label, "seq", "seq", 0) < 0 ||
	    zsrv_init(&user, bin, is_double, label, "user", "user", 0) < 0 ||
	    zsrv_init(&unx, bin, is_double, label, "unix", "user", 1) < 0)
		return;
	if (zadmin(&seq, "NSNEW", "data1", NULL) < 0 ||
	    zadmin(&user, "NSNEW", "meta1", NULL) < 0 ||
	    zadmin(&user, "NSNEW", "scan", NULL) < 0 ||
	    zadmin(&unx, "NSNEW", "meta1", NULL) < 0)
		return;
	for (i = 0; i < 6; i++) {
		zadmin(&seq, "NSNEW", pns[i], NULL);
		addrs[i] = seq.addr;
	}
	test_seq(label, seq.addr, "data1");
	test_seq(label, seq.addr, NULL);
	test_values_cut(label, &seq, "data1");
	test_mode_mismatch(label, seq.addr, "data1", NS_USERKEY);
	test_mode_mismatch(label, user.addr, "meta1", NS_SEQUENTIAL);
	test_userkey(label, user.addr, "meta1");
	test_userkey(label, unx.addr, "meta1");
	test_pipeline(label, user.addr, "meta1");
	test_scan(label, user.addr, "scan", 5000, 2);
	test_parallel(label, addrs, pns);
	test_password(label, &user);
	test_full(label, &seq);
	test_dead(label);
	test_restart(label, &unx);
	test_pool(label, &unx);
	test_hung(label, &seq);
}

/* The test double built beside this test (BUILD/zdbd-double for
 * BUILD/tests/test_backend), so that the suite runs against a 0-db-protocol
 * server in every make check; ZDBD_DOUBLE names another one. */
static const char *
double_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("ZDBD_DOUBLE");
	char *slash;
	ssize_t n;

	if (env != NULL)
		return env;
	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 32)) <= 0)
		return NULL;
	path[n] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		return NULL;
	*slash = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		return NULL;
	strcpy(slash, "/zdbd-double");
	return access(path, X_OK) == 0 ? path : NULL;
}

int
main(void)
{
	const char *zdb = getenv("ZDB_BIN"), *dbl = double_bin();

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmproot) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	atexit(cleanup);
	test_nsinfo_parse();
	test_space();
	test_shard_key_bytes();
	test_dir();
	test_huge_array();
	test_get_answer(GET_BAD_END, "badend", "a value that does not end "
	    "with CRLF", "does not end with CRLF");
	test_get_answer(GET_STATUS_DOLLAR, "status", "a status line that "
	    "reads like a value's header", "unexpected");
	test_get_answer(GET_HUGE, "hugeval", "a value of 10^10 bytes",
	    "reply longer than");
	test_get_answer(GET_ARRAY, "array", "an array of nine values of 8 MiB",
	    "reply longer than");
	if (zdb != NULL && *zdb != '\0')
		test_zdb_suite("zdb", zdb, 0);
	else
		printf("ZDB_BIN not set: skipping the real 0-db tests\n");
	if (dbl != NULL && *dbl != '\0')
		test_zdb_suite("double", dbl, 1);
	else
		printf("no zdbd-double beside this test and ZDBD_DOUBLE not "
		    "set: skipping the 0-db test double tests\n");
	return t_finish();
}
