/* bufpool_ext 1.11 -> 1.12: compressed pages kept in the pool's memory.
   bufpool.pages and page_lru gain frame_present (a compressed page may be
   held as its image alone, page_state ZIP_PAGE); bufpool.cmpmem and
   cmpmem_reset show that memory as INNODB_CMPMEM does; bufpool.lists has
   an unzip_lru row (no change of its columns). */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.12'" to load this file. \quit

DROP VIEW bufpool.pages;
DROP VIEW bufpool.page_lru;
DROP FUNCTION bufpool.pages_srf(boolean);

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

REVOKE ALL ON FUNCTION bufpool.pages_srf(boolean) FROM PUBLIC;
REVOKE ALL ON bufpool.pages, bufpool.page_lru FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.pages_srf(boolean) TO pg_monitor;
GRANT SELECT ON bufpool.pages, bufpool.page_lru TO pg_monitor;

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
