/* bufpool_ext 1.4 -> 1.5: scan resistance with the page cleaners running, hot pages */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.5'" to load this file. \quit

-- bufpool.stats: two columns after InnoDB's, the blocks the boundary between
-- the sublists moved without an access (bufpool_ext.lru_boundary).  Rates no
-- longer reset on read: each session measures from its own previous read.
DROP VIEW bufpool.stats;
DROP FUNCTION bufpool.stats_srf();
CREATE FUNCTION bufpool.stats_srf(
    OUT pool_id int, OUT pool_size bigint, OUT free_buffers bigint,
    OUT database_pages bigint, OUT old_database_pages bigint,
    OUT modified_database_pages bigint, OUT pending_decompress bigint,
    OUT pending_reads bigint, OUT pending_flush_lru bigint,
    OUT pending_flush_list bigint, OUT pages_made_young bigint,
    OUT pages_not_made_young bigint, OUT pages_made_young_rate float8,
    OUT pages_made_not_young_rate float8, OUT number_pages_read bigint,
    OUT number_pages_created bigint, OUT number_pages_written bigint,
    OUT pages_read_rate float8, OUT pages_create_rate float8,
    OUT pages_written_rate float8, OUT number_pages_get bigint,
    OUT hit_rate bigint, OUT young_make_per_thousand_gets bigint,
    OUT not_young_make_per_thousand_gets bigint,
    OUT number_pages_read_ahead bigint, OUT number_read_ahead_evicted bigint,
    OUT read_ahead_rate float8, OUT read_ahead_evicted_rate float8,
    OUT lru_io_total bigint, OUT lru_io_current bigint,
    OUT uncompress_total bigint, OUT uncompress_current bigint,
    OUT boundary_made_young bigint, OUT boundary_made_old bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_stats'
LANGUAGE C STRICT VOLATILE;
CREATE VIEW bufpool.stats AS SELECT * FROM bufpool.stats_srf();
REVOKE ALL ON FUNCTION bufpool.stats_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.stats_srf() TO pg_monitor;
GRANT SELECT ON bufpool.stats TO pg_monitor;
