# Files of bufpool_ext: everything under $PGDATA/bufpool_ext is mode 0600
# (the directory 0700) and owned by the server's user, whatever the data
# directory's mode; and no space name reaches a path outside it.
#
# The cluster is initialized with --allow-group-access: the server's umask
# is then 0027 and PostgreSQL's own files are 0640, so a file created with
# PostgreSQL's default mode (OpenTransientFile, AllocateFile ...) instead of
# an explicit 0600 shows up here as 0640.

use strict;
use warnings;

use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('file_modes');
$node->init(extra => ['--allow-group-access']);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');

my $pgdata = $node->data_dir;
my $dir = "$pgdata/bufpool_ext";
is(sprintf('%04o', (stat $pgdata)[2] & 07777), '0750',
	'the data directory allows group access (so the server umask is 0027)');

# mode (octal string) of every file and directory under bufpool_ext
sub modes
{
	my %m;
	find(
		{
			wanted => sub {
				my @st = lstat($_);
				my $rel = $File::Find::name;
				$rel =~ s{^\Q$pgdata\E/}{};
				$m{$rel} = sprintf('%04o', $st[2] & 07777)
				  . (-l $_ ? ' symlink' : '')
				  . ($st[4] == $> ? '' : " owner $st[4]");
			},
			no_chdir => 1
		},
		$dir);
	return \%m;
}

# every entry that is not the directory itself at 0700 or a file at 0600
sub bad_modes
{
	my ($m) = @_;
	return join(', ',
		map { "$_ $m->{$_}" }
		grep {
			$_ eq 'bufpool_ext' ? $m->{$_} ne '0700' : $m->{$_} ne '0600'
		} sort keys %$m);
}

my $m = modes();
ok(exists $m->{'bufpool_ext/spaces.map'}, 'the registry exists from the start');
is(bad_modes($m), '', 'fresh start: directory 0700, files 0600');

# spaces created, written, flushed, one dropped; the registry is
# rewritten each time
my $s1 = $node->safe_psql('postgres', "SELECT bufpool.create_space('modes_a', 8)");
my $s2 = $node->safe_psql('postgres', "SELECT bufpool.create_space('modes_b', 8)");
$node->safe_psql('postgres', qq{
	SELECT bufpool.write_page($s1, p, '\\x0102'::bytea) FROM generate_series(0, 7) p;
	SELECT bufpool.write_page($s2, 0, '\\x0102'::bytea);
	SELECT bufpool.flush();
});
$m = modes();
ok(exists $m->{"bufpool_ext/$s1.bps"} && exists $m->{"bufpool_ext/$s2.bps"},
	'the space files exist');
is(bad_modes($m), '', 'after create, write and flush: directory 0700, files 0600');

$node->safe_psql('postgres', "SELECT bufpool.drop_space($s2)");
$m = modes();
ok(!exists $m->{"bufpool_ext/$s2.bps"}, 'the dropped space file is gone');
is(bad_modes($m), '', 'after a drop: files 0600');

# a file left by a create cut short by a crash (file made, registry not
# saved): the next create, which gets the same id, replaces it with a
# fresh file of its own mode, not a "file exists" error
my $next = $s2 + 1;
my $orphan = "$dir/$next.bps";
open(my $fh, '>', $orphan) or die "could not create $orphan: $!";
print $fh 'left over';
close $fh;
chmod(0644, $orphan);
my $log_offset = -s $node->logfile;
my $s3 = $node->safe_psql('postgres', "SELECT bufpool.create_space('modes_c', 4)");
is($s3, $next, 'a create whose file was left over by an interrupted create succeeds');
is(-s $orphan, 4 * 8192, 'the left-over file was replaced by one of the new size');
ok($node->log_contains(qr/removing file "bufpool_ext\/$next\.bps" left by an interrupted/,
		$log_offset),
	'the log says the left-over file was removed');
is(bad_modes(modes()), '', 'the replaced file is 0600');

# after a restart (the pool manager loads the registry); a directory left
# with the data directory's mode (0750) is narrowed to 0700
chmod(0750, $dir);
$node->restart;
is(modes()->{bufpool_ext}, '0700', 'a restart narrows a 0750 directory to 0700');
$node->safe_psql('postgres', "SELECT bufpool.write_page($s3, 1, '\\x03'::bytea); SELECT bufpool.flush()");
is(bad_modes(modes()), '', 'after a restart: files 0600');

# names cannot make a path: whatever is passed, no file appears outside
# bufpool_ext, and inside it only files named by id
foreach my $name ('../escape', '/tmp/escape', 'a/b', '..', '.', '', "x\nx", 'x' x 200)
{
	my ($ret, $out, $err) =
	  $node->psql('postgres', "SELECT bufpool.create_space(\$n\$$name\$n\$, 1)");
	isnt($ret, 0, "create_space refuses name " . ($name =~ s/\n/\\n/gr =~ s/^(.{20}).+/$1.../r));
	like($err, qr/ERROR:  (invalid bufpool space name|bufpool space name .* is too long)/,
		'with a message naming the bad name');
}
ok(!-e "$pgdata/escape" && !-e '/tmp/escape' && !-e "$dir/a",
	'no file was created from a bad name');
my @names = sort grep { !/^bufpool_ext$/ } keys %{ modes() };
is(join(' ', grep { /\.bps$/ && !m{^bufpool_ext/[0-9]+\.bps$} } @names),
	'', 'the space files in bufpool_ext are named by id only')
  or diag "entries: @names";

$node->stop;

done_testing();
