"""The read loop in a second process, on machines with two or more CPUs.

`Session.run` forks before the consumer's `begin` (a script may start threads
in trace_begin, and a process with threads is not safe to fork).  The child
frames and orders the records (the session's own read loop and FINISHED_ROUND
settling) and, once the parent sends a go byte after `begin`, sends each
delivered batch down a pipe as small arrays: each event's position, event type
and input chunk (and its time, when the consumer ticks).  The parent gets the
same chunks of the input (a file's it preads itself, a stream's come down the
pipe), turns the arrays back into queue items and delivers them as a single
process would, so the script's handlers run while the child reads ahead.
Live mode reads in one process (`Session.fork_reader`).

Messages are a u32 length and a pickled tuple whose first element says what
it is:

- ``("c", seq, offset, length, data)``: the child read a chunk of the input; ``data`` is
  None for a file (the parent preads it), the bytes for a stream.
- ``("f", seq)``: no event still to come lies in chunk ``seq``.
- ``("b", n, types, positions, chunks, times, others)``: a delivered batch.
  ``types`` and ``chunks`` are one index for all or an array of u32;
  ``others`` lists ``(k, time, rtype, misc, body)`` for items that are not samples.
- ``("r", item)``: a record delivered on arrival (time 0).
- ``("u", rtype, misc, record, blob, offset)``: a header record met in the data (attr, name,
  feature; tracing data with its blob and the blob's offset).
- a delivered batch the child printed itself (see below), as the bytes the consumer's
  output would write: the length's top bit set and the bytes after it, not pickled.
- ``("e", stats, error)``: the end, with the child's counts and the fault, if any.

A consumer whose handlers only print (`Consumer.prints_only`, the default output) has its
work shared: the child keeps the session's bookkeeping too and, whenever the parent is
`_BEHIND` batches behind (a counter in shared memory says how far it got), prints the next batch
itself with its copy of the consumer and sends the text, which the parent writes in its
place.

The child ignores SIGINT: the parent, which runs the consumer, decides what
Ctrl-C means and ends the child.
"""

from __future__ import annotations

import mmap
import os
import pickle
import signal
import struct
import sys
import threading
from array import array
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, BinaryIO, Optional

from scripthost.engine.layouts import U32, RecordType as R
from scripthost.errors import StreamError

if TYPE_CHECKING:
    from scripthost.engine.session import Session

__all__ = ["ForkedReader", "start", "wanted"]

_LEN = struct.Struct("<I")
_RAW = 1 << 31  # in a message's length: raw output bytes follow
_TIME, _POS, _BUF, _LAST = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(-1)
_OTHER = 0xFFFFFFFF  # the type index of an item that is not a sample
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
_STATS = ("records", "samples", "out_of_order", "unknown_ids", "unknown_records")
_FORWARDED = (R.HEADER_ATTR, R.HEADER_FEATURE, R.EVENT_UPDATE)
_PROGRESS = struct.Struct("<Q")  # batches the parent has delivered, in shared memory
_BEHIND = 3  # batches the parent may lag before the child prints one itself (2 and 4 measured slower)


def wanted(session: "Session") -> bool:
    """Whether ``session.run`` should read in a second process: a session and a consumer
    that allow it, two CPUs to run on and no threads to break by forking.
    SCRIPTHOST_FORK_READER=0 turns it off, =1 on whatever the CPUs."""
    choice = os.environ.get("SCRIPTHOST_FORK_READER", "")
    if choice == "0" or not hasattr(os, "fork"):
        return False
    if not session.fork_reader or not session._consumer.fork_reader or _threads() > 1:
        return False
    if choice == "1":
        return True
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) >= 2


def start(session: "Session") -> Optional["ForkedReader"]:
    """A started reader when `wanted`, else None (also when the fork itself fails: the
    session then reads in one process, as it would on one CPU)."""
    if not wanted(session):
        return None
    try:
        return ForkedReader(session)
    except OSError:
        return None


