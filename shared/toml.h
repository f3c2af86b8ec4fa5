/* A small strict TOML reader for the subset zstor configs use: comments, bare
 * and quoted keys, dotted keys, [tables], [[arrays of tables]], basic and
 * literal strings, integers, booleans, inline arrays and inline tables. Floats,
 * dates and multi-line strings are refused with a clear message. The result is
 * a tree whose tables keep their keys in file order with the line each one
 * appeared on. Errors read "FILE:LINE: message". */
#ifndef TOML_H
#define TOML_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_BOOLEAN,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_node;

struct toml_entry {
	char			*key;
	/* where the key (or the header creating it) is */
	int			 line;
	struct toml_node	*value;
};

struct toml_node {
	enum toml_type		 type;
	/* value's line; a table's defining header */
	int			 line;
	unsigned		 flags;	/* parser bookkeeping, see toml.c */
	char			*str;	/* TOML_STRING: UTF-8, no NUL inside */
	/* TOML_INTEGER; TOML_BOOLEAN is 0 or 1 */
	int64_t			 integer;
	/* entries (table) or items (array) */
	size_t			 n, cap;
	struct toml_entry	*entries;	/* TOML_TABLE, in file order */
	struct toml_node	**items;	/* TOML_ARRAY */
};

/* Returns the root table, or NULL with e set. filename only labels errors. */
struct toml_node	*toml_parse(const char *text, size_t len,
	    const char *filename, struct err *e);
/* Frees the tree; string contents are zeroed first, since configs hold keys. */
void	toml_free(struct toml_node *node);
/* The entry for key in a table, or NULL. */
const struct toml_entry	*toml_find(const struct toml_node *table,
	    const char *key);
/* "a string", "an integer", ..., "an array of tables": for "expected X, got
 * Y". */
const char	*toml_type_name(const struct toml_node *node);

#endif
