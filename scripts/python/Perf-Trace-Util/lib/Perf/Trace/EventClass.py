"""scripthost's EventClass: sample event objects chosen by raw buffer size
(same API as perf's: PerfEvent, PebsEvent for 144-byte PEBS records,
PebsNHM for 176-byte PEBS records with load-latency data)."""

import struct

__all__ = ["EVTYPE_GENERIC", "EVTYPE_PEBS", "EVTYPE_PEBS_LL", "EVTYPE_IBS", "create_event",
           "PerfEvent", "PebsEvent", "PebsNHM"]

EVTYPE_GENERIC = 0
EVTYPE_PEBS = 1
EVTYPE_PEBS_LL = 2
EVTYPE_IBS = 3

_PEBS = struct.Struct("<10Q")
_PEBS_LL = struct.Struct("<4Q")


def create_event(name, comm, dso, symbol, raw_buf):
    kind = {144: PebsEvent, 176: PebsNHM}.get(len(raw_buf), PerfEvent)
    return kind(name, comm, dso, symbol, raw_buf)


class PerfEvent(object):
    event_num = 0

    def __init__(self, name, comm, dso, symbol, raw_buf, ev_type=EVTYPE_GENERIC):
        self.name = name
        self.comm = comm
        self.dso = dso
        self.symbol = symbol
        self.raw_buf = raw_buf
        self.ev_type = ev_type
        PerfEvent.event_num += 1

    def show(self):
        print("PMU event: name=%12s, symbol=%24s, comm=%8s, dso=%12s" %
              (self.name, self.symbol, self.comm, self.dso))


class PebsEvent(PerfEvent):
    """A PEBS record: EFLAGS, linear IP and the general registers."""

    pebs_num = 0

    def __init__(self, name, comm, dso, symbol, raw_buf, ev_type=EVTYPE_PEBS):
        (self.flags, self.ip, self.ax, self.bx, self.cx, self.dx, self.si, self.di, self.bp,
         self.sp) = _PEBS.unpack_from(raw_buf, 0)
        PerfEvent.__init__(self, name, comm, dso, symbol, raw_buf, ev_type)
        PebsEvent.pebs_num += 1


class PebsNHM(PebsEvent):
    """PEBS plus load-latency data (status, data address, source encoding, latency)."""

    pebs_nhm_num = 0

    def __init__(self, name, comm, dso, symbol, raw_buf, ev_type=EVTYPE_PEBS_LL):
        self.status, self.dla, self.dse, self.lat = _PEBS_LL.unpack_from(raw_buf, 144)
        PebsEvent.__init__(self, name, comm, dso, symbol, raw_buf, ev_type)
        PebsNHM.pebs_nhm_num += 1
