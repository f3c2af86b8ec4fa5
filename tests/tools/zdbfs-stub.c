/* A FUSE file system that answers 0-db-fs's statistics ioctl with known
 * values, for the daemon's tests.
 *
 *   zdbfs-stub MOUNTPOINT MODEFILE
 *
 * Mounts an empty directory at MOUNTPOINT (in the foreground, until SIGTERM
 * or SIGINT) and answers ZDBFS_IOC_STATS on it, as 0-db-fs does, according
 * to the first word of MODEFILE, read at each ioctl:
 *   ok      version 2, and field i = 1000 * i
 *   reset   the same after a restart of 0-db-fs: field i = 10 * i
 *   eio     the ioctl fails with EIO
 *   hang    no answer (and no other request served) while the word is hang
 * Any other ioctl fails with EINVAL (as 0-db-fs answers). */
#define FUSE_USE_VERSION 31

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "zdbfs.h"

int main(int argc, char **argv);

static const char *modefile;

static void
mode(char *word, size_t len)
{
	ssize_t n;
	int fd;

	word[0] = '\0';
	if ((fd = open(modefile, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, word, len - 1);
	close(fd);
	word[n > 0 ? n : 0] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
}

static void
st_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	if (conn->capable & FUSE_CAP_IOCTL_DIR)
		conn->want |= FUSE_CAP_IOCTL_DIR;
}

static void
st_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.st_ino = FUSE_ROOT_ID;
	st.st_mode = S_IFDIR | 0755;
	st.st_nlink = 2;
	fuse_reply_attr(req, &st, 1.0);
}

static void
st_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, ENOENT);
}

static void
st_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_open(req, fi);
}

static void
st_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)ino;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_buf(req, NULL, 0);
}

static void
st_ioctl(fuse_req_t req, fuse_ino_t ino, int icmd, void *arg,
    struct fuse_file_info *fi, unsigned flags, const void *in,
    size_t insz, size_t outsz)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	/* FUSE 3.14 passes an int */
	unsigned int cmd = (unsigned int)icmd;
	struct zdbfs_stats st;
	char word[32];
	size_t i;

	(void)ino;
	(void)arg;
	(void)fi;
	(void)in;
	(void)insz;
	if (cmd != ZDBFS_IOC_STATS || outsz != sizeof(st) ||
	    (flags & FUSE_IOCTL_COMPAT)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	for (mode(word, sizeof(word)); strcmp(word, "hang") == 0;
	    mode(word, sizeof(word)))
		nanosleep(&tick, NULL);
	if (strcmp(word, "eio") == 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	st.v[ZF_VERSION] = ZDBFS_STATS_VERSION;
	for (i = 1; i < ZF_FIELDS; i++)
		st.v[i] = (strcmp(word, "reset") == 0 ? 10 : 1000) * i;
	fuse_reply_ioctl(req, 0, &st, sizeof(st));
}

static const struct fuse_lowlevel_ops ops = {
	.init = st_init,
	.lookup = st_lookup,
	.getattr = st_getattr,
	.opendir = st_opendir,
	.readdir = st_readdir,
	.ioctl = st_ioctl,
};

int
main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-o", "fsname=zdbfs-stub", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: zdbfs-stub MOUNTPOINT MODEFILE\n");
		return 2;
	}
	modefile = argv[2];
	if ((se = fuse_session_new(&args, &ops, sizeof(ops), NULL)) == NULL)
		return 1;
	if (fuse_set_signal_handlers(se) != 0 ||
	    fuse_session_mount(se, argv[1]) != 0) {
		fuse_session_destroy(se);
		return 1;
	}
	fprintf(stderr, "zdbfs-stub: mounted on %s\n", argv[1]);
	rc = fuse_session_loop(se);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return rc != 0;
}
