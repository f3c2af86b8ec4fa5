/* Writes the fuzzers' seed inputs into OUT/<harness>/, made at build time: from
 * the golden vectors of tests/vectors/ where they have the format (snappy
 * frames, metadata bincode and stored values), and from the project's own
 * encoders and sample texts where they do not (configs, messages and frames,
 * NSINFO, 0-db reply streams). Nothing is written into tests/vectors/.
 *   mkseeds VECTORS_DIR OUT_DIR */
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hex.h"
#include "msg.h"

int main(int argc, char **argv);

static const char *out_dir;

static void __attribute__((noreturn))
die(const char *what, const char *detail)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, detail);
	exit(1);
}

/* OUT/harness/name holds the bytes of the parts, one after the other. */
static void
seed(const char *harness, const char *name, const void *a, size_t alen,
    const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, harness);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, harness, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    (alen && fwrite(a, 1, alen, f) != alen) ||
	    (blen && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0)
		die("cannot write", path);
}

static cJSON *
load(const char *dir, const char *name)
{
	char path[4096], *text;
	cJSON *j;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (text = malloc((size_t)n + 1)) == NULL ||
	    fread(text, 1, (size_t)n, f) != (size_t)n)
		die("cannot read", path);
	fclose(f);
	text[n] = '\0';
	if ((j = cJSON_Parse(text)) == NULL)
		die("not JSON", path);
	free(text);
	return j;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		die("vector field missing", key);
	return v->valuestring;
}

static uint8_t *
unhex(const char *s, size_t *len)
{
	uint8_t *b;

	*len = strlen(s) / 2;
	if ((b = malloc(*len + 1)) == NULL || hex_decode(b, s, *len) == -1)
		die("bad hex in the vectors", s);
	return b;
}

/* snappy: byte 0 says where the streaming decoder cuts the stream. */
static void
seeds_snappy(const char *dir)
{
	static const char *const sets[] = { "valid", "invalid" };
	cJSON *j = load(dir, "snappy_frames.json");
	const cJSON *x;
	uint8_t cut = 0x80, *b;
	char name[64];
	size_t len, i, n = 0;

	for (i = 0; i < 2; i++)
		cJSON_ArrayForEach(x,
		    cJSON_GetObjectItemCaseSensitive(j, sets[i])) {
			b = unhex(str(x, "framed"), &len);
			snprintf(name, sizeof(name), "%s-%zu", sets[i], n++);
			seed("fuzz_snappy", name, &cut, 1, b, len);
			free(b);
		}
	cJSON_Delete(j);
}

/* metadata: every example's bincode; the stored values of the storage vector
 * with its key, in fuzz_metaval's layout, all four and every pair. */
static void
seeds_meta(const char *dir)
{
	cJSON *j = load(dir, "metadata.json");
	const cJSON *x, *st = cJSON_GetObjectItemCaseSensitive(j, "storage");
	uint8_t *b, *key, hdr[40], *vals[4];
	size_t len, klen, vlen[4], i, n = 0, mask;
	char name[64];

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "examples")) {
		b = unhex(str(x, "bincode"), &len);
		snprintf(name, sizeof(name), "example-%zu", n++);
		seed("fuzz_meta", name, b, len, NULL, 0);
		free(b);
	}
	key = unhex(str(st, "key"), &klen);
	for (i = 0; i < 4; i++)
		vals[i] = unhex(cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(st, "values"),
		    (int)i)->valuestring, &vlen[i]);
	for (mask = 3; mask < 16; mask++) {
		uint8_t all[4096];
		size_t off = 0;

		if (__builtin_popcount((unsigned)mask) < 2 || klen != 32)
			continue;
		memcpy(hdr, key, 32);
		for (i = 0; i < 4; i++) {
			size_t l = mask >> i & 1 ? vlen[i] : 0;

			hdr[32 + 2 * i] = (uint8_t)l;
			hdr[33 + 2 * i] = (uint8_t)(l >> 8);
			if (l && off + l <= sizeof(all)) {
				memcpy(all + off, vals[i], l);
				off += l;
			}
		}
		snprintf(name, sizeof(name), "values-%zx", mask);
		seed("fuzz_metaval", name, hdr, sizeof(hdr), all, off);
	}
	for (i = 0; i < 4; i++)
		free(vals[i]);
	free(key);
	cJSON_Delete(j);
}

/* One message of each type of the table, each field of its kind; as a
 * message (fuzz_msg: byte 0 the direction) and as a frame (fuzz_frame). */
