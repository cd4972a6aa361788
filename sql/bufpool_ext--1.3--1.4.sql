/* bufpool_ext 1.3 -> 1.4: the benchmark suite's functions (make bench) */
\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.4'" to load this file. \quit

-- benchmark loop: bench_fetch_latency's loop, one row per window of
-- window_ms, stamped with the window's wall-clock start (superuser)
CREATE FUNCTION bufpool.bench_fetch_timeline(space_id int, n_pages int, pattern text,
    duration_ms int, window_ms int, seed int DEFAULT 1)
RETURNS TABLE (window_start timestamptz, ops bigint, mean_ns float8, p50_ns float8,
    p99_ns float8, p999_ns float8, max_ns float8)
AS 'MODULE_PATHNAME', 'bp_sql_bench_fetch_timeline'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.bench_fetch_timeline(int, int, text, int, int, int) FROM PUBLIC;
