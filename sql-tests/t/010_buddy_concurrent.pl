# The buddy allocator under concurrency.
#
# With a tiny region (bufpool_ext.buddy_size = 64kB: 4 pages per
# instance), pgbench clients run bufpool_test.buddy_test_random with random
# seeds at the same time, so the pools take frames of chunk 0 and give
# them back all the time, while other transactions read and write pages
# of a space larger than the pool, so that taking a frame often has to
# evict (or write) a page from the LRU tail.  Each buddy_test_random call
# fills its blocks with a tag of its own and checks them when freeing (two
# holders of a byte would be caught) and checks every pool's invariants
# every 1000 operations; a failure is a division by zero, which aborts
# the client and fails pgbench.
#
# Afterwards, alone, the pools must be back in their startup state (the
# region as free pages, no frame), no block may be a memory block or
# pinned, the lists must add up, the memory accounting must balance and
# the server log must hold no invariant warning.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $clients = 4;
my $transactions = 150;
my $n_pages = 6000;    # more than the 4096 blocks of the 32MB pool

my $node = PostgreSQL::Test::Cluster->new('buddy_concurrent');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.buddy_size = '64kB'
max_connections = 20
# the processes' memory-context lines live on buddy memory too; this test
# checks that the pools return to their startup state
bufpool_ext.backend_memory_contexts = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_test');

is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s:%s/%s', buffer_pool_instance, page_size, pages_free), ' '
						  ORDER BY buffer_pool_instance)
		FROM bufpool.buddy_stats WHERE pages_used + pages_free > 0}),
	'0:8192/4 1:8192/4',
	'each instance starts with 4 free 8 kB pages in its region');

my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('buddy_load', $n_pages)");

$node->pgbench(
	"--no-vacuum --client=$clients --transactions=$transactions",
	0,
	[qr{processed: @{[$clients * $transactions]}/@{[$clients * $transactions]}}],
	[qr{^$}],
	'concurrent buddy_test_random with page reads and writes',
	{
		'010_buddy_random@3' => q{
\set seed random(1, 2000000000)
SELECT 1 / ok::int FROM bufpool_test.buddy_test_random(5000, :seed, 8192);
},
		'010_buddy_pages@1' => qq{
\\set p random(0, @{[$n_pages - 1]})
\\set q random(0, @{[$n_pages - 1]})
SELECT bufpool.write_page($sid, :p, 'buddy'::bytea);
SELECT count(*) FROM bufpool.fetch_page($sid, :q);
},
	});

# alone now: every pool back in its startup state
is( $node->safe_psql('postgres',
		'SELECT ops, ok, idle_check FROM bufpool_test.buddy_test_random(0, 1)'),
	'0|t|t', 'every invariant holds and every pool is in its startup state');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s:%s/%s/%s', buffer_pool_instance, page_size, pages_used, pages_free),
						  ' ' ORDER BY buffer_pool_instance, page_size)
		FROM bufpool.buddy_stats WHERE pages_used + pages_free > 0}),
	'0:8192/0/4 1:8192/0/4',
	'buddy_stats is back to the startup state');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s=%s', pool_id, length), ' ' ORDER BY pool_id)
		FROM bufpool.lists WHERE list = 'memory'}),
	'0=0 1=0', 'no frame is held as memory');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE page_state = 'MEMORY') || '|' || count(*) FILTER (WHERE fix_count > 0)
		FROM bufpool.pages}),
	'0|0', 'no MEMORY block and no pinned block left');
is( $node->safe_psql('postgres', q{
		SELECT bool_and(ok) FROM (
			SELECT sum(l.length) FILTER (WHERE l.list IN ('free', 'lru', 'memory')) = st.pool_size AS ok
			FROM bufpool.stats st JOIN bufpool.lists l ON l.pool_id = st.pool_id
			GROUP BY st.pool_id, st.pool_size) s}),
	't', 'free + lru + memory blocks add up to the pool size');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s=%s/%s', name, blocks, bytes_used), ' ' ORDER BY name)
		FROM bufpool.heaps WHERE name LIKE 'buddy/%'}),
	'buddy/0=0/0 buddy/1=0/0', 'bufpool.heaps: no frame held, nothing used');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s=%s', event_name, current_number_of_bytes_used), ' ' ORDER BY event_name)
		FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name IN ('memory/bufpool/buddy', 'memory/bufpool/buddy_pool')}),
	'memory/bufpool/buddy=0 memory/bufpool/buddy_pool=65536',
	'accounting: nothing handed out, the two regions reserved');
ok( $node->safe_psql('postgres', q{
		SELECT sum(count_alloc) FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name = 'memory/bufpool/buddy_pool'}) > 10,
	'the pools took and returned frames during the run');

# the pages written meanwhile are intact (frames were taken by eviction)
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(0, @{[$n_pages - 1]}) p
		WHERE substr(bufpool.read_page($sid, p), 1, 5) NOT IN ('buddy'::bytea, '\\x0000000000'::bytea)}),
	'0', 'every page holds what was written or zeros');

my $log = slurp_file($node->logfile);
unlike($log, qr/invariant violated|overwritten while allocated|misaligned|PANIC|TRAP/,
	'no invariant warning, PANIC or assertion in the server log');

$node->stop;

done_testing();
