"""NVM group (0x0200): the client's object store API (core spec §4, v1.4.0 diff §5).

Behaviour of the v1.4.0 C server, kept exactly:
- a request whose size differs from its struct gets rc ABORTED in a normal-size response
  (ADDOBJECT: only a payload shorter than 32 bytes);
- ADDOBJECT with a payload != 32 + len answers rc 0 and stores nothing;
- policy (NONMODIFIABLE / NONEXPORTABLE / NONDESTROYABLE) is the central one of
  :mod:`firmware.hsm.nvm_backend`; there is no TRUSTED flag at v1.4.0;
- LIST ignores its access/flags filters; DESTROYOBJECTS with any absent id is NOTFOUND and
  destroys nothing; READ checks in the order size, NOTFOUND, offset (BADARGS), clamp, policy,
  and answers only the rc on any error;
- DMA variants move metadata/data through the DMA allow list; a refused transfer's code is the rc.
Unknown NVM actions get an empty response (Service.unknown, from the wire table).
"""

from __future__ import annotations

from typing import Any

from firmware.wire import Group, NvmAction, WhError
from firmware.wire.constants import nvm_max_read_len

from ..context import DmaError, RequestContext
from ..nvm_backend import METADATA_SIZE, Metadata, NvmBackend, NvmOp, add_checked, check_policy, destroy_checked
from ..server import Service


def dma_read(ctx: RequestContext, addr: int, size: int) -> bytes:
    """ctx.dma_read, except that a server without a HAL (no DMA engine) refuses any transfer."""
    if ctx.hal is None and size:
        raise DmaError(addr, size)
    return ctx.dma_read(addr, size)


def dma_write(ctx: RequestContext, addr: int, data: bytes) -> None:
    if ctx.hal is None and data:
        raise DmaError(addr, len(data))
    ctx.dma_write(addr, data)


