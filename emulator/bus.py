"""The bus as seen by Python masters (the HSM core, HSM DMA, the host bridge).

Unicorn cores reach memory and MMIO through their own page mappings; Python masters come through
here, and every access is checked against the MPU first.
"""

from __future__ import annotations

import bisect
from typing import Any

from .memory import Memory
from .mpu import MPU, AccessViolation


class Bus:
    def __init__(self, memories: list[Memory], mmio: list[tuple[int, int, Any, int]], mpu: MPU) -> None:
        # (start, end, target, wait_states); target is a Memory or a Device
        spans = [(m.origin, m.end, m, m.wait_states) for m in memories]
        spans += [(b, b + s, dev, ws) for b, s, dev, ws in mmio]
        spans.sort(key=lambda x: x[0])
        self._spans = spans
        self._starts = [s[0] for s in spans]
        self.mpu = mpu

    def find(self, addr: int, size: int = 1) -> tuple[int, int, Any, int] | None:
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0:
            span = self._spans[i]
            if addr + size <= span[1]:
                return span
        return None

    def _target(self, master: str, names: frozenset[str], addr: int, size: int, kind: str) -> tuple:
        self.mpu.check(master, names, addr, size, kind)
        span = self.find(addr, size)
        if span is None:
            raise AccessViolation(master, kind, addr, size, "unmapped address")
        return span

    def read(
        self, master: str, names: frozenset[str], addr: int, size: int, period: int = 1
    ) -> tuple[bytes, int]:
        """Read bytes from memory; returns (data, wait states in cycles of a `period`-tick clock)."""
        start, _, target, ws = self._target(master, names, addr, size, "r")
        if not isinstance(target, Memory):
            raise AccessViolation(master, "r", addr, size, "block reads of MMIO are not supported")
        if target.guard is not None:
            stall = target.guard(addr, size, "r")  # ticks (e.g. a flash sector still busy)
            ws += -(-stall // period)
        return target.read(addr, size), ws

    def write(self, master: str, names: frozenset[str], addr: int, data: bytes, direct: bool = False) -> int:
        """Write bytes to RAM. Flash is written through its controller, except by the loader (direct)."""
        start, _, target, ws = (
            self._target(master, names, addr, len(data), "w")
            if not direct
            else (self.find(addr, len(data)) or (0, 0, None, 0))
        )
        if not isinstance(target, Memory):
            raise AccessViolation(master, "w", addr, len(data), "not memory")
        target.write(addr, data)
        return ws

    def read_reg(self, master: str, names: frozenset[str], addr: int, big: bool) -> tuple[int, int]:
        start, _, target, ws = self._target(master, names, addr, 4, "r")
        if isinstance(target, Memory):
            return int.from_bytes(target.read(addr, 4), "big" if big else "little"), ws
        return target.mmio_read(addr - start, 4, master), ws

    def write_reg(self, master: str, names: frozenset[str], addr: int, value: int, big: bool) -> int:
        start, _, target, ws = self._target(master, names, addr, 4, "w")
        if isinstance(target, Memory):
            target.write(addr, (value & 0xFFFFFFFF).to_bytes(4, "big" if big else "little"))
        else:
            target.mmio_write(addr - start, 4, value & 0xFFFFFFFF, master)
        return ws
