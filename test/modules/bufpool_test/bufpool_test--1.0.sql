/* bufpool_test 1.0: the test module of bufpool_ext (tests and benchmarks only) */

\echo Use "CREATE EXTENSION bufpool_test" to load this file. \quit

CREATE SCHEMA bufpool_test;

-- Fault points of bufpool_ext (faults.c): attach one of this module's
-- actions to a point of the library, for every process (pid 0) or one.
CREATE FUNCTION bufpool_test.fault_attach(point text, action text, arg text DEFAULT '',
    pid int DEFAULT 0, persist boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'bpt_fault_attach'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.fault_detach(point text DEFAULT NULL, pid int DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'bpt_fault_detach'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.faults(OUT point text, OUT pid int, OUT action text,
    OUT arg text, OUT hits bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bpt_faults'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.fault_points(OUT point text, OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bpt_fault_points'
LANGUAGE C VOLATILE;

-- bufpool.write_page without bp_log_free_check(): a C caller breaking the
-- redo contract (017_log_full)
CREATE FUNCTION bufpool_test.write_page_unchecked(space_id int, page_no bigint,
    data bytea, "offset" int)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_write_page_unchecked'
LANGUAGE C VOLATILE;

-- Benchmark loops (make bench) and allocator tests -----------------------------

CREATE FUNCTION bufpool_test.bench_fetch(space_id int, n_pages int, pattern text,
    n_ops bigint, seed int DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'bpt_bench_fetch'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_pg_fetch(rel regclass, n_pages int, pattern text,
    n_ops bigint, seed int DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'bpt_bench_pg_fetch'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_fetch_latency(space_id int, n_pages int, pattern text,
    duration_ms int, seed int DEFAULT 1,
    OUT ops bigint, OUT mean_ns float8, OUT p50_ns float8, OUT p99_ns float8,
    OUT p999_ns float8, OUT max_ns float8)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_bench_fetch_latency'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_fetch_timeline(space_id int, n_pages int, pattern text,
    duration_ms int, window_ms int, seed int DEFAULT 1)
RETURNS TABLE (window_start timestamptz, ops bigint, mean_ns float8, p50_ns float8,
    p99_ns float8, p999_ns float8, max_ns float8)
AS 'MODULE_PATHNAME', 'bpt_bench_fetch_timeline'
LANGUAGE C VOLATILE;

-- the same without the warm-up (misses are timed too), with each window's
-- hits: the warm-restart benchmark (scripts/bench_warm.sh)
CREATE FUNCTION bufpool_test.bench_cold_timeline(space_id int, n_pages int, pattern text,
    duration_ms int, window_ms int, seed int DEFAULT 1)
RETURNS TABLE (window_start timestamptz, ops bigint, hits bigint, mean_ns float8,
    p50_ns float8, p99_ns float8, p999_ns float8, max_ns float8)
AS 'MODULE_PATHNAME', 'bpt_bench_cold_timeline'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_replay(space_id int, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_bench_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_pg_replay(rel regclass, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_bench_pg_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_lru_replay(capacity int, n_pages int, scan_pages int,
    scan_every int, scan_range int, n_ops bigint, warmup_ops bigint, seed int DEFAULT 1,
    OUT accesses bigint, OUT hits bigint, OUT scan_accesses bigint, OUT scan_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_bench_lru_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.bench_heat_replay(space_id int, n_pages int, n_ops bigint,
    exponent float8, seed int, top int)
RETURNS TABLE (page_number bigint, accesses bigint)
AS 'MODULE_PATHNAME', 'bpt_bench_heat_replay'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.alloc_bench(allocator text, pattern text, size_spec text,
    n_ops bigint, OUT ns_per_op float8, OUT reserved bigint, OUT requested bigint,
    OUT reserved_per_requested float8)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_alloc_bench'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.arena_test_random(n_ops int, seed int, block_size int,
    max_capacity bigint DEFAULT 0, max_align int DEFAULT 8, shared boolean DEFAULT false,
    OUT allocs bigint, OUT nulls bigint, OUT blocks int, OUT reserved bigint,
    OUT used bigint, OUT invariants_ok boolean, OUT failure text)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_arena_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.arena_test_blocks(block_size int, sizes int[],
    action text DEFAULT 'none', shared boolean DEFAULT false,
    OUT block_no int, OUT size bigint, OUT big boolean, OUT used bigint,
    OUT next_block_size bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bpt_arena_test_blocks'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.arena_test_capacity(block_size int, max_capacity bigint,
    alloc_size int, n_allocs int, error_on_full boolean DEFAULT true,
    OUT allocs bigint, OUT got_null boolean, OUT blocks int, OUT reserved bigint,
    OUT used bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_arena_test_capacity'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.heap_test_random(type text, n_ops int, seed int,
    OUT allocs bigint, OUT frees bigint, OUT mark_frees bigint, OUT blocks int,
    OUT reserved bigint, OUT used bigint, OUT invariants_ok boolean, OUT failure text)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_heap_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.heap_test_blocks(type text, sizes int[], free_top int DEFAULT 0,
    OUT block_no int, OUT len bigint, OUT capacity bigint, OUT source text,
    OUT used bigint, OUT blocks int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bpt_heap_test_blocks'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.heap_test_guard(which text)
RETURNS text
AS 'MODULE_PATHNAME', 'bpt_heap_test_guard'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.buddy_test_alloc(size int, instance int DEFAULT -1)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_buddy_test_alloc'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.buddy_test_free(addr bigint, size int)
RETURNS void
AS 'MODULE_PATHNAME', 'bpt_buddy_test_free'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.buddy_test_random(n_ops int, seed int, max_size int DEFAULT 4096,
    OUT ops bigint, OUT max_live int, OUT ok boolean, OUT idle_check boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_buddy_test_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.buddy_bench(n_ops bigint, size int)
RETURNS float8
AS 'MODULE_PATHNAME', 'bpt_buddy_bench'
LANGUAGE C VOLATILE;

-- mini-transactions through the public API (mtr_tests.c)
CREATE FUNCTION bufpool_test.mtr(space_id int, first_page int, n_pages int,
    action text, fill int)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_mtr'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION bufpool_test.space_api(name text, size bigint, extend_by bigint, fill int)
RETURNS text
AS 'MODULE_PATHNAME', 'bpt_space_api'
LANGUAGE C STRICT VOLATILE;

-- leaks on purpose, for bufpool.memory_leaks (leak_tests.c)
CREATE FUNCTION bufpool_test.leak_shared(kb int)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_leak_shared'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION bufpool_test.leak_context(kb int)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_leak_context'
LANGUAGE C STRICT VOLATILE;

-- the page codec of compressed spaces (zip_tests.c)
CREATE FUNCTION bufpool_test.zip_roundtrip(algorithm text, key_block_size int, kind text,
    page_size int DEFAULT 16384,
    OUT fits boolean, OUT used int, OUT ratio float8, OUT roundtrip_ok boolean,
    OUT check_good text, OUT check_damaged text)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_zip_roundtrip'
LANGUAGE C STRICT VOLATILE;

-- pages of a kind written through the C API, and an eviction that keeps
-- a compressed page's image in memory (zip_tests.c)
CREATE FUNCTION bufpool_test.zip_fill(space_id int, first bigint, n int, kind text,
    seed int DEFAULT 1)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_zip_fill_space'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.zip_evict_frame(space_id int, page_no bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'bpt_zip_evict_frame'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.zip_evict_zip_frames(OUT evicted bigint, OUT kept bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_zip_evict_zip_frames'
LANGUAGE C VOLATILE;

-- Zipf reads over a space with no page fetched first (bench.c)
CREATE FUNCTION bufpool_test.bench_zip(space_id int, n_pages int, zipf_s float8,
    n_ops bigint, seed int DEFAULT 1,
    OUT ops bigint, OUT ns_per_fetch float8, OUT frame_hits bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_bench_zip'
LANGUAGE C VOLATILE;

-- write bytes into a file under bufpool_ext/ (zip_tests.c)
CREATE FUNCTION bufpool_test.poke_file(path text, "offset" bigint, data bytea)
RETURNS int
AS 'MODULE_PATHNAME', 'bpt_poke_file'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA bufpool_test FROM PUBLIC;

-- the size-class pools (sc_tests.c); set NULL: the shared one
CREATE FUNCTION bufpool_test.sc_alloc(size int, set text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_sc_alloc'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_free(addr bigint, size int, set text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'bpt_sc_free'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_random(n_ops int, seed int, max_live int DEFAULT 4096,
    set text DEFAULT NULL, OUT ops bigint, OUT max_live int, OUT bad int)
RETURNS record
AS 'MODULE_PATHNAME', 'bpt_sc_random'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_verify(set text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_sc_verify'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_flush()
RETURNS void
AS 'MODULE_PATHNAME', 'bpt_sc_flush'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_set_create(name text)
RETURNS int
AS 'MODULE_PATHNAME', 'bpt_sc_set_create'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_set_drop(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'bpt_sc_set_drop'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_bench(allocator text, size int, n_ops bigint, batch int)
RETURNS float8
AS 'MODULE_PATHNAME', 'bpt_sc_bench'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool_test.sc_hold(allocator text, n int, size int)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bpt_sc_hold'
LANGUAGE C VOLATILE;
