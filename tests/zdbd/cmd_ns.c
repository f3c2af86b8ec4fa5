/* Namespace management and SELECT, with 0-db's rules: every client is admin (the
 * double has no --admin), "default" cannot be removed and takes only mode, lock
 * and freeze, and a public namespace with a password opens read-only without it. */
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
	struct ns *ns;

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
	ns = ns_create((const char *)c->argv[1],
	    srv->fixed_mode < 0 ? NS_USERKEY : (enum ns_mode)srv->fixed_mode);
	if (ns == NULL)
		return fail(c, "Could not create namespace");
	TAILQ_INSERT_TAIL(&srv->spaces, ns, link);
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

enum cmd_result
cmd_nsdel(struct call *c)
{
	struct session *s;
	struct ns *ns;

	if (c->argc != 2)
		return fail(c, "Unexpected arguments");
	if (c->argl[1] == 7 && memcmp(c->argv[1], "default", 7) == 0)
		return fail(c, "Cannot remove default namespace");
	if ((ns = zdbd_find_ns(c->srv, c->argv[1], c->argl[1])) == NULL)
		return fail(c, "This namespace doesn't exists");
	if (c->sess->ns == ns)
		return fail(c, "Cannot remove namespace you're currently using.");
	/* Other clients on it learn on their next command, then are dropped. */
	TAILQ_FOREACH(s, &c->srv->sessions, link)
		if (s->ns == ns)
			s->ns = NULL;
	TAILQ_REMOVE(&c->srv->spaces, ns, link);
	ns_destroy(ns);
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

static enum cmd_result
nsset_mode(struct call *c, struct ns *ns, const char *value)
{
	if (c->srv->fixed_mode >= 0)
		return fail(c, "This server instance is configured to use a "
		    "single runtime mode");
	if (ns->used)
		return fail(c, "Cannot change mode of used namespace");
	if (strcmp(value, "user") == 0)
		ns->mode = NS_USERKEY;
	else if (strcmp(value, "seq") == 0)
		ns->mode = NS_SEQUENTIAL;
	else
		return fail(c, "Invalid property value (expected: user, seq)");
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

/* Properties that only a non-default namespace takes. Booleans look only at the
 * first character, and maxsize is atoll, garbage meaning 0: both as in 0-db. */
static enum cmd_result
nsset_setting(struct call *c, struct ns *ns, const char *prop,
    const char *value)
{
	if (strcmp(prop, "password") == 0) {
		ns->has_password = strcmp(value, "*") != 0;
		strlcpy(ns->password, ns->has_password ? value : "",
		    sizeof(ns->password));
	} else if (strcmp(prop, "public") == 0)
		ns->public = value[0] == '1';
	else if (strcmp(prop, "worm") == 0)
		ns->worm = value[0] == '1';
	else if (strcmp(prop, "maxsize") == 0)
		ns->maxsize = (uint64_t)atoll(value);
	else
		return fail(c, "Invalid property");
	reply_status(c->out, "OK");
	return CMD_NEXT;
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
	if (strcmp(prop, "lock") == 0 || strcmp(prop, "freeze") == 0) {
		if (prop[0] == 'l')
			ns->locked = value[0] == '1';
		else
			ns->frozen = value[0] == '1';
		reply_status(c->out, "OK");
		return CMD_NEXT;
	}
	if (is_default(ns))
		return fail(c, "Cannot update default namespace");
	return nsset_setting(c, ns, prop, value);
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
