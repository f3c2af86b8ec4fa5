/* Snappy framing format, as written by upstream's snap::write::FrameEncoder and
 * read by snap::read::FrameDecoder.
 *
 * The encoder gathers input into whole 64 KiB chunks, so the framed bytes
 * depend only on the input and never on how the caller split its writes. Like
 * snap, it stores a chunk uncompressed when compression saves less than an
 * eighth, and it writes the stream identifier only in front of the first chunk
 * (empty in, empty out).
 *
 * The decoder is a small state machine over chunk header, body and skipped
 * bytes, so it accepts the stream in pieces of any size while holding at most
 * one chunk. */
#include <isa-l/crc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "snappy_api.h"
#include "snappy_frame.h"

#define SF_HDR_LEN	4	/* type u8, length u24 LE */
#define SF_CRC_LEN	4
_Static_assert(SF_FRAME_MAX >= SF_HDR_LEN + SF_CRC_LEN + 32 +
    SF_CHUNK_MAX + SF_CHUNK_MAX / 6, "SF_FRAME_MAX is below snappy's bound");

#define SF_T_COMPRESSED		0x00
#define SF_T_UNCOMPRESSED	0x01
#define SF_T_RESERVED_LAST	0x7f	/* 0x02..0x7f: reserved, must be
					 * rejected */
#define SF_T_STREAM_ID		0xff	/* 0x80..0xfe: skippable */

static const uint8_t sf_stream_id[] = {
	SF_T_STREAM_ID, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'
};
#define SF_ID_BODY	(sf_stream_id + SF_HDR_LEN)
#define SF_ID_BODY_LEN	(sizeof(sf_stream_id) - SF_HDR_LEN)

