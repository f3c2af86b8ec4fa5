/* A strict reader for the TOML subset described in toml.h.
 *
 * Table rules follow TOML 1.0: a table gets its keys from exactly one place (a
 * [header], an inline table, or the dotted keys that created it); tables that
 * were only implied as parents of a header may still be defined later; [[name]]
 * appends a table to an array of tables, and a header below it ([name.sub])
 * refers to the last element. Inline arrays and tables are sealed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "toml.h"

#define F_DEFINED	0x1	/* table already received its keys from
				 * somewhere */
#define F_DOTTED	0x2	/* table created by a dotted key */
#define F_INLINE	0x4	/* inline array or table: cannot be extended */
#define F_AOT		0x8	/* array built by [[header]]s */

#define KEY_PARTS_MAX	16
#define NEST_MAX	32
#define NAME_MAX_LEN	256

struct keypath {
	char *part[KEY_PARTS_MAX];
	size_t n;
	int line;
};

struct parser {
	const char *p, *end;
	const char *file;
	int line;
	int depth;		/* nesting of inline arrays and tables */
	struct toml_node *root;
	struct toml_node *cur;	/* table the next key/value pairs go to */
	struct err *e;
};

struct sbuf {
	char *s;
	size_t n, cap;
};

static int parse_value(struct parser *, struct toml_node **);
static int parse_keyval(struct parser *, struct toml_node *);

static int perr(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *ps, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->e, "%s:%d: %s", ps->file, ps->line, msg);
}

/* Names the character at the cursor for "got X" in messages. */
static const char *
show_char(const struct parser *ps, char buf[16])
{
	unsigned char c;

	if (ps->p >= ps->end)
		return "end of file";
	c = (unsigned char)*ps->p;
	if (c == '\n')
		return "end of line";
	if (c == '\r')
		return "a carriage return";
	if (c < 0x20 || c == 0x7f)
		snprintf(buf, 16, "byte 0x%02x", c);
	else if (c >= 0x80)
		return "a non-ASCII character";
	else
		snprintf(buf, 16, "'%c'", c);
	return buf;
}

static int
is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static struct toml_node *
node_new(struct parser *ps, enum toml_type type, unsigned flags)
{
	struct toml_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		perr(ps, "out of memory");
		return NULL;
	}
	n->type = type;
	n->line = ps->line;
	n->flags = flags;
	return n;
}

/* Adds key = v to table t. On failure v is freed. */
static int
table_add(struct parser *ps, struct toml_node *t, const char *key, int line,
    struct toml_node *v)
{
	struct toml_entry *grown;
	char *k;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;

		grown = reallocarray(t->entries, cap, sizeof(*grown));
		if (grown == NULL)
			goto oom;
		t->entries = grown;
		t->cap = cap;
	}
	if ((k = strdup(key)) == NULL)
		goto oom;
	t->entries[t->n].key = k;
	t->entries[t->n].line = line;
	t->entries[t->n].value = v;
	t->n++;
	return 0;
oom:
	toml_free(v);
	return perr(ps, "out of memory");
}

/* Appends v to array a. On failure v is freed. */
static int
array_push(struct parser *ps, struct toml_node *a, struct toml_node *v)
{
	struct toml_node **grown;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;

		if ((grown = reallocarray(a->items, cap,
		    sizeof(*grown))) == NULL) {
			toml_free(v);
			return perr(ps, "out of memory");
		}
		a->items = grown;
		a->cap = cap;
	}
	a->items[a->n++] = v;
	return 0;
}

static int
sbuf_put(struct parser *ps, struct sbuf *b, const char *src, size_t n)
{
	char *grown;

	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap - b->n < n)
			cap *= 2;
		if ((grown = realloc(b->s, cap)) == NULL)
			return perr(ps, "out of memory");
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->n, src, n);
	b->n += n;
	return 0;
}

