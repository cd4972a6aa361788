-- The buddy allocator (src/mmgr/buddy.c): split and merge, exhaustion of the
-- region into pool frames and back, the frame cap, wrong frees, bad input,
-- a randomized run with a fixed seed, privileges.
-- Settings (regress.conf): 2 instances, 8 kB pages, buddy_size 1MB, so
-- each instance starts with 64 free 8 kB pages in its region.
-- (runs after bp_basic, or alone: the extension may already exist)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
-- the buddy pools as they start: other processes' memory-context lines off
\getenv abs_srcdir PG_ABS_SRCDIR
\set buddy_quiet :abs_srcdir '/sql/include/buddy_quiet.psql'
\i :buddy_quiet
SHOW bufpool_ext.buddy_size;
SELECT buffer_pool_instance, page_size, pages_used, pages_free
FROM bufpool.buddy_stats WHERE pages_used + pages_free > 0 ORDER BY 1, 2;
SELECT count(*) AS size_classes, min(page_size), max(page_size),
       max(relocation_ops) AS relocation_ops, max(relocation_time) AS relocation_time
FROM bufpool.buddy_stats WHERE buffer_pool_instance = 0;

-- address fields: kind (1 region, 2 frame), instance, offset
CREATE FUNCTION pg_temp.kind(a bigint) RETURNS bigint LANGUAGE sql AS 'SELECT (a >> 62) & 3';
CREATE FUNCTION pg_temp.inst(a bigint) RETURNS bigint LANGUAGE sql AS 'SELECT (a >> 56) & 63';
CREATE FUNCTION pg_temp.off(a bigint) RETURNS bigint LANGUAGE sql AS 'SELECT a & ((1::bigint << 56) - 1)';
CREATE VIEW pg_temp.used0 AS
SELECT page_size, pages_used, pages_free FROM bufpool.buddy_stats
WHERE buffer_pool_instance = 0 AND pages_used + pages_free > 0 ORDER BY 1;

-- 100 bytes take a 128-byte block: the first page splits down to 128
SELECT bufpool_test.buddy_test_alloc(100, 0) AS a1 \gset
SELECT pg_temp.kind(:a1), pg_temp.inst(:a1), pg_temp.off(:a1);
SELECT * FROM pg_temp.used0;
-- the next 128-byte request takes its buddy, right after it
SELECT bufpool_test.buddy_test_alloc(128, 0) AS a2 \gset
SELECT :a2 - :a1 AS distance;
SELECT * FROM pg_temp.used0;
-- 64 bytes split the 256-byte block; 1 byte takes 64 too
SELECT bufpool_test.buddy_test_alloc(64, 0) AS a3 \gset
SELECT bufpool_test.buddy_test_alloc(1, 0) AS a4 \gset
SELECT pg_temp.off(:a3) AS off3, pg_temp.off(:a4) AS off4;
-- 65 bytes take 128, 4096 take half a page, 8192 a whole page
SELECT bufpool_test.buddy_test_alloc(65, 0) AS a5 \gset
SELECT bufpool_test.buddy_test_alloc(4096, 0) AS a6 \gset
SELECT bufpool_test.buddy_test_alloc(8192, 0) AS a7 \gset
SELECT pg_temp.off(:a5) AS off5, pg_temp.off(:a6) AS off6, pg_temp.off(:a7) AS off7;
SELECT * FROM pg_temp.used0;
SELECT bytes_reserved, bytes_used FROM bufpool.heaps WHERE name = 'buddy/0';

-- frees merge back, whatever the order
SELECT bufpool_test.buddy_test_free(:a3, 64);
SELECT * FROM pg_temp.used0;
SELECT bufpool_test.buddy_test_free(:a1, 100);
SELECT bufpool_test.buddy_test_free(:a4, 1);
SELECT * FROM pg_temp.used0;
SELECT bufpool_test.buddy_test_free(:a2, 128);
SELECT bufpool_test.buddy_test_free(:a5, 65);
SELECT bufpool_test.buddy_test_free(:a6, 4096);
SELECT bufpool_test.buddy_test_free(:a7, 8192);
SELECT * FROM pg_temp.used0;

