/*-------------------------------------------------------------------------
 *
 * sql_governor.c
 *	  The memory governor's views: bufpool.memory_pressure (the last
 *	  sample) and bufpool.memory_governor_log (its level changes and
 *	  actions); src/workers/governor.c.
 *
 * IDENTIFICATION
 *	  src/sql/sql_governor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"
#include "bufpool_ext/workers/workers.h"

PG_FUNCTION_INFO_V1(bp_sql_memory_pressure);
PG_FUNCTION_INFO_V1(bp_sql_memory_governor_log);
PG_FUNCTION_INFO_V1(bp_sql_memory_leaks);

static const char *const mode_names[] = {"off", "observe", "on"};

/* a float column that is NULL when unknown (< 0) */
static void
bp_sql_put_float(Datum *values, bool *nulls, int k, double v)
{
	nulls[k] = v < 0;
	values[k] = Float8GetDatum(v);
}

/* bufpool.memory_pressure: one row, the governor's last sample */
Datum
bp_sql_memory_pressure(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	BpGovStatus st;
	Datum		values[21];
	bool		nulls[21] = {0};
	int			k = 0;

	bp_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	bp_ensure_attached();
	SpinLockAcquire(&BpShmem->gov_mutex);
	st = BpShmem->gov;
	SpinLockRelease(&BpShmem->gov_mutex);

	values[k++] = CStringGetTextDatum(mode_names[st.mode]);
	values[k++] = CStringGetTextDatum(bp_mem_level_name(st.level));
	values[k++] = CStringGetTextDatum(bp_mem_level_name(st.use_level));
	values[k++] = CStringGetTextDatum(bp_mem_level_name(st.stall_level));
	values[k++] = CStringGetTextDatum(bp_memsignal_source_name(st.source));
	values[k++] = CStringGetTextDatum(st.where);
	values[k++] = Int64GetDatum(st.limit);
	values[k++] = Int64GetDatum(st.usage);
	values[k++] = Int64GetDatum(st.working_set);
	bp_sql_put_float(values, nulls, k++, st.limit > 0 ? 100.0 * st.working_set / st.limit : -1);
	bp_sql_put_float(values, nulls, k++, st.psi_some_avg10);
	bp_sql_put_float(values, nulls, k++, st.psi_full_avg10);
	values[k++] = Int64GetDatum(BpShmem->config_size_applied);
	values[k++] = Int64GetDatum(bp_resize_current_size());
	values[k++] = Int64GetDatum((int64) bp_min_size_mb * 1024 * 1024);
	nulls[k] = st.sampled_at == 0;
	values[k++] = TimestampTzGetDatum(st.sampled_at);
	nulls[k] = st.level_since == 0;
	values[k++] = TimestampTzGetDatum(st.level_since);
	values[k++] = CStringGetTextDatum(st.note);
	nulls[k] = st.psi_trigger[0] == '\0';
	values[k++] = CStringGetTextDatum(st.psi_trigger);
	values[k++] = Int64GetDatum(st.psi_events);
	nulls[k] = st.psi_event_at == 0;
	values[k++] = TimestampTzGetDatum(st.psi_event_at);
	Assert(k == 21);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* bufpool.memory_governor_log: the last BP_GOV_LOG rows, oldest first */
Datum
bp_sql_memory_governor_log(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpGovLogRow rows[BP_GOV_LOG];
	int			n = 0;
	int64		id;
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&BpShmem->gov_mutex);
	for (id = Max(BpShmem->gov_log_next - BP_GOV_LOG, 1); id < BpShmem->gov_log_next; id++)
		if (BpShmem->gov_log[id % BP_GOV_LOG].id == id)
			rows[n++] = BpShmem->gov_log[id % BP_GOV_LOG];
	SpinLockRelease(&BpShmem->gov_mutex);
	for (i = 0; i < n; i++)
	{
		Datum		values[11];
		bool		nulls[11] = {0};
		int			k = 0;
		bool		sized = rows[i].from_size > 0;

		values[k++] = Int64GetDatum(rows[i].id);
		values[k++] = TimestampTzGetDatum(rows[i].at);
		values[k++] = CStringGetTextDatum(bp_mem_level_name(rows[i].level));
		values[k++] = Int64GetDatum(rows[i].limit);
		values[k++] = Int64GetDatum(rows[i].working_set);
		bp_sql_put_float(values, nulls, k++, rows[i].psi_some_avg10);
		bp_sql_put_float(values, nulls, k++, rows[i].psi_full_avg10);
		values[k++] = CStringGetTextDatum(rows[i].action);
		nulls[k] = !sized;
		values[k++] = Int64GetDatum(rows[i].from_size);
		nulls[k] = !sized;
		values[k++] = Int64GetDatum(rows[i].to_size);
		values[k++] = CStringGetTextDatum(rows[i].result);
		Assert(k == 11);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

static const char *
bp_leak_kind_name(int kind)
{
	switch (kind)
	{
		case BP_LEAK_ALLOCATOR:
			return "allocator";
		case BP_LEAK_INSTRUMENT:
			return "instrument";
		case BP_LEAK_CONTEXT:
			return "context";
	}
	return "unknown";
}

/* bufpool.memory_leaks: what the pool manager's last leak check found */
Datum
bp_sql_memory_leaks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpLeakRow  *rows = palloc(sizeof(BpLeakRow) * BP_LEAK_MAX);
	int			n;
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = bp_leaks_read(rows);
	for (i = 0; i < n; i++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		int			k = 0;

		values[k++] = CStringGetTextDatum(bp_leak_kind_name(rows[i].kind));
		values[k++] = CStringGetTextDatum(rows[i].name);
		nulls[k] = rows[i].pid == 0;
		values[k++] = Int32GetDatum(rows[i].pid);
		nulls[k] = rows[i].backend_type[0] == '\0';
		values[k++] = CStringGetTextDatum(rows[i].backend_type);
		values[k++] = Int64GetDatum(rows[i].bytes);
		values[k++] = Int64GetDatum(rows[i].count);
		values[k++] = TimestampTzGetDatum(rows[i].first_seen);
		nulls[k] = rows[i].last_growth == 0;
		values[k++] = TimestampTzGetDatum(rows[i].last_growth);
		values[k++] = CStringGetTextDatum(rows[i].reason);
		Assert(k == 9);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(rows);
	return (Datum) 0;
}
