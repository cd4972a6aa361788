# The page cleaners: idle flushing at io_capacity, flushing at
# io_capacity_max above max_dirty_pages_pct, and LRU-tail work that keeps
# the free lists stocked.  Nobody calls bufpool.flush() here.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('cleaner');
$node->init;
# the cleaners run, slowly by default
$node->append_conf('postgresql.conf', qq{
bufpool_ext.io_capacity = 100
bufpool_ext.io_capacity_max = 100000
bufpool_ext.max_dirty_pages_pct = 90
bufpool_ext.max_dirty_pages_pct_lwm = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $sp = $node->safe_psql('postgres', "SELECT bufpool.create_space('pc', 20000)");

sub dirty
{
	return $node->safe_psql('postgres', 'SELECT sum(modified_database_pages) FROM bufpool.stats');
}

sub written
{
	return $node->safe_psql('postgres', 'SELECT sum(number_pages_written) FROM bufpool.stats');
}

# 1. idle flushing: 300 dirty pages, nothing else happens; at 100 pages/s
# the cleaner needs about 3 s, and it must not have written all at once
$node->safe_psql('postgres',
	"SELECT count(bufpool.write_page($sp, p, 'idle'::bytea)) FROM generate_series(0, 299) p");
my $t0 = time();
is(dirty(), '300', '300 dirty pages');
sleep(1.2);
my $after_one = dirty();
cmp_ok($after_one, '>', 0, "idle flushing is paced: $after_one pages still dirty after 1.2 s");
ok($node->poll_query_until('postgres',
		'SELECT sum(modified_database_pages) = 0 FROM bufpool.stats'),
	'the idle page cleaner wrote every dirty page');
my $idle_secs = time() - $t0;
cmp_ok($idle_secs, '>=', 1.5, sprintf('idle flushing of 300 pages at io_capacity 100 took %.1f s', $idle_secs));
cmp_ok(written(), '>=', 300, 'the cleaner counted its writes');

# 2. above max_dirty_pages_pct the cleaner writes at io_capacity_max
$node->safe_psql('postgres', 'ALTER SYSTEM SET bufpool_ext.max_dirty_pages_pct = 5');
$node->reload;
$node->safe_psql('postgres',
	"SELECT count(bufpool.write_page($sp, p, 'busy'::bytea)) FROM generate_series(1000, 1999) p");
$t0 = time();
ok($node->poll_query_until('postgres',
		'SELECT sum(modified_database_pages) = 0 FROM bufpool.stats'),
	'1000 dirty pages (25% of the pool) were written');
my $busy_secs = time() - $t0;
cmp_ok($busy_secs, '<', 6,
	sprintf('above max_dirty_pages_pct they went at io_capacity_max: %.1f s, not the 10 s io_capacity would take', $busy_secs));

# 3. LRU-tail work: after a scan larger than the pool, the free lists are
# refilled (to min(lru_scan_depth, 10% of each instance)) within a pass
$node->safe_psql('postgres',
	"SELECT count(*) FROM generate_series(5000, 11999) p, bufpool.fetch_page($sp, p)");
ok($node->poll_query_until('postgres',
		'SELECT bool_and(free_buffers >= pool_size / 10) FROM bufpool.stats'),
	'the cleaner refilled every free list to a tenth of the instance');

# the cleaners are visible
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'bufpool_ext page cleaner'"),
	'1', 'one page cleaner in pg_stat_activity');

# every page reads back what was written
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(0, 299) p
	WHERE substr(bufpool.read_page($sp, p), 1, 4) = 'idle'::bytea}), '300', 'idle-flushed pages are intact');
$node->safe_psql('postgres', "SELECT bufpool.evict($sp, p) FROM generate_series(1000, 1999) p");
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(1000, 1999) p
	WHERE substr(bufpool.read_page($sp, p), 1, 4) = 'busy'::bytea}), '1000', 'pages written by the cleaner read back from disk');

$node->stop;
done_testing();
