-- bufpool_kv: puts, gets, deletes, leaf and inner splits, the
-- scan in key order, the consistency check, bad input.
CREATE EXTENSION bufpool_ext;
CREATE EXTENSION bufpool_kv;
SELECT kv_create('t') > 0 AS created;
SELECT kv_put('t', 'b', '\x02'), kv_put('t', 'a', '\x01'), kv_put('t', 'c', '\x03');
SELECT kv_get('t', 'a'), kv_get('t', 'b'), kv_get('t', 'c'), kv_get('t', 'd');
SELECT kv_put('t', 'b', '\x2222') AS replaced, kv_get('t', 'b');
SELECT kv_delete('t', 'a') AS deleted, kv_delete('t', 'a') AS again, kv_get('t', 'a');
SELECT kv_count('t'), kv_check('t');
SELECT * FROM kv_scan('t');

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

-- bad input
SELECT kv_put('t', '', '\x00');
SELECT kv_put('t', repeat('x', 257), '\x00');
SELECT kv_put('t', 'k', convert_to(repeat('v', 5000), 'UTF8'));
SELECT kv_get('nosuch', 'k');
SELECT kv_create('t');
SELECT kv_create('');
