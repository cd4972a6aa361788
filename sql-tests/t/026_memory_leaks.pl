# Suspected memory leaks (src/workers/leaks.c, view bufpool.memory_leaks):
#
#	- a clean run (sessions reading and writing pages, allocators used and
#	  freed) reports none;
#	- a session that grows a memory context with every statement is
#	  reported with its pid, backend type and the context's name, and the
#	  report goes when the session does;
#	- a session that keeps allocating shared memory without freeing it is
#	  reported by its instrument while it grows, and once it exits, its
#	  shared allocator is reported with the exited owner's pid.
#
# The checks run every 200 ms here, 4 in a row (the defaults are 10 s and
# 6, which a test cannot wait for).

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('leaks');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.leak_check_interval = '200ms'
bufpool_ext.leak_samples = 4
bufpool_ext.backend_memory_interval = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext; CREATE EXTENSION bufpool_test');
$node->safe_psql('postgres', "SELECT bufpool.create_space('leaks', 2000)");

my $leaks_q = q{SELECT kind || '|' || name || '|' || coalesce(pid::text, '') || '|' ||
	coalesce(backend_type, '') || '|' || (bytes > 0) || '|' || (last_growth IS NOT NULL)
	FROM bufpool.memory_leaks ORDER BY kind, name};

# poll until the view has a row matching re (or, with $absent, none), 30 s
sub wait_leak
{
	my ($re, $absent) = @_;
	my $rows = '';
	for (my $i = 0; $i < 300; $i++)
	{
		$rows = $node->safe_psql('postgres', $leaks_q);
		return $rows if ($absent ? $rows !~ $re : $rows =~ $re);
		usleep(100_000);
	}
	return $rows;
}

# a session in the background, fed statements through stdin
sub start_session
{
	my ($in, $out) = @_;
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1', '-f', '-' ],
		'<', $in, '>', $out, '2>', $out);
	return $h;
}

# 1. a clean run: two clients read and write pages, heaps and arenas are
# used and freed, for about 25 checks
my $script = PostgreSQL::Test::Utils::tempdir() . '/clean.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set p random(0, 1999)
SELECT length(bufpool.read_page(1, :p));
SELECT bufpool.write_page(1, :p, convert_to(repeat('x', 100), 'UTF8'));
SELECT count(*) FROM bufpool.memory_summary_global_by_event_name;
SELECT invariants_ok FROM bufpool_test.heap_test_random('dynamic', 200, :p);
});
$node->command_ok(
	[ 'pgbench', '-n', '-c', '2', '-T', '5', '-f', $script, $node->connstr('postgres') ],
	'a clean workload runs');
usleep(1_000_000);
my $rows = $node->safe_psql('postgres', $leaks_q);
is($rows, '', 'a clean run reports no leak (the checks run: the cases below find theirs)');

# 2. a session that grows a context with every statement
my ($in, $out) = ("SELECT pg_backend_pid();\n", '');
my $h = start_session(\$in, \$out);
$h->pump until $out =~ /^(\d+)$/m;
my ($ctx_pid) = $out =~ /^(\d+)$/m;
for my $i (1 .. 40)
{
	$in .= "SELECT bufpool_test.leak_context(128);\n";
	$h->pump while length $in;
	usleep(100_000);
	last if $i > 12 && $node->safe_psql('postgres', $leaks_q) =~ /^context\|/m;
}
$rows = wait_leak(qr/^context\|bufpool_test leak\|$ctx_pid\|client backend\|true\|true$/m);
like($rows, qr/^context\|bufpool_test leak\|$ctx_pid\|client backend\|true\|true$/m,
	'a context growing with every statement is reported with its pid, type and name');
# each row is an object of the size-class set memory_leaks, sized to its
# strings, and counted under the set's instrument
ok( $node->poll_query_until('postgres', q{
		WITH r AS MATERIALIZED (SELECT count(*) AS n FROM bufpool.memory_leaks)
		SELECT (SELECT n FROM r) > 0
		   AND (SELECT n FROM r) = (SELECT sum(objects_used) FROM bufpool.size_classes
		                            WHERE set_name = 'memory_leaks')
		   AND (SELECT n FROM r) = (SELECT current_count_used FROM bufpool.memory_summary_global_by_event_name
		                            WHERE event_name = 'memory/bufpool/size_class_set/memory_leaks')}),
	'each reported leak is one object of the size-class set memory_leaks');
