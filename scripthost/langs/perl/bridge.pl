# scripthost's Perl bridge: runs a perf Perl trace script in this perl and
# calls its handlers with perf's argument list, for events that scripthost
# sends on stdin in length-prefixed binary batches.
#
# usage (by scripthost only): perl bridge.pl CONTEXT_PM CONTROL_FD SCRIPT [ARGS...]
#
# Batch: u32 length, then records, each starting with a type byte:
#   'D' u16 id, name, n fields, then per field: name, kind (n=number, s=string,
#       d=data_loc string, r=rel_loc string, z=zero), offset, size, signed
#       and the offsets of common_preempt_count / common_flags / common_lock_depth (-1: none)
#   'W' define_* call: u8 which, strings event, field, i64 value, string text
#   'C' i32 tid, comm (empty: forget the tid)
# An event frame instead starts with 'E' and holds only events:
#   u16 id, u32 cpu, u64 time, i32 tid, raw   (comm comes from the 'C' records)
#   'B' trace_begin   'X' trace_end   'T' trace_interval   'L' trace_lost: kind, u64 count
# Strings are u16 length + bytes; raw is u32 length + bytes.
use strict;
use warnings;
no warnings "once";

my ($context_pm, $control_fd, $script, @args) = @ARGV;
$SIG{INT} = 'IGNORE';    # Ctrl-C is scripthost's to handle; it sends trace_end
$SIG{PIPE} = 'DEFAULT';

# Our pure-Perl Context must win over perf's XS one, whatever `use lib` says.
require $context_pm;
$INC{'Perf/Trace/Context.pm'} = $context_pm;

open(my $control, '>&=', $control_fd) or die "scripthost bridge: control fd: $!\n";
binmode STDIN;

@ARGV = @args;
$0 = $script;
{
    package main;
    # `do` searches @INC for a relative path that does not start with ./
    my $ok = do($script =~ m{^\.{0,2}/} ? $script : "./$script");
    if (!defined $ok && $@) {
        print STDERR $@;
        exit 255;
    }
    if (!defined $ok && $!) {
        print STDERR "Can't open perl script \"$script\": $!\n";
        exit 255;
    }
}

my $interval = $main::SCRIPTHOST_INTERVAL // 0;
my $has_process_event = defined &main::process_event ? 1 : 0;
print $control "ok $interval $has_process_event\n";
close $control;

my (@handler, @name_of, @context_of, %frame_branch, %comm_of);
my $frame_loop = sub { };
my $unhandled = defined &main::trace_unhandled ? \&main::trace_unhandled : undef;
my $nevents = 0;

sub call_main {
    my $sub = shift;
    no strict 'refs';
    my $f = \&{"main::$sub"};
    $f->(@_) if defined &{"main::$sub"};
}

sub read_full {
    my ($n) = @_;
    my $buf = '';
    while (length($buf) < $n) {
        my $r = sysread(STDIN, $buf, $n - length($buf), length($buf));
        if (!defined $r) {
            next if $!{EINTR};
            die "scripthost bridge: read: $!\n";
        }
        return undef if $r == 0;
    }
    return $buf;
}

