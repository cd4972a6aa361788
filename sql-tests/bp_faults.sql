-- Fault points (src/base/fault.c) through the test module bufpool_test:
-- an attachment makes its point fire in the processes it names, with the
-- action of the module; without one nothing happens; a session's own
-- attachments go when it exits; bad input gets clear errors.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
SELECT bufpool.create_space('faults', 8) AS sp \gset
RESET client_min_messages;
-- errors without the space id (it depends on the tests before this one)
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'space [0-9]+', 'space N');
END $$;

SELECT point FROM bufpool_test.fault_points() ORDER BY 1;
SELECT count(*) AS attached FROM bufpool_test.faults();

-- The page cleaners could write this test's dirty page before its own
-- flush does (the flush would then write nothing and see no fault): they
-- are paused for the whole cluster, and a pass already under way is let
-- finish.
SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip');
SELECT pg_sleep(0.2);

-- data-write, this session only: its flush fails with EIO, the page stays
-- dirty, and is written once the fault is gone
SELECT bufpool.write_page(:sp, 1, '\x01'::bytea, 0) > 0 AS written;
SELECT bufpool_test.fault_attach('data-write', 'eio', '', pg_backend_pid());
-- (the WARNING that the failed round retired its doublewrite region, whose
-- number depends on the tests before, is checked by 014_write_faults)
SET client_min_messages = error;
SELECT pg_temp.try(format('SELECT bufpool.flush(%s)', :sp));
RESET client_min_messages;
SELECT point, pid = pg_backend_pid() AS mine, action, arg, hits
FROM bufpool_test.faults() ORDER BY point;
SELECT count(*) AS dirty FROM bufpool.pages WHERE space = :sp AND oldest_modification > 0;
SELECT bufpool_test.fault_detach('data-write');
SELECT bufpool.flush(:sp) AS flushed;
SELECT count(*) AS dirty FROM bufpool.pages WHERE space = :sp AND oldest_modification > 0;

-- ENOSPC likewise, with its SQLSTATE
SELECT bufpool.write_page(:sp, 2, '\x02'::bytea, 0) > 0 AS written;
SELECT bufpool_test.fault_attach('data-write', 'enospc', '', pg_backend_pid());
-- (the WARNING that the failed round retired its doublewrite region, whose
-- number depends on the tests before, is checked by 014_write_faults)
SET client_min_messages = error;
SELECT pg_temp.try(format('SELECT bufpool.flush(%s)', :sp));
RESET client_min_messages;
SELECT bufpool_test.fault_detach('data-write');
SELECT bufpool.flush(:sp) AS flushed;

-- page-read with the action error: the read fails, the page is not left
-- half-read, and reads work again once it is detached
SELECT bufpool.evict(:sp, 1) AS evicted;
SELECT bufpool_test.fault_attach('page-read', 'error', '', pg_backend_pid());
SELECT pg_temp.try(format('SELECT bufpool.fetch_page(%s, 1)', :sp));
SELECT bufpool_test.fault_detach('page-read', pg_backend_pid()) AS detached;
SELECT hit FROM bufpool.fetch_page(:sp, 1);
SELECT get_byte(bufpool.read_page(:sp, 1), 0) AS first_byte;

-- an attachment for another process leaves this one alone
SELECT bufpool.evict(:sp, 1) AS evicted;
SELECT bufpool_test.fault_attach('page-read', 'error', '', pg_backend_pid() + 1000000);
SELECT hit FROM bufpool.fetch_page(:sp, 1);
SELECT bufpool_test.fault_detach('page-read') AS detached;

-- attaching again replaces (the same point and pid)
SELECT bufpool_test.fault_attach('page-read', 'sleep', '1', pg_backend_pid());
SELECT bufpool_test.fault_attach('page-read', 'sleep', '2', pg_backend_pid());
SELECT point, action, arg FROM bufpool_test.faults() WHERE point = 'page-read';

-- bad input
SELECT bufpool_test.fault_attach('no-such-point', 'error');
SELECT bufpool_test.fault_attach('data-write', 'explode');
SELECT bufpool_test.fault_attach('data-write', 'eio', '', -1);
SELECT bufpool_test.fault_attach('data-write', 'eio', '', 12345, true);
SELECT bufpool_test.fault_attach('data-write', NULL);
SELECT bufpool_test.fault_attach('data-write', 'eio', repeat('x', 200));
-- at most 16 attachments at once
SELECT count(bufpool_test.fault_attach('redo-write', 'sleep', '0', 4000000 + g))
FROM generate_series(1, 14) g;
SELECT count(*) AS attached FROM bufpool_test.faults();
SELECT bufpool_test.fault_attach('redo-write', 'sleep', '0', 5000000);
SELECT bufpool_test.fault_detach('redo-write') AS detached;

-- a session's own attachments go when it exits
SELECT bufpool_test.fault_detach() AS detached_all;
SELECT bufpool_test.fault_attach('page-read', 'sleep', '0', pg_backend_pid());
SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip');
\c
DO $$
BEGIN
    FOR i IN 1 .. 500 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM bufpool_test.faults() WHERE point = 'page-read');
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
SELECT point, pid FROM bufpool_test.faults() ORDER BY point;
SELECT bufpool_test.fault_detach() AS detached_all;

-- superuser only
SET client_min_messages = error;
DROP ROLE IF EXISTS bp_faults_plain;
RESET client_min_messages;
CREATE ROLE bp_faults_plain;
GRANT USAGE ON SCHEMA bufpool_test TO bp_faults_plain;
GRANT EXECUTE ON FUNCTION bufpool_test.fault_attach(text, text, text, int, boolean),
    bufpool_test.fault_detach(text, int) TO bp_faults_plain;
SET ROLE bp_faults_plain;
SELECT bufpool_test.fault_attach('data-write', 'eio');
SELECT bufpool_test.fault_detach();
RESET ROLE;
REVOKE ALL ON FUNCTION bufpool_test.fault_attach(text, text, text, int, boolean),
    bufpool_test.fault_detach(text, int) FROM bp_faults_plain;
REVOKE USAGE ON SCHEMA bufpool_test FROM bp_faults_plain;
DROP ROLE bp_faults_plain;
SELECT bufpool.drop_space(:sp);
