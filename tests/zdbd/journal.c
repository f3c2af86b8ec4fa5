/* The double's persistence: what 0-db keeps across a restart (keys and values,
 * namespaces, and the NSSET properties mode, password, public, worm and
 * maxsize; not lock and freeze) goes to one append-only journal,
 * <data dir>/zdbd-double.journal, and is replayed through the same changes
 * (store.c) at start-up, so ids, sizes, offsets and the SCAN order come back
 * as they were.
 *
 * Durability: a record is written (one writev) before the change is made and
 * answered. Without --sync it is then in the kernel's page cache, which a
 * killed double (SIGKILL, XFAULT down) does not lose; with --sync it is also
 * on the disk (fdatasync), as 0-db's --sync. A record that a crash cut short
 * was never answered: the replay drops it and truncates the journal there.
 * The journal only grows, like 0-db's data files.
 *
 * Record: a 28-byte header (magic, type, timestamp, the lengths of its three
 * fields, a check word over the header), the fields (namespace; key or
 * property; value), and the check word again, written last, so a record
 * whose end is missing is seen as cut short. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "zdbd.h"

#define JOURNAL_NAME	"zdbd-double.journal"
#define JOURNAL_MAGIC	"ZDBDJNL1"	/* the file's first 8 bytes */
#define REC_MAGIC	0x4345524aU	/* "JREC" */
#define REC_HEADER	28
#define REC_TRAILER	4

struct rec {
	enum jrec	 type;
	uint32_t	 ts;
	uint8_t		*f[3];		/* NUL-terminated copies */
	size_t		 len[3];
};

static const size_t field_max[3] = {
	ZDBD_MAX_NSNAME, ZDBD_MAX_KEY + 1, ZDBD_MAX_PAYLOAD
};

/* mkdir -p, as 0-db creates its directories. */
static void
mkdirs(const char *path)
{
	char buf[4096], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("directory path too long: %s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fatal("cannot create directory %s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		fatal("cannot create directory %s", buf);
}

static void
header_encode(uint8_t h[REC_HEADER], enum jrec type, uint32_t ts,
    const size_t len[3])
{
	int i;

	memset(h, 0, REC_HEADER);
	le_put(h, REC_MAGIC, 4);
	h[4] = (uint8_t)type;
	le_put(h + 8, ts, 4);
	for (i = 0; i < 3; i++)
		le_put(h + 12 + 4 * i, len[i], 4);
	le_put(h + 24, fnv1a32(h, 24), 4);
}

/* 0: a whole record; -1: the journal ends here (cleanly or cut short). */
static int
rec_read(FILE *f, struct rec *r)
{
	uint8_t h[REC_HEADER], t[REC_TRAILER];
	int i;

	memset(r, 0, sizeof(*r));
	if (fread(h, 1, sizeof(h), f) != sizeof(h) ||
	    le_get(h, 4) != REC_MAGIC || le_get(h + 24, 4) != fnv1a32(h, 24) ||
	    h[4] < J_NSNEW || h[4] > J_DEL)
		return -1;
	r->type = h[4];
	r->ts = (uint32_t)le_get(h + 8, 4);
	for (i = 0; i < 3; i++) {
		r->len[i] = le_get(h + 12 + 4 * i, 4);
		if (r->len[i] > field_max[i] ||
		    (r->f[i] = malloc(r->len[i] + 1)) == NULL ||
		    fread(r->f[i], 1, r->len[i], f) != r->len[i])
			return -1;
		r->f[i][r->len[i]] = '\0';
	}
	if (fread(t, 1, sizeof(t), f) != sizeof(t) ||
	    memcmp(t, h + 24, sizeof(t)) != 0)
		return -1;
	return 0;
}

static void
rec_free(struct rec *r)
{
	int i;

	for (i = 0; i < 3; i++)
		free(r->f[i]);
}

/* A record that does not fit the state before it: not a torn write, but a
 * journal from something else, or edited. */
static void __attribute__((noreturn))
damaged(const char *path, uint64_t off, const char *what)
{
	fatalx("%s: the record at offset %" PRIu64 " %s; the journal is "
	    "damaged (remove the data directory to start empty)", path, off,
	    what);
}

static void
rec_apply(struct zdbd *z, const struct rec *r, const char *path, uint64_t off)
{
	struct ns *ns;
	struct entry *e;
	int update;

	ns = zdbd_find_ns(z, r->f[0], r->len[0]);
	if (r->type == J_NSNEW) {
		if (ns != NULL)
			damaged(path, off, "creates a namespace that exists");
		if (zdbd_ns_new(z, (const char *)r->f[0]) == NULL)
			fatalx("out of memory replaying %s", path);
		return;
	}
	if (ns == NULL)
		damaged(path, off, "names a namespace that does not exist");
	switch (r->type) {
	case J_NSDEL:
		zdbd_ns_del(z, ns);
		break;
	case J_NSSET:
		ns_setprop(ns, (const char *)r->f[1], (const char *)r->f[2]);
		break;
	case J_SET:
		update = ns_lookup(ns, r->f[1], r->len[1]) != NULL;
		if (ns_set(ns, r->f[1], r->len[1], r->f[2], r->len[2],
		    r->ts) == NULL)
			fatalx("out of memory replaying %s", path);
		/* 0-db's reload counts every SET in its index as an id, the
		 * updates of a userkey namespace too (a running 0-db does
		 * not): next_internal_id comes back as 0-db's does. */
		if (update && ns->mode == NS_USERKEY)
			ns->next_id++;
		break;
	default:	/* J_DEL */
		if ((e = ns_lookup(ns, r->f[1], r->len[1])) == NULL)
			damaged(path, off, "deletes a key that does not exist");
		ns_del(ns, e);
		break;
	}
}

/* Replays every whole record; returns where they end. */
static uint64_t
replay(struct zdbd *z, int fd, const char *path)
{
	char magic[sizeof(JOURNAL_MAGIC) - 1];
	struct rec r;
	uint64_t off = sizeof(magic), n = 0;
	FILE *f;
	int i;

	if ((i = dup(fd)) == -1 || (f = fdopen(i, "rb")) == NULL)
		fatal("cannot read %s", path);
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic)) {
		fclose(f);
		return 0;	/* new, or cut short before its first record */
	}
	if (memcmp(magic, JOURNAL_MAGIC, sizeof(magic)) != 0)
		fatalx("%s is not a zdbd-double journal", path);
	while (rec_read(f, &r) == 0) {
		rec_apply(z, &r, path, off);
		off += REC_HEADER + r.len[0] + r.len[1] + r.len[2] +
		    REC_TRAILER;
		rec_free(&r);
		n++;
	}
	rec_free(&r);
	fclose(f);
	log_debug("%s: %" PRIu64 " records replayed", path, n);
	return off;
}

