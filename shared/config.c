/* The config file: upstream's schema mapped from the TOML tree, then validated.
 * Errors read "FILE:LINE: key.path: what was expected, what was found". */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hex.h"
#include "toml.h"

#define CONFIG_FILE_MAX	(16L * 1024 * 1024)
#define KEYPATH_MAX	128
#define KEY_HEX_LEN	64

/* A decode in progress: where errors point. */
struct dec {
	const char *file;
	struct err *e;
};

static int dec_err(const struct dec *, int, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
dec_err(const struct dec *d, int line, const char *path, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(d->e, "%s:%d: %s: %s", d->file, line, path, msg);
}

static void
join(char *out, size_t len, const char *prefix, const char *key)
{
	if (prefix[0] == '\0')
		strlcpy(out, key, len);
	else
		snprintf(out, len, "%s.%s", prefix, key);
}

/* Finds key in table t and checks its type: 1 found, 0 absent and optional,
 * -1 missing or of the wrong type. what says what is expected. */
static int
lookup(const struct dec *d, const struct toml_node *t, const char *prefix,
    const char *key, enum toml_type type, const char *what, int required,
    const struct toml_entry **out)
{
	const struct toml_entry *ent = toml_find(t, key);
	char path[KEYPATH_MAX];

	*out = ent;
	join(path, sizeof(path), prefix, key);
	if (ent == NULL) {
		if (!required)
			return 0;
		return dec_err(d, t->line, path,
		    "required key is missing (expected %s)", what);
	}
	if (ent->value->type != type)
		return dec_err(d, ent->line, path, "expected %s, got %s", what,
		    toml_type_name(ent->value));
	return 1;
}

/* upstream's deny_unknown_fields: every key of t must be in known. */
static int
deny_unknown(const struct dec *d, const struct toml_node *t, const char *prefix,
    const char *table, const char *const *known)
{
	char path[KEYPATH_MAX], list[512];
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		for (k = 0; known[k] != NULL; k++)
			if (strcmp(t->entries[i].key, known[k]) == 0)
				break;
		if (known[k] != NULL)
			continue;
		list[0] = '\0';
		for (k = 0; known[k] != NULL; k++) {
			if (k > 0)
				strlcat(list, ", ", sizeof(list));
			strlcat(list, known[k], sizeof(list));
		}
		join(path, sizeof(path), prefix, t->entries[i].key);
		return dec_err(d, t->entries[i].line, path,
		    "unknown key; %s takes only: %s", table, list);
	}
	return 0;
}

/* An integer within [min, max]: 1 found, 0 absent and optional, -1 error. */
static int
get_int(const struct dec *d, const struct toml_node *t, const char *key,
    int required, int64_t min, int64_t max, const char *what, int64_t *out,
    int *line)
{
	const struct toml_entry *ent;
	int rc;

	if ((rc = lookup(d, t, "", key, TOML_INTEGER, what, required,
	    &ent)) <= 0)
		return rc;
	if (ent->value->integer < min || ent->value->integer > max)
		return dec_err(d, ent->line, key, "expected %s, got %" PRId64,
		    what, ent->value->integer);
	*out = ent->value->integer;
	if (line != NULL)
		*line = ent->line;
	return 1;
}

/* A string, copied: 1 found, 0 absent and optional, -1 error. */
static int
get_str(const struct dec *d, const struct toml_node *t, const char *prefix,
    const char *key, int required, char **out, int *line)
{
	const struct toml_entry *ent;
	char path[KEYPATH_MAX];
	int rc;

	if ((rc = lookup(d, t, prefix, key, TOML_STRING, "a string", required,
	    &ent)) <= 0)
		return rc;
	if ((*out = strdup(ent->value->str)) == NULL) {
		join(path, sizeof(path), prefix, key);
		return dec_err(d, ent->line, path, "out of memory");
	}
	if (line != NULL)
		*line = ent->line;
	return 1;
}

