# The power-cut file system itself (test/cutfs): what it keeps and what
# it drops when the power is cut.  No PostgreSQL here; the durability
# tests that use it are 022_power_cut.pl and 023_crash_scenarios_cutfs.pl.

use strict;
use warnings;

use Fcntl qw(O_RDONLY O_WRONLY O_RDWR O_CREAT O_DIRECTORY);
use IO::Handle;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use CutFS;

if (my $why = CutFS::unavailable())
{
	plan skip_all => $why;
}

my $fs = CutFS->new('selftest')->mount;
my $d = $fs->dir;

# write at an offset; fsync the file when asked
sub put
{
	my ($path, $off, $data, $sync) = @_;
	sysopen(my $fh, $path, O_RDWR | O_CREAT, 0600) or die "open $path: $!";
	sysseek($fh, $off, 0) or die "seek $path: $!";
	syswrite($fh, $data) == length($data) or die "write $path: $!";
	$fh->sync or die "fsync $path: $!" if $sync;
	close($fh);
	return;
}

sub get
{
	my ($path) = @_;
	return undef unless -e $path;
	open(my $fh, '<:raw', $path) or die "open $path: $!";
	local $/;
	my $data = <$fh> // '';
	close($fh);
	return $data;
}

sub sync_dir
{
	my ($dir) = @_;
	sysopen(my $fh, $dir, O_RDONLY | O_DIRECTORY) or die "open $dir: $!";
	$fh->sync or die "fsync $dir: $!";
	close($fh);
	return;
}

# --- data
put("$d/durable", 0, 'synced data', 1);
sync_dir($d);
put("$d/durable", 0, 'UNSYNCED', 0);
is(get("$d/durable"), 'UNSYNCEData', 'an unsynced write is visible before the cut');
my $st = $fs->status;
is($st->{unsynced_writes}, 1, 'the control file counts it');
$st = $fs->cut(seed => 1);
is(get("$d/durable"), 'synced data', 'a synced write survives a cut, an unsynced one does not');
is($st->{last_cut_dropped_writes}, 1, 'the cut says it dropped one write');

put("$d/durable", 100, 'far', 0);
is(length(get("$d/durable")), 103, 'an unsynced write past the end grows the file');
$fs->cut;
is(get("$d/durable"), 'synced data', '... and the cut gives back its synced size');

truncate("$d/durable", 4) or die "truncate: $!";
is(get("$d/durable"), 'sync', 'an unsynced truncate is visible');
$fs->cut;
is(get("$d/durable"), 'synced data', '... and undone by the cut');
truncate("$d/durable", 4) or die "truncate: $!";
put("$d/durable", 6, 'x', 1);
$fs->cut;
is(get("$d/durable"), "sync\0\0x", 'a synced truncate and write: the bytes cut off read as zeros');

# --- two processes see each other's unsynced writes
put("$d/shared", 0, 'base', 1);
sync_dir($d);
my $pid = fork() // die "fork: $!";
if ($pid == 0)
{
	put("$d/shared", 0, 'CHILD', 0);
	POSIX::_exit(0);
}
waitpid($pid, 0);
is(get("$d/shared"), 'CHILD', 'a write by another process, not synced, is seen (one page cache)');
$fs->cut;
is(get("$d/shared"), 'base', '... until the power is cut');

# --- names
put("$d/new", 0, 'new file', 1);
ok(-e "$d/new", 'a created file is there');
$fs->cut;
ok(!-e "$d/new", 'a file whose directory was not fsynced is gone after a cut, fsynced data or not');

put("$d/new", 0, 'new file', 1);
sync_dir($d);
$fs->cut;
is(get("$d/new"), 'new file', 'file and directory fsynced: the file survives');

put("$d/tmp", 0, 'next version', 1);
sync_dir($d);
rename("$d/tmp", "$d/new") or die "rename: $!";
is(get("$d/new"), 'next version', 'a rename over a file is visible');
$fs->cut;
is(get("$d/new"), 'new file', 'a rename without a directory fsync is lost: the old file is back');
is(get("$d/tmp"), 'next version', '... and the renamed file has its old name');
rename("$d/tmp", "$d/new") or die "rename: $!";
sync_dir($d);
$fs->cut;
is(get("$d/new"), 'next version', 'a rename followed by a directory fsync survives');
ok(!-e "$d/tmp", '... and the old name is gone');

unlink("$d/new") or die "unlink: $!";
ok(!-e "$d/new", 'an unlinked file is gone');
$fs->cut;
is(get("$d/new"), 'next version', 'an unlink without a directory fsync is undone');
unlink("$d/new") or die "unlink: $!";
sync_dir($d);
$fs->cut;
ok(!-e "$d/new", 'an unlink followed by a directory fsync is durable');

mkdir("$d/sub") or die "mkdir: $!";
put("$d/sub/f", 0, 'in a new directory', 1);
sync_dir("$d/sub");
$fs->cut;
ok(!-e "$d/sub", 'a new directory whose parent was not fsynced is gone, with what it held');
mkdir("$d/sub") or die "mkdir: $!";
sync_dir($d);
put("$d/sub/f", 0, 'in a new directory', 1);
sync_dir("$d/sub");
rename("$d/sub", "$d/moved") or die "rename: $!";
put("$d/moved/g", 0, 'unsynced name', 1);
$fs->cut;
is(get("$d/sub/f"), 'in a new directory', 'parent and directory fsynced: the file survives, and the unsynced rename of its directory is undone');
ok(!-e "$d/sub/g", '... as is the creation made in it under its new name');

