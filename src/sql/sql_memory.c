/*-------------------------------------------------------------------------
 *
 * sql_memory.c
 *	  SQL functions behind the memory views: performance_schema-style
 *	  summaries by instrument (global and by thread), the reset, and the
 *	  live allocators (bufpool.heaps).
 *
 * The views themselves (sql/bufpool_ext--1.1--1.2.sql) add the sys-style
 * ones (memory_global_by_current_bytes, memory_global_total) on top of
 * the global summary.  Counting is described in memstat.c.
 *
 * IDENTIFICATION
 *	  src/sql/sql_memory.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/mmgr/sizeclass.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"

PG_FUNCTION_INFO_V1(bp_sql_memory_summary);
PG_FUNCTION_INFO_V1(bp_sql_memory_summary_reset);
PG_FUNCTION_INFO_V1(bp_sql_heaps);
PG_FUNCTION_INFO_V1(bp_sql_backend_memory);
PG_FUNCTION_INFO_V1(bp_sql_backend_memory_contexts);
PG_FUNCTION_INFO_V1(bp_sql_buddy_stats);
PG_FUNCTION_INFO_V1(bp_sql_size_classes);

#define BP_MEM_SUMMARY_COLS 13

/* the ten counting columns of performance_schema, from values[3] on */
static void
bp_mem_put_counts(Datum *values, const BpMemStat *s)
{
	values[3] = Int64GetDatum(s->count_alloc - s->base_count);
	values[4] = Int64GetDatum(s->count_free - s->base_count);
	values[5] = Int64GetDatum(s->bytes_alloc - s->base_bytes);
	values[6] = Int64GetDatum(s->bytes_free - s->base_bytes);
	values[7] = Int64GetDatum(s->low_count);
	values[8] = Int64GetDatum(s->count_alloc - s->count_free);
	values[9] = Int64GetDatum(s->high_count);
	values[10] = Int64GetDatum(s->low_bytes);
	values[11] = Int64GetDatum(s->bytes_alloc - s->bytes_free);
	values[12] = Int64GetDatum(s->high_bytes);
}

/*
 * bufpool.memory_summary_srf(by_thread boolean)
 *	  returns (thread_id, backend_type, event_name, count_alloc, ...)
 *
 * Global: one row per registered instrument.  By thread: one row per
 * process and instrument it counted anything for, plus thread 0, the
 * postmaster and the processes that have exited.
 */
