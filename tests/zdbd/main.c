/* zdbd-double: command line. It takes 0-db's own flags so launch scripts can
 * start either server the same way. --data holds the journal (journal.c) and,
 * like --index, is created when missing; --datasize is accepted and unused. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "zdbd.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: zdbd-double [--listen ADDR] [--port PORT] [--socket PATH]\n"
	    "           [--mode user|seq] [--pidfile FILE] [--fault "
	    "MODE[:ARG]]\n"
	    "           [--data DIR] [--index DIR] [--datasize N] [--sync]\n"
	    "       zdbd-double --client HOST:PORT|unix:PATH [--raw-hex | "
	    "--raw]\n"
	    "           [--select NS [--password PW]] CMD [ARG...]\n"
	    "faults: none hang slow:MS full readonly corrupt down lostreply "
	    "(at run time: XFAULT MODE [ARG])\n");
	exit(1);
}

static int
parse_mode(const char *s)
{
	if (strcmp(s, "user") == 0)
		return NS_USERKEY;
	/* 0-db maps its old "direct" mode to seq as well. */
	if (strcmp(s, "seq") == 0 || strcmp(s, "direct") == 0)
		return NS_SEQUENTIAL;
	fprintf(stderr, "zdbd-double: unknown mode %s (user or seq)\n", s);
	usage();
}

static void
parse_fault(struct zdbd *z, char *spec)
{
	char *arg = strchr(spec, ':');

	if (arg != NULL)
		*arg++ = '\0';
	if (fault_parse(spec, arg, &z->fault, &z->fault_ms) == -1) {
		fprintf(stderr, "zdbd-double: bad --fault %s\n", spec);
		usage();
	}
}

static void
parse_args(int argc, char **argv, struct zdbd *z, struct server_opts *o)
{
	enum { O_LISTEN = 1, O_PORT, O_SOCKET, O_MODE, O_DATA, O_INDEX,
	    O_DATASIZE, O_PIDFILE, O_FAULT, O_SYNC };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port", required_argument, NULL, O_PORT },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "mode", required_argument, NULL, O_MODE },
		{ "data", required_argument, NULL, O_DATA },
		{ "index", required_argument, NULL, O_INDEX },
		{ "datasize", required_argument, NULL, O_DATASIZE },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "sync", no_argument, NULL, O_SYNC },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int ch;

	/* _only, as 0-db: "-port 9900" works like "--port 9900". */
	while ((ch = getopt_long_only(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_LISTEN: o->listen = optarg; break;
		case O_PORT:
			o->port = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o->port < 1 || o->port > 65535)
				usage();
			break;
		case O_SOCKET: o->socket_path = optarg; break;
		case O_MODE: z->fixed_mode = parse_mode(optarg); break;
		case O_DATA: z->datadir = optarg; break;
		case O_INDEX: z->indexdir = optarg; break;
		case O_DATASIZE: break;
		case O_PIDFILE: o->pidfile = optarg; break;
		case O_FAULT: parse_fault(z, optarg); break;
		case O_SYNC: z->sync = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

int
main(int argc, char **argv)
{
	struct server_opts opts = {
		/* 0-db defaults to "::"; a test double stays on loopback. */
		.listen = "127.0.0.1", .port = 9900,
	};
	struct zdbd z;
	struct ns *ns;

	if (argc > 1 && (strcmp(argv[1], "--client") == 0 ||
	    strcmp(argv[1], "--raw-hex") == 0))
		return client_main(argc, argv);
	memset(&z, 0, sizeof(z));
	TAILQ_INIT(&z.spaces);
	TAILQ_INIT(&z.sessions);
	z.fixed_mode = -1;
	z.datadir = "./zdb-data";
	z.indexdir = "./zdb-index";
	parse_args(argc, argv, &z, &opts);
	log_init(NULL, 0);
	log_set_prefix("zdbd-double");
	signal(SIGPIPE, SIG_IGN);
	z.boot = time(NULL);
	z.instance_id = arc4random();
	if ((ns = ns_create("default",
	    z.fixed_mode < 0 ? NS_USERKEY :
	    (enum ns_mode)z.fixed_mode)) == NULL)
		fatalx("out of memory");
	TAILQ_INSERT_TAIL(&z.spaces, ns, link);
	journal_open(&z);
	server_run(&z, &opts);
	while ((ns = TAILQ_FIRST(&z.spaces)) != NULL) {
		TAILQ_REMOVE(&z.spaces, ns, link);
		ns_destroy(ns);
	}
	return 0;
}
