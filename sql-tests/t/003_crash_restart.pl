# A backend killed with SIGKILL makes the postmaster reinitialize shared
# memory.  The pool manager must build a new pool, the workers must come
# back, the pool must work, and pages flushed before the crash must be
# read back from disk.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n_pages = 20;

my $node = PostgreSQL::Test::Cluster->new('crash_restart');
$node->init;
# PostgreSQL::Test::Cluster turns it off; this test is about it
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('crash_space', 64)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

# pages (of 0 .. n_pages-1) whose start is not their "crash page N" text
my $bad_pages_sql = qq{
	SELECT coalesce(string_agg(p::text, ',' ORDER BY p), '')
	FROM generate_series(0, $n_pages - 1) AS p
	WHERE substring(bufpool.read_page($sid, p) FROM 1 FOR 32)
		  IS DISTINCT FROM substring(convert_to(format('crash page %s', p), 'UTF8')
									 || decode(repeat('00', 32), 'hex') FROM 1 FOR 32)};

is( $node->safe_psql('postgres', qq{
		SELECT count(bufpool.write_page($sid, p, convert_to(format('crash page %s', p), 'UTF8'), 0))
		FROM generate_series(0, $n_pages - 1) AS p}),
	$n_pages,
	"$n_pages pages written");
ok($node->safe_psql('postgres', 'SELECT bufpool.flush()') >= $n_pages,
	'flush wrote the pages');

my $manager_pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bufpool_ext pool manager'");
like($manager_pid, qr/^[0-9]+$/, 'the pool manager runs before the crash');

# the dynamic shared memory segments of the pool (4 chunks and 2 page
# hashes, all mapped by the manager that built them); a crash-restart
# must destroy them, not leak them
sub shm_segments_of
{
	my ($pid) = @_;
	my %segs = map { $_ => 1 }
	  (slurp_file("/proc/$pid/maps") =~ m{(/dev/shm/PostgreSQL\.[0-9]+)}g);
	my @sorted = sort keys %segs;
	return @sorted;
}
my @old_segments = shm_segments_of($manager_pid);
note "segments mapped by the pool manager: @old_segments";
cmp_ok(scalar(@old_segments), '>=', 6,
	'the pool manager maps at least the 4 chunks and 2 page hashes');

# a regular backend to kill: an idle psql session
my $victim = $node->background_psql('postgres');
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
chomp $victim_pid;
like($victim_pid, qr/^[0-9]+$/, 'got the pid of a regular backend');
is( $node->safe_psql('postgres',
		"SELECT backend_type FROM pg_stat_activity WHERE pid = $victim_pid"),
	'client backend', 'the victim is a client backend');

my $log_offset = -s $node->logfile;
is(kill('KILL', $victim_pid), 1, 'sent SIGKILL to the backend');

$node->wait_for_log(qr/server process \(PID $victim_pid\) was terminated by signal 9/,
	$log_offset);
$node->wait_for_log(qr/all server processes terminated; reinitializing/s, $log_offset);
# first a bare connection (feeding a query to a psql that cannot connect
# dies of a broken pipe), then the pool state
ok($node->poll_query_until('postgres', undef, ''),
	'the server accepts connections again');
ok( $node->poll_query_until('postgres',
		'SELECT state FROM bufpool.status()', 'ready'),
	'the pool is ready again after the crash-restart');
$victim->quit;

my $log = slurp_file($node->logfile, $log_offset);
like(
	$log,
	qr/terminated by signal 9.*all server processes terminated; reinitializing.*bufpool_ext buffer pool ready/s,
	'the log shows the crash, the reinitialization, then a new pool');

ok( $node->poll_query_until('postgres', q{
		SELECT string_agg(DISTINCT backend_type, ',' ORDER BY backend_type)
		FROM pg_stat_activity WHERE backend_type LIKE 'bufpool_ext%'},
		'bufpool_ext log writer,bufpool_ext page cleaner,bufpool_ext pool manager'),
	'the log writer, the page cleaner and the pool manager run after the crash-restart');
my $new_manager_pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'bufpool_ext pool manager'");
like($new_manager_pid, qr/^[0-9]+$/, 'one pool manager after the crash-restart');
isnt($new_manager_pid, $manager_pid, 'the pool manager is a new process');
is(join(' ', grep { -e $_ } @old_segments), '',
	'the shared memory segments of the old pool were removed');
cmp_ok(scalar(shm_segments_of($new_manager_pid)), '>=', 6,
	'the new pool manager maps a new set of segments');

is($node->safe_psql('postgres', 'SELECT sum(database_pages) FROM bufpool.stats'),
	0, 'the new pool starts empty');
is( $node->safe_psql('postgres',
		"SELECT space_id, size_pages, state FROM bufpool.spaces WHERE name = 'crash_space'"),
	"$sid|64|active",
	'the space is still registered');

# flushed data survived, and comes from disk
is($node->safe_psql('postgres', $bad_pages_sql), '',
	'every page flushed before the crash survived');
is($node->safe_psql('postgres', 'SELECT sum(number_pages_read) FROM bufpool.stats'),
	$n_pages, 'each of them was read from disk');

# the pool works: fetch, write, read back, flush
is( $node->safe_psql('postgres',
		"SELECT hit FROM bufpool.fetch_page($sid, 40)"),
	'f', 'fetch of a new page misses');
is( $node->safe_psql('postgres',
		"SELECT hit FROM bufpool.fetch_page($sid, 40)"),
	't', 'fetch of the same page hits');
ok( $node->safe_psql('postgres',
		"SELECT bufpool.write_page($sid, 40, convert_to('after the crash', 'UTF8'), 100)") > 0,
	'write after the crash returns an LSN');
is( $node->safe_psql('postgres',
		"SELECT convert_from(substring(bufpool.read_page($sid, 40) FROM 101 FOR 15), 'UTF8')"),
	'after the crash', 'read after the crash returns the written bytes');
is($node->safe_psql('postgres', "SELECT bufpool.flush($sid)"),
	1, 'flush after the crash writes the one dirty page');
is( $node->safe_psql('postgres',
		'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	0, 'no dirty page left');

# and that page is on disk: it survives a clean restart
$node->restart;
is( $node->safe_psql('postgres',
		"SELECT convert_from(substring(bufpool.read_page($sid, 40) FROM 101 FOR 15), 'UTF8')"),
	'after the crash', 'the page written after the crash survived a restart');
is($node->safe_psql('postgres', $bad_pages_sql), '',
	'the pages flushed before the crash are still there');

$node->stop;

done_testing();
