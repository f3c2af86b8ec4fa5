/* zstor rebuild: recreate an object's unreadable shards on healthy backends. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "obj.h"
#include "store.h"

enum { O_FILE, O_KEY };

static const struct opt rebuild_opts[] = {
	{ "file", 'f', 1 }, { "key", 'k', 1 }
};

static int
rebuild_key(struct cli *c, const char *key, struct err *e)
{
	struct metadata m, nm;
	int changed, rc = metastore_load(&c->ms, key, &m, e);

	if (rc == 1)
		return err_set(e, "no metadata found for file (key %s)", key);
	if (rc < 0)
		return -1;
	rc = obj_rebuild(&c->cfg, &c->pool, &m, -1, &nm, &changed, e);
	if (rc == 0 && changed) {
		rc = store_commit(&c->ms, &c->pool, key, &nm, &m, e);
		meta_free(&nm);
	}
	meta_free(&m);
	return rc;
}

int
cmd_rebuild(struct cli *c, int argc, char **argv)
{
	const char *vals[2], *what;
	char key[512];
	struct err e;
	int rc;

	if (cli_parse("rebuild", rebuild_opts, 2, argc, argv, vals) < 0)
		return EXIT_USAGE;
	if ((vals[O_FILE] == NULL) == (vals[O_KEY] == NULL)) {
		cli_error("rebuild: %s", vals[O_FILE] ?
		    "Only one of `file` or `key` argument must be set" :
		    "Either `file` or `key` argument must be set");
		return EXIT_USAGE;
	}
	what = vals[O_FILE] ? vals[O_FILE] : vals[O_KEY];
	if (c->cfg.socket != NULL) {
		if ((rc = daemon_rebuild(c, vals[O_FILE], vals[O_KEY], &e)) < 0)
			report_failure("rebuild", what, rc, &e);
		return rc < 0 ? 1 : 0;
	}
	if (vals[O_KEY])
		strlcpy(key, vals[O_KEY], sizeof(key));
	if ((vals[O_FILE] &&
	    metastore_key(&c->ms, vals[O_FILE], key, sizeof(key), &e) < 0) ||
	    metastore_writable(&c->ms, &e) < 0 || rebuild_key(c, key, &e) < 0) {
		cli_error("rebuild %s: %s", what, e.msg);
		log_warnx("rebuild %s: %s", what, e.msg);
		return 1;
	}
	return 0;
}