-- wrong frees are errors and change nothing
SELECT bufpool_test.buddy_test_alloc(300, 0) AS b1 \gset
SELECT bufpool_test.buddy_test_free(:b1, 100);          -- wrong size class
SELECT bufpool_test.buddy_test_free(:b1 + 64, 300);     -- inside the block
SELECT bufpool_test.buddy_test_free(:b1 + 1, 300);      -- not 64-byte aligned
SELECT bufpool_test.buddy_test_free(:b1 + (1::bigint << 56), 300);  -- same offset, instance 1
SELECT bufpool_test.buddy_test_free(0, 300);            -- null address
SELECT bufpool_test.buddy_test_free(123456, 300);       -- kind 0
SELECT bufpool_test.buddy_test_free((1::bigint << 62) + (1::bigint << 40), 64);  -- past the region
SELECT bufpool_test.buddy_test_free((2::bigint << 62), 64);  -- frame kind, no frame held
SELECT bufpool_test.buddy_test_free((1::bigint << 62) + (5::bigint << 56), 64);  -- instance 5
SELECT * FROM pg_temp.used0;
SELECT bufpool_test.buddy_test_free(:b1, 300);
SELECT bufpool_test.buddy_test_free(:b1, 300);          -- double free (of the parked block)
SELECT * FROM pg_temp.used0;

-- deferred frees: a freed region block is parked unmerged in its order's
-- cache (one block per order) and handed out first; buddy_stats merges
-- the cache before counting.  A parked block is still free: freeing it
-- again is a double free, and its size is the parked one.
SELECT bufpool_test.buddy_test_alloc(64, 0) AS c1 \gset
SELECT bufpool_test.buddy_test_free(:c1, 64);
SELECT bufpool_test.buddy_test_free(:c1, 64);           -- double free
SELECT bufpool_test.buddy_test_free(:c1, 128);          -- parked as 64, not 128
SELECT bufpool_test.buddy_test_alloc(64, 0) = :c1 AS parked_block_reused;
SELECT * FROM pg_temp.used0;
SELECT bufpool_test.buddy_test_free(:c1, 64);
SELECT * FROM pg_temp.used0;
-- a parked block never makes an allocation take a frame: instance 1's
-- first page split for a 64-byte block, its other 63 pages in use, the
-- 64-byte block freed (parked, so the first page stays split); a page
-- request merges the cache and gets the first page from the region
SELECT bufpool_test.buddy_test_alloc(64, 1) AS d1 \gset
CREATE TEMP TABLE held63 AS
SELECT bufpool_test.buddy_test_alloc(8192, 1) AS a FROM generate_series(1, 63);
SELECT bufpool_test.buddy_test_free(:d1, 64);
SELECT bufpool_test.buddy_test_alloc(8192, 1) AS d2 \gset
SELECT pg_temp.kind(:d2) AS kind, pg_temp.off(:d1) AS off1, pg_temp.off(:d2) AS off2;
SELECT length AS memory_blocks FROM bufpool.lists WHERE pool_id = 1 AND list = 'memory';
SELECT bufpool_test.buddy_test_free(:d2, 8192);
SELECT count(bufpool_test.buddy_test_free(a, 8192)) AS freed FROM held63;
DROP TABLE held63;
SELECT blocks, bytes_reserved, bytes_used FROM bufpool.heaps WHERE name = 'buddy/1';

-- exhaustion: 64 pages fill instance 1's region, then frames of chunk 0
CREATE TEMP TABLE held (a bigint, size int);
INSERT INTO held SELECT bufpool_test.buddy_test_alloc(8192, 1), 8192 FROM generate_series(1, 64);
SELECT length AS memory_blocks FROM bufpool.lists WHERE pool_id = 1 AND list = 'memory';
INSERT INTO held SELECT bufpool_test.buddy_test_alloc(8192, 1), 8192 FROM generate_series(1, 10);
INSERT INTO held SELECT bufpool_test.buddy_test_alloc(1000, 1), 1000 FROM generate_series(1, 9);
SELECT pg_temp.kind(a) AS kind, size, count(*) FROM held GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pool_id, length AS memory_blocks, bytes FROM bufpool.lists WHERE list = 'memory' ORDER BY 1;
SELECT pool_id, page_state, count(*), max(fix_count) AS fix_count, max(io_fix) AS io_fix
FROM bufpool.pages WHERE page_state = 'MEMORY' GROUP BY 1, 2;
SELECT count(*) AS frames_in_chunk_0 FROM bufpool.pages p
WHERE p.pool_id = 1 AND p.page_state = 'MEMORY'
  AND p.block_id < (SELECT pool_size / chunks_per_instance FROM bufpool.stats, bufpool.status() WHERE pool_id = 1);
