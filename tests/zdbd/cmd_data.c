/* Data commands on the caller's current namespace. The checks run in 0-db's
 * order so the first error a client sees is the one 0-db would send; the
 * injected faults come first, as if the disk itself were full, read-only or
 * corrupting. A change is journaled before it is made and answered, so what a
 * client was told is written stays written across a crash and a restart. */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "zdbd.h"

#define ERR_READONLY	"Namespace is in read-only mode"
#define ERR_FROZEN	"Namespace is temporarily frozen (read-write disabled)"
#define ERR_LOCKED	"Namespace is temporarily locked (read-only)"
#define ERR_NOSPACE	"No space left on this namespace"
#define ERR_WORM	"Namespace is protected by worm mode"

static enum cmd_result
unexpected_args(struct call *c)
{
	reply_error(c->out, "Unexpected arguments");
	return CMD_NEXT;
}

/* GET, EXISTS, DEL and friends: 0-db refuses an empty or over-long key here. */
static int
bad_key_arg(struct call *c, int i)
{
	if (c->argl[i] == 0) {
		reply_error(c->out, "Invalid argument");
		return 1;
	}
	if (c->argl[i] > ZDBD_MAX_KEY) {
		reply_error(c->out, "Invalid key");
		return 1;
	}
	return 0;
}

static int
frozen(struct call *c)
{
	if (c->sess->ns->lock != NS_FROZEN)
		return 0;
	reply_error(c->out, ERR_FROZEN);
	return 1;
}

/* The write checks SET and DEL share: faults, then 0-db's own. */
static int
write_refused(struct call *c)
{
	const struct ns *ns = c->sess->ns;
	const char *why = NULL;

	if (c->srv->fault == FAULT_READONLY || !c->sess->writable)
		why = ERR_READONLY;
	else if (ns->lock == NS_FROZEN)
		why = ERR_FROZEN;
	else if (ns->lock == NS_READ_ONLY)
		why = ERR_LOCKED;
	if (why != NULL)
		reply_error(c->out, why);
	return why != NULL;
}

static uint32_t
timestamp_arg(struct call *c, int i)
{
	if (c->argc > i)
		return (uint32_t)strtoul((const char *)c->argv[i], NULL, 10);
	return (uint32_t)time(NULL);
}

enum cmd_result
cmd_ping(struct call *c)
{
	reply_status(c->out, "PONG");
	return CMD_NEXT;
}

/* The part of SET that is the same in both modes, once the key is known. */
static void
set_store(struct call *c, const uint8_t *key, size_t keylen,
    const struct entry *old)
{
	struct ns *ns = c->sess->ns;
	uint32_t ts = timestamp_arg(c, 3);

	if (old != NULL && old->vallen == c->argl[2] &&
	    memcmp(old->val, c->argv[2], old->vallen) == 0) {
		reply_nil(c->out);	/* identical value: 0-db writes
					 * nothing */
		return;
	}
	if (journal_add(c->srv, J_SET, ns->name, key, keylen, c->argv[2],
	    c->argl[2], ts) == -1 ||
	    ns_set(ns, key, keylen, c->argv[2], c->argl[2], ts) == NULL) {
		reply_error(c->out, "Cannot write data right now");
		return;
	}
	reply_bulk(c->out, key, keylen);
}

static void
set_sequential(struct call *c, const struct entry *old)
{
	uint8_t id[ZDBD_SEQ_KEY];

	if (c->argl[1] != 0) {
		if (old == NULL)
			reply_error(c->out,
			    "Invalid key, only update authorized");
		else
			set_store(c, c->argv[1], c->argl[1], old);
		return;
	}
	le_put(id, c->sess->ns->next_id, ZDBD_SEQ_KEY);
	set_store(c, id, sizeof(id), NULL);
}

