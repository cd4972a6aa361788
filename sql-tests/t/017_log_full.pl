# A redo log that cannot be checkpointed fills up, and nothing hangs:
#
#	- with data writes failing (fault point data-write, EIO) no page can
#	  be flushed, so the checkpoint cannot move and the log fills;
#	- a change made the documented way (bp_log_free_check() first, as
#	  write_page does) fails in that check, with the data file's error,
#	  before any page is locked;
#	- a change made without the check (bufpool_test.write_page_unchecked, as a C
#	  caller breaking the contract would) gets no credit for the margin
#	  the check keeps: it is refused with SQLSTATE 55000 before anything
#	  changes, instead of waiting for a checkpoint while it holds the
#	  page's lock (which the checkpoint needs: a hang);
#	- mini-transactions reserve their room when they start: 16 of them
#	  parked before their commits (fault point mtr-commit), each a group
#	  of 16 full pages, more than the margin, all commit after the log
#	  has been filled around them;
#	- once the fault is gone, writes go on, the log is checkpointed, and a
#	  crash afterwards loses nothing acknowledged.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use CutFS;

use BufpoolFaults;

my $node = PostgreSQL::Test::Cluster->new('log_full');
$node->init;
# under BPX_ON_CUTFS=1, on the power-cut file system (CutFS::for_node)
my $fs = CutFS::for_node($node);
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
max_connections = 30
bufpool_ext.log_file_size = '8MB'
bufpool_ext.checkpoint_timeout = '1d'
bufpool_ext.flush_log_at_commit = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_test');
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('log_full', 64)");
my $file_size = $node->safe_psql('postgres', 'SELECT log_file_size FROM bufpool.redo_status');

# n changes of 8000 bytes to page 20, each with its own write_page, or
# with $skip 'on' write_page_unchecked (no bp_log_free_check() first)
sub big_writes
{
	my ($n, $skip) = @_;
	my $fn = $skip eq 'on' ? 'bufpool_test.write_page_unchecked' : 'bufpool.write_page';
	return $node->psql('postgres', qq{
		\\set VERBOSITY verbose
		SELECT count($fn($sid, 20, convert_to(format('big %s ', i) || repeat('x', 8000), 'UTF8'), 0))
		FROM generate_series(1, $n) AS i},
		timeout => 120);
}

$node->safe_psql('postgres', qq{
	SELECT count(bufpool.write_page($sid, p, convert_to(format('before %s', p), 'UTF8'), 0))
	FROM generate_series(0, 9) AS p});

# ---- without the check, with room in the log: the change is made
my ($rc, $out, $err) = big_writes(10, 'on');
is($rc, 0, 'without bp_log_free_check, changes are made while the log has room')
  or diag($err);

# ---- the log cannot be checkpointed
set_fault($node, 'data_eio');

# 16 sessions start a mini-transaction of 16 full pages each (their room
# is reserved at the start) and park before the commit, pages locked
my $mtr_sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('log_full_mtr', 256)");
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/mtr.sql", qq{
SELECT bufpool_test.mtr($mtr_sid, 16 * :client_id, 16, 'full', 1 + :client_id);
});
# one attachment for every process (nothing else commits a mini-transaction here)
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{SELECT pg_advisory_lock(4343);
	SELECT bufpool_test.fault_attach('mtr-commit', 'wait', '4343')});
my ($mtr_out, $mtr_err) = ('', '');
my $mtrs = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '16', '-j', '16', '-t', '1', '-f', "$dir/mtr.sql", $node->connstr('postgres') ],
	'>', \$mtr_out, '2>', \$mtr_err);
