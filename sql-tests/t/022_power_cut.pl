# Power cuts: acknowledged writes survive the loss of everything that was
# not fsynced.
#
# The cluster's bufpool_ext directory (redo log, redo control file,
# doublewrite file, space files, space registry) lives on the power-cut
# file system test/cutfs, and fsync is on.  pgbench clients write pages
# with bufpool_ext.flush_log_at_commit = 1: each transaction records the
# value it is about to send in table "sent", writes it with
# bufpool.write_page, and records the acknowledgement in table "acks"
# (those tables live on the real file system, which a kill does not
# hurt).  Then every process gets SIGKILL, the power is cut (cutfs drops
# every unsynced write and name change) and the server starts again.
# For every page:
#
#	- the value read back is at least its last acknowledged one;
#	- it is a value that was sent to that page;
#	- it reads without a checksum error.
#
# Scenarios: the plain loop (BPX_POWER_CUTS cycles, default 20); the last
# write of every file torn at 512 and 4096 bytes; online resizes running;
# spaces created and dropped around the cut; the doublewrite buffer off
# (torn pages must be caught by their checksum: the test lists those
# recovery could not repair); and the control, flush_log_at_commit = 2,
# which must lose acknowledged writes.

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BufpoolFaults;
use CutFS;

if (my $why = CutFS::unavailable())
{
	plan skip_all => $why;
}

my $cycles = $ENV{BPX_POWER_CUTS} // 20;
my $n_pages = 200;

my $node = PostgreSQL::Test::Cluster->new('power_cut');
$node->init;
my $fs = CutFS->new('power_cut')->mount_at($node->data_dir . '/bufpool_ext');
$node->append_conf(
	'postgresql.conf', qq{
fsync = on
restart_after_crash = off
bufpool_ext.flush_log_at_commit = 1
bufpool_ext.log_file_size = '8MB'
bufpool_ext.log_buffer_size = '1MB'
bufpool_ext.checkpoint_timeout = '1s'
bufpool_ext.io_capacity = 2000
max_connections = 20
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE TABLE sent (p int, v bigint);
	CREATE TABLE acks (p int, v bigint);
	CREATE TABLE spaces_made (name text, id int);
	CREATE TABLE spaces_dropping (id int);
	CREATE TABLE spaces_dropped (id int);
	CREATE SEQUENCE vals;
	CREATE SEQUENCE space_names;
	-- the value at the start of a page and the one at offset 8000, or the
	-- error reading it
	CREATE FUNCTION page_values(sid int, n int, OUT p int, OUT v bigint, OUT tail bigint,
	                            OUT err text)
	RETURNS SETOF record LANGUAGE plpgsql AS $$
	DECLARE page bytea; t text;
	BEGIN
	  FOR i IN 0 .. n - 1 LOOP
	    p := i; v := NULL; tail := NULL; err := NULL;
	    BEGIN
	      page := bufpool.read_page(sid, p);
	      t := encode(rtrim(substring(page FROM 1 FOR 24), '\x00'::bytea), 'escape');
	      IF t ~ '^v[0-9]+$' THEN v := substr(t, 2)::bigint; END IF;
	      t := encode(rtrim(substring(page FROM 8001 FOR 24), '\x00'::bytea), 'escape');
	      IF t ~ '^v[0-9]+$' THEN tail := substr(t, 2)::bigint; END IF;
	    EXCEPTION WHEN OTHERS THEN
	      err := SQLERRM;
	    END;
	    RETURN NEXT;
	  END LOOP;
	END $$;});
# a second space for a bulk writer that does not wait for the log
# (flush_log_at_commit = 0): it keeps an unsynced tail in the log and
# dirty pages in the pool, so each cut finds something to drop, and the
# acknowledged writes of the clients sit before or among its records
my $bulk = $node->safe_psql('postgres', "SELECT bufpool.create_space('bulk', 400)");

my $tmp = PostgreSQL::Test::Utils::tempdir();

