-- Space names cannot reach outside $PGDATA/bufpool_ext: files are named
-- by space id, and a bad name is an ERROR with an errcode and a message
-- that shows the name (clipped, control characters escaped).  File modes
-- are checked by TAP test 016_file_modes; privileges by bp_privileges.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bufpool_ext;
RESET client_min_messages;

CREATE FUNCTION pg_temp.try_create(name text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  id int;
  detail text;
BEGIN
  id := bufpool.create_space(name, 1);
  PERFORM bufpool.drop_space(id);
  RETURN 'created (and dropped)';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(E'\n       ' || nullif(detail, ''), '');
END $$;

SELECT label, pg_temp.try_create(name) AS outcome FROM (VALUES
  ('parent directory', '../x'),
  ('two levels up', '../../../../etc/passwd'),
  ('absolute path', '/etc/passwd'),
  ('slash', 'a/b'),
  ('dot-dot', '..'),
  ('dot', '.'),
  ('hidden', '.x'),
  ('option-like', '-x'),
  ('empty', ''),
  ('space', 'a b'),
  ('newline', E'a\nb'),
  ('escape', E'a\x1b[31mred'),
  ('backslash', E'a\\b'),
  ('quote', 'a"b'),
  ('percent', 'a%sb'),
  ('non-ASCII', 'sp' || chr(228) || 'ce'),
  ('64 bytes', repeat('z', 64)),
  ('1000 bytes', repeat('x', 1000)),
  ('64 bytes of 2-byte characters', repeat(chr(228), 32)),
  ('63 bytes', repeat('y', 63)),
  ('1 byte', 'q'),
  ('letters digits _ - .', 'Ab_0-9.z')) AS v(label, name);

-- NUL cannot be passed: text cannot hold it, so these fail before the
-- function is called
SELECT bufpool.create_space(chr(0), 1);
SELECT bufpool.create_space(convert_from('\x610062'::bytea, 'UTF8'), 1);
SELECT bufpool.create_space(E'a\000b', 1);

-- a NULL name, a NULL size
SELECT pg_temp.try_create(NULL);

-- the files in bufpool_ext named *.bps are exactly the registered spaces,
-- by id
SET client_min_messages = error;
SELECT bufpool.create_space('security_a', 2) IS NOT NULL AS created;
RESET client_min_messages;
SELECT f AS unexpected_file FROM pg_ls_dir('bufpool_ext') AS f
WHERE f LIKE '%.bps' AND f NOT IN (SELECT space_id || '.bps' FROM bufpool.spaces);
SELECT name AS space_without_file FROM bufpool.spaces
WHERE space_id || '.bps' NOT IN (SELECT f FROM pg_ls_dir('bufpool_ext') AS f);
SELECT file_path ~ '^bufpool_ext/[0-9]+\.bps$' AS path_by_id FROM bufpool.spaces
WHERE name = 'security_a';
SELECT bufpool.drop_space(space_id) FROM bufpool.spaces WHERE name = 'security_a';
