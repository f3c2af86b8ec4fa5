/* The workers' sandbox: what OpenBSD gets from pledge and unveil, built from a
 * privilege drop, rlimits, no_new_privs, Landlock and a seccomp allow-list per
 * role.
 *
 * A worker calls sandbox_enter() once, after everything it needs from the
 * filesystem is open (its socketpair, libsodium, the time zone) and before it
 * reads its first job. From then on it can use only descriptors it holds or is
 * given; it cannot open paths (EACCES), fork or exec (killed). An encoder,
 * metawriter or repairer whose backends include local directories (dir:) may
 * read and write beneath those. The evictor hashes files the master opened
 * for it.
 *
 * Roles that write no file (metawriter, repairer, evictor) get RLIMIT_FSIZE 0
 * and SIGXFSZ ignored: a write to a regular file fails with EFBIG. Their log
 * output must therefore go to a pipe, a terminal or a socket, not straight to a
 * file. */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

#include "err.h"

enum sandbox_role {
	SANDBOX_ENCODER,
	SANDBOX_METAWRITER,
	SANDBOX_REPAIRER,
	SANDBOX_EVICTOR,
};
#define SANDBOX_ROLES	4

struct sandbox_opts {
	/* when started as root; NULL: "nobody" */
	const char	*user;
	/* An encoder's or metawriter's dir: backends: it may read and write
	 * beneath dirs[0 .. ndirs-1], and its seccomp list has the calls the
	 * directory backend makes. */
	const char *const *dirs;
	size_t		 ndirs;
	/* log denied syscalls instead of killing */
	int		 debug_trap;
	/* Helper threads (tpool.h) the role's jobs run on. The sandbox starts
	 * them after Landlock, so that they inherit it, no_new_privs and the
	 * unprivileged user, and before RLIMIT_NPROC 0 and the seccomp filter,
	 * which goes on every thread at once; clone stays forbidden, so no
	 * thread or process is created afterwards. */
	unsigned	 threads;
	/* a backend is a 0-db on a unix socket: the role may create
	 * AF_UNIX sockets */
	int		 unix_backends;
};

/* Environment switch for debug_trap, for a worker started by the master. */
#define SANDBOX_DEBUG_ENV	"ZSTOR_SECCOMP_DEBUG"

/* Drops privileges and confines the calling process for good. In debug-trap
 * mode (opts->debug_trap or ZSTOR_SECCOMP_DEBUG=1) a syscall outside the
 * allow-list is written to stderr as "sandbox: trapped syscall N (name)" and
 * fails with ENOSYS; never use it in production. */
int		 sandbox_enter(enum sandbox_role role,
		    const struct sandbox_opts *o, struct err *e);

const char	*sandbox_role_name(enum sandbox_role role);
int		 sandbox_role_parse(const char *name, enum sandbox_role *role);

/* The kernel's Landlock ABI version, 0 when Landlock is unavailable. */
int		 sandbox_landlock_abi(void);

#endif
