# A server whose bufpool_ext.page_size is not a power of two must refuse
# to start, and say why in its log.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use BufpoolFaults;

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
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
ok($node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready'),
	'the pool is built (and a redo log made for 16 kB pages)');
$node->stop;

# another page size, no space yet: after a clean stop the redo log has
# nothing to recover, so it starts again with the new size
$node->adjust_conf('postgresql.conf', 'bufpool_ext.page_size', '8192');
$node->start;
ok($node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready'),
	'a clean log written with 16 kB pages does not stop an 8 kB pool');
like(slurp_file($node->logfile), qr/page_size changed from 16384 to 8192; the redo log has nothing to recover/,
	'the log says the redo log starts again');
# with a change after the last checkpoint, the log must be recovered first
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('ps', 4)");
$node->safe_psql('postgres', "SELECT bufpool.write_page($sid, 0, '\\x01'::bytea, 0)");
$node->safe_psql('postgres', "SELECT bufpool.drop_space($sid)");
$node->stop('immediate');
$node->adjust_conf('postgresql.conf', 'bufpool_ext.page_size', '16384');
$node->start;
$node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'failed');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM bufpool.spaces');
like($err, qr/redo log was written with page size 8192, the pool has 16384/,
	'a log with changes to recover and another page size: sessions are told why');
$node->stop('immediate');
$node->adjust_conf('postgresql.conf', 'bufpool_ext.page_size', '8192');
$node->start;
ok($node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready'),
	'back at 8 kB, recovery runs and the pool is built');
$node->stop;

# a pool that cannot be built: sessions get the reason, the server stays up
my $tiny = failed_pool_node('tiny_chunks');
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
