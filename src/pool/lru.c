/*-------------------------------------------------------------------------
 *
 * lru.c
 *	  Free list, LRU list with midpoint insertion, and block replacement.
 *
 * This is InnoDB's buf0lru.cc design.  The LRU list runs from the head
 * (youngest) to the tail (the eviction end).  Once it holds at least
 * BP_LRU_OLD_MIN_LEN blocks, its tail part of about old_blocks_pct
 * percent is the old sublist; lru_old points at its first block.  A
 * block read from disk enters at the head of the old sublist, so a scan
 * only churns the old part.  A hit makes an old block young only if the
 * block's first access is at least old_blocks_time ago; a young block is
 * moved to the head again only when it has drifted a quarter of the
 * young part (bp_lru_young_enough), so hot pages take no list lock.
 *
 * A process that needs a block takes one from the free list, else evicts
 * the clean unpinned block nearest the tail, else, as a last resort,
 * writes the dirtiest tail block itself (a single-page flush) and evicts
 * it.  The page cleaners keep the free list stocked so foreground
 * sessions rarely scan.
 *
 * Locking: the free list, the LRU list, lru_old, the lengths, is_old,
 * list and freed_page_clock are protected by the instance's lru_lock.
 * Eviction of a block needs a pin (taken under lru_lock with a CAS from
 * pin count 0) and then its hash partition lock; the two are never held
 * together, so the documented order (hash partition before lru_lock)
 * holds trivially.
 *
 * IDENTIFICATION
 *	  src/pool/lru.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"

#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/shared/hash.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/pool/zip.h"
#include "bufpool_ext/shared/shmem.h"

#define BP_FREE_WAIT_MS		10000	/* give up finding a free block after this */
#define BP_LRU_ADMIT_EVERY	128		/* misses per one read into the young room */

/*
 * List membership is checked for real, not only with Assert: a block on
 * two lists would corrupt the pool silently, so stop at the first sign.
 */
#define BP_CHECK_LIST(d, b, want, what) \
	do { \
		if (unlikely((d)->list != (want))) \
			elog(PANIC, "bufpool_ext: %s of block %u (chunk %u) found it on list %d, not %d; state 0x%x", \
				 (what), (b), BP_BLOCK_CHUNK(b), (d)->list, (want), \
				 pg_atomic_read_u32(&(d)->state)); \
	} while (0)

/* Link block b into the LRU list between prev and next (either may be none). */
static inline void
bp_lru_link(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, BpBlockNo prev, BpBlockNo next)
{
	BpBlockDesc *d = bp_desc(li, b);

	d->lru_prev = prev;
	d->lru_next = next;
	if (prev != BP_INVALID_BLOCK)
		bp_desc(li, prev)->lru_next = b;
	else
		inst->lru_head = b;
	if (next != BP_INVALID_BLOCK)
		bp_desc(li, next)->lru_prev = b;
	else
		inst->lru_tail = b;
	d->list = BP_LIST_LRU;
	inst->lru_len++;
}

/*
 * Move the boundary between the sublists (lru_old) so the lengths follow
 * the rule of bufpool_ext.lru_boundary.  Every block that crosses it here
 * does so without an access, and is counted.  Caller holds lru_lock and
 * the old sublist exists.
 *
 * innodb (buf_LRU_old_adjust_len): the old sublist is old_blocks_pct of
 * the list's current length, give or take BP_LRU_OLD_TOLERANCE, moved
 * both ways.  A list that shrinks and grows back without a change in what
 * is hot moves blocks across anyway: the page cleaners take a batch off
 * the tail (the old part falls short, young blocks at the boundary become
 * old), then the misses that refill the pool insert at the boundary one by
 * one while the list grows back (the old part runs over, and the block at
 * its head, the page just read, becomes young).  A scan then turns about
 * (100 - old_blocks_pct)% of the blocks it reads in each cleaner batch
 * young, without a second look.
 *
 * access: the young sublist grows only by accesses that make blocks young
 * (bp_lru_make_young), and holds at most (100 - old_blocks_pct)% of the
 * blocks that hold or wait for pages (the LRU and free lists); past that
 * its tail becomes old, which is the LRU order.  The old sublist is the
 * rest of the list, so a batch of evictions and the reads that follow
 * only shorten and lengthen it: the boundary does not move, and no block
 * becomes young by position.  While the young sublist is under its cap
 * (after a start, or when few pages are re-used) the old sublist is
 * longer than old_blocks_pct, which only gives new pages more time to
 * prove themselves.
 */
