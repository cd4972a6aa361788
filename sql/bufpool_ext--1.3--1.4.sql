/* bufpool_ext 1.3 -> 1.4: the benchmark suite's functions (make bench) */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.4'" to load this file. \quit

-- Replacement quality (superuser only, checked in C; used by make bench) --------
-- One trace replayed through the pool (a space), through shared_buffers (a
-- relation's main fork) and through a plain LRU list of capacity pages in
-- backend memory.  The trace: Zipf accesses over pages [0, n_pages) and,
-- if scan_pages > 0, after every scan_every of them a sequential scan of
-- scan_pages pages cycling over [n_pages, n_pages + scan_range).  The
-- first warmup_ops accesses are not counted; of the next n_ops, the row
-- gives how many were hits, and how many of both came from scans.

CREATE FUNCTION bufpool.bench_replay(space_id int, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_bench_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.bench_pg_replay(rel regclass, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_bench_pg_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.bench_lru_replay(capacity int, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_bench_lru_replay'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION bufpool.bench_replay(int, int, int, int, int, bigint, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.bench_pg_replay(regclass, int, int, int, int, bigint, bigint, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.bench_lru_replay(int, int, int, int, int, bigint, bigint, int) FROM PUBLIC;

-- benchmark loop: bench_fetch_latency's loop, one row per window of
-- window_ms, stamped with the window's wall-clock start (superuser)
CREATE FUNCTION bufpool.bench_fetch_timeline(space_id int, n_pages int, pattern text,
    duration_ms int, window_ms int, seed int DEFAULT 1)
RETURNS TABLE (window_start timestamptz, ops bigint, mean_ns float8, p50_ns float8,
    p99_ns float8, p999_ns float8, max_ns float8)
AS 'MODULE_PATHNAME', 'bp_sql_bench_fetch_timeline'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.bench_fetch_timeline(int, int, text, int, int, int) FROM PUBLIC;
