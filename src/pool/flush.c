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
 * Writing blocks (bp_flush_blocks): in rounds of up to the write
 * buffer's capacity, set IO_WRITE on each (one writer per block; others
 * wait on the block's condition variable), copy the frames under the
 * content lock in share mode into the process's write buffer and set each
 * copy's header and checksum.  With bufpool_ext.doublewrite the round then goes through a
 * region of the doublewrite file (written and fdatasynced) and is
 * written in place; the data files are fsynced before the region is
 * given back, which may be a round later or at the end of the call
 * (src/storage/dblwr.c, "Deferred data-file sync"); without, it is only written
 * in place.  Afterwards,
 * under the content lock in share mode again, a block is made clean only
 * if no modification came in meanwhile (the frame's page LSN unchanged);
 * otherwise it stays dirty and keeps its place (its old oldest_lsn is
 * conservative).  A failed write leaves the block dirty, so nothing is
 * lost.  Flush-list batches, the cleaners' LRU-tail batches and a
 * shrink's doomed chunks are written this way; a page written alone
 * (bp_flush_block) is a round of one.  (The fault point page-write lets
 * a test park a writer between the copies and the writes, so isolation
 * specs can modify, flush or evict a page then; page-write-in-place lets
 * one tear a page, see src/base/fault.c.)
 *
 * A batch's array of pinned blocks comes from a BUFFER heap of the
 * process (src/mmgr/heap.c), created at its first batch: the heap's top is
 * marked at the start and freed back to at the end, on error too, so a
 * large batch (an array of half a page or more) borrows a buffer-pool
 * frame for its duration instead of growing the process's memory (an
 * array larger than a page gets an exact malloc'd block).
 *
 * IDENTIFICATION
 *	  src/pool/flush.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/pool/zip.h"
#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/mmgr/heap.h"
#include "bufpool_ext/storage/space.h"

/* blocks of a batch written per bp_flush_blocks call (pins go early) */
#define BP_FLUSH_SLICE 4096

/* One round of bp_flush_blocks: pages copied into the write buffer. */
typedef struct BpFlushRound
{
	int			instance;
	BpInstance *inst;
	BpLocalInstance *li;
	BpFlushType type;
	int			k;				/* blocks in this round */
	BpBlockNo  *blocks;			/* [capacity], IO_WRITE set by us */
	uint64	   *lsns;			/* newest_lsn of each copy */
	char	   *pages;			/* the copies: bp_dblwr_buffer */
} BpFlushRound;

static BpHeap *flush_heap = NULL;	/* batch arrays, see above */
static BpBlockNo *round_blocks = NULL;
static uint64 *round_lsns = NULL;
static int	round_cap = 0;
static bool flush_busy = false;	/* bp_flush_blocks is not reentrant */

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
 * A clean block becomes dirty with its first change at oldest_lsn: it goes
 * to the head of its flush list.  Caller holds the instance's flush_lock
 * and the block's content lock exclusively.
 */
static void
bp_flush_list_push(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, uint64 oldest_lsn)
{
	BpBlockDesc *d = bp_desc(li, b);

	d->oldest_lsn = oldest_lsn;
	d->flush_prev = BP_INVALID_BLOCK;
	d->flush_next = inst->flush_head;
	if (inst->flush_head != BP_INVALID_BLOCK)
		bp_desc(li, inst->flush_head)->flush_prev = b;
	else
		inst->flush_tail = b;
	inst->flush_head = b;
	inst->flush_len++;
	pg_atomic_fetch_or_u32(&d->state, BP_BS_DIRTY);
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

	/* held exclusively (by the caller: the word does not say by whom) */
	Assert(pg_atomic_read_u32(&d->content_lock) & BP_CL_EXCLUSIVE);
	if (pg_atomic_read_u32(&d->state) & BP_BS_DIRTY)
		lsn = bp_redo_append(type, d->space_id, d->page_no, offset, data, data_len, &start);
	else
	{
		LWLockAcquire(&inst->flush_lock.lock, LW_EXCLUSIVE);
		lsn = bp_redo_append(type, d->space_id, d->page_no, offset, data, data_len, &start);
		bp_flush_list_push(inst, li, b, start);
		LWLockRelease(&inst->flush_lock.lock);
	}
	((BpPageHeader *) bp_frame(li, b))->lsn = lsn;
	pg_atomic_fetch_add_u64(&BpShmem->modifications, 1);
	return lsn;
}

/*
 * Record the changes of a mini-transaction: blocks[i] of instance
 * instances[i], i < n, each pinned and locked exclusively by the caller,
 * each once, changed as the n_parts records of parts say (one or more per
 * block, in the blocks' order).  The records go to the log as one group
 * (bp_redo_append_group), under the flush_locks of the instances whose
 * blocks were clean, taken in ascending instance order, so every flush
 * list stays ordered by oldest_lsn.  Every page takes the group's end
 * LSN: a page of the group is never written before the whole group is
 * durable (the write-ahead rule of bp_flush_block looks at the page LSN).
 * Returns that LSN.
 */
uint64
bp_mark_dirty_group(int n, const int *instances, const BpBlockNo *blocks,
					int n_parts, const BpRedoPart *parts)
{
	volatile uint64 clean = 0;	/* instances with a clean block */
	uint64		lsn;
	uint64		start;
	int			i;

	for (i = 0; i < n; i++)
	{
		BpBlockDesc *d = bp_desc(&BpLocal[instances[i]], blocks[i]);

		Assert(pg_atomic_read_u32(&d->content_lock) & BP_CL_EXCLUSIVE);
		if (!(pg_atomic_read_u32(&d->state) & BP_BS_DIRTY))
			clean |= UINT64CONST(1) << instances[i];
	}
	for (i = 0; i < BpShmem->n_instances; i++)
		if (clean & (UINT64CONST(1) << i))
			LWLockAcquire(&BpShmem->instances[i].flush_lock.lock, LW_EXCLUSIVE);
	PG_TRY();
	{
		lsn = bp_redo_append_group(parts, n_parts, &start);
	}
	PG_CATCH();
	{
		for (i = 0; i < BpShmem->n_instances; i++)
			if (clean & (UINT64CONST(1) << i))
				LWLockRelease(&BpShmem->instances[i].flush_lock.lock);
		PG_RE_THROW();
	}
	PG_END_TRY();
	for (i = 0; i < n; i++)
	{
		BpInstance *inst = &BpShmem->instances[instances[i]];
		BpLocalInstance *li = &BpLocal[instances[i]];
		BpBlockNo	b = blocks[i];
		BpBlockDesc *d = bp_desc(li, b);

		if (!(pg_atomic_read_u32(&d->state) & BP_BS_DIRTY))
			bp_flush_list_push(inst, li, b, start);
		((BpPageHeader *) bp_frame(li, b))->lsn = lsn;
	}
	for (i = 0; i < BpShmem->n_instances; i++)
		if (clean & (UINT64CONST(1) << i))
			LWLockRelease(&BpShmem->instances[i].flush_lock.lock);
	pg_atomic_fetch_add_u64(&BpShmem->modifications, n);
	return lsn;
}

/* Record how a block we hold IO_WRITE on was written (for bufpool.pages). */
static void
bp_set_flush_type(BpBlockDesc *d, BpFlushType type)
{
	uint32		st = pg_atomic_read_u32(&d->state);

	while (!pg_atomic_compare_exchange_u32(&d->state, &st,
										   (st & ~BP_BS_FLUSH_MASK) |
										   ((uint32) type << BP_BS_FLUSH_SHIFT)))
		;
}

static void
bp_clear_io_write(int instance, BpBlockNo b)
{
	pg_atomic_fetch_and_u32(&bp_desc(&BpLocal[instance], b)->state, ~BP_BS_IO_WRITE);
	ConditionVariableBroadcast(bp_block_cv(instance, b));
}

/*
 * Write the k pages of one round in place from the buffer.  The fault
 * point page-write-in-place comes before each write: a test's callback
 * may write part of the page and PANIC there, leaving a torn page.
 */
static void
bp_flush_write_in_place(BpFlushRound *r)
{
	int			j;

	for (j = 0; j < r->k; j++)
	{
		BpBlockDesc *d = bp_desc(r->li, r->blocks[j]);
		char	   *page = r->pages + (Size) j * BpPageSize;

		if (BP_FAULT_ARMED())
		{
			BpFaultPage fp = {d->space_id, d->page_no, page};

			/* a test may tear this write and crash here */
			(void) bp_fault_run("page-write-in-place", &fp);
		}
		/* false means the space is gone: forget the page all the same */
		if (bp_space_write_prepared(d->space_id, d->page_no, page, BpPageSize))
			bp_zip_written(r->instance, r->blocks[j]);	/* its compressed image */
	}
}

/*
 * Write one round: the k blocks of r, whose IO_WRITE the caller set and
 * which fit the buffer.  Copy each page under its content lock (share),
 * set its header and checksum; with doublewrite, write the copies to a
 * region of the doublewrite file and fdatasync it, write them in place,
 * start their writeback and keep the region deferred until the data files
 * are fsynced (dblwr.c; bp_flush_blocks does it at the latest); without,
 * write them in place (the caller fsyncs later).  Then a block
 * is made clean if no modification came in meanwhile, and IO_WRITE is
 * cleared.  On error every block keeps its dirty state (nothing is lost)
 * and loses IO_WRITE.  Returns the number of pages written.
 */
static int
bp_flush_round(BpFlushRound *r)
{
	BpInstance *inst = r->inst;
	BpLocalInstance *li = r->li;
	pg_atomic_uint32 *pending;
	volatile int region = -1;
	volatile bool in_place = false;
	int			j;

	pending = r->type == BP_FLUSH_LIST ? &inst->pending_flush_list : &inst->pending_flush_lru;
	pg_atomic_fetch_add_u32(pending, r->k);
	PG_TRY();
	{
		uint64		max_lsn = 0;

		for (j = 0; j < r->k; j++)
		{
			BpBlockDesc *d = bp_desc(li, r->blocks[j]);
			char	   *page = r->pages + (Size) j * BpPageSize;

			/*
			 * Content locks taken here are not in the pin table that an
			 * abort releases: nothing between lock and unlock may raise
			 * an ERROR (here and below).
			 */
			bp_content_lock(r->instance, r->blocks[j], false);
			memcpy(page, bp_frame(li, r->blocks[j]), BpPageSize);
			bp_content_unlock(r->instance, r->blocks[j], false);
			r->lsns[j] = ((BpPageHeader *) page)->lsn;
			max_lsn = Max(max_lsn, r->lsns[j]);
			bp_page_prepare_write(page, d->space_id, d->page_no);
		}
		if (BP_FAULT_ARMED() && bp_fault_attached("page-write"))
		{
			/* a test may park this process here: keep no region deferred */
			bp_dblwr_sync_deferred();
			(void) bp_fault_run("page-write", NULL);
		}
		/* write-ahead: the pages' redo is durable before any of them is written */
		bp_redo_flush(max_lsn, true);
		if (bp_doublewrite)
		{
			region = bp_dblwr_claim(r->k);
			bp_dblwr_write(region, r->pages, r->k);
			in_place = true;
			bp_flush_write_in_place(r);
			if (r->k > 1)
				bp_space_start_writeback();
			bp_dblwr_defer(region);
			region = -1;
			in_place = false;

			/*
			 * A page written alone keeps no region past its round: the
			 * post-processing below takes content and flush-list locks,
			 * and a one-page region's waiter may hold a content lock (a
			 * session whose miss must write a dirty tail block).
			 */
			if (r->k == 1)
				bp_dblwr_sync_deferred();
		}
		else
			bp_flush_write_in_place(r);
	}
	PG_CATCH();
	{
		/* retire's WARNING must not let a pending cancel cut this short */
		HOLD_INTERRUPTS();
		/* copies of pages written in place but maybe not synced: keep them */
		if (region >= 0)
		{
			if (in_place)
				bp_dblwr_retire(region);
			else
				bp_dblwr_release(region);
		}
		pg_atomic_fetch_sub_u32(pending, r->k);
		for (j = 0; j < r->k; j++)
			bp_clear_io_write(r->instance, r->blocks[j]);
		RESUME_INTERRUPTS();
		PG_RE_THROW();
	}
	PG_END_TRY();

	for (j = 0; j < r->k; j++)
	{
		BpBlockDesc *d = bp_desc(li, r->blocks[j]);

		bp_content_lock(r->instance, r->blocks[j], false);
		if (bp_block_newest_lsn(li, r->blocks[j]) == r->lsns[j])
		{
			LWLockAcquire(&inst->flush_lock.lock, LW_EXCLUSIVE);
			bp_flush_list_remove(inst, li, r->blocks[j]);
			d->oldest_lsn = 0;
			pg_atomic_fetch_and_u32(&d->state, ~BP_BS_DIRTY);
			LWLockRelease(&inst->flush_lock.lock);
		}
		bp_content_unlock(r->instance, r->blocks[j], false);
		bp_set_flush_type(d, r->type);
		bp_clear_io_write(r->instance, r->blocks[j]);
	}
	pg_atomic_fetch_sub_u32(pending, r->k);
	bp_my_counters(r->instance)->written += r->k;
	return r->k;
}

/*
 * Write those of the n given blocks that are dirty, in rounds of at most
 * the write buffer's capacity (bufpool_ext.doublewrite_batch_pages for a
 * batch, 1 for a single page).  Caller holds a pin on each block.  With
 * doublewrite, the data files are fsynced before this returns (the
 * regions it used are released).  Returns the number of pages this call
 * wrote.
 *
 * A block another process is writing (IO_WRITE) is waited for, but only
 * after the round collected so far has been written and the doublewrite
 * regions this process keeps are synced and released: a process never
 * waits for IO_WRITE while it owns IO_WRITE of other blocks or a
 * doublewrite region, so two writers cannot wait for each other.  A block found clean is skipped.
 */
static int64
bp_flush_blocks_loop(BpFlushRound *r, const BpBlockNo *blocks, int n, int cap)
{
	int			i = 0;
	int64		written = 0;

	while (i < n)
	{
		BpBlockDesc *d = bp_desc(r->li, blocks[i]);
		uint32		st = pg_atomic_read_u32(&d->state);

		if (!(st & BP_BS_DIRTY))
		{
			i++;
			continue;
		}
		if (st & BP_BS_IO_WRITE)
		{
			if (r->k > 0)
			{
				written += bp_flush_round(r);
				r->k = 0;
				continue;
			}
			/* its writer may be waiting for a region we keep (dblwr.c) */
			bp_dblwr_sync_deferred();
			bp_block_wait_clear(r->instance, blocks[i], BP_BS_IO_WRITE);
			continue;
		}
		if (!pg_atomic_compare_exchange_u32(&d->state, &st, st | BP_BS_IO_WRITE))
			continue;
		r->blocks[r->k++] = blocks[i++];
		if (r->k == cap)
		{
			written += bp_flush_round(r);
			r->k = 0;
		}
	}
	if (r->k > 0)
		written += bp_flush_round(r);
	return written;
}

int64
bp_flush_blocks(int instance, const BpBlockNo *blocks, int n, BpFlushType type)
{
	BpFlushRound r;
	int			cap;
	int64		written = 0;

	if (n <= 0)
		return 0;
	if (flush_busy)
		elog(ERROR, "bufpool_ext: nested page flush");
	r.instance = instance;
	r.inst = &BpShmem->instances[instance];
	r.li = &BpLocal[instance];
	r.type = type;
	r.k = 0;
	r.pages = bp_dblwr_buffer(n > 1, &cap);
	if (round_cap < cap)
	{
		round_blocks = MemoryContextAlloc(TopMemoryContext, sizeof(BpBlockNo) * cap);
		round_lsns = MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * cap);
		round_cap = cap;
	}
	r.blocks = round_blocks;
	r.lsns = round_lsns;

	flush_busy = true;
	PG_TRY();
	{
		written = bp_flush_blocks_loop(&r, blocks, n, cap);
		bp_dblwr_sync_deferred();
	}
	PG_CATCH();
	{
		flush_busy = false;
		bp_dblwr_abandon_deferred();
		PG_RE_THROW();
	}
	PG_END_TRY();
	flush_busy = false;
	return written;
}

