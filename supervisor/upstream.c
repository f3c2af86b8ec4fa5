/* Upstream zstor's client protocol, so that hooks which still run upstream's
 * `zstor` work against zstor-master. A frame is a 2-byte big-endian length
 * and a bincode (legacy) ZstorCommand: a u32 tag, then
 * Store {file, key_path: Option, save_failure, delete, blocking}, Retrieve
 * {file}, Rebuild {file: Option, key: Option, metadata: Option} or Check
 * {path}; strings are a u64 length and UTF-8. The reply is ZstorResponse:
 * Success, Err(String) or Checksum([u8; 16]).
 *
 * Such requests carry paths, not descriptors. The master opens the file to
 * store, and creates and renames the file a retrieve writes, as the client
 * (asuser.c), never with its own rights; the request then goes the way one
 * of ours goes, through the same checks (rights.c) and jobs. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blake2b.h"
#include "filepaths.h"
#include "log.h"
#include "rights.h"
#include "upstream.h"

enum { UP_STORE, UP_RETRIEVE, UP_REBUILD, UP_CHECK };
enum { UP_SUCCESS, UP_ERR, UP_CHECKSUM };

#define UP_STR_MAX	PATH_MAX

struct up_reader {
	const uint8_t	*p;
	size_t		 left;
	struct err	*e;
};

static int
up_take(struct up_reader *r, void *out, size_t n, const char *what)
{
	if (r->left < n)
		return err_set(r->e, "upstream request cut short in %s", what);
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int
up_u8(struct up_reader *r, int *v, const char *what)
{
	uint8_t b = 0;

	if (up_take(r, &b, 1, what) == -1)
		return -1;
	if (b > 1)
		return err_set(r->e, "upstream request: %s is %u, not 0 or 1",
		    what, b);
	*v = b;
	return 0;
}

static int
up_u32(struct up_reader *r, uint32_t *v, const char *what)
{
	uint8_t b[4] = { 0 };

	if (up_take(r, b, 4, what) == -1)
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	return 0;
}

/* A string, into a NUL-terminated copy (free it). */
static char *
up_str(struct up_reader *r, const char *what)
{
	uint8_t b[8] = { 0 };
	uint64_t n = 0;
	char *s;
	int i;

	if (up_take(r, b, 8, what) == -1)
		return NULL;
	for (i = 7; i >= 0; i--)
		n = n << 8 | b[i];
	if (n > UP_STR_MAX || n > r->left) {
		err_set(r->e, "upstream request: %s of %llu bytes", what,
		    (unsigned long long)n);
		return NULL;
	}
	if ((s = malloc((size_t)n + 1)) == NULL) {
		err_set(r->e, "out of memory");
		return NULL;
	}
	(void)up_take(r, s, (size_t)n, what);
	s[n] = '\0';
	if (strlen(s) != (size_t)n) {
		err_set(r->e, "upstream request: %s holds a NUL byte", what);
		free(s);
		return NULL;
	}
	return s;
}

/* An Option<String>: *s NULL for None. */
static int
up_opt_str(struct up_reader *r, char **s, const char *what)
{
	int some;

	*s = NULL;
	if (up_u8(r, &some, what) == -1)
		return -1;
	if (some && (*s = up_str(r, what)) == NULL)
		return -1;
	return 0;
}

static int
up_set_path(struct msg *m, const char *field, char *v, struct err *e)
{
	int rc = 0;

	if (v != NULL && v[0] != '/')
		rc = err_set(e, "%s is not an absolute path (zstor-master "
		    "resolves no relative path sent in upstream's protocol)",
		    v);
	else if (v != NULL && msg_set_str(m, field, v) == -1)
		rc = err_set(e, "%s is not a valid path", v);
	free(v);
	return rc;
}

