/*-------------------------------------------------------------------------
 *
 * sql_warm.c
 *	  SQL functions of the warm restart: bufpool.dump(), bufpool.load(),
 *	  bufpool.load_abort() and the view bufpool.dump_load_status
 *	  (src/pool/warm.c, src/workers/loader.c).
 *
 * IDENTIFICATION
 *	  src/sql/sql_warm.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bufpool_ext/pool/warm.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"
#include "bufpool_ext/workers/workers.h"

PG_FUNCTION_INFO_V1(bp_sql_dump);
PG_FUNCTION_INFO_V1(bp_sql_load);
PG_FUNCTION_INFO_V1(bp_sql_load_abort);
PG_FUNCTION_INFO_V1(bp_sql_dump_load_status);

/* bufpool.dump() returns bigint: the pages written */
Datum
bp_sql_dump(PG_FUNCTION_ARGS)
{
	const char *why;

	bp_sql_require_superuser("dump");
	PG_RETURN_INT64(bp_warm_dump(false, &why));
}

/*
 * Wait for load operation id to end; the loader's handle tells if it
 * never started or died.  A cancel ends the wait, not the load.
 */
static void
bp_sql_load_wait(int64 id, BackgroundWorkerHandle *handle, BpWarmOp *op)
{
	ConditionVariablePrepareToSleep(&BpShmem->warm_cv);
	for (;;)
	{
		pid_t		pid;

		if (!bp_warm_get(id, op))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("bufpool_ext load %lld is no longer in bufpool.dump_load_status", (long long) id)));
		if (op->state != BP_WARM_RUNNING)
			break;
		if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
		{
			/* its exit callback ends the operation: look once more */
			if (bp_warm_get(id, op) && op->state == BP_WARM_RUNNING)
			{
				bp_warm_finish(op, BP_WARM_FAILED, LOG,
							   "the loader stopped before it began (see the server log)");
				SpinLockAcquire(&BpShmem->warm_mutex);
				BpShmem->warm_loading = false;
				SpinLockRelease(&BpShmem->warm_mutex);
			}
			continue;
		}
		ConditionVariableTimedSleep(&BpShmem->warm_cv, 1000, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * bufpool.load(wait boolean default true) returns bigint: starts the
 * loader; with wait, the pages loaded once it ends (a failed load gives a
 * WARNING with the reason and 0), else NULL.
 */
Datum
bp_sql_load(PG_FUNCTION_ARGS)
{
	BackgroundWorkerHandle *handle;
	int64		id;
	BpWarmOp	op;

	bp_sql_require_superuser("load");
	bp_sql_not_null(fcinfo, 0, "load", "wait");
	bp_ensure_attached();
	id = bp_loader_start(&handle);
	if (!PG_GETARG_BOOL(0))
		PG_RETURN_NULL();
	bp_sql_load_wait(id, handle, &op);
	if (op.state == BP_WARM_FAILED)
		ereport(WARNING,
				(errmsg("bufpool_ext buffer pool load failed: %s", op.message)));
	PG_RETURN_INT64(op.pages_done);
}

/* bufpool.load_abort() returns boolean: whether a load was running */
Datum
bp_sql_load_abort(PG_FUNCTION_ARGS)
{
	bool		running;

	bp_sql_require_superuser("load_abort");
	bp_check_preloaded();
	SpinLockAcquire(&BpShmem->warm_mutex);
	running = BpShmem->warm_loading;
	SpinLockRelease(&BpShmem->warm_mutex);
	if (running)
		pg_atomic_write_u32(&BpShmem->warm_abort, 1);
	PG_RETURN_BOOL(running);
}

static void
bp_sql_put_warm_row(ReturnSetInfo *rsinfo, const BpWarmOp *op, int kind)
{
	Datum		values[15];
	bool		nulls[15] = {0};
	int			k = 0;
	int64		skipped = 0;
	int			s;

	for (s = 0; s < BP_SKIP_KINDS; s++)
		skipped += op->skipped[s];
	if (op->id > 0)
		values[k++] = Int64GetDatum(op->id);
	else
		nulls[k++] = true;
	values[k++] = CStringGetTextDatum(bp_warm_op_name(kind));
	values[k++] = CStringGetTextDatum(bp_warm_state_name(op->state));
	nulls[k] = op->started == 0;
	values[k++] = TimestampTzGetDatum(op->started);
	nulls[k] = op->finished == 0;
	values[k++] = TimestampTzGetDatum(op->finished);
	values[k++] = Int64GetDatum(op->pages_total);
	values[k++] = Int64GetDatum(op->pages_done);
	values[k++] = Int64GetDatum(skipped);
	for (s = 0; s < BP_SKIP_KINDS; s++)
		values[k++] = Int64GetDatum(op->skipped[s]);
	values[k++] = Float8GetDatum(op->id > 0 ? bp_warm_rate(op) : 0.0);
	values[k++] = CStringGetTextDatum(op->message);
	Assert(k == 15);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * bufpool.dump_load_status: the last operations, oldest first; an
 * operation kind not in the ring shows as one idle row.
 */
Datum
bp_sql_dump_load_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpWarmOp	rows[BP_WARM_HISTORY];
	bool		seen[BP_WARM_LOAD + 1] = {0};
	int			n;
	int			i;
	int			kind;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = bp_warm_list(rows);
	for (i = 0; i < n; i++)
		seen[rows[i].kind] = true;
	for (kind = BP_WARM_DUMP; kind <= BP_WARM_LOAD; kind++)
		if (!seen[kind])
		{
			BpWarmOp	idle;

			memset(&idle, 0, sizeof(idle));
			idle.state = BP_WARM_IDLE;
			bp_sql_put_warm_row(rsinfo, &idle, kind);
		}
	for (i = 0; i < n; i++)
		bp_sql_put_warm_row(rsinfo, &rows[i], rows[i].kind);
	return (Datum) 0;
}