Datum
bp_sql_memory_summary(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		by_thread = PG_GETARG_BOOL(0);
	int			n_keys;
	BpMemKey	k;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n_keys = bp_mem_n_instruments();

	if (!by_thread)
	{
		for (k = 1; k < n_keys; k++)
		{
			Datum		values[BP_MEM_SUMMARY_COLS];
			bool		nulls[BP_MEM_SUMMARY_COLS] = {0};
			BpMemStat	g;

			bp_mem_read_global(k, &g);
			nulls[0] = nulls[1] = true;
			values[2] = CStringGetTextDatum(bp_mem_name(k));
			/* the global row carries no base: its counts are already net */
			g.base_count = g.base_bytes = 0;
			bp_mem_put_counts(values, &g);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		return (Datum) 0;
	}

	{
		int			p;

		for (p = -1; p < bp_mem_n_procs(); p++)
			for (k = 1; k < n_keys; k++)
			{
				Datum		values[BP_MEM_SUMMARY_COLS];
				bool		nulls[BP_MEM_SUMMARY_COLS] = {0};
				BpMemStat	s;
				const char *backend_type;
				int			pid = bp_mem_read_row(p, k, &s, &backend_type);

				if (pid < 0)
					break;		/* a free row */
				if (s.count_alloc == 0 && s.count_free == 0)
					continue;
				values[0] = Int32GetDatum(pid);
				values[1] = CStringGetTextDatum(backend_type);
				values[2] = CStringGetTextDatum(bp_mem_name(k));
				bp_mem_put_counts(values, &s);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
	}
	return (Datum) 0;
}

/*
 * bufpool.memory_summary_reset(): the whole family at once (superuser).
 */
Datum
bp_sql_memory_summary_reset(PG_FUNCTION_ARGS)
{
	bp_sql_require_superuser("memory_summary_reset");
	bp_check_preloaded();
	bp_mem_reset_all();
	PG_RETURN_VOID();
}

/*
 * bufpool.heaps_srf()
 *	  returns (name, type, is_shared, owner_pid, blocks, bytes_reserved,
 *			   bytes_used, bytes_free, fragmentation)
 *
 * Shared allocators of the server, then this session's local ones.
 * fragmentation is the share of reserved bytes not handed out (0..1).
 */
Datum
bp_sql_heaps(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			max;
	BpAllocInfo *all;
	int			n;
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	max = bp_alloc_shared_max() + 1024;
	all = palloc(sizeof(BpAllocInfo) * max);
	n = bp_alloc_snapshot(all, max);
	for (i = 0; i < n; i++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		BpAllocInfo *a = &all[i];

		values[0] = CStringGetTextDatum(a->name);
		values[1] = CStringGetTextDatum(bp_alloc_kind_name((BpAllocKind) a->kind));
		values[2] = BoolGetDatum(a->shared);
		values[3] = Int32GetDatum(a->owner_pid);
		values[4] = Int64GetDatum(a->blocks);
		values[5] = Int64GetDatum(a->reserved);
		values[6] = Int64GetDatum(a->used);
		values[7] = Int64GetDatum(a->reserved - a->used);
		if (a->reserved > 0)
			values[8] = Float8GetDatum((double) (a->reserved - a->used) / (double) a->reserved);
		else
			values[8] = Float8GetDatum(0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(all);
	return (Datum) 0;
}

/*
 * bufpool.backend_memory_srf()
 *	  returns (pid, backend_type, published_at, total_bytes, used_bytes,
 *			   free_bytes, blocks, contexts)
 */
Datum
bp_sql_backend_memory(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n = bp_backend_mem_n_slots();
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* the caller's own figures are those of this very statement */
	bp_backend_mem_publish(true);
	for (i = 0; i < n; i++)
	{
		BpBackendMemRow r;
		Datum		values[8];
		bool		nulls[8] = {0};

		if (!bp_backend_mem_read(i, &r))
			continue;
		values[0] = Int32GetDatum(r.pid);
		values[1] = CStringGetTextDatum(r.backend_type);
		values[2] = TimestampTzGetDatum(r.published_at);
		values[3] = Int64GetDatum(r.total_bytes);
		values[4] = Int64GetDatum(r.total_bytes - r.free_bytes);
		values[5] = Int64GetDatum(r.free_bytes);
		values[6] = Int64GetDatum(r.blocks);
		values[7] = Int32GetDatum(r.contexts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * bufpool.backend_memory_contexts_srf()
 *	  returns (pid, backend_type, published_at, context, depth,
 *			   total_bytes, used_bytes, free_bytes, contexts, truncated)
 *
 * One line per child of TopMemoryContext of every process (its subtree
 * summed), and TopMemoryContext's own memory at depth 0.
 */
Datum
bp_sql_backend_memory_contexts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpBackendMemLine *lines;
	int			n_slots = bp_backend_mem_n_slots();
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	bp_ensure_attached();		/* lines may sit in chunk-0 frames */
	bp_backend_mem_publish(true);
	lines = palloc(sizeof(BpBackendMemLine) * BP_CTX_MAX_LINES);
	for (i = 0; i < n_slots; i++)
	{
		BpBackendMemRow r;
		bool		truncated = false;
		int			n = bp_backend_mem_read_lines(i, &r, lines, &truncated);
		int			k;

		for (k = 0; k < n; k++)
		{
			Datum		values[10];
			bool		nulls[10] = {0};

			values[0] = Int32GetDatum(r.pid);
			values[1] = CStringGetTextDatum(r.backend_type);
			values[2] = TimestampTzGetDatum(r.published_at);
			values[3] = CStringGetTextDatum(lines[k].name);
			values[4] = Int32GetDatum(lines[k].depth);
			values[5] = Int64GetDatum(lines[k].total_bytes);
			values[6] = Int64GetDatum(lines[k].total_bytes - lines[k].free_bytes);
			values[7] = Int64GetDatum(lines[k].free_bytes);
			values[8] = Int32GetDatum(lines[k].contexts);
			values[9] = BoolGetDatum(truncated);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	pfree(lines);
	return (Datum) 0;
}

/*
 * bufpool.buddy_stats: INFORMATION_SCHEMA.INNODB_CMPMEM per instance and
 * block size.  We never relocate blocks: relocation_ops and
 * relocation_time are always 0.
 */
Datum
bp_sql_buddy_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n = bp_buddy_n_instances();
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < n; i++)
	{
		int64		n_used[BP_BUDDY_MAX_ORDERS];
		int64		n_free[BP_BUDDY_MAX_ORDERS];
		int			n_orders = bp_buddy_stats(i, n_used, n_free);
		int			k;

		for (k = 0; k < n_orders; k++)
		{
			Datum		values[6];
			bool		nulls[6] = {0};

			values[0] = Int32GetDatum(1 << (k + BP_BUDDY_MIN_SHIFT));
			values[1] = Int32GetDatum(i);
			values[2] = Int64GetDatum(n_used[k]);
			values[3] = Int64GetDatum(n_free[k]);
			values[4] = Int64GetDatum(0);	/* relocation_ops: never relocated */
			values[5] = Int64GetDatum(0);	/* relocation_time */
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * bufpool.size_classes: per size-class set and class in use (slabs, or
 * allocations ever), the slabs, objects and bytes lost: inside objects
 * (class size less the bytes asked for, over the objects in use) and
 * inside slabs (a slab's page less its objects: header, state bytes and
 * the tail).
 */
Datum
bp_sql_size_classes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			set;
	int			c;

	InitMaterializedSRF(fcinfo, 0);
	for (set = 0; set < BP_SC_MAX_SETS; set++)
	{
		char		name[BP_SC_NAME_LEN];

		if (!bp_sc_set_name(set, name))
			continue;
		for (c = 0; c < BP_SC_N_CLASSES; c++)
		{
			BpScClassStats st;
			Datum		values[13];
			bool		nulls[13] = {0};
			int64		slab_bytes;

			bp_sc_stats(set, c, &st);
			if (st.slabs == 0 && st.alloc_count == 0)
				continue;
			slab_bytes = st.slabs * BpShmem->page_size;
			values[0] = CStringGetTextDatum(name);
			values[1] = Int32GetDatum(st.class_size);
			values[2] = Int32GetDatum(st.objects_per_slab);
			values[3] = Int64GetDatum(st.slabs);
			values[4] = Int64GetDatum(slab_bytes);
			values[5] = Int64GetDatum(st.objects_used);
			values[6] = Int64GetDatum(st.objects_free);
			values[7] = Int64GetDatum(st.objects_cached);
			values[8] = Int64GetDatum(st.bytes_requested);
			values[9] = Int64GetDatum(st.objects_used * st.class_size - st.bytes_requested);
			values[10] = Int64GetDatum(slab_bytes -
									   st.slabs * st.objects_per_slab * (int64) st.class_size);
			values[11] = Int64GetDatum(st.alloc_count);
			values[12] = Int64GetDatum(st.free_count);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
