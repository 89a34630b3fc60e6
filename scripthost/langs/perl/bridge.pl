# scripthost's Perl bridge: runs a perf Perl trace script in this perl and
# calls its handlers with perf's argument list, for events that scripthost
# sends on EVENTS_FD in length-prefixed binary batches (STDIN stays the user's).
#
# usage (by scripthost only): perl bridge.pl CONTEXT_PM CONTROL_FD EVENTS_FD SCRIPT [ARGS...]
#
# Batch: u32 length, then records, each starting with a type byte:
#   'D' u16 id, name, n fields, then per field: name, kind (n=number, s=string,
#       d=data_loc string, r=rel_loc string, z=zero), offset, size, signed
#       and the offsets of common_preempt_count / common_flags / common_lock_depth (-1: none)
#   'K' u8 frame kind, unpack template of one event, u8 stride, and the places of
#       cpu, time, tid, raw, callchain, record, perf_sample and common_pid (0: none,
#       read from the raw data) among the
#       stride values the template gives (id is first); a callchain is u16 entries,
#       each u64 ip, u8 has (1: sym: u64 start, u64 end, u8 binding, name; 2: dso name)
#   'A' u16 id, attr, u16 size of perf's struct perf_sample, u8 raw data sampled: the
#       event's samples go to main::process_event too (after its handler, if any), as
#       under perf: the record, the attr, the perf_sample (NUL-padded to its size) and
#       the raw data (undef when not sampled)
#   'W' define_* call: u8 which, strings event, field, i64 value, string text
#   'C' i32 tid, comm (empty: forget the tid)
#   'B' trace_begin   'X' trace_end   'T' trace_interval   'L' trace_lost: kind, u64 count
# An event frame instead starts with 'E' and a frame kind byte, then only events,
# each laid out as its kind's template says (comm comes from the 'C' records).
# Strings are u16 length + bytes.
# A perl older than 5.10 cannot compile the rest of this file: say so on the control
# fd (ARGV[1]) before the parser gets there.  SCRIPTHOST_PERL_MIN lets tests see it.
BEGIN {
    if ($] < ($ENV{SCRIPTHOST_PERL_MIN} || 5.010)) {
        my $c;
        print $c "old ", sprintf("%vd", $^V), "\n" if open($c, '>&=', $ARGV[1]);
        exit 2;
    }
}
use strict;
use warnings;
no warnings "once";

my ($context_pm, $control_fd, $events_fd, $script, @args) = @ARGV;
$SIG{INT} = 'IGNORE';    # Ctrl-C is scripthost's to handle; it sends trace_end
$SIG{PIPE} = 'DEFAULT';

# Our pure-Perl Context must win over perf's XS one, whatever `use lib` says.
require $context_pm;
$INC{'Perf/Trace/Context.pm'} = $context_pm;

open(my $control, '>&=', $control_fd) or die "scripthost bridge: control fd: $!\n";
open(my $events, '<&=', $events_fd) or die "scripthost bridge: events fd: $!\n";
binmode $events;
{   # not for the script's own children
    use Fcntl qw(F_SETFD FD_CLOEXEC);
    fcntl($events, F_SETFD, FD_CLOEXEC);
}

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
select((select($control), $| = 1)[0]);  # kept open for the output's fault, at the end

my (@handler, @name_of, @context_of, %handler_branch, %frame_branch, %comm_of, @kinds, @frame_loop);
my (@attr_of, @sample_size, @has_raw);
my $process_event = $has_process_event ? \&main::process_event : undef;
my $unhandled = defined &main::trace_unhandled ? \&main::trace_unhandled : undef;
# Context functions find the current event from its handler's context argument
# (its place in the frame being run), so nothing is set per event for them.
$Perf::Trace::Context::templates = \@context_of;

# common_pid in a tracepoint's raw data, for frame kinds that do not carry it
my $pid_template = 'x4 l<';

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
        my $r = sysread($events, $buf, $n - length($buf), length($buf));
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
    if (!$handler[$id]) {
        set_branch($id) if defined $attr_of[$id];
        return $pos;
    }
    # This event type's branch of the frame loop: one unpack of the raw data gives
    # every field (common_pid: PID); __data_loc strings need one more each.
    my (@tmpl, @post);
    my $at = 0;    # the fields' own unpack: relative skips where fields follow in order (cheaper than @offset)
    my $i = 0;
    for my $f (@fields) {
        my ($kind, $off, $size, $signed) = @$f;
        my $skip = $off == $at ? '' : $at >= 0 && $off > $at ? 'x' . ($off - $at) . ' ' : "\@$off ";
        if ($kind eq 'n') {
            my $code = $size == 1 ? 'C' : $size == 2 ? 'S<' : $size == 4 ? 'L<'
                     : ($signed ? 'q<' : 'Q<');
            push @tmpl, "$skip$code";
            $at = $off + $size;
        } elsif ($kind eq 's') {
            push @tmpl, "${skip}Z*";  # to the NUL, however far (as perf)
            $at = -1;
        } elsif ($kind eq 'd' || $kind eq 'r') {
            push @tmpl, "${skip}L<";
            $at = $off + 4;
            my $base = $kind eq 'r' ? $off + 4 : 0;
            push @post, "\$v[$i] = unpack('\@' . ((\$v[$i] & 0xffff) + $base) . ' Z*', RAW);";
        } else {
            push @post, "splice(\@v, $i, 0, 0);";
        }
        $i++;
    }
    $context_of[$id] = [map { $_ >= 0 ? "\@$_ C" : '' } ($pc_off, $flags_off, $lock_off)];
    # pid and the fields go straight into the argument list, not through copies.
    # CPU, TIME, TID, PID, RAW, CALLCHAIN stand for the event's values in the frame: each
    # frame kind's loop names them (frame_loops).
    my $values = "unpack('@tmpl', RAW)";
    $values = "do { my \@v = $values; @post \@v }" if @post;
    $handler_branch{$id} = "my \$t = TIME; my \$tid = TID; "
        . "\$handler[$id]->(\$name_of[$id], \$i, CPU, \$t / 1000000000, \$t % 1000000000, "
        . "PID, \$comm_of{\$tid} // \":\$tid\", CALLCHAIN, $values);";
    set_branch($id);
    return $pos;
}

