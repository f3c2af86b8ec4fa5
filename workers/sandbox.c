/* The workers' sandbox: privilege drop, rlimits, no_new_privs, Landlock and
 * seccomp, in that order; sandbox.h says what each role may do. */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "log.h"
#include "sandbox.h"
#include "tpool.h"

/* Landlock, spelled out here because the C library has no wrappers and older
 * kernel headers lack the newer ABI fields. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule		445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self	446
#endif

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_FS_WRITE_FILE		(1ULL << 1)
#define LL_FS_READ_FILE			(1ULL << 2)
#define LL_FS_READ_DIR			(1ULL << 3)
#define LL_FS_REMOVE_DIR		(1ULL << 4)
#define LL_FS_REMOVE_FILE		(1ULL << 5)
#define LL_FS_MAKE_DIR			(1ULL << 7)
#define LL_FS_MAKE_REG			(1ULL << 8)
/* EXECUTE .. MAKE_SYM */
#define LL_FS_ABI1			((1ULL << 13) - 1)
#define LL_FS_REFER			(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE			(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV			(1ULL << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP			(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP		(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX		(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL			(1ULL << 1)

struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));

/* An encoder or metawriter with dir: backends is a role of its own here: it
 * may open paths (Landlock says which), the one without may not. */
#define R_ENC0	(1U << SANDBOX_ENCODER)
#define R_META0	(1U << SANDBOX_METAWRITER)
#define R_ENCD	(1U << (SANDBOX_ROLES + SANDBOX_ENCODER))
#define R_METAD	(1U << (SANDBOX_ROLES + SANDBOX_METAWRITER))
#define R_REP0	(1U << SANDBOX_REPAIRER)
/* the repairer checks, scrubs and collects the garbage of dir: backends */
#define R_REPD	(1U << (SANDBOX_ROLES + SANDBOX_REPAIRER))
#define R_ENC	(R_ENC0 | R_ENCD)
#define R_META	(R_META0 | R_METAD)
#define R_REP	(R_REP0 | R_REPD)
#define R_DIRS	(R_ENCD | R_METAD | R_REPD)	/* use dir: backends */
#define R_EVI	(1U << SANDBOX_EVICTOR)
#define R_NET	(R_ENC | R_META | R_REP)	/* talk to 0-db backends */
/* roles opening no path: the backend roles without dir: backends, and the
 * evictor, which hashes the descriptors the master opened */
#define R_NOPATH ((R_NET & ~R_DIRS) | R_EVI)
#define R_ALL	(R_NET | R_EVI)

/* What a role may do, as a table (the way OpenSSH's sandbox-seccomp-filter.c
 * keeps one). A rule compares at most one argument. Rules of one syscall with
 * different actions must not overlap, and a syscall with an unconditional rule
 * can have no other (libseccomp would drop it). Anything not listed kills. */
struct sc_rule {
	int			 nr;
	unsigned		 roles;
	/* answer EACCES instead of running it */
	int			 eacces;
	unsigned		 arg;
	enum scmp_compare	 op;		/* 0: no comparison */
	/* MASKED_EQ: mask, value; EQ: value */
	uint64_t		 a, b;
	/* EQ our pid (known at run time) */
	int			 self;
	/* SC_IF_UNIX, SC_NO_UNIX: only then */
	int			 cond;
};

#define SC_IF_UNIX	1	/* the role has unix: backends */
#define SC_NO_UNIX	2	/* it has none */

#define ALLOW(sys, r)		{ SCMP_SYS(sys), r, 0, 0, 0, 0, 0, 0, 0 }
#define EACCES_(sys, r)		{ SCMP_SYS(sys), r, 1, 0, 0, 0, 0, 0, 0 }
#define ALLOW_EQ(sys, r, n, v) \
	{ SCMP_SYS(sys), r, 0, n, SCMP_CMP_EQ, v, 0, 0, 0 }
#define EACCES_EQ(sys, r, n, v) \
	{ SCMP_SYS(sys), r, 1, n, SCMP_CMP_EQ, v, 0, 0, 0 }
