/* Snappy framing format (stream identifier, compressed 0x00 and uncompressed
 * 0x01 chunks of at most 65536 plain bytes, each with the masked CRC-32C of its
 * plain bytes; 0x80..0xfe skipped; 0x02..0x7f rejected). Empty input <-> empty
 * stream: the stream identifier is written only before the first chunk. Both
 * directions stream: bytes go in with *_write and come out through a sink. */
#ifndef SNAPPY_FRAME_H
#define SNAPPY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sink.h"

#define SF_CHUNK_MAX 65536
/* A chunk's frame at most: header, CRC and snappy's bound for the body,
 * 32 + n + n / 6 (snappy_max_compressed_length). */
#define SF_FRAME_MAX (8 + 32 + SF_CHUNK_MAX + SF_CHUNK_MAX / 6)

struct sf_enc;
struct sf_dec;

/* NULL with e set without memory, or when libsnappy cannot be loaded
 * (snappy_api.h). */
struct sf_enc	*sf_enc_new(const struct sink *out, struct err *e);
int	sf_enc_write(struct sf_enc *enc, const void *buf, size_t len,
	    struct err *e);
/* flushes the last chunk */
int sf_enc_finish(struct sf_enc *enc, struct err *e);
void	sf_enc_free(struct sf_enc *enc);

/* Frames len plain bytes into out as enc would at a chunk boundary, less the
 * stream identifier (*outlen bytes); out holds SF_FRAME_MAX per chunk begun.
 * Reads nothing enc changes, so a helper thread may frame one part of the
 * input while enc takes another. */
int	sf_frame_chunks(const struct sf_enc *enc, const void *in, size_t len,
	    uint8_t *out, size_t *outlen, struct err *e);
/* Passes frames from sf_frame_chunks on, in their place in the stream: enc
 * must hold no partial chunk (every write before it was whole chunks). */
int	sf_enc_put_frames(struct sf_enc *enc, const void *frames, size_t len,
	    struct err *e);

struct sf_dec	*sf_dec_new(const struct sink *out, struct err *e);
/* Accepts the framed stream in pieces of any size. */
int	sf_dec_write(struct sf_dec *dec, const void *buf, size_t len,
	    struct err *e);
/* fails on a truncated chunk */
int sf_dec_finish(struct sf_dec *dec, struct err *e);
void	sf_dec_free(struct sf_dec *dec);

/* One-shot helpers; *out is malloc'd (NULL with *outlen 0 for empty output). */
int	sf_compress(const void *in, size_t len, uint8_t **out, size_t *outlen,
	    struct err *e);
int	sf_decompress(const void *in, size_t len, uint8_t **out, size_t *outlen,
	    struct err *e);

uint32_t	sf_crc32c(const void *buf, size_t len);
uint32_t	sf_mask_crc(uint32_t crc);

#endif