static void
bp_lru_adjust_old(BpInstance *inst, BpLocalInstance *li)
{
	Assert(inst->lru_old != BP_INVALID_BLOCK);
	if (bp_lru_boundary == BP_LRU_BOUNDARY_ACCESS)
	{
		uint32		young_max = bp_lru_young_max(inst);

		while (inst->lru_len - inst->lru_old_len > young_max)
		{
			BpBlockDesc *old = bp_desc(li, inst->lru_old);

			Assert(old->lru_prev != BP_INVALID_BLOCK);
			inst->lru_old = old->lru_prev;
			bp_desc(li, inst->lru_old)->is_old = true;
			inst->lru_old_len++;
			inst->boundary_made_old++;
		}
		return;
	}

	for (;;)
	{
		BpBlockDesc *old = bp_desc(li, inst->lru_old);
		uint32		target = (uint32) ((uint64) inst->lru_len * bp_old_blocks_pct / 100);

		if (inst->lru_old_len + BP_LRU_OLD_TOLERANCE < target)
		{
			/* too few old blocks: move the boundary toward the head */
			if (old->lru_prev == BP_INVALID_BLOCK)
				break;
			inst->lru_old = old->lru_prev;
			bp_desc(li, inst->lru_old)->is_old = true;
			inst->lru_old_len++;
			inst->boundary_made_old++;
		}
		else if (inst->lru_old_len > target + BP_LRU_OLD_TOLERANCE)
		{
			if (old->lru_next == BP_INVALID_BLOCK)
				break;
			old->is_old = false;
			inst->lru_old = old->lru_next;
			inst->lru_old_len--;
			inst->boundary_made_young++;
		}
		else
			break;
	}
}

/* The list just reached BP_LRU_OLD_MIN_LEN: make it all old, then adjust. */
static void
bp_lru_old_init(BpInstance *inst, BpLocalInstance *li)
{
	BpBlockNo	b;

	for (b = inst->lru_head; b != BP_INVALID_BLOCK; b = bp_desc(li, b)->lru_next)
		bp_desc(li, b)->is_old = true;
	inst->lru_old = inst->lru_head;
	inst->lru_old_len = inst->lru_len;
	bp_lru_adjust_old(inst, li);
}

/* The list fell below BP_LRU_OLD_MIN_LEN: no old sublist any more. */
static void
bp_lru_old_reset(BpInstance *inst, BpLocalInstance *li)
{
	BpBlockNo	b;

	for (b = inst->lru_head; b != BP_INVALID_BLOCK; b = bp_desc(li, b)->lru_next)
		bp_desc(li, b)->is_old = false;
	inst->lru_old = BP_INVALID_BLOCK;
	inst->lru_old_len = 0;
}

static void
bp_lru_insert_head(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	bp_lru_link(inst, li, b, BP_INVALID_BLOCK, inst->lru_head);
	d->is_old = false;
	d->freed_page_clock = inst->freed_page_clock;
	if (inst->lru_old != BP_INVALID_BLOCK)
		bp_lru_adjust_old(inst, li);
	else if (inst->lru_len >= BP_LRU_OLD_MIN_LEN)
		bp_lru_old_init(inst, li);
}

/*
 * Put block b, ours and on no list, at the tail of the young sublist: just
 * before lru_old, young, as if it had been made young at this moment, so
 * a later hit leaves it where it is until it drifts (bp_lru_young_enough).
 * If that puts the young sublist over its cap, bp_lru_adjust_old makes it
 * the first old block again.  Caller holds lru_lock; the old sublist
 * exists.
 */
static void
bp_lru_insert_young_tail(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	bp_lru_link(inst, li, b, bp_desc(li, inst->lru_old)->lru_prev, inst->lru_old);
	d->is_old = false;
	d->freed_page_clock = inst->freed_page_clock;
	bp_lru_adjust_old(inst, li);
}

/*
 * Put a newly read block at the head of the old sublist (or at the head
 * of the list while there is no old sublist).  With lru_boundary =
 * innodb it goes right after the first old block, as InnoDB's
 * buf_LRU_add_block_low puts it, so lru_old stays where it was.
 *
 * With lru_boundary = access, one miss in BP_LRU_ADMIT_EVERY goes to the
 * tail of the young sublist instead, if it has room (bp_lru_young_room):
 * the bimodal insertion of Qureshi et al. (ISCA 2007), kept to room no
 * block made young by an access is using.  A loop over more pages than
 * the pool gets no hit from an LRU list, midpoint or not, since each page
 * is gone before it comes round; the few pages read into the room stay
 * until they are needed, and are hit on every round.  A scan that is not
 * a loop leaves that many pages in the room and nothing else.
 */
void
bp_lru_add_old(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);
	BpBlockNo	prev;
	BpBlockNo	next;

	BP_CHECK_LIST(d, b, BP_LIST_NONE, "adding to the LRU");
	if (inst->lru_old == BP_INVALID_BLOCK)
	{
		bp_lru_insert_head(inst, li, b);
		return;
	}
	if (bp_lru_boundary == BP_LRU_BOUNDARY_INNODB)
	{
		prev = inst->lru_old;
		next = bp_desc(li, prev)->lru_next;
	}
	else
	{
		if (++inst->admit_count >= BP_LRU_ADMIT_EVERY)
		{
			inst->admit_count = 0;
			if (bp_lru_young_room(inst))
			{
				bp_lru_insert_young_tail(inst, li, b);
				inst->admitted_young++;
				return;
			}
		}
		next = inst->lru_old;
		prev = bp_desc(li, next)->lru_prev;
		inst->lru_old = b;
	}
	bp_lru_link(inst, li, b, prev, next);
	d->is_old = true;
	d->freed_page_clock = 0;	/* a new page, as buf_page_init_low */
	inst->lru_old_len++;
	bp_lru_adjust_old(inst, li);
}

