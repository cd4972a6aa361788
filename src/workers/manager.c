/*-------------------------------------------------------------------------
 *
 * manager.c
 *	  The pool manager background worker.
 *
 * dsm_create is not allowed in the postmaster, so this worker builds the
 * pool at startup: it loads the space registry, repairs torn pages from
 * the doublewrite file (dblwr.c), creates every chunk and
 * page hash, puts all blocks on the free lists and turns the pool state
 * to READY, waking sessions that wait in bp_ensure_attached.  If the
 * build fails (for instance /dev/shm is too small) the state turns
 * FAILED with the reason, sessions get that reason as an error, and the
 * worker exits to be restarted and try again.
 *
 * After a crash-restart the startup hook resets the state to INIT and
 * this worker, restarted with the cluster, builds a new pool.  Then it
 * runs online resizes (resize.c), one at a time, requested by
 * bufpool.resize() or by a reload that changed bufpool_ext.size, and
 * every BP_RATE_SAMPLE_MS stores a sample of the pool's counters, which
 * a session's first read of bufpool.stats measures its rates from, and
 * clears the heat of pages idle for long (heat.c).
 *
 * SIGTERM (shutdown, or pg_terminate_backend) makes a running resize fail
 * and roll back; the worker then exits to be started again, and picks up
 * any request left pending.  SIGINT (a cancel) is ignored.
 *
 * IDENTIFICATION
 *	  src/workers/manager.c
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

#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/workers/workers.h"

static void
bp_manager_build(void)
{
	int			i;

	pg_atomic_write_u32(&BpShmem->pool_state, BP_POOL_BUILDING);
	bp_space_load_registry();
	/* torn pages are repaired before anything reads them (and before redo) */
	bp_dblwr_recover();
	bp_redo_recover();
	bp_chunk_build_all();

	if (BpLocal == NULL)
		bp_local_alloc();
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		bp_attach_instance_segments(i);
		bp_lru_init_instance(i);
	}
	BpLocalGeneration = pg_atomic_read_u32(&BpShmem->generation);
	pg_write_barrier();
	pg_atomic_write_u32(&BpShmem->pool_state, BP_POOL_READY);
	ConditionVariableBroadcast(&BpShmem->ready_cv);
	ereport(LOG,
			(errmsg("bufpool_ext buffer pool ready: %d instance(s) x %d chunk(s) of %zu MB, %u pages of %d bytes per instance",
					BpShmem->n_instances, BpShmem->chunks_per_instance,
					BpShmem->chunk_size / (1024 * 1024),
					BpShmem->instances[0].n_blocks, BpShmem->page_size),
			 errdetail("bufpool_ext.size %zu MB rounded up to %zu MB (a multiple of chunk_size x instances).",
					   BpShmem->requested_size / (1024 * 1024),
					   BpShmem->effective_size / (1024 * 1024))));
}

void
bp_manager_main(Datum arg)
{
	volatile TimestampTz last_sample = 0;
	TimestampTz now;

	bp_worker_init();
	pgstat_report_appname("bufpool_ext pool manager");

	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
	{
		PG_TRY();
		{
			bp_manager_build();
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(TopMemoryContext);
			edata = CopyErrorData();
			strlcpy(BpShmem->error, edata->message, sizeof(BpShmem->error));
			pg_write_barrier();
			pg_atomic_write_u32(&BpShmem->pool_state, BP_POOL_FAILED);
			ConditionVariableBroadcast(&BpShmem->ready_cv);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}

	pg_atomic_write_u32(&BpShmem->manager_procno, MyProc->pgprocno);
	/* an earlier manager stopped by pg_terminate_backend left its bit set */
	pg_atomic_fetch_and_u32(&BpShmem->shutting_down, ~BP_SHUTDOWN_BIT_MANAGER);
	while (!ShutdownRequestPending)
	{
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			bp_resize_from_config();
		}
		bp_resize_run_pending();
		bp_backend_mem_publish(false);
		now = GetCurrentTimestamp();
		if (TimestampDifferenceExceeds(last_sample, now, BP_RATE_SAMPLE_MS))
		{
			bp_counters_sample();	/* the base of bufpool.stats' rates */
			last_sample = now;
		}
		bp_heat_sweep_if_due(); /* no heat stamp may wrap round */
		/* wake for the next sample, and often enough for the heat sweep */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(Min(BP_RATE_SAMPLE_MS - TimestampDifferenceMilliseconds(last_sample, now),
								 (long) bp_hot_page_halflife_s * 1000L * BP_HEAT_SWEEP_TICKS / BP_HEAT_TICKS / 2), 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pg_atomic_write_u32(&BpShmem->manager_procno, INVALID_PGPROCNO);
	/* backstop for the page cleaners' shutdown flush */
	bp_final_flush(0, 1, BP_SHUTDOWN_BIT_MANAGER);

	/*
	 * SIGTERM is the server's shutdown or a pg_terminate_backend() aimed
	 * at this worker; the two look the same here.  Exit code 1 asks the
	 * postmaster to start the worker again, which it does only if the
	 * server is not shutting down (code 0 would end it for good).
	 */
	proc_exit(1);
}
