/* The stderr relay: a worker's stderr is a pipe to the master, because
 * sandboxed workers may not write files (some may not even grow one). Each
 * whole line goes to the master's log, at its level when it is one of the
 * worker's own log lines. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

/* A worker log line "DATE TIME ZONE: LEVEL role: text" goes to our log at
 * its level; anything else (a sanitizer, a seccomp trap) as a warning. */
static void
relay_line(struct relay *r, char *line)
{
	char *rest = strstr(line, ": "), *level;

	if (line[0] < '0' || line[0] > '9' || rest == NULL) {
		log_warnx("%s (pid %d): %s", r->name, (int)r->pid, line);
		return;
	}
	level = rest + 2;
	if ((rest = strchr(level, ' ')) == NULL)
		rest = level + strlen(level);
	else
		*rest++ = '\0';
	log_set_prefix(NULL);
	if (strcmp(level, "INFO") == 0)
		log_info("%s", rest);
	else if (strcmp(level, "DEBUG") == 0)
		log_debug("%s", rest);
	else
		log_warnx("%s%s%s", strcmp(level, "WARN") ? level : "",
		    strcmp(level, "WARN") ? " " : "", rest);
	log_set_prefix("master");
}

/* Whole lines go to the log; with all, the rest too (the pipe ended). A line
 * longer than the buffer goes out in pieces. */
static void
relay_flush(struct relay *r, int all)
{
	char *nl;
	size_t n;

	while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
		*nl = '\0';
		relay_line(r, r->buf);
		n = (size_t)(nl + 1 - r->buf);
		memmove(r->buf, nl + 1, r->len - n);
		r->len -= n;
	}
	if (r->len > 0 && (all || r->len == sizeof(r->buf) - 1)) {
		r->buf[r->len] = '\0';
		relay_line(r, r->buf);
		r->len = 0;
	}
}

static void
relay_on_read(int fd, short ev, void *arg)
{
	struct relay *r = arg;
	ssize_t n;

	(void)ev;
	n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		r->len += (size_t)n;
		relay_flush(r, 0);
		return;
	}
	relay_close(r);		/* the worker is gone */
}

int
relay_open(struct relay *r, int fd, const char *name, pid_t pid)
{
	relay_close(r);		/* the last worker's pipe, if still open */
	r->ev = event_new(master->base, fd, EV_READ | EV_PERSIST,
	    relay_on_read, r);
	if (r->ev == NULL)
		return -1;
	r->fd = fd;
	r->name = name;
	r->pid = pid;
	r->len = 0;
	event_add(r->ev, NULL);
	return 0;
}

void
relay_close(struct relay *r)
{
	if (r->ev == NULL)
		return;
	relay_flush(r, 1);
	event_free(r->ev);
	r->ev = NULL;
	close(r->fd);
	r->fd = -1;
}
