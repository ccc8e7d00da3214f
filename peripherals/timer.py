"""System timer: a free-running 64-bit counter at its own clock, with one compare per core.

The counter is derived from virtual time (no per-tick events); a compare match is one event.
"""

from __future__ import annotations

from typing import Any

from emulator.device import Device, DeviceContext
from emulator.regs import Reg, RegisterMap


class SystemTimer(Device):
    REGS = RegisterMap(
        "timer",
        [
            Reg("TIM_LO", 0x00, "r", doc="counter bits 31..0"),
            Reg("TIM_HI", 0x04, "r", doc="counter bits 63..32 (as of the last TIM_LO read by this core)"),
            Reg("CMP", 0x08, "rw", banked=True, doc="compare value for the accessing core"),
            Reg("CTRL", 0x0C, "rw", banked=True, fields={"IRQEN": (0, 1)}),
        ],
    )
    STATE = ("gen", "hi_latch")
    CONFIG = {"clock_hz": int, "irq_line": int}

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.clock_hz = int(config.get("clock_hz", 100_000_000))
        self.irq_line = int(config.get("irq_line", 1))
        self.period = ctx.ticks(1, self.clock_hz)
        self.gen: dict[str, int] = {}
        self.hi_latch: dict[str, int] = {}

    def counter(self) -> int:
        return self.ctx.now() // self.period

    def read_TIM_LO(self, master: str) -> int:
        c = self.counter()
        self.hi_latch[master] = c >> 32
        return c & 0xFFFFFFFF

    def read_TIM_HI(self, master: str) -> int:
        return self.hi_latch.get(master, self.counter() >> 32)

    def write_CMP(self, master: str, value: int) -> None:
        self._arm(master)

    def write_CTRL(self, master: str, value: int) -> None:
        self._arm(master)

    def _arm(self, master: str) -> None:
        g = self.gen.get(master, 0) + 1
        self.gen[master] = g
        if not self.regs.get("CTRL", master) & 1:
            return
        now_count = self.counter()
        delta = (self.regs.get("CMP", master) - now_count) & 0xFFFFFFFF or (1 << 32)
        self.ctx.schedule(delta * self.period, self._match, master, g)

    def _match(self, master: str, g: int) -> None:
        if self.gen.get(master) != g:
            return  # re-armed since: this match is stale
        self.ctx.raise_irq(master, self.irq_line)
