# Write faults: EIO and ENOSPC on the redo log and on data files
# (bufpool_ext's fault points redo-write and data-write, armed by the test
# module bufpool_test) give clear errors with the right
# SQLSTATE, the pool stays consistent, nothing acknowledged is lost, and
# once the fault is gone the extension carries on.  The last case crashes
# the server while data writes fail: recovery cannot write its pages, the
# pool reports why, and it is built once the fault is cleared.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use CutFS;

use BufpoolFaults;

my $node = PostgreSQL::Test::Cluster->new('write_faults');
$node->init;
# under BPX_ON_CUTFS=1, on the power-cut file system (CutFS::for_node)
my $fs = CutFS::for_node($node);
# The page cleaners are paused: the test counts what bufpool.flush()
# writes and which doublewrite regions its failed rounds retire; a cleaner
# writing the same dirty pages meanwhile (through a region of its own)
# would take pages from it and retire regions of its own.  bufpool_test is
# preloaded so that the pause and the last case's fault hold across the
# crash-restart, from the pool manager's recovery on.
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
shared_preload_libraries = 'bufpool_ext,bufpool_test'
bufpool_ext.flush_log_at_commit = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
pause_cleaners($node, persist => 1);
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('faults', 64)");

sub write_pages
{
	my ($from, $to, $tag) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(bufpool.write_page($sid, p, convert_to(format('%s %s', '$tag', p), 'UTF8'), 0))
		FROM generate_series($from, $to) AS p});
}

sub dirty_pages
{
	return $node->safe_psql('postgres', 'SELECT sum(modified_database_pages) FROM bufpool.stats');
}

is(write_pages(0, 9, 'before'), 10, 'ten pages written before any fault');

# ---- the redo log fails: a change is refused, nothing is acknowledged
for my $case ([ 'log_eio', '58030', 'Input/output error' ],
	[ 'log_enospc', '53100', 'No space left on device' ])
{
	my ($fault, $state, $text) = @$case;
	set_fault($node, $fault);
	my ($rc, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT bufpool.write_page($sid, 20, 'x'::bytea, 0)");
	isnt($rc, 0, "$fault: write_page fails");
	like($err, qr/ERROR:  $state: could not write .* of bufpool_ext redo log .*: $text/,
		"$fault: clear error, SQLSTATE $state");
	is(wrong_pages($node, $sid, 0, 9, 'before'), '', "$fault: acknowledged pages still read back");
	set_fault($node, 'none');
	is(write_pages(10, 19, "after_$fault"), 10, "$fault cleared: writes work again");
}

# ---- data files fail: flushing is refused, pages stay dirty
for my $case ([ 'data_eio', '58030', 'Input/output error' ],
	[ 'data_enospc', '53100', 'No space left on device' ])
{
	my ($fault, $state, $text) = @$case;
	is(write_pages(30, 39, $fault), 10, "$fault: ten pages written");
	my $dirty = dirty_pages();
	cmp_ok($dirty, '>=', 10, "$fault: they are dirty ($dirty)");
	set_fault($node, $fault);
	my ($rc, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT bufpool.flush()");
	isnt($rc, 0, "$fault: flush fails");
	like($err, qr/ERROR:  $state: could not write page [0-9]+ of bufpool space $sid: $text/,
		"$fault: clear error, SQLSTATE $state");
	is(dirty_pages(), $dirty, "$fault: the pages are still dirty");
	is(wrong_pages($node, $sid, 30, 39, $fault), '', "$fault: and read back from the pool");
	set_fault($node, 'none');
	ok($node->safe_psql('postgres', 'SELECT bufpool.flush()') >= 10,
		"$fault cleared: flush writes them");
	is(dirty_pages(), 0, "$fault cleared: nothing is dirty");
}

# each failed round retired the shared doublewrite region it used; the
# last flush found both retired, repaired one (its pages were intact or
# restored from their copies) and used it
is($node->safe_psql('postgres', 'SELECT regions_retired FROM bufpool.doublewrite'),
	1, 'a retired doublewrite region was repaired and used again');
like(slurp_file($node->logfile), qr/doublewrite region [0-9]+ of "[^"]+" is in use again/,
	'the log says so');

my ($rc, $out, $err);

# ---- every one-page region retired: a page written alone falls back to a
# shared batch region, whose header area (doublewrite_batch_pages 128,
# the default) is larger than a one-page region's
is(write_pages(50, 50, 'alone'), 1, 'a page to write alone');
set_fault($node, 'data_eio');
my $n_single = $node->safe_psql('postgres', 'SELECT single_slots FROM bufpool.doublewrite');
for my $i (1 .. $n_single)
{
	my ($erc, $eout, $eerr) = $node->psql('postgres', "SELECT bufpool.evict($sid, 50)");
	like($eerr, qr/could not write page 50 of bufpool space $sid/,
		"one-page write $i fails in place") if $i == 1 || $i == $n_single;
}
is($node->safe_psql('postgres', 'SELECT regions_retired FROM bufpool.doublewrite'),
	1 + $n_single, "each failed one-page write retired its region ($n_single in all)");
set_fault($node, 'none');
($rc, $out, $err) = $node->psql('postgres', "SELECT bufpool.evict($sid, 50)");
is($rc, 0, 'the page is then written alone through a shared batch region')
  or diag($err);
is(wrong_pages($node, $sid, 50, 50, 'alone'), '', 'and reads back');

# ---- a crash while data writes fail
is(write_pages(40, 49, 'crash'), 10, 'ten pages written before the crash');
set_fault($node, 'data_enospc', persist => 1);
$node->stop('immediate');
CutFS::crash_cut($fs);
$node->start;
# recovery must write the pages back and cannot
$node->poll_query_until('postgres',
	"SELECT state = 'failed' FROM bufpool.status()", 't')
  or diag(scalar $node->psql('postgres', 'SELECT * FROM bufpool.status()'));
($rc, $out, $err) = $node->psql('postgres', "SELECT bufpool.read_page($sid, 40)");
like($err, qr/buffer pool .*(No space left on device|could not write page)/s,
	'while recovery cannot write, sessions are told why');
set_fault($node, 'none');
ok( $node->poll_query_until('postgres',
		"SELECT state = 'ready' FROM bufpool.status()", 't'),
	'fault cleared: the pool manager builds the pool again');
is(wrong_pages($node, $sid, 40, 49, 'crash'), '', 'every acknowledged write survived the crash and the fault');
is(wrong_pages($node, $sid, 0, 9, 'before'), '', 'and so did the oldest ones');
cmp_ok($node->safe_psql('postgres', 'SELECT recovery_applied FROM bufpool.redo_status'),
	'>=', 10, 'recovery applied their redo');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC/, 'no process died of a signal, no PANIC');
$node->stop;
$fs->unmount if $fs;
done_testing();
