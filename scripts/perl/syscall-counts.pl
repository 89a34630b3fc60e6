# syscall-counts.pl: system-wide syscall counts, optionally for one command name.
#
# usage: scripthost trace syscall-counts.pl [comm]
#        scripthost trace -i DATA -s syscall-counts.pl [comm]
#
# The same table as syscall-counts.py, from Perl through scripthost's bridge.
use strict;
use warnings;

my $for_comm = shift @ARGV;
my %counts;
my $lost = 0;

sub trace_begin { print "Press control+C to stop and show the summary\n"; }

sub raw_syscalls::sys_enter {
    my ($event_name, $context, $cpu, $secs, $nsecs, $pid, $comm, $callchain, $id, $args) = @_;
    $counts{$id}++ if !defined $for_comm || $comm eq $for_comm;
}

sub trace_lost { my ($kind, $count) = @_; $lost += $count; }

sub trace_end {
    if (defined $for_comm) { printf("\nsyscall events for %s:\n\n", $for_comm); }
    else { print "\nsyscall events:\n\n"; }
    printf("%-40s  %10s\n", "event", "count");
    printf("%-40s  %10s\n", "-" x 40, "-" x 11);
    for my $id (sort { $counts{$b} <=> $counts{$a} || $b <=> $a } keys %counts) {
        printf("%-40s  %10d\n", $id, $counts{$id});
    }
    printf("\n%d events lost: counts are low\n", $lost) if $lost;
}