/* An empty string where upstream's meaning is "not set": deployers write every
 * key of their template (QSFS writes root = ""). Returns 1 when cleared. */
static int
clear_if_empty(char **s)
{
	if (*s == NULL || (*s)[0] != '\0')
		return 0;
	free(*s);
	*s = NULL;
	return 1;
}

/* An optional top-level path; must_be_absolute for those used after chdir("/").
 * "" is the same as leaving the key out. */
static int
get_path(const struct dec *d, const struct toml_node *root, const char *key,
    int must_be_absolute, char **out)
{
	int line = 0, rc;

	if ((rc = get_str(d, root, "", key, 0, out, &line)) <= 0)
		return rc;
	if (clear_if_empty(out))
		return 0;
	if (must_be_absolute && (*out)[0] != '/')
		return dec_err(d, line, key, "expected an absolute path "
		    "(starting with /), got \"%.200s\"", *out);
	return 1;
}

/* [encryption] or [meta.config.encryption]: algorithm = "AES", key = 64 hex. */
static int
decode_encryption(const struct dec *d, const struct toml_node *t,
    const char *prefix, const char *table, uint8_t key[32])
{
	static const char *const known[] = { "algorithm", "key", NULL };
	const struct toml_entry *alg, *k;
	char path[KEYPATH_MAX];
	const char *hex;
	size_t len, i;

	if (deny_unknown(d, t, prefix, table, known) == -1)
		return -1;
	if (lookup(d, t, prefix, "algorithm", TOML_STRING, "\"AES\"", 1,
	    &alg) == -1)
		return -1;
	join(path, sizeof(path), prefix, "algorithm");
	if (strcmp(alg->value->str, "AES") != 0)
		return dec_err(d, alg->line, path, "expected \"AES\" "
		    "(AES-256-GCM, the only algorithm, in upper case), got "
		    "\"%.64s\"", alg->value->str);
	if (lookup(d, t, prefix, "key", TOML_STRING,
	    "64 hex characters (a 32-byte AES-256 key)", 1, &k) == -1)
		return -1;
	join(path, sizeof(path), prefix, "key");
	hex = k->value->str;
	if ((len = strlen(hex)) != KEY_HEX_LEN)
		return dec_err(d, k->line, path, "expected 64 hex characters "
		    "(a 32-byte AES-256 key), got %zu", len);
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", hex[i]) == NULL)
			return dec_err(d, k->line, path, "expected 64 hex "
			    "characters (a 32-byte AES-256 key), character %zu "
			    "is not a hex digit", i + 1);
	return hex_decode(key, hex, 32) == -1 ?
	    dec_err(d, k->line, path, "not hex") : 0;
}

/* One backend entry. Unknown keys are ignored, as upstream does. */
static int
decode_backend(const struct dec *d, const struct toml_node *n, const char *path,
    struct backend_ci *ci)
{
	const struct toml_entry *a;

	if (n->type != TOML_TABLE)
		return dec_err(d, n->line, path, "expected a table with "
		    "address, namespace and password, got %s",
		    toml_type_name(n));
	if (lookup(d, n, path, "address", TOML_STRING,
	    "a string such as \"[2001:db8::1]:9900\" or \"10.0.0.1:9900\"", 1,
	    &a) == -1)
		return -1;
	if (zaddr_parse(a->value->str, &ci->addr, d->e) == -1)
		return err_prefix(d->e, "%s:%d: %s.address", d->file, a->line,
		    path);
	if (get_str(d, n, path, "namespace", 0, &ci->ns, NULL) == -1 ||
	    get_str(d, n, path, "password", 0, &ci->password, NULL) == -1)
		return -1;
	/* namespace = "": the default namespace (upstream would SELECT "",
	 * which 0-db refuses). password = "" stays: upstream sends it, 0-db
	 * ignores it on a namespace without one, and metadata records it as
	 * written. */
	clear_if_empty(&ci->ns);
	return 0;
}

