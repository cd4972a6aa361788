-- bufpool_kv: puts, gets, deletes, leaf and inner splits, the
-- scan in key order, the consistency check, bad input.
CREATE EXTENSION bufpool_ext;
CREATE EXTENSION bufpool_kv;
SELECT kv_create('t') > 0 AS created, kv_create('o') > 0 AS created_o;
SELECT kv_put('t', 'b', '\x02'), kv_put('t', 'a', '\x01'), kv_put('t', 'c', '\x03');
SELECT kv_get('t', 'a'), kv_get('t', 'b'), kv_get('t', 'c'), kv_get('t', 'd');
SELECT kv_put('t', 'b', '\x2222') AS replaced, kv_get('t', 'b');
SELECT kv_delete('t', 'a') AS deleted, kv_delete('t', 'a') AS again, kv_get('t', 'a');
SELECT kv_count('t'), kv_check('t');
SELECT * FROM kv_scan('t');
SELECT * FROM kv_stats('t');

-- 20000 keys of 100-byte values: leaf and inner splits
SELECT count(*) FROM (SELECT kv_put('t', 'key' || lpad(g::text, 6, '0'), convert_to(repeat(md5(g::text), 3), 'UTF8'))
                      FROM generate_series(1, 20000) g) s;
SELECT kv_count('t'), kv_check('t');
SELECT count(*) AS mismatches FROM generate_series(1, 20000) g
WHERE kv_get('t', 'key' || lpad(g::text, 6, '0')) IS DISTINCT FROM convert_to(repeat(md5(g::text), 3), 'UTF8');
-- the scan returns them in key order
SELECT count(*) AS scanned, bool_and(key > prev) AS ordered
FROM (SELECT key, lag(key, 1, '') OVER () AS prev FROM kv_scan('t')) s;
-- large values and keys, deletes of every third key
SELECT count(*) FROM (SELECT kv_put('t', repeat('k', 250) || g, convert_to(repeat('v', 1700), 'UTF8'))
                      FROM generate_series(1, 300) g) s;
SELECT count(*) FROM (SELECT kv_delete('t', 'key' || lpad(g::text, 6, '0')) FROM generate_series(1, 20000, 3) g) s;
SELECT kv_count('t'), kv_check('t');
SELECT length(kv_get('t', repeat('k', 250) || 7)) AS big_value;

-- re-insert the deleted keys: leaves with garbage are compacted
SELECT count(*) FROM (SELECT kv_put('t', 'key' || lpad(g::text, 6, '0'), convert_to(repeat(md5(g::text), 2), 'UTF8'))
                      FROM generate_series(1, 20000, 3) g) s;
SELECT kv_count('t'), kv_check('t');

-- values past a quarter page live in overflow pages (two at most)
CREATE TABLE big AS SELECT g, convert_to(repeat(md5(g::text), 1 + g * 37 % 510), 'UTF8') AS v
FROM generate_series(1, 200) g;
SELECT max(length(v)) AS largest, count(*) FILTER (WHERE length(v) > 1764) AS overflowing FROM big;
SELECT count(*) FROM (SELECT kv_put('o', 'b' || g, v) FROM big) s;
SELECT count(*) AS mismatches FROM big WHERE kv_get('o', 'b' || g) IS DISTINCT FROM v;
-- replace: large by small, small by large, large by large; then deletes
SELECT count(*) FROM (SELECT kv_put('o', 'b' || g, CASE WHEN length(v) > 1764 THEN '\x01'::bytea
                                                         ELSE convert_to(repeat('L', 9000 + g), 'UTF8') END)
                      FROM big) s;
SELECT count(*) FILTER (WHERE length(kv_get('o', 'b' || g)) > 9000) AS now_large,
       count(*) FILTER (WHERE kv_get('o', 'b' || g) = '\x01') AS now_small FROM big;
SELECT kv_count('o'), kv_check('o');
SELECT count(*) FROM (SELECT kv_delete('o', 'b' || g) FROM big WHERE g % 2 = 0) s;
SELECT kv_count('o'), kv_check('o');
-- the freed overflow pages are used again: the store does not grow
SELECT size_pages AS before FROM bufpool.spaces WHERE name = 'kv_o' \gset
SELECT count(*) FROM (SELECT kv_put('o', 'c' || g, convert_to(repeat('C', 12000), 'UTF8'))
                      FROM generate_series(1, 40) g) s;
SELECT size_pages = :before AS same_size FROM bufpool.spaces WHERE name = 'kv_o';
SELECT kv_count('o'), kv_check('o');
SELECT count(*), sum(length(value)) FROM kv_scan('o');
SELECT height, overflow_pages > 0 AS has_overflow, free_pages + overflow_pages + leaves + inner_nodes > 0 AS pages
FROM kv_stats('o');
SELECT kv_put('o', 'max', convert_to(repeat('m', 16320), 'UTF8')) AS replaced,
       length(kv_get('o', 'max'));

-- an ascending load fills its leaves (90% stay at a rightmost split)
SELECT kv_create('asc') > 0 AS created;
SELECT count(*) FROM (SELECT kv_put('asc', 'a' || lpad(g::text, 6, '0'), convert_to(repeat('v', 100), 'UTF8'))
                      FROM generate_series(1, 10000) g) s;
SELECT height, leaves, inner_nodes, keys, round(keys::numeric / leaves) AS keys_per_leaf FROM kv_stats('asc');

-- bad input
SELECT kv_put('t', '', '\x00');
SELECT kv_put('t', repeat('x', 257), '\x00');
SELECT kv_put('t', 'k', convert_to(repeat('v', 16321), 'UTF8'));
SELECT kv_get('nosuch', 'k');
SELECT kv_create('t');
SELECT kv_create('');