static int
up_store(struct up_reader *r, struct msg *m)
{
	char *file, *kp;
	int sf, del, blocking, rc;

	if ((file = up_str(r, "file")) == NULL)
		return -1;
	if (up_opt_str(r, &kp, "key_path") == -1) {
		free(file);
		return -1;
	}
	rc = up_u8(r, &sf, "save_failure") == -1 || up_u8(r, &del, "delete") ==
	    -1 || up_u8(r, &blocking, "blocking") == -1 ? -1 : 0;
	/* the key directory travels in "key_path" until prepare resolves it */
	if (rc == 0 && (up_set_path(m, "path", file, r->e) == -1 ||
	    up_set_path(m, "key_path", kp, r->e) == -1))
		return -1;
	if (rc == -1) {
		free(file);
		free(kp);
		return -1;
	}
	msg_set_bool(m, "save_failure", sf);
	msg_set_bool(m, "delete", del);
	msg_set_bool(m, "blocking", blocking);
	return 0;
}

static int
up_rebuild(struct up_reader *r, struct msg *m)
{
	char *file, *key;
	int meta;

	if (up_opt_str(r, &file, "file") == -1)
		return -1;
	if (up_opt_str(r, &key, "key") == -1 || up_u8(r, &meta,
	    "metadata") == -1 || (meta && err_set(r->e, "rebuild with "
	    "metadata in the request is not taken (upstream's client never "
	    "sends it)") == -1) || (key != NULL && msg_set_str(m, "key",
	    key) == -1 && err_set(r->e, "key is not valid") == -1)) {
		free(file);
		free(key);
		return -1;
	}
	free(key);
	return up_set_path(m, "path", file, r->e);
}

struct msg *
upstream_parse(const uint8_t *body, size_t len, struct err *e)
{
	static const enum msg_type types[] = { MT_STORE, MT_RETRIEVE,
	    MT_REBUILD, MT_CHECK };
	struct up_reader r = { body, len, e };
	struct msg *m;
	uint32_t tag;
	int rc;

	if (up_u32(&r, &tag, "the command tag") == -1)
		return NULL;
	if (tag > UP_CHECK) {
		err_set(e, "upstream request: unknown command %u", tag);
		return NULL;
	}
	if ((m = msg_new(types[tag], 0, e)) == NULL)
		return NULL;
	if (tag == UP_STORE)
		rc = up_store(&r, m);
	else if (tag == UP_REBUILD)
		rc = up_rebuild(&r, m);
	else
		rc = up_set_path(m, "path", up_str(&r, tag == UP_CHECK ?
		    "path" : "file"), e);
	if (rc == 0 && tag != UP_REBUILD && !msg_has(m, "path"))
		rc = -1;	/* up_str failed: e says why */
	if (rc == 0 && r.left != 0)
		rc = err_set(e, "upstream request: %zu bytes after the command",
		    r.left);
	if (rc == -1) {
		msg_free(m);
		return NULL;
	}
	return m;
}

/* As the client: the file to store, and the path its key comes from. */
static int
prepare_store(struct msg *m, int *fd, struct err *e)
{
	const char *path = msg_get_str(m, "path");
	const char *dir = msg_has(m, "key_path") ? msg_get_str(m, "key_path") :
	    NULL;
	char kp[PATH_MAX + 1];
	struct stat st;

	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return err_set(e, "cannot open %s: %s", path, strerror(errno));
	if (fstat(*fd, &st) == -1 || !S_ISREG(st.st_mode))
		return err_set(e, "%s: only regular files can be stored "
		    "through upstream's protocol (store a directory's files "
		    "one by one, or use this release's zstor)", path);
	if (store_key_path(path, dir, kp, sizeof(kp), e) == -1)
		return -1;
	return msg_set_str(m, "key_path", kp) == -1 ?
	    err_set(e, "key path %s is not valid", kp) : 0;
}

/* As the client: the temporary file beside the target, in a directory
 * created as it would have created it. */