# An event type's branch of the frame loops: its handler's call, then process_event's.
sub set_branch {
    my ($id) = @_;
    my $code = $handler_branch{$id} // '';
    $code .= " \$process_event->(EVENT, \$attr_of[$id], pack('a$sample_size[$id]', SAMPLE), "
        . ($has_raw[$id] ? 'RAW' : 'undef') . ");" if defined $attr_of[$id];
    $frame_branch{$id} = $code;
    frame_loops();
}

# common_callchain as perf gives it: a hash per entry, {ip, sym => {start, end,
# binding, name}, dso}, sym and dso where the ip resolved
sub callchain_of {
    my ($blob) = @_;
    my ($n) = unpack('S<', $blob);
    my ($pos, @chain) = (2);
    for (1 .. $n) {
        my ($ip, $has) = unpack("\@$pos Q< C", $blob);
        $pos += 9;
        my %entry = (ip => $ip);
        if ($has & 1) {
            my ($start, $end, $binding, $name) = unpack("\@$pos Q< Q< C S</a", $blob);
            $pos += 17 + 2 + length($name);
            $entry{sym} = {start => $start, end => $end, binding => $binding, name => $name};
        }
        if ($has & 2) {
            my ($dso) = unpack("\@$pos S</a", $blob);
            $pos += 2 + length($dso);
            $entry{dso} = $dso;
        }
        push @chain, \%entry;
    }
    return \@chain;
}

# One loop per frame kind over a frame's events, every event type's branch inline.
sub frame_loops {
    for my $k (0 .. $#kinds) {
        next if !$kinds[$k];
        my ($template, $stride, %at) = @{$kinds[$k]};
        my $cases = join("\n    els", map {
            my $code = $frame_branch{$_};
            $code =~ s/\bPID\b/unpack('$pid_template', RAW)/g if !$at{PID};
            $code =~ s/\b(CPU|TIME|TID|PID|RAW|EVENT|SAMPLE)\b/\$f[\$i + $at{$1}]/g;
            $code =~ s/\bCALLCHAIN\b/$at{CALLCHAIN} ? "callchain_of(\$f[\$i + $at{CALLCHAIN}])" : '[]'/e;
            "if (\$id == $_) { $code }"
        } sort { $a <=> $b } keys %frame_branch);
        $cases ||= '1;';
        $frame_loop[$k] = eval "sub { use integer; my \@f = unpack('x2 ($template)*', \$_[0]);\n"
            . "  \$Perf::Trace::Context::frame = \\\@f; \$Perf::Trace::Context::raw_at = $at{RAW};\n"
            . "  for (my \$i = 0; \$i < \@f; \$i += $stride) { my \$id = \$f[\$i];\n    $cases\n  } }"
            or die "scripthost bridge: frame loop: $@\n";
    }
}

while (1) {
    my $hdr = read_full(4);
    last if !defined $hdr;
    my $len = unpack("L<", $hdr);
    my $buf = read_full($len);
    die "scripthost bridge: batch cut short\n" if !defined $buf;
    my $kind = substr($buf, 0, 1);
    if ($kind eq 'E') {
        $frame_loop[ord(substr($buf, 1, 1))]->($buf);
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
        } elsif ($type eq 'K') {
            my ($k, $template, $stride, @at) = unpack("\@$pos C S</a C C8", $buf);
            $pos += 1 + 2 + length($template) + 1 + 8;
            $kinds[$k] = [$template, $stride, CPU => $at[0], TIME => $at[1], TID => $at[2], RAW => $at[3],
                          CALLCHAIN => $at[4], EVENT => $at[5], SAMPLE => $at[6], PID => $at[7]];
            frame_loops();
        } elsif ($type eq 'A') {
            my ($id, $attr, $size, $raw) = unpack("\@$pos S< S</a S< C", $buf);
            $pos += 2 + 2 + length($attr) + 2 + 1;
            ($attr_of[$id], $sample_size[$id], $has_raw[$id]) = ($attr, $size, $raw);
            set_branch($id);
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
# A stdout that did not take the output (closed, a full disk): its errno goes to
# scripthost, which says it in one line; _exit, or perl would add "Unable to flush stdout"
require IO::Handle;
require POSIX;
if (!STDOUT->flush) {
    print $control "out ", $! + 0, "\n";
    POSIX::_exit(1);
}
close $control;
exit 0;