enum cmd_result
cmd_set(struct call *c)
{
	struct ns *ns = c->sess->ns;
	const struct entry *old;
	size_t oldlen;

	if (c->argc != 3 && c->argc != 4)
		return unexpected_args(c);
	if (c->srv->fault == FAULT_FULL) {
		reply_error(c->out, ERR_NOSPACE);
		return CMD_NEXT;
	}
	if (c->argl[1] > ZDBD_MAX_KEY) {
		reply_error(c->out, "Key too large");
		return CMD_NEXT;
	}
	if (write_refused(c))
		return CMD_NEXT;
	old = ns_lookup(ns, c->argv[1], c->argl[1]);
	if (old != NULL && ns->worm) {
		reply_error(c->out, ERR_WORM);
		return CMD_NEXT;
	}
	oldlen = old != NULL ? old->vallen : 0;
	if (ns->maxsize > 0 &&
	    ns->data_size + c->argl[2] > ns->maxsize + oldlen) {
		reply_error(c->out, ERR_NOSPACE);
		return CMD_NEXT;
	}
	if (ns->mode == NS_SEQUENTIAL)
		set_sequential(c, old);
	else if (c->argl[1] == 0)
		reply_error(c->out, "Invalid argument, key needed");
	else
		set_store(c, c->argv[1], c->argl[1], old);
	return CMD_NEXT;
}

/* A value as the corrupt fault shows it: first byte flipped, like a bad
 * disk. */
static void
reply_value(struct call *c, const struct entry *e)
{
	uint8_t first;

	if (e == NULL) {
		reply_nil(c->out);
		return;
	}
	if (c->srv->fault != FAULT_CORRUPT || e->vallen == 0) {
		reply_bulk(c->out, e->val, e->vallen);
		return;
	}
	first = e->val[0] ^ 0x01;
	evbuffer_add_printf(c->out, "$%zu\r\n", e->vallen);
	evbuffer_add(c->out, &first, 1);
	evbuffer_add(c->out, e->val + 1, e->vallen - 1);
	evbuffer_add(c->out, "\r\n", 2);
}

enum cmd_result
cmd_get(struct call *c)
{
	if (c->argc != 2)
		return unexpected_args(c);
	if (bad_key_arg(c, 1) || frozen(c))
		return CMD_NEXT;
	reply_value(c, ns_lookup(c->sess->ns, c->argv[1], c->argl[1]));
	return CMD_NEXT;
}

enum cmd_result
cmd_mget(struct call *c)
{
	int i;

	if (c->argc < 2) {
		reply_error(c->out, "Invalid arguments");
		return CMD_NEXT;
	}
	if (frozen(c))
		return CMD_NEXT;
	reply_array(c->out, (size_t)c->argc - 1);
	for (i = 1; i < c->argc; i++)
		reply_value(c, ns_lookup(c->sess->ns, c->argv[i], c->argl[i]));
	return CMD_NEXT;
}

enum cmd_result
cmd_del(struct call *c)
{
	struct ns *ns = c->sess->ns;
	struct entry *e;

	if (c->argc != 2 && c->argc != 3)
		return unexpected_args(c);
	if (bad_key_arg(c, 1) || write_refused(c))
		return CMD_NEXT;
	if (ns->worm) {
		reply_error(c->out,
		    "Cannot delete a key when namespace is in worm mode");
		return CMD_NEXT;
	}
	if ((e = ns_lookup(ns, c->argv[1], c->argl[1])) == NULL) {
		reply_error(c->out, "Key not found");
		return CMD_NEXT;
	}
	if (journal_add(c->srv, J_DEL, ns->name, e->key, e->keylen, NULL, 0,
	    0) == -1) {
		reply_error(c->out, "Cannot delete key (data)");
		return CMD_NEXT;
	}
	ns_del(ns, e);
	reply_status(c->out, "OK");
	return CMD_NEXT;
}

/* EXISTS, LENGTH and KEYTIME: one key in, one number (or nil) out. Returns -1
 * when an error reply was already written. */
static int
lookup_one(struct call *c, const struct entry **e)
{
	if (c->argc != 2) {
		unexpected_args(c);
		return -1;
	}
	if (bad_key_arg(c, 1) || frozen(c))
		return -1;
	*e = ns_lookup(c->sess->ns, c->argv[1], c->argl[1]);
	return 0;
}