# a rename across directories is one change: fsync of either directory
# makes it durable (as a journalling file system commits it), and undoing
# it never puts a name back over another
mkdir("$d/A") or die; mkdir("$d/B") or die;
put("$d/A/x", 0, 'old x', 1);
sync_dir("$d/A"); sync_dir($d);
rename("$d/A/x", "$d/B/x") or die "rename: $!";
sync_dir("$d/B");
$fs->cut;
ok(!-e "$d/A/x" && get("$d/B/x") eq 'old x', 'a rename across directories survives an fsync of the target directory');
rename("$d/B/x", "$d/A/x") or die "rename: $!";
put("$d/B/x", 0, 'new x', 1);
sync_dir("$d/B");
$fs->cut;
is(get("$d/A/x") . '/' . get("$d/B/x"), 'old x/new x',
	'... and of the source: a durable file made under the old name is never overwritten by an undo');

# the removal of a directory, once durable, takes the unsynced changes in it
mkdir("$d/gone") or die;
sync_dir($d);
put("$d/gone/f", 0, 'f', 1);
sync_dir("$d/gone");
unlink("$d/gone/f") or die;
rmdir("$d/gone") or die "rmdir: $!";
sync_dir($d);
$st = $fs->cut;
ok(!-e "$d/gone", 'a directory emptied and removed, then its parent fsynced, stays removed');
is($st->{undo_errors}, 0, '... and nothing inside it is left to undo');

mkdir("$d/full") or die; mkdir("$d/empty") or die;
put("$d/full/f", 0, 'keep', 1);
ok(!rename("$d/empty", "$d/full") && $!{ENOTEMPTY}, 'a directory is not renamed over a non-empty one (ENOTEMPTY)');
is(get("$d/full/f"), 'keep', '... and the target keeps its files');
rmdir("$d/empty") or die;
unlink("$d/full/f") or die;
rmdir("$d/full") or die;
sync_dir($d);

# a thousand files written, never fsynced, unlinked: their data is
# dropped at the unlink and no descriptor is kept for them
mkdir("$d/tmp") or die;
sync_dir($d);
for my $i (1 .. 1500)
{
	put("$d/tmp/f$i", 0, 'x' x 8192, 0);
	unlink("$d/tmp/f$i") or die "unlink f$i: $!";
}
sync_dir("$d/tmp");
$st = $fs->status;
is($st->{unsynced_files}, 0, '1500 unsynced files unlinked: no unsynced data kept for them');
rmdir("$d/tmp") or die;
sync_dir($d);

opendir(my $dh, $d) or die;
my @names = sort grep { !/^\.\.?$/ } readdir($dh);
closedir($dh);
is("@names", 'A B durable shared sub', 'a listing shows neither the trash nor the control file');

# --- a torn write
my $old = 'o' x 8192;
my $new = 'N' x 8192;
put("$d/page", 0, $old, 1);
sync_dir($d);
put("$d/page", 0, $new, 0);
$st = $fs->cut(tear => 512, seed => 42);
my $got = get("$d/page");
my ($prefix) = $got =~ /^(N*)/;
my $len = length($prefix);
ok($len > 0 && $len < 8192 && $len % 512 == 0 && substr($got, $len) eq substr($old, $len),
	"tear=512: a prefix of the write reached the disk, cut at a 512-byte boundary ($len bytes)");
is($st->{last_cut_torn_writes}, 1, '... and the cut counts a torn write');
put("$d/page", 0, $old, 1);
put("$d/page", 0, $new, 0);
$fs->cut(tear => 4096, seed => 42);
$got = get("$d/page");
is($got, ('N' x 4096) . ('o' x 4096), 'tear=4096: an 8 kB write torn at its only inner 4 kB boundary');
my %seen;
for my $seed (1 .. 16)
{
	put("$d/page", 0, $old, 1);
	put("$d/page", 0, $new, 0);
	$fs->cut(tear => 512, seed => $seed);
	my ($p) = get("$d/page") =~ /^(N*)/;
	$seen{ length($p) } = 1;
}
cmp_ok(scalar(keys %seen), '>', 3, 'the tear point changes with the seed (' . join(',', sort { $a <=> $b } keys %seen) . ')');

# --- a disk that wrote some of its cache: keep=PCT
put("$d/many", 0, "\0" x (100 * 512), 1);
sync_dir($d);
put("$d/many", $_ * 512, 'W', 0) for 0 .. 99;
$st = $fs->cut(keep => 50, seed => 7);
my $data = get("$d/many");
my $kept = grep { substr($data, $_ * 512, 1) eq 'W' } 0 .. 99;
ok($kept > 10 && $kept < 90, "keep=50: some of 100 unsynced writes reached the disk ($kept)");
is($st->{last_cut_kept_writes}, $kept, '... as many as the cut says it kept');
put("$d/many", $_ * 512, 'W', 0) for 0 .. 99;
$fs->cut(keep => 50, seed => 7);
is((grep { substr(get("$d/many"), $_ * 512, 1) eq 'W' } 0 .. 99), $kept, 'the same seed keeps the same writes');

# --- the control file
sysopen(my $ctl, $fs->ctl, O_WRONLY) or die;
ok(!syswrite($ctl, "cut tear=100\n"), 'a bad option is refused: ' . ($! || ''));
close($ctl);
is($fs->status->{undo_errors}, 0, 'no undo failed');
is($fs->status->{apply_errors}, 0, 'no write-back failed');

$fs->unmount;
ok(!$fs->is_mounted, 'unmounted');
done_testing();