static void
set_field(struct msg *m, const struct msg_field *f)
{
	static const uint8_t bytes[] = { 0x01, 0xab };

	switch (f->kind) {
	case MSG_STR:
		msg_set_str(m, f->name, "/data/a.bin");
		break;
	case MSG_BOOL:
		msg_set_bool(m, f->name, 1);
		break;
	case MSG_INT:
		msg_set_int(m, f->name, 7);
		break;
	case MSG_U64:
		msg_set_u64(m, f->name, 18446744073709551615ULL);
		break;
	case MSG_HEX:
		msg_set_hex(m, f->name, bytes, sizeof(bytes));
		break;
	case MSG_OBJECT:
		msg_set_json(m, f->name, cJSON_CreateObject());
		break;
	case MSG_ARRAY:
		msg_set_json(m, f->name, cJSON_CreateArray());
		break;
	}
}

static void
seeds_messages(void)
{
	static const int frame_dir[] = { [MSG_CLIENT_TO_MASTER] = 0,
	    [MSG_MASTER_TO_CLIENT] = -1, [MSG_MASTER_TO_WORKER] = 2,
	    [MSG_WORKER_TO_MASTER] = 1 };
	const struct msg_def *d;
	const struct msg_field *f;
	struct msg *m;
	struct err e;
	uint8_t hdr[1 + IPC_FRAME_HDR];
	char name[96], *json;
	size_t i, len;

	for (i = 0; (d = msg_table_entry(i)) != NULL; i++) {
		if ((m = msg_new((enum msg_type)i, 1, &e)) == NULL)
			die("msg_new", e.msg);
		for (f = d->fields; f < d->fields + MSG_FIELDS_MAX &&
		    f->name != NULL; f++)
			set_field(m, f);
		if ((json = msg_encode(m, &len, &e)) == NULL) {
			msg_free(m);
			continue;
		}
		snprintf(name, sizeof(name), "%s", d->type);
		hdr[0] = (uint8_t)d->dir;
		seed("fuzz_msg", name, hdr, 1, json, len);
		if (frame_dir[d->dir] >= 0) {
			hdr[0] = (uint8_t)frame_dir[d->dir];
			hdr[1] = (uint8_t)(len >> 24);
			hdr[2] = (uint8_t)(len >> 16);
			hdr[3] = (uint8_t)(len >> 8);
			hdr[4] = (uint8_t)len;
			seed("fuzz_frame", name, hdr, sizeof(hdr), json, len);
		}
		free(json);
		msg_free(m);
	}
}

static const char nsinfo[] =
    "# namespace\nname: default\nentries: 3\npublic: yes\nworm: no\n"
    "locked: no\npassword: no\ndata_size_bytes: 4096\ndata_size_mb: 0.00\n"
    "data_limits_bytes: 1048576\nindex_size_bytes: 180\nindex_size_kb: 0.18\n"
    "next_internal_id: 0x03000000\nmode: %s\nstats_index_io_errors: 0\n"
    "stats_index_io_error_last: 0\nstats_index_faults: 0\n"
    "stats_data_io_errors: 0\nstats_data_io_error_last: 0\n"
    "stats_data_faults: 0\nindex_disk_freespace_bytes: 85271957504\n"
    "index_disk_freespace_mb: 81321.68\n"
    "data_disk_freespace_bytes: 85271957504\n"
    "data_disk_freespace_mb: 81321.68\ndata_path: /data/default\n"
    "data_active: /data/default/d0\nindex_path: /index/default\n"
    "index_active: /index/default/i0\ndata_current_id: 0\n"
    "data_current_offset: 28\n";

/* NSINFO texts, and whole 0-db sessions: open (PING, NSINFO, SELECT) and the
 * replies fuzz_zdb's operations expect, for each mode. */
static void
seeds_zdb(void)
{
	static const char *const ops[2] = {
		/* SET, GET, DEL, NSINFO, PING, GET (missing), SET (error) */
		"$8\r\n\x05\x01\x01\x01\x01\x01\x01\x01\r\n"
		"$5\r\nvalue\r\n+OK\r\n%s+PONG\r\n"
		"$-1\r\n-No space left on this namespace\r\n",
		/* SET, GET, SCAN, DEL, NSINFO, SCAN (end), PING */
		"$1\r\n\x01\r\n$5\r\nvalue\r\n"
		"*2\r\n$2\r\nab\r\n*1\r\n*3\r\n$1\r\n"
		"\x01\r\n:5\r\n:1700000000\r\n-Key not found\r\n%s"
		"-No more data\r\n+PONG\r\n",
	};
	static const char *const modes[2] = { "sequential", "userkey" };
	char text[2048], bulk[2200], *session;
	uint8_t first;
	size_t len;
	int mode, sel, n;

	for (mode = 0; mode < 2; mode++) {
		snprintf(text, sizeof(text), nsinfo, modes[mode]);
		seed("fuzz_nsinfo", modes[mode], text, strlen(text), NULL, 0);
		snprintf(bulk, sizeof(bulk), "$%zu\r\n%s\r\n", strlen(text),
		    text);
		for (sel = 0; sel < 2; sel++) {
			len = strlen(ops[mode]) + 8 + 2 * strlen(bulk) + 16;
			if ((session = malloc(len)) == NULL)
				die("out of", "memory");
			n = snprintf(session, len, "+PONG\r\n%s%s", bulk,
			    sel ? "+OK\r\n" : "");
			n += snprintf(session + n, len - (size_t)n, ops[mode],
			    bulk);
			first = (uint8_t)(mode | sel << 1 | 7 << 2);
			snprintf(text, sizeof(text), "%s%s", modes[mode],
			    sel ? "-select" : "");
			/* the ops' replies hold NUL bytes: count, not strlen */
			seed("fuzz_zdb", text, &first, 1, session, (size_t)n);
			free(session);
		}
	}
}