/*
 * A block left the old sublist.  After as many departures as the old
 * sublist has blocks, a block entering it then would have reached the
 * tail: that time is the old sublist's turnover (bp_old_blocks_window).
 */
static inline void
bp_lru_old_departure(BpInstance *inst)
{
	if (++inst->old_departures >= Max(inst->lru_old_len, 1))
	{
		uint32		now = bp_now_ms();

		if (inst->old_window_start != 0)
			inst->old_turnover_ms = Max(now - inst->old_window_start, 1);
		inst->old_window_start = now;
		inst->old_departures = 0;
	}
}

void
bp_lru_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	BP_CHECK_LIST(d, b, BP_LIST_LRU, "removing from the LRU");
	if (inst->lru_old == b)
	{
		/*
		 * The first old block leaves.  With lru_boundary = access the
		 * next one takes its place, so the young sublist is untouched,
		 * unless b was the last old block: the old sublist never empties
		 * while it exists (a miss inserts at its head).  InnoDB keeps the
		 * boundary where it is: the previous block becomes old.
		 */
		if (d->lru_prev != BP_INVALID_BLOCK &&
			(bp_lru_boundary != BP_LRU_BOUNDARY_ACCESS || d->lru_next == BP_INVALID_BLOCK))
		{
			inst->lru_old = d->lru_prev;
			bp_desc(li, inst->lru_old)->is_old = true;
			inst->lru_old_len++;
			inst->boundary_made_old++;
		}
		else
			inst->lru_old = d->lru_next;
	}
	if (d->lru_prev != BP_INVALID_BLOCK)
		bp_desc(li, d->lru_prev)->lru_next = d->lru_next;
	else
		inst->lru_head = d->lru_next;
	if (d->lru_next != BP_INVALID_BLOCK)
		bp_desc(li, d->lru_next)->lru_prev = d->lru_prev;
	else
		inst->lru_tail = d->lru_prev;
	inst->lru_len--;
	if (d->is_old)
	{
		inst->lru_old_len--;
		bp_lru_old_departure(inst);
	}
	d->is_old = false;
	d->list = BP_LIST_NONE;
	d->lru_prev = d->lru_next = BP_INVALID_BLOCK;

	if (inst->lru_old != BP_INVALID_BLOCK)
	{
		if (inst->lru_len < BP_LRU_OLD_MIN_LEN)
			bp_lru_old_reset(inst, li);
		else
			bp_lru_adjust_old(inst, li);
	}
}

/*
 * Put block nb where block b is in the LRU list (relocation by a shrink);
 * b leaves the list.  Caller holds lru_lock.
 */
void
bp_lru_replace(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, BpBlockNo nb)
{
	BpBlockDesc *d = bp_desc(li, b);
	BpBlockDesc *nd = bp_desc(li, nb);

	BP_CHECK_LIST(d, b, BP_LIST_LRU, "relocating from the LRU");
	BP_CHECK_LIST(nd, nb, BP_LIST_NONE, "relocating into");
	nd->lru_prev = d->lru_prev;
	nd->lru_next = d->lru_next;
	if (d->lru_prev != BP_INVALID_BLOCK)
		bp_desc(li, d->lru_prev)->lru_next = nb;
	else
		inst->lru_head = nb;
	if (d->lru_next != BP_INVALID_BLOCK)
		bp_desc(li, d->lru_next)->lru_prev = nb;
	else
		inst->lru_tail = nb;
	if (inst->lru_old == b)
		inst->lru_old = nb;
	nd->is_old = d->is_old;
	nd->freed_page_clock = d->freed_page_clock;
	nd->list = BP_LIST_LRU;
	d->list = BP_LIST_NONE;
	d->is_old = false;
	d->lru_prev = d->lru_next = BP_INVALID_BLOCK;
}

void
bp_lru_make_young(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	bp_lru_remove(inst, li, b);
	bp_lru_insert_head(inst, li, b);
}

/*
 * Make an old block young at the tail of the young sublist, while that
 * has room (lru_boundary = access; see bp_lru_young_room).  Caller holds
 * lru_lock.
 */
void
bp_lru_make_young_tail(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	bp_lru_remove(inst, li, b);
	if (inst->lru_old == BP_INVALID_BLOCK)
		bp_lru_insert_head(inst, li, b);
	else
		bp_lru_insert_young_tail(inst, li, b);
}

void
bp_free_push(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	BP_CHECK_LIST(d, b, BP_LIST_NONE, "freeing");
	if (unlikely(pg_atomic_read_u32(&d->state) & (BP_BS_VALID | BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE)))
		elog(PANIC, "bufpool_ext: freeing block %u (chunk %u) that is in use: state 0x%x",
			 b, BP_BLOCK_CHUNK(b), pg_atomic_read_u32(&d->state));
	if (unlikely((int) BP_BLOCK_CHUNK(b) >= inst->withdraw_from))
	{
		/* a shrink is removing this chunk: keep the block out of use */
		d->lru_next = inst->withdraw_head;
		d->lru_prev = BP_INVALID_BLOCK;
		d->list = BP_LIST_WITHDRAW;
		d->is_old = false;
		inst->withdraw_head = b;
		inst->withdraw_len++;
		return;
	}
	d->lru_next = inst->free_head;
	d->lru_prev = BP_INVALID_BLOCK;
	d->list = BP_LIST_FREE;
	d->is_old = false;
	inst->free_head = b;
	inst->free_len++;
}

