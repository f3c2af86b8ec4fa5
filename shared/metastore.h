/* The metadata store: four user-key backends holding each object's metadata as
 * 2+2 Reed-Solomon shards. Reads need any 2 valid shards, whatever the other
 * backends do; writes need all 4 backends (upstream refuses stores otherwise).
 *
 * An update is all-or-nothing to readers (metastore_replace): the values that
 * were there are read first; the new ones go to all four; when a write fails,
 * the old values are put back wherever the new one may have landed. Two values
 * of one record are needed to read it, so a record on at most one backend is
 * invisible: the old record is what readers see. Only when the new record may
 * sit on two or more backends after the roll-back failed is the outcome in
 * doubt, and then both records are complete: nothing of either is deleted. */
#ifndef METASTORE_H
#define METASTORE_H

#include "config.h"
#include "err.h"
#include "meta.h"
#include "pool.h"

struct metastore {
	const struct config *cfg;
	struct pool *pool;
};

/* How a metadata update ended. */
enum meta_outcome {
	META_COMMITTED,		/* the new record is on all 4 backends */
	META_ROLLED_BACK,	/* failed; readers see the record that was
				 * there */
	META_IN_DOUBT,		/* failed; readers may see either record */
};

void metastore_init(struct metastore *ms, const struct config *cfg,
    struct pool *pool);
/* 0 when all 4 metadata backends are reachable; -1 naming the dead ones. */
int metastore_writable(struct metastore *ms, struct err *e);
/* 0 found (m filled), 1 no metadata, -1 error (e.g. too few backends
 * answered). */
int metastore_load(struct metastore *ms, const char *key, struct metadata *m,
    struct err *e);
/* metastore_load that also tells whether all 4 backends hold the same value
 * (*settled): otherwise a failed update or a replaced backend left them apart,
 * and saving the record again settles them. */
int metastore_load_state(struct metastore *ms, const char *key,
    struct metadata *m, int *settled, struct err *e);
/* Writes m under key, all-or-nothing to readers (see above). With base, only
 * replaces that record (a rebuild): if the record changed meanwhile nothing is
 * written. On failure *drop holds the pieces of m that no reader can reach
 * (those not in the record readers see) when *how is META_ROLLED_BACK, and
 * nothing otherwise; the caller deletes them. Free drop with meta_free. */
int metastore_replace(struct metastore *ms, const char *key,
    const struct metadata *m, const struct metadata *base,
    enum meta_outcome *how, struct metadata *drop, struct err *e);
/* A batch (metastore_batch): requests on different keys whose round trips
 * are shared. */
enum meta_req_kind {
	META_REQ_GET,		/* as metastore_load_state */
	META_REQ_PUT,		/* as metastore_replace */
};
struct meta_req {
	enum meta_req_kind	 kind;
	const char		*key;
	const struct metadata	*put;		/* PUT: the record ... */
	const struct metadata	*base;		/* ... only over this one */
	/* results: rc as the function the kind names, err with rc -1 */
	int			 rc;
	struct err		 err;
	struct metadata		 meta;		/* GET, rc 0: meta_free it */
	int			 settled;	/* GET */
	enum meta_outcome	 how;		/* PUT */
	struct metadata		 drop;		/* PUT: meta_free it */
};
#define META_BATCH_MAX	8
/* Each of reqs[0..n) as its own call would do it, and with the same result,
 * in two round trips for them all: the GETs of every key, pipelined on each
 * backend, then the SETs of every put. The keys must differ (a later request
 * on a key must see what an earlier one did: another batch). */
void metastore_batch(struct metastore *ms, struct meta_req *reqs, size_t n);
/* Every record the four values under key decode to: after a failed update they
 * may hold two (see above), and each counts for what it references. *stray
 * counts the values that belong to no decodable record and are not even a valid
 * value (corrupt), and the valid ones left over when two or more are (they may
 * be a record that did not open); the one lone valid value of a record no
 * reader can open (an update that landed on one backend only) is not counted.
 * 0 with recs
 * (meta_free each), 1 when no backend holds the key, -1 when not all 4 backends
 * answered. */
#define META_EVERY_MAX	6	/* pairs of 4 values */
int metastore_load_every(struct metastore *ms, const char *key,
    struct metadata recs[META_EVERY_MAX], size_t *nrecs, int *stray,
    struct err *e);
/* Key of a path (lexical cleaning, virtual root), as in meta_key. */
int metastore_key(struct metastore *ms, const char *path, char *key,
    size_t keylen, struct err *e);

#endif
