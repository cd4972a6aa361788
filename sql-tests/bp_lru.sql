-- Midpoint insertion LRU: old sublist, old_blocks_time, made-young counters.
-- The pool has 2 instances of 2024 pages; the page cleaners are paused.
SET client_min_messages = error;
SELECT bufpool.create_space('lru', 30000) AS sp \gset
RESET client_min_messages;

CREATE TEMP TABLE counters (y bigint, n bigint);
CREATE FUNCTION snap() RETURNS void LANGUAGE sql AS $$
  DELETE FROM counters;
  INSERT INTO counters SELECT sum(pages_made_young), sum(pages_not_made_young) FROM bufpool.stats;
$$;
CREATE FUNCTION young_delta(OUT made_young bigint, OUT not_made_young bigint) LANGUAGE sql AS $$
  SELECT sum(pages_made_young) - (SELECT y FROM counters),
         sum(pages_not_made_young) - (SELECT n FROM counters) FROM bufpool.stats;
$$;

-- fill the pool with a scan larger than it: the old sublist now exists
SELECT count(*) FROM generate_series(1000, 5999) p, bufpool.fetch_page(:sp, p);
SELECT pool_id, database_pages, free_buffers,
       old_database_pages BETWEEN database_pages * 37 / 100 - 20
                              AND database_pages * 37 / 100 + 20 AS old_is_37_pct
FROM bufpool.stats ORDER BY pool_id;

-- a hot set of 200 pages enters at the head of the old sublist
SELECT count(*) FILTER (WHERE NOT hit) AS misses, count(*) FILTER (WHERE is_old) AS old
FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);
-- they sit together right at the head of the old sublist of each instance
SELECT pool_id, min(pl.lru_position) = max(s.young) AS at_old_head,
       max(pl.lru_position) - min(pl.lru_position) + 1 = count(*) AS together
FROM bufpool.page_lru pl
JOIN (SELECT pool_id, database_pages - old_database_pages AS young FROM bufpool.stats) s
  USING (pool_id)
WHERE pl.space = :sp AND pl.page_number < 200
GROUP BY pool_id ORDER BY pool_id;

-- touched again at once (< old_blocks_time = 1 s): not made young
SELECT snap();
SELECT count(*) FILTER (WHERE hit) AS hits, count(*) FILTER (WHERE is_old) AS old
FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);
SELECT * FROM young_delta();

-- touched after old_blocks_time: made young, now at the head
SELECT pg_sleep(1.1);
SELECT snap();
SELECT count(*) FILTER (WHERE hit) AS hits, count(*) FILTER (WHERE is_old) AS old
FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);
SELECT * FROM young_delta();
SELECT pool_id, min(lru_position) AS first_position,
       max(lru_position) + 1 = count(*) AS together_at_head
FROM bufpool.page_lru WHERE space = :sp AND page_number < 200
GROUP BY pool_id ORDER BY pool_id;

-- a young page that is touched again is not moved (throttle): no lock taken
SELECT snap();
SELECT count(*) FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);
SELECT * FROM young_delta();

-- a scan twice the pool that touches each page twice in a row, with
-- old_blocks_time = 1 s: scan pages stay old, the hot set survives
SELECT count(*) FROM generate_series(6000, 13999) p,
       LATERAL (SELECT bufpool.fetch_page(:sp, p) UNION ALL SELECT bufpool.fetch_page(:sp, p)) t;
SELECT count(*) FILTER (WHERE hit) AS hot_hits_after_scan
FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);

-- the same scan with old_blocks_time = 0: second touches make scan pages
-- young and they push the hot set out
ALTER SYSTEM SET bufpool_ext.old_blocks_time = 0;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW bufpool_ext.old_blocks_time;
SELECT snap();
SELECT count(*) FROM generate_series(14000, 21999) p,
       LATERAL (SELECT bufpool.fetch_page(:sp, p) UNION ALL SELECT bufpool.fetch_page(:sp, p)) t;
SELECT made_young >= 8000 AS scan_made_young FROM young_delta();
SELECT count(*) FILTER (WHERE hit) < 200 AS hot_set_pushed_out,
       count(*) FILTER (WHERE hit) AS hot_hits
FROM generate_series(0, 199) p, bufpool.fetch_page(:sp, p);

ALTER SYSTEM RESET bufpool_ext.old_blocks_time;
SELECT pg_reload_conf();

-- old_blocks_pct changes the split
ALTER SYSTEM SET bufpool_ext.old_blocks_pct = 20;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT count(*) FROM generate_series(22000, 26999) p, bufpool.fetch_page(:sp, p);
SELECT pool_id, old_database_pages BETWEEN database_pages * 20 / 100 - 20
                                       AND database_pages * 20 / 100 + 20 AS old_is_20_pct
FROM bufpool.stats ORDER BY pool_id;
ALTER SYSTEM RESET bufpool_ext.old_blocks_pct;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);

-- old_blocks_time_adaptive: Zipf traffic over three times the pool at C
-- speed (bench_replay) turns the old sublist over in milliseconds.  With
-- InnoDB's fixed 1 s window (adaptive off) every re-access of an old page
-- comes within a second of its first access and none is made young; the
-- adaptive window (half the old sublist's turnover) makes pages touched
-- again later in their stay young
ALTER SYSTEM SET bufpool_ext.old_blocks_time_adaptive = off;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT snap();
SELECT accesses FROM bufpool.bench_replay(:sp, 12000, 0, 0, 0, 200000, 100000);
SELECT not_made_young > made_young AS innodb_rule_freezes FROM young_delta();
ALTER SYSTEM RESET bufpool_ext.old_blocks_time_adaptive;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW bufpool_ext.old_blocks_time_adaptive;
SELECT snap();
SELECT accesses FROM bufpool.bench_replay(:sp, 12000, 0, 0, 0, 200000, 100000);
SELECT made_young > 4 * not_made_young AS adaptive_makes_young FROM young_delta();

-- fetch_page releases its pin: no pins are left
SELECT count(*) AS pinned FROM bufpool.pages WHERE fix_count > 0;
SELECT bufpool.drop_space(:sp);
SELECT count(*) AS pages_left FROM bufpool.pages WHERE space = :sp;
DROP FUNCTION snap();
DROP FUNCTION young_delta();
