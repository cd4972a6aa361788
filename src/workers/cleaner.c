/*-------------------------------------------------------------------------
 *
 * cleaner.c
 *	  Page cleaner background workers.
 *
 * InnoDB's page cleaner: once a second (or sooner when a session found no
 * free block), each cleaner works on the instances i with
 * i % page_cleaners == its number:
 *
 *	- LRU work: from the LRU tail, up to lru_scan_depth blocks, write
 *	  dirty unpinned pages and move clean unpinned ones to the free list,
 *	  until the free list holds min(lru_scan_depth, 10% of the instance).
 *	  (InnoDB keeps lru_scan_depth free; a small pool would then be
 *	  mostly free, hence the cap.)
 *	- Flush-list work, paced as InnoDB's adaptive flushing by dirty
 *	  pages: at or above max_dirty_pages_pct, io_capacity_max pages per
 *	  second; above max_dirty_pages_pct_lwm, io_capacity scaled by
 *	  dirty_pct / (max_dirty_pages_pct + 1); when the server did no
 *	  modification since the last pass (idle), io_capacity.  Shared by
 *	  instances in proportion.  (Adaptive flushing by redo age comes with
 *	  the redo log.)
 *
 * Writes are fsynced at the end of each pass (with doublewrite, at the
 * end of each batch round, through the cleaner's own doublewrite region).  On SIGTERM (shutdown) a
 * cleaner sets shutting_down, then writes every dirty page of its
 * instances and fsyncs them; a session that dirties a page after that
 * point writes it itself (bp_page_unlock), so a fast shutdown loses
 * nothing acknowledged.  SIGTERM from pg_terminate_backend() looks the
 * same: the cleaner flushes and exits with code 1, the postmaster starts
 * it again after bgw_restart_time, and the new cleaner clears its own bit
 * of shutting_down (a bitmask, one bit per worker).
 *
 * IDENTIFICATION
 *	  src/workers/cleaner.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/workers/workers.h"

static int	my_number = 0;

static int64
bp_cleaner_flush_quota(uint64 *last_mods)
{
	uint64		total_blocks = 0;
	uint64		mods = pg_atomic_read_u64(&BpShmem->modifications);
	double		dirty_pct;
	int			i;
	int64		n;

	for (i = 0; i < BpShmem->n_instances; i++)
		total_blocks += BpShmem->instances[i].n_blocks;
	if (total_blocks == 0)
		return 0;
	dirty_pct = 100.0 * bp_dirty_pages_total() / total_blocks;

	if (dirty_pct >= bp_max_dirty_pages_pct)
		n = bp_io_capacity_max;
	else if (bp_max_dirty_pages_pct_lwm > 0 && dirty_pct >= bp_max_dirty_pages_pct_lwm)
		n = (int64) (bp_io_capacity * dirty_pct / (bp_max_dirty_pages_pct + 1));
	else if (mods == *last_mods)
		n = bp_io_capacity;		/* idle: flush at io_capacity */
	else
		n = 0;
	*last_mods = mods;

	/*
	 * Adaptive flushing by checkpoint age, as InnoDB's: past 10% of the
	 * log the oldest pages must go so the checkpoint can advance, at up
	 * to io_capacity_max by 75% (a change waits for room at 100%).
	 */
	if (BpRedo != NULL && BpRedo->ready && BpRedo->file_size > 0)
	{
		double		age_pct = 100.0 * bp_redo_checkpoint_age() / BpRedo->file_size;

		if (age_pct >= 75.0)
			n = Max(n, bp_io_capacity_max);
		else if (age_pct >= 10.0)
			n = Max(n, (int64) (bp_io_capacity_max * age_pct / 75.0));
	}
	/* the memory governor at warning or worse: write dirty pages out */
	if (pg_atomic_read_u32(&BpShmem->mem_level) >= BP_LEVEL_WARNING)
		n = bp_io_capacity_max;
	return Min(n, (int64) bp_io_capacity_max);
}

static void
bp_cleaner_pass(int64 quota)
{
	int			i;
	int			n_mine = 0;

	/* follow resizes: map new chunks, let go of removed ones */
	bp_ensure_attached();
	for (i = my_number; i < BpShmem->n_instances; i += bp_page_cleaners)
		n_mine++;
	for (i = my_number; i < BpShmem->n_instances; i += bp_page_cleaners)
	{
		BpInstance *inst = &BpShmem->instances[i];
		int			target = Min(bp_lru_scan_depth, (int) inst->n_blocks / 10);

		bp_lru_tail_work(i, target, bp_lru_scan_depth);
		if (quota > 0)
			bp_flush_list_batch(i, Max(quota / BpShmem->n_instances, 1), 0);
	}
	bp_space_sync_pending();
}

static void
bp_cleaner_final_flush(void)
{
	bp_final_flush(my_number, bp_page_cleaners, BP_SHUTDOWN_BIT_CLEANER(my_number));
	if (my_number == 0)
	{
		LWLockAcquire(&BpShmem->space_lock.lock, LW_EXCLUSIVE);
		bp_space_save_registry();	/* records the LSN high-water mark */
		LWLockRelease(&BpShmem->space_lock.lock);
	}
	ereport(DEBUG1, (errmsg("bufpool_ext page cleaner %d flushed all dirty pages", my_number)));
}

void
bp_cleaner_main(Datum arg)
{
	uint64		last_mods = 0;
	TimestampTz last_pass = 0;

	my_number = DatumGetInt32(arg);
	bp_dblwr_set_cleaner(my_number);	/* its own doublewrite region */
	bp_worker_init();			/* a cancel must not take it away: it would miss shutdown */
	bp_worker_wait_ready();
	pg_atomic_write_u32(&BpShmem->cleaner_procno[my_number], MyProc->pgprocno);

	/*
	 * A starting cleaner means its own earlier SIGTERM was aimed at it
	 * (pg_terminate_backend), not the server's shutdown: clear its own bit
	 * of shutting_down.  Only its own: another worker's bit may belong to
	 * a real shutdown that began while this one was being started.
	 */
	pg_atomic_fetch_and_u32(&BpShmem->shutting_down, ~BP_SHUTDOWN_BIT_CLEANER(my_number));

	while (!ShutdownRequestPending)
	{
		TimestampTz now;

		(void) bp_worker_sleep(1000L);
		if (ShutdownRequestPending)
			break;
		bp_backend_mem_publish(false);
		if (my_number == 0)
			bp_heat_sweep_if_due();	/* also the manager's; whoever is first */
		if (BP_FAULT("page-cleaner-pass", NULL))
			continue;			/* a test wants a quiet pool */

		now = GetCurrentTimestamp();
		if (TimestampDifferenceExceeds(last_pass, now, 1000))
		{
			/* the once-a-second pass: LRU work and paced flushing */
			bp_cleaner_pass(bp_cleaner_flush_quota(&last_mods));
			last_pass = now;
		}
		else if (pg_atomic_exchange_u32(&BpShmem->free_wanted, 0))
			bp_cleaner_pass(0);	/* woken early: only refill free lists */
	}

	pg_atomic_write_u32(&BpShmem->cleaner_procno[my_number], INVALID_PGPROCNO);
	bp_cleaner_final_flush();
	/* restarted unless the server is shutting down: see manager.c */
	proc_exit(1);
}
