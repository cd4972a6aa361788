# Crash loop: acknowledged writes survive SIGKILL of the whole server.
#
# Two psql clients write pages of one space with
# bufpool_ext.flush_log_at_commit = 1 while the page cleaners flush, the
# log writer checkpoints every second and the redo log (8 MB) wraps
# around.  Client c owns the pages p with p % 2 = c and writes
# "c<c> <seq>" (seq grows for ever, across cycles) at offset 0 of a
# random page of its own; psql prints "ack <c> <seq> <page>" once
# bufpool.write_page has returned.  After a moment the postmaster and
# every child get SIGKILL at once; the server is started again, redo
# recovery runs, and for every page:
#
#	- the value read back is at least the last one acknowledged for it
#	  (a write in flight at the kill may or may not be there);
#	- it is a value that was really sent for that page;
#	- the page reads without a checksum error (every page of the space
#	  is read from its file after the restart).
#
# BPX_CRASH_CYCLES sets the number of cycles (default 20).
# BPX_CRASH_COMPRESSION=algorithm:key_block_size (scripts/test.sh runs
# lz4:2048 as a second pass) makes the space compressed, and one write in
# four adds 6000 random bytes after the value, so pages move between
# compressed slots and the overflow file across the crashes.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BufpoolFaults;
use CutFS;

my $cycles = $ENV{BPX_CRASH_CYCLES} // 20;
my $n_pages = 200;
my $clients = 2;
my $stmts = 40000;    # statements each client is given per cycle (more than it gets through)

