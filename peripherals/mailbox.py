"""Host<->HSM mailbox register block (the HSM bridge flags of Aurix / SPC58), one doorbell per channel.

Register offsets differ per chip, so the board places them (`registers = {NAME = offset}`); the
semantics are declared here once. A channel is one app core's (or one attached client's) pair of
request/response blocks in shared RAM; bit n of every flag register belongs to channel n.
- HT2HSMF: the host writes 1 to set (doorbell); the HSM writes 1 to clear. A newly set bit raises the
  HSM's interrupt (gated by HT2HSMIE where the chip has that register).
- HSM2HTF: the HSM writes 1 to set (reply ready); the host writes 1 to clear. A newly set bit raises
  line `irq_line` of the channel's core when HSM2HTIE has that bit.
- HSM2HTS / HT2HSMS: status words, each writable by one side only.
"""

from __future__ import annotations

from typing import Any

from emulator.device import Device, DeviceContext
from emulator.regs import Reg, RegisterMap

HSM_MASTERS = frozenset({"hsm"})


class Mailbox(Device):
    REGS = RegisterMap(
        "mailbox",
        [
            Reg("HSM_ID", access="r", doc="module id"),
            Reg("HT2HSMF", doc="host-to-HSM flags: host sets, HSM clears"),
            Reg("HT2HSMIE", doc="HSM-side enables of the host-to-HSM flags (reads 0 from the host)"),
            Reg("HSM2HTF", doc="HSM-to-host flags: HSM sets, host clears"),
            Reg("HSM2HTIE", doc="host-side enables of the HSM-to-host flags"),
            Reg("HSM2HTIS", doc="HSM-to-host interrupt select (stored, not used)"),
            Reg("HSM2HTS", doc="HSM-to-host status word, written by the HSM"),
            Reg("HT2HSMS", doc="host-to-HSM status word, written by the host"),
        ],
    )
    CONFIG = {"registers": dict, "channels": list, "hsm_irq": int, "irq_line": int, "hsm_id": int}

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        self.layout = dict(config["registers"])
        super().__init__(name, ctx, config)
        self.hsm_irq = int(config.get("hsm_irq", 0))
        self.irq_line = int(config.get("irq_line", 0))
        self.channels: list[dict[str, Any]] = [dict(c) for c in config.get("channels", [])]
        if "HSM_ID" in self.layout:
            self.regs.set("HSM_ID", int(config.get("hsm_id", 0)))
        self._has_ht2hsmie = "HT2HSMIE" in self.layout

    def regmap(self) -> RegisterMap:
        return self.REGS.placed(self.layout)

    def reset(self) -> None:
        super().reset()
        if "HSM_ID" in self.layout:
            self.regs.set("HSM_ID", int(self.config.get("hsm_id", 0)))

    def channel_core(self, bit: int) -> str | None:
        return self.channels[bit]["core"] if bit < len(self.channels) else None

    def mmio_read(self, offset: int, size: int, master: str) -> int:
        reg = self.regs.map.by_offset.get(offset & ~3)
        if reg is not None and reg.name == "HT2HSMIE" and master not in HSM_MASTERS:
            return 0
        return self.regs.read(offset, size, master)

    def mmio_write(self, offset: int, size: int, value: int, master: str) -> None:
        reg = self.regs.map.by_offset.get(offset & ~3)
        if reg is None:
            return
        lane = offset & 3
        v = (value & ((1 << (8 * size)) - 1)) << (8 * lane)
        hsm = master in HSM_MASTERS
        name = reg.name
        if name == "HT2HSMF":
            self.host_doorbell(v, master) if not hsm else self._clear("HT2HSMF", v)
        elif name == "HSM2HTF":
            self.hsm_notify(v) if hsm else self._clear("HSM2HTF", v)
        elif name in ("HSM2HTS", "HT2HSMIE") and not hsm:
            return  # HSM-only registers
        elif name in ("HT2HSMS", "HSM2HTIE", "HSM2HTIS") and hsm:
            return  # host-only registers
        elif name != "HSM_ID":
            self.regs.write(offset, size, value, master)
            # enabling a flag that is already set raises its interrupt, as a level would
            if name == "HT2HSMIE" and self.regs.get("HT2HSMF") & self.regs.get("HT2HSMIE"):
                self.ctx.raise_irq("hsm", self.hsm_irq)
            elif name == "HSM2HTIE":
                self._raise_replies(self.regs.get("HSM2HTF") & v)

    def _clear(self, name: str, bits: int) -> None:
        self.regs.set(name, self.regs.get(name) & ~bits)

    # both the bus and the host bridge (attached clients) ring doorbells through here
    def host_doorbell(self, bits: int, master: str = "host") -> None:
        old = self.regs.get("HT2HSMF")
        self.regs.set("HT2HSMF", old | bits)
        new = bits & ~old
        if new:
            self.ctx.trace("doorbell", f"{master} HT2HSMF |= 0x{new:x}")
            if not self._has_ht2hsmie or self.regs.get("HT2HSMIE") & new:
                self.ctx.raise_irq("hsm", self.hsm_irq)

    def hsm_notify(self, bits: int) -> None:
        old = self.regs.get("HSM2HTF")
        self.regs.set("HSM2HTF", old | bits)
        new = bits & ~old
        if not new:
            return
        self.ctx.trace("reply", f"HSM2HTF |= 0x{new:x}")
        self._raise_replies(new)

    def _raise_replies(self, bits: int) -> None:
        enabled = bits & self.regs.get("HSM2HTIE")
        for bit in range(32):
            if enabled >> bit & 1:
                core = self.channel_core(bit)
                if core is not None:
                    self.ctx.raise_irq(core, self.irq_line)
