"""HSM server benchmark, over real sockets on 127.0.0.1 against `hsmemu run --listen` in this process.

Prints, each next to a baseline measured in the same run:
- echo round trips per second over TCP and over a unix socket, next to a bare Python TCP echo server
  (same framing, same client loop): the ratio is the emulator's overhead;
- the virtual-time latency of an echo through the mailbox (doorbell to reply, from the trace), and
  its host-time share;
- NVM add and read operations per second over TCP.

Usage: python tools/bench_server.py [--quick]
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulator.bridge_util import connect, recv_exact, roundtrip, running_board  # noqa: E402

ECHO = bytes.fromhex("01a5050100000000") + b"x" * 32
INIT = bytes.fromhex("01a501010000000001000000")


def rate(s: socket.socket, packet: bytes, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        roundtrip(s, packet)
    return n / (time.perf_counter() - t0)


def bare_echo_server() -> tuple[str, threading.Thread]:
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        c, _ = srv.accept()
        try:
            while True:
                (n,) = struct.unpack(">I", recv_exact(c, 4))
                p = recv_exact(c, n)
                c.sendall(struct.pack(">I", n) + p)
        except (ConnectionError, OSError):
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return f"tcp://127.0.0.1:{srv.getsockname()[1]}", t


def mailbox_latency(soc) -> tuple[float, int]:
    """Mean virtual latency of bridge requests (request injected -> reply ready), in microseconds."""
    lat = []
    pending = None
    for t, src, kind, _detail in soc.trace.records:
        if src == "bridge" and kind == "request":
            pending = t
        elif src == "bridge" and kind == "reply" and pending is not None:
            lat.append(t - pending)
            pending = None
    if not lat:
        return 0.0, 0
    return sum(lat) / len(lat) / soc.timebase.hz * 1e6, len(lat)


def nvm_rates(s: socket.socket, n: int) -> tuple[float, float] | None:
    add = struct.pack("<HHHH", 0xA501, 0x0204, 1, 0) + struct.pack("<HHHH", 0x30, 0, 0, 64) + bytes(24) + b"d" * 64
    if len(roundtrip(s, add)) != 12:
        return None  # NVM service not present
    t0 = time.perf_counter()
    for _ in range(n):
        roundtrip(s, add)
    add_rate = n / (time.perf_counter() - t0)
    read = struct.pack("<HHHH", 0xA501, 0x0208, 2, 0) + struct.pack("<HHH", 0x30, 0, 64)
    t0 = time.perf_counter()
    for _ in range(n):
        roundtrip(s, read)
    return add_rate, n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 300 if args.quick else 3000
    base_url, _ = bare_echo_server()
    b = connect(base_url)
    base = rate(b, ECHO, n)
    b.close()
    with tempfile.TemporaryDirectory() as d:
        sock_path = f"{d}/hsm.sock"
        with running_board("aurix-tc3xx", listen=("tcp://127.0.0.1:0", f"unix://{sock_path}"), settle=True) as (
            soc,
            _,
            urls,
        ):
            t = connect(urls[0])
            roundtrip(t, INIT)
            tcp = rate(t, ECHO, n)
            u = connect(urls[1])
            roundtrip(u, INIT)
            unix = rate(u, ECHO, n)
            lat_us, count = mailbox_latency(soc)  # echo requests only: NVM adds wait for the flash
            nvm = nvm_rates(t, n // 3)
    baseline = f"bare Python echo server: {base:.0f}/s, ratio {tcp / base:.2f}"
    print(f"echo over TCP:         {tcp:9.0f} round trips/s  ({baseline})")
    print(f"echo over unix socket: {unix:9.0f} round trips/s")
    print(f"echo through the mailbox, virtual latency: {lat_us:.2f} us (mean of {count} requests, HSM @100 MHz)")
    if nvm is None:
        print("nvm: service not available")
    else:
        print(f"nvm add (64 B): {nvm[0]:.0f}/s   nvm read (64 B): {nvm[1]:.0f}/s  (over TCP)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
