"""NVM object store benchmark: host-side operations per second and virtual-time latency, per board.

For each board (aurix-tc3xx, spc58nn by default) the board boots (its app-core demo runs to the end),
then a client on an in-process bridge channel (``HostBridge.attach_local``: no socket, so the host
figures are the emulator's own cost, not the loopback's) sends NVM requests packed with the wire
codec, one at a time:

- add: ADDOBJECT of a 64-byte object (new ids and overwrites; on an 8-byte-page flash 15 page programs:
  6 for the record header, 8 for the data, 1 for the commit marker), and of a 1 KiB object (135);
- read: READ of the 64-byte object (metadata lookup, flash read, CRC);
- key commit: KEY CACHE of a 32-byte key, then COMMIT (the COMMIT alone is measured);
- destroy: DESTROYOBJECTS of one of LIVE live objects: a compaction into the other partition
  (erase of its written sectors, copy of the LIVE - 1 others, commit);
- compaction: DESTROYOBJECTS of nothing (a pure compaction, LIVE objects copied);
- mount: the store's boot-time mount after a power cut with LIVE objects (read + parse of the flash).

Host: operations per second of wall time, the SoC stepped until the reply (see :meth:`Bench.call`).
Virtual: the latency in virtual time from the request's injection to the HSM's reply flag, from the
trace; erase and program durations come from the board profile (aurix: 50 us per 8-byte page, 50 ms
per 4 KiB sector).

Usage: python tools/bench_nvm.py [--quick] [--board NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.bridge import HostBridge  # noqa: E402
from emulator.soc import Soc  # noqa: E402
from emulator.trace import Trace  # noqa: E402
from firmware.wire import (  # noqa: E402
    ByteOrder,
    CommAction,
    Group,
    Header,
    KeyAction,
    NvmAction,
    decode_packet,
    encode_packet,
    get_wire,
)

WIRE = get_wire()
LIVE = 8  # live objects during destroys and compactions
CLIENT_ID = 12


class Bench:
    def __init__(self, board: str) -> None:
        self.soc = Soc(board, trace=Trace("events"), console=lambda s, t: None)
        if not self.soc.run_until_idle(limit_ns=5_000_000_000):
            raise SystemExit(f"{board}: the demo did not finish")
        self.bridge = HostBridge(self.soc, log=lambda m: None)
        self.c = self.bridge.attach_local("bench")
        self.seq = 0
        self.hz = self.soc.timebase.hz
        r = self.call(Group.COMM, CommAction.INIT, client_id=CLIENT_ID)
        assert r.client_id == CLIENT_ID

    def call(self, group: int, action: int, **fields: object) -> object:
        """One request. Like ``HostBridge.request``, but the SoC is stepped 20 us first, then in steps
        doubling up to 5 ms: a 50 ms erase then costs a few dozen kernel calls instead of 2500 (the
        reply's virtual instant does not depend on the stepping: the HSM raises it when it is done)."""
        spec = WIRE.message(group, action)
        self.seq = self.seq % 0xFFFF + 1
        body = spec.request.pack(ByteOrder.LITTLE, **fields)
        replies = self.c.replies  # type: ignore[attr-defined]
        replies.clear()
        self.bridge.submit(self.c, encode_packet(Header(kind=spec.kind, seq=self.seq), body))
        step = 20_000
        end = self.soc.now + self.soc.timebase.ns(20 * 10**9)
        while not replies:
            if self.soc.now >= end:
                raise SystemExit(f"no reply to {spec.name} within 20 s of virtual time")
            self.soc.run_ns(step)
            step = min(2 * step, 5_000_000)
        header, payload = decode_packet(replies.popleft())
        return spec.response.unpack_lenient(header.order, payload)

    def timed(self, group: int, action: int, **fields: object) -> tuple[float, float]:
        """(host seconds, virtual microseconds) of one request; asserts rc 0. Virtual: from the bridge
        injecting the request to the HSM raising the reply flag (the mailbox's ``reply`` record)."""
        mark = len(self.soc.trace.records)
        t0 = time.perf_counter()
        r = self.call(group, action, **fields)
        host = time.perf_counter() - t0
        assert getattr(r, "rc", 0) == 0, (group, action, r)
        rec = self.soc.trace.records[mark:]
        t_req = next(x[0] for x in rec if x[1] == "bridge" and x[2] == "request")
        t_rep = next(x[0] for x in rec if x[1] != "bridge" and x[2] == "reply" and x[0] >= t_req)
        return host, (t_rep - t_req) / self.hz * 1e6

    def available(self) -> tuple[int, int]:
        r = self.call(Group.NVM, NvmAction.GETAVAILABLE)
        return r.avail_size, r.avail_objects  # type: ignore[attr-defined]

    def add(self, nvm_id: int, data: bytes) -> tuple[float, float]:
        return self.timed(Group.NVM, NvmAction.ADDOBJECT, id=nvm_id, label=b"bench", data=data)

    def compact(self) -> tuple[float, float]:
        return self.timed(Group.NVM, NvmAction.DESTROYOBJECTS, list_count=0, list=[])

    def clear(self) -> None:
        """Destroy every object (the LIST ids, up to 19 per DESTROYOBJECTS)."""
        ids: list[int] = []
        r = self.call(Group.NVM, NvmAction.LIST, startId=0)
        while r.rc == 0 and r.count and r.id:  # type: ignore[attr-defined]
            ids.append(r.id)  # type: ignore[attr-defined]
            r = self.call(Group.NVM, NvmAction.LIST, startId=r.id)  # type: ignore[attr-defined]
        for k in range(0, len(ids), 19):
            chunk = ids[k : k + 19]
            assert self.call(Group.NVM, NvmAction.DESTROYOBJECTS, list_count=len(chunk), list=chunk).rc == 0  # type: ignore[attr-defined]

    def make_room(self, size: int) -> None:
        """Compact (not measured) when the next add of ``size`` bytes would find no room."""
        free, slots = self.available()
        if slots < 2 or free < size + 64:
            self.compact()


def summarize(samples: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(host ops per second, virtual mean us, virtual max us)."""
    host = sum(h for h, _ in samples)
    virt = [v for _, v in samples]
    return len(samples) / host, statistics.fmean(virt), max(virt)


def bench_board(board: str, n: int) -> dict[str, tuple[float, float, float]]:
    b = Bench(board)
    out: dict[str, tuple[float, float, float]] = {}
    small, big = bytes(range(64)), bytes(1024)

    s = []
    for i in range(n):
        b.make_room(len(small))
        s.append(b.add(0x40 + i % 8, small))
    out["add 64 B"] = summarize(s)

    s = []
    for i in range(max(n // 4, 3)):
        b.make_room(len(big))
        s.append(b.add(0x50 + i % 4, big))
    out["add 1 KiB"] = summarize(s)

    b.add(0x60, small)
    out["read 64 B"] = summarize([b.timed(Group.NVM, NvmAction.READ, id=0x60, offset=0, data_len=64) for _ in range(n)])

    s = []
    for i in range(max(n // 2, 3)):
        b.make_room(32)
        r = b.call(Group.KEY, KeyAction.CACHE, flags=0x60, sz=32, labelSz=3, id=1 + i % 4, label=b"key", key=small[:32])
        assert r.rc == 0, r  # type: ignore[attr-defined]
        s.append(b.timed(Group.KEY, KeyAction.COMMIT, id=1 + i % 4))
    out["key commit 32 B"] = summarize(s)

    # exactly LIVE live objects of 64 B, then destroys (each a compaction) and pure compactions
    b.clear()
    ids = list(range(0x70, 0x70 + LIVE))
    for i in ids:
        b.add(i, small)
    s = []
    for k in range(max(n // 8, 3)):
        victim = ids[k % LIVE]
        s.append(b.timed(Group.NVM, NvmAction.DESTROYOBJECTS, list_count=1, list=[victim]))
        b.add(victim, small)
    out[f"destroy 1 of {LIVE}"] = summarize(s)
    out[f"compaction, {LIVE} live"] = summarize([b.compact() for _ in range(max(n // 8, 3))])

    # mount after a power cut (virtual: power-cut record -> nvm-mount record)
    s = []
    for _ in range(3):
        mark = len(b.soc.trace.records)
        t0 = time.perf_counter()
        b.soc.power_cut()
        b.soc.run_ns(1_000_000)
        host = time.perf_counter() - t0
        rec = b.soc.trace.records[mark:]
        t_cut = next(x[0] for x in rec if x[2] == "power-cut")
        t_mount = next(x[0] for x in rec if x[2] == "nvm-mount")
        s.append((host, (t_mount - t_cut) / b.hz * 1e6))
        b.soc.run_until_idle(limit_ns=5_000_000_000)  # let the demo run again before the next cut
    out[f"power cut + mount ({LIVE}+ objects)"] = summarize(s)  # host: incl. 1 ms of boot
    b.soc.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer operations (CI)")
    ap.add_argument("--board", action="append", help="board(s) to measure (default aurix-tc3xx and spc58nn)")
    args = ap.parse_args()
    n = 24 if args.quick else 120
    boards = args.board or ["aurix-tc3xx", "spc58nn"]
    print(f"NVM object store: {n} operations per kind (fewer for the slow ones), in-process bridge client")
    for board in boards:
        t0 = time.perf_counter()
        res = bench_board(board, n)
        print(f"\n{board} ({time.perf_counter() - t0:.1f} s)")
        print(f"  {'operation':34} {'host ops/s':>10} {'virtual mean':>14} {'virtual max':>13}")
        for name, (rate, mean, peak) in res.items():
            print(f"  {name:34} {rate:10.1f} {_us(mean):>14} {_us(peak):>13}")
    return 0


def _us(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} us"


if __name__ == "__main__":
    sys.exit(main())
