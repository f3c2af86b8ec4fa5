/* Each role enters the sandbox in a child process, which then reports over a
 * socketpair what it could and could not do, and finally tries to exec, fork,
 * map executable memory or signal its parent (the master), which must kill it
 * with SIGSYS. The network roles, as a compromised worker would, also try to
 * reach unix sockets: a pathname one like the control socket and an abstract
 * one. */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "t.h"
#include "tpool.h"

int main(void);

enum last_act { LAST_EXECVE, LAST_FORK, LAST_MMAP_EXEC, LAST_MPROTECT_EXEC,
	LAST_KILL_MASTER, LAST_THREAD };

static const char *const last_names[] = {
	"execve", "fork", "mmap PROT_EXEC", "mprotect PROT_EXEC",
	"kill(master, SIGUSR1)", "pthread_create"
};

struct run {
	enum sandbox_role	 role;
	int			 debug;
	enum last_act		 last;
	/* the 0-db data directory: root's and 0700 when run as root, as 0-db
	 * makes it in QSFS */
	const char		*cache;
	int			 file;	/* a regular file opened before the
					 * sandbox */
	/* evictor: cache/keep, opened read-only before the sandbox, as the
	 * master opens the files it is to hash */
	int			 given;
	int			 unix_backends;
	pid_t			 master;	/* must not be signalled */
	const char		*sock_path;	/* listening, 0660: a control */
	const char		*abstract;	/* a listening abstract name */
	unsigned		 threads;	/* helper threads (tpool.h) */
};

static volatile sig_atomic_t master_signalled;
static int is_root;

static void
on_usr1(int sig)
{
	(void)sig;
	master_signalled = 1;
}

static int landlock_abi;

static void __attribute__((format(printf, 2, 3)))
report(int sock, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(sock, line, (size_t)n);
}

/* "ok NAME" when cond holds, else "fail NAME: detail". */
static void
expect(int sock, int cond, const char *name, int err)
{
	if (cond)
		report(sock, "ok %s", name);
	else
		report(sock, "fail %s: errno %d (%s)", name, err,
		    strerror(err));
}

static void
check_paths(int sock, const struct run *r)
{
	struct stat st;
	int fd, rc;

	(void)r;
	errno = 0;
	fd = open("/etc/passwd", O_RDONLY);
	expect(sock, fd == -1 && errno == EACCES, "open /etc/passwd is EACCES",
	    errno);
	if (fd >= 0)
		close(fd);
	errno = 0;
	rc = stat("/etc/passwd", &st);
	expect(sock, rc == -1 && errno == EACCES, "stat is EACCES", errno);
	errno = 0;
	expect(sock, fstat(sock, &st) == 0, "fstat works", errno);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* glibc's qsort asks how much memory the machine has before it sorts more
 * than 1 KiB (the scans sort their keys): a sandboxed worker must survive
 * that. */
static void
check_sort(int sock)
{
	static int v[4096];
	size_t i;
	int sorted = 1;

	for (i = 0; i < 4096; i++)
		v[i] = (int)((i * 2654435761u) % 4096);
	qsort(v, 4096, sizeof(v[0]), cmp_int);
	for (i = 1; i < 4096; i++)
		sorted &= v[i - 1] <= v[i];
	expect(sock, sorted, "qsort of 16 KiB", 0);
}

static void
check_io(int sock, const struct run *r)
{
	char *big;
	ssize_t n;
	int s;

	errno = 0;
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (r->role == SANDBOX_EVICTOR)
		expect(sock, s == -1 && errno == EACCES,
		    "evictor socket is EACCES", errno);
	else
		expect(sock, s >= 0, "TCP socket for backends", errno);
	if (s >= 0)
		close(s);
	errno = 0;
	n = write(r->file, "x", 1);
	if (r->role == SANDBOX_ENCODER)
		expect(sock, n == 1, "encoder writes a given file", errno);
	else
		expect(sock, n == -1 && errno == EFBIG,
		    "RLIMIT_FSIZE 0 gives EFBIG", errno);
	errno = 0;
	big = malloc(8 << 20);
	if (big != NULL)
		memset(big, 1, 8 << 20);
	expect(sock, big != NULL, "malloc 8 MiB", errno);
	free(big);
	check_sort(sock);
}

/* A unix socket to addr (len bytes), as a compromised worker would try. */
static int
try_connect(const struct sockaddr_un *addr, socklen_t len, int *err)
{
	int s, rc;

	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		*err = errno;
		return -1;
	}
	rc = connect(s, (const struct sockaddr *)addr, len);
	*err = errno;
	close(s);
	return rc;
}

