"""What a service handler sees of one request: the client's byte order, its connection, the server,
and the firmware's hardware access (cycles, DMA through the allow list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware.wire import ByteOrder, Header, WhError


class DmaError(Exception):
    """A DMA reference was refused (outside the allow list, or vetoed by a hook)."""

    def __init__(self, addr: int, size: int, rc: int = WhError.ACCESS) -> None:
        super().__init__(f"DMA of {size} bytes at 0x{addr:x} refused")
        self.addr, self.size, self.rc = addr, size, rc


class Connection:
    """Per-connection server state (one mailbox channel or one attached client).

    wolfHSM resets this on COMM CLOSE and on disconnect: the client id and every per-connection
    service state (the local key cache among them). Services keep their part under their name.
    """

    def __init__(self, channel: int) -> None:
        self.channel = channel
        self.client_id = 0
        self.state: dict[str, Any] = {}
        self.closed = False

    def service_state(self, name: str, factory: Callable[[], Any]) -> Any:
        s = self.state.get(name)
        if s is None:
            s = self.state[name] = factory()
        return s

    def reset(self) -> None:
        self.client_id = 0
        self.state.clear()
        self.closed = False


class RequestContext:
    def __init__(self, server: Any, conn: Connection, header: Header, hal: Any) -> None:
        self.server = server
        self.conn = conn
        self.header = header
        self.order: ByteOrder = header.order
        self.hal = hal

    @property
    def config(self) -> Any:
        return self.server.config

    def spend(self, cycles: int) -> None:
        if self.hal is not None:
            self.hal.spend(cycles)

    # DMA: SoC addresses, checked against the board's allow list; hooks may veto (pre) or observe (post)
    def dma_check(self, addr: int, size: int, write: bool) -> None:
        """Raise DmaError unless [addr, addr+size) may be read (or written) by the HSM's DMA."""
        if size == 0:
            return
        if self.hal is None or not self.hal.dma_allowed(addr, size, write):
            if self.hal is not None:
                what = "write" if write else "read"
                msg = f"hsm_dma: {what} of {size} byte(s) at 0x{addr:08x} outside the allow list"
                self.hal.trace("dma-refused", msg)
            raise DmaError(addr, size)

    def dma_read(self, addr: int, size: int) -> bytes:
        if size == 0:
            return b""
        if self.hal is None:
            raise DmaError(addr, size)
        self.server.run_dma_hooks("read", "pre", addr, size)
        try:
            data = self.hal.dma_read(addr, size)
        except self.hal.AccessError as e:
            raise DmaError(addr, size) from e
        self.server.run_dma_hooks("read", "post", addr, size)
        return data

    def dma_write(self, addr: int, data: bytes) -> None:
        if not data:
            return
        if self.hal is None:
            raise DmaError(addr, len(data))
        self.server.run_dma_hooks("write", "pre", addr, len(data))
        try:
            self.hal.dma_write(addr, data)
        except self.hal.AccessError as e:
            raise DmaError(addr, len(data)) from e
        self.server.run_dma_hooks("write", "post", addr, len(data))