#define ALLOW_BITS(sys, r, n, mask, v) \
	{ SCMP_SYS(sys), r, 0, n, SCMP_CMP_MASKED_EQ, mask, v, 0, 0 }
#define EACCES_BITS(sys, r, n, mask, v) \
	{ SCMP_SYS(sys), r, 1, n, SCMP_CMP_MASKED_EQ, mask, v, 0, 0 }
#define ALLOW_SELF(sys, r, n) \
	{ SCMP_SYS(sys), r, 0, n, SCMP_CMP_EQ, 0, 0, 1, 0 }
/* A rule that holds only with (SC_IF_UNIX) or without (SC_NO_UNIX) unix:
 * backends. */
#define ALLOW_EQ_IF(sys, r, n, v, c) \
	{ SCMP_SYS(sys), r, 0, n, SCMP_CMP_EQ, v, 0, 0, c }
#define EACCES_EQ_IF(sys, r, n, v, c) \
	{ SCMP_SYS(sys), r, 1, n, SCMP_CMP_EQ, v, 0, 0, c }

static const struct sc_rule sc_rules[] = {
	/* I/O on descriptors the worker holds */
	ALLOW(read, R_ALL), ALLOW(pread64, R_ALL),
	ALLOW(write, R_ALL), ALLOW(writev, R_ALL), ALLOW(pwrite64, R_ALL),
	ALLOW(recvmsg, R_ALL), ALLOW(sendmsg, R_ALL),
	ALLOW(recvfrom, R_ALL), ALLOW(sendto, R_ALL),
	ALLOW(close, R_ALL), ALLOW(dup, R_ALL), ALLOW(fcntl, R_ALL),
	ALLOW(lseek, R_ALL), ALLOW(fstat, R_ALL),
	ALLOW(ftruncate, R_ENC), ALLOW(fsync, R_ENC), ALLOW(fdatasync, R_ENC),
	ALLOW(fadvise64, R_ENC),	/* read-ahead hints on the input file */
	/* the writeback of a retrieve's output, started as it is written; of
	 * the values written to dir: backends */
	ALLOW(sync_file_range, R_ENC | R_DIRS),
	EACCES_EQ(ioctl, R_ALL, 1, TCGETS),	/* isatty() from stdio */
	/* waiting on the master's socket and the backends' */
	ALLOW(poll, R_ALL), ALLOW(ppoll, R_ALL),
	/* memory, never executable */
	ALLOW_BITS(mmap, R_ALL, 2, PROT_EXEC, 0),
	ALLOW_BITS(mprotect, R_ALL, 2, PROT_EXEC, 0),
	ALLOW(munmap, R_ALL), ALLOW(mremap, R_ALL), ALLOW(brk, R_ALL),
	ALLOW(madvise, R_ALL),
	/* glibc's qsort reads the machine's memory size (sysconf
	 * _SC_PHYS_PAGES) before it sorts more than 1 KiB: scans sort keys */
	ALLOW(sysinfo, R_ALL),
	/* time, randomness, identity, signals, exit */
	ALLOW(clock_gettime, R_ALL), ALLOW(clock_getres, R_ALL),
	ALLOW(gettimeofday, R_ALL), ALLOW(time, R_ALL),
	ALLOW(nanosleep, R_ALL), ALLOW(clock_nanosleep, R_ALL),
	ALLOW(getrandom, R_ALL), ALLOW(getpid, R_ALL), ALLOW(gettid, R_ALL),
	ALLOW(sched_yield, R_ALL), ALLOW(futex, R_ALL),
	ALLOW(rt_sigaction, R_ALL), ALLOW(rt_sigprocmask, R_ALL),
	ALLOW(rt_sigreturn, R_ALL), ALLOW(restart_syscall, R_ALL),
	/* abort() */
	ALLOW_SELF(kill, R_ALL, 0), ALLOW_SELF(tgkill, R_ALL, 0),
	ALLOW(exit, R_ALL), ALLOW(exit_group, R_ALL),
	/* 0-db backends over TCP, or a unix socket only when a backend is one:
	 * seccomp cannot read the address connect() is given, so a worker
	 * without unix: backends gets no unix socket at all (no connecting to
	 * the control socket, a bus, another daemon); one with them is held by
	 * its user's rights on the socket files, and Landlock (ABI 6) keeps it
	 * from abstract sockets outside its own domain. */
	ALLOW_EQ(socket, R_NET, 0, AF_INET),
	    ALLOW_EQ(socket, R_NET, 0, AF_INET6),
	ALLOW_EQ_IF(socket, R_NET, 0, AF_UNIX, SC_IF_UNIX),
	EACCES_EQ_IF(socket, R_NET, 0, AF_UNIX, SC_NO_UNIX),
	EACCES_(socket, R_EVI),
	ALLOW(connect, R_NET), ALLOW(getsockopt, R_NET),
	    ALLOW(setsockopt, R_NET),
	/* paths: libc looks at files by itself (locale, time zone, nss); say no
	 * rather than kill. fstat() is fstatat(fd, "", AT_EMPTY_PATH) in glibc.
	 * seccomp cannot read the path: a path given with AT_EMPTY_PATH is
	 * still looked up, so file metadata (never contents) stays visible, as
	 * Landlock does not cover stat either. */
	EACCES_(open, R_ALL), EACCES_(stat, R_ALL), EACCES_(lstat, R_ALL),
	EACCES_(access, R_ALL), EACCES_(faccessat, R_ALL),
	EACCES_(faccessat2, R_ALL), EACCES_(readlink, R_ALL),
	EACCES_(readlinkat, R_ALL),
	EACCES_(openat, R_NOPATH),
	ALLOW_BITS(newfstatat, R_NOPATH, 3, AT_EMPTY_PATH, AT_EMPTY_PATH),
	EACCES_BITS(newfstatat, R_NOPATH, 3, AT_EMPTY_PATH, 0),
	ALLOW_BITS(statx, R_NOPATH, 2, AT_EMPTY_PATH, AT_EMPTY_PATH),
	EACCES_BITS(statx, R_NOPATH, 2, AT_EMPTY_PATH, 0),
	/* dir: backends, beneath their bases only (Landlock): a namespace is a
	 * directory of value files written in tmp/, fsynced, renamed into
	 * place, counted with readdir and fstatat, locked with flock */
	ALLOW(openat, R_DIRS), ALLOW(newfstatat, R_DIRS), ALLOW(statx, R_DIRS),
	ALLOW(mkdirat, R_DIRS), ALLOW(unlinkat, R_DIRS),
	ALLOW(renameat, R_DIRS), ALLOW(renameat2, R_DIRS),
	ALLOW(getdents64, R_DIRS), ALLOW(flock, R_DIRS), ALLOW(fstatfs, R_DIRS),
	ALLOW(fsync, R_METAD | R_REPD), ALLOW(fdatasync, R_METAD | R_REPD),
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer's runtime (test builds): its _exit() and error
	 * reports look at the alternate signal stack; a report then gives up
	 * on starting its symbolizer instead of being killed halfway. */
	ALLOW(sigaltstack, R_ALL), EACCES_(pipe2, R_ALL),
#endif
};

