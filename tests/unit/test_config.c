/* The config file: upstream's canonical fixture, our extensions, the TOML
 * subset, addresses, and one failing config per rule with its message and
 * line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "t.h"
#include "toml.h"

int main(void);

#define ZERO_KEY \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define ZERO_KEY63 \
	"000000000000000000000000000000000000000000000000000000000000000"
#define ONE_KEY \
	"0101010101010101010101010101010101010101010101010101010101010101"

#define META_BACKEND(port) \
	"[[meta.config.backends]]\n" \
	"address = \"[2a02:1802:5e::dead:beef]:" port "\"\n" \
	"namespace = \"test2\"\n" \
	"password = \"supersecretpass\"\n"

/* upstream's config::tests::decoding text; the encoding test's text only adds a
 * blank line after each [[groups]]. */
static const char canonical_head[] =
	"minimal_shards = 10\n"
	"expected_shards = 15\n"
	"redundant_groups = 1\n"
	"redundant_nodes = 1\n"
	"root = \"/virtualroot\"\n"
	"socket = \"/tmp/zstor.sock\"\n"
	"pid_file = \"/tmp/zstor.pid\"\n"
	"zdbfs_mountpoint = \"/tmp/test\"\n"
	"\n"
	"[encryption]\n"
	"algorithm = \"AES\"\n"
	"key = \"" ZERO_KEY "\"\n"
	"\n"
	"[compression]\n"
	"algorithm = \"snappy\"\n"
	"\n"
	"[meta]\n"
	"type = \"zdb\"\n"
	"\n"
	"[meta.config]\n"
	"prefix = \"someprefix\"\n"
	"\n"
	"[meta.config.encryption]\n"
	"algorithm = \"AES\"\n"
	"key = \"" ONE_KEY "\"\n"
	"\n"
	META_BACKEND("9900") "\n"
	META_BACKEND("9901") "\n"
	META_BACKEND("9902") "\n"
	META_BACKEND("9903") "\n";

static const char canonical_groups[] =
	"[[groups]]\n"
	"[[groups.backends]]\n"
	"address = \"[fe80::1]:9900\"\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[fe80::1]:9900\"\n"
	"namespace = \"test\"\n"
	"\n"
	"[[groups]]\n"
	"[[groups.backends]]\n"
	"address = \"[2a02:1802:5e::dead:babe]:9900\"\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[2a02:1802:5e::dead:beef]:9900\"\n"
	"namespace = \"test2\"\n"
	"password = \"supersecretpass\"\n";

static const char canonical_groups_encoded[] =
	"[[groups]]\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[fe80::1]:9900\"\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[fe80::1]:9900\"\n"
	"namespace = \"test\"\n"
	"\n"
	"[[groups]]\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[2a02:1802:5e::dead:babe]:9900\"\n"
	"\n"
	"[[groups.backends]]\n"
	"address = \"[2a02:1802:5e::dead:beef]:9900\"\n"
	"namespace = \"test2\"\n"
	"password = \"supersecretpass\"\n";

/* A small config that loads; the broken configs below are edits of it. Line
 * numbers are in the comments. */
static const char base_head[] =
	"minimal_shards = 2\n"				/* 1 */
	"expected_shards = 3\n"				/* 2 */
	"redundant_groups = 0\n"			/* 3 */
	"redundant_nodes = 0\n"				/* 4 */
	"socket = \"/tmp/zstor.sock\"\n"		/* 5 */
	"prometheus_port = 9100\n"			/* 6 */
	"\n"						/* 7 */
	"[encryption]\n"				/* 8 */
	"algorithm = \"AES\"\n"				/* 9 */
	"key = \"" ZERO_KEY "\"\n"			/* 10 */
	"\n"						/* 11 */
	"[compression]\n"				/* 12 */
	"algorithm = \"snappy\"\n"			/* 13 */
	"\n"						/* 14 */
	"[meta]\n"					/* 15 */
	"type = \"zdb\"\n"				/* 16 */
	"\n"						/* 17 */
	"[meta.config]\n"				/* 18 */
	"prefix = \"someprefix\"\n"			/* 19 */
	"\n"						/* 20 */
	"[meta.config.encryption]\n"			/* 21 */
	"algorithm = \"AES\"\n"				/* 22 */
	"key = \"" ONE_KEY "\"\n"			/* 23 */
	"\n"						/* 24 */
	"[[meta.config.backends]]\n"			/* 25 */
	"address = \"127.0.0.1:9901\"\n"		/* 26 */
	"[[meta.config.backends]]\n"			/* 27 */
	"address = \"127.0.0.1:9902\"\n"		/* 28 */
	"[[meta.config.backends]]\n"			/* 29 */
	"address = \"127.0.0.1:9903\"\n"		/* 30 */
	"[[meta.config.backends]]\n"			/* 31 */
	"address = \"127.0.0.1:9904\"\n"		/* 32 */
	"\n";						/* 33 */

static const char base_groups[] =
	"[[groups]]\n"					/* 34 */
	"[[groups.backends]]\n"				/* 35 */
	"address = \"[::1]:9900\"\n"			/* 36 */
	"namespace = \"a\"\n"				/* 37 */
	"[[groups.backends]]\n"				/* 38 */
	"address = \"[::1]:9901\"\n"			/* 39 */
	"\n"						/* 40 */
	"[[groups]]\n"					/* 41 */
	"[[groups.backends]]\n"				/* 42 */
	"address = \"10.0.0.1:9900\"\n";		/* 43 */

static char *
concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s == NULL)
		abort();
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* text with the first occurrence of old replaced; a missing old is a test
 * bug. */
static char *
replace(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	size_t head, lo = strlen(old), ln = strlen(new);
	char *s;

	if (at == NULL) {
		fprintf(stderr, "test bug: \"%s\" not in the text\n", old);
		exit(2);
	}
	head = (size_t)(at - text);
	if ((s = malloc(strlen(text) - lo + ln + 1)) == NULL)
		abort();
	memcpy(s, text, head);
	memcpy(s + head, new, ln);
	strcpy(s + head + ln, at + lo);
	return s;
}

static int
parse_text(const char *text, struct config *cfg, struct err *e)
{
	return config_parse(text, strlen(text), "zstor.toml", cfg, e);
}

static const char *
fmt_ci(const struct backend_ci *ci, char *buf, size_t len)
{
	zaddr_format(&ci->addr, buf, len);
	return buf;
}

static int
str_is(const char *got, const char *want)
{
	if (got == NULL || want == NULL)
		return got == want;
	return strcmp(got, want) == 0;
}