/*
 * Put every block of the instance on its free list.  Called by the pool
 * manager before the pool is READY.
 */
void
bp_lru_init_instance(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	int			c;
	int64		i;

	inst->free_head = BP_INVALID_BLOCK;
	inst->free_len = 0;
	inst->lru_head = inst->lru_tail = inst->lru_old = BP_INVALID_BLOCK;
	inst->lru_len = inst->lru_old_len = 0;
	inst->old_departures = inst->old_window_start = inst->old_turnover_ms = 0;
	inst->boundary_made_young = inst->boundary_made_old = 0;
	inst->admit_count = 0;
	inst->admitted_young = 0;
	inst->flush_head = inst->flush_tail = BP_INVALID_BLOCK;
	inst->flush_len = 0;
	inst->memory_len = 0;
	/* push in reverse so the free list hands out blocks in address order */
	for (c = inst->n_chunks - 1; c >= 0; c--)
		for (i = (int64) inst->blocks_per_chunk - 1; i >= 0; i--)
		{
			BpBlockNo	b = BP_MAKE_BLOCK(c, (uint32) i);

			bp_desc(li, b)->list = BP_LIST_NONE;
			bp_free_push(inst, li, b);
		}
}

static void
bp_wake_cleaner(int instance)
{
	int			k = instance % BpShmem->n_instances % Max(bp_page_cleaners, 1);
	uint32		procno = pg_atomic_read_u32(&BpShmem->cleaner_procno[k]);

	if (procno != INVALID_PGPROCNO)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/*
 * Evict a block we hold the only pin on: take it out of the page hash and
 * the LRU list.  Returns false, leaving the block alone, if it is dirty,
 * under I/O or pinned by someone else.  On success the block is ours
 * (pin count 1 from us, not VALID, on no list).
 */
bool
bp_lru_evict_pinned(int instance, BpBlockNo b)
{
	return bp_lru_evict_pinned_mode(instance, b, BP_ZIP_EVICT_PAGE);
}

/*
 * bp_lru_evict_pinned, with zip_how saying what becomes of
 * the compressed image of a page of a compressed space (zip.c): with
 * BP_ZIP_EVICT_FRAME only the frame goes.  A zip frame is evicted with
 * the images it holds of pages without a frame (or, in a chunk a shrink
 * removes, emptied by moving them).
 */
bool
bp_lru_evict_pinned_mode(int instance, BpBlockNo b, BpZipEvict zip_how)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	uint32		st = pg_atomic_read_u32(&d->state);

	if (st & BP_BS_VALID)
	{
		uint64		h = bp_page_hash(d->space_id, d->page_no);
		LWLock	   *part = bp_hash_lock(inst, h);
		uint32		bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);

		switch (bp_block_try_invalidate(instance, b,
										BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE, &st))
		{
			case BP_INVAL_DONE:
				break;
			case BP_INVAL_BUSY:
				LWLockRelease(part);
				return false;
			case BP_INVAL_HAZARD:
				LWLockRelease(part);
				/* it is in use: move it out of the way of the tail scans */
				LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
				if (d->list == BP_LIST_LRU)
					bp_lru_make_young(inst, li, b);
				LWLockRelease(&inst->lru_lock.lock);
				return false;
		}
		bp_zip_block_evicted(li, h, b, zip_how);
		bp_hash_remove(li, bucket, b);
		d->space_id = InvalidOid;
		LWLockRelease(part);
	}
	else
	{
		/*
		 * Not VALID: an orphan of a failed read, taken only while it is
		 * still on the LRU list and ours alone.  A block whose VALID bit
		 * another evictor has cleared for a moment is pinned by that
		 * evictor too, so the pin count tells the two apart.
		 */
		if (st & (BP_BS_IO_READ | BP_BS_IO_WRITE))
			return false;
		if (BP_IS_ZIP_FRAME(d))
			return bp_zip_frame_evict(instance, b,
									  (int) BP_BLOCK_CHUNK(b) >= inst->withdraw_from);
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		st = pg_atomic_read_u32(&d->state);
		if (d->list != BP_LIST_LRU || BP_STATE_REFCOUNT(st) != 1 ||
			(st & (BP_BS_VALID | BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE)))
		{
			LWLockRelease(&inst->lru_lock.lock);
			return false;
		}
		bp_lru_remove(inst, li, b);
		inst->freed_page_clock++;
		LWLockRelease(&inst->lru_lock.lock);
		return true;
	}

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (d->list == BP_LIST_LRU)
	{
		bp_lru_remove(inst, li, b);
		inst->freed_page_clock++;
	}
	LWLockRelease(&inst->lru_lock.lock);
	return true;
}

/*
 * Scan from the LRU tail, with lru_lock held, for at most depth blocks.
 * Pins and returns the first clean unpinned block; if there is none,
 * pins the first dirty unpinned one into *dirty.
 */
