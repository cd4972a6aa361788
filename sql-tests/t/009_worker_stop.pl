# Stopping a resize from outside: the requester cancelled, the pool
# manager terminated (SIGTERM) or killed (SIGKILL) in the middle of a
# shrink, and a page cleaner terminated.  Each must leave a consistent
# pool with every page intact, and the workers must come back.
#
# A shrink is held in its withdraw_blocks phase by a session that keeps
# a page of a doomed chunk pinned (bufpool.pin_page in an open
# transaction), with bufpool_ext.resize_timeout long enough (60 s) that
# only the event under test ends it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n_pages = 6000;
my $mb = 1024 * 1024;

my $node = PostgreSQL::Test::Cluster->new('worker_stop');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.resize_timeout = '60s'
# the SIGKILL case below is a crash-restart
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('worker_stop', $n_pages)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

# the content of page p: its number, then the round it was written in
sub content_sql
{
	my ($p, $round) = @_;
	return "convert_to(format('worker_stop page %s round %s', $p, $round), 'UTF8')";
}

# pages of 0 .. n_pages-1 that do not start with their content of round r
sub bad_pages
{
	my ($round) = @_;
	my $c = content_sql('p', $round);
	return $node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(0, $n_pages - 1) AS p
		WHERE substring(bufpool.read_page($sid, p) FROM 1 FOR length($c))
			  IS DISTINCT FROM $c});
}

sub write_round
{
	my ($round) = @_;
	my $c = content_sql('p', $round);
	return $node->safe_psql('postgres', qq{
		SELECT count(bufpool.write_page($sid, p, $c))
		FROM generate_series(0, $n_pages - 1) AS p});
}

# per instance: free + lru = pool size, nothing withdrawn, no pin
sub lists_ok
{
	return $node->safe_psql('postgres', q{
		SELECT bool_and(ok) FROM (
			SELECT sum(l.length) FILTER (WHERE l.list IN ('free', 'lru')) = st.pool_size
				   AND coalesce(sum(l.length) FILTER (WHERE l.list = 'withdraw'), 0) = 0 AS ok
			FROM bufpool.stats st JOIN bufpool.lists l ON l.pool_id = st.pool_id
			GROUP BY st.pool_id, st.pool_size) s})
	  . '|'
	  . $node->safe_psql('postgres',
		'SELECT count(*) FROM bufpool.pages WHERE fix_count > 0');
}

sub worker_pids
{
	my ($type) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = '$type'"
	);
}

# grow to 64MB (4 chunks per instance) and pin, in a new session, a page
# that sits in chunk 2 or 3 of its instance; returns the session
sub grow_and_pin
{
	my ($round) = @_;
	is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('64MB')"),
		'complete', "round $round: grown to 64MB");
	is(write_round($round), $n_pages, "round $round: $n_pages pages written");
	my $target = $node->safe_psql('postgres', qq{
		SELECT p.page_number FROM bufpool.pages p
			 JOIN bufpool.chunks c ON c.pool_id = p.pool_id AND c.chunk_no = 0
		WHERE p.space = $sid AND p.block_id >= 2 * c.n_blocks
		ORDER BY p.page_number LIMIT 1});
	like($target, qr/^[0-9]+$/, "round $round: a page in a chunk a shrink to 32MB removes");
	my $pinner = $node->background_psql('postgres');
	$pinner->query_safe('BEGIN');
	$pinner->query_safe("SELECT bufpool.pin_page($sid, $target)");
	return $pinner;
}

sub wait_for_withdraw
{
	my ($what) = @_;
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) FROM bufpool.resize_status
			WHERE is_current AND phase = 'withdraw_blocks'}, '1'),
		"$what: the shrink waits in withdraw_blocks for the pinned page");
}

# -------------------------------------------------------------------------
# 1. The requester is cancelled: the shrink goes on in the pool manager.
# -------------------------------------------------------------------------
my $pinner = grow_and_pin(1);
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SET statement_timeout = '1s';
	SELECT phase FROM bufpool.resize('32MB')});
like($stderr, qr/canceling statement due to statement timeout/,
	'cancel: the requesting statement is cancelled');
is( $node->safe_psql('postgres', q{
		SELECT phase || '|' || source FROM bufpool.resize_status WHERE is_current}),
	'withdraw_blocks|sql', 'cancel: the shrink still runs in the pool manager');
$pinner->query_safe('COMMIT');
$pinner->quit;
ok( $node->poll_query_until('postgres', q{
		SELECT phase FROM bufpool.resize_status
		WHERE NOT is_current ORDER BY resize_id DESC LIMIT 1}, 'complete'),
	'cancel: the shrink completes once the pin goes');
is($node->safe_psql('postgres', 'SELECT effective_size FROM bufpool.status()'),
	32 * $mb, 'cancel: the pool is at 32MB');
is(lists_ok(), 't|0', 'cancel: lists add up, nothing withdrawn, no pin');
is(bad_pages(1), 0, 'cancel: every page intact');

