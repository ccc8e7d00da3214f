"""COMM group: init, keepalive, close, info, echo (core spec §3, v1.4.0 diff §3.3)."""

from __future__ import annotations

from typing import Any

from firmware.wire import CommAction, Group

from ..context import RequestContext
from ..server import Service


class CommService(Service):
    group = Group.COMM
    name = "comm"

    def table(self) -> dict[int, Any]:
        return {
            CommAction.INIT: self.init,
            CommAction.KEEPALIVE: lambda ctx, p: b"",
            CommAction.CLOSE: self.close,
            CommAction.INFO: self.info,
            CommAction.ECHO: lambda ctx, p: p,
        }

    def init(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self.server.wire.message(Group.COMM, CommAction.INIT)
        # the C server does not check the request length: decode leniently (missing bytes read as 0)
        client_id = spec.request.unpack_lenient(ctx.order, payload).client_id
        if client_id == 0 and ctx.config.global_keys:
            return b""  # BADARGS without a response length: an empty reply (v1.4.0 diff §3.3)
        ctx.conn.client_id = client_id & 0xFF  # v1.4.0 keeps it in a uint8_t
        return spec.response.pack(ctx.order, client_id=ctx.conn.client_id, server_id=ctx.config.server_id)

    def close(self, ctx: RequestContext, payload: bytes) -> bytes:
        ctx.conn.closed = True  # the transport resets the connection after sending this reply
        return b""

    def info(self, ctx: RequestContext, payload: bytes) -> bytes:
        c = ctx.config
        spec = self.server.wire.message(Group.COMM, CommAction.INFO)
        fields = dict(
            cfg_comm_data_len=c.comm_data_len,
            cfg_nvm_object_count=c.nvm_object_count,
            cfg_server_keycache_count=c.keycache_count,
            cfg_server_keycache_bufsize=c.keycache_bufsize,
            cfg_server_keycache_bigcount=c.keycache_bigcount,
            cfg_server_keycache_bigbufsize=c.keycache_bigbufsize,
            cfg_server_customcb_count=c.customcb_count,
            cfg_server_dmaaddr_count=c.dmaaddr_count,
            debug_state=1,
            boot_state=2,
            lifecycle_state=3,
            nvm_state=4,
            version=c.version + b"\0",
            build=c.build + b"\0",
        )
        return spec.response.pack(ctx.order, **fields)