/* The whole file must be UTF-8, as TOML requires. */
static int
check_utf8(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->p;
	const unsigned char *end = (const unsigned char *)ps->end;
	uint32_t cp, min;
	size_t i, more;

	while (s < end) {
		if (*s < 0x80) {
			if (*s++ == '\n')
				ps->line++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0)
			more = 1, cp = *s & 0x1f, min = 0x80;
		else if ((*s & 0xf0) == 0xe0)
			more = 2, cp = *s & 0x0f, min = 0x800;
		else if ((*s & 0xf8) == 0xf0)
			more = 3, cp = *s & 0x07, min = 0x10000;
		else
			goto bad;
		if ((size_t)(end - s) <= more)
			goto bad;
		for (i = 1; i <= more; i++) {
			if ((s[i] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		s += more + 1;
	}
	ps->line = 1;
	return 0;
bad:
	return perr(ps, "invalid UTF-8 (a TOML file must be UTF-8 text)");
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* At '#': skips to the end of the line, leaving the newline. */
static int
skip_comment(struct parser *ps)
{
	for (ps->p++; ps->p < ps->end && *ps->p != '\n'; ps->p++) {
		if (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
			continue;
		if (is_control((unsigned char)*ps->p))
			return perr(ps, "control character in a comment");
	}
	return 0;
}

/* Consumes one newline (LF or CRLF) if the cursor is at one. */
static int
eat_newline(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
		ps->line++;
		return 1;
	}
	if (ps->end - ps->p >= 2 && ps->p[0] == '\r' && ps->p[1] == '\n') {
		ps->p += 2;
		ps->line++;
		return 1;
	}
	return 0;
}

/* After a header or a key/value: only blanks and a comment may end the line. */
static int
end_of_line(struct parser *ps, const char *after)
{
	char buf[16];

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '#' && skip_comment(ps) == -1)
		return -1;
	if (ps->p >= ps->end || eat_newline(ps))
		return 0;
	return perr(ps, "unexpected %s after %s (expected a new line or a # "
	    "comment)", show_char(ps, buf), after);
}

/* Blanks, newlines and comments, as allowed inside an inline array. */
static int
skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '#') {
			if (skip_comment(ps) == -1)
				return -1;
			continue;
		}
		if (!eat_newline(ps))
			return 0;
	}
}

/* \uXXXX or \UXXXXXXXX (cursor after the letter), appended as UTF-8. */
static int
parse_unicode_escape(struct parser *ps, struct sbuf *b, int ndigits)
{
	char utf8[4];
	uint32_t cp = 0;
	size_t n;
	int i, d;

	for (i = 0; i < ndigits; i++, ps->p++) {
		if (ps->p >= ps->end || (d = hex_digit(*ps->p)) < 0)
			return perr(ps, "\\%c escape needs %d hex digits",
			    ndigits == 4 ? 'u' : 'U', ndigits);
		cp = cp << 4 | (uint32_t)d;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return perr(ps, "escape U+%04X is not a Unicode scalar value",
		    cp);
	if (cp == 0)
		return perr(ps, "NUL characters (\\u0000) are not allowed in "
		    "strings");
	if (cp < 0x80) {
		utf8[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		utf8[0] = (char)(0xc0 | cp >> 6), n = 2;
	} else if (cp < 0x10000) {
		utf8[0] = (char)(0xe0 | cp >> 12), n = 3;
	} else {
		utf8[0] = (char)(0xf0 | cp >> 18), n = 4;
	}
	for (i = 1; i < (int)n; i++)
		utf8[i] = (char)(0x80 |
		    ((cp >> (6 * (n - 1 - (size_t)i))) & 0x3f));
	return sbuf_put(ps, b, utf8, n);
}

/* At a backslash inside a basic string. */
static int
parse_escape(struct parser *ps, struct sbuf *b)
{
	char c, buf[16];

	ps->p++;
	if (ps->p >= ps->end)
		return 0;	/* the caller reports the unterminated string */
	c = *ps->p;
	switch (c) {
	case 'b': c = '\b'; break;
	case 't': c = '\t'; break;
	case 'n': c = '\n'; break;
	case 'f': c = '\f'; break;
	case 'r': c = '\r'; break;
	case '"': case '\\': break;
	case 'u': ps->p++; return parse_unicode_escape(ps, b, 4);
	case 'U': ps->p++; return parse_unicode_escape(ps, b, 8);
	default:
		return perr(ps, "invalid escape sequence: backslash followed "
		    "by %s", show_char(ps, buf));
	}
	ps->p++;
	return sbuf_put(ps, b, &c, 1);
}

static int
parse_basic_string(struct parser *ps, char **out)
{
	struct sbuf b = { NULL, 0, 0 };
	unsigned char c;

	if (ps->end - ps->p >= 3 && memcmp(ps->p, "\"\"\"", 3) == 0)
		return perr(ps, "multi-line strings (\"\"\") are not "
		    "supported");
	for (ps->p++;;) {
		if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r') {
			perr(ps, "unterminated string (the closing \" is "
			    "missing on this line)");
			goto fail;
		}
		c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c == '\\') {
			if (parse_escape(ps, &b) == -1)
				goto fail;
			continue;
		}
		if (is_control(c)) {
			perr(ps, "control character in a string (write it as "
			    "an escape)");
			goto fail;
		}
		if (sbuf_put(ps, &b, ps->p++, 1) == -1)
			goto fail;
	}
	ps->p++;
	if (sbuf_put(ps, &b, "", 1) == -1)
		goto fail;
	*out = b.s;
	return 0;
fail:
	free(b.s);
	return -1;
}

