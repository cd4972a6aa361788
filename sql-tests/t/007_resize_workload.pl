# Online resize under a read/write workload.
#
# pgbench clients write and read pages of a 20000-page space (160 MB,
# more than the largest pool; pages from 16000 up are only read) while
# this script resizes the pool between 32MB and 96MB again and again,
# waiting for each resize.  Client c owns the pages p with
# p % clients = c, so each page has one writer and the last value
# acknowledged for it is known: every transaction writes
# "c<client> s<seq> p<page>;" (seq counts per client) to a page, reads it
# back, records it in the table acked (one row per page, upserted), and
# reads another of its pages and compares it with acked (or with zeros).
# A mismatch is a division by zero, which aborts the client and makes
# pgbench fail.  About 2% of transactions also evict a page, 0.2% flush
# the space and 0.1% checkpoint, so evictions, flush rounds through the
# doublewrite file and checkpoints race with the fetches, writes and
# resizes.  BPX_SOAK_SECONDS runs the workload that long (a soak).
#
# Afterwards every acknowledged page must hold its last value, every other
# page must still be all zeros, no page may be pinned, the lists must add
# up and every resize must have completed.  The page cleaners run, as in
# every suite, so that their LRU-tail and flush-list work races with the
# resizes too.
#
# Then bufpool_ext.size = '64MB' and a reload: the pool manager resizes
# (source 'config'), and after a restart the pool has that size and the
# pages are still there.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n_pages = 20000;
my $n_written = 16000;    # pages from 16000 up are only read
my $clients = 4;
# seconds of pgbench; BPX_SOAK_SECONDS makes it a soak (e.g. 600)
my $duration = $ENV{BPX_SOAK_SECONDS} // 35;
my $mb = 1024 * 1024;