static BpBlockNo
bp_lru_scan_tail(BpInstance *inst, BpLocalInstance *li, int depth, BpBlockNo *dirty)
{
	BpBlockNo	b = inst->lru_tail;
	BpBlockNo	dirty_cand = BP_INVALID_BLOCK;

	*dirty = BP_INVALID_BLOCK;
	for (; b != BP_INVALID_BLOCK && depth-- > 0; b = bp_desc(li, b)->lru_prev)
	{
		BpBlockDesc *d = bp_desc(li, b);
		uint32		st = pg_atomic_read_u32(&d->state);

		if (BP_STATE_REFCOUNT(st) != 0 || (st & (BP_BS_IO_READ | BP_BS_IO_WRITE)))
			continue;
		if (st & BP_BS_DIRTY)
		{
			if (dirty_cand == BP_INVALID_BLOCK)
				dirty_cand = b;
			continue;
		}
		if (pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			return b;
	}
	if (dirty_cand != BP_INVALID_BLOCK)
	{
		BpBlockDesc *d = bp_desc(li, dirty_cand);
		uint32		st = pg_atomic_read_u32(&d->state);

		if (BP_STATE_REFCOUNT(st) == 0 && !(st & (BP_BS_IO_READ | BP_BS_IO_WRITE)) &&
			pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			*dirty = dirty_cand;
	}
	return BP_INVALID_BLOCK;
}

/*
 * Last resort of a foreground session: write a dirty tail page itself.
 * Releases the pin the caller took.
 */
static void
bp_lru_single_page_flush(int instance, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(&BpLocal[instance], b);

	PG_TRY();
	{
		bp_flush_block(instance, b, BP_FLUSH_SINGLE_PAGE);
	}
	PG_FINALLY();
	{
		pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	}
	PG_END_TRY();
}

/*
 * Get a block to read a page into: pinned by us, not VALID, on no list.
 */
/*
 * Take the block at the head of the free list (caller holds lru_lock and
 * has seen the list non-empty), pinned.
 */
static BpBlockNo
bp_free_pop(BpInstance *inst, BpLocalInstance *li)
{
	BpBlockNo	b = inst->free_head;
	BpBlockDesc *d = bp_desc(li, b);

	BP_CHECK_LIST(d, b, BP_LIST_FREE, "taking from the free list");
	inst->free_head = d->lru_next;
	inst->free_len--;
	d->list = BP_LIST_NONE;
	d->lru_next = BP_INVALID_BLOCK;
	/* stray optimistic pinners may bump the count; they back off */
	pg_atomic_fetch_add_u32(&d->state, BP_REFCOUNT_ONE);
	if (inst->free_len < (uint32) Min(bp_lru_scan_depth, inst->n_blocks / 10) / 4)
		pg_atomic_write_u32(&BpShmem->free_wanted, 1);
	return b;
}

/*
 * A free block, pinned, only if the free list holds more than keep
 * blocks; never evicts (the warm-restart loader: a page it loads must
 * not push out one a session uses, nor make the page cleaners do so).
 */
BpBlockNo
bp_lru_get_spare_block(int instance, uint32 keep)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpBlockNo	b = BP_INVALID_BLOCK;

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (inst->free_len > keep && inst->free_head != BP_INVALID_BLOCK &&
		inst->withdraw_from >= inst->n_chunks)
		b = bp_free_pop(inst, &BpLocal[instance]);
	LWLockRelease(&inst->lru_lock.lock);
	return b;
}

/*
 * Put block b, pinned by the caller, where a warm-restart dump had its
 * page: at the head of the list (young) or of the old sublist.  If b is
 * on the LRU it moves there.  Caller holds lru_lock.
 */
void
bp_lru_put_loaded(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, bool young)
{
	BpBlockDesc *d = bp_desc(li, b);
	BpBlockNo	next;

	if (d->list == BP_LIST_LRU)
		bp_lru_remove(inst, li, b);
	if (young || inst->lru_old == BP_INVALID_BLOCK)
	{
		bp_lru_insert_head(inst, li, b);
		return;
	}
	next = inst->lru_old;
	bp_lru_link(inst, li, b, bp_desc(li, next)->lru_prev, next);
	inst->lru_old = b;
	d->is_old = true;
	d->freed_page_clock = 0;
	inst->lru_old_len++;
	bp_lru_adjust_old(inst, li);
}

/*
 * Free one block by dropping the frame of the unzip_LRU's tail block, if
 * InnoDB's rule says the load is I/O bound (zip.c).  Returns the block,
 * pinned and on no list, or BP_INVALID_BLOCK.
 */
static BpBlockNo
bp_lru_free_unzip(int instance, int depth)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	b;

	if (!bp_zip_evict_from_unzip(inst))
		return BP_INVALID_BLOCK;
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	b = bp_zip_unzip_victim(inst, li, depth);
	LWLockRelease(&inst->lru_lock.lock);
	if (b == BP_INVALID_BLOCK)
		return BP_INVALID_BLOCK;
	if (!bp_lru_evict_pinned_mode(instance, b, BP_ZIP_EVICT_FRAME))
	{
		pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
		return BP_INVALID_BLOCK;
	}
	bp_my_counters(instance)->evicted++;
	return b;
}

