/* 0-db-fs's statistics ioctl, as 0-db-fs answers it on its mount point:
 * 30 size_t counters and gauges, in this order (version 2 of the layout). */
#ifndef ZDBFS_H
#define ZDBFS_H

#include <sys/ioctl.h>

#include <stddef.h>

enum zdbfs_field {
	ZF_VERSION,
	ZF_FUSE_REQS,
	ZF_CACHE_HIT,
	ZF_CACHE_MISS,
	ZF_CACHE_FULL,
	ZF_CACHE_LINEAR_FLUSH,
	ZF_CACHE_RANDOM_FLUSH,
	ZF_CACHE_BRANCHES,
	ZF_CACHE_BRANCHES_ALLOCATED,
	ZF_CACHE_ENTRIES,
	ZF_CACHE_BLOCKS,
	ZF_CACHE_BLOCKSIZE,
	ZF_SYSCALL_GETATTR,	/* the 15 syscall counters, in this order */
	ZF_SYSCALL_SETATTR,
	ZF_SYSCALL_CREATE,
	ZF_SYSCALL_READDIR,
	ZF_SYSCALL_OPEN,
	ZF_SYSCALL_READ,
	ZF_SYSCALL_WRITE,
	ZF_SYSCALL_MKDIR,
	ZF_SYSCALL_UNLINK,
	ZF_SYSCALL_RMDIR,
	ZF_SYSCALL_RENAME,
	ZF_SYSCALL_LINK,
	ZF_SYSCALL_SYMLINK,
	ZF_SYSCALL_STATSFS,
	ZF_SYSCALL_IOCTL,
	ZF_READ_BYTES,
	ZF_WRITE_BYTES,
	ZF_ERRORS,
	ZF_FIELDS
};

#define ZDBFS_STATS_VERSION	2

struct zdbfs_stats {
	size_t	v[ZF_FIELDS];
};

/* 0x80F04501 on x86-64 (240 bytes read) */
#define ZDBFS_IOC_STATS		_IOR('E', 1, struct zdbfs_stats)

#endif