uint32_t
sf_crc32c(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffff;
	int n;

	/* ISA-L takes an int length and no final xor; feed it at most 1 GiB at
	 * a time. */
	while (len > 0) {
		n = len > (1U << 30) ? (1 << 30) : (int)len;
		crc = crc32_iscsi((unsigned char *)(uintptr_t)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc ^ 0xffffffff;
}

uint32_t
sf_mask_crc(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8U;
}

static void
put_le24(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le24(p, v);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* ---- encoder ---- */

struct sf_enc {
	const struct snappy_api *api;
	struct sink	 out;
	uint8_t		*plain;		/* input waiting for a full chunk */
	size_t		 fill;
	uint8_t		*frame;		/* SF_FRAME_MAX: header, CRC, body */
	int		 started;	/* stream identifier written */
	int		 failed;	/* a chunk was lost: refuse to go on */
};

struct sf_enc *
sf_enc_new(const struct sink *out, struct err *e)
{
	const struct snappy_api *api;
	struct sf_enc *enc;

	if ((api = snappy_api(e)) == NULL)
		return NULL;
	if ((enc = calloc(1, sizeof(*enc))) != NULL) {
		enc->api = api;
		enc->out = *out;
		enc->plain = malloc(SF_CHUNK_MAX);
		enc->frame = malloc(SF_FRAME_MAX);
	}
	if (enc == NULL || enc->plain == NULL || enc->frame == NULL) {
		sf_enc_free(enc);
		err_set(e, "out of memory");
		return NULL;
	}
	return enc;
}

void
sf_enc_free(struct sf_enc *enc)
{
	if (enc == NULL)
		return;
	free(enc->plain);
	free(enc->frame);
	free(enc);
}

/* Writes the header and CRC of the chunk of n (1..SF_CHUNK_MAX) plain bytes
 * at src into dst (SF_FRAME_MAX bytes) and the compressed body behind them,
 * *len the frame's length; or, with *stored set, only the header and CRC
 * (*len SF_HDR_LEN + SF_CRC_LEN): the body is then the plain bytes, which
 * the caller appends. */
static int
sf_frame_head(const struct snappy_api *sn, const uint8_t *src, size_t n,
    uint8_t *dst, size_t *len, int *stored, struct err *e)
{
	size_t clen = SF_FRAME_MAX - SF_HDR_LEN - SF_CRC_LEN;

	put_le32(dst + SF_HDR_LEN, sf_mask_crc(sf_crc32c(src, n)));
	if (sn->compress((const char *)src, n,
	    (char *)dst + SF_HDR_LEN + SF_CRC_LEN, &clen) != SNAPPY_OK)
		return err_set(e,
		    "snappy frame: compressing a %zu-byte chunk failed", n);
	/* Same rule as snap: keep the plain bytes unless we save at least
	 * 1/8. */
	if ((*stored = clen >= n - n / 8)) {
		dst[0] = SF_T_UNCOMPRESSED;
		put_le24(dst + 1, SF_CRC_LEN + n);
		*len = SF_HDR_LEN + SF_CRC_LEN;
		return 0;
	}
	dst[0] = SF_T_COMPRESSED;
	put_le24(dst + 1, SF_CRC_LEN + clen);
	*len = SF_HDR_LEN + SF_CRC_LEN + clen;
	return 0;
}

static int
sf_enc_start(struct sf_enc *enc, struct err *e)
{
	if (enc->started)
		return 0;
	enc->started = 1;
	return sink_write(&enc->out, sf_stream_id, sizeof(sf_stream_id), e);
}

/* Frames n (1..SF_CHUNK_MAX) plain bytes as one chunk. */
static int
sf_emit_chunk(struct sf_enc *enc, const uint8_t *src, size_t n, struct err *e)
{
	size_t len;
	int stored;

	if (sf_enc_start(enc, e) == -1 ||
	    sf_frame_head(enc->api, src, n, enc->frame, &len, &stored,
	    e) == -1 || sink_write(&enc->out, enc->frame, len, e) == -1)
		return -1;
	return stored ? sink_write(&enc->out, src, n, e) : 0;
}

int
sf_frame_chunks(const struct sf_enc *enc, const void *in, size_t len,
    uint8_t *out, size_t *outlen, struct err *e)
{
	const uint8_t *p = in;
	size_t n, flen;
	int stored;

	for (*outlen = 0; len > 0; p += n, len -= n) {
		n = len < SF_CHUNK_MAX ? len : SF_CHUNK_MAX;
		if (sf_frame_head(enc->api, p, n, out + *outlen, &flen,
		    &stored, e) == -1)
			return -1;
		if (stored)
			memcpy(out + *outlen + flen, p, n), flen += n;
		*outlen += flen;
	}
	return 0;
}

int
sf_enc_put_frames(struct sf_enc *enc, const void *frames, size_t len,
    struct err *e)
{
	if (enc->failed || enc->fill > 0)
		return err_set(e, "snappy frame: frames put after %s",
		    enc->failed ? "an earlier failure" : "a partial chunk");
	if (len > 0 && (sf_enc_start(enc, e) == -1 ||
	    sink_write(&enc->out, frames, len, e) == -1)) {
		enc->failed = 1;
		return -1;
	}
	return 0;
}

int
sf_enc_write(struct sf_enc *enc, const void *buf, size_t len, struct err *e)
{
	const uint8_t *p = buf;
	size_t n;

	if (enc->failed)
		return err_set(e,
		    "snappy frame: encoder used after an earlier failure");
	while (len > 0) {
		if (enc->fill == 0 && len >= SF_CHUNK_MAX) {
			/* A whole chunk is at hand: frame it without
			 * copying. */
			n = SF_CHUNK_MAX;
			if (sf_emit_chunk(enc, p, n, e) == -1)
				goto fail;
		} else {
			n = SF_CHUNK_MAX - enc->fill;
			if (n > len)
				n = len;
			memcpy(enc->plain + enc->fill, p, n);
			enc->fill += n;
			if (enc->fill == SF_CHUNK_MAX) {
				enc->fill = 0;
				if (sf_emit_chunk(enc, enc->plain, SF_CHUNK_MAX,
				    e) == -1)
					goto fail;
			}
		}
		p += n;
		len -= n;
	}
	return 0;
fail:
	enc->failed = 1;
	return -1;
}

int
sf_enc_finish(struct sf_enc *enc, struct err *e)
{
	size_t n = enc->fill;

	if (enc->failed)
		return err_set(e,
		    "snappy frame: encoder used after an earlier failure");
	enc->fill = 0;
	if (n > 0 && sf_emit_chunk(enc, enc->plain, n, e) == -1) {
		enc->failed = 1;
		return -1;
	}
	return 0;
}

/* ---- decoder ---- */

enum sf_state {
	SF_HEADER,	/* collecting the 4-byte chunk header */
	SF_BODY,	/* collecting a body we must look at */
	SF_SKIP,	/* dropping the body of a skippable chunk */
	SF_FAILED
};

struct sf_dec {
	const struct snappy_api *api;
	struct sink	 out;
	enum sf_state	 state;
	uint8_t		 hdr[SF_HDR_LEN];
	size_t		 hdr_fill;
	uint8_t		 type;		/* of the current chunk */
	size_t		 body_len;
	size_t		 body_fill;	/* body bytes seen (kept or skipped) */
	uint8_t		*body;		/* at most body_max bytes */
	size_t		 body_max;
	/* SF_CHUNK_MAX bytes of decompressed chunk */
	uint8_t		*plain;
	unsigned long long offset;	/* stream offset of the current chunk */
	int		 seen_id;	/* stream identifier read */
};

struct sf_dec *
sf_dec_new(const struct sink *out, struct err *e)
{
	const struct snappy_api *api;
	struct sf_dec *dec;

	if ((api = snappy_api(e)) == NULL)
		return NULL;
	if ((dec = calloc(1, sizeof(*dec))) != NULL) {
		dec->api = api;
		dec->out = *out;
		dec->state = SF_HEADER;
		/* Like snap, refuse compressed bodies longer than 64 KiB can
		 * compress to. */
		dec->body_max = SF_FRAME_MAX - SF_HDR_LEN;
		dec->body = malloc(dec->body_max);
		dec->plain = malloc(SF_CHUNK_MAX);
	}
	if (dec == NULL || dec->body == NULL || dec->plain == NULL) {
		sf_dec_free(dec);
		err_set(e, "out of memory");
		return NULL;
	}
	return dec;
}

void
sf_dec_free(struct sf_dec *dec)
{
	if (dec == NULL)
		return;
	free(dec->body);
	free(dec->plain);
	free(dec);
}

static int sf_dec_fail(struct sf_dec *, struct err *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports a malformed chunk, naming where it starts, and stops the decoder. */
static int
sf_dec_fail(struct sf_dec *dec, struct err *e, const char *fmt, ...)
{
	char why[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dec->state = SF_FAILED;
	return err_set(e, "snappy frame: chunk at offset %llu: %s", dec->offset,
	    why);
}

/* A complete header is in dec->hdr: check it and choose how to read the
 * body. */
static int
sf_dec_header(struct sf_dec *dec, struct err *e)
{
	uint8_t type = dec->hdr[0];
	size_t len = dec->hdr[1] | (size_t)dec->hdr[2] << 8 |
	    (size_t)dec->hdr[3] << 16;

	if (!dec->seen_id && type != SF_T_STREAM_ID)
		return sf_dec_fail(dec, e,
		    "stream does not start with a stream "
		    "identifier (chunk type 0x%02x)", type);
	if (type > SF_T_UNCOMPRESSED && type <= SF_T_RESERVED_LAST)
		return sf_dec_fail(dec, e,
		    "reserved unskippable chunk type 0x%02x", type);
	if (type == SF_T_STREAM_ID && len != SF_ID_BODY_LEN)
		return sf_dec_fail(dec, e, "stream identifier has length %zu, "
		    "want %zu", len, SF_ID_BODY_LEN);
	if ((type == SF_T_COMPRESSED || type == SF_T_UNCOMPRESSED) &&
	    len < SF_CRC_LEN)
		return sf_dec_fail(dec, e,
		    "data chunk of %zu bytes is too short "
		    "to hold its CRC", len);
	if (type == SF_T_UNCOMPRESSED && len - SF_CRC_LEN > SF_CHUNK_MAX)
		return sf_dec_fail(dec, e,
		    "uncompressed chunk holds %zu bytes, "
		    "more than %d", len - SF_CRC_LEN, SF_CHUNK_MAX);
	if (type == SF_T_COMPRESSED && len > dec->body_max)
		return sf_dec_fail(dec, e,
		    "compressed chunk of %zu bytes is longer "
		    "than %d bytes can compress to", len, SF_CHUNK_MAX);
	dec->type = type;
	dec->body_len = len;
	dec->body_fill = 0;
	dec->state = (type >= 0x80 && type != SF_T_STREAM_ID) ? SF_SKIP :
	    SF_BODY;
	return 0;
}

/* Checks the CRC of a chunk's plain bytes and passes them on. */
static int
sf_dec_deliver(struct sf_dec *dec, uint32_t want, const uint8_t *plain,
    size_t n, struct err *e)
{
	uint32_t got = sf_mask_crc(sf_crc32c(plain, n));

	if (got != want)
		return sf_dec_fail(dec, e,
		    "CRC mismatch (stored 0x%08x, computed "
		    "0x%08x)", want, got);
	if (sink_write(&dec->out, plain, n, e) == -1) {
		dec->state = SF_FAILED;
		return -1;
	}
	return 0;
}

static int
sf_dec_compressed(struct sf_dec *dec, const uint8_t *body, size_t len,
    struct err *e)
{
	const char *src = (const char *)body + SF_CRC_LEN;
	size_t srclen = len - SF_CRC_LEN, n;

	if (dec->api->uncompressed_length(src, srclen, &n) != SNAPPY_OK)
		return sf_dec_fail(dec, e,
		    "corrupt compressed body (bad length "
		    "preamble)");
	if (n > SF_CHUNK_MAX)
		return sf_dec_fail(dec, e,
		    "compressed chunk expands to %zu bytes, "
		    "more than %d", n, SF_CHUNK_MAX);
	if (dec->api->uncompress(src, srclen, (char *)dec->plain, &n) !=
	    SNAPPY_OK)
		return sf_dec_fail(dec, e, "corrupt compressed body");
	return sf_dec_deliver(dec, get_le32(body), dec->plain, n, e);
}

/* The whole body of the current chunk is at body (len bytes). */
static int
sf_dec_body(struct sf_dec *dec, const uint8_t *body, size_t len, struct err *e)
{
	switch (dec->type) {
	case SF_T_STREAM_ID:
		if (memcmp(body, SF_ID_BODY, SF_ID_BODY_LEN) != 0)
			return sf_dec_fail(dec, e, "stream identifier is not "
			    "\"sNaPpY\"");
		dec->seen_id = 1;
		return 0;
	case SF_T_UNCOMPRESSED:
		return sf_dec_deliver(dec, get_le32(body), body + SF_CRC_LEN,
		    len - SF_CRC_LEN, e);
	default:
		return sf_dec_compressed(dec, body, len, e);
	}
}

static void
sf_dec_next_chunk(struct sf_dec *dec)
{
	dec->offset += SF_HDR_LEN + dec->body_len;
	dec->hdr_fill = 0;
	dec->state = SF_HEADER;
}

/* Consumes up to len bytes of the current body; returns how many, or -1. */
static ssize_t
sf_dec_take_body(struct sf_dec *dec, const uint8_t *p, size_t len,
    struct err *e)
{
	size_t n = dec->body_len - dec->body_fill;

	if (n > len)
		n = len;
	if (dec->state == SF_BODY) {
		if (dec->body_fill == 0 && n == dec->body_len) {
			/* The whole body is in the caller's buffer: no copy. */
			if (sf_dec_body(dec, p, n, e) == -1)
				return -1;
		} else {
			memcpy(dec->body + dec->body_fill, p, n);
			if (dec->body_fill + n == dec->body_len &&
			    sf_dec_body(dec, dec->body, dec->body_len, e) == -1)
				return -1;
		}
	}
	dec->body_fill += n;
	if (dec->body_fill == dec->body_len)
		sf_dec_next_chunk(dec);
	return (ssize_t)n;
}

int
sf_dec_write(struct sf_dec *dec, const void *buf, size_t len, struct err *e)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		switch (dec->state) {
		case SF_FAILED:
			return err_set(e, "snappy frame: decoder used after an "
			    "earlier failure");
		case SF_HEADER:
			n = (ssize_t)(SF_HDR_LEN - dec->hdr_fill);
			if ((size_t)n > len)
				n = (ssize_t)len;
			memcpy(dec->hdr + dec->hdr_fill, p, (size_t)n);
			dec->hdr_fill += (size_t)n;
			if (dec->hdr_fill < SF_HDR_LEN)
				break;
			if (sf_dec_header(dec, e) == -1)
				return -1;
			if (dec->body_len == 0)
				/* empty skippable chunk */
				sf_dec_next_chunk(dec);
			break;
		default:
			if ((n = sf_dec_take_body(dec, p, len, e)) == -1)
				return -1;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sf_dec_finish(struct sf_dec *dec, struct err *e)
{
	switch (dec->state) {
	case SF_FAILED:
		return err_set(e,
		    "snappy frame: decoder used after an earlier failure");
	case SF_HEADER:
		if (dec->hdr_fill == 0)
			return 0;
		return sf_dec_fail(dec, e, "stream truncated inside the chunk "
		    "header (%zu of %d bytes)", dec->hdr_fill, SF_HDR_LEN);
	default:
		return sf_dec_fail(dec, e,
		    "stream truncated: chunk body has %zu of "
		    "%zu bytes", dec->body_fill, dec->body_len);
	}
}

/* ---- one-shot helpers ---- */

struct sf_membuf {
	uint8_t	*buf;
	size_t	 len, cap;
};

static int
sf_membuf_write(void *ctx, const void *buf, size_t len, struct err *e)
{
	struct sf_membuf *m = ctx;
	size_t cap = m->cap ? m->cap : 4096;
	uint8_t *nbuf;

	if (len > SIZE_MAX - m->len)
		return err_set(e, "snappy frame: output too large");
	while (cap < m->len + len)
		cap = cap > SIZE_MAX / 2 ? m->len + len : cap * 2;
	if (cap != m->cap) {
		if ((nbuf = realloc(m->buf, cap)) == NULL)
			return err_set(e, "snappy frame: out of memory for %zu "
			    "bytes of output", cap);
		m->buf = nbuf;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static int
sf_membuf_done(struct sf_membuf *m, int rc, uint8_t **out, size_t *outlen)
{
	if (rc == -1 || m->len == 0) {
		free(m->buf);
		m->buf = NULL;
		m->len = 0;
	}
	*out = m->buf;
	*outlen = m->len;
	return rc;
}

int
sf_compress(const void *in, size_t len, uint8_t **out, size_t *outlen,
    struct err *e)
{
	struct sf_membuf m = { NULL, 0, 0 };
	struct sink s = { sf_membuf_write, &m };
	struct sf_enc *enc;
	int rc;

	if ((enc = sf_enc_new(&s, e)) == NULL)
		return sf_membuf_done(&m, -1, out, outlen);
	rc = sf_enc_write(enc, in, len, e);
	if (rc == 0)
		rc = sf_enc_finish(enc, e);
	sf_enc_free(enc);
	return sf_membuf_done(&m, rc, out, outlen);
}

int
sf_decompress(const void *in, size_t len, uint8_t **out, size_t *outlen,
    struct err *e)
{
	struct sf_membuf m = { NULL, 0, 0 };
	struct sink s = { sf_membuf_write, &m };
	struct sf_dec *dec;
	int rc;

	if ((dec = sf_dec_new(&s, e)) == NULL)
		return sf_membuf_done(&m, -1, out, outlen);
	rc = sf_dec_write(dec, in, len, e);
	if (rc == 0)
		rc = sf_dec_finish(dec, e);
	sf_dec_free(dec);
	return sf_membuf_done(&m, rc, out, outlen);
}