is( $node->safe_psql('postgres', q{
		SELECT bool_and(class_size < 360) FROM bufpool.size_classes
		WHERE set_name = 'memory_leaks' AND objects_used > 0}),
	't', 'a leak row takes less than the fixed 360-byte row it replaces');
note('memory_leaks set while reporting: ' . $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s rows of class %s, %s slab bytes, %s bytes requested',
		                         objects_used, class_size, slab_bytes, bytes_requested), '; ')
		FROM bufpool.size_classes WHERE set_name = 'memory_leaks' AND slabs > 0}));
$in .= "\\q\n";
$h->finish;
$rows = wait_leak(qr/^context\|/m, 1);
unlike($rows, qr/^context\|/m, 'the report goes with the session');
ok( $node->poll_query_until('postgres', q{
		SELECT (SELECT count(*) FROM bufpool.memory_leaks) = 0
		   AND (SELECT coalesce(sum(objects_used), 0) FROM bufpool.size_classes WHERE set_name = 'memory_leaks') = 0
		   AND (SELECT coalesce(sum(slabs), 0) FROM bufpool.size_classes WHERE set_name = 'memory_leaks')
		       <= current_setting('bufpool_ext.size_class_prealloc')::int * current_setting('bufpool_ext.instances')::int * 49}),
	'with no leak reported, the set holds no object and its empty slabs went back');

# 3. shared memory allocated and never freed: the instrument while it
# grows, then the allocator of the exited owner
($in, $out) = ("SELECT pg_backend_pid();\n", '');
$h = start_session(\$in, \$out);
$h->pump until $out =~ /^(\d+)$/m;
my ($shm_pid) = $out =~ /^(\d+)$/m;
$in .= "SELECT count(*) FROM (SELECT bufpool_test.leak_shared(32), pg_sleep(0.05) FROM generate_series(1, 100)) s;\n";
$h->pump_nb;
$rows = wait_leak(qr{^instrument\|memory/bufpool/arena/leak_test\|\|\|true\|true$}m);
like($rows, qr{^instrument\|memory/bufpool/arena/leak_test\|\|\|true\|true$}m,
	'an instrument growing with no frees is reported while it grows');
$in .= "\\q\n";
$h->finish;
like($out, qr/^100$/m, 'the leaking statement ran to its end');
$rows = wait_leak(qr/^allocator\|leak_test\|$shm_pid\|/m);
like($rows, qr/^allocator\|leak_test\|$shm_pid\|client backend\|true\|false$/m,
	'a shared allocator whose owner exited is reported with the owner\'s pid');
my $reason = $node->safe_psql('postgres',
	"SELECT reason FROM bufpool.memory_leaks WHERE kind = 'allocator' AND name = 'leak_test'");
like($reason, qr/^owner exited; arena \d+ bytes in use of \d+ held, nothing freed since$/,
	'the reason says what is held');
$rows = wait_leak(qr/^instrument\|/m, 1);
unlike($rows, qr/^instrument\|/m, 'the instrument is no longer reported once it stops growing');

# checks off: no findings
$node->append_conf('postgresql.conf', "bufpool_ext.leak_check_interval = 0\n");
$node->reload;
$rows = wait_leak(qr/./, 1);
is($rows, '', 'with the checks off the view is empty');

# privileges: pg_monitor may read the view, others may not
$node->safe_psql('postgres', 'CREATE ROLE mon LOGIN IN ROLE pg_monitor; CREATE ROLE nobody LOGIN');
is($node->safe_psql('postgres', 'SELECT count(*) >= 0 FROM bufpool.memory_leaks', extra_params => [ '-U', 'mon' ]),
	't', 'pg_monitor reads bufpool.memory_leaks');
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT * FROM bufpool.memory_leaks',
	extra_params => [ '-U', 'nobody' ]);
like($stderr, qr/permission denied/, 'a role without pg_monitor may not');

$node->stop;
done_testing();
