# bufpool_kv with sessions at once (pg_isolation_regress cannot see a
# session wait on a page lock, so this is TAP with background sessions):
#
#	- a put that splits a leaf is held in the middle of its commit, its
#	  pages locked (the test module parks it on an advisory lock at the
#	  fault point mtr-commit); a reader of a key of that leaf and another
#	  writer wait, and neither sees half a split; once the put goes on,
#	  the reader gets its value, the writer's put lands, the tree is
#	  consistent;
#	- writers of different leaves do not wait for each other: a put held
#	  in its commit with its leaf locked does not stop a put into another
#	  leaf, while a put into its own leaf waits;
#	- four clients put keys that split the same pages, at once, for a few
#	  seconds: every put is there and the tree is consistent.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('kv_conc');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE EXTENSION bufpool_kv;
	CREATE EXTENSION bufpool_test;
	SELECT kv_create('c');
	-- one leaf almost full: the next put of a 1.5 kB value splits it
	SELECT kv_put('c', 'k' || g, convert_to(repeat('x', 1700), 'UTF8')) FROM generate_series(1, 4) g;
});
is($node->safe_psql('postgres', "SELECT keys || ' keys, ' || leaves || ' leaf' FROM kv_stats('c')"),
	'4 keys, 1 leaf', 'four keys in one leaf');

# a background session: statements fed through stdin
sub session
{
	my ($in, $out) = @_;
	return IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1', '-f', '-' ],
		'<', $in, '>', $out, '2>', $out);
}

# s0 holds the advisory lock the held put will wait for
my ($in0, $out0) = ("SELECT pg_advisory_lock(4242);\nSELECT 'locked';\n", '');
my $s0 = session(\$in0, \$out0);
$s0->pump until $out0 =~ /locked/;

# s1: park at its own next group (its put splits the leaf), pages locked
my ($in1, $out1) = (q{
SELECT bufpool_test.fault_attach('mtr-commit', 'wait', '4242', pg_backend_pid());
SELECT 'attached';
SELECT kv_put('c', 'k5', convert_to(repeat('y', 1700), 'UTF8'));
SELECT 'put done';
}, '');
my $s1 = session(\$in1, \$out1);
$s1->pump until $out1 =~ /attached/;
# wait until s1 is parked on the advisory lock
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the put did not park';

# s2 reads a key of the leaf being split, s3 puts another key: both wait
my ($in2, $out2) = ("SELECT encode(kv_get('c', 'k2'), 'escape') = repeat('x', 1700) AS read_ok;\n", '');
my $s2 = session(\$in2, \$out2);
my ($in3, $out3) = ("SELECT kv_put('c', 'k0', '\\x00');\nSELECT 'k0 done';\n", '');
my $s3 = session(\$in3, \$out3);
usleep(1_000_000);
$s2->pump_nb;
$s3->pump_nb;
is($out2, '', 'a reader of the leaf being split waits for the split');
unlike($out3, qr/k0 done/, 'a second writer waits too');

# the put goes on
$in0 .= "SELECT pg_advisory_unlock(4242);\n\\q\n";
$s0->finish;
$s1->finish;
$s2->finish;
$s3->finish;
like($out1, qr/put done/, 'the split put ends');
like($out2, qr/^t$/m, 'the reader then gets the whole value');
like($out3, qr/k0 done/, 'and the second writer\'s put lands');
is($node->safe_psql('postgres', "SELECT keys || ' keys, ' || leaves || ' leaves' FROM kv_stats('c')"),
	'6 keys, 2 leaves', 'the tree is consistent: 6 keys, the leaf was split');
is($node->safe_psql('postgres', "SELECT string_agg(key, ',' ORDER BY key) FROM kv_scan('c')"),
	'k0,k1,k2,k3,k4,k5', 'in key order across the split');

# a put that fits its leaf, held in its commit (leaf locked, meta page
# shared): a put into the other leaf lands meanwhile, one into the same
# leaf waits (k0 and k5 are in different leaves: the split of the rightmost
# leaf at k5 kept k1 .. k4 on the left)
($in0, $out0) = ("SELECT pg_advisory_lock(4242);\nSELECT 'locked';\n", '');
$s0 = session(\$in0, \$out0);
$s0->pump until $out0 =~ /locked/;
($in1, $out1) = (q{
SELECT bufpool_test.fault_attach('mtr-commit', 'wait', '4242', pg_backend_pid());
SELECT 'attached';
SELECT kv_put('c', 'k0', '\x01');
SELECT 'put done';
}, '');
$s1 = session(\$in1, \$out1);
$s1->pump until $out1 =~ /attached/;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the put did not park';
($in3, $out3) = ("SELECT kv_put('c', 'k0a', '\\x02');\nSELECT 'same leaf done';\n", '');
$s3 = session(\$in3, \$out3);
my ($rc_other, $out_other, $err_other) = $node->psql('postgres',
	"SELECT kv_put('c', 'k5', convert_to(repeat('w', 1700), 'UTF8'))", timeout => 20);
is($rc_other, 0, 'a put into another leaf lands while a put is held in its commit')
  or diag($err_other);
$s3->pump_nb;
unlike($out3, qr/same leaf done/, 'a put into the held leaf waits');
$in0 .= "SELECT pg_advisory_unlock(4242);\n\\q\n";
$s0->finish;
$s1->finish;
$s3->finish;
like($out1, qr/put done/, 'the held put ends');
like($out3, qr/same leaf done/, 'and the waiting one lands after it');
is($node->safe_psql('postgres',
		"SELECT encode(kv_get('c', 'k0'), 'hex') || ',' || encode(kv_get('c', 'k0a'), 'hex') || ',' || length(kv_get('c', 'k5'))"),
	'01,02,1700', 'all three values are there');
is($node->safe_psql('postgres', "SELECT kv_check('c')"), '7', 'the tree is consistent: 7 keys');

# four clients, keys interleaved so they split the same pages
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/put.sql", q{
\set k random(1, 100000)
SELECT kv_put('c', 'p' || lpad(:k::text, 6, '0') || ':client_id', convert_to(repeat('z', 200 + :k % 800), 'UTF8'));
INSERT INTO puts VALUES ('p' || lpad(:k::text, 6, '0') || ':client_id', 200 + :k % 800) ON CONFLICT DO NOTHING;
});
$node->safe_psql('postgres', 'CREATE TABLE puts (k text PRIMARY KEY, len int)');
$node->command_ok(
	[ 'pgbench', '-n', '-c', '4', '-T', '5', '-f', "$dir/put.sql", $node->connstr('postgres') ],
	'four clients put at once for 5 s');
my $missing = $node->safe_psql('postgres',
	q{SELECT count(*) FROM puts p WHERE length(kv_get('c', p.k)) IS DISTINCT FROM p.len});
is($missing, '0', 'every put is there with its value');
my ($checked, $scanned, $count) = split /\|/, $node->safe_psql('postgres',
	q{SELECT kv_check('c'), (SELECT count(*) FROM kv_scan('c')), kv_count('c')});
is($checked, $scanned, "the tree is consistent after the concurrent puts ($checked keys)");
is($count, $scanned, 'and its count is right');

$node->stop;
done_testing();
