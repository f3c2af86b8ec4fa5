/* The pid file, and telling systemd how we are (the sd_notify protocol, written
 * by hand: one datagram to $NOTIFY_SOCKET). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

/* /proc/PID/comm without its newline; -1 when the process is gone. */
static int
proc_comm(const char *pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* A zombie (state Z in /proc/PID/stat) still has its comm, but is gone. */
static int
proc_zombie(const char *pid)
{
	char path[64], buf[512], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	if ((end = strrchr(buf, ')')) == NULL || end[1] != ' ')
		return 0;
	return end[2] == 'Z' || end[2] == 'X';
}

/* The pid in an existing pid file names a live zstor-master: the same check
 * as upstream, by the command name of the process. */
static int
pid_file_owner_alive(const char *path, long *pid)
{
	char buf[32], theirs[64], ours[64];
	ssize_t n;
	char *end;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	*pid = strtol(buf, &end, 10);
	if (end == buf || *pid <= 0 || *pid == (long)getpid()) {
		log_debug("pid file %s holds no other process (\"%s\")", path,
		    buf);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%ld", *pid);
	if (proc_comm(buf, theirs, sizeof(theirs)) == -1 ||
	    proc_comm("self", ours, sizeof(ours)) == -1 || proc_zombie(buf)) {
		log_debug("pid file %s: process %ld is gone", path, *pid);
		return 0;
	}
	return strcmp(theirs, ours) == 0;
}

int
pid_file_claim(const char *path, struct err *e)
{
	char buf[32];
	struct stat st;
	long pid;
	int fd, n;

	if (trust_parent(path, e) == -1)
		return -1;
	if (pid_file_owner_alive(path, &pid))
		return err_set(e,
		    "another daemon instance is running (pid %ld, "
		    "pid file %s)", pid, path);
	/* Not through a link, and truncated only once known to be ours. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		return err_set(e,
		    "cannot write the pid file %s: %s (set pid_file "
		    "in the config to a writable place)", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || trust_check(&st, path, 0, e) == -1) {
		close(fd);
		return err_prefix(e, "the pid file cannot be trusted");
	}
	/* A text file's line: upstream writes none, but a pid file read by
	 * `cat` or `read` wants one, and readers (ours too) skip it. */
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)n) != n) {
		close(fd);
		return err_set(e, "cannot write the pid file %s: %s", path,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

/* Only our own: a second instance that was refused must not remove it. */
void
pid_file_remove(const char *path)
{
	long pid = 0;
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
	}
	if (pid == (long)getpid() && unlink(path) == -1)
		log_warn("cannot remove the pid file %s", path);
}

/* state is "READY=1", "RELOADING=1", "STOPPING=1"... A missing socket is
 * normal (not started by systemd); a failing one is only logged. */
void
notify_systemd(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd;

	if (name == NULL || name[0] == '\0')
		return;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET \"%s\" is not a socket path", name);
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';		/* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sd_notify: socket");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify %s to %s", state, name);
	else
		log_debug("told systemd %s", state);
	close(fd);
}
