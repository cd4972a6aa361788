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

-- terse: the errors' LINE lines would show the space id
\set VERBOSITY terse
SET ROLE bp_plain;
SELECT count(*) FROM bufpool.stats;
SELECT count(*) FROM bufpool.pages;
SELECT * FROM bufpool.fetch_page(:sp, 0);
SELECT bufpool.read_page(:sp, 0);
SELECT bufpool.create_space('nope', 8);
RESET ROLE;
\set VERBOSITY default

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

-- Every function and view of schema bufpool, tried by each kind of role.
-- The rules of the install scripts:
--   monitor:   the views, the set-returning functions behind them, and
--              status(): pg_monitor may use them, a plain role may not;
--   superuser: every other function: EXECUTE is revoked from PUBLIC and
--              the function checks superuser in C, so a role granted
--              EXECUTE is refused all the same.
-- Nothing in the schema is granted to PUBLIC, nothing is SECURITY DEFINER.
-- An object of the schema missing from bp_priv_rules fails this test: add
-- it with its kind.
CREATE TEMP TABLE bp_priv_rules (object text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('monitor', 'superuser')));
INSERT INTO bp_priv_rules VALUES
  ('view bufpool.spaces', 'monitor'),
  ('view bufpool.stats', 'monitor'),
  ('view bufpool.pages', 'monitor'),
  ('view bufpool.page_lru', 'monitor'),
  ('view bufpool.lists', 'monitor'),
  ('view bufpool.chunks', 'monitor'),
  ('view bufpool.numa', 'monitor'),
  ('view bufpool.cmp', 'monitor'),
  ('view bufpool.cmp_per_space', 'monitor'),
  ('view bufpool.cmp_reset', 'superuser'),
  ('view bufpool.cmp_per_space_reset', 'superuser'),
  ('view bufpool.cmpmem', 'monitor'),
  ('view bufpool.cmpmem_reset', 'superuser'),
  ('view bufpool.size_classes', 'monitor'),
  ('view bufpool.resize_status', 'monitor'),
  ('view bufpool.memory_summary_global_by_event_name', 'monitor'),
  ('view bufpool.memory_summary_by_thread_by_event_name', 'monitor'),
  ('view bufpool.memory_global_by_current_bytes', 'monitor'),
  ('view bufpool.memory_global_total', 'monitor'),
  ('view bufpool.heaps', 'monitor'),
  ('view bufpool.backend_memory', 'monitor'),
  ('view bufpool.backend_memory_contexts', 'monitor'),
  ('view bufpool.buddy_stats', 'monitor'),
  ('view bufpool.hot_pages', 'monitor'),
  ('view bufpool.space_heat', 'monitor'),
  ('function bufpool.page_heat_srf()', 'monitor'),
  ('function bufpool.space_heat_srf()', 'monitor'),
  ('function bufpool.page_heat(integer,bigint)', 'monitor'),
  ('function bufpool.spaces_srf()', 'monitor'),
  ('function bufpool.stats_srf()', 'monitor'),
  ('function bufpool.pages_srf(boolean)', 'monitor'),
  ('function bufpool.lists_srf()', 'monitor'),
  ('function bufpool.chunks_srf()', 'monitor'),
  ('function bufpool.numa_srf()', 'monitor'),
  ('function bufpool.cmp_srf(boolean)', 'monitor'),
  ('function bufpool.cmp_per_space_srf(boolean)', 'monitor'),
  ('function bufpool.cmpmem_srf(boolean)', 'monitor'),
  ('function bufpool.size_classes_srf()', 'monitor'),
  ('function bufpool.status()', 'monitor'),
  ('function bufpool.resize_status_srf()', 'monitor'),
  ('function bufpool.memory_summary_srf(boolean)', 'monitor'),
  ('function bufpool.heaps_srf()', 'monitor'),
  ('function bufpool.backend_memory_srf()', 'monitor'),
  ('function bufpool.backend_memory_contexts_srf()', 'monitor'),
  ('function bufpool.buddy_stats_srf()', 'monitor'),
  ('view bufpool.redo_status', 'monitor'),
  ('view bufpool.doublewrite', 'monitor'),
  ('function bufpool.redo_status_row()', 'monitor'),
  ('function bufpool.doublewrite_srf()', 'monitor'),
  ('function bufpool.checkpoint()', 'superuser'),
  ('function bufpool.create_space(text,bigint,text,integer)', 'superuser'),
  ('function bufpool.drop_space(integer)', 'superuser'),
  ('function bufpool.fetch_page(integer,bigint)', 'superuser'),
  ('function bufpool.read_page(integer,bigint)', 'superuser'),
  ('function bufpool.write_page(integer,bigint,bytea,integer)', 'superuser'),
  ('function bufpool.flush(integer)', 'superuser'),
  ('function bufpool.evict(integer,bigint)', 'superuser'),
  ('function bufpool.pin_page(integer,bigint)', 'superuser'),
  ('function bufpool.resize(text,boolean)', 'superuser'),
  ('function bufpool.memory_summary_reset()', 'superuser'),
  ('view bufpool.dump_load_status', 'monitor'),
  ('function bufpool.dump_load_status_srf()', 'monitor'),
  ('function bufpool.dump()', 'superuser'),
  ('function bufpool.load(boolean)', 'superuser'),
  ('function bufpool.load_abort()', 'superuser'),
  ('view bufpool.memory_pressure', 'monitor'),
  ('view bufpool.memory_governor_log', 'monitor'),
  ('function bufpool.memory_pressure_row()', 'monitor'),
  ('function bufpool.memory_governor_log_srf()', 'monitor'),
  ('view bufpool.memory_leaks', 'monitor'),
  ('function bufpool.memory_leaks_srf()', 'monitor');

