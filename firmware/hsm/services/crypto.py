"""CRYPTO (0x0400) and CRYPTO_DMA (0x0B00) groups: the v1.4.0 8-byte envelope and the dispatch.

Request payload = {u32 algoType, u32 algoSubType} + algorithm body; response = {u32 algoType (echo),
i32 rc} + body, the body only when rc == 0 (v1.4.0 diff §10.1). Unmatched combinations answer
NOT_COMPILED_IN (-174); a payload shorter than the envelope is echoed (v1.4.0 source, wire notes).
"""

from __future__ import annotations

from typing import Any

from firmware.wire import Group

from ..context import RequestContext
from ..crypto import Registry, build_registry
from ..server import ECHO, Service

NOT_COMPILED_IN = -174


class CryptoError(Exception):
    """Raised by handlers for an error rc (wolfHSM or wolfCrypt code)."""

    def __init__(self, rc: int, why: str = "") -> None:
        super().__init__(why or str(rc))
        self.rc = rc


class CryptoService(Service):
    group = Group.CRYPTO
    name = "crypto"

    def __init__(self, server: Any, registry: Registry | None = None) -> None:
        super().__init__(server)
        self._registry = registry  # built on the first crypto request: keeps the boot fast

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = build_registry()
        return self._registry

    def table(self) -> dict[int, Any]:
        return {}

    def handle(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        wire = self.server.wire
        if len(payload) < wire.crypto_request_header.size:
            return ECHO
        req = wire.crypto_request_header.unpack_prefix(ctx.order, payload)[0]
        body = payload[wire.crypto_request_header.size :]
        handler = self.registry.find(self.group, action, req.algoType, req.algoSubType)
        if handler is None:
            rc, out = NOT_COMPILED_IN, b""
        else:
            try:
                rc, out = handler(ctx, body)
            except CryptoError as e:
                rc, out = e.rc, b""
        head = wire.crypto_response_header.pack(ctx.order, algoType=req.algoType, rc=rc)
        return head + (out if rc == 0 else b"")


class CryptoDmaService(CryptoService):
    group = Group.CRYPTO_DMA
    name = "crypto_dma"
