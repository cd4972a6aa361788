# Chunks in explicit huge pages (bufpool_ext.huge_pages, a hugetlbfs
# mount).  scripts/test.sh, as root, reserves 64 pages of 2 MB on top of
# what the system had and mounts hugetlbfs for the postgres account
# (BPX_HUGE_DIR, BPX_HUGE_PAGES), and puts both back afterwards; without
# them the test skips.
#
#	- huge_pages = on: the pool builds in huge pages, page_size_kb 2048
#	  read back from the kernel, the reserve drops by the pool's pages, the
#	  memory summary's chunk instrument stays exact; pages are written
#	  and read; a grow adds huge chunks, a shrink gives their pages back
#	  at once and removes their files;
#	- a second server with huge_pages = on and no free huge pages left:
#	  the pool fails with an error naming the cause; with try it builds,
#	  the chunks that found no huge page on normal pages, and a LOG line
#	  says why; a grow of the first server with none free fails clearly;
#	- kill -9 of a backend (crash-restart): the old chunk files are
#	  removed, the new pool takes exactly its own pages, nothing leaks;
#	- stopping the servers removes every file and gives every page back.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = $ENV{BPX_HUGE_DIR} // '';
my $reserved = $ENV{BPX_HUGE_PAGES} // '';
plan skip_all => 'needs huge pages reserved and a hugetlbfs mount (scripts/test.sh makes both as root)'
  unless $dir ne '' && $reserved ne '' && -d $dir;

my $sys = '/sys/kernel/mm/hugepages/hugepages-2048kB';

# huge pages of 2 MB nobody has reserved or taken
sub available
{
	my $free = slurp_file("$sys/free_hugepages");
	my $resv = slurp_file("$sys/resv_hugepages");
	chomp($free, $resv);
	return $free - $resv;
}

sub files
{
	my ($port) = @_;
	opendir(my $dh, $dir) or die "opendir $dir: $!";
	my @f = grep { /^bufpool_ext\.$port\./ } readdir($dh);
	closedir($dh);
	return scalar(@f);
}

sub wait_state
{
	my ($node, $state) = @_;
	return $node->poll_query_until('postgres',
		"SELECT state = '$state' FROM bufpool.status()", 't');
}

my $avail0 = available();
cmp_ok($avail0, '>=', 64, "$avail0 huge pages of 2 MB available for the test");

my $node = PostgreSQL::Test::Cluster->new('huge');
$node->init;
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
bufpool_ext.size = '64MB'
bufpool_ext.chunk_size = '16MB'
bufpool_ext.huge_pages = on
bufpool_ext.huge_page_dir = '$dir'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
ok(wait_state($node, 'ready'), 'the pool builds in huge pages');
my $port = $node->port;

is($node->safe_psql('postgres',
		"SELECT count(*) || ' chunks, ' || string_agg(DISTINCT page_size_kb::text, ',') || ' kB pages' FROM bufpool.chunks"),
	'4 chunks, 2048 kB pages', 'four chunks, mapped with 2 MB pages (KernelPageSize read back)');
is($avail0 - available(), 32, 'the reserve dropped by the pool\'s 32 huge pages');
is(files($port), 4, 'one hugetlbfs file a chunk');
is($node->safe_psql('postgres', q{
	SELECT sum(current_number_of_bytes_used) FROM bufpool.memory_summary_global_by_event_name
	WHERE event_name IN ('memory/bufpool/chunk', 'memory/bufpool/block_control')}),
	64 * 1024 * 1024, 'the memory summary counts the 64 MB of chunks exactly');

# pages through the pool
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('huge', 4000)");
$node->safe_psql('postgres', qq{
	SELECT count(bufpool.write_page($sid, p, convert_to('page ' || p, 'UTF8'), 0))
	FROM generate_series(0, 3999) p});
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(0, 3999) p
	WHERE convert_from(substring(bufpool.read_page($sid, p) FROM 1 FOR length('page ' || p)), 'UTF8') <> 'page ' || p}),
	'0', '4000 pages written and read back through the huge-page pool');

