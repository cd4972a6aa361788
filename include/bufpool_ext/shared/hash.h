/*-------------------------------------------------------------------------
 *
 * hash.h
 *	  The page hash of one buffer pool instance.
 *
 * Chained hash: a DSM array of bucket heads (BpBlockNo), chains linked
 * through BpBlockDesc.hash_next.  Bucket b belongs to partition
 * b % BP_HASH_PARTITIONS; changing a chain needs that partition's lock in
 * exclusive mode.  Readers may walk a chain without the lock (see
 * bp_buf_pin_optimistic): a chain is always a sequence of valid block
 * numbers, a walk is bounded, and what it finds is verified after
 * pinning, so a walk that strays onto another chain only misses.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/shared/hash.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_HASH_H
#define BUFPOOL_EXT_HASH_H

#include "bufpool_ext/shared/shmem.h"

/*
 * The partition of a page depends only on its hash value, not on the
 * table size (buckets are a power of two >= BP_HASH_PARTITIONS), so it
 * stays the same when a resize rebuilds the table.
 */
static inline LWLock *
bp_hash_lock(BpInstance *inst, uint64 h)
{
	return &inst->hash_locks[h % BP_HASH_PARTITIONS].lock;
}

/*
 * Lock the partition of hash value h and make sure this process maps the
 * instance's current table (a resize replaces it while holding every
 * partition lock).  Returns the bucket in the current table.
 */
static inline uint32
bp_hash_lock_current(int instance, uint64 h, LWLockMode mode)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	LWLock	   *lock = bp_hash_lock(inst, h);

	for (;;)
	{
		LWLockAcquire(lock, mode);
		if (likely(li->hash_handle == inst->hash_handle))
			return (uint32) h & li->hash_mask;
		LWLockRelease(lock);
		bp_attach_instance_segments(instance);
	}
}

/* Caller holds the bucket's partition lock. */
static inline BpBlockNo
bp_hash_lookup(BpLocalInstance *li, uint32 bucket, uint32 space_id, uint32 page_no)
{
	BpBlockNo	b = li->hash[bucket];

	while (b != BP_INVALID_BLOCK)
	{
		BpBlockDesc *d = bp_desc(li, b);

		if (d->space_id == space_id && d->page_no == page_no)
			return b;
		b = d->hash_next;
	}
	return BP_INVALID_BLOCK;
}

/* Caller holds the bucket's partition lock in exclusive mode. */
static inline void
bp_hash_insert(BpLocalInstance *li, uint32 bucket, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	d->hash_next = li->hash[bucket];
	pg_write_barrier();
	((volatile BpBlockNo *) li->hash)[bucket] = b;
}

extern void bp_hash_report_missing(BpLocalInstance *li, uint32 bucket, BpBlockNo b) pg_attribute_noreturn();

/* Caller holds the bucket's partition lock in exclusive mode. */
static inline void
bp_hash_remove(BpLocalInstance *li, uint32 bucket, BpBlockNo b)
{
	volatile BpBlockNo *link = &li->hash[bucket];

	while (*link != BP_INVALID_BLOCK)
	{
		if (*link == b)
		{
			*link = bp_desc(li, b)->hash_next;
			return;
		}
		link = &bp_desc(li, *link)->hash_next;
	}
	bp_hash_report_missing(li, bucket, b);
}

#endif							/* BUFPOOL_EXT_HASH_H */
