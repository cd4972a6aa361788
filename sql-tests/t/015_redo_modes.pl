# The redo log's promises, one by one:
#
#	- flush_log_at_commit = 1: when write_page returns, the log is fsynced
#	  past its LSN; 2: written past it; 0: the log writer writes and
#	  fsyncs it within about a second;
#	- bufpool.checkpoint() moves the checkpoint to the oldest dirty page's
#	  first change, and to the end of the log when nothing is dirty;
#	- the page cleaners flush by checkpoint age: with every other reason
#	  to flush switched off (no idle flushing while writes go on, no
#	  dirty-page low-water mark), a log filling up makes them write the
#	  oldest pages, and the checkpoint follows;
#	- the log file is reused circularly: far more redo than its size goes
#	  through it, and a crash afterwards still recovers every page.

use strict;
use warnings;

use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use CutFS;

use BufpoolFaults;

my $node = PostgreSQL::Test::Cluster->new('redo_modes');
$node->init;
# under BPX_ON_CUTFS=1, on the power-cut file system (CutFS::for_node)
my $fs = CutFS::for_node($node);
# The page cleaners start paused: the first cases check which LSN a
# checkpoint takes with pages left dirty on purpose, and the last counts
# the pages the cleaners write for checkpoint age alone (it turns them on
# itself, with every other flushing reason off).
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
bufpool_ext.log_file_size = '8MB'
bufpool_ext.checkpoint_timeout = '1d'
bufpool_ext.max_dirty_pages_pct_lwm = 0
bufpool_ext.io_capacity = 100
bufpool_ext.io_capacity_max = 2000
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
pause_cleaners($node);
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('redo_modes', 400)");

# write_page under a mode, then the log positions seen right after it
sub write_and_look
{
	my ($mode, $page) = @_;
	return split /\|/, $node->safe_psql('postgres', qq{
		SET bufpool_ext.flush_log_at_commit = $mode;
		SELECT bufpool.write_page($sid, $page, '\\x0102'::bytea, 0) AS lsn \\gset
		SELECT :lsn, write_lsn, flush_lsn FROM bufpool.redo_status});
}

# ---- the three modes (the log writer runs about once a second; these
# ---- checks hold whatever it does)
my ($lsn, $write, $flush) = write_and_look(1, 0);
cmp_ok($flush, '>=', $lsn, 'mode 1: fsynced past the change when write_page returns');
($lsn, $write, $flush) = write_and_look(2, 1);
cmp_ok($write, '>=', $lsn, 'mode 2: written past the change when write_page returns');
($lsn, $write, $flush) = write_and_look(0, 2);
ok( $node->poll_query_until('postgres',
		"SELECT flush_lsn >= $lsn FROM bufpool.redo_status"),
	'mode 0: the log writer writes and fsyncs the change soon after');
my $fsyncs_before = $node->safe_psql('postgres', 'SELECT fsyncs FROM bufpool.redo_status');
$node->safe_psql('postgres', qq{
	SET bufpool_ext.flush_log_at_commit = 0;
	SELECT count(bufpool.write_page($sid, g % 50, '\\x01'::bytea, 0)) FROM generate_series(1, 500) g});
my $fsyncs_after = $node->safe_psql('postgres', 'SELECT fsyncs FROM bufpool.redo_status');
cmp_ok($fsyncs_after - $fsyncs_before, '<', 50,
	'mode 0: 500 changes in one statement take far fewer than 500 fsyncs ('
	  . ($fsyncs_after - $fsyncs_before) . ')');

# ---- bufpool.checkpoint()
$node->safe_psql('postgres', 'SELECT bufpool.flush()');
my ($ck, $ins) = split /\|/, $node->safe_psql('postgres',
	'SELECT bufpool.checkpoint(), insert_lsn FROM bufpool.redo_status');
is($ck, $ins, 'nothing dirty: the checkpoint is the end of the log');
my $first = $node->safe_psql('postgres',
	"SELECT bufpool.write_page($sid, 10, '\\x0a'::bytea, 0)");
$node->safe_psql('postgres', "SELECT bufpool.write_page($sid, 11, '\\x0b'::bytea, 0)");
my $oldest = $node->safe_psql('postgres',
	"SELECT oldest_modification FROM bufpool.pages WHERE space = $sid AND page_number = 10");
