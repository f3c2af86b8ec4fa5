/* Redundancy-aware choice of the backends for one object (upstream's shard_stores,
 * fixed): which groups, how many shards each, which backends. */
#ifndef PLACEMENT_H
#define PLACEMENT_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct bref {
	unsigned group;		/* index into cfg->groups */
	unsigned backend;	/* index into cfg->groups[group].backends */
};

/* Picks cfg->expected_shards distinct backends; shard i goes to out[i].
 * excluded, when non-NULL, is indexed like the flattened group list
 * (group 0's backends first) and marks backends that must not be used.
 * Errors say why no distribution satisfies the redundancy settings. */
int placement_pick(const struct config *cfg, const unsigned char *excluded,
    struct bref *out, struct err *e);

/* Index of (group, backend) in the flattened list. */
size_t placement_flat_index(const struct config *cfg, struct bref r);

#endif
