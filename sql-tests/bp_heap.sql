-- Memory heap (InnoDB mem_heap_t-style, src/mmgr/heap.c): block growth, exact
-- blocks, BUFFER heaps on pool frames, free_top / marks / empty, guards,
-- randomized invariants, the flush consumer, privileges and bad input.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
-- the buddy pools as they start: other processes' memory-context lines off
\getenv abs_srcdir PG_ABS_SRCDIR
\set buddy_quiet :abs_srcdir '/sql/include/buddy_quiet.psql'
\i :buddy_quiet

-- DYNAMIC: first block 64 B, each next twice the previous, capped at 8000 B;
-- a larger request gets a block of exactly its size
SELECT * FROM bufpool_test.heap_test_blocks('dynamic', ARRAY[8, 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10]);
-- free_top of the last 3: the 10000-byte block goes; the last emptied block
-- stays on top (empty) until needed, and one more is kept as a spare (spares
-- are held but not counted among the blocks in use)
SELECT * FROM bufpool_test.heap_test_blocks('dynamic', ARRAY[8, 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10], 3);
-- BUFFER: a block of at least half a page takes a whole pool frame (8 kB pages)
SELECT * FROM bufpool_test.heap_test_blocks('buffer', ARRAY[8, 100, 200, 400, 800, 1600, 3200, 6400, 100]);
-- a request larger than a page: an exact malloc'd block even in a BUFFER heap
SELECT block_no, capacity, source FROM bufpool_test.heap_test_blocks('buffer', ARRAY[20000]);
-- the frames a BUFFER heap borrowed are given back
SELECT event_name, count_alloc > 0 AS counted, count_alloc = count_free AS all_freed,
       current_number_of_bytes_used AS bytes_now
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/heap/test';

-- randomized: alloc, free_top, marks and free_to_mark (used bytes restored
-- exactly), empty; invariants after every operation, contents verified
SELECT * FROM bufpool_test.heap_test_random('dynamic', 20000, 1);
SELECT * FROM bufpool_test.heap_test_random('dynamic', 20000, 2);
SELECT allocs, frees, mark_frees, used, invariants_ok, failure
FROM bufpool_test.heap_test_random('buffer', 20000, 3);

-- shared arenas (src/mmgr/arena.c; here because this test runs after bp_buddy):
-- the BpArena and its blocks in buddy memory (block sizes
-- rounded up to the buddy's powers of two, at most a page)
SELECT sum(pages_used) AS buddy_used_before FROM bufpool.buddy_stats \gset
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[1000, 1000, 1000, 1000, 1000], 'none', true);
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[100, 5000, 200], 'clear_for_reuse', true);
SELECT allocs, nulls, invariants_ok, failure FROM bufpool_test.arena_test_random(20000, 6, 1024, 0, 8, true);
SELECT allocs, nulls, invariants_ok, failure FROM bufpool_test.arena_test_random(20000, 7, 256, 0, 64, true);
-- a single request must fit in one page
SELECT * FROM bufpool_test.arena_test_blocks(1024, ARRAY[9000], 'none', true);
-- everything went back to the buddy allocator, also after the ERROR
SELECT sum(pages_used) = :buddy_used_before AS buddy_back FROM bufpool.buddy_stats;

-- shared heaps: the heap and its blocks in buddy memory (BUFFER: frames)
SELECT sum(pages_used) AS buddy_used_before FROM bufpool.buddy_stats \gset
SELECT block_no, len, capacity, source
FROM bufpool_test.heap_test_blocks('dynamic_shared', ARRAY[8, 100, 200, 400, 800, 1600, 3200, 6400]);
SELECT block_no, len, capacity, source
FROM bufpool_test.heap_test_blocks('buffer_shared', ARRAY[8, 100, 200, 400, 800, 1600, 3200, 6400]);
SELECT allocs, frees, mark_frees, invariants_ok, failure
FROM bufpool_test.heap_test_random('dynamic_shared', 20000, 4);
SELECT allocs, frees, mark_frees, invariants_ok, failure
FROM bufpool_test.heap_test_random('buffer_shared', 20000, 5);
-- a block larger than a page cannot come from the buddy allocator
SELECT * FROM bufpool_test.heap_test_blocks('dynamic_shared', ARRAY[9000]);
SELECT sum(pages_used) = :buddy_used_before AS buddy_back FROM bufpool.buddy_stats;
SELECT sum(length) AS memory_frames_left FROM bufpool.lists WHERE list = 'memory';

