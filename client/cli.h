/* zstor command line: global options, the subcommands, and what they share. */
#ifndef CLI_H
#define CLI_H

#include "config.h"
#include "metastore.h"
#include "pool.h"

#define EXIT_USAGE 2

struct cli {
	const char *config_path;
	const char *log_file;
	int debug;
	struct config cfg;
	struct pool pool;
	struct metastore ms;
};

/* A subcommand's flags: long name, short letter (0 for none), whether it takes
 * a value. Parsed values land in vals[i] ("1" for switches, NULL when
 * absent). */
struct opt {
	const char *name;
	char letter;
	int takes_value;
};

/* Returns 0, or -1 after printing a usage error. */
int cli_parse(const char *cmd, const struct opt *opts, size_t nopts, int argc,
    char **argv, const char **vals);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_store(struct cli *c, int argc, char **argv);
/* store: one file, with the store command's parsed flags; -1 or a DAEMON_
 * code with e filled. */
int store_one(struct cli *c, const char *path, const char **vals,
    struct err *e);
/* store: every regular file directly inside dir; the exit status. */
int store_dir(struct cli *c, const char *dir, const char **vals);
int cmd_retrieve(struct cli *c, int argc, char **argv);
int cmd_rebuild(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_test(struct cli *c, int argc, char **argv);

#endif
