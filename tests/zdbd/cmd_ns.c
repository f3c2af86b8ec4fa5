/* Namespace management and SELECT, with 0-db's rules: every client is admin
 * (the double has no --admin), "default" cannot be removed and takes only mode,
 * lock and freeze, and a public namespace with a password opens read-only
 * without it. What 0-db keeps across a restart is journaled; lock and freeze
 * are not. */
#include <stdlib.h>
#include <string.h>

#include "zdbd.h"

static int
is_default(const struct ns *ns)
{
	return strcmp(ns->name, "default") == 0;
}

static enum cmd_result
fail(struct call *c, const char *why)
{
	reply_error(c->out, why);
	return CMD_NEXT;
}

static int
name_allowed(const uint8_t *name, size_t len)
{
	if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return 0;
	return strcmp((const char *)name, "default") != 0 &&
	    strcmp((const char *)name, ".") != 0 &&
	    strcmp((const char *)name, "..") != 0;
}

enum cmd_result
cmd_nsnew(struct call *c)
{
	struct zdbd *srv = c->srv;

	if (c->argc != 2)
		return fail(c, "Unexpected arguments");
	if (c->argl[1] == 0)
		return fail(c, "Invalid argument");
	if (c->argl[1] > ZDBD_MAX_NSNAME)
		return fail(c, "Namespace too long");
	if (!name_allowed(c->argv[1], c->argl[1]))
		return fail(c, "This name is not allowed");
	if (zdbd_find_ns(srv, c->argv[1], c->argl[1]) != NULL)
		return fail(c, "This namespace is not available");
	if (journal_add(srv, J_NSNEW, (const char *)c->argv[1], NULL, 0, NULL,
	    0, 0) == -1 ||
	    zdbd_ns_new(srv, (const char *)c->argv[1]) == NULL)
		return fail(c, "Could not create namespace");
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

struct ns *
zdbd_ns_new(struct zdbd *srv, const char *name)
{
	struct ns *ns;

	ns = ns_create(name,
	    srv->fixed_mode < 0 ? NS_USERKEY : (enum ns_mode)srv->fixed_mode);
	if (ns != NULL)
		TAILQ_INSERT_TAIL(&srv->spaces, ns, link);
	return ns;
}

/* Other clients on it learn on their next command, then are dropped. */
void
zdbd_ns_del(struct zdbd *srv, struct ns *ns)
{
	struct session *s;

	TAILQ_FOREACH(s, &srv->sessions, link)
		if (s->ns == ns)
			s->ns = NULL;
	TAILQ_REMOVE(&srv->spaces, ns, link);
	ns_destroy(ns);
}

enum cmd_result
cmd_nsdel(struct call *c)
{
	struct ns *ns;

	if (c->argc != 2)
		return fail(c, "Unexpected arguments");
	if (c->argl[1] == 7 && memcmp(c->argv[1], "default", 7) == 0)
		return fail(c, "Cannot remove default namespace");
	if ((ns = zdbd_find_ns(c->srv, c->argv[1], c->argl[1])) == NULL)
		return fail(c, "This namespace doesn't exists");
	if (c->sess->ns == ns)
		return fail(c,
		    "Cannot remove namespace you're currently using.");
	if (journal_add(c->srv, J_NSDEL, ns->name, NULL, 0, NULL, 0, 0) == -1)
		return fail(c, "Could not delete this namespace");
	zdbd_ns_del(c->srv, ns);
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

enum cmd_result
cmd_nslist(struct call *c)
{
	struct ns *ns;
	size_t n = 0;

	TAILQ_FOREACH(ns, &c->srv->spaces, link)
		n++;
	reply_array(c->out, n);
	TAILQ_FOREACH(ns, &c->srv->spaces, link)
		reply_bulk_str(c->out, ns->name);
	return CMD_NEXT;
}

/* A property 0-db keeps. Like 0-db, which ignores a failure to write the
 * namespace's descriptor file, the change is made and answered OK even when
 * it could not be journaled (the journal logs why). */
static enum cmd_result
nsset_keep(struct call *c, struct ns *ns, const char *prop, const char *value)
{
	journal_add(c->srv, J_NSSET, ns->name, prop, strlen(prop), value,
	    strlen(value), 0);
	ns_setprop(ns, prop, value);
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

static enum cmd_result
nsset_mode(struct call *c, struct ns *ns, const char *value)
{
	if (c->srv->fixed_mode >= 0)
		return fail(c, "This server instance is configured to use a "
		    "single runtime mode");
	if (ns->used)
		return fail(c, "Cannot change mode of used namespace");
	if (strcmp(value, "user") != 0 && strcmp(value, "seq") != 0)
		return fail(c, "Invalid property value (expected: user, seq)");
	return nsset_keep(c, ns, "mode", value);
}

/* lock and freeze replace each other; a value other than 1 unlocks. */
static enum cmd_result
nsset_lock(struct call *c, struct ns *ns, enum ns_lock how, const char *value)
{
	ns->lock = value[0] == '1' ? how : NS_UNLOCKED;
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

static int
prop_kept(const char *prop)
{
	return strcmp(prop, "password") == 0 || strcmp(prop, "public") == 0 ||
	    strcmp(prop, "worm") == 0 || strcmp(prop, "maxsize") == 0;
}

enum cmd_result
cmd_nsset(struct call *c)
{
	const char *prop, *value;
	struct ns *ns;

	if (c->argc != 4)
		return fail(c, "Unexpected arguments");
	if ((ns = zdbd_find_ns(c->srv, c->argv[1], c->argl[1])) == NULL)
		return fail(c, "Namespace not found");
	if (c->argl[2] > 256 || c->argl[3] > ZDBD_MAX_NSSET_VALUE)
		return fail(c, "Argument too long");
	prop = (const char *)c->argv[2];
	value = (const char *)c->argv[3];
	if (strcmp(prop, "mode") == 0)
		return nsset_mode(c, ns, value);
	if (strcmp(prop, "lock") == 0)
		return nsset_lock(c, ns, NS_READ_ONLY, value);
	if (strcmp(prop, "freeze") == 0)
		return nsset_lock(c, ns, NS_FROZEN, value);
	if (is_default(ns))
		return fail(c, "Cannot update default namespace");
	if (!prop_kept(prop))
		return fail(c, "Invalid property");
	return nsset_keep(c, ns, prop, value);
}

static enum cmd_result
select_ok(struct call *c, struct ns *ns, int writable)
{
	c->sess->ns = ns;
	c->sess->writable = writable;
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

/* A failed SELECT leaves the client where it was. The SECURE form needs a
 * challenge from AUTH, which the double never hands out. */
enum cmd_result
cmd_select(struct call *c)
{
	struct ns *ns;

	if (c->argc < 2)
		return fail(c, "Invalid argument");
	if (c->argc > 4)
		return fail(c, "Too many arguments");
	if ((ns = zdbd_find_ns(c->srv, c->argv[1], c->argl[1])) == NULL)
		return fail(c, "Namespace not found");
	if (!ns->has_password)
		return select_ok(c, ns, 1);
	if (c->argc == 2) {
		if (!ns->public)
			return fail(c, "Namespace protected and private");
		return select_ok(c, ns, 0);
	}
	if (c->argc == 4) {
		if (strcmp((const char *)c->argv[2], "SECURE") != 0)
			return fail(c, "Only SECURE extra method supported");
		return fail(c, "No CHALLENGE requested, secure authentication "
		    "not available");
	}
	if (c->argl[2] > ZDBD_MAX_SELECT_PASS)
		return fail(c, "Password too long");
	if (c->argl[2] != strlen(ns->password) ||
	    memcmp(c->argv[2], ns->password, c->argl[2]) != 0)
		return fail(c, "Access denied");
	return select_ok(c, ns, 1);
}

/* Without --admin, 0-db answers this to every plain AUTH. */
enum cmd_result
cmd_auth(struct call *c)
{
	return fail(c, "Authentication disabled");
}