#define SC_RULES	(sizeof(sc_rules) / sizeof(sc_rules[0]))
#define SC_NAMES_MAX	512

static const char *const role_names[SANDBOX_ROLES] = {
	"encoder", "metawriter", "repairer", "evictor",
};

/* Syscall names for the debug-trap handler, resolved before the filter goes
 * in: resolving allocates, which a signal handler must not do. */
static char *sc_names[SC_NAMES_MAX];
static int ll_abi = -1;

const char *
sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_ROLES ? role_names[role] : "?";
}

int
sandbox_role_parse(const char *name, enum sandbox_role *role)
{
	int i;

	for (i = 0; i < SANDBOX_ROLES; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*role = (enum sandbox_role)i;
			return 0;
		}
	return -1;
}

/* A change of user clears the parent-death signal (the master arms it so that
 * its workers die with it): arm it again, and leave if the parent died in
 * between, which shows as another parent. */
static int
pdeath_restore(int sig, pid_t parent, struct err *e)
{
	if (sig == 0)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig) == -1)
		return err_set(e, "sandbox: parent-death signal: %s",
		    strerror(errno));
	if (getppid() != parent)
		return err_set(e, "sandbox: the parent (pid %d) is gone",
		    (int)parent);
	return 0;
}

/* Step 1: become the unprivileged user (when root) and leave the filesystem. */
static int
drop_privileges(const struct sandbox_opts *o, struct err *e)
{
	const char *user = o->user ? o->user : "nobody";
	struct passwd *pw;
	pid_t parent;
	uid_t uid;
	gid_t gid;
	int pdeath;

	if (geteuid() == 0) {
		parent = getppid();
		if (prctl(PR_GET_PDEATHSIG, &pdeath) == -1)
			pdeath = 0;
		if ((pw = getpwnam(user)) == NULL)
			return err_set(e,
			    "sandbox: user \"%s\" does not exist; "
			    "create it or set another unprivileged user", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid == 0)
			return err_set(e, "sandbox: user \"%s\" is root", user);
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			return err_set(e,
			    "sandbox: cannot become user \"%s\": %s", user,
			    strerror(errno));
		if (setuid(0) != -1 || seteuid(0) != -1)
			return err_set(e, "sandbox: could regain root after "
			    "dropping to \"%s\"", user);
		if (pdeath_restore(pdeath, parent, e) == -1)
			return -1;
	}
	if (chdir("/") == -1)
		return err_set(e, "sandbox: chdir /: %s", strerror(errno));
	return 0;
}

