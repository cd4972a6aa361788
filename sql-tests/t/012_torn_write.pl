# Torn pages and the doublewrite buffer.
#
# The action torn of bufpool_test at the fault point page-write-in-place,
# attached for one session, makes its next in-place page write write only
# the first half of the page and raise PANIC: the
# page on disk is then half new, half old, as after a power loss in the
# middle of a write.  With doublewrite on, the pool build after the
# crash-restart restores the page from the doublewrite file and it reads
# back whole, with a valid checksum.  With doublewrite off the same torn
# page is reported as a checksum error: the test can fail.  Also: the
# doublewrite file's mode, the counters of bufpool.doublewrite, and an
# I/O error on the doublewrite file (an ERROR naming it; the page stays
# dirty and is written once the file is usable again).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('torn_write');
$node->init;
# a PANIC must restart the cluster (PostgreSQL::Test::Cluster turns it off)
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_test');

my $dblwr_file = $node->data_dir . '/bufpool_ext/doublewrite';
ok(-f $dblwr_file, 'the doublewrite file exists');
is(sprintf('%04o', (stat $dblwr_file)[2] & 07777), '0600', 'and has mode 0600');
like(slurp_file($node->logfile),
	qr/bufpool_ext doublewrite recovery: 0 valid copies, 0 pages checked, 0 restored/,
	'the first pool build logs an empty recovery');
is( $node->safe_psql('postgres',
		'SELECT enabled, batch_regions, single_slots, last_recovery IS NOT NULL, '
		  . 'last_recovery_pages_restored FROM bufpool.doublewrite'),
	't|4|32|t|0', 'bufpool.doublewrite: on by default, 2 regions for the 1 cleaner + 2 shared');

# BPX_TORN_COMPRESSION=algorithm:key_block_size (scripts/test.sh runs
# zstd:4096 as a second pass): the same on a compressed space, whose pages
# get 6 kB of hex text as well, so that a page's compressed image fills
# more than half its slot and a write torn at the middle of the slot is
# a slot that fails its check
my ($zip, $kbs) = split /:/, ($ENV{BPX_TORN_COMPRESSION} // '');
my $sid = $node->safe_psql('postgres',
	$zip ? "SELECT bufpool.create_space('torn', 16, '$zip', $kbs)"
	  : "SELECT bufpool.create_space('torn', 16)");
my $filler = $zip
  ? q{, bufpool.write_page(%SID%, p, convert_to((SELECT string_agg(md5(p || '.' || g), '')
		FROM generate_series(1, 187) g), 'UTF8'), 100)}
  : '';
$filler =~ s/%SID%/$sid/;
is($node->safe_psql('postgres', "SELECT compression || '/' || coalesce(key_block_size, 0) FROM bufpool.spaces WHERE space_id = $sid"),
	$zip ? "$zip/$kbs" : 'none/0', 'the space is ' . ($zip ? "compressed with $zip" : 'not compressed'));

# page p gets "<tag> head p" at the start of its payload (first half of
# the 8 kB page) and "<tag> tail p" at offset 8000 (second half), so a
# write torn at the middle leaves a page that is neither version
sub write_version
{
	my ($tag, $from, $to) = @_;
	$node->safe_psql('postgres', qq{
		SELECT bufpool.write_page($sid, p, convert_to('$tag head ' || p, 'UTF8'), 0),
			   bufpool.write_page($sid, p, convert_to('$tag tail ' || p, 'UTF8'), 8000)$filler
		FROM generate_series($from, $to) p});
}

sub read_version
{
	my ($p) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT convert_from(substr(bufpool.read_page($sid, $p), 1, 9), 'UTF8') || '/' ||
			   convert_from(substr(bufpool.read_page($sid, $p), 8001, 9), 'UTF8')});
}

write_version('v1', 0, 9);
is($node->safe_psql('postgres', 'SELECT bufpool.flush()'), '10', 'ten pages flushed');
is( $node->safe_psql('postgres',
		'SELECT pages_written >= 10, writes >= 1, dblwr_syncs >= 1, data_syncs >= 1 '
		  . 'FROM bufpool.doublewrite'),
	't|t|t|t', 'they went through the doublewrite file');

