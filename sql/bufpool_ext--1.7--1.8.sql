/* bufpool_ext 1.7 -> 1.8: the memory governor's views and the leak view */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.8'" to load this file. \quit

-- the memory governor (src/workers/governor.c): its last sample, and its
-- level changes and actions; pg_monitor may read both
CREATE FUNCTION bufpool.memory_pressure_row(
    OUT mode text, OUT level text, OUT use_level text, OUT stall_level text,
    OUT source text, OUT source_path text, OUT memory_limit bigint, OUT memory_usage bigint,
    OUT working_set bigint, OUT working_set_pct float8,
    OUT psi_some_avg10 float8, OUT psi_full_avg10 float8,
    OUT configured_size bigint, OUT current_size bigint, OUT min_size bigint,
    OUT sampled_at timestamptz, OUT level_since timestamptz, OUT note text,
    OUT psi_trigger text, OUT psi_trigger_events bigint, OUT psi_trigger_at timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_memory_pressure'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.memory_pressure AS SELECT * FROM bufpool.memory_pressure_row();

CREATE FUNCTION bufpool.memory_governor_log_srf(
    OUT id bigint, OUT at timestamptz, OUT level text, OUT memory_limit bigint,
    OUT working_set bigint, OUT psi_some_avg10 float8, OUT psi_full_avg10 float8,
    OUT action text, OUT from_size bigint, OUT to_size bigint, OUT result text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_memory_governor_log'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.memory_governor_log AS SELECT * FROM bufpool.memory_governor_log_srf();

REVOKE ALL ON FUNCTION bufpool.memory_pressure_row(), bufpool.memory_governor_log_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.memory_pressure, bufpool.memory_governor_log FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.memory_pressure_row(), bufpool.memory_governor_log_srf() TO pg_monitor;
GRANT SELECT ON bufpool.memory_pressure, bufpool.memory_governor_log TO pg_monitor;

-- suspected memory leaks (src/workers/leaks.c): shared allocators whose
-- owner exited, instruments growing with no frees, processes whose kept
-- memory grows; report only
CREATE FUNCTION bufpool.memory_leaks_srf(
    OUT kind text, OUT name text, OUT pid int4, OUT backend_type text,
    OUT bytes bigint, OUT count bigint, OUT first_seen timestamptz,
    OUT last_growth timestamptz, OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_memory_leaks'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.memory_leaks AS SELECT * FROM bufpool.memory_leaks_srf();

REVOKE ALL ON FUNCTION bufpool.memory_leaks_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.memory_leaks FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.memory_leaks_srf() TO pg_monitor;
GRANT SELECT ON bufpool.memory_leaks TO pg_monitor;
