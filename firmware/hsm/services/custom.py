"""CUSTOM group: user callbacks registered in the firmware (core spec §7.1, unchanged at v1.4.0).

Firmware integrators register `fn(ctx, request) -> (rc, type, data)` at an index below the table
size; `request` is the decoded request record (id, type, data; DMA32/DMA64 data decoded into
client/server address and size words, which `ctx.dma_read`/`dma_write` resolve through the allow
list). A QUERY only checks registration: err 0 if registered, NOHANDLER otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware.wire import CustomCbType, Group, WhError, WireError

from ..context import DmaError, RequestContext
from ..server import ECHO, Service

Callback = Callable[[RequestContext, Any], tuple[int, int, Any]]


class CustomService(Service):
    group = Group.CUSTOM
    name = "custom"

    def __init__(self, server: Any) -> None:
        super().__init__(server)
        self.callbacks: dict[int, Callback] = {}

    def register(self, index: int, fn: Callback) -> None:
        if not 0 <= index < self.server.config.customcb_count:
            raise ValueError(f"callback index must be 0..{self.server.config.customcb_count - 1}")
        self.callbacks[index] = fn

    def table(self) -> dict[int, Any]:
        return {}

    def handle(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        spec = self.server.wire.message(Group.CUSTOM, action)
        if action >= ctx.config.customcb_count:
            return ECHO  # BADARGS without a response length
        try:
            req = spec.request.unpack(ctx.order, payload)
        except WireError:
            return ECHO  # wrong request size: ABORTED without a response length
        fn = self.callbacks.get(action)
        rc, rtype, data = 0, 0, None
        if fn is None:
            err = WhError.NOHANDLER
        else:
            err = 0
            if req.type != CustomCbType.QUERY:
                try:
                    rc, rtype, data = fn(ctx, req)
                except DmaError as e:
                    rc = e.rc
        fields: dict[str, Any] = dict(id=req.id, type=rtype, rc=rc, err=err)
        if data is not None:
            fields["data"] = data
        return spec.response.pack(ctx.order, **fields)