my $node = PostgreSQL::Test::Cluster->new('crash_loop');
$node->init;
# under BPX_ON_CUTFS=1, on the power-cut file system (CutFS::for_node)
my $fs = CutFS::for_node($node);
$node->append_conf(
	'postgresql.conf', qq{
restart_after_crash = on
bufpool_ext.flush_log_at_commit = 1
bufpool_ext.log_file_size = '8MB'
bufpool_ext.log_buffer_size = '1MB'
bufpool_ext.checkpoint_timeout = '1s'
bufpool_ext.io_capacity = 2000
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my ($zip, $kbs) = split /:/, ($ENV{BPX_CRASH_COMPRESSION} // '');
my $sid = $node->safe_psql('postgres',
	$zip ? "SELECT bufpool.create_space('crash_loop', $n_pages, '$zip', $kbs)"
	  : "SELECT bufpool.create_space('crash_loop', $n_pages)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');

my $page_of = '';    # vec($page_of, seq, 16): the page seq was sent to
my %acked;    # page => highest acknowledged seq
my $seq = 0;

# the values of all pages: page => seq (undef for a page never written)
sub read_values
{
	my $out = $node->safe_psql(
		'postgres', qq{
		SELECT p, convert_from(rtrim(substring(bufpool.read_page($sid, p) FROM 1 FOR 24),
									 '\\x00'::bytea), 'UTF8')
		FROM generate_series(0, $n_pages - 1) AS p ORDER BY p});
	my %v;
	for my $line (split /\n/, $out)
	{
		my ($p, $text) = split /\|/, $line, 2;
		$v{$p} = ($text =~ /^c[0-9]+ ([0-9]+)$/) ? $1 : undef;
	}
	return %v;
}

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $total_acks = 0;
my $total_applied = 0;
for my $cycle (1 .. $cycles)
{
	my @runs;
	for my $c (0 .. $clients - 1)
	{
		my $script = '';
		for (1 .. $stmts)
		{
			my $page = $c + $clients * int(rand($n_pages / $clients));
			$seq++;
			vec($page_of, $seq, 16) = $page;
			my $val = sprintf('c%d %d', $c, $seq);
			# the random bytes start at offset 24, after the value and its zeros
			my $tail = $zip && rand() < 0.25
			  ? " || '\\x" . ('00' x (23 - length($val))) . "'::bytea"
			  . " || (SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, 375))"
			  : '';
			$script .=
			  "SELECT 'ack $c $seq $page' FROM bufpool.write_page($sid, $page, convert_to('$val', 'UTF8') || '\\x00'::bytea$tail, 0);\n";
		}
		# files, not pipes: IPC::Run feeds pipes only while we pump them
		my $in = "$tmp/client$c.sql";
		my $out = "$tmp/client$c.out";
		my $err = "$tmp/client$c.err";
		open(my $fh, '>', $in) or die "cannot write $in: $!";
		print $fh $script;
		close($fh);
		# line-buffered, so every acknowledgement printed reaches the file
		my $h = IPC::Run::start(
			[
				'stdbuf', '-oL', 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1',
				'-d', $node->connstr('postgres'), '-f', $in
			],
			'<', \undef, '>', $out, '2>', $err);
		push @runs, [ $h, $out, $err ];
	}

	# and one that flushes and checkpoints (write-ahead rule, checkpoints under load)
	{
		my $in = "$tmp/flusher.sql";
		open(my $fh, '>', $in) or die "cannot write $in: $!";
		print $fh "SELECT bufpool.flush(); SELECT bufpool.checkpoint(); SELECT pg_sleep(0.05);\n" x 2000;
		close($fh);
		my $h = IPC::Run::start(
			[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-f', $in ],
			'<', \undef, '>', "$tmp/flusher.out", '2>', "$tmp/flusher.err");
		push @runs, [ $h, "$tmp/flusher.out", "$tmp/flusher.err" ];
	}

	# let them write (and the cleaners flush, the log writer checkpoint)
	usleep(int((0.6 + rand(1.2)) * 1_000_000));

	kill_server($node);
	for my $r (@runs)
	{
		eval { $r->[0]->finish; };
		# the kill itself only loses connections
		my @errors = grep { /ERROR|PANIC/ } split(/\n/, slurp_file($r->[2]));
		is(join("\n", @errors), '', "cycle $cycle: no client error before the kill");
		for my $line (split /\n/, slurp_file($r->[1]))
		{
			next unless $line =~ /^ack ([0-9]+) ([0-9]+) ([0-9]+)$/;
			my ($c, $s, $p) = ($1, $2, $3);
			$acked{$p} = $s if !defined $acked{$p} || $acked{$p} < $s;
			$total_acks++;
		}
	}
	CutFS::crash_cut($fs);
	$node->start;

	my %v = read_values();
	my @lost;
	my @alien;
	for my $p (0 .. $n_pages - 1)
	{
		my $want = $acked{$p};
		my $got = $v{$p};
		push @lost, "$p (acked $want, read " . ($got // 'nothing') . ')'
		  if defined $want && (!defined $got || $got < $want);
		push @alien, "$p ($got)"
		  if defined $got && ($got > $seq || vec($page_of, $got, 16) != $p);
	}
	splice(@lost, 10, $#lost, '...') if @lost > 11;
	is(join(', ', @lost), '', "cycle $cycle: every acknowledged write is there");
	is(join(', ', @alien), '', "cycle $cycle: every page holds a value sent to it");
	my $applied = $node->safe_psql('postgres',
		'SELECT recovery_applied FROM bufpool.redo_status');
	$total_applied += $applied;
	note "cycle $cycle: $total_acks acknowledgements so far, recovery applied $applied records";
}

cmp_ok($total_acks, '>=', $cycles * 10, "the clients got writes acknowledged ($total_acks)");
cmp_ok($total_applied, '>', 0, "recovery applied redo records ($total_applied in all)");

if ($zip)
{
	# pages 0 and 1 keep their value with random bytes after it (they
	# overflow), pages 2 and 3 with zeros after it (they compress)
	$node->safe_psql('postgres', qq{
		SELECT bufpool.write_page($sid, p, substring(bufpool.read_page($sid, p) FROM 1 FOR 24)
			|| (SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, 375)), 0)
		FROM generate_series(0, 1) p;
		SELECT bufpool.write_page($sid, p, substring(bufpool.read_page($sid, p) FROM 1 FOR 24)
			|| decode(repeat('00', 8000), 'hex'), 0)
		FROM generate_series(2, 3) p;
		SELECT bufpool.flush();});
	my ($ops, $ok) = split /\|/, $node->safe_psql('postgres',
		"SELECT compress_ops, compress_ops_ok FROM bufpool.cmp_per_space WHERE space_id = $sid");
	cmp_ok($ok, '>=', 2, "compressed space: pages compressed into their slots ($ok since the last start)");
	cmp_ok($ops - $ok, '>=', 2, 'and pages kept whole in the overflow file (' . ($ops - $ok) . ')');
}

# every page of the space is read from its file with a valid checksum
# (restart, so nothing is in the pool)
$node->restart;
is( $node->safe_psql('postgres', qq{
		SELECT count(bufpool.read_page($sid, p)) FROM generate_series(0, $n_pages - 1) AS p}),
	$n_pages,
	'every page reads back with a valid checksum after a clean restart');
my %v = read_values();
my @lost = grep { defined $acked{$_} && (!defined $v{$_} || $v{$_} < $acked{$_}) } keys %acked;
is(scalar(@lost), 0, 'and still holds its acknowledged value');


my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|was terminated by signal (?!9)/, 'no PANIC and no crash other than the kills');
$node->stop;
$fs->unmount if $fs;
done_testing();
