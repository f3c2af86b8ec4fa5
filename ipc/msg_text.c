/* Lexical strictness for incoming JSON. cJSON accepts some things JSON does not
 * (leading zeros, "1."), does not validate UTF-8, cuts a string at \u0000 and
 * keeps both members of a duplicated key; a message that depends on any of
 * these would mean different things to different readers, so we refuse it. */
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "msg_impl.h"

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int
msg_utf8_check(const char *s, size_t len, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] == 0)
			return err_set(e, "string holds a NUL character");
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq_len(p + i, len - i)) == 0)
			return err_set(e, "invalid UTF-8 at byte %zu", i);
		i += n;
	}
	return 0;
}

/* One escape sequence at s[*i] (the backslash). */
static int
scan_escape(const unsigned char *s, size_t len, size_t *i, struct err *e)
{
	unsigned v = 0;
	size_t k;
	int d;

	if (*i + 1 >= len)
		return err_set(e, "unterminated string");
	if (s[*i + 1] != '\0' && strchr("\"\\/bfnrt", s[*i + 1]) != NULL) {
		*i += 2;
		return 0;
	}
	if (s[*i + 1] != 'u')
		return err_set(e, "bad escape \\%c at byte %zu", s[*i + 1], *i);
	if (*i + 6 > len)
		return err_set(e, "unterminated \\u escape at byte %zu", *i);
	for (k = 2; k < 6; k++) {
		if ((d = hex_digit(s[*i + k])) < 0)
			return err_set(e, "bad \\u escape at byte %zu", *i);
		v = v << 4 | (unsigned)d;
	}
	if (v == 0)
		return err_set(e, "string holds a NUL character (\\u0000) at "
		    "byte %zu", *i);
	*i += 6;
	return 0;
}

/* A string starting at s[*i] (the opening quote); leaves *i past the close. */
static int
scan_string(const unsigned char *s, size_t len, size_t *i, struct err *e)
{
	size_t n;

	(*i)++;
	while (*i < len) {
		if (s[*i] == '"') {
			(*i)++;
			return 0;
		}
		if (s[*i] == '\\') {
			if (scan_escape(s, len, i, e) == -1)
				return -1;
		} else if (s[*i] < 0x20) {
			return err_set(e, "%s 0x%02x in a string at byte %zu",
			    s[*i] ? "control character" : "NUL byte", s[*i],
			    *i);
		} else if (s[*i] < 0x80) {
			(*i)++;
		} else if ((n = utf8_seq_len(s + *i, len - *i)) == 0) {
			return err_set(e,
			    "invalid UTF-8 in a string at byte %zu", *i);
		} else
			*i += n;
	}
	return err_set(e, "unterminated string");
}

static size_t
skip_digits(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && is_digit(s[i]))
		i++;
	return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing number-like
 * after. */
static int
scan_number(const unsigned char *s, size_t len, size_t *i, struct err *e)
{
	size_t at = *i, j = *i;

	if (j < len && s[j] == '-')
		j++;
	if (j >= len || !is_digit(s[j]))
		goto bad;
	j = s[j] == '0' ? j + 1 : skip_digits(s, len, j);
	if (j < len && s[j] == '.') {
		if (j + 1 >= len || !is_digit(s[j + 1]))
			goto bad;
		j = skip_digits(s, len, j + 1);
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j >= len || !is_digit(s[j]))
			goto bad;
		j = skip_digits(s, len, j);
	}
	if (j < len && s[j] != '\0' && strchr("0123456789.eE+-", s[j]) != NULL)
		goto bad;
	*i = j;
	return 0;
bad:
	return err_set(e, "malformed number at byte %zu", at);
}

int
msg_text_check(const char *json, size_t len, struct err *e)
{
	const unsigned char *s = (const unsigned char *)json;
	size_t i = 0;

	while (i < len) {
		if (s[i] == '"') {
			if (scan_string(s, len, &i, e) == -1)
				return -1;
		} else if (s[i] == '-' || is_digit(s[i])) {
			if (scan_number(s, len, &i, e) == -1)
				return -1;
		} else if (s[i] == 0 || s[i] >= 0x80) {
			return err_set(e,
			    "byte 0x%02x outside a string at byte %zu", s[i],
			    i);
		} else
			i++;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorting keeps a big object from costing n^2 comparisons. */
static int
object_dup_check(const cJSON *obj, struct err *e)
{
	const cJSON *c;
	const char **names;
	size_t n = 0, i;
	int rc = 0;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return 0;
	if ((names = calloc(n, sizeof(*names))) == NULL)
		return err_set(e, "out of memory checking an object");
	for (i = 0, c = obj->child; c != NULL; c = c->next)
		names[i++] = c->string;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			rc = err_set(e, "duplicate key \"%.64s\"", names[i]);
			break;
		}
	free(names);
	return rc;
}

int
msg_dup_check(const cJSON *item, struct err *e)
{
	const cJSON *c;

	if (cJSON_IsObject(item) && object_dup_check(item, e) == -1)
		return -1;
	if (cJSON_IsObject(item) || cJSON_IsArray(item))
		for (c = item->child; c != NULL; c = c->next)
			if (msg_dup_check(c, e) == -1)
				return -1;
	return 0;
}
