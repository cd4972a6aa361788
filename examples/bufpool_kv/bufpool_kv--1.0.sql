/* bufpool_kv 1.0 */

\echo Use "CREATE EXTENSION bufpool_kv" to load this file. \quit

-- a store is the bufpool space kv_<name>; returns its space id
CREATE FUNCTION kv_create(store text) RETURNS int
AS 'MODULE_PATHNAME', 'kv_create' LANGUAGE C STRICT VOLATILE;

-- true if the key was there (its value replaced)
CREATE FUNCTION kv_put(store text, key text, value bytea) RETURNS boolean
AS 'MODULE_PATHNAME', 'kv_put' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION kv_get(store text, key text) RETURNS bytea
AS 'MODULE_PATHNAME', 'kv_get' LANGUAGE C STRICT VOLATILE;

-- true if the key was there
CREATE FUNCTION kv_delete(store text, key text) RETURNS boolean
AS 'MODULE_PATHNAME', 'kv_delete' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION kv_count(store text) RETURNS bigint
AS 'MODULE_PATHNAME', 'kv_count' LANGUAGE C STRICT VOLATILE;

-- every key and value, in key order (bytes)
CREATE FUNCTION kv_scan(store text, OUT key text, OUT value bytea) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'kv_scan' LANGUAGE C STRICT VOLATILE;

-- the tree's consistency check: the number of keys, or an ERROR
CREATE FUNCTION kv_check(store text) RETURNS bigint
AS 'MODULE_PATHNAME', 'kv_check' LANGUAGE C STRICT VOLATILE;

-- the tree's shape, after the same walk and checks as kv_check
CREATE FUNCTION kv_stats(store text, OUT height int, OUT leaves bigint, OUT inner_nodes bigint,
    OUT overflow_pages bigint, OUT free_pages bigint, OUT leaked_pages bigint, OUT keys bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'kv_stats' LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION kv_create(text), kv_put(text, text, bytea), kv_get(text, text),
    kv_delete(text, text), kv_count(text), kv_scan(text), kv_check(text), kv_stats(text) FROM PUBLIC;