static int
decode_meta_backends(const struct dec *d, const struct toml_node *mc,
    struct config *cfg)
{
	const struct toml_entry *b;
	const struct toml_node *arr;
	char path[KEYPATH_MAX];
	size_t i;

	if (lookup(d, mc, "meta.config", "backends", TOML_ARRAY,
	    "4 [[meta.config.backends]] entries", 1, &b) == -1)
		return -1;
	arr = b->value;
	if (arr->n != META_BACKENDS)
		return dec_err(d, arr->n > META_BACKENDS ?
		    arr->items[META_BACKENDS]->line : b->line,
		    "meta.config.backends", "expected exactly 4 "
		    "[[meta.config.backends]] entries (metadata is stored 2+2 "
		    "erasure coded), got %zu", arr->n);
	for (i = 0; i < META_BACKENDS; i++) {
		snprintf(path, sizeof(path), "meta.config.backends[%zu]", i);
		if (decode_backend(d, arr->items[i], path,
		    &cfg->meta_backends[i]) == -1)
			return -1;
	}
	return 0;
}

/* [meta] type = "zdb" with [meta.config]: prefix, [meta.config.encryption] and
 * the 4 backends. [meta.config] accepts unknown keys, as upstream does. */
static int
decode_meta(const struct dec *d, const struct toml_node *root,
    struct config *cfg)
{
	static const char *const known[] = { "type", "config", NULL };
	const struct toml_entry *m, *type, *mc, *enc;

	if (lookup(d, root, "", "meta", TOML_TABLE, "a table [meta]", 1,
	    &m) == -1 ||
	    deny_unknown(d, m->value, "meta", "[meta]", known) == -1 ||
	    lookup(d, m->value, "meta", "type", TOML_STRING, "\"zdb\"", 1,
	    &type) == -1)
		return -1;
	if (strcmp(type->value->str, "zdb") != 0)
		return dec_err(d, type->line, "meta.type",
		    "expected \"zdb\" (the only metadata store), got \"%.64s\"",
		    type->value->str);
	if (lookup(d, m->value, "meta", "config", TOML_TABLE,
	    "a table [meta.config]", 1, &mc) == -1 ||
	    get_str(d, mc->value, "meta.config", "prefix", 1, &cfg->meta_prefix,
	    NULL) == -1 ||
	    lookup(d, mc->value, "meta.config", "encryption", TOML_TABLE,
	    "a table [meta.config.encryption]", 1, &enc) == -1 ||
	    decode_encryption(d, enc->value, "meta.config.encryption",
	    "[meta.config.encryption]", cfg->meta_key) == -1)
		return -1;
	return decode_meta_backends(d, mc->value, cfg);
}

static int
decode_compression(const struct dec *d, const struct toml_node *root)
{
	static const char *const known[] = { "algorithm", NULL };
	const struct toml_entry *c, *alg;

	if (lookup(d, root, "", "compression", TOML_TABLE,
	    "a table [compression]", 1, &c) == -1 ||
	    deny_unknown(d, c->value, "compression", "[compression]",
	    known) == -1 ||
	    lookup(d, c->value, "compression", "algorithm", TOML_STRING,
	    "\"snappy\"", 1, &alg) == -1)
		return -1;
	if (strcmp(alg->value->str, "snappy") != 0)
		return dec_err(d, alg->line, "compression.algorithm",
		    "expected \"snappy\" (the only algorithm, in lower case), "
		    "got \"%.64s\"", alg->value->str);
	return 0;
}

static int
decode_group(const struct dec *d, const struct toml_node *n, size_t gi,
    struct group *g)
{
	static const char *const known[] = { "backends", NULL };
	const struct toml_entry *b;
	char path[KEYPATH_MAX], bpath[KEYPATH_MAX];
	size_t i;

