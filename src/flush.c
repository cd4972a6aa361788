/*-------------------------------------------------------------------------
 *
 * flush.c
 *	  Dirty pages: the flush list and writing pages out.
 *
 * InnoDB's buf0flu.cc design.  A block becomes dirty under its content
 * lock in exclusive mode; the first modification of a clean block takes
 * its LSN while holding the instance's flush_lock and puts the block at
 * the head of the flush list, so the list is ordered by oldest_lsn, the
 * newest at the head.  Writers take pages from the tail.
 *
 * Writing a block: set IO_WRITE (one writer per block; others wait on
 * io_cv), copy the frame under the content lock in share mode, release
 * the lock, write the copy with its checksum.  Afterwards, under the
 * content lock in share mode again, the block is made clean only if no
 * modification came in meanwhile (newest_lsn unchanged); otherwise it
 * stays dirty and keeps its place (its old oldest_lsn is conservative).
 * A failed write leaves the block dirty, so nothing is lost.
 *
 * A batch's array of pinned blocks comes from a BUFFER heap of the
 * process (src/heap.c), created at its first batch: the heap's top is
 * marked at the start and freed back to at the end, on error too, so a
 * large batch (an array of half a page or more) borrows a buffer-pool
 * frame for its duration instead of growing the process's memory (an
 * array larger than a page gets an exact malloc'd block).
 *
 * IDENTIFICATION
 *	  src/flush.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

#include "bufpool_ext/redo.h"
#include "bufpool_ext/flush.h"
#include "bufpool_ext/heap.h"
#include "bufpool_ext/space.h"

static char *write_buf = NULL;
static BpHeap *flush_heap = NULL;	/* batch arrays, see above */

/* Take a block off the flush list.  Caller holds flush_lock exclusively. */
void
bp_flush_list_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

	if (d->flush_prev != BP_INVALID_BLOCK)
		bp_desc(li, d->flush_prev)->flush_next = d->flush_next;
	else
		inst->flush_head = d->flush_next;
	if (d->flush_next != BP_INVALID_BLOCK)
		bp_desc(li, d->flush_next)->flush_prev = d->flush_prev;
	else
		inst->flush_tail = d->flush_prev;
	d->flush_prev = d->flush_next = BP_INVALID_BLOCK;
	inst->flush_len--;
}

/*
 * Record a modification of a pinned block: log it (type BP_REDO_BYTES:
 * data_len bytes at offset of the payload, already copied into the
 * frame; BP_REDO_PAGE: the whole payload) and put the block on the flush
 * list if it was clean.  Caller holds its content lock in exclusive mode.
 * Returns the modification's LSN (the end of its redo record), also
 * stored in the page header.
 *
 * A clean block gets its record under its instance's flush_lock, so
 * each flush list is ordered by oldest_lsn and a checkpoint that reads
 * the list tails misses no change (redo.c).
 */
uint64
bp_mark_dirty(int instance, BpBlockNo b, uint32 type, uint32 offset,
			  const char *data, uint32 data_len)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	uint64		lsn;
	uint64		start;

	Assert(LWLockHeldByMeInMode(&d->content_lock, LW_EXCLUSIVE));
	if (pg_atomic_read_u32(&d->state) & BP_BS_DIRTY)
		lsn = bp_redo_append(type, d->space_id, d->page_no, offset, data, data_len, &start);
	else
	{
		LWLockAcquire(&inst->flush_lock.lock, LW_EXCLUSIVE);
		lsn = bp_redo_append(type, d->space_id, d->page_no, offset, data, data_len, &start);
		d->oldest_lsn = start;
		d->flush_prev = BP_INVALID_BLOCK;
		d->flush_next = inst->flush_head;
		if (inst->flush_head != BP_INVALID_BLOCK)
			bp_desc(li, inst->flush_head)->flush_prev = b;
		else
			inst->flush_tail = b;
		inst->flush_head = b;
		inst->flush_len++;
		pg_atomic_fetch_or_u32(&d->state, BP_BS_DIRTY);
		LWLockRelease(&inst->flush_lock.lock);
	}
	d->newest_lsn = lsn;
	((BpPageHeader *) bp_frame(li, b))->lsn = lsn;
	pg_atomic_fetch_add_u64(&BpShmem->modifications, 1);
	return lsn;
}

static void
bp_clear_io_write(BpBlockDesc *d)
{
	pg_atomic_fetch_and_u32(&d->state, ~BP_BS_IO_WRITE);
	ConditionVariableBroadcast(&d->io_cv);
}

/* The I/O part of bp_flush_block: caller has set IO_WRITE. */
static void
bp_flush_block_io(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, BpFlushType type)
{
	BpBlockDesc *d = bp_desc(li, b);
	uint64		lsn;

	LWLockAcquire(&d->content_lock, LW_SHARED);
	memcpy(write_buf, bp_frame(li, b), BpPageSize);
	lsn = d->newest_lsn;
	LWLockRelease(&d->content_lock);

	/* write-ahead: the page's redo is durable before the page is written */
	bp_redo_flush(lsn, true);

	/* false means the space is gone: forget the page all the same */
	(void) bp_space_write(d->space_id, d->page_no, write_buf);

	LWLockAcquire(&d->content_lock, LW_SHARED);
	if (d->newest_lsn == lsn)
	{
		LWLockAcquire(&inst->flush_lock.lock, LW_EXCLUSIVE);
		bp_flush_list_remove(inst, li, b);
		d->oldest_lsn = 0;
		pg_atomic_fetch_and_u32(&d->state, ~BP_BS_DIRTY);
		LWLockRelease(&inst->flush_lock.lock);
	}
	LWLockRelease(&d->content_lock);
	d->flush_type = (uint8) type;
}

