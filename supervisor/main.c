/* zstor-master: the daemon. Start-up (config, pid file, control socket,
 * workers), the signals (SIGUSR1/SIGHUP reload, SIGTERM/SIGINT drain and
 * stop, SIGCHLD respawn) and the event loop. The same program runs the
 * workers: "zstor-master --worker ROLE" (workers/worker.c). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "metrics_http.h"
#include "placement.h"
#include "rights.h"
#include "repairer.h"
#include "scratch.h"
#include "version.h"
#include "sweep.h"
#include "worker.h"

#define CONFIG_TEXT_MAX		(256 * 1024)	/* must fit a frame to
						 * workers */
#define DEFAULT_CONFIG		"zstor_config.toml"
#define DEFAULT_LOG		"zstor.log"

int main(int, char **);

extern char **environ;

struct master	*master;

static struct master	 the_master;
static struct event	*drain_ev, *reload_ev;

struct args {
	char		*config;
	char		*log_file;
	char		*worker;
	char		*admin_group;
	int		 max_clients;
	int		 max_per_user;
	int		 request_secs;
	char		*user;
	int		 evict_secs;
	int		 debug;
	int		 foreground;
	/* the daemon's duties; milliseconds, 0: the default */
	int64_t		 check_ms, unreachable_ms, sweep_ms;
	int64_t		 scrub_rate;	/* -1: the default */
	int64_t		 gc_grace_ms;	/* -1: the default */
	int		 gc_after_sweep;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: zstor-master [-c <config>] [-d] "
	    "[--log_file <file>] [--foreground] [-u <user>]\n"
	    "  -c, --config <file>   config file (default " DEFAULT_CONFIG ")\n"
	    "  -d, --debug           debug logging\n"
	    "      --log_file <file> log file, rotated at 10 MiB (default "
	    DEFAULT_LOG ";\n"
	    "                        with --foreground and no --log_file: "
	    "stderr)\n"
	    "      --foreground      log to stderr unless --log_file is given\n"
	    "      --admin-group <group>  members may rebuild by key (besides "
	    "root)\n"
	    "      --max-clients <n>      connections at once (default 1024)\n"
	    "      --max-clients-per-user <n>  per uid but root (default 128)\n"
	    "      --request-timeout <s>  a request must arrive within "
	    "(default 30)\n"
	    "      --check-interval <s>     health checks of every backend "
	    "(default 3)\n"
	    "      --unreachable-after <s>  a backend failing its checks that "
	    "long is\n"
	    "                        unreachable and repaired around "
	    "(default 900)\n"
	    "      --sweep-interval <s>     the repair sweep (default 600; the "
	    "first\n"
	    "                        starts 10 s after the start)\n"
	    "      --scrub-rate <bytes/s>   the sweep reads and verifies every "
	    "shard at\n"
	    "                        this pace (default 2097152; 0: "
	    "reachability only)\n"
	    "      --gc                     garbage collection after every "
	    "sweep (and on\n"
	    "                        SIGUSR2)\n"
	    "      --gc-grace <s>           it deletes only pieces older than "
	    "this\n"
	    "                        (default 86400)\n"
	    "  -u, --user <user>     the workers' user when started as root "
	    "(default $ZSTOR_USER or zstor;\n"
	    "                        nobody, with a warning, if it does not "
	    "exist)\n"
	    "      --evict-interval <s>   passes of the evictor over "
	    "zdb_data_dir_path\n"
	    "                        (default 60)\n"
	    "  -V, --version         the version, the commit and the library "
	    "versions\n");
	exit(status);
}

static char *
arg_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "zstor-master: %s needs a value\n", argv[*i]);
		usage(1);
	}
	return argv[++*i];
}

