# Page content locks under contention.
#
# A block's content lock is a reader-writer lock in one word of its
# control block (pool.h, BP_CL_EXCLUSIVE), with waiters sleeping on a
# shared partition of condition variables.  pgbench clients here write
# whole payloads of one letter to two pages (write_page holds the lock
# exclusively while it logs and copies 8 kB), read them back (read_page
# copies under the lock in share mode) and flush them (the writers copy
# under the lock in share mode too).  A read that is not one letter all
# through would be a copy taken during a change: it is a division by
# zero, which aborts the client and fails pgbench.  Afterwards, after a
# clean restart, the pages on disk must be one letter all through too,
# since the cleaners and bufpool.flush() write copies taken the same way.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $clients = 6;
my $transactions = 400;

my $node = PostgreSQL::Test::Cluster->new('content_lock');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_connections = 20
bufpool_ext.page_size = '8kB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION bufpool_ext');
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('content_lock', 2)");
my $payload = $node->safe_psql('postgres', "SELECT length(bufpool.read_page($sid, 0))");
cmp_ok($payload, '>', 8000, "a payload of $payload bytes");
$node->safe_psql('postgres', qq{
	SELECT bufpool.write_page($sid, p, convert_to(repeat('A', $payload), 'UTF8'), 0)
	FROM generate_series(0, 1) AS p});

$node->pgbench(
	"--no-vacuum --client=$clients --jobs=2 --transactions=$transactions",
	0,
	[qr{processed: @{[$clients * $transactions]}/@{[$clients * $transactions]}}],
	[qr{^$}],
	'writers, readers and flushes of the same two pages',
	{
		'018_write@4' => qq{
\\set p random(0, 1)
\\set c random(65, 90)
SELECT bufpool.write_page($sid, :p, convert_to(repeat(chr(:c), $payload), 'UTF8'), 0);
},
		'018_read@4' => qq{
\\set p random(0, 1)
SELECT 1 / (ltrim(t, substr(t, 1, 1)) = '')::int
FROM (SELECT convert_from(bufpool.read_page($sid, :p), 'UTF8') AS t) AS s;
},
		'018_flush@1' => q{
SELECT bufpool.flush() >= 0;
},
	});

is($node->safe_psql('postgres', q{
		SELECT count(*) FROM bufpool.pages WHERE fix_count > 0}),
	'0', 'no page is left pinned');

$node->restart;
$node->poll_query_until('postgres', "SELECT state = 'ready' FROM bufpool.status()", 't');
is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(0, 1) AS p,
			LATERAL (SELECT convert_from(bufpool.read_page($sid, p), 'UTF8') AS t) AS s
		WHERE ltrim(t, substr(t, 1, 1)) = ''}),
	'2', 'after a restart both pages read from disk are one letter all through');

$node->stop;
done_testing();