static int
parse_literal_string(struct parser *ps, char **out)
{
	const char *start;

	if (ps->end - ps->p >= 3 && memcmp(ps->p, "'''", 3) == 0)
		return perr(ps, "multi-line strings (''') are not supported");
	start = ++ps->p;
	for (; ps->p < ps->end && *ps->p != '\''; ps->p++) {
		if (*ps->p == '\n' || *ps->p == '\r')
			break;
		if (is_control((unsigned char)*ps->p))
			return perr(ps, "control character in a string");
	}
	if (ps->p >= ps->end || *ps->p != '\'')
		return perr(ps, "unterminated string (the closing ' is missing "
		    "on this line)");
	if ((*out = strndup(start, (size_t)(ps->p - start))) == NULL)
		return perr(ps, "out of memory");
	ps->p++;
	return 0;
}

static int
is_bare_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
parse_simple_key(struct parser *ps, char **out)
{
	const char *start = ps->p;
	char buf[16];

	if (ps->p < ps->end && *ps->p == '"')
		return parse_basic_string(ps, out);
	if (ps->p < ps->end && *ps->p == '\'')
		return parse_literal_string(ps, out);
	while (ps->p < ps->end && is_bare_key_char(*ps->p))
		ps->p++;
	if (ps->p == start)
		return perr(ps, "expected a key, got %s", show_char(ps, buf));
	if ((*out = strndup(start, (size_t)(ps->p - start))) == NULL)
		return perr(ps, "out of memory");
	return 0;
}

/* key ( "." key )*, with blanks allowed around the dots. */
static int
parse_key(struct parser *ps, struct keypath *kp)
{
	kp->n = 0;
	kp->line = ps->line;
	for (;;) {
		if (kp->n == KEY_PARTS_MAX)
			return perr(ps, "key has more than %d dotted parts",
			    KEY_PARTS_MAX);
		if (parse_simple_key(ps, &kp->part[kp->n]) == -1)
			return -1;
		kp->n++;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '.')
			return 0;
		ps->p++;
		skip_ws(ps);
	}
}

static void
keypath_free(struct keypath *kp)
{
	while (kp->n > 0)
		free(kp->part[--kp->n]);
}

/* The first n parts joined with dots, for messages. */
static const char *
keypath_name(const struct keypath *kp, size_t n, char *out, size_t len)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(out, ".", len);
		strlcat(out, kp->part[i], len);
	}
	return out;
}

