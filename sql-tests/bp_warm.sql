-- Warm restart through SQL (src/pool/warm.c): bufpool.dump(), bufpool.load(),
-- bufpool.load_abort() and the view bufpool.dump_load_status; a load while
-- one runs, bad dump files, bad input.  Restarts, crashes, dropped and
-- re-created spaces and page-size changes are TAP 024_warm_restart.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
SELECT bufpool.create_space('warm', 64) AS warm \gset
RESET client_min_messages;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- the last operation of a kind, its numbers made neutral
CREATE FUNCTION pg_temp.last_op(kind text) RETURNS TABLE (state text, message text)
LANGUAGE sql AS $$
    SELECT state, regexp_replace(message, '[0-9A-F]{8}|[0-9]+(\.[0-9]+)?', 'N', 'g')
    FROM bufpool.dump_load_status WHERE operation = kind ORDER BY id DESC NULLS LAST LIMIT 1
$$;
-- wait until no load runs (at most 60 s)
CREATE FUNCTION pg_temp.wait_load() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        IF NOT EXISTS (SELECT FROM bufpool.dump_load_status
                       WHERE operation = 'load' AND state = 'running') THEN
            RETURN 'ended';
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN 'still running';
END $$;

-- the view: the first operation of this cluster was the load at its start
-- (bufpool_ext.load_at_startup), which found no dump file; every row has
-- a known state (a kind that never ran shows as one idle row)
SELECT operation, state, message FROM bufpool.dump_load_status WHERE id = 1;
SELECT count(*) AS bad_rows FROM bufpool.dump_load_status
WHERE state NOT IN ('idle', 'running', 'completed', 'aborted', 'failed')
   OR operation NOT IN ('dump', 'load') OR (state = 'idle') <> (id IS NULL);
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
FROM pg_attribute WHERE attrelid = 'bufpool.dump_load_status'::regclass AND attnum > 0;

-- 64 pages written: every page of the pool's lists is dumped at 100 %
SELECT count(bufpool.write_page(:warm, g, '\x01'::bytea, 100)) FROM generate_series(0, 63) g;
SET bufpool_ext.dump_pct = 100;
SELECT bufpool.dump() AS dumped \gset
SELECT :dumped >= 64 AS has_our_pages,
       :dumped = (SELECT count(*) FROM bufpool.pages WHERE space IS NOT NULL AND page_state = 'FILE_PAGE') AS whole_lru;
SELECT state, pages_done = :dumped AS counted, pages_skipped FROM bufpool.dump_load_status
WHERE operation = 'dump' ORDER BY id DESC LIMIT 1;
-- the file: header 56 bytes, 4 per instance, 24 per space, 8 per page, CRC 4
SELECT (pg_stat_file('bufpool_ext/buffer_pool_dump')).size =
       56 + 4 * 2 + 24 * (SELECT count(*) FROM bufpool.spaces) + 8 * :dumped + 4 AS file_size_as_designed;
SELECT count(*) AS tmp_files_left FROM pg_ls_dir('bufpool_ext') f WHERE f LIKE '%.tmp';

-- a load while the pages are in the pool skips them all
SELECT bufpool.load() AS loaded;
SELECT state, pages_total = :dumped AS all_named, pages_done, skipped_in_pool = :dumped AS all_in_pool,
       skipped_space_dropped, skipped_beyond_space, skipped_no_free_block, skipped_unreadable
FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;

-- evicted, they come back, with the dump's old/young split
CREATE TEMP TABLE warm_before AS SELECT page_number, is_old FROM bufpool.pages WHERE space = :warm;
SELECT count(*) FILTER (WHERE bufpool.evict(:warm, g)) AS evicted FROM generate_series(0, 63) g;
SELECT count(*) AS in_pool FROM bufpool.pages WHERE space = :warm;
SELECT bufpool.load() AS loaded;
SELECT count(*) AS back FROM bufpool.pages WHERE space = :warm;
SELECT count(*) AS same_sublist FROM bufpool.pages p JOIN warm_before b USING (page_number, is_old)
WHERE p.space = :warm;
SELECT * FROM pg_temp.last_op('load');

-- a dropped space: its pages are skipped, counted, never read
SELECT bufpool.create_space('warm_gone', 8) AS gone \gset
SELECT count(bufpool.write_page(:gone, g, '\x02'::bytea, 100)) FROM generate_series(0, 7) g;
SELECT bufpool.dump() > 0 AS dumped;
SELECT bufpool.drop_space(:gone);
SELECT bufpool.load() >= 0 AS loaded;
SELECT skipped_space_dropped FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;

