/* Namespaces, held in memory: a hash table finds a key, a log keeps the write
 * order that SCAN walks. The log only grows at its end, so it stays sorted by
 * serial and a cursor (the serial of the last key returned) is found again by
 * binary search, even after that key was deleted or rewritten. The changes
 * here are the ones the journal replays at start-up, so a command and its
 * replay count alike. */
#include <stdlib.h>
#include <string.h>

#include "zdbd.h"

/* What 0-db v2.0.7 reports per live key in NSINFO index_size_bytes. */
#define INDEX_ENTRY_BYTES 64
/* What 0-db v2.0.7 adds to a data file per record, in data_current_offset. */
#define DATA_ENTRY_HEADER 18
#define BUCKETS_INITIAL 64

void
le_put(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t
le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint32_t
fnv1a32(const uint8_t *b, size_t n)
{
	uint32_t h = 0x811c9dc5;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x01000193;
	}
	return h;
}

static uint64_t
key_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct ns *
ns_create(const char *name, enum ns_mode mode)
{
	struct ns *ns;

	if ((ns = calloc(1, sizeof(*ns))) == NULL)
		return NULL;
	ns->name = strdup(name);
	ns->buckets = calloc(BUCKETS_INITIAL, sizeof(*ns->buckets));
	if (ns->name == NULL || ns->buckets == NULL) {
		free(ns->name);
		free(ns->buckets);
		free(ns);
		return NULL;
	}
	ns->nbuckets = BUCKETS_INITIAL;
	ns->public = 1;
	ns->mode = mode;
	return ns;
}

static void
entry_free(struct entry *e)
{
	free(e->key);
	free(e->val);
	free(e);
}

void
ns_destroy(struct ns *ns)
{
	size_t i;

	for (i = 0; i < ns->loglen; i++)
		if (ns->log[i].e != NULL)
			entry_free(ns->log[i].e);
	free(ns->log);
	free(ns->buckets);
	free(ns->name);
	free(ns);
}

struct entry *
ns_lookup(const struct ns *ns, const uint8_t *key, size_t len)
{
	struct entry *e;

	e = ns->buckets[key_hash(key, len) & (ns->nbuckets - 1)];
	for (; e != NULL; e = e->hnext)
		if (e->keylen == len && memcmp(e->key, key, len) == 0)
			return e;
	return NULL;
}

/* Doubles the table once it holds as many keys as buckets; a failed grow only
 * makes chains longer. */
static void
buckets_grow(struct ns *ns)
{
	struct entry **nb, *e, *next;
	size_t n = ns->nbuckets * 2, i, b;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < ns->nbuckets; i++) {
		for (e = ns->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			b = key_hash(e->key, e->keylen) & (n - 1);
			e->hnext = nb[b];
			nb[b] = e;
		}
	}
	free(ns->buckets);
	ns->buckets = nb;
	ns->nbuckets = n;
}