static void
check_ci(const struct backend_ci *ci, const char *addr, const char *ns,
    const char *pw, const char *what)
{
	char buf[300];

	fmt_ci(ci, buf, sizeof(buf));
	T_CHECK(strcmp(buf, addr) == 0, "%s: address %s, want %s", what, buf,
	    addr);
	T_CHECK(str_is(ci->ns, ns), "%s: namespace %s, want %s", what,
	    ci->ns ? ci->ns : "(none)", ns ? ns : "(none)");
	T_CHECK(str_is(ci->password, pw), "%s: password %s, want %s", what,
	    ci->password ? ci->password : "(none)", pw ? pw : "(none)");
}

static void
check_canonical_fields(const struct config *cfg)
{
	uint8_t zero[32], ones[32];
	char want[64], what[64];
	int i;

	memset(zero, 0, sizeof(zero));
	memset(ones, 1, sizeof(ones));
	T_CHECK(cfg->minimal_shards == 10 && cfg->expected_shards == 15,
	    "M/N %u/%u", cfg->minimal_shards, cfg->expected_shards);
	T_CHECK(cfg->redundant_groups == 1 && cfg->redundant_nodes == 1,
	    "RG/RN %u/%u", cfg->redundant_groups, cfg->redundant_nodes);
	T_CHECK(str_is(cfg->root, "/virtualroot"), "root %s", cfg->root);
	T_CHECK(str_is(cfg->socket, "/tmp/zstor.sock"), "socket %s",
	    cfg->socket);
	T_CHECK(str_is(cfg->pid_file, "/tmp/zstor.pid"), "pid_file %s",
	    cfg->pid_file);
	T_CHECK(str_is(cfg->zdbfs_mountpoint, "/tmp/test"), "zdbfs_mountpoint");
	T_CHECK(cfg->zdb_data_dir_path == NULL,
	    "zdb_data_dir_path should be absent");
	T_CHECK(!cfg->has_max_zdb_data_dir_size,
	    "max_zdb_data_dir_size should be absent");
	T_CHECK(cfg->prometheus_port == -1, "prometheus_port %d",
	    cfg->prometheus_port);
	T_EQ_MEM(cfg->key, zero, 32, "encryption key");
	T_CHECK(str_is(cfg->meta_prefix, "someprefix"), "prefix %s",
	    cfg->meta_prefix);
	T_EQ_MEM(cfg->meta_key, ones, 32, "meta encryption key");
	for (i = 0; i < META_BACKENDS; i++) {
		snprintf(want, sizeof(want), "[2a02:1802:5e::dead:beef]:990%d",
		    i);
		snprintf(what, sizeof(what), "meta backend %d", i);
		check_ci(&cfg->meta_backends[i], want, "test2",
		    "supersecretpass", what);
	}
	T_CHECK(cfg->ngroups == 2, "ngroups %zu", cfg->ngroups);
	if (cfg->ngroups != 2 || cfg->groups[0].nbackends != 2 ||
	    cfg->groups[1].nbackends != 2) {
		T_CHECK(0, "group sizes wrong");
		return;
	}
	check_ci(&cfg->groups[0].backends[0], "[fe80::1]:9900", NULL, NULL,
	    "g0b0");
	check_ci(&cfg->groups[0].backends[1], "[fe80::1]:9900", "test", NULL,
	    "g0b1");
	check_ci(&cfg->groups[1].backends[0], "[2a02:1802:5e::dead:babe]:9900",
	    NULL, NULL, "g1b0");
	check_ci(&cfg->groups[1].backends[1], "[2a02:1802:5e::dead:beef]:9900",
	    "test2", "supersecretpass", "g1b1");
	T_CHECK(config_nbackends(cfg) == 4, "nbackends %zu",
	    config_nbackends(cfg));
	T_CHECK(ci_equal(&cfg->groups[1].backends[1], &cfg->meta_backends[0]),
	    "same triple should be equal");
	T_CHECK(!ci_equal(&cfg->groups[0].backends[0],
	    &cfg->groups[0].backends[1]), "namespace differs: not equal");
}

/* upstream's fixture parses, but has 4 data backends for 15 shards: validate()
 * rejects it, upstream's and ours alike. */
static void
test_canonical(void)
{
	struct config cfg;
	struct err e;
	char *text = concat(canonical_head, canonical_groups);

	T_CHECK(config_decode(text, strlen(text), "zstor.toml", &cfg, &e) == 0,
	    "canonical decode: %s", e.msg);
	check_canonical_fields(&cfg);
	T_CHECK(config_validate(&cfg, &e) == -1 &&
	    strcmp(e.msg, "zstor.toml:2: expected_shards: insufficient data "
	    "backends, require at least 15, only found 4") == 0,
	    "canonical validate: %s", e.msg);
	config_free(&cfg);
	T_CHECK(cfg.groups == NULL && cfg.path == NULL && cfg.key[0] == 0,
	    "config_free leaves an empty config");

	T_CHECK(parse_text(text, &cfg, &e) == -1 &&
	    strstr(e.msg,
	    "insufficient data backends, require at least 15, only found 4") !=
	    NULL, "parse: %s", e.msg);
	T_CHECK(cfg.groups == NULL && cfg.path == NULL,
	    "failed parse leaves cfg empty");
	free(text);

	/* The encoding test's exact text. */
	text = concat(canonical_head, canonical_groups_encoded);
	T_CHECK(config_decode(text, strlen(text), "zstor.toml", &cfg, &e) == 0,
	    "encoding text decode: %s", e.msg);
	check_canonical_fields(&cfg);
	config_free(&cfg);
	free(text);
}

static char *
canonical_with_groups(unsigned ngroups, unsigned per_group,
    const char *policy_old, const char *policy_new)
{
	char line[128], *text, *next;
	unsigned g, b;

	text = policy_old == NULL ? concat(canonical_head, "") :
	    replace(canonical_head, policy_old, policy_new);
	for (g = 0; g < ngroups; g++) {
		next = concat(text, "[[groups]]\n");
		free(text);
		text = next;
		for (b = 0; b < per_group; b++) {
			snprintf(line, sizeof(line),
			    "[[groups.backends]]\naddress = "
			    "\"10.0.%u.%u:9900\"\nnamespace = \"data\"\n", g,
			    b);
			next = concat(text, line);
			free(text);
			text = next;
		}
	}
	return text;
}

/* Enough backends: loads fully. With upstream's policy (10 of 15, RG=1, RN=1)
 * no spread can survive the losses; config_check_writable says so. */
