/* Metadata keys: "/" prefix "/meta/" hex(BLAKE2b-128(path)), where the path is
 * cleaned lexically and taken relative to the virtual root when one is
 * configured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "blake2b.h"
#include "meta.h"
#include "meta_key.h"

/* The cleaned path is never longer than the input, or 1 byte ("."), so the work
 * is done in a buffer of strlen(in) + 2 and copied out truncated if out is
 * smaller. */
static void
clean_into(const char *in, char *w)
{
	size_t n = strlen(in), r = 0, o = 0, dotdot = 0;
	int rooted = in[0] == '/';

	if (rooted)
		w[o++] = '/', r = 1, dotdot = 1;
	while (r < n) {
		if (in[r] == '/')
			r++;
		else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/'))
			r++;
		else if (in[r] == '.' && in[r + 1] == '.' &&
		    (r + 2 == n || in[r + 2] == '/')) {
			r += 2;
			if (o > dotdot) {
				/* drop the last element */
				for (o--; o > dotdot && w[o] != '/'; o--)
					;
			} else if (!rooted) {
				/* a leading ".." of a relative path stays */
				if (o > 0)
					w[o++] = '/';
				w[o++] = '.', w[o++] = '.';
				dotdot = o;
			}
		} else {
			if ((rooted && o != 1) || (!rooted && o != 0))
				w[o++] = '/';
			for (; r < n && in[r] != '/'; r++)
				w[o++] = in[r];
		}
	}
	if (o == 0)
		w[o++] = '.';
	w[o] = '\0';
}

void
path_clean(const char *in, char *out, size_t outlen)
{
	char *w;

	if (outlen == 0)
		return;
	if ((w = malloc(strlen(in) + 2)) == NULL) {
		out[0] = '\0';
		return;
	}
	clean_into(in, w);
	strlcpy(out, w, outlen);
	free(w);
}

/* Component-wise strip of root from path (both clean). NULL when path is not
 * under root. */
static const char *
strip_root(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/' ? path + 1 : NULL;
	if (strncmp(path, root, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	return path[n] == '/' ? path + n + 1 : NULL;
}

static int
key_of(const char *prefix, const char *hashed, char *out, size_t outlen,
    struct err *e)
{
	uint8_t sum[B2_LEN];
	char hex[2 * B2_LEN + 1];
	int n;

	if (!meta_utf8_valid(hashed, strlen(hashed)))
		return err_set(e, "could not interpret path as utf-8 str");
	b2_hash(hashed, strlen(hashed), sum);
	hex_encode(hex, sum, B2_LEN);
	n = snprintf(out, outlen, "/%s/meta/%s", prefix, hex);
	if (n < 0 || (size_t)n >= outlen)
		return err_set(e,
		    "metadata key for prefix %s does not fit %zu bytes", prefix,
		    outlen);
	return 0;
}

int
meta_key(const char *prefix, const char *root, const char *path, char *out,
    size_t outlen, struct err *e)
{
	char *cpath, *croot = NULL;
	const char *hashed;
	int rc = -1;

	cpath = malloc(strlen(path) + 2);
	if (root != NULL)
		croot = malloc(strlen(root) + 2);
	if (cpath == NULL || (root != NULL && croot == NULL)) {
		err_set(e, "metadata key: out of memory");
		goto out;
	}
	clean_into(path, cpath);
	hashed = cpath;
	if (root != NULL) {
		clean_into(root, croot);
		if ((hashed = strip_root(cpath, croot)) == NULL) {
			err_set(e, "attempting to access file %s which is not "
			    "in the file "
			    "tree rooted at %s", path, root);
			goto out;
		}
	}
	rc = key_of(prefix, hashed, out, outlen, e);
out:
	free(cpath);
	free(croot);
	return rc;
}