enum cmd_result
cmd_exists(struct call *c)
{
	const struct entry *e;

	if (lookup_one(c, &e) == 0)
		reply_int(c->out, e != NULL);
	return CMD_NEXT;
}

enum cmd_result
cmd_length(struct call *c)
{
	const struct entry *e;

	if (lookup_one(c, &e) == -1)
		return CMD_NEXT;
	if (e != NULL)
		reply_int(c->out, (long long)e->vallen);
	else
		reply_nil(c->out);
	return CMD_NEXT;
}

enum cmd_result
cmd_keytime(struct call *c)
{
	const struct entry *e;

	if (lookup_one(c, &e) == -1)
		return CMD_NEXT;
	if (e != NULL)
		reply_int(c->out, e->ts);
	else
		reply_nil(c->out);
	return CMD_NEXT;
}

enum cmd_result
cmd_dbsize(struct call *c)
{
	reply_int(c->out, (long long)c->sess->ns->entries);
	return CMD_NEXT;
}

enum cmd_result
cmd_time(struct call *c)
{
	struct timeval tv;
	char sec[32], usec[16];

	gettimeofday(&tv, NULL);
	snprintf(sec, sizeof(sec), "%lld", (long long)tv.tv_sec);
	snprintf(usec, sizeof(usec), "%ld", (long)tv.tv_usec);
	reply_array(c->out, 2);
	reply_bulk_str(c->out, sec);
	reply_bulk_str(c->out, usec);
	return CMD_NEXT;
}

/* Our cursor has the shape of 0-db's (index_bkey_t: u8 key length, u32 file id,
 * u32 value length, u32 index offset, u32 crc), with the key's serial where
 * 0-db has the index offset and a check word for the crc, so that bytes which
 * did not come from a SCAN reply are refused as 0-db refuses them. */
static void
cursor_encode(uint8_t out[ZDBD_CURSOR_LEN], const struct entry *e)
{
	out[0] = (uint8_t)e->keylen;
	le_put(out + 1, 0, 4);
	le_put(out + 5, e->vallen, 4);
	le_put(out + 9, e->serial, 4);
	le_put(out + 13, fnv1a32(out, 13), 4);
}

static int
cursor_decode(const uint8_t *in, size_t len, uint64_t *serial)
{
	if (len != ZDBD_CURSOR_LEN ||
	    le_get(in + 13, 4) != fnv1a32(in, 13))
		return -1;
	*serial = le_get(in + 9, 4);
	return 0;
}

enum cmd_result
cmd_scan(struct call *c)
{
	const struct ns *ns = c->sess->ns;
	const struct entry *batch[ZDBD_SCAN_BATCH];
	uint8_t cursor[ZDBD_CURSOR_LEN];
	uint64_t after = 0;
	size_t i, n = 0;

	if (frozen(c))
		return CMD_NEXT;
	if (c->argc >= 2 &&
	    cursor_decode(c->argv[1], c->argl[1], &after) == -1) {
		reply_error(c->out, "Invalid key format");
		return CMD_NEXT;
	}
	i = ns_scan_start(ns, c->argc >= 2, after);
	for (; i < ns->loglen && n < ZDBD_SCAN_BATCH; i++)
		if (ns->log[i].e != NULL)
			batch[n++] = ns->log[i].e;
	if (n == 0) {
		reply_error(c->out, "No more data");
		return CMD_NEXT;
	}
	cursor_encode(cursor, batch[n - 1]);
	reply_array(c->out, 2);
	reply_bulk(c->out, cursor, sizeof(cursor));
	reply_array(c->out, n);
	for (i = 0; i < n; i++) {
		reply_array(c->out, 3);
		reply_bulk(c->out, batch[i]->key, batch[i]->keylen);
		reply_int(c->out, (long long)batch[i]->vallen);
		reply_int(c->out, batch[i]->ts);
	}
	return CMD_NEXT;
}
