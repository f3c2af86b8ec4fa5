/* Metadata keys: the BLAKE2b-128 of a file's cleaned path, as upstream
 * computes them. */
#ifndef META_KEY_H
#define META_KEY_H

#include <stddef.h>

#include "err.h"

/* Lexical cleaning as Go's path.Clean / Rust path-clean: collapse //, drop .,
 * resolve .. lexically; "" becomes "."; never touches the filesystem. */
void	path_clean(const char *in, char *out, size_t outlen);
/* "/" prefix "/meta/" hex(BLAKE2b-128(hashed)); hashed = cleaned path,
 * relative to the cleaned root when root is non-NULL ("" when equal to root).
 * Fails when the path is not under root. out must hold at least
 * strlen(prefix) + 40 bytes. */
int	meta_key(const char *prefix, const char *root, const char *path,
	    char *out, size_t outlen, struct err *e);

#endif