-- guards: ERROR, not a crash, and the heap is still freed
SELECT bufpool_test.heap_test_guard('smash');
SELECT bufpool_test.heap_test_guard('free_top');
SELECT bufpool_test.heap_test_guard('bad_mark');
SELECT bufpool_test.heap_test_guard('stale_mark');
SELECT count(*) AS heaps_left FROM bufpool.heaps WHERE name = 'test';
SELECT count_alloc = count_free AS all_freed, current_number_of_bytes_used AS bytes_now
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/heap/test';

-- consumer: bufpool.flush() takes its batch array from a BUFFER heap of the
-- process, freed back to its mark at the end
SET client_min_messages = error;
SELECT bufpool.create_space('heapflush', 4000) AS sp \gset
RESET client_min_messages;
SELECT count(*) FROM (SELECT bufpool.write_page(:sp, g, 'x'::bytea) FROM generate_series(0, 2999) g) s;
-- (taking a frame may itself write a dirty page of chunk 0 to free its
-- block: that page is written but not counted by this flush)
SELECT bufpool.flush(:sp) BETWEEN 2990 AND 3000 AS flushed;
SELECT sum(modified_database_pages) AS dirty_left FROM bufpool.stats;
SELECT name, type, is_shared, bytes_used FROM bufpool.heaps WHERE name = 'flush_batch';
-- what the heap still holds is its first block (the heap lives as long as the process)
SELECT current_count_used AS blocks_held
FROM bufpool.memory_summary_by_thread_by_event_name
WHERE event_name = 'memory/bufpool/heap/flush_batch' AND thread_id = pg_backend_pid();
SELECT bufpool.drop_space(:sp);

-- bad input
SELECT * FROM bufpool_test.heap_test_random('static', 10, 1);
SELECT * FROM bufpool_test.heap_test_random('dynamic', 0, 1);
SELECT * FROM bufpool_test.heap_test_random('dynamic', 10, NULL);
SELECT * FROM bufpool_test.heap_test_blocks('dynamic', ARRAY[10], 2);
SELECT * FROM bufpool_test.heap_test_blocks('dynamic', ARRAY[[1, 2], [3, 4]]);
SELECT bufpool_test.heap_test_guard('overflow');

-- privileges
SET client_min_messages = error;
DROP ROLE IF EXISTS bp_heap_plain;
RESET client_min_messages;
CREATE ROLE bp_heap_plain;
GRANT USAGE ON SCHEMA bufpool, bufpool_test TO bp_heap_plain;
SET ROLE bp_heap_plain;
SELECT * FROM bufpool_test.heap_test_random('dynamic', 10, 1);
RESET ROLE;
GRANT EXECUTE ON FUNCTION bufpool_test.heap_test_random(text, int, int),
    bufpool_test.heap_test_guard(text) TO bp_heap_plain;
SET ROLE bp_heap_plain;
SELECT * FROM bufpool_test.heap_test_random('dynamic', 10, 1);
SELECT bufpool_test.heap_test_guard('smash');
RESET ROLE;
REVOKE ALL ON FUNCTION bufpool_test.heap_test_random(text, int, int),
    bufpool_test.heap_test_guard(text) FROM bp_heap_plain;
REVOKE USAGE ON SCHEMA bufpool, bufpool_test FROM bp_heap_plain;
DROP ROLE bp_heap_plain;
-- memory-context lines on again
ALTER SYSTEM RESET bufpool_ext.backend_memory_contexts;
ALTER SYSTEM RESET bufpool_ext.leak_check_interval;
SELECT pg_reload_conf();