/*
 * Write one block if it is dirty.  Caller holds a pin.  Returns true if
 * this call wrote it (or found its space dropped and forgot the page).
 * With doublewrite, the page goes through a one-page region and is
 * fsynced in place before this returns (InnoDB's single-page flush).
 */
bool
bp_flush_block(int instance, BpBlockNo b, BpFlushType type)
{
	return bp_flush_blocks(instance, &b, 1, type) > 0;
}

/*
 * Write up to max_pages dirty pages of one instance from the flush list
 * tail (oldest modification first); space_id 0 means every space, and
 * only blocks of chunks >= min_chunk are taken (a shrink's doomed chunks;
 * 0 for all).  Without doublewrite the pages are written, not yet
 * fsynced: see bp_space_sync_pending.
 */
int64
bp_flush_list_batch_chunks(int instance, int64 max_pages, uint32 space_id, int min_chunk)
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
		if ((int) BP_BLOCK_CHUNK(b) < min_chunk)
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
		/* in slices, so the pins of written blocks go early */
		for (i = 0; i < n; i += BP_FLUSH_SLICE)
		{
			int			m = (int) Min((int64) BP_FLUSH_SLICE, n - i);
			int			j;

			written += bp_flush_blocks(instance, batch + i, m, BP_FLUSH_LIST);
			for (j = 0; j < m; j++)
			{
				pg_atomic_fetch_sub_u32(&bp_desc(li, batch[i + j])->state, BP_REFCOUNT_ONE);
				batch[i + j] = BP_INVALID_BLOCK;
			}
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

int64
bp_flush_list_batch(int instance, int64 max_pages, uint32 space_id)
{
	return bp_flush_list_batch_chunks(instance, max_pages, space_id, 0);
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
