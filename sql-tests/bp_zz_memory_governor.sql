-- (Named to run last in the regression suite: its shrink and grow change
-- the page hash's sizing and the chunk counts that bp_resize and bp_memory
-- check.)
-- The memory governor (src/workers/governor.c) from injected readings: the
-- test module's "signals" action replaces what the pool manager reads from
-- the kernel (fault point memory-signals), so the levels, the hysteresis,
-- the actions and the min_size floor can be driven exactly.  The real
-- cgroup and a memory hog are TAP's business.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
-- wait until the governor's level is want (at most 30 s)
CREATE FUNCTION pg_temp.wait_level(want text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        IF (SELECT level FROM bufpool.memory_pressure) = want THEN
            RETURN want;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN 'still ' || (SELECT level FROM bufpool.memory_pressure);
END $$;
-- wait until the pool has size bytes and no resize runs (at most 30 s)
CREATE FUNCTION pg_temp.wait_size(size bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        IF (SELECT current_size FROM bufpool.memory_pressure) = size AND
           NOT EXISTS (SELECT FROM bufpool.resize_status WHERE is_current) THEN
            RETURN size;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN (SELECT current_size FROM bufpool.memory_pressure);
END $$;
CREATE FUNCTION pg_temp.inject(ws_pct int, some_pct float8 DEFAULT 0, full_pct float8 DEFAULT 0)
RETURNS void LANGUAGE sql AS $$
    SELECT bufpool_test.fault_attach('memory-signals', 'signals',
        format('limit=1000000000 ws=%s some=%s full=%s', ws_pct * 10000000::bigint, some_pct, full_pct))
$$;
-- wait until the governor has sampled in mode want (at most 30 s)
CREATE FUNCTION pg_temp.wait_mode(want text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        IF (SELECT mode FROM bufpool.memory_pressure) = want THEN
            RETURN want;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN 'still ' || (SELECT mode FROM bufpool.memory_pressure);
END $$;
-- wait until query q returns true (at most 30 s)
CREATE FUNCTION pg_temp.wait_true(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXECUTE q INTO ok;
        IF ok THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the views' columns
SELECT string_agg(attname, ', ' ORDER BY attnum) AS memory_pressure
FROM pg_attribute WHERE attrelid = 'bufpool.memory_pressure'::regclass AND attnum > 0;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS memory_governor_log
FROM pg_attribute WHERE attrelid = 'bufpool.memory_governor_log'::regclass AND attnum > 0;
-- the default is observe; the kernel's figures are read
SELECT mode, source IN ('cgroup v2', 'cgroup v1', 'meminfo') AS kernel_source,
       memory_limit > 0 AS has_limit, working_set > 0 AS has_working_set
FROM bufpool.memory_pressure;

-- on, with a floor of 16 MB (the pool is 32 MB: 2 instances x 2 chunks of 8 MB)
ALTER SYSTEM SET bufpool_ext.memory_governor = 'on';
ALTER SYSTEM SET bufpool_ext.min_size = '16MB';
ALTER SYSTEM SET bufpool_ext.regrow_delay = '2s';
SELECT pg_reload_conf();
SELECT pg_temp.wait_mode('on');
SELECT pg_temp.inject(40);
SELECT pg_temp.wait_level('normal');
-- the log from here on: a real PSI trigger may have raised the level
-- before the readings were injected (they leave the trigger out)
SELECT coalesce(max(id), 0) AS log_start FROM bufpool.memory_governor_log \gset
SELECT pg_sleep(1.5);
SELECT mode, level, source, source_path, working_set_pct, current_size FROM bufpool.memory_pressure;
-- a PSI trigger (some stall over 10 % of a 2 s window) is armed wherever
-- the kernel has a memory pressure file (Linux 4.20 on; unprivileged
-- triggers need 6.x, which the test machines have)
SELECT (psi_trigger LIKE 'some 200000 2000000 on %/memory%') =
       ((pg_stat_file('/proc/pressure/memory', true)).size IS NOT NULL) AS trigger_where_psi,
       psi_trigger_events >= 0 AS events_counted
FROM bufpool.memory_pressure;

-- attention at 50 %, warning at 75 %: the pool does not grow
SELECT pg_temp.inject(60);
SELECT pg_temp.wait_level('attention');
SELECT pg_temp.inject(80);
SELECT pg_temp.wait_level('warning');
SELECT pg_temp.try($$SELECT * FROM bufpool.resize('32MB')$$) AS same_size_allowed;
-- a grow asked now waits, and says why (NOTICE, then its status)
SELECT resize_id AS held_id, phase FROM bufpool.resize('64MB', false) \gset
SELECT :'phase' AS phase;
SELECT pg_temp.wait_true($$SELECT message LIKE 'waiting:%' FROM bufpool.resize_status WHERE is_current$$);
SELECT phase, source, message, (SELECT current_size FROM bufpool.memory_pressure)
FROM bufpool.resize_status WHERE resize_id = :held_id;
-- a newer request takes the waiting one's place (which fails, saying so)
SELECT :held_id AS first_id \gset
SELECT resize_id AS held_id FROM bufpool.resize('48MB', false) \gset
SELECT phase, message = 'superseded by resize ' || :held_id || ' (sql)' AS superseded
FROM bufpool.resize_status WHERE resize_id = :first_id;
SELECT pg_temp.wait_true($$SELECT message LIKE 'waiting:%' FROM bufpool.resize_status WHERE is_current$$);
SELECT to_size FROM bufpool.resize_status WHERE is_current;
-- the stall alone: PSI some 30 % is danger even with a small working set;
-- the waiting grow gives way to the shrink
SELECT pg_temp.inject(10, 30);
SELECT pg_temp.wait_level('danger');
SELECT stall_level, use_level FROM bufpool.memory_pressure;
SELECT pg_temp.wait_true($$SELECT phase = 'failed' FROM bufpool.resize_status WHERE resize_id = $$ || :held_id);
SELECT phase, message FROM bufpool.resize_status WHERE resize_id = :held_id;
-- danger shrinks one step (10 %, at least one chunk per instance), then
-- stops at min_size
SELECT pg_temp.wait_size(16777216);
-- entering danger handed the free buddy region pages back; the buddy
-- allocator works on as before over them
SELECT (regexp_match(result, '^([0-9]+) bytes of free buddy memory handed back$'))[1]::bigint > 0 AS handed_back
FROM bufpool.memory_governor_log WHERE action = 'buddy trim';
SELECT ok FROM bufpool_test.buddy_test_random(20000, 7);
SELECT pg_temp.inject(90);
SELECT pg_sleep(4);
SELECT current_size FROM bufpool.memory_pressure;

-- emergency (95 %): large allocator blocks are refused with 53200
SELECT pg_temp.inject(97);
SELECT pg_temp.wait_level('emergency');
SELECT pg_temp.try($$SELECT * FROM bufpool_test.arena_test_blocks(8192, ARRAY[2000000], 'none', false)$$) AS big_block;
SELECT pg_temp.try($$SELECT count(*) FROM bufpool_test.arena_test_blocks(8192, ARRAY[1000], 'none', false)$$) AS small_block;

-- hysteresis: 93 % is below emergency's band but not by 5 points: stays
SELECT pg_temp.inject(93);
SELECT pg_sleep(2);
SELECT level FROM bufpool.memory_pressure;
-- 30 %: down to normal after a few samples, and the pool grows back to
-- its configured size after regrow_delay
SELECT pg_temp.inject(30);
SELECT pg_temp.wait_level('normal');
SELECT pg_temp.wait_size(33554432);
SELECT pg_temp.try($$SELECT count(*) FROM bufpool_test.arena_test_blocks(8192, ARRAY[2000000], 'none', false)$$) AS big_block_again;

-- the log: every level change and action, in order
SELECT level, action, from_size, to_size, result ~ '^resize [0-9]+ requested$' AS requested
FROM bufpool.memory_governor_log WHERE id > :log_start ORDER BY id;

-- observe: levels and log, no action
ALTER SYSTEM SET bufpool_ext.memory_governor = 'observe';
SELECT pg_reload_conf();
SELECT pg_temp.wait_mode('observe');
SELECT pg_temp.inject(97);
SELECT pg_temp.wait_level('emergency');
SELECT pg_sleep(1.5);
SELECT mode, current_size FROM bufpool.memory_pressure;
SELECT pg_temp.try($$SELECT count(*) FROM bufpool_test.arena_test_blocks(8192, ARRAY[2000000], 'none', false)$$) AS big_block_observed;
SELECT level, action, result FROM bufpool.memory_governor_log ORDER BY id DESC LIMIT 1;

-- bands out of order: observe only, and the note says which settings
ALTER SYSTEM SET bufpool_ext.memory_governor = 'on';
ALTER SYSTEM SET bufpool_ext.memory_warning_pct = 90;
SELECT pg_reload_conf();
SELECT pg_sleep(2);
SELECT mode, note FROM bufpool.memory_pressure;
ALTER SYSTEM RESET bufpool_ext.memory_warning_pct;
-- min_size above the limit: the same
ALTER SYSTEM SET bufpool_ext.min_size = '2GB';
SELECT pg_reload_conf();
SELECT pg_sleep(2);
SELECT mode, note FROM bufpool.memory_pressure;
ALTER SYSTEM RESET bufpool_ext.min_size;

-- off: no sampling, level normal for the allocators
SELECT pg_temp.inject(97);
ALTER SYSTEM SET bufpool_ext.memory_governor = 'off';
SELECT pg_reload_conf();
SELECT pg_temp.wait_mode('off');
SELECT mode FROM bufpool.memory_pressure;
SELECT pg_temp.try($$SELECT count(*) FROM bufpool_test.arena_test_blocks(8192, ARRAY[2000000], 'none', false)$$) AS big_block_off;

-- bad input
SELECT pg_temp.try('ALTER SYSTEM SET bufpool_ext.memory_governor = maybe') AS bad_mode;
SELECT pg_temp.try('ALTER SYSTEM SET bufpool_ext.memory_danger_pct = 101') AS bad_pct;
SELECT pg_temp.try('ALTER SYSTEM SET bufpool_ext.min_size = 0') AS bad_min_size;

-- privileges: pg_monitor reads the views, PUBLIC does not
SELECT has_table_privilege('pg_monitor', 'bufpool.memory_pressure', 'select') AS monitor_pressure,
       has_table_privilege('pg_monitor', 'bufpool.memory_governor_log', 'select') AS monitor_log,
       has_table_privilege('public', 'bufpool.memory_pressure', 'select') AS public_pressure;

-- a DBA's own shrink is left alone: no regrow after regrow_delay
ALTER SYSTEM SET bufpool_ext.memory_governor = 'on';
SELECT pg_reload_conf();
SELECT pg_temp.inject(30);
SELECT pg_temp.wait_mode('on');
SELECT pg_temp.wait_level('normal');
SELECT phase FROM bufpool.resize('16MB');
SELECT pg_sleep(3.5);
SELECT current_size FROM bufpool.memory_pressure;
-- a grow asked at warning waits, and starts once the level is normal
SELECT pg_temp.inject(80);
SELECT pg_temp.wait_level('warning');
SELECT resize_id AS held_id FROM bufpool.resize('32MB', false) \gset
SELECT pg_temp.wait_true($$SELECT message LIKE 'waiting:%' FROM bufpool.resize_status WHERE is_current$$);
SELECT pg_temp.inject(30);
SELECT pg_temp.wait_level('normal');
SELECT pg_temp.wait_size(33554432);
SELECT phase, source, message FROM bufpool.resize_status WHERE resize_id = :held_id;

-- back to the defaults
SELECT bufpool_test.fault_detach('memory-signals');
ALTER SYSTEM RESET bufpool_ext.memory_governor;
ALTER SYSTEM RESET bufpool_ext.regrow_delay;
SELECT pg_reload_conf();
SELECT pg_temp.wait_size(33554432);
