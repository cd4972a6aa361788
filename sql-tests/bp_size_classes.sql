-- size-class pools in shared memory (src/mmgr/sizeclass.c), through the
-- test module: random allocations with their contents checked, the view's
-- invariants against the memory summary, wrong-pointer and double-free
-- errors, empty slabs given back, named sets.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;

-- an error's message with the addresses in it masked
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\d{7,}', 'ADDR', 'g');
END $$;

-- 20000 random allocations and frees (16, 64, 200 and 1024 bytes, any
-- size to 4 kB, some above up to a page: the buddy's), every object
-- filled and checked
SELECT ops, max_live > 100 AS many_live, bad FROM bufpool_test.sc_random(20000, 1);
SELECT bufpool_test.sc_verify() >= 0 AS consistent;

-- objects held: 300 each of 16, 200 and 1000 bytes
CREATE TEMP TABLE held AS
SELECT s AS size, bufpool_test.sc_alloc(s) AS addr
FROM (VALUES (16), (200), (1000)) v(s), generate_series(1, 300) g;
SELECT count(DISTINCT addr) AS distinct_objects FROM held;
SELECT class_size, objects_used, bytes_requested, bytes_wasted_in_objects,
       objects_used + objects_free = slabs * objects_per_slab AS used_plus_free_is_capacity,
       slab_bytes = slabs * pg_size_bytes(current_setting('bufpool_ext.page_size')) AS slab_bytes_right,
       bytes_wasted_in_slabs = slab_bytes - slabs * objects_per_slab * class_size AS slab_waste_right,
       alloc_count - free_count = objects_used AS counts_agree
FROM bufpool.size_classes WHERE set_name = 'shared' AND objects_used > 0 ORDER BY class_size;
-- the memory summary: what is in use, at class size
SELECT current_count_used, current_number_of_bytes_used,
       current_number_of_bytes_used = (SELECT sum(objects_used * class_size) FROM bufpool.size_classes
                                       WHERE set_name = 'shared') AS matches_view
FROM bufpool.memory_summary_global_by_event_name WHERE event_name = 'memory/bufpool/size_class';
SELECT bufpool_test.sc_verify() > 0 AS consistent;

-- bad frees: each an ERROR, nothing changed
SELECT addr AS a200 FROM held WHERE size = 200 LIMIT 1 \gset
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 64)', :a200)) AS wrong_size;
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 200)', :a200 + 8)) AS not_an_object_start;
SELECT bufpool_test.buddy_test_alloc(4096) AS buddy_block \gset
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 200)', :buddy_block)) AS a_buddy_block;
SELECT bufpool_test.buddy_test_free(:buddy_block, 4096);
SELECT pg_temp.err('SELECT bufpool_test.sc_free(12345, 200)') AS not_an_address;
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 0)', :a200)) AS zero_size;
SELECT pg_temp.err('SELECT bufpool_test.sc_alloc(0)') AS zero_alloc;
SELECT pg_temp.err('SELECT bufpool_test.sc_alloc(16, ''nosuchset'')') AS no_such_set;
SELECT bufpool_test.sc_free(:a200, 200) AS freed_once;
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 200)', :a200)) AS double_free;
DELETE FROM held WHERE addr = :a200;
SELECT objects_used FROM bufpool.size_classes WHERE set_name = 'shared' AND class_size = 208;
SELECT bufpool_test.sc_verify() > 0 AS consistent;

-- every object freed and the caches flushed: the slabs go back to the
-- buddy allocator
SELECT count(bufpool_test.sc_free(addr, size)) AS freed FROM held;
SELECT bufpool_test.sc_flush();
SELECT coalesce(sum(slabs), 0) AS slabs_left, coalesce(sum(objects_used), 0) AS used_left
FROM bufpool.size_classes WHERE set_name = 'shared';
SELECT current_number_of_bytes_used AS slab_bytes_left
FROM bufpool.memory_summary_global_by_event_name WHERE event_name = 'memory/bufpool/size_class/slabs';
SELECT bufpool_test.sc_verify() AS slabs_walked;

-- a named set: its own slabs; a set with objects in use is not dropped
SELECT bufpool_test.sc_set_create('sc_test') > 0 AS created;
SELECT pg_temp.err('SELECT bufpool_test.sc_set_create(''sc_test'')') AS duplicate;
SELECT bufpool_test.sc_alloc(48, 'sc_test') AS a48 \gset
SELECT set_name, class_size, objects_used FROM bufpool.size_classes
WHERE objects_used > 0 AND set_name NOT IN ('backend_memory', 'memory_leaks');
SELECT pg_temp.err(format('SELECT bufpool_test.sc_free(%s, 48)', :a48)) AS other_sets_object;
SELECT pg_temp.err('SELECT bufpool_test.sc_set_drop(''sc_test'')') AS in_use;
SELECT bufpool_test.sc_free(:a48, 48, 'sc_test');
SELECT bufpool_test.sc_set_drop('sc_test');
SELECT count(*) AS rows_of_dropped_set FROM bufpool.size_classes WHERE set_name = 'sc_test';
SELECT pg_temp.err('SELECT bufpool_test.sc_set_drop(''shared'')') AS shared_set;
-- the extension's own sets keep their slots: four named sets fit beside
-- them, a fifth does not, and they cannot be dropped
SELECT count(bufpool_test.sc_set_create(n)) AS four_created
FROM unnest(ARRAY['sc_a', 'sc_b', 'sc_c', 'sc_d']) n;
SELECT pg_temp.err('SELECT bufpool_test.sc_set_create(''sc_e'')') AS fifth;
SELECT count(bufpool_test.sc_set_drop(n)) AS four_dropped
FROM unnest(ARRAY['sc_a', 'sc_b', 'sc_c', 'sc_d']) n;
SELECT pg_temp.err('SELECT bufpool_test.sc_set_drop(''backend_memory'')') AS own_set;
SELECT bufpool_test.sc_verify() AS slabs_walked;
