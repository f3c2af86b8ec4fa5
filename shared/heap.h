/* How a process that stores or retrieves object after object keeps its heap.
 * A store of a small file takes some 2.5 MiB from the heap and frees it (two
 * 1 MiB read blocks, the compressor's and the cipher's buffers); glibc's
 * default thresholds, which move with the largest block freed, shrank the
 * heap after each such store and grew it again for the next, faulting the same
 * pages back in: 8 page faults and 3 brk calls per 4 KiB store in an encoder.
 * After heap_keep(), blocks up to HEAP_MMAP_FROM come from the heap and up to
 * HEAP_KEEP of it stays when free; larger blocks (a big object's in-memory
 * scratch) are mapped and given back as before. */
#ifndef HEAP_H
#define HEAP_H

#define HEAP_MMAP_FROM	(4 * 1024 * 1024)
#define HEAP_KEEP	(8 * 1024 * 1024)

void	heap_keep(void);

#endif
