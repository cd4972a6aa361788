# Helpers of the TAP tests that inject faults (014_write_faults,
# kill_server for 013_crash_loop, 022 and 023,
# 017_log_full), pause the page cleaners, or need a pool that cannot be
# built (004_bad_config, 019_heat_views): loaded from sql-tests/t, which
# scripts/test.sh puts on prove's include path.  Faults go through the
# test module bufpool_test (bufpool_ext's fault points); it is created in
# the database postgres when first needed.

package BufpoolFaults;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use Time::HiRes qw(time usleep);
our @EXPORT = qw(wrong_pages set_fault pause_cleaners resume_cleaners failed_pool_node kill_server);

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

# A write fault for every process of the cluster, the background workers
# included: 'log_eio', 'log_enospc', 'data_eio', 'data_enospc', or 'none'
# to clear both kinds.  persist => 1 keeps it across restarts and
# crash-restarts (the node must preload bufpool_test after bufpool_ext).
# It holds for every process as soon as this returns.
sub set_fault
{
	my ($node, $fault, %opts) = @_;
	my $persist = $opts{persist} ? 'true' : 'false';
	my $sql = qq{CREATE EXTENSION IF NOT EXISTS bufpool_test;
		SELECT bufpool_test.fault_detach('redo-write');
		SELECT bufpool_test.fault_detach('data-write');};
	if ($fault ne 'none')
	{
		my ($kind, $errno) = $fault =~ /^(log|data)_(eio|enospc)$/
		  or die "unknown fault $fault";
		my $point = $kind eq 'log' ? 'redo-write' : 'data-write';
		$sql .= "SELECT bufpool_test.fault_attach('$point', '$errno', '', 0, $persist);";
	}
	$node->safe_psql('postgres', $sql);
	return;
}

# Pause the page cleaners' periodic passes (they still flush at
# shutdown), for a test that needs a quiet pool; persist => 1 as above.
sub pause_cleaners
{
	my ($node, %opts) = @_;
	my $persist = $opts{persist} ? 'true' : 'false';
	$node->safe_psql('postgres', qq{CREATE EXTENSION IF NOT EXISTS bufpool_test;
		SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip', '', 0, $persist)});
	return;
}

sub resume_cleaners
{
	my ($node) = @_;
	$node->safe_psql('postgres', "SELECT bufpool_test.fault_detach('page-cleaner-pass')");
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

# every child of a process, from /proc
sub children_of
{
	my ($ppid) = @_;
	my @kids;
	opendir(my $dh, '/proc') or die "cannot read /proc: $!";
	for my $pid (grep { /^[0-9]+$/ } readdir($dh))
	{
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my $stat = <$fh>;
		close($fh);
		next unless defined $stat && $stat =~ /\)\s+\S+\s+([0-9]+)/;
		push @kids, $pid if $1 == $ppid;
	}
	closedir($dh);
	return @kids;
}

# SIGKILL to the postmaster and every child at once, as a crash of the
# whole machine stops them; returns once all are gone (the node can then
# be started again)
sub kill_server
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	my @kids = children_of($pm);
	kill('KILL', $pm, @kids);
	my $deadline = time() + 30;
	usleep(20_000) while (kill(0, $pm, @kids) && time() < $deadline);
	$node->_update_pid(-1);
	return;
}

1;
