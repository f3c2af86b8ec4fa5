/* Between placement.c and placement_wrap.c: the draw for policies only
 * upstream's unsigned wrap can place. */
#ifndef PLACEMENT_IMPL_H
#define PLACEMENT_IMPL_H

#include <stddef.h>

#include "err.h"

struct wrap_in {
	size_t ng;		/* usable groups F, in config order */
	const unsigned *avail;	/* their usable backends */
	unsigned n, m, rg, rn;
	unsigned long long max_groups;
	unsigned *count;	/* out: shards per group of F; NULL to only
				 * evaluate */
};

struct wrap_out {
	int placeable;		/* upstream's wrapped check passes some pair */
	unsigned worst_groups;	/* whole groups every such pair survives
				 * losing */
};

/* Uniform in [0, 1). */
long double placement_rand_unit(void);
int placement_wrap_draw(const struct wrap_in *in, struct wrap_out *out,
    struct err *e);

#endif
