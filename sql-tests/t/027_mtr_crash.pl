# A crash in the middle of a mini-transaction's commit (src/pool/mtr.c,
# the redo group of src/redo/redo.c): the fault point redo-group, with the
# test module's action "cut", writes only the first records of the group,
# makes them durable and PANICs.  After the crash-restart:
#
#	- none of the cut group's changes is on any of its pages, while the
#	  mini-transaction committed before it is there whole;
#	- recovery counts the group as cut;
#	- the same pages can be changed again, and that survives a kill -9;
#	- a space extended through the API and its new page, written from
#	  scratch (bp_mtr_fetch_new), survive kill -9.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BufpoolFaults;

my $node = PostgreSQL::Test::Cluster->new('mtr_crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext; CREATE EXTENSION bufpool_test');
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('mtr', 64)");

# the ten bytes page p's payload has at offset 10 * k, in hex
sub bytes
{
	my ($p, $k) = @_;
	return $node->safe_psql('postgres',
		"SELECT encode(substring(bufpool.read_page($sid, $p) FROM 10 * $k + 1 FOR 10), 'hex')");
}

sub wait_ready
{
	$node->poll_query_until('postgres', "SELECT state = 'ready' FROM bufpool.status()", 't')
	  or die 'the pool did not come back';
	return;
}

# 1. a committed mini-transaction over four pages: fill 01
my $lsn = $node->safe_psql('postgres', "SELECT bufpool_test.mtr($sid, 0, 4, 'commit', 1)");
ok($lsn > 0, "a mini-transaction over four pages committed at LSN $lsn");

# 2. the next one over the same pages is cut after 2 of its 4 records
$node->safe_psql('postgres', "SELECT bufpool_test.fault_attach('redo-group', 'cut', '2')");
my ($ret, $out, $err) = $node->psql('postgres', "SELECT bufpool_test.mtr($sid, 0, 4, 'commit', 2)");
isnt($ret, 0, 'the commit crashed the server');
wait_ready();
ok($node->log_contains(qr/fault point redo-group: a group of 4 redo records on 4 pages cut after 2, made durable/),
	'the group was cut after 2 of its 4 records, made durable first');
my @got = map { bytes($_, $_) } 0 .. 3;
is_deeply(\@got, [ ('01' x 10) x 4 ],
	'after recovery every page has the committed change and none of the cut one');
ok($node->log_contains(qr/groups of several; 1 group cut by the log's end, left out\)/),
	'recovery left one cut group out');

# 3. the pages change again, and that survives a kill -9
$lsn = $node->safe_psql('postgres', "SELECT bufpool_test.mtr($sid, 0, 4, 'commit', 3)");
ok($lsn > 0, 'the same pages change again');
my $log_offset = -s $node->logfile;
BufpoolFaults::kill_server($node);
$node->start;
wait_ready();
@got = map { bytes($_, $_) } 0 .. 3;
is_deeply(\@got, [ ('03' x 10) x 4 ], 'a committed mini-transaction survives kill -9 whole');
like(slurp_file($node->logfile, $log_offset), qr/\((\d+) groups of several; 0 group cut/,
	'recovery after kill -9 cut no group');

# 4. a space extended, and its new last page written from scratch (no
# read, logged whole), survive kill -9
my ($gid) = split /\|/, $node->safe_psql('postgres', "SELECT bufpool_test.space_api('grown', 2, 5, 9)");
BufpoolFaults::kill_server($node);
$node->start;
wait_ready();
is($node->safe_psql('postgres', "SELECT size_pages FROM bufpool.spaces WHERE space_id = $gid"),
	'7', 'a space extended from 2 to 7 pages stays so after kill -9');
is($node->safe_psql('postgres', "SELECT encode(substring(bufpool.read_page($gid, 6) FROM 1 FOR 12), 'hex')"),
	('09' x 10) . '0000', 'its new page written from scratch survives kill -9');

$node->stop;
done_testing();
