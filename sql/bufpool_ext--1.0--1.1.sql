/* bufpool_ext 1.0 -> 1.1: online resize */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.1'" to load this file. \quit

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


-- benchmark loop: fetch+release for duration_ms, every op timed (superuser)
CREATE FUNCTION bufpool.bench_fetch_latency(space_id int, n_pages int, pattern text,
    duration_ms int, seed int DEFAULT 1,
    OUT ops bigint, OUT mean_ns float8, OUT p50_ns float8, OUT p99_ns float8,
    OUT p999_ns float8, OUT max_ns float8)
RETURNS record
AS 'MODULE_PATHNAME', 'bp_sql_bench_fetch_latency'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION bufpool.bench_fetch_latency(int, int, text, int, int) FROM PUBLIC;