# client c writes the pages p with p % 2 = c, so each page's writes come
# one after the other and its last acknowledged value is well defined.
# The value goes at the start of the page's payload and again at offset
# 8000 (the other half of the 8 kB page), so a page write torn between
# the halves leaves a page whose checksum fails.  new_space() gives the
# clients a fresh space (and forgets what was sent to the old one): the
# phase with the doublewrite buffer off leaves torn pages behind, and a
# client that reads one stops.
my $writer = "$tmp/writer.sql";
my $sid;
sub new_space
{
	my ($name) = @_;
	$sid = $node->safe_psql('postgres', qq{
		TRUNCATE sent, acks;
		SELECT bufpool.create_space('$name', $n_pages)});
	open(my $fh, '>', $writer) or die;
	print $fh qq{\\set p :client_id + 2 * random(0, @{[ $n_pages / 2 - 1 ]})
SELECT nextval('vals') AS v \\gset
INSERT INTO sent VALUES (:p, :v);
SELECT 1 FROM bufpool.write_page($sid, :p, convert_to('v' || :v, 'UTF8') || '\\x00'::bytea, 0);
SELECT 1 FROM bufpool.write_page($sid, :p, convert_to('v' || :v, 'UTF8') || '\\x00'::bytea, 8000);
INSERT INTO acks VALUES (:p, :v);
};
	close($fh);
	return $sid;
}
like(new_space('power_cut'), qr/^[1-9][0-9]*$/, 'space created on the power-cut file system');

# start a psql or pgbench run in the background
sub background
{
	my ($name, @cmd) = @_;
	my $h = IPC::Run::start(\@cmd, '<', \undef, '>', "$tmp/$name.out", '2>', "$tmp/$name.err");
	return [ $h, $name ];
}

