# The power-cut file system (test/cutfs) for the TAP tests: mount one over
# a backing directory, cut the power, read its counters, unmount.
#
#   my $fs = CutFS->new('name');          # backing and mount directories
#   plan skip_all => $why if my $why = CutFS::unavailable();
#   $fs->mount;                           # or ->mount_at($dir)
#   ... programs use $fs->dir ...
#   $fs->cut(tear => 4096, keep => 50, seed => 7);   # all three optional
#   $fs->status->{unsynced_writes}; $fs->sync; $fs->unmount;
#
# The file system is run by the test's own account (the postgres account
# under scripts/test.sh) and mounted through fusermount3; it needs
# /dev/fuse readable and writable by that account (scripts/test.sh makes
# it so when run as root; Debian's own mode for it is 0666).

package CutFS;

use strict;
use warnings;

use Fcntl qw(O_RDONLY O_WRONLY);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

my @mounted;

# the cutfs program built by scripts/build.sh --with-test-module
sub program
{
	return $ENV{BPX_CUTFS} if $ENV{BPX_CUTFS};
	return ($ENV{REPO} // '.') . '/test/cutfs/cutfs';
}

# why a FUSE file system cannot be mounted here, or undef if it can
sub unavailable
{
	my $prog = program();
	return "cutfs is not built ($prog; make -C test/cutfs)" unless -x $prog;
	return 'no /dev/fuse on this machine (FUSE is not available)' unless -e '/dev/fuse';
	return '/dev/fuse is not readable and writable by this account (chmod 0666 /dev/fuse as root)'
	  unless -r '/dev/fuse' && -w '/dev/fuse';
	my $found = grep { -x "$_/fusermount3" } split(/:/, $ENV{PATH} // ''), '/usr/bin', '/bin';
	return 'fusermount3 is not installed (Debian package fuse3)' unless $found;

	# a real mount, since a container may refuse it even then
	my $probe = CutFS->new('probe');
	my $err = $probe->try_mount;
	$probe->unmount unless $err;
	return $err ? "a FUSE file system cannot be mounted here: $err" : undef;
}

# For the crash tests (013, 014, 015, 017), which scripts/test.sh runs a
# second time with BPX_ON_CUTFS=1: mount a cutfs over the node's
# bufpool_ext directory and turn fsync on, so that each of their crashes
# can also cut the power (crash_cut).  Returns undef when BPX_ON_CUTFS is
# not set; skips the whole test when FUSE cannot be mounted.  Call it
# after init, before the first start.
sub for_node
{
	my ($node) = @_;
	return undef unless $ENV{BPX_ON_CUTFS};
	if (my $why = unavailable())
	{
		Test::More::plan(skip_all => $why);
	}
	my $fs = CutFS->new($node->name)->mount_at($node->data_dir . '/bufpool_ext');
	$node->append_conf('postgresql.conf', "fsync = on\n");
	Test::More::note("bufpool_ext's directory is on the power-cut file system $fs->{dir}");
	return $fs;
}

# after a crash (every process of the node gone): cut the power if the
# node is on a cutfs
sub crash_cut
{
	my ($fs) = @_;
	return unless $fs;
	my $st = $fs->cut;
	Test::More::note("power cut: $st->{last_cut_dropped_writes} unsynced writes dropped, "
		  . "$st->{last_cut_undone_name_changes} name changes undone");
	return;
}

sub new
{
	my ($class, $name) = @_;
	my $base = PostgreSQL::Test::Utils::tempdir("cutfs_$name");
	my $self = bless {
		name => $name,
		backing => "$base/disk",
		dir => "$base/mnt",
		log => "$base/cutfs.log",
	}, $class;
	mkdir $self->{backing} or die "mkdir $self->{backing}: $!";
	mkdir $self->{dir} or die "mkdir $self->{dir}: $!";
	return $self;
}

sub dir { return $_[0]->{dir} }
sub backing { return $_[0]->{backing} }
sub ctl { return $_[0]->{dir} . '/.cutfs' }

sub is_mounted
{
	my ($self) = @_;
	open(my $fh, '<', '/proc/mounts') or return 0;
	my $dir = $self->{dir};
	my $found = grep { (split / /)[1] eq $dir } <$fh>;
	close($fh);
	return $found;
}

# mount; returns an error message, or undef once the file system answers
sub try_mount
{
	my ($self) = @_;
	$self->{handle} = IPC::Run::start([ program(), $self->{backing}, $self->{dir}, '-f' ],
		'<', \undef, '>>', $self->{log}, '2>>', $self->{log});
	for (1 .. 200)
	{
		return undef if $self->is_mounted && -e $self->ctl;
		last unless $self->{handle}->pumpable;
		usleep(50_000);
	}
	$self->{handle}->kill_kill;
	delete $self->{handle};
	my $log = -f $self->{log} ? PostgreSQL::Test::Utils::slurp_file($self->{log}) : '';
	$log =~ s/\s+$//;
	return $log || 'it did not come up in 10 s';
}

# mount over a directory of a cluster (made if missing): the data
# directory or its bufpool_ext directory, both of mode 0700, which the
# backing directory then has too (the mount's root shows its mode)
sub mount_at
{
	my ($self, $dir) = @_;
	chmod(0700, $self->{backing}) or die "chmod $self->{backing}: $!";
	-d $dir or mkdir($dir, 0700) or die "mkdir $dir: $!";
	$self->{dir} = $dir;
	return $self->mount;
}

sub mount
{
	my ($self) = @_;
	my $err = $self->try_mount;
	die "cutfs: could not mount $self->{dir}: $err" if $err;
	push @mounted, $self;
	return $self;
}

sub command
{
	my ($self, $cmd) = @_;
	sysopen(my $fh, $self->ctl, O_WRONLY) or die "cutfs: open $self->{dir}/.cutfs: $!";
	my $ok = syswrite($fh, "$cmd\n");
	my $err = $!;
	close($fh);
	die "cutfs: \"$cmd\" failed: $err (see $self->{log})" unless $ok;
	return;
}

# the power cut: every write and name change not yet synced is lost
sub cut
{
	my ($self, %opts) = @_;
	my $cmd = 'cut';
	for my $k (qw(tear keep seed))
	{
		$cmd .= " $k=$opts{$k}" if defined $opts{$k};
	}
	$self->command($cmd);
	return $self->status;
}

sub sync { $_[0]->command('sync'); return; }

# the counters of the control file, as a hash
sub status
{
	my ($self) = @_;
	my %st;
	open(my $fh, '<', $self->ctl) or die "cutfs: read $self->{dir}/.cutfs: $!";
	while (<$fh>)
	{
		$st{$1} = $2 if /^(\w+) (\d+)$/;
	}
	close($fh);
	return \%st;
}

sub unmount
{
	my ($self) = @_;
	return unless $self->{handle};
	# -z: a test that died may still have a server with files open here;
	# the file system then goes once they are closed, or at the kill
	system('fusermount3', '-u', '-z', $self->{dir});
	for (1 .. 100)
	{
		last unless $self->{handle}->pumpable;
		usleep(50_000);
	}
	$self->{handle}->kill_kill(grace => 2) if $self->{handle}->pumpable;
	eval { $self->{handle}->finish; 1 };
	delete $self->{handle};
	@mounted = grep { $_ != $self } @mounted;
	return;
}

END
{
	local $?;					# the test's exit status
	$_->unmount for @mounted;
}

1;
