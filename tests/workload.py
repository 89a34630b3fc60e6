"""A workload with known syscall counts, for ground-truth tests.

usage: python workload.py [getppid=N] [reads=M] [failed_opens=F] [futex=1] [udp=K]
                          [tcp=1] [fsync=KIB] [sleep=S]

Makes exactly N getppid(), M read() of 1 byte from /dev/zero and F openat() of
a missing file (each fails with ENOENT), then optionally some futex contention
between two threads, K UDP datagrams over loopback, one TCP connection over
loopback (IPv4, so the kernel shows IPv4-mapped IPv6 addresses) and KIB KiB
written to a temporary file and fsync'ed (writeback).
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time


def main(argv: list[str]) -> None:
    opts = dict(a.split("=", 1) for a in argv)
    if float(opts.get("sleep", 0)):
        time.sleep(float(opts["sleep"]))
    for _ in range(int(opts.get("getppid", 0))):
        os.getppid()
    n = int(opts.get("reads", 0))
    if n:
        fd = os.open("/dev/zero", os.O_RDONLY)
        for _ in range(n):
            os.read(fd, 1)
        os.close(fd)
    for _ in range(int(opts.get("failed_opens", 0))):
        try:
            os.open("/nonexistent/scripthost-workload", os.O_RDONLY)
        except FileNotFoundError:
            pass
    if int(opts.get("futex", 0)):
        lock = threading.Lock()
        counter = [0]

        def spin() -> None:
            for _ in range(2000):
                with lock:
                    counter[0] += 1
                    time.sleep(0)
        ts = [threading.Thread(target=spin) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    k = int(opts.get("udp", 0))
    if k:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(k):
            tx.sendto(b"x" * 64, rx.getsockname())
            rx.recv(128)
        tx.close()
        rx.close()
    if int(opts.get("tcp", 0)):
        srv = socket.create_server(("127.0.0.1", 0))
        cli = socket.create_connection(srv.getsockname())
        conn, _ = srv.accept()
        cli.sendall(b"x" * 4096)
        conn.recv(8192)
        for s in (cli, conn, srv):
            s.close()
    kib = int(opts.get("fsync", 0))
    if kib:
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(os.path.abspath(__file__))) as f:
            f.write(b"x" * 1024 * kib)
            f.flush()
            os.fsync(f.fileno())


if __name__ == "__main__":
    main(sys.argv[1:])
