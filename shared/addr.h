/* Backend addresses: 0-db over TCP or a unix socket, and local directories.
 * A backend is the whole triple (address, namespace, password). */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum addr_kind {
	ADDR_IP4,	/* a.b.c.d:port */
	ADDR_IP6,	/* [v6]:port */
	ADDR_UNIX,	/* unix:/path  (0-db on a unix socket; our extension) */
	ADDR_DIR,	/* dir:/path (local directory backend; our extension) */
};

#define ADDR_PATH_MAX	256

struct zaddr {
	enum addr_kind	 kind;
	uint8_t		 ip[16];		/* 4 bytes used for ADDR_IP4 */
	uint16_t	 port;
	char		 path[ADDR_PATH_MAX];	/* ADDR_UNIX, ADDR_DIR */
};

/* One backend as configured and as recorded in metadata ("ci" upstream).
 * ns and password are NULL when absent. */
struct backend_ci {
	struct zaddr	 addr;
	char		*ns;
	char		*password;
};

/* "1.2.3.4:9900", "[::1]:9900", "unix:/run/zdb.sock", "dir:/srv/disk1". */
int	zaddr_parse(const char *s, struct zaddr *a, struct err *e);
/* Rust SocketAddr Display for IPs ("[::1]:9900"); "unix:/p", "dir:/p"
 * otherwise. */
void	zaddr_format(const struct zaddr *a, char *out, size_t len);
int	zaddr_equal(const struct zaddr *a, const struct zaddr *b);

/* Identity is the whole triple (address, namespace, password). */
int	ci_equal(const struct backend_ci *a, const struct backend_ci *b);
/* A deep copy. */
int	ci_copy(struct backend_ci *dst, const struct backend_ci *src);
void	ci_free(struct backend_ci *ci);
/* "address/namespace" ("default" when absent), for messages and logs. */
void	ci_name(const struct backend_ci *ci, char *out, size_t len);

#endif