static void
test_canonical_enough_backends(void)
{
	struct config cfg;
	struct err e;
	char *text;

	text = canonical_with_groups(2, 8, NULL, NULL);
	T_CHECK(parse_text(text, &cfg, &e) == 0, "2x8 groups: %s", e.msg);
	T_CHECK(cfg.ngroups == 2 && config_nbackends(&cfg) == 16 &&
	    cfg.minimal_shards == 10, "2x8 shape");
	if (cfg.ngroups == 2)
		check_ci(&cfg.groups[1].backends[7], "10.0.1.7:9900", "data",
		    NULL, "g1b7");
	T_CHECK(config_check_writable(&cfg, &e) == -1 &&
	    strstr(e.msg, "zstor.toml:3: redundant_groups: unable to find a "
	    "valid configuration due to redundancy settings") != NULL &&
	    strstr(e.msg, "keeps 6,") != NULL, "writable: %s", e.msg);
	config_free(&cfg);
	free(text);

	/* One group may be lost, no per-group losses: three groups of five
	 * work. */
	text = canonical_with_groups(3, 5, "redundant_nodes = 1\n",
	    "redundant_nodes = 0\n");
	T_CHECK(parse_text(text, &cfg, &e) == 0, "3x5 groups: %s", e.msg);
	T_CHECK(config_check_writable(&cfg, &e) == 0, "3x5 writable: %s",
	    e.msg);
	config_free(&cfg);
	free(text);

	/* 8 groups of 2: at most 6 groups, one spare backend each: 6 < 10. */
	text = canonical_with_groups(8, 2, NULL, NULL);
	T_CHECK(parse_text(text, &cfg, &e) == -1 &&
	    strstr(e.msg, "zstor.toml:3: redundant_groups: could not find any "
	    "viable backend distribution") != NULL &&
	    strstr(e.msg, "the best such set has 6") != NULL, "8x2: %s", e.msg);
	free(text);
}

/* Our extensions, upstream's IPv4 form, and the TOML features beyond the
 * canonical layout: comments, quoted keys, literal strings, escapes, dotted
 * keys, inline tables and arrays, unknown keys where upstream ignores them. */
static const char fancy[] =
	"# written by hand\n"
	"minimal_shards = 2   # data\n"
	"\"expected_shards\" = 3\n"
	"'redundant_groups' = 0\n"
	"redundant_nodes = +0\n"
	"max_zdb_data_dir_size = 25_600\n"
	"zdb_data_dir_path = '/data/\\zdb'\n"
	"pid_file = \"/run/z\\u00e9stor.pid\"\n"
	"zdbfs_mountpoint = \"/mnt/\\\"q\\\"\\ttab\"\n"
	"encryption = { algorithm = \"AES\", key = \"AbCdEF"
	"00000000000000000000000000000000000000000000000000000000ff\" }\n"
	"compression.algorithm = \"snappy\"\n"
	"\n"
	"[meta]\n"
	"type = \"zdb\"\n"
	"[meta.config]\n"
	"prefix = \"p\"\n"
	"written_by = [1, 2, \"x\"]   # ignored, as upstream does\n"
	"encryption = { algorithm = \"AES\", key = \"" ONE_KEY "\" }\n"
	"backends = [\n"
	"  { address = \"unix:/run/zdb0.sock\" },\n"
	"  { address = \"unix:/run/zdb1.sock\", namespace = \"n\" },\n"
	"  # a comment inside the array\n"
	"  { address = \"dir:/srv/meta2\" },\n"
	"  { address = \"1.2.3.4:9900\", password = \"p\", weight = 3 },\n"
	"]\n"
	"[[groups]]\n"
	"backends = [ { address = \"dir:/srv/d0\" } ]\n"
	"[[groups]]\n"
	"[[groups.backends]]\n"
	"address = \"192.168.1.10:09900\"\n"
	"\"namespace\" = \"ns\"\n"
	"[[groups.backends]]\n"
	"address = \"[2A02:1802:005E::DEAD:BEEF]:9900\"\n";

static void
check_fancy(const struct config *cfg, const char *what)
{
	static const uint8_t key_head[3] = { 0xab, 0xcd, 0xef };

	T_CHECK(cfg->minimal_shards == 2 && cfg->expected_shards == 3 &&
	    cfg->redundant_groups == 0 && cfg->redundant_nodes == 0,
	    "%s: numbers", what);
	T_CHECK(cfg->has_max_zdb_data_dir_size &&
	    cfg->max_zdb_data_dir_size == 25600, "%s: max_zdb_data_dir_size",
	    what);
	T_CHECK(str_is(cfg->zdb_data_dir_path, "/data/\\zdb"),
	    "%s: literal string %s", what, cfg->zdb_data_dir_path);
	T_CHECK(str_is(cfg->pid_file, "/run/z\xc3\xa9stor.pid"),
	    "%s: \\u escape", what);
	T_CHECK(str_is(cfg->zdbfs_mountpoint, "/mnt/\"q\"\ttab"), "%s: escapes",
	    what);
	T_CHECK(cfg->root == NULL && cfg->socket == NULL &&
	    cfg->prometheus_port == -1, "%s: absent keys", what);
	T_EQ_MEM(cfg->key, key_head, 3, "%s: mixed-case hex key", what);
	T_CHECK(cfg->key[31] == 0xff, "%s: key tail", what);
	check_ci(&cfg->meta_backends[0], "unix:/run/zdb0.sock", NULL, NULL,
	    what);
	T_CHECK(cfg->meta_backends[0].addr.kind == ADDR_UNIX &&
	    strcmp(cfg->meta_backends[0].addr.path, "/run/zdb0.sock") == 0,
	    "%s: unix", what);
	check_ci(&cfg->meta_backends[1], "unix:/run/zdb1.sock", "n", NULL,
	    what);
	check_ci(&cfg->meta_backends[2], "dir:/srv/meta2", NULL, NULL, what);
	T_CHECK(cfg->meta_backends[2].addr.kind == ADDR_DIR, "%s: dir kind",
	    what);
	check_ci(&cfg->meta_backends[3], "1.2.3.4:9900", NULL, "p", what);
	T_CHECK(cfg->ngroups == 2, "%s: ngroups %zu", what, cfg->ngroups);
	if (cfg->ngroups != 2 || cfg->groups[0].nbackends != 1 ||
	    cfg->groups[1].nbackends != 2)
		return;
	check_ci(&cfg->groups[0].backends[0], "dir:/srv/d0", NULL, NULL, what);
	check_ci(&cfg->groups[1].backends[0], "192.168.1.10:9900", "ns", NULL,
	    what);
	T_CHECK(cfg->groups[1].backends[0].addr.kind == ADDR_IP4,
	    "%s: ipv4 kind", what);
	check_ci(&cfg->groups[1].backends[1], "[2a02:1802:5e::dead:beef]:9900",
	    NULL, NULL, what);
}

