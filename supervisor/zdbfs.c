/* 0-db-fs statistics: every ZDBFS_SECS, when zdbfs_mountpoint is set, the
 * ioctl ZDBFS_IOC_STATS on the mount point, into the fs_* metrics.
 *
 * The ioctl is made by a short-lived child of the master, never by the
 * master itself nor by a worker:
 *   - a FUSE request waits for the file system's daemon, and once 0-db-fs
 *     has read one it cannot be interrupted: a hung 0-db-fs would hold the
 *     master's loop for ever (opening the mount point asks it too);
 *   - FUSE refuses an ioctl from any user but the one who mounted it
 *     (unless it was mounted allow_other), and the workers run
 *     unprivileged, so even a descriptor passed to the evictor would fail.
 * The child (fork, no exec) runs only open, ioctl, send and _exit; the
 * master waits for its answer on a socketpair in its loop, at most one
 * child at a time, and gives up on one after ZDBFS_DEADLINE_SECS (it is
 * killed; one stuck for good in the kernel is waited for, and no other is
 * started meanwhile).
 *
 * Each poll opens the mount point afresh and holds it only while the child
 * lives (upstream keeps it open). A descriptor kept between polls made
 * `umount` of 0-db-fs fail as busy for as long as the daemon ran, and after
 * `umount -l` it kept the detached file system, and its 0-db-fs process,
 * alive for good, its statistics exported as if it were still mounted. A
 * poll costs two FUSE requests more (the open and its release). */
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "metrics.h"
#include "zdbfs.h"

#define ZDBFS_DEADLINE_SECS	5

/* The child's answer. */
struct zreply {
	int32_t			err;	/* 0, or errno */
	int32_t			opened;	/* err is the ioctl's, not the open's */
	struct zdbfs_stats	st;
};

static struct {
	struct event	*timer;
	struct event	*rd;		/* the child's answer */
	struct event	*deadline;
	char		*path;		/* the mount point */
	pid_t		 child;		/* the poll in flight, or 0 */
	int		 sock;
	int		 failing;	/* the last poll failed (logged) */
} Z = { .sock = -1 };

static void	zdbfs_arm(void);

static void __attribute__((noreturn))
zdbfs_child(int sock, const char *path, pid_t master_pid)
{
	struct zreply r;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL) == -1 ||
	    getppid() != master_pid)
		_exit(1);
	memset(&r, 0, sizeof(r));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	r.opened = fd != -1;
	if (fd == -1 || ioctl(fd, ZDBFS_IOC_STATS, &r.st) == -1)
		r.err = errno;
	_exit(send(sock, &r, sizeof(r), MSG_NOSIGNAL) == (ssize_t)sizeof(r) ?
	    0 : 1);
}

