-- Compressed spaces (issue 22, first part): created with lz4 or zstd and a
-- key_block_size; pages compress when written and decompress when read
-- back; a page whose image does not fit its slot is kept whole in the
-- space's overflow file; the slot file is key_block_size a page.
-- (Runs last: it creates spaces, and the other files' outputs name ids.)
CREATE TEMP TABLE zs AS
SELECT bufpool.create_space('z_lz4', 64, 'lz4', 2048) AS lz4,
       bufpool.create_space('z_zstd', 64, 'zstd', 4096) AS zstd;
SELECT name, size_pages, page_size, size_bytes, compression, key_block_size
FROM bufpool.spaces WHERE name LIKE 'z\_%' ORDER BY name;
SELECT (pg_stat_file(file_path)).size = size_bytes AS slot_file_size
FROM bufpool.spaces WHERE name LIKE 'z\_%' ORDER BY name;

-- pages: text that compresses, and random bytes that do not
CREATE TEMP TABLE zp AS
SELECT p, CASE WHEN p % 4 = 3
               THEN (SELECT decode(string_agg(md5(random()::text || g), ''), 'hex')
                     FROM generate_series(1, 375) g)
               ELSE convert_to(repeat('order ' || p || ' shipped to the north warehouse; ', 150), 'UTF8')
          END AS data
FROM generate_series(0, 15) p;
SELECT count(bufpool.write_page(zs.lz4, p, data)) AS lz4_written,
       count(bufpool.write_page(zs.zstd, p, data)) AS zstd_written
FROM zp, zs;
-- to disk, out of the pool, and back
SELECT bufpool.flush(lz4) >= 0 AS flushed, bufpool.flush(zstd) >= 0 AS flushed_too FROM zs;
SELECT count(*) FILTER (WHERE bufpool.evict(zs.lz4, p)) + count(*) FILTER (WHERE bufpool.evict(zs.zstd, p))
       AS evicted
FROM zp, zs;
SELECT count(*) AS lz4_mismatches FROM zp, zs
WHERE substring(bufpool.read_page(zs.lz4, p) FROM 1 FOR length(data)) IS DISTINCT FROM data;
SELECT count(*) AS zstd_mismatches FROM zp, zs
WHERE substring(bufpool.read_page(zs.zstd, p) FROM 1 FOR length(data)) IS DISTINCT FROM data;
-- on disk: the high byte of each slot's header flags says how the page
-- is kept (0x11: compressed with lz4, 0x21: with zstd, 0x03: whole in
-- the overflow file); the random pages (p % 4 = 3) overflow
SELECT s.name, p, to_hex(get_byte(pg_read_binary_file(s.file_path, p * s.key_block_size + 23, 1), 0)) AS flags
FROM bufpool.spaces s, generate_series(0, 3) p
WHERE s.name LIKE 'z\_%' ORDER BY 1, 2;
-- the counters, as INNODB_CMP: 16 pages compressed into each size, 12
-- fitting (the 4 random ones overflow), 12 decompressed when read back
SELECT page_size, compress_ops, compress_ops_ok, uncompress_ops,
       compress_time >= 0 AND uncompress_time >= 0 AS times
FROM bufpool.cmp WHERE page_size IN (2048, 4096) ORDER BY 1;
SELECT space_name, page_size, compress_ops, compress_ops_ok, uncompress_ops
FROM bufpool.cmp_per_space WHERE space_name LIKE 'z\_%' ORDER BY 1;
SELECT sum(compress_ops) AS read_and_reset FROM bufpool.cmp_reset;
SELECT sum(compress_ops + uncompress_ops) AS after_reset FROM bufpool.cmp;
SELECT page_size FROM bufpool.cmp ORDER BY 1;
-- a page never written reads as zeros
SELECT length(bufpool.read_page(lz4, 40)) > 0 AS new_page,
       bufpool.read_page(lz4, 40) = decode(repeat('00', length(bufpool.read_page(lz4, 40))), 'hex') AS zeros
FROM zs;
-- the overflow file holds the pages that did not fit (its size is the
-- space's full size; only those pages are written in it)
SELECT (pg_stat_file(replace(file_path, '.bps', '.bpo'))).size = size_pages * page_size AS overflow_file
FROM bufpool.spaces WHERE name = 'z_lz4';

-- an overflow page older than its slot (a crash between the two
-- unsynced writes) is damage, never served: page 3 of z_lz4 overflows;
-- keep its overflow copy, write it again, put the old copy back
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
SELECT replace(file_path, '.bps', '.bpo') AS ovf, page_size AS psz FROM bufpool.spaces WHERE name = 'z_lz4' \gset
CREATE TEMP TABLE old_copy AS SELECT pg_read_binary_file(:'ovf', 3 * :psz, :psz) AS bytes;
SELECT bufpool.write_page(lz4, 3, convert_to('newer', 'UTF8'), 0) > 0 AS written, bufpool.flush(lz4) >= 0 AS flushed FROM zs;
SELECT bufpool.evict(lz4, 3) AS evicted FROM zs;
SELECT bufpool_test.poke_file(:'ovf', 3 * :psz::bigint, bytes) AS poked FROM old_copy;
DO $$
BEGIN
    PERFORM bufpool.read_page((SELECT lz4 FROM zs), 3);
    RAISE NOTICE 'the stale page was served';
EXCEPTION WHEN data_corrupted THEN
    RAISE NOTICE '%', regexp_replace(SQLERRM, 'space [0-9]+', 'space N');
END $$;

-- bad input
SELECT bufpool.create_space('z_bad', 8, 'pglz', 2048);
SELECT bufpool.create_space('z_bad', 8, 'lz4');
SELECT bufpool.create_space('z_bad', 8, 'lz4', 3000);
SELECT bufpool.create_space('z_bad', 8, 'lz4', 8192);
SELECT bufpool.create_space('z_bad', 8, 'lz4', 512);
SELECT bufpool.create_space('z_bad', 8, 'none', 2048);
SELECT bufpool.create_space('z_bad', 8, NULL, 2048);

-- drop: both files go
SELECT file_path AS lz4_path FROM bufpool.spaces WHERE name = 'z_lz4' \gset
SELECT bufpool.drop_space(lz4), bufpool.drop_space(zstd) FROM zs;
SELECT pg_stat_file(:'lz4_path', true) IS NULL AS slot_file_gone,
       pg_stat_file(replace(:'lz4_path', '.bps', '.bpo'), true) IS NULL AS overflow_file_gone;
