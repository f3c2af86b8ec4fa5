/* struct metadata <-> upstream's bincode (legacy config: fixed-width
 * little-endian integers, u64 lengths, u32 enum tags, u8 option tags). The
 * decoder reads data that came off the network: every read is bounds checked
 * and every count is limited before anything is allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "meta.h"

/* Socket address tags: 0 and 1 are upstream's SocketAddr; 2 and 3 are ours. */
#define TAG_V4 0
#define TAG_V6 1
#define TAG_UNIX 2
#define TAG_DIR 3

#define KEY_HEX_LEN 64
/* Smallest encodings, used to refuse counts the remaining bytes cannot hold. */
#define MIN_KEY_BYTES 8		/* u32 tag + u32 id */
#define MIN_SHARD_BYTES 44	/* idx, checksum, key count, v4 address, two
				 * None */

/* ---- encoding ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void
w_put(struct wbuf *w, const void *data, size_t n)
{
	uint8_t *np;
	size_t ncap;

	if (w->failed)
		return;
	if (w->cap - w->len < n) {
		ncap = w->cap ? w->cap : 256;
		while (ncap - w->len < n)
			ncap *= 2;
		if ((np = realloc(w->p, ncap)) == NULL) {
			w->failed = 1;
			return;
		}
		w->p = np;
		w->cap = ncap;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
w_uint(struct wbuf *w, uint64_t v, size_t width)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	w_put(w, b, width);
}

static void
w_string(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	w_uint(w, n, 8);
	w_put(w, s, n);
}

static void
w_opt_string(struct wbuf *w, const char *s)
{
	w_uint(w, s != NULL, 1);
	if (s != NULL)
		w_string(w, s);
}

static int
w_addr(struct wbuf *w, const struct zaddr *a, struct err *e)
{
	switch (a->kind) {
	case ADDR_IP4:
		w_uint(w, TAG_V4, 4);
		w_put(w, a->ip, 4);
		w_uint(w, a->port, 2);
		return 0;
	case ADDR_IP6:
		w_uint(w, TAG_V6, 4);
		w_put(w, a->ip, 16);
		w_uint(w, a->port, 2);
		return 0;
	case ADDR_UNIX:
	case ADDR_DIR:
		if (memchr(a->path, '\0', sizeof(a->path)) == NULL ||
		    a->path[0] == '\0')
			return err_set(e,
			    "metadata: backend path is empty or unterminated");
		w_uint(w, a->kind == ADDR_UNIX ? TAG_UNIX : TAG_DIR, 4);
		w_string(w, a->path);
		return 0;
	}
	return err_set(e, "metadata: unknown address kind %d", (int)a->kind);
}

static int
w_shard(struct wbuf *w, const struct shard_info *s, size_t n, struct err *e)
{
	size_t i;

	w_uint(w, s->idx, 8);
	w_put(w, s->checksum, B2_LEN);
	w_uint(w, s->nkeys, 8);
	for (i = 0; i < s->nkeys; i++) {
		const struct shard_key *k = &s->keys[i];

		if (k->kind == KEY_V1 && k->id <= UINT32_MAX) {
			w_uint(w, KEY_V1, 4);
			w_uint(w, k->id, 4);
		} else if (k->kind == KEY_V2) {
			w_uint(w, KEY_V2, 4);
			w_uint(w, k->id, 8);
		} else
			return err_set(e,
			    "metadata: shard %zu key %zu: kind %d id %llu "
			    "cannot be encoded", n, i, (int)k->kind,
			    (unsigned long long)k->id);
	}
	if (w_addr(w, &s->ci.addr, e) == -1)
		return err_prefix(e, "shard %zu", n);
	w_opt_string(w, s->ci.ns);
	w_opt_string(w, s->ci.password);
	return 0;
}

int
meta_encode(const struct metadata *m, uint8_t **out, size_t *len, struct err *e)
{
	struct wbuf w = { NULL, 0, 0, 0 };
	char keyhex[KEY_HEX_LEN + 1];
	size_t i;

	w_uint(&w, m->data_shards, 8);
	w_uint(&w, m->disposable_shards, 8);
	w_put(&w, m->checksum, B2_LEN);
	w_uint(&w, 0, 4);			/* EncryptionMeta::Aes */
	hex_encode(keyhex, m->key, sizeof(m->key));
	w_string(&w, keyhex);
	w_uint(&w, 0, 4);			/* CompressionMeta::Snappy */
	w_uint(&w, m->nshards, 8);
	for (i = 0; i < m->nshards; i++) {
		if (w_shard(&w, &m->shards[i], i, e) == -1) {
			free(w.p);
			return -1;
		}
	}
	if (w.failed) {
		free(w.p);
		return err_set(e, "metadata: out of memory encoding %zu shards",
		    m->nshards);
	}
	*out = w.p;
	*len = w.len;
	return 0;
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t len, off;
	/* shard being read, -1 outside the shard list */
	long shard;
	struct err *e;
};

