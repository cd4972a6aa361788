/* bufpool_ext 1.5 -> 1.6: the library ships production code only */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.6'" to load this file. \quit

-- The benchmark loops and the allocator tests moved to the test module
-- bufpool_test (CREATE EXTENSION bufpool_test, schema bufpool_test), built
-- and installed by make test and make bench only.  The settings
-- bufpool_ext.debug_* and bufpool_ext.page_cleaner_pause are gone from
-- the library; tests use its fault points through bufpool_test instead.
DROP FUNCTION bufpool.bench_fetch(int, int, text, bigint, int);
DROP FUNCTION bufpool.bench_pg_fetch(regclass, int, text, bigint, int);
DROP FUNCTION bufpool.bench_fetch_latency(int, int, text, int, int);
DROP FUNCTION bufpool.bench_fetch_timeline(int, int, text, int, int, int);
DROP FUNCTION bufpool.bench_replay(int, int, int, int, int, bigint, bigint, int);
DROP FUNCTION bufpool.bench_pg_replay(regclass, int, int, int, int, bigint, bigint, int);
DROP FUNCTION bufpool.bench_lru_replay(int, int, int, int, int, bigint, bigint, int);
DROP FUNCTION bufpool.bench_heat_replay(int, int, bigint, float8, int, int);
DROP FUNCTION bufpool.alloc_bench(text, text, text, bigint);
DROP FUNCTION bufpool.arena_test_random(int, int, int, bigint, int, boolean);
DROP FUNCTION bufpool.arena_test_blocks(int, int[], text, boolean);
DROP FUNCTION bufpool.arena_test_capacity(int, bigint, int, int, boolean);
DROP FUNCTION bufpool.heap_test_random(text, int, int);
DROP FUNCTION bufpool.heap_test_blocks(text, int[], int);
DROP FUNCTION bufpool.heap_test_guard(text);
DROP FUNCTION bufpool.buddy_test_alloc(int, int);
DROP FUNCTION bufpool.buddy_test_free(bigint, int);
DROP FUNCTION bufpool.buddy_test_random(int, int, int);
DROP FUNCTION bufpool.buddy_bench(bigint, int);
