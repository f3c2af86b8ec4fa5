#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;
static int log_debug_on;
static int log_tee;
static char log_path[4096];
static char log_role[32];
/* Rotation that failed is paused, not retried on every line: retried with
 * each line that comes LOG_RETRY_SECS or more after the last try. */
static int log_paused;
static time_t log_retry_at;

#define LOG_RETRY_SECS	1

static int
log_open(void)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640);

	if (fd < 0)
		return -1;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

int
log_init(const char *path, int debug)
{
	log_debug_on = debug;
	log_paused = 0;
	if (path == NULL) {
		log_path[0] = '\0';
		return 0;
	}
	if (strlen(path) >= sizeof(log_path) - 8) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(log_path, path);
	return log_open();
}

void
log_tee_stderr(int on)
{
	log_tee = on;
}

void
log_set_prefix(const char *prefix)
{
	snprintf(log_role, sizeof(log_role), "%s", prefix ? prefix : "");
}

/* "dir/zstor.log" -> "dir/zstor.{i}.log"; a name without extension gets
 * ".{i}". */
static void
rotated_name(char *out, size_t len, int i)
{
	const char *slash = strrchr(log_path, '/');
	const char *dot = strrchr(log_path, '.');

	if (dot == NULL || (slash != NULL && dot < slash) ||
	    dot == (slash ? slash + 1 : log_path))
		snprintf(out, len, "%s.%d", log_path, i);
	else
		snprintf(out, len, "%.*s.%d%s", (int)(dot - log_path), log_path,
		    i, dot);
}

static time_t
log_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Writes straight to the current file: the line that says rotation stopped. */
static void
log_note_paused(const char *what, int err)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "log rotation paused: %s: %s; "
	    "writing on in the current file, retried every %d s\n", what,
	    strerror(err), LOG_RETRY_SECS);
	if (n > 0)
		(void)!write(log_fd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

/* Moves the live file to .0, shifting older ones up only when .0 is taken:
 * a rotation that failed halfway and is tried again shifts nothing twice. */
static int
log_shift(void)
{
	char from[4200], to[4200];
	struct stat st;
	int i;

	rotated_name(to, sizeof(to), 0);
	if (stat(to, &st) == 0)
		for (i = LOG_ROTATE_KEEP - 1; i > 0; i--) {
			rotated_name(from, sizeof(from), i - 1);
			rotated_name(to, sizeof(to), i);
			(void)rename(from, to);
		}
	rotated_name(to, sizeof(to), 0);
	return rename(log_path, to);
}

/* At LOG_ROTATE_BYTES the file is rotated. When that cannot be done (no
 * descriptor left for the new file, a directory we can no longer write) the
 * lines go on into the file we hold, and rotation waits until it works: a
 * failing rotation never cycles through the old files. */
static void
log_rotate_if_needed(void)
{
	const char *what = "no descriptor left for a new log file";
	struct stat st;
	int probe, moved = 0;

	if (log_path[0] == '\0' || fstat(log_fd, &st) < 0)
		return;
	if (log_paused && log_now() < log_retry_at)
		return;
	if (log_paused == 2) {		/* renamed already: open the new file */
		if (log_open() == 0)
			log_paused = 0;
		else
			log_retry_at = log_now() + LOG_RETRY_SECS;
		return;
	}
	if (st.st_size < LOG_ROTATE_BYTES)
		return;
	/* A descriptor for the new file must be there before anything moves. */
	if ((probe = dup(log_fd)) != -1) {
		close(probe);
		what = "cannot rename the log file";
		if ((moved = log_shift() == 0) && log_open() == 0) {
			log_paused = 0;
			return;
		}
		if (moved)
			what = "cannot open a new log file";
	}
	if (!log_paused)
		log_note_paused(what, errno);
	log_paused = moved ? 2 : 1;
	log_retry_at = log_now() + LOG_RETRY_SECS;
}

/* Control characters become \n, \r, \t or \xHH: a name or a client's text
 * can neither start a line of its own nor hide one. Returns the new length. */
static size_t
log_escape(char *buf, size_t len, size_t cap)
{
	static const char hexd[] = "0123456789abcdef";
	char tmp[8192];
	size_t i, n = 0;
	unsigned char ch;

	for (i = 0; i < len && n + 4 < sizeof(tmp) && n + 4 < cap; i++) {
		ch = (unsigned char)buf[i];
		if (ch >= 0x20 && ch != 0x7f) {
			tmp[n++] = (char)ch;
			continue;
		}
		tmp[n++] = '\\';
		if (ch == '\n' || ch == '\r' || ch == '\t')
			tmp[n++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
		else {
			tmp[n++] = 'x';
			tmp[n++] = hexd[ch >> 4];
			tmp[n++] = hexd[ch & 15];
		}
	}
	memcpy(buf, tmp, n);
	return n;
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, int with_errno)
{
	char line[8192];
	int saved = errno, n, head;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S %z: ", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s%s", level,
	    log_role, log_role[0] ? ": " : "");
	head = n;
	if (n < (int)sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (with_errno && n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved));
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	n = head + (int)log_escape(line + head, (size_t)(n - head),
	    sizeof(line) - 1 - (size_t)head);
	line[n++] = '\n';
	/* threads log too (a directory store's, a pipeline's helpers): one
	 * of them rotates, and none writes to a descriptor being replaced */
	pthread_mutex_lock(&log_mu);
	log_rotate_if_needed();
	(void)!write(log_fd, line, (size_t)n);
	if (log_tee && log_fd != STDERR_FILENO)
		(void)!write(STDERR_FILENO, line, (size_t)n);
	pthread_mutex_unlock(&log_mu);
	errno = saved;
}

#define LOG_FN(name, level, with_errno, cond)                   \
	void name(const char *fmt, ...)                         \
	{                                                       \
		va_list ap;                                     \
		if (!(cond))                                    \
			return;                                 \
		va_start(ap, fmt);                              \
		log_vwrite(level, fmt, ap, with_errno);         \
		va_end(ap);                                     \
	}

LOG_FN(log_warn, "WARN", 1, 1)
LOG_FN(log_warnx, "WARN", 0, 1)
LOG_FN(log_info, "INFO", 0, 1)
LOG_FN(log_debug, "DEBUG", 0, log_debug_on)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("FATAL", fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("FATAL", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
