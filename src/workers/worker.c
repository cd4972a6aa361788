/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  What every background worker of bufpool_ext shares: registration
 *	  with the postmaster, the start, the sleep, the wait for the pool,
 *	  and the flush at shutdown.
 *
 * The workers (manager.c, cleaner.c, logwriter.c) are started with the
 * server after recovery and restarted when they exit with code 1.  Each
 * ignores SIGINT (a cancel must not take a worker away), exits its loop
 * on SIGTERM and re-reads the configuration on SIGHUP; each connects to
 * no database.
 *
 * IDENTIFICATION
 *	  src/workers/worker.c
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
#include "utils/guc.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/workers/workers.h"

/* One background worker of bufpool_ext, started with the server. */
static void
bp_register_worker(const char *function, const char *name, const char *type,
				   int restart_time, Datum arg)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = restart_time;
	strcpy(worker.bgw_library_name, "bufpool_ext");
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	worker.bgw_main_arg = arg;
	RegisterBackgroundWorker(&worker);
}

void
bp_workers_register(void)
{
	int			i;

	bp_register_worker("bp_manager_main", "bufpool_ext pool manager",
					   "bufpool_ext pool manager", 5, (Datum) 0);
	bp_register_worker("bp_log_writer_main", "bufpool_ext log writer",
					   "bufpool_ext log writer", 1, (Datum) 0);
	for (i = 0; i < bp_page_cleaners; i++)
	{
		char		name[BGW_MAXLEN];

		snprintf(name, sizeof(name), "bufpool_ext page cleaner %d", i);
		bp_register_worker("bp_cleaner_main", name, "bufpool_ext page cleaner", 5,
						   Int32GetDatum(i));
	}
}

/*
 * The start of every worker: SIGINT ignored (a cancel must not take a
 * worker away), SIGTERM and SIGHUP noted, a connection to no database.
 */
void
bp_worker_init(void)
{
	pqsignal(SIGINT, SIG_IGN);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
}

/*
 * Sleep until the latch is set or timeout_ms pass, then take signals: a
 * reload re-reads the configuration (returns true).
 */
bool
bp_worker_sleep(long timeout_ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 timeout_ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	return true;
}

/* Wait until the pool manager has built the pool (and recovered), then map it. */
void
bp_worker_wait_ready(void)
{
	while (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
	{
		if (ShutdownRequestPending)
			proc_exit(1);
		ConditionVariableTimedSleep(&BpShmem->ready_cv, 200, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	bp_ensure_attached();
}

/*
 * Shutdown: write every dirty page of instances first, first + step, ...
 * and fsync.  The page cleaners each do their own instances; the pool
 * manager does all of them as a backstop (a cleaner that errored out is
 * restarted only after some seconds, and could miss the shutdown).  Two
 * writers of the same page exclude each other through IO_WRITE.
 */
void
bp_final_flush(int first, int step, uint32 worker_bit)
{
	int			i;
	int			pass;

	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
		return;
	pg_atomic_fetch_or_u32(&BpShmem->shutting_down, worker_bit);
	pg_memory_barrier();
	bp_ensure_attached();
	for (pass = 0; pass < 10; pass++)
	{
		int64		written = 0;

		for (i = first; i < BpShmem->n_instances; i += step)
			written += bp_flush_list_batch(i, INT64_MAX / 2, 0);
		bp_space_sync_pending();
		if (written == 0)
			break;
	}
	/* nothing of these instances is dirty: recovery need not go back */
	(void) bp_redo_checkpoint();
}
