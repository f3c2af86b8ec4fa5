/* Stores that failed with --save-failure, kept on disk so that a restarted
 * daemon tries them again (upstream parses the flag and drops it).
 *
 * One file per metadata key in "<pid_file>.failures/", named after the key's
 * hash, holding JSON: {"path", "key_path", "delete", "uid", "gid"}. It is
 * written (temp file, rename) when such a store first fails or is still
 * queued at shutdown, and removed when the store succeeds. At start every
 * record becomes a background store again; its file is reopened with the
 * rights of the user who asked for it. */
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
#include "metastore.h"
#include "scratch.h"

#define RECORD_MAX	(64 * 1024)

int
failures_init(const char *pid_path, struct err *e)
{
	if (asprintf(&master->failures_dir, "%s.failures", pid_path) == -1)
		return err_set(e, "out of memory");
	if (mkdir(master->failures_dir, 0700) == -1 && errno != EEXIST)
		return err_set(e, "cannot create %s, where failed stores are "
		    "recorded: %s", master->failures_dir, strerror(errno));
	return 0;
}

/* "<dir>/<hash of the key>.json": the key ends in its own hash. */
static void
record_path(const char *key, char *out, size_t len)
{
	const char *base = strrchr(key, '/');

	snprintf(out, len, "%s/%s.json", master->failures_dir,
	    base != NULL ? base + 1 : key);
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
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd != -1 && write_full(fd, text, strlen(text)) == 0 &&
	    fsync(fd) == 0;
	if (fd != -1)
		close(fd);
	ok = ok && rename(tmp, path) == 0;
	cJSON_free(text);
	if (!ok) {
		log_warn("%s: cannot record the failure in %s", j->what, path);
		unlink(tmp);
		return;
	}
	j->recorded = 1;
	log_info("%s: recorded in %s for a retry after a restart", j->what,
	    path);
}

void
failures_forget(struct job *j)
{
	char path[4096];

	record_path(j->key, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", path);
	j->recorded = 0;
}

static cJSON *
record_read(const char *path)
{
	char buf[RECORD_MAX];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

/* One record back into the queue as a background store. */
static int
record_resume(const char *file, struct err *e)
{
	cJSON *o = record_read(file), *p, *k, *d, *u, *g;
	struct metastore ms;
	struct job *j;
	char what[200], key[512];
	int rc = -1;

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
	metastore_init(&ms, &master->cfg, NULL);
	if (metastore_key(&ms, k->valuestring, key, sizeof(key), e) == -1)
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
	char path[4096];
	struct dirent *de;
	struct err e;
	size_t len;
	DIR *d;

	if ((d = opendir(master->failures_dir)) == NULL) {
		log_warn("cannot read %s", master->failures_dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", master->failures_dir,
		    de->d_name);
		if (record_resume(path, &e) == -1) {
			log_warnx("dropping the failure record %s: %s", path,
			    e.msg);
			unlink(path);
		}
	}
	closedir(d);
}
