"""Interrupt controller: per-core pending and enable lines, plus the core-id and halt registers.

Every register is banked by bus master, so one block serves every core: a core reads its own
CORE_ID, PENDING and ENABLE. Other devices raise lines through the kernel, which calls `set_pending`.
A core that waits (WFI / wait) wakes when one of its enabled lines is pending; the HSM's Python
firmware waits on its own lines (its mask is the wait call's argument).
"""

from __future__ import annotations

from typing import Any

from emulator.device import Device, DeviceContext
from emulator.regs import Reg, RegisterMap


class InterruptController(Device):
    REGS = RegisterMap(
        "intc",
        [
            Reg("CORE_ID", 0x00, "r", doc="index of the accessing app core"),
            Reg("PENDING", 0x04, "w1c", banked=True, doc="pending lines of the accessing core; write 1 clears"),
            Reg("ENABLE", 0x08, "rw", banked=True, doc="enabled lines of the accessing core"),
            Reg("HALT", 0x0C, "w", doc="write: the accessing core stops (value = exit code)"),
        ],
    )
    CONFIG: dict[str, type] = {}

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)

    def read_CORE_ID(self, master: str) -> int:
        return self.ctx.core_index(master) & 0xFFFFFFFF

    def write_ENABLE(self, master: str, value: int) -> None:
        self.ctx.wake(master)

    def write_HALT(self, master: str, value: int) -> None:
        self.ctx.halt(master, value)

    # kernel-facing API
    def set_pending(self, core: str, line: int) -> None:
        old = self.regs.get("PENDING", core)
        self.regs.set("PENDING", old | (1 << line), core)
        if not old & (1 << line):
            self.ctx.trace("irq", f"{core} line {line}")
        self.ctx.wake(core)

    def clear_pending(self, core: str, line: int) -> None:
        self.regs.set("PENDING", self.regs.get("PENDING", core) & ~(1 << line), core)

    def pending(self, core: str) -> int:
        return self.regs.get("PENDING", core)

    def enabled(self, core: str) -> int:
        return self.regs.get("ENABLE", core)