void
journal_open(struct zdbd *z)
{
	char path[4096];
	struct stat st;
	uint64_t end;
	int fd;

	mkdirs(z->datadir);
	mkdirs(z->indexdir);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", z->datadir,
	    JOURNAL_NAME) >= sizeof(path))
		fatalx("data directory path too long: %s", z->datadir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		fatal("cannot open %s", path);
	/* As 0-db's .lockfile: one server per data directory. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		fatalx("an instance of zdbd-double is already using: %s", path);
	end = replay(z, fd, path);
	if (fstat(fd, &st) == -1)
		fatal("%s", path);
	if ((uint64_t)st.st_size > end) {
		log_warnx("%s: dropping %" PRIu64 " bytes at offset %" PRIu64
		    ": a record cut short by a crash, never answered", path,
		    (uint64_t)st.st_size - end, end);
		if (ftruncate(fd, (off_t)end) == -1)
			fatal("cannot truncate %s", path);
	}
	if (end == 0) {
		if (ftruncate(fd, 0) == -1 || write(fd, JOURNAL_MAGIC,
		    sizeof(JOURNAL_MAGIC) - 1) != sizeof(JOURNAL_MAGIC) - 1)
			fatal("cannot write %s", path);
		end = sizeof(JOURNAL_MAGIC) - 1;
	}
	z->journal = fd;
	z->journal_len = end;
}

/* Writes all of iov, or fails; partial writes happen on a full disk. */
static int
write_all(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
journal_add(struct zdbd *z, enum jrec type, const char *ns, const void *b,
    size_t bl, const void *c, size_t cl, uint32_t ts)
{
	uint8_t h[REC_HEADER];
	size_t len[3] = { strlen(ns), bl, cl };
	struct iovec iov[5];

	header_encode(h, type, ts, len);
	iov[0] = (struct iovec){ h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)(uintptr_t)ns, len[0] };
	iov[2] = (struct iovec){ (void *)(uintptr_t)b, bl };
	iov[3] = (struct iovec){ (void *)(uintptr_t)c, cl };
	iov[4] = (struct iovec){ h + 24, REC_TRAILER };
	if (write_all(z->journal, iov, 5) == -1 ||
	    (z->sync && fdatasync(z->journal) == -1)) {
		log_warn("journal: cannot write a record");
		/* The next record must start where this one did, or the replay
		 * would stop at this one and lose every record after it. */
		if (ftruncate(z->journal, (off_t)z->journal_len) == -1)
			fatal("journal: cannot drop a partial record");
		return -1;
	}
	z->journal_len += sizeof(h) + len[0] + bl + cl + REC_TRAILER;
	return 0;
}
