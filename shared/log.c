#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = STDERR_FILENO;
static int log_debug_on;
static char log_path[4096];
static char log_role[32];

static int
log_open(void)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

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
log_set_prefix(const char *prefix)
{
	snprintf(log_role, sizeof(log_role), "%s", prefix ? prefix : "");
}

/* "dir/zstor.log" -> "dir/zstor.{i}.log"; a name without extension gets ".{i}". */
static void
rotated_name(char *out, size_t len, int i)
{
	const char *slash = strrchr(log_path, '/');
	const char *dot = strrchr(log_path, '.');

	if (dot == NULL || (slash != NULL && dot < slash) || dot == (slash ? slash + 1 : log_path))
		snprintf(out, len, "%s.%d", log_path, i);
	else
		snprintf(out, len, "%.*s.%d%s", (int)(dot - log_path), log_path, i, dot);
}

static void
log_rotate_if_needed(void)
{
	char from[4200], to[4200];
	struct stat st;
	int i;

	if (log_path[0] == '\0' || fstat(log_fd, &st) < 0 || st.st_size < LOG_ROTATE_BYTES)
		return;
	for (i = LOG_ROTATE_KEEP - 1; i > 0; i--) {
		rotated_name(from, sizeof(from), i - 1);
		rotated_name(to, sizeof(to), i);
		(void)rename(from, to);
	}
	rotated_name(to, sizeof(to), 0);
	(void)rename(log_path, to);
	(void)log_open();
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, int with_errno)
{
	char line[8192];
	int saved = errno, n;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S %z: ", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s%s", level, log_role,
	    log_role[0] ? ": " : "");
	if (n < (int)sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (with_errno && n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(saved));
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	log_rotate_if_needed();
	(void)!write(log_fd, line, (size_t)n);
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
