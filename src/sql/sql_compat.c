/*-------------------------------------------------------------------------
 *
 * sql_compat.c
 *	  Entry points of functions that older versions of the extension's
 *	  SQL had and 1.6 moved to the test module bufpool_test.
 *
 * Up to 1.5 the schema bufpool held benchmark loops and allocator tests.
 * They are in bufpool_test now, and ALTER EXTENSION bufpool_ext UPDATE
 * drops them.  Their C names stay here because CREATE EXTENSION
 * bufpool_ext VERSION '1.0' (and each update script up to 1.5) still
 * creates them, and CREATE FUNCTION looks the C symbol up; as
 * pg_stat_statements keeps the entry points of its old versions, this
 * file keeps them, each only raising an error that says where the
 * function went.
 *
 * IDENTIFICATION
 *	  src/sql/sql_compat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/lsyscache.h"

static Datum
bp_sql_moved(FunctionCallInfo fcinfo)
{
	char	   *name = get_func_name(fcinfo->flinfo->fn_oid);

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("function bufpool.%s was moved to the test module bufpool_test",
					name ? name : "?"),
			 errdetail("Version 1.6 of bufpool_ext ships no test or benchmark function."),
			 errhint("Run ALTER EXTENSION bufpool_ext UPDATE, and CREATE EXTENSION bufpool_test where tests run.")));
	PG_RETURN_VOID();
}

#define BP_SQL_MOVED(fn) \
	PG_FUNCTION_INFO_V1(fn); \
	Datum fn(PG_FUNCTION_ARGS) { return bp_sql_moved(fcinfo); }

BP_SQL_MOVED(bp_sql_bench_fetch)
BP_SQL_MOVED(bp_sql_bench_pg_fetch)
BP_SQL_MOVED(bp_sql_bench_fetch_latency)
BP_SQL_MOVED(bp_sql_bench_fetch_timeline)
BP_SQL_MOVED(bp_sql_bench_replay)
BP_SQL_MOVED(bp_sql_bench_pg_replay)
BP_SQL_MOVED(bp_sql_bench_lru_replay)
BP_SQL_MOVED(bp_sql_bench_heat_replay)
BP_SQL_MOVED(bp_sql_alloc_bench)
BP_SQL_MOVED(bp_sql_arena_test_random)
BP_SQL_MOVED(bp_sql_arena_test_blocks)
BP_SQL_MOVED(bp_sql_arena_test_capacity)
BP_SQL_MOVED(bp_sql_heap_test_random)
BP_SQL_MOVED(bp_sql_heap_test_blocks)
BP_SQL_MOVED(bp_sql_heap_test_guard)
BP_SQL_MOVED(bp_sql_buddy_test_alloc)
BP_SQL_MOVED(bp_sql_buddy_test_free)
BP_SQL_MOVED(bp_sql_buddy_test_random)
BP_SQL_MOVED(bp_sql_buddy_bench)