/* A count or a number of seconds: 1 .. 1000000. */
static int
arg_count(int argc, char **argv, int *i)
{
	const char *name = argv[*i], *v = arg_value(argc, argv, i);
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > 1000000) {
		fprintf(stderr, "zstor-master: %s wants a whole number from 1 "
		    "to 1000000, not \"%s\"\n", name, v);
		usage(1);
	}
	return (int)n;
}

/* A duration in seconds (decimals allowed: 0.5), as milliseconds. */
static int64_t
arg_secs(const char *opt, const char *v)
{
	char *end;
	double d;

	d = strtod(v, &end);
	if (end == v || *end != '\0' || !(d >= 0.01 && d <= 86400 * 30)) {
		fprintf(stderr, "zstor-master: %s wants seconds between 0.01 "
		    "and 2592000, not \"%s\"\n", opt, v);
		usage(1);
	}
	return (int64_t)(d * 1000 + 0.5);
}

/* A duration in whole seconds, 0 allowed (a grace period), as
 * milliseconds. */
static int64_t
arg_secs0(const char *opt, const char *v)
{
	return strcmp(v, "0") == 0 ? 0 : arg_secs(opt, v);
}

/* Bytes per second, 0 .. 1 TiB/s. */
static int64_t
arg_rate(const char *opt, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || n < 0 ||
	    n > (1LL << 40)) {
		fprintf(stderr, "zstor-master: %s wants bytes per second, not "
		    "\"%s\"\n", opt, v);
		usage(1);
	}
	return n;
}

/* Copies: setproctitle() reuses the memory of argv. */
static void
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *s = argv[i];

		if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0)
			a->config = arg_value(argc, argv, &i);
		else if (strncmp(s, "--config=", 9) == 0)
			a->config = s + 9;
		else if (strcmp(s, "--log_file") == 0)
			a->log_file = arg_value(argc, argv, &i);
		else if (strncmp(s, "--log_file=", 11) == 0)
			a->log_file = s + 11;
		else if (strcmp(s, "--admin-group") == 0)
			a->admin_group = arg_value(argc, argv, &i);
		else if (strcmp(s, "--max-clients") == 0)
			a->max_clients = arg_count(argc, argv, &i);
		else if (strcmp(s, "--max-clients-per-user") == 0)
			a->max_per_user = arg_count(argc, argv, &i);
		else if (strcmp(s, "--request-timeout") == 0)
			a->request_secs = arg_count(argc, argv, &i);
		else if (strcmp(s, "-u") == 0 || strcmp(s, "--user") == 0)
			a->user = arg_value(argc, argv, &i);
		else if (strncmp(s, "--user=", 7) == 0)
			a->user = s + 7;
		else if (strcmp(s, "--evict-interval") == 0)
			a->evict_secs = arg_count(argc, argv, &i);
		else if (strcmp(s, "--worker") == 0)
			a->worker = arg_value(argc, argv, &i);
		else if (strcmp(s, "-d") == 0 || strcmp(s, "--debug") == 0)
			a->debug = 1;
		else if (strcmp(s, "--foreground") == 0)
			a->foreground = 1;
		else if (strcmp(s, "--check-interval") == 0)
			a->check_ms = arg_secs(s, arg_value(argc, argv, &i));
		else if (strcmp(s, "--gc-grace") == 0)
			a->gc_grace_ms = arg_secs0(s,
			    arg_value(argc, argv, &i));
		else if (strcmp(s, "--gc") == 0)
			a->gc_after_sweep = 1;
		else if (strcmp(s, "--sweep-interval") == 0)
			a->sweep_ms = arg_secs(s, arg_value(argc, argv, &i));
		else if (strcmp(s, "--scrub-rate") == 0)
			a->scrub_rate = arg_rate(s, arg_value(argc, argv, &i));
		else if (strcmp(s, "--unreachable-after") == 0)
			a->unreachable_ms = arg_secs(s,
			    arg_value(argc, argv, &i));
		else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0)
			usage(0);
		else if (strcmp(s, "-V") == 0 || strcmp(s, "--version") == 0) {
			version_print(stdout, "zstor-master");
			exit(0);
		} else {
			fprintf(stderr, "zstor-master: unknown argument %s\n",
			    s);
			usage(1);
		}
	}
	if ((a->config = strdup(a->config)) == NULL ||
	    (a->log_file && (a->log_file = strdup(a->log_file)) == NULL) ||
	    (a->worker && (a->worker = strdup(a->worker)) == NULL) ||
	    (a->admin_group && (a->admin_group = strdup(a->admin_group)) ==
	    NULL) ||
	    (a->user && (a->user = strdup(a->user)) == NULL))
		exit(1);
}

