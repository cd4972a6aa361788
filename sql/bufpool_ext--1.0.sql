/* bufpool_ext 1.0: an InnoDB-style buffer pool in dynamic shared memory */

\echo Use "CREATE EXTENSION bufpool_ext" to load this file. \quit

CREATE SCHEMA bufpool;

-- Functions that take arguments are not STRICT: a NULL argument is an
-- error naming the argument, not a silent NULL result.

-- Tablespaces ---------------------------------------------------------------

CREATE FUNCTION bufpool.create_space(name text, size_pages bigint)
RETURNS int
AS 'MODULE_PATHNAME', 'bp_sql_create_space'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.drop_space(space_id int)
RETURNS void
AS 'MODULE_PATHNAME', 'bp_sql_drop_space'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.spaces_srf(
    OUT space_id int, OUT name text, OUT size_pages bigint, OUT page_size int,
    OUT size_bytes bigint, OUT file_path text, OUT state text, OUT pages_in_pool bigint)
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
    OUT free_page_clock bigint, OUT is_stale boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_pages'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.pages AS
    SELECT pool_id, block_id, space, page_number, page_type, flush_type,
           fix_count, is_hashed, newest_modification, oldest_modification,
           access_time, table_name, index_name, number_records, data_size,
           compressed_size, page_state, io_fix, is_old, free_page_clock, is_stale
    FROM bufpool.pages_srf(false);

CREATE VIEW bufpool.page_lru AS
    SELECT pool_id, lru_position, space, page_number, page_type, flush_type,
           fix_count, is_hashed, newest_modification, oldest_modification,
           access_time, table_name, index_name, number_records, data_size,
           compressed_size, page_state, io_fix, is_old, free_page_clock, is_stale
    FROM bufpool.pages_srf(true);

CREATE FUNCTION bufpool.lists_srf(
    OUT pool_id int, OUT list text, OUT length bigint, OUT bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_lists'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.lists AS SELECT * FROM bufpool.lists_srf();

CREATE FUNCTION bufpool.chunks_srf(
    OUT pool_id int, OUT chunk_no int, OUT size bigint, OUT n_blocks bigint,
    OUT numa_nodes text, OUT numa_policy text, OUT state text)
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

-- Benchmark loops (superuser only; used by make bench) --------------------------

CREATE FUNCTION bufpool.bench_fetch(space_id int, n_pages int, pattern text,
    n_ops bigint, seed int DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'bp_sql_bench_fetch'
LANGUAGE C VOLATILE;

CREATE FUNCTION bufpool.bench_pg_fetch(rel regclass, n_pages int, pattern text,
    n_ops bigint, seed int DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'bp_sql_bench_pg_fetch'
LANGUAGE C VOLATILE;

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
