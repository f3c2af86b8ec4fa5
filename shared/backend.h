/* A backend is one namespace on a 0-db (TCP or unix socket) or a local
 * directory that behaves like one. Data shards live in sequential namespaces,
 * metadata in user-key namespaces. Operations on several backends run in
 * parallel through backend_run, each with a deadline; every error names the
 * backend ("address/namespace") and the operation, and says what to do. */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "meta.h"

/* shards are written in pieces of this */
#define ZDB_PIECE_MAX (2u * 1024 * 1024)
#define ZDB_VALUE_MAX (8u * 1024 * 1024)	/* largest value 0-db accepts */
#define ZDB_TIMEOUT_MS 30000
#define BACKEND_NAME_MAX 512	/* "address/namespace" (ci_name) */

enum ns_mode { NS_SEQUENTIAL, NS_USERKEY };

struct nsinfo {
	char		name[130];
	uint64_t	entries;
	int		public_, password, worm, locked;
	enum ns_mode	mode;
	uint64_t	data_size_bytes;
	uint64_t	data_limits_bytes;	/* 0 = no limit */
	uint64_t	index_size_bytes;
	uint64_t	stats_index_io_errors, stats_index_faults;
	uint64_t	stats_data_io_errors, stats_data_faults;
	uint64_t	index_disk_freespace_bytes;
	uint64_t	data_disk_freespace_bytes;
};

/* Real free space: min(limit - used, disk free); limit 0 = disk free only. */
uint64_t	nsinfo_free_space(const struct nsinfo *ni);
/* status "usage percentage": 100*used/limit, or 100*used/(used+disk free); 0
 * when both are 0. */
unsigned	nsinfo_usage_percent(const struct nsinfo *ni);
/* Parses 0-db's NSINFO text by field name; missing required fields are
 * errors. */
int	nsinfo_parse(const char *text, size_t len, struct nsinfo *ni,
	    struct err *e);

struct backend;

/* Connects, PINGs, reads NSINFO and checks the namespace mode, SELECTs the
 * namespace (with password) when one is configured. A dir: backend creates its
 * namespace directory in the wanted mode on first use. 0-db clients write to
 * sockets that the server may close: the first open sets SIGPIPE to SIG_IGN if
 * it was SIG_DFL. */
struct backend	*backend_open(const struct backend_ci *ci, enum ns_mode want,
	    int timeout_ms, struct err *e);
/* backend_open of n backends at once: 0-dbs connect, PING, read NSINFO and
 * SELECT in parallel. out[i] is NULL, errs[i] saying why, when one fails. */
void	backend_open_many(const struct backend_ci *const *cis, size_t n,
	    enum ns_mode want, int timeout_ms, struct backend **out,
	    struct err *errs);
/* Like backend_open, but a 0-db backend connects (and SELECTs its namespace)
 * only on its first backend_run, so that many connect in parallel under one
 * deadline, and its mode is not checked (read NSINFO). A dir: backend opens at
 * once: it does not wait on a network. */
struct backend	*backend_attach(const struct backend_ci *ci, enum ns_mode want,
	    int timeout_ms, struct err *e);
void	backend_close(struct backend *b);
/* The NSINFO backend_open read (0-db), or NULL (dir: backends read none). */
const struct nsinfo	*backend_open_info(const struct backend *b);
/* For a backend kept from an earlier job: 1 while it still serves, 0 when it
 * must be opened again (a directory removed or replaced at its path). A 0-db
 * connection the server closed is reopened by backend_run itself. */
int	backend_alive(struct backend *b);
/* "address/namespace" */
const char *backend_name(const struct backend *b);
const struct backend_ci	*backend_ci(const struct backend *b);

/* One SCAN batch (see backend_scan). */
struct scan_entry {
	uint8_t		*key;
	size_t		 keylen;
	uint64_t	 size;
	uint64_t	 timestamp;
};
struct scan_batch {
	struct scan_entry	*entries;
	size_t			 n;
	uint8_t			*cursor;
	size_t			 cursorlen;
};

enum bop_kind {
	/* SET "" val -> new key in .newkey (sequential namespaces) */
	BOP_SEQ_SET,
	/* GET key -> .out/.outlen (malloc'd), rc 1 when missing */
	BOP_GET,
	BOP_KEY_SET,	/* SET key val (user-key namespaces) */
	BOP_DEL,	/* DEL key; rc 1 when missing */
	BOP_NSINFO,	/* -> .info */
	BOP_PING,
	BOP_SCAN,	/* SCAN [key] -> .scan; key/keylen is the cursor
			 * (NULL: from the oldest); rc 1 at the end of the
			 * data */
};

/* "refused", "timeout", "wrong password", "wrong mode", "full", ... from a
 * backend's error message; "error" when none fits. */
const char *backend_cause(const char *msg);

/* Set by zstor-master for its workers: the user they run as, for messages
 * about what that user cannot do. */
#define WORKER_USER_ENV "ZSTOR_WORKER_USER"

struct bop {
	struct backend		*b;
	enum bop_kind		 kind;
	/* GET/DEL/KEY_SET; seq keys are 4 or 8 LE bytes */
	const void		*key;
	size_t			 keylen;
	/* SEQ_SET/KEY_SET; at most ZDB_VALUE_MAX */
	const void		*val;
	size_t			 vallen;

	/* results */
	/* 0 ok, 1 not found, -1 error (err says what) */
	int			 rc;
	/* with rc -1: the backend refused the op, so it certainly did not
	 * happen (0: it may have) */
	int			 refused;
	struct shard_key	 newkey;
	uint8_t			*out;
	size_t			 outlen;
	struct nsinfo		 info;
	/* BOP_SCAN; free with scan_batch_free */
	struct scan_batch	 scan;
	struct err		 err;
};

/* Runs every op, ops on different backends in parallel and ops on one backend
 * pipelined in order, until all are answered or timeout_ms passes (those then
 * fail with a timeout error and their connection is reset). Returns the number
 * of ops with rc == -1. A backend whose connection broke reconnects on its next
 * use. */
size_t	backend_run(struct bop *ops, size_t n, int timeout_ms);
/* The monotonic clock the deadlines run on, in milliseconds. */
int64_t	backend_now_ms(void);

/* Encode a seq key the way 0-db expects it in GET/DEL (4 or 8 LE bytes). */
size_t	shard_key_bytes(const struct shard_key *k, uint8_t out[8]);

/* SCAN of a user-key namespace. cursor NULL starts from the oldest key. Fills
 * entries (keys malloc'd) and the next cursor; returns 1 at the end of the data
 * (0-db's "-No more data"), 0 with a batch, -1 on error. */
int	backend_scan(struct backend *b, const uint8_t *cursor, size_t cursorlen,
	    struct scan_batch *out, int timeout_ms, struct err *e);
void	scan_batch_free(struct scan_batch *sb);

#endif
