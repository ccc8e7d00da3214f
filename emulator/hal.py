"""The HAL: everything Python firmware may do to the SoC. Firmware never imports the kernel.

Bus accesses are made as the core's bus master (MPU-checked); `dma_read`/`dma_write` are made as the
`hsm_dma` master, which the board's allow list governs. Every access charges the target's wait
states; `spend(cycles)` charges computation.
"""

from __future__ import annotations

from typing import Any

from .mpu import AccessViolation

ALL_IRQS = 0xFFFF_FFFF


class Hal:
    AccessError = AccessViolation  # firmware catches hal.AccessError, never imports the kernel

    def __init__(self, core: Any, kernel: Any, bus: Any, big_endian: bool, board: Any, devices: Any = None) -> None:
        self._core = core
        self._kernel = kernel
        self._bus = bus
        self.big_endian = big_endian  # byte order of the app cores (words in shared RAM)
        self.name = core.name
        self.clock_hz = core.clock_hz
        self._names = core.masters
        self._dma_names = frozenset({"hsm_dma"})
        self._board = board
        self._devices = devices or {}
        spec = board.core(core.name) if board is not None else None
        self.params: dict[str, Any] = dict(spec.params) if spec is not None else {}  # from the profile

    # time
    def now(self) -> int:
        """Virtual time in ticks, including cycles spent but not yet synchronised."""
        return self._core.time + self._core.debt * self._core.period

    def now_ns(self) -> int:
        return self.now() * 10**9 // self._kernel.timebase.hz

    def spend(self, cycles: int) -> None:
        self._core.debt += int(cycles)

    # interrupts
    def wait_irq(self, mask: int = ALL_IRQS) -> int:
        """Block until one of the lines in `mask` is pending; returns the lowest such line."""
        return self._core.wait_irq(mask)

    def ack_irq(self, line: int) -> None:
        self._kernel.intc.clear_pending(self.name, line)

    def pending_irqs(self) -> int:
        return self._kernel.intc.pending(self.name)

    # bus, as this core's master
    def read(self, addr: int, size: int) -> bytes:
        self._core.sync()
        data, ws = self._bus.read(self.name, self._names, addr, size, self._core.period)
        self._core.debt += ws
        return data

    def write(self, addr: int, data: bytes) -> None:
        self._core.sync()
        self._core.debt += self._bus.write(self.name, self._names, addr, bytes(data))

    def read32(self, addr: int) -> int:
        self._core.sync()
        value, ws = self._bus.read_reg(self.name, self._names, addr, self.big_endian)
        self._core.debt += ws
        return value

    def write32(self, addr: int, value: int) -> None:
        self._core.sync()
        self._core.debt += self._bus.write_reg(self.name, self._names, addr, value, self.big_endian)

    # DMA into client memory, checked against the allow list
    def dma_allowed(self, addr: int, size: int, write: bool) -> bool:
        return self._bus.mpu.allows(self._dma_names, addr, size, "w" if write else "r")

    def dma_read(self, addr: int, size: int) -> bytes:
        self._core.sync()
        try:
            data, ws = self._bus.read("hsm_dma", self._dma_names, addr, size)
        except AccessViolation as e:
            self._kernel.trace_core(self._core, "dma-refused", str(e))
            raise
        self._core.debt += ws
        return data

    def dma_write(self, addr: int, data: bytes) -> None:
        self._core.sync()
        try:
            self._core.debt += self._bus.write("hsm_dma", self._dma_names, addr, bytes(data))
        except AccessViolation as e:
            self._kernel.trace_core(self._core, "dma-refused", str(e))
            raise

    # board facts the firmware may need (peripheral bases, mailbox channels)
    def peripheral(self, name: str) -> dict[str, Any]:
        p = self._board.peripheral(name)
        if p is None:
            raise KeyError(f"board has no peripheral {name!r}")
        return {"base": p.base, "size": p.size, **p.config}

    def mailbox_channels(self) -> list[dict[str, Any]]:
        """The mailbox's live channel table (app-core channels, then attached host clients)."""
        for dev in self._devices.values():
            if hasattr(dev, "channels") and hasattr(dev, "host_doorbell"):
                return dev.channels
        return []

    def peripherals_of_type(self, type_: str) -> list[str]:
        return [p.name for p in self._board.peripherals if p.type == type_]

    # diagnostics
    def trace(self, kind: str, detail: str = "") -> None:
        self._kernel.trace_core(self._core, kind, detail)

    def log(self, text: str) -> None:
        self._kernel.console(self.name, text)
