# Flushed pages survive a clean restart: their contents, the space
# registry, and a page changed and flushed again after the first flush.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n_pages = 50;

my $node = PostgreSQL::Test::Cluster->new('restart');
$node->init;
# pages must come back from their files through the sessions' own reads,
# counted in number_pages_read: no warm-restart load of the pool
$node->append_conf('postgresql.conf', "bufpool_ext.load_at_startup = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

my $sid = $node->safe_psql('postgres',
	"SELECT bufpool.create_space('restart_space', 64)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

my $payload = $node->safe_psql('postgres',
	"SELECT length(bufpool.read_page($sid, 63))");
is($payload, 8192 - 24, 'page payload is page_size minus the 24-byte header');

# SQL expressions for the payload of page p at generation g: a text head
# at offset 0 and an md5 tail at the end of the payload, zeros between.
sub head_sql { my ($g) = @_; return "convert_to(format('page %s generation %s', p, $g), 'UTF8')"; }
sub tail_sql { my ($g) = @_; return "decode(md5(p || '/' || $g), 'hex')"; }
my $tail_off = $payload - 16;

# write generation $gen to the pages listed in SQL set expression $set
sub write_pages
{
	my ($set, $gen) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(bufpool.write_page($sid, p, @{[head_sql($gen)]}, 0))
			 + count(bufpool.write_page($sid, p, @{[tail_sql($gen)]}, $tail_off))
		FROM $set AS p});
}

# the pages (of 0 .. n_pages-1) whose whole payload differs from what
# generation gen_sql (an SQL expression of p) should hold
sub bad_pages
{
	my ($gen_sql) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(p::text, ',' ORDER BY p), '')
		FROM generate_series(0, $n_pages - 1) AS p,
			 LATERAL (SELECT $gen_sql AS g) AS gen
		WHERE bufpool.read_page($sid, p) IS DISTINCT FROM
			  overlay(overlay(decode(repeat('00', $payload), 'hex')
							  PLACING convert_to(format('page %s generation %s', p, g), 'UTF8') FROM 1)
					  PLACING decode(md5(p || '/' || g), 'hex') FROM $tail_off + 1)});
}

sub pages_read
{
	return $node->safe_psql('postgres',
		'SELECT sum(number_pages_read) FROM bufpool.stats');
}

is(write_pages("generate_series(0, $n_pages - 1)", 1), 2 * $n_pages,
	"$n_pages pages written");
is( $node->safe_psql('postgres', qq{
		SELECT count(DISTINCT f.instance)
		FROM generate_series(0, $n_pages - 1) AS p,
			 LATERAL bufpool.fetch_page($sid, p) AS f}),
	2,
	'the pages are spread over both instances');
is(bad_pages('1'), '', 'every page reads back before the restart');
ok($node->safe_psql('postgres', 'SELECT bufpool.flush()') >= $n_pages,
	'flush wrote at least every written page');
is( $node->safe_psql('postgres',
		'SELECT sum(modified_database_pages) FROM bufpool.stats'),
	0, 'no dirty page left after the flush');

$node->restart;

is( $node->safe_psql('postgres',
		"SELECT space_id, size_pages, state FROM bufpool.spaces WHERE name = 'restart_space'"),
	"$sid|64|active",
	'the space is still registered after the restart');
is($node->safe_psql('postgres', 'SELECT sum(database_pages) FROM bufpool.stats'),
	0, 'the pool starts empty after the restart');
my $before = pages_read();
is(bad_pages('1'), '', 'every flushed page survived the restart');
is(pages_read() - $before, $n_pages, 'each page was read from disk once');

# change some pages after the first flush, flush again, restart
is(write_pages('unnest(ARRAY[7, 31, 49])', 2), 6, 'three pages changed');
$node->safe_psql('postgres', 'SELECT bufpool.flush()');
$node->restart;

is(bad_pages('CASE WHEN p IN (7, 31, 49) THEN 2 ELSE 1 END'), '',
	'pages changed and flushed again survived the second restart');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM bufpool.spaces WHERE name = 'restart_space'"),
	1, 'the space is listed once after the second restart');

$node->stop;

done_testing();
