# Bad-input battery: every SQL function of schema bufpool (and of the test
# module's schema bufpool_test, whose functions must behave too), called as a
# superuser with NULL, negative, zero, maximum and out-of-range arguments,
# must either work or fail with a clear error that has an errcode: never a
# backend crash, a FATAL, an XX000 (an elog or an errcode-less ereport), or
# a call that runs until statement_timeout.
#
# The calls are generated from pg_proc, so a new function is covered
# without touching this file; only a new argument type needs a line in
# %battery (the test fails until it has one).  For each function: one call
# with every argument NULL, then, for each argument in turn, one call per
# value of its type's battery with the other arguments at a valid baseline
# (so the bad value is the one that reaches the checks), then one call
# with all arguments at their type's zero and one at their type's maximum.
#
# The calls run in one psql session; after each, psql's ERROR and SQLSTATE
# variables tell how it ended.  If the session dies the call that killed it
# is recorded, the server is given time to come back (restart_after_crash
# is on) and the battery goes on with the next call, so one run lists every
# crashing call.  At the end the server log must show no crash and no
# crash-restart.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('bad_input');
$node->init;
# so that one crash does not end the battery; the log check below still
# fails the test
$node->append_conf('postgresql.conf', qq{
restart_after_crash = on
log_min_messages = warning
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION bufpool_ext;
	CREATE EXTENSION bufpool_test;
	CREATE TABLE bad_input_t AS SELECT g AS x FROM generate_series(1, 1000) AS g;
});
my $sid = $node->safe_psql('postgres', "SELECT bufpool.create_space('bad_input', 16)");
like($sid, qr/^[1-9][0-9]*$/, 'space created');
# drop_space's baseline call drops this one, not the space the others use
my $sid_drop = $node->safe_psql('postgres', "SELECT bufpool.create_space('bad_input_drop', 1)");
like($sid_drop, qr/^[1-9][0-9]*$/, 'space to drop created');
my $pool_size = $node->safe_psql('postgres', 'SELECT effective_size FROM bufpool.status()');
like($pool_size, qr/^[1-9][0-9]*$/, 'pool size known');

# Bad values per argument type (format_type names): SQL expressions.  The
# first value labelled zero and max are also used for the all-zero and
# all-max calls.
my %battery = (
	'integer' => [
		[ neg => '-1' ], [ zero => '0' ], [ max => '2147483647' ],
		[ min => '(-2147483648)' ]
	],
	'bigint' => [
		[ neg => '-1' ],
		[ zero => '0' ],
		[ max => '9223372036854775807' ],
		[ min => '(-9223372036854775808)' ],
		[ past_uint32 => '4294967296' ],
		[ past_int32 => '2147483648' ]
	],
	'text' => [
		[ zero => q{''} ],
		[ neg => q{'-1'} ],
		[ digit => q{'0'} ],
		[ max => q{'9223372036854775807'} ],
		[ huge => q{'99999999999999999999999999TB'} ],
		[ long => q{repeat('x', 100000)} ],
		[ dotdot => q{'../x'} ],
		[ abs_path => q{'/etc/passwd'} ],
		[ slash => q{'a/b'} ],
		[ control => q{E'a\\001b\\nc'} ],
		[ multibyte => q{'sp' || chr(228) || 'ce'} ],
		[ nul => q{chr(0)} ]
	],
	'bytea' => [
		[ zero => q{'\x'} ],
		[ max => q{decode(repeat('ab', 100000), 'hex')} ],
		[ one => q{'\x00'} ]
	],
	'boolean' => [ [ zero => 'false' ], [ max => 'true' ] ],
	'double precision' => [
		[ zero => '0' ],
		[ neg => '-1' ],
		[ max => q{'Infinity'::float8} ],
		[ nan => q{'NaN'::float8} ],
		[ tiny => '1e-300' ],
		[ huge => '1e300' ]
	],
	'integer[]' => [
		[ zero => q{'{}'} ],
		[ neg => q{'{-1}'} ],
		[ zeroes => q{'{0}'} ],
		[ max => q{'{2147483647}'} ],
		[ min => q{'{-2147483648}'} ],
		[ null_elem => q{'{1,NULL}'} ],
		[ two_dim => q{'{{1,2},{3,4}}'} ],
		[ lower_bound => q{'[5:6]={1,2}'} ],
		[ many => q{array_fill(64, ARRAY[100000])} ]
	],
	'regclass' => [
		[ zero => '0' ],
		[ max => '4294967295' ],
		[ view => q{'pg_stat_activity'} ],
		[ catalog => q{'pg_class'} ],
		[ index => q{'pg_class_oid_index'} ]
	],);

