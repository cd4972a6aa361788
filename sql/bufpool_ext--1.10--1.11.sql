/* bufpool_ext 1.10 -> 1.11: compressed spaces.  create_space takes a
   compression (none, lz4, zstd) and a key_block_size; bufpool.spaces shows
   both. */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.11'" to load this file. \quit

DROP FUNCTION bufpool.create_space(text, bigint);
CREATE FUNCTION bufpool.create_space(name text, size_pages bigint,
    compression text DEFAULT 'none', key_block_size int DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'bp_sql_create_space'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.create_space(text, bigint, text, int) FROM PUBLIC;

DROP VIEW bufpool.spaces;
DROP FUNCTION bufpool.spaces_srf();
CREATE FUNCTION bufpool.spaces_srf(
    OUT space_id int, OUT name text, OUT size_pages bigint, OUT page_size int,
    OUT size_bytes bigint, OUT file_path text, OUT state text, OUT pages_in_pool bigint,
    OUT compression text, OUT key_block_size int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_spaces'
LANGUAGE C STRICT VOLATILE;
CREATE VIEW bufpool.spaces AS SELECT * FROM bufpool.spaces_srf();
REVOKE ALL ON FUNCTION bufpool.spaces_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.spaces FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.spaces_srf() TO pg_monitor;
GRANT SELECT ON bufpool.spaces TO pg_monitor;

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