# -------------------------------------------------------------------------
# 2. The pool manager is terminated (SIGTERM) mid-shrink: the shrink fails
#    and rolls back, the manager comes back and resizes again.
# -------------------------------------------------------------------------
$pinner = grow_and_pin(2);
my $id = $node->safe_psql('postgres', "SELECT resize_id FROM bufpool.resize('32MB', false)");
like($id, qr/^[0-9]+$/, 'terminate: shrink requested without waiting');
wait_for_withdraw('terminate');
my $manager = worker_pids('bufpool_ext pool manager');
like($manager, qr/^[0-9]+$/, 'terminate: one pool manager');
# memory accounting: the chunks are the manager's rows until it exits
my $chunk_rows_sql = q{
	SELECT string_agg(thread_id || ':' || current_count_used, ',' ORDER BY thread_id)
	FROM bufpool.memory_summary_by_thread_by_event_name
	WHERE event_name = 'memory/bufpool/chunk'};
my $chunk_global_sql = q{
	SELECT count_alloc || '/' || count_free || '/' || current_count_used
	FROM bufpool.memory_summary_global_by_event_name
	WHERE event_name = 'memory/bufpool/chunk'};
is($node->safe_psql('postgres', $chunk_rows_sql), "$manager:8",
	'memory: the pool manager holds the 8 chunks');
my $chunk_global = $node->safe_psql('postgres', $chunk_global_sql);
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($manager)"),
	't', 'terminate: pg_terminate_backend on the pool manager');
ok( $node->poll_query_until('postgres', qq{
		SELECT phase FROM bufpool.resize_status WHERE resize_id = $id AND NOT is_current},
		'failed'),
	'terminate: the shrink failed');
like( $node->safe_psql('postgres',
		"SELECT message FROM bufpool.resize_status WHERE resize_id = $id AND NOT is_current"),
	qr/pool manager was stopped.*the pool stays at 67108864 bytes/,
	'terminate: resize_status says why');
is( $node->safe_psql('postgres', q{
		SELECT effective_size || '|' || chunks_per_instance FROM bufpool.status()}),
	(64 * $mb) . '|4', 'terminate: the pool keeps its 64MB');
is( $node->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE state = 'active') || '/' || count(*) FROM bufpool.chunks"),
	'8/8', 'terminate: every chunk active');
$pinner->query_safe('COMMIT');
$pinner->quit;
is(lists_ok(), 't|0', 'terminate: lists add up, nothing withdrawn, no pin');
is(bad_pages(2), 0, 'terminate: every page intact');
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'bufpool_ext pool manager' AND pid <> $manager}, '1'),
	'terminate: a new pool manager runs');
like($node->safe_psql('postgres', $chunk_rows_sql), qr/^0:8(,[0-9]+:0)?$/,
	'memory: the exited manager\'s chunks folded into thread 0');
is($node->safe_psql('postgres', $chunk_global_sql), $chunk_global,
	'memory: the global row did not change when the manager exited');
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('32MB')"),
	'complete', 'terminate: the new manager shrinks the pool');
# the terminated manager's final flush set its bit of shutting_down; the
# new manager cleared it, so a write stays in the pool (not written at once)
$node->safe_psql('postgres', "SELECT bufpool.write_page($sid, 1, " . content_sql(1, 2) . ')');
ok( $node->safe_psql('postgres', qq{
		SELECT oldest_modification > 0 FROM bufpool.pages
		WHERE space = $sid AND page_number = 1}) eq 't',
	'terminate: after the new manager starts, a write leaves the page dirty');
is(lists_ok(), 't|0', 'terminate: lists add up after the shrink');
is(bad_pages(2), 0, 'terminate: every page intact after the shrink');

# -------------------------------------------------------------------------
# 3. A page cleaner is terminated: it writes its dirty pages, comes back,
#    and sessions leave their dirty pages to the cleaners again.
# -------------------------------------------------------------------------
my $cleaners = worker_pids('bufpool_ext page cleaner');
like($cleaners, qr/^[0-9]+(,[0-9]+)*$/, 'cleaner: page cleaners run');
my $n_cleaners = scalar(split /,/, $cleaners);
my $victim = (split /,/, $cleaners)[0];
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($victim)"),
	't', 'cleaner: pg_terminate_backend on a page cleaner');
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) = $n_cleaners AND bool_and(pid <> $victim) FROM pg_stat_activity
		WHERE backend_type = 'bufpool_ext page cleaner'}),
	'cleaner: the page cleaner comes back');
# the new cleaner has cleared shutting_down: a write stays in the pool
$node->safe_psql('postgres', "SELECT bufpool.write_page($sid, 0, " . content_sql(0, 2) . ')');
ok( $node->safe_psql('postgres', qq{
		SELECT oldest_modification > 0 FROM bufpool.pages
		WHERE space = $sid AND page_number = 0}) eq 't',
	'cleaner: a write after the restart leaves the page dirty in the pool');
is(bad_pages(2), 0, 'cleaner: every page intact');

