package Perf::Trace::Context;
# scripthost's Context, in pure Perl: common_pc, common_flags and
# common_lock_depth answer for the event whose handler passes its context,
# from the frame of events the scripthost bridge is running (perf's needs an XS part
# that only exists inside the perf binary).
use 5.010000;
use strict;
use warnings;
require Exporter;
our @ISA = qw(Exporter);
our @EXPORT = qw(common_pc common_flags common_lock_depth);
our $VERSION = '0.01';

# Set by the bridge: the values of the frame of events being run (a handler's
# context argument is its event's place there: event type first, raw data at
# raw_at after it), and per event type the unpack templates of its preempt_count,
# flags and lock_depth ('' for a field its format lacks: 0, as perf)
our $frame = [0, ''];
our $raw_at = 1;
our $templates = [['', '', '']];

sub _field {
    my ($which, $context) = @_;
    my $t = $templates->[$frame->[$context]][$which];
    return $t ? unpack($t, $frame->[$context + $raw_at]) : 0;
}
sub common_pc { return _field(0, $_[0]); }
sub common_flags { return _field(1, $_[0]); }
sub common_lock_depth { return _field(2, $_[0]); }

1;
