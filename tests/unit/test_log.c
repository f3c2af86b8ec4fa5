/* Log rotation as upstream does it: at 10 MiB the file becomes zstor.0.log, older
 * ones shift up to zstor.4.log, and nothing beyond five is kept. */
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
		    size_of(dir, name) < LOG_ROTATE_BYTES + (off_t)sizeof(line) + 200,
		    "%s rotated at 10 MiB", name);
	}
	T_CHECK(!exists(dir, "zstor.5.log"), "no sixth old file");
	T_CHECK(size_of(dir, "zstor.log") < LOG_ROTATE_BYTES, "current file below the limit");
	for (i = 0; i <= LOG_ROTATE_KEEP; i++) {
		snprintf(path, sizeof(path), "%s/zstor.%d.log", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/zstor.log", dir);
	unlink(path);
	rmdir(dir);
	return t_finish();
}
