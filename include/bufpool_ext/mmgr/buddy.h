/*-------------------------------------------------------------------------
 *
 * buddy.h
 *	  Binary buddy allocator over shared memory, and whole buffer-pool
 *	  frames for memory use (see src/mmgr/buddy.c for the design).
 *
 * Shared memory maps at different addresses in each process, so shared
 * memory handed out here is named by a BpShmAddr, a 64-bit value that
 * means the same in every process; bp_shm_ptr() turns it into a pointer
 * valid in the calling process.  Store BpShmAddr in shared memory, never
 * the pointer.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/mmgr/buddy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_BUDDY_H
#define BUFPOOL_EXT_BUDDY_H

#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/shmem.h"

#ifndef BP_SHM_ADDR_DEFINED		/* bufpool.h has it too */
#define BP_SHM_ADDR_DEFINED
typedef uint64 BpShmAddr;
#endif

#define BP_SHM_NULL ((BpShmAddr) 0)

/* smallest and largest buddy blocks: 2^BP_BUDDY_MIN_SHIFT .. page_size */
#define BP_BUDDY_MIN_SHIFT	6	/* 64 bytes */
#define BP_BUDDY_MAX_ORDERS	16

/* the buddy regions start 4 kB aligned in every process's address space */
#define BP_BUDDY_REGION_ALIGN	4096

/* flags for bp_buddy_alloc and bp_pool_frame_alloc */
#define BP_ALLOC_NO_OOM		0x01	/* return BP_SHM_NULL instead of ERROR */
#define BP_ALLOC_NO_FRAME	0x02	/* buddy: never take a pool frame (so no
										 * lru.c, no LWLock, no I/O); with
										 * NO_OOM, BP_SHM_NULL when the region
										 * has no room */

/* pointer in this process to shared memory named by addr (NULL for NULL) */
extern void *bp_shm_ptr(BpShmAddr addr);

/* whether [addr, addr + len) lies inside one region or one frame */
extern bool bp_shm_range_ok(BpShmAddr addr, Size len);

/*
 * Buddy allocation: size is rounded up to a power of two of at least
 * 2^BP_BUDDY_MIN_SHIFT and at most page_size.  The memory comes from the
 * buddy pool of one buffer-pool instance (instance < 0: chosen by the
 * calling process, to spread concurrent users).  key is the memory
 * instrument charged (memory/bufpool/buddy/... by default when 0).
 * Out of memory: ERROR with ERRCODE_OUT_OF_MEMORY naming the size, or
 * BP_SHM_NULL with BP_ALLOC_NO_OOM.  bp_buddy_free needs the size that
 * was asked for.
 */
extern BpShmAddr bp_buddy_alloc(int instance, Size size, BpMemKey key, int flags);
extern int64 bp_buddy_trim(void);
extern void bp_buddy_free(BpShmAddr addr, Size size, BpMemKey key);
extern Size bp_buddy_block_size(Size size);	/* what a request of size takes */

/*
 * A whole buffer-pool frame (page_size bytes) for memory use, taken from
 * a chunk that a shrink never removes (state MEMORY: not in the page
 * hash, on no list, never evicted).  Charged to key.  Same error rules.
 */
extern BpShmAddr bp_pool_frame_alloc(int instance, BpMemKey key, int flags);
extern void bp_pool_frame_free(BpShmAddr addr, BpMemKey key);

/*
 * Where whole frames come from: the buffer pool (a higher layer) sets
 * these when it is loaded.  get returns a frame of chunk 0 of instance in
 * state MEMORY with the page number tag, or BP_INVALID_BLOCK (*capped
 * set if because half of chunk 0 is memory already); put gives one back
 * and returns false if b is not such a frame with that tag.
 */
typedef BpBlockNo (*BpFrameGetFn) (int instance, uint32 tag, bool *capped);
typedef bool (*BpFramePutFn) (int instance, BpBlockNo b, uint32 tag);
extern void bp_buddy_set_frame_source(BpFrameGetFn get, BpFramePutFn put);

/* shared memory set-up (a part of the entry's table) */
extern Size bp_buddy_shmem_size(void);
extern void bp_buddy_shmem_init(void);

/* reading, for the views and the tests */
extern int	bp_buddy_n_instances(void);
extern int	bp_buddy_stats(int instance, int64 *n_used, int64 *n_free);
extern bool bp_buddy_verify(bool *idle);

#endif							/* BUFPOOL_EXT_BUDDY_H */