# grow and shrink
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('96MB')"), 'complete', 'grow to 96 MB');
is($node->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE page_size_kb = 2048) || '/' || count(*) FROM bufpool.chunks"),
	'6/6', 'the grow\'s chunks are huge pages too');
is($avail0 - available(), 48, 'the reserve dropped by 48 pages');
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('32MB')"), 'complete', 'shrink to 32 MB');
is($avail0 - available(), 16, 'the shrink gave 32 huge pages back at once');
is(files($port), 2, 'and removed the files of the 4 chunks');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM generate_series(0, 3999) p
	WHERE convert_from(substring(bufpool.read_page($sid, p) FROM 1 FOR length('page ' || p)), 'UTF8') <> 'page ' || p}),
	'0', 'every page still reads back after the resizes');
is($node->safe_psql('postgres', "SELECT phase FROM bufpool.resize('64MB')"), 'complete', 'back to 64 MB');

# ---- a second server when no huge page is free
my $left = available();
my $node2 = PostgreSQL::Test::Cluster->new('huge2');
$node2->init;
my $size2 = ($left + 32) * 2;
$node2->append_conf('postgresql.conf', qq{
bufpool_ext.size = '${size2}MB'
bufpool_ext.chunk_size = '16MB'
bufpool_ext.huge_pages = on
bufpool_ext.huge_page_dir = '$dir'
});
$node2->start;
$node2->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
ok(wait_state($node2, 'failed'), "huge_pages = on, $size2 MB with $left huge pages free: the pool fails");
my ($rc, $out, $err) = $node2->psql('postgres', 'SELECT bufpool.create_space(\'x\', 10)');
like($err, qr/not enough free huge pages for \d+ MB: \d+ of 2048 kB free/,
	'a session gets the cause: not enough free huge pages')
  or diag($err);
is(files($node2->port), 0, 'the failed build left no file');
is(available(), $left, 'and took no huge page');
$node2->stop;

$node2->append_conf('postgresql.conf', "bufpool_ext.huge_pages = try\n");
$node2->start;
ok(wait_state($node2, 'ready'), 'with try the same pool builds');
my $huge2 = $node2->safe_psql('postgres',
	"SELECT count(*) FILTER (WHERE page_size_kb = 2048) || '/' || count(*) FILTER (WHERE page_size_kb = 4) FROM bufpool.chunks");
is($huge2, ($left / 8) . '/' . ($size2 / 16 - $left / 8),
	"huge pages for the chunks that found them, normal pages for the rest ($huge2)");
ok($node2->log_contains(qr/bufpool_ext: chunk \d+ of instance \d+ uses normal pages: not enough free huge pages/),
	'a LOG line says why');
is(available(), 0, 'no huge page is left');

# a grow of the first server with none free fails, saying why
($rc, $out, $err) = $node->psql('postgres', "SELECT phase, message FROM bufpool.resize('96MB')");
unlike($out, qr/^complete/, 'a grow with huge_pages = on and none free does not complete')
  or diag("$out $err");
like($err . $out, qr/not enough free huge pages/, 'and says why') or diag("$out $err");
is($node->safe_psql('postgres', 'SELECT effective_size FROM bufpool.status()'), 64 * 1024 * 1024,
	'the pool stays at 64 MB');
$node2->stop;
is(files($node2->port), 0, 'the second server\'s files are gone after its stop');
is(available(), $left, 'and its huge pages are back');

# ---- crash-restart: nothing leaks
my $before = available();
my $victim = $node->background_psql('postgres');
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
chomp $pid;
kill 'KILL', $pid;
$victim->{run}->kill_kill;
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'the server did not come back';
ok(wait_state($node, 'ready'), 'the pool is rebuilt after the crash-restart');
ok($node->log_contains(qr/removed 4 huge page chunk files as shared memory went away/),
	'the old pool\'s 4 chunk files were removed at the crash-restart');
is(files($port), 4, 'only the new pool\'s 4 files are there');
is(available(), $before, 'the new pool holds exactly the huge pages the old one did: none leaked');

$node->stop;
is(files($port), 0, 'after the stop no file is left');
is(available(), $avail0, 'and every huge page is back');
done_testing();
