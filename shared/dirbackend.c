/* The local directory backend, "dir:/path": a namespace is the subdirectory
 * <path>/<namespace or "default">/ and behaves like a 0-db namespace on local
 * disk.
 *
 *   mode    "sequential" or "userkey", written once when the namespace is
 *           created
 *   next    (sequential) the first id nobody has reserved yet
 *   stats   "entries N\nbytes N\n": the counters NSINFO reports
 *   tmp/    values being written
 *   <hex>   one value per file: a sequential id as 16 hex digits
 *           (big-endian, so names sort by id), a user key as the hex of its
 *           bytes
 *
 * Every value is written under tmp/, fsynced, renamed into place and the
 * directory fsynced: a value is either absent or complete, never half written.
 * The large values of one batch are all written, and their writeback started,
 * before the first is fsynced (dir_write_early).
 * Several processes (one per encoder) may use one namespace at once, so a flock
 * on the namespace directory serialises the id counter, the stats and the
 * renames. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_impl.h"
#include "hex.h"
#include "log.h"

#define DIR_NS_MAX 128		/* as 0-db */
#define DIR_KEY_MAX 127		/* its hex must fit a file name (255 bytes) */
#define DIR_NAME_MAX (2 * DIR_KEY_MAX + 1)
#define DIR_ID_BLOCK 64		/* sequential ids reserved per counter write */
#define DIR_SCAN_BATCH 256
#define DIR_TMP_MAX_AGE 3600	/* seconds: older files in tmp/ are crash
				 * leftovers */

struct dir_entry {
	int64_t mtime_ns;
	uint64_t size;
	char *name;
};

/* The sorted listing a SCAN walks; kept while the caller continues from the
 * cursor we gave, so a full scan lists the directory once, not once per
 * batch. */
struct dir_listing {
	struct dir_entry *v;
	size_t n, pos;
	uint8_t *cursor;
	size_t cursorlen;
};

struct dirb {
	struct backend base;
	int dfd;			/* the namespace directory */
	int tmpfd;			/* its tmp/ */
	/* ids reserved by us: [next_id, id_end) */
	uint64_t next_id, id_end;
	unsigned tmpseq;
	struct dir_listing scan;
};

struct dir_stats {
	uint64_t entries, bytes;
	/* one past the highest value file (walk only) */
	uint64_t next_id;
};

/* Who cannot write, for the EACCES advice: the daemon's workers are told
 * their user in WORKER_USER_ENV (their sandbox has neither /etc/passwd nor
 * geteuid); the CLI looks itself up. */
static const char *
dir_user(char *buf, size_t len)
{
	const char *env = getenv(WORKER_USER_ENV);
	struct passwd *pw;

	if (env != NULL && env[0] != '\0')
		return env;
	if ((pw = getpwuid(geteuid())) != NULL)
		return pw->pw_name;
	snprintf(buf, len, "uid %u", (unsigned)geteuid());
	return buf;
}

static const char *
dir_advice(const struct dirb *d, int err)
{
	static __thread char msg[3 * ADDR_PATH_MAX + 192];
	const char *dir = d->base.ci.addr.path;
	char uid[32];
	const char *user;

	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return " (the disk is full: free space or remove this backend)";
	case EROFS:
		return " (the filesystem is read-only: remount it or remove "
		    "this backend)";
	case EACCES:
	case EPERM:
		user = dir_user(uid, sizeof(uid));
		snprintf(msg, sizeof(msg), " (user %s cannot write the backend "
		    "directory %s: give it to that user, e.g. `chown -R %s "
		    "%s`, or start zstor-master with --user naming its owner)",
		    user, dir, user, dir);
		return msg;
	case EIO:
		return " (disk error: check the disk and the kernel log)";
	default:
		return "";
	}
}

/* "write tmp/x: No space left on device (the disk is full: ...)" from errno. */
static int
dir_fail(struct bop *op, const char *what, const char *file)
{
	int saved = errno;

	return bop_fail(op, "%s %s: %s%s", what, file, strerror(saved),
	    dir_advice((const struct dirb *)op->b, saved));
}

/* dir_fail before the value could take effect (nothing was renamed into
 * place). */
static int
dir_refuse(struct bop *op, const char *what, const char *file)
{
	int saved = errno;

	return bop_refuse(op, "%s %s: %s%s", what, file, strerror(saved),
	    dir_advice((const struct dirb *)op->b, saved));
}

