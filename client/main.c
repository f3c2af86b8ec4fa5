/* zstor: store, retrieve, rebuild, check, status and test, with upstream's
 * command line. Without `socket` in the config every command runs in this
 * process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "heap.h"
#include "log.h"
#include "placement.h"
#include "version.h"


int main(int argc, char **argv);

struct command {
	const char *name;
	int (*run)(struct cli *, int, char **);
	const char *usage;
};

static const struct command commands[] = {
	{ "store", cmd_store,
	  "zstor store -f <file> [-k <key-path>] [-d] [-n] [-s] [-e]\n"
	  "  -f, --file <file>          file, or directory of files, to store\n"
	  "  -k, --key-path <dir>       compute the key as if the file lived "
	  "in <dir>\n"
	  "  -d, --delete               delete the file after a successful "
	  "upload\n"
	  "  -n, --notblocking          daemon only: return at once, store in "
	  "background\n"
	  "  -s, --save-failure         record a failed store for a later "
	  "retry\n"
	  "  -e, --error-on-failure     accepted for compatibility\n" },
	{ "retrieve", cmd_retrieve,
	  "zstor retrieve -f <file>\n"
	  "  -f, --file <file>          path the file was stored under "
	  "(absolute)\n" },
	{ "rebuild", cmd_rebuild,
	  "zstor rebuild (-f <file> | -k <key>)\n"
	  "  -f, --file <file>          path of a stored file\n"
	  "  -k, --key <key>            metadata key, e.g. "
	  "/prefix/meta/<hex>\n" },
	{ "check", cmd_check,
	  "zstor check -f <file>\n"
	  "  -f, --file <file>          prints the stored BLAKE2b-128 "
	  "checksum, if any\n" },
	{ "status", cmd_status,
	  "zstor status\n  shows every metadata and data backend\n" },
	{ "test", cmd_test,
	  "zstor test\n  connects to every data backend and checks the "
	  "placement\n" },
	{ "monitor", cmd_monitor,
	  "zstor monitor\n  runs the daemon (zstor-master) in the "
	  "foreground\n" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "zstor %s: compresses, encrypts and erasure-codes files "
	    "onto 0-db backends\n\n"
	    "usage: zstor [-c <config>] [-d] [--log_file <file>] <command> "
	    "[options]\n\n"
	    "  -c, --config <file>   config file (default zstor_config.toml)\n"
	    "  -d, --debug           debug logging\n"
	    "      --log_file <file> log file (default zstor.log)\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         the version, the commit and the library "
	    "versions\n\ncommands:\n", zstor_version);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s", commands[i].usage);
}

/* Parses global options; returns the index of the subcommand or -1 / -2
 * (done). */
static int
parse_global(struct cli *c, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
		    strcmp(a, "help") == 0) {
			usage(stdout);
			return -2;
		} else if (strcmp(a, "-V") == 0 ||
		    strcmp(a, "--version") == 0) {
			version_print(stdout, "zstor");
			return -2;
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
			c->debug = 1;
		} else if (strncmp(a, "--config=", 9) == 0) {
			c->config_path = a + 9;
		} else if (strncmp(a, "--log_file=", 11) == 0) {
			c->log_file = a + 11;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--log_file") == 0) {
			if (i + 1 >= argc) {
				cli_error("%s needs a value", a);
				return -1;
			}
			if (strcmp(a, "--log_file") == 0)
				c->log_file = argv[++i];
			else
				c->config_path = argv[++i];
		} else if (strncmp(a, "-c", 2) == 0) {
			c->config_path = a + 2;
		} else if (a[0] == '-') {
			cli_error("unknown option %s (options go before the "
			    "command; see `zstor --help`)", a);
			return -1;
		} else
			return i;
	}
	cli_error("no command given (one of store, retrieve, rebuild, check, "
	    "status, test, monitor; see `zstor --help`)");
	return -1;
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c = { .config_path = "zstor_config.toml",
	    .log_file = "zstor.log" };
	const struct command *cmd;
	struct err e;
	int at, rc;

	if ((at = parse_global(&c, argc, argv)) < 0)
		return at == -2 ? 0 : EXIT_USAGE;
	if ((cmd = find_command(argv[at])) == NULL) {
		cli_error("unknown command '%s' (see `zstor --help`)",
		    argv[at]);
		return EXIT_USAGE;
	}
	if (wants_help(argc - at - 1, argv + at + 1)) {
		fputs(cmd->usage, stdout);
		return 0;
	}
	if (log_init(c.log_file, c.debug) < 0) {
		cli_error("cannot open log file %s: %s (choose another with "
		    "--log_file)", c.log_file, strerror(errno));
		return 1;
	}
	if (config_load(c.config_path, &c.cfg, &e) < 0) {
		cli_error("%s", e.msg);
		log_warnx("%s", e.msg);
		return 1;
	}
	pool_init(&c.pool, pool_timeout_ms());
	metastore_init(&c.ms, &c.cfg, &c.pool);
	/* A policy no spread meets: say what stores really get, or that they
	 * fail, before a store or test. */
	if (policy_note(&c.cfg, e.msg, sizeof(e.msg)) != POLICY_MET) {
		log_warnx("%s", e.msg);
		if (strcmp(cmd->name, "store") == 0 ||
		    strcmp(cmd->name, "test") == 0)
			cli_error("warning: %s", e.msg);
	}
	heap_keep();
	rc = cmd->run(&c, argc - at - 1, argv + at + 1);
	pool_free(&c.pool);
	config_free(&c.cfg);
	return rc;
}