/*
 * Write one block if it is dirty.  Caller holds a pin.  Returns true if
 * this call wrote it (or found its space dropped and forgot the page).
 */
bool
bp_flush_block(int instance, BpBlockNo b, BpFlushType type)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	pg_atomic_uint32 *pending;
	uint32		st;

	if (write_buf == NULL)
		write_buf = MemoryContextAlloc(TopMemoryContext, BpPageSize);

	/* become the block's only writer */
	for (;;)
	{
		st = pg_atomic_read_u32(&d->state);
		if (!(st & BP_BS_DIRTY))
			return false;
		if (st & BP_BS_IO_WRITE)
		{
			ConditionVariablePrepareToSleep(&d->io_cv);
			while (pg_atomic_read_u32(&d->state) & BP_BS_IO_WRITE)
				ConditionVariableSleep(&d->io_cv, PG_WAIT_EXTENSION);
			ConditionVariableCancelSleep();
			continue;
		}
		if (pg_atomic_compare_exchange_u32(&d->state, &st, st | BP_BS_IO_WRITE))
			break;
	}

	pending = type == BP_FLUSH_LIST ? &inst->pending_flush_list : &inst->pending_flush_lru;
	pg_atomic_fetch_add_u32(pending, 1);
	PG_TRY();
	{
		bp_flush_block_io(inst, li, b, type);
	}
	PG_FINALLY();
	{
		pg_atomic_fetch_sub_u32(pending, 1);
		bp_clear_io_write(d);
	}
	PG_END_TRY();

	bp_my_counters(instance)->written++;
	return true;
}

/*
 * Write up to max_pages dirty pages of one instance from the flush list
 * tail (oldest modification first); space_id 0 means every space.  The
 * pages are written, not yet fsynced: see bp_space_sync_pending.
 */
int64
bp_flush_list_batch(int instance, int64 max_pages, uint32 space_id)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo  *batch;
	BpHeapMark	mark;
	int64		n = 0;
	int64		i;
	volatile int64 written = 0;
	BpBlockNo	b;

	if (max_pages <= 0)
		return 0;
	LWLockAcquire(&inst->flush_lock.lock, LW_SHARED);
	max_pages = Min(max_pages, (int64) inst->flush_len);
	LWLockRelease(&inst->flush_lock.lock);
	if (max_pages == 0)
		return 0;
	if (flush_heap == NULL)
		flush_heap = bp_heap_create("flush_batch", BP_HEAP_BUFFER, 0);
	mark = bp_heap_get_top(flush_heap);
	batch = bp_heap_alloc(flush_heap, sizeof(BpBlockNo) * max_pages);

	/*
	 * Dirty blocks cannot be evicted, but a block of a space being dropped
	 * can lose VALID (bp_buf_discard_block) while still on the list: pin
	 * only VALID blocks, by CAS, so a discard in progress and this batch
	 * exclude each other through the pin count.
	 */
	LWLockAcquire(&inst->flush_lock.lock, LW_SHARED);
	for (b = inst->flush_tail; b != BP_INVALID_BLOCK && n < max_pages; b = bp_desc(li, b)->flush_prev)
	{
		BpBlockDesc *d = bp_desc(li, b);
		uint32		st;

		if (space_id != 0 && d->space_id != space_id)
			continue;
		st = pg_atomic_read_u32(&d->state);
		while ((st & BP_BS_VALID) &&
			   !pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			;
		if (st & BP_BS_VALID)
			batch[n++] = b;
	}
	LWLockRelease(&inst->flush_lock.lock);

	PG_TRY();
	{
		for (i = 0; i < n; i++)
		{
			if (bp_flush_block(instance, batch[i], BP_FLUSH_LIST))
				written++;
			pg_atomic_fetch_sub_u32(&bp_desc(li, batch[i])->state, BP_REFCOUNT_ONE);
			batch[i] = BP_INVALID_BLOCK;
		}
	}
	PG_CATCH();
	{
		for (i = 0; i < n; i++)
			if (batch[i] != BP_INVALID_BLOCK)
				pg_atomic_fetch_sub_u32(&bp_desc(li, batch[i])->state, BP_REFCOUNT_ONE);
		bp_heap_free_to_mark(flush_heap, mark);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bp_heap_free_to_mark(flush_heap, mark);
	return written;
}

/*
 * Write and fsync every page that is dirty when called (of one space, or
 * of all when space_id is 0).  Returns the number of pages written.
 */
int64
bp_flush_all(uint32 space_id)
{
	int64		written = 0;
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
		written += bp_flush_list_batch(i, INT64_MAX / 2, space_id);
	bp_space_sync_pending();
	return written;
}

uint32
bp_dirty_pages_total(void)
{
	uint32		n = 0;
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
		n += BpShmem->instances[i].flush_len;
	return n;
}
