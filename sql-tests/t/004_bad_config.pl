# A server whose bufpool_ext.page_size is not a power of two must refuse
# to start, and say why in its log.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('bad_page_size');
$node->init;
# appended after TEMP_CONFIG, so this value wins
$node->append_conf('postgresql.conf', 'bufpool_ext.page_size = 12288');

my $started = $node->start(fail_ok => 1);
is($started, 0, 'the server refuses to start with page_size = 12288');
if ($started)
{
	diag 'bufpool_ext.page_size in effect: '
	  . $node->safe_psql('postgres', 'SHOW bufpool_ext.page_size');
	$node->stop;
}

my $log = slurp_file($node->logfile);
like(
	$log,
	qr/bufpool_ext\.page_size.*power of two/,
	'the log says page_size must be a power of two');
unlike($log, qr/bufpool_ext buffer pool ready/,
	'no pool was built');

# the same data directory starts with a valid page size
$node->adjust_conf('postgresql.conf', 'bufpool_ext.page_size', '16384');
$node->start;
is($node->safe_psql('postgres', 'SHOW bufpool_ext.page_size'),
	'16kB', 'the server starts once page_size is a power of two');
$node->stop;

# a pool that cannot be built: sessions get the reason, the server stays up
my $tiny = PostgreSQL::Test::Cluster->new('tiny_chunks');
$tiny->init;
$tiny->append_conf('postgresql.conf', qq{
bufpool_ext.page_size = 65536
bufpool_ext.chunk_size = '1MB'
bufpool_ext.size = '2MB'
});
$tiny->start;
$tiny->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
ok($tiny->poll_query_until('postgres',
		"SELECT state = 'failed' FROM bufpool.status()"),
	'the pool state turns failed');
my ($ret, $out, $err) = $tiny->psql('postgres', 'SELECT * FROM bufpool.stats');
isnt($ret, 0, 'using the pool fails');
like($err, qr/the bufpool_ext buffer pool could not be built/, 'with a clear message');
like($err, qr/chunk_size 1048576 holds only \d+ pages of 65536 bytes/, 'and the reason in the detail');
is($tiny->safe_psql('postgres', 'SELECT 1'), '1', 'the server itself keeps working');
$tiny->stop;

done_testing();
