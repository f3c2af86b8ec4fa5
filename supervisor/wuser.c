/* The user the workers drop to when the master runs as root: zstor, the Debian
 * package's system user, or the one named with --user (or $ZSTOR_USER). A user
 * that does not exist is reported with the command that creates it, and the
 * workers fall back to nobody, so a fresh install still starts. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "master.h"

#define WORKER_USER_DEFAULT	"zstor"
#define WORKER_USER_FALLBACK	"nobody"

const char *
worker_user_choose(const char *asked)
{
	const char *user = asked;

	/* The environment names it for `zstor monitor`, which passes no --user
	 * (and for test suites that give their backends to one user). */
	if (user == NULL && (user = getenv("ZSTOR_USER")) != NULL &&
	    user[0] == '\0')
		user = NULL;
	if (user == NULL)
		user = WORKER_USER_DEFAULT;

	if (geteuid() != 0)
		return NULL;	/* nothing to drop: the workers run as we do */
	if (getpwnam(user) == NULL) {
		log_warnx("the workers' user %s does not exist: create it with "
		    "`useradd --system --user-group --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s` (the Debian package does), "
		    "or name another with --user; the workers run as %s "
		    "meanwhile, which other services may share", user, user,
		    WORKER_USER_FALLBACK);
		if (master->log_file != NULL)
			fprintf(stderr,
			    "zstor-master: warning: user %s does not "
			    "exist (see the log): the workers run as %s\n",
			    user, WORKER_USER_FALLBACK);
		user = WORKER_USER_FALLBACK;
	}
	if (setenv(WORKER_USER_ENV, user, 1) == -1)
		return NULL;
	log_info("the workers run as user %s", user);
	return user;
}
