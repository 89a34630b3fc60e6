# rw-by-pid.pl: bytes read and written per process, with failed calls.
#
# usage: scripthost trace rw-by-pid.pl [-- command...]
#        scripthost trace -i DATA -s rw-by-pid.pl
use strict;
use warnings;

my (%reads, %writes, %rerr, %werr, %comm);

sub syscalls::sys_enter_read {
    my ($ev, $ctx, $cpu, $s, $ns, $pid, $comm, $cc, $nr, $fd, $buf, $count) = @_;
    $comm{$pid} = $comm;
    $reads{$pid}{n}++;
    $reads{$pid}{req} += $count;
}

sub syscalls::sys_exit_read {
    my ($ev, $ctx, $cpu, $s, $ns, $pid, $comm, $cc, $nr, $ret) = @_;
    $ret -= 2**64 if $ret >= 2**63;
    if ($ret > 0) { $reads{$pid}{bytes} += $ret; } else { $rerr{$pid}{$ret}++; }
}

sub syscalls::sys_enter_write {
    my ($ev, $ctx, $cpu, $s, $ns, $pid, $comm, $cc, $nr, $fd, $buf, $count) = @_;
    $comm{$pid} = $comm;
    $writes{$pid}{n}++;
    $writes{$pid}{bytes} += $count;
}

sub syscalls::sys_exit_write {
    my ($ev, $ctx, $cpu, $s, $ns, $pid, $comm, $cc, $nr, $ret) = @_;
    $ret -= 2**64 if $ret >= 2**63;
    $werr{$pid}{$ret}++ if $ret <= 0;
}

sub trace_end {
    print "read counts by pid:\n\n";
    printf("%6s  %-20s  %10s  %10s  %10s\n", "pid", "comm", "# reads", "bytes_req", "bytes_read");
    for my $pid (sort { ($reads{$b}{bytes} // 0) <=> ($reads{$a}{bytes} // 0) || $a <=> $b } keys %reads) {
        printf("%6d  %-20s  %10d  %10d  %10d\n", $pid, $comm{$pid} // "", $reads{$pid}{n} // 0,
               $reads{$pid}{req} // 0, $reads{$pid}{bytes} // 0);
    }
    print "\nwrite counts by pid:\n\n";
    printf("%6s  %-20s  %10s  %13s\n", "pid", "comm", "# writes", "bytes_written");
    for my $pid (sort { $writes{$b}{bytes} <=> $writes{$a}{bytes} || $a <=> $b } keys %writes) {
        printf("%6d  %-20s  %10d  %13d\n", $pid, $comm{$pid} // "", $writes{$pid}{n}, $writes{$pid}{bytes});
    }
    for my $t (["failed reads", \%rerr], ["failed writes", \%werr]) {
        my ($title, $errs) = @$t;
        next if !%$errs;
        print "\n$title by pid:\n\n";
        for my $pid (sort { $a <=> $b } keys %$errs) {
            for my $ret (sort { $a <=> $b } keys %{ $errs->{$pid} }) {
                printf("%6d  %-20s  %6d  %10d\n", $pid, $comm{$pid} // "", $ret, $errs->{$pid}{$ret});
            }
        }
    }
}
