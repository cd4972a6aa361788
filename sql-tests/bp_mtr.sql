-- Mini-transactions and before-images through the public C API
-- (src/pool/mtr.c, buf.c), driven by the test module's bufpool_test.mtr:
-- page k of a mini-transaction gets ten bytes of fill at payload offset
-- 10 * k.  A crash in the middle of a commit is TAP 027_mtr_crash's.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
RESET client_min_messages;
SELECT bufpool.create_space('mtr', 64) AS sid \gset
-- the ten bytes of page p that a mini-transaction's page k changes
CREATE FUNCTION pg_temp.bytes(sid int, p int, k int) RETURNS text LANGUAGE sql AS $$
    SELECT encode(substring(bufpool.read_page(sid, p) FROM 10 * k + 1 FOR 10), 'hex')
$$;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- commit: three pages change together, one group in the log
SELECT records AS records_before FROM bufpool.redo_status \gset
SELECT bufpool_test.mtr(:sid, 0, 3, 'commit', 1) > 0 AS committed;
SELECT p, pg_temp.bytes(:sid, p, p) FROM generate_series(0, 2) p;
SELECT records - :records_before AS records_written FROM bufpool.redo_status;
-- every page of the group takes the group's LSN
SELECT count(DISTINCT newest_modification) AS distinct_lsns, count(*) AS pages
FROM bufpool.pages WHERE space = :sid AND page_number < 3;

-- abort and an ERROR before the commit: every page back as it was
SELECT bufpool_test.mtr(:sid, 0, 3, 'abort', 2) AS aborted;
SELECT p, pg_temp.bytes(:sid, p, p) FROM generate_series(0, 2) p;
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 0, 3, 'error', 3)$$) AS error_inside;
SELECT p, pg_temp.bytes(:sid, p, p) FROM generate_series(0, 2) p;
-- nothing stays locked or pinned: the pages can be changed again
SELECT bufpool_test.mtr(:sid, 1, 2, 'commit', 4) > 0 AS committed_again;
SELECT p, pg_temp.bytes(:sid, p, p - 1) FROM generate_series(1, 2) p;

-- a conditional lock on a page the mini-transaction holds is refused
SELECT bufpool_test.mtr(:sid, 10, 1, 'conditional', 5) AS conditional_taken;
SELECT pg_temp.bytes(:sid, 10, 0);

-- an unlogged change made under a plain lock is thrown away at unlock
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 20, 1, 'unlogged', 6)$$) AS unlogged;
SELECT pg_temp.bytes(:sid, 20, 0);

-- a pin left at the end of a statement goes with its resource owner
SELECT bufpool_test.mtr(:sid, 50, 1, 'leak', 0);
SELECT fix_count FROM bufpool.pages WHERE space = :sid AND page_number = 50;

-- misuse
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 30, 2, 'duplicate', 7)$$) AS duplicate;
SELECT pg_temp.bytes(:sid, 30, 0) AS duplicate_left;
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 40, 17, 'commit', 8)$$) AS too_many;
SELECT pg_temp.bytes(:sid, 40, 0) AS too_many_left;
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 0, 0, 'not_started', 0)$$) AS not_started;
SELECT pg_temp.try($$SELECT bufpool_test.mtr($$ || :sid || $$, 63, 2, 'commit', 9)$$) AS past_the_end;
SELECT pg_temp.bytes(:sid, 63, 0) AS past_the_end_left;

SELECT bufpool.drop_space(:sid);

-- the space calls of the API: create, find, extend; the new last page
-- written from scratch in a mini-transaction (no read, logged whole)
SELECT r[2] AS found, r[3] AS size_after, r[4] AS lsn
FROM (SELECT string_to_array(bufpool_test.space_api('mtr_api', 4, 3, 7), '|') r) s;
SELECT space_id AS api_sid FROM bufpool.spaces WHERE name = 'mtr_api' \gset
SELECT size_pages FROM bufpool.spaces WHERE space_id = :api_sid;
SELECT encode(substring(bufpool.read_page(:api_sid, 6) FROM 1 FOR 12), 'hex') AS new_page;
SELECT pg_temp.try($$SELECT bufpool.read_page($$ || :api_sid || $$, 7)$$) AS past_the_new_end;
SELECT pg_temp.try($$SELECT bufpool_test.space_api('mtr_api', 4, 3, 7)$$) AS duplicate_name;
SELECT pg_temp.try($$SELECT bufpool_test.space_api('mtr_api2', 4, 0, 7)$$) AS extend_by_zero;
-- a space is not transactional: the create before the failed extend stays
SELECT count(*) AS api2_left FROM bufpool.spaces WHERE name = 'mtr_api2';
SELECT bufpool.drop_space(space_id) FROM bufpool.spaces WHERE name = 'mtr_api2';
SELECT bufpool.drop_space(:api_sid);
