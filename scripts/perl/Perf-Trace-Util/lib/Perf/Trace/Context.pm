package Perf::Trace::Context;
# scripthost's Context, in pure Perl: common_pc, common_flags and
# common_lock_depth answer for the event being handled, from what the
# scripthost bridge sets before each handler call (perf's needs an XS part
# that only exists inside the perf binary).
use 5.010000;
use strict;
use warnings;
require Exporter;
our @ISA = qw(Exporter);
our @EXPORT = qw(common_pc common_flags common_lock_depth);
our $VERSION = '0.01';

# a reference to the current event's raw data, and the unpack templates of its
# preempt_count, flags and lock_depth ('' for a field its format lacks: 0, as perf)
our $raw = \'';
our $templates = ['', '', ''];

sub _field { my $t = $templates->[$_[0]]; return $t ? unpack($t, $$raw) : 0; }
sub common_pc { return _field(0); }
sub common_flags { return _field(1); }
sub common_lock_depth { return _field(2); }

1;