/* Start-up failures go to stderr as well as to the log, which may be a file. */
static void __attribute__((noreturn))
startup_fail(const char *fmt, ...)
{
	char msg[ERR_MSG_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (master->log_file != NULL)
		fprintf(stderr, "zstor-master: %s\n", msg);
	exit(1);
}

/* Reads and validates the config; the text is what workers get. */
static int
config_read(const char *path, struct config *cfg, char **text, size_t *len,
    struct err *e)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_set(e, "cannot read the config %s: %s", path,
		    strerror(errno));
	if ((*text = malloc(CONFIG_TEXT_MAX + 1)) == NULL) {
		close(fd);
		return err_set(e, "out of memory");
	}
	n = read_full(fd, *text, CONFIG_TEXT_MAX + 1);
	close(fd);
	if (n < 0 || n > CONFIG_TEXT_MAX) {
		free(*text);
		return err_set(e, "cannot read the config %s: %s", path, n < 0 ?
		    strerror(errno) : "larger than 256 KiB");
	}
	(*text)[n] = '\0';
	*len = (size_t)n;
	if (config_parse(*text, *len, path, cfg, e) == -1) {
		free(*text);
		return -1;
	}
	if (policy_note(cfg, e->msg, sizeof(e->msg)) != POLICY_MET)
		log_warnx("%s: %s", path, e->msg);
	return 0;
}

static void
reload_on_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!master->reloading)
		return;
	/* A worker deep in a long job reads the config before its next one. */
	log_info("reload: some workers are busy; they take the new config "
	    "after their current job");
	master->reloading = 0;
	if (master->started)
		notify_systemd("READY=1");
}

static void
notify_reloading(void)
{
	struct timespec now;
	char state[80];

	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)now.tv_sec * 1000000ULL +
	    (unsigned long long)now.tv_nsec / 1000);
	notify_systemd(state);
}

static int
str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/* SIGUSR1: a valid config replaces the old one for new jobs and goes to every
 * worker; an invalid one is refused and the old one stays. */
/* The names of the metadata backends, malloc'd (NULL without memory). */
static void
meta_names(const struct config *cfg, char *names[META_BACKENDS])
{
	char name[BACKEND_NAME_MAX];
	int i;

	for (i = 0; i < META_BACKENDS; i++) {
		ci_name(&cfg->meta_backends[i], name, sizeof(name));
		names[i] = strdup(name);
	}
}

void
master_reload(void)
{
	char *old_meta[META_BACKENDS];
	struct timeval tv = { HANDSHAKE_SECS, 0 };
	int i;
	struct config cfg;
	struct err e;
	size_t len;
	char *text;

	if (master->stopping)
		return;
	if (master->reloading) {
		log_warnx("reload refused: the previous reload is still in "
		    "flight");
		metrics_reloaded(0);
		return;
	}
	if (config_read(master->config_path, &cfg, &text, &len, &e) == -1) {
		log_warnx("reload refused, the old config stays in use: %s",
		    e.msg);
		metrics_reloaded(0);
		return;
	}
	if (str_differs(cfg.socket, master->cfg.socket) ||
	    str_differs(cfg.pid_file, master->cfg.pid_file))
		log_warnx("reload: socket and pid_file keep their old values "
		    "until the daemon restarts");
	notify_reloading();
	meta_names(&master->cfg, old_meta);
	config_free(&master->cfg);
	free(master->cfg_text);
	master->cfg = cfg;
	master->cfg_text = text;
	master->cfg_len = len;
	master->cfg_gen++;
	master->reloading = 1;
	if (health_load() == -1)
		log_warnx("reload: out of memory for the health table; it "
		    "keeps the old backends");
	redisperse_after_reload(old_meta);
	for (i = 0; i < META_BACKENDS; i++)
		free(old_meta[i]);
	log_info("reloaded the config %s", master->config_path);
	metrics_reloaded(1);
	evtimer_add(reload_ev, &tv);
	proc_push_config();
	metrics_apply_config();
	zdbfs_apply_config();
}