/* Step 2. RLIMIT_FSIZE also limits writes to descriptors the worker was given,
 * so the encoder, which writes retrieved files, keeps its limit. */
static int
set_rlimits(enum sandbox_role role, const struct sandbox_opts *o,
    struct err *e)
{
	static const struct rlimit zero = { 0, 0 };
	struct stat st;

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		return err_set(e, "sandbox: RLIMIT_CORE: %s", strerror(errno));
	/* dir: backends write */
	if (role == SANDBOX_ENCODER || o->ndirs > 0)
		return 0;
	if (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		log_warnx("sandbox: stderr is a regular file; with "
		    "RLIMIT_FSIZE 0 "
		    "the %s cannot log there (give it a pipe)",
		    sandbox_role_name(role));
	if (setrlimit(RLIMIT_FSIZE, &zero) == -1)
		return err_set(e, "sandbox: RLIMIT_FSIZE: %s", strerror(errno));
	/* A stray write then fails with EFBIG instead of killing silently. */
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

int
sandbox_landlock_abi(void)
{
	long v;

	if (ll_abi >= 0)
		return ll_abi;
	v = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	ll_abi = v > 0 ? (int)v : 0;
	return ll_abi;
}

/* The ruleset for a role on a kernel of this ABI; returns the size to pass. */
static size_t
landlock_attr(enum sandbox_role role, int abi, struct ll_ruleset_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr->handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr->handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi < 4)
		return sizeof(attr->handled_access_fs);
	/* Backend roles connect out but never listen; the evictor has no
	 * TCP. */
	attr->handled_access_net = LL_NET_BIND_TCP;
	if (role == SANDBOX_EVICTOR)
		attr->handled_access_net |= LL_NET_CONNECT_TCP;
	if (abi < 6)
		return offsetof(struct ll_ruleset_attr, scoped);
	attr->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	return sizeof(*attr);
}

static int
landlock_allow(int ruleset, const char *dir, uint64_t access, struct err *e)
{
	struct ll_path_beneath_attr pb;
	int fd, rc;

	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return err_set(e, "sandbox: directory %s: %s", dir,
		    strerror(errno));
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	rc = (int)syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &pb, 0);
	close(fd);
	if (rc == -1)
		return err_set(e, "sandbox: landlock rule for %s: %s", dir,
		    strerror(errno));
	return 0;
}

/* A dir: backend's base: its namespaces are directories of value files that
 * are created, renamed from tmp/ into place, truncated and removed. A base that
 * does not exist yet is left out (its backend then fails with EACCES, and the
 * worker started after it exists gets it). */