static int
prepare_retrieve(const struct asuser *who, const char *path, int *fd,
    struct upstream_pending *p, struct err *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	mode_t old;
	int i;

	strlcpy(dir, path, sizeof(dir));
	strlcpy(dir, dirname(dir), sizeof(dir));
	strlcpy(base, path, sizeof(base));
	strlcpy(p->name, basename(base), sizeof(p->name));
	old = umask(0);
	i = make_dirs(dir, who->umask, e);
	umask(old);
	if (i == -1)
		return -1;
	if ((p->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return err_set(e, "cannot open %s: %s", dir, strerror(errno));
	for (i = 0; i < 100; i++) {
		snprintf(p->tmp, sizeof(p->tmp), ".%.200s.zstor-%06x", p->name,
		    arc4random_uniform(1U << 24));
		p->fd = openat(p->dirfd, p->tmp, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (p->fd != -1 || errno != EEXIST)
			break;
	}
	if (p->fd == -1)
		return err_set(e, "cannot create a temporary file in %s: %s",
		    dir, strerror(errno));
	if ((*fd = dup(p->fd)) == -1)
		return err_set(e, "dup: %s", strerror(errno));
	return 0;
}

static void
pending_free(struct upstream_pending *p)
{
	if (p->fd != -1)
		close(p->fd);
	if (p->dirfd != -1)
		close(p->dirfd);
	free(p);
}

int
upstream_prepare(const struct asuser *who, struct msg *m, int *fd,
    struct upstream_pending **pend, struct err *e)
{
	const char *path = msg_get_str(m, "path");
	int store = msg_type(m) == MT_STORE;
	struct upstream_pending *p = NULL;
	struct asuser_saved s;
	int same, rc;

	*fd = -1;
	*pend = NULL;
	if (!store && msg_type(m) != MT_RETRIEVE)
		return 0;		/* check, rebuild: a path is enough */
	if (!store) {
		/* checked again with the request; here before anything is
		 * created */
		if (rights_check(who, RIGHTS_RETRIEVE, path, -1, e) == -1)
			return -1;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return err_set(e, "out of memory");
		p->dirfd = p->fd = -1;
	}
	if ((same = asuser_enter(who, &s, e)) == -1) {
		if (p != NULL)
			pending_free(p);
		return -1;
	}
	rc = store ? prepare_store(m, fd, e) : prepare_retrieve(who, path, fd,
	    p, e);
	if (rc == -1 && p != NULL && p->fd != -1)
		unlinkat(p->dirfd, p->tmp, 0);
	if (!same)
		asuser_leave(&s);
	if (rc == 0) {
		*pend = p;
		return 0;
	}
	if (*fd != -1)
		close(*fd);
	*fd = -1;
	if (p != NULL)
		pending_free(p);
	return -1;
}

int
upstream_finish(const struct asuser *who, struct upstream_pending *p, int ok,
    struct err *e)
{
	struct asuser_saved s;
	int same, rc = 0;

	if ((same = asuser_enter(who, &s, e)) == -1) {
		pending_free(p);
		return -1;
	}
	if (ok && (file_take_identity(p->fd, p->dirfd, p->name, who->umask,
	    e) == -1 || (fsync(p->fd) == -1 && err_set(e, "fsync: %s",
	    strerror(errno)) == -1) || (renameat(p->dirfd, p->tmp, p->dirfd,
	    p->name) == -1 && err_set(e, "cannot move the retrieved file into "
	    "place: %s", strerror(errno)) == -1)))
		rc = -1;
	if (!ok || rc == -1)
		unlinkat(p->dirfd, p->tmp, 0);
	if (!same)
		asuser_leave(&s);
	pending_free(p);
	return rc;
}

size_t
upstream_reply(uint8_t *out, size_t cap, int ok, const char *error,
    const uint8_t *sum)
{
	uint32_t tag = !ok ? UP_ERR : sum != NULL ? UP_CHECKSUM : UP_SUCCESS;
	size_t n = UPSTREAM_HDR + 4, len, i;

	memset(out + UPSTREAM_HDR, 0, 4);
	out[UPSTREAM_HDR] = (uint8_t)tag;
	if (tag == UP_CHECKSUM) {
		memcpy(out + n, sum, B2_LEN);
		n += B2_LEN;
	} else if (tag == UP_ERR) {
		len = strlen(error);
		if (len > cap - n - 8)
			len = cap - n - 8;
		for (i = 0; i < 8; i++)
			out[n + i] = (uint8_t)((uint64_t)len >> (8 * i));
		memcpy(out + n + 8, error, len);
		n += 8 + len;
	}
	out[0] = (uint8_t)((n - UPSTREAM_HDR) >> 8);
	out[1] = (uint8_t)(n - UPSTREAM_HDR);
	return n;
}
