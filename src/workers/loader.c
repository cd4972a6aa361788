/*-------------------------------------------------------------------------
 *
 * loader.c
 *	  The warm-restart loader: a dynamic background worker that loads the
 *	  last dump into the pool (the work is bp_warm_load, src/pool/warm.c).
 *
 * Started by the pool manager once it has built the pool (load_at_startup),
 * or by bufpool.load(); at most one runs (warm_loading, under warm_mutex,
 * is set by the starter and cleared when the loader ends).  The starter
 * opens the operation's status row and passes its id, so bufpool.load(wait)
 * can wait for that operation.  Never restarted.  A loader stopped by
 * SIGTERM (the server's shutdown, or pg_terminate_backend) leaves
 * warm_load_cut set: the pool holds only part of the dump, and the
 * shutdown and periodic dumps keep the file until a load completes or
 * bufpool.dump() is asked for.
 *
 * IDENTIFICATION
 *	  src/workers/loader.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"

#include "bufpool_ext/pool/warm.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/workers/workers.h"

/*
 * Start the loader for a new load operation; returns its id, and if
 * handle is given, the worker's handle (this process is told when it
 * starts and stops).  ERROR if a load runs (naming it) or no background
 * worker slot is free.
 */
int64
bp_loader_start(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	BpWarmOp	running;
	bool		busy;
	int64		id;
	int64		k;

	SpinLockAcquire(&BpShmem->warm_mutex);
	busy = BpShmem->warm_loading;
	if (!busy)
		BpShmem->warm_loading = true;
	SpinLockRelease(&BpShmem->warm_mutex);
	if (busy)
	{
		memset(&running, 0, sizeof(running));
		for (k = BpShmem->warm_next_id - 1; k > 0 && k >= BpShmem->warm_next_id - BP_WARM_HISTORY; k--)
			if (bp_warm_get(k, &running) && running.kind == BP_WARM_LOAD)
				break;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("a bufpool_ext buffer pool load is already running"),
				 errdetail("Load %lld started at %s and has loaded %lld of %lld pages.",
						   (long long) running.id, timestamptz_to_str(running.started),
						   (long long) running.pages_done, (long long) running.pages_total),
				 errhint("Wait for it (bufpool.dump_load_status), or stop it with bufpool.load_abort().")));
	}
	pg_atomic_write_u32(&BpShmem->warm_abort, 0);
	id = bp_warm_begin(BP_WARM_LOAD);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strcpy(worker.bgw_library_name, "bufpool_ext");
	strcpy(worker.bgw_function_name, "bp_loader_main");
	strcpy(worker.bgw_name, "bufpool_ext loader");
	strcpy(worker.bgw_type, "bufpool_ext loader");
	worker.bgw_main_arg = Int64GetDatum(id);
	worker.bgw_notify_pid = handle ? MyProcPid : 0;
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		BpWarmOp	op;

		if (bp_warm_get(id, &op))
			bp_warm_finish(&op, BP_WARM_FAILED, LOG,
						   "could not start the loader: no background worker slot is free");
		SpinLockAcquire(&BpShmem->warm_mutex);
		BpShmem->warm_loading = false;
		SpinLockRelease(&BpShmem->warm_mutex);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the bufpool_ext loader: no background worker slot is free"),
				 errhint("Raise max_worker_processes.")));
	}
	return id;
}

/* The loader's exit: the next load may start; its operation ended. */
static void
bp_loader_exit(int code, Datum arg)
{
	int64		id = DatumGetInt64(arg);
	BpWarmOp	op;

	memset(&op, 0, sizeof(op));
	if (bp_warm_get(id, &op) && op.state == BP_WARM_RUNNING)
		bp_warm_finish(&op, BP_WARM_FAILED, LOG,
					   "the loader exited before the load ended (see the server log)");
	else if (op.id != id)
		memset(&op, 0, sizeof(op));	/* the row was reused */
	SpinLockAcquire(&BpShmem->warm_mutex);
	BpShmem->warm_loading = false;
	if (ShutdownRequestPending && op.id == id && op.state != BP_WARM_COMPLETED)
		BpShmem->warm_load_cut = true;
	else if (op.id == id && op.state == BP_WARM_COMPLETED)
		BpShmem->warm_load_cut = false;
	SpinLockRelease(&BpShmem->warm_mutex);
}

void
bp_loader_main(Datum arg)
{
	bp_worker_init();
	pgstat_report_appname("bufpool_ext loader");
	before_shmem_exit(bp_loader_exit, arg);
	bp_worker_wait_ready();
	bp_warm_load(DatumGetInt64(arg));
	proc_exit(0);
}