sub loop_sql
{
	my ($name, $sql) = @_;
	my $file = "$tmp/$name.sql";
	open(my $sh, '>', $file) or die;
	print $sh $sql;
	close($sh);
	return background($name, 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-f', $file);
}

# kill every process of the server, wait for them to be gone, cut the power
sub kill_and_cut
{
	my (%cut) = @_;
	kill_server($node);
	return $fs->cut(%cut);
}

# One cycle: run setup (SQL), write for a while (with the extra background
# runs given), kill, cut (with the options given), restart, check.
# Returns the lost, alien, mixed and unreadable pages, the client errors and the
# cut's counters.
sub cycle
{
	my ($label, %o) = @_;
	my $cut = $o{cut} // {};
	$node->safe_psql('postgres', $o{setup}) if $o{setup};
	my @runs = (
		background('pgbench', 'pgbench', '-n', '-c', '2', '-j', '2', '-T', '30',
			'-f', $writer, '-d', $node->connstr('postgres')),
		@{ $o{extra} // [] });
	unless ($o{clients_only})
	{
		push @runs,
		  loop_sql('flusher', "SELECT bufpool.flush(); SELECT bufpool.checkpoint(); SELECT pg_sleep(0.05);\n" x 2000),
		  loop_sql('bulk', "SET bufpool_ext.flush_log_at_commit = 0;\n"
			  . "SELECT count(bufpool.write_page($bulk, (random() * 399)::int, convert_to('bulk', 'UTF8') || decode(repeat('ab', 4000), 'hex'), 0)) FROM generate_series(1, 50);\n"
			  x 5000);
	}
	usleep(int((0.5 + rand(1.0)) * 1_000_000));
	my $st = kill_and_cut(%$cut);
	for my $r (@runs)
	{
		eval { $r->[0]->finish; };
	}
	my @errors = grep { /ERROR|PANIC/ && !/terminat|connection|server closed/ }
	  map { split /\n/, slurp_file("$tmp/$_->[1].err") } @runs;
	$node->start;

	my $rows = $node->safe_psql('postgres', qq{
		WITH pv AS (SELECT * FROM page_values($sid, $n_pages)),
		     acked AS (SELECT p, max(v) AS v FROM acks GROUP BY p)
		SELECT 'lost', a.p || ' (acked ' || a.v || ', read ' || coalesce(pv.v::text, 'nothing') || ')'
		  FROM acked a JOIN pv USING (p) WHERE pv.err IS NULL AND (pv.v IS NULL OR pv.v < a.v)
		UNION ALL
		SELECT 'alien', pv.p || ' (' || pv.v || ')' FROM pv
		 WHERE pv.v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.p = pv.p AND s.v = pv.v)
		UNION ALL
		-- head and tail differ although the head's write was acknowledged
		-- (so its tail was written too): a torn mix the checksum let pass
		SELECT 'mixed', pv.p || ' (head ' || pv.v || ', tail ' || coalesce(pv.tail::text, 'none') || ')'
		  FROM pv JOIN acked a USING (p)
		 WHERE pv.err IS NULL AND pv.v <= a.v AND pv.tail IS DISTINCT FROM pv.v
		UNION ALL
		SELECT 'unreadable', pv.p || ' (' || pv.err || ')' FROM pv WHERE pv.err IS NOT NULL
		UNION ALL
		SELECT 'unreadable', 'bulk ' || b.p || ' (' || b.err || ')'
		  FROM page_values($bulk, 400) b WHERE b.err IS NOT NULL});
	my %found = (lost => [], alien => [], mixed => [], unreadable => []);
	for my $line (split /\n/, $rows)
	{
		my ($kind, $what) = split /\|/, $line, 2;
		push @{ $found{$kind} }, $what;
	}
	# recovery's and the doublewrite repair's counts, and the acks so far
	my @c = split /\|/, $node->safe_psql('postgres', q{
		SELECT r.recovery_records, r.recovery_applied, r.recovery_pages, r.recovery_bad_pages,
		       d.last_recovery_valid_copies, d.last_recovery_pages_restored,
		       (SELECT count(*) FROM acks)
		FROM bufpool.redo_status r, bufpool.doublewrite d});
	my ($rec, $dw, $acks) = (join('|', @c[0 .. 3]), join('|', @c[4, 5]), $c[6]);
	# which files the cut tore: cutfs logs each torn write
	my $cutlog = slurp_file($fs->{log});
	my @torn;
	for my $line (split /\n/, substr($cutlog, $fs->{log_read} // 0))
	{
		push @torn, "$2 ($1 bytes)" if $line =~ /tearing the write of (\d+) bytes at \d+ of \S*\/([^\/\s]+) at/;
	}
	$fs->{log_read} = length($cutlog);
	note sprintf('%s: cut dropped %d writes (kept %d, torn %d%s), undid %d name changes; '
		  . 'recovery records|applied|pages|bad %s; doublewrite copies|restored %s; %d acks so far',
		$label, $st->{last_cut_dropped_writes}, $st->{last_cut_kept_writes},
		$st->{last_cut_torn_writes}, (@torn ? ': ' . join(', ', @torn) : ''),
		$st->{last_cut_undone_name_changes}, $rec, $dw, $acks);
	return (\%found, \@errors, $st);
}

sub show
{
	my ($list) = @_;
	my @l = @$list;
	splice(@l, 10, $#l, '...') if @l > 11;
	return join(', ', @l);
}

# ------------------------------------------------------------ the loop
my $dropped = 0;
for my $i (1 .. $cycles)
{
	my ($found, $errors, $st) = cycle("cut $i");
	$dropped += $st->{last_cut_dropped_writes};
	is(show($found->{lost}), '', "cut $i: every acknowledged write is there");
	is(show($found->{alien}), '', "cut $i: every page holds a value sent to it");
	is(show($found->{mixed}), '', "cut $i: no page is a mix of two writes");
	is(show($found->{unreadable}), '', "cut $i: every page reads with a valid checksum");
	is(join("\n", @$errors), '', "cut $i: no client error before the kill");
}
cmp_ok($dropped, '>', 0, "the cuts dropped unsynced writes ($dropped in all)");
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM acks'), '>=', $cycles * 10,
	'the clients got writes acknowledged');

# ------------------------------------------------------------ torn last writes
# The extension fsyncs its data files soon after writing them, so a cut
# seldom finds a page write unsynced.  From here on, half the cycles
# slow every page write in place (fault point page-write-in-place, action
# sleep 50 ms, through the test module): a batch is then half written
# when the power goes, and its last page in each file is the one torn.
my $slow_writes = q{CREATE EXTENSION IF NOT EXISTS bufpool_test;
	SELECT bufpool_test.fault_attach('page-write-in-place', 'sleep', '50') WHERE random() < 0.5};
for my $tear (512, 4096)
{
	for my $i (1 .. 3)
	{
		my ($found, $errors, $st) = cycle("tear=$tear $i", cut => { tear => $tear }, setup => $slow_writes);
		is(show($found->{lost}), '', "tear=$tear $i: every acknowledged write is there");
		is(show($found->{alien}), '', "tear=$tear $i: every page holds a value sent to it");
		is(show($found->{mixed}), '', "tear=$tear $i: no page is a mix of two writes");
		is(show($found->{unreadable}), '', "tear=$tear $i: every page reads with a valid checksum");
	}
}

# ------------------------------------------------------------ a disk that reorders
for my $i (1 .. 3)
{
	my ($found) = cycle("keep=50 $i", cut => { keep => 50 }, setup => $slow_writes);
	is(show($found->{lost}), '', "keep=50 $i: every acknowledged write is there");
	is(show($found->{alien}), '', "keep=50 $i: every page holds a value sent to it");
	is(show($found->{mixed}), '', "keep=50 $i: no page is a mix of two writes");
	is(show($found->{unreadable}), '', "keep=50 $i: every page reads with a valid checksum");
}

# ------------------------------------------------------------ resizes running
for my $i (1 .. 3)
{
	my $resizer = loop_sql("resizer",
		"SELECT bufpool.resize('24MB'); SELECT bufpool.resize('40MB'); SELECT bufpool.resize('32MB');\n" x 200);
	my ($found) = cycle("resizing $i", cut => { tear => 4096 }, extra => [$resizer]);
	is(show($found->{lost}), '', "resizing $i: every acknowledged write is there");
	is(show($found->{alien}), '', "resizing $i: every page holds a value sent to it");
	is(show($found->{mixed}), '', "resizing $i: no page is a mix of two writes");
	is(show($found->{unreadable}), '', "resizing $i: every page reads with a valid checksum");
}

# ------------------------------------------------------------ spaces created and dropped
# A space whose creation returned is there after the cut, with its pages
# readable; a space whose drop returned is gone; the registry and the
# files agree (the server starts, and every space listed reads).
for my $i (1 .. 3)
{
	my $churn = loop_sql("churn", qq{
SELECT nextval('space_names') AS n \\gset
SELECT bufpool.create_space('churn_' || :n, 8) AS id \\gset
INSERT INTO spaces_made VALUES ('churn_' || :n, :id);
SELECT bufpool.write_page(:id, 3, convert_to('churn', 'UTF8'), 0);
INSERT INTO spaces_dropping SELECT :id WHERE :n % 2 = 0;
SELECT bufpool.drop_space(:id) WHERE :n % 2 = 0;
INSERT INTO spaces_dropped SELECT :id WHERE :n % 2 = 0;
} x 400);
	my ($found) = cycle("space churn $i", extra => [$churn]);
	is(show($found->{lost}), '', "space churn $i: every acknowledged write is there");
	is(show($found->{unreadable}), '', "space churn $i: every page reads with a valid checksum");
	my $bad = $node->safe_psql('postgres', q{
		SELECT string_agg(m.name, ', ') FROM spaces_made m
		WHERE NOT EXISTS (SELECT 1 FROM spaces_dropping d WHERE d.id = m.id)
		  AND NOT EXISTS (SELECT 1 FROM bufpool.spaces s WHERE s.space_id = m.id)});
	is($bad, '', "space churn $i: every space whose creation returned (and whose drop did not start) is there");
	$bad = $node->safe_psql('postgres', q{
		SELECT string_agg(d.id::text, ', ') FROM spaces_dropped d
		WHERE EXISTS (SELECT 1 FROM bufpool.spaces s WHERE s.space_id = d.id)});
	is($bad, '', "space churn $i: every space whose drop returned is gone");
	my ($o, $e);
	$node->psql('postgres', q{
		DO $$ DECLARE s record; BAD text := '';
		BEGIN
		  FOR s IN SELECT space_id, size_pages FROM bufpool.spaces LOOP
		    BEGIN
		      PERFORM bufpool.read_page(s.space_id, s.size_pages - 1);
		    EXCEPTION WHEN OTHERS THEN
		      BAD := BAD || s.space_id || ': ' || SQLERRM || '; ';
		    END;
		  END LOOP;
		  RAISE NOTICE 'bad:%', BAD;
		END $$;}, stdout => \$o, stderr => \$e);
	like($e, qr/bad:\s*$/m, "space churn $i: every space listed reads its last page");
}

# ------------------------------------------------------------ no doublewrite buffer
# Torn data pages cannot be repaired from a copy: the checksum must catch
# each one (no page may hold a mix the checksum accepts), and the test
# lists those recovery could not repair.
$node->append_conf('postgresql.conf', "bufpool_ext.doublewrite = off\n");
$node->restart;
my %unrepaired;
for my $i (1 .. 3)
{
	my ($found) = cycle("doublewrite off, tear=4096 $i", cut => { tear => 4096 }, setup => $slow_writes =~ s/ WHERE random\(\) < 0.5//r);
	is(show($found->{alien}), '', "doublewrite off $i: no page holds a value not sent to it");
	is(show($found->{mixed}), '', "doublewrite off $i: no page is a mix of two writes");
	is(show($found->{lost}), '', "doublewrite off $i: every readable page holds its acknowledged write");
	# a torn page stays unreadable (nothing can repair it), so later
	# cycles list it again: only the new ones are reported
	my @new = grep { !$unrepaired{$_} } map { /^(bulk \d+|\d+)/ ? $1 : $_ } @{ $found->{unreadable} };
	$unrepaired{$_} = 1 for @new;
	note "doublewrite off $i: torn pages caught by their checksum, not repaired: " . (show(\@new) || 'none');
}
note 'doublewrite off: ' . scalar(keys %unrepaired) . ' torn page(s) caught by checksum and not repaired: '
  . (join(', ', sort keys %unrepaired) || 'none');
$node->append_conf('postgresql.conf', "bufpool_ext.doublewrite = on\n");
$node->restart;

# ------------------------------------------------------------ the control
new_space('power_cut_2');
# flush_log_at_commit = 2: the log is written at commit but fsynced about
# once a second, so a power cut loses the last acknowledged writes.  Only
# the clients run: a flush or a checkpoint fsyncs the log first (the
# write-ahead rule), and the flusher's every 50 ms would hide the loss.
$node->append_conf('postgresql.conf', "bufpool_ext.flush_log_at_commit = 2\n");
$node->restart;
my $lost2 = 0;
for my $i (1 .. 5)
{
	my ($found) = cycle("flush_log_at_commit=2 $i", clients_only => 1);
	$lost2 += @{ $found->{lost} };
	is(show($found->{alien}), '', "flush_log_at_commit = 2, cut $i: every page holds a value sent to it");
	# the acknowledgements that were lost are no longer owed
	$node->safe_psql('postgres', qq{
		DELETE FROM acks a USING page_values($sid, $n_pages) pv
		WHERE a.p = pv.p AND (pv.v IS NULL OR a.v > pv.v)});
	last if $lost2 > 0 && $i >= 2;
}
cmp_ok($lost2, '>', 0,
	"flush_log_at_commit = 2 loses acknowledged writes in a power cut ($lost2 pages), as documented");
$node->append_conf('postgresql.conf', "bufpool_ext.flush_log_at_commit = 1\n");
$node->restart;

my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|was terminated by signal (?!9)/, 'no PANIC and no crash other than the kills');
$node->stop;
$fs->unmount;
done_testing();
