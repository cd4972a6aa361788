# Compressed pages in memory (src/pool/zip.c) with sessions at once: the
# frame of a page, or the zip frame holding its compressed image, going
# while another session reads the page (pg_isolation_regress cannot see a
# session wait on a read in progress, so this is TAP with background
# sessions):
#
#	- a page pinned by a session keeps its frame: dropping it (as the
#	  unzip_LRU's eviction does) fails until the pin goes, then works,
#	  and the next read decompresses the image, no read from disk;
#	- a session reading a page from its image, held in the middle of the
#	  read (the test module parks it on an advisory lock at the fault
#	  point page-read, its zip frame pinned): a second session dropping
#	  the page's frame waits for the read; evicting every zip frame
#	  leaves that one alone; once the read goes on, both get the right
#	  page;
#	- a read from an image that fails: no zip frame stays pinned, the
#	  next read works;
#	- two clients reading random pages while a third drops frames and
#	  evicts zip frames over and over: every read returns the page's
#	  bytes (each checked against an uncompressed copy: a wrong one is a
#	  division by zero that ends the client), and afterwards
#	  the views agree with each other.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('zip_isolation');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE EXTENSION bufpool_test;
	SELECT bufpool.create_space('z', 256, 'lz4', 4096), bufpool.create_space('r', 256);
	SELECT bufpool_test.zip_fill(1, 0, 256, 'rows'), bufpool_test.zip_fill(2, 0, 256, 'rows');
	SELECT bufpool.flush();
	SELECT count(bufpool.evict(1, p)) FROM generate_series(0, 255) p;
	SELECT count(bufpool.read_page(1, p)) FROM generate_series(0, 255) p;
});
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bufpool.pages WHERE space = 1 AND frame_present AND compressed_size > 0"),
	'256', 'every page read keeps its compressed image');

sub counters
{
	return split /\|/, $node->safe_psql('postgres',
		'SELECT sum(number_pages_read), sum(uncompress_total) FROM bufpool.stats');
}

sub same_as_ref
{
	my ($page) = @_;
	return $node->safe_psql('postgres',
		"SELECT bufpool.read_page(1, $page) = bufpool.read_page(2, $page)");
}

# a background session: statements fed through stdin
sub session
{
	my ($in, $out) = @_;
	return IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1', '-f', '-' ],
		'<', $in, '>', $out, '2>', $out);
}

# ---------------------------------------------------------------- pinned frame
my ($in1, $out1) = ("BEGIN;\nSELECT bufpool.pin_page(1, 5);\nSELECT 'pinned';\n", '');
my $s1 = session(\$in1, \$out1);
$s1->pump until $out1 =~ /pinned/;
is($node->safe_psql('postgres', 'SELECT bufpool_test.zip_evict_frame(1, 5)'), 'f',
	'the frame of a page a session pins stays');
is($node->safe_psql('postgres',
		'SELECT frame_present FROM bufpool.pages WHERE space = 1 AND page_number = 5'),
	't', 'and the page is still whole in the pool');
$in1 .= "COMMIT;\n\\q\n";
$s1->finish;
is($node->safe_psql('postgres', 'SELECT bufpool_test.zip_evict_frame(1, 5)'), 't',
	'once the pin goes, the frame can be dropped');
is($node->safe_psql('postgres',
		"SELECT page_state || ' ' || frame_present FROM bufpool.pages WHERE space = 1 AND page_number = 5"),
	'ZIP_PAGE false', 'the page is held as its image alone');
my ($reads0, $unzips0) = counters();
is(same_as_ref(5), 't', 'read again, the page has its bytes');
my ($reads1, $unzips1) = counters();
is($reads1 - $reads0, 0, 'with no read from disk');
is($unzips1 - $unzips0, 1, 'but one decompression');

# ---------------------------------------------------------------- read in flight
$node->safe_psql('postgres', 'SELECT bufpool_test.zip_evict_frame(1, 7)');
my ($in0, $out0) = ("SELECT pg_advisory_lock(4343);\nSELECT 'locked';\n", '');
my $s0 = session(\$in0, \$out0);
$s0->pump until $out0 =~ /locked/;
($in1, $out1) = (q{
SELECT bufpool_test.fault_attach('page-read', 'wait', '4343', pg_backend_pid());
SELECT 'attached';
SELECT bufpool.read_page(1, 7) = bufpool.read_page(2, 7) AS read_ok;
}, '');
$s1 = session(\$in1, \$out1);
$s1->pump until $out1 =~ /attached/;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the read did not park';
is($node->safe_psql('postgres',
		'SELECT io_fix FROM bufpool.pages WHERE space = 1 AND page_number = 7 AND frame_present'),
	'IO_READ', 'the read of page 7 from its image is held in the middle');

