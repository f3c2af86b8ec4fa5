/* The command table and the fault switch. Names match case-insensitively and,
 * as in 0-db, by prefix: the first entry that starts with what the client sent
 * wins, so the order below keeps 0-db's known abbreviations (PIN, S, NS)
 * working. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "zdbd.h"

static enum cmd_result cmd_xfault(struct call *);

struct command {
	const char	*name;
	enum cmd_result	 (*run)(struct call *);
};

static const struct command commands[] = {
	{ "PING",	cmd_ping },
	{ "SET",	cmd_set },
	{ "GET",	cmd_get },
	{ "DEL",	cmd_del },
	{ "EXISTS",	cmd_exists },
	{ "MGET",	cmd_mget },
	{ "LENGTH",	cmd_length },
	{ "KEYTIME",	cmd_keytime },
	{ "DBSIZE",	cmd_dbsize },
	{ "SCAN",	cmd_scan },
	{ "TIME",	cmd_time },
	{ "INFO",	cmd_info },
	{ "NSNEW",	cmd_nsnew },
	{ "NSDEL",	cmd_nsdel },
	{ "NSINFO",	cmd_nsinfo },
	{ "NSLIST",	cmd_nslist },
	{ "NSSET",	cmd_nsset },
	{ "SELECT",	cmd_select },
	{ "AUTH",	cmd_auth },
	/* Not in 0-db: the test hook that makes this server misbehave. */
	{ "XFAULT",	cmd_xfault },
};

static const struct command *
command_find(const uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].name) >= len &&
		    strncasecmp(commands[i].name, (const char *)name, len) == 0)
			return &commands[i];
	return NULL;
}

/* XFAULT must get through a hang, or a hung double could never be revived. */
int
cmd_is_fault_control(const uint8_t *name, size_t len)
{
	const struct command *cmd;

	return len > 0 && (cmd = command_find(name, len)) != NULL &&
	    cmd->run == cmd_xfault;
}

enum cmd_result
cmd_dispatch(struct call *c)
{
	const struct command *cmd;

	c->srv->commands_executed++;
	if (c->sess->ns == NULL) {
		/* 0-db's words for a client whose namespace another client
		 * deleted. */
		reply_error(c->out, "Your active namespace is not available "
		    "anymore (probably removed).");
		return CMD_CLOSE;
	}
	if (c->argl[0] == 0) {
		reply_error(c->out, "This is not a valid command");
		return CMD_NEXT;
	}
	if ((cmd = command_find(c->argv[0], c->argl[0])) == NULL) {
		reply_error(c->out, "Command not supported");
		return CMD_NEXT;
	}
	if (c->srv->fault != FAULT_LOSTREPLY || (cmd->run != cmd_set &&
	    cmd->run != cmd_del))
		return cmd->run(c);
	(void)cmd->run(c);
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	return CMD_CLOSE;
}

struct ns *
zdbd_find_ns(struct zdbd *srv, const uint8_t *name, size_t len)
{
	struct ns *ns;

	TAILQ_FOREACH(ns, &srv->spaces, link)
		if (strlen(ns->name) == len && memcmp(ns->name, name, len) == 0)
			return ns;
	return NULL;
}

/* mode is none|hang|slow|full|readonly|corrupt|down|lostreply; slow needs arg
 * (ms). */
int
fault_parse(const char *mode, const char *arg, enum fault *fault, unsigned *ms)
{
	static const struct {
		const char	*name;
		enum fault	 fault;
	} modes[] = {
		{ "none", FAULT_NONE }, { "hang", FAULT_HANG },
		{ "slow", FAULT_SLOW }, { "full", FAULT_FULL },
		{ "readonly", FAULT_READONLY }, { "corrupt", FAULT_CORRUPT },
		{ "down", FAULT_DOWN }, { "lostreply", FAULT_LOSTREPLY },
		{ "chop", FAULT_CHOP },
	};
	char *end;
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcasecmp(mode, modes[i].name) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0]))
		return -1;
	if (modes[i].fault == FAULT_SLOW) {
		if (arg == NULL || *arg == '\0')
			return -1;
		v = strtoul(arg, &end, 10);
		if (*end != '\0' || v == 0 || v > 3600 * 1000)
			return -1;
	}
	*fault = modes[i].fault;
	*ms = (unsigned)v;
	return 0;
}

static enum cmd_result
cmd_xfault(struct call *c)
{
	enum fault fault;
	unsigned ms;

	if (c->argc < 2 || c->argc > 3 ||
	    fault_parse((const char *)c->argv[1],
	    c->argc == 3 ? (const char *)c->argv[2] : NULL, &fault,
	    &ms) == -1) {
		reply_error(c->out, "Invalid fault, expected: none, hang, "
		    "slow <ms>, full, readonly, corrupt, down, lostreply, chop");
		return CMD_NEXT;
	}
	c->srv->fault = fault;
	c->srv->fault_ms = ms;
	reply_status(c->out, "OK");
	return fault == FAULT_DOWN ? CMD_DOWN : CMD_NEXT;
}
