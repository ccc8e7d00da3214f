"""Console UART for the app cores: each core's characters become lines prefixed by the core name."""

from __future__ import annotations

from typing import Any

from emulator.device import Device, DeviceContext
from emulator.regs import Reg, RegisterMap


class Uart(Device):
    REGS = RegisterMap(
        "uart",
        [
            Reg("TXDATA", 0x00, "w", doc="write: the low byte is one output character of the writing core"),
            Reg("STATUS", 0x04, "r", reset=0x1, fields={"TXREADY": (0, 1), "RXAVAIL": (1, 1)}),
            Reg("RXDATA", 0x08, "r", doc="read: next input byte, 0 when none"),
        ],
    )
    CONFIG: dict[str, type] = {}

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.lines: dict[str, bytearray] = {}

    def write_TXDATA(self, master: str, value: int) -> None:
        ch = value & 0xFF
        buf = self.lines.setdefault(master, bytearray())
        if ch == 0x0A:
            text = buf.decode("utf-8", "replace")
            buf.clear()
            self.ctx.trace("uart", f"{master}: {text}")
            self.ctx.console(master, text)
        elif ch != 0x0D:
            buf.append(ch)
            if len(buf) >= 4096:  # a core that never sends a newline still gets its output shown
                self.write_TXDATA(master, 0x0A)

    def reset(self) -> None:
        super().reset()
        self.lines = {}

    # partial lines as immutable bytes: cheaper than the generic deep copy (snapshots restore often)
    def save(self) -> Any:
        return self.regs.save(), {k: bytes(v) for k, v in self.lines.items()}

    def restore(self, state: Any) -> None:
        regs, lines = state
        self.regs.restore(regs)
        self.lines = {k: bytearray(v) for k, v in lines.items()}