static int
parse_integer(struct parser *ps, int64_t *out)
{
	const char *s = ps->p, *digits;
	uint64_t v = 0, limit;
	int neg = 0, base = 10, d, prev_digit = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (ps->end - s >= 2 && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
		if (s != ps->p)
			return perr(ps, "a sign is not allowed before 0x, 0o "
			    "or 0b");
		base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		s += 2;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (digits = s; s < ps->end; s++) {
		if (*s == '_') {
			if (!prev_digit || ps->end - s < 2 ||
			    (d = hex_digit(s[1])) < 0 || d >= base)
				return perr(ps, "'_' in a number must stand "
				    "between two digits");
			prev_digit = 0;
			continue;
		}
		if ((d = hex_digit(*s)) < 0 || d >= base)
			break;
		if (v > (limit - (uint64_t)d) / (uint64_t)base)
			return perr(ps, "integer out of range: it must fit in "
			    "64 bits "
			    "(-9223372036854775808 to 9223372036854775807)");
		v = v * (uint64_t)base + (uint64_t)d;
		prev_digit = 1;
	}
	if (s == digits)
		return perr(ps, "expected digits after the sign or prefix");
	if (base == 10 && digits[0] == '0' && s - digits > 1)
		return perr(ps, "leading zeros are not allowed in integers");
	if (base == 10 && s < ps->end && (*s == '.' || *s == 'e' || *s == 'E'))
		return perr(ps, "floating-point numbers are not supported "
		    "(expected an integer)");
	if (base == 10 && s < ps->end && (*s == ':' || *s == '-'))
		return perr(ps, "dates and times are not supported");
	ps->p = s;
	if (!neg)
		*out = (int64_t)v;
	else
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return 0;
}

static int
parse_array(struct parser *ps, struct toml_node **out)
{
	struct toml_node *arr, *item;
	int line = ps->line;
	char buf[16];

	if ((arr = node_new(ps, TOML_ARRAY, F_INLINE)) == NULL)
		return -1;
	for (ps->p++;; ps->p++) {
		if (skip_blank(ps) == -1)
			goto fail;
		if (ps->p >= ps->end)
			goto unclosed;
		if (*ps->p == ']')
			break;
		if (parse_value(ps, &item) == -1 ||
		    array_push(ps, arr, item) == -1)
			goto fail;
		if (skip_blank(ps) == -1)
			goto fail;
		if (ps->p >= ps->end)
			goto unclosed;
		if (*ps->p == ']')
			break;
		if (*ps->p != ',') {
			perr(ps, "expected ',' or ']' in an array, got %s",
			    show_char(ps, buf));
			goto fail;
		}
	}
	ps->p++;
	*out = arr;
	return 0;
unclosed:
	ps->line = line;
	perr(ps, "array is not closed (missing ']')");
fail:
	toml_free(arr);
	return -1;
}

static int
parse_inline_table(struct parser *ps, struct toml_node **out)
{
	struct toml_node *tbl;
	char buf[16];

	if ((tbl = node_new(ps, TOML_TABLE, F_DEFINED | F_INLINE)) == NULL)
		return -1;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}')
		goto done;
	for (;;) {
		skip_ws(ps);
		if (parse_keyval(ps, tbl) == -1)
			goto fail;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '}')
			break;
		if (ps->p >= ps->end || *ps->p != ',') {
			perr(ps, "expected ',' or '}' in an inline table "
			    "(which must stay on one "
			    "line), got %s", show_char(ps, buf));
			goto fail;
		}
		ps->p++;
	}
done:
	ps->p++;
	*out = tbl;
	return 0;
fail:
	toml_free(tbl);
	return -1;
}

static int
parse_scalar(struct parser *ps, struct toml_node *n)
{
	const char *s = ps->p;
	size_t left = (size_t)(ps->end - ps->p);

	if (*s == '"' || *s == '\'') {
		n->type = TOML_STRING;
		return *s == '"' ? parse_basic_string(ps, &n->str) :
		    parse_literal_string(ps, &n->str);
	}
	if ((left >= 4 && memcmp(s, "true", 4) == 0) ||
	    (left >= 5 && memcmp(s, "false", 5) == 0)) {
		n->type = TOML_BOOLEAN;
		n->integer = *s == 't';
		ps->p += *s == 't' ? 4 : 5;
		return 0;
	}
	if (*s == '+' || *s == '-')
		s++, left--;
	if ((left >= 3 &&
	    (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)))
		return perr(ps, "floating-point numbers are not supported "
		    "(expected an integer)");
	if (left > 0 && *s >= '0' && *s <= '9') {
		n->type = TOML_INTEGER;
		return parse_integer(ps, &n->integer);
	}
	return -2;
}