/* "shard 2 key count" or "data_shards": names the field in error messages. */
static void
rd_field(const struct rd *r, const char *what, char *buf, size_t n)
{
	if (r->shard >= 0)
		snprintf(buf, n, "shard %ld %s", r->shard, what);
	else
		snprintf(buf, n, "%s", what);
}

static int
rd_truncated(struct rd *r, const char *what)
{
	char f[96];

	rd_field(r, what, f, sizeof(f));
	return err_set(r->e, "metadata: truncated at byte %zu (reading %s)",
	    r->off, f);
}

static int
rd_invalid(struct rd *r, size_t at, const char *what, const char *why)
{
	char f[96];

	rd_field(r, what, f, sizeof(f));
	return err_set(r->e, "metadata: invalid %s at byte %zu: %s", f, at,
	    why);
}

static int
rd_bytes(struct rd *r, void *out, size_t n, const char *what)
{
	if (r->len - r->off < n)
		return rd_truncated(r, what);
	memcpy(out, r->p + r->off, n);
	r->off += n;
	return 0;
}

static int
rd_uint(struct rd *r, uint64_t *v, size_t width, const char *what)
{
	size_t i;

	if (r->len - r->off < width)
		return rd_truncated(r, what);
	*v = 0;
	for (i = 0; i < width; i++)
		*v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += width;
	return 0;
}

/* A u32 enum tag that must be below ntags. */
static int
rd_tag(struct rd *r, uint64_t *tag, uint64_t ntags, const char *what)
{
	char why[64];

	if (rd_uint(r, tag, 4, what) == -1)
		return -1;
	if (*tag >= ntags) {
		snprintf(why, sizeof(why), "tag %llu, expected < %llu",
		    (unsigned long long)*tag, (unsigned long long)ntags);
		return rd_invalid(r, r->off - 4, what, why);
	}
	return 0;
}

/* A u64 element count, limited by max and by what the rest of the input can
 * hold. */
static int
rd_count(struct rd *r, uint64_t *n, uint64_t max, size_t min_each,
    const char *what)
{
	char why[96];

	if (rd_uint(r, n, 8, what) == -1)
		return -1;
	if (*n > max) {
		snprintf(why, sizeof(why), "%llu exceeds the limit of %llu",
		    (unsigned long long)*n, (unsigned long long)max);
		return rd_invalid(r, r->off - 8, what, why);
	}
	if (*n > (r->len - r->off) / min_each) {
		r->off -= 8;
		return rd_truncated(r, what);
	}
	return 0;
}

/* A bincode string as a fresh NUL-terminated copy: UTF-8, no NUL, at most max
 * bytes. */
static int
rd_string(struct rd *r, char **out, size_t max, const char *what)
{
	const uint8_t *s;
	uint64_t n;
	size_t at;

	if (rd_uint(r, &n, 8, what) == -1)
		return -1;
	at = r->off - 8;
	if (n > max)
		return rd_invalid(r, at, what, "string too long");
	if (n > r->len - r->off) {
		r->off = at;
		return rd_truncated(r, what);
	}
	s = r->p + r->off;
	if (memchr(s, '\0', n) != NULL)
		return rd_invalid(r, at, what, "string contains a NUL byte");
	if (!meta_utf8_valid(s, n))
		return rd_invalid(r, at, what, "string is not valid UTF-8");
	if ((*out = malloc(n + 1)) == NULL)
		return err_set(r->e, "metadata: out of memory");
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	r->off += n;
	return 0;
}

static int
rd_opt_string(struct rd *r, char **out, const char *what)
{
	uint64_t tag;

	*out = NULL;
	if (rd_uint(r, &tag, 1, what) == -1)
		return -1;
	if (tag > 1)
		return rd_invalid(r, r->off - 1, what,
		    "option tag is not 0 or 1");
	return tag ? rd_string(r, out, META_MAX_STRING, what) : 0;
}

static int
rd_path_addr(struct rd *r, struct zaddr *a)
{
	size_t at = r->off;
	char *path;

	if (rd_string(r, &path, ADDR_PATH_MAX - 1, "address path") == -1)
		return -1;
	if (path[0] == '\0') {
		free(path);
		return rd_invalid(r, at, "address path", "empty path");
	}
	memcpy(a->path, path, strlen(path) + 1);
	free(path);
	return 0;
}

static int
rd_addr(struct rd *r, struct zaddr *a)
{
	uint64_t tag, port;

	if (rd_tag(r, &tag, 4, "address tag") == -1)
		return -1;
	if (tag == TAG_UNIX || tag == TAG_DIR) {
		a->kind = tag == TAG_UNIX ? ADDR_UNIX : ADDR_DIR;
		return rd_path_addr(r, a);
	}
	a->kind = tag == TAG_V4 ? ADDR_IP4 : ADDR_IP6;
	if (rd_bytes(r, a->ip, tag == TAG_V4 ? 4 : 16, "address ip") == -1 ||
	    rd_uint(r, &port, 2, "address port") == -1)
		return -1;
	a->port = (uint16_t)port;
	return 0;
}

