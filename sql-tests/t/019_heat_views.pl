# The hot-page views never error on a pool that is resizing, shrinking or
# being built, and say what they can:
#
#  - pgbench clients fetch pages of a space larger than the pool (Zipf),
#    others read bufpool.hot_pages, bufpool.space_heat and
#    bufpool.page_heat() all the time, while the main session grows and
#    shrinks the pool online; every pgbench transaction must succeed;
#  - after the resizes the views agree with a page fetched on purpose;
#  - on a pool that cannot be built (chunks too small: state "failed"),
#    hot_pages is empty and space_heat lists no space rather than fail;
#    page_heat, a function about one page, still names a bad space.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

use BufpoolFaults;

my $node = PostgreSQL::Test::Cluster->new('heat_views');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.size = '32MB'
bufpool_ext.max_size = '96MB'
bufpool_ext.chunk_size = '8MB'
bufpool_ext.instances = 2
bufpool_ext.page_size = 8192
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('heat_views', 20000)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

my $dir = PostgreSQL::Test::Utils::tempdir();
my $fetch = "$dir/fetch.sql";
PostgreSQL::Test::Utils::append_to_file($fetch, qq{
\\set p random_zipfian(0, 19999, 1.1)
SELECT hit FROM bufpool.fetch_page($sid, :p);
});
my $watch = "$dir/watch.sql";
PostgreSQL::Test::Utils::append_to_file($watch, qq{
\\set p random(0, 19999)
SELECT count(*) FROM (SELECT * FROM bufpool.hot_pages LIMIT 20) h;
SELECT sum(pages_in_pool) FROM bufpool.space_heat;
SELECT in_pool FROM bufpool.page_heat($sid, :p);
});

my $duration = 8;
my ($f_out, $f_err, $w_out, $w_err) = ('', '', '', '');
my $fetchers = IPC::Run::start(
	[
		'pgbench', '-n', '-h', $node->host, '-p', $node->port,
		'-c', 3, '-j', 1, '-T', $duration, '-f', $fetch, 'postgres'
	],
	'>', \$f_out, '2>', \$f_err);
my $watchers = IPC::Run::start(
	[
		'pgbench', '-n', '-h', $node->host, '-p', $node->port,
		'-c', 2, '-j', 1, '-T', $duration, '-f', $watch, 'postgres'
	],
	'>', \$w_out, '2>', \$w_err);

# grow and shrink while both run (each shrink relocates or evicts the
# pages of the chunks it removes)
my @sizes = ('96MB', '32MB', '64MB', '16MB');
my ($resizes, @resize_errors) = (0);
my $t0 = time();
while (($fetchers->pumpable || $watchers->pumpable) && time() - $t0 < $duration + 30)
{
	my $size = $sizes[ $resizes % @sizes ];
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT phase FROM bufpool.resize('$size')");
	if ($ret == 0 && $out eq 'complete')
	{
		$resizes++;
	}
	else
	{
		push @resize_errors, "$size: $err";
		last;
	}
	select(undef, undef, undef, 0.2);
	$fetchers->pump_nb;
	$watchers->pump_nb;
}
$fetchers->finish;
$watchers->finish;
is(join("\n", @resize_errors), '', 'every resize completed');
cmp_ok($resizes, '>=', 4, "resizes while the views were read ($resizes)");
is($fetchers->result(0), 0, 'the fetching clients succeeded') or diag($f_err);
is($watchers->result(0), 0, 'the clients reading the heat views never failed') or diag($w_err);
like($w_out, qr/number of failed transactions: 0/, 'pgbench counts no failed view read');
my ($w_txns) = $w_out =~ /number of transactions actually processed: ([0-9]+)/;
cmp_ok($w_txns // 0, '>', 100, 'the views were read many times during the resizes');

# after the resizes: a page fetched many times shows in both views
my $hot = $node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(1, 2000) g, bufpool.fetch_page($sid, 12345);
	SELECT frequency > 0 AND est_accesses_per_s > 0 FROM bufpool.page_heat($sid, 12345);
});
like($hot, qr/^2000\nt$/, 'a page fetched 2000 times has a frequency and a rate');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM bufpool.hot_pages WHERE space_id = $sid AND page_number = 12345}),
	'1', 'and is in hot_pages');
is($node->safe_psql('postgres', qq{
	SELECT pages_in_pool = (SELECT pages_in_pool FROM bufpool.spaces WHERE space_id = $sid)
	FROM bufpool.space_heat WHERE space_id = $sid}),
	't', 'space_heat counts the same pages as bufpool.spaces');
$node->stop;

# a pool that cannot be built: the views are empty instead of failing
my $tiny = failed_pool_node('heat_failed');
ok($tiny->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'failed'),
	'the pool cannot be built');
my ($rc, $out, $err) = $tiny->psql('postgres', 'SELECT count(*) FROM bufpool.hot_pages');
is($rc, 0, 'hot_pages does not fail on a failed pool') or diag($err);
is($out, '0', 'and shows no page');
($rc, $out, $err) = $tiny->psql('postgres', 'SELECT count(*) FROM bufpool.space_heat');
is($rc, 0, 'space_heat does not fail on a failed pool') or diag($err);
($rc, $out, $err) = $tiny->psql('postgres', 'SELECT * FROM bufpool.page_heat(4242, 0)');
like($err, qr/bufpool space 4242 does not exist|buffer pool could not be built/,
	'page_heat still errors on a space it cannot find, naming it or the pool');
$tiny->stop;

unlike(slurp_file($node->logfile), qr/server process .* was terminated by signal|PANIC/,
	'no crash in the server log');

done_testing();
