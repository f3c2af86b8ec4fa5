/* zdbd-double: a stand-in for a 0-db v2.0.7 server, for tests. It replies byte
 * for byte like 0-db for the commands it supports, keeps what 0-db keeps across
 * a restart (in a journal in its data directory), and can be told to misbehave
 * (XFAULT) so tests can watch zstor cope with slow, full, read-only,
 * corrupting, frozen or dead backends.
 *
 * Modules: resp.c (request parser, reply writers), store.c (namespaces and
 * keys), journal.c (persistence), cmd_data.c, cmd_ns.c and cmd_report.c
 * (command handlers), commands.c (dispatch table, faults), server.c (event loop
 * and connections), client.c (one-shot client mode), main.c (flags). */
#ifndef ZDBD_H
#define ZDBD_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZDBD_MAX_PAYLOAD	(8u * 1024 * 1024)	/* per RESP argument, as
							 * 0-db */
#define ZDBD_MAX_ARGS		1024
#define ZDBD_MAX_KEY		255
#define ZDBD_MAX_NSNAME		128
#define ZDBD_MAX_NSSET_VALUE	63
#define ZDBD_MAX_SELECT_PASS	255
#define ZDBD_SEQ_KEY		8	/* seq ids are little-endian uint64 */
/* 0-db returns what fits in a 2 ms slice; a small fixed batch makes every test
 * with more than a handful of keys walk several SCAN cursors. */
#define ZDBD_SCAN_BATCH		32
#define ZDBD_CURSOR_LEN		17	/* same length as 0-db's index_bkey_t
					 * cursor */

struct evbuffer;

/* ---- resp.c ---- */

enum req_state { REQ_ARRAY, REQ_ARGLEN, REQ_ARGDATA };

struct request {
	enum req_state	 state;
	int		 argc;		/* announced by "*N" */
	int		 have;		/* arguments complete so far */
	size_t		 need;		/* length of the argument being read */
	uint8_t		*argv[ZDBD_MAX_ARGS];
	size_t		 argl[ZDBD_MAX_ARGS];
};

enum parse_result {
	PARSE_MORE,		/* wait for more bytes */
	PARSE_DONE,		/* a whole request is in the struct */
	PARSE_SKIP,		/* an error reply was written; keep reading */
	PARSE_CLOSE		/* an error reply was written; drop the
				 * client */
};

enum parse_result resp_parse(struct request *, struct evbuffer *in,
	    struct evbuffer *out);
void	resp_request_reset(struct request *);

void	reply_status(struct evbuffer *, const char *);
void	reply_error(struct evbuffer *, const char *);
void	reply_int(struct evbuffer *, long long);
void	reply_bulk(struct evbuffer *, const void *, size_t);
void	reply_bulk_str(struct evbuffer *, const char *);
void	reply_nil(struct evbuffer *);
void	reply_array(struct evbuffer *, size_t);

/* ---- store.c ---- */

enum ns_mode { NS_USERKEY, NS_SEQUENTIAL };

/* 0-db's one lock state: lock and freeze replace each other, and unlocking
 * either one lifts both. */
enum ns_lock { NS_UNLOCKED, NS_READ_ONLY, NS_FROZEN };

struct entry {
	uint8_t		*key;
	size_t		 keylen;
	uint8_t		*val;
	size_t		 vallen;
	uint64_t	 serial;	/* write order; SCAN cursors carry its
					   low 32 bits, plenty for a test
					   server */
	size_t		 slot;		/* index in the namespace's log */
	uint32_t	 ts;
	struct entry	*hnext;
};

/* A place in the write order; e is NULL once the key was deleted or moved
 * on. */
struct logslot {
	uint64_t	 serial;
	struct entry	*e;
};

struct ns {
	char		*name;
	char		 password[ZDBD_MAX_NSSET_VALUE + 1];
	int		 has_password;
	int		 public;
	int		 worm;
	enum ns_lock	 lock;		/* not kept, as in 0-db */
	enum ns_mode	 mode;
	uint64_t	 maxsize;	/* 0 = unlimited */
	uint64_t	 data_size;	/* payload bytes of live keys */
	uint64_t	 index_size;	/* what 0-db's index would hold for
					 * them */
	uint64_t	 data_offset;	/* what 0-db's data file would hold */
	uint64_t	 next_id;	/* seq: next id; user: entries ever
					 * created */
	uint64_t	 next_serial;
	size_t		 entries;
	int		 used;		/* mode may change only while unused */

	struct entry   **buckets;
	size_t		 nbuckets;
	/* Write order, sorted by serial, with holes left by deletes and
	 * moves. */
	struct logslot	*log;
	size_t		 loglen;
	size_t		 logcap;
	size_t		 holes;

	TAILQ_ENTRY(ns)	 link;
};
TAILQ_HEAD(ns_list, ns);

struct ns	*ns_create(const char *name, enum ns_mode);
void		 ns_destroy(struct ns *);
struct entry	*ns_lookup(const struct ns *, const uint8_t *, size_t);
/* A SET that 0-db would write (the caller checked the rules): inserts or
 * replaces, and counts the id and the data file bytes it uses up. An update
 * moves the key to the end of the write order in userkey namespaces and keeps
 * its place in sequential ones, as 0-db does. NULL: out of memory. */