# -------------------------------------------------------------------------
# 3b. bufpool.backend_memory shows another session's memory as of its last
#     statement, and forgets the session when it exits.
# -------------------------------------------------------------------------
my $big = $node->background_psql('postgres');
$big->query_safe('SET bufpool_ext.backend_memory_interval = 0');
my $big_pid = $big->query_safe('SELECT pg_backend_pid()');
chomp $big_pid;
$big->query_safe(q{SELECT length(string_agg(repeat('x', 1000), '')) FROM generate_series(1, 20000)});
ok( $node->safe_psql('postgres', qq{
		SELECT total_bytes > 20000000 AND used_bytes > 20000000
		FROM bufpool.backend_memory WHERE pid = $big_pid}) eq 't',
	'backend_memory: another session\'s 20 MB statement is visible');
$big->query_safe('SELECT 1');
ok( $node->safe_psql('postgres', qq{
		SELECT total_bytes < 10000000 FROM bufpool.backend_memory WHERE pid = $big_pid}) eq 't',
	'backend_memory: and its next statement shows the memory gone');
ok( $node->safe_psql('postgres', qq{
		SELECT count(*) > 1 FROM bufpool.backend_memory_contexts WHERE pid = $big_pid}) eq 't',
	'backend_memory_contexts: the session\'s context lines are visible');
my $lines_before = $node->safe_psql('postgres', q{
		SELECT objects_used FROM bufpool.size_classes WHERE set_name = 'backend_memory'});
my $big_lines = $node->safe_psql('postgres', qq{
		SELECT count(*) FROM bufpool.backend_memory_contexts WHERE pid = $big_pid});
cmp_ok($lines_before, '>=', $big_lines,
	'backend_memory_contexts: its lines are objects of the size-class set backend_memory');
# eight more sessions publish their lines: the set is cold in every
# process, so they share slabs (with a slab owned by each process it took
# one slab per process: 22 slabs for 468 lines of 23 processes, against 6)
my @more = map { $node->background_psql('postgres') } 1 .. 8;
$_->query_safe('SELECT count(*) FROM pg_class') for @more;
my $shared = $node->safe_psql('postgres', q{
		SELECT sum(slabs) || '|' || (ceil(sum(objects_used)::numeric / max(objects_per_slab))
		                             + current_setting('bufpool_ext.instances')::int)
		FROM bufpool.size_classes WHERE set_name = 'backend_memory'});
my ($slabs, $bound) = split /\|/, $shared;
cmp_ok($slabs, '<=', $bound,
	"backend_memory_contexts: the lines of 10 sessions share slabs ($slabs slabs, at most $bound)");
$_->quit for @more;
$big->quit;
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) FROM bufpool.backend_memory WHERE pid = $big_pid}, '0'),
	'backend_memory: an exited session has no row');
# (reading backend_memory_contexts publishes the reader's own lines first:
# count them before the objects)
ok( $node->poll_query_until('postgres', q{
		WITH l AS MATERIALIZED (SELECT count(*) AS n FROM bufpool.backend_memory_contexts)
		SELECT (SELECT n FROM l) =
		       (SELECT objects_used FROM bufpool.size_classes, l WHERE set_name = 'backend_memory')}),
	'backend_memory_contexts: an exited session freed its lines (objects in use = lines shown)')
  or diag($node->safe_psql('postgres', q{
		SELECT (SELECT objects_used FROM bufpool.size_classes WHERE set_name = 'backend_memory') || ' in use; lines: ' ||
		       (SELECT string_agg(pid || '=' || n, ' ') FROM (SELECT pid, count(*) n FROM bufpool.backend_memory_contexts GROUP BY pid) x) ||
		       '; rows: ' || (SELECT string_agg(pid || ' ' || backend_type, ', ') FROM bufpool.backend_memory)}));

# -------------------------------------------------------------------------
# 4. The pool manager is killed (SIGKILL) mid-shrink: a crash-restart,
#    after which the pool is rebuilt at the configured size and every
#    page written before the flush is read back from disk.
# -------------------------------------------------------------------------
$pinner = grow_and_pin(3);
ok($node->safe_psql('postgres', 'SELECT bufpool.flush()') >= $n_pages,
	'kill: every page flushed');
$id = $node->safe_psql('postgres', "SELECT resize_id FROM bufpool.resize('32MB', false)");
wait_for_withdraw('kill');
$manager = worker_pids('bufpool_ext pool manager');
my $log_offset = -s $node->logfile;
is(kill('KILL', $manager), 1, 'kill: SIGKILL to the pool manager');
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
# the pinning session died with the crash
eval { $pinner->quit };
ok($node->poll_query_until('postgres', undef, ''), 'kill: the server accepts connections again');
ok( $node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready'),
	'kill: the pool is ready again');
is($node->safe_psql('postgres', 'SELECT effective_size FROM bufpool.status()'),
	32 * $mb, 'kill: the pool has the configured 32MB');
is(lists_ok(), 't|0', 'kill: lists add up, no pin');
is(bad_pages(3), 0, 'kill: every flushed page is intact');
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('64MB')"),
	'complete', 'kill: the new pool manager resizes');

$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|TRAP:/, 'no PANIC or assertion failure in the log');

done_testing();
