/*-------------------------------------------------------------------------
 *
 * sql_resize.c
 *	  SQL functions of online resize: bufpool.resize() and the rows of
 *	  bufpool.resize_status.
 *
 * The work is the pool manager's (src/pool/resize.c); here a request is
 * queued and, if asked, waited for.
 *
 * IDENTIFICATION
 *	  src/sql/sql_resize.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"

PG_FUNCTION_INFO_V1(bp_sql_resize);
PG_FUNCTION_INFO_V1(bp_sql_resize_status);

/*
 * bufpool.resize(new_size text, wait boolean default true)
 *	  returns (resize_id, from_size, to_size, phase, message)
 */
Datum
bp_sql_resize(PG_FUNCTION_ARGS)
{
	char	   *size_txt;
	int64		id;
	BpResizeStatus st;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};

	bp_sql_require_superuser("resize");
	bp_sql_not_null(fcinfo, 0, "resize", "new_size");
	bp_sql_not_null(fcinfo, 1, "resize", "wait");
	size_txt = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	id = bp_resize_start(size_txt, "sql");
	if (PG_GETARG_BOOL(1))
		bp_resize_wait(id, &st);
	else if (!bp_resize_lookup(id, &st))
		elog(ERROR, "resize %lld vanished", (long long) id);
	values[0] = Int64GetDatum(st.id);
	values[1] = Int64GetDatum(st.from_size);
	values[2] = Int64GetDatum(st.to_size);
	values[3] = CStringGetTextDatum(bp_resize_phase_name(st.phase));
	values[4] = CStringGetTextDatum(st.message);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

static void
bp_put_resize_row(ReturnSetInfo *rsinfo, BpResizeStatus *r, bool current)
{
	Datum		values[17];
	bool		nulls[17] = {0};
	int			k = 0;

	values[k++] = Int64GetDatum(r->id);
	values[k++] = BoolGetDatum(current);
	values[k++] = CStringGetTextDatum(bp_resize_phase_name(r->phase));
	values[k++] = Int32GetDatum(r->progress);
	values[k++] = Int64GetDatum(r->from_size);
	values[k++] = Int64GetDatum(r->to_size);
	values[k++] = Int64GetDatum(r->requested_size);
	if (r->started)
		values[k++] = TimestampTzGetDatum(r->started);
	else
		nulls[k++] = true;
	if (r->finished)
		values[k++] = TimestampTzGetDatum(r->finished);
	else
		nulls[k++] = true;
	values[k++] = Int64GetDatum(r->pages_withdrawn);
	values[k++] = Int64GetDatum(r->pages_relocated);
	values[k++] = Int64GetDatum(r->pages_flushed);
	values[k++] = Int64GetDatum(r->pages_evicted);
	values[k++] = Float8GetDatum(r->max_hold_us / 1000.0);
	values[k++] = CStringGetTextDatum(r->source);
	values[k++] = Int32GetDatum(r->requester_pid);
	values[k++] = CStringGetTextDatum(r->message);
	Assert(k == 17);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* bufpool.resize_status: the pending or running resize, then history. */
Datum
bp_sql_resize_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpResizeStatus rows[BP_RESIZE_HISTORY + 2];
	bool		cur[BP_RESIZE_HISTORY + 2];
	int			n;
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = bp_resize_list(rows, cur);
	for (i = 0; i < n; i++)
		bp_put_resize_row(rsinfo, &rows[i], cur[i]);
	return (Datum) 0;
}
