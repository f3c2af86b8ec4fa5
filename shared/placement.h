/* Redundancy-aware choice of the backends for one object (upstream's
 * shard_stores, fixed): which groups, how many shards each, which backends. */
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

/* How placement places a config's policy (no backend excluded). */
enum { PLACED_NONE, PLACED_SIGNED, PLACED_WRAP };

struct placement_policy {
	int how;
	/* PLACED_WRAP: the whole groups every placement survives losing (the
	 * fullest first); any N - M backends are always survived. */
	unsigned worst_groups;
};

/*
 * PLACED_SIGNED: some spread survives the policy's losses, and placement draws
 * among those.  PLACED_WRAP: none does, but upstream places it anyway through
 * its unsigned wrap (its README policy, 10 of 15 with one group and one node
 * redundant, is one); placement then places it the same way.  PLACED_NONE:
 * neither, every store fails: returns -1 and e says why.
 */
int placement_policy(const struct config *cfg, struct placement_policy *pp,
    struct err *e);

enum { POLICY_MET, POLICY_AS_UPSTREAM, POLICY_UNPLACEABLE };

/* POLICY_MET: nothing to say.  Otherwise msg is the warning: the losses the
 * placement really survives (POLICY_AS_UPSTREAM), or why every store fails. */
int policy_note(const struct config *cfg, char *msg, size_t len);

/* Index of (group, backend) in the flattened list. */
size_t placement_flat_index(const struct config *cfg, struct bref r);

#endif
