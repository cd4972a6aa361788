-- Hot-page detection: bufpool.hot_pages, bufpool.space_heat, bufpool.page_heat.
-- The pool has 2 instances of 2032 pages (4064); the page cleaners run.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
SELECT bufpool.create_space('heat', 41000) AS sp \gset
SELECT bufpool.create_space('heat_other', 100) AS sp2 \gset
RESET client_min_messages;
SHOW bufpool_ext.hot_page_halflife;

-- Accuracy: a Zipf(0.9) trace over ten times the pool's page count
-- (40640 pages), 8,000,000 accesses replayed in C at full speed through
-- bp_page_fetch.  The view's top 100 must share at least 90 pages with the
-- trace's true top 100 by access count.  (One access in 32 is sampled, the
-- counter has 128 steps per doubling, and it halves every 10 s while the
-- replay runs for about 8; pages ranked near 100 differ by about 1% in
-- accesses from one rank to the next.  Measured: 94 to 97 in five runs.)
CREATE TEMP TABLE truth AS
SELECT * FROM bufpool_test.bench_heat_replay(:sp, 40640, 8000000, 0.9, 1, 100);
SELECT count(*) AS true_top, min(accesses) > 1000 AS each_seen_often FROM truth;
CREATE TEMP TABLE seen AS
SELECT page_number, frequency, est_accesses_per_s FROM bufpool.hot_pages
WHERE space_id = :sp LIMIT 100;
SELECT count(*) AS view_top FROM seen;
SELECT count(*) >= 90 AS top_100_overlap_at_least_90
FROM truth JOIN seen USING (page_number);
-- the hottest page of the trace is among the view's first ten
SELECT (SELECT page_number FROM truth ORDER BY accesses DESC LIMIT 1)
       IN (SELECT page_number FROM seen ORDER BY frequency DESC, est_accesses_per_s DESC LIMIT 10)
       AS hottest_in_first_ten;
-- the view is ordered hottest first
SELECT bool_and(frequency <= prev) AS ordered
FROM (SELECT frequency, lag(frequency, 1, 256) OVER () AS prev
      FROM (SELECT frequency FROM bufpool.hot_pages) v) o;
-- estimated rates: the hottest page of an 8,000,000-access replay that took
-- seconds runs at thousands of accesses per second
SELECT est_accesses_per_s > 1000 AS hottest_rate_high, last_access_ms_ago < 10000 AS recent,
       is_dirty
FROM bufpool.hot_pages WHERE space_id = :sp LIMIT 1;

-- a second replay of 4,000,000 with another seed: the same hot set (the
-- permutation of ranks to pages is fixed), the view agrees again
DROP TABLE truth, seen;
CREATE TEMP TABLE truth AS
SELECT * FROM bufpool_test.bench_heat_replay(:sp, 40640, 4000000, 0.9, 2, 100);
SELECT count(*) >= 90 AS top_100_overlap_at_least_90
FROM truth JOIN (SELECT page_number FROM bufpool.hot_pages WHERE space_id = :sp LIMIT 100) s
USING (page_number);

-- page_heat: one page, without counting as an access
SELECT (SELECT page_number FROM truth ORDER BY accesses DESC LIMIT 1) AS hot \gset
SELECT in_pool, frequency > 0 AS has_frequency, est_accesses_per_s > 0 AS has_rate
FROM bufpool.page_heat(:sp, :hot);
SELECT frequency AS f1 FROM bufpool.page_heat(:sp, :hot) \gset
SELECT count(*) FROM generate_series(1, 50) g, bufpool.page_heat(:sp, :hot) h;
SELECT frequency <= :f1 AS not_counted FROM bufpool.page_heat(:sp, :hot);
-- a page never fetched is not in the pool
SELECT * FROM bufpool.page_heat(:sp2, 7);
-- a dirty page says so
SELECT bufpool.write_page(:sp2, 7, 'warm'::bytea) > 0 AS written;
SELECT in_pool, is_dirty FROM bufpool.page_heat(:sp2, 7);

-- space_heat: per space, pages in the pool and their accesses per second;
-- the hottest tenth of a Zipf space carries most of its accesses
SELECT space_name, pages_in_pool > 0 AS in_pool, hot_pages = ceil(pages_in_pool / 10.0) AS tenth,
       hot_accesses_per_s > accesses_per_s / 2 AS skewed
FROM bufpool.space_heat WHERE space_id = :sp;
SELECT space_name, pages_in_pool, hot_pages FROM bufpool.space_heat WHERE space_id = :sp2;

-- bad input: a clear error naming the value
SELECT * FROM bufpool.page_heat(999999, 0);
SELECT * FROM bufpool.page_heat(:sp2, 100);
SELECT * FROM bufpool.page_heat(:sp2, -1);
SELECT * FROM bufpool.page_heat(-4, 0);
SELECT * FROM bufpool.page_heat(NULL, 0);
SELECT * FROM bufpool.page_heat(:sp2, NULL);
SELECT * FROM bufpool_test.bench_heat_replay(999999, 10, 10, 0.9, 1, 5);
SELECT * FROM bufpool_test.bench_heat_replay(:sp2, 101, 10, 0.9, 1, 5);
SELECT * FROM bufpool_test.bench_heat_replay(:sp2, 100, 0, 0.9, 1, 5);
SELECT * FROM bufpool_test.bench_heat_replay(:sp2, 100, 10, 0, 1, 5);
SELECT * FROM bufpool_test.bench_heat_replay(:sp2, 100, 10, 0.9, 1, 101);
SELECT * FROM bufpool_test.bench_heat_replay(:sp2, 100, 10, NULL, 1, 5);
ALTER SYSTEM SET bufpool_ext.hot_page_halflife = 0;
ALTER SYSTEM SET bufpool_ext.hot_page_halflife = '2h';
ALTER SYSTEM SET bufpool_ext.lru_boundary = 'lru';

-- a dropped space's pages leave the views
SELECT bufpool.drop_space(:sp);
SELECT count(*) AS heat_rows_left FROM bufpool.hot_pages WHERE space_id = :sp;
SELECT count(*) AS space_heat_rows FROM bufpool.space_heat WHERE space_id = :sp;
SELECT bufpool.drop_space(:sp2);