def _threads() -> int:
    """Threads in this process, those not started through `threading` included."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class ForkedReader:
    """The parent's end.  Made before the consumer's `begin` (it forks the child then,
    which starts reading); `run` after it delivers what the child sends."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.progress: Optional[mmap.mmap] = None
        consumer = session._consumer
        if consumer.prints_only and not consumer.interval_ns and hasattr(getattr(consumer, "out", None), "buffer"):
            self.progress = mmap.mmap(-1, _PROGRESS.size)  # shared with the child
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()
        go_r, self._go = os.pipe()
        try:
            import fcntl
            fcntl.fcntl(w, _F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass
        try:
            pid = os.fork()
        except OSError:
            for fd in (r, w, go_r, self._go):
                os.close(fd)
            raise
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            os.close(r)
            os.close(self._go)
            _child(session, w, go_r, self.progress)
        self.pid = pid
        self.delivered = 0  # events the parent has delivered
        os.close(w)
        os.close(go_r)
        self._in: Optional[BinaryIO] = os.fdopen(r, "rb", buffering=_PIPE_BYTES)

    # -- the parent ------------------------------------------------------------------

    def run(self) -> None:
        """Read the whole input through the child; raises the child's StreamError after
        delivering every event it decoded before it."""
        try:
            # the child delivers nothing before this: whether the consumer ticks (set
            # in its begin) says whether batches carry their times
            try:
                os.write(self._go, b"T" if self.session._consumer.interval_ns else b"N")
            except BrokenPipeError:
                pass  # the child ended before any delivery (its messages wait in the pipe)
            error = self._receive()
        finally:
            self.close()
        if error is not None:
            raise error

    def close(self) -> None:
        """End the child (if still running) and reap it."""
        if self._go >= 0:
            os.close(self._go)
            self._go = -1
        if self._in is not None:
            self._in.close()
            self._in = None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass  # already reaped (a script may have set SIGCHLD to SIG_IGN)
            self.pid = 0
        if self.progress is not None:
            self.progress.close()
            self.progress = None

    def _receive(self) -> Optional[BaseException]:
        self.ended = False  # the child's "e" arrived, with its counts
        try:
            return self._receive_loop()
        finally:
            if not self.ended:  # stopped, interrupted or the child died: what was delivered,
                self.session.stats.records += self.delivered  # as perf counts it

    def _receive_loop(self) -> Optional[BaseException]:
        s = self.session
        read = self._in.read
        loads = pickle.loads
        chunks: dict[int, bytes] = {}
        types = self._type_table()
        src = s.rec.source
        progress = self.progress
        batches = 0
        while not s.stopped:
            head = read(4)
            if len(head) < 4:
                return self._died()
            size = _LEN.unpack(head)[0]
            data = read(size & ~_RAW)
            if len(data) < size & ~_RAW:
                return self._died()
            if size & _RAW:
                out = s._consumer.out
                out.flush()
                out.buffer.write(data)
                continue
            msg = loads(data)
            kind = msg[0]
            if kind == "b":
                _, n, ty, pos, ch, times, others = msg
                positions = array("I")
                positions.frombytes(pos)
                evs = repeat(types[ty], n) if type(ty) is int else map(types.__getitem__, _u32(ty))
                bufs = repeat(chunks[ch], n) if type(ch) is int else map(chunks.get, _u32(ch))
                if times is None:
                    items = list(zip(repeat(0, n), positions, bufs, evs))
                else:
                    t = array("Q")
                    t.frombytes(times)
                    items = list(zip(t, positions, bufs, evs))
                if others:
                    for k, tm, rtype, misc, body in others:
                        items[k] = (tm, rtype, misc, body, None)
                self.delivered += n
                s._deliver(items, not others and type(ty) is int)
                if progress is not None:
                    batches += 1
                    _PROGRESS.pack_into(progress, 0, batches)
            elif kind == "c":
                chunks[msg[1]] = msg[4] if msg[4] is not None else src.read_at(msg[2], msg[3])
            elif kind == "f":
                del chunks[msg[1]]
            elif kind == "r":
                s.deliver_record(msg[1])
            elif kind == "u":
                rtype, misc, rec, blob, at = msg[1:]
                if blob is not None:
                    s._set_tracing(blob, len(blob), at)
                else:
                    s._user_record(rtype, misc, rec, 0, len(rec))
                types = self._type_table()
            elif kind == "e":
                self.ended = True
                for name, value in zip(_STATS, msg[1]):
                    setattr(s.stats, name, getattr(s.stats, name) + value)
                return msg[2]
        return None

    def _type_table(self) -> dict[int, Any]:
        table: dict[int, Any] = dict(enumerate(self.session.evsels))
        table[_OTHER] = None
        return table

    def _died(self) -> BaseException:
        try:
            _, status = os.waitpid(self.pid, 0)
            how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit status {os.WEXITSTATUS(status)}")
        except ChildProcessError:
            how = "status unknown"
        self.pid = 0
        return StreamError(f"the reading process ended before the input did ({how}); "
                           "SCRIPTHOST_FORK_READER=0 reads in one process")


def _u32(raw: bytes) -> array:
    a = array("I")
    a.frombytes(raw)
    return a


# -- the child ---------------------------------------------------------------------


def _child(session: "Session", fd: int, go: int, progress: Optional[mmap.mmap]) -> None:  # pragma: no cover
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    try:
        _Sender(session, os.fdopen(fd, "wb", buffering=1 << 16), go, progress).run()
    except BrokenPipeError:
        status = 1  # the parent stopped reading: it ended the run
    except BaseException:
        import traceback
        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


class _Sender:  # pragma: no cover - runs in the child
    """The child's end: the session's read loop with delivery replaced by sending."""

    def __init__(self, session: "Session", out: BinaryIO, go: int, progress: Optional[mmap.mmap]) -> None:
        self.s = session
        self.out = out
        self.go = go
        self.progress = progress
        self.sent = 0  # batches sent for the parent to deliver
        self.lines: list[str] = []
        self.times: Optional[bool] = None  # told by the go byte
        self.chunks: dict[int, bytes] = {}  # seq -> chunk
        self.seq_of: dict[int, int] = {}    # id(chunk) -> seq
        self.next_seq = 0
        self.index = self.evsel_index()

    def evsel_index(self) -> dict[Any, int]:
        """evsel -> its type index in "b" messages (None, for other records, -> _OTHER)."""
        index: dict[Any, int] = {ev: i for i, ev in enumerate(self.s.evsels)}
        index[None] = _OTHER
        return index

    def send(self, msg: tuple) -> None:
        data = pickle.dumps(msg, pickle.HIGHEST_PROTOCOL)
        self.out.write(_LEN.pack(len(data)))
        self.out.write(data)

    def run(self) -> None:
        s = self.s
        src = s.rec.source
        s._deliver = self.batch
        if self.progress is None:
            s.deliver_record = lambda item: self.send(("r", item))
        else:
            consumer = s._consumer
            out = consumer.out
            self.encoding, self.errors = out.encoding, out.errors or "strict"
            consumer.out = _Lines(self.lines)
            consumer.begin(s)  # a consumer that only prints begins without side effects
            s._batch = consumer.batch_handler(s)

            def deliver_record(item: tuple) -> None:
                type(s).deliver_record(s, item)  # the bookkeeping the child prints with
                self.send(("r", item))
            s.deliver_record = deliver_record
        user_record = s._user_record

        def forward(rtype: int, misc: int, buf: bytes, pos: int, size: int) -> None:
            user_record(rtype, misc, buf, pos, size)
            if rtype == R.HEADER_TRACING_DATA:  # its blob follows it, just consumed
                n = U32.unpack_from(buf, pos + 8)[0]
                self.send(("u", rtype, misc, buf[pos:pos + size], src.buf[src.pos - n:src.pos],
                           src.offset + src.pos - n))
            elif rtype in _FORWARDED:
                self.send(("u", rtype, misc, buf[pos:pos + size], None, 0))
                self.index = self.evsel_index()
        s._user_record = forward
        if src.buf:
            self.chunk(src.buf, src.offset)
        src.on_chunk = self.chunk
        error: Optional[BaseException] = None
        try:
            s._read_loop()
        except StreamError as e:
            error = e
        except Exception as e:  # a fault of ours: raised in the parent, as it would be inline
            self.end(e)
            return
        try:
            s._flush(None)
        except Exception as e:
            error = error or e
        self.end(error)

    def end(self, error: Optional[BaseException]) -> None:
        stats = tuple(getattr(self.s.stats, name) for name in _STATS)
        try:
            pickle.loads(pickle.dumps(error))  # it must arrive as itself
        except Exception:
            import traceback
            error = RuntimeError("in the reading process: " + "".join(
                traceback.format_exception(type(error), error, error.__traceback__)))
        self.send(("e", stats, error))
        self.out.flush()

    def chunk(self, buf: bytes, offset: int) -> None:
        seq = self.next_seq
        self.next_seq = seq + 1
        self.chunks[seq] = buf
        self.seq_of[id(buf)] = seq
        # the parent reads a file's chunks itself; a stream's come down the pipe
        self.send(("c", seq, offset, len(buf), buf if self.s.pipe else None))

    def wait_for_go(self) -> None:
        """Block until the parent's consumer has begun (or the parent has gone)."""
        go = os.read(self.go, 1)
        if not go:
            raise BrokenPipeError("the parent ended the run")
        self.times = go == b"T"

    def batch(self, items: list[tuple]) -> None:
        s = self.s
        if self.times is None:
            self.wait_for_go()
        s._last_delivered = items[-1][0]
        # READ samples are split where they are delivered, in the parent only: the
        # split carries each counter's last value from one sample to the next
        if (self.progress is not None and s._read_groups is None
                and self.sent - _PROGRESS.unpack_from(self.progress)[0] >= _BEHIND):
            type(s)._deliver_items(s, items)
            data = "".join(self.lines).encode(self.encoding, self.errors)
            self.lines.clear()
            self.out.write(_LEN.pack(len(data) | _RAW))
            self.out.write(data)
            self.free(s.rec.source.buf)
            return
        n = len(items)
        index = self.index
        evs = list(map(_LAST, items))
        first = evs[0]
        others = None
        if evs.count(first) == n:
            ty: Any = index[first]
        else:
            ty = array("I", map(index.__getitem__, evs)).tobytes()
        if first is None or type(ty) is bytes and None in evs:
            others = []
            k = evs.index(None)
            while True:
                it = items[k]
                others.append((k, it[0], it[1], it[2], it[3]))
                try:
                    k = evs.index(None, k + 1)
                except ValueError:
                    break
        del evs
        bufs = list(map(_BUF, items))
        b0 = bufs[0]
        if others is None and bufs.count(b0) == n:
            ch: Any = self.seq_of[id(b0)]
        else:
            ch = array("I", map(self.seq_of.get, map(id, bufs), repeat(0))).tobytes()
        del bufs, b0
        self.send(("b", n, ty, array("I", map(_POS, items)).tobytes(), ch,
                   array("Q", map(_TIME, items)).tobytes() if self.times else None, others))
        self.sent += 1
        if others and self.progress is not None:
            for k in others:
                type(s).deliver_record(s, items[k[0]])  # the child's own bookkeeping
        self.free(s.rec.source.buf)

    def free(self, current: bytes) -> None:
        """Tell the parent about chunks no queued item lies in any more."""
        chunks = self.chunks
        for seq in list(chunks):
            # two references: the dict's and getrefcount's argument
            if chunks[seq] is not current and sys.getrefcount(chunks[seq]) <= 2:
                del self.seq_of[id(chunks.pop(seq))]
                self.send(("f", seq))


class _Lines:  # pragma: no cover - runs in the child
    """The child's stand-in for a printing consumer's output: the lines of one batch."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append

    def flush(self) -> None:
        pass