static void
test_extensions_and_syntax(void)
{
	struct config cfg;
	struct err e;
	char *crlf, *p;
	const char *s;

	T_CHECK(parse_text(fancy, &cfg, &e) == 0, "fancy config: %s", e.msg);
	check_fancy(&cfg, "LF");
	config_free(&cfg);

	if ((crlf = malloc(2 * sizeof(fancy))) == NULL)
		abort();
	for (s = fancy, p = crlf; *s != '\0'; s++) {
		if (*s == '\n')
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	T_CHECK(parse_text(crlf, &cfg, &e) == 0, "CRLF config: %s", e.msg);
	check_fancy(&cfg, "CRLF");
	config_free(&cfg);
	free(crlf);
}

struct bad_case {
	const char *name;
	const char *old;	/* NULL: new replaces the whole [[groups]]
				 * part */
	const char *new;
	int line;
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ "missing required key", "expected_shards = 3\n", "", 1,
	  "expected_shards: required key is missing (expected an integer from "
	  "1 to 256" },
	{ "unknown top-level key", "redundant_nodes = 0\n",
	  "redundant_nodes = 0\nzdb_index_dir_path = \"/x\"\n", 5,
	  "zdb_index_dir_path: unknown key; the top level takes only: "
	  "minimal_shards, " },
	{ "unknown key in [encryption]", "[encryption]\n",
	  "[encryption]\nmode = \"gcm\"\n", 9,
	  "encryption.mode: unknown key; [encryption] takes only: algorithm, "
	  "key" },
	{ "lowercase algorithm", "[encryption]\nalgorithm = \"AES\"",
	  "[encryption]\nalgorithm = \"aes\"", 9,
	  "encryption.algorithm: expected \"AES\" (AES-256-GCM, the only "
	  "algorithm, in upper case), got \"aes\"" },
	{ "key of 63 characters", ZERO_KEY "\"", ZERO_KEY63 "\"", 10,
	  "encryption.key: expected 64 hex characters (a 32-byte AES-256 key), "
	  "got 63" },
	{ "key with a non-hex digit", "000\"\n\n[compression]",
	  "00g\"\n\n[compression]", 10,
	  "encryption.key: expected 64 hex characters (a 32-byte AES-256 key), "
	  "character 64 is not a hex digit" },
	{ "3 meta backends",
	  "[[meta.config.backends]]\naddress = \"127.0.0.1:9904\"\n", "", 25,
	  "meta.config.backends: expected exactly 4 [[meta.config.backends]] "
	  "entries (metadata is stored 2+2 erasure coded), got 3" },
	{ "5 meta backends", "address = \"127.0.0.1:9904\"\n",
	  "address = \"127.0.0.1:9904\"\n"
	  "[[meta.config.backends]]\naddress = \"127.0.0.1:9905\"\n", 33,
	  "meta.config.backends: expected exactly 4 [[meta.config.backends]] "
	  "entries (metadata is stored 2+2 erasure coded), got 5" },
	{ "minimal_shards 0", "minimal_shards = 2\n", "minimal_shards = 0\n", 1,
	  "minimal_shards: expected an integer from 1 to 255 (the number of "
	  "data shards), got 0" },
	{ "minimal_shards = expected_shards", "minimal_shards = 2\n",
	  "minimal_shards = 3\n", 1,
	  "minimal_shards: expected less than expected_shards (3), got 3: at "
	  "least one parity shard is needed" },
	{ "expected_shards 257", "expected_shards = 3\n",
	  "expected_shards = 257\n", 2,
	  "expected_shards: expected an integer from 1 to 256 (data plus "
	  "parity shards), got 257" },
	{ "not enough backends", "expected_shards = 3\n",
	  "expected_shards = 4\n", 2,
	  "expected_shards: insufficient data backends, require at least 4, "
	  "only found 3" },
	{ "more lost groups than groups", "redundant_groups = 0\n",
	  "redundant_groups = 2\n", 3,
	  "redundant_groups: could not find any viable backend distribution to "
	  "satisfy the redundancy requirement: a write needs more than "
	  "redundant_groups (2) and at most 2 groups" },
	{ "too few spare backends", "redundant_nodes = 0\n",
	  "redundant_nodes = 2\n", 3,
	  "redundant_groups: could not find any viable backend distribution to "
	  "satisfy the redundancy requirement: a write needs more than "
	  "redundant_groups (0) and at most 0 groups" },
	{ "host name", "10.0.0.1:9900", "localhost:9900", 43,
	  "groups[1].backends[0].address: bad address \"localhost:9900\": host "
	  "names are not resolved; give an IP address" },
	{ "no port", "10.0.0.1:9900", "10.0.0.1", 43,
	  "groups[1].backends[0].address: bad address \"10.0.0.1\": no :port" },
	{ "port 70000", "10.0.0.1:9900", "10.0.0.1:70000", 43,
	  "bad address \"10.0.0.1:70000\": port out of range (0-65535)" },
	{ "IPv6 without brackets", "[::1]:9901", "::1:9901", 39,
	  "groups[0].backends[1].address: bad address \"::1:9901\": IPv6 "
	  "addresses must be in brackets" },
	{ "relative dir: path", "10.0.0.1:9900", "dir:srv/disk1", 43,
	  "bad address \"dir:srv/disk1\": the path after dir: must be absolute"
	  },
	{ "IPv6 scope id", "[::1]:9900", "[fe80::1%2]:9900", 36,
	  "groups[0].backends[0].address: bad address \"[fe80::1%2]:9900\": "
	  "IPv6 scope ids" },
	{ "bad meta address", "127.0.0.1:9903", "127.0.0.01:9903", 30,
	  "meta.config.backends[2].address: bad address \"127.0.0.01:9903\": "
	  "not a valid IPv4 address" },
	{ "string for an integer", "minimal_shards = 2\n",
	  "minimal_shards = \"2\"\n", 1,
	  "minimal_shards: expected an integer from 1 to 255 (the number of "
	  "data shards), got a string" },
	{ "boolean for a string", "namespace = \"a\"", "namespace = true", 37,
	  "groups[0].backends[0].namespace: expected a string, got a boolean" },
	{ "integer for the meta type", "type = \"zdb\"", "type = 1", 16,
	  "meta.type: expected \"zdb\", got an integer" },
	{ "duplicate key", "prometheus_port = 9100\n",
	  "prometheus_port = 9100\nprometheus_port = 9101\n", 7,
	  "duplicate key prometheus_port (first defined on line 6)" },
	{ "unterminated string", "socket = \"/tmp/zstor.sock\"",
	  "socket = \"/tmp/zstor.sock", 5,
	  "unterminated string (the closing \" is missing on this line)" },
	{ "invalid escape", "socket = \"/tmp/zstor.sock\"",
	  "socket = \"/tmp/\\q\"", 5,
	  "invalid escape sequence: backslash followed by 'q'" },
	{ "bad table header", "[compression]", "[compression", 12,
	  "bad table header: expected ']' after the name, got end of line" },
	{ "table defined twice", "algorithm = \"snappy\"\n",
	  "algorithm = \"snappy\"\n[compression]\n", 14,
	  "table [compression] is defined twice (first on line 12)" },
	{ "garbage after a value", "minimal_shards = 2\n",
	  "minimal_shards = 2 x\n", 1,
	  "unexpected 'x' after the value (expected a new line or a # comment)"
	  },
	{ "negative integer", "redundant_nodes = 0\n", "redundant_nodes = -1\n",
	  4,
	  "redundant_nodes: expected a non-negative integer (backends that may "
	  "be lost in each group), got -1" },
	{ "integer overflow", "prometheus_port = 9100",
	  "prometheus_port = 9223372036854775808", 6,
	  "integer out of range: it must fit in 64 bits" },
	{ "leading zero", "expected_shards = 3", "expected_shards = 03", 2,
	  "leading zeros are not allowed in integers" },
	{ "float", "minimal_shards = 2\n", "minimal_shards = 2.0\n", 1,
	  "floating-point numbers are not supported (expected an integer)" },
	{ "compression lz4", "algorithm = \"snappy\"", "algorithm = \"lz4\"",
	  13,
	  "compression.algorithm: expected \"snappy\" (the only algorithm, in "
	  "lower case), got \"lz4\"" },
	{ "meta type etcd", "type = \"zdb\"", "type = \"etcd\"", 16,
	  "meta.type: expected \"zdb\" (the only metadata store), got \"etcd\""
	  },
	{ "unknown key in [meta]", "type = \"zdb\"\n",
	  "type = \"zdb\"\nversion = 2\n", 17,
	  "meta.version: unknown key; [meta] takes only: type, config" },
	{ "unknown key in [meta.config.encryption]",
	  "[meta.config.encryption]\n",
	  "[meta.config.encryption]\nmode = \"x\"\n", 22,
	  "meta.config.encryption.mode: unknown key; [meta.config.encryption] "
	  "takes only: algorithm, key" },
	{ "no [meta.config.encryption]",
	  "[meta.config.encryption]\nalgorithm = \"AES\"\n" "key = \"" ONE_KEY
	  "\"\n", "", 18,
	  "meta.config.encryption: required key is missing (expected a table "
	  "[meta.config.encryption])" },
	{ "no encryption key", "key = \"" ZERO_KEY "\"\n", "", 8,
	  "encryption.key: required key is missing (expected 64 hex characters"
	  },
	{ "unknown key in [[groups]]", "[[groups]]\n",
	  "[[groups]]\nweight = 1\n", 35,
	  "groups[0].weight: unknown key; [[groups]] takes only: backends" },
	{ "backend without address", "address = \"10.0.0.1:9900\"\n",
	  "namespace = \"x\"\n", 42,
	  "groups[1].backends[0].address: required key is missing" },
	{ "prometheus_port 65536", "prometheus_port = 9100",
	  "prometheus_port = 65536", 6,
	  "prometheus_port: expected a port number from 1 to 65535, or 0 for "
	  "none, got 65536" },
	{ "relative socket", "socket = \"/tmp/zstor.sock\"",
	  "socket = \"tmp/zstor.sock\"", 5,
	  "socket: expected an absolute path (starting with /), got "
	  "\"tmp/zstor.sock\"" },
	{ "empty groups", "minimal_shards = 2\n",
	  "groups = []\nminimal_shards = 2\n", 1,
	  "groups: expected at least one [[groups]] with backends, got an "
	  "empty array" },
	{ "groups as a table", NULL, "[groups]\nbackends = []\n", 34,
	  "groups: expected [[groups]] entries, each with [[groups.backends]], "
	  "got a table" },
	{ "group without backends", NULL,
	  "[[groups]]\n[[groups.backends]]\naddress = \"[::1]:9900\"\n"
	  "[[groups.backends]]\naddress = \"[::1]:9901\"\n[[groups.backends]]\n"
	  "address = \"[::1]:9902\"\n[[groups]]\n", 41,
	  "groups[1].backends: required key is missing (expected "
	  "[[groups.backends]] entries" },
	{ "backend written as a string", NULL,
	  "[[groups]]\nbackends = [\"[::1]:1\"]\n", 35,
	  "groups[0].backends[0]: expected a table with address, namespace and "
	  "password, got a string" },
	{ "group with an empty backend list", NULL,
	  "[[groups]]\n"
	  "backends = [{address = \"[::1]:1\"}, {address = \"[::1]:2\"}, "
	  "{address = \"[::1]:3\"}]\n[[groups]]\n" "backends = []\n", 37,
	  "groups[1].backends: a group needs at least one backend, got none" },
	{ "no groups at all", NULL, "", 1,
	  "groups: required key is missing (expected [[groups]] entries" },
};

