/* Building messages against the table in msg.c. A message that does not match
 * the table is a bug in the sender; it is refused here rather than by the
 * peer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hex.h"
#include "log.h"
#include "msg_impl.h"

struct msg *
msg_new(enum msg_type type, int64_t id, struct err *e)
{
	const struct msg_def *def = msg_table_entry(type);
	struct msg *m;
	char num[24];

	if (def == NULL)
		fatalx("building a message of unknown type %d", (int)type);
	if (id < 0 || id > MSG_INT_MAX) {
		err_set(e, "%s: id %lld is outside 0..2^53-1", def->type,
		    (long long)id);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->root = cJSON_CreateObject()) == NULL)
		goto nomem;
	m->def = def;
	m->id = id;
	if (msg_dir_is_client(def->dir) &&
	    cJSON_AddNumberToObject(m->root, "v", MSG_PROTO_VERSION) == NULL)
		goto nomem;
	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (cJSON_AddStringToObject(m->root, "type", def->type) == NULL ||
	    cJSON_AddRawToObject(m->root, "id", num) == NULL)
		goto nomem;
	return m;
nomem:
	msg_free(m);
	err_set(e, "out of memory building a %s message", def->type);
	return NULL;
}

/* Records the first error; later setters then do nothing. */
static int
build_fail(struct msg *m, cJSON *item)
{
	cJSON_Delete(item);
	m->failed = 1;
	return -1;
}

/* Puts item under field after checking the table lists field with kind. */
static int
set_item(struct msg *m, const char *field, enum msg_kind kind, cJSON *item)
{
	const struct msg_field *f;

	if (m->failed)
		return build_fail(m, item);
	if (item == NULL) {
		err_set(&m->berr, "%s: out of memory for field \"%s\"",
		    m->def->type, field);
		return build_fail(m, item);
	}
	if ((f = msg_field_find(m->def, field)) == NULL) {
		err_set(&m->berr, "%s: the message table has no field \"%s\"",
		    m->def->type, field);
		return build_fail(m, item);
	}
	if (f->kind != kind) {
		err_set(&m->berr, "%s: field \"%s\" must be %s, not %s",
		    m->def->type, field, msg_kind_name(f->kind),
		    msg_kind_name(kind));
		return build_fail(m, item);
	}
	if (cJSON_GetObjectItemCaseSensitive(m->root, field) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(m->root, field, item);
	else
		cJSON_AddItemToObject(m->root, field, item);
	return 0;
}

int
msg_set_str(struct msg *m, const char *field, const char *v)
{
	if (!m->failed && v == NULL) {
		err_set(&m->berr, "%s: field \"%s\": NULL string", m->def->type,
		    field);
		return build_fail(m, NULL);
	}
	if (!m->failed && msg_utf8_check(v, strlen(v), &m->berr) == -1) {
		err_prefix(&m->berr, "%s: field \"%s\"", m->def->type, field);
		return build_fail(m, NULL);
	}
	return set_item(m, field, MSG_STR, cJSON_CreateString(v));
}

int
msg_set_bool(struct msg *m, const char *field, int v)
{
	return set_item(m, field, MSG_BOOL, cJSON_CreateBool(v != 0));
}

/* As raw text: cJSON prints doubles with 15 significant digits when that
 * reads back "close enough", which loses integers above 10^15. */
int
msg_set_int(struct msg *m, const char *field, int64_t v)
{
	char num[24];

	if (!m->failed && (v < -MSG_INT_MAX || v > MSG_INT_MAX)) {
		err_set(&m->berr,
		    "%s: field \"%s\": %lld is outside +-(2^53-1) (use "
		    "a u64 field)", m->def->type, field, (long long)v);
		return build_fail(m, NULL);
	}
	snprintf(num, sizeof(num), "%lld", (long long)v);
	return set_item(m, field, MSG_INT, cJSON_CreateRaw(num));
}

int
msg_set_u64(struct msg *m, const char *field, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return set_item(m, field, MSG_U64, cJSON_CreateString(buf));
}

int
msg_set_hex(struct msg *m, const char *field, const uint8_t *v, size_t len)
{
	cJSON *item;
	char *hex;

	if (len > IPC_FRAME_MAX / 2) {
		if (!m->failed)
			err_set(&m->berr,
			    "%s: field \"%s\": %zu bytes do not fit "
			    "in a frame", m->def->type, field, len);
		return build_fail(m, NULL);
	}
	if ((hex = malloc(2 * len + 1)) == NULL)
		return set_item(m, field, MSG_HEX, NULL);
	hex_encode(hex, v, len);
	item = cJSON_CreateString(hex);
	free(hex);
	return set_item(m, field, MSG_HEX, item);
}

int
msg_set_json(struct msg *m, const char *field, cJSON *item)
{
	const struct msg_field *f = msg_field_find(m->def, field);
	enum msg_kind kind = MSG_OBJECT;

	if (f != NULL && (f->kind == MSG_OBJECT || f->kind == MSG_ARRAY))
		kind = f->kind;
	if (item != NULL && !m->failed &&
	    !(kind == MSG_OBJECT ? cJSON_IsObject(item) :
	    cJSON_IsArray(item))) {
		err_set(&m->berr, "%s: field \"%s\" must be %s", m->def->type,
		    field, msg_kind_name(kind));
		return build_fail(m, item);
	}
	return set_item(m, field, kind, item);
}

/* The peer's check is the builder's check: the text must parse back. */
char *
msg_encode(const struct msg *m, size_t *len, struct err *e)
{
	struct msg *back;
	char *json;
	size_t n;

	*len = 0;
	if (m->failed) {
		err_set(e, "%s", m->berr.msg);
		return NULL;
	}
	if ((json = cJSON_PrintUnformatted(m->root)) == NULL) {
		err_set(e, "%s: out of memory encoding the message",
		    m->def->type);
		return NULL;
	}
	n = strlen(json);
	if ((back = msg_parse(json, n, m->def->dir, e)) == NULL) {
		err_prefix(e, "building a %s message", m->def->type);
		cJSON_free(json);
		return NULL;
	}
	msg_free(back);
	*len = n;
	return json;
}

int
msg_send(int sock, const struct msg *m, const int *fds, int nfds,
    struct err *e)
{
	size_t len;
	char *json;
	int rc;

	if (msg_check_fds(m, nfds, e) == -1)
		return -1;
	if ((json = msg_encode(m, &len, e)) == NULL)
		return -1;
	rc = frame_send(sock, json, len, fds, nfds, e);
	cJSON_free(json);
	return rc;
}