# crash in the middle of a page write, then wait for the new pool
sub torn_flush_and_restart
{
	my ($page, $what) = @_;
	my $log_offset = -s $node->logfile;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT bufpool_test.fault_attach('page-write-in-place', 'torn', '1', pg_backend_pid()); "
		  . 'SELECT bufpool.flush()');
	isnt($ret, 0, "$what: the flush with a torn write does not return");
	$node->wait_for_log(
		qr/PANIC:  fault point page-write-in-place: wrote only the first 4096 bytes of page $page of bufpool space $sid/,
		$log_offset);
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
	ok($node->poll_query_until('postgres', undef, ''), "$what: the server is back");
	ok($node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready'),
		"$what: the pool is ready again");
	return $log_offset;
}

# ---- doublewrite on: the torn page is repaired
write_version('v2', 5, 5);
my $off = torn_flush_and_restart(5, 'doublewrite on');
my $log = slurp_file($node->logfile, $off);
like($log, qr/restored (compressed )?page 5 of bufpool space $sid from the doublewrite file/,
	'recovery restored the torn page');
like($log, qr/bufpool_ext doublewrite recovery: \d+ valid copies, \d+ pages checked, 1 restored/,
	'the recovery summary counts one page restored');
is($node->safe_psql('postgres', 'SELECT last_recovery_pages_restored FROM bufpool.doublewrite'),
	'1', 'bufpool.doublewrite shows the page restored at the last recovery');
is(read_version(5), 'v2 head 5/v2 tail 5',
	'the repaired page reads back whole, with a valid checksum, in its new version');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(0, 9) p
		WHERE p <> 5 AND convert_from(substr(bufpool.read_page($sid, p), 1, 9), 'UTF8')
			  <> 'v1 head ' || p}),
	'0', 'the other pages are intact');
is($node->safe_psql('postgres', 'SELECT sum(number_pages_read) FROM bufpool.stats'),
	'10', 'all of them were read from disk');

# ---- an I/O error on the doublewrite file: ERROR naming it, page kept dirty
write_version('v3', 7, 7);
chmod(0400, $dblwr_file) or die "chmod $dblwr_file: $!";
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT bufpool.flush()');
isnt($ret, 0, 'a flush fails when the doublewrite file cannot be opened');
like($err, qr/could not open doublewrite file "bufpool_ext\/doublewrite": Permission denied/,
	'the error names the doublewrite file');
is($node->safe_psql('postgres', 'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	'1', 'the page stays dirty');
chmod(0600, $dblwr_file) or die "chmod $dblwr_file: $!";
is($node->safe_psql('postgres', 'SELECT bufpool.flush()'), '1',
	'once the file is usable the page is written');
is($node->safe_psql('postgres', 'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	'0', 'and nothing is dirty');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bufpool.pages WHERE fix_count > 0'),
	'0', 'the failed flush left no pin');

# ---- doublewrite off: the torn page stays torn and is detected
$node->append_conf('postgresql.conf', "bufpool_ext.doublewrite = off\n");
$node->reload;
ok( $node->poll_query_until('postgres', 'SELECT enabled FROM bufpool.doublewrite', 'f'),
	'doublewrite turned off by a reload');
write_version('v2', 6, 6);
$off = torn_flush_and_restart(6, 'doublewrite off');
$log = slurp_file($node->logfile, $off);
like($log, qr/bufpool_ext doublewrite recovery: \d+ valid copies, \d+ pages checked, 0 restored/,
	'with doublewrite off there is nothing to restore');
unlike($log, qr/restored page 6 /, 'page 6 is not restored');
($ret, $out, $err) = $node->psql('postgres', "SELECT bufpool.read_page($sid, 6)");
isnt($ret, 0, 'reading the torn page fails');
like($err, qr/checksum mismatch in page 6 of bufpool space $sid|compressed page 6 of bufpool space $sid is damaged: checksum mismatch/,
	'the torn page is a checksum error naming the page');
is(read_version(7), 'v3 head 7/v3 tail 7', 'the page written after the I/O error is on disk');

$node->stop;
done_testing();