my ($in2, $out2) = ("SELECT bufpool_test.zip_evict_frame(1, 7) AS dropped;\n", '');
my $s2 = session(\$in2, \$out2);
my ($evicted, $kept) = split /\|/, $node->safe_psql('postgres',
	'SELECT evicted, kept FROM bufpool_test.zip_evict_zip_frames()');
cmp_ok($kept, '>=', 1, "evicting every zip frame leaves the one being read from ($evicted evicted, $kept kept)");
usleep(500_000);
$s2->pump_nb;
is($out2, '', 'dropping the frame of a page being read waits for the read');

$in0 .= "SELECT pg_advisory_unlock(4343);\n\\q\n";
$s0->finish;
$s1->finish;
$s2->finish;
like($out1, qr/^t$/m, 'the held read, gone on, has the page\'s bytes');
# (false if the reader still pinned the page when the drop looked at it)
like($out2, qr/^[tf]$/m, 'and then the frame drop goes on, after the read');
is($node->safe_psql('postgres',
		'SELECT length(bufpool.read_page(1, 7)) > 0 AND bufpool_test.zip_evict_frame(1, 7)'), 't',
	'with the reader done, the page is read and its frame dropped');
is(same_as_ref(7), 't', 'page 7 reads right after all that');

# ---------------------------------------------------------------- a failed read
# a read from an image that fails (the fault point page-read raises an
# ERROR for this session): the image goes with the block, no zip frame
# stays pinned, and the next read of the page works
$node->safe_psql('postgres', 'SELECT bufpool_test.zip_evict_frame(1, 9)');
my ($rc_f, $out_f, $err_f) = $node->psql('postgres', q{
	SELECT bufpool_test.fault_attach('page-read', 'error', '', pg_backend_pid());
	SELECT bufpool.read_page(1, 9);});
isnt($rc_f, 0, 'a read from an image that fails is an error') or diag($out_f);
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bufpool.pages WHERE page_state = 'MEMORY' AND fix_count > 0"),
	'0', 'no zip frame is left pinned');
is(same_as_ref(9), 't', 'the next read of the page works');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bufpool.pages WHERE space = 1 AND page_number = 9"),
	'1', 'and the page is in the pool once');

# ---------------------------------------------------------------- at once
my $dir = PostgreSQL::Test::Utils::tempdir();
open(my $fh, '>', "$dir/read.sql") or die;
print $fh "\\set p random(0, 255)\n",
  "SELECT 1 / (bufpool.read_page(1, :p) = bufpool.read_page(2, :p))::int;\n";
close $fh;
open($fh, '>', "$dir/evict.sql") or die;
print $fh "\\set p random(0, 255)\n",
  "SELECT bufpool_test.zip_evict_frame(1, :p);\n",
  "SELECT bufpool_test.zip_evict_frame(1, (:p + 128) % 256);\n",
  "SELECT * FROM bufpool_test.zip_evict_zip_frames() WHERE :p % 16 = 0;\n";
close $fh;
my ($pb_out, $pb_err) = ('', '');
my $pb = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-j', '2', '-T', '6', '-f', "$dir/read.sql",
	  '-d', $node->connstr('postgres') ],
	'>', \$pb_out, '2>', \$pb_err);
my ($ev_out, $ev_err) = ('', '');
my $ev = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-T', '6', '-f', "$dir/evict.sql",
	  '-d', $node->connstr('postgres') ],
	'>', \$ev_out, '2>', \$ev_err);
$pb->finish;
$ev->finish;
# a wrong page is a division by zero, which ends that client
unlike($pb_err, qr/ERROR|abort/, 'two readers: every page read had its bytes')
  or diag($pb_out, $pb_err);
unlike($ev_err, qr/ERROR|abort/, 'the frame dropper ran without an error')
  or diag($ev_out, $ev_err);
my ($done) = $pb_out =~ /number of transactions actually processed: (\d+)/;
cmp_ok($done // 0, ">", 1000, "the readers read (" . ($done // 0) . " pages)") or diag($pb_out);
is($node->safe_psql('postgres',
		'SELECT count(*) FROM generate_series(0, 255) p WHERE bufpool.read_page(1, p) IS DISTINCT FROM bufpool.read_page(2, p)'),
	'0', 'afterwards every page reads right');
is($node->safe_psql('postgres', q{
	SELECT (SELECT sum(length) FROM bufpool.lists WHERE list = 'unzip_lru') =
	       (SELECT count(*) FROM bufpool.pages WHERE frame_present AND compressed_size > 256)
	   AND (SELECT sum(pages_used * page_size) FROM bufpool.cmpmem) =
	       (SELECT sum(compressed_size) FROM bufpool.pages)}),
	't', 'the unzip_LRU and the zip memory agree with the pages view');

$node->stop;
done_testing();
