# Corrupted and misdirected pages are errors naming the space and page,
# never silent.  NUMA placement is measured (bufpool.numa, move_pages):
# with numa_placement = instance and two instances, each instance's pages
# are on node i mod nodes; on a one-node machine every page is on node 0,
# a LOG line says the placement does nothing, and interleave cannot be
# told apart from no placement.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('checksum');
$node->init;
$node->append_conf('postgresql.conf', qq{
bufpool_ext.numa_placement = instance
bufpool_ext.instances = 2
bufpool_ext.size = '64MB'
bufpool_ext.chunk_size = '16MB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

# the machine's NUMA nodes with memory
opendir(my $dh, '/sys/devices/system/node') or die "no /sys/devices/system/node: $!";
my $nodes = scalar(grep { /^node\d+$/ } readdir($dh));
closedir($dh);
$nodes = 1 if $nodes < 1;

# touch every frame: write pages until the pool is full
my $fill = $node->safe_psql('postgres', "SELECT bufpool.create_space('fill', 6000)");
$node->safe_psql('postgres',
	"SELECT count(bufpool.write_page($fill, p, '\\x01'::bytea, 0)) FROM generate_series(0, 5999) p");
my $rows = $node->safe_psql('postgres',
	"SELECT pool_id, coalesce(node::text, 'none'), pages, bytes FROM bufpool.numa ORDER BY 1, 2");
diag("bufpool.numa:\n$rows");
my %placed;
my $total = 0;
for my $r (split /\n/, $rows)
{
	my ($pool, $n, $pages, $bytes) = split /\|/, $r;
	$total += $bytes;
	$placed{$pool}{$n} = $pages if $n ne 'none';
}
is($total, 64 * 1024 * 1024, 'bufpool.numa accounts for every byte of the 64 MB of chunks');
unlike($rows, qr/\|none\|/, 'and the kernel placed every page');
if ($nodes >= 2)
{
	for my $pool (0, 1)
	{
		is(join(',', sort keys %{ $placed{$pool} }), $pool % $nodes,
			"instance $pool: every allocated page is on node " . ($pool % $nodes));
	}
	is($node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT numa_policy, ',' ORDER BY numa_policy) FROM bufpool.chunks"),
		'node 0,node 1', 'the chunks show the node asked for');
}
else
{
	for my $pool (0, 1)
	{
		is(join(',', sort keys %{ $placed{$pool} }), '0',
			"one NUMA node: every allocated page of instance $pool is on node 0 (measured)");
	}
	is($node->safe_psql('postgres', 'SELECT string_agg(DISTINCT numa_policy, \',\') FROM bufpool.chunks'),
		'default', 'one node: the chunks keep the default policy');
	like(slurp_file($node->logfile),
		qr/bufpool_ext\.numa_placement is set but (NUMA is not available|this machine has \d+ NUMA node)/,
		'the server log says why memory is not placed');
	diag('one NUMA node: interleave and instance placement cannot be told apart from none here');
}
is($node->safe_psql('postgres', "SELECT string_agg(DISTINCT numa_nodes, ',') FROM bufpool.chunks"),
	'0', 'bufpool.chunks.numa_nodes (a sample) agrees: node 0') if $nodes == 1;
$node->safe_psql('postgres', "SELECT bufpool.drop_space($fill)");

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