# Valid arguments, by function.argument, then by argument name, then by
# type: the other arguments of a call while one argument gets bad values.
my %baseline = (
	'space_id' => $sid,
	'drop_space.space_id' => $sid_drop,
	'page_no' => '0',
	'name' => q{'bad_input_new'},
	'size_pages' => '1',
	'data' => q{'\x00'},
	'offset' => '0',
	'n_pages' => '1',
	'pattern' => q{'uniform'},
	'alloc_bench.pattern' => q{'pairs'},
	'allocator' => q{'arena'},
	'size_spec' => q{'16'},
	'type' => q{'dynamic'},
	'which' => q{'free_top'},
	'action' => q{'none'},
	'sizes' => q{'{16}'},
	'n_ops' => '1',
	'seed' => '1',
	'rel' => q{'bad_input_t'},
	'new_size' => "'$pool_size'",
	'wait' => 'true',
	'block_size' => '1024',
	'max_capacity' => '0',
	'max_align' => '8',
	'alloc_size' => '16',
	'n_allocs' => '1',
	'error_on_full' => 'true',
	'free_top' => '0',
	'size' => '64',
	'instance' => '-1',
	'max_size' => '4096',
	'duration_ms' => '1',
	'capacity' => '1',
	'scan_pages' => '1',
	'scan_every' => '1',
	'scan_range' => '1',
	'warmup_ops' => '1',
	'exponent' => '0.9',
	'zipf_s' => '0.9',
	'first' => '0',
	'n' => '1',
	'kind' => q{'rows'},
	'top' => '1',
	'addr' => '1',
	'integer' => '1',
	'bigint' => '1',
	'text' => q{'x'},
	'bytea' => q{'\x00'},
	'boolean' => 'false',
	'integer[]' => q{'{1}'},
	'regclass' => q{'bad_input_t'},);

# Functions that must not be called at all, with the reason.  No function
# of schema bufpool blocks when called alone in a session (pin_page holds
# its pin only until the end of the transaction, resize with wait waits
# only for pins, and this session holds none).
my %skip = (
	'bufpool_test.fault_attach' =>
	  'attaches faults that change what every later call does; bp_faults covers its bad input',
	'bufpool_test.fault_detach' => 'goes with fault_attach',);

# Arguments that size the work of a test or benchmark loop: a large value
# inside their range is a long run, not a bad input (bench_fetch with
# n_ops = 2^32 fetches for minutes).  They get only the values that must
# be rejected: NULL, negative, zero, the type's minimum and maximum.
my %work_args = map { $_ => 1 } qw(n_ops duration_ms warmup_ops);
my %work_values = map { $_ => 1 } qw(neg zero min max);

my $procs = $node->safe_psql('postgres', q{
	SELECT p.pronamespace::regnamespace || '.' || p.proname,
		   coalesce((SELECT string_agg(format_type(t, NULL), ';' ORDER BY i)
					 FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)), ''),
		   coalesce((SELECT string_agg(coalesce(n, ''), ';' ORDER BY i)
					 FROM unnest(p.proargnames, coalesce(p.proargmodes,
							array_fill('i'::"char", ARRAY[coalesce(cardinality(p.proargnames), 0)])))
						  WITH ORDINALITY AS a(n, m, i)
					 WHERE m IN ('i', 'b', 'v')), '')
	FROM pg_proc p
	WHERE p.pronamespace IN ('bufpool'::regnamespace, 'bufpool_test'::regnamespace)
	ORDER BY 1, p.oid});

