-- Upgrade path: install 1.0, then ALTER EXTENSION UPDATE step by step to
-- the current version; the result must equal a fresh install.
DROP EXTENSION IF EXISTS bufpool_test;
DROP EXTENSION bufpool_ext;
CREATE EXTENSION bufpool_ext VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) AS resize_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname IN ('resize', 'pin_page', 'resize_status_srf');
-- the pool and its spaces are untouched by DROP/CREATE EXTENSION
SELECT state FROM bufpool.status();
ALTER EXTENSION bufpool_ext UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) AS resize_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname IN ('resize', 'pin_page', 'resize_status_srf');
-- the history of bp_resize is still there: it lives in the pool, not in the catalog
SELECT count(*) AS resizes_remembered FROM bufpool.resize_status;
-- privileges of the new objects
SELECT has_function_privilege('public', 'bufpool.resize(text, boolean)', 'execute') AS public_resize,
       has_table_privilege('pg_monitor', 'bufpool.resize_status', 'select') AS monitor_status;
-- and on to 1.2: allocators and memory accounting
ALTER EXTENSION bufpool_ext UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) AS memory_views FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'bufpool' AND c.relname IN ('memory_summary_global_by_event_name',
    'memory_summary_by_thread_by_event_name', 'memory_global_by_current_bytes',
    'memory_global_total', 'heaps', 'buddy_stats', 'backend_memory', 'backend_memory_contexts');
-- accounting went on through DROP/CREATE EXTENSION: it lives in shared memory
SELECT current_count_used > 0 AS chunks_counted
FROM bufpool.memory_summary_global_by_event_name WHERE event_name = 'memory/bufpool/chunk';
SELECT has_function_privilege('public', 'bufpool.memory_summary_reset()', 'execute') AS public_reset,
       has_table_privilege('pg_monitor', 'bufpool.memory_summary_global_by_event_name', 'select') AS monitor_memory,
       has_table_privilege('public', 'bufpool.heaps', 'select') AS public_heaps;
-- and on to 1.3: durability
ALTER EXTENSION bufpool_ext UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
-- doublewrite: the view and its function, readable by pg_monitor only
SELECT count(*) AS doublewrite_objects FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'bufpool' AND c.relname = 'doublewrite';
SELECT count(*) AS doublewrite_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname = 'doublewrite_srf';
SELECT has_table_privilege('pg_monitor', 'bufpool.doublewrite', 'select') AS monitor_doublewrite,
       has_table_privilege('public', 'bufpool.doublewrite', 'select') AS public_doublewrite,
       has_function_privilege('public', 'bufpool.doublewrite_srf()', 'execute') AS public_doublewrite_srf;
-- the doublewrite state lives in shared memory: the last recovery is there
SELECT last_recovery IS NOT NULL AS recovered_at_start, batch_regions > 0 AS has_regions
FROM bufpool.doublewrite;
-- and on to 1.4: the replacement-quality benchmark functions, superuser only
ALTER EXTENSION bufpool_ext UPDATE TO '1.4';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT p.proname, has_function_privilege('public', p.oid, 'execute') AS public_execute
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname IN ('bench_replay', 'bench_pg_replay', 'bench_lru_replay')
ORDER BY 1;
-- and the latency timeline function of the resize benchmark
SELECT count(*) AS timeline_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname = 'bench_fetch_timeline';
SELECT has_function_privilege('public', 'bufpool.bench_fetch_timeline(int, int, text, int, int, int)', 'execute') AS public_timeline;
-- and on to 1.5: bufpool.stats gains the boundary and admission columns,
-- and the hot-page views arrive
ALTER EXTENSION bufpool_ext UPDATE TO '1.5';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) AS stats_columns FROM information_schema.columns
WHERE table_schema = 'bufpool' AND table_name = 'stats';
SELECT has_table_privilege('pg_monitor', 'bufpool.stats', 'select') AS monitor_stats,
       has_table_privilege('public', 'bufpool.stats', 'select') AS public_stats,
       has_function_privilege('public', 'bufpool.stats_srf()', 'execute') AS public_stats_srf;
