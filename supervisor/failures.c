/* Stores that failed with --save-failure, kept on disk so that a restarted
 * daemon tries them again (upstream parses the flag and drops it).
 *
 * One file per metadata key in "<pid_file>.failures/", named after the key's
 * hash, holding JSON: {"path", "key_path", "delete", "uid", "gid"}. It is
 * written (temp file, rename) when such a store first fails or is still
 * queued at shutdown, and removed when the store succeeds. At start every
 * record becomes a background store again; its file is reopened with the
 * rights of the user who asked for it.
 *
 * The directory is trusted only when it is the daemon's own (trust.c), and is
 * worked in through one descriptor. A record is opened without following a
 * link, and the uid and gid in it are honoured only when the record is the
 * daemon's own file, mode 0600: what anyone else could have written is not
 * run as the user it names. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "master.h"
#include "meta_key.h"
#include "scratch.h"

#define RECORD_MAX	(64 * 1024)

static int	dir_fd = -1;

int
failures_init(const char *pid_path, struct err *e)
{
	if (asprintf(&master->failures_dir, "%s.failures", pid_path) == -1)
		return err_set(e, "out of memory");
	if ((dir_fd = trust_open_dir(master->failures_dir, e)) == -1)
		return err_prefix(e, "the directory of --save-failure records");
	return 0;
}

/* "<hash of the key>.json", in the directory: the key ends in its own hash. */
static void
record_path(const char *key, char *out, size_t len)
{
	const char *base = strrchr(key, '/');

	snprintf(out, len, "%s.json", base != NULL ? base + 1 : key);
}

static char *
record_text(const struct job *j)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "path", j->path) != NULL &&
	    cJSON_AddStringToObject(o, "key_path", j->key_path) != NULL &&
	    cJSON_AddBoolToObject(o, "delete", j->del) != NULL &&
	    cJSON_AddNumberToObject(o, "uid", (double)j->uid) != NULL &&
	    cJSON_AddNumberToObject(o, "gid", (double)j->gid) != NULL)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

void
failures_record(struct job *j)
{
	char path[4096], tmp[4200];
	char *text;
	int fd, ok;

	if (j->kind != JOB_STORE || (text = record_text(j)) == NULL)
		return;
	record_path(j->key, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlinkat(dir_fd, tmp, 0);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	ok = fd != -1 && fchmod(fd, 0600) == 0 &&
	    write_full(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
	if (fd != -1)
		close(fd);
	ok = ok && renameat(dir_fd, tmp, dir_fd, path) == 0;
	cJSON_free(text);
	if (!ok) {
		log_warn("%s: cannot record the failure in %s/%s", j->what,
		    master->failures_dir, path);
		unlinkat(dir_fd, tmp, 0);
		return;
	}
	j->recorded = 1;
	log_info("%s: recorded in %s/%s for a retry after a restart", j->what,
	    master->failures_dir, path);
}

void
failures_forget(struct job *j)
{
	char path[4096];

	record_path(j->key, path, sizeof(path));
	if (unlinkat(dir_fd, path, 0) == -1 && errno != ENOENT)
		log_warn("cannot remove %s/%s", master->failures_dir, path);
	j->recorded = 0;
}

/* The record's JSON in *o (NULL: not JSON) when the record is one the
 * daemon wrote itself: 0; 1 when it is not; -1 when it cannot be read. */
static int
record_read(const char *name, cJSON **o, struct err *e)
{
	char buf[RECORD_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	*o = NULL;
	if ((fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return err_set(e, "cannot open it: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 07777) != 0600) {
		err_set(e, "is not honoured: a record must be a file of "
		    "zstor-master's user (uid %d), mode 0600; this one is uid "
		    "%d, mode %04o", (int)geteuid(), (int)st.st_uid,
		    (unsigned)st.st_mode & 07777);
		close(fd);
		return 1;
	}
	n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return err_set(e, "empty or unreadable");
	buf[n] = '\0';
	*o = cJSON_Parse(buf);
	return 0;
}

/* One record back into the queue as a background store. */
static int
record_resume(const char *file, struct err *e)
{
	cJSON *o, *p, *k, *d, *u, *g;
	struct job *j;
	char what[200], key[512];
	int rc = -1;

	if ((rc = record_read(file, &o, e)) != 0)
		return rc;	/* one not honoured stays, for its owner */
	rc = -1;
	p = cJSON_GetObjectItemCaseSensitive(o, "path");
	k = cJSON_GetObjectItemCaseSensitive(o, "key_path");
	d = cJSON_GetObjectItemCaseSensitive(o, "delete");
	u = cJSON_GetObjectItemCaseSensitive(o, "uid");
	g = cJSON_GetObjectItemCaseSensitive(o, "gid");
	if (!cJSON_IsString(p) || !cJSON_IsString(k) || !cJSON_IsBool(d) ||
	    !cJSON_IsNumber(u) || !cJSON_IsNumber(g)) {
		err_set(e, "not a failure record");
		goto done;
	}
	if (meta_key(master->cfg.meta_prefix, master->cfg.root, k->valuestring,
	    key, sizeof(key), e) == -1)
		goto done;
	snprintf(what, sizeof(what), "store %s", p->valuestring);
	if ((j = job_new(JOB_STORE, what)) == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	j->uid = (uid_t)u->valuedouble;
	j->gid = (gid_t)g->valuedouble;
	j->path = strdup(p->valuestring);
	j->key_path = strdup(k->valuestring);
	j->key = strdup(key);
	j->del = cJSON_IsTrue(d);
	j->background = j->save_failure = j->recorded = 1;
	j->prio = PRIO_BACKGROUND;
	if (j->path == NULL || j->key_path == NULL || j->key == NULL ||
	    (j->fd = asuser_open(j->uid, j->gid, j->path, e)) == -1) {
		j->recorded = 0;	/* the caller removes the record */
		job_free(j);
		goto done;
	}
	log_info("%s: resuming a store recorded with --save-failure", what);
	sched_submit(j);
	rc = 0;
done:
	cJSON_Delete(o);
	return rc;
}

void
failures_resume(void)
{
	struct dirent *de;
	struct err e;
	size_t len;
	DIR *d;
	int fd, rc;

	if ((fd = dup(dir_fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("cannot read %s", master->failures_dir);
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if ((rc = record_resume(de->d_name, &e)) == 1)
			log_warnx("failure record %s/%s %s",
			    master->failures_dir, de->d_name, e.msg);
		else if (rc == -1) {
			log_warnx("dropping the failure record %s/%s: %s",
			    master->failures_dir, de->d_name, e.msg);
			unlinkat(dir_fd, de->d_name, 0);
		}
	}
	closedir(d);
}
