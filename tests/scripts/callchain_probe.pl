# Prints every event's common_callchain, entry by entry (ip, sym's fields, dso), for
# diffing against perf.
sub trace_unhandled {
    my ($event_name, $context, $cpu, $secs, $nsecs, $pid, $comm, $callchain, @fields) = @_;
    print "$event_name $pid n=", scalar(@$callchain), "\n";
    for my $entry (@$callchain) {
        print "  ", join(" ", map {
            my $v = $entry->{$_};
            "$_=" . (ref $v ? "{" . join(",", map { "$_=$v->{$_}" } sort keys %$v) . "}" : $v)
        } sort keys %$entry), "\n";
    }
}