class NvmService(Service):
    group = Group.NVM
    name = "nvm"

    def table(self) -> dict[int, Any]:
        return {
            NvmAction.INIT: self.init,
            NvmAction.CLEANUP: self.cleanup,
            NvmAction.GETAVAILABLE: self.get_available,
            NvmAction.ADDOBJECT: self.add_object,
            NvmAction.LIST: self.list,
            NvmAction.GETMETADATA: self.get_metadata,
            NvmAction.DESTROYOBJECTS: self.destroy_objects,
            NvmAction.READ: self.read,
            NvmAction.ADDOBJECTDMA: self.add_object_dma,
            NvmAction.READDMA: self.read_dma,
        }

    # helpers -----------------------------------------------------------------------------------

    def _spec(self, action: int) -> Any:
        return self.server.wire.message(Group.NVM, action)

    def _store(self, ctx: RequestContext) -> NvmBackend:
        """The object store, charging one store operation."""
        ctx.spend(ctx.config.costs["nvm_op"])
        return self.server.nvm

    def _request(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        """The decoded request, or None when its size is not exactly the struct's."""
        spec = self._spec(action)
        if len(payload) != spec.request.size:
            return None
        return spec.request.unpack(ctx.order, payload)

    def _rc(self, ctx: RequestContext, action: int, rc: int) -> bytes:
        return self._spec(action).response.pack(ctx.order, rc=int(rc))

    # handlers ----------------------------------------------------------------------------------

    def init(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, NvmAction.INIT, payload)
        if req is None:
            return self._rc(ctx, NvmAction.INIT, WhError.ABORTED)
        return self._spec(NvmAction.INIT).response.pack(
            ctx.order, rc=0, servernvm_id=ctx.config.server_id, clientnvm_id=req.clientnvm_id
        )

    def cleanup(self, ctx: RequestContext, payload: bytes) -> bytes:
        # a no-op: NVM contents are not erased (core §4.4)
        return self._rc(ctx, NvmAction.CLEANUP, WhError.ABORTED if payload else WhError.OK)

    def get_available(self, ctx: RequestContext, payload: bytes) -> bytes:
        if payload:
            return self._rc(ctx, NvmAction.GETAVAILABLE, WhError.ABORTED)
        avail_size, reclaim_size, avail_objects, reclaim_objects = self._store(ctx).available()
        return self._spec(NvmAction.GETAVAILABLE).response.pack(
            ctx.order,
            rc=0,
            avail_size=avail_size,
            reclaim_size=reclaim_size,
            avail_objects=avail_objects,
            reclaim_objects=reclaim_objects,
        )

    def add_object(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(NvmAction.ADDOBJECT)
        if len(payload) < spec.request.size:
            return self._rc(ctx, NvmAction.ADDOBJECT, WhError.ABORTED)
        req = spec.request.unpack(ctx.order, payload)
        if len(payload) != spec.request.size + req.len:
            return self._rc(ctx, NvmAction.ADDOBJECT, WhError.OK)  # C quirk: success, nothing stored
        meta = Metadata(id=req.id, access=req.access, flags=req.flags, len=req.len, label=req.label)
        return self._rc(ctx, NvmAction.ADDOBJECT, add_checked(self._store(ctx), meta, req.data))

    def list(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(NvmAction.LIST)
        req = self._request(ctx, NvmAction.LIST, payload)
        if req is None:
            return self._rc(ctx, NvmAction.LIST, WhError.ABORTED)
        count, next_id = list_step(self._store(ctx).list_ids(), req.startId)
        return spec.response.pack(ctx.order, rc=0, count=count, id=next_id)

    def get_metadata(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(NvmAction.GETMETADATA)
        req = self._request(ctx, NvmAction.GETMETADATA, payload)
        if req is None:
            return self._rc(ctx, NvmAction.GETMETADATA, WhError.ABORTED)
        meta = self._store(ctx).metadata(req.id)
        if meta is None:
            return self._rc(ctx, NvmAction.GETMETADATA, WhError.NOTFOUND)  # other fields zero
        return spec.response.pack(
            ctx.order, rc=0, id=meta.id, access=meta.access, flags=meta.flags, len=meta.len, label=meta.label
        )

    def destroy_objects(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, NvmAction.DESTROYOBJECTS, payload)
        if req is None or req.list_count > len(req.list):
            return self._rc(ctx, NvmAction.DESTROYOBJECTS, WhError.ABORTED)
        rc = destroy_checked(self._store(ctx), list(req.list[: req.list_count]))
        return self._rc(ctx, NvmAction.DESTROYOBJECTS, rc)

    def read(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(NvmAction.READ)
        req = self._request(ctx, NvmAction.READ, payload)
        if req is None or req.data_len > nvm_max_read_len(ctx.config.comm_data_len):
            return self._rc(ctx, NvmAction.READ, WhError.ABORTED)
        rc, data = self._read_clamped(ctx, req.id, req.offset, req.data_len)
        if rc != WhError.OK:
            return self._rc(ctx, NvmAction.READ, rc)  # any error: the 4-byte rc only
        return spec.response.pack(ctx.order, rc=0, data=data)

    def _read_clamped(self, ctx: RequestContext, nvm_id: int, offset: int, length: int) -> tuple[int, bytes]:
        """NOTFOUND, then offset >= len -> BADARGS, then clamp, then policy (a bad offset wins)."""
        nvm = self._store(ctx)
        meta = nvm.metadata(nvm_id)
        if meta is None:
            return WhError.NOTFOUND, b""
        if offset >= meta.len:
            return WhError.BADARGS, b""
        length = min(length, meta.len - offset)
        rc = check_policy(nvm, NvmOp.READ, nvm_id)
        if rc != WhError.OK:
            return rc, b""
        found = nvm.get(nvm_id)
        if found is None:  # a store cannot lose an object between two calls; be safe anyway
            return WhError.NOTFOUND, b""
        return WhError.OK, found[1][offset : offset + length]

    def add_object_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, NvmAction.ADDOBJECTDMA, payload)
        if req is None:
            return self._rc(ctx, NvmAction.ADDOBJECTDMA, WhError.ABORTED)
        # v1.4.0 does not check the metadata address for 0 (diff §5.5). The C server uses the
        # client's struct as is; on a server of the client's byte order that is client order.
        try:
            raw = dma_read(ctx, req.metadata_hostaddr, METADATA_SIZE)
            data = dma_read(ctx, req.data_hostaddr, req.data_len)
        except DmaError as e:
            return self._rc(ctx, NvmAction.ADDOBJECTDMA, e.rc)
        meta = Metadata.unpack(raw, ctx.order).replace(len=req.data_len)
        return self._rc(ctx, NvmAction.ADDOBJECTDMA, add_checked(self._store(ctx), meta, data))

    def read_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._request(ctx, NvmAction.READDMA, payload)
        if req is None:
            return self._rc(ctx, NvmAction.READDMA, WhError.ABORTED)
        # the client buffer is translated (checked) at the full requested length first, as in C
        try:
            if ctx.hal is None:
                raise DmaError(req.data_hostaddr, req.data_len)
            ctx.dma_check(req.data_hostaddr, req.data_len, write=True)
        except DmaError as e:
            return self._rc(ctx, NvmAction.READDMA, e.rc)
        # no MAX_READ_LEN check on the DMA path; the clamped bytes go to client memory
        rc, data = self._read_clamped(ctx, req.id, req.offset, req.data_len)
        if rc == WhError.OK:
            try:
                dma_write(ctx, req.data_hostaddr, data)
            except DmaError as e:
                rc = e.rc
        return self._rc(ctx, NvmAction.READDMA, rc)


def list_step(ids: list[int], start_id: int) -> tuple[int, int]:
    """LIST over live ids in directory order: ``(count, id)`` (core §4.4).

    start 0 -> the first object and the total count; start X -> the object after X and the count
    from it to the end; X last or absent -> (0, 0). As in C, an object with id 0 is not counted
    when it is the one returned for start 0.
    """
    if not ids:
        return 0, 0
    if start_id == 0:
        index = 0
    elif start_id in ids:
        index = ids.index(start_id) + 1
        if index >= len(ids):
            return 0, 0
    else:
        return 0, 0
    first = 1 if (start_id != 0 or ids[index] != 0) else 0
    return first + len(ids) - index - 1, ids[index]