sub define_event {
    my ($buf, $pos) = @_;
    my ($id, $name, $n) = unpack("\@$pos S< S</a S<", $buf);
    $pos += 2 + 2 + length($name) + 2;
    my @fields;
    for (1 .. $n) {
        my ($fname, $kind, $off, $size, $signed) = unpack("\@$pos S</a a S< S< C", $buf);
        $pos += 2 + length($fname) + 1 + 2 + 2 + 1;
        push @fields, [$kind, $off, $size, $signed];
    }
    my ($pc_off, $flags_off, $lock_off) = unpack("\@$pos s< s< s<", $buf);
    $pos += 6;
    $name_of[$id] = $name;
    my ($sys, $ev) = split /::/, $name, 2;
    {
        no strict 'refs';
        $handler[$id] = defined &{"${sys}::${ev}"} ? \&{"${sys}::${ev}"} : $unhandled;
    }
    return $pos if !$handler[$id];
    # This event type's branch of the frame loop: one unpack of the raw data gives
    # common_pid and every field; __data_loc strings need a second unpack.
    my (@tmpl, @post);
    push @tmpl, '@4 l<';
    my $i = 0;
    for my $f (@fields) {
        my ($kind, $off, $size, $signed) = @$f;
        if ($kind eq 'n') {
            my $code = $size == 1 ? 'C' : $size == 2 ? 'S<' : $size == 4 ? 'L<'
                     : ($signed ? 'q<' : 'Q<');
            push @tmpl, "\@$off $code";
        } elsif ($kind eq 's') {
            push @tmpl, "\@$off Z*";
        } elsif ($kind eq 'd' || $kind eq 'r') {
            push @tmpl, "\@$off L<";
            my $base = $kind eq 'r' ? $off + 4 : 0;
            push @post, "\$v[$i] = unpack('\@' . ((\$v[$i] & 0xffff) + $base) . ' Z*', \$f[\$i + 4]);";
        } else {
            push @post, "splice(\@v, $i, 0, 0);";
        }
        $i++;
    }
    $context_of[$id] = [map { $_ >= 0 ? "\@$_ C" : '' } ($pc_off, $flags_off, $lock_off)];
    $frame_branch{$id} = "my (\$pid, \@v) = unpack('@tmpl', \$f[\$i + 4]); @post "
        . "my \$t = \$f[\$i + 2]; my \$tid = \$f[\$i + 3]; "
        . "\$Perf::Trace::Context::raw = \\\$f[\$i + 4]; \$Perf::Trace::Context::templates = \$context_of[$id]; "
        . "\$handler[$id]->(\$name_of[$id], ++\$nevents, \$f[\$i + 1], \$t / 1000000000, "
        . "\$t % 1000000000, \$pid, \$comm_of{\$tid} // \":\$tid\", [], \@v);";
    # one loop over a frame's events, every event type's decoding inline
    my $cases = join("\n    els", map { "if (\$id == $_) { $frame_branch{$_} }" } sort { $a <=> $b } keys %frame_branch);
    $frame_loop = eval "sub { use integer; my \@f = unpack('x (S< L< Q< l< L</a)*', \$_[0]);\n"
        . "  for (my \$i = 0; \$i < \@f; \$i += 5) { my \$id = \$f[\$i];\n    $cases\n  } }"
        or die "scripthost bridge: decoder for $name: $@\n";
    return $pos;
}

while (1) {
    my $hdr = read_full(4);
    last if !defined $hdr;
    my $len = unpack("L<", $hdr);
    my $buf = read_full($len);
    die "scripthost bridge: batch cut short\n" if !defined $buf;
    my $kind = substr($buf, 0, 1);
    if ($kind eq 'E') {
        $frame_loop->($buf);
        next;
    }
    my $pos = 0;
    while ($pos < $len) {
        my $type = substr($buf, $pos, 1);
        $pos++;
        if ($type eq 'C') {
            my ($tid, $comm) = unpack("\@$pos l< S</a", $buf);
            $pos += 4 + 2 + length($comm);
            if (length $comm) { $comm_of{$tid} = $comm; } else { delete $comm_of{$tid}; }
        } elsif ($type eq 'D') {
            $pos = define_event($buf, $pos);
        } elsif ($type eq 'W') {
            my ($which, $ev, $field, $value, $text) = unpack("\@$pos C S</a S</a q< S</a", $buf);
            $pos += 1 + 2 + length($ev) + 2 + length($field) + 8 + 2 + length($text);
            if ($which == 0) { call_main('define_flag_field', $ev, $field, $text); }
            elsif ($which == 1) { call_main('define_flag_value', $ev, $field, $value, $text); }
            elsif ($which == 2) { call_main('define_symbolic_field', $ev, $field); }
            else { call_main('define_symbolic_value', $ev, $field, $value, $text); }
        } elsif ($type eq 'B') {
            call_main('trace_begin');
        } elsif ($type eq 'X') {
            call_main('trace_end');
        } elsif ($type eq 'T') {
            call_main('trace_interval');
        } elsif ($type eq 'L') {
            my ($kind, $count) = unpack("\@$pos S</a Q<", $buf);
            $pos += 2 + length($kind) + 8;
            call_main('trace_lost', $kind, $count);
        } else {
            die "scripthost bridge: unknown record type '$type'\n";
        }
    }
}
exit 0;
