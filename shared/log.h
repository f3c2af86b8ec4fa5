/* Logging: to stderr (foreground, CLI) or to a file rotated at 10 MiB keeping
 * five old files named {stem}.{i}.{ext}, as upstream does. Line format:
 * "YYYY-mm-dd HH:MM:SS +ZZZZ: LEVEL message". */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#define LOG_ROTATE_BYTES (10L * 1024 * 1024)
#define LOG_ROTATE_KEEP 5

/* path NULL logs to stderr. Returns -1 (errno set) when the file cannot be
 * opened. */
int log_init(const char *path, int debug);
void log_set_prefix(const char *prefix);	/* e.g. the process role */
/* A file log also goes to stderr (`zstor monitor` in a terminal). */
void log_tee_stderr(int on);

/* log_warn appends strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Programming errors and start-up failures only; never bad input or a dead
 * backend. */
void fatal(const char *fmt,
    ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt,
    ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