my @calls;				# [ label, sql ]
my %functions;
my @no_battery;
foreach my $line (split /\n/, $procs)
{
	my ($qname, $types, $names) = split /\|/, $line, -1;
	my ($schema, $fname) = split /\./, $qname;
	my @types = $types eq '' ? () : split /;/, $types, -1;
	my @names = $names eq '' ? () : split /;/, $names, -1;
	$functions{$qname} = 1;
	next if exists $skip{$qname};

	my @base;
	foreach my $i (0 .. $#types)
	{
		my $n = $names[$i] // '';
		my $v = $baseline{"$fname.$n"} // $baseline{$n} // $baseline{ $types[$i] };
		push @no_battery, "$fname($types[$i])"
		  unless defined $v && exists $battery{ $types[$i] };
		push @base, defined $v ? "($v)::$types[$i]" : "NULL::$types[$i]";
	}
	my $call = sub {
		my ($label, @args) = @_;
		push @calls,
		  [ "$qname($label)", "SELECT * FROM $qname(" . join(', ', @args) . ')' ];
	};
	if (!@types)
	{
		$call->('');
		next;
	}
	$call->('baseline', @base);
	$call->('all NULL', map { "NULL::$_" } @types);
	foreach my $i (0 .. $#types)
	{
		my $argname = $names[$i] || "\$" . ($i + 1);
		foreach my $b (@{ $battery{ $types[$i] } // [] })
		{
			next if $work_args{$argname} && !$work_values{ $b->[0] };
			my @args = @base;
			$args[$i] = "($b->[1])::$types[$i]";
			$call->("$argname=$b->[0]", @args);
		}
		my @args = @base;
		$args[$i] = "NULL::$types[$i]";
		$call->("$argname=NULL", @args);
	}
	foreach my $label ('zero', 'max')
	{
		my @args = map {
			my $t = $types[$_];
			my ($b) = grep { $_->[0] eq $label } @{ $battery{$t} // [] };
			$b ? "($b->[1])::$t" : $base[$_]
		} 0 .. $#types;
		$call->("all $label", @args);
	}
}
is(join(', ', @no_battery), '',
	'every argument type has bad values and a baseline (add them to %battery and %baseline)');
cmp_ok(scalar(grep { /^bufpool\./ } keys %functions), '>=', 28, 'functions of bufpool found in pg_proc');
cmp_ok(scalar(grep { /^bufpool_test\./ } keys %functions), '>=', 20, 'and of bufpool_test');
note scalar(@calls) . ' calls';

# Run calls from index $first on in one session; returns the outcome of
# each call that finished ("SQLSTATE message", 00000 for success) and
# whether the session died.
sub run_from
{
	my ($first) = @_;
	my $script = "\\set VERBOSITY default\n\\o /dev/null\n"
	  . "SET statement_timeout = '60s';\nSET client_min_messages = error;\n";
	foreach my $k ($first .. $#calls)
	{
		$script .= "$calls[$k][1];\n"
		  . "\\if :ERROR\n\\echo '\@\@' $k :SQLSTATE :LAST_ERROR_MESSAGE\n"
		  . "\\else\n\\echo '\@\@' $k 00000\n\\endif\n";
	}
	my ($stdout, $stderr);
	$node->psql('postgres', $script,
		stdout => \$stdout, stderr => \$stderr, on_error_stop => 0);
	my %done;
	foreach (split /\n/, $stdout)
	{
		$done{$1} = $2 if /^\@\@ (\d+) (.*)$/;
	}
	return (\%done, $stderr);
}

my %outcome;
my @died;
my $next = 0;
while ($next <= $#calls)
{
	my ($done, $stderr) = run_from($next);
	$outcome{$_} = $done->{$_} foreach keys %$done;
	my $last = $next - 1;
	$last++ while exists $done->{ $last + 1 };
	last if $last == $#calls;
	# the session ended during call $last + 1
	push @died, "$calls[$last + 1][0]: $calls[$last + 1][1]";
	diag "session died during $calls[$last + 1][0]: "
	  . join(' | ', grep { /FATAL|PANIC|server closed|connection/ } split /\n/, $stderr);
	$node->poll_query_until('postgres', 'SELECT 1', '1')
	  or BAIL_OUT('the server did not come back');
	$node->poll_query_until('postgres', 'SELECT state FROM bufpool.status()', 'ready')
	  or BAIL_OUT('the pool did not come back');
	$next = $last + 2;
}

is(join("\n", @died), '', 'no call ended its session (crash or FATAL)');
is(scalar(keys %outcome) + scalar(@died), scalar(@calls), 'every call has an outcome');
foreach my $k (0 .. $#calls)
{
	note "$calls[$k][0] -> " . ($outcome{$k} // 'session died');
}

my (@internal, @timeouts);
my %ok_per_function;
foreach my $k (0 .. $#calls)
{
	my $o = $outcome{$k};
	next unless defined $o;
	my ($fname) = $calls[$k][0] =~ /^([^(]+)/;
	$ok_per_function{$fname}++ if $o =~ /^00000/;
	push @internal, "$calls[$k][0]: $o" if $o =~ /^XX000/;
	push @timeouts, "$calls[$k][0]: $o" if $o =~ /^57014/;
}
is(join("\n", @internal), '', 'no call failed with XX000 (an error without an errcode)');
is(join("\n", @timeouts), '', 'no call ran into statement_timeout');

# the baselines are valid: the bad values were checked one at a time, not
# hidden behind an error on another argument
my @baseline_fails = map { "$calls[$_][0]: $outcome{$_}" }
  grep { $calls[$_][0] =~ /\(baseline\)$/ && defined $outcome{$_} && $outcome{$_} !~ /^00000/ }
  0 .. $#calls;
note "baseline calls that fail: $_" foreach @baseline_fails;

# and the server never crashed
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no process was terminated by a signal');
unlike($log, qr/all server processes terminated; reinitializing/, 'no crash-restart');
unlike($log, qr/\bPANIC:/, 'no PANIC');

done_testing();