-- every object of the schema, and how to use it: functions are called
-- with NULL arguments (false for booleans), which the superuser check in
-- C comes before; views are counted
CREATE TEMP VIEW bp_priv_objects AS
  SELECT 'function ' || p.oid::regprocedure AS object,
         format('SELECT count(*) FROM %s(%s)', p.oid::regproc,
                (SELECT string_agg(CASE WHEN t = 'boolean'::regtype THEN 'false'
                                        ELSE 'NULL::' || format_type(t, NULL) END,
                                   ', ' ORDER BY i)
                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i))) AS query
  FROM pg_proc p WHERE p.pronamespace = 'bufpool'::regnamespace
  UNION ALL
  SELECT CASE c.relkind WHEN 'v' THEN 'view ' ELSE format('relkind %s ', c.relkind) END
         || c.oid::regclass,
         format('SELECT count(*) FROM %s', c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'bufpool'::regnamespace
  UNION ALL
  SELECT 'type ' || t.oid::regtype, NULL
  FROM pg_type t
  WHERE t.typnamespace = 'bufpool'::regnamespace AND t.typrelid = 0 AND t.typelem = 0;

-- objects without a rule, and rules without an object: both empty
SELECT coalesce(o.object, r.object) AS object,
       CASE WHEN r.object IS NULL THEN 'not covered: add it to bp_priv_rules'
            ELSE 'no longer in the schema' END AS problem
FROM bp_priv_objects o FULL JOIN bp_priv_rules r USING (object)
WHERE o.object IS NULL OR r.object IS NULL
ORDER BY 1;

-- nothing for PUBLIC (a NULL proacl would mean EXECUTE for PUBLIC), no
-- grant beyond pg_monitor, nothing SECURITY DEFINER
SELECT 'function ' || p.oid::regprocedure AS object, p.proacl, p.prosecdef
FROM pg_proc p
WHERE p.pronamespace = 'bufpool'::regnamespace
  AND (p.proacl IS NULL OR p.prosecdef OR EXISTS (
       SELECT 1 FROM aclexplode(p.proacl) a
       WHERE a.grantee <> p.proowner AND a.grantee <> 'pg_monitor'::regrole))
UNION ALL
SELECT 'relation ' || c.oid::regclass, c.relacl, NULL
FROM pg_class c
WHERE c.relnamespace = 'bufpool'::regnamespace
  AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a
              WHERE a.grantee <> c.relowner
                AND (a.grantee <> 'pg_monitor'::regrole OR a.privilege_type <> 'SELECT'))
