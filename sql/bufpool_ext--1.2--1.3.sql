/* bufpool_ext 1.2 -> 1.3: durability (redo log, doublewrite, recovery) */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.3'" to load this file. \quit

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
