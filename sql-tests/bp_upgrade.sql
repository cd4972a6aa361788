-- Upgrade path: install 1.0, then ALTER EXTENSION UPDATE to 1.1.
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
