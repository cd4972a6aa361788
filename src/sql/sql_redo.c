/*-------------------------------------------------------------------------
 *
 * sql_redo.c
 *	  SQL functions of the redo log: bufpool.checkpoint() and the row of
 *	  bufpool.redo_status (see src/redo/redo.c).
 *
 * IDENTIFICATION
 *	  src/sql/sql_redo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/sql/sql.h"

PG_FUNCTION_INFO_V1(bp_sql_checkpoint);
PG_FUNCTION_INFO_V1(bp_sql_redo_status);

/* bufpool.checkpoint(): a checkpoint now; returns its LSN (superuser) */
Datum
bp_sql_checkpoint(PG_FUNCTION_ARGS)
{
	bp_sql_require_superuser("checkpoint");
	bp_ensure_attached();
	PG_RETURN_INT64((int64) bp_redo_checkpoint());
}

#define BP_REDO_STATUS_COLS 26

Datum
bp_sql_redo_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[BP_REDO_STATUS_COLS];
	bool		nulls[BP_REDO_STATUS_COLS] = {0};
	BpRedoRecovery rec;
	uint64		insert_lsn;
	uint64		ckpt_lsn;
	int			k = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	bp_ensure_attached();
	insert_lsn = pg_atomic_read_u64(&BpRedo->insert_lsn);
	ckpt_lsn = pg_atomic_read_u64(&BpRedo->checkpoint_lsn);
	rec = BpRedo->recovery;

	values[k++] = Int64GetDatum((int64) insert_lsn);
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->write_lsn));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->flush_lsn));
	values[k++] = Int64GetDatum((int64) ckpt_lsn);
	values[k++] = Int64GetDatum((int64) (insert_lsn > ckpt_lsn ? insert_lsn - ckpt_lsn : 0));
	values[k++] = Int64GetDatum((int64) BpRedo->file_size);
	values[k++] = Int64GetDatum((int64) BpRedo->buffer_size);
	values[k++] = Int32GetDatum(bp_flush_log_at_commit);
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->records));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->bytes));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->writes));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->fsyncs));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->buffer_waits));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->log_full_waits));
	values[k++] = Int64GetDatum((int64) pg_atomic_read_u64(&BpRedo->checkpoints));
	if (BpRedo->last_checkpoint != 0)
		values[k] = TimestampTzGetDatum(BpRedo->last_checkpoint);
	else
		nulls[k] = true;
	k++;
	values[k++] = BoolGetDatum(rec.ran);
	values[k++] = Int64GetDatum((int64) rec.start_lsn);
	values[k++] = Int64GetDatum((int64) rec.end_lsn);
	values[k++] = Int64GetDatum(rec.records);
	values[k++] = Int64GetDatum(rec.applied);
	values[k++] = Int64GetDatum(rec.pages);
	values[k++] = Int64GetDatum(rec.bad_pages);
	values[k++] = Int64GetDatum(rec.skipped_space);
	values[k++] = Float8GetDatum(rec.duration_ms);
	if (rec.finished != 0)
		values[k] = TimestampTzGetDatum(rec.finished);
	else
		nulls[k] = true;
	k++;
	Assert(k == BP_REDO_STATUS_COLS);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
