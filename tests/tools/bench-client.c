/* The daemon's throughput without a process per request: CLIENTS processes,
 * each sending its share of the files of DIR one request (and one
 * connection, as the protocol has it) after another to a zstor-master.
 *
 *   bench-client SOCKET store|retrieve|check CLIENTS DIR KEYDIR
 *     store     DIR/NAME, stored under the key of KEYDIR/NAME (zstor store
 *               -f DIR/NAME -k KEYDIR)
 *     retrieve  KEYDIR/NAME, written to a temporary file beside it and
 *               renamed into place once the daemon says it is verified
 *     check     KEYDIR/NAME, which must have a checksum
 *
 * Prints the seconds the requests took in all; exit 1 when any failed (the
 * first failure of each client is printed). */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "msg.h"

#define REPLY_TIMEOUT_MS	60000

int main(int argc, char **argv);

struct bench {
	const char	*sock;
	const char	*op;
	char		 dir[PATH_MAX], keydir[PATH_MAX];
};

static int
connect_to(const char *path, struct err *e)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s;

	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return err_set(e, "socket path too long");
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(e, "socket: %m");
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(s);
		return err_set(e, "connect %s: %m", path);
	}
	return s;
}

/* One request and its reply; 0 when the daemon said ok. */
static int
call(const struct bench *b, struct msg *req, int fd, int want_sum,
    struct err *e)
{
	char *json = NULL, *reply = NULL;
	struct msg *m = NULL;
	int s, fds[IPC_FDS_MAX], nfds = 0, rc = -1;
	size_t len;

	if ((json = msg_encode(req, &len, e)) == NULL ||
	    (s = connect_to(b->sock, e)) < 0)
		goto done;
	if (frame_send(s, json, len, &fd, fd >= 0, e) == 0 &&
	    (rc = frame_recv(s, &reply, &len, fds, &nfds, REPLY_TIMEOUT_MS,
	    e)) == 0)
		err_set(e, "the daemon closed the connection");
	rc = -1;
	if (reply != NULL &&
	    (m = msg_parse(reply, len, MSG_MASTER_TO_CLIENT, e)) != NULL) {
		if (msg_get_bool(m, "ok") != 1)
			err_set(e, "%s", msg_get_str(m, "error") ?
			    msg_get_str(m, "error") : "refused");
		else if (want_sum && !msg_has(m, "checksum"))
			err_set(e, "no checksum: not stored");
		else
			rc = 0;
	}
	close(s);
done:
	msg_free(req);
	msg_free(m);
	free(json);
	free(reply);
	return rc;
}

static int
request(const struct bench *b, const char *name, int64_t id, struct err *e)
{
	char file[PATH_MAX * 2], key[PATH_MAX * 2], tmp[PATH_MAX * 2 + 8];
	enum msg_type type = strcmp(b->op, "store") == 0 ? MT_STORE :
	    strcmp(b->op, "retrieve") == 0 ? MT_RETRIEVE : MT_CHECK;
	struct msg *m;
	int fd = -1, rc;

	snprintf(file, sizeof(file), "%s/%s", b->dir, name);
	snprintf(key, sizeof(key), "%s/%s", b->keydir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", b->keydir, name);
	if ((m = msg_new(type, id, e)) == NULL)
		return -1;
	if (type == MT_STORE) {
		msg_set_str(m, "path", file);
		msg_set_str(m, "key_path", key);
		msg_set_bool(m, "delete", 0);
		msg_set_bool(m, "blocking", 1);
		msg_set_bool(m, "save_failure", 0);
		fd = open(file, O_RDONLY | O_CLOEXEC);
	} else {
		msg_set_str(m, "path", key);
		if (type == MT_RETRIEVE)
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0644);
	}
	if (type != MT_CHECK && fd == -1) {
		msg_free(m);
		return err_set(e, "open: %m");
	}
	rc = call(b, m, fd, type == MT_CHECK, e);
	/* as zstor retrieve: flushed before it is renamed into place */
	if (rc == 0 && type == MT_RETRIEVE && fsync(fd) == -1)
		rc = err_set(e, "fsync: %m");
	if (fd != -1)
		close(fd);
	if (rc == 0 && type == MT_RETRIEVE && rename(tmp, key) == -1)
		rc = err_set(e, "rename: %m");
	return rc;
}

/* Client k of n: every n-th file from the k-th. */
static int
client(const struct bench *b, int k, int n)
{
	struct dirent *d;
	struct err e;
	DIR *dir = opendir(b->dir);
	int i = 0, failed = 0;

	if (dir == NULL)
		return 1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || i++ % n != k)
			continue;
		if (request(b, d->d_name, i, &e) < 0 && failed++ == 0)
			fprintf(stderr, "bench-client: %s %s: %s\n", b->op,
			    d->d_name, e.msg);
	}
	closedir(dir);
	return failed > 0;
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct timeval t0, t1;
	int n, k, status, failed = 0;

	if (argc != 6 || (strcmp(argv[2], "store") && strcmp(argv[2],
	    "retrieve") && strcmp(argv[2], "check")) ||
	    (n = atoi(argv[3])) < 1 || n > 64) {
		fprintf(stderr, "usage: bench-client SOCKET "
		    "store|retrieve|check CLIENTS DIR KEYDIR\n");
		return 2;
	}
	b.sock = argv[1];
	b.op = argv[2];
	if (realpath(argv[4], b.dir) == NULL ||
	    realpath(argv[5], b.keydir) == NULL) {
		perror("bench-client: realpath");
		return 2;
	}
	gettimeofday(&t0, NULL);
	for (k = 0; k < n; k++)
		if (fork() == 0)
			_exit(client(&b, k, n));
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	gettimeofday(&t1, NULL);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_usec - t0.tv_usec) / 1e6);
	return failed;
}
