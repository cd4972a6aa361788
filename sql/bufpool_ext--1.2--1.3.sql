/* bufpool_ext 1.2 -> 1.3: durability (redo log, doublewrite, recovery) */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.3'" to load this file. \quit

-- redo log: status, recovery and checkpoints --------------------------------------
CREATE FUNCTION bufpool.redo_status_row(
    OUT insert_lsn bigint, OUT write_lsn bigint, OUT flush_lsn bigint,
    OUT checkpoint_lsn bigint, OUT checkpoint_age bigint,
    OUT log_file_size bigint, OUT log_buffer_size bigint, OUT flush_log_at_commit int,
    OUT records bigint, OUT bytes bigint, OUT writes bigint, OUT fsyncs bigint,
    OUT buffer_waits bigint, OUT log_full_waits bigint, OUT checkpoints bigint,
    OUT last_checkpoint timestamptz,
    OUT recovery_ran boolean, OUT recovery_start_lsn bigint, OUT recovery_end_lsn bigint,
    OUT recovery_records bigint, OUT recovery_applied bigint, OUT recovery_pages bigint,
    OUT recovery_bad_pages bigint, OUT recovery_skipped_records bigint,
    OUT recovery_ms float8, OUT recovery_finished timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_redo_status'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.redo_status AS SELECT * FROM bufpool.redo_status_row();

CREATE FUNCTION bufpool.checkpoint()
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_checkpoint'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION bufpool.redo_status_row() FROM PUBLIC;
REVOKE ALL ON bufpool.redo_status FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.checkpoint() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.redo_status_row() TO pg_monitor;
GRANT SELECT ON bufpool.redo_status TO pg_monitor;

-- doublewrite: counters of the doublewrite buffer and its last recovery ---------
-- (pages_written / writes is the mean batch; data_syncs counts the data-file
-- fsync rounds that come before a region is reused)

CREATE FUNCTION bufpool.doublewrite_srf(
    OUT enabled boolean, OUT file_path text, OUT file_size bigint,
    OUT batch_regions int, OUT batch_pages int, OUT single_slots int,
    OUT regions_retired int,
    OUT pages_written bigint, OUT writes bigint, OUT single_page_writes bigint,
    OUT dblwr_syncs bigint, OUT data_syncs bigint, OUT region_waits bigint,
    OUT last_recovery timestamptz, OUT last_recovery_valid_copies bigint,
    OUT last_recovery_pages_restored bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_doublewrite'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.doublewrite AS SELECT * FROM bufpool.doublewrite_srf();

REVOKE ALL ON FUNCTION bufpool.doublewrite_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.doublewrite FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.doublewrite_srf() TO pg_monitor;
GRANT SELECT ON bufpool.doublewrite TO pg_monitor;

-- security: privileges ----------------------------------------------------------
-- The rules, checked object by object for a plain role, a pg_monitor
-- member and a superuser by sql-tests/bp_privileges.sql: nothing in schema
-- bufpool is granted to PUBLIC; pg_monitor may use the schema, read the
-- views and call the set-returning functions behind them and status();
-- every other function is superuser-only, by its grants and by a check in
-- C that comes before any argument is looked at (the benchmark functions
-- checked their arguments for NULL first; fixed in C in 1.3).
-- Each script revokes what it creates; this restates it for every object
-- so far, so that an object of 1.3 that missed its REVOKE is still closed.
-- Keep this section at the end of the script.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA bufpool FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA bufpool FROM PUBLIC;
