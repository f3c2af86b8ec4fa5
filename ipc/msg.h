/* The messages of the client protocol and of the worker IPC, in one table.
 *
 * Each message is one JSON object with "type" and "id" (an integer,
 * 0 .. 2^53-1): the client's request id in the client protocol, the job id in
 * the worker IPC (0 for the start-up messages). Client protocol messages (both
 * directions) also carry "v": MSG_PROTO_VERSION. The table in msg.c says, per
 * type, its direction, its fields (name, kind, required or optional) and how
 * many file descriptors its frame carries; enum msg_type, its ids, is
 * generated from that table (msg_types.h), so that dispatchers switch on it.
 *
 * Reading is strict: msg_parse rejects invalid JSON or UTF-8, a string holding
 * NUL, duplicate keys, trailing bytes, an unknown type for the direction, a
 * missing or mistyped field and any field the table does not list. A message
 * built with msg_new/msg_set_* is checked against the same table. A getter
 * asked for a field the table does not give that kind is a bug in the caller
 * and ends the process (fatalx); what the peer sent never does. */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "msg_types.h"

#define MSG_PROTO_VERSION	1
#define MSG_FIELDS_MAX		16
/* JSON-safe; larger travel as u64 strings */
#define MSG_INT_MAX		((1LL << 53) - 1)

/* Metadata travels as hex in one frame, with room for the rest of the
 * message: about 40 000 shard pieces of 2 MiB, some 80 GB of shards per
 * object. */
#define MSG_META_MAX		((IPC_FRAME_MAX - 4096) / 2)

enum msg_dir {
	MSG_CLIENT_TO_MASTER,
	MSG_MASTER_TO_CLIENT,
	MSG_MASTER_TO_WORKER,
	MSG_WORKER_TO_MASTER,
};

enum msg_kind {
	MSG_STR,	/* UTF-8 string without NUL */
	MSG_BOOL,
	MSG_INT,	/* JSON integer within +-2^53 */
	MSG_U64,	/* decimal string: counters, zdb keys */
	MSG_HEX,	/* lowercase hex string of bytes, even length */
	MSG_OBJECT,	/* raw JSON object, checked by the receiver */
	MSG_ARRAY,	/* raw JSON array, checked by the receiver */
};

struct msg_field {
	const char	*name;		/* NULL ends the list */
	enum msg_kind	 kind;
	int		 required;
};

struct msg_def {
	const char		*type;
	enum msg_dir		 dir;
	int			 nfds;	/* descriptors it carries, exactly */
	struct msg_field	 fields[MSG_FIELDS_MAX];
};

struct msg;
struct cJSON;

/* The table: entry i (whose id is i), or NULL past the end. */
const struct msg_def	*msg_table_entry(size_t i);
const struct msg_def	*msg_def_find(const char *type);
const char		*msg_dir_name(enum msg_dir dir);
const char		*msg_kind_name(enum msg_kind kind);

/* -1 with an error that says what to do when len bytes of metadata do not
 * fit in a message. */
int		 msg_meta_fits(size_t len, struct err *e);

/* Parses and checks one frame's JSON (len bytes, need not be
 * NUL-terminated). */
struct msg	*msg_parse(const char *json, size_t len, enum msg_dir dir,
		    struct err *e);
/* Checks the number of a received frame's descriptors against the table. */
int		 msg_check_fds(const struct msg *m, int nfds, struct err *e);
/* A counter or 0-db key in its decimal string form (MSG_U64). */
int		 msg_parse_u64(const char *s, uint64_t *out, struct err *e);

enum msg_type	 msg_type(const struct msg *m);
const char	*msg_type_name(const struct msg *m);
int64_t		 msg_id(const struct msg *m);
const struct msg_def *msg_def(const struct msg *m);
void		 msg_free(struct msg *m);

/* Typed getters: the value, or the answer for an absent optional field. A
 * field the table does not list with that kind is a programming error:
 * fatalx. */
int		 msg_has(const struct msg *m, const char *field);
/* NULL: absent */
const char	*msg_get_str(const struct msg *m, const char *field);
/* 1, 0, -1: absent */
int		 msg_get_bool(const struct msg *m, const char *field);
/* INT64_MIN: absent */
int64_t		 msg_get_int(const struct msg *m, const char *field);
int		 msg_get_u64(const struct msg *m, const char *field,
		    uint64_t *out);
/* *out is malloc'd (free it), also for zero bytes. */
int		 msg_get_hex(const struct msg *m, const char *field,
		    uint8_t **out, size_t *len);
const struct cJSON *msg_get_json(const struct msg *m, const char *field);
/* "done" and "total" of a progress or job_progress: -1 (e says why) unless
 * 0 <= done <= total and total >= 1. */
int		 msg_get_progress(const struct msg *m, uint64_t *done,
		    uint64_t *total, struct err *e);

/* Building. The first failing setter's error sticks to the message and
 * msg_encode reports it, so a sequence of setters can be checked once. */
struct msg	*msg_new(enum msg_type type, int64_t id, struct err *e);
int		 msg_set_str(struct msg *m, const char *field, const char *v);
int		 msg_set_bool(struct msg *m, const char *field, int v);
int		 msg_set_int(struct msg *m, const char *field, int64_t v);
int		 msg_set_u64(struct msg *m, const char *field, uint64_t v);
int		 msg_set_hex(struct msg *m, const char *field, const uint8_t *v,
		    size_t len);
/* Takes ownership of item (an object or an array as the table says). */
int		 msg_set_json(struct msg *m, const char *field,
		    struct cJSON *item);
/* Returns malloc'd compact JSON (NUL-terminated, *len without the NUL). */
char		*msg_encode(const struct msg *m, size_t *len, struct err *e);
/* msg_encode, msg_check_fds and frame_send in one. */
int		 msg_send(int sock, const struct msg *m, const int *fds,
		    int nfds, struct err *e);

#endif
