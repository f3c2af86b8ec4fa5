/* zstor store: one file, or every regular file directly inside a directory
 * (store_dir.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "fileid.h"
#include "filepaths.h"
#include "log.h"
#include "obj.h"
#include "progress.h"
#include "store.h"

enum { O_FILE, O_KEY_PATH, O_ERROR_ON_FAILURE, O_SAVE_FAILURE, O_DELETE,
    O_NOTBLOCKING };

static const struct opt store_opts[] = {
	{ "file", 'f', 1 }, { "key-path", 'k', 1 },
	{ "error-on-failure", 'e', 0 }, { "save-failure", 's', 0 },
	{ "delete", 'd', 0 }, { "notblocking", 'n', 0 },
};

/* Uploads the sealed file under key unless store_unchanged says it is there. */
static int
store_sealed(struct cli *c, const char *path, const char *key,
    const struct sealed *s, struct err *e)
{
	struct metadata old, m;
	int settled, found, rc;

	if ((found = metastore_load_state(&c->ms, key, &old, &settled,
	    e)) == -1)
		return -1;
	if (found == 0 && store_unchanged(&c->pool, &old, s->checksum, path,
	    key)) {
		rc = settled ? 0 : store_commit(&c->ms, &c->pool, key, &old,
		    &old, e);
		meta_free(&old);
		return rc;
	}
	if (found == 0)
		meta_free(&old);
	if (obj_write(&c->cfg, &c->pool, s, &m, e) < 0)
		return -1;
	rc = store_commit(&c->ms, &c->pool, key, &m, NULL, e);
	meta_free(&m);
	return rc;
}

/* The daemon reads the file through the descriptor opened here, with the
 * caller's permissions, never by path. */
static int
store_via_daemon(struct cli *c, const char *path, const char *keypath,
    const char **vals, int fd, struct err *e)
{
	char abspath[PATH_MAX + 1];
	struct store_req r = { .path = abspath, .key_path = keypath,
	    .del = vals[O_DELETE] != NULL,
	    .blocking = vals[O_NOTBLOCKING] == NULL,
	    .save_failure = vals[O_SAVE_FAILURE] != NULL };

	if (store_key_path(path, NULL, abspath, sizeof(abspath), e) < 0)
		return -1;
	return daemon_store(c, &r, fd, e);
}

int
store_one(struct cli *c, const char *path, const char **vals, struct err *e)
{
	char keypath[PATH_MAX + 1], key[512];
	struct sealed s = { .fd = -1 };
	struct file_id read_as;
	struct err del;
	struct progress pg = { .running = 0 };
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "only regular files can be stored");
	}
	if (store_key_path(path, vals[O_KEY_PATH], keypath, sizeof(keypath),
	    e) < 0)
		goto done;
	progress_start(&pg, "store", path, fd, (uint64_t)st.st_size, 1);
	if (c->cfg.socket != NULL) {
		rc = store_via_daemon(c, path, keypath, vals, fd, e);
		goto done;
	}
	file_id_from_stat(&st, &read_as);
	if (metastore_key(&c->ms, keypath, key, sizeof(key), e) < 0 ||
	    obj_seal(fd, -1, c->cfg.key, &s, e) < 0)
		goto done;
	if (store_sealed(c, path, key, &s, e) < 0)
		goto done;
	log_info("stored %s as %s", path, key);
	if (vals[O_DELETE] && file_unlink_same(path, &read_as, &del) == -1)
		log_warnx("%s", del.msg);
	rc = 0;
done:
	progress_stop(&pg);
	sealed_close(&s);
	close(fd);
	return rc;
}

int
cmd_store(struct cli *c, int argc, char **argv)
{
	const char *vals[sizeof(store_opts) / sizeof(store_opts[0])];
	struct stat st;
	struct err e;
	int rc;

	if (cli_parse("store", store_opts,
	    sizeof(store_opts) / sizeof(store_opts[0]), argc, argv, vals) < 0)
		return EXIT_USAGE;
	if (vals[O_FILE] == NULL) {
		cli_error("store: --file <file> is required (see `zstor store "
		    "--help`)");
		return EXIT_USAGE;
	}
	if (stat(vals[O_FILE], &st) < 0) {
		cli_error("store %s: %s", vals[O_FILE], strerror(errno));
		return 1;
	}
	if (c->cfg.socket == NULL && metastore_writable(&c->ms, &e) < 0) {
		cli_error("store %s: %s", vals[O_FILE], e.msg);
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		return store_dir(c, vals[O_FILE], vals);
	if ((rc = store_one(c, vals[O_FILE], vals, &e)) < 0) {
		report_failure("store", vals[O_FILE], rc, &e);
		return 1;
	}
	return 0;
}