is($node->safe_psql('postgres', 'SELECT bufpool.checkpoint()'), $oldest,
	'with dirty pages: the checkpoint is the oldest dirty page\'s first change');
cmp_ok($oldest, '<', $first, 'which starts before that change\'s LSN (its end)');

# ---- adaptive flushing by checkpoint age
$node->safe_psql('postgres', 'SELECT bufpool.flush()');
$node->safe_psql('postgres', 'SELECT bufpool.checkpoint()');
resume_cleaners($node);
my $written_before = $node->safe_psql('postgres',
	"SELECT sum(number_pages_written) FROM bufpool.stats");
# about 4 MB of full-payload changes (half of the log), as fast as possible,
# over 400 pages: far below any dirty-page threshold
$node->safe_psql('postgres', qq{
	SET bufpool_ext.flush_log_at_commit = 0;
	SELECT count(bufpool.write_page($sid, g % 400, decode(repeat('ab', 8000), 'hex'), 0))
	FROM generate_series(1, 520) g});
my $age_pct = $node->safe_psql('postgres',
	'SELECT round(100.0 * checkpoint_age / log_file_size) FROM bufpool.redo_status');
note "checkpoint age after the writes: $age_pct% of the log";
# keep writing a little (so the server is never idle) while the cleaner works
my $flushed = 0;
for my $i (1 .. 40)
{
	$node->safe_psql('postgres', qq{
		SET bufpool_ext.flush_log_at_commit = 0;
		SELECT bufpool.write_page($sid, $i % 400, '\\x01'::bytea, 0)});
	$flushed = $node->safe_psql('postgres',
		"SELECT sum(number_pages_written) - $written_before FROM bufpool.stats");
	last if $flushed >= 100;
	usleep(250_000);
}
cmp_ok($flushed, '>=', 100, "the cleaner flushed by checkpoint age while writes went on ($flushed pages)");
# the loop above changes the oldest pages again while the cleaner writes
# them: such a page stays dirty with its first change's LSN (flush.c keeps
# oldest_lsn when the page changed during its write) until the cleaner's
# next pass writes it again; give that pass a few seconds
my $age_after = $age_pct;
for (1 .. 40)
{
	$node->safe_psql('postgres', 'SELECT bufpool.checkpoint()');
	$age_after = $node->safe_psql('postgres',
		'SELECT round(100.0 * checkpoint_age / log_file_size) FROM bufpool.redo_status');
	last if $age_after < $age_pct;
	usleep(250_000);
}
cmp_ok($age_after, '<', $age_pct, "and the checkpoint moved on ($age_pct% -> $age_after%)");

# ---- circular reuse: 5 times the log's size, then a crash
$node->safe_psql('postgres', qq{
	SET bufpool_ext.flush_log_at_commit = 0;
	SELECT count(bufpool.write_page($sid, g % 400,
		convert_to(format('lap %s', g), 'UTF8') || decode(repeat('cd', 7000), 'hex'), 0))
	FROM generate_series(1, 6000) g});
my ($bytes, $size, $waits) = split /\|/, $node->safe_psql('postgres',
	'SELECT bytes, log_file_size, log_full_waits FROM bufpool.redo_status');
cmp_ok($bytes, '>', 5 * $size, "more than 5 times the log's size went through it ($bytes bytes)");
note "changes that had to wait for room in the log: $waits";
$node->safe_psql('postgres', 'SET bufpool_ext.flush_log_at_commit = 1; SELECT bufpool.write_page('
	  . "$sid, 399, convert_to('last', 'UTF8'), 0)");
$node->stop('immediate');
CutFS::crash_cut($fs);
$node->start;
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(5601, 6000) g
		WHERE substring(bufpool.read_page($sid, g % 400) FROM 1 FOR length(format('lap %s', g)))
			  = convert_to(format('lap %s', g), 'UTF8') AND g % 400 <> 399}),
	399, 'after a crash every page holds its last lap');
is($node->safe_psql('postgres',
		"SELECT convert_from(substring(bufpool.read_page($sid, 399) FROM 1 FOR 4), 'UTF8')"),
	'last', 'and the last acknowledged write');

$node->stop;
$fs->unmount if $fs;
done_testing();
