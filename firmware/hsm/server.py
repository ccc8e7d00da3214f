"""The HSM server: the comm layer and a router to services (one handler table per group).

Transport-agnostic: a transport hands in one request packet for a connection and sends back what
`handle` returns. Semantics follow wolfHSM v1.4.0 (wolfhsm-wire-core.md §2, v1.4.0 diff §3):
- the response header echoes magic, kind, seq and aux; payload integers use the client's order;
- a response is always sent, operational errors travel in the payload's rc;
- a group the server does not serve gets an empty response (NOTIMPL), as do unknown COMM/NVM actions;
- packets shorter than the header or longer than the MTU are fatal for the connection (None).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from firmware.wire import ByteOrder, WireError, decode_header, encode_packet, get_wire

from .config import ServerConfig
from .context import Connection, RequestContext

# A handler returns the response payload, or ECHO: wolfHSM handlers that return early without
# setting a response length send the request payload back verbatim (core spec §2.5, "echo quirk").
ECHO = object()

DmaHook = Callable[[str, str, int, int], None]


class Service:
    """Base of a service: `group` and a table of action -> method(ctx, payload)."""

    group: int = -1
    name: str = ""

    def __init__(self, server: Server) -> None:
        self.server = server

    def table(self) -> dict[int, Callable[[RequestContext, bytes], Any]]:
        raise NotImplementedError

    def unknown(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        reply = self.server.wire.unknown_reply(self.group)
        return ECHO if reply.name == "ECHO" else b""

    def handle(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        fn = self._table.get(action) if hasattr(self, "_table") else None
        if fn is None and not hasattr(self, "_table"):
            self._table = self.table()
            fn = self._table.get(action)
        if fn is None:
            return self.unknown(ctx, action, payload)
        return fn(ctx, payload)

    def reset_connection(self, conn: Connection) -> None:
        """A connection closed or dropped: forget what this service kept for it."""


class Server:
    def __init__(self, config: ServerConfig | None = None, nvm: Any = None, wire: str | None = None) -> None:
        self.config = config or ServerConfig()
        self.wire = get_wire(wire)
        self.nvm = nvm
        self.services: dict[int, Service] = {}
        self.dma_hooks: list[DmaHook] = []
        self.errors: list[str] = []  # handler failures (bugs), kept for diagnosis
        self.requests = 0

    def add_service(self, service: Service) -> Service:
        self.services[service.group] = service
        return service

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services.values() if s.name == name), None)

    def run_dma_hooks(self, direction: str, phase: str, addr: int, size: int) -> None:
        for hook in self.dma_hooks:
            hook(direction, phase, addr, size)

    def close_connection(self, conn: Connection) -> None:
        for s in self.services.values():
            s.reset_connection(conn)
        conn.reset()

    def handle(self, conn: Connection, packet: bytes, hal: Any = None) -> bytes | None:
        """One request packet in, one response packet out; None = fatal, drop the connection."""
        cfg = self.config
        if len(packet) < 8 or len(packet) > cfg.mtu:
            return None
        try:
            # the C server reads the magic natively and swaps when its marker byte is elsewhere
            header = decode_header(packet, server_order=ByteOrder.LITTLE)
        except WireError:
            return None
        payload = bytes(packet[8:])
        self.requests += 1
        ctx = RequestContext(self, conn, header, hal)
        ctx.spend(cfg.costs["request"] + cfg.costs["per_byte"] * len(packet))
        service = self.services.get(header.group)
        if service is None:
            body: Any = b""
        else:
            try:
                body = service.handle(ctx, header.action, payload)
            except Exception as e:  # noqa: BLE001 - a bad request must never take the server down
                self.errors.append(f"kind 0x{header.kind:04x}: {type(e).__name__}: {e}")
                if hal is not None:
                    hal.trace("handler-error", self.errors[-1] + " " + traceback.format_exc(limit=3)[-300:])
                body = b""
        if body is ECHO:
            body = payload
        if len(body) > cfg.comm_data_len + 128:
            body = body[: cfg.max_request_payload]  # never overrun a v1.4.0 client's MTU
        ctx.spend(cfg.costs["per_byte"] * len(body))
        return encode_packet(header.reply(), bytes(body))


def default_server(config: ServerConfig | None = None, nvm: Any = None, wire: str | None = None) -> Server:
    """A server with every service this firmware implements."""
    from .services import install_all

    server = Server(config, nvm, wire)
    install_all(server)
    return server
