-- Privileges: a plain role sees nothing; pg_monitor reads the views;
-- state-changing and page functions are superuser-only even if granted.
SET client_min_messages = error;
SELECT bufpool.create_space('priv', 8) AS sp \gset
DROP ROLE IF EXISTS bp_plain;
DROP ROLE IF EXISTS bp_monitor;
RESET client_min_messages;
CREATE ROLE bp_plain;
SELECT hit FROM bufpool.fetch_page(:sp, 0);
CREATE ROLE bp_monitor IN ROLE pg_monitor;

SET ROLE bp_plain;
SELECT count(*) FROM bufpool.stats;
SELECT count(*) FROM bufpool.pages;
SELECT * FROM bufpool.fetch_page(:sp, 0);
SELECT bufpool.read_page(:sp, 0);
SELECT bufpool.create_space('nope', 8);
RESET ROLE;

SET ROLE bp_monitor;
SELECT count(*) AS instances FROM bufpool.stats;
SELECT count(*) > 0 AS sees_pages FROM bufpool.pages;
SELECT count(*) > 0 AS sees_lru FROM bufpool.page_lru;
SELECT count(*) AS lists FROM bufpool.lists;
SELECT count(*) AS chunks FROM bufpool.chunks;
SELECT name FROM bufpool.spaces WHERE space_id = :sp;
SELECT state FROM bufpool.status();
SELECT * FROM bufpool.fetch_page(:sp, 0);
SELECT bufpool.read_page(:sp, 0);
SELECT bufpool.write_page(:sp, 0, 'x'::bytea);
SELECT bufpool.flush();
SELECT bufpool.evict(:sp, 0);
SELECT bufpool.drop_space(:sp);
RESET ROLE;

-- a grant does not bypass the superuser check done in C
GRANT EXECUTE ON FUNCTION bufpool.read_page(int, bigint) TO bp_plain;
GRANT USAGE ON SCHEMA bufpool TO bp_plain;
SET ROLE bp_plain;
SELECT bufpool.read_page(:sp, 0);
RESET ROLE;
REVOKE ALL ON FUNCTION bufpool.read_page(int, bigint) FROM bp_plain;
REVOKE USAGE ON SCHEMA bufpool FROM bp_plain;

DROP ROLE bp_plain;
DROP ROLE bp_monitor;
SELECT bufpool.drop_space(:sp);