static void
run_bad_case(const struct bad_case *c, const char *text)
{
	struct config cfg;
	struct err e;
	char prefix[32];

	memset(&e, 0, sizeof(e));
	snprintf(prefix, sizeof(prefix), "zstor.toml:%d: ", c->line);
	T_CHECK(parse_text(text, &cfg, &e) == -1, "%s: accepted", c->name);
	T_CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0 &&
	    strstr(e.msg, c->want) != NULL,
	    "%s: got \"%s\", want line %d and \"%s\"", c->name, e.msg, c->line,
	    c->want);
	T_CHECK(cfg.groups == NULL && cfg.path == NULL &&
	    cfg.meta_prefix == NULL, "%s: a failed parse must leave cfg empty",
	    c->name);
}

static void
test_bad_configs(void)
{
	char *base = concat(base_head, base_groups), *text;
	struct config cfg;
	struct err e;
	size_t i;

	T_CHECK(parse_text(base, &cfg, &e) == 0, "base config: %s", e.msg);
	config_free(&cfg);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		if (c->old == NULL)
			text = concat(base_head, c->new);
		else if (strncmp(c->new, "groups = ", 9) == 0)
			/* no [[groups]] */
			text = replace(base_head, c->old, c->new);
		else
			text = replace(base, c->old, c->new);
		run_bad_case(c, text);
		free(text);
	}
	free(base);
}

/* Parsed with a config that upstream also accepts: unknown keys where upstream
 * has no deny_unknown_fields. */
