-- Online resize: grow, shrink with dirty data, rounding, rehash, status, bad input.
-- The pool starts at 32MB: 2 instances x 2 chunks of 8MB (1012 pages each).
SELECT effective_size, chunks_per_instance, pages FROM bufpool.status();
SET client_min_messages = error;
SELECT bufpool.create_space('rsz', 12000) AS sp \gset
RESET client_min_messages;

-- grow to 64MB: two new chunks per instance, all their blocks free
SELECT resize_id > 0 AS has_id, from_size, to_size, phase, message
FROM bufpool.resize('64MB');
SELECT effective_size, chunks_per_instance, pages FROM bufpool.status();
SELECT pool_id, count(*) AS chunks, sum(n_blocks) AS blocks, bool_and(state = 'active') AS active
FROM bufpool.chunks GROUP BY pool_id ORDER BY pool_id;
SELECT pool_id, pool_size, free_buffers + database_pages = pool_size AS accounted
FROM bufpool.stats ORDER BY pool_id;

-- fill it with dirty pages, then shrink to 32MB: every page survives
SELECT count(bufpool.write_page(:sp, p, int4send(p))) FROM generate_series(0, 7999) p;
SELECT sum(modified_database_pages) > 4048 AS dirty_beyond_32mb FROM bufpool.stats;
-- free 100 blocks of the first chunk of each instance (which stays), so
-- the shrink has somewhere to relocate pages to
SELECT count(*) FILTER (WHERE bufpool.evict(space, page_number)) >= 100 AS room_made
FROM (SELECT p.space, p.page_number FROM bufpool.pages p
      WHERE p.space = :sp AND p.block_id < 1016 ORDER BY p.pool_id, p.block_id LIMIT 200) s;
SELECT from_size, to_size, phase FROM bufpool.resize('32MB');
SELECT effective_size, chunks_per_instance, pages FROM bufpool.status();
-- (each page of a removed chunk is relocated if a free block is at hand,
-- else evicted; the page cleaners refill the free list meanwhile, so how
-- many of each varies from run to run)
SELECT phase, progress, from_size, to_size, pages_withdrawn,
       pages_relocated > 0 AS relocated, pages_evicted > 0 AS evicted,
       pages_flushed > 0 AS flushed, source, requested_by = pg_backend_pid() AS mine
FROM bufpool.resize_status WHERE NOT is_current ORDER BY resize_id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE substr(bufpool.read_page(:sp, p), 1, 4) = int4send(p)) AS intact
FROM generate_series(0, 7999) p;
SELECT pool_id, length AS withdraw FROM bufpool.lists WHERE list = 'withdraw' ORDER BY pool_id;
SELECT pool_id, pool_size, free_buffers + database_pages = pool_size AS accounted
FROM bufpool.stats ORDER BY pool_id;
SELECT count(*) AS pinned FROM bufpool.pages WHERE fix_count > 0;
SELECT count(*) AS blocks_beyond_pool FROM bufpool.pages p JOIN bufpool.chunks c
  ON c.pool_id = p.pool_id AND c.chunk_no = 0
WHERE p.block_id >= 2 * c.n_blocks;

-- rounding: up to a multiple of 16MB, with a notice; bytes work too
SELECT from_size, to_size, phase FROM bufpool.resize('40MB');
SELECT to_size, phase FROM bufpool.resize('33554432');
SELECT phase, message FROM bufpool.resize('32mb');

-- more than 2x: the page hash is rebuilt, no page is lost
SELECT phase, message FROM bufpool.resize('128MB');
SELECT count(*) FILTER (WHERE substr(bufpool.read_page(:sp, p), 1, 4) = int4send(p)) AS intact
FROM generate_series(0, 7999) p;
SELECT count(*) FILTER (WHERE hit) AS hits FROM generate_series(0, 7999) p, bufpool.fetch_page(:sp, p);
SELECT phase, message FROM bufpool.resize('32MB');
SELECT count(*) FILTER (WHERE substr(bufpool.read_page(:sp, p), 1, 4) = int4send(p)) AS intact
FROM generate_series(0, 7999) p;

-- wait => false returns at once; the status view follows it to the end
SELECT phase IN ('start', 'resizing', 'hash', 'complete') AS started FROM bufpool.resize('48MB', false);
DO $$ BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM bufpool.resize_status WHERE is_current);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT phase, to_size FROM bufpool.resize_status ORDER BY resize_id DESC LIMIT 1;
SELECT effective_size FROM bufpool.status();
SELECT phase FROM bufpool.resize('32MB');

-- bad input
SELECT * FROM bufpool.resize(NULL);
SELECT * FROM bufpool.resize('32MB', NULL);
SELECT * FROM bufpool.resize('abc');
SELECT * FROM bufpool.resize('-1GB');
SELECT * FROM bufpool.resize('12 parsecs');
SELECT * FROM bufpool.resize('');
SELECT * FROM bufpool.resize('8MB');
SELECT * FROM bufpool.resize('0');
SELECT * FROM bufpool.resize('100TB');

-- the history keeps the last 8, newest first
SELECT count(*) AS history, bool_and(NOT is_current) AS all_done,
       bool_and(phase = 'complete') AS all_complete
FROM bufpool.resize_status;
SELECT bufpool.drop_space(:sp);
SELECT effective_size FROM bufpool.status();
