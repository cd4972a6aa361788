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
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/base/trycall.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/pool/warm.h"
#include "bufpool_ext/pool/zip.h"
#include "bufpool_ext/workers/workers.h"

static void
bp_manager_build(void)
{
	int			i;

	pg_atomic_write_u32(&BpShmem->pool_state, BP_POOL_BUILDING);
	bp_space_load_registry();
	bp_warm_startup();
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

/* bp_warm_dump for bp_try_call */
typedef struct BpManagerDump
{
	int64		pages;
	const char *why;
} BpManagerDump;

static void
bp_manager_dump_step(void *arg)
{
	BpManagerDump *d = (BpManagerDump *) arg;

	d->pages = bp_warm_dump(true, &d->why);
}

/*
 * A dump by the pool manager (periodic, or at shutdown): an error is a
 * WARNING, the previous file kept; a skipped dump says why once.
 */
static void
bp_manager_dump(const char *when)
{
	static const char *last_why = NULL;
	BpManagerDump d = {0, NULL};
	char		message[256];

	if (!bp_try_call(bp_manager_dump_step, &d, message, sizeof(message), NULL, 0))
	{
		ereport(WARNING,
				(errmsg("bufpool_ext buffer pool dump %s failed: %s", when, message)));
		return;
	}
	if (d.pages < 0 && d.why != last_why)
		ereport(LOG,
				(errmsg("bufpool_ext buffer pool dump %s skipped: %s", when, d.why)));
	last_why = d.why;
}

static void
bp_manager_load_step(void *arg)
{
	(void) bp_loader_start(NULL);
}

/* Start the warm-restart load after a build (load_at_startup). */
static void
bp_manager_start_load(void)
{
	char		message[256];
	char		hint[256];

	if (!bp_try_call(bp_manager_load_step, NULL, message, sizeof(message), hint, sizeof(hint)))
		ereport(WARNING,
				(errmsg("bufpool_ext buffer pool load not started: %s", message),
				 errhint("%s", hint[0] ? hint : "The pool starts cold.")));
}

/*
 * The manager's wait set: its latch, the postmaster's death, and the
 * governor's PSI trigger descriptor (psi_fd, -1: none).  It lives across
 * waits, so a trigger firing while the manager works is still there at
 * its next wait (a set made for each wait would poll it away when the
 * descriptor is added); it is made again when the trigger is re-armed.
 */
static WaitEventSet *
bp_manager_wait_set(int psi_fd)
{
	static WaitEventSet *set = NULL;
	static uint32 generation = 0;

	if (set != NULL && generation == bp_psi_trigger_generation())
		return set;
	if (set != NULL)
		FreeWaitEventSet(set);
	set = CreateWaitEventSet(TopMemoryContext, 3);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	if (psi_fd >= 0)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, psi_fd, NULL, NULL);
	generation = bp_psi_trigger_generation();
	return set;
}

void
bp_manager_main(Datum arg)
{
	volatile TimestampTz last_sample = 0;
	volatile TimestampTz last_zip_tick = 0;
	volatile TimestampTz last_dump;
	volatile bool built = false;
	TimestampTz now;
	long		timeout;
	WaitEvent	events[3];
	int			n;
	int			i;

	bp_worker_init();
	pgstat_report_appname("bufpool_ext pool manager");

	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
	{
		PG_TRY();
		{
			bp_manager_build();
			built = true;
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

	/* only a build loads: a manager restarted over a READY pool does not */
	if (built && bp_load_at_startup)
		bp_manager_start_load();
	last_dump = GetCurrentTimestamp();

	pg_atomic_write_u32(&BpShmem->manager_procno, MyProc->pgprocno);
	/* an earlier manager stopped by pg_terminate_backend left its bit set */
	pg_atomic_fetch_and_u32(&BpShmem->shutting_down, ~BP_SHUTDOWN_BIT_MANAGER);
	last_zip_tick = GetCurrentTimestamp();
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
		if (TimestampDifferenceExceeds(last_zip_tick, now, 1000))
		{
			bp_zip_stat_tick(); /* the unzip_LRU's I/O-bound test, per second */
			last_zip_tick = now;
		}
		bp_heat_sweep_if_due(); /* no heat stamp may wrap round */
		bp_governor_sample();	/* the memory governor, when a sample is due */
		bp_leaks_check();		/* suspected leaks, when a check is due */
		timeout = Min(BP_RATE_SAMPLE_MS - TimestampDifferenceMilliseconds(last_sample, now),
					  (long) bp_hot_page_halflife_s * 1000L * BP_HEAT_SWEEP_TICKS / BP_HEAT_TICKS / 2);
		if (bp_dump_interval_s > 0)
		{
			if (TimestampDifferenceExceeds(last_dump, now, bp_dump_interval_s * 1000))
			{
				bp_manager_dump("by bufpool_ext.dump_interval");
				last_dump = now = GetCurrentTimestamp();
			}
			timeout = Min(timeout, (long) bp_dump_interval_s * 1000L -
						  TimestampDifferenceMilliseconds(last_dump, now));
		}
		timeout = Min(timeout, bp_governor_next_ms());
		timeout = Min(timeout, bp_leaks_next_ms());
		timeout = Min(timeout, 1000L - TimestampDifferenceMilliseconds(last_zip_tick, now));
		/* wake for the next sample, dump, and often enough for the heat sweep */
		n = WaitEventSetWait(bp_manager_wait_set(bp_governor_wait_fd()), Max(timeout, 1),
							 events, lengthof(events), PG_WAIT_EXTENSION);
		for (i = 0; i < n; i++)
			if (events[i].events & WL_SOCKET_READABLE)
				bp_governor_psi_fired();	/* the PSI trigger: sample now */
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pg_atomic_write_u32(&BpShmem->manager_procno, INVALID_PGPROCNO);
	/* backstop for the page cleaners' shutdown flush */
	bp_final_flush(0, 1, BP_SHUTDOWN_BIT_MANAGER);
	/* the hottest pages, for the next start (a terminate dumps too: harmless) */
	if (bp_dump_at_shutdown && pg_atomic_read_u32(&BpShmem->pool_state) == BP_POOL_READY)
		bp_manager_dump("at shutdown");

	/*
	 * SIGTERM is the server's shutdown or a pg_terminate_backend() aimed
	 * at this worker; the two look the same here.  Exit code 1 asks the
	 * postmaster to start the worker again, which it does only if the
	 * server is not shutting down (code 0 would end it for good).
	 */
	proc_exit(1);
}