void
master_drained(void)
{
	event_base_loopbreak(master->base);
}

static void
drain_abort(void)
{
	sched_abort_all("zstor-master is shutting down; the request was not "
	    "completed");
	master_drained();
}

static void
drain_on_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_warnx("shutdown: jobs still running after %d s are abandoned",
	    DRAIN_SECS);
	drain_abort();
}

/* SIGTERM/SIGINT: no new requests; queued jobs finish in priority order,
 * for DRAIN_SECS at most. A second signal stops at once. */
static void
master_stop(int sig)
{
	struct timeval tv = { DRAIN_SECS, 0 };

	if (master->stopping) {
		log_warnx("signal %d again: stopping now", sig);
		drain_abort();
		return;
	}
	log_info("signal %d: stopping; finishing queued jobs first", sig);
	master->stopping = 1;
	notify_systemd("STOPPING=1");
	control_close(0);
	evtimer_add(drain_ev, &tv);
	sched_run();
}

static void
master_on_signal(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		proc_reap();
		break;
	case SIGTERM:
	case SIGINT:
		master_stop(sig);
		break;
	case SIGUSR1:
	case SIGHUP:
		master_reload();
		break;
	case SIGUSR2:
		gc_start("SIGUSR2");
		break;
	}
}

static void
master_events(void)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGHUP,
	    SIGUSR2 };
	struct event *ev;
	size_t i;

	if ((master->base = event_base_new()) == NULL)
		startup_fail("cannot start the event loop");
	signal(SIGPIPE, SIG_IGN);	/* a client that went away is an
					 * error */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((ev = evsignal_new(master->base, sigs[i], master_on_signal,
		    NULL)) == NULL || evsignal_add(ev, NULL) == -1)
			startup_fail("cannot watch signal %d", sigs[i]);
	drain_ev = evtimer_new(master->base, drain_on_timeout, NULL);
	reload_ev = evtimer_new(master->base, reload_on_timeout, NULL);
	if (drain_ev == NULL || reload_ev == NULL)
		startup_fail("out of memory for timers");
}

static void
master_log_init(const struct args *a)
{
	const char *file = a->log_file;

	if (file == NULL && !a->foreground)
		file = DEFAULT_LOG;
	if (log_init(file, a->debug) == -1) {
		fprintf(stderr,
		    "zstor-master: cannot open the log file %s: %s\n", file,
		    strerror(errno));
		exit(1);
	}
	log_set_prefix("master");
	master->log_file = file != NULL ? strdup(file) : NULL;
	/* `zstor monitor` in a terminal: the operator watches it there too. */
	if (a->foreground && file != NULL && isatty(STDERR_FILENO))
		log_tee_stderr(1);
}

/* The intervals of the daemon's duties. The workers take theirs from the
 * environment they inherit (the repairer's check interval). */
static void
duties_init(const struct args *a)
{
	char v[24];

	if (a->check_ms > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)a->check_ms);
		setenv(HEALTH_INTERVAL_ENV, v, 1);
	} else
		unsetenv(HEALTH_INTERVAL_ENV);
	if (a->unreachable_ms > 0)
		health_set_unreachable_after((a->unreachable_ms + 999) / 1000);
}