static const char config[] =
    "minimal_shards = 2\nexpected_shards = 3\nredundant_groups = 0\n"
    "redundant_nodes = 0\nroot = \"/virtualroot\"\n"
    "socket = \"/tmp/zstor.sock\"\n"
    "prometheus_port = 9100\nmax_zdb_data_dir_size = 25600\n\n"
    "[encryption]\nalgorithm = \"AES\"\n"
    "key = \"00000000000000000000000000000000"
    "00000000000000000000000000000000\"\n\n"
    "[compression]\nalgorithm = \"snappy\"\n\n[meta]\ntype = \"zdb\"\n\n"
    "[meta.config]\nprefix = \"someprefix\"\n\n[meta.config.encryption]\n"
    "algorithm = \"AES\"\n"
    "key = \"01010101010101010101010101010101"
    "01010101010101010101010101010101\"\n\n"
    "[[meta.config.backends]]\naddress = \"[2001:db8::1]:9900\"\n"
    "namespace = \"meta\"\npassword = \"secret\"\n\n"
    "[[meta.config.backends]]\naddress = \"10.0.0.1:9900\"\n\n"
    "[[meta.config.backends]]\naddress = \"unix:/run/zdb.sock\"\n\n"
    "[[meta.config.backends]]\naddress = \"dir:/srv/meta\"\n\n"
    "[[groups]]\n"
    "backends = [ { address = \"10.0.0.2:9900\", namespace = 'd' },\n"
    "  { address = \"[::1]:9900\" } ]\n\n[[groups]]\n[[groups.backends]]\n"
    "address = \"dir:/srv/d1\"\n";

static const char toml[] =
    "# every form the reader takes\nbare = 1\n\"quoted key\" = 'literal'\n"
    "dotted.key = true\nhex = 0xdead_beef\noct = 0o17\nbin = 0b101\n"
    "neg = -9_223_372_036_854_775_808\nesc = \"\\t\\n\\u00e9\\U0001F600\\\\\"\n"
    "arr = [ 1, [ \"a\", 'b' ], { x = 1 }, ]\ninline = { a.b = 2, c = [] }\n"
    "[table]\nk = \"v\"\n[[aot]]\nn = 1\n[[aot]]\nn = 2\n"
    "[aot.sub]\nz = false\n";

/* Requests for the metrics endpoint, good and bad. */
static void
seeds_http(void)
{
	static const char *const reqs[][2] = {
		{ "get", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "get10", "GET /metrics HTTP/1.0\r\n\r\n" },
		{ "head", "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "query", "GET /metrics?x=1&y HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "absolute", "GET http://h:9100/metrics HTTP/1.1\r\n\r\n" },
		{ "other", "GET /other HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "post", "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n"
		    "\r\nabc" },
		{ "chunked", "POST /metrics HTTP/1.1\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" },
		{ "pipelined", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n" },
		{ "expect", "GET /metrics HTTP/1.1\r\nExpect: 100-continue"
		    "\r\nContent-Length: 5\r\n\r\nhello" },
		{ "folded", "GET /metrics HTTP/1.1\r\nX: a\r\n b\r\n\r\n" },
		{ "bare_lf", "GET /metrics HTTP/1.1\nHost: x\n\n" },
		{ "junk", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" },
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		seed("fuzz_http", reqs[i][0], reqs[i][1], strlen(reqs[i][1]),
		    NULL, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkseeds VECTORS_DIR OUT_DIR\n");
		return 2;
	}
	out_dir = argv[2];
	(void)mkdir(out_dir, 0755);
	seeds_snappy(argv[1]);
	seeds_meta(argv[1]);
	seeds_messages();
	seeds_zdb();
	seeds_http();
	seed("fuzz_config", "config", config, strlen(config), NULL, 0);
	seed("fuzz_toml", "forms", toml, strlen(toml), NULL, 0);
	seed("fuzz_toml", "config", config, strlen(config), NULL, 0);
	return 0;
}
