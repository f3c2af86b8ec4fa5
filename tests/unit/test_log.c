/* Log rotation as upstream does it: at 10 MiB the file becomes zstor.0.log,
 * older ones shift up to zstor.4.log, and nothing beyond five is kept. A
 * rotation that cannot open its new file (no descriptor left) keeps writing to
 * the current one and overwrites no old file; control characters in a message
 * are escaped. */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

int main(void);

static int
exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static off_t
size_of(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The last occurrence of needle in s. */
static const char *
strrstr_last(const char *s, const char *needle)
{
	const char *p, *last = NULL;

	for (p = s; (p = strstr(p, needle)) != NULL; p++)
		last = p;
	return last;
}

static char *
slurp(const char *dir, const char *name)
{
	char path[512];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return t_read_file(path, &len);
}

static int
same_text(const char *dir, const char *name, const char *want)
{
	char *got = slurp(dir, name);
	int same = got != NULL && strcmp(got, want) == 0;

	free(got);
	return same;
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_escape(const char *dir)
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/esc.log", dir);
	T_CHECK(log_init(path, 0) == 0, "log_init esc.log");
	log_info("store /tmp/a\n2030-01-01 00:00:00 +0000: INFO master: "
	    "forged\r\t\x01\x7f\\end");
	text = slurp(dir, "esc.log");
	T_CHECK(text != NULL && strchr(text, '\n') == strrchr(text, '\n'),
	    "a newline in a message does not start a line: %s",
	    text ? text : "(none)");
	T_CHECK(text != NULL && strstr(text, "/tmp/a\\n2030-01-01 00:00:00 "
	    "+0000: INFO master: forged\\r\\t\\x01\\x7f\\end\n") != NULL,
	    "control characters escaped: %s", text ? text : "(none)");
	free(text);
	unlink(path);
}

/* Descriptors exhausted at the moment of rotation: nothing old is touched, the
 * lines go on into the current file, one line says why; once descriptors are
 * back, one rotation happens. */
static void
test_no_descriptor(const char *dir)
{
	char path[512], name[32], line[4000], *text;
	struct rlimit old, low;
	int fds[64], nfds = 0, i, fd;
	off_t before;

	snprintf(path, sizeof(path), "%s/zstor.log", dir);
	for (i = 0; i < LOG_ROTATE_KEEP; i++) {
		snprintf(name, sizeof(name), "zstor.%d.log", i);
		write_text(dir, name, name);
	}
	T_CHECK(log_init(path, 0) == 0, "log_init");
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	while (size_of(dir, "zstor.log") < LOG_ROTATE_BYTES - 10000)
		log_info("%s", line);
	getrlimit(RLIMIT_NOFILE, &old);
	fd = dup(0);
	low.rlim_cur = (rlim_t)fd + 8;
	low.rlim_max = old.rlim_max;
	close(fd);
	T_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "lower RLIMIT_NOFILE");
	while (nfds < 64 && (fd = open("/dev/null", O_RDONLY)) != -1)
		fds[nfds++] = fd;
	T_CHECK(fd == -1 && errno == EMFILE, "descriptors exhausted");
	for (i = 0; i < 2000; i++)
		log_info("%d %s", i, line);
	while (nfds > 0)
		close(fds[--nfds]);
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < LOG_ROTATE_KEEP; i++) {
		snprintf(name, sizeof(name), "zstor.%d.log", i);
		T_CHECK(same_text(dir, name, name), "%s untouched while no "
		    "descriptor was left", name);
	}
	before = size_of(dir, "zstor.log");
	T_CHECK(before > LOG_ROTATE_BYTES + 1000 * (off_t)sizeof(line),
	    "lines went on into the current file (%lld bytes)",
	    (long long)before);
	text = slurp(dir, "zstor.log");
	T_CHECK(text != NULL && strstr(text, "log rotation paused") != NULL &&
	    strstr(text, "log rotation paused") == strrstr_last(text,
	    "log rotation paused"), "one line says rotation is paused");
	free(text);
	/* descriptors are back: rotation resumes within its retry interval */
	for (i = 0; i < 100000 && exists(dir, "zstor.log") &&
	    size_of(dir, "zstor.log") >= before; i++) {
		log_info("after %d", i);
		usleep(1000);
	}
	T_CHECK(size_of(dir, "zstor.log") < before, "rotation resumed");
	T_CHECK(size_of(dir, "zstor.0.log") >= before,
	    "the big file is zstor.0.log");
	T_CHECK(same_text(dir, "zstor.1.log", "zstor.0.log"),
	    "old files shifted once");
	T_CHECK(same_text(dir, "zstor.4.log", "zstor.3.log"),
	    "... and only once");
	for (i = 0; i <= LOG_ROTATE_KEEP; i++) {
		snprintf(path, sizeof(path), "%s/zstor.%d.log", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/zstor.log", dir);
	unlink(path);
}

int
main(void)
{
	char dir[] = "/tmp/zstor-log-XXXXXX", path[512], line[8000];
	int i;

	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/zstor.log", dir);
	T_CHECK(log_init(path, 0) == 0, "log_init");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	log_debug("not written without -d");
	T_CHECK(size_of(dir, "zstor.log") == 0, "debug lines need debug on");
	/* 7 rotations' worth of lines. */
	for (i = 0; i < 7 * (int)(LOG_ROTATE_BYTES / sizeof(line)) + 10; i++)
		log_info("%d %s", i, line);
	T_CHECK(exists(dir, "zstor.log"), "current file");
	for (i = 0; i < LOG_ROTATE_KEEP; i++) {
		char name[32];

		snprintf(name, sizeof(name), "zstor.%d.log", i);
		T_CHECK(exists(dir, name), "%s kept", name);
		T_CHECK(size_of(dir, name) >= LOG_ROTATE_BYTES &&
		    size_of(dir, name) < LOG_ROTATE_BYTES +
		    (off_t)sizeof(line) + 200, "%s rotated at 10 MiB", name);
	}
	T_CHECK(!exists(dir, "zstor.5.log"), "no sixth old file");
	T_CHECK(size_of(dir, "zstor.log") < LOG_ROTATE_BYTES,
	    "current file below the limit");
	for (i = 0; i <= LOG_ROTATE_KEEP; i++) {
		snprintf(path, sizeof(path), "%s/zstor.%d.log", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/zstor.log", dir);
	unlink(path);
	test_escape(dir);
	test_no_descriptor(dir);
	rmdir(dir);
	return t_finish();
}
