# A shrink gives the memory of the removed chunks back to the OS at once,
# even while other sessions that map those chunks stay idle.
#
# The pool grows to 256MB (2 instances x 16 chunks of 8MB); two psql
# sessions read pages (so they map every chunk) and then stay idle.  The
# pool shrinks to 32MB: /dev/shm usage (df) must drop by at least 80% of
# the 224MB removed right away, and the segment files of the 28 removed
# chunks, still mapped by the idle sessions, must hold almost no memory.
# Then the idle sessions run queries, which must work and see the right
# pages, and once they have, the removed segment files must be gone.
#
# /dev/shm may be shared with other servers, so usage is measured right
# before and right after the shrink, and the files of the removed chunks
# are checked one by one as well.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mb = 1024 * 1024;
my $n_pages = 3000;
my $removed_bytes = 224 * $mb;

my $node = PostgreSQL::Test::Cluster->new('resize_memory');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('resize_memory', $n_pages)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');
$node->safe_psql('postgres', qq{
	SELECT count(bufpool.write_page($sid, p, convert_to(format('memory page %s', p), 'UTF8')))
	FROM generate_series(0, $n_pages - 1) AS p;
	SELECT bufpool.flush()});

# pages of 0 .. n_pages-1 that do not start with their text, and the count
my $check_sql = qq{
	SELECT count(*) FILTER (WHERE substring(bufpool.read_page($sid, p) FROM 1 FOR 32)
							IS DISTINCT FROM substring(convert_to(format('memory page %s', p), 'UTF8')
													   || decode(repeat('00', 32), 'hex') FROM 1 FOR 32))
		   || '/' || count(*)
	FROM generate_series(0, $n_pages - 1) AS p};

# kB used in /dev/shm
sub shm_used_kb
{
	my $out = `df -k --output=used /dev/shm`;
	die "df failed: $?" if $?;
	my ($kb) = $out =~ /(\d+)\s*\z/;
	return $kb;
}

# /dev/shm/PostgreSQL.* files a process maps
sub shm_segments_of
{
	my ($pid) = @_;
	my %segs = map { $_ => 1 }
	  (slurp_file("/proc/$pid/maps") =~ m{(/dev/shm/PostgreSQL\.[0-9]+)}g);
	return sort keys %segs;
}

# bytes of memory a file holds (allocated blocks, not its length)
sub allocated_bytes
{
	my ($file) = @_;
	my @st = stat($file) or return 0;
	return $st[12] * 512;
}

my $used_32 = shm_used_kb();
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('256MB')"),
	'complete', 'the pool grew to 256MB');
is($node->safe_psql('postgres', 'SELECT effective_size, chunks_per_instance FROM bufpool.status()'),
	256 * $mb . '|16', '256MB: 16 chunks per instance');
my $used_256 = shm_used_kb();
note "/dev/shm used: ${used_32} kB at 32MB, ${used_256} kB at 256MB";
cmp_ok(($used_256 - $used_32) * 1024, '>=', 0.8 * $removed_bytes,
	'growing by 224MB took at least 80% of that in /dev/shm (the chunks are allocated)');

# two sessions touch the pool, then stay idle
my @idle;
my @idle_pids;
for my $i (0, 1)
{
	my $s = $node->background_psql('postgres');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	is($s->query_safe($check_sql), "0/$n_pages", "idle session $i read every page");
	push @idle, $s;
	push @idle_pids, $pid;
}
my @mapped = shm_segments_of($idle_pids[0]);
my @chunk_files = grep { -s $_ == 8 * $mb } @mapped;
is(scalar(@chunk_files), 32, 'an idle session maps the 32 chunks of the 256MB pool');

# the shrink, measured tightly
my $before = shm_used_kb();
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('32MB')"),
	'complete', 'the pool shrank to 32MB');
my $after = shm_used_kb();
my $dropped = ($before - $after) * 1024;
diag sprintf('/dev/shm used dropped by %.1f MB (%.0f%% of the 224MB removed)',
	$dropped / $mb, 100 * $dropped / $removed_bytes);
cmp_ok($dropped, '>=', 0.8 * $removed_bytes,
	'/dev/shm usage dropped by at least 80% of the removed 224MB at once');
is($node->safe_psql('postgres', 'SELECT effective_size, chunks_per_instance FROM bufpool.status()'),
	32 * $mb . '|2', '32MB: 2 chunks per instance');

# which segments went away: mapped by the idle session, not by a new one
my $fresh = $node->background_psql('postgres');
my $fresh_pid = $fresh->query_safe('SELECT pg_backend_pid()');
chomp $fresh_pid;
is($fresh->query_safe($check_sql), "0/$n_pages", 'a new session reads every page');
my %now = map { $_ => 1 } shm_segments_of($fresh_pid);
is(scalar(grep { -s $_ == 8 * $mb } keys %now), 4, 'a new session maps the 4 chunks of the 32MB pool');
my @removed = grep { !$now{$_} } @chunk_files;
is(scalar(@removed), 28, '28 chunks were removed');

# the idle sessions still map them (they have run nothing), yet their
# memory is gone
for my $pid (@idle_pids)
{
	my %m = map { $_ => 1 } shm_segments_of($pid);
	is(scalar(grep { $m{$_} } @removed), 28,
		"idle session (pid $pid) still maps the 28 removed chunks");
}
my $held = 0;
$held += allocated_bytes($_) for @removed;
cmp_ok($held, '<', 0.2 * $removed_bytes,
	sprintf('the removed chunks hold %.1f MB of memory while still mapped', $held / $mb));

# the idle sessions wake up: their queries work and see the right pages
for my $i (0, 1)
{
	is($idle[$i]->query_safe($check_sql), "0/$n_pages",
		"idle session $i reads every page after the shrink");
	is( $idle[$i]->query_safe(qq{
			SELECT hit IS NOT NULL FROM bufpool.fetch_page($sid, $i);
			SELECT count(*) FROM bufpool.chunks}),
		"t\n4", "idle session $i sees the 4 chunks");
}
is(join(' ', grep { -e $_ } @removed), '',
	'the segment files of the removed chunks are gone once the idle sessions ran');
# the same for anything else of the old pool (the page hashes rebuilt for
# the smaller pool)
my @unused = grep { !$now{$_} } @mapped;
note scalar(@unused) . ' segments mapped by the idle sessions are not used by the 32MB pool';
is(join(' ', grep { -e $_ } @unused), '',
	'no segment of the old pool that the new one does not use is left in /dev/shm');
my @now_mapped = shm_segments_of($idle_pids[0]);
is(scalar(grep { -s $_ == 8 * $mb } @now_mapped), 4, 'the idle session now maps 4 chunks');

$_->quit for @idle, $fresh;

is($node->safe_psql('postgres', $check_sql), "0/$n_pages", 'every page is intact');
$node->stop;

done_testing();
