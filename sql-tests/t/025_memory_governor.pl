# The memory governor against the kernel's real signals: the cluster runs
# in a memory cgroup with a limit (made by scripts/test.sh, which must run
# as root; v1 here, v2 where the memory controller is delegated), its pool
# full, and a memory hog in the same cgroup grows past what the limit
# leaves.  With the governor on: the pool shrinks, the hog and every
# session survive, the cgroup counts no OOM kill, acknowledged writes are
# all there; when the hog exits, the pool grows back to its configured
# size.  Control: the same hog with the governor off gets an OOM kill in
# the cgroup (or dies), so the test can fail.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $cg = $ENV{BPX_CGROUP} // '';
plan skip_all => 'no memory cgroup for this test (scripts/test.sh makes one when it runs as root, under a cgroup v1 memory hierarchy or a v2 one with the memory controller)'
  unless $cg ne '' && -w "$cg/cgroup.procs";
my $v1 = -e "$cg/memory.limit_in_bytes";

sub cg_write
{
	my ($file, $value) = @_;
	open my $fh, '>', "$cg/$file" or die "$cg/$file: $!";
	print $fh $value or die "$cg/$file: $!";
	close $fh or die "$cg/$file: $!";
	return;
}

sub oom_kills
{
	my $s = slurp_file("$cg/" . ($v1 ? 'memory.oom_control' : 'memory.events'));
	return $s =~ /oom_kill (\d+)/ ? $1 : 0;
}

my $mb = 1024 * 1024;
my $limit_mb = 768;
# this process, and so the cluster and the hog, inside the cgroup
cg_write('cgroup.procs', $$);
cg_write($v1 ? 'memory.limit_in_bytes' : 'memory.max', $limit_mb * $mb);

my $node = PostgreSQL::Test::Cluster->new('governor');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_buffers = 16MB
bufpool_ext.size = '256MB'
bufpool_ext.chunk_size = '32MB'
bufpool_ext.instances = 1
bufpool_ext.memory_governor = on
bufpool_ext.min_size = '32MB'
bufpool_ext.regrow_delay = '2s'
bufpool_ext.load_at_startup = off
bufpool_ext.dump_at_shutdown = off
bufpool_ext.flush_log_at_commit = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $n_pages = 256 * $mb / 8192;
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('fill', $n_pages)");
my $wid = $node->safe_psql('postgres', "SELECT bufpool.create_space('acks', 16)");

# fill the pool: every frame touched
sub fill
{
	$node->safe_psql('postgres',
		"SELECT count(bufpool.read_page($sid, g)) FROM generate_series(0, $n_pages - 1) g");
	return;
}
fill();
my ($source, $path) = split /\|/, $node->safe_psql('postgres',
	'SELECT source, source_path FROM bufpool.memory_pressure');
is($source, $v1 ? 'cgroup v1' : 'cgroup v2', "the governor reads the cgroup ($source)");
is($path, $cg, 'the cluster\'s own cgroup');
my $ws0 = $node->safe_psql('postgres', 'SELECT working_set / 1048576 FROM bufpool.memory_pressure');
note "working set with the pool full: $ws0 MB of $limit_mb MB";

# the hog: 16 MB more every 200 ms up to $hog_mb, then holds it until told
my $hog_mb = $limit_mb - $ws0 + 96;    # 96 MB more than the limit leaves
my $flag = PostgreSQL::Test::Utils::tempdir() . '/hog_done';
sub start_hog
{
	my ($out) = @_;
	unlink $flag;
	return IPC::Run::start(
		[
			'perl', '-e', q{
			my ($mb, $flag) = @ARGV; my @m;
			for my $i (1 .. int($mb / 16)) { $m[$i] = "x" x (16 << 20); select(undef, undef, undef, 0.2); }
			print "full\n"; $| = 1; sleep 1 while !-e $flag; print "done\n";
		}, $hog_mb, $flag
		],
		'>', $out, '2>&1');
}

my $kills0 = oom_kills();
my $hog_out = '';
my $hog = start_hog(\$hog_out);
# acknowledged writes while the hog grows
my %acked;
my $i = 0;
while ($hog_out !~ /full/ && $i < 2000)
{
	$hog->pump_nb;
	my $p = $i % 16;
	$node->safe_psql('postgres', "SELECT bufpool.write_page($wid, $p, convert_to('v$i', 'UTF8'), 0)");
	$acked{$p} = $i;
	$i++;
	usleep(20_000);
}
for (1 .. 300)
{
	last if $hog_out =~ /full/ || !$hog->pumpable;
	$hog->pump_nb;
	usleep(100_000);
}
like($hog_out, qr/full/, "the hog got its $hog_mb MB");
is(oom_kills(), $kills0, 'no OOM kill in the cgroup');
my $size_low = $node->safe_psql('postgres', 'SELECT current_size / 1048576 FROM bufpool.memory_pressure');
cmp_ok($size_low, '<', 256, "the pool shrank to $size_low MB");
my $actions = $node->safe_psql('postgres',
	"SELECT string_agg(DISTINCT action, ',') FROM bufpool.memory_governor_log WHERE action <> 'level'");
like($actions, qr/shrink/, "the governor shrank it ($actions)");
my ($trigger, $events) = split /\|/, $node->safe_psql('postgres',
	'SELECT psi_trigger, psi_trigger_events FROM bufpool.memory_pressure');
like($trigger, qr/^some \d+ 2000000 on \S*memory/, "a PSI trigger is armed ($trigger)");
note "the PSI trigger fired $events times while the hog grew";
my $bad = 0;
for my $p (keys %acked)
{
	my $v = $node->safe_psql('postgres',
		"SELECT convert_from(rtrim(substring(bufpool.read_page($wid, $p) FROM 1 FOR 8), '\\x00'::bytea), 'UTF8')");
	$bad++ unless $v eq "v$acked{$p}";
}
is($bad, 0, 'every acknowledged write is there (' . scalar(keys %acked) . ' pages, ' . $i . ' writes)');
ok(!$node->log_contains(qr/terminated by signal 9/), 'no server process was killed');

# the hog exits: the pool grows back
open my $fh, '>', $flag or die;
close $fh;
$hog->finish;
my $size = 0;
for (1 .. 600)
{
	$size = $node->safe_psql('postgres', 'SELECT current_size / 1048576 FROM bufpool.memory_pressure');
	last if $size == 256;
	usleep(100_000);
}
is($size, '256', 'the pool grows back to its configured size once the hog is gone');

# control: the governor off, the pool full again, the same hog
$node->safe_psql('postgres', "ALTER SYSTEM SET bufpool_ext.memory_governor = off; SELECT pg_reload_conf()");
usleep(1_500_000);
fill();
my $kills1 = oom_kills();
$hog_out = '';
$hog = start_hog(\$hog_out);
for (1 .. 600)
{
	$hog->pump_nb if $hog->pumpable;
	last if $hog_out =~ /full/ || !$hog->pumpable || oom_kills() > $kills1;
	usleep(100_000);
}
my $killed = oom_kills() > $kills1 || $hog_out !~ /full/;
ok($killed, 'control, the governor off: the same hog gets an OOM kill in the cgroup (' .
	(oom_kills() - $kills1) . ' kill(s))');
$hog->kill_kill;
$node->stop('immediate');

# leave the cgroup (so that scripts/test.sh can remove it)
my ($parent) = $cg =~ m{^(.*)/[^/]+$};
eval { open my $p, '>', "$parent/cgroup.procs" or die; print $p $$; close $p; };
done_testing();
