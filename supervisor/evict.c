/* The cache evictor's duty, on the master's side: keeps zdb_data_dir_path
 * (the local 0-db's data directory in QSFS) under max_zdb_data_dir_size MiB by
 * deleting files that are safely stored.
 *
 * Every EVICT_SECS (--evict-interval), when both keys are set: the regular
 * files directly in the directory are summed; when they reach the limit, the
 * least recently accessed go first, one at a time, until the sum is below it:
 *
 *   1. the metadata key of realpath(dir)/name, as the store computed it
 *      (0-db's hooks store these files by their own path);
 *   2. the metawriter looks the key up (a check job of the daemon's own); a
 *      file without metadata was never stored and is kept;
 *   3. the master opens the file read-only (it may enter the directory, which
 *      0-db makes root's and 0700; the sandboxed evictor may not) without
 *      updating its access time, and notes its (dev, ino, size, mtime);
 *   4. the evictor hashes the descriptor and compares with the stored
 *      checksum; a file that changed since it was stored is kept;
 *   5. the master unlinks the file only if it is still the file it opened,
 *      unchanged (file_unlink_same).
 *
 * An error on one file (it vanished, it cannot be read, its key is outside
 * the virtual root, a metadata backend is down) skips that file, not the
 * pass. One pass at a time; a reload takes effect at the next pass. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileid.h"
#include "log.h"
#include "master.h"
#include "meta_key.h"
#include "metrics.h"

/* The evictor's answer for one file; a hung read is given up on. */
#define EVICT_HASH_SECS		600

struct efile {
	char		*name;
	struct timespec	 atime;
	off_t		 size;
	dev_t		 dev;
	ino_t		 ino;
};

static struct {
	struct event	*timer;
	struct event	*deadline;
	int		 secs;		/* between passes */
	int		 running;
	int		 dirfd;
	char		 real[PATH_MAX];	/* realpath of the dir */
	uint64_t	 limit, size;
	struct efile	*files;
	size_t		 nfiles, next;
	struct efile	*cur;		/* the file being looked at */
	char		 path[PATH_MAX];	/* ... real/name */
	int		 fd;		/* ... open while it is hashed */
	struct file_id	 id;
	struct proc	*worker;	/* the evictor asked */
	int64_t		 req;		/* ... this request */
	unsigned	 evicted, kept;
} E = { .secs = EVICT_SECS, .dirfd = -1, .fd = -1 };

static void	evict_next(void);

static void
evict_arm(void)
{
	struct timeval tv = { E.secs, 0 };

	if (E.timer != NULL)
		evtimer_add(E.timer, &tv);
}

static void
files_free(void)
{
	size_t i;

	for (i = 0; i < E.nfiles; i++)
		free(E.files[i].name);
	free(E.files);
	E.files = NULL;
	E.nfiles = E.next = 0;
}

static void
pass_end(void)
{
	if (E.size < E.limit)
		log_info("evictor: %s reduced to %llu bytes, under its limit "
		    "of %llu (%u files deleted)", E.real,
		    (unsigned long long)E.size, (unsigned long long)E.limit,
		    E.evicted);
	else
		log_warnx("evictor: failed to reduce %s to its limit: %llu "
		    "bytes of %llu (%u files deleted, %u kept: not stored, "
		    "changed since they were, or unreadable)", E.real,
		    (unsigned long long)E.size, (unsigned long long)E.limit,
		    E.evicted, E.kept);
	metric_set(MX(MF_CACHE_DIR_BYTES), (double)E.size);
	files_free();
	if (E.dirfd != -1)
		close(E.dirfd);
	E.dirfd = -1;
	E.running = 0;
	E.cur = NULL;
	evict_arm();
}

/* The file at hand is kept, for reason (a metrics label). */
static void
evict_keep(const char *reason)
{
	E.kept++;
	metric_inc(MX(MF_EVICTION_SKIPPED, reason), 1);
	if (E.fd != -1)
		close(E.fd);
	E.fd = -1;
	E.worker = NULL;
	evtimer_del(E.deadline);
}

