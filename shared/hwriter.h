/* A sink whose bytes go to a file from a background thread, so writing (and
 * hashing) overlaps with producing the next block on a second core. Bytes are
 * collected in one of two buffers; hwriter_cut hands the full one to the
 * background task, which writes it at its own file offset (so nothing depends
 * on the order of writes) and can also hash it, and hash an input block beside
 * it. */
#ifndef HWRITER_H
#define HWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "bg.h"
#include "blake2b.h"
#include "err.h"
#include "sink.h"

struct hwbuf {
	uint8_t		*buf;
	size_t		 len, cap;
	uint64_t	 at;	/* file offset */
};

struct hwriter {
	int		 fd;	/* -1: opened (scratch_open) when needed */
	int		 opened;	/* ... and opened here */
	/* Bytes kept in memory while the stream is at most mem_max long;
	 * past that they go to fd. */
	uint8_t		*mem;
	size_t		 mem_max, mem_cap;
	int		 spilled;
	uint64_t	 base;	/* file offset of the first byte */
	/* hash of everything written, or NULL */
	struct b2	*out_hash;
	struct hwbuf	 out[2];
	int		 cur;	/* buffer being filled */
	uint64_t	 total;	/* bytes taken so far */
	struct bg	 bg;
	/* the background task */
	struct hwbuf	*flush;
	struct b2	*in_hash;
	const void	*in;
	size_t		 inlen;
	int		 failed;
	struct err	 err;
};

void	hwriter_init(struct hwriter *w, int fd, uint64_t base,
	    struct b2 *out_hash);
/* Keeps the stream in memory (hwriter_mem) as long as it is at most max
 * bytes; a longer one goes to the file, the memory freed. */
void	hwriter_keep(struct hwriter *w, size_t max);
/* After hwriter_finish: the stream, when it stayed in memory (the caller
 * takes it), else NULL (it is in the file). */
uint8_t	*hwriter_mem(struct hwriter *w);
struct sink	hwriter_sink(struct hwriter *w);
/* Sends what was taken since the last cut to the background; with in_hash, the
 * background also hashes in[0..inlen), which must stay untouched until the next
 * cut or hwriter_finish. */
void	hwriter_cut(struct hwriter *w, struct b2 *in_hash, const void *in,
	    size_t inlen);
/* Waits for the background, writes the rest; -1 when any write failed. */
int	hwriter_finish(struct hwriter *w, struct err *e);
void	hwriter_free(struct hwriter *w);

#endif
