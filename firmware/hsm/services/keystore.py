"""KEY group (0x0300): key cache, NVM commit/erase, revoke, DMA variants and key/data wrap.

Semantics of wolfHSM v1.4.0 (core spec §5.4-§5.6, v1.4.0 diff §7-§8); the key logic itself is in
:mod:`firmware.hsm.keystore`, this module only decodes requests and encodes responses. Unknown
actions, including HEAD's 13-16 (export-public, cache-random, wrap-export), echo the request.

v1.4.0 quirks reproduced here:
* CACHE validates no request size (missing bytes read as zero); the response id is 0 on error.
* EXPORT_DMA answers `len` = the client's buffer capacity, not the key length.
* Key wrap: no trusted-KEK requirement, no AAD; DATAWRAP/DATAUNWRAP check no usage flag;
  `cipherType` stays 0 in the response when the early size checks fail; blobs shorter than their
  minimum give BUFFER_SIZE (unwrap-export, data-unwrap) or BADARGS (unwrap-cache).
* A request longer than the server's COMM_DATA_LEN makes a wrap handler return without a
  response length: the request is echoed.

Deliberate choice: the metadata inside key blobs is kept in the firmware's byte order
(:data:`~firmware.hsm.keystore.SERVER_ORDER`) and translated from/to the client's order at the
message boundary. The C v1.4.0 server copies it raw, which is the same bytes for a client of the
server's byte order and unusable for one of the other order.
"""

from __future__ import annotations

from typing import Any

from firmware.wire import Group, KeyAction, KeyIdType, NvmFlags, WhError
from firmware.wire.constants import (
    KEYWRAP_AES_GCM_HEADER_SIZE,
    NVM_LABEL_LEN,
    NVM_METADATA_SIZE,
    keyid_id,
    keyid_type,
    keyid_user,
)

from ..context import Connection, DmaError, RequestContext
from ..keystore import (
    SERVER_ORDER,
    KeyStore,
    KeystoreError,
    decode_metadata,
    encode_metadata,
    make_metadata,
)
from ..server import ECHO, Service

AES_GCM = 3  # wolfCrypt WC_CIPHER_AES_GCM, the only cipherType the key-wrap messages accept
_ID_REQUEST_SIZE = 8  # EVICT/EXPORT/COMMIT/ERASE/REVOKE requests: u16 id + pad[6]
_KEY_BLOB_MIN = KEYWRAP_AES_GCM_HEADER_SIZE + NVM_METADATA_SIZE  # 60: header + metadata, no key bytes
_CHARGED = frozenset(a for a in KeyAction if a <= KeyAction.DATAUNWRAP)


def _label(label: bytes, label_sz: int) -> bytes:
    """The first `min(labelSz, 24)` label bytes, the rest zero (core §5.2)."""
    n = min(label_sz, NVM_LABEL_LEN)
    return bytes(label[:n]).ljust(NVM_LABEL_LEN, b"\0")


def _sized(data: bytes, size: int, limit: int) -> bytes:
    """`size` bytes of `data`, zero-filled where the request was shorter (the C server reads stale
    buffer bytes there); never more than `limit` bytes, so an absurd size cannot allocate memory:
    callers' own size checks then refuse it."""
    out = bytes(data[:size])
    want = min(size, limit)
    return out + bytes(want - len(out)) if len(out) < want else out


