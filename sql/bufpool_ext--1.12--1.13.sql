/* bufpool_ext 1.12 -> 1.13: size-class pools in shared memory; the view
   bufpool.size_classes. */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.13'" to load this file. \quit

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
