"""The small interface between the kernel and peripheral models.

Peripherals import only this module and `emulator.regs`: they see virtual time, can schedule their
own events, raise interrupt lines, and write the trace, through a DeviceContext the SoC hands them.
They never import each other; cross-device effects go through the kernel.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

from .mpu import AccessViolation
from .regs import RegisterFile, RegisterMap


class DeviceContext(Protocol):
    name: str

    def now(self) -> int:
        """Current virtual time in ticks (for a register access: the accessing core's time)."""

    def ticks(self, cycles: int, clock_hz: int) -> int:
        """Exact ticks for `cycles` of a clock."""

    def schedule(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) `delay` ticks from now, at an event in virtual time."""

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) at the next quantum boundary (cross-core side effects)."""

    def raise_irq(self, core: str, line: int) -> None:
        """Set a pending interrupt line of a core (at the next quantum boundary)."""

    def trace(self, kind: str, detail: str = "") -> None: ...

    def app_cores(self) -> list[str]: ...

    def core_index(self, master: str) -> int:
        """Index of an app core among the board's app cores, or -1 for other masters."""

    def memory(self, name: str) -> Any:
        """A physical memory of the board (for controllers that own one, e.g. flash)."""

    def console(self, source: str, text: str) -> None: ...

    def wake(self, core: str) -> None: ...

    def halt(self, core: str, code: int) -> None: ...


class Device:
    """Base of every peripheral. Subclasses set REGS and may override the hooks."""

    REGS: RegisterMap
    #: attributes (besides register values) that make up the device state, for snapshots
    STATE: tuple[str, ...] = ()

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        self.name = name
        self.ctx = ctx
        self.config = config
        self.regs = RegisterFile(self.regmap(), self)

    def regmap(self) -> RegisterMap:
        return self.REGS

    # bus interface (offset relative to the block base)
    def mmio_read(self, offset: int, size: int, master: str) -> int:
        return self.regs.read(offset, size, master)

    def mmio_write(self, offset: int, size: int, value: int, master: str) -> None:
        self.regs.write(offset, size, value, master)

    def reset(self) -> None:
        self.regs.reset()

    def power_cut(self, rng: Any) -> None:
        """Power fails now: tear whatever is in progress (rng: a seeded random.Random). Reset follows."""

    def save(self) -> Any:
        return self.regs.save(), {k: copy.deepcopy(getattr(self, k)) for k in self.STATE}

    def restore(self, state: Any) -> None:
        regs, attrs = state
        self.regs.restore(regs)
        for k, v in attrs.items():
            setattr(self, k, copy.deepcopy(v))


class DmaWindow:
    """An engine's DMA: bus addresses resolved against the memories its profile names (`dma_memories`).

    Shared by the accelerator models (they may not import each other). A memory's guard (e.g. a busy
    flash sector) adds stall ticks or refuses the read.
    """

    def __init__(self, ctx: DeviceContext, names: list[str]) -> None:
        self.mems = []
        for n in names:
            try:
                self.mems.append(ctx.memory(str(n)))
            except KeyError:
                raise ValueError(f"dma_memories: the board has no memory {n!r}") from None

    def _find(self, addr: int, size: int) -> Any:
        return next((m for m in self.mems if m.contains(addr, max(size, 1))), None)

    def read(self, addr: int, size: int) -> tuple[bytes, int] | None:
        """(data, stall ticks) or None if the range is not readable."""
        if size == 0:
            return b"", 0
        mem = self._find(addr, size)
        if mem is None:
            return None
        stall = 0
        if mem.guard is not None:
            try:
                stall = mem.guard(addr, size, "r")
            except AccessViolation:
                return None
        return bytes(mem.read(addr, size)), stall

    def writable(self, addr: int, size: int) -> bool:
        if size == 0:
            return True
        mem = self._find(addr, size)
        return mem is not None and mem.kind == "ram"

    def write(self, addr: int, data: bytes) -> None:
        self._find(addr, len(data)).write(addr, data)
