# The example consumer examples/bufpool_kv under kill -9: two pgbench
# clients put and delete keys, each change recorded in an ordinary table
# in the same transaction once it is acknowledged; the server is killed
# (all its processes, SIGKILL) at a random moment, 20 times.  After every
# restart:
#
#	- every acknowledged put is readable with its last acknowledged value,
#	  or with the value of a change begun after it (attempts are recorded,
#	  committed, before the change starts: a change cut by the kill may or
#	  may not have happened, never half);
#	- every acknowledged delete is gone, unless a later attempt put it back;
#	- the tree's own consistency check (kv_check) passes and its count is
#	  the number of keys the scan returns.
#
# Then a crash in the middle of a split: the fault point redo-group, with
# the test module's action cut (pages=4: a group changing at least 4 pages,
# which only a split writes: the meta page, the two halves, the parent and
# the counter page), writes half of the split's records and crashes;
# after the restart the tree is consistent and has every acknowledged key.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BufpoolFaults;

my $cycles = $ENV{BPX_KV_CYCLES} || 20;

my $node = PostgreSQL::Test::Cluster->new('kv_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
bufpool_ext.flush_log_at_commit = 1
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE EXTENSION bufpool_kv;
	CREATE EXTENSION bufpool_test;
	SELECT kv_create('t');
	CREATE TABLE attempts (id bigserial PRIMARY KEY, k text, v bytea, del boolean);
	CREATE TABLE acks (k text PRIMARY KEY, attempt bigint, v bytea, del boolean);
});

my $dir = PostgreSQL::Test::Utils::tempdir();
# attempt first (committed), then the change and its acknowledgement in one
# transaction, the key locked throughout (so the order of a key's
# acknowledgements is the order of its changes); 1 in 5 changes is a
# delete; values of 32 to 960 bytes
PostgreSQL::Test::Utils::append_to_file("$dir/change.sql", q{
\set k random(1, 3000)
\set op random(1, 5)
\set len random(1, 30)
SELECT pg_advisory_lock(:k);
INSERT INTO attempts (k, v, del)
	VALUES ('key' || :k, CASE WHEN :op = 1 THEN NULL ELSE convert_to(repeat(md5(random()::text), :len), 'UTF8') END, :op = 1)
	RETURNING id AS a, (v IS NULL)::int AS isdel \gset
BEGIN;
SELECT CASE WHEN :isdel = 1 THEN kv_delete('t', 'key' || :k)
            ELSE kv_put('t', 'key' || :k, (SELECT v FROM attempts WHERE id = :a)) END;
INSERT INTO acks SELECT k, id, v, del FROM attempts WHERE id = :a
	ON CONFLICT (k) DO UPDATE SET attempt = EXCLUDED.attempt, v = EXCLUDED.v, del = EXCLUDED.del;
COMMIT;
SELECT pg_advisory_unlock(:k);
});

sub wait_ready
{
	$node->poll_query_until('postgres', "SELECT state = 'ready' FROM bufpool.status()", 't')
	  or die 'the pool did not come back';
	return;
}

# every acknowledged key as it must be; returns the number of problems
sub verify
{
	my ($label) = @_;
	my $bad = $node->safe_psql('postgres', q{
		SELECT count(*) FROM acks a
		WHERE NOT (
			-- the acknowledged state
			(a.del AND kv_get('t', a.k) IS NULL) OR (NOT a.del AND kv_get('t', a.k) = a.v)
			-- or a change begun after it
			OR EXISTS (SELECT FROM attempts t WHERE t.k = a.k AND t.id > a.attempt
			           AND ((t.del AND kv_get('t', a.k) IS NULL) OR (NOT t.del AND kv_get('t', a.k) = t.v))))});
	my ($checked, $scanned) = split /\|/, $node->safe_psql('postgres',
		q{SELECT kv_check('t'), (SELECT count(*) FROM kv_scan('t'))});
	is($checked, $scanned, "$label: the tree is consistent ($checked keys, as many as the scan returns)");
	is($bad, '0', "$label: every acknowledged change is there");
	return;
}

my $acked_total = 0;
for my $cycle (1 .. $cycles)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-T', '30', '-f', "$dir/change.sql", $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
	usleep(int(500_000 + rand(1_500_000)));
	BufpoolFaults::kill_server($node);
	$h->finish;
	$node->start;
	wait_ready();
	verify("cycle $cycle");
}
my $acks = $node->safe_psql('postgres', 'SELECT count(*) FROM acks');
cmp_ok($acks, '>', 100, "$acks keys acknowledged over $cycles kill -9 cycles");

# a crash in the middle of a split
$node->safe_psql('postgres', "SELECT bufpool_test.fault_attach('redo-group', 'cut', 'pages=4')");
my ($ret, $out, $err) = $node->psql('postgres', q{
	SELECT count(kv_put('t', 'split' || g, convert_to(repeat('s', 1500), 'UTF8')))
	FROM generate_series(1, 2000) g});
isnt($ret, 0, 'a split was cut in the middle of its commit (the server crashed)');
wait_ready();
ok($node->log_contains(qr/fault point redo-group: a group of \d+ redo records on [4-9]\d* pages cut after \d+/),
	'the cut group was a split (at least 4 pages)');
verify('after the cut split');

$node->stop;
done_testing();