/* The free list's head, pinned, or BP_INVALID_BLOCK if it is empty. */
static BpBlockNo
bp_lru_pop_free(BpInstance *inst, BpLocalInstance *li)
{
	BpBlockNo	b = BP_INVALID_BLOCK;

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (inst->free_head != BP_INVALID_BLOCK)
		b = bp_free_pop(inst, li);
	LWLockRelease(&inst->lru_lock.lock);
	return b;
}

/*
 * A block just freed for the caller, unless its chunk is being removed by
 * a shrink: then it is withdrawn and the result is BP_INVALID_BLOCK.
 */
static BpBlockNo
bp_lru_unless_withdrawn(int instance, BpBlockNo b)
{
	if (unlikely((int) BP_BLOCK_CHUNK(b) >= BpShmem->instances[instance].withdraw_from))
	{
		bp_lru_return_free_block(instance, b);
		return BP_INVALID_BLOCK;
	}
	return b;
}

/*
 * A free block without waiting or writing (for zip memory, zip.c): from
 * the free list, else a clean unpinned block near the LRU tail evicted.
 * Pinned and on no list, never in a chunk a shrink removes; or
 * BP_INVALID_BLOCK.  The caller holds no lock of the pool.
 */
BpBlockNo
bp_lru_try_free_block(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	b;
	BpBlockNo	dirty;

	b = bp_lru_pop_free(inst, li);
	if (b != BP_INVALID_BLOCK)
		return b;
	b = bp_lru_free_unzip(instance, Max(bp_lru_scan_depth / 10, 100));
	if (b == BP_INVALID_BLOCK)
	{
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		b = bp_lru_scan_tail(inst, li, Max(bp_lru_scan_depth / 10, 100), &dirty);
		LWLockRelease(&inst->lru_lock.lock);
		pg_atomic_write_u32(&BpShmem->free_wanted, 1);
		if (dirty != BP_INVALID_BLOCK)
			pg_atomic_fetch_sub_u32(&bp_desc(li, dirty)->state, BP_REFCOUNT_ONE);
		if (b == BP_INVALID_BLOCK)
			return BP_INVALID_BLOCK;
		if (!bp_lru_evict_pinned(instance, b))
		{
			pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
			return BP_INVALID_BLOCK;
		}
		bp_my_counters(instance)->evicted++;
	}
	return bp_lru_unless_withdrawn(instance, b);
}

BpBlockNo
bp_lru_get_free_block(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	TimestampTz start = 0;
	int			n_scan = 0;

	for (;;)
	{
		BpBlockNo	b;
		BpBlockNo	dirty;
		int			depth;

		b = bp_lru_pop_free(inst, li);
		if (b != BP_INVALID_BLOCK)
			return b;

		/* InnoDB's buf_LRU_scan_and_free_block: the unzip_LRU first */
		b = bp_lru_free_unzip(instance, Max(bp_lru_scan_depth / 10, 100));
		if (b != BP_INVALID_BLOCK)
		{
			if ((b = bp_lru_unless_withdrawn(instance, b)) != BP_INVALID_BLOCK)
				return b;
			continue;
		}

		/* InnoDB scans a limited depth first, then the whole list */
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		depth = n_scan == 0 ? Max(bp_lru_scan_depth / 10, 100) : (int) inst->lru_len;
		b = bp_lru_scan_tail(inst, li, depth, &dirty);
		LWLockRelease(&inst->lru_lock.lock);
		n_scan++;

		if (n_scan == 1)
		{
			pg_atomic_write_u32(&BpShmem->free_wanted, 1);
			bp_wake_cleaner(instance);
		}

		if (b != BP_INVALID_BLOCK)
		{
			if (bp_lru_evict_pinned(instance, b))
			{
				bp_my_counters(instance)->evicted++;
				/* its chunk being removed: withdrawn, look again */
				if ((b = bp_lru_unless_withdrawn(instance, b)) != BP_INVALID_BLOCK)
					return b;
				continue;
			}
			pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
			continue;
		}
		if (dirty != BP_INVALID_BLOCK)
		{
			bp_lru_single_page_flush(instance, dirty);
			continue;
		}

		/* everything is pinned or under I/O: wait a little */
		if (start == 0)
			start = GetCurrentTimestamp();
		else if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), BP_FREE_WAIT_MS))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("no free block in buffer pool instance %d after %d ms",
							instance, BP_FREE_WAIT_MS),
					 errdetail("All %u blocks of the instance are pinned or under I/O.",
							   inst->n_blocks),
					 errhint("Raise bufpool_ext.size, or release pinned pages sooner.")));
		CHECK_FOR_INTERRUPTS();
		pg_usleep(1000L);
	}
}

/*
 * Make one free block in a chunk below below_chunk by evicting the
 * coldest clean, unpinned page there: the first such block within depth
 * of the LRU tail.  For a shrink, which would rather keep a young page of
 * a chunk it removes than the tail page of a chunk it keeps.  Returns
 * whether a block was freed.
 */