static int
landlock_allow_dirs(int ruleset, int abi, const struct sandbox_opts *o,
    struct err *e)
{
	uint64_t access = LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR |
	    LL_FS_REMOVE_FILE | LL_FS_REMOVE_DIR | LL_FS_MAKE_REG |
	    LL_FS_MAKE_DIR;
	struct stat st;
	size_t i;

	if (abi >= 2)
		access |= LL_FS_REFER;
	if (abi >= 3)
		access |= LL_FS_TRUNCATE;
	for (i = 0; i < o->ndirs; i++) {
		if (stat(o->dirs[i], &st) == -1 && errno == ENOENT) {
			log_warnx("sandbox: dir: backend %s does not exist; it "
			    "stays "
			    "out of reach until the worker restarts",
			    o->dirs[i]);
			continue;
		}
		if (landlock_allow(ruleset, o->dirs[i], access, e) == -1) {
			if (geteuid() != 0 && errno == EACCES)
				err_prefix(e, "the worker's user (uid %d) "
				    "cannot "
				    "reach a dir: backend",
				    (int)geteuid());
			return -1;
		}
	}
	return 0;
}

/* Step 4: no filesystem access at all, but the dir: backends of an encoder or
 * metawriter. */
static int
apply_landlock(enum sandbox_role role, const struct sandbox_opts *o,
    struct err *e)
{
	struct ll_ruleset_attr attr;
	int abi = sandbox_landlock_abi(), ruleset, rc = 0;
	size_t size;

	if (abi == 0) {
		if (o->ndirs > 0)
			log_warnx("sandbox: Landlock is not available in this "
			    "kernel: the %s may open any path its user can, "
			    "not "
			    "only its dir: backends", sandbox_role_name(role));
		else
			log_info("sandbox: Landlock is not available in this "
			    "kernel; %s relies on seccomp alone",
			    sandbox_role_name(role));
		return 0;
	}
	size = landlock_attr(role, abi, &attr);
	ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (ruleset == -1)
		return err_set(e, "sandbox: landlock ruleset (ABI %d): %s", abi,
		    strerror(errno));
	if (o->ndirs > 0)
		rc = landlock_allow_dirs(ruleset, abi, o, e);
	if (rc == 0 && syscall(__NR_landlock_restrict_self, ruleset, 0) == -1)
		rc = err_set(e, "sandbox: landlock restrict: %s",
		    strerror(errno));
	close(ruleset);
	return rc;
}

/* Writes "sandbox: trapped syscall N (name)" with async-signal-safe calls only,
 * then lets the syscall fail with ENOSYS so one run shows every missing
 * call. */
static void
sc_trap(int sig, siginfo_t *si, void *uctx)
{
	char num[16];
	const char *name;
	int nr = si->si_syscall, n = 0, i, saved = errno;
	ucontext_t *uc = uctx;

	(void)sig;
	do {
		num[n++] = (char)('0' + (nr < 0 ? 0 : nr) % 10);
		nr /= 10;
	} while (nr > 0 && n < (int)sizeof(num));
	name = si->si_syscall >= 0 && si->si_syscall < SC_NAMES_MAX &&
	    sc_names[si->si_syscall] ? sc_names[si->si_syscall] : "unknown";
	(void)!write(STDERR_FILENO, "sandbox: trapped syscall ", 25);
	for (i = n - 1; i >= 0; i--)
		(void)!write(STDERR_FILENO, &num[i], 1);
	(void)!write(STDERR_FILENO, " (", 2);
	(void)!write(STDERR_FILENO, name, strlen(name));
	(void)!write(STDERR_FILENO, ")\n", 2);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-ENOSYS;
#else
	(void)uc;
#endif
	errno = saved;
}

static int
install_trap_handler(struct err *e)
{
	struct sigaction sa;
	sigset_t set;
	int i;

	for (i = 0; i < SC_NAMES_MAX; i++)
		if (sc_names[i] == NULL)
			sc_names[i] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, i);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sc_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		return err_set(e, "sandbox: SIGSYS handler: %s",
		    strerror(errno));
	return 0;
}