	snprintf(path, sizeof(path), "groups[%zu]", gi);
	if (n->type != TOML_TABLE)
		return dec_err(d, n->line, path,
		    "expected a table [[groups]], got %s", toml_type_name(n));
	if (deny_unknown(d, n, path, "[[groups]]", known) == -1 ||
	    lookup(d, n, path, "backends", TOML_ARRAY,
	    "[[groups.backends]] entries (a group needs at least one backend)",
	    1, &b) == -1)
		return -1;
	snprintf(bpath, sizeof(bpath), "groups[%zu].backends", gi);
	if (b->value->n == 0)
		return dec_err(d, b->line, bpath,
		    "a group needs at least one backend, got none");
	if ((g->backends = calloc(b->value->n, sizeof(*g->backends))) == NULL)
		return dec_err(d, b->line, bpath, "out of memory");
	g->nbackends = b->value->n;
	for (i = 0; i < g->nbackends; i++) {
		snprintf(bpath, sizeof(bpath), "groups[%zu].backends[%zu]", gi,
		    i);
		if (decode_backend(d, b->value->items[i], bpath,
		    &g->backends[i]) == -1)
			return -1;
	}
	return 0;
}

static int
decode_groups(const struct dec *d, const struct toml_node *root,
    struct config *cfg)
{
	const struct toml_entry *g;
	size_t i;

	if (lookup(d, root, "", "groups", TOML_ARRAY,
	    "[[groups]] entries, each with [[groups.backends]]", 1, &g) == -1)
		return -1;
	if (g->value->n == 0)
		return dec_err(d, g->line, "groups", "expected at least one "
		    "[[groups]] with backends, got an empty array");
	if ((cfg->groups = calloc(g->value->n, sizeof(*cfg->groups))) == NULL)
		return dec_err(d, g->line, "groups", "out of memory");
	cfg->ngroups = g->value->n;
	for (i = 0; i < cfg->ngroups; i++)
		if (decode_group(d, g->value->items[i], i,
		    &cfg->groups[i]) == -1)
			return -1;
	return 0;
}

static int
decode_numbers(const struct dec *d, const struct toml_node *root,
    struct config *cfg)
{
	int64_t v;
	int rc;

	if (get_int(d, root, "minimal_shards", 1, 1, 255,
	    "an integer from 1 to 255 (the number of data shards)", &v,
	    &cfg->line.minimal_shards) == -1)
		return -1;
	cfg->minimal_shards = (unsigned)v;
	if (get_int(d, root, "expected_shards", 1, 1, 256,
	    "an integer from 1 to 256 (data plus parity shards)", &v,
	    &cfg->line.expected_shards) == -1)
		return -1;
	cfg->expected_shards = (unsigned)v;
	if (get_int(d, root, "redundant_groups", 1, 0, UINT_MAX,
	    "a non-negative integer (groups that may be lost)", &v,
	    &cfg->line.redundant_groups) == -1)
		return -1;
	cfg->redundant_groups = (unsigned)v;
	if (get_int(d, root, "redundant_nodes", 1, 0, UINT_MAX,
	    "a non-negative integer (backends that may be lost in each group)",
	    &v, NULL) == -1)
		return -1;
	cfg->redundant_nodes = (unsigned)v;
	if ((rc = get_int(d, root, "max_zdb_data_dir_size", 0, 0, INT64_MAX,
	    "a size in MiB (a non-negative integer)", &v, NULL)) == -1)
		return -1;
	cfg->has_max_zdb_data_dir_size = rc;
	cfg->max_zdb_data_dir_size = rc ? (uint64_t)v : 0;
	/* max_zdb_data_dir_size = 0 keeps upstream's meaning, a limit of 0 MiB:
	 * every file already stored may be evicted. */
	/* prometheus_port = 0 serves no metrics, like leaving it out: upstream
	 * binds a random port that nothing can find to scrape. */
	if ((rc = get_int(d, root, "prometheus_port", 0, 0, 65535,
	    "a port number from 1 to 65535, or 0 for none", &v, NULL)) == -1)
		return -1;
	cfg->prometheus_port = rc && v > 0 ? (int)v : -1;
	return 0;
}

