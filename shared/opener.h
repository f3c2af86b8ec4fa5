/* The decoding half of a retrieve: the sealed stream goes in, in order, and is
 * decrypted and unframed; the plain bytes go to the output file through a
 * background writer that also hashes them. obj_open feeds it from fetched
 * shards, obj_stream straight from the backends. */
#ifndef OPENER_H
#define OPENER_H

#include <stddef.h>
#include <stdint.h>

#include "blake2b.h"
#include "err.h"
#include "hwriter.h"
#include "sink.h"

struct opener {
	struct hwriter	 w;
	struct sf_dec	*sf;
	struct gcm_dec	*gcm;
	struct b2	 hash;
	struct sink	 to_plain, to_sf;
};

int	opener_init(struct opener *o, const uint8_t key[32], int out_fd,
	    struct err *e);
/* The next sealed bytes. */
int	opener_write(struct opener *o, const void *buf, size_t len,
	    struct err *e);
/* The end of the sealed stream: the GCM tag, the last frame, the output
 * written and its hash compared with the file checksum. */
int	opener_finish(struct opener *o, const uint8_t checksum[B2_LEN],
	    struct err *e);
/* Waits for the background writer, then frees. */
void	opener_free(struct opener *o);

#endif
