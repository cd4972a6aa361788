-- Basic use of every function and view on a fresh pool.
CREATE EXTENSION bufpool_ext;

-- pool shape: 32MB in 2 instances of 8MB chunks, 8kB pages (regress.conf)
SELECT state, instances, chunks_per_instance, chunk_size, requested_size,
       effective_size, page_size, pages
FROM bufpool.status();
SELECT pool_id, chunk_no, size, n_blocks, numa_nodes <> '' AS has_numa_nodes, state
FROM bufpool.chunks ORDER BY 1, 2;

SELECT bufpool.create_space('basic', 3000) AS space_id;
SELECT space_id, name, size_pages, page_size, size_bytes, file_path, state, pages_in_pool
FROM bufpool.spaces;

-- a never-written page is created, not read; a second fetch is a hit
SELECT hit, instance, is_old FROM bufpool.fetch_page(1, 0);
SELECT hit, instance, is_old FROM bufpool.fetch_page(1, 0);
SELECT sum(number_pages_get) AS gets, sum(number_pages_read) AS reads,
       sum(number_pages_created) AS created, sum(database_pages) AS lru
FROM bufpool.stats;

-- pages land in both instances
SELECT count(DISTINCT instance) FROM generate_series(0, 63) p, bufpool.fetch_page(1, p);

-- warm-up, as InnoDB: until something is evicted, hits on old blocks
-- neither move them nor count as (not) made young.  No block has been made
-- young by an access, so every block of the list is old but the one miss
-- in 128 read into the young sublist's room (lru_boundary = access;
-- InnoDB's rule would have made about 63% of them young by position as
-- the list grew)
SELECT count(*) FROM generate_series(1000, 2299) p, bufpool.fetch_page(1, p);
SELECT bool_and(old_database_pages > 0) AS both_have_old FROM bufpool.stats;
SELECT sum(pages_made_young) AS y0, sum(pages_not_made_young) AS n0 FROM bufpool.stats \gset
SELECT count(*) FILTER (WHERE is_old) AS hits_on_old
FROM generate_series(1000, 2299) p, bufpool.fetch_page(1, p);
SELECT sum(pages_made_young) - :y0 AS made_young,
       sum(pages_not_made_young) - :n0 AS not_made_young FROM bufpool.stats;

-- write: LSNs increase, page becomes dirty, read returns the bytes
SELECT bufpool.write_page(1, 7, '\xdeadbeef'::bytea, 100) AS lsn1 \gset
SELECT bufpool.write_page(1, 7, 'hello'::bytea) AS lsn2 \gset
SELECT :lsn2 > :lsn1 AS lsn_increases;
SELECT substr(bufpool.read_page(1, 7), 1, 5) AS head,
       substr(bufpool.read_page(1, 7), 101, 4) AS at_100,
       length(bufpool.read_page(1, 7)) AS payload;
SELECT sum(modified_database_pages) AS dirty FROM bufpool.stats;
SELECT list, sum(length) FROM bufpool.lists WHERE list = 'flush' GROUP BY list;
SELECT space, page_number, page_type, fix_count, io_fix, page_state,
       newest_modification = :lsn2 AS newest_ok,
       -- the start of the first unwritten change (its record), the newest is the end of the last
       oldest_modification < :lsn1 AND oldest_modification > :lsn1 - 8192 AS oldest_ok,
       table_name, data_size
FROM bufpool.pages WHERE space = 1 AND page_number = 7;

-- flush writes it; then it is clean
SELECT bufpool.flush(1) AS written;
SELECT bufpool.flush() AS written_again;
SELECT sum(modified_database_pages) AS dirty FROM bufpool.stats;
SELECT oldest_modification, flush_type FROM bufpool.pages WHERE space = 1 AND page_number = 7;

-- evict: the page leaves the pool; reading it again comes from the file
SELECT bufpool.evict(1, 7) AS evicted;
SELECT bufpool.evict(1, 7) AS evicted_again;
SELECT count(*) FROM bufpool.pages WHERE space = 1 AND page_number = 7;
SELECT sum(number_pages_read) AS reads_before FROM bufpool.stats \gset
SELECT substr(bufpool.read_page(1, 7), 1, 5) AS head_from_disk,
       substr(bufpool.read_page(1, 7), 101, 4) AS at_100_from_disk;
SELECT sum(number_pages_read) - :reads_before AS reads FROM bufpool.stats;

-- evicting a dirty page writes it first: nothing is lost
SELECT bufpool.write_page(1, 8, 'dirty then evicted'::bytea) > 0 AS written;
SELECT bufpool.evict(1, 8);
SELECT convert_from(substr(bufpool.read_page(1, 8), 1, 18), 'UTF8') AS page_8;

-- list lengths add up to the pool size
SELECT pool_id,
       sum(length) FILTER (WHERE list IN ('free', 'lru')) AS blocks,
       sum(length) FILTER (WHERE list = 'lru') =
         sum(length) FILTER (WHERE list IN ('lru_old', 'lru_young')) AS lru_split_ok
FROM bufpool.lists GROUP BY pool_id ORDER BY pool_id;
SELECT pool_id, pool_size, free_buffers + database_pages = pool_size AS accounted
FROM bufpool.stats ORDER BY pool_id;

-- page_lru is in LRU order: positions 0..n-1 per instance
SELECT pool_id, min(lru_position), max(lru_position) + 1 = count(*) AS dense
FROM bufpool.page_lru GROUP BY pool_id ORDER BY pool_id;
SELECT count(*) FROM bufpool.page_lru pl JOIN bufpool.stats s USING (pool_id)
WHERE pl.lru_position >= s.database_pages;

-- every column of the stats view is there
SELECT count(*) AS stats_columns FROM information_schema.columns
WHERE table_schema = 'bufpool' AND table_name = 'stats';

-- a second space; pages_in_pool; drop throws its pages away
SELECT bufpool.create_space('second', 10) AS space_id;
SELECT bufpool.write_page(2, 3, 'x'::bytea) > 0;
SELECT name, pages_in_pool FROM bufpool.spaces ORDER BY space_id;
SELECT bufpool.drop_space(2);
SELECT name FROM bufpool.spaces ORDER BY space_id;
SELECT count(*) FROM bufpool.pages WHERE space = 2;
SELECT sum(modified_database_pages) AS dirty FROM bufpool.stats;
-- space ids are not reused
SELECT bufpool.create_space('third', 10) AS space_id;
SELECT bufpool.drop_space(3);
