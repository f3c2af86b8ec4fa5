/* The health table: the state of every data and metadata backend of the
 * config, as the repairer's checks (every 3 s) found it. The master keeps it
 * and uses it: encoders get only reachable backends as candidates, stores
 * are refused while a metadata backend is down, and `zstor status` and the
 * metrics read it.
 *
 * States, as upstream: Healthy; LowSpace (real free space at most 100 MiB);
 * Unknown since the first failed check; Unreachable once Unknown has lasted
 * 15 minutes (--unreachable-after). Unchecked until the first check.
 *
 * Read-only access for other modules (metrics): health_foreach. */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdint.h>
#include <time.h>

#include "backend.h"
#include "msg.h"

#define HEALTH_UNREACHABLE_SECS	(15 * 60)

enum health_state {
	HEALTH_UNCHECKED,
	HEALTH_HEALTHY,
	HEALTH_LOWSPACE,
	HEALTH_UNKNOWN,
	HEALTH_UNREACHABLE,
};

/* The last error's class: what the operator can do about it. */
enum health_error {
	HERR_NONE,
	HERR_REFUSED,	/* nothing listens, or the connection broke */
	HERR_TIMEOUT,	/* no answer by the deadline (hung, filtered) */
	HERR_PASSWORD,	/* wrong or missing namespace password */
	HERR_MODE,	/* sequential vs user-key */
	HERR_FULL,	/* no space left */
	HERR_OTHER,
};

struct health_entry {
	char			 name[BACKEND_NAME_MAX]; /* addr/ns */
	/* the metrics' labels: "[::1]:9900" (or unix:, dir:), "" for none */
	char			 address[ADDR_PATH_MAX + 16];
	char			 ns[132];
	int			 meta;	/* a metadata backend */
	enum health_state	 state;
	time_t			 since;	/* in this state since */
	time_t			 checked; /* last check, 0: never */
	time_t			 last_ok;	/* 0: never */
	uint64_t		 checks, failures;
	enum health_error	 error;	/* of the last failed check */
	time_t			 error_at;
	char			 error_msg[ERR_MSG_MAX];
	int			 has_info; /* info: the last NSINFO */
	struct nsinfo		 info;
	uint64_t		 free_bytes;	/* real free space */
};

/* Rebuilds the table for the master's current config; entries of backends
 * still configured keep their state. */
int	health_load(void);
/* Sets how long Unknown lasts before Unreachable (seconds). */
void	health_set_unreachable_after(time_t secs);
/* A "health" message from the repairer; -1: malformed (a bug in it). */
int	health_update(const struct msg *m);

/* Calls fn for every entry, metadata backends first, in config order. */
void	health_foreach(void (*fn)(const struct health_entry *, void *),
	    void *arg);
const struct health_entry *health_find(const char *name, int meta);
const char *health_state_name(enum health_state s);
const char *health_error_name(enum health_error e);
/* When the last round of checks came (0: none yet). */
time_t	health_last_round(void);

/* Whether a backend may be given to an encoder: not Unreachable, and not
 * Unknown for a timeout (what a store would wait on). One that refuses
 * connections or fails otherwise answers at once: placement goes around it
 * by itself, and one failed check does not take it out of placement. */
int	health_usable(const struct health_entry *h);
/* 0 unless a metadata backend is unusable (health_usable: unreachable, or
 * failing its checks by timeouts, which a store would wait on); -1 with a
 * message naming them. One that refuses connections is found by the
 * metawriter at once, and one that is back is used at once. */
int	health_meta_writable(char *why, size_t len);
/* The candidates for an encoder: a JSON array of the reachable data
 * backends' names, or NULL when every backend is (or none was checked). */
struct cJSON *health_candidates(void);
/* The table as a JSON array, for a status reply. */
struct cJSON *health_json(void);

#endif
