/* The zstor config file: upstream's TOML schema, parsed strictly, fully validated.
 * Every error says file:line, the key, and what is expected. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum addr_kind {
	ADDR_IP4,	/* a.b.c.d:port */
	ADDR_IP6,	/* [v6]:port */
	ADDR_UNIX,	/* unix:/path  (0-db on a unix socket; our extension) */
	ADDR_DIR,	/* dir:/path   (local directory backend; our extension) */
};

#define ADDR_PATH_MAX 256

struct zaddr {
	enum addr_kind kind;
	uint8_t ip[16];		/* 4 bytes used for ADDR_IP4 */
	uint16_t port;
	char path[ADDR_PATH_MAX];	/* ADDR_UNIX, ADDR_DIR */
};

/* One backend as configured and as recorded in metadata ("ci" upstream).
 * ns and password are NULL when absent. */
struct backend_ci {
	struct zaddr addr;
	char *ns;
	char *password;
};

struct group {
	size_t nbackends;
	struct backend_ci *backends;
};

#define META_BACKENDS 4

struct config {
	char *path;			/* file it was loaded from */
	unsigned minimal_shards;	/* M */
	unsigned expected_shards;	/* N */
	unsigned redundant_groups;
	unsigned redundant_nodes;
	char *root;			/* optional: NULL when absent */
	char *socket;
	char *pid_file;
	char *zdb_data_dir_path;
	int has_max_zdb_data_dir_size;
	uint64_t max_zdb_data_dir_size;	/* MiB */
	char *zdbfs_mountpoint;
	int prometheus_port;		/* -1 when absent */
	uint8_t key[32];		/* [encryption] key: data and metadata */
	char *meta_prefix;		/* [meta.config] prefix */
	uint8_t meta_key[32];		/* [meta.config.encryption]: parsed, unused (as upstream) */
	struct backend_ci meta_backends[META_BACKENDS];
	size_t ngroups;
	struct group *groups;
	/* Lines of the keys that config_validate's errors point at. */
	struct {
		int minimal_shards, expected_shards, redundant_groups;
	} line;
};

/* config_parse is config_decode then config_validate; on failure cfg is left empty
 * (config_free on it is harmless). */
int config_load(const char *path, struct config *cfg, struct err *e);
/* filename only labels errors. */
int config_parse(const char *text, size_t len, const char *filename, struct config *cfg,
    struct err *e);
/* The schema alone: types, unknown keys, per-key ranges, keys, addresses,
 * exactly 4 metadata backends, no empty group. */
int config_decode(const char *text, size_t len, const char *filename, struct config *cfg,
    struct err *e);
/* Across keys: minimal < expected shards, enough data backends, and a shard
 * distribution that satisfies redundant_groups/redundant_nodes exists. */
int config_validate(const struct config *cfg, struct err *e);
/* Stricter than config_validate, for a start-up warning: some spread of the shards
 * keeps minimal_shards after losing the redundant_groups largest groups and
 * redundant_nodes backends in every other group (placement's own test, with signed
 * sums). upstream loads configs failing it, and every store then fails. */
int config_check_writable(const struct config *cfg, struct err *e);
void config_free(struct config *cfg);
size_t config_nbackends(const struct config *cfg);

/* "1.2.3.4:9900", "[::1]:9900", "unix:/run/zdb.sock", "dir:/srv/disk1". */
int zaddr_parse(const char *s, struct zaddr *a, struct err *e);
/* Rust SocketAddr Display for IPs ("[::1]:9900"); "unix:/p", "dir:/p" otherwise. */
void zaddr_format(const struct zaddr *a, char *out, size_t len);
int zaddr_equal(const struct zaddr *a, const struct zaddr *b);

/* Identity is the whole triple (address, namespace, password). */
int ci_equal(const struct backend_ci *a, const struct backend_ci *b);
int ci_copy(struct backend_ci *dst, const struct backend_ci *src);	/* deep copy */
void ci_free(struct backend_ci *ci);
/* "address/namespace" ("default" when absent), for messages and logs. */
void ci_name(const struct backend_ci *ci, char *out, size_t len);

#endif
