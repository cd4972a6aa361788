/* bufpool_ext 1.13: the whole install script.  It is the scripts of 1.0 to
   1.5 in order, without the benchmark and test functions that 1.6 moved to
   the test module bufpool_test, then 1.7's warm restart and 1.8's memory governor (1.9 changes only the
   C API: mini-transactions, spaces, new pages), then 1.10's memory placement
   (chunks.page_size_kb, the numa view), 1.11's compressed spaces, 1.12's
   compressed pages in memory (pages.frame_present, cmpmem) and 1.13's
   size-class pools (size_classes), so a fresh install
   defines exactly what an updated one does (sql-tests/bp_upgrade.sql
   compares the two). */

\echo Use "CREATE EXTENSION bufpool_ext" to load this file. \quit

-- ---------------------------------------------------------------- from 1.0

CREATE SCHEMA bufpool;

-- Functions that take arguments are not STRICT: a NULL argument is an
-- error naming the argument, not a silent NULL result.

-- Tablespaces ---------------------------------------------------------------

CREATE FUNCTION bufpool.create_space(name text, size_pages bigint,
    compression text DEFAULT 'none', key_block_size int DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'bp_sql_create_space'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.drop_space(space_id int)
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_drop_space'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.spaces_srf(
    OUT space_id int, OUT name text, OUT size_pages bigint, OUT page_size int,
    OUT size_bytes bigint, OUT file_path text, OUT state text, OUT pages_in_pool bigint,
    OUT compression text, OUT key_block_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_spaces'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.spaces AS SELECT * FROM bufpool.spaces_srf();

-- Pages -----------------------------------------------------------------------

CREATE FUNCTION bufpool.fetch_page(space_id int, page_no bigint,
    OUT hit boolean, OUT instance int, OUT block_id bigint, OUT is_old boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_fetch_page'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.read_page(space_id int, page_no bigint)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bp_sql_read_page'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.write_page(space_id int, page_no bigint, data bytea, "offset" int DEFAULT 0)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_write_page'
LANGUAGE C VOLATILE;

-- not STRICT: NULL means every space
CREATE FUNCTION bufpool.flush(space_id int DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_flush'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.evict(space_id int, page_no bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'bp_sql_evict'
LANGUAGE C VOLATILE;

-- Views -----------------------------------------------------------------------

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
    OUT uncompress_total bigint, OUT uncompress_current bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_stats'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.stats AS SELECT * FROM bufpool.stats_srf();

CREATE FUNCTION bufpool.pages_srf(lru_order boolean,
    OUT pool_id int, OUT block_id bigint, OUT lru_position bigint,
    OUT space int, OUT page_number bigint, OUT page_type text,
    OUT flush_type int, OUT fix_count int, OUT is_hashed boolean,
    OUT newest_modification bigint, OUT oldest_modification bigint,
    OUT access_time bigint, OUT table_name text, OUT index_name text,
    OUT number_records bigint, OUT data_size bigint, OUT compressed_size bigint,
    OUT page_state text, OUT io_fix text, OUT is_old boolean,
    OUT free_page_clock bigint, OUT is_stale boolean, OUT frame_present boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_pages'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.pages AS
    SELECT pool_id, block_id, space, page_number, page_type, flush_type,
           fix_count, is_hashed, newest_modification, oldest_modification,
           access_time, table_name, index_name, number_records, data_size,
           compressed_size, page_state, io_fix, is_old, free_page_clock, is_stale,
           frame_present
    FROM bufpool.pages_srf(false);

CREATE VIEW bufpool.page_lru AS
    SELECT pool_id, lru_position, space, page_number, page_type, flush_type,
           fix_count, is_hashed, newest_modification, oldest_modification,
           access_time, table_name, index_name, number_records, data_size,
           compressed_size, page_state, io_fix, is_old, free_page_clock, is_stale,
           frame_present
    FROM bufpool.pages_srf(true);

CREATE FUNCTION bufpool.lists_srf(
    OUT pool_id int, OUT list text, OUT length bigint, OUT bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_lists'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.lists AS SELECT * FROM bufpool.lists_srf();

CREATE FUNCTION bufpool.chunks_srf(
    OUT pool_id int, OUT chunk_no int, OUT size bigint, OUT n_blocks bigint,
    OUT numa_nodes text, OUT numa_policy text, OUT state text, OUT page_size_kb int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_chunks'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.chunks AS SELECT * FROM bufpool.chunks_srf();

CREATE FUNCTION bufpool.status(
    OUT state text, OUT instances int, OUT chunks_per_instance int,
    OUT chunk_size bigint, OUT requested_size bigint, OUT effective_size bigint,
    OUT page_size int, OUT pages bigint, OUT next_lsn bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_status'
LANGUAGE C STRICT VOLATILE;

-- Privileges --------------------------------------------------------------------
-- State-changing and page-content functions are also checked in C
-- (superuser only); the monitoring views are for pg_monitor.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA bufpool FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA bufpool FROM PUBLIC;
GRANT USAGE ON SCHEMA bufpool TO pg_monitor;
GRANT EXECUTE ON FUNCTION bufpool.spaces_srf(), bufpool.stats_srf(),
    bufpool.pages_srf(boolean), bufpool.lists_srf(), bufpool.chunks_srf(),
    bufpool.status() TO pg_monitor;
GRANT SELECT ON bufpool.spaces, bufpool.stats, bufpool.pages, bufpool.page_lru,
    bufpool.lists, bufpool.chunks TO pg_monitor;

-- ---------------------------------------------------------------- from 1.1

CREATE FUNCTION bufpool.resize(new_size text, wait boolean DEFAULT true,
    OUT resize_id bigint, OUT from_size bigint, OUT to_size bigint,
    OUT phase text, OUT message text)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_resize'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.resize_status_srf(
    OUT resize_id bigint, OUT is_current boolean, OUT phase text, OUT progress int,
    OUT from_size bigint, OUT to_size bigint, OUT requested_size bigint,
    OUT started timestamptz, OUT finished timestamptz,
    OUT pages_withdrawn bigint, OUT pages_relocated bigint,
    OUT pages_flushed bigint, OUT pages_evicted bigint,
    OUT max_stall_ms float8, OUT source text, OUT requested_by int, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_resize_status'
LANGUAGE C STRICT VOLATILE;

-- the running or pending resize first, then the last 8, newest first
CREATE VIEW bufpool.resize_status AS SELECT * FROM bufpool.resize_status_srf();

REVOKE ALL ON FUNCTION bufpool.resize(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.resize_status_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.resize_status FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.resize_status_srf() TO pg_monitor;
GRANT SELECT ON bufpool.resize_status TO pg_monitor;

-- keeps a page pinned until the end of the transaction (superuser)
CREATE FUNCTION bufpool.pin_page(space_id int, page_no bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_pin_page'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.pin_page(int, bigint) FROM PUBLIC;

-- ---------------------------------------------------------------- from 1.2

-- memory accounting ------------------------------------------------------------

CREATE FUNCTION bufpool.memory_summary_srf(by_thread boolean,
    OUT thread_id int, OUT backend_type text, OUT event_name text,
    OUT count_alloc bigint, OUT count_free bigint,
    OUT sum_number_of_bytes_alloc bigint, OUT sum_number_of_bytes_free bigint,
    OUT low_count_used bigint, OUT current_count_used bigint,
    OUT high_count_used bigint, OUT low_number_of_bytes_used bigint,
    OUT current_number_of_bytes_used bigint, OUT high_number_of_bytes_used bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_memory_summary'
LANGUAGE C STRICT VOLATILE;

-- performance_schema's eleven columns
CREATE VIEW bufpool.memory_summary_global_by_event_name AS
    SELECT event_name, count_alloc, count_free,
           sum_number_of_bytes_alloc, sum_number_of_bytes_free,
           low_count_used, current_count_used, high_count_used,
           low_number_of_bytes_used, current_number_of_bytes_used,
           high_number_of_bytes_used
    FROM bufpool.memory_summary_srf(false);

-- thread_id is the process id; 0 is the postmaster and exited processes
CREATE VIEW bufpool.memory_summary_by_thread_by_event_name AS
    SELECT thread_id, backend_type, event_name, count_alloc, count_free,
           sum_number_of_bytes_alloc, sum_number_of_bytes_free,
           low_count_used, current_count_used, high_count_used,
           low_number_of_bytes_used, current_number_of_bytes_used,
           high_number_of_bytes_used
    FROM bufpool.memory_summary_srf(true);

-- sys schema style: human-readable, largest first
CREATE VIEW bufpool.memory_global_by_current_bytes AS
    SELECT event_name,
           current_count_used AS current_count,
           pg_size_pretty(current_number_of_bytes_used) AS current_alloc,
           pg_size_pretty(CASE WHEN current_count_used > 0
                               THEN current_number_of_bytes_used / current_count_used
                               ELSE 0 END) AS current_avg_alloc,
           high_count_used AS high_count,
           pg_size_pretty(high_number_of_bytes_used) AS high_alloc,
           pg_size_pretty(CASE WHEN high_count_used > 0
                               THEN high_number_of_bytes_used / high_count_used
                               ELSE 0 END) AS high_avg_alloc
    FROM bufpool.memory_summary_global_by_event_name
    WHERE current_number_of_bytes_used > 0
    ORDER BY current_number_of_bytes_used DESC, event_name;

CREATE VIEW bufpool.memory_global_total AS
    SELECT pg_size_pretty(coalesce(sum(current_number_of_bytes_used), 0)) AS total_allocated
    FROM bufpool.memory_summary_global_by_event_name;

CREATE FUNCTION bufpool.memory_summary_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_memory_summary_reset'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION bufpool.heaps_srf(
    OUT name text, OUT type text, OUT is_shared boolean, OUT owner_pid int,
    OUT blocks bigint, OUT bytes_reserved bigint, OUT bytes_used bigint,
    OUT bytes_free bigint, OUT fragmentation float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_heaps'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.heaps AS SELECT * FROM bufpool.heaps_srf();

REVOKE ALL ON FUNCTION bufpool.memory_summary_srf(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.memory_summary_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION bufpool.heaps_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.memory_summary_global_by_event_name, bufpool.memory_summary_by_thread_by_event_name,
    bufpool.memory_global_by_current_bytes, bufpool.memory_global_total, bufpool.heaps FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.memory_summary_srf(boolean) TO pg_monitor;
GRANT EXECUTE ON FUNCTION bufpool.heaps_srf() TO pg_monitor;
GRANT SELECT ON bufpool.memory_summary_global_by_event_name, bufpool.memory_summary_by_thread_by_event_name,
    bufpool.memory_global_by_current_bytes, bufpool.memory_global_total, bufpool.heaps TO pg_monitor;

-- every process's memory-context totals as of its last statement
CREATE FUNCTION bufpool.backend_memory_srf(
    OUT pid int, OUT backend_type text, OUT published_at timestamptz,
    OUT total_bytes bigint, OUT used_bytes bigint, OUT free_bytes bigint,
    OUT blocks bigint, OUT contexts int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_backend_memory'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.backend_memory AS SELECT * FROM bufpool.backend_memory_srf();

REVOKE ALL ON FUNCTION bufpool.backend_memory_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.backend_memory FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.backend_memory_srf() TO pg_monitor;
GRANT SELECT ON bufpool.backend_memory TO pg_monitor;

-- per process, one line per child of TopMemoryContext (its subtree summed)
-- and TopMemoryContext's own memory (depth 0), as of its last statement
CREATE FUNCTION bufpool.backend_memory_contexts_srf(
    OUT pid int, OUT backend_type text, OUT published_at timestamptz,
    OUT context text, OUT depth int, OUT total_bytes bigint, OUT used_bytes bigint,
    OUT free_bytes bigint, OUT contexts int, OUT truncated boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_backend_memory_contexts'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.backend_memory_contexts AS
    SELECT * FROM bufpool.backend_memory_contexts_srf();

REVOKE ALL ON FUNCTION bufpool.backend_memory_contexts_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.backend_memory_contexts FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.backend_memory_contexts_srf() TO pg_monitor;
GRANT SELECT ON bufpool.backend_memory_contexts TO pg_monitor;

-- buddy allocator -------------------------------------------------------------

CREATE FUNCTION bufpool.buddy_stats_srf(
    OUT page_size int, OUT buffer_pool_instance int,
    OUT pages_used bigint, OUT pages_free bigint,
    OUT relocation_ops bigint, OUT relocation_time bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_buddy_stats'
LANGUAGE C STRICT VOLATILE;

-- INFORMATION_SCHEMA.INNODB_CMPMEM: one row per instance and block size
-- (64 bytes .. page_size).  Blocks are never relocated (they come from
-- chunk 0, which a shrink never removes): relocation_ops and
-- relocation_time are always 0.
CREATE VIEW bufpool.buddy_stats AS SELECT * FROM bufpool.buddy_stats_srf();

REVOKE ALL ON FUNCTION bufpool.buddy_stats_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.buddy_stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.buddy_stats_srf() TO pg_monitor;
GRANT SELECT ON bufpool.buddy_stats TO pg_monitor;

-- ---------------------------------------------------------------- from 1.3

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

-- ---------------------------------------------------------------- from 1.5

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

-- Hot pages (src/pool/heat.c) --------------------------------------------------------
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

-- warm restart: dump the hottest pages of the pool, load them back after a
-- restart (src/pool/warm.c); superuser only, the status readable by pg_monitor
CREATE FUNCTION bufpool.dump()
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_dump'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.load(wait boolean DEFAULT true)
RETURNS bigint
AS 'MODULE_PATHNAME', 'bp_sql_load'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.load_abort()
RETURNS boolean
AS 'MODULE_PATHNAME', 'bp_sql_load_abort'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.dump_load_status_srf(
    OUT id bigint, OUT operation text, OUT state text,
    OUT started timestamptz, OUT finished timestamptz,
    OUT pages_total bigint, OUT pages_done bigint, OUT pages_skipped bigint,
    OUT skipped_space_dropped bigint, OUT skipped_beyond_space bigint,
    OUT skipped_in_pool bigint, OUT skipped_no_free_block bigint,
    OUT skipped_unreadable bigint, OUT bytes_per_s float8, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_dump_load_status'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.dump_load_status AS SELECT * FROM bufpool.dump_load_status_srf();

REVOKE ALL ON FUNCTION bufpool.dump(), bufpool.load(boolean), bufpool.load_abort(),
    bufpool.dump_load_status_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.dump_load_status FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.dump_load_status_srf() TO pg_monitor;
GRANT SELECT ON bufpool.dump_load_status TO pg_monitor;

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

-- ---------------------------------------------------------------- from 1.10

-- per instance and NUMA node: the chunk pages the kernel placed there,
-- measured with move_pages() (node NULL: the kernel could not say)
CREATE FUNCTION bufpool.numa_srf(
    OUT pool_id int, OUT node int, OUT pages bigint, OUT bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_numa'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.numa AS SELECT * FROM bufpool.numa_srf();

REVOKE ALL ON FUNCTION bufpool.numa_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.numa FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.numa_srf() TO pg_monitor;
GRANT SELECT ON bufpool.numa TO pg_monitor;

-- compression counters, as INNODB_CMP and INNODB_CMP_PER_INDEX (the
-- _reset views read and zero them: superuser only)
CREATE FUNCTION bufpool.cmp_srf(reset boolean,
    OUT page_size int, OUT compress_ops bigint, OUT compress_ops_ok bigint,
    OUT compress_time float8, OUT uncompress_ops bigint, OUT uncompress_time float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_cmp'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION bufpool.cmp_per_space_srf(reset boolean,
    OUT space_id int, OUT space_name text, OUT page_size int,
    OUT compress_ops bigint, OUT compress_ops_ok bigint, OUT compress_time float8,
    OUT uncompress_ops bigint, OUT uncompress_time float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_cmp_per_space'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.cmp AS SELECT * FROM bufpool.cmp_srf(false);
CREATE VIEW bufpool.cmp_reset AS SELECT * FROM bufpool.cmp_srf(true);
CREATE VIEW bufpool.cmp_per_space AS SELECT * FROM bufpool.cmp_per_space_srf(false);
CREATE VIEW bufpool.cmp_per_space_reset AS SELECT * FROM bufpool.cmp_per_space_srf(true);

REVOKE ALL ON FUNCTION bufpool.cmp_srf(boolean), bufpool.cmp_per_space_srf(boolean) FROM PUBLIC;
REVOKE ALL ON bufpool.cmp, bufpool.cmp_reset, bufpool.cmp_per_space, bufpool.cmp_per_space_reset FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.cmp_srf(boolean), bufpool.cmp_per_space_srf(boolean) TO pg_monitor;
GRANT SELECT ON bufpool.cmp, bufpool.cmp_per_space TO pg_monitor;

-- memory holding compressed pages, as INNODB_CMPMEM (the _reset view
-- zeroes the relocation counters: superuser only)
CREATE FUNCTION bufpool.cmpmem_srf(reset boolean,
    OUT page_size int, OUT buffer_pool_instance int, OUT pages_used bigint,
    OUT pages_free bigint, OUT relocation_ops bigint, OUT relocation_time bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_cmpmem'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.cmpmem AS SELECT * FROM bufpool.cmpmem_srf(false);
CREATE VIEW bufpool.cmpmem_reset AS SELECT * FROM bufpool.cmpmem_srf(true);

REVOKE ALL ON FUNCTION bufpool.cmpmem_srf(boolean) FROM PUBLIC;
REVOKE ALL ON bufpool.cmpmem, bufpool.cmpmem_reset FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.cmpmem_srf(boolean) TO pg_monitor;
GRANT SELECT ON bufpool.cmpmem TO pg_monitor;

-- ---------------------------------------------------------------- from 1.13

-- the size-class pools in shared memory (src/mmgr/sizeclass.c): per set
-- and class, slabs, objects and the bytes lost inside objects and slabs
CREATE FUNCTION bufpool.size_classes_srf(
    OUT set_name text, OUT class_size int, OUT objects_per_slab int,
    OUT slabs bigint, OUT slab_bytes bigint, OUT objects_used bigint,
    OUT objects_free bigint, OUT objects_cached bigint, OUT bytes_requested bigint,
    OUT bytes_wasted_in_objects bigint, OUT bytes_wasted_in_slabs bigint,
    OUT alloc_count bigint, OUT free_count bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_size_classes'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.size_classes AS SELECT * FROM bufpool.size_classes_srf();

REVOKE ALL ON FUNCTION bufpool.size_classes_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.size_classes FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.size_classes_srf() TO pg_monitor;
GRANT SELECT ON bufpool.size_classes TO pg_monitor;
