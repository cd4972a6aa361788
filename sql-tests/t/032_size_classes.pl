# The size-class pools (src/mmgr/sizeclass.c) under concurrency.
#
# With a small buddy region (bufpool_ext.buddy_size = 256kB), so that most
# slabs are frames of chunk 0, pgbench clients run
# bufpool_test.sc_random with random seeds for a minute, in the shared
# set and in a named one: each call fills its objects with a tag of its
# own and checks every one when freeing it (two holders of a byte would
# be seen; a bad object fails the client by a division by zero), and
# frees everything it holds at the end.  Meanwhile other clients read
# and write pages of a space larger than the pool, so taking a frame for
# a slab often evicts a page.  Afterwards the allocator's own consistency
# check walks every slab, nothing is in use, the slabs went back to the
# buddy allocator, and the memory summary agrees.
#
# Then a session holding objects (and a cache of free ones) is ended by
# pg_terminate_backend: the allocator is still consistent, its cached
# objects went back to their slabs, and the objects it held are reported
# as in use by bufpool.size_classes and the memory summary (nobody can
# free them now: a leak, shown), and named by bufpool.memory_leaks; a
# session that ends normally leaving objects is not.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = 60;
my $n_pages = 6000;    # more than the 4096 blocks of the 32MB pool

my $node = PostgreSQL::Test::Cluster->new('size_classes');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.buddy_size = '256kB'
max_connections = 20
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_test');
$node->safe_psql('postgres', "SELECT bufpool_test.sc_set_create('tap')");
my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('sc_load', $n_pages)");

$node->pgbench(
	"--no-vacuum --client=5 --time=$seconds",
	0,
	[qr{processed: \d+}],
	[qr{^$}],
	"sc_random in 4 sessions for $seconds s, with page reads and writes",
	{
		'032_sc_shared@3' => q{
\set seed random(1, 2000000000)
SELECT 1 / (1 - least(bad, 1)) FROM bufpool_test.sc_random(3000, :seed, 1024);
},
		'032_sc_named@1' => q{
\set seed random(1, 2000000000)
SELECT 1 / (1 - least(bad, 1)) FROM bufpool_test.sc_random(3000, :seed, 1024, 'tap');
},
		'032_pages@1' => qq{
\\set p random(0, @{[$n_pages - 1]})
\\set q random(0, @{[$n_pages - 1]})
SELECT bufpool.write_page($sid, :p, 'sc'::bytea);
SELECT count(*) FROM bufpool.fetch_page($sid, :q);
},
	});

my $ops = $node->safe_psql('postgres',
	"SELECT sum(alloc_count) FROM bufpool.size_classes WHERE set_name IN ('shared', 'tap')");
cmp_ok($ops, '>', 100000, "the sessions allocated ($ops objects)");
cmp_ok($node->safe_psql('postgres', 'SELECT bufpool_test.sc_verify()'), '>=', 0,
	'the shared set is consistent (every slab walked)');
cmp_ok($node->safe_psql('postgres', "SELECT bufpool_test.sc_verify('tap')"), '>=', 0,
	'the named set is consistent');
is( $node->safe_psql('postgres', q{
		SELECT coalesce(sum(objects_used), 0) || '|' || coalesce(sum(bytes_requested), 0) || '|' ||
		       bool_and(objects_used + objects_free = slabs * objects_per_slab)
		FROM bufpool.size_classes WHERE set_name IN ('shared', 'tap')}),
	'0|0|true', 'nothing in use, and used + free = capacity for every class');
is( $node->safe_psql('postgres', q{
		SELECT current_count_used || '|' || current_number_of_bytes_used
		FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name = 'memory/bufpool/size_class'}),
	'0|0', 'the memory summary: no object in use');
# the sessions exited, their caches flushed: every slab went back (the
# memory-context lines of backend_memory.c are in a set of their own)
is( $node->safe_psql('postgres', q{
		SELECT coalesce(sum(slabs), 0) FROM bufpool.size_classes WHERE set_name IN ('shared', 'tap')}),
	'0', 'every slab went back to the buddy allocator');
is( $node->safe_psql('postgres', q{
		SELECT current_number_of_bytes_used FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name = 'memory/bufpool/size_class/slabs'}),
	'0', 'the memory summary: no slab held');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(0, @{[$n_pages - 1]}) p
		WHERE substr(bufpool.read_page($sid, p), 1, 2) NOT IN ('sc'::bytea, '\\x0000'::bytea)}),
	'0', 'every page holds what was written or zeros');

# a session holding 100 objects (and more in its cache) is terminated
my $bg = $node->background_psql('postgres');
$bg->query_safe(
	'CREATE TEMP TABLE held AS SELECT bufpool_test.sc_alloc(200) AS a FROM generate_series(1, 100)');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
is( $node->safe_psql('postgres', q{
		SELECT objects_used || '|' || (objects_cached > 0)
		FROM bufpool.size_classes WHERE set_name = 'shared' AND class_size = 208}),
	'100|true', 'the session holds 100 objects and caches some');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
  or die 'the session did not end';
eval { $bg->quit; };
cmp_ok($node->safe_psql('postgres', 'SELECT bufpool_test.sc_verify()'), '>', 0,
	'after the kill the allocator is consistent');
is( $node->safe_psql('postgres', q{
		SELECT objects_used || '|' || objects_cached
		FROM bufpool.size_classes WHERE set_name = 'shared' AND class_size = 208}),
	'100|0', 'its 100 objects are reported in use, its cache went back');
is( $node->safe_psql('postgres', q{
		SELECT current_count_used FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name = 'memory/bufpool/size_class'}),
	'100', 'the memory summary shows them too');

# the leak check names them: allocator size_class, the terminated pid, 100
# objects of 200 bytes requested.  A session that ends normally leaving
# objects (for others, as a key-value store's entries are) is not named.
my $quiet = $node->background_psql('postgres');
$quiet->query_safe(
	'CREATE TEMP TABLE kept AS SELECT bufpool_test.sc_alloc(48) AS a FROM generate_series(1, 10)');
my $quiet_pid = $quiet->query_safe('SELECT pg_backend_pid()');
$quiet->quit;
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM bufpool.memory_leaks
		WHERE kind = 'allocator' AND name = 'size_class' AND pid = $pid
		  AND backend_type = 'client backend' AND count = 100 AND bytes = 20000}),
	'the leak check names the objects the terminated session left');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM bufpool.memory_leaks WHERE pid = $quiet_pid}),
	'0', 'a session that ended normally leaving objects is not named');

my $log = slurp_file($node->logfile);
unlike($log, qr/overwritten while allocated|inconsistent|PANIC|TRAP/,
	'no overwritten object, inconsistency, PANIC or assertion in the server log');

$node->stop;

done_testing();
