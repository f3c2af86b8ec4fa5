/* A sink whose bytes are hashed and written to a file by two background
 * threads, so that hashing, writing and producing the next block each have a
 * core when there are three: on two cores, the hash (BLAKE2b, about 1 GB/s)
 * and the copies into the page cache no longer take turns. Bytes are
 * collected in one of HW_RING buffers; hwriter_cut hands the full one to the
 * helpers: one writes it at its own file offset (so nothing depends on the
 * order of writes), the other hashes it and an input block beside it. Up to
 * HW_RING - 1 buffers are in their hands at once, so the hash, which shares
 * the cores with whoever feeds the sink, can fall behind by as many and catch
 * up, instead of stopping the feeder at each cut. A buffer is cut by itself at
 * HW_CUT_BYTES, so that a retrieve of compressible data (one sealed piece
 * unframing to tens of MiB) still flows in steps of that size and its buffers
 * stay that small. */
#ifndef HWRITER_H
#define HWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "bg.h"
#include "blake2b.h"
#include "err.h"
#include "sink.h"

#define HW_CUT_BYTES	(1024 * 1024)
#define HW_RING		4

struct hwriter;

struct hwbuf {
	struct hwriter	*w;
	uint8_t		*buf;
	size_t		 len, cap;
	uint64_t	 at;	/* file offset */
	/* its background tasks: the extent hashed (the writer empties len),
	 * the input block hashed before it, and their tickets */
	size_t		 hlen;
	struct b2	*in_hash;
	const void	*in;
	size_t		 inlen;
	uint64_t	 hashed, written;
};

struct hwriter {
	int		 fd;	/* -1: opened (scratch_open) when needed */
	int		 opened;	/* ... and opened here */
	/* Bytes kept in memory while the stream is at most mem_max long;
	 * past that they go to fd. */
	uint8_t		*mem;
	size_t		 mem_max, mem_cap;
	int		 spilled;
	int		 writeback;	/* hwriter_writeback */
	uint64_t	 base;	/* file offset of the first byte */
	/* hash of everything written, or NULL */
	struct b2	*out_hash;
	struct hwbuf	 out[HW_RING];
	int		 cur;	/* buffer being filled */
	uint64_t	 total;	/* bytes taken so far */
	struct bg	 hash_bg, write_bg;
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
/* Starts the writeback of each range as soon as it is written, for a file
 * that will be fsynced: the fsync then waits only for the last ranges, not
 * for the whole file. */
void	hwriter_writeback(struct hwriter *w);
struct sink	hwriter_sink(struct hwriter *w);
/* Sends what was taken since the last cut to the background; with in_hash, the
 * background also hashes in[0..inlen), which must stay untouched until
 * HW_RING - 1 more cuts or hwriter_finish. */
void	hwriter_cut(struct hwriter *w, struct b2 *in_hash, const void *in,
	    size_t inlen);
/* Waits for the background, writes the rest; -1 when any write failed. */
int	hwriter_finish(struct hwriter *w, struct err *e);
void	hwriter_free(struct hwriter *w);

#endif
