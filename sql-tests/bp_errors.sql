-- Bad input: every function rejects it with a clear error.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS bufpool_test;
SELECT bufpool.create_space('errs', 16) AS space_id \gset
RESET client_min_messages;

-- NULLs
SELECT bufpool.create_space(NULL, 10);
SELECT bufpool.create_space('x', NULL);
SELECT bufpool.drop_space(NULL);
SELECT * FROM bufpool.fetch_page(NULL, 0);
SELECT * FROM bufpool.fetch_page(:space_id, NULL);
SELECT bufpool.read_page(NULL, 0);
SELECT bufpool.read_page(:space_id, NULL);
SELECT bufpool.write_page(NULL, 0, 'x'::bytea);
SELECT bufpool.write_page(:space_id, NULL, 'x'::bytea);
SELECT bufpool.write_page(:space_id, 0, NULL);
SELECT bufpool.write_page(:space_id, 0, 'x'::bytea, NULL);
SELECT bufpool.evict(NULL, 0);
SELECT bufpool.evict(:space_id, NULL);
SELECT bufpool_test.bench_fetch(NULL, 10, 'uniform', 10);
SELECT bufpool_test.bench_fetch(:space_id, 10, NULL, 10);
SELECT bufpool_test.bench_pg_fetch(NULL, 10, 'uniform', 10);
SELECT bufpool_test.bench_fetch(:space_id, 10, 'gaussian', 10);
SELECT bufpool_test.bench_fetch(:space_id, 17, 'uniform', 10);
-- the replay functions: NULLs, then each trace argument out of range
SELECT * FROM bufpool_test.bench_replay(NULL, 10, 0, 0, 0, 10, 0);
SELECT * FROM bufpool_test.bench_pg_replay('pg_class', 10, 0, 0, 0, 10, NULL);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 0, 0, 0, 10, 0, NULL);
SELECT * FROM bufpool_test.bench_lru_replay(0, 10, 0, 0, 0, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 0, 0, 0, 0, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, -1, 0, 0, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 4, 0, 8, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 0, -1, 0, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 4, 10, 3, 10, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 0, 0, 0, 0, 0);
SELECT * FROM bufpool_test.bench_lru_replay(10, 10, 0, 0, 0, 10, -1);
-- the trace must fit in the space or relation: 10 + 8 pages > 16
SELECT * FROM bufpool_test.bench_replay(:space_id, 10, 4, 10, 8, 10, 0);
CREATE TABLE errs_one_block (x int);
INSERT INTO errs_one_block VALUES (1);
SELECT * FROM bufpool_test.bench_pg_replay('errs_one_block', 10000, 0, 0, 0, 10, 0);
DROP TABLE errs_one_block;
CREATE TEMP TABLE errs_temp (x int);
INSERT INTO errs_temp VALUES (1);
SELECT * FROM bufpool_test.bench_pg_replay('errs_temp', 1, 0, 0, 0, 10, 0);
DROP TABLE errs_temp;

-- unknown spaces
SELECT * FROM bufpool.fetch_page(999, 0);
SELECT * FROM bufpool.fetch_page(0, 0);
SELECT * FROM bufpool.fetch_page(-1, 0);
SELECT bufpool.read_page(999, 0);
SELECT bufpool.write_page(999, 0, 'x'::bytea);
SELECT bufpool.flush(999);
SELECT bufpool.evict(999, 0);
SELECT bufpool.drop_space(999);
SELECT bufpool.drop_space(0);

-- page numbers outside the space
SELECT * FROM bufpool.fetch_page(:space_id, 16);
SELECT * FROM bufpool.fetch_page(:space_id, -1);
SELECT bufpool.read_page(:space_id, 9223372036854775807);
SELECT bufpool.write_page(:space_id, 4294967296, 'x'::bytea);
SELECT bufpool.evict(:space_id, 16);

-- offsets and lengths
SELECT bufpool.write_page(:space_id, 0, 'x'::bytea, -1);
SELECT bufpool.write_page(:space_id, 0, 'x'::bytea, 8169);
SELECT bufpool.write_page(:space_id, 0, 'xy'::bytea, 8167);
SELECT bufpool.write_page(:space_id, 0, decode(repeat('00', 8169), 'hex'));
-- the last byte and an empty write are fine
SELECT bufpool.write_page(:space_id, 0, 'z'::bytea, 8167) > 0 AS ok;
SELECT bufpool.write_page(:space_id, 0, ''::bytea, 8168) > 0 AS ok;
SELECT substr(bufpool.read_page(:space_id, 0), 8168, 1) AS last_byte;

-- names and sizes of spaces
SELECT bufpool.create_space('errs', 16);
SELECT bufpool.create_space('', 16);
SELECT bufpool.create_space('../etc/passwd', 16);
SELECT bufpool.create_space('/etc/passwd', 16);
SELECT bufpool.create_space('.hidden', 16);
SELECT bufpool.create_space(repeat('n', 64), 16);
SELECT bufpool.create_space('zero', 0);
SELECT bufpool.create_space('negative', -5);
SELECT bufpool.create_space('huge', 2147483648);
SELECT count(*) AS spaces FROM bufpool.spaces;

-- the SQLSTATE of each kind of error
CREATE FUNCTION sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT q, sqlstate_of(q) FROM (VALUES
  ('SELECT bufpool.read_page(NULL, 0)'),
  ('SELECT bufpool.read_page(999, 0)'),
  ('SELECT bufpool.read_page(' || :space_id || ', 16)'),
  ('SELECT bufpool.write_page(' || :space_id || ', 0, ''xy''::bytea, 8167)'),
  ('SELECT bufpool.create_space(''errs'', 1)'),
  ('SELECT bufpool.create_space(''../x'', 1)'),
  ('SELECT bufpool.create_space(''ok'', 0)'),
  ('SELECT bufpool.drop_space(999)')) v(q);
DROP FUNCTION sqlstate_of(text);

-- nothing above left a pin behind
SELECT count(*) AS pinned FROM bufpool.pages WHERE fix_count > 0;
SELECT bufpool.drop_space(:space_id);