static void
test_ignored_keys(void)
{
	struct config cfg;
	struct err e;
	char *base = concat(base_head, base_groups), *t1, *t2;

	t1 = replace(base, "prefix = \"someprefix\"\n",
	    "prefix = \"someprefix\"\nold = 1\n");
	t2 = replace(t1, "namespace = \"a\"\n",
	    "namespace = \"a\"\nlabel = \"x\"\n");
	T_CHECK(parse_text(t2, &cfg, &e) == 0,
	    "unknown keys in [meta.config] and backends: %s", e.msg);
	config_free(&cfg);
	free(base);
	free(t1);
	free(t2);
}

/* Written the way deployers write it: every optional key present, empty or zero
 * when unused (QSFS's template writes root = ""), and the tables in another
 * order than upstream's own serialization ([encryption] last,
 * [meta.config.encryption] after the backend arrays). */
static const char deployer_text[] =
	"minimal_shards = 2\n"
	"expected_shards = 3\n"
	"redundant_groups = 0\n"
	"redundant_nodes = 0\n"
	"root = \"\"\n"
	"socket = \"\"\n"
	"pid_file = \"\"\n"
	"zdb_data_dir_path = \"\"\n"
	"max_zdb_data_dir_size = 0\n"
	"zdbfs_mountpoint = \"\"\n"
	"prometheus_port = 0\n"
	"[compression]\n"
	"algorithm = \"snappy\"\n"
	"[meta]\n"
	"type = \"zdb\"\n"
	"[meta.config]\n"
	"prefix = \"zstor-meta\"\n"
	"[[meta.config.backends]]\n"
	"address = \"[::1]:9901\"\n"
	"namespace = \"\"\n"
	"password = \"\"\n"
	"[[meta.config.backends]]\n"
	"address = \"[::1]:9902\"\n"
	"[[meta.config.backends]]\n"
	"address = \"[::1]:9903\"\n"
	"[[meta.config.backends]]\n"
	"address = \"[::1]:9904\"\n"
	"[meta.config.encryption]\n"
	"algorithm = \"AES\"\n"
	"key = \"" ONE_KEY "\"\n"
	"[[groups]]\n"
	"[[groups.backends]]\n"
	"address = \"[::1]:9905\"\n"
	"namespace = \"\"\n"
	"password = \"\"\n"
	"[[groups.backends]]\n"
	"address = \"[::1]:9906\"\n"
	"namespace = \"data\"\n"
	"password = \"\"\n"
	"[[groups.backends]]\n"
	"address = \"[::1]:9907\"\n"
	"[encryption]\n"
	"algorithm = \"AES\"\n"
	"key = \"" ZERO_KEY "\"\n";

static void
test_deployer_values(void)
{
	uint8_t zero[32], ones[32];
	struct config cfg;
	struct err e;

	memset(zero, 0, sizeof(zero));
	memset(ones, 1, sizeof(ones));
	T_CHECK(parse_text(deployer_text, &cfg, &e) == 0, "deployer config: %s",
	    e.msg);
	T_CHECK(cfg.root == NULL, "root = \"\" is no root, got %s", cfg.root);
	T_CHECK(cfg.socket == NULL, "socket = \"\" is no socket, got %s",
	    cfg.socket);
	T_CHECK(cfg.pid_file == NULL,
	    "pid_file = \"\" is the default pid file, got %s", cfg.pid_file);
	T_CHECK(cfg.zdb_data_dir_path == NULL,
	    "zdb_data_dir_path = \"\" is unset");
	T_CHECK(cfg.zdbfs_mountpoint == NULL,
	    "zdbfs_mountpoint = \"\" is unset");
	T_CHECK(cfg.has_max_zdb_data_dir_size && cfg.max_zdb_data_dir_size == 0,
	    "max_zdb_data_dir_size = 0 is a limit of 0 MiB, as upstream");
	T_CHECK(cfg.prometheus_port == -1,
	    "prometheus_port = 0 serves nothing, got %d", cfg.prometheus_port);
	T_EQ_MEM(cfg.key, zero, 32, "[encryption] read after the groups");
	T_EQ_MEM(cfg.meta_key, ones, 32,
	    "[meta.config.encryption] after the backends");
	check_ci(&cfg.meta_backends[0], "[::1]:9901", NULL, "",
	    "namespace = \"\"");
	if (cfg.ngroups == 1 && cfg.groups[0].nbackends == 3) {
		check_ci(&cfg.groups[0].backends[0], "[::1]:9905", NULL, "",
		    "data ns \"\"");
		check_ci(&cfg.groups[0].backends[1], "[::1]:9906", "data", "",
		    "empty password kept as written");
	} else
		T_CHECK(0, "groups: %zu", cfg.ngroups);
	config_free(&cfg);
}

static void
test_load(void)
{
	char path[] = "/tmp/test_config.XXXXXX";
	struct config cfg;
	struct err e;
	char *text = concat(base_head, base_groups);
	int fd;

	T_CHECK(config_load("/nonexistent/dir/zstor.toml", &cfg, &e) == -1 &&
	    strcmp(e.msg, "cannot read config file "
	    "/nonexistent/dir/zstor.toml: No such file or directory") == 0,
	    "missing file: %s", e.msg);
	T_CHECK(config_load("/tmp", &cfg, &e) == -1 &&
	    strstr(e.msg, "/tmp") != NULL, "directory: %s", e.msg);
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		T_CHECK(0, "cannot write %s", path);
		free(text);
		return;
	}
	close(fd);
	T_CHECK(config_load(path, &cfg, &e) == 0, "load: %s", e.msg);
	T_CHECK(str_is(cfg.path, path) && cfg.ngroups == 2 &&
	    cfg.prometheus_port == 9100, "loaded config");
	config_free(&cfg);
	unlink(path);
	free(text);
}

struct addr_case {
	const char *in;
	const char *out;	/* NULL: must be rejected */
};