my $node = PostgreSQL::Test::Cluster->new('resize_workload');
$node->init;
$node->append_conf('postgresql.conf', qq{
# hundreds of thousands of pgbench statements otherwise
log_statement = none
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

# BPX_RESIZE_COMPRESSION=algorithm:key_block_size (scripts/test.sh runs
# lz4:1024 as a second pass): the same on a compressed space, every miss
# a decompression and every write a compression while the pool resizes
my ($zip, $kbs) = split /:/, ($ENV{BPX_RESIZE_COMPRESSION} // '');
my $sid = $node->safe_psql('postgres',
	$zip ? "SELECT bufpool.create_space('resize_workload', $n_pages, '$zip', $kbs)"
	  : "SELECT bufpool.create_space('resize_workload', $n_pages)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');
is($node->safe_psql('postgres', "SELECT compression || '/' || coalesce(key_block_size, 0) FROM bufpool.spaces WHERE space_id = $sid"),
	$zip ? "$zip/$kbs" : 'none/0', 'the space is ' . ($zip ? "compressed with $zip" : 'not compressed'));
$node->safe_psql('postgres',
	'CREATE TABLE acked (page int PRIMARY KEY, val text NOT NULL)');
is($node->safe_psql('postgres', 'SELECT effective_size FROM bufpool.status()'),
	32 * $mb, 'the pool starts at 32MB');

# the value client c writes to page p as its seq-th write (32 bytes)
my $val = q{rpad(format('c%s s%s p%s;', :client_id, :seq, :page), 32, '.')};
my $script = <<"EOS";
\\set page random(0, :wpc - 1) * :nclients + :client_id
\\set seq :seq + 1
SELECT bufpool.write_page(:sid, :page, convert_to($val, 'UTF8'));
SELECT 1 / (substring(bufpool.read_page(:sid, :page) FROM 1 FOR 32) = convert_to($val, 'UTF8'))::int AS read_back_ok;
INSERT INTO acked VALUES (:page, $val) ON CONFLICT (page) DO UPDATE SET val = excluded.val;
\\set other random(0, :ppc - 1) * :nclients + :client_id
SELECT 1 / (substring(bufpool.read_page(:sid, :other) FROM 1 FOR 32) = coalesce((SELECT convert_to(val, 'UTF8') FROM acked WHERE page = :other), decode(repeat('00', 32), 'hex')))::int AS other_ok;
\\set r random(1, 1000)
\\if :r <= 20
SELECT bufpool.evict(:sid, :other) AS evicted;
\\elif :r <= 22
SELECT bufpool.flush(:sid) AS flushed;
\\elif :r <= 23
SELECT bufpool.checkpoint() AS checkpoint_lsn;
\\endif
EOS
my $script_file = PostgreSQL::Test::Utils::tempdir() . '/resize_workload.sql';
PostgreSQL::Test::Utils::append_to_file($script_file, $script);

my $log_offset = -s $node->logfile;
my ($pgb_out, $pgb_err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-h', $node->host, '-p', $node->port,
		'-c', $clients, '-j', 2, '-T', $duration,
		'-D', "sid=$sid", '-D', 'seq=0', '-D', "nclients=$clients",
		'-D', 'ppc=' . ($n_pages / $clients),
		'-D', 'wpc=' . ($n_written / $clients),
		'-f', $script_file, 'postgres'
	],
	'>', \$pgb_out, '2>', \$pgb_err);

# resize back and forth while pgbench runs.  By default resizes come
# 0.3 s apart; BPX_STRESS=1 runs them back to back (several hundred in a
# run), BPX_RESIZE_SIZES overrides the two sizes.
my @sizes = split(' ', $ENV{BPX_RESIZE_SIZES} // '96MB 32MB');
my $pause = $ENV{BPX_STRESS} ? 0 : 0.3;
my ($done, $failed, $already) = (0, 0, 0);
my @errors;
my $t0 = time();
while ($pgbench->pumpable && time() - $t0 < $duration + 30)
{
	my $size = $sizes[ ($done + $failed) % 2 ];
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT phase FROM bufpool.resize('$size')");
	if ($ret == 0 && $out eq 'complete')
	{
		$done++;
		select(undef, undef, undef, $pause) if $pause > 0;
	}
	else
	{
		# stop at the first failure: later resizes would only pile up
		# damage; say what the pool looked like
		$failed++;
		$already++ if $err =~ /already in progress/;
		push @errors, "$size: ret $ret, out '$out', err '$err'";
		my ($r, $state) = $node->psql('postgres', q{
			SELECT 'status: ' || s::text FROM bufpool.status() s
			UNION ALL SELECT 'lists: ' || string_agg(format('%s/%s=%s', pool_id, list, length), ' ')
				FROM bufpool.lists
			UNION ALL SELECT 'chunks: ' || string_agg(format('%s/%s:%s', pool_id, chunk_no, state), ' ')
				FROM bufpool.chunks
			UNION ALL (SELECT 'resize: ' || r::text FROM bufpool.resize_status r LIMIT 3)});
		push @errors, "state after the failure:\n$state";
		last;
	}
	$pgbench->pump_nb;
}
my $resize_secs = time() - $t0;
$pgbench->finish;
my $pgb_rc = $pgbench->result(0);

note "pgbench stdout:\n$pgb_out";
note "pgbench stderr:\n$pgb_err" if $pgb_err ne '';
is($pgb_rc, 0, 'pgbench exited with status 0');
unlike($pgb_err, qr/aborted|error/i, 'no pgbench client aborted or failed');
like($pgb_out, qr/number of failed transactions: 0 /, 'pgbench reports no failed transaction');
my ($processed) = $pgb_out =~ /number of transactions actually processed: (\d+)/;
my ($tps) = $pgb_out =~ /tps = ([0-9.]+)/;
ok(defined $processed && $processed > 1000,
	'pgbench processed more than 1000 transactions (' . ($processed // 'none') . ')');

diag sprintf('%d resizes in %.1f s (%d failed), pgbench %s tps, %s transactions',
	$done, $resize_secs, $failed, $tps // '?', $processed // '?');
is($failed, 0, 'no resize failed') or diag join("\n", @errors);
is($already, 0, 'no "already in progress" error with a single resizer');
cmp_ok($done, '>=', 10, 'at least 10 resizes completed during the workload');

# the status view: nothing running, the history (last 8) all complete
is($node->safe_psql('postgres',
		'SELECT count(*) FROM bufpool.resize_status WHERE is_current'),
	0, 'no resize is running or pending');
my $hist = $node->safe_psql('postgres', q{
	SELECT count(*), count(*) FILTER (WHERE phase = 'complete'),
		   count(*) FILTER (WHERE source = 'sql'),
		   count(*) FILTER (WHERE to_size < from_size AND pages_withdrawn > 0),
		   coalesce(sum(pages_relocated + pages_evicted), 0) > 0,
		   max(max_stall_ms)
	FROM bufpool.resize_status});
my ($h_n, $h_complete, $h_sql, $h_shrinks, $h_moved, $h_stall) = split /\|/, $hist;
my $h_expect = $done < 8 ? $done : 8;
is("$h_n|$h_complete|$h_sql", "$h_expect|$h_expect|$h_expect",
	"resize_status holds the last $h_expect resizes, all complete");
cmp_ok($h_shrinks, '>=', 1, 'the history has shrinks that withdrew pages');
is($h_moved, 't', 'the shrinks relocated or evicted pages in use');
diag "longest lock hold of the last resizes: $h_stall ms";

my $log = slurp_file($node->logfile, $log_offset);
my $log_complete = () = $log =~ /bufpool_ext resize \d+ from \d+ to \d+ bytes complete/g;
my $log_failed = () = $log =~ /bufpool_ext resize \d+ from \d+ to \d+ bytes failed/g;
is($log_complete, $done, 'the log has one "complete" line per resize');
is($log_failed, 0, 'the log has no failed resize');
# nothing went wrong in the background either (a page cleaner that dies
# is restarted only after 5 s, and a shutdown in that gap flushes nothing)
my @log_errors = grep { !/STATEMENT:/ } ($log =~ /^.*\b(?:ERROR|FATAL|PANIC):.*$/mg);
my @worker_exits = ($log =~ /^.*background worker "bufpool_ext[^"]*" \(PID \d+\) exited.*$/mg);
is(scalar(@log_errors) + scalar(@worker_exits), 0,
	'no error in the server log and no bufpool_ext worker exited')
  or diag join("\n", @log_errors[0 .. ($#log_errors < 9 ? $#log_errors : 9)], @worker_exits);

# the data: every acknowledged page holds its last value, every other
# page was never written
my $bad_acked_sql = qq{
	SELECT count(*) FROM acked
	WHERE substring(bufpool.read_page($sid, page) FROM 1 FOR 32)
		  IS DISTINCT FROM convert_to(val, 'UTF8')};
my $bad_other_sql = qq{
	SELECT count(*) FROM generate_series(0, $n_pages - 1) AS p
	WHERE NOT EXISTS (SELECT 1 FROM acked WHERE page = p)
	  AND substring(bufpool.read_page($sid, p) FROM 1 FOR 32)
		  IS DISTINCT FROM decode(repeat('00', 32), 'hex')};
my $n_acked = $node->safe_psql('postgres', 'SELECT count(*) FROM acked');
cmp_ok($n_acked, '>', 1000, "more than 1000 pages were written ($n_acked)");
is($node->safe_psql('postgres', "SELECT count(*) FROM acked WHERE page >= $n_written"),
	0, "no page from $n_written up was written");
is($node->safe_psql('postgres',
		qq{SELECT count(*) FROM acked
		   WHERE val !~ format('^c%s s[0-9]+ p%s;', page % $clients, page)}),
	0, 'every acknowledged value names its page and that page\'s client');
is($node->safe_psql('postgres', $bad_acked_sql), 0,
	'every page holds the last value acknowledged to its writer');
is($node->safe_psql('postgres', $bad_other_sql), 0,
	'every page never written is still all zeros');

# no pin left behind, lists consistent
is($node->safe_psql('postgres', 'SELECT count(*) FROM bufpool.pages WHERE fix_count > 0'),
	0, 'no page is pinned');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s:%s:%s', st.pool_id,
					sum_free_lru = st.pool_size, withdraw), ' ' ORDER BY st.pool_id)
		FROM bufpool.stats st
			 JOIN (SELECT pool_id,
						  sum(length) FILTER (WHERE list IN ('free', 'lru')) AS sum_free_lru,
						  sum(length) FILTER (WHERE list = 'withdraw') AS withdraw
				   FROM bufpool.lists GROUP BY pool_id) l USING (pool_id)}),
	'0:t:0 1:t:0',
	'per instance: free + lru = pool size, nothing withdrawn');
is( $node->safe_psql('postgres', q{
		SELECT count(*) = 2 * (SELECT chunks_per_instance FROM bufpool.status())
			   AND bool_and(state = 'active')
		FROM bufpool.chunks}),
	't', 'the chunks match the pool size, all active');

# ------------------------------------------------------------------------
# bufpool_ext.size is reloadable: the pool manager resizes to it
my $last_id = $node->safe_psql('postgres',
	'SELECT coalesce(max(resize_id), 0) FROM bufpool.resize_status');
$node->safe_psql('postgres', "ALTER SYSTEM SET bufpool_ext.size = '64MB'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok( $node->poll_query_until('postgres',
		'SELECT effective_size FROM bufpool.status()', 64 * $mb),
	'after the reload the pool becomes 64MB');
is( $node->safe_psql('postgres', qq{
		SELECT phase, source, to_size, requested_size FROM bufpool.resize_status
		WHERE resize_id > $last_id ORDER BY resize_id}),
	'complete|config|' . (64 * $mb) . '|' . (64 * $mb),
	'one resize, from the config, complete');
is($node->safe_psql('postgres', 'SELECT chunks_per_instance, pages FROM bufpool.status()'),
	'4|' . 2 * $node->safe_psql('postgres', 'SELECT 4 * n_blocks FROM bufpool.chunks LIMIT 1'),
	'4 chunks per instance');

# what was dirty before the restart, for the diagnostics below
$node->safe_psql('postgres', qq{
	CREATE TABLE before_restart AS
		SELECT page_number AS page, oldest_modification > 0 AS dirty
		FROM bufpool.pages WHERE space = $sid});
$node->restart;
is( $node->safe_psql('postgres',
		'SELECT effective_size, chunks_per_instance FROM bufpool.status()'),
	(64 * $mb) . '|4', 'after a restart the pool is 64MB');
is($node->safe_psql('postgres', $bad_acked_sql), 0,
	'after the restart every page still holds its last acknowledged value')
  or diag "pages that lost their value (page | acknowledged | on disk | dirty in the pool before the restart):\n",
  $node->safe_psql('postgres', qq{
	SELECT a.page, a.val,
		   encode(substring(bufpool.read_page($sid, a.page) FROM 1 FOR 32), 'escape'),
		   coalesce(b.dirty::text, 'not in the pool')
	FROM acked a LEFT JOIN before_restart b USING (page)
	WHERE substring(bufpool.read_page($sid, a.page) FROM 1 FOR 32)
		  IS DISTINCT FROM convert_to(a.val, 'UTF8')
	ORDER BY a.page LIMIT 10}),
  "\nby state before the restart:\n",
  $node->safe_psql('postgres', qq{
	SELECT coalesce(b.dirty::text, 'not in the pool'), count(*)
	FROM acked a LEFT JOIN before_restart b USING (page)
	WHERE substring(bufpool.read_page($sid, a.page) FROM 1 FOR 32)
		  IS DISTINCT FROM convert_to(a.val, 'UTF8')
	GROUP BY 1});

$node->stop;

done_testing();