static void	zdbfs_fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* A poll failed: counted, and the first failure in a row logged. */
static void
zdbfs_fail(const char *fmt, ...)
{
	char why[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	metric_set(MX(MF_ZDBFS_UP), 0);
	metric_inc(MX(MF_ZDBFS_POLL_ERRORS), 1);
	if (!Z.failing++)
		log_warnx("0-db-fs statistics from %s: %s; trying again every "
		    "%d s (the fs_ metrics keep their last values)", Z.path,
		    why, ZDBFS_SECS);
}

/* The poll in flight is over, however it went. */
static void
zdbfs_done(void)
{
	if (Z.sock != -1) {
		event_del(Z.rd);
		close(Z.sock);
	}
	Z.sock = -1;
	evtimer_del(Z.deadline);
}

/* The counters go through metric_follow: a 0-db-fs that restarted starts
 * again from 0, and the exported counter goes on from where it was. */
static void
zdbfs_export(const struct zdbfs_stats *st)
{
	static const char *const syscalls[] = { "getattr", "setattr",
	    "create", "readdir", "open", "read", "write", "mkdir", "unlink",
	    "rmdir", "rename", "link", "symlink", "statsfs", "ioctl" };
	static const int gauges[] = { MF_FS_CACHE_FULL,
	    MF_FS_CACHE_LINEAR_FLUSH, MF_FS_CACHE_RANDOM_FLUSH,
	    MF_FS_CACHE_BRANCHES, MF_FS_CACHE_BRANCHES_ALLOCATED,
	    MF_FS_CACHE_ENTRIES, MF_FS_CACHE_BLOCKS, MF_FS_CACHE_BLOCKSIZE };
	size_t i;

	metric_follow(MX(MF_FS_FUSE_REQS), st->v[ZF_FUSE_REQS]);
	metric_follow(MX(MF_FS_CACHE_HITS), st->v[ZF_CACHE_HIT]);
	metric_follow(MX(MF_FS_CACHE_MISS), st->v[ZF_CACHE_MISS]);
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		metric_set(MX(gauges[i]), (double)st->v[ZF_CACHE_FULL + i]);
	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		metric_follow(MX(MF_FS_SYSCALLS, syscalls[i]),
		    st->v[ZF_SYSCALL_GETATTR + i]);
	metric_follow(MX(MF_FS_BYTES_READ), st->v[ZF_READ_BYTES]);
	metric_follow(MX(MF_FS_BYTES_WRITTEN), st->v[ZF_WRITE_BYTES]);
	metric_follow(MX(MF_FS_FUSE_ERRORS), st->v[ZF_ERRORS]);
	metric_set(MX(MF_ZDBFS_UP), 1);
}

/* The child's answer: one datagram of the socketpair. */
static int
recv_reply(struct zreply *r)
{
	ssize_t n;

	if ((n = recv(Z.sock, r, sizeof(*r), MSG_DONTWAIT)) == -1)
		return -1;
	if (n == (ssize_t)sizeof(*r))
		return 0;
	errno = EPROTO;
	return -1;
}

static void
zdbfs_on_reply(int sock, short ev, void *arg)
{
	struct zreply r;

	(void)sock;
	(void)ev;
	(void)arg;
	if (recv_reply(&r) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		zdbfs_done();
		zdbfs_fail("the poll ended without an answer");
		return;
	}
	zdbfs_done();
	if (r.err != 0 && !r.opened)
		zdbfs_fail("cannot open it: %s", strerror(r.err));
	else if (r.err == ENOTTY || r.err == EINVAL)
		zdbfs_fail("%s (no 0-db-fs is mounted there)",
		    strerror(r.err));
	else if (r.err != 0)
		zdbfs_fail("%s", strerror(r.err));
	if (r.err != 0)
		return;
	if (r.st.v[ZF_VERSION] != ZDBFS_STATS_VERSION && !Z.failing)
		log_debug("0-db-fs at %s reports statistics version %zu (this "
		    "daemon reads version %d)", Z.path, r.st.v[ZF_VERSION],
		    ZDBFS_STATS_VERSION);
	if (Z.failing)
		log_info("0-db-fs statistics from %s again", Z.path);
	Z.failing = 0;
	zdbfs_export(&r.st);
}

static void
zdbfs_on_deadline(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	zdbfs_done();
	if (Z.child > 0)
		kill(Z.child, SIGKILL);
	zdbfs_fail("no answer to the ioctl within %d s (is 0-db-fs hung?)",
	    ZDBFS_DEADLINE_SECS);
}

static void
zdbfs_poll(void)
{
	struct timeval deadline = { ZDBFS_DEADLINE_SECS, 0 };
	int sv[2];
	pid_t pid, self = getpid();

	if (Z.child > 0 || Z.path == NULL)
		return;	/* one at a time, also one stuck for good */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		zdbfs_fail("socketpair: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		zdbfs_fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		zdbfs_child(sv[1], Z.path, self);
	close(sv[1]);
	Z.child = pid;
	Z.sock = sv[0];
	event_assign(Z.rd, master->base, Z.sock, EV_READ | EV_PERSIST,
	    zdbfs_on_reply, NULL);
	event_add(Z.rd, NULL);
	evtimer_add(Z.deadline, &deadline);
}

static void
zdbfs_on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!master->stopping)
		zdbfs_poll();
	zdbfs_arm();
}

static void
zdbfs_arm(void)
{
	struct timeval tv = { ZDBFS_SECS, 0 };

	if (Z.path != NULL)
		evtimer_add(Z.timer, &tv);
}

int
zdbfs_reaped(pid_t pid)
{
	if (pid != Z.child || pid <= 0)
		return 0;
	Z.child = 0;
	return 1;
}

void
zdbfs_apply_config(void)
{
	const char *mp = master->cfg.zdbfs_mountpoint;

	if (Z.timer == NULL) {
		Z.timer = evtimer_new(master->base, zdbfs_on_timer, NULL);
		Z.deadline = evtimer_new(master->base, zdbfs_on_deadline, NULL);
		Z.rd = event_new(master->base, -1, 0, zdbfs_on_reply, NULL);
		if (Z.timer == NULL || Z.deadline == NULL || Z.rd == NULL)
			fatalx("out of memory for the 0-db-fs poll");
	}
	if (mp != NULL && Z.path != NULL && strcmp(mp, Z.path) == 0)
		return;
	free(Z.path);
	Z.path = NULL;
	Z.failing = 0;
	evtimer_del(Z.timer);
	if (mp == NULL) {
		metric_set(MX(MF_ZDBFS_UP), 0);
		return;
	}
	if ((Z.path = strdup(mp)) == NULL)
		fatalx("out of memory");
	log_info("0-db-fs statistics from %s every %d s", Z.path, ZDBFS_SECS);
	zdbfs_poll();
	zdbfs_arm();
}
