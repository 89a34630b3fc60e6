package Perf::Trace::Context;
# scripthost's Context, in pure Perl: common_pc, common_flags and
# common_lock_depth answer for the event being handled, from values the
# scripthost bridge sets before each handler call (perf's needs an XS part
# that only exists inside the perf binary).
use 5.010000;
use strict;
use warnings;
require Exporter;
our @ISA = qw(Exporter);
our @EXPORT = qw(common_pc common_flags common_lock_depth);
our $VERSION = '0.01';

# [preempt_count, flags, lock_depth] of the current event
our @current = (0, 0, 0);

sub common_pc { return $current[0]; }
sub common_flags { return $current[1]; }
sub common_lock_depth { return $current[2]; }

1;
