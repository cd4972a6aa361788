-- Memory accounting: performance_schema-style summaries, their invariants,
-- the reset, the sys-style views, backend_memory and privileges.
-- The pool is 32MB: 2 instances x 2 chunks of 8MB.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
RESET client_min_messages;
SELECT effective_size, chunks_per_instance FROM bufpool.status();

-- performance_schema's eleven columns, in its order
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
FROM pg_attribute
WHERE attrelid = 'bufpool.memory_summary_global_by_event_name'::regclass AND attnum > 0;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
FROM pg_attribute
WHERE attrelid = 'bufpool.memory_summary_by_thread_by_event_name'::regclass AND attnum > 0;

-- the pool's own memory: 4 chunks, their control blocks, 2 page hashes;
-- main shared memory (2 parts) and the 2 buddy regions, counted at start-up
SELECT event_name, current_count_used,
       current_number_of_bytes_used > 0 AS has_bytes
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name IN ('memory/bufpool/shmem', 'memory/bufpool/chunk',
                     'memory/bufpool/block_control', 'memory/bufpool/page_hash',
                     'memory/bufpool/buddy_pool')
ORDER BY event_name;
SELECT current_number_of_bytes_used = pg_size_bytes(current_setting('bufpool_ext.buddy_size'))
       AS buddy_regions_counted
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/buddy_pool';
-- chunk frames + control blocks = the chunk segments' sizes
SELECT (SELECT sum(current_number_of_bytes_used)
        FROM bufpool.memory_summary_global_by_event_name
        WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control'))
       = (SELECT sum(size) FROM bufpool.chunks) AS chunk_bytes_match;

-- invariants on every row: current = alloc - free, low <= current <= high
CREATE FUNCTION mem_invariants_hold() RETURNS TABLE (view text, rows_checked boolean, ok boolean)
LANGUAGE sql AS $$
    SELECT 'global', count(*) > 0,
           bool_and(current_count_used = count_alloc - count_free
                    AND current_number_of_bytes_used = sum_number_of_bytes_alloc - sum_number_of_bytes_free
                    AND low_count_used <= current_count_used AND current_count_used <= high_count_used
                    AND low_number_of_bytes_used <= current_number_of_bytes_used
                    AND current_number_of_bytes_used <= high_number_of_bytes_used
                    AND count_alloc >= 0 AND count_free >= 0)
    FROM bufpool.memory_summary_global_by_event_name
    UNION ALL
    SELECT 'by_thread', count(*) > 0,
           bool_and(current_count_used = count_alloc - count_free
                    AND current_number_of_bytes_used = sum_number_of_bytes_alloc - sum_number_of_bytes_free
                    AND low_count_used <= current_count_used AND current_count_used <= high_count_used
                    AND low_number_of_bytes_used <= current_number_of_bytes_used
                    AND current_number_of_bytes_used <= high_number_of_bytes_used)
    FROM bufpool.memory_summary_by_thread_by_event_name
$$;
-- the sum over threads (thread 0 holding the exited ones) is the global row
CREATE FUNCTION mem_threads_sum_to_global() RETURNS TABLE (instruments bigint, mismatches bigint)
LANGUAGE sql AS $$
    SELECT count(*), count(*) FILTER (WHERE t.ca IS DISTINCT FROM g.count_alloc
                                         OR t.cf IS DISTINCT FROM g.count_free
                                         OR t.ba IS DISTINCT FROM g.sum_number_of_bytes_alloc
                                         OR t.bf IS DISTINCT FROM g.sum_number_of_bytes_free)
    FROM bufpool.memory_summary_global_by_event_name g
    LEFT JOIN (SELECT event_name, sum(count_alloc) AS ca, sum(count_free) AS cf,
                      sum(sum_number_of_bytes_alloc) AS ba, sum(sum_number_of_bytes_free) AS bf
               FROM bufpool.memory_summary_by_thread_by_event_name GROUP BY event_name) t
      ON t.event_name = g.event_name
    WHERE g.count_alloc > 0 OR g.count_free > 0
$$;
SELECT * FROM mem_invariants_hold();
SELECT instruments >= 4 AS several, mismatches FROM mem_threads_sum_to_global();

-- the pool manager created the chunks: they are its rows
SELECT backend_type, event_name, current_count_used
FROM bufpool.memory_summary_by_thread_by_event_name
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control')
ORDER BY event_name, thread_id;
-- the postmaster's part is thread 0
SELECT thread_id, backend_type, count_alloc
FROM bufpool.memory_summary_by_thread_by_event_name
WHERE event_name = 'memory/bufpool/shmem';

-- a grow and a shrink move the counts: 8 chunks, then 4 again
SELECT phase FROM bufpool.resize('64MB');
SELECT event_name, count_alloc, count_free, current_count_used, high_count_used
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control')
ORDER BY event_name;
SELECT phase FROM bufpool.resize('32MB');
SELECT event_name, count_alloc, count_free, current_count_used, high_count_used
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control')
ORDER BY event_name;
SELECT (SELECT sum(current_number_of_bytes_used)
        FROM bufpool.memory_summary_global_by_event_name
        WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control'))
       = (SELECT sum(size) FROM bufpool.chunks) AS chunk_bytes_match;
-- 64MB keeps the page hash (within 2x); 128MB rebuilds it, 32MB again
SELECT phase, message FROM bufpool.resize('128MB');
SELECT phase, message FROM bufpool.resize('32MB');
SELECT count_alloc - count_free = 2 AS two_hashes, current_count_used
FROM bufpool.memory_summary_global_by_event_name WHERE event_name = 'memory/bufpool/page_hash';
-- a rebuild creates the new table before it frees the old one: the
-- manager's own high watermark is exact and saw three tables (the global
-- one is sampled when the views are read, see memstat.c)
SELECT backend_type, current_count_used, high_count_used
FROM bufpool.memory_summary_by_thread_by_event_name
WHERE event_name = 'memory/bufpool/page_hash';
SELECT * FROM mem_invariants_hold();
SELECT instruments >= 4 AS several, mismatches FROM mem_threads_sum_to_global();

-- reset: alloc = what is live, free = 0, low = high = current (whole family)
SELECT bufpool.memory_summary_reset();
SELECT event_name, count_alloc, count_free, low_count_used, current_count_used, high_count_used,
       sum_number_of_bytes_alloc = current_number_of_bytes_used AS alloc_is_current,
       low_number_of_bytes_used = current_number_of_bytes_used
       AND high_number_of_bytes_used = current_number_of_bytes_used AS low_high_current
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control', 'memory/bufpool/page_hash')
ORDER BY event_name;
SELECT bool_and(count_free = 0 AND low_count_used = current_count_used
                AND high_count_used = current_count_used) AS threads_reset
FROM bufpool.memory_summary_by_thread_by_event_name
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control', 'memory/bufpool/page_hash');
-- counting goes on after the reset
SELECT phase FROM bufpool.resize('48MB');
SELECT event_name, count_alloc, count_free, current_count_used, high_count_used
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/chunk';
SELECT phase FROM bufpool.resize('32MB');
SELECT event_name, count_alloc, count_free, low_count_used, current_count_used, high_count_used
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/chunk';
SELECT * FROM mem_invariants_hold();
SELECT instruments >= 4 AS several, mismatches FROM mem_threads_sum_to_global();

-- sys-style views: human-readable, largest first, only what is live
SELECT event_name, current_count, current_alloc, current_avg_alloc
FROM bufpool.memory_global_by_current_bytes
WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control');
SELECT bool_and(pg_size_bytes(current_alloc) > 0) AS all_live,
       (array_agg(event_name))[1] = 'memory/bufpool/chunk' AS chunk_first
FROM bufpool.memory_global_by_current_bytes;
SELECT pg_size_bytes(total_allocated) >= 32 * 1024 * 1024 AS total_covers_pool
FROM bufpool.memory_global_total;

-- backend_memory: this session's PostgreSQL memory contexts
SELECT count(*) AS my_rows, bool_and(total_bytes > 0 AND used_bytes > 0
                                     AND used_bytes + free_bytes = total_bytes
                                     AND contexts > 10 AND blocks > 0) AS sane,
       bool_and(backend_type = 'client backend') AS client
FROM bufpool.backend_memory WHERE pid = pg_backend_pid();
SELECT count(DISTINCT backend_type) >= 3 AS workers_publish
FROM bufpool.backend_memory
WHERE backend_type IN ('bufpool_ext pool manager', 'bufpool_ext page cleaner', 'client backend');
-- backend_memory_contexts: TopMemoryContext's own memory, then its children
SELECT count(*) FILTER (WHERE depth = 0 AND context = 'TopMemoryContext') AS top,
       bool_or(context = 'CacheMemoryContext' AND depth = 1) AS cache,
       bool_and(used_bytes + free_bytes = total_bytes AND contexts >= 1) AS sane,
       bool_or(truncated) AS truncated
FROM bufpool.backend_memory_contexts WHERE pid = pg_backend_pid();
-- the lines are objects of the size-class set backend_memory (80 bytes:
-- their class exactly), counted under the set's instrument
SELECT class_size, objects_used >= (SELECT count(*) FROM bufpool.backend_memory_contexts
                                    WHERE pid = pg_backend_pid()) AS holds_my_lines,
       bytes_wasted_in_objects AS wasted_in_objects
FROM bufpool.size_classes WHERE set_name = 'backend_memory';
SELECT current_count_used > 0 AS lines_counted
FROM bufpool.memory_summary_global_by_event_name
WHERE event_name = 'memory/bufpool/size_class_set/backend_memory';
SET bufpool_ext.backend_memory_interval = -1;
SET bufpool_ext.backend_memory_interval = '2h';

-- privileges: a plain role sees nothing, pg_monitor reads, only superusers reset
SET client_min_messages = warning;
DROP ROLE IF EXISTS bp_mem_plain;
DROP ROLE IF EXISTS bp_mem_monitor;
RESET client_min_messages;
CREATE ROLE bp_mem_plain;
CREATE ROLE bp_mem_monitor IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA bufpool TO bp_mem_plain;
SET ROLE bp_mem_plain;
SELECT count(*) FROM bufpool.memory_summary_global_by_event_name;
SELECT count(*) FROM bufpool.memory_summary_by_thread_by_event_name;
SELECT count(*) FROM bufpool.memory_global_by_current_bytes;
SELECT count(*) FROM bufpool.memory_global_total;
SELECT count(*) FROM bufpool.heaps;
SELECT count(*) FROM bufpool.backend_memory;
SELECT count(*) FROM bufpool.backend_memory_contexts;
SELECT bufpool.memory_summary_reset();
RESET ROLE;
SET ROLE bp_mem_monitor;
SELECT count(*) > 0 AS sees_global FROM bufpool.memory_summary_global_by_event_name;
SELECT count(*) > 0 AS sees_threads FROM bufpool.memory_summary_by_thread_by_event_name;
SELECT count(*) > 0 AS sees_sys FROM bufpool.memory_global_by_current_bytes;
SELECT count(*) AS total_rows FROM bufpool.memory_global_total;
SELECT count(*) > 0 AS sees_heaps FROM bufpool.heaps;
SELECT count(*) > 0 AS sees_backends FROM bufpool.backend_memory;
SELECT count(*) > 0 AS sees_contexts FROM bufpool.backend_memory_contexts;
SELECT bufpool.memory_summary_reset();
RESET ROLE;
-- EXECUTE granted by mistake is not enough: the function checks in C
GRANT EXECUTE ON FUNCTION bufpool.memory_summary_reset() TO bp_mem_monitor;
SET ROLE bp_mem_monitor;
SELECT bufpool.memory_summary_reset();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION bufpool.memory_summary_reset() FROM bp_mem_monitor;
REVOKE USAGE ON SCHEMA bufpool FROM bp_mem_plain;
DROP ROLE bp_mem_plain;
DROP ROLE bp_mem_monitor;
DROP FUNCTION mem_invariants_hold();
DROP FUNCTION mem_threads_sum_to_global();
