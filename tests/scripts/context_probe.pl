# Prints common_pc / common_flags / common_lock_depth and the arguments of every event
# (perf's Context, or scripthost's in its place), for diffing against perf.
use lib "$ENV{PERF_EXEC_PATH}/scripts/perl/Perf-Trace-Util/lib";
use lib "./Perf-Trace-Util/lib";
use Perf::Trace::Core;
use Perf::Trace::Context;

sub trace_unhandled {
    my ($event_name, $context, $cpu, $secs, $nsecs, $pid, $comm, $callchain, @fields) = @_;
    my @ctx = map { defined $_ ? $_ : "undef" } (common_pc($context), common_flags($context),
                                                  common_lock_depth($context));
    print join(" ", $event_name, @ctx, $cpu, $secs, $nsecs, $pid, $comm,
               map { defined $_ ? $_ : "undef" } @fields), "\n";
}
