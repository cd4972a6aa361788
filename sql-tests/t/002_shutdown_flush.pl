# A fast shutdown writes every dirty page: pages modified without any
# bufpool.flush() are on disk only after the stop, and read back after the
# next start.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use BufpoolFaults;

my $n_pages = 200;

my $node = PostgreSQL::Test::Cluster->new('shutdown_flush');
$node->init;
# The page cleaners are paused: the test checks that no page reached the
# disk before the shutdown, and an idle cleaner would write them a second
# after the last change.  (They still flush at shutdown, which is what is
# tested.)  The pages must then come back from their files through the
# sessions' own reads, counted in number_pages_read: no warm-restart load.
$node->append_conf('postgresql.conf', "bufpool_ext.load_at_startup = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
pause_cleaners($node);

my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('shutdown_space', 256)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

my $file = $node->safe_psql('postgres',
	"SELECT file_path FROM bufpool.spaces WHERE space_id = $sid");
$file = $node->data_dir . "/$file" unless $file =~ m{^/};
ok(-f $file, 'the space file exists');

# number of pages of the space file holding a "shutdown page N" marker
sub markers_on_disk
{
	my $data = slurp_file($file);
	my @found = $data =~ /shutdown page [0-9]+ /g;
	return scalar @found;
}

is( $node->safe_psql('postgres', qq{
		SELECT count(bufpool.write_page($sid, p,
					 convert_to(format('shutdown page %s ', p), 'UTF8'), 0))
			 + count(bufpool.write_page($sid, p, decode(md5(p::text), 'hex'), 4000))
		FROM generate_series(0, $n_pages - 1) AS p}),
	2 * $n_pages,
	"$n_pages pages written, no flush");

is( $node->safe_psql('postgres',
		'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	$n_pages, 'every written page is dirty in the pool');
is(markers_on_disk(), 0, 'no written page is on disk before the shutdown');

$node->stop('fast');

is(markers_on_disk(), $n_pages, 'the fast shutdown wrote every dirty page');

$node->start;

is( $node->safe_psql('postgres',
		'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	0, 'no dirty page after the start');
my $read_before = $node->safe_psql('postgres',
	'SELECT sum(number_pages_read) FROM bufpool.stats');
is( $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(p::text, ',' ORDER BY p), '')
		FROM generate_series(0, $n_pages - 1) AS p
		WHERE substring(bufpool.read_page($sid, p) FROM 1 FOR 40)
				IS DISTINCT FROM substring(convert_to(format('shutdown page %s ', p), 'UTF8')
										   || decode(repeat('00', 40), 'hex') FROM 1 FOR 40)
		   OR substring(bufpool.read_page($sid, p) FROM 4001 FOR 16)
				IS DISTINCT FROM decode(md5(p::text), 'hex')}),
	'',
	'every payload is there after the restart');
is( $node->safe_psql('postgres',
		'SELECT sum(number_pages_read) FROM bufpool.stats') - $read_before,
	$n_pages, 'each page was read from disk');
is( $node->safe_psql('postgres',
		"SELECT bufpool.read_page($sid, $n_pages) = decode(repeat('00', 8168), 'hex')"),
	't', 'a page never written still reads as zeros');

$node->stop;

done_testing();
