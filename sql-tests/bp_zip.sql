-- The page codec of compressed spaces (src/storage/pagezip.c), through the
-- test module: round trips of pages of zeros, of text that compresses
-- about 2.5x and of random bytes, with lz4 and zstd, into slots of 2, 4
-- and 8 kB of a 16 kB page; a page that does not fit its slot is said to
-- (the caller's fallback); a damaged slot is found without decompressing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
SELECT a AS algorithm, kbs AS key_block_size, k AS kind, z.fits, z.roundtrip_ok,
       z.check_good, z.check_damaged,
       CASE WHEN z.ratio IS NULL THEN NULL WHEN z.ratio >= 2 THEN '>= 2' ELSE '< 2' END AS ratio
FROM unnest(ARRAY['lz4', 'zstd']) a, unnest(ARRAY[2048, 4096, 8192]) kbs,
     unnest(ARRAY['zeros', 'text', 'random']) k,
     LATERAL bufpool_test.zip_roundtrip(a, kbs, k) z
ORDER BY 1, 2, 3;
-- the text pages compress as row data does: between 2 and 4 times
SELECT a AS algorithm, round(z.ratio::numeric, 1) BETWEEN 2 AND 4 AS ratio_2_to_4
FROM unnest(ARRAY['lz4', 'zstd']) a, LATERAL bufpool_test.zip_roundtrip(a, 8192, 'text') z;
-- 4 kB pages: zeros fit 1 kB slots; text at about 2.5x does not fit half a page
SELECT k AS kind, kbs AS key_block_size, z.fits, z.roundtrip_ok
FROM (VALUES ('zeros', 1024), ('text', 2048)) v(k, kbs),
     LATERAL bufpool_test.zip_roundtrip('lz4', kbs, k, 4096) z;
-- bad input
SELECT bufpool_test.zip_roundtrip('pglz', 4096, 'text');
SELECT bufpool_test.zip_roundtrip('lz4', 512, 'text');
SELECT bufpool_test.zip_roundtrip('lz4', 16384, 'text');
SELECT bufpool_test.zip_roundtrip('lz4', 4096, 'bogus');