/* Without unix: backends a network worker gets no unix socket at all; with
 * them, the control socket (0660, root's) is out of its user's reach and
 * abstract sockets out of its Landlock domain (ABI 6). */
static void
check_reach(int sock, const struct run *r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int rc, err;

	strlcpy(sun.sun_path, r->sock_path, sizeof(sun.sun_path));
	rc = try_connect(&sun, sizeof(sun), &err);
	if (!r->unix_backends)
		expect(sock, rc == -1 && err == EACCES, "no unix socket "
		    "without unix: backends", err);
	else if (is_root)	/* known before the sandbox: getuid() kills */
		expect(sock, rc == -1 && err == EACCES, "control-like socket "
		    "(0660, root's) out of reach", err);
	else
		report(sock, "skip control-like socket: not root, no user "
		    "switch");
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	strlcpy(sun.sun_path + 1, r->abstract, sizeof(sun.sun_path) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(r->abstract));
	rc = try_connect(&sun, len, &err);
	if (!r->unix_backends)
		expect(sock, rc == -1 && err == EACCES, "no abstract socket "
		    "without unix: backends", err);
	else if (landlock_abi >= 6)
		expect(sock, rc == -1 && err == EPERM, "abstract socket "
		    "outside the Landlock domain refused", err);
	else
		report(sock, "skip abstract socket: Landlock ABI %d < 6",
		    landlock_abi);
}

/* The evictor hashes what the master opened for it, and reaches nothing
 * by path: not its data directory, nor a file in it. */
static void
check_evictor(int sock, const struct run *r)
{
	char path[512], buf[16];
	ssize_t n;
	DIR *d;
	int fd;

	errno = 0;
	n = pread(r->given, buf, sizeof(buf), 0);
	expect(sock, n == 4 && memcmp(buf, "kept", 4) == 0,
	    "evictor reads a file it was given", errno);
	errno = 0;
	d = opendir(r->cache);
	expect(sock, d == NULL && errno == EACCES,
	    "evictor cannot list the data directory", errno);
	if (d != NULL)
		closedir(d);
	snprintf(path, sizeof(path), "%s/keep", r->cache);
	errno = 0;
	fd = open(path, O_RDONLY);
	expect(sock, fd == -1 && errno == EACCES,
	    "evictor cannot open a file there", errno);
	if (fd >= 0)
		close(fd);
	errno = 0;
	fd = open("new", O_WRONLY | O_CREAT, 0600);
	expect(sock, fd == -1 && errno == EACCES, "evictor cannot create",
	    errno);
	if (fd >= 0)
		close(fd);
}

static pid_t r_master;

static void *
idle_thread(void *arg)
{
	return arg;
}

/* On a helper thread: the sandbox holds there as on the main thread. */
struct helper_try {
	int	 fd, err;
};

static void
helper_open(void *arg)
{
	struct helper_try *h = arg;

	errno = 0;
	h->fd = open("/etc/passwd", O_RDONLY);
	h->err = errno;
}

static void
check_helper(int sock, const struct run *r)
{
	struct helper_try h = { -1, 0 };
	struct tpool_slot *slot;

	if (r->threads == 0)
		return;
	expect(sock, tpool_size() == r->threads, "helpers started", 0);
	if (tpool_run(helper_open, &h, &slot) == -1) {
		report(sock, "error no idle helper thread");
		return;
	}
	tpool_join(slot);
	expect(sock, h.fd == -1 && (h.err == EACCES || h.err == EPERM),
	    "a helper thread opens no path", h.err);
}

/* What must kill the child: new programs, processes, or executable memory
 * (fresh, or made so later), or a signal to another process. */