static void
bucket_unlink(struct ns *ns, struct entry *e)
{
	struct entry **pp;

	pp = &ns->buckets[key_hash(e->key, e->keylen) & (ns->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

/* Squeezes out the holes once they are most of the log, so a namespace that is
 * rewritten over and over does not grow without bound. */
static void
log_compact(struct ns *ns)
{
	size_t i, j = 0;

	if (ns->holes <= 64 || ns->holes <= ns->loglen / 2)
		return;

	for (i = 0; i < ns->loglen; i++) {
		if (ns->log[i].e == NULL)
			continue;
		ns->log[j] = ns->log[i];
		ns->log[j].e->slot = j;
		j++;
	}
	ns->loglen = j;
	ns->holes = 0;
}

static int
log_append(struct ns *ns, struct entry *e)
{
	struct logslot *nl;
	size_t cap;

	if (ns->loglen == ns->logcap) {
		cap = ns->logcap ? ns->logcap * 2 : 256;
		if ((nl = reallocarray(ns->log, cap, sizeof(*nl))) == NULL)
			return -1;
		ns->log = nl;
		ns->logcap = cap;
	}
	e->serial = ns->next_serial++;
	e->slot = ns->loglen;
	ns->log[ns->loglen].serial = e->serial;
	ns->log[ns->loglen].e = e;
	ns->loglen++;
	return 0;
}

static struct entry *
entry_insert(struct ns *ns, const uint8_t *key, size_t keylen)
{
	struct entry *e;
	size_t b;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->key = malloc(keylen ? keylen : 1)) == NULL ||
	    log_append(ns, e) == -1) {
		free(e->key);
		free(e);
		return NULL;
	}
	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	if (ns->entries >= ns->nbuckets)
		buckets_grow(ns);
	b = key_hash(key, keylen) & (ns->nbuckets - 1);
	e->hnext = ns->buckets[b];
	ns->buckets[b] = e;
	ns->entries++;
	ns->index_size += INDEX_ENTRY_BYTES + keylen;
	return e;
}

static struct entry *
ns_put(struct ns *ns, const uint8_t *key, size_t keylen, const uint8_t *val,
    size_t vallen, uint32_t ts)
{
	struct entry *e;
	uint8_t *copy;
	size_t old_slot;

	if ((copy = malloc(vallen ? vallen : 1)) == NULL)
		return NULL;
	memcpy(copy, val, vallen);
	log_compact(ns);
	if ((e = ns_lookup(ns, key, keylen)) == NULL) {
		if ((e = entry_insert(ns, key, keylen)) == NULL) {
			free(copy);
			return NULL;
		}
	} else if (ns->mode == NS_USERKEY) {
		old_slot = e->slot;
		if (log_append(ns, e) == -1) {
			free(copy);
			return NULL;
		}
		ns->log[old_slot].e = NULL;
		ns->holes++;
	}
	ns->data_size -= e->vallen;
	free(e->val);
	e->val = copy;
	e->vallen = vallen;
	e->ts = ts;
	ns->data_size += vallen;
	ns->used = 1;
	return e;
}

struct entry *
ns_set(struct ns *ns, const uint8_t *key, size_t keylen, const uint8_t *val,
    size_t vallen, uint32_t ts)
{
	int fresh = ns_lookup(ns, key, keylen) == NULL;
	struct entry *e;

	if ((e = ns_put(ns, key, keylen, val, vallen, ts)) == NULL)
		return NULL;
	if (ns->mode == NS_SEQUENTIAL || fresh)
		ns->next_id++;	/* a seq update uses up an id too */
	ns->data_offset += DATA_ENTRY_HEADER + keylen + vallen;
	return e;
}

void
ns_del(struct ns *ns, struct entry *e)
{
	ns->data_offset += DATA_ENTRY_HEADER + e->keylen;
	bucket_unlink(ns, e);
	ns->log[e->slot].e = NULL;
	ns->holes++;
	ns->entries--;
	ns->data_size -= e->vallen;
	ns->index_size -= INDEX_ENTRY_BYTES + e->keylen;
	entry_free(e);
}

/* Booleans look only at the first character, and maxsize is atoll, garbage
 * meaning 0: both as in 0-db. */
void
ns_setprop(struct ns *ns, const char *prop, const char *value)
{
	if (strcmp(prop, "mode") == 0)
		ns->mode = strcmp(value, "seq") == 0 ? NS_SEQUENTIAL :
		    NS_USERKEY;
	else if (strcmp(prop, "password") == 0) {
		ns->has_password = strcmp(value, "*") != 0;
		strlcpy(ns->password, ns->has_password ? value : "",
		    sizeof(ns->password));
	} else if (strcmp(prop, "public") == 0)
		ns->public = value[0] == '1';
	else if (strcmp(prop, "worm") == 0)
		ns->worm = value[0] == '1';
	else if (strcmp(prop, "maxsize") == 0)
		ns->maxsize = (uint64_t)atoll(value);
}

size_t
ns_scan_start(const struct ns *ns, int have_cursor, uint64_t after)
{
	size_t lo = 0, hi = ns->loglen, mid;

	if (!have_cursor)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ns->log[mid].serial <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
