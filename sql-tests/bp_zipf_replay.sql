-- The replacement-quality replays (test/modules/bufpool_test/bench.c) see one trace.  Last in
-- name order, so the spaces it makes do not renumber the other tests' ones.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
SELECT bufpool.create_space('zipf_replay', 32) AS space_id \gset
DROP TABLE IF EXISTS zipf_replay_t;
RESET client_min_messages;
-- 32 pages of one row each
CREATE TABLE zipf_replay_t (x int, pad char(7000)) WITH (fillfactor = 10);
ALTER TABLE zipf_replay_t ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO zipf_replay_t SELECT g, 'x' FROM generate_series(1, 32) g;
SELECT pg_relation_size('zipf_replay_t') / 8192 AS table_pages;

-- Zipf over 16 pages, a scan of 4 pages after every 10 Zipf accesses over
-- the other 16: every cache holds all 32 pages, and the 2000 accesses of
-- warm-up touch each of them, so every counted access is a hit, and the
-- scan accesses counted are the same for all three.
SELECT 'bufpool' AS policy, * FROM bufpool_test.bench_replay(:space_id, 16, 4, 10, 16, 1000, 2000)
UNION ALL
SELECT 'postgres', * FROM bufpool_test.bench_pg_replay('zipf_replay_t', 16, 4, 10, 16, 1000, 2000)
UNION ALL
SELECT 'lru', * FROM bufpool_test.bench_lru_replay(64, 16, 4, 10, 16, 1000, 2000);
-- from the start, 1000 accesses are 71 periods of 10 Zipf accesses and a
-- scan of 4, then 6 Zipf accesses
SELECT scan_accesses, 71 * 4 AS expected FROM bufpool_test.bench_lru_replay(64, 16, 4, 10, 16, 1000, 0);

-- a small LRU misses: the figures pin the trace (same seed, same trace),
-- and a different seed gives another one
SELECT * FROM bufpool_test.bench_lru_replay(8, 16, 4, 10, 16, 1000, 100);
SELECT * FROM bufpool_test.bench_lru_replay(8, 16, 4, 10, 16, 1000, 100, 1);
SELECT * FROM bufpool_test.bench_lru_replay(8, 16, 4, 10, 16, 1000, 100, 2);
-- no scans: no scan accesses; a scan never hits an LRU smaller than its range
SELECT * FROM bufpool_test.bench_lru_replay(8, 16, 0, 0, 0, 1000, 100);
SELECT scan_hits FROM bufpool_test.bench_lru_replay(12, 16, 4, 10, 16, 1000, 100);

DROP TABLE zipf_replay_t;
SELECT bufpool.drop_space(:space_id);