static int
cmp_atime(const void *a, const void *b)
{
	const struct efile *x = a, *y = b;

	if (x->atime.tv_sec != y->atime.tv_sec)
		return x->atime.tv_sec < y->atime.tv_sec ? -1 : 1;
	if (x->atime.tv_nsec != y->atime.tv_nsec)
		return x->atime.tv_nsec < y->atime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
files_add(const char *name, const struct stat *st)
{
	struct efile *f;

	if (E.nfiles % 64 == 0 && (f = reallocarray(E.files, E.nfiles + 64,
	    sizeof(*f))) != NULL)
		E.files = f;
	else if (E.nfiles % 64 == 0)
		return -1;
	f = &E.files[E.nfiles];
	if ((f->name = strdup(name)) == NULL)
		return -1;
	f->atime = st->st_atim;
	f->size = st->st_size;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	E.nfiles++;
	E.size += (uint64_t)st->st_size;
	return 0;
}

/* The regular files directly in the directory (E.dirfd), and their sum. A
 * file that cannot be looked at is left out, and so are links. */
static int
files_list(struct err *e)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if ((fd = dup(E.dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_set(e, "cannot list %s: %s", E.real,
		    strerror(errno));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (fstatat(E.dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1) {
			if (errno != ENOENT)
				log_warnx("evictor: %s/%s: %s; left out",
				    E.real, de->d_name, strerror(errno));
			continue;
		}
		if (S_ISREG(st.st_mode) && files_add(de->d_name, &st) == -1) {
			closedir(d);
			return err_set(e, "out of memory listing %s", E.real);
		}
	}
	closedir(d);
	return 0;
}

static void
pass_start(void)
{
	const struct config *cfg = &master->cfg;
	struct err e;

	if (E.running || master->stopping || cfg->zdb_data_dir_path == NULL ||
	    !cfg->has_max_zdb_data_dir_size)
		return;
	E.limit = cfg->max_zdb_data_dir_size > UINT64_MAX / (1024 * 1024) ?
	    UINT64_MAX : cfg->max_zdb_data_dir_size * 1024 * 1024;
	E.size = 0;
	E.evicted = E.kept = 0;
	metric_set(MX(MF_CACHE_DIR_LIMIT), (double)E.limit);
	if (realpath(cfg->zdb_data_dir_path, E.real) == NULL ||
	    (E.dirfd = open(E.real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		log_warnx("evictor: zdb_data_dir_path %s: %s; trying again in "
		    "%d s", cfg->zdb_data_dir_path, strerror(errno), E.secs);
		E.dirfd = -1;
		evict_arm();
		return;
	}
	E.running = 1;
	metric_inc(MX(MF_EVICTION_PASSES), 1);
	if (files_list(&e) == -1) {
		log_warnx("evictor: %s", e.msg);
		pass_end();
		return;
	}
	metric_set(MX(MF_CACHE_DIR_BYTES), (double)E.size);
	if (E.size < E.limit) {
		log_debug("evictor: %s holds %llu bytes, under its limit",
		    E.real, (unsigned long long)E.size);
		E.size = E.limit = 0;	/* nothing to say at the end */
		files_free();
		close(E.dirfd);
		E.dirfd = -1;
		E.running = 0;
		evict_arm();
		return;
	}
	log_info("evictor: %s holds %llu bytes, over its limit of %llu; "
	    "deleting files already stored, least recently used first", E.real,
	    (unsigned long long)E.size, (unsigned long long)E.limit);
	qsort(E.files, E.nfiles, sizeof(*E.files), cmp_atime);
	evict_next();
}

static void
evict_on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	pass_start();
}

/* Opens the file at hand as the store read it; -1 when it is not the file
 * listed any more. */
static int
evict_open(struct err *e)
{
	struct stat st;
	int fd;

	/* O_NOATIME keeps the order of least recent use (and needs the
	 * owner or CAP_FOWNER); O_NONBLOCK never waits on a FIFO put there */
	fd = openat(E.dirfd, E.cur->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = openat(E.dirfd, E.cur->name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return err_set(e, "cannot open it: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_dev != E.cur->dev || st.st_ino != E.cur->ino) {
		close(fd);
		return err_set(e, "it was replaced since it was listed");
	}
	if (file_id_of_fd(fd, &E.id, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The metadata lookup of the file at hand came back. */
static void
evict_on_meta(void *arg, int ok, const char *error, const uint8_t *sum)
{
	struct msg *m;
	struct err e;

	(void)arg;
	if (!E.running || E.cur == NULL)
		return;
	if (master->stopping) {
		pass_end();
		return;
	}
	if (!ok) {
		log_warnx("evictor: %s: kept: its metadata cannot be read: %s",
		    E.path, error);
		evict_keep("error");
	} else if (sum == NULL) {
		log_debug("evictor: %s: kept: not stored", E.path);
		evict_keep("not_stored");
	} else if ((E.worker = proc_idle(SANDBOX_EVICTOR)) == NULL) {
		log_warnx("evictor: the evictor is not running; the pass ends");
		evict_keep("error");
		pass_end();
		return;
	} else if ((E.fd = evict_open(&e)) == -1) {
		log_warnx("evictor: %s: kept: %s", E.path, e.msg);
		evict_keep("error");
	} else if ((m = msg_new(MT_EVICT_HASH, ++E.req, &e)) != NULL) {
		struct timeval tv = { EVICT_HASH_SECS, 0 };

		msg_set_str(m, "path", E.cur->name);
		msg_set_hex(m, "checksum", sum, B2_LEN);
		evtimer_add(E.deadline, &tv);
		if (proc_send(E.worker, m, &E.fd, 1) == 0)
			return;		/* evict_dispatch goes on */
		/* a failed send lost the evictor: evict_lost went on */
		return;
	} else {
		log_warnx("evictor: %s", e.msg);
		evict_keep("error");
	}
	evict_next();
}

/* The next file, while the directory is over its limit. */
static void
evict_next(void)
{
	char key[512], what[160];
	struct job *j;
	struct err e;

	while (E.next < E.nfiles && E.size >= E.limit) {
		E.cur = &E.files[E.next++];
		if ((size_t)snprintf(E.path, sizeof(E.path), "%s/%s", E.real,
		    E.cur->name) >= sizeof(E.path)) {
			evict_keep("error");
			continue;
		}
		/* the key as the store computed it: realpath(dir)/name */
		if (meta_key(master->cfg.meta_prefix, master->cfg.root, E.path,
		    key, sizeof(key), &e) == -1) {
			log_warnx("evictor: %s: kept: %s", E.path, e.msg);
			evict_keep("error");
			continue;
		}
		snprintf(what, sizeof(what), "evictor lookup %.130s", E.path);
		if ((j = job_new(JOB_CHECK, what)) == NULL ||
		    (j->key = strdup(key)) == NULL) {
			log_warnx("evictor: out of memory");
			if (j != NULL)
				job_free(j);
			break;
		}
		j->prio = PRIO_BACKGROUND;
		j->done = evict_on_meta;
		sched_submit(j);
		return;
	}
	pass_end();
}

/* The evictor's verdict on the file at hand. */
static void
evict_verdict(struct msg *m)
{
	const char *error = msg_get_str(m, "error");
	const char *path = E.path;
	struct err e;

	if (msg_get_bool(m, "ok") != 1) {
		log_info("evictor: %s: kept: %s", path, error != NULL ? error :
		    "the evictor could not hash it");
		evict_keep(msg_has(m, "checksum") ? "changed" : "error");
	} else if (file_unlink_same(path, &E.id, &e) == -1) {
		log_warnx("evictor: %s", e.msg);
		evict_keep("changed");
	} else {
		log_info("evictor: deleted %s (%lld bytes): stored, and "
		    "unchanged since", path, (long long)E.id.size);
		E.size -= (uint64_t)E.id.size;
		E.evicted++;
		metric_inc(MX(MF_EVICTIONS), 1);
		metric_inc(MX(MF_EVICTED_BYTES), (double)E.id.size);
		close(E.fd);
		E.fd = -1;
		E.worker = NULL;
		evtimer_del(E.deadline);
	}
}

int
evict_dispatch(struct proc *p, struct msg *m)
{
	if (msg_type(m) != MT_RESULT) {
		log_warnx("%s: unexpected %s message", proc_name(p),
		    msg_type_name(m));
		return -1;
	}
	if (p != E.worker || msg_id(m) != E.req || E.cur == NULL) {
		log_warnx("%s: a result for request %lld, which it was not "
		    "asked", proc_name(p), (long long)msg_id(m));
		return -1;
	}
	evict_verdict(m);
	if (master->stopping)
		pass_end();
	else
		evict_next();
	return 0;
}

/* The evictor died or was killed: the pass cannot go on. */
void
evict_lost(struct proc *p)
{
	if (p != E.worker || !E.running)
		return;
	evict_keep("error");
	pass_end();
}

static void
evict_on_deadline(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (E.worker != NULL)
		proc_kill(E.worker, "did not hash a file of the 0-db data "
		    "directory in time");
}

void
evict_init(int secs)
{
	if (secs > 0)
		E.secs = secs;
	if ((E.timer = evtimer_new(master->base, evict_on_timer, NULL)) ==
	    NULL || (E.deadline = evtimer_new(master->base, evict_on_deadline,
	    NULL)) == NULL)
		fatalx("out of memory for the evictor's timers");
	evict_arm();
}
