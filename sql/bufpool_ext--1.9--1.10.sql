/* bufpool_ext 1.9 -> 1.10: memory placement.  bufpool.chunks gains
   page_size_kb (the page size the kernel maps the chunk with: huge pages
   or not), and bufpool.numa shows where the chunk pages are. */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.10'" to load this file. \quit

DROP VIEW bufpool.chunks;
DROP FUNCTION bufpool.chunks_srf();

CREATE FUNCTION bufpool.chunks_srf(
    OUT pool_id int, OUT chunk_no int, OUT size bigint, OUT n_blocks bigint,
    OUT numa_nodes text, OUT numa_policy text, OUT state text, OUT page_size_kb int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'bp_sql_chunks'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW bufpool.chunks AS SELECT * FROM bufpool.chunks_srf();

REVOKE ALL ON FUNCTION bufpool.chunks_srf() FROM PUBLIC;
REVOKE ALL ON bufpool.chunks FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bufpool.chunks_srf() TO pg_monitor;
GRANT SELECT ON bufpool.chunks TO pg_monitor;

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