-- a load in progress: slowed by the test module (each run of pages sleeps
-- 300 ms first); 32 pages 32 pages apart (256 kB with 8 kB pages: a run
-- reads over gaps of at most 128 kB), so 32 runs
SELECT bufpool.create_space('warm_runs', 1024) AS runs \gset
SELECT count(bufpool.write_page(:runs, g, '\x03'::bytea, 100)) FROM generate_series(0, 1023, 32) g;
SELECT bufpool.dump() > 0 AS dumped;
SELECT count(*) FILTER (WHERE bufpool.evict(:runs, g)) AS evicted FROM generate_series(0, 1023, 32) g;
SELECT bufpool_test.fault_attach('load-run', 'sleep', '300');
SELECT bufpool.load(false) AS no_wait;
SELECT state FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;
-- a second load, and a dump, while it runs: errors naming it
SELECT pg_temp.try('SELECT bufpool.load()') AS second_load;
SELECT pg_temp.try('SELECT bufpool.dump()') AS dump_during_load;
SELECT bufpool.load_abort() AS was_running;
SELECT pg_temp.wait_load();
SELECT bufpool_test.fault_detach('load-run');
SELECT state, pages_done < 32 AS cut_short,
       regexp_replace(message, '^Loaded [0-9]+/[0-9]+ pages from "[^"]*", ([^;]*);.*$', '\1') AS why
FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;
SELECT bufpool.load_abort() AS was_running;

-- a read that fails: the pages are skipped as unreadable, the load goes on
-- (the aborted load brought some of the pages in: out with them all)
SELECT 'done' AS evict_all FROM (SELECT count(bufpool.evict(:runs, g)) FROM generate_series(0, 1023, 32) g) e;
SELECT count(*) AS in_pool FROM bufpool.pages WHERE space = :runs;
SELECT bufpool_test.fault_attach('load-run', 'eio');
SELECT bufpool.load() AS loaded;
SELECT bufpool_test.fault_detach('load-run');
SELECT state, skipped_unreadable AS unreadable,
       message LIKE '%last read error: could not read pages % of bufpool space %: injected by a test' AS says_why
FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;
SELECT bufpool.load() AS loaded_after;
SELECT count(*) AS in_pool FROM bufpool.pages WHERE space = :runs;

-- bad files: a WARNING, a load of 0 pages, the reason in the view, nothing else
SET client_min_messages = error;
COPY (SELECT 1) TO PROGRAM 'truncate -s 100 bufpool_ext/buffer_pool_dump';
SELECT bufpool.load() AS truncated;
SELECT * FROM pg_temp.last_op('load');
SELECT bufpool.dump() > 0 AS dumped;
COPY (SELECT 1) TO PROGRAM 'printf x | dd of=bufpool_ext/buffer_pool_dump bs=1 seek=70 conv=notrunc status=none';
SELECT bufpool.load() AS corrupted;
SELECT * FROM pg_temp.last_op('load');
COPY (SELECT 'not a dump at all, but long enough to have a header and a checksum') TO PROGRAM 'cat > bufpool_ext/buffer_pool_dump';
SELECT bufpool.load() AS foreign_file;
SELECT * FROM pg_temp.last_op('load');
COPY (SELECT 1) TO PROGRAM 'rm bufpool_ext/buffer_pool_dump';
SELECT bufpool.load() AS missing;
SELECT * FROM pg_temp.last_op('load');
RESET client_min_messages;
\set VERBOSITY terse
SELECT bufpool.load();
\set VERBOSITY default

-- bad input
SELECT pg_temp.try('SELECT bufpool.load(NULL)') AS null_wait;
SELECT pg_temp.try('SET bufpool_ext.dump_pct = 0') AS pct_zero;
SELECT pg_temp.try('SET bufpool_ext.dump_pct = 101') AS pct_too_big;
SELECT pg_temp.try('SET bufpool_ext.load_io_depth = 2') AS io_depth_is_sighup;
CREATE ROLE bp_warm_plain;
SET ROLE bp_warm_plain;
SELECT pg_temp.try('SELECT bufpool.dump()') AS plain_dump;
SELECT pg_temp.try('SELECT count(*) FROM bufpool.dump_load_status') AS plain_status;
RESET ROLE;
DROP ROLE bp_warm_plain;

-- the ring keeps the last 8 operations
SELECT count(*) <= 8 AS kept, count(DISTINCT id) = count(*) AS distinct_ids
FROM bufpool.dump_load_status WHERE id IS NOT NULL;

-- leave a good dump behind
SELECT bufpool.dump() > 0 AS dumped;
RESET bufpool_ext.dump_pct;
SELECT bufpool.drop_space(:warm);
SELECT bufpool.drop_space(:runs);
