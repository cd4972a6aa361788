/* bufpool_ext 1.4 -> 1.5: scan resistance with the page cleaners running, hot pages */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.5'" to load this file. \quit

-- bufpool.stats: three columns after InnoDB's: the blocks the boundary between
-- the sublists moved without an access (bufpool_ext.lru_boundary), and the
-- blocks read straight into the young sublist's room (one miss in 128).
-- Rates no longer reset on read: each session measures from its own previous
-- read.
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
    OUT boundary_made_young bigint, OUT boundary_made_old bigint,
    OUT admitted_young bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_stats'
LANGUAGE C STRICT VOLATILE;
CREATE VIEW bufpool.stats AS SELECT * FROM bufpool.stats_srf();
REVOKE ALL ON FUNCTION bufpool.stats_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.stats_srf() TO pg_monitor;
GRANT SELECT ON bufpool.stats TO pg_monitor;

-- Hot pages (src/heat.c) --------------------------------------------------------
-- Every page in the pool with its access frequency: a logarithmic counter of
-- sampled accesses (128 steps per doubling of the estimate) that decays by
-- half of the estimate every bufpool_ext.hot_page_halflife, and the rate it
-- stands for.
CREATE FUNCTION bufpool.page_heat_srf(
    OUT space_id int, OUT page_number bigint, OUT pool_id int, OUT block_id bigint,
    OUT frequency int, OUT est_accesses_per_s float8, OUT is_old boolean,
    OUT is_dirty boolean, OUT last_access_ms_ago bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_page_heat_all'
LANGUAGE C STRICT VOLATILE;

-- hottest first; put the LIMIT in the query
CREATE VIEW bufpool.hot_pages AS
    SELECT space_id, page_number, pool_id, block_id, frequency, est_accesses_per_s,
           is_old, is_dirty, last_access_ms_ago
    FROM bufpool.page_heat_srf()
    WHERE frequency > 0
    ORDER BY frequency DESC, est_accesses_per_s DESC, space_id, page_number;

-- per space: its pages in the pool, their accesses per second, and those of
-- its hottest tenth of them (rounded up)
CREATE FUNCTION bufpool.space_heat_srf(
    OUT space_id int, OUT space_name text, OUT pages_in_pool bigint,
    OUT accesses_per_s float8, OUT hot_pages bigint, OUT hot_accesses_per_s float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_space_heat'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.space_heat AS SELECT * FROM bufpool.space_heat_srf();

-- one page's heat, found without counting as an access; an error for an
-- unknown space or a page outside it
CREATE FUNCTION bufpool.page_heat(space_id int, page_no bigint,
    OUT pool_id int, OUT block_id bigint,
    OUT frequency int, OUT est_accesses_per_s float8, OUT is_old boolean,
    OUT is_dirty boolean, OUT last_access_ms_ago bigint, OUT in_pool boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_page_heat'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION bufpool.page_heat_srf(), bufpool.space_heat_srf(),
    bufpool.page_heat(int, bigint) FROM PUBLIC;
REVOKE ALL ON bufpool.hot_pages, bufpool.space_heat FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.page_heat_srf(), bufpool.space_heat_srf(),
    bufpool.page_heat(int, bigint) TO pg_monitor;
GRANT SELECT ON bufpool.hot_pages, bufpool.space_heat TO pg_monitor;

-- Hot-page detection accuracy (superuser only, checked in C; used by the tests):
-- n_ops Zipf(exponent) accesses over pages [0, n_pages) of a space at C speed;
-- returns the true top pages by access count.
CREATE FUNCTION bufpool.bench_heat_replay(space_id int, n_pages int, n_ops bigint,
    exponent float8, seed int, top int)
RETURNS TABLE (page_number bigint, accesses bigint)
AS 'MODULE_PATHNAME', 'bp_sql_bench_heat_replay'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.bench_heat_replay(int, int, bigint, float8, int, int) FROM PUBLIC;
