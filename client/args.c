/* Subcommand flag parsing in the style of upstream's command line:
 * --name VALUE, --name=VALUE, -x VALUE, -xVALUE, and bundled switches -de. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("zstor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
find_long(const struct opt *opts, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int
find_short(const struct opt *opts, size_t n, char letter)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (opts[i].letter == letter)
			return (int)i;
	return -1;
}

static int
parse_long(const char *cmd, const struct opt *opts, size_t n, char **argv,
    int *i, const char **vals)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	int k = find_long(opts, n, arg, eq ? (size_t)(eq - arg) : strlen(arg));

	if (k < 0) {
		cli_error("%s: unknown option --%s (see `zstor %s --help`)",
		    cmd, arg, cmd);
		return -1;
	}
	if (!opts[k].takes_value) {
		if (eq) {
			cli_error("%s: --%s takes no value", cmd, opts[k].name);
			return -1;
		}
		vals[k] = "1";
	} else if (eq) {
		vals[k] = eq + 1;
	} else if (argv[*i + 1] != NULL) {
		vals[k] = argv[++*i];
	} else {
		cli_error("%s: --%s needs a value", cmd, opts[k].name);
		return -1;
	}
	return 0;
}

static int
parse_short(const char *cmd, const struct opt *opts, size_t n, char **argv,
    int *i, const char **vals)
{
	const char *p = argv[*i] + 1;

	for (; *p; p++) {
		int k = find_short(opts, n, *p);

		if (k < 0) {
			cli_error("%s: unknown option -%c (see `zstor %s "
			    "--help`)", cmd, *p, cmd);
			return -1;
		}
		if (!opts[k].takes_value) {
			vals[k] = "1";
			continue;
		}
		if (p[1] != '\0')
			vals[k] = p + 1;
		else if (argv[*i + 1] != NULL)
			vals[k] = argv[++*i];
		else {
			cli_error("%s: -%c needs a value", cmd, *p);
			return -1;
		}
		break;
	}
	return 0;
}

int
cli_parse(const char *cmd, const struct opt *opts, size_t nopts, int argc,
    char **argv, const char **vals)
{
	int i;

	memset(vals, 0, nopts * sizeof(*vals));
	for (i = 0; i < argc; i++) {
		int rc;

		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
			rc = parse_long(cmd, opts, nopts, argv, &i, vals);
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			rc = parse_short(cmd, opts, nopts, argv, &i, vals);
		else {
			cli_error("%s: unexpected argument '%s' (see `zstor %s "
			    "--help`)", cmd, argv[i], cmd);
			rc = -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}
