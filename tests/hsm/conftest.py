"""Fixtures for HSM service tests: a real server, a tiny DMA-capable HAL stand-in, a packet helper.

Packets are built by hand here (header bytes laid out per core spec §2.1/§2.2) so that the tests
do not depend on the codec under test for framing; payloads come from hand-written hex vectors.
"""

from __future__ import annotations

import pytest

from firmware.hsm.context import Connection
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import Server
from firmware.hsm.services.comm import CommService
from firmware.hsm.services.counter import CounterService
from firmware.hsm.services.nvm import NvmService


class BusRefused(Exception):
    """What the stand-in raises for a DMA outside its allow list (the real HAL's AccessViolation)."""


class BenchHal:
    """The slice of the firmware HAL that services use: spend, DMA through an allow list, trace.

    Memory is one bytearray at ``base``; ``allow`` is a list of ``(start, size, rights)`` with
    rights a subset of "rw". Successful transfers are logged in ``reads``/``writes``, refused ones
    in ``refused``; ``peek``/``poke`` are the test's own (unchecked) access.
    """

    AccessError = BusRefused

    def __init__(self, base: int, size: int, allow: list[tuple[int, int, str]]) -> None:
        self.base = base
        self.mem = bytearray(size)
        self.allow = allow
        self.cycles = 0
        self.reads: list[tuple[int, int]] = []
        self.writes: list[tuple[int, int]] = []
        self.refused: list[tuple[str, int, int]] = []
        self.traces: list[tuple[str, str]] = []
        # addresses the tests use: read/write, read-only, and outside the allow list
        self.rw = RAM_BASE
        self.ro = RO_BASE
        self.outside = FORBIDDEN

    def _allowed(self, addr: int, size: int, right: str) -> bool:
        if addr < self.base or addr + size > self.base + len(self.mem):
            return False
        return any(s <= addr and addr + size <= s + n and right in r for s, n, r in self.allow)

    def spend(self, cycles: int) -> None:
        self.cycles += int(cycles)

    def dma_allowed(self, addr: int, size: int, write: bool) -> bool:
        return self._allowed(addr, size, "w" if write else "r")

    def dma_read(self, addr: int, size: int) -> bytes:
        if not self._allowed(addr, size, "r"):
            self.refused.append(("r", addr, size))
            raise BusRefused(f"read of {size} at {addr:#x}")
        self.reads.append((addr, size))
        off = addr - self.base
        return bytes(self.mem[off : off + size])

    def dma_write(self, addr: int, data: bytes) -> None:
        if not self._allowed(addr, len(data), "w"):
            self.refused.append(("w", addr, len(data)))
            raise BusRefused(f"write of {len(data)} at {addr:#x}")
        self.writes.append((addr, len(data)))
        off = addr - self.base
        self.mem[off : off + len(data)] = data

    def trace(self, kind: str, detail: str = "") -> None:
        self.traces.append((kind, detail))

    def poke(self, addr: int, data: bytes) -> None:
        off = addr - self.base
        self.mem[off : off + len(data)] = data

    def peek(self, addr: int, size: int) -> bytes:
        off = addr - self.base
        return bytes(self.mem[off : off + size])


# Client memory of the stand-in: 128 KiB at 0x2000_0000; the first 96 KiB read/write, then 4 KiB
# read-only, the rest outside the allow list.
RAM_BASE = 0x2000_0000
RAM_SIZE = 0x2_0000
RW_SIZE = 0x1_8000
RO_BASE = RAM_BASE + RW_SIZE
RO_SIZE = 0x1000
FORBIDDEN = RO_BASE + RO_SIZE


class WireClient:
    """Sends hand-framed packets to ``Server.handle`` on one connection and returns payloads."""

    def __init__(self, server: Server, hal: BenchHal | None) -> None:
        self.server = server
        self.hal = hal
        self.conn = Connection(0)
        self.seq = 0

    def call(self, kind: int, payload: bytes | str = b"", order: str = "le") -> bytes:
        body = bytes.fromhex(payload.replace(" ", "")) if isinstance(payload, str) else bytes(payload)
        self.seq = (self.seq + 1) & 0xFFFF
        fmt = "little" if order == "le" else "big"
        magic = b"\x01\xa5" if order == "le" else b"\xa5\x01"
        header = magic + kind.to_bytes(2, fmt) + self.seq.to_bytes(2, fmt) + b"\x00\x00"
        reply = self.server.handle(self.conn, header + body, self.hal)
        assert reply is not None, "server dropped the packet"
        assert reply[:8] == header, "response header must echo magic, kind, seq and aux"
        assert not self.server.errors, self.server.errors
        return reply[8:]

    def le(self, kind: int, payload: bytes | str = b"") -> bytes:
        return self.call(kind, payload, "le")

    def be(self, kind: int, payload: bytes | str = b"") -> bytes:
        return self.call(kind, payload, "be")

    def login(self, client_id: int = 1) -> None:
        """COMM INIT, which sets the connection's client id (used in counter ids)."""
        assert self.le(0x0101, client_id.to_bytes(4, "little")) == client_id.to_bytes(4, "little") + bytes.fromhex(
            "39000000"
        )


@pytest.fixture
def hal() -> BenchHal:
    return BenchHal(RAM_BASE, RAM_SIZE, [(RAM_BASE, RW_SIZE, "rw"), (RO_BASE, RO_SIZE, "r")])


@pytest.fixture
def nvm() -> RamNvm:
    return RamNvm()


@pytest.fixture
def server(nvm: RamNvm) -> Server:
    srv = Server(nvm=nvm)
    srv.add_service(CommService(srv))
    srv.add_service(NvmService(srv))
    srv.add_service(CounterService(srv))
    return srv


@pytest.fixture
def wh(server: Server, hal: BenchHal) -> WireClient:
    return WireClient(server, hal)
