# The installed C API: make install puts the public header, and only it,
# under PostgreSQL's server include directory (extension/bufpool_ext/),
# and a one-file extension outside the repository that includes nothing
# else of bufpool_ext builds with PGXS and works: it writes a page
# through the API and reads it back, and keeps objects in a size-class set
# of its own.  Listed in shared_preload_libraries
# before bufpool_ext, it stops the start with a message that says so.

use strict;
use warnings;

use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my ($stdout, $stderr);

IPC::Run::run([ $pg_config, '--includedir-server' ], '>', \$stdout, '2>', \$stderr)
  or die "pg_config failed: $stderr";
chomp(my $incdir = $stdout);
my $api_dir = "$incdir/extension/bufpool_ext";
ok(-f "$api_dir/bufpool.h", "the public header is installed in $api_dir");
opendir(my $dh, $api_dir) or die "cannot read $api_dir: $!";
my @installed = sort grep { !/^\./ } readdir($dh);
closedir($dh);
is("@installed", 'bufpool.h', 'and nothing else of bufpool_ext (internal headers stay internal)');
like(slurp_file("$api_dir/bufpool.h"), qr/#define BUFPOOL_EXT_VERSION_NUM\s+\d+/,
	'it has a version macro');

# the extension, alone in a directory outside the repository
my $dir = PostgreSQL::Test::Utils::tempdir('public_api');
my $src = $ENV{REPO} . '/test/external/bp_public_api.c';
copy($src, "$dir/bp_public_api.c") or die "cannot copy $src: $!";
open(my $mk, '>', "$dir/Makefile") or die "cannot write $dir/Makefile: $!";
print $mk "MODULES = bp_public_api\n"
  . "PG_CONFIG = $pg_config\n"
  . "PGXS := \$(shell \$(PG_CONFIG) --pgxs)\n"
  . "include \$(PGXS)\n";
close($mk);
my $built = IPC::Run::run([ 'make', '-C', $dir, 'with_llvm=no' ], '>', \$stdout, '2>', \$stderr);
ok($built, 'the one-file extension builds with PGXS against the installed header')
  or diag("$stdout\n$stderr");
unlike($stdout, qr{-I\S*(?:/include/bufpool_ext|bufpool_ext/include)},
	'with no include directory of the source tree');

my $node = PostgreSQL::Test::Cluster->new('public_api');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('public_api', 4)");
$node->safe_psql('postgres', qq{
	CREATE FUNCTION public_api_roundtrip(int, text) RETURNS text
	AS '$dir/bp_public_api.so', 'bp_public_api_roundtrip' LANGUAGE C STRICT});
my $version = $node->safe_psql('postgres',
	"SELECT extversion FROM pg_extension WHERE extname = 'bufpool_ext'");
is($node->safe_psql('postgres', "SELECT public_api_roundtrip($sid, 'hello from outside')"),
	"$version hello from outside",
	'it writes a page through the C API and reads it back; its API version is the extension\'s');
is( $node->safe_psql('postgres',
		"SELECT convert_from(substring(bufpool.read_page($sid, 0) FROM 1 FOR 18), 'UTF8')"),
	'hello from outside', 'and the SQL side sees the change');

# shared objects through the size-class pools of the API: a set of the
# consumer's own, with its own instrument and rows in bufpool.size_classes
$node->safe_psql('postgres', qq{
	CREATE FUNCTION public_api_objects(int) RETURNS text
	AS '$dir/bp_public_api.so', 'bp_public_api_objects' LANGUAGE C STRICT});
is($node->safe_psql('postgres', 'SELECT public_api_objects(5000)'),
	'5000 objects ok; double free: refused',
	'5000 objects of 1 to 300 bytes written and read back through bp_shm_ptr; a double free is an ERROR');
is( $node->safe_psql('postgres', q{
		SELECT sum(alloc_count) || '|' || sum(objects_used) FROM bufpool.size_classes
		WHERE set_name = 'public_api'}),
	'5001|0', 'bufpool.size_classes shows the set: 5001 allocations, none in use');
is( $node->safe_psql('postgres', q{
		SELECT count_alloc || '|' || current_count_used FROM bufpool.memory_summary_global_by_event_name
		WHERE event_name = 'memory/bufpool/size_class_set/public_api'}),
	'5001|0', 'and its instrument counts them');
$node->stop;

# preloaded: after bufpool_ext it loads; before it, the server does not
# start, and the log says why (bp_api_require in its _PG_init), where
# the dynamic loader would say "undefined symbol" or the first call crash
my $pre = PostgreSQL::Test::Cluster->new('preload_order');
$pre->init;
$pre->append_conf('postgresql.conf', "shared_preload_libraries = 'bufpool_ext, $dir/bp_public_api'\n");
ok($pre->start(fail_ok => 1), 'listed after bufpool_ext, the consumer loads at start');
$pre->stop;
$pre->append_conf('postgresql.conf', "shared_preload_libraries = '$dir/bp_public_api, bufpool_ext'\n");
ok(!$pre->start(fail_ok => 1), 'listed before bufpool_ext, the server does not start');
like(slurp_file($pre->logfile), qr/bp_public_api needs bufpool_ext, loaded before it/,
	'and the log says that the consumer needs bufpool_ext loaded before it');
like(slurp_file($pre->logfile), qr/List bufpool_ext before bp_public_api in shared_preload_libraries/,
	'with the fix');
done_testing();