SELECT blocks, bytes_reserved, bytes_used FROM bufpool.heaps WHERE name = 'buddy/1';
SELECT page_size, pages_used, pages_free FROM bufpool.buddy_stats
WHERE buffer_pool_instance = 1 AND pages_used + pages_free > 0 ORDER BY 1;
-- a frame address freed with the wrong size, or inside the frame
SELECT a AS f1 FROM held WHERE pg_temp.kind(a) = 2 AND size = 1000 LIMIT 1 \gset
-- (the frame's block number depends on what ran before: masked)
CREATE FUNCTION pg_temp.try_free(a bigint, size int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    PERFORM bufpool_test.buddy_test_free(a, size);
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RAISE NOTICE '% / %', regexp_replace(SQLERRM, 'address [0-9]+', 'address <frame>'), d;
END $$;
SELECT pg_temp.try_free(:f1, 2000);
SELECT pg_temp.try_free(:f1 + 512, 1000);
-- giving everything back returns every frame to the free list
SELECT count(bufpool_test.buddy_test_free(a, size)) AS freed FROM held;
DELETE FROM held;
SELECT pool_id, length AS memory_blocks FROM bufpool.lists WHERE list = 'memory' ORDER BY 1;
SELECT count(*) AS memory_pages FROM bufpool.pages WHERE page_state = 'MEMORY';
SELECT blocks, bytes_reserved, bytes_used FROM bufpool.heaps WHERE name = 'buddy/1';
SELECT page_size, pages_used, pages_free FROM bufpool.buddy_stats
WHERE buffer_pool_instance = 1 AND pages_used + pages_free > 0 ORDER BY 1;

-- the cap: at most half of chunk 0's blocks are memory, then out of memory
SELECT (pool_size / chunks_per_instance) / 2 AS cap FROM bufpool.stats, bufpool.status() WHERE pool_id = 1 \gset
INSERT INTO held SELECT bufpool_test.buddy_test_alloc(8192, 1), 8192 FROM generate_series(1, 64 + :cap);
SELECT length = :cap AS at_cap FROM bufpool.lists WHERE pool_id = 1 AND list = 'memory';
SELECT bufpool_test.buddy_test_alloc(8192, 1);
SELECT bufpool_test.buddy_test_alloc(100, 1);
-- instance 0 is not affected
SELECT bufpool_test.buddy_test_alloc(8192, 0) AS a8 \gset
SELECT pg_temp.kind(:a8) AS kind_on_instance_0;
SELECT bufpool_test.buddy_test_free(:a8, 8192);
SELECT count(bufpool_test.buddy_test_free(a, size)) = 64 + :cap AS freed FROM held;
DELETE FROM held;
SELECT pool_id, length AS memory_blocks FROM bufpool.lists WHERE list = 'memory' ORDER BY 1;

-- bad input
SELECT bufpool_test.buddy_test_alloc(0);
SELECT bufpool_test.buddy_test_alloc(-1, 0);
SELECT bufpool_test.buddy_test_alloc(8193, 0);
SELECT bufpool_test.buddy_test_alloc(64, -2);
SELECT bufpool_test.buddy_test_alloc(64, 2);
SELECT bufpool_test.buddy_test_alloc(NULL, 0);
SELECT bufpool_test.buddy_test_alloc(64, NULL);
SELECT bufpool_test.buddy_test_free(NULL, 64);
SELECT bufpool_test.buddy_test_free(4611686018427387904, 0);
SELECT bufpool_test.buddy_test_free(4611686018427387904, 8193);
SELECT * FROM bufpool_test.buddy_test_random(-1, 1);
SELECT * FROM bufpool_test.buddy_test_random(100, 1, 0);
SELECT * FROM bufpool_test.buddy_test_random(100, 1, 8193);
SELECT * FROM bufpool_test.buddy_test_random(100, NULL);
SELECT bufpool_test.buddy_bench(0, 64);
SELECT bufpool_test.buddy_bench(100, 0);
SELECT bufpool_test.buddy_bench(100, 8193);
SELECT bufpool_test.buddy_bench(NULL, 64);
-- the session's instance (-1) is a valid one
SELECT bufpool_test.buddy_test_alloc(64) AS s1 \gset
SELECT pg_temp.inst(:s1) IN (0, 1) AS valid_instance;
SELECT bufpool_test.buddy_test_free(:s1, 64);

-- randomized: 20000 operations of 1 .. 4096 bytes over both instances
-- with a fixed seed; every invariant checked every 1000 operations, and
-- at the end each pool is back in its startup state
SELECT * FROM bufpool_test.buddy_test_random(20000, 42, 4096);
SELECT * FROM bufpool_test.buddy_test_random(5000, 7, 8192);
SELECT * FROM bufpool_test.buddy_test_random(3000, 1, 1);
SELECT buffer_pool_instance, page_size, pages_used, pages_free
FROM bufpool.buddy_stats WHERE pages_used + pages_free > 0 ORDER BY 1, 2;
SELECT pool_id, length AS memory_blocks FROM bufpool.lists WHERE list = 'memory' ORDER BY 1;

-- the benchmark loop runs and gives a time
SELECT bufpool_test.buddy_bench(10000, 64) > 0 AS timed;

-- memory accounting: blocks handed out are all back; the pools reserve
-- their regions (both instances were used) and no frame
SELECT event_name, current_count_used, current_number_of_bytes_used,
       count_alloc = count_free AS balanced
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name IN ('memory/bufpool/buddy', 'memory/bufpool/buddy_pool') ORDER BY 1;
SELECT name, type, is_shared, blocks, bytes_reserved, bytes_used
FROM bufpool.heaps WHERE name LIKE 'buddy/%' ORDER BY 1;

-- privileges: test functions are superuser-only even if granted;
-- pg_monitor reads buddy_stats, a plain role does not
SET client_min_messages = error;
DROP ROLE IF EXISTS bp_buddy_plain;
DROP ROLE IF EXISTS bp_buddy_monitor;
RESET client_min_messages;
CREATE ROLE bp_buddy_plain;
CREATE ROLE bp_buddy_monitor IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA bufpool, bufpool_test TO bp_buddy_plain;
GRANT EXECUTE ON FUNCTION bufpool_test.buddy_test_alloc(int, int), bufpool_test.buddy_test_free(bigint, int),
    bufpool_test.buddy_test_random(int, int, int), bufpool_test.buddy_bench(bigint, int) TO bp_buddy_plain;
SET ROLE bp_buddy_plain;
SELECT bufpool_test.buddy_test_alloc(64, 0);
SELECT bufpool_test.buddy_test_free(4611686018427387904, 64);
SELECT * FROM bufpool_test.buddy_test_random(10, 1);
SELECT bufpool_test.buddy_bench(10, 64);
SELECT count(*) FROM bufpool.buddy_stats;
RESET ROLE;
SET ROLE bp_buddy_monitor;
SELECT count(*) AS rows FROM bufpool.buddy_stats;
SELECT bufpool_test.buddy_test_alloc(64, 0);
RESET ROLE;
REVOKE ALL ON FUNCTION bufpool_test.buddy_test_alloc(int, int), bufpool_test.buddy_test_free(bigint, int),
    bufpool_test.buddy_test_random(int, int, int), bufpool_test.buddy_bench(bigint, int) FROM bp_buddy_plain;
REVOKE USAGE ON SCHEMA bufpool, bufpool_test FROM bp_buddy_plain;
DROP ROLE bp_buddy_plain;
DROP ROLE bp_buddy_monitor;
-- memory-context lines on again
ALTER SYSTEM RESET bufpool_ext.backend_memory_contexts;
ALTER SYSTEM RESET bufpool_ext.leak_check_interval;
SELECT pg_reload_conf();