static const struct addr_case addr_cases[] = {
	{ "1.2.3.4:9900", "1.2.3.4:9900" },
	{ "0.0.0.0:0", "0.0.0.0:0" },
	{ "255.255.255.255:65535", "255.255.255.255:65535" },
	{ "10.0.0.1:009900", "10.0.0.1:9900" },
	{ "[2a02:1802:5e::dead:beef]:9900", "[2a02:1802:5e::dead:beef]:9900" },
	{ "[2A02:1802:005E:0:0:0:DEAD:BEEF]:9900",
	  "[2a02:1802:5e::dead:beef]:9900" },
	{ "[::]:1", "[::]:1" },
	{ "[::1]:1", "[::1]:1" },
	{ "[1::]:1", "[1::]:1" },
	{ "[1:0:0:1:0:0:0:1]:5", "[1:0:0:1::1]:5" },
	{ "[1:0:0:2:0:0:3:4]:5", "[1::2:0:0:3:4]:5" },
	{ "[1:0:2:3:4:5:6:7]:5", "[1:0:2:3:4:5:6:7]:5" },
	{ "[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80" },
	{ "[::ffff:102:304]:80", "[::ffff:1.2.3.4]:80" },
	{ "[::1.2.3.4]:80", "[::102:304]:80" },
	{ "[64:ff9b::1.2.3.4]:80", "[64:ff9b::102:304]:80" },
	{ "unix:/run/zdb.sock", "unix:/run/zdb.sock" },
	{ "dir:/srv/disk1", "dir:/srv/disk1" },
	{ "01.2.3.4:1", NULL },
	{ "1.2.3:1", NULL },
	{ "1.2.3.4.5:1", NULL },
	{ "256.1.1.1:1", NULL },
	{ "1.2.3.4:", NULL },
	{ "1.2.3.4:-1", NULL },
	{ "1.2.3.4:+1", NULL },
	{ "1.2.3.4:65536", NULL },
	{ "1.2.3.4:99999999999999999999", NULL },
	{ " 1.2.3.4:1", NULL },
	{ "1.2.3.4:1 ", NULL },
	{ "[::1]", NULL },
	{ "[::1]9900", NULL },
	{ "[::1%1]:1", NULL },
	{ "[1.2.3.4]:1", NULL },
	{ "[12345::]:1", NULL },
	{ "[1:2:3:4:5:6:7:8:9]:1", NULL },
	{ "example.com:9900", NULL },
	{ "", NULL },
	{ "unix:", NULL },
	{ "unix:run/zdb.sock", NULL },
	{ "dir:", NULL },
};

static void
test_addresses(void)
{
	struct backend_ci a, b;
	struct zaddr z, z2;
	struct err e;
	char out[300], longpath[200];
	size_t i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		int rc = zaddr_parse(c->in, &z, &e);

		if (c->out == NULL) {
			T_CHECK(rc == -1, "accepted \"%s\"", c->in);
			continue;
		}
		T_CHECK(rc == 0, "rejected \"%s\": %s", c->in, e.msg);
		zaddr_format(&z, out, sizeof(out));
		T_CHECK(rc == 0 && strcmp(out, c->out) == 0,
		    "\"%s\" formats as %s, want %s", c->in, out, c->out);
	}
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(out, sizeof(out), "unix:%s", longpath);
	T_CHECK(zaddr_parse(out, &z, &e) == -1 &&
	    strstr(e.msg, "longer than 107") != NULL, "long unix path: %s",
	    e.msg);
	snprintf(out, sizeof(out), "dir:%s", longpath);
	T_CHECK(zaddr_parse(out, &z, &e) == 0, "long dir path: %s", e.msg);

	zaddr_parse("[::1]:9900", &z, &e);
	zaddr_parse("[0:0::1]:9900", &z2, &e);
	T_CHECK(zaddr_equal(&z, &z2), "same v6 address");
	zaddr_parse("[::1]:9901", &z2, &e);
	T_CHECK(!zaddr_equal(&z, &z2), "port differs");
	zaddr_parse("unix:/a", &z2, &e);
	T_CHECK(!zaddr_equal(&z, &z2), "kind differs");

	memset(&a, 0, sizeof(a));
	zaddr_parse("[2a02:1802:5e::dead:beef]:9900", &a.addr, &e);
	ci_name(&a, out, sizeof(out));
	T_CHECK(strcmp(out, "[2a02:1802:5e::dead:beef]:9900/default") == 0,
	    "ci_name %s", out);
	a.ns = strdup("test2");
	a.password = strdup("pw");
	T_CHECK(ci_copy(&b, &a) == 0 && ci_equal(&a, &b) && b.ns != a.ns &&
	    b.password != a.password, "ci_copy is a deep, equal copy");
	ci_name(&b, out, sizeof(out));
	T_CHECK(strcmp(out, "[2a02:1802:5e::dead:beef]:9900/test2") == 0,
	    "ci_name %s", out);
	free(b.password);
	b.password = NULL;
	T_CHECK(!ci_equal(&a, &b), "password is part of the identity");
	ci_free(&a);
	ci_free(&b);
	T_CHECK(a.ns == NULL && a.password == NULL, "ci_free clears");
}

/* Parser rules not reached through a valid config. */
static void
test_toml(void)
{
	static const struct {
		const char *text;
		const char *want;	/* NULL: must parse */
	} cases[] = {
		{ "[a.b]\nx = 1\n[a]\ny = 2\n", NULL },
		{ "[a]\n[a]\n", "2: table [a] is defined twice" },
		{ "[a]\n[[a]]\n",
		  "2: cannot define [[a]]: a is already a table" },
		{ "[[a]]\n[a]\n",
		  "2: cannot define table [a]: a is already an array of tables"
		  },
		{ "a = {b = 1}\n[a.c]\n",
		  "2: cannot add to a: an inline table is complete as written"
		  },
		{ "a.b = 1\na = 2\n", "2: duplicate key a" },
		{ "a.b = 1\na.c = 2\n", NULL },
		{ "x = 1\nx.y = 2\n",
		  "2: cannot add keys to x with a dotted key" },
		{ "x = 1_000\ny = 0x_1\n", "2: '_' in a number" },
		{ "x = 1__0\n", "1: '_' in a number" },
		{ "x = 1_\n", "1: '_' in a number" },
		{ "x = -0x1\n", "1: a sign is not allowed" },
		{ "x = 1979-05-27\n", "1: dates and times are not supported" },
		{ "x = \"\\ud800\"\n",
		  "1: escape U+D800 is not a Unicode scalar value" },
		{ "x = \"\\u0000\"\n", "1: NUL characters" },
		{ "x = \"\"\"a\"\"\"\n", "1: multi-line strings" },
		{ "x = \"a\x01\"\n", "1: control character in a string" },
		{ "# c\nx = \"\xc3\x28\"\n", "2: invalid UTF-8" },
		{ "x = [1, 2\n", "1: array is not closed" },
		{ "x = {a = 1,}\n", "1: expected a key, got '}'" },
		{ "x = {a = 1\n}\n",
		  "1: expected ',' or '}' in an inline table" },
		{ "x =\n", "1: expected a value after '=', got end of line" },
		{ "x = 1\r\r\n", "1: unexpected a carriage return" },
		{ "= 1\n", "1: expected a key, got '='" },
		{ "[ a . \"b.c\" ]\nk = 'v'\n", NULL },
		{ "[[x]]\n[x.y]\nk = 1\n[[x]]\n[x.y]\nk = 2\n", NULL },
		{ "x = [[1, 2], [\"a\"], []]\n", NULL },
	};
	struct toml_node *root;
	struct err e;
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		root = toml_parse(cases[i].text, strlen(cases[i].text),
		    "t.toml", &e);
		if (cases[i].want == NULL) {
			T_CHECK(root != NULL, "case %zu rejected: %s", i,
			    e.msg);
		} else {
			snprintf(want, sizeof(want), "t.toml:%s",
			    cases[i].want);
			T_CHECK(root == NULL &&
			    strncmp(e.msg, want, strlen(want)) == 0,
			    "case %zu: got \"%s\", want \"%s\"", i,
			    root ? "ok" : e.msg, want);
		}
		toml_free(root);
	}
}