class KeystoreService(Service):
    group = Group.KEY
    name = "keystore"

    def table(self) -> dict[int, Any]:
        return {
            KeyAction.CACHE: self.cache,
            KeyAction.EVICT: self.evict,
            KeyAction.EXPORT: self.export,
            KeyAction.COMMIT: self.commit,
            KeyAction.ERASE: self.erase,
            KeyAction.REVOKE: self.revoke,
            KeyAction.CACHE_DMA: self.cache_dma,
            KeyAction.EXPORT_DMA: self.export_dma,
            KeyAction.KEYWRAP: self.key_wrap,
            KeyAction.KEYUNWRAPEXPORT: self.key_unwrap_export,
            KeyAction.KEYUNWRAPCACHE: self.key_unwrap_cache,
            KeyAction.DATAWRAP: self.data_wrap,
            KeyAction.DATAUNWRAP: self.data_unwrap,
        }

    def handle(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        if action in _CHARGED:
            ctx.spend(ctx.config.costs["key_op"])
        return super().handle(ctx, action, payload)

    def reset_connection(self, conn: Connection) -> None:
        KeyStore.drop_connection(conn)

    # ---------------------------------------------------------------- helpers

    @property
    def ks(self) -> KeyStore:
        return KeyStore.of(self.server)

    def _msg(self, action: int) -> Any:
        return self.server.wire.message(Group.KEY, action)

    def _id_request(self, ctx: RequestContext, spec: Any, payload: bytes) -> int:
        """Decode an id-only request; returns the server key id. Short request: BADARGS."""
        if len(payload) < _ID_REQUEST_SIZE:
            raise KeystoreError(WhError.BADARGS, "short request")
        return self.ks.server_id(ctx, spec.request.unpack_lenient(ctx.order, payload).id)

    def _wrap_request(self, ctx: RequestContext, spec: Any, payload: bytes, size_field: str) -> Any:
        """Checks every wrap handler makes before it copies cipherType into its response:
        a request shorter than its struct -> BADARGS; an announced size beyond the request
        buffer -> BUFFER_SIZE."""
        head = spec.request.size
        if len(payload) < head:
            raise KeystoreError(WhError.BADARGS, "short request")
        req = spec.request.unpack_lenient(ctx.order, payload)
        if getattr(req, size_field) > ctx.config.comm_data_len - head:
            raise KeystoreError(WhError.BUFFER_SIZE, "exceeds the message buffer")
        return req

    @staticmethod
    def _dma_read(ctx: RequestContext, addr: int, size: int) -> bytes:
        """ctx.dma_read; a server without a HAL (no DMA engine) refuses every transfer, as NVM does."""
        if ctx.hal is None and size:
            raise DmaError(addr, size)
        return ctx.dma_read(addr, size)

    @staticmethod
    def _dma_write(ctx: RequestContext, addr: int, data: bytes) -> None:
        if ctx.hal is None and data:
            raise DmaError(addr, len(data))
        ctx.dma_write(addr, data)

    def _check_user(self, ctx: RequestContext, key_id: int) -> None:
        """An unwrapped key must belong to the requester or be global (ACCESS otherwise)."""
        user = keyid_user(key_id)
        if user not in (0, ctx.conn.client_id & 0x0F):
            raise KeystoreError(WhError.ACCESS, f"wrapped key of user {user}")

    # ---------------------------------------------------------------- cache / evict / export

    def cache(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._msg(KeyAction.CACHE)
        req = spec.request.unpack_lenient(ctx.order, payload)  # v1.4.0 validates no size
        rc, client_id = WhError.OK, 0
        try:
            key = _sized(req.key, req.sz, ctx.config.keycache_bigbufsize + 1)
            meta = make_metadata(self.ks.server_id(ctx, req.id), req.flags, len(key), _label(req.label, req.labelSz))
            client_id = self.ks.client_id(self.ks.cache(ctx, meta, key))
        except KeystoreError as e:
            rc = e.rc
        return spec.response.pack(ctx.order, rc=rc, id=client_id if rc == WhError.OK else 0)

    def _id_op(self, ctx: RequestContext, action: int, payload: bytes, op: Any, **extra: int) -> bytes:
        """The shape EVICT, COMMIT, ERASE and REVOKE share: a key id in, an rc out."""
        spec = self._msg(action)
        try:
            op(ctx, self._id_request(ctx, spec, payload))
            rc = WhError.OK
        except KeystoreError as e:
            rc = e.rc
        return spec.response.pack(ctx.order, rc=rc, **extra)

    def evict(self, ctx: RequestContext, payload: bytes) -> bytes:
        return self._id_op(ctx, KeyAction.EVICT, payload, self.ks.evict, ok=0)

    def export(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._msg(KeyAction.EXPORT)
        try:
            key_id = self._id_request(ctx, spec, payload)
            meta, key = self.ks.export(ctx, key_id)
            if len(key) > ctx.config.comm_data_len - spec.response.size:
                raise KeystoreError(WhError.NOSPACE, "key larger than the response")
        except KeystoreError as e:
            return spec.response.pack(ctx.order, rc=e.rc, len=0)
        return spec.response.pack(ctx.order, rc=WhError.OK, len=len(key), label=meta.label, key=key)

    def commit(self, ctx: RequestContext, payload: bytes) -> bytes:
        return self._id_op(ctx, KeyAction.COMMIT, payload, self.ks.commit, ok=0)

    def erase(self, ctx: RequestContext, payload: bytes) -> bytes:
        return self._id_op(ctx, KeyAction.ERASE, payload, self.ks.erase, ok=0)

    def revoke(self, ctx: RequestContext, payload: bytes) -> bytes:
        return self._id_op(ctx, KeyAction.REVOKE, payload, self.ks.revoke)

    # ---------------------------------------------------------------- DMA variants

    def cache_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._msg(KeyAction.CACHE_DMA)
        req = spec.request.unpack_lenient(ctx.order, payload)
        rc, client_id, bad = WhError.OK, 0, {"addr": 0, "sz": 0}
        try:
            if len(payload) < spec.request.size:
                raise KeystoreError(WhError.BADARGS, "short request")
            key_id = self.ks.server_id(ctx, req.id)
            size = req.key.sz
            if size > ctx.config.keycache_bigbufsize:
                raise KeystoreError(WhError.BADARGS, f"key of {size} bytes fits no cache slot")
            try:
                key = self._dma_read(ctx, req.key.addr, size)
            except DmaError as e:
                bad = {"addr": req.key.addr, "sz": req.key.sz}
                raise KeystoreError(e.rc, str(e)) from None
            meta = make_metadata(key_id, req.flags, len(key), _label(req.label, req.labelSz))
            client_id = self.ks.client_id(self.ks.cache(ctx, meta, key))
        except KeystoreError as e:
            rc, client_id = e.rc, 0
        return spec.response.pack(ctx.order, dmaAddrStatus={"badAddr": bad}, rc=rc, id=client_id)

    def export_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._msg(KeyAction.EXPORT_DMA)
        req = spec.request.unpack_lenient(ctx.order, payload)
        bad = {"addr": 0, "sz": 0}
        try:
            if len(payload) < spec.request.size:
                raise KeystoreError(WhError.BADARGS, "short request")
            meta, key = self.ks.export(ctx, self.ks.server_id(ctx, req.id), freshen=True)
            if len(key) > req.key.sz:
                raise KeystoreError(WhError.NOSPACE, "client buffer smaller than the key")
            try:
                self._dma_write(ctx, req.key.addr, key)
            except DmaError as e:
                bad = {"addr": req.key.addr, "sz": req.key.sz}
                raise KeystoreError(e.rc, str(e)) from None
        except KeystoreError as e:
            return spec.response.pack(ctx.order, dmaAddrStatus={"badAddr": bad}, rc=e.rc, len=0)
        # v1.4.0 answers the client's capacity, not the key length (diff §2.5)
        return spec.response.pack(
            ctx.order, dmaAddrStatus={"badAddr": bad}, rc=WhError.OK, len=req.key.sz, label=meta.label
        )

    # ---------------------------------------------------------------- key wrap

    def key_wrap(self, ctx: RequestContext, payload: bytes) -> Any:
        spec = self._msg(KeyAction.KEYWRAP)
        cfg = ctx.config
        if len(payload) > cfg.comm_data_len:
            return ECHO
        cipher, blob = 0, b""
        try:
            if len(payload) < spec.request.size:
                raise KeystoreError(WhError.BADARGS, "short request")
            req = spec.request.unpack_lenient(ctx.order, payload)
            if req.keySz > cfg.keywrap_max_key_size:
                raise KeystoreError(WhError.BADARGS, "key too large to wrap")
            if NVM_METADATA_SIZE + req.keySz > cfg.comm_data_len - spec.request.size or (
                spec.response.size + _KEY_BLOB_MIN + req.keySz > cfg.comm_data_len
            ):
                raise KeystoreError(WhError.BUFFER_SIZE, "exceeds the message buffer")
            cipher = req.cipherType
            if cipher != AES_GCM:
                raise KeystoreError(WhError.BADARGS, f"cipherType {cipher}")
            meta = decode_metadata(ctx.order, req.metadata)
            if keyid_type(meta.id) != KeyIdType.WRAPPED:
                raise KeystoreError(WhError.BADARGS, "metadata id is not a wrapped key id")
            key = _sized(req.key, req.keySz, req.keySz)
            kek = self.ks.kek(ctx, self.ks.server_id(ctx, req.serverKeyId), usage=NvmFlags.USAGE_WRAP)
            blob = self.ks.wrap(ctx, kek, encode_metadata(SERVER_ORDER, meta) + key)
            rc = WhError.OK
        except KeystoreError as e:
            rc, blob = e.rc, b""
        return spec.response.pack(ctx.order, rc=rc, cipherType=cipher, wrappedKey=blob)

    def _open_key_blob(self, ctx: RequestContext, req: Any, short_rc: int) -> tuple[Any, bytes]:
        """Unwrap a key blob under a USAGE_WRAP KEK: (metadata, key bytes)."""
        if req.wrappedKeySz < _KEY_BLOB_MIN:
            raise KeystoreError(short_rc, "blob shorter than header + metadata")
        kek = self.ks.kek(ctx, self.ks.server_id(ctx, req.serverKeyId), usage=NvmFlags.USAGE_WRAP)
        plain = self.ks.unwrap(ctx, kek, _sized(req.wrappedKey, req.wrappedKeySz, req.wrappedKeySz))
        return decode_metadata(SERVER_ORDER, plain[:NVM_METADATA_SIZE]), plain[NVM_METADATA_SIZE:]

    def key_unwrap_export(self, ctx: RequestContext, payload: bytes) -> Any:
        spec = self._msg(KeyAction.KEYUNWRAPEXPORT)
        if len(payload) > ctx.config.comm_data_len:
            return ECHO
        cipher = 0
        try:
            req = self._wrap_request(ctx, spec, payload, "wrappedKeySz")
            cipher = req.cipherType
            if cipher != AES_GCM:
                raise KeystoreError(WhError.BADARGS, f"cipherType {cipher}")
            # v1.4.0: a blob shorter than 60 bytes underflows keySz -> BUFFER_SIZE (diff §8)
            meta, key = self._open_key_blob(ctx, req, WhError.BUFFER_SIZE)
            if keyid_id(meta.id) == 0:
                raise KeystoreError(WhError.BADARGS, "erased key id")
            if keyid_type(meta.id) != KeyIdType.WRAPPED:
                raise KeystoreError(WhError.ABORTED, "not a wrapped key")
            if meta.flags & NvmFlags.NONEXPORTABLE:
                raise KeystoreError(WhError.ACCESS, "non-exportable key")
            self._check_user(ctx, meta.id)
        except KeystoreError as e:
            # always 8 + 32 + keySz: 40 bytes with zero metadata on error
            return spec.response.pack(ctx.order, rc=e.rc, cipherType=cipher, keySz=0)
        return spec.response.pack(
            ctx.order, rc=WhError.OK, cipherType=cipher, metadata=encode_metadata(ctx.order, meta), key=key
        )

    def key_unwrap_cache(self, ctx: RequestContext, payload: bytes) -> Any:
        spec = self._msg(KeyAction.KEYUNWRAPCACHE)
        if len(payload) > ctx.config.comm_data_len:
            return ECHO
        cipher, client_id = 0, 0
        try:
            req = self._wrap_request(ctx, spec, payload, "wrappedKeySz")
            cipher = req.cipherType
            if cipher != AES_GCM:
                raise KeystoreError(WhError.BADARGS, f"cipherType {cipher}")
            meta, key = self._open_key_blob(ctx, req, WhError.BADARGS)
            if meta.len != len(key) or keyid_id(meta.id) == 0:
                raise KeystoreError(WhError.BADARGS, "bad unwrapped metadata")
            if keyid_type(meta.id) != KeyIdType.WRAPPED:
                raise KeystoreError(WhError.ABORTED, "not a wrapped key")
            self._check_user(ctx, meta.id)
            if self.ks.cached(ctx, meta.id) is not None:
                raise KeystoreError(WhError.ABORTED, "key id already cached")
            client_id = self.ks.client_id(self.ks.cache(ctx, meta, key))
            rc = WhError.OK
        except KeystoreError as e:
            rc, client_id = e.rc, 0
        return spec.response.pack(ctx.order, rc=rc, keyId=client_id, cipherType=cipher)

    # ---------------------------------------------------------------- data wrap

    def data_wrap(self, ctx: RequestContext, payload: bytes) -> Any:
        spec = self._msg(KeyAction.DATAWRAP)
        cfg = ctx.config
        if len(payload) > cfg.comm_data_len:
            return ECHO
        cipher, blob = 0, b""
        try:
            if len(payload) < spec.request.size:
                raise KeystoreError(WhError.BADARGS, "short request")
            if spec.request.unpack_lenient(ctx.order, payload).dataSz > cfg.keywrap_max_data_size:
                raise KeystoreError(WhError.BADARGS, "data too large to wrap")
            req = self._wrap_request(ctx, spec, payload, "dataSz")
            if spec.response.size + KEYWRAP_AES_GCM_HEADER_SIZE + req.dataSz > cfg.comm_data_len:
                raise KeystoreError(WhError.BUFFER_SIZE, "exceeds the message buffer")
            cipher = req.cipherType
            if cipher != AES_GCM:
                raise KeystoreError(WhError.BADARGS, f"cipherType {cipher}")
            kek = self.ks.kek(ctx, self.ks.server_id(ctx, req.serverKeyId))  # v1.4.0: no usage check
            blob = self.ks.wrap(ctx, kek, _sized(req.data, req.dataSz, req.dataSz))
            rc = WhError.OK
        except KeystoreError as e:
            rc, blob = e.rc, b""
        return spec.response.pack(ctx.order, rc=rc, cipherType=cipher, wrappedData=blob)

    def data_unwrap(self, ctx: RequestContext, payload: bytes) -> Any:
        spec = self._msg(KeyAction.DATAUNWRAP)
        if len(payload) > ctx.config.comm_data_len:
            return ECHO
        cipher, data = 0, b""
        try:
            req = self._wrap_request(ctx, spec, payload, "wrappedDataSz")
            cipher = req.cipherType
            if cipher != AES_GCM:
                raise KeystoreError(WhError.BADARGS, f"cipherType {cipher}")
            if req.wrappedDataSz < KEYWRAP_AES_GCM_HEADER_SIZE:
                raise KeystoreError(WhError.BUFFER_SIZE, "blob shorter than its header")  # v1.4.0 underflow
            kek = self.ks.kek(ctx, self.ks.server_id(ctx, req.serverKeyId))  # v1.4.0: no usage check
            data = self.ks.unwrap(ctx, kek, _sized(req.wrappedData, req.wrappedDataSz, req.wrappedDataSz))
            rc = WhError.OK
        except KeystoreError as e:
            rc, data = e.rc, b""
        return spec.response.pack(ctx.order, rc=rc, cipherType=cipher, data=data)
