"""A small HSM firmware that proves the Python core: it answers each app core's mailbox ping.

Protocol (demo only; the wolfHSM transport replaces it): the app core writes a 32-bit word at its
channel base + 8 and rings its doorbell bit; the HSM answers the bitwise complement at channel
base + 0x1000 + 8 and sets the channel's HSM2HTF bit.
"""

from __future__ import annotations

from typing import Any

REQUEST_DATA = 8
RESPONSE_DATA = 0x1000 + 8
CYCLES_PER_PING = 200  # assumed cost of the handler on the HSM core


class DemoFirmware:
    def __init__(self) -> None:
        self.served = 0

    def boot(self, hal: Any) -> None:
        mb = hal.peripheral("mailbox")
        self.base = mb["base"]
        self.regs = dict(mb["registers"])
        self.channels = [dict(c) for c in mb["channels"]]
        self.irq = int(mb["hsm_irq"])
        if "HT2HSMIE" in self.regs:
            hal.write32(self.base + self.regs["HT2HSMIE"], 0xFFFF_FFFF)
        hal.trace("boot", f"demo firmware, {len(self.channels)} channels")

    def serve(self, hal: Any) -> None:
        ht2hsmf = self.base + self.regs["HT2HSMF"]
        hsm2htf = self.base + self.regs["HSM2HTF"]
        while True:
            hal.wait_irq(1 << self.irq)
            hal.ack_irq(self.irq)
            flags = hal.read32(ht2hsmf)
            hal.write32(ht2hsmf, flags)  # the HSM clears what it took
            for bit in range(len(self.channels)):
                if not flags >> bit & 1:
                    continue
                ch = self.channels[bit]["base"]
                value = hal.read32(ch + REQUEST_DATA)
                hal.spend(CYCLES_PER_PING)
                hal.write32(ch + RESPONSE_DATA, ~value & 0xFFFF_FFFF)
                hal.write32(hsm2htf, 1 << bit)
                self.served += 1