static void
test_toml_values(void)
{
	static const char ints[] =
	    "a = -9223372036854775808\nb = 0x7fffffffffffffff\n"
	    "c = 0o17\nd = 0b101\ne = -0\nf = \"\\U0001F600\"\n";
	const struct toml_entry *ent;
	struct toml_node *root;
	struct err e;

	root = toml_parse(ints, strlen(ints), "t.toml", &e);
	T_CHECK(root != NULL, "integers: %s", e.msg);
	if (root == NULL)
		return;
	T_CHECK((ent = toml_find(root, "a")) &&
	    ent->value->integer == INT64_MIN, "int64 min");
	T_CHECK((ent = toml_find(root, "b")) &&
	    ent->value->integer == INT64_MAX, "hex max");
	T_CHECK((ent = toml_find(root, "c")) && ent->value->integer == 15,
	    "octal");
	T_CHECK((ent = toml_find(root, "d")) && ent->value->integer == 5,
	    "binary");
	T_CHECK((ent = toml_find(root, "e")) && ent->value->integer == 0, "-0");
	T_CHECK((ent = toml_find(root, "f")) &&
	    strcmp(ent->value->str, "\xf0\x9f\x98\x80") == 0, "\\U escape");
	T_CHECK((ent = toml_find(root, "f")) && ent->line == 6, "line of f");
	toml_free(root);
}

/* Brute force over small layouts: every set of groups and every spread of the
 * shards, exactly as upstream's shard_stores enumerates them (with signed
 * sums). */
static void
brute_force(const struct config *cfg, int *candidate, int *writable)
{
	unsigned m = cfg->minimal_shards, n = cfg->expected_shards;
	unsigned rg = cfg->redundant_groups, rn = cfg->redundant_nodes;
	size_t idx[8], nf = 0, k, g, max_groups, mask;
	unsigned used[8], sorted[8], total, i, j, t;
	long spare, left;

	max_groups = rn == 0 ? cfg->ngroups : (n - m) / rn + rg;
	for (g = 0; g < cfg->ngroups; g++)
		if (cfg->groups[g].nbackends >= rn)
			idx[nf++] = g;
	*candidate = *writable = 0;
	for (mask = 1; mask < ((size_t)1 << nf); mask++) {
		size_t members[8];

		for (k = 0, spare = 0, g = 0; g < nf; g++)
			if (mask & ((size_t)1 << g)) {
				members[k++] = idx[g];
				spare += (long)cfg->groups[idx[g]].nbackends -
				    rn;
			}
		if (k > max_groups || k <= rg || spare < (long)m)
			continue;
		*candidate = 1;
		/* Odometer over used[0..k) with used[i] <= capacity. */
		memset(used, 0, sizeof(used));
		for (;;) {
			for (total = 0, i = 0; i < k; i++)
				total += used[i];
			if (total == n) {
				memcpy(sorted, used, sizeof(sorted));
				for (i = 0; i < k; i++)
					for (j = i + 1; j < k; j++)
						if (sorted[j] > sorted[i])
							t = sorted[i],
							    sorted[i] =
							    sorted[j],
							    sorted[j] = t;
				for (left = 0, i = rg; i < k; i++)
					left += (long)sorted[i] - rn;
				if (left >= (long)m)
					*writable = 1;
			}
			for (i = 0; i < k &&
			    used[i] == cfg->groups[members[i]].nbackends; i++)
				used[i] = 0;
			if (i == k)
				break;
			used[i]++;
		}
	}
}

static void
test_redundancy_brute_force(void)
{
	struct group groups[4];
	struct config cfg;
	struct err e;
	char path[] = "bf.toml";
	unsigned seed = 12345, round, g, total, mismatches = 0,
	    seen[3] = { 0, 0, 0 };
	int candidate, writable, valid, ok;

	for (round = 0; round < 3000; round++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.path = path;
		seed = seed * 1103515245 + 12345;
		cfg.ngroups = 1 + (seed >> 16) % 4;
		for (total = 0, g = 0; g < cfg.ngroups; g++) {
			seed = seed * 1103515245 + 12345;
			groups[g].nbackends = 1 + (seed >> 16) % 5;
			groups[g].backends = NULL;
			total += groups[g].nbackends;
		}
		cfg.groups = groups;
		seed = seed * 1103515245 + 12345;
		cfg.expected_shards = 2 + (seed >> 16) % 5;
		cfg.minimal_shards = 1 + (seed >> 20) %
		    (cfg.expected_shards - 1);
		cfg.redundant_groups = (seed >> 24) % 3;
		cfg.redundant_nodes = (seed >> 27) % 3;
		if (total < cfg.expected_shards)
			continue;
		brute_force(&cfg, &candidate, &writable);
		seen[candidate + (candidate && writable)]++;
		valid = config_validate(&cfg, &e) == 0;
		ok = valid == candidate &&
		    (config_check_writable(&cfg, &e) == 0) == (candidate &&
		    writable);
		if (!ok && mismatches++ < 5)
			T_CHECK(0, "M=%u N=%u RG=%u RN=%u groups=%zu: validate "
			    "%d (want %d), writable want %d",
			    cfg.minimal_shards, cfg.expected_shards,
			    cfg.redundant_groups, cfg.redundant_nodes,
			    cfg.ngroups, valid, candidate, writable);
	}
	T_CHECK(mismatches == 0, "%u layouts disagree with the brute force",
	    mismatches);
	T_CHECK(seen[0] > 100 && seen[1] > 100 && seen[2] > 100,
	    "layouts tried: %u invalid, %u valid but unwritable, %u writable",
	    seen[0], seen[1], seen[2]);
}

int
main(void)
{
	test_canonical();
	test_canonical_enough_backends();
	test_extensions_and_syntax();
	test_bad_configs();
	test_ignored_keys();
	test_deployer_values();
	test_load();
	test_addresses();
	test_toml();
	test_toml_values();
	test_redundancy_brute_force();
	return t_finish();
}
