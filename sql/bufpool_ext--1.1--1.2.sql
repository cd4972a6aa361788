/* bufpool_ext 1.1 -> 1.2: allocators and memory accounting */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.2'" to load this file. \quit

-- memory accounting ------------------------------------------------------------

CREATE FUNCTION bufpool.memory_summary_srf(by_thread boolean,
    OUT thread_id int, OUT backend_type text, OUT event_name text,
    OUT count_alloc bigint, OUT count_free bigint,
    OUT sum_number_of_bytes_alloc bigint, OUT sum_number_of_bytes_free bigint,
    OUT low_count_used bigint, OUT current_count_used bigint,
    OUT high_count_used bigint, OUT low_number_of_bytes_used bigint,
    OUT current_number_of_bytes_used bigint, OUT high_number_of_bytes_used bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_memory_summary'
LANGUAGE C STRICT VOLATILE;

-- performance_schema's eleven columns
CREATE VIEW bufpool.memory_summary_global_by_event_name AS
    SELECT event_name, count_alloc, count_free,
           sum_number_of_bytes_alloc, sum_number_of_bytes_free,
           low_count_used, current_count_used, high_count_used,
           low_number_of_bytes_used, current_number_of_bytes_used,
           high_number_of_bytes_used
    FROM bufpool.memory_summary_srf(false);

-- thread_id is the process id; 0 is the postmaster and exited processes
CREATE VIEW bufpool.memory_summary_by_thread_by_event_name AS
    SELECT thread_id, backend_type, event_name, count_alloc, count_free,
           sum_number_of_bytes_alloc, sum_number_of_bytes_free,
           low_count_used, current_count_used, high_count_used,
           low_number_of_bytes_used, current_number_of_bytes_used,
           high_number_of_bytes_used
    FROM bufpool.memory_summary_srf(true);

-- sys schema style: human-readable, largest first
CREATE VIEW bufpool.memory_global_by_current_bytes AS
    SELECT event_name,
           current_count_used AS current_count,
           pg_size_pretty(current_number_of_bytes_used) AS current_alloc,
           pg_size_pretty(CASE WHEN current_count_used > 0
                               THEN current_number_of_bytes_used / current_count_used
                               ELSE 0 END) AS current_avg_alloc,
           high_count_used AS high_count,
           pg_size_pretty(high_number_of_bytes_used) AS high_alloc,
           pg_size_pretty(CASE WHEN high_count_used > 0
                               THEN high_number_of_bytes_used / high_count_used
                               ELSE 0 END) AS high_avg_alloc
    FROM bufpool.memory_summary_global_by_event_name
    WHERE current_number_of_bytes_used > 0
    ORDER BY current_number_of_bytes_used DESC, event_name;

CREATE VIEW bufpool.memory_global_total AS
    SELECT pg_size_pretty(coalesce(sum(current_number_of_bytes_used), 0)) AS total_allocated
    FROM bufpool.memory_summary_global_by_event_name;

CREATE FUNCTION bufpool.memory_summary_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_memory_summary_reset'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION bufpool.heaps_srf(
    OUT name text, OUT type text, OUT is_shared boolean, OUT owner_pid int,
    OUT blocks bigint, OUT bytes_reserved bigint, OUT bytes_used bigint,
    OUT bytes_free bigint, OUT fragmentation float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_heaps'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.heaps AS SELECT * FROM bufpool.heaps_srf();

REVOKE ALL ON FUNCTION bufpool.memory_summary_srf(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.memory_summary_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.heaps_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.memory_summary_global_by_event_name, bufpool.memory_summary_by_thread_by_event_name,
    bufpool.memory_global_by_current_bytes, bufpool.memory_global_total, bufpool.heaps FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.memory_summary_srf(boolean) TO pg_monitor;
GRANT EXECUTE ON FUNCTION bufpool.heaps_srf() TO pg_monitor;
GRANT SELECT ON bufpool.memory_summary_global_by_event_name, bufpool.memory_summary_by_thread_by_event_name,
    bufpool.memory_global_by_current_bytes, bufpool.memory_global_total, bufpool.heaps TO pg_monitor;

-- every process's memory-context totals as of its last statement
CREATE FUNCTION bufpool.backend_memory_srf(
    OUT pid int, OUT backend_type text, OUT published_at timestamptz,
    OUT total_bytes bigint, OUT used_bytes bigint, OUT free_bytes bigint,
    OUT blocks bigint, OUT contexts int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_backend_memory'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.backend_memory AS SELECT * FROM bufpool.backend_memory_srf();

REVOKE ALL ON FUNCTION bufpool.backend_memory_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.backend_memory FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.backend_memory_srf() TO pg_monitor;
GRANT SELECT ON bufpool.backend_memory TO pg_monitor;

-- per process, one line per child of TopMemoryContext (its subtree summed)
-- and TopMemoryContext's own memory (depth 0), as of its last statement
CREATE FUNCTION bufpool.backend_memory_contexts_srf(
    OUT pid int, OUT backend_type text, OUT published_at timestamptz,
    OUT context text, OUT depth int, OUT total_bytes bigint, OUT used_bytes bigint,
    OUT free_bytes bigint, OUT contexts int, OUT truncated boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_backend_memory_contexts'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.backend_memory_contexts AS
    SELECT * FROM bufpool.backend_memory_contexts_srf();

REVOKE ALL ON FUNCTION bufpool.backend_memory_contexts_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.backend_memory_contexts FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.backend_memory_contexts_srf() TO pg_monitor;
GRANT SELECT ON bufpool.backend_memory_contexts TO pg_monitor;

-- arena and heap allocators
-- Test and benchmark functions of src/arena.c and src/heap.c (src/sql_alloc.c);
-- all superuser-only, checked in C.

CREATE FUNCTION bufpool.arena_test_random(n_ops int, seed int, block_size int,
    max_capacity bigint DEFAULT 0, max_align int DEFAULT 8, shared boolean DEFAULT false,
    OUT allocs bigint, OUT nulls bigint, OUT blocks int, OUT reserved bigint,
    OUT used bigint, OUT invariants_ok boolean, OUT failure text)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_arena_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.arena_test_blocks(block_size int, sizes int[],
    action text DEFAULT 'none', shared boolean DEFAULT false,
    OUT block_no int, OUT size bigint, OUT big boolean, OUT used bigint,
    OUT next_block_size bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_arena_test_blocks'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.arena_test_capacity(block_size int, max_capacity bigint,
    alloc_size int, n_allocs int, error_on_full boolean DEFAULT true,
    OUT allocs bigint, OUT got_null boolean, OUT blocks int, OUT reserved bigint,
    OUT used bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_arena_test_capacity'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.heap_test_random(type text, n_ops int, seed int,
    OUT allocs bigint, OUT frees bigint, OUT mark_frees bigint, OUT blocks int,
    OUT reserved bigint, OUT used bigint, OUT invariants_ok boolean, OUT failure text)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_heap_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.heap_test_blocks(type text, sizes int[], free_top int DEFAULT 0,
    OUT block_no int, OUT len bigint, OUT capacity bigint, OUT source text,
    OUT used bigint, OUT blocks int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_heap_test_blocks'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.heap_test_guard(which text)
RETURNS text
AS 'MODULE_PATHNAME', 'bp_sql_heap_test_guard'
LANGUAGE C VOLATILE;

-- benchmark loop: ns per allocation, peak bytes held vs requested (make bench)
CREATE FUNCTION bufpool.alloc_bench(allocator text, pattern text, size_spec text,
    n_ops bigint, OUT ns_per_op float8, OUT reserved bigint, OUT requested bigint,
    OUT reserved_per_requested float8)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_alloc_bench'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION bufpool.arena_test_random(int, int, int, bigint, int, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.arena_test_blocks(int, int[], text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.arena_test_capacity(int, bigint, int, int, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.heap_test_random(text, int, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.heap_test_blocks(text, int[], int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.heap_test_guard(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.alloc_bench(text, text, text, bigint) FROM PUBLIC;

-- buddy allocator -------------------------------------------------------------

CREATE FUNCTION bufpool.buddy_stats_srf(
    OUT page_size int, OUT buffer_pool_instance int,
    OUT pages_used bigint, OUT pages_free bigint,
    OUT relocation_ops bigint, OUT relocation_time bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_buddy_stats'
LANGUAGE C STRICT VOLATILE;

-- INFORMATION_SCHEMA.INNODB_CMPMEM: one row per instance and block size
-- (64 bytes .. page_size).  Blocks are never relocated (they come from
-- chunk 0, which a shrink never removes): relocation_ops and
-- relocation_time are always 0.
CREATE VIEW bufpool.buddy_stats AS SELECT * FROM bufpool.buddy_stats_srf();

-- superuser-only test and benchmark functions (checked in C)
CREATE FUNCTION bufpool.buddy_test_alloc(size int, instance int DEFAULT -1)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_buddy_test_alloc'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.buddy_test_free(addr bigint, size int)
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_buddy_test_free'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.buddy_test_random(n_ops int, seed int, max_size int DEFAULT 4096,
    OUT ops bigint, OUT max_live int, OUT ok boolean, OUT idle_check boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_buddy_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.buddy_bench(n_ops bigint, size int)
RETURNS float8
AS 'MODULE_PATHNAME', 'bp_sql_buddy_bench'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION bufpool.buddy_stats_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.buddy_stats FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.buddy_test_alloc(int, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.buddy_test_free(bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.buddy_test_random(int, int, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.buddy_bench(bigint, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.buddy_stats_srf() TO pg_monitor;
GRANT SELECT ON bufpool.buddy_stats TO pg_monitor;
