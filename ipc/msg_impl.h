/* Internals shared by msg.c, msg_build.c and msg_text.c. */
#ifndef MSG_IMPL_H
#define MSG_IMPL_H

#include <cjson/cJSON.h>

#include "msg.h"

struct msg {
	const struct msg_def	*def;
	cJSON			*root;
	int64_t			 id;
	/* a setter failed; berr says why */
	int			 failed;
	struct err		 berr;
};

/* Lexical checks cJSON does not make: UTF-8, raw control bytes and \u0000 in
 * strings, the JSON number grammar, bytes outside strings. */
int	msg_text_check(const char *json, size_t len, struct err *e);
int	msg_utf8_check(const char *s, size_t len, struct err *e);
/* Rejects an object (at any depth) that names a key twice. */
int	msg_dup_check(const cJSON *item, struct err *e);

/* One member's value against its field's kind. */
int	msg_value_check(const struct msg_field *f, const cJSON *v,
	    struct err *e);
const struct msg_field *msg_field_find(const struct msg_def *def,
	    const char *name);
int	msg_dir_is_client(enum msg_dir dir);

#endif
