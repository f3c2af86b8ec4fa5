/* zstor retrieve and zstor check. A retrieve writes to a temporary file beside
 * the target and renames it into place only after the tag and the file checksum
 * match: a good file is never replaced by a half-written or wrong one, and the
 * new one keeps the old one's mode, owner and group. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "filepaths.h"
#include "hex.h"
#include "log.h"
#include "obj.h"
#include "progress.h"

static const struct opt file_opt[] = { { "file", 'f', 1 } };

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The temporary file being written, removed if the user interrupts us: an
 * interrupted retrieve leaves nothing behind, like a failed one. */
static char pending_tmp[PATH_MAX + 32];

static void
on_interrupt(int sig)
{
	if (pending_tmp[0] != '\0')
		unlink(pending_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
guard_tmp(const char *tmp)
{
	struct sigaction sa;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP }, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tmp ? on_interrupt : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	if (tmp)
		strlcpy(pending_tmp, tmp, sizeof(pending_tmp));
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, NULL);
	if (!tmp)
		pending_tmp[0] = '\0';
}

static int
write_into_place(struct cli *c, const struct metadata *m, const char *path,
    struct err *e)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], tmp[PATH_MAX + 32], *dir;
	struct progress pg;
	mode_t mask;
	int fd, rc = -1;

	strlcpy(dcopy, path, sizeof(dcopy));
	strlcpy(bcopy, path, sizeof(bcopy));
	dir = dirname(dcopy);
	mask = umask(0);
	umask(mask);
	if (make_dirs(dir, 022, e) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/.%s.zstor-XXXXXX", dir, basename(bcopy));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return err_set(e, "cannot create a temporary file in %s: %s",
		    dir, strerror(errno));
	guard_tmp(tmp);
	progress_start(&pg, "retrieve", path, fd, 0, 0);
	if (m == NULL)		/* daemon mode: the daemon fills fd */
		rc = daemon_retrieve(c, path, fd, progress_count(&pg), e);
	else {
		c->pool.progress = progress_count(&pg);
		rc = obj_retrieve(&c->pool, m, -1, fd, e);
		c->pool.progress = NULL;
	}
	progress_stop(&pg);
	if (rc == 0)
		rc = file_take_identity(fd, AT_FDCWD, path, mask, e);
	if (rc == 0 && (fsync(fd) < 0 || rename(tmp, path) < 0))
		rc = err_set(e, "cannot move the retrieved file into place: %s",
		    strerror(errno));
	if (rc == 0)
		(void)sync_dir(dir);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	guard_tmp(NULL);
	return rc;
}

/* The --file of retrieve and check; NULL after printing a usage error. With
 * root set, a relative path is made absolute the way store makes it (the
 * real directory plus the name), so the three agree on the key. */
static const char *
file_arg(struct cli *c, const char *cmd, int argc, char **argv, char *buf,
    size_t len)
{
	const char *vals[1];
	struct err e;

	if (cli_parse(cmd, file_opt, 1, argc, argv, vals) < 0)
		return NULL;
	if (vals[0] == NULL)
		cli_error("%s: --file <file> is required (see `zstor %s "
		    "--help`)", cmd, cmd);
	if (vals[0] == NULL || c->cfg.root == NULL || vals[0][0] == '/')
		return vals[0];
	if (store_key_path(vals[0], NULL, buf, len, &e) < 0) {
		cli_error("%s %s: %s", cmd, vals[0], e.msg);
		return NULL;
	}
	return buf;
}

/* Loads the metadata of path into key and m: 0, 1 when there is none, or -1. */
static int
load_meta(struct cli *c, const char *path, char *key, size_t keylen,
    struct metadata *m, struct err *e)
{
	if (metastore_key(&c->ms, path, key, keylen, e) < 0)
		return -1;
	return metastore_load(&c->ms, key, m, e);
}

int
cmd_retrieve(struct cli *c, int argc, char **argv)
{
	char key[512], abspath[PATH_MAX];
	const char *path;
	struct metadata m;
	struct err e;
	int rc;

	if ((path = file_arg(c, "retrieve", argc, argv, abspath,
	    sizeof(abspath))) == NULL)
		return EXIT_USAGE;
	if (c->cfg.socket != NULL)
		rc = write_into_place(c, NULL, path, &e);
	else if ((rc = load_meta(c, path, key, sizeof(key), &m, &e)) == 1)
		rc = err_set(&e, "no metadata found for file (key %s): it was "
		    "never stored under this path; use the absolute path it "
		    "was stored with", key);
	else if (rc == 0) {
		rc = write_into_place(c, &m, path, &e);
		meta_free(&m);
	}
	if (rc != 0) {
		report_failure("retrieve", path, rc, &e);
		return 1;
	}
	log_info("retrieved %s", path);
	return 0;
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	char key[512], hex[2 * B2_LEN + 1] = "", abspath[PATH_MAX];
	const char *path;
	struct metadata m;
	struct err e;
	int rc;

	if ((path = file_arg(c, "check", argc, argv, abspath,
	    sizeof(abspath))) == NULL)
		return EXIT_USAGE;
	if (c->cfg.socket != NULL)
		rc = daemon_check(c, path, hex, sizeof(hex), &e);
	else if ((rc = load_meta(c, path, key, sizeof(key), &m, &e)) == 0) {
		hex_encode(hex, m.checksum, B2_LEN);
		meta_free(&m);
	}
	if (rc < 0) {
		report_failure("check", path, rc, &e);
		return 1;
	}
	if (hex[0] != '\0')
		printf("%s\n", hex);
	return 0;
}