struct entry	*ns_set(struct ns *, const uint8_t *, size_t,
		    const uint8_t *, size_t, uint32_t);
/* A DEL: the key goes, and 0-db's deletion record is counted. */
void		 ns_del(struct ns *, struct entry *);
/* NSSET of a property 0-db keeps (mode, password, public, worm, maxsize),
 * value already checked. */
void		 ns_setprop(struct ns *, const char *prop,
		    const char *value);
/* First live slot at or after the one following cursor serial 'after'. */
size_t		 ns_scan_start(const struct ns *, int have_cursor,
		    uint64_t after);

void		 le_put(uint8_t *, uint64_t, int);
uint64_t	 le_get(const uint8_t *, int);
uint32_t	 fnv1a32(const uint8_t *, size_t);

/* ---- commands.c / cmd_data.c / cmd_ns.c ---- */

enum fault {
	FAULT_NONE, FAULT_HANG, FAULT_SLOW, FAULT_FULL, FAULT_READONLY,
	FAULT_CORRUPT, FAULT_DOWN,
	FAULT_LOSTREPLY,	/* writes happen, then the connection drops
				   before the reply: an outcome unknown */
	FAULT_CHOP		/* replies go out in pieces, cut in a bulk
				   string's header or its final CRLF */
};

/* What a connection carries between commands. */
struct session {
	struct ns		*ns;	/* NULL once another client deleted
					 * it */
	int			 writable;
	TAILQ_ENTRY(session)	 link;
};
TAILQ_HEAD(session_list, session);

struct zdbd {
	struct ns_list		 spaces;
	struct session_list	 sessions;
	int			 fixed_mode;	/* -1: mixed, else an ns_mode */
	const char		*datadir;
	const char		*indexdir;
	int			 journal;	/* fd, append-only */
	uint64_t		 journal_len;	/* end of whole records */
	int			 sync;		/* fdatasync each */
	enum fault		 fault;
	unsigned		 fault_ms;
	time_t			 boot;
	uint32_t		 instance_id;
	uint64_t		 clients_lifetime;
	uint64_t		 commands_executed;
};

/* One command being run: its arguments and where the reply goes. */
struct call {
	struct zdbd	*srv;
	struct session	*sess;
	int		 argc;
	uint8_t	       **argv;
	size_t		*argl;
	struct evbuffer	*out;
};

enum cmd_result { CMD_NEXT, CMD_CLOSE, CMD_DOWN };

enum cmd_result	 cmd_dispatch(struct call *);
int		 cmd_is_fault_control(const uint8_t *, size_t);
int		 fault_parse(const char *mode, const char *arg, enum fault *,
		    unsigned *);
struct ns	*zdbd_find_ns(struct zdbd *, const uint8_t *, size_t);
struct ns	*zdbd_ns_new(struct zdbd *, const char *);
void		 zdbd_ns_del(struct zdbd *, struct ns *);

enum cmd_result	 cmd_ping(struct call *);
enum cmd_result	 cmd_set(struct call *);
enum cmd_result	 cmd_get(struct call *);
enum cmd_result	 cmd_mget(struct call *);
enum cmd_result	 cmd_del(struct call *);
enum cmd_result	 cmd_exists(struct call *);
enum cmd_result	 cmd_length(struct call *);
enum cmd_result	 cmd_keytime(struct call *);
enum cmd_result	 cmd_dbsize(struct call *);
enum cmd_result	 cmd_scan(struct call *);
enum cmd_result	 cmd_time(struct call *);
enum cmd_result	 cmd_info(struct call *);

enum cmd_result	 cmd_nsnew(struct call *);
enum cmd_result	 cmd_nsdel(struct call *);
enum cmd_result	 cmd_nslist(struct call *);
enum cmd_result	 cmd_nsset(struct call *);
enum cmd_result	 cmd_nsinfo(struct call *);
enum cmd_result	 cmd_select(struct call *);
enum cmd_result	 cmd_auth(struct call *);

/* ---- journal.c ---- */

/* What 0-db keeps across a restart, one record per change. */
enum jrec { J_NSNEW = 1, J_NSDEL, J_NSSET, J_SET, J_DEL };

/* Creates the data and index directories, locks and replays the journal:
 * exits, saying why, when it cannot. */
void	journal_open(struct zdbd *);
/* Appends one record (ns: the namespace; b, c: key and value, or property
 * and value) before the change is made and answered. -1: not written (the
 * disk is full, say); the change must then be refused. */
int	journal_add(struct zdbd *, enum jrec, const char *ns, const void *b,
	    size_t bl, const void *c, size_t cl, uint32_t ts);

/* ---- server.c ---- */

struct server_opts {
	const char	*listen;
	int		 port;
	const char	*socket_path;
	const char	*pidfile;
};

int	server_run(struct zdbd *, const struct server_opts *);

/* ---- client.c ---- */

int	client_main(int argc, char **argv);

#endif
