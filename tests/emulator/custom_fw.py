"""A firmware integrator's HSM firmware: the wolfHSM server plus two custom callbacks and a DMA hook."""

from __future__ import annotations

from typing import Any

from firmware.hsm.context import DmaError
from firmware.hsm.firmware import HsmFirmware
from firmware.hsm.server import Server
from firmware.wire import CustomCbType

VETO_ADDR = 0x9005_F000  # the DMA hook refuses this page even though the allow list has it


class CustomFirmware(HsmFirmware):
    def __init__(self) -> None:
        super().__init__()
        self.dma_log: list[tuple[str, str, int, int]] = []

    def make_server(self, hal: Any) -> Server:
        server = super().make_server(hal)
        custom = server.service("custom")

        def reverse(ctx: Any, req: Any) -> tuple[int, int, Any]:
            data = bytes(req.data)
            return 7, req.type, data[::-1]  # rc 7: the callback's own return value

        def checksum(ctx: Any, req: Any) -> tuple[int, int, Any]:
            if req.type != CustomCbType.DMA64:
                return -1, req.type, None
            d = req.data
            blob = ctx.dma_read(d.client_addr, d.client_sz)
            ctx.dma_write(d.server_addr, sum(blob).to_bytes(4, "little"))
            return 0, req.type, None

        custom.register(1, reverse)
        custom.register(2, checksum)

        def hook(direction: str, phase: str, addr: int, size: int) -> None:
            self.dma_log.append((direction, phase, addr, size))
            if phase == "pre" and addr & ~0xFFF == VETO_ADDR:
                raise DmaError(addr, size)

        server.dma_hooks.append(hook)
        return server