UNION ALL
SELECT 'schema bufpool', n.nspacl, NULL
FROM pg_namespace n
WHERE n.nspname = 'bufpool'
  AND EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a
              WHERE a.grantee <> n.nspowner
                AND (a.grantee <> 'pg_monitor'::regrole OR a.privilege_type <> 'USAGE'));

-- the roles: plain; a pg_monitor member; a superuser; and "granted", a
-- plain role given USAGE, EXECUTE on every function and SELECT on every
-- view, which only the superuser checks in C stop
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bp_priv_plain', 'bp_priv_monitor', 'bp_priv_super', 'bp_priv_granted'] LOOP
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('DROP OWNED BY %I', r);
      EXECUTE format('DROP ROLE %I', r);
    END IF;
  END LOOP;
END $$;
CREATE ROLE bp_priv_plain;
CREATE ROLE bp_priv_monitor IN ROLE pg_monitor;
CREATE ROLE bp_priv_super SUPERUSER;
CREATE ROLE bp_priv_granted;
GRANT USAGE ON SCHEMA bufpool TO bp_priv_granted;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA bufpool TO bp_priv_granted;
GRANT SELECT ON ALL TABLES IN SCHEMA bufpool TO bp_priv_granted;

-- run query as role: allowed (it ran, or failed past the privilege
-- checks, e.g. on a NULL argument), or why it was refused
CREATE FUNCTION pg_temp.bp_priv_try(role text, query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', role);
  EXECUTE query;
  RESET ROLE;
  RETURN 'allowed';
EXCEPTION WHEN insufficient_privilege THEN
  RETURN CASE WHEN SQLERRM LIKE 'permission denied for schema %' THEN 'no schema usage'
              WHEN SQLERRM LIKE 'permission denied for %' THEN 'not granted'
              WHEN SQLERRM LIKE 'must be superuser %' THEN 'superuser only'
              ELSE SQLERRM END;
WHEN OTHERS THEN
  RETURN 'allowed';
END $$;

CREATE TEMP TABLE bp_priv_results AS
  SELECT r.object, r.kind,
         pg_temp.bp_priv_try('bp_priv_plain', o.query) AS plain,
         pg_temp.bp_priv_try('bp_priv_monitor', o.query) AS monitor,
         pg_temp.bp_priv_try('bp_priv_super', o.query) AS superuser,
         pg_temp.bp_priv_try('bp_priv_granted', o.query) AS granted
  FROM bp_priv_rules r JOIN bp_priv_objects o USING (object);

SELECT kind, object, plain, monitor, superuser, granted
FROM bp_priv_results ORDER BY kind, object;

-- the rules, checked: no row
SELECT object, kind, plain, monitor, superuser, granted
FROM bp_priv_results
WHERE (plain, monitor, superuser, granted) IS DISTINCT FROM
      (CASE kind
         WHEN 'monitor' THEN ('no schema usage'::text, 'allowed'::text, 'allowed'::text, 'allowed'::text)
         ELSE ('no schema usage'::text, 'not granted'::text, 'allowed'::text, 'superuser only'::text) END)
ORDER BY object;

SELECT count(*) AS objects_tried FROM bp_priv_results;

DROP OWNED BY bp_priv_granted;
DROP ROLE bp_priv_plain;
DROP ROLE bp_priv_monitor;
DROP ROLE bp_priv_super;
DROP ROLE bp_priv_granted;

-- the library ships production code only (1.6): no benchmark, test or
-- debug function in schema bufpool (they are in the test module
-- bufpool_test), and no debug setting
SELECT p.oid::regprocedure AS test_function
FROM pg_proc p WHERE p.pronamespace = 'bufpool'::regnamespace
  AND p.proname ~ '(bench|test|debug)' ORDER BY 1;
SELECT name AS debug_setting FROM pg_settings
WHERE name ~ '^bufpool_ext\.(debug|page_cleaner_pause)' ORDER BY 1;
