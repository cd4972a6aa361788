# Helpers of the TAP tests that inject faults (014_write_faults,
# 017_log_full) or need a pool that cannot be built (004_bad_config,
# 019_heat_views): loaded from sql-tests/t, which scripts/test.sh puts on
# prove's include path.

package BufpoolFaults;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
our @EXPORT = qw(wrong_pages set_fault failed_pool_node);

# pages from..to of space $sid whose start is not "<tag> <page>"
sub wrong_pages
{
	my ($node, $sid, $from, $to, $tag) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(p::text, ','), '')
		FROM generate_series($from, $to) AS p
		WHERE substring(bufpool.read_page($sid, p) FROM 1 FOR length(format('%s %s', '$tag', p)))
			  <> convert_to(format('%s %s', '$tag', p), 'UTF8')});
}

# bufpool_ext.debug_fail_writes for the whole cluster ('none' resets it)
sub set_fault
{
	my ($node, $fault) = @_;
	$node->safe_psql('postgres',
		$fault eq 'none'
		? 'ALTER SYSTEM RESET bufpool_ext.debug_fail_writes'
		: "ALTER SYSTEM SET bufpool_ext.debug_fail_writes = '$fault'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	# every process, background workers too, has reloaded after this
	sleep(1);
	return;
}

# A started node whose pool cannot be built (1 MB chunks cannot hold a
# 64 kB page's frames and descriptors), with the extension created: the
# pool manager fails and retries, the server stays up.
sub failed_pool_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
bufpool_ext.page_size = 65536
bufpool_ext.chunk_size = '1MB'
bufpool_ext.size = '2MB'
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
	return $node;
}

1;
