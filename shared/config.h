/* The zstor config file: upstream's TOML schema, parsed strictly, fully
 * validated. Every error says file:line, the key, and what is expected. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

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
	uint8_t key[32];		/* [encryption] key: data and
					 * metadata */
	char *meta_prefix;		/* [meta.config] prefix */
	uint8_t meta_key[32];		/* [meta.config.encryption]: parsed,
					 * unused (as upstream) */
	struct backend_ci meta_backends[META_BACKENDS];
	size_t ngroups;
	struct group *groups;
	/* Lines of the keys that config_validate's errors point at. */
	struct {
		int minimal_shards, expected_shards, redundant_groups;
	} line;
};

/* config_parse is config_decode then config_validate; on failure cfg is left
 * empty (config_free on it is harmless). */
int config_load(const char *path, struct config *cfg, struct err *e);
/* filename only labels errors. */
int config_parse(const char *text, size_t len, const char *filename,
    struct config *cfg, struct err *e);
/* The schema alone: types, unknown keys, per-key ranges, keys, addresses,
 * exactly 4 metadata backends, no empty group. */
int config_decode(const char *text, size_t len, const char *filename,
    struct config *cfg, struct err *e);
/* Across keys: minimal < expected shards, enough data backends, and a shard
 * distribution that satisfies redundant_groups/redundant_nodes exists. */
int config_validate(const struct config *cfg, struct err *e);
/* Stricter than config_validate, for a start-up warning: some spread of the
 * shards keeps minimal_shards after losing the redundant_groups largest groups
 * and redundant_nodes backends in every other group (placement's own test, with
 * signed sums). upstream loads configs failing it, and every store then
 * fails. */
int config_check_writable(const struct config *cfg, struct err *e);
void config_free(struct config *cfg);
size_t config_nbackends(const struct config *cfg);

#endif
