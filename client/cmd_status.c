/* zstor status (every backend, reachable or not, with real free space) and
 * zstor test (every data backend reachable, placement possible). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "placement.h"
#include "table.h"

static const char *const titles[] = {
	"backend", "reachable", "objects", "used space", "free space",
	"usage percentage",
};

/*
 * One backend's row.  A backend that cannot be used says why in the reachable
 * column ("No (wrong password)"), and in full on stderr; upstream says "No".
 * (The daemon's health table, with the time of each state, is to come with its
 * health checker: it will print here, before these rows.)
 */
static void
status_row(struct cli *c, struct table *t, const struct backend_ci *ci,
    enum ns_mode mode)
{
	char addr[300], name[400], n[4][32], no[48];
	struct backend *b;
	struct bop op;
	struct err e;

	zaddr_format(&ci->addr, addr, sizeof(addr));
	snprintf(name, sizeof(name), "%s - %s", addr,
	    ci->ns ? ci->ns : "default");
	memset(&op, 0, sizeof(op));
	op.kind = BOP_NSINFO;
	if ((op.b = b = pool_get(&c->pool, ci, mode, &e)) != NULL)
		backend_run(&op, 1, c->pool.timeout_ms);
	if (b == NULL || op.rc != 0) {
		const char *row[] = { name, no, "-", "-", "-", "-" };
		const char *why = b != NULL ? op.err.msg : e.msg;

		if (b != NULL)
			log_warnx("Failed to get namespace info: %s",
			    op.err.msg);
		snprintf(no, sizeof(no), "No (%s)", backend_cause(why));
		fprintf(stderr, "zstor: status: %s\n", why);
		table_add(t, row);
		return;
	}
	snprintf(n[0], sizeof(n[0]), "%" PRIu64, op.info.entries);
	snprintf(n[1], sizeof(n[1]), "%" PRIu64, op.info.data_size_bytes);
	snprintf(n[2], sizeof(n[2]), "%" PRIu64, nsinfo_free_space(&op.info));
	snprintf(n[3], sizeof(n[3]), "%u", nsinfo_usage_percent(&op.info));
	{
		const char *row[] = { name, nsinfo_free_space(&op.info) == 0 ?
		    "Yes (full)" : "Yes", n[0], n[1], n[2], n[3] };

		table_add(t, row);
	}
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	struct table t;
	size_t g, j;
	int i;

	(void)argv;
	if (argc > 0) {
		cli_error("status takes no arguments");
		return EXIT_USAGE;
	}
	table_init(&t, 6, "llrrrr", titles);
	for (i = 0; i < META_BACKENDS; i++)
		status_row(c, &t, &c->cfg.meta_backends[i], NS_USERKEY);
	table_print(&t, stdout);
	table_free(&t);
	table_init(&t, 6, "llrrrr", titles);
	for (g = 0; g < c->cfg.ngroups; g++)
		for (j = 0; j < c->cfg.groups[g].nbackends; j++)
			status_row(c, &t, &c->cfg.groups[g].backends[j],
			    NS_SEQUENTIAL);
	table_print(&t, stdout);
	table_free(&t);
	return 0;
}

int
cmd_test(struct cli *c, int argc, char **argv)
{
	struct placement_policy pp;
	struct bref refs[256];
	struct err e;
	size_t g, j;

	(void)argv;
	if (argc > 0) {
		cli_error("test takes no arguments");
		return EXIT_USAGE;
	}
	for (g = 0; g < c->cfg.ngroups; g++)
		for (j = 0; j < c->cfg.groups[g].nbackends; j++)
			if (pool_get(&c->pool, &c->cfg.groups[g].backends[j],
			    NS_SEQUENTIAL, &e) == NULL) {
				cli_error("test: %s", e.msg);
				return 1;
			}
	if (placement_pick(&c->cfg, NULL, refs, &e) < 0) {
		cli_error("test: %s", e.msg);
		return 1;
	}
	if (placement_policy(&c->cfg, &pp, &e) < 0)
		pp.how = PLACED_SIGNED;
	/* Upstream prints nothing; one line says what was checked. */
	printf("ok: %zu data backends in %zu groups reachable; %u shards (any "
	    "%u " "rebuild an object) %s\n", config_nbackends(&c->cfg),
	    c->cfg.ngroups, c->cfg.expected_shards, c->cfg.minimal_shards,
	    pp.how == PLACED_WRAP ?
	    "are placed as upstream places this policy (see the warning)" :
	    "can be placed as the redundancy policy asks");
	return 0;
}
