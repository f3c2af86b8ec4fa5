#include <malloc.h>

#include "heap.h"

void
heap_keep(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_FROM);
	(void)mallopt(M_TRIM_THRESHOLD, HEAP_KEEP);
}
