/* What a config's redundancy policy really gets, for the warnings at load, in
 * `zstor test` and in the log (placement.h). */
#include <stdio.h>
#include <string.h>

#include "placement.h"

int
policy_note(const struct config *cfg, char *msg, size_t len)
{
	struct placement_policy pp;
	struct err e;

	if (config_check_writable(cfg, &e) == 0)
		return POLICY_MET;
	if (placement_policy(cfg, &pp, &e) == 0 && pp.how == PLACED_WRAP) {
		snprintf(msg, len, "%s:%d: redundant_groups: no spread of %u "
		    "shards keeps %u after losing %u group(s) and %u "
		    "backend(s) in every other group, so stores are placed as "
		    "upstream places this policy (through its unsigned wrap): "
		    "an object survives the loss of any %u backends, but of "
		    "only %u whole group(s); to get the policy, add groups or "
		    "backends, or lower redundant_groups/redundant_nodes",
		    cfg->path != NULL ? cfg->path : "<config>",
		    cfg->line.redundant_groups, cfg->expected_shards,
		    cfg->minimal_shards, cfg->redundant_groups,
		    cfg->redundant_nodes,
		    cfg->expected_shards - cfg->minimal_shards,
		    pp.worst_groups);
		return POLICY_AS_UPSTREAM;
	}
	/* config_check_writable's message says why; placement's adds
	 * nothing. */
	config_check_writable(cfg, &e);
	snprintf(msg, len, "every store will fail with this config: %s", e.msg);
	return POLICY_UNPLACEABLE;
}