static void
last_act(enum last_act last, char *const argv[])
{
	void *mem;

	switch (last) {
	case LAST_FORK:
		(void)fork();
		break;
	case LAST_MMAP_EXEC:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		break;
	case LAST_MPROTECT_EXEC:
		mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (mem != MAP_FAILED)
			(void)mprotect(mem, 4096, PROT_READ | PROT_EXEC);
		break;
	case LAST_EXECVE:
		execve(argv[0], argv, environ);
		break;
	case LAST_KILL_MASTER:
		(void)kill(getpid() == 1 ? 1 : r_master, SIGUSR1);
		break;
	case LAST_THREAD: {
		pthread_t t;

		(void)pthread_create(&t, NULL, idle_thread, NULL);
		break;
	}
	}
}

static void __attribute__((noreturn))
child_main(const struct run *r, int sock)
{
	struct sandbox_opts o = { .debug_trap = r->debug,
	    .unix_backends = r->unix_backends, .threads = r->threads };
	char *const argv[] = { "/bin/true", NULL };
	struct err e;
	void *mem;
	char go;
	long rc;

	if (sandbox_enter(r->role, &o, &e) == -1) {
		report(sock, "error %s", e.msg);
		_exit(3);
	}
	report(sock, "ready");
	if (read(sock, &go, 1) != 1)
		_exit(4);
	r_master = r->master;
	check_paths(sock, r);
	check_io(sock, r);
	check_helper(sock, r);
	if (r->role != SANDBOX_EVICTOR)
		check_reach(sock, r);
	if (r->role == SANDBOX_EVICTOR)
		check_evictor(sock, r);
	if (r->debug) {
		errno = 0;
		rc = syscall(SYS_getppid);
		expect(sock, rc == -1 && errno == ENOSYS,
		    "trapped getppid fails with ENOSYS", errno);
		errno = 0;
		mem = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		expect(sock, mem == MAP_FAILED && errno == ENOSYS,
		    "trapped mmap PROT_EXEC fails with ENOSYS", errno);
	}
	report(sock, "done");
	last_act(r->last, argv);
	_exit(r->debug ? 0 : 5);
}

/* One line from the child, waiting at most 10 s. */
static int
read_line(int sock, char *line, size_t size)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		if (poll(&pfd, 1, 10000) != 1 || read(sock, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

/* /proc/PID/status has the line want. */
static int
status_has(pid_t pid, const char *want)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0)
			found = 1;
	fclose(f);
	return found;
}

/* Every thread of the child, its helpers too, is confined. */
static void
check_tasks(pid_t pid, const struct run *r)
{
	const char *name = sandbox_role_name(r->role);
	struct dirent *de;
	char path[64];
	unsigned n = 0, bad = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL) {
		T_CHECK(0, "%s: cannot list %s", name, path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (!status_has(atoi(de->d_name), "Seccomp:\t2") ||
		    !status_has(atoi(de->d_name), "NoNewPrivs:\t1"))
			bad++;
	}
	closedir(d);
	T_CHECK(n == 1 + r->threads && bad == 0,
	    "%s: %u threads (want %u), %u of them not confined", name, n,
	    1 + r->threads, bad);
}

static void
check_proc(pid_t pid, const struct run *r)
{
	char want[64], path[64], cwd[512];
	const char *name = sandbox_role_name(r->role);
	struct passwd *pw;
	ssize_t n;

	T_CHECK(status_has(pid, "Seccomp:\t2"), "%s: Seccomp is not 2", name);
	T_CHECK(status_has(pid, "NoNewPrivs:\t1"), "%s: NoNewPrivs is not 1",
	    name);
	check_tasks(pid, r);
	if (getuid() == 0 && (pw = getpwnam("nobody")) != NULL) {
		snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u", pw->pw_uid,
		    pw->pw_uid, pw->pw_uid);
		T_CHECK(status_has(pid, want), "%s: not running as nobody",
		    name);
		snprintf(want, sizeof(want), "Groups:\t%u", pw->pw_gid);
		T_CHECK(status_has(pid, want), "%s: supplementary groups kept",
		    name);
	}
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	n = readlink(path, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = '\0';
	T_CHECK(strcmp(cwd, "/") == 0, "%s: cwd is %s", name, cwd);
}

