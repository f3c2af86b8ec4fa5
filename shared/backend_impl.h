/* Private to the backend modules (backend.c, zdb.c, dirbackend.c): how one kind
 * of backend plugs into backend_open and backend_run. Nothing else includes
 * this. */
#ifndef BACKEND_IMPL_H
#define BACKEND_IMPL_H

#include <stdint.h>

#include "backend.h"


struct backend_impl {
	/* Allocates the implementation's backend (which starts with a struct
	 * backend filled by backend_init), connects and checks the mode. */
	struct backend *(*open)(const struct backend_ci *ci, enum ns_mode want,
	    int timeout_ms, struct err *e);
	/* backend_open of n backends at once; NULL: one after another. */
	void	(*open_many)(const struct backend_ci *const *cis, size_t n,
		    enum ns_mode want, int timeout_ms, struct backend **out,
		    struct err *errs);
	/* NULL: attach opens. Otherwise allocates without connecting: the
	 * first run connects (backend_attach). */
	struct backend *(*attach)(const struct backend_ci *ci,
	    enum ns_mode want, struct err *e);
	void (*close)(struct backend *b);
	/* Whether a backend held from an earlier job still serves (see
	 * backend_alive). */
	int	(*alive)(struct backend *b);
	/* Runs ops, all on backends of this implementation, until every op has
	 * an answer or the monotonic clock reaches deadline_ms. timeout_ms is
	 * only for messages. */
	void	(*run)(struct bop **ops, size_t n, int64_t deadline_ms,
		    int timeout_ms);
};

struct backend {
	const struct backend_impl	*impl;
	struct backend_ci		 ci;	/* deep copy */
	enum ns_mode			 mode;
	/* "address/namespace" */
	char				 name[BACKEND_NAME_MAX];
	/* what NSINFO said when the backend was opened */
	struct nsinfo			 info;
	int				 has_info;
};

extern const struct backend_impl zdb_impl;
extern const struct backend_impl dir_impl;

int	backend_init(struct backend *b, const struct backend_impl *impl,
	    const struct backend_ci *ci, enum ns_mode mode, struct err *e);
void	backend_fini(struct backend *b);
const char *ns_mode_text(enum ns_mode mode);	/* "sequential" or "user-key" */

/* What an op does, for messages: "SET", "GET key 0x0500000000000000". */
void	bop_describe(const struct bop *op, char *out, size_t len);
/* Sets rc -1 and err to "<backend>: <op> failed: <cause>"; returns -1. */
int	bop_fail(struct bop *op, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* bop_fail for an op that certainly did not take effect: refused by the
 * server, or rejected before it was sent. */
int	bop_refuse(struct bop *op, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