static int
parse_value(struct parser *ps, struct toml_node **out)
{
	struct toml_node *n;
	char buf[16];
	int rc;

	if (ps->p < ps->end && (*ps->p == '[' || *ps->p == '{')) {
		if (++ps->depth > NEST_MAX)
			return perr(ps, "arrays and inline tables nested too "
			    "deeply");
		rc = *ps->p == '[' ? parse_array(ps, out) :
		    parse_inline_table(ps, out);
		ps->depth--;
		return rc;
	}
	if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' ||
	    *ps->p == '#')
		return perr(ps, "expected a value after '=', got %s",
		    show_char(ps, buf));
	if ((n = node_new(ps, TOML_STRING, 0)) == NULL)
		return -1;
	if ((rc = parse_scalar(ps, n)) == -2)
		perr(ps, "expected a value (a \"string\", an integer, "
		    "true/false, an "
		    "[array] or an {inline table}), got %s",
		    show_char(ps, buf));
	if (rc != 0) {
		toml_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* Table for the dotted-key part i: created here, or one earlier dotted keys
 * made. */
static struct toml_node *
dotted_table(struct parser *ps, struct toml_node *t, const struct keypath *kp,
    size_t i)
{
	const struct toml_entry *ent = toml_find(t, kp->part[i]);
	struct toml_node *n;
	char name[NAME_MAX_LEN];

	if (ent == NULL) {
		if ((n = node_new(ps, TOML_TABLE,
		    F_DEFINED | F_DOTTED)) == NULL)
			return NULL;
		n->line = kp->line;
		return table_add(ps, t, kp->part[i], kp->line, n) == -1 ? NULL :
		    n;
	}
	n = ent->value;
	if (n->type == TOML_TABLE && (n->flags & F_DOTTED) &&
	    !(n->flags & F_INLINE))
		return n;
	ps->line = kp->line;
	perr(ps, "cannot add keys to %s with a dotted key: it is already "
	    "defined on line %d", keypath_name(kp, i + 1, name, sizeof(name)),
	    ent->line);
	return NULL;
}

static int
parse_keyval(struct parser *ps, struct toml_node *table)
{
	struct toml_node *v = NULL, *t = table;
	struct keypath kp = { .n = 0 };
	const struct toml_entry *dup;
	char name[NAME_MAX_LEN], buf[16];
	size_t i;
	int rc = -1;

	if (parse_key(ps, &kp) == -1)
		goto out;
	if (ps->p >= ps->end || *ps->p != '=') {
		perr(ps, "expected '=' after the key %s, got %s",
		    keypath_name(&kp, kp.n, name, sizeof(name)),
		    show_char(ps, buf));
		goto out;
	}
	ps->p++;
	skip_ws(ps);
	if (parse_value(ps, &v) == -1)
		goto out;
	for (i = 0; i + 1 < kp.n; i++)
		if ((t = dotted_table(ps, t, &kp, i)) == NULL)
			goto out;
	if ((dup = toml_find(t, kp.part[kp.n - 1])) != NULL) {
		ps->line = kp.line;
		perr(ps, "duplicate key %s (first defined on line %d)",
		    keypath_name(&kp, kp.n, name, sizeof(name)), dup->line);
		goto out;
	}
	rc = table_add(ps, t, kp.part[kp.n - 1], kp.line, v);
	v = NULL;
out:
	toml_free(v);
	keypath_free(&kp);
	return rc;
}

/* Parent part i of a header path: an existing table, the last table of an array
 * of tables, or a new implicit table that a later header may still define. */
static struct toml_node *
header_parent(struct parser *ps, struct toml_node *t, const struct keypath *kp,
    size_t i)
{
	const struct toml_entry *ent = toml_find(t, kp->part[i]);
	struct toml_node *n;
	char name[NAME_MAX_LEN];

	if (ent == NULL) {
		if ((n = node_new(ps, TOML_TABLE, 0)) == NULL)
			return NULL;
		return table_add(ps, t, kp->part[i], ps->line, n) == -1 ? NULL :
		    n;
	}
	n = ent->value;
	keypath_name(kp, i + 1, name, sizeof(name));
	if (n->type == TOML_TABLE && !(n->flags & F_INLINE))
		return n;
	if (n->type == TOML_ARRAY && (n->flags & F_AOT) && n->n > 0)
		return n->items[n->n - 1];
	if (n->flags & F_INLINE)
		perr(ps, "cannot add to %s: an inline %s is complete as "
		    "written (line %d)", name,
		    n->type == TOML_TABLE ? "table" : "array", ent->line);
	else
		perr(ps, "cannot use %s as a table: it is already %s (line %d)",
		    name, toml_type_name(n), ent->line);
	return NULL;
}

static int
open_array_table(struct parser *ps, struct toml_node *parent,
    const struct keypath *kp)
{
	const char *last = kp->part[kp->n - 1];
	const struct toml_entry *ent = toml_find(parent, last);
	struct toml_node *arr, *t;
	char name[NAME_MAX_LEN];

	keypath_name(kp, kp->n, name, sizeof(name));
	if (ent == NULL) {
		if ((arr = node_new(ps, TOML_ARRAY, F_AOT)) == NULL ||
		    table_add(ps, parent, last, ps->line, arr) == -1)
			return -1;
	} else if (ent->value->type == TOML_ARRAY &&
	    (ent->value->flags & F_AOT)) {
		arr = ent->value;
	} else {
		return perr(ps, "cannot define [[%s]]: %s is already %s (line "
		    "%d)", name, name, toml_type_name(ent->value), ent->line);
	}
	if ((t = node_new(ps, TOML_TABLE, F_DEFINED)) == NULL ||
	    array_push(ps, arr, t) == -1)
		return -1;
	ps->cur = t;
	return 0;
}

static int
open_table(struct parser *ps, const struct keypath *kp, int array)
{
	struct toml_node *t = ps->root, *n;
	const struct toml_entry *ent;
	char name[NAME_MAX_LEN];
	size_t i;

	for (i = 0; i + 1 < kp->n; i++)
		if ((t = header_parent(ps, t, kp, i)) == NULL)
			return -1;
	if (array)
		return open_array_table(ps, t, kp);
	keypath_name(kp, kp->n, name, sizeof(name));
	if ((ent = toml_find(t, kp->part[kp->n - 1])) == NULL) {
		if ((n = node_new(ps, TOML_TABLE, F_DEFINED)) == NULL ||
		    table_add(ps, t, kp->part[kp->n - 1], ps->line, n) == -1)
			return -1;
		ps->cur = n;
		return 0;
	}
	n = ent->value;
	if (n->type == TOML_TABLE && !(n->flags & (F_DEFINED | F_INLINE))) {
		n->flags |= F_DEFINED;
		n->line = ps->line;
		ps->cur = n;
		return 0;
	}
	if (n->type == TOML_TABLE)
		return perr(ps, "table [%s] is defined twice (first on line "
		    "%d)", name, n->line);
	return perr(ps, "cannot define table [%s]: %s is already %s (line %d)",
	    name, name, toml_type_name(n), ent->line);
}

/* [a.b] or [[a.b]] */
static int
parse_header(struct parser *ps)
{
	struct keypath kp = { .n = 0 };
	int array, rc = -1;
	char buf[16];

	ps->p++;
	array = ps->p < ps->end && *ps->p == '[';
	if (array)
		ps->p++;
	skip_ws(ps);
	if (parse_key(ps, &kp) == -1)
		goto out;
	if (ps->p >= ps->end || *ps->p != ']' ||
	    (array && (ps->end - ps->p < 2 || ps->p[1] != ']'))) {
		perr(ps, "bad table header: expected '%s' after the name, got "
		    "%s", array ? "]]" : "]", show_char(ps, buf));
		goto out;
	}
	ps->p += array ? 2 : 1;
	rc = open_table(ps, &kp, array);
out:
	keypath_free(&kp);
	return rc;
}

static int
parse_document(struct parser *ps)
{
	char c;

	while (ps->p < ps->end) {
		skip_ws(ps);
		if (ps->p >= ps->end)
			break;
		c = *ps->p;
		if (c == '[') {
			if (parse_header(ps) == -1 ||
			    end_of_line(ps, "the table header") == -1)
				return -1;
		} else if (c == '#' || c == '\n' || c == '\r') {
			if (end_of_line(ps, "the comment") == -1)
				return -1;
		} else if (parse_keyval(ps, ps->cur) == -1 ||
		    end_of_line(ps, "the value") == -1) {
			return -1;
		}
	}
	return 0;
}

struct toml_node *
toml_parse(const char *text, size_t len, const char *filename, struct err *e)
{
	struct parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.p = text;
	ps.end = text + len;
	ps.file = filename != NULL ? filename : "<config>";
	ps.line = 1;
	ps.e = e;
	if (check_utf8(&ps) == -1)
		return NULL;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;	/* a byte-order mark */
	if ((ps.root = node_new(&ps, TOML_TABLE, F_DEFINED)) == NULL)
		return NULL;
	ps.cur = ps.root;
	if (parse_document(&ps) == -1) {
		toml_free(ps.root);
		return NULL;
	}
	return ps.root;
}

void
toml_free(struct toml_node *node)
{
	size_t i;

	if (node == NULL)
		return;
	if (node->str != NULL) {
		explicit_bzero(node->str, strlen(node->str));
		free(node->str);
	}
	for (i = 0; i < node->n; i++) {
		if (node->type == TOML_TABLE) {
			free(node->entries[i].key);
			toml_free(node->entries[i].value);
		} else {
			toml_free(node->items[i]);
		}
	}
	free(node->entries);
	free(node->items);
	free(node);
}

const struct toml_entry *
toml_find(const struct toml_node *table, const char *key)
{
	size_t i;

	if (table == NULL || table->type != TOML_TABLE)
		return NULL;
	for (i = 0; i < table->n; i++)
		if (strcmp(table->entries[i].key, key) == 0)
			return &table->entries[i];
	return NULL;
}

const char *
toml_type_name(const struct toml_node *node)
{
	switch (node->type) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_BOOLEAN:
		return "a boolean";
	case TOML_ARRAY:
		return node->flags & F_AOT ? "an array of tables" : "an array";
	case TOML_TABLE:
		return "a table";
	}
	return "a value";
}
