# Corrupted and misdirected pages are errors naming the space and page,
# never silent; numa_interleave degrades to a LOG line without NUMA.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('checksum');
$node->init;
$node->append_conf('postgresql.conf', "bufpool_ext.numa_interleave = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

# NUMA: interleaved where there are nodes, else a LOG line and no error
my $policy = $node->safe_psql('postgres',
	'SELECT string_agg(DISTINCT numa_policy, \',\') FROM bufpool.chunks');
if ($policy eq 'interleave')
{
	pass('chunks are interleaved across NUMA nodes');
}
else
{
	is($policy, 'default', 'without NUMA the chunks keep the default policy');
	like(slurp_file($node->logfile),
		qr/bufpool_ext\.numa_interleave is on but (NUMA is not available|this machine has \d+ NUMA node)/,
		'the server log says why memory is not interleaved');
}

my $sp = $node->safe_psql('postgres', "SELECT bufpool.create_space('ck', 16)");
$node->safe_psql('postgres', qq{
	SELECT bufpool.write_page($sp, p, convert_to('page ' || p, 'UTF8'))
	FROM generate_series(0, 15) p;
	SELECT bufpool.flush();
	SELECT bufpool.evict($sp, p) FROM generate_series(0, 15) p;
});
is($node->safe_psql('postgres', "SELECT count(*) FROM bufpool.pages WHERE space = $sp"),
	'0', 'no page of the space left in the pool');

my $file = $node->data_dir . "/bufpool_ext/$sp.bps";
my $page_size = 8192;

# flip one byte in the payload of page 3
open(my $fh, '+<', $file) or die "open $file: $!";
binmode $fh;
seek($fh, 3 * $page_size + 200, 0);
print $fh "\xff";

# put a copy of page 5 where page 6 belongs
my $buf;
seek($fh, 5 * $page_size, 0);
read($fh, $buf, $page_size);
seek($fh, 6 * $page_size, 0);
print $fh $buf;
close($fh);

my ($ret, $out, $err) = $node->psql('postgres', "SELECT bufpool.read_page($sp, 3)");
isnt($ret, 0, 'reading a corrupted page fails');
like($err, qr/checksum mismatch in page 3 of bufpool space $sp/, 'the error names the page and space');

($ret, $out, $err) = $node->psql('postgres', "SELECT bufpool.read_page($sp, 3)");
like($err, qr/checksum mismatch in page 3/, 'a second read fails the same way (no stuck I/O)');

($ret, $out, $err) = $node->psql('postgres', "SELECT bufpool.read_page($sp, 6)");
like($err, qr/page 6 of bufpool space $sp holds page 5 of space $sp/, 'a misdirected page is caught');

is($node->safe_psql('postgres',
	"SELECT convert_from(substr(bufpool.read_page($sp, 4), 1, 6), 'UTF8')"),
	'page 4', 'the other pages read fine');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bufpool.pages WHERE fix_count > 0'),
	'0', 'failed reads leave no pin');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM bufpool.pages WHERE space = $sp AND page_number IN (3, 6)"),
	'0', 'failed reads leave no page in the pool');

# overwriting a corrupted page in place is not possible without reading
# it; dropping the space works
$node->safe_psql('postgres', "SELECT bufpool.drop_space($sp)");
ok(!-e $file, 'drop_space removed the file');

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