$node->poll_query_until('postgres', q{
	SELECT count(*) = 16 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the mini-transactions did not park';
# three times the log: it fills whatever the checkpoint did before the fault
my $n = int(3 * $file_size / 8192);

($rc, $out, $err) = big_writes($n, 'on');
isnt($rc, 0, 'without bp_log_free_check: the statement fails once the log is full');
like($err,
	qr/ERROR:  55000: bufpool_ext redo log has no room for a change of page 20 of space $sid made without bp_log_free_check\(\)/,
	'with SQLSTATE 55000 and a message naming the page and the missing check')
  or diag($err);
like($err, qr/HINT:  Call bp_log_free_check\(\) before locking each page you change/, 'and a hint');
my $age = $node->safe_psql('postgres', 'SELECT checkpoint_age FROM bufpool.redo_status');
cmp_ok($age, '>', $file_size / 2, "the log is more than half full ($age of $file_size bytes)");
cmp_ok($age, '<=', $file_size, 'and never past its size');

# the parked mini-transactions commit into the room they reserved
$holder->query_safe(q{SELECT bufpool_test.fault_detach('mtr-commit');
	SELECT pg_advisory_unlock(4343)});
$holder->quit;
$mtrs->finish;
like($mtr_out, qr{number of transactions actually processed: 16/16},
	'all 16 parked mini-transactions of 16 full pages commit into the full log')
  or diag($mtr_err);
my $age2 = $node->safe_psql('postgres', 'SELECT checkpoint_age FROM bufpool.redo_status');
cmp_ok($age2 - $age, '>=', 16 * 16 * 8000, 'their groups took more than 2 MB of log, past the margin');
cmp_ok($age2, '<=', $file_size, 'and the log is still within its size');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(0, 255) p
	WHERE get_byte(bufpool.read_page($mtr_sid, p), 100) <> 1 + p / 16}), '0',
	'every page of every group reads back with its fill');

($rc, $out, $err) = big_writes(20, 'off');
isnt($rc, 0, 'with bp_log_free_check: the change fails in the check');
like($err, qr/ERROR:  58030: could not write page [0-9]+ of bufpool space $sid: Input\/output error/,
	'with the data file error that stops the checkpoint')
  or diag($err);

# page 20 is not locked by anyone (the refused change released it)
($rc, $out, $err) = $node->psql('postgres',
	"SELECT length(bufpool.read_page($sid, 20)) > 0", timeout => 60);
is($out, 't', 'the page of the refused change can be read');

# a refusal caught in a subtransaction releases the page's exclusive
# lock with it, as an LWLock would be: the same transaction can then
# read the page (a lock kept would make it wait for itself)
($rc, $out, $err) = $node->psql('postgres', qq{
	DO \$\$
	BEGIN
		BEGIN
			PERFORM bufpool_test.write_page_unchecked($sid, 20, convert_to(repeat('s', 8000), 'UTF8'), 0);
			RAISE EXCEPTION 'the change was not refused';
		EXCEPTION WHEN object_not_in_prerequisite_state THEN
			RAISE NOTICE 'refused: %', SQLERRM;
		END;
		PERFORM bufpool.read_page($sid, 20);
	END
	\$\$;
	SELECT convert_from(substring(bufpool.read_page($sid, 20) FROM 1 FOR 3), 'UTF8')},
	timeout => 60);
is($rc, 0, 'after a refusal caught in a subtransaction the same transaction reads the page')
  or diag($err);
like($err, qr/NOTICE:  refused: bufpool_ext redo log has no room/, 'the caught error was the refusal');
is($out, 'big', 'and the page is as the last change left it');

# ---- the fault is gone: the log is checkpointed and writes go on
set_fault($node, 'none');
($rc, $out, $err) = big_writes($n, 'off');
is($rc, 0, "fault cleared: $n more changes of 8000 bytes go through the log")
  or diag($err);
is($out, $n, 'all of them');
$node->safe_psql('postgres', qq{
	SELECT count(bufpool.write_page($sid, p, convert_to(format('after %s', p), 'UTF8'), 0))
	FROM generate_series(10, 19) AS p});

# ---- and nothing acknowledged is lost in a crash
$node->stop('immediate');
CutFS::crash_cut($fs);
$node->start;
$node->poll_query_until('postgres', "SELECT state = 'ready' FROM bufpool.status()", 't')
  or diag(scalar $node->psql('postgres', 'SELECT * FROM bufpool.status()'));
is(wrong_pages($node, $sid, 0, 9, 'before'), '', 'after a crash the first pages read back');
is(wrong_pages($node, $sid, 10, 19, 'after'), '', 'and so do the last ones');
like($node->safe_psql('postgres', "SELECT convert_from(substring(bufpool.read_page($sid, 20) FROM 1 FOR 12), 'UTF8')"),
	qr/^big $n /, 'and the last change of page 20');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC/, 'no process died of a signal, no PANIC');
$node->stop;
$fs->unmount if $fs;
done_testing();
