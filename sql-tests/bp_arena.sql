-- Arena (MEM_ROOT-style bump allocator, src/mmgr/arena.c): block growth, big
-- requests, clear / clear_for_reuse, max_capacity, randomized invariants,
-- accounting, privileges and bad input.  Runs before bp_basic: creates the
-- extension if needed and drops it at the end (the pool is not affected).
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;

-- growth: 1024-byte first block, each next one 1.5x (block 0 is the current one)
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[1000, 1000, 1000, 1000, 1000]);
-- a request >= the block size gets its own block, second in the list; the
-- current block stays current and the block size does not grow
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[100, 5000, 200]);
-- in an empty arena the big block is the only one (current, full): the next
-- small request starts a normal block
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[3000, 10]);
-- clear frees every block; clear_for_reuse keeps the current block, emptied
SELECT count(*) AS blocks_after_clear
FROM bufpool_test.arena_test_blocks(1024, ARRAY[1000, 1000, 1000, 5000, 1000], 'clear');
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[1000, 1000, 1000, 5000, 1000], 'clear_for_reuse');
-- alignment: block header and data are 8-byte aligned; 0-byte requests are fine
SELECT * FROM bufpool_test.arena_test_blocks(64, ARRAY[0, 1, 0, 7]);

-- max_capacity: NULL variant (error_on_full = false) stops at the limit,
-- the last block shrunk to what is left; the ERROR variant names size and capacity
SELECT * FROM bufpool_test.arena_test_capacity(1024, 10000, 300, 100, false);
SELECT * FROM bufpool_test.arena_test_capacity(1024, 10000, 300, 100, true);
SELECT * FROM bufpool_test.arena_test_capacity(1024, 10000, 300, 20, true);
-- a single request larger than the capacity
SELECT * FROM bufpool_test.arena_test_capacity(1024, 4000, 5000, 1, false);
SELECT * FROM bufpool_test.arena_test_capacity(1024, 4000, 5000, 1, true);

-- randomized: thousands of operations (alloc of 1 B .. 3 blocks, clear,
-- clear_for_reuse), every invariant checked after each one, contents
-- verified (deterministic with 8-byte alignment)
SELECT * FROM bufpool_test.arena_test_random(20000, 1, 1024);
SELECT * FROM bufpool_test.arena_test_random(20000, 2, 64);
SELECT * FROM bufpool_test.arena_test_random(20000, 3, 4096, 50000);
-- with alignments up to 256 the padding depends on addresses: only the verdict
SELECT allocs, nulls, invariants_ok, failure FROM bufpool_test.arena_test_random(20000, 4, 512, 0, 256);
SELECT allocs > 0 AS allocated, nulls > 0 AS hit_capacity, invariants_ok, failure
FROM bufpool_test.arena_test_random(20000, 5, 256, 20000, 64);

-- accounting: every block malloc'd and freed is counted; nothing is left
-- (not even after the ERROR above), and no arena stays registered
SELECT event_name, count_alloc > 0 AS counted, count_alloc = count_free AS all_freed,
       current_number_of_bytes_used AS bytes_now
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/arena/test';
SELECT count(*) AS arenas_left FROM bufpool.heaps WHERE name = 'test';
-- the views build their snapshots in a per-call arena "sql_views"
SELECT count(*) > 0 AS has_pages FROM bufpool.pages;
SELECT count(*) >= 0 AS has_lru FROM bufpool.page_lru;
SELECT event_name, count_alloc > 0 AS counted, count_alloc = count_free AS all_freed
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/arena/sql_views';
SELECT count(*) AS view_arenas_left FROM bufpool.heaps WHERE name = 'sql_views';

-- shared arenas (blocks from the buddy allocator) are tested in bp_heap,
-- which runs after bp_buddy: bp_buddy's expected addresses assume the
-- buddy's free lists as the server started

-- bad input
SELECT * FROM bufpool_test.arena_test_random(0, 1, 1024);
SELECT * FROM bufpool_test.arena_test_random(10, 1, 10);
SELECT * FROM bufpool_test.arena_test_random(10, 1, 1024, -1);
SELECT * FROM bufpool_test.arena_test_random(10, 1, 1024, 0, 3);
SELECT * FROM bufpool_test.arena_test_random(10, 1, 1024, 0, 8192);
SELECT * FROM bufpool_test.arena_test_random(NULL, 1, 1024);
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[1], 'reset');
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[1, NULL]);
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[-1]);
SELECT * FROM bufpool_test.arena_test_capacity(1024, -5, 10, 1);
SELECT * FROM bufpool_test.alloc_bench('jemalloc', 'pairs', '16', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'triples', '16', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', '0', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', 'uniform100-10', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', 'uniform1-2000000', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', '16kB', 10);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', '16', 0);
SELECT * FROM bufpool_test.alloc_bench('arena', NULL, '16', 10);
-- the benchmark runs (figures are not deterministic: only their sanity)
SELECT a AS allocator, p AS pattern, b.ns_per_op > 0 AS timed,
       b.reserved >= b.requested AS holds_what_was_asked
FROM unnest(ARRAY['arena', 'heap', 'malloc', 'palloc']) a,
     unnest(ARRAY['pairs', 'batch1024']) p,
     LATERAL bufpool_test.alloc_bench(a, p, 'uniform16-1024', 5000) b
ORDER BY 1, 2;

-- privileges: superuser only, checked in C even with a grant
SET client_min_messages = error;
DROP ROLE IF EXISTS bp_arena_plain;
RESET client_min_messages;
CREATE ROLE bp_arena_plain;
GRANT USAGE ON SCHEMA bufpool, bufpool_test TO bp_arena_plain;
SET ROLE bp_arena_plain;
SELECT * FROM bufpool_test.arena_test_random(10, 1, 1024);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', '16', 10);
RESET ROLE;
GRANT EXECUTE ON FUNCTION bufpool_test.arena_test_random(int, int, int, bigint, int, boolean),
    bufpool_test.alloc_bench(text, text, text, bigint) TO bp_arena_plain;
SET ROLE bp_arena_plain;
SELECT * FROM bufpool_test.arena_test_random(10, 1, 1024);
SELECT * FROM bufpool_test.alloc_bench('arena', 'pairs', '16', 10);
RESET ROLE;
REVOKE ALL ON FUNCTION bufpool_test.arena_test_random(int, int, int, bigint, int, boolean),
    bufpool_test.alloc_bench(text, text, text, bigint) FROM bp_arena_plain;
REVOKE USAGE ON SCHEMA bufpool, bufpool_test FROM bp_arena_plain;
DROP ROLE bp_arena_plain;

-- bp_basic creates the extension itself
DROP EXTENSION bufpool_test;
DROP EXTENSION bufpool_ext;