static int
rd_keys(struct rd *r, struct shard_info *s)
{
	uint64_t n, tag, id;
	size_t i;

	if (rd_count(r, &n, META_MAX_KEYS, MIN_KEY_BYTES, "key count") == -1)
		return -1;
	if (n > 0 && (s->keys = calloc(n, sizeof(*s->keys))) == NULL)
		return err_set(r->e, "metadata: out of memory");
	s->nkeys = n;
	for (i = 0; i < n; i++) {
		if (rd_tag(r, &tag, 2, "key tag") == -1 ||
		    rd_uint(r, &id, tag == KEY_V1 ? 4 : 8, "key id") == -1)
			return -1;
		s->keys[i].kind = tag == KEY_V1 ? KEY_V1 : KEY_V2;
		s->keys[i].id = id;
	}
	return 0;
}

static int
rd_shard(struct rd *r, const struct metadata *m, struct shard_info *s)
{
	char why[96];

	if (rd_uint(r, &s->idx, 8, "index") == -1)
		return -1;
	if (s->idx >= m->data_shards + m->disposable_shards) {
		snprintf(why, sizeof(why),
		    "%llu is not below data+disposable shards %llu",
		    (unsigned long long)s->idx,
		    (unsigned long long)(m->data_shards +
		    m->disposable_shards));
		return rd_invalid(r, r->off - 8, "index", why);
	}
	if (rd_bytes(r, s->checksum, B2_LEN, "checksum") == -1 ||
	    rd_keys(r, s) == -1 ||
	    rd_addr(r, &s->ci.addr) == -1 ||
	    rd_opt_string(r, &s->ci.ns, "namespace") == -1 ||
	    rd_opt_string(r, &s->ci.password, "password") == -1)
		return -1;
	return 0;
}

static int
rd_shape(struct rd *r, struct metadata *m)
{
	if (rd_uint(r, &m->data_shards, 8, "data_shards") == -1 ||
	    rd_uint(r, &m->disposable_shards, 8, "disposable_shards") == -1)
		return -1;
	if (m->data_shards < 1 || m->disposable_shards < 1 ||
	    m->data_shards > META_MAX_SHARDS ||
	    m->disposable_shards > META_MAX_SHARDS ||
	    m->data_shards + m->disposable_shards > META_MAX_SHARDS)
		return rd_invalid(r, 0, "shard counts",
		    "need data >= 1, disposable >= 1, "
		    "data + disposable <= 256");
	return 0;
}

/* EncryptionMeta::Aes(key as 64 hex chars), then CompressionMeta::Snappy. */
static int
rd_codecs(struct rd *r, struct metadata *m)
{
	char hex[KEY_HEX_LEN];
	uint64_t tag, n;

	if (rd_tag(r, &tag, 1, "encryption tag") == -1 ||
	    rd_uint(r, &n, 8, "encryption key length") == -1)
		return -1;
	if (n != KEY_HEX_LEN)
		return rd_invalid(r, r->off - 8, "encryption key length",
		    "expected 64 hex characters");
	if (rd_bytes(r, hex, KEY_HEX_LEN, "encryption key") == -1)
		return -1;
	if (hex_decode(m->key, hex, sizeof(m->key)) == -1)
		return rd_invalid(r, r->off - KEY_HEX_LEN, "encryption key",
		    "not a hex string");
	return rd_tag(r, &tag, 1, "compression tag");
}

static int
rd_metadata(struct rd *r, struct metadata *m)
{
	uint64_t n;
	size_t i;

	if (rd_shape(r, m) == -1 ||
	    rd_bytes(r, m->checksum, B2_LEN, "checksum") == -1 ||
	    rd_codecs(r, m) == -1 ||
	    rd_count(r, &n, META_MAX_SHARDS, MIN_SHARD_BYTES,
	    "shard count") == -1)
		return -1;
	if (n > 0 && (m->shards = calloc(n, sizeof(*m->shards))) == NULL)
		return err_set(r->e, "metadata: out of memory");
	m->nshards = n;
	for (i = 0; i < n; i++) {
		r->shard = (long)i;
		if (rd_shard(r, m, &m->shards[i]) == -1)
			return -1;
	}
	return 0;
}

int
meta_decode(const uint8_t *buf, size_t len, struct metadata *m, struct err *e)
{
	struct rd r = { buf, len, 0, -1, e };

	memset(m, 0, sizeof(*m));
	if (rd_metadata(&r, m) == -1) {
		meta_free(m);
		return -1;
	}
	return 0;
}

void
meta_free(struct metadata *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nshards; i++) {
		free(m->shards[i].keys);
		ci_free(&m->shards[i].ci);
	}
	free(m->shards);
	memset(m, 0, sizeof(*m));
}

/* Strict UTF-8 as Rust's str: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
int
meta_utf8_valid(const void *buf, size_t len)
{
	const uint8_t *s = buf;
	size_t i = 0, n, k;
	uint8_t lo, hi;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80, hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			else if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			else if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}