SELECT boundary_made_young >= 0 AND boundary_made_old >= 0 AS boundary_counted
FROM bufpool.stats LIMIT 1;
SELECT c.relname, has_table_privilege('pg_monitor', c.oid, 'select') AS monitor,
       has_table_privilege('public', c.oid, 'select') AS public
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'bufpool' AND c.relname IN ('hot_pages', 'space_heat') ORDER BY 1;
SELECT p.proname, has_function_privilege('pg_monitor', p.oid, 'execute') AS monitor,
       has_function_privilege('public', p.oid, 'execute') AS public
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname IN ('page_heat', 'page_heat_srf', 'space_heat_srf', 'bench_heat_replay')
ORDER BY 1;
-- and on to 1.6: the benchmark and test functions leave for the test
-- module bufpool_test
SELECT count(*) AS bench_and_test_functions_in_1_5 FROM pg_proc
WHERE pronamespace = 'bufpool'::regnamespace AND proname ~ '(bench|test)';
-- a function of 1.5 that moved says where it went (the library keeps its
-- entry point for the old scripts only)
\set VERBOSITY default
SELECT bufpool.buddy_bench(1, 64);
ALTER EXTENSION bufpool_ext UPDATE TO '1.6';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) AS bench_and_test_functions FROM pg_proc
WHERE pronamespace = 'bufpool'::regnamespace AND proname ~ '(bench|test)';
-- and on to 1.7: warm restart, superuser only, its status readable by pg_monitor
ALTER EXTENSION bufpool_ext UPDATE TO '1.7';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT p.proname, has_function_privilege('pg_monitor', p.oid, 'execute') AS monitor,
       has_function_privilege('public', p.oid, 'execute') AS public
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'bufpool' AND p.proname IN ('dump', 'load', 'load_abort', 'dump_load_status_srf')
ORDER BY 1;
SELECT has_table_privilege('pg_monitor', 'bufpool.dump_load_status', 'select') AS monitor_status,
       has_table_privilege('public', 'bufpool.dump_load_status', 'select') AS public_status;
-- and on to 1.8: the memory governor's views, for pg_monitor
ALTER EXTENSION bufpool_ext UPDATE TO '1.8';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT c.relname, has_table_privilege('pg_monitor', c.oid, 'select') AS monitor,
       has_table_privilege('public', c.oid, 'select') AS public
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'bufpool' AND c.relname IN ('memory_pressure', 'memory_governor_log') ORDER BY 1;
-- and on to 1.9: the C API only, nothing in SQL
ALTER EXTENSION bufpool_ext UPDATE TO '1.9';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
-- and on to 1.10: chunks.page_size_kb and the numa view, for pg_monitor
ALTER EXTENSION bufpool_ext UPDATE TO '1.10';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) > 0 AS chunks_have_page_size FROM bufpool.chunks WHERE page_size_kb >= 4;
SELECT has_table_privilege('pg_monitor', 'bufpool.numa', 'select') AS monitor_numa,
       has_table_privilege('public', 'bufpool.numa', 'select') AS public_numa;
-- and on to 1.11: compressed spaces (create_space's compression, the spaces view)
ALTER EXTENSION bufpool_ext UPDATE TO '1.11';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) = 0 AS compressed_spaces FROM bufpool.spaces WHERE compression <> 'none';
-- and on to 1.12: compressed pages in memory (pages.frame_present, cmpmem)
ALTER EXTENSION bufpool_ext UPDATE TO '1.12';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) = 0 AS no_image_without_frame FROM bufpool.pages WHERE NOT frame_present AND space IS NOT NULL;
SELECT has_table_privilege('pg_monitor', 'bufpool.cmpmem', 'select') AS monitor_cmpmem,
       has_table_privilege('pg_monitor', 'bufpool.cmpmem_reset', 'select') AS monitor_cmpmem_reset;
-- and on to 1.13: size-class pools (bufpool.size_classes)
ALTER EXTENSION bufpool_ext UPDATE TO '1.13';
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
SELECT count(*) >= 0 AS size_classes_view FROM bufpool.size_classes;
SELECT has_table_privilege('pg_monitor', 'bufpool.size_classes', 'select') AS monitor_size_classes;

-- the updated installation defines exactly what a fresh one does: every
-- function (signature, result, C symbol, volatility, strictness, grants)
-- and every view (columns, query, grants) of the schema
CREATE FUNCTION pg_temp.bp_schema_objects() RETURNS TABLE (object text, definition text)
LANGUAGE sql AS $$
    SELECT 'function ' || p.oid::regprocedure,
           concat_ws(' | ', pg_get_function_result(p.oid), p.prosrc, p.provolatile,
                     p.proisstrict, p.proretset, p.proacl::text)
    FROM pg_proc p WHERE p.pronamespace = 'bufpool'::regnamespace
    UNION ALL
    SELECT 'relation ' || c.oid::regclass,
           concat_ws(' | ', c.relkind, pg_get_viewdef(c.oid), c.relacl::text,
                     (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0))
    FROM pg_class c WHERE c.relnamespace = 'bufpool'::regnamespace
    UNION ALL
    SELECT 'schema bufpool', n.nspacl::text FROM pg_namespace n WHERE n.nspname = 'bufpool'
$$;
CREATE TEMP TABLE bp_updated AS SELECT * FROM pg_temp.bp_schema_objects();
DROP EXTENSION bufpool_ext;
CREATE EXTENSION bufpool_ext;
SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext';
CREATE TEMP TABLE bp_fresh AS SELECT * FROM pg_temp.bp_schema_objects();
SELECT count(*) AS objects_compared FROM bp_fresh;
-- no row: nothing only in one of them, nothing defined differently
(SELECT 'only updated' AS side, * FROM bp_updated EXCEPT SELECT 'only updated', * FROM bp_fresh)
UNION ALL
(SELECT 'only fresh', * FROM bp_fresh EXCEPT SELECT 'only fresh', * FROM bp_updated)
ORDER BY object, side;
