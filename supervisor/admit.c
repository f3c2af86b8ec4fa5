/* Who gets a connection on the control socket, and how much of the master
 * unfinished requests may hold: a local user cannot take the daemon from the
 * others by opening connections, sending frames slowly, or using up the
 * master's descriptors.
 *
 *   connections  at most --max-clients in all, and --max-clients-per-user for
 *                each uid but root; one more is answered with an error and
 *                closed at once
 *   bytes        a request frame is at most CLIENT_FRAME_MAX; frames above
 *                ADMIT_SMALL share a pool of ADMIT_POOL bytes (small ones, what
 *                our client sends, are always read)
 *   time         a request must be complete within --request-timeout
 *   descriptors  a reserve descriptor is given up to accept and refuse a
 *                client when none is left; accepting pauses when even that
 *                fails; such events are logged once per interval */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define ADMIT_LOG_SECS	10	/* refusals are summed up this often */

struct user_count {
	uid_t	uid;
	int	n;
};

static struct user_count	*users;
static size_t			 nusers, users_cap;
static int			 total;
static size_t			 pool_used;
static int			 reserve_fd = -1;
static time_t			 last_log[ADMIT_LOG_KINDS];
static unsigned long		 unlogged[ADMIT_LOG_KINDS];

void
admit_init(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)master->max_clients + 1024;

	/* Room for every client and the workers: a soft limit below the hard
	 * one is only a default. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise RLIMIT_NOFILE to %llu",
			    (unsigned long long)rl.rlim_cur);
	}
	if (reserve_fd == -1)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* A refusal of one kind, logged at most once per ADMIT_LOG_SECS with how
 * many of that kind there were since its last line. */
void
admit_log(enum admit_log_kind kind, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	struct timespec now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last_log[kind] != 0 && now.tv_sec - last_log[kind] <
	    ADMIT_LOG_SECS) {
		unlogged[kind]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (unlogged[kind] > 0)
		log_warnx("%s (and %lu more like it in the last %d s)", msg,
		    unlogged[kind], ADMIT_LOG_SECS);
	else
		log_warnx("%s", msg);
	last_log[kind] = now.tv_sec;
	unlogged[kind] = 0;
}

static struct user_count *
user_find(uid_t uid)
{
	size_t i;

	for (i = 0; i < nusers; i++)
		if (users[i].uid == uid)
			return &users[i];
	return NULL;
}

int
admit_take(uid_t uid, struct err *e)
{
	struct user_count *u = user_find(uid), *grown;
	int per = master->max_clients_per_user;

	if (total >= master->max_clients)
		return err_set(e, "zstor-master is serving its limit of %d "
		    "connections (--max-clients); try again shortly",
		    master->max_clients);
	if (uid != 0 && u != NULL && u->n >= per)
		return err_set(e, "uid %d already has %d connections to "
		    "zstor-master, its limit (--max-clients-per-user); close "
		    "some or try again shortly", (int)uid, per);
	if (u == NULL) {
		if (nusers == users_cap) {
			size_t cap = users_cap ? users_cap * 2 : 16;

			grown = reallocarray(users, cap, sizeof(*users));
			if (grown == NULL)
				return err_set(e, "out of memory");
			users = grown;
			users_cap = cap;
		}
		u = &users[nusers++];
		u->uid = uid;
		u->n = 0;
	}
	u->n++;
	total++;
	return 0;
}

void
admit_give(uid_t uid)
{
	struct user_count *u = user_find(uid);

	total--;
	if (u != NULL && --u->n == 0)
		*u = users[--nusers];
}

/* *held becomes want when the pool has room (want <= ADMIT_SMALL is always
 * granted, outside the pool); -1 when it has not. */
int
admit_bytes(size_t *held, size_t want, struct err *e)
{
	size_t had = *held > ADMIT_SMALL ? *held : 0;
	size_t need = want > ADMIT_SMALL ? want : 0;

	if (need > had && pool_used - had + need > ADMIT_POOL)
		return err_set(e, "zstor-master holds %zu bytes of unfinished "
		    "requests, its limit; send small requests, or try again "
		    "shortly", pool_used);
	pool_used = pool_used - had + need;
	*held = want;
	return 0;
}

/* accept() failed with EMFILE or ENFILE: the reserve descriptor makes room
 * to take the waiting client and tell it; 0 when it did, -1 when even that
 * failed (the caller stops accepting for a while). */
int
admit_no_fds(int sock, int err)
{
	int fd;

	admit_log(ADMIT_LOG_FDS, "accept on the control socket: %s; refusing "
	    "clients until descriptors are free (raise RLIMIT_NOFILE or "
	    "--max-clients less)", strerror(err));
	if (reserve_fd == -1)
		return -1;
	close(reserve_fd);
	fd = accept4(sock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd != -1) {
		control_refuse_fd(fd, "zstor-master is out of file "
		    "descriptors; try again shortly");
		close(fd);
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd == -1 || reserve_fd == -1 ? -1 : 0;
}