static int
sc_add_rule(scmp_filter_ctx ctx, const struct sc_rule *r, struct err *e)
{
	uint32_t action = r->eacces ? SCMP_ACT_ERRNO(EACCES) : SCMP_ACT_ALLOW;
	struct scmp_arg_cmp cmp;
	char *name;
	int rc;

	if (r->op == 0) {
		rc = seccomp_rule_add(ctx, action, r->nr, 0);
	} else {
		memset(&cmp, 0, sizeof(cmp));
		cmp.arg = r->arg;
		cmp.op = r->op;
		cmp.datum_a = r->self ? (uint64_t)getpid() : r->a;
		cmp.datum_b = r->b;
		rc = seccomp_rule_add_array(ctx, action, r->nr, 1, &cmp);
	}
	if (rc == 0)
		return 0;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
	err_set(e, "sandbox: seccomp rule for %s: %s", name ? name : "?",
	    strerror(-rc));
	free(name);
	return -1;
}

/* Step 5. libseccomp checks the architecture first; another one kills. */
static int
apply_seccomp(enum sandbox_role role, int dirs, int debug, int unix_be,
    struct err *e)
{
	int skip = unix_be ? SC_NO_UNIX : SC_IF_UNIX;
	uint32_t kill = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_KILL;
	unsigned bit = 1U << (dirs ? SANDBOX_ROLES + role : role);
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if (debug && install_trap_handler(e) == -1)
		return -1;
	if ((ctx = seccomp_init(debug ? SCMP_ACT_TRAP : kill)) == NULL)
		return err_set(e, "sandbox: seccomp_init failed");
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill)) != 0) {
		err_set(e, "sandbox: seccomp bad-arch action: %s",
		    strerror(-rc));
		goto fail;
	}
	/* the helper threads get the filter too */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		err_set(e, "sandbox: seccomp thread sync: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < SC_RULES; i++)
		if ((sc_rules[i].roles & bit) && sc_rules[i].cond != skip &&
		    sc_add_rule(ctx, &sc_rules[i], e) == -1)
			goto fail;
	if ((rc = seccomp_load(ctx)) != 0) {
		err_set(e, "sandbox: seccomp_load: %s", strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

/* Step 4b: the helper threads, then no more threads or processes: RLIMIT_NPROC
 * 0 (seccomp also kills clone and fork). */
static int
start_threads(const struct sandbox_opts *o, struct err *e)
{
	static const struct rlimit zero = { 0, 0 };

	if (o->threads > 0 && tpool_prespawn(o->threads, e) == -1)
		return err_prefix(e, "sandbox");
	tpool_no_new_threads();
	if (setrlimit(RLIMIT_NPROC, &zero) == -1)
		return err_set(e, "sandbox: RLIMIT_NPROC: %s", strerror(errno));
	return 0;
}

static int
debug_requested(const struct sandbox_opts *o)
{
	const char *env = getenv(SANDBOX_DEBUG_ENV);

	return o->debug_trap || (env != NULL && strcmp(env, "1") == 0);
}

int
sandbox_enter(enum sandbox_role role, const struct sandbox_opts *o,
    struct err *e)
{
	static const struct sandbox_opts none;
	int debug;

	if ((unsigned)role >= SANDBOX_ROLES)
		return err_set(e, "sandbox: unknown role %d", (int)role);
	if (o == NULL)
		o = &none;
	if (o->ndirs > 0 && role == SANDBOX_EVICTOR)
		return err_set(e, "sandbox: the %s uses no dir: backends",
		    sandbox_role_name(role));
	debug = debug_requested(o);
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's exit-time check needs /proc, ptrace and a thread,
	 * none of which a sandboxed worker has: check now, and not again at
	 * exit. */
	__lsan_do_leak_check();
#endif
	if (drop_privileges(o, e) == -1 || set_rlimits(role, o, e) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_set(e, "sandbox: no_new_privs: %s", strerror(errno));
	if (apply_landlock(role, o, e) == -1 || start_threads(o, e) == -1)
		return -1;
	if (debug)
		log_warnx("sandbox: %s traps denied syscalls (debug mode, not "
		    "for "
		    "production)", sandbox_role_name(role));
	return apply_seccomp(role, o->ndirs > 0, debug, o->unix_backends, e);
}
