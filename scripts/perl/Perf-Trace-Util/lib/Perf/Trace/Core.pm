package Perf::Trace::Core;
# scripthost's Core: flag and symbol tables filled by the define_* calls, and
# the helpers that read them (same API as perf's Perf::Trace::Core).
use 5.010000;
use strict;
use warnings;
require Exporter;
our @ISA = qw(Exporter);
our @EXPORT = qw(define_flag_field define_flag_value flag_str dump_flag_fields
                 define_symbolic_field define_symbolic_value symbol_str dump_symbolic_fields
                 trace_flag_str);
our $VERSION = '0.01';

my @trace_flag_bits = ([0x01, "IRQS_OFF"], [0x02, "IRQS_NOSUPPORT"], [0x04, "NEED_RESCHED"],
                       [0x08, "HARDIRQ"], [0x10, "SOFTIRQ"]);
my (%flags, %symbols);

sub trace_flag_str {
    my ($value) = @_;
    return "NONE" if !$value;
    my @names;
    for my $f (@trace_flag_bits) {
        if (($value & $f->[0]) == $f->[0]) { push @names, $f->[1]; $value &= ~$f->[0]; }
    }
    return join(" | ", @names);
}

sub define_flag_field { my ($ev, $field, $delim) = @_; $flags{$ev}{$field}{delim} = $delim; }
sub define_flag_value { my ($ev, $field, $v, $s) = @_; $flags{$ev}{$field}{values}{$v} = $s; }
sub define_symbolic_field { }
sub define_symbolic_value { my ($ev, $field, $v, $s) = @_; $symbols{$ev}{$field}{values}{$v} = $s; }

sub flag_str {
    my ($ev, $field, $value) = @_;
    my $f = $flags{$ev}{$field} or return undef;
    my $vals = $f->{values} || {};
    my @names;
    for my $bit (sort { $a <=> $b } keys %$vals) {
        if (!$value && !$bit) { push @names, $vals->{$bit}; last; }
        if ($bit && ($value & $bit) == $bit) { push @names, $vals->{$bit}; $value &= ~$bit; }
    }
    return undef if !@names;
    my $sep = $f->{delim} ? " $f->{delim} " : "";
    return join($sep, @names);
}

sub symbol_str {
    my ($ev, $field, $value) = @_;
    my $s = $symbols{$ev}{$field} or return undef;
    for my $key (sort { $a <=> $b } keys %{ $s->{values} }) {
        return $s->{values}{$key} if (!$value && !$key) || $value == $key;
    }
    return undef;
}

sub dump_flag_fields {
    for my $ev (keys %flags) {
        print "event $ev:\n";
        for my $field (keys %{ $flags{$ev} }) {
            print "    field: $field:\n";
            print "        delim: $flags{$ev}{$field}{delim}\n";
            for my $v (sort { $a <=> $b } keys %{ $flags{$ev}{$field}{values} }) {
                print "        value $v: $flags{$ev}{$field}{values}{$v}\n";
            }
        }
    }
}

sub dump_symbolic_fields {
    for my $ev (keys %symbols) {
        print "event $ev:\n";
        for my $field (keys %{ $symbols{$ev} }) {
            print "    field: $field:\n";
            for my $v (sort { $a <=> $b } keys %{ $symbols{$ev}{$field}{values} }) {
                print "        value $v: $symbols{$ev}{$field}{values}{$v}\n";
            }
        }
    }
}

1;