bool
bp_lru_free_tail_block(int instance, int below_chunk, int depth)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	b;

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	for (b = inst->lru_tail; b != BP_INVALID_BLOCK && depth-- > 0; b = bp_desc(li, b)->lru_prev)
	{
		BpBlockDesc *d = bp_desc(li, b);
		uint32		st = pg_atomic_read_u32(&d->state);

		if ((int) BP_BLOCK_CHUNK(b) >= below_chunk || BP_STATE_REFCOUNT(st) != 0 ||
			(st & (BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE)))
			continue;
		if (pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			break;
	}
	LWLockRelease(&inst->lru_lock.lock);
	if (b == BP_INVALID_BLOCK || depth < 0)
		return false;
	if (!bp_lru_evict_pinned(instance, b))
	{
		pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
		return false;
	}
	bp_my_counters(instance)->evicted++;
	bp_lru_return_free_block(instance, b);
	return true;
}

/* Give back a block from bp_lru_get_free_block that was not used. */
void
bp_lru_return_free_block(int instance, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	bp_free_push(inst, li, b);
	LWLockRelease(&inst->lru_lock.lock);
}

/*
 * Write the dirty blocks among the n pinned ones of batch; on error
 * release every pin of the batch.  Returns the number of pages written.
 */
static int64
bp_lru_flush_pinned(int instance, const BpBlockNo *batch, int n,
					const BpBlockNo *dirty, int n_dirty)
{
	int64		w = 0;

	PG_TRY();
	{
		w = bp_flush_blocks(instance, dirty, n_dirty, BP_FLUSH_LRU);
	}
	PG_CATCH();
	{
		int			i;

		for (i = 0; i < n; i++)
			pg_atomic_fetch_sub_u32(&bp_desc(&BpLocal[instance], batch[i])->state,
									BP_REFCOUNT_ONE);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return w;
}

/*
 * Page cleaner's LRU work (InnoDB's buf_flush_LRU_list): from the tail,
 * look at up to scan_depth blocks; write dirty unpinned ones and move
 * clean unpinned ones to the free list, until it holds target_free.
 * Returns the number of pages written.
 */
int
bp_lru_tail_work(int instance, int target_free, int scan_depth)
{
#define BP_TAIL_BATCH 64
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	int			scanned = 0;
	int			written = 0;

	/* InnoDB's buf_free_from_unzip_LRU_list_batch: frames of unzip_LRU blocks first */
	while ((int) inst->free_len < target_free && scanned < scan_depth)
	{
		BpBlockNo	b = bp_lru_free_unzip(instance, scan_depth - scanned);

		if (b == BP_INVALID_BLOCK)
			break;
		scanned++;
		bp_lru_return_free_block(instance, b);
	}

	while (scanned < scan_depth)
	{
		BpBlockNo	batch[BP_TAIL_BATCH];
		BpBlockNo	dirty[BP_TAIL_BATCH];
		int			n_dirty;
		int			n = 0;
		int			i;
		BpBlockNo	b;

		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		if (inst->free_len >= (uint32) target_free)
		{
			LWLockRelease(&inst->lru_lock.lock);
			break;
		}
		for (b = inst->lru_tail; b != BP_INVALID_BLOCK && n < BP_TAIL_BATCH && scanned < scan_depth;
			 b = bp_desc(li, b)->lru_prev)
		{
			BpBlockDesc *d = bp_desc(li, b);
			uint32		st = pg_atomic_read_u32(&d->state);

			scanned++;
			if (BP_STATE_REFCOUNT(st) == 0 && !(st & (BP_BS_IO_READ | BP_BS_IO_WRITE)) &&
				pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
				batch[n++] = b;
		}
		LWLockRelease(&inst->lru_lock.lock);
		if (n == 0)
			break;

		/* the dirty ones first, as one write batch (one doublewrite round) */
		n_dirty = 0;
		for (i = 0; i < n; i++)
			if (pg_atomic_read_u32(&bp_desc(li, batch[i])->state) & BP_BS_DIRTY)
				dirty[n_dirty++] = batch[i];
		if (n_dirty > 0)
		{
			int64		w = bp_lru_flush_pinned(instance, batch, n, dirty, n_dirty);

			written += (int) w;
			pg_atomic_fetch_add_u64(&inst->lru_io_total, (uint64) w);
		}
		for (i = 0; i < n; i++)
		{
			BpBlockDesc *d = bp_desc(li, batch[i]);

			if (bp_lru_evict_pinned(instance, batch[i]))
			{
				bp_my_counters(instance)->evicted++;
				bp_lru_return_free_block(instance, batch[i]);
			}
			else
				pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
		}
	}
	return written;
}

/* ----------------------------------------------------------------------
 * Frames for memory use (bp_pool_frame_alloc, buddy.c)
 * ---------------------------------------------------------------------- */

/* Make block b, ours alone and on no list, a memory block.  Caller holds lru_lock. */
static void
bp_lru_mark_memory(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, uint32 tag)
{
	BpBlockDesc *d = bp_desc(li, b);

	BP_CHECK_LIST(d, b, BP_LIST_NONE, "taking for memory");
	d->list = BP_LIST_MEMORY;
	d->space_id = InvalidOid;
	d->page_no = tag;
	d->is_old = false;
	d->lru_prev = d->lru_next = BP_INVALID_BLOCK;
	inst->memory_len++;
}

/*
 * Take a block of chunk 0 for memory use: InnoDB's buf_block_alloc, as
 * its buddy allocator does, but only from chunk 0, which a shrink never
 * removes, so nobody ever has to relocate or withdraw a memory block.
 * The block keeps one pin (so no tail scan, eviction or withdraw pass
 * takes it), is not VALID and not in the page hash, and sits on
 * BP_LIST_MEMORY with page_no = tag.
 *
 * Tried in order: a chunk-0 block on the free list; a clean unpinned
 * chunk-0 block from the LRU tail, evicted; a dirty one, written first.
 * At most half of chunk 0's blocks may be memory blocks at once.
 * Returns BP_INVALID_BLOCK with *capped set if that cap is reached, or
 * with *capped clear if every chunk-0 block is in use.  The caller holds
 * no lock of the pool.
 */
BpBlockNo
bp_lru_get_memory_block(int instance, uint32 tag, bool *capped)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	uint32		cap = inst->blocks_per_chunk / 2;
	int			attempt;

	*capped = false;
	for (attempt = 0; attempt < 8; attempt++)
	{
		BpBlockNo  *link;
		BpBlockNo	b;
		BpBlockNo	clean = BP_INVALID_BLOCK;
		BpBlockNo	dirty = BP_INVALID_BLOCK;

		CHECK_FOR_INTERRUPTS();
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		if (inst->memory_len >= cap)
		{
			LWLockRelease(&inst->lru_lock.lock);
			*capped = true;
			return BP_INVALID_BLOCK;
		}
		for (link = &inst->free_head; *link != BP_INVALID_BLOCK;
			 link = &bp_desc(li, *link)->lru_next)
		{
			BpBlockDesc *d;

			b = *link;
			if (BP_BLOCK_CHUNK(b) != 0)
				continue;
			d = bp_desc(li, b);
			BP_CHECK_LIST(d, b, BP_LIST_FREE, "taking from the free list for memory");
			*link = d->lru_next;
			inst->free_len--;
			d->list = BP_LIST_NONE;
			pg_atomic_fetch_add_u32(&d->state, BP_REFCOUNT_ONE);
			bp_lru_mark_memory(inst, li, b, tag);
			LWLockRelease(&inst->lru_lock.lock);
			return b;
		}

		/* no free chunk-0 block: the chunk-0 block nearest the LRU tail */
		for (b = inst->lru_tail; b != BP_INVALID_BLOCK; b = bp_desc(li, b)->lru_prev)
		{
			BpBlockDesc *d = bp_desc(li, b);
			uint32		st = pg_atomic_read_u32(&d->state);

			if (BP_BLOCK_CHUNK(b) != 0 || BP_STATE_REFCOUNT(st) != 0 ||
				(st & (BP_BS_IO_READ | BP_BS_IO_WRITE)))
				continue;
			if (st & BP_BS_DIRTY)
			{
				if (dirty == BP_INVALID_BLOCK &&
					pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
					dirty = b;
				continue;
			}
			if (pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			{
				clean = b;
				break;
			}
		}
		LWLockRelease(&inst->lru_lock.lock);

		if (clean != BP_INVALID_BLOCK)
		{
			if (dirty != BP_INVALID_BLOCK)
				pg_atomic_fetch_sub_u32(&bp_desc(li, dirty)->state, BP_REFCOUNT_ONE);
			if (!bp_lru_evict_pinned(instance, clean))
			{
				pg_atomic_fetch_sub_u32(&bp_desc(li, clean)->state, BP_REFCOUNT_ONE);
				continue;
			}
			bp_my_counters(instance)->evicted++;
			LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
			if (inst->memory_len >= cap)
			{
				/* others took frames meanwhile: the block goes back */
				pg_atomic_fetch_sub_u32(&bp_desc(li, clean)->state, BP_REFCOUNT_ONE);
				bp_free_push(inst, li, clean);
				LWLockRelease(&inst->lru_lock.lock);
				*capped = true;
				return BP_INVALID_BLOCK;
			}
			bp_lru_mark_memory(inst, li, clean, tag);
			LWLockRelease(&inst->lru_lock.lock);
			return clean;
		}
		if (dirty != BP_INVALID_BLOCK)
		{
			/* written, then taken as a clean block on the next attempt */
			bp_lru_single_page_flush(instance, dirty);
			continue;
		}
		break;
	}
	return BP_INVALID_BLOCK;
}

/*
 * Give back a memory block: it goes to the free list.  Returns false,
 * changing nothing, if b is not a memory block with page_no == tag (a
 * wrong free by the caller).
 */
bool
bp_lru_put_memory_block(int instance, BpBlockNo b, uint32 tag)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d;

	if (BP_BLOCK_CHUNK(b) != 0 || BP_BLOCK_IDX(b) >= inst->blocks_per_chunk)
		return false;
	d = bp_desc(li, b);
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (d->list != BP_LIST_MEMORY || d->page_no != tag)
	{
		LWLockRelease(&inst->lru_lock.lock);
		return false;
	}
	d->list = BP_LIST_NONE;
	d->page_no = 0;
	inst->memory_len--;
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	bp_free_push(inst, li, b);
	LWLockRelease(&inst->lru_lock.lock);
	return true;
}