static int
decode_root(const struct dec *d, const struct toml_node *root,
    struct config *cfg)
{
	static const char *const known[] = {
		"minimal_shards", "expected_shards", "redundant_groups",
		"redundant_nodes", "root", "socket", "pid_file",
		"zdb_data_dir_path", "max_zdb_data_dir_size",
		"zdbfs_mountpoint", "prometheus_port", "encryption",
		"compression", "meta", "groups", NULL
	};
	const struct toml_entry *enc;

	if (deny_unknown(d, root, "", "the top level", known) == -1 ||
	    decode_numbers(d, root, cfg) == -1 ||
	    get_path(d, root, "root", 1, &cfg->root) == -1 ||
	    get_path(d, root, "socket", 1, &cfg->socket) == -1 ||
	    get_path(d, root, "pid_file", 0, &cfg->pid_file) == -1 ||
	    get_path(d, root, "zdb_data_dir_path", 0,
	    &cfg->zdb_data_dir_path) == -1 ||
	    get_path(d, root, "zdbfs_mountpoint", 0,
	    &cfg->zdbfs_mountpoint) == -1)
		return -1;
	if (lookup(d, root, "", "encryption", TOML_TABLE,
	    "a table [encryption]", 1, &enc) == -1 ||
	    decode_encryption(d, enc->value, "encryption", "[encryption]",
	    cfg->key) == -1)
		return -1;
	if (decode_compression(d, root) == -1 ||
	    decode_meta(d, root, cfg) == -1)
		return -1;
	return decode_groups(d, root, cfg);
}

static void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prometheus_port = -1;
}

int
config_decode(const char *text, size_t len, const char *filename,
    struct config *cfg, struct err *e)
{
	struct toml_node *root;
	struct dec d;
	int rc;