/* Reads the child's reports until "done"; returns 0 if it got there. */
static int
collect_reports(int sock, const char *name)
{
	char line[512];

	while (read_line(sock, line, sizeof(line)) == 0) {
		if (strcmp(line, "done") == 0)
			return 0;
		if (strncmp(line, "skip ", 5) == 0)
			printf("skip %s: %s\n", name, line + 5);
		else
			T_CHECK(strncmp(line, "ok ", 3) == 0, "%s: %s", name,
			    line);
	}
	T_CHECK(0, "%s: child stopped reporting before \"done\"", name);
	return -1;
}

static void
check_exit(pid_t pid, const struct run *r, int errfd)
{
	const char *name = sandbox_role_name(r->role);
	char out[4096];
	ssize_t n;
	size_t len = 0;
	int status;

	waitpid(pid, &status, 0);
	if (!r->debug) {
		T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		    "%s: %s did not die of SIGSYS (status 0x%x)", name,
		    last_names[r->last], status);
		return;
	}
	while (len < sizeof(out) - 1 &&
	    (n = read(errfd, out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s debug: exit status 0x%x", name, status);
	T_CHECK(strstr(out, "trapped syscall") && strstr(out, "(getppid)"),
	    "%s debug: getppid not logged: %s", name, out);
	T_CHECK(strstr(out, "(execve)") != NULL,
	    "%s debug: execve not logged: %s", name, out);
	T_CHECK(strstr(out, "(mmap)") != NULL,
	    "%s debug: mmap PROT_EXEC not logged: %s", name, out);
}

static void
run_child(const struct run *r)
{
	const char *name = sandbox_role_name(r->role);
	int sv[2], errpipe[2] = { -1, -1 };
	char line[512];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (r->debug && pipe(errpipe) == -1)) {
		perror("socketpair");
		exit(2);
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (r->debug) {
			dup2(errpipe[1], STDERR_FILENO);
			close(errpipe[0]);
		}
		child_main(r, sv[1]);
	}
	close(sv[1]);
	if (r->debug)
		close(errpipe[1]);
	if (read_line(sv[0], line, sizeof(line)) == -1 ||
	    strcmp(line, "ready") != 0) {
		T_CHECK(0, "%s: sandbox_enter: %s", name, line);
		kill(pid, SIGKILL);
	} else {
		check_proc(pid, r);
		(void)!write(sv[0], "g", 1);
		collect_reports(sv[0], name);
	}
	check_exit(pid, r, errpipe[0]);
	close(sv[0]);
	if (r->debug)
		close(errpipe[0]);
}

static void
make_file(const char *dir, const char *name, const char *text,
    struct passwd *pw)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f)) {
		perror(path);
		exit(2);
	}
	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1)
		perror(path);
}

/* The 0-db data directory as 0-db makes it: the daemon's user's (root
 * here when run as root), mode 0700. */
static void
make_cache(char *dir)
{
	if (mkdtemp(dir) == NULL || chmod(dir, 0700) == -1) {
		perror("mkdtemp");
		exit(2);
	}
	make_file(dir, "victim", "delete me", NULL);
	make_file(dir, "keep", "kept", NULL);
}

/* A listening unix socket at path (len 0) or abstract name; its fd. */
static int
listen_unix(const char *name, int abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sun);
	int s;

	if (abstract) {
		strlcpy(sun.sun_path + 1, name, sizeof(sun.sun_path) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(name));
	} else
		strlcpy(sun.sun_path, name, sizeof(sun.sun_path));
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, len) == -1 || listen(s, 4) == -1 ||
	    (!abstract && chmod(name, 0660) == -1)) {
		perror(name);
		exit(2);
	}
	return s;
}

/* A compromised network worker with unix: backends tries the control-like
 * socket and the abstract one, then to signal its master. */
static void
test_reach(struct run *r)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	r->role = SANDBOX_ENCODER;
	r->unix_backends = 1;
	r->last = LAST_KILL_MASTER;
	r->debug = 0;
	run_child(r);
	r->role = SANDBOX_REPAIRER;
	run_child(r);
	T_CHECK(!master_signalled, "a worker signalled its master");
	r->unix_backends = 0;
}

static void
remove_cache(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/victim", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keep", dir);
	unlink(path);
	rmdir(dir);
}

