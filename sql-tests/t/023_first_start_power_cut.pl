# A power cut soon after the extension's first start, with the whole
# data directory on the power-cut file system (test/cutfs): the
# bufpool_ext directory, made at the pool's first start, and every file
# in it must be durable once a space's creation or a write has returned.
# 022_power_cut puts only the bufpool_ext directory on cutfs, so it cannot
# see whether the directory's own entry in $PGDATA was made durable.
#
# Cycle 1 cuts the power right after the first space is created and
# written; later cycles create a space, write, drop another, and cut.
# PostgreSQL's own files are on cutfs too (fsync = on), so the tables
# that record what was acknowledged are as durable as PostgreSQL makes
# them.

use strict;
use warnings;

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

my $node = PostgreSQL::Test::Cluster->new('first_start');
my $fs = CutFS->new('first_start')->mount_at($node->data_dir);
$node->init;
$node->append_conf('postgresql.conf', qq{
fsync = on
restart_after_crash = off
bufpool_ext.flush_log_at_commit = 1
bufpool_ext.log_file_size = '8MB'
});
# initdb fsyncs what it made; make it all durable in any case
$fs->sync;

sub kill_and_cut
{
	kill_server($node);
	my $st = $fs->cut;
	note "power cut: $st->{last_cut_dropped_writes} writes dropped, "
	  . "$st->{last_cut_undone_name_changes} name changes undone";
	return;
}

$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE TABLE made (name text, id int, value text);
	CREATE TABLE dropped (id int)});
# wait for the pool (it makes bufpool_ext/ and the redo log at its start)
$node->poll_query_until('postgres', "SELECT state = 'ready' FROM bufpool.status()", 't')
  or die 'the pool did not get ready';

my $cycle = 0;
sub make_space
{
	my $name = 'first_' . ++$cycle;
	my $id = $node->safe_psql('postgres', "SELECT bufpool.create_space('$name', 16)");
	$node->safe_psql('postgres', qq{
		SELECT bufpool.write_page($id, 7, convert_to('$name', 'UTF8'), 0);
		INSERT INTO made VALUES ('$name', $id, '$name')});
	return $id;
}

sub check
{
	my ($label) = @_;
	$node->start;
	$node->poll_query_until('postgres', "SELECT state IN ('ready', 'failed') FROM bufpool.status()", 't');
	is($node->safe_psql('postgres', 'SELECT state FROM bufpool.status()'), 'ready',
		"$label: the pool is built after the cut");
	my $missing = $node->safe_psql('postgres', q{
		SELECT string_agg(m.name, ', ') FROM made m
		WHERE m.id NOT IN (SELECT id FROM dropped)
		  AND NOT EXISTS (SELECT 1 FROM bufpool.spaces s WHERE s.space_id = m.id)});
	is($missing, '', "$label: every space whose creation returned is there");
	my $wrong = $node->safe_psql('postgres', q{
		DO $$ DECLARE m record; bad text := '';
		BEGIN
		  FOR m IN SELECT * FROM made WHERE id NOT IN (SELECT id FROM dropped)
		           AND id IN (SELECT space_id FROM bufpool.spaces) LOOP
		    BEGIN
		      IF convert_from(substring(bufpool.read_page(m.id, 7) FROM 1 FOR length(m.value)),
		                      'UTF8') <> m.value THEN
		        bad := bad || m.name || ' ';
		      END IF;
		    EXCEPTION WHEN OTHERS THEN
		      bad := bad || m.name || ' (' || SQLERRM || ') ';
		    END;
		  END LOOP;
		  IF bad <> '' THEN RAISE EXCEPTION 'wrong pages: %', bad; END IF;
		END $$;
		SELECT 'ok'});
	is($wrong, 'ok', "$label: every acknowledged write is there");
	my $back = $node->safe_psql('postgres',
		'SELECT string_agg(id::text, \', \') FROM dropped WHERE id IN (SELECT space_id FROM bufpool.spaces)');
	is($back, '', "$label: no space whose drop returned came back");
	return;
}

make_space();
kill_and_cut();
check('first start');

for my $i (1 .. 4)
{
	my $id = make_space();
	my $victim = $node->safe_psql('postgres',
		'SELECT min(id) FROM made WHERE id NOT IN (SELECT id FROM dropped) AND id <> ' . $id);
	if ($victim ne '')
	{
		$node->safe_psql('postgres', "SELECT bufpool.drop_space($victim); INSERT INTO dropped VALUES ($victim)");
	}
	kill_and_cut();
	check("cycle $i");
}

my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|was terminated by signal (?!9)/, 'no PANIC and no crash other than the kills');
$node->stop;
$fs->unmount;
done_testing();
