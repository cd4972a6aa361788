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

-- compressed pages kept in memory (zip.c): a page read from a compressed
-- space keeps its slot as an image in the pool's zip frames; dropping the
-- frame (as the unzip_LRU's eviction does) leaves the image, and reading
-- the page again decompresses it without a read.  z_ref holds the same
-- pages uncompressed (zip_fill is deterministic per page).
CREATE TEMP TABLE zm AS
SELECT bufpool.create_space('z_mem', 64, 'lz4', 4096) AS id,
       bufpool.create_space('z_ref', 64) AS ref;
SELECT bufpool_test.zip_fill(id, 0, 64, 'rows') AS filled, bufpool_test.zip_fill(ref, 0, 64, 'rows') AS filled_ref,
       bufpool_test.zip_fill(id, 60, 4, 'random') AS random_pages, bufpool_test.zip_fill(ref, 60, 4, 'random') AS random_ref
FROM zm;
SELECT bufpool.flush(id) >= 0 AS flushed, bufpool.flush(ref) >= 0 AS flushed_ref FROM zm;
SELECT count(*) FILTER (WHERE bufpool.evict(id, p)) AS evicted FROM zm, generate_series(0, 63) p;
-- (the other compressed spaces' pages out of the pool too, images and all)
SELECT count(*) FILTER (WHERE bufpool.evict(zs.lz4, p)) + count(*) FILTER (WHERE bufpool.evict(zs.zstd, p)) >= 0
       AS others_evicted
FROM zs, generate_series(0, 63) p;
SELECT count(*) AS images FROM bufpool.pages WHERE compressed_size > 0;
SELECT count(bufpool.read_page(id, p)) AS read FROM zm, generate_series(0, 63) p;
-- every page read has its image; the 4 random ones only their slot's
-- header (their page is whole in the overflow file), in the smallest piece
SELECT page_state, frame_present, compressed_size BETWEEN 1024 AND 4096 AS image, count(*)
FROM bufpool.pages, zm WHERE space = id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS header_only FROM bufpool.pages, zm
WHERE space = id AND page_number >= 60 AND compressed_size = pg_size_bytes(current_setting('bufpool_ext.page_size'))::int / 32;
-- the unzip_LRU holds the pages with both a frame and an image, not the
-- 4 overflow pages (dropping their frame saves no read)
SELECT sum(length) AS unzip_lru FROM bufpool.lists WHERE list = 'unzip_lru';
-- the memory: pieces in use as the pages view counts them; an image may
-- take two pieces (a head and a tail in a frame of a smaller class)
SELECT (SELECT sum(pages_used * page_size) FROM bufpool.cmpmem) =
       (SELECT sum(compressed_size) FROM bufpool.pages) AS cmpmem_matches_pages,
       (SELECT sum(pages_used) FROM bufpool.cmpmem) -
       (SELECT count(*) FROM bufpool.pages WHERE compressed_size > 0) AS tails;
SELECT compressed_size, count(*) FROM bufpool.pages, zm WHERE space = id GROUP BY 1 ORDER BY 1;
SELECT bool_and(pages_free >= 0 AND relocation_ops >= 0) AS cmpmem_sane FROM bufpool.cmpmem;
-- drop the frames of pages 0..15: their images stay (page_state ZIP_PAGE)
SELECT count(*) FILTER (WHERE bufpool_test.zip_evict_frame(id, p)) AS frames_dropped
FROM zm, generate_series(0, 15) p;
SELECT page_state, frame_present, io_fix, fix_count, count(*)
FROM bufpool.pages, zm WHERE space = id AND page_number < 16 GROUP BY 1, 2, 3, 4;
-- read back: the same bytes as the uncompressed copy, 16 decompressions, no read
SELECT sum(number_pages_read) AS reads0, sum(uncompress_total) AS unzips0 FROM bufpool.stats \gset
SELECT count(*) FILTER (WHERE bufpool.read_page(id, p) IS DISTINCT FROM bufpool.read_page(ref, p)) AS mismatches
FROM zm, generate_series(0, 15) p;
SELECT sum(number_pages_read) - :reads0 AS reads, sum(uncompress_total) - :unzips0 AS decompressions
FROM bufpool.stats;
SELECT count(*) FILTER (WHERE frame_present) AS frames_back FROM bufpool.pages, zm
WHERE space = id AND page_number < 16;
-- a page kept in the overflow file: its frame goes, its slot header
-- stays; reading it again is one read (of the overflow file), and right
SELECT bufpool_test.zip_evict_frame(id, 61) AS frame_dropped FROM zm;
SELECT sum(number_pages_read) AS reads0, sum(uncompress_total) AS unzips0 FROM bufpool.stats \gset
SELECT bufpool.read_page(id, 61) = bufpool.read_page(ref, 61) AS overflow_page_right FROM zm;
SELECT sum(number_pages_read) - :reads0 AS reads, sum(uncompress_total) - :unzips0 AS decompressions
FROM bufpool.stats;
-- a change: logged, compressed again when written, and the image kept in
-- memory is the new one (read back after the frame is dropped)
SELECT bufpool.write_page(id, 20, convert_to('changed', 'UTF8'), 0) > 0 AS written FROM zm;
SELECT bufpool_test.zip_evict_frame(id, 20) AS dirty_frame_written_and_dropped FROM zm;
SELECT bufpool.write_page(id, 22, convert_to('changed too', 'UTF8'), 0) > 0 AS written,
       bufpool.flush(id) >= 0 AS flushed FROM zm;
SELECT bufpool_test.zip_evict_frame(id, 22) AS frame_dropped FROM zm;
SELECT convert_from(substring(bufpool.read_page(id, 20) FROM 1 FOR 7), 'UTF8') AS page_20,
       convert_from(substring(bufpool.read_page(id, 22) FROM 1 FOR 11), 'UTF8') AS page_22 FROM zm;
-- a shrink that removes chunks moves the images held there (InnoDB's
-- buddy relocation, counted in cmpmem), then the pool grows back; every
-- page still reads right
SELECT count(*) FILTER (WHERE bufpool_test.zip_evict_frame(id, p)) AS frames_dropped
FROM zm, generate_series(0, 59) p;
SELECT sum(relocation_ops) AS reloc0 FROM bufpool.cmpmem_reset \gset
-- (zip frames are MEMORY blocks outside chunk 0, which the buddy uses alone)
SELECT count(*) AS images_in_removed_chunks FROM bufpool.pages p
WHERE page_state = 'ZIP_PAGE' AND block_id >= (SELECT n_blocks FROM bufpool.chunks c
                                              WHERE c.pool_id = p.pool_id AND chunk_no = 0) \gset
SELECT phase FROM bufpool.resize('16MB');
SELECT :images_in_removed_chunks = 0 OR sum(relocation_ops) > 0 AS images_relocated FROM bufpool.cmpmem;
SELECT count(*) FILTER (WHERE NOT frame_present) > 0 AS images_kept FROM bufpool.pages, zm WHERE space = id;
SELECT phase FROM bufpool.resize('32MB');
SELECT count(*) FILTER (WHERE p NOT IN (20, 22) AND bufpool.read_page(id, p) IS DISTINCT FROM bufpool.read_page(ref, p))
       AS mismatches_after_resize
FROM zm, generate_series(0, 63) p;
-- dropping the space drops its images
SELECT bufpool.drop_space(id) IS NOT NULL AS dropped, bufpool.drop_space(ref) IS NOT NULL AS dropped_ref FROM zm;
SELECT count(*) AS images_left FROM bufpool.pages, zm WHERE space = id;
SELECT (SELECT coalesce(sum(pages_used * page_size), 0) FROM bufpool.cmpmem) =
       (SELECT coalesce(sum(compressed_size), 0) FROM bufpool.pages) AS cmpmem_matches_pages;

-- drop: both files go
SELECT file_path AS lz4_path FROM bufpool.spaces WHERE name = 'z_lz4' \gset
SELECT bufpool.drop_space(lz4), bufpool.drop_space(zstd) FROM zs;
SELECT pg_stat_file(:'lz4_path', true) IS NULL AS slot_file_gone,
       pg_stat_file(replace(:'lz4_path', '.bps', '.bpo'), true) IS NULL AS overflow_file_gone;
