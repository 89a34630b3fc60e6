# Prints process_event's arguments for every sample, for diffing against perf: their
# number and lengths, whether the raw data is defined, the fields perf's -g perl
# skeleton unpacks, and the record, attr and perf_sample whole, in hex.
sub process_event {
    my ($event, $attr, $sample, $raw_data) = @_;
    print scalar(@_), " args, lengths ", join(",", map { length($_ // '') } @_),
        ", raw ", defined $raw_data ? "defined" : "undef", "\n";
    print "  event: ", join(" ", unpack("LSS", $event)), "\n";
    print "  attr: ", join(" ", unpack("LLQQQQQLLQQ", $attr)), "\n";
    print "  sample: ", join(" ", unpack("QLLQQQQQLL", $sample)), "\n";
    print "  $_: ", unpack("H*", $_[$_ eq 'record' ? 0 : $_ eq 'attr' ? 1 : 2]), "\n"
        for qw(record attr perf_sample);
}
