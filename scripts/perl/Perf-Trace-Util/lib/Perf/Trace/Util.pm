package Perf::Trace::Util;
# scripthost's Util: time helpers and terminal control (same API as perf's).
use 5.010000;
use strict;
use warnings;
require Exporter;
our @ISA = qw(Exporter);
our @EXPORT = qw(avg nsecs nsecs_secs nsecs_nsecs nsecs_usecs print_nsecs clear_term);
our $VERSION = '0.01';

my $NSECS_PER_SEC = 1000000000;

sub avg { my ($total, $n) = @_; return $total / $n; }
sub nsecs { my ($secs, $nsecs) = @_; return $secs * $NSECS_PER_SEC + $nsecs; }
sub nsecs_secs { my ($nsecs) = @_; return $nsecs / $NSECS_PER_SEC; }
sub nsecs_nsecs { my ($nsecs) = @_; return $nsecs % $NSECS_PER_SEC; }
sub nsecs_usecs { my ($nsecs) = @_; return ($nsecs % $NSECS_PER_SEC) / 1000; }
sub nsecs_str { my ($nsecs) = @_; return sprintf("%5u.%09u", nsecs_secs($nsecs), nsecs_nsecs($nsecs)); }
sub print_nsecs { my ($nsecs) = @_; print nsecs_str($nsecs); }
sub clear_term { print "\x1b[H\x1b[2J"; }

1;
