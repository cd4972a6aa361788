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
