/* zstor store -f DIR: every regular file directly inside DIR, several at a
 * time. A store of a small file is mostly round trips to the backends, one
 * after the other; with STORE_DIR_THREADS files in flight the servers and
 * both cores stay busy. Each thread has connections of its own (a pool and a
 * metastore over the one config), so no state is shared between two stores
 * but the count of failures. A file of more than STORE_DIR_BIG bytes is
 * stored while no other such file is: a store's memory grows with its file up
 * to about 70 MiB (a 1 MiB file's takes about 10 MiB, an 8 MiB file's 27), so
 * the command stays near one large store's (and shows one progress display at
 * a time). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"

#define STORE_DIR_THREADS	4
#define STORE_DIR_BIG		(1 << 20)

struct dir_file {
	char	*path;
	off_t	 size;
};

struct dir_store {
	struct cli		*c;
	const char		**vals;
	struct dir_file		*files;
	size_t			 n, next, failed;
	int			 down;	/* no daemon: the rest fail too */
	pthread_mutex_t		 mu;	/* next, failed, down */
	pthread_mutex_t		 big;	/* held while a large file is stored */
};

static int
cmp_paths(const void *a, const void *b)
{
	return strcmp(((const struct dir_file *)a)->path,
	    ((const struct dir_file *)b)->path);
}

static const char *
skip_reason(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory (directory stores do not recurse)";
	if (S_ISLNK(mode))
		return "a symbolic link (not followed)";
	return "not a regular file";
}

static void
free_files(struct dir_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* Regular files directly inside dir (no recursion, symlinks skipped), sorted.
 * Each entry skipped is noted on stderr, so a missing file is not a mystery. */
static int
list_files(const char *dir, struct dir_file **files, size_t *n, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;

	*files = NULL, *n = 0;
	if (d == NULL)
		return err_set(e, "cannot read directory %s: %s", dir,
		    strerror(errno));
	for (;;) {
		struct dir_file *v;
		int bad;

		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		bad = fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0;
		if (bad || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "zstor: store %s: skipped %s: %s\n",
			    dir, de->d_name, bad ? strerror(errno) :
			    skip_reason(st.st_mode));
			continue;
		}
		if ((v = reallocarray(*files, *n + 1, sizeof(*v))) != NULL) {
			*files = v;
			if (asprintf(&v[*n].path, "%s/%s", dir,
			    de->d_name) >= 0) {
				v[(*n)++].size = st.st_size;
				continue;
			}
		}
		errno = ENOMEM;
		break;
	}
	if (errno != 0) {	/* none stored rather than some, silently */
		err_set(e, "cannot list the files of %s: %s; nothing was "
		    "stored", dir, strerror(errno));
		closedir(d);
		free_files(*files, *n);
		*files = NULL, *n = 0;
		return -1;
	}
	closedir(d);
	qsort(*files, *n, sizeof(**files), cmp_paths);
	return 0;
}

/* The next file to store, or NULL when none is left. */
static const struct dir_file *
take_file(struct dir_store *ds)
{
	const struct dir_file *f = NULL;

	pthread_mutex_lock(&ds->mu);
	while (ds->next < ds->n && f == NULL) {
		f = &ds->files[ds->next++];
		if (ds->down) {		/* said once already */
			ds->failed++;
			f = NULL;
		}
	}
	pthread_mutex_unlock(&ds->mu);
	return f;
}

static void
store_failed(struct dir_store *ds, const char *path, int rc,
    const struct err *e)
{
	pthread_mutex_lock(&ds->mu);
	ds->failed++;
	if (!ds->down)
		report_failure("store", path, rc, e);
	if (rc == DAEMON_DOWN)
		ds->down = 1;
	pthread_mutex_unlock(&ds->mu);
}

static void *
store_files(void *arg)
{
	struct dir_store *ds = arg;
	const struct dir_file *f;
	struct cli c = *ds->c;
	struct err e;
	int rc, big;

	pool_init(&c.pool, ds->c->pool.timeout_ms);
	metastore_init(&c.ms, &c.cfg, &c.pool);
	while ((f = take_file(ds)) != NULL) {
		if ((big = f->size > STORE_DIR_BIG))
			pthread_mutex_lock(&ds->big);
		rc = store_one(&c, f->path, ds->vals, &e);
		if (big)
			pthread_mutex_unlock(&ds->big);
		if (rc < 0)
			store_failed(ds, f->path, rc, &e);
	}
	pool_free(&c.pool);
	return NULL;
}

int
store_dir(struct cli *c, const char *dir, const char **vals)
{
	struct dir_store ds = { .c = c, .vals = vals };
	pthread_t t[STORE_DIR_THREADS];
	size_t i, nt;
	struct err e;

	if (list_files(dir, &ds.files, &ds.n, &e) < 0) {
		cli_error("store %s: %s", dir, e.msg);
		return 1;
	}
	pthread_mutex_init(&ds.mu, NULL);
	pthread_mutex_init(&ds.big, NULL);
	/* The first thread is this one; a thread that cannot be had leaves
	 * its share to the others. */
	for (nt = 0; nt + 1 < STORE_DIR_THREADS && nt + 1 < ds.n; nt++)
		if (pthread_create(&t[nt], NULL, store_files, &ds) != 0)
			break;
	store_files(&ds);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	free_files(ds.files, ds.n);
	pthread_mutex_destroy(&ds.mu);
	pthread_mutex_destroy(&ds.big);
	if (ds.failed)
		cli_error("store %s: %zu of %zu files failed (see above)", dir,
		    ds.failed, ds.n);
	return ds.failed ? 1 : 0;
}