/* Errors that must come back before anything about the process changes. */
static void
test_bad_options(void)
{
	struct sandbox_opts o = { .user = NULL };
	enum sandbox_role role;
	struct err e = { "" };
	int status;
	pid_t pid;

	T_CHECK(sandbox_enter((enum sandbox_role)9, &o, &e) == -1,
	    "unknown role");
	/* the repairer takes dir: backends (health checks, scrub, garbage
	 * collection); the evictor never does */
	o.dirs = (const char *const[]){ "/tmp" };
	o.ndirs = 1;
	T_CHECK(sandbox_enter(SANDBOX_EVICTOR, &o, &e) == -1 &&
	    strstr(e.msg, "uses no dir: backends"), "evictor with dirs: %s",
	    e.msg);
	o.dirs = NULL;
	o.ndirs = 0;
	T_CHECK(sandbox_role_parse("evictor", &role) == 0 &&
	    role == SANDBOX_EVICTOR &&
	    sandbox_role_parse("master", &role) == -1, "role names");
	T_CHECK(strcmp(sandbox_role_name(SANDBOX_METAWRITER),
	    "metawriter") == 0, "role name");
	if (getuid() != 0) {
		printf("skip unknown user: not root, no user switch\n");
		return;
	}
	if ((pid = fork()) == 0) {
		o.user = "zstor-no-such-user";
		_exit(sandbox_enter(SANDBOX_ENCODER, &o, &e) == -1 &&
		    strstr(e.msg, "does not exist") ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "unknown user accepted");
}

int
main(void)
{
	char cache[] = "/tmp/zstor-test-sandbox.XXXXXX",
	    tmp[] = "/tmp/zstor-sbx-file.XXXXXX";
	char sockdir[] = "/tmp/zstor-sbx-sock.XXXXXX", sock[64], abstract[64];
	char given[64];
	struct run r;
	int role, ls, la;

	unsetenv(SANDBOX_DEBUG_ENV);	/* this test chooses the mode per
					 * child */
	landlock_abi = sandbox_landlock_abi();
	if (landlock_abi == 0)
		printf("skip Landlock checks: the kernel has no Landlock\n");
	if (getuid() != 0)
		printf("skip user switch: not running as root\n");
	test_bad_options();
	make_cache(cache);
	memset(&r, 0, sizeof(r));
	r.cache = cache;
	snprintf(given, sizeof(given), "%s/keep", cache);
	if ((r.given = open(given, O_RDONLY | O_CLOEXEC)) == -1) {
		perror(given);
		return 2;
	}
	if ((r.file = mkstemp(tmp)) == -1) {
		perror("mkstemp");
		return 2;
	}
	unlink(tmp);
	if (mkdtemp(sockdir) == NULL || chmod(sockdir, 0755) == -1) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sock, sizeof(sock), "%s/control.sock", sockdir);
	snprintf(abstract, sizeof(abstract), "zstor-test-sandbox-%d",
	    (int)getpid());
	ls = listen_unix(sock, 0);
	la = listen_unix(abstract, 1);
	r.sock_path = sock;
	r.abstract = abstract;
	r.master = getpid();
	is_root = getuid() == 0;
	for (role = 0; role < SANDBOX_ROLES; role++) {
		r.role = (enum sandbox_role)role;
		run_child(&r);
	}
	r.role = SANDBOX_METAWRITER;
	r.last = LAST_FORK;
	run_child(&r);
	r.role = SANDBOX_ENCODER;
	r.last = LAST_MMAP_EXEC;
	run_child(&r);
	r.role = SANDBOX_METAWRITER;
	r.last = LAST_MPROTECT_EXEC;
	run_child(&r);
	/* an encoder with its helper threads: all confined, and none more */
	r.role = SANDBOX_ENCODER;
	r.threads = 3;
	r.last = LAST_THREAD;
	run_child(&r);
	r.threads = 0;
	test_reach(&r);
	r.role = SANDBOX_REPAIRER;
	r.last = LAST_EXECVE;
	r.debug = 1;
	run_child(&r);
	close(r.file);
	close(r.given);
	close(ls);
	close(la);
	unlink(sock);
	rmdir(sockdir);
	remove_cache(cache);
	return t_finish();
}
