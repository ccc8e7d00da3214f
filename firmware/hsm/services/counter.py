"""COUNTER group (0x0800): monotonic counters kept as NVM objects (core spec §7.2, v1.4.0 diff §6).

A counter is the NVM object ``(3 << 12) | (client_id << 8) | (counterId & 0xFF)`` (a COUNTER-type
key id of the connection's client) with no data; its u32 value lives in label bytes 0..3 in the
server's byte order (little endian here). Counters therefore take NVM slots and show up in NVM
LIST. Writes use the store's add-with-reclaim and DESTROY is an unchecked back-end destroy, as in
the C server: counter operations ignore the NVM policy flags.

Requests shorter than 8 bytes get BADARGS in a normal 8-byte response (longer ones are accepted);
INCREMENT saturates at 0xFFFFFFFF without writing; an unknown action echoes the request
(Service.unknown, from the wire table).
"""

from __future__ import annotations

import struct
from typing import Any

from firmware.wire import CounterAction, Group, KeyIdType, WhError
from firmware.wire.constants import make_keyid

from ..context import RequestContext
from ..nvm_backend import Metadata, NvmBackend
from ..server import Service

VALUE = struct.Struct("<I")  # label bytes 0..3, server byte order
U32_MAX = 0xFFFF_FFFF


def counter_nvm_id(client_id: int, counter_id: int) -> int:
    """NVM id of a client's counter (WH_MAKE_KEYID(COUNTER, client_id, counterId))."""
    return make_keyid(KeyIdType.COUNTER, client_id, counter_id)


def counter_value(meta: Metadata) -> int:
    return VALUE.unpack_from(meta.label)[0]


def with_value(meta: Metadata, value: int) -> Metadata:
    """The same metadata with label bytes 0..3 replaced (the rest of the label is kept)."""
    return meta.replace(label=VALUE.pack(value) + meta.label[VALUE.size :])


class CounterService(Service):
    group = Group.COUNTER
    name = "counter"

    def table(self) -> dict[int, Any]:
        return {
            CounterAction.INIT: self.init,
            CounterAction.INCREMENT: self.increment,
            CounterAction.READ: self.read,
            CounterAction.DESTROY: self.destroy,
        }

    # helpers -----------------------------------------------------------------------------------

    def _spec(self, action: int) -> Any:
        return self.server.wire.message(Group.COUNTER, action)

    def _request(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        """The decoded request (extra bytes ignored), or None when it is too short."""
        spec = self._spec(action)
        if len(payload) < spec.request.size:
            return None
        return spec.request.unpack_prefix(ctx.order, payload)[0]

    def _reply(self, ctx: RequestContext, action: int, rc: int, value: int = 0) -> bytes:
        fields: dict[str, int] = {"rc": int(rc)}
        if action != CounterAction.DESTROY:
            fields["counter"] = value if rc == WhError.OK else 0
        return self._spec(action).response.pack(ctx.order, **fields)

    def _store(self, ctx: RequestContext) -> NvmBackend:
        ctx.spend(ctx.config.costs["nvm_op"])
        return self.server.nvm

    def _id(self, ctx: RequestContext, counter_id: int) -> int:
        return counter_nvm_id(ctx.conn.client_id, counter_id)

    # handlers ----------------------------------------------------------------------------------

    def init(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, CounterAction.INIT, payload)
        if req is None:
            return self._reply(ctx, CounterAction.INIT, WhError.BADARGS)
        meta = with_value(Metadata(id=self._id(ctx, req.counterId)), req.counter)
        rc = self._store(ctx).add(meta, b"", reclaim=True)
        return self._reply(ctx, CounterAction.INIT, rc, req.counter)

    def increment(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, CounterAction.INCREMENT, payload)
        if req is None:
            return self._reply(ctx, CounterAction.INCREMENT, WhError.BADARGS)
        nvm = self._store(ctx)
        meta = nvm.metadata(self._id(ctx, req.counterId))
        if meta is None:
            return self._reply(ctx, CounterAction.INCREMENT, WhError.NOTFOUND)
        value = (counter_value(meta) + 1) & U32_MAX
        if value == 0:
            return self._reply(ctx, CounterAction.INCREMENT, WhError.OK, U32_MAX)  # saturated, not written
        # rewrite the object as found (access, flags, rest of the label kept), data length 0
        rc = nvm.add(with_value(meta, value), b"", reclaim=True)
        return self._reply(ctx, CounterAction.INCREMENT, rc, value)

    def read(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, CounterAction.READ, payload)
        if req is None:
            return self._reply(ctx, CounterAction.READ, WhError.BADARGS)
        meta = self._store(ctx).metadata(self._id(ctx, req.counterId))
        if meta is None:
            return self._reply(ctx, CounterAction.READ, WhError.NOTFOUND)
        return self._reply(ctx, CounterAction.READ, WhError.OK, counter_value(meta))

    def destroy(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, CounterAction.DESTROY, payload)
        if req is None:
            return self._reply(ctx, CounterAction.DESTROY, WhError.BADARGS)
        # unchecked: a missing counter is rc 0, and v1.4.0 compacts the store anyway (diff §5.4)
        rc = self._store(ctx).destroy([self._id(ctx, req.counterId)])
        return self._reply(ctx, CounterAction.DESTROY, rc)
