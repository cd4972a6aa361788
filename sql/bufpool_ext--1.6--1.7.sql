/* bufpool_ext 1.6 -> 1.7: warm restart (dump and load of the pool's hottest pages) */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.7'" to load this file. \quit

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