	config_init(cfg);
	d.file = filename != NULL ? filename : "<config>";
	d.e = e;
	if ((cfg->path = strdup(d.file)) == NULL)
		return err_set(e, "%s: out of memory", d.file);
	if ((root = toml_parse(text, len, d.file, e)) == NULL) {
		config_free(cfg);
		return -1;
	}
	rc = decode_root(&d, root, cfg);
	toml_free(root);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

static int
cmp_desc(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* With n shards spread over groups of these capacities (sorted descending) as
 * evenly as they allow, the sum of the rg largest loads. Even spreading makes
 * every "sum of the largest" as small as any distribution can. -1 when the
 * groups cannot hold n shards. */
static int
min_top_load(const size_t *cap, size_t k, uint64_t n, uint64_t rg,
    uint64_t *top)
{
	uint64_t left = n, q, r, take, t = 0;
	size_t g = k, j;

	/* a small group fills up below the level */
	while (g > 0 && (uint64_t)cap[g - 1] * g <= left)
		left -= cap[--g];
	if (g == 0 && left > 0)
		return -1;
	if (g > 0) {
		q = left / g;
		r = left % g;
		take = rg < g ? rg : g;
		t = (take < r ? take : r) * (q + 1) +
		    (take - (take < r ? take : r)) * q;
	}
	for (j = g; j < k && j < rg; j++)
		t += cap[j];	/* the largest of the filled-up groups */
	*top = t;
	return 0;
}

/* How well the groups can carry the policy, as placement.c draws. A usable set
 * has more than redundant_groups and at most max_groups groups, each with at
 * least redundant_nodes backends; for a given size the largest groups are the
 * best set on every count below, so only "the largest k" need be tried. */
struct policy_eval {
	uint64_t max_groups;
	size_t nusable;		/* groups with at least redundant_nodes
				 * backends */
	int any_size;		/* some set size is allowed at all */
	int candidate;		/* some set passes upstream's candidate test
				 * (step 3) */
	uint64_t best_spare;	/* most backends beyond redundant_nodes in a
				 * set */
	int64_t best_left;	/* most shards left after the losses (step 5,
				 * signed); INT64_MIN when no candidate can
				 * hold the shards */
};

static int
evaluate_policy(const struct config *cfg, struct policy_eval *pe)
{
	uint64_t n = cfg->expected_shards, m = cfg->minimal_shards;
	uint64_t rg = cfg->redundant_groups, rn = cfg->redundant_nodes,
	    spare = 0, top;
	size_t *cap, i, k, nf = 0;
	int64_t left;

	memset(pe, 0, sizeof(*pe));
	pe->best_left = INT64_MIN;
	pe->max_groups = rn == 0 ? cfg->ngroups : (n - m) / rn + rg;
	if ((cap = calloc(cfg->ngroups + 1, sizeof(*cap))) == NULL)
		return -1;
	for (i = 0; i < cfg->ngroups; i++)
		if (cfg->groups[i].nbackends >= rn)
			cap[nf++] = cfg->groups[i].nbackends;
	qsort(cap, nf, sizeof(*cap), cmp_desc);
	pe->nusable = nf;
	for (k = 1; k <= nf; k++) {
		spare += cap[k - 1] - rn;
		if (k <= rg || k > pe->max_groups)
			continue;
		pe->any_size = 1;
		if (spare > pe->best_spare)
			pe->best_spare = spare;
		if (spare < m)
			continue;
		pe->candidate = 1;
		if (min_top_load(cap, k, n, rg, &top) == -1)
			continue;
		left = (int64_t)(n - top) - (int64_t)((k - rg) * rn);
		if (left > pe->best_left)
			pe->best_left = left;
	}
	free(cap);
	return 0;
}

static const char *
config_file(const struct config *cfg)
{
	return cfg->path != NULL ? cfg->path : "<config>";
}

/* upstream's candidate test: without it placement fails with "could not find
 * any viable backend distribution". */
static int
check_redundancy(const struct config *cfg, struct err *e)
{
	struct policy_eval pe;

	if (evaluate_policy(cfg, &pe) == -1)
		return err_set(e, "%s: out of memory", config_file(cfg));
	if (pe.candidate)
		return 0;
	if (!pe.any_size)
		return err_set(e, "%s:%d: redundant_groups: could not find any "
		    "viable backend distribution to satisfy the redundancy "
		    "requirement: a write needs more than redundant_groups "
		    "(%u) and at most %" PRIu64 " groups with at least "
		    "redundant_nodes (%u) backends each, and %zu of the %zu "
		    "groups have that many", config_file(cfg),
		    cfg->line.redundant_groups, cfg->redundant_groups,
		    pe.max_groups, cfg->redundant_nodes, pe.nusable,
		    cfg->ngroups);
	return err_set(e, "%s:%d: redundant_groups: could not find any viable "
	    "backend distribution to satisfy the redundancy requirement: a "
	    "write needs more than redundant_groups (%u) and at most %" PRIu64
	    " groups whose backends beyond redundant_nodes (%u) in each add up "
	    "to at least minimal_shards (%u); the best such set has %" PRIu64,
	    config_file(cfg), cfg->line.redundant_groups, cfg->redundant_groups,
	    pe.max_groups, cfg->redundant_nodes, cfg->minimal_shards,
	    pe.best_spare);
}

int
config_check_writable(const struct config *cfg, struct err *e)
{
	struct policy_eval pe;

	if (config_validate(cfg, e) == -1)
		return -1;
	if (evaluate_policy(cfg, &pe) == -1)
		return err_set(e, "%s: out of memory", config_file(cfg));
	if (pe.best_left >= (int64_t)cfg->minimal_shards)
		return 0;
	return err_set(e, "%s:%d: redundant_groups: unable to find a valid "
	    "configuration due to redundancy settings: after losing the %u "
	    "largest group(s) and %u backend(s) in every other group, the best "
	    "spread of %u shards keeps %" PRId64 ", fewer than minimal_shards "
	    "(%u), so every store would fail; add groups or backends, or lower "
	    "redundant_groups/redundant_nodes", config_file(cfg),
	    cfg->line.redundant_groups, cfg->redundant_groups,
	    cfg->redundant_nodes, cfg->expected_shards,
	    pe.best_left < 0 ? 0 : pe.best_left, cfg->minimal_shards);
}

int
config_validate(const struct config *cfg, struct err *e)
{
	const char *file = config_file(cfg);
	size_t n = config_nbackends(cfg);

	if (cfg->minimal_shards >= cfg->expected_shards)
		return err_set(e, "%s:%d: minimal_shards: expected less than "
		    "expected_shards (%u), got %u: at least one parity shard "
		    "is needed", file, cfg->line.minimal_shards,
		    cfg->expected_shards, cfg->minimal_shards);
	if (n < cfg->expected_shards)
		return err_set(e, "%s:%d: expected_shards: insufficient data "
		    "backends, require at least %u, only found %zu", file,
		    cfg->line.expected_shards, cfg->expected_shards, n);
	return check_redundancy(cfg, e);
}

int
config_parse(const char *text, size_t len, const char *filename,
    struct config *cfg, struct err *e)
{
	if (config_decode(text, len, filename, cfg, e) == -1)
		return -1;
	if (config_validate(cfg, e) == -1) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

static int
read_config_file(const char *path, char **text, size_t *len, struct err *e)
{
	struct stat st;
	ssize_t got;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_set(e, "cannot read config file %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		err_set(e, "cannot read config file %s: %s", path,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		err_set(e, "cannot read config file %s: not a regular file",
		    path);
	else if (st.st_size > CONFIG_FILE_MAX)
		err_set(e, "cannot read config file %s: larger than 16 MiB",
		    path);
	else
		goto read;
	close(fd);
	return -1;
read:
	if ((*text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(e, "cannot read config file %s: out of memory",
		    path);
	}
	while (off < (size_t)st.st_size) {
		if ((got = read(fd, *text + off,
		    (size_t)st.st_size - off)) == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		off += (size_t)got;
	}
	close(fd);
	*len = off;
	return 0;
}

int
config_load(const char *path, struct config *cfg, struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	config_init(cfg);
	if (read_config_file(path, &text, &len, e) == -1)
		return -1;
	rc = config_parse(text, len, path, cfg, e);
	explicit_bzero(text, len);	/* it holds the encryption key */
	free(text);
	return rc;
}

static void
free_str(char **s)
{
	free(*s);
	*s = NULL;
}

void
config_free(struct config *cfg)
{
	size_t g, b;

	free_str(&cfg->path);
	free_str(&cfg->root);
	free_str(&cfg->socket);
	free_str(&cfg->pid_file);
	free_str(&cfg->zdb_data_dir_path);
	free_str(&cfg->zdbfs_mountpoint);
	free_str(&cfg->meta_prefix);
	for (b = 0; b < META_BACKENDS; b++)
		ci_free(&cfg->meta_backends[b]);
	for (g = 0; g < cfg->ngroups; g++) {
		for (b = 0; b < cfg->groups[g].nbackends; b++)
			ci_free(&cfg->groups[g].backends[b]);
		free(cfg->groups[g].backends);
	}
	free(cfg->groups);
	explicit_bzero(cfg, sizeof(*cfg));	/* the keys */
	cfg->prometheus_port = -1;
}

size_t
config_nbackends(const struct config *cfg)
{
	size_t g, n = 0;

	for (g = 0; g < cfg->ngroups; g++)
		n += cfg->groups[g].nbackends;
	return n;
}