/* Config, socket setting, pid file, failure records, control socket. */
static void
master_setup(const struct args *a)
{
	struct err e;

	master->config_path = a->config;
	master->debug = a->debug;
	master->max_clients = a->max_clients;
	master->max_clients_per_user = a->max_per_user;
	master->request_secs = a->request_secs;
	if ((master->admin_group = a->admin_group) != NULL &&
	    rights_group(a->admin_group, &master->admin_gid, &e) == -1)
		startup_fail("--admin-group %s", e.msg);
	if (config_read(a->config, &master->cfg, &master->cfg_text,
	    &master->cfg_len, &e) == -1)
		startup_fail("%s", e.msg);
	master->cfg_gen = 1;
	if (health_load() == -1)
		startup_fail("out of memory for the health table");
	if (master->cfg.socket == NULL)
		startup_fail("Missing \"socket\" argument in config");
	master->sock_path = master->cfg.socket;
	master->pid_path = master->cfg.pid_file != NULL ?
	    master->cfg.pid_file : DEFAULT_PID_FILE;
	/* our own copies: a reload frees the config they point into */
	if ((master->sock_path = strdup(master->sock_path)) == NULL ||
	    (master->pid_path = strdup(master->pid_path)) == NULL)
		startup_fail("out of memory");
	if (pid_file_claim(master->pid_path, &e) == -1)
		startup_fail("%s", e.msg);
	if (failures_init(master->pid_path, &e) == -1 ||
	    control_listen(master->sock_path, &e) == -1) {
		pid_file_remove(master->pid_path);
		startup_fail("%s", e.msg);
	}
}

static void __attribute__((noreturn))
master_main(const struct args *a)
{
	struct err e;

	master_log_init(a);
	worker_user_choose(a->user);
	metrics_master_init();
	duties_init(a);
	master_events();
	master_setup(a);
	if (proc_init(&e) == -1) {
		pid_file_remove(master->pid_path);
		startup_fail("%s", e.msg);
	}
	log_info("zstor-master %s started (pid %d), listening on %s",
	    zstor_version, (int)getpid(), master->sock_path);
	proc_start_all();
	failures_resume();
	metrics_apply_config();
	sweep_init(a->sweep_ms > 0 && a->sweep_ms < SWEEP_FIRST_MS ?
	    a->sweep_ms : SWEEP_FIRST_MS, a->sweep_ms > 0 ? a->sweep_ms :
	    SWEEP_INTERVAL_MS, a->scrub_rate >= 0 ? (uint64_t)a->scrub_rate :
	    SCRUB_RATE_DEFAULT);
	gc_init(a->gc_grace_ms >= 0 ? (a->gc_grace_ms + 999) / 1000 :
	    GC_GRACE_SECS, a->gc_after_sweep);
	zdbfs_apply_config();
	evict_init(a->evict_secs);
	event_base_dispatch(master->base);
	master->exiting = 1;
	metrics_http_stop();
	proc_stop_all();
	sched_shutdown();
	control_close(1);
	pid_file_remove(master->pid_path);
	log_info("stopped");
	exit(0);
}

/* fds 0-2 open, so that no socket or pipe of ours lands on one of them and
 * is then overwritten in a worker's set-up. */
static void
std_fds_open(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
}

int
main(int argc, char **argv)
{
	struct args a = { .config = DEFAULT_CONFIG, .max_clients = MAX_CLIENTS,
	    .max_per_user = MAX_CLIENTS_PER_USER,
	    .request_secs = REQUEST_SECS, .scrub_rate = -1,
	    .gc_grace_ms = -1 };

	std_fds_open();
	master = &the_master;
	parse_args(argc, argv, &a);
	setproctitle_init(argc, argv, environ);
	if (a.worker != NULL)
		worker_main(a.worker, a.debug);
	master_main(&a);
}
