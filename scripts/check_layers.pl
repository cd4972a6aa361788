#!/usr/bin/perl
# check_layers.pl: the layer rule of bufpool_ext's source tree (README,
# "Source layout").  The layers, bottom first, are the folders of src/:
#
#   base shared mmgr storage redo pool workers sql, then src/*.c (entry)
#
# and include/bufpool_ext/<layer>/ mirrors them.  A file may call functions
# and include headers of its own layer and of the layers below it, never of
# a layer above.  The public header include/bufpool_ext/bufpool.h (the C
# API) may be included by every layer for its types; its functions are
# defined in the pool layer, and calls to them are checked there like any
# other.
#
# Reads the C files as text (no compiler): a function is defined where its
# name starts a line followed by "(" after a line holding its type, as in
# PostgreSQL's style; static functions are left out (file-local).  Calls are
# "name(" outside comments and strings.
#
#   perl scripts/check_layers.pl [--graph]
#
# Prints every call and include across files that goes up, and with
# --graph also, per file, the files whose functions it calls.  Exits 1 if
# anything goes up or a file lies outside the layers.
#
# When the tree is built (every src/**/*.c has its .o), the rule is also
# checked on the objects, which is exact: every symbol an object
# references (a call, a function pointer, a variable) and which another
# object of src/ defines (nm), must not be of a higher layer.
use strict;
use warnings;
use File::Basename;
use File::Find;

my @LAYERS = qw(base shared mmgr storage redo pool workers sql entry);
my %RANK;
@RANK{@LAYERS} = 0 .. $#LAYERS;

my $root = dirname(dirname(__FILE__));
chdir $root or die "cannot chdir to $root: $!";
my $graph = grep { $_ eq '--graph' } @ARGV;

my @files;
find(sub { push @files, $File::Find::name if /\.[ch]$/ }, 'src', 'include/bufpool_ext');
@files = sort @files;

sub layer_of
{
	my ($path) = @_;
	return 'entry' if $path =~ m{^src/[^/]+\.c$};
	return 'pool' if $path eq 'include/bufpool_ext/bufpool.h';
	return $1 if $path =~ m{^src/([a-z]+)/} || $path =~ m{^include/bufpool_ext/([a-z]+)/};
	return undef;
}

sub strip
{
	my ($text) = @_;
	$text =~ s{/\*.*?\*/}{ }gs;
	$text =~ s{//[^\n]*}{}g;
	$text =~ s{"(?:\\.|[^"\\])*"}{""}g;
	$text =~ s{'(?:\\.|[^'\\])'}{''}g;
	return $text;
}

my (%text, %raw, %defined_in, $bad);
for my $f (@files)
{
	my $l = layer_of($f);
	if (!defined $l || !exists $RANK{$l})
	{
		print "outside the layers: $f\n";
		$bad = 1;
		next;
	}
	open(my $fh, '<', $f) or die "$f: $!";
	local $/;
	my $raw = <$fh>;
	close $fh;
	$text{$f} = strip($raw);
	$raw{$f} = $raw;
	next unless $f =~ /\.c$/;
	my @lines = split /\n/, $raw;
	for my $i (1 .. $#lines)
	{
		next unless $lines[$i] =~ /^([A-Za-z_][A-Za-z0-9_]*)\(/;
		my $name = $1;
		my $prev = $lines[ $i - 1 ];
		next if $prev =~ /^\s*$/ || $prev =~ /[;{}]\s*$/ || $prev =~ /^#/;
		next if $prev =~ /\bstatic\b/;
		$defined_in{$name} = $f;
	}
}

my %calls;
for my $f (sort keys %text)
{
	my $lf = layer_of($f);
	while ($text{$f} =~ /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)
	{
		my $g = $defined_in{$1} or next;
		next if $g eq $f;
		$calls{$f}{$g}{$1} = 1;
	}
	while ($raw{$f} =~ /^#include\s+"bufpool_ext\/([^"]+)"/mg)
	{
		my $h = "include/bufpool_ext/$1";
		my $lh = layer_of($h);
		next unless defined $lh;
		next if $h eq 'include/bufpool_ext/bufpool.h';
		if ($RANK{$lh} > $RANK{$lf})
		{
			print "include up: $f ($lf) includes $h ($lh)\n";
			$bad = 1;
		}
	}
}

for my $f (sort keys %calls)
{
	my $lf = layer_of($f);
	for my $g (sort keys %{ $calls{$f} })
	{
		my $lg = layer_of($g);
		my @names = sort keys %{ $calls{$f}{$g} };
		if ($RANK{$lg} > $RANK{$lf})
		{
			print "call up: $f ($lf) -> $g ($lg): @names\n";
			$bad = 1;
		}
	}
	if ($graph)
	{
		print "$f ($lf) -> ",
		  join(', ', map { "$_ (" . layer_of($_) . ")" } sort keys %{ $calls{$f} }), "\n";
	}
}
# ---- the objects, if built
my @c_files = grep { /\.c$/ && m{^src/} } @files;
my @objects = map { (my $o = $_) =~ s/\.c$/.o/; $o } @c_files;
if (@objects && !grep { !-f $_ } @objects)
{
	my (%sym_def, %sym_use);
	for my $o (@objects)
	{
		open(my $nm, '-|', 'nm', $o) or die "nm $o: $!";
		while (<$nm>)
		{
			if (/^\s+U (\S+)$/) { $sym_use{$o}{$1} = 1; }
			elsif (/^[0-9a-f]+ [TDBRC] (\S+)$/) { $sym_def{$1} = $o; }
		}
		close($nm);
	}
	my $n_refs = 0;
	for my $o (@objects)
	{
		(my $c = $o) =~ s/\.o$/.c/;
		for my $sym (sort keys %{ $sym_use{$o} })
		{
			my $d = $sym_def{$sym} or next;
			$n_refs++;
			(my $dc = $d) =~ s/\.o$/.c/;
			if ($RANK{ layer_of($dc) } > $RANK{ layer_of($c) })
			{
				print "object reference up: $o (", layer_of($c), ") -> $d (", layer_of($dc), "): $sym\n";
				$bad = 1;
			}
		}
	}
	print "objects: $n_refs references between objects of src/ checked\n";
}
else
{
	print "objects: not built, only the sources were checked\n";
}
print $bad ? "layer rule broken\n" : "layer rule holds: no call or include goes up\n";
exit($bad ? 1 : 0);