static int
dir_lock(struct dirb *d)
{
	while (flock(d->dfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static void
dir_unlock(struct dirb *d)
{
	flock(d->dfd, LOCK_UN);
}

static int
dir_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A new file in tmp/, its name in tmpname: a descriptor, or -1 with errno
 * set. */
static int
dir_create_tmp(struct dirb *d, char tmpname[64])
{
	int fd;

	do {
		snprintf(tmpname, 64, ".v-%ld-%u", (long)getpid(), d->tmpseq++);
		fd = openat(d->tmpfd, tmpname,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	} while (fd < 0 && errno == EEXIST);
	return fd;
}

/* Closes fd and removes its file tmpname from tmp/; errno is kept. */
static void
dir_discard_tmp(struct dirb *d, int fd, const char *tmpname)
{
	int saved = errno;

	close(fd);
	unlinkat(d->tmpfd, tmpname, 0);
	errno = saved;
}

/* Closes fd, the file tmpname in tmp/ that holds its value, fsynced first
 * when durable; on failure the file is removed. -1 with errno set. */
static int
dir_close_tmp(struct dirb *d, int fd, const char *tmpname, int durable)
{
	int failed, saved;

	failed = durable && fsync(fd) < 0;
	saved = errno;
	if (close(fd) < 0 && !failed)	/* closed whether or not fsync failed */
		failed = 1, saved = errno;
	if (failed) {
		unlinkat(d->tmpfd, tmpname, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Writes buf to a new file in tmp/ (fsynced when durable); its name goes to
 * tmpname. -1 with errno set. */
static int
dir_write_tmp(struct dirb *d, const void *buf, size_t len, int durable,
    char tmpname[64])
{
	int fd;

	if ((fd = dir_create_tmp(d, tmpname)) < 0)
		return -1;
	if (dir_write_all(fd, buf, len) < 0) {
		dir_discard_tmp(d, fd, tmpname);
		return -1;
	}
	return dir_close_tmp(d, fd, tmpname, durable);
}

/* Replaces a small control file whole; durable adds the fsyncs. */
static int
dir_write_small(struct dirb *d, const char *name, const char *text, int durable)
{
	char tmp[64];
	int saved;

	if (dir_write_tmp(d, text, strlen(text), durable, tmp) < 0)
		return -1;
	if (renameat(d->tmpfd, tmp, d->dfd, name) < 0) {
		saved = errno;
		unlinkat(d->tmpfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return durable ? fsync(d->dfd) : 0;
}

/* Reads a small control file as a string; -1 with errno set. */
static int
dir_read_small(struct dirb *d, const char *name, char *buf, size_t size)
{
	ssize_t r;
	int fd;

	if ((fd = openat(d->dfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

static int
dir_parse_u64(const char *s, char **end, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, end, 10);
	return errno != 0 ? -1 : 0;
}

/* Value files have lowercase hex names: 16 digits in sequential namespaces. */
static int
dir_is_value_name(const struct dirb *d, const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len % 2 != 0 || len > DIR_NAME_MAX - 1)
		return 0;
	if (d->base.mode == NS_SEQUENTIAL && len != 16)
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

/* Counts the value files; used when the stats or the counter are missing. */
static int
dir_walk(struct dirb *d, struct dir_stats *st)
{
	struct dirent *de;
	struct stat sb;
	uint64_t id;
	DIR *dir;
	int fd;

	memset(st, 0, sizeof(*st));
	if ((fd = dup(d->dfd)) < 0)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!dir_is_value_name(d, de->d_name) ||
		    fstatat(d->dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		st->entries++;
		st->bytes += (uint64_t)sb.st_size;
		if (d->base.mode == NS_SEQUENTIAL) {
			id = strtoull(de->d_name, NULL, 16);
			if (id + 1 > st->next_id)
				st->next_id = id + 1;
		}
	}
	closedir(dir);
	return 0;
}

static int
dir_stats_store(struct dirb *d, const struct dir_stats *st)
{
	char text[64];

	snprintf(text, sizeof(text), "entries %" PRIu64 "\nbytes %" PRIu64 "\n",
	    st->entries, st->bytes);
	/* Not fsynced: the counters are advisory (status, placement). After a
	 * crash they may be off; deleting the stats file recounts. */
	return dir_write_small(d, "stats", text, 0);
}

/* Under the lock. */
static int
dir_stats_load(struct dirb *d, struct dir_stats *st)
{
	char text[64], *p;

	memset(st, 0, sizeof(*st));
	if (dir_read_small(d, "stats", text, sizeof(text)) == 0 &&
	    strncmp(text, "entries ", 8) == 0 &&
	    dir_parse_u64(text + 8, &p, &st->entries) == 0 &&
	    strncmp(p, "\nbytes ", 7) == 0 &&
	    dir_parse_u64(p + 7, &p, &st->bytes) == 0 && strcmp(p, "\n") == 0)
		return 0;
	log_debug("%s: recounting the namespace", d->base.name);
	if (dir_walk(d, st) < 0)
		return -1;
	return dir_stats_store(d, st);
}

/* Under the lock, with st loaded before the change (a recount after it would
 * count the change twice). */
static void
dir_stats_add(struct dirb *d, struct dir_stats *st, int64_t entries,
    int64_t bytes)
{
	st->entries = entries < 0 && st->entries < (uint64_t)-entries ? 0 :
	    st->entries + (uint64_t)entries;
	st->bytes = bytes < 0 && st->bytes < (uint64_t)-bytes ? 0 :
	    st->bytes + (uint64_t)bytes;
	if (dir_stats_store(d, st) < 0)
		log_debug("%s: cannot update the stats: %s", d->base.name,
		    strerror(errno));
}

/* Sequential ids come from the "next" file. A block of ids is reserved by
 * writing the raised counter durably (temp file, fsync, rename, fsync the
 * directory) before any of them is used, so after a crash the counter is past
 * every id ever handed out and no id is given twice, not even a deleted one
 * (0-db never reuses ids either; a reused id could make stale metadata read
 * another object's data). The lock keeps processes sharing the namespace on
 * separate blocks. Ids lost in a crash or at close are only gaps, as 0-db has
 * them. */
static int
dir_reserve_ids(struct dirb *d, struct bop *op)
{
	struct dir_stats st;
	char text[32], *end;
	uint64_t next;

	if (dir_lock(d) < 0)
		return dir_fail(op, "lock", ".");
	if (dir_read_small(d, "next", text, sizeof(text)) < 0 ||
	    dir_parse_u64(text, &end, &next) < 0 || strcmp(end, "\n") != 0) {
		log_warnx("%s: the id counter is missing or damaged, "
		    "rebuilding it from "
		    "the stored values", d->base.name);
		if (dir_walk(d, &st) < 0) {
			dir_unlock(d);
			return dir_fail(op, "read", ".");
		}
		next = st.next_id;
	}
	snprintf(text, sizeof(text), "%" PRIu64 "\n", next + DIR_ID_BLOCK);
	if (dir_write_small(d, "next", text, 1) < 0) {
		dir_unlock(d);
		return dir_fail(op, "write", "next");
	}
	dir_unlock(d);
	d->next_id = next;
	d->id_end = next + DIR_ID_BLOCK;
	return 0;
}

/* A large value of a batch written to tmp/ before the batch's first SET is
 * done, its writeback started (sync_file_range) but not waited for: the disk
 * then works on every value of the batch at once, and each SET's own fsync
 * waits only for what is left. fd stays open for that fsync; -1: none. */
struct dir_early {
	int	fd;
	char	tmp[64];
};

#define DIR_EARLY_MIN	(64 * 1024)

static void
dir_write_early(struct dirb *d, const struct bop *op, struct dir_early *ea)
{
	ea->fd = -1;
	if ((op->kind != BOP_SEQ_SET && op->kind != BOP_KEY_SET) ||
	    op->val == NULL || op->vallen < DIR_EARLY_MIN ||
	    op->vallen > ZDB_VALUE_MAX || (ea->fd = dir_create_tmp(d,
	    ea->tmp)) < 0)
		return;
	if (dir_write_all(ea->fd, op->val, op->vallen) < 0) {
		dir_discard_tmp(d, ea->fd, ea->tmp);
		ea->fd = -1;	/* its SET writes it again, and says why */
		return;
	}
	(void)sync_file_range(ea->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/* An early value its SET did not take (the SET failed before it). */
static void
dir_early_drop(struct dirb *d, struct dir_early *ea)
{
	if (ea->fd >= 0)
		dir_discard_tmp(d, ea->fd, ea->tmp);
	ea->fd = -1;
}

/* The value in tmp/, durable: the early copy fsynced, or written now. */
static int
dir_put_tmp(struct dirb *d, struct bop *op, struct dir_early *ea,
    char tmp[64])
{
	int fd;

	if (ea == NULL || ea->fd < 0)
		return dir_write_tmp(d, op->val, op->vallen, 1, tmp);
	fd = ea->fd;
	ea->fd = -1;
	memcpy(tmp, ea->tmp, 64);
	return dir_close_tmp(d, fd, tmp, 1);
}

/* Writes a value durably and renames it into place; the stats learn whether it
 * replaced an older value. */
static int
dir_put(struct dirb *d, struct bop *op, struct dir_early *ea, const char *name)
{
	struct dir_stats st;
	char tmp[64];
	struct stat sb;
	int existed, counted;

	if (dir_put_tmp(d, op, ea, tmp) < 0)
		return dir_refuse(op, "write", "tmp/");
	if (dir_lock(d) < 0) {
		unlinkat(d->tmpfd, tmp, 0);
		return dir_refuse(op, "lock", ".");
	}
	counted = dir_stats_load(d, &st) == 0;
	existed = fstatat(d->dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (renameat(d->tmpfd, tmp, d->dfd, name) < 0) {
		dir_refuse(op, "rename into", name);
		dir_unlock(d);
		unlinkat(d->tmpfd, tmp, 0);
		return -1;
	}
	if (counted)
		dir_stats_add(d, &st, existed ? 0 : 1,
		    (int64_t)op->vallen - (existed ? sb.st_size : 0));
	dir_unlock(d);
	if (fsync(d->dfd) < 0)
		return dir_fail(op, "fsync", ".");
	return 0;
}

static void
dir_seq_name(uint64_t id, char out[DIR_NAME_MAX])
{
	snprintf(out, DIR_NAME_MAX, "%016" PRIx64, id);
}

/* The file of op's key: 0, or 1 when no such key can exist, -1 on error. */
static int
dir_key_name(struct dirb *d, struct bop *op, char out[DIR_NAME_MAX])
{
	const uint8_t *k = op->key;
	uint64_t id = 0;
	size_t i;

	if (k == NULL || op->keylen == 0)
		return bop_refuse(op, "empty key");
	if (d->base.mode == NS_SEQUENTIAL) {
		/* as 0-db: a key that is not 8 bytes is simply not found */
		if (op->keylen != 8)
			return 1;
		for (i = 0; i < 8; i++)
			id |= (uint64_t)k[i] << (8 * i);
		dir_seq_name(id, out);
		return 0;
	}
	if (op->keylen > DIR_KEY_MAX)
		return bop_refuse(op, "a key of %zu bytes is over the "
		    "directory backend's limit of %d bytes", op->keylen,
		    DIR_KEY_MAX);
	hex_encode(out, k, op->keylen);
	return 0;
}

static int
dir_check_value(struct bop *op)
{
	if (op->vallen > ZDB_VALUE_MAX)
		return bop_refuse(op, "a value of %zu bytes is over the limit "
		    "of %u bytes (8 MiB, as 0-db); it was not stored",
		    op->vallen, ZDB_VALUE_MAX);
	if (op->val == NULL && op->vallen > 0)
		return bop_refuse(op, "no value");
	return 0;
}

static void
dir_seq_set(struct dirb *d, struct bop *op, struct dir_early *ea)
{
	char name[DIR_NAME_MAX];
	uint64_t id;

	if (dir_check_value(op) < 0)
		return;
	if (d->base.mode != NS_SEQUENTIAL) {
		bop_fail(op, "the namespace is in user-key mode: a key is "
		    "needed");
		return;
	}
	if (d->next_id == d->id_end && dir_reserve_ids(d, op) < 0)
		return;
	id = d->next_id++;
	dir_seq_name(id, name);
	if (dir_put(d, op, ea, name) < 0)
		return;
	op->newkey.kind = KEY_V2;
	op->newkey.id = id;
}

static void
dir_key_set(struct dirb *d, struct bop *op, struct dir_early *ea)
{
	char name[DIR_NAME_MAX];

	if (dir_check_value(op) < 0)
		return;
	if (d->base.mode != NS_USERKEY) {
		bop_refuse(op, "the namespace is in sequential mode: it only "
		    "takes new values with an empty key");
		return;
	}
	if (dir_key_name(d, op, name) == 0)
		dir_put(d, op, ea, name);
}

static int
dir_read_all(int fd, uint8_t *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		if ((r = read(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			/* shrank under us: values are never truncated */
			errno = EIO;
			return -1;
		}
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static void
dir_get(struct dirb *d, struct bop *op)
{
	char name[DIR_NAME_MAX];
	struct stat sb;
	int fd, rc;

	if ((rc = dir_key_name(d, op, name)) != 0) {
		op->rc = rc;
		return;
	}
	/* O_NONBLOCK: a FIFO put in a value's place must not hang the open */
	if ((fd = openat(d->dfd, name,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			op->rc = 1;
		else
			dir_fail(op, "open", name);
		return;
	}
	if (fstat(fd, &sb) < 0) {
		dir_fail(op, "stat", name);
		close(fd);
		return;
	}
	/* what no store wrote, read whole, could take every byte of memory */
	if (!S_ISREG(sb.st_mode) || sb.st_size > ZDB_VALUE_MAX)
		bop_fail(op, "%s is %s, not a value this backend wrote (values "
		    "are regular files of at most %u bytes): move it away",
		    name, S_ISREG(sb.st_mode) ? "too large" :
		    "not a regular file", ZDB_VALUE_MAX);
	else if ((op->out = malloc((size_t)sb.st_size + 1)) == NULL)
		bop_fail(op, "out of memory for %lld bytes",
		    (long long)sb.st_size);
	else if (dir_read_all(fd, op->out, (size_t)sb.st_size) < 0) {
		dir_fail(op, "read", name);
		free(op->out);
		op->out = NULL;
	} else
		op->outlen = (size_t)sb.st_size;
	close(fd);
}

static void
dir_del(struct dirb *d, struct bop *op)
{
	char name[DIR_NAME_MAX];
	struct dir_stats st;
	struct stat sb;
	int rc, counted;

	if ((rc = dir_key_name(d, op, name)) != 0) {
		op->rc = rc;
		return;
	}
	if (dir_lock(d) < 0) {
		dir_fail(op, "lock", ".");
		return;
	}
	counted = dir_stats_load(d, &st) == 0;
	if (fstatat(d->dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    unlinkat(d->dfd, name, 0) < 0) {
		if (errno == ENOENT)
			op->rc = 1;
		else
			dir_fail(op, "unlink", name);
		dir_unlock(d);
		return;
	}
	if (counted)
		dir_stats_add(d, &st, -1, -(int64_t)sb.st_size);
	dir_unlock(d);
	if (fsync(d->dfd) < 0)
		dir_fail(op, "fsync", ".");
}

static void
dir_nsinfo(struct dirb *d, struct bop *op)
{
	struct nsinfo *ni = &op->info;
	struct dir_stats st;
	struct statvfs vfs;

	if (dir_lock(d) < 0) {
		dir_fail(op, "lock", ".");
		return;
	}
	if (dir_stats_load(d, &st) < 0) {
		dir_fail(op, "count", ".");
		dir_unlock(d);
		return;
	}
	dir_unlock(d);
	if (fstatvfs(d->dfd, &vfs) < 0) {
		dir_fail(op, "statvfs", ".");
		return;
	}
	memset(ni, 0, sizeof(*ni));
	strlcpy(ni->name, d->base.ci.ns != NULL ? d->base.ci.ns : "default",
	    sizeof(ni->name));
	ni->entries = st.entries;
	ni->public_ = 1;
	ni->mode = d->base.mode;
	ni->data_size_bytes = st.bytes;
	ni->data_disk_freespace_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	ni->index_disk_freespace_bytes = ni->data_disk_freespace_bytes;
}

static void
dir_ping(struct dirb *d, struct bop *op)
{
	struct stat sb;

	/* the mode file vanishes with an unmounted disk or a removed
	 * namespace */
	if (fstatat(d->dfd, "mode", &sb, 0) < 0)
		dir_fail(op, "stat", "mode");
}

static int
dir_entry_cmp(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
dir_listing_free(struct dir_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	free(l->cursor);
	memset(l, 0, sizeof(*l));
}

static int
dir_listing_add(struct dir_listing *l, size_t *cap, const char *name,
    const struct stat *sb)
{
	struct dir_entry *v;

	if (l->n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		if ((v = reallocarray(l->v, *cap, sizeof(*v))) == NULL)
			return -1;
		l->v = v;
	}
	if ((l->v[l->n].name = strdup(name)) == NULL)
		return -1;
	l->v[l->n].mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	l->v[l->n].size = (uint64_t)sb->st_size;
	l->n++;
	return 0;
}

/* Lists the values ordered as 0-db's SCAN: oldest first, then by name. */
static int
dir_list(struct dirb *d, struct dir_listing *l)
{
	struct dirent *de;
	struct stat sb;
	size_t cap = 0;
	DIR *dir;
	int fd, rc = 0;

	if ((fd = dup(d->dfd)) < 0)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(dir);
	while (rc == 0 && (de = readdir(dir)) != NULL)
		if (dir_is_value_name(d, de->d_name) &&
		    fstatat(d->dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			rc = dir_listing_add(l, &cap, de->d_name, &sb);
	closedir(dir);
	if (rc == 0 && l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), dir_entry_cmp);
	return rc;
}

/* A cursor names the last entry returned: its mtime in nanoseconds (8 bytes,
 * big-endian), then its file name. */
static uint8_t *
dir_cursor_encode(const struct dir_entry *e, size_t *len)
{
	size_t namelen = strlen(e->name), i;
	uint8_t *c;

	if ((c = malloc(8 + namelen + 1)) == NULL)
		return NULL;
	for (i = 0; i < 8; i++)
		c[i] = (uint8_t)((uint64_t)e->mtime_ns >> (56 - 8 * i));
	memcpy(c + 8, e->name, namelen);
	*len = 8 + namelen;
	return c;
}

static int
dir_cursor_decode(const uint8_t *c, size_t len, struct dir_entry *e,
    char name[DIR_NAME_MAX])
{
	uint64_t t = 0;
	size_t i;

	if (len <= 8 || len - 8 >= DIR_NAME_MAX)
		return -1;
	for (i = 0; i < 8; i++)
		t = t << 8 | c[i];
	memcpy(name, c + 8, len - 8);
	name[len - 8] = '\0';
	e->mtime_ns = (int64_t)t;
	e->name = name;
	return 0;
}

/* The first entry that sorts after the cursor, which may have been deleted
 * since. */
static size_t
dir_listing_seek(const struct dir_listing *l, const struct dir_entry *cur)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (dir_entry_cmp(&l->v[mid], cur) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
dir_scan_entry(struct dirb *d, const struct dir_entry *de,
    struct scan_entry *se)
{
	size_t len = strlen(de->name), i;
	uint64_t id;

	se->size = de->size;
	se->timestamp = (uint64_t)(de->mtime_ns / 1000000000);
	se->keylen = d->base.mode == NS_SEQUENTIAL ? 8 : len / 2;
	if ((se->key = malloc(se->keylen + 1)) == NULL)
		return -1;
	if (d->base.mode == NS_SEQUENTIAL) {
		id = strtoull(de->name, NULL, 16);
		for (i = 0; i < 8; i++)
			se->key[i] = (uint8_t)(id >> (8 * i));
		return 0;
	}
	return hex_decode(se->key, de->name, len / 2);
}

static int
dir_scan_batch(struct dirb *d, struct bop *op)
{
	struct dir_listing *l = &d->scan;
	size_t end = l->n - l->pos > DIR_SCAN_BATCH ? l->pos + DIR_SCAN_BATCH :
	    l->n;
	struct scan_batch *sb = &op->scan;

	if ((sb->entries = calloc(end - l->pos, sizeof(*sb->entries))) == NULL)
		return -1;
	for (; l->pos < end; l->pos++)
		if (dir_scan_entry(d, &l->v[l->pos], &sb->entries[sb->n++]) < 0)
			return -1;
	free(l->cursor);
	l->cursor = dir_cursor_encode(&l->v[end - 1], &l->cursorlen);
	sb->cursor = dir_cursor_encode(&l->v[end - 1], &sb->cursorlen);
	return l->cursor != NULL && sb->cursor != NULL ? 0 : -1;
}

static void
dir_scan(struct dirb *d, struct bop *op)
{
	struct dir_listing *l = &d->scan;
	struct dir_entry cur = { 0, 0, NULL };
	char curname[DIR_NAME_MAX];

	if (op->key != NULL &&
	    dir_cursor_decode(op->key, op->keylen, &cur, curname) < 0) {
		bop_fail(op, "malformed SCAN cursor");
		return;
	}
	if (op->key == NULL || l->cursor == NULL ||
	    l->cursorlen != op->keylen ||
	    memcmp(l->cursor, op->key, op->keylen) != 0) {
		dir_listing_free(l);
		if (dir_list(d, l) < 0) {
			dir_fail(op, "list", ".");
			dir_listing_free(l);
			return;
		}
		l->pos = op->key != NULL ? dir_listing_seek(l, &cur) : 0;
	}
	if (l->pos >= l->n) {
		op->rc = 1;
		dir_listing_free(l);
		return;
	}
	if (dir_scan_batch(d, op) < 0) {
		scan_batch_free(&op->scan);
		dir_listing_free(l);
		bop_fail(op, "out of memory");
	}
}

static void
dir_run(struct bop **ops, size_t n, int64_t deadline, int timeout_ms)
{
	/* NULL (out of memory): every value is written in its turn */
	struct dir_early *ea = calloc(n ? n : 1, sizeof(*ea));
	struct dirb *d;
	size_t i;

	/* Local disk calls cannot be abandoned half way: no deadline here. */
	(void)deadline;
	(void)timeout_ms;
	for (i = 0; ea != NULL && i < n; i++)
		dir_write_early((struct dirb *)ops[i]->b, ops[i], &ea[i]);
	for (i = 0; i < n; i++) {
		d = (struct dirb *)ops[i]->b;
		switch (ops[i]->kind) {
		case BOP_SEQ_SET:
			dir_seq_set(d, ops[i], ea ? &ea[i] : NULL);
			break;
		case BOP_GET:
			dir_get(d, ops[i]);
			break;
		case BOP_KEY_SET:
			dir_key_set(d, ops[i], ea ? &ea[i] : NULL);
			break;
		case BOP_DEL:
			dir_del(d, ops[i]);
			break;
		case BOP_NSINFO:
			dir_nsinfo(d, ops[i]);
			break;
		case BOP_PING:
			dir_ping(d, ops[i]);
			break;
		case BOP_SCAN:
			dir_scan(d, ops[i]);
			break;
		default:
			bop_fail(ops[i], "unknown operation");
			break;
		}
	}
	for (i = 0; ea != NULL && i < n; i++)
		dir_early_drop((struct dirb *)ops[i]->b, &ea[i]);
	free(ea);
}

static int
dir_ns_valid(const char *ns)
{
	return ns[0] != '\0' && strcmp(ns, ".") != 0 && strcmp(ns, "..") != 0 &&
	    strchr(ns, '/') == NULL && strlen(ns) <= DIR_NS_MAX;
}

/* The backend directory itself is never created: when a disk is not mounted,
 * failing beats silently filling the root filesystem. */
static int
dir_open_dirs(struct dirb *d, const char *path, const char *ns, struct err *e)
{
	int base, created;

	if ((base = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_set(e,
		    "%s: cannot open the backend directory %s: %s%s",
		    d->base.name, path, strerror(errno),
		    errno == EACCES ? dir_advice(d, errno) :
		    " (create it, mount its disk, or fix the dir: address)");
	created = mkdirat(base, ns, 0700) == 0;
	if (!created && errno != EEXIST) {
		err_set(e, "%s: cannot create the namespace directory: %s%s",
		    d->base.name, strerror(errno), dir_advice(d, errno));
		close(base);
		return -1;
	}
	if (created)
		fsync(base);
	d->dfd = openat(base, ns,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	close(base);
	if (d->dfd < 0)
		return err_set(e,
		    "%s: cannot open the namespace directory: %s%s",
		    d->base.name, strerror(errno), dir_advice(d, errno));
	if ((mkdirat(d->dfd, "tmp", 0700) < 0 && errno != EEXIST) ||
	    (d->tmpfd = openat(d->dfd, "tmp",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_set(e,
		    "%s: cannot open the namespace's tmp directory: %s%s",
		    d->base.name, strerror(errno), dir_advice(d, errno));
	return 0;
}

/* Under the lock: a fresh namespace takes the wanted mode, an existing one must
 * have it. The mode file is written last, so a namespace that has one is
 * whole. */
static int
dir_check_mode(struct dirb *d, enum ns_mode want, struct err *e)
{
	struct dir_stats st;
	enum ns_mode have;
	char text[32];

	if (dir_read_small(d, "mode", text, sizeof(text)) < 0) {
		if (errno != ENOENT)
			return err_set(e, "%s: cannot read the mode file: %s",
			    d->base.name, strerror(errno));
		memset(&st, 0, sizeof(st));
		if ((want == NS_SEQUENTIAL &&
		    dir_write_small(d, "next", "0\n", 1) < 0) ||
		    dir_stats_store(d, &st) < 0 ||
		    dir_write_small(d, "mode",
		    want == NS_SEQUENTIAL ? "sequential\n" : "userkey\n",
		    1) < 0)
			return err_set(e,
			    "%s: cannot create the namespace: %s%s",
			    d->base.name, strerror(errno),
			    dir_advice(d, errno));
		return 0;
	}
	if (strcmp(text, "sequential\n") == 0)
		have = NS_SEQUENTIAL;
	else if (strcmp(text, "userkey\n") == 0)
		have = NS_USERKEY;
	else
		return err_set(e,
		    "%s: the mode file says neither sequential nor userkey "
		    "(is this directory a zstor namespace?)", d->base.name);
	if (have != want)
		return err_set(e,
		    "%s: expected the directory namespace to be in %s mode, "
		    "but it is in %s mode (a namespace keeps the mode it was "
		    "created with: "
		    "use another namespace)", d->base.name, ns_mode_text(want),
		    ns_mode_text(have));
	return 0;
}

/* Values a crashed writer left in tmp/. */
static void
dir_clean_tmp(struct dirb *d)
{
	time_t old = time(NULL) - DIR_TMP_MAX_AGE;
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int fd;

	if ((fd = dup(d->tmpfd)) < 0)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, ".v-", 3) == 0 &&
		    fstatat(d->tmpfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 && sb.st_mtime < old)
			unlinkat(d->tmpfd, de->d_name, 0);
	closedir(dir);
}

static void
dir_close(struct backend *b)
{
	struct dirb *d = (struct dirb *)b;

	dir_listing_free(&d->scan);
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->tmpfd >= 0)
		close(d->tmpfd);
	backend_fini(&d->base);
	free(d);
}

static struct backend *
dir_open(const struct backend_ci *ci, enum ns_mode want, int timeout_ms,
    struct err *e)
{
	const char *ns = ci->ns != NULL ? ci->ns : "default";
	struct dirb *d;
	int rc;

	(void)timeout_ms;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	d->dfd = d->tmpfd = -1;
	if (backend_init(&d->base, &dir_impl, ci, want, e) < 0) {
		free(d);
		return NULL;
	}
	if (!dir_ns_valid(ns)) {
		err_set(e, "%s: invalid namespace name (1 to %d bytes, no '/', "
		    "not . or ..)", d->base.name, DIR_NS_MAX);
		goto fail;
	}
	if (dir_open_dirs(d, ci->addr.path, ns, e) < 0)
		goto fail;
	if (dir_lock(d) < 0) {
		err_set(e, "%s: cannot lock the namespace: %s", d->base.name,
		    strerror(errno));
		goto fail;
	}
	rc = dir_check_mode(d, want, e);
	dir_unlock(d);
	if (rc < 0)
		goto fail;
	dir_clean_tmp(d);
	return &d->base;
fail:
	dir_close(&d->base);
	return NULL;
}

/* A backend kept from an earlier job still writes where its path leads: a
 * namespace directory removed or replaced since (a disk swapped, a backend
 * recreated) must not take values nobody can find. */
static int
dir_alive(struct backend *b)
{
	struct dirb *d = (struct dirb *)b;
	const char *ns = b->ci.ns != NULL ? b->ci.ns : "default";
	char path[ADDR_PATH_MAX + DIR_NS_MAX + 2];
	struct stat held, now;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", b->ci.addr.path,
	    ns) >= sizeof(path))
		return 0;
	return fstat(d->dfd, &held) == 0 && held.st_nlink > 0 &&
	    stat(path, &now) == 0 && held.st_dev == now.st_dev &&
	    held.st_ino == now.st_ino;
}

const struct backend_impl dir_impl = {
	.open = dir_open,
	.close = dir_close,
	.alive = dir_alive,
	.run = dir_run,
};
