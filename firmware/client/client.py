"""The friendly client: wolfHSM's client API in Python, on top of the raw wire codecs.

Users call methods with Python values and get Python values back; packing is done by the
declarative codecs of :mod:`firmware.wire`, and wolfHSM return codes become exceptions
(:mod:`firmware.client.errors`).

Like wolfHSM's C client, every operation exists three ways:

* ``op(...)`` -- send the request and wait for the response (blocking);
* ``send_op(...)`` -- send the request only;
* ``recv_op(timeout=...)`` -- take its response: ``timeout=0`` polls once and raises
  :class:`~firmware.client.errors.NotReady` if the response is not there yet (the request stays
  outstanding, call again); a timeout raises :class:`~firmware.client.errors.HsmTimeout`.

Only one request may be outstanding at a time (``send_*`` while another is pending raises
:class:`~firmware.client.errors.RequestPending`). Sequence numbers follow the C client: the first
request of a connection has seq 1, each send adds 1, 16-bit wrap. A response is accepted only with
the request's magic, kind and seq, as the v1.4.0 client requires (otherwise ``BadResponse``).

A :class:`Client` is not thread-safe: use one per thread (the server serves several at once).

Example::

    from firmware.client import Client, NotFound

    with Client.connect("tcp://127.0.0.1:23456", client_id=1) as hsm:
        print(hsm.info().version)
        hsm.nvm_add_object(0x14, b"calibration", label=b"cal")
        assert hsm.nvm_read(0x14) == b"calibration"
        key_id = hsm.key_cache(bytes(16), label=b"k1")
        try:
            hsm.counter_read(3)
        except NotFound:
            hsm.counter_init(3, 0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from firmware.wire import (
    ByteOrder,
    CommAction,
    CounterAction,
    CustomCbType,
    Group,
    Header,
    KeyAction,
    NvmAction,
    SizeCheck,
    WhError,
    WireError,
    encode_packet,
    get_wire,
    make_kind,
    next_seq,
)
from firmware.wire.constants import (
    COMM_HEADER_SIZE,
    COMM_MAGIC_NATIVE,
    CUSTOMCB_LEN,
    NVM_LABEL_LEN,
    NVM_MAX_DESTROY_OBJECTS_COUNT,
)
from firmware.wire.header import COMM_HEADER

from .crypto import CryptoMixin
from .errors import BadArgs, BadResponse, HsmError, HsmTimeout, HsmTransportError, NotReady, RequestPending, error_for
from .transport import Transport, open_transport
from .types import (
    CommInitResult,
    CustomResult,
    KeyExport,
    KeyExportDma,
    NvmAvailable,
    NvmInitResult,
    NvmListEntry,
    NvmMetadata,
    ServerInfo,
)

DEFAULT_COMM_DATA_LEN = 5120  # WOLFHSM_CFG_COMM_DATA_LEN of the v1.4.0 test client
LIBRARY_COMM_DATA_LEN = 1280  # wolfHSM's default; a read this small never needs the server's INFO
NVM_METADATA_SIZE = 32
KEY_EXPORT_HEADER = 36
KEYID_GLOBAL = 0x0100  # client key-id flag: a global key (shared by all clients)
KEYID_WRAPPED = 0x0200  # client key-id flag: a wrapped key

_DEFAULT: Any = object()  # "use the client's timeout"


@dataclass
class _Pending:
    op: str
    kind: int
    seq: int
    spec: Any
    ctx: Any


def _order(order: ByteOrder | str) -> ByteOrder:
    if isinstance(order, ByteOrder):
        return order
    text = str(order).lower()
    if text in ("little", "le", "<"):
        return ByteOrder.LITTLE
    if text in ("big", "be", ">"):
        return ByteOrder.BIG
    raise BadArgs(f"byte order must be 'little' or 'big', not {order!r}", local=True)


def _label(label: bytes | str | None) -> bytes:
    if label is None:
        return b""
    raw = label.encode("utf-8") if isinstance(label, str) else bytes(label)
    if len(raw) > NVM_LABEL_LEN:
        raise BadArgs(f"label is {len(raw)} bytes, at most {NVM_LABEL_LEN} fit", local=True)
    return raw


def _data(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BadArgs(f"expected bytes, got {type(data).__name__}", local=True)
    return bytes(data)


def _u16(value: int, what: str, *, nonzero: bool = False) -> int:
    value = int(value)
    if not 0 <= value <= 0xFFFF or (nonzero and value == 0):
        low = 1 if nonzero else 0
        raise BadArgs(f"{what} must be {low}..0xffff, got {value}", local=True)
    return value


class Client(CryptoMixin):  # crypto / certificate calls: firmware/client/crypto.py
    """A wolfHSM client on one transport. Build it with :meth:`connect` (which also runs COMM INIT)
    or from a transport (then call :meth:`comm_init` yourself).

    ``order`` is the byte order the client claims in its packets ("little", as on x86, or "big",
    as on a PowerPC core); ``comm_data_len`` is the client's WOLFHSM_CFG_COMM_DATA_LEN (largest
    payload it sends); ``timeout`` is how long blocking calls wait for a response (None: for ever).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        client_id: int = 1,
        order: ByteOrder | str = ByteOrder.LITTLE,
        comm_data_len: int = DEFAULT_COMM_DATA_LEN,
        timeout: float | None = 10.0,
        wire: str | None = None,
    ) -> None:
        self.transport = transport
        self.client_id = int(client_id)
        self.order = _order(order)
        self.comm_data_len = int(comm_data_len)
        self.timeout = timeout
        self.wire = get_wire(wire)
        self.server_id: int | None = None
        self._seq = 0
        self._pending: _Pending | None = None
        self._server_info: ServerInfo | None = None
        self._magic = COMM_HEADER.pack(self.order, magic=COMM_MAGIC_NATIVE)[:2]

    # ------------------------------------------------------------------------------ lifecycle

    @classmethod
    def connect(
        cls,
        url: str,
        client_id: int = 1,
        *,
        tls: Any = None,
        order: ByteOrder | str = ByteOrder.LITTLE,
        timeout: float | None = 10.0,
        wait: float = 0.0,
        comm_data_len: int = DEFAULT_COMM_DATA_LEN,
        wire: str | None = None,
        init: bool = True,
    ) -> Client:
        """Connect to ``tcp://HOST:PORT``, ``tls://HOST:PORT``, ``unix:///PATH`` or ``shm://NAME`` and
        run COMM INIT with ``client_id``.

        ``tls``: a :class:`~firmware.client.transport.TlsConfig`, a mapping with ``cert``/``key``/
        ``ca`` file names, or an ``ssl.SSLContext``. ``wait``: seconds to keep retrying while the
        server is not there yet (refused connection, missing socket or shared-memory object).
        """
        transport = open_transport(url, tls=tls, timeout=10.0 if timeout is None else timeout, wait=wait)
        client = cls(
            transport, client_id=client_id, order=order, comm_data_len=comm_data_len, timeout=timeout, wire=wire
        )
        if init:
            try:
                client.comm_init()
            except BaseException:
                transport.close()
                raise
        return client

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self.transport.closed

    @property
    def pending(self) -> str | None:
        """Name of the operation whose response is outstanding, or None."""
        return self._pending.op if self._pending else None

    def close(self) -> None:
        """COMM CLOSE (when the link is usable) and close the transport. Safe to call twice."""
        if self.transport.closed:
            return
        try:
            if self._pending is None:
                self.comm_close()
        except (HsmTransportError, BadResponse, NotReady):
            pass
        finally:
            self.transport.close()

    # ------------------------------------------------------------------------------ raw exchange

    def _send(self, op: str, group: int, action: int, ctx: Any = None, **fields: Any) -> None:
        if self.transport.closed:
            raise HsmTransportError(f"{op}: the client is closed")
        if self._pending is not None:
            raise RequestPending(f"{op}: {self._pending.op} is still outstanding", local=True)
        spec = self.wire.message(group, action)
        try:
            payload = spec.request.pack(self.order, **fields)
        except WireError as e:
            raise BadArgs(f"{op}: {e}", local=True) from None
        if len(payload) > self.comm_data_len:
            raise BadArgs(f"{op}: {len(payload)}-byte request exceeds COMM_DATA_LEN {self.comm_data_len}", local=True)
        seq = next_seq(self._seq)
        kind = make_kind(group, action)
        self.transport.send(encode_packet(Header(kind=kind, seq=seq, order=self.order), payload))
        self._seq = seq
        self._pending = _Pending(op, kind, seq, spec, ctx)

    def _recv(self, op: str, timeout: Any) -> tuple[Any, Any]:
        p = self._pending
        if p is None:
            raise BadArgs(f"recv_{op}: no request is outstanding", local=True)
        if p.op != op:
            raise BadArgs(f"recv_{op}: the outstanding request is {p.op}", local=True)
        wait = self.timeout if timeout is _DEFAULT else timeout
        try:
            packet = self.transport.recv(wait)
        except HsmTransportError:
            self._pending = None
            raise
        if packet is None:
            if wait == 0:
                raise NotReady(f"{op}: no response yet", local=True)
            raise HsmTimeout(f"{op}: no response within {wait} s (the request is still outstanding)")
        self._pending = None
        return self._check(p, packet), p.ctx

    def _check(self, p: _Pending, packet: bytes) -> Any:
        if len(packet) < COMM_HEADER_SIZE:
            raise BadResponse(f"{p.op}: {len(packet)}-byte response packet", kind=p.kind)
        if packet[:2] != self._magic:
            raise BadResponse(f"{p.op}: response magic {packet[:2].hex()} (expected {self._magic.hex()})", kind=p.kind)
        _magic, kind, seq, _aux = COMM_HEADER.unpack(self.order, packet[:COMM_HEADER_SIZE])
        payload = packet[COMM_HEADER_SIZE:]
        if kind != p.kind:
            raise BadResponse(f"{p.op}: response kind 0x{kind:04x} to request 0x{p.kind:04x}", kind=p.kind)
        if seq != p.seq:
            raise BadResponse(f"{p.op}: response seq {seq} to request seq {p.seq}", kind=p.kind)
        msg = p.spec.response
        if len(payload) < msg.min_size:
            if not payload:
                why = "an empty response (the server does not implement this message group?)"
            else:
                why = f"a {len(payload)}-byte response (expected at least {msg.min_size})"
            raise BadResponse(f"{p.op}: the server sent {why}", kind=p.kind, payload=payload, empty=not payload)
        if p.spec.response_check is SizeCheck.EXACT and msg.max_size is not None and len(payload) != msg.max_size:
            raise BadResponse(
                f"{p.op}: {len(payload)}-byte response (expected {msg.max_size})", kind=p.kind, payload=payload
            )
        return msg.unpack_lenient(self.order, payload)

    @staticmethod
    def _rc(rc: int, what: str) -> None:
        if rc:
            raise error_for(rc, what)

    # ------------------------------------------------------------------------------ COMM

    def send_comm_init(self, client_id: int | None = None) -> None:
        cid = self.client_id if client_id is None else int(client_id)
        self._send("comm_init", Group.COMM, CommAction.INIT, cid, client_id=cid)

    def recv_comm_init(self, *, timeout: Any = _DEFAULT) -> CommInitResult:
        try:
            rec, cid = self._recv("comm_init", timeout)
        except BadResponse as e:
            if e.empty:
                raise BadResponse(
                    f"comm_init: the server refused client id {self.client_id}", kind=e.kind, empty=True
                ) from None
            raise
        self.client_id, self.server_id = rec.client_id, rec.server_id
        return CommInitResult(rec.client_id, rec.server_id)

    def comm_init(self, client_id: int | None = None, *, timeout: Any = _DEFAULT) -> CommInitResult:
        """COMM INIT: announce the client id; returns (client id as accepted, server id)."""
        self.send_comm_init(client_id)
        return self.recv_comm_init(timeout=timeout)

    def send_echo(self, data: bytes | str) -> None:
        self._send("echo", Group.COMM, CommAction.ECHO, data=_data(data))

    def recv_echo(self, *, timeout: Any = _DEFAULT) -> bytes:
        rec, _ = self._recv("echo", timeout)
        return rec.data

    def echo(self, data: bytes | str, *, timeout: Any = _DEFAULT) -> bytes:
        """COMM ECHO: the server sends ``data`` back."""
        self.send_echo(data)
        return self.recv_echo(timeout=timeout)

    def send_info(self) -> None:
        self._send("info", Group.COMM, CommAction.INFO)

    def recv_info(self, *, timeout: Any = _DEFAULT) -> ServerInfo:
        r, _ = self._recv("info", timeout)
        info = ServerInfo(
            comm_data_len=r.cfg_comm_data_len,
            nvm_object_count=r.cfg_nvm_object_count,
            keycache_count=r.cfg_server_keycache_count,
            keycache_bufsize=r.cfg_server_keycache_bufsize,
            keycache_bigcount=r.cfg_server_keycache_bigcount,
            keycache_bigbufsize=r.cfg_server_keycache_bigbufsize,
            customcb_count=r.cfg_server_customcb_count,
            dmaaddr_count=r.cfg_server_dmaaddr_count,
            debug_state=r.debug_state,
            boot_state=r.boot_state,
            lifecycle_state=r.lifecycle_state,
            nvm_state=r.nvm_state,
            version=r.version.split(b"\0", 1)[0].decode("ascii", "replace"),
            build=r.build.split(b"\0", 1)[0].decode("ascii", "replace"),
        )
        self._server_info = info
        return info

    def info(self, *, timeout: Any = _DEFAULT) -> ServerInfo:
        """COMM INFO: the server's configuration (:class:`ServerInfo`)."""
        self.send_info()
        return self.recv_info(timeout=timeout)

    def send_comm_close(self) -> None:
        self._send("comm_close", Group.COMM, CommAction.CLOSE)

    def recv_comm_close(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv("comm_close", timeout)

    def comm_close(self, *, timeout: Any = _DEFAULT) -> None:
        """COMM CLOSE only (the transport stays open; :meth:`close` does both)."""
        self.send_comm_close()
        self.recv_comm_close(timeout=timeout)

    # ------------------------------------------------------------------------------ NVM

    def send_nvm_init(self) -> None:
        self._send("nvm_init", Group.NVM, NvmAction.INIT, clientnvm_id=self.client_id)

    def recv_nvm_init(self, *, timeout: Any = _DEFAULT) -> NvmInitResult:
        r, _ = self._recv("nvm_init", timeout)
        self._rc(r.rc, "nvm_init")
        return NvmInitResult(r.clientnvm_id, r.servernvm_id)

    def nvm_init(self, *, timeout: Any = _DEFAULT) -> NvmInitResult:
        """NVM INIT: returns (client NVM id, server NVM id)."""
        self.send_nvm_init()
        return self.recv_nvm_init(timeout=timeout)

    def send_nvm_cleanup(self) -> None:
        self._send("nvm_cleanup", Group.NVM, NvmAction.CLEANUP)

    def recv_nvm_cleanup(self, *, timeout: Any = _DEFAULT) -> None:
        r, _ = self._recv("nvm_cleanup", timeout)
        self._rc(r.rc, "nvm_cleanup")

    def nvm_cleanup(self, *, timeout: Any = _DEFAULT) -> None:
        """NVM CLEANUP (a no-op on the server; NVM contents stay)."""
        self.send_nvm_cleanup()
        self.recv_nvm_cleanup(timeout=timeout)

    def send_nvm_get_available(self) -> None:
        self._send("nvm_get_available", Group.NVM, NvmAction.GETAVAILABLE)

    def recv_nvm_get_available(self, *, timeout: Any = _DEFAULT) -> NvmAvailable:
        r, _ = self._recv("nvm_get_available", timeout)
        self._rc(r.rc, "nvm_get_available")
        return NvmAvailable(r.avail_size, r.reclaim_size, r.avail_objects, r.reclaim_objects)

    def nvm_get_available(self, *, timeout: Any = _DEFAULT) -> NvmAvailable:
        """NVM GETAVAILABLE: free and reclaimable bytes and object slots."""
        self.send_nvm_get_available()
        return self.recv_nvm_get_available(timeout=timeout)

    def send_nvm_add_object(
        self, id: int, data: bytes | str, label: bytes | str = b"", access: int = 0, flags: int = 0
    ) -> None:
        raw = _data(data)
        limit = self.comm_data_len - NVM_METADATA_SIZE
        if len(raw) > limit:
            raise BadArgs(f"nvm_add_object: {len(raw)} bytes, at most {limit} fit one message", local=True)
        oid = _u16(id, "NVM id", nonzero=True)
        self._send(
            "nvm_add_object",
            Group.NVM,
            NvmAction.ADDOBJECT,
            oid,
            id=oid,
            access=_u16(access, "access"),
            flags=_u16(flags, "flags"),
            label=_label(label),
            data=raw,
        )

    def recv_nvm_add_object(self, *, timeout: Any = _DEFAULT) -> None:
        r, oid = self._recv("nvm_add_object", timeout)
        self._rc(r.rc, f"nvm_add_object 0x{oid:04x}")

    def nvm_add_object(
        self,
        id: int,
        data: bytes | str,
        label: bytes | str = b"",
        access: int = 0,
        flags: int = 0,
        *,
        timeout: Any = _DEFAULT,
    ) -> None:
        """NVM ADDOBJECT: store (or replace) object ``id``. ``flags``: NvmFlags bits."""
        self.send_nvm_add_object(id, data, label, access, flags)
        self.recv_nvm_add_object(timeout=timeout)

    def send_nvm_list(self, start_id: int = 0, access: int = 0, flags: int = 0) -> None:
        self._send(
            "nvm_list",
            Group.NVM,
            NvmAction.LIST,
            access=_u16(access, "access"),
            flags=_u16(flags, "flags"),
            startId=_u16(start_id, "start id"),
        )

    def recv_nvm_list(self, *, timeout: Any = _DEFAULT) -> NvmListEntry:
        r, _ = self._recv("nvm_list", timeout)
        self._rc(r.rc, "nvm_list")
        return NvmListEntry(r.count, r.id)

    def nvm_list_step(
        self, start_id: int = 0, access: int = 0, flags: int = 0, *, timeout: Any = _DEFAULT
    ) -> NvmListEntry:
        """One NVM LIST exchange: the object after ``start_id`` (0: the first) and how many remain."""
        self.send_nvm_list(start_id, access, flags)
        return self.recv_nvm_list(timeout=timeout)

    def nvm_list(self, access: int = 0, flags: int = 0, *, timeout: Any = _DEFAULT) -> list[int]:
        """Every NVM object id, in the server's directory order (one LIST exchange per object)."""
        ids: list[int] = []
        entry = self.nvm_list_step(0, access, flags, timeout=timeout)
        limit = 0x10000
        while entry.count and entry.id and len(ids) < limit:
            ids.append(entry.id)
            entry = self.nvm_list_step(entry.id, access, flags, timeout=timeout)
        return ids

    def send_nvm_get_metadata(self, id: int) -> None:
        oid = _u16(id, "NVM id")
        self._send("nvm_get_metadata", Group.NVM, NvmAction.GETMETADATA, oid, id=oid)

    def recv_nvm_get_metadata(self, *, timeout: Any = _DEFAULT) -> NvmMetadata:
        r, oid = self._recv("nvm_get_metadata", timeout)
        self._rc(r.rc, f"nvm_get_metadata 0x{oid:04x}")
        return NvmMetadata(r.id, r.access, r.flags, r.len, r.label)

    def nvm_get_metadata(self, id: int, *, timeout: Any = _DEFAULT) -> NvmMetadata:
        """NVM GETMETADATA of object ``id`` (NotFound if absent)."""
        self.send_nvm_get_metadata(id)
        return self.recv_nvm_get_metadata(timeout=timeout)

    def send_nvm_destroy(self, ids: int | Iterable[int]) -> None:
        lst = [ids] if isinstance(ids, int) else list(ids)
        if len(lst) > NVM_MAX_DESTROY_OBJECTS_COUNT:
            raise BadArgs(
                f"nvm_destroy: {len(lst)} ids, at most {NVM_MAX_DESTROY_OBJECTS_COUNT} per request", local=True
            )
        lst = [_u16(i, "NVM id") for i in lst]
        self._send("nvm_destroy", Group.NVM, NvmAction.DESTROYOBJECTS, lst, list_count=len(lst), list=lst)

    def recv_nvm_destroy(self, *, timeout: Any = _DEFAULT) -> None:
        r, lst = self._recv("nvm_destroy", timeout)
        self._rc(r.rc, "nvm_destroy " + " ".join(f"0x{i:04x}" for i in lst))

    def nvm_destroy(self, ids: int | Iterable[int], *, timeout: Any = _DEFAULT) -> None:
        """NVM DESTROYOBJECTS. More than 19 ids go in several requests, each all-or-nothing
        (at v1.4.0 an absent id is NotFound and nothing of that request is destroyed)."""
        lst = [ids] if isinstance(ids, int) else list(ids)
        for i in range(0, max(len(lst), 1), NVM_MAX_DESTROY_OBJECTS_COUNT):
            self.send_nvm_destroy(lst[i : i + NVM_MAX_DESTROY_OBJECTS_COUNT])
            self.recv_nvm_destroy(timeout=timeout)

    def _max_read(self) -> int:
        """Largest data chunk per READ: both sides' COMM_DATA_LEN minus the 4-byte rc."""
        if self._server_info is None:
            self.info()
        assert self._server_info is not None
        return min(self.comm_data_len, self._server_info.comm_data_len) - 4

    def send_nvm_read(self, id: int, offset: int = 0, length: int = 0) -> None:
        oid = _u16(id, "NVM id")
        self._send(
            "nvm_read",
            Group.NVM,
            NvmAction.READ,
            oid,
            id=oid,
            offset=_u16(offset, "offset"),
            data_len=_u16(length, "length"),
        )

    def recv_nvm_read(self, *, timeout: Any = _DEFAULT) -> bytes:
        r, oid = self._recv("nvm_read", timeout)
        self._rc(r.rc, f"nvm_read 0x{oid:04x}")
        return r.data

    def nvm_read(self, id: int, offset: int = 0, length: int | None = None, *, timeout: Any = _DEFAULT) -> bytes:
        """NVM READ: ``length`` bytes of object ``id`` from ``offset`` (None: to the end; the server
        clamps to the object). Long reads are split into several requests. An empty object reads
        as ``b""`` when ``length`` is None (the server itself refuses any read of it)."""
        if length is None:
            try:
                meta = self.nvm_get_metadata(id, timeout=timeout)
            except HsmError as e:
                if isinstance(e, BadResponse):
                    raise
                raise error_for(e.rc, f"nvm_read 0x{int(id):04x}") from None
            if meta.len == 0 and offset == 0:
                return b""
            length = max(meta.len - offset, 1)  # offset past the end: let the server say BADARGS
        if length <= LIBRARY_COMM_DATA_LEN - 4:
            self.send_nvm_read(id, offset, length)
            return self.recv_nvm_read(timeout=timeout)
        chunk = self._max_read()
        out = bytearray()
        while len(out) < length:
            want = min(chunk, length - len(out))
            self.send_nvm_read(id, offset + len(out), want)
            part = self.recv_nvm_read(timeout=timeout)
            out += part
            if len(part) < want or offset + len(out) > 0xFFFF:
                break
        return bytes(out)

    def send_nvm_add_object_dma(self, metadata_addr: int, data_addr: int, data_len: int) -> None:
        self._send(
            "nvm_add_object_dma",
            Group.NVM,
            NvmAction.ADDOBJECTDMA,
            metadata_hostaddr=int(metadata_addr),
            data_hostaddr=int(data_addr),
            data_len=_u16(data_len, "data length"),
        )

    def recv_nvm_add_object_dma(self, *, timeout: Any = _DEFAULT) -> None:
        r, _ = self._recv("nvm_add_object_dma", timeout)
        self._rc(r.rc, "nvm_add_object_dma")

    def nvm_add_object_dma(self, metadata_addr: int, data_addr: int, data_len: int, *, timeout: Any = _DEFAULT) -> None:
        """NVM ADDOBJECTDMA: the server reads the 32-byte metadata (see :meth:`encode_nvm_metadata`)
        and ``data_len`` data bytes from SoC addresses, through its DMA allow list."""
        self.send_nvm_add_object_dma(metadata_addr, data_addr, data_len)
        self.recv_nvm_add_object_dma(timeout=timeout)

    def send_nvm_read_dma(self, id: int, data_addr: int, offset: int = 0, length: int = 0) -> None:
        oid = _u16(id, "NVM id")
        self._send(
            "nvm_read_dma",
            Group.NVM,
            NvmAction.READDMA,
            oid,
            data_hostaddr=int(data_addr),
            id=oid,
            offset=_u16(offset, "offset"),
            data_len=_u16(length, "length"),
        )

    def recv_nvm_read_dma(self, *, timeout: Any = _DEFAULT) -> None:
        r, oid = self._recv("nvm_read_dma", timeout)
        self._rc(r.rc, f"nvm_read_dma 0x{oid:04x}")

    def nvm_read_dma(
        self, id: int, data_addr: int, offset: int = 0, length: int = 0, *, timeout: Any = _DEFAULT
    ) -> None:
        """NVM READDMA: the server writes up to ``length`` bytes of object ``id`` to SoC address
        ``data_addr``."""
        self.send_nvm_read_dma(id, data_addr, offset, length)
        self.recv_nvm_read_dma(timeout=timeout)

    def encode_nvm_metadata(
        self, id: int, data_len: int, label: bytes | str = b"", access: int = 0, flags: int = 0
    ) -> bytes:
        """The 32-byte ``whNvmMetadata`` in this client's byte order, for code that places it in
        memory the server reads by DMA (:meth:`nvm_add_object_dma`)."""
        from firmware.wire.messages.common import NVM_METADATA

        return NVM_METADATA.pack(
            self.order,
            id=_u16(id, "NVM id"),
            access=_u16(access, "access"),
            flags=_u16(flags, "flags"),
            len=_u16(data_len, "data length"),
            label=_label(label),
        )

    # ------------------------------------------------------------------------------ keys

    def send_key_cache(self, data: bytes, label: bytes | str = b"", flags: int = 0, key_id: int = 0) -> None:
        raw = _data(data)
        lab = _label(label)
        self._send(
            "key_cache",
            Group.KEY,
            KeyAction.CACHE,
            flags=int(flags),
            sz=len(raw),
            labelSz=len(lab),
            id=_u16(key_id, "key id"),
            label=lab,
            key=raw,
        )

    def recv_key_cache(self, *, timeout: Any = _DEFAULT) -> int:
        r, _ = self._recv("key_cache", timeout)
        self._rc(r.rc, "key_cache")
        return r.id

    def key_cache(
        self, data: bytes, label: bytes | str = b"", flags: int = 0, key_id: int = 0, *, timeout: Any = _DEFAULT
    ) -> int:
        """KEY CACHE: put a key in the server's cache; ``key_id`` 0 lets the server pick one.
        Returns the key id (client form; 0x0100 set for a global key)."""
        self.send_key_cache(data, label, flags, key_id)
        return self.recv_key_cache(timeout=timeout)

    def _send_key_id(self, op: str, action: int, key_id: int) -> None:
        kid = _u16(key_id, "key id")
        self._send(op, Group.KEY, action, kid, id=kid)

    def _recv_key_rc(self, op: str, timeout: Any) -> Any:
        r, kid = self._recv(op, timeout)
        self._rc(r.rc, f"{op} 0x{kid:04x}")
        return r

    def send_key_evict(self, key_id: int) -> None:
        self._send_key_id("key_evict", KeyAction.EVICT, key_id)

    def recv_key_evict(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv_key_rc("key_evict", timeout)

    def key_evict(self, key_id: int, *, timeout: Any = _DEFAULT) -> None:
        """KEY EVICT: drop the key from the cache (its NVM copy, if any, stays)."""
        self.send_key_evict(key_id)
        self.recv_key_evict(timeout=timeout)

    def send_key_export(self, key_id: int) -> None:
        self._send_key_id("key_export", KeyAction.EXPORT, key_id)

    def recv_key_export(self, *, timeout: Any = _DEFAULT) -> KeyExport:
        r = self._recv_key_rc("key_export", timeout)
        return KeyExport(r.label.rstrip(b"\0"), r.key[: r.len])

    def key_export(self, key_id: int, *, timeout: Any = _DEFAULT) -> KeyExport:
        """KEY EXPORT: ``(label, key bytes)``."""
        self.send_key_export(key_id)
        return self.recv_key_export(timeout=timeout)

    def send_key_commit(self, key_id: int) -> None:
        self._send_key_id("key_commit", KeyAction.COMMIT, key_id)

    def recv_key_commit(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv_key_rc("key_commit", timeout)

    def key_commit(self, key_id: int, *, timeout: Any = _DEFAULT) -> None:
        """KEY COMMIT: write the cached key to NVM."""
        self.send_key_commit(key_id)
        self.recv_key_commit(timeout=timeout)

    def send_key_erase(self, key_id: int) -> None:
        self._send_key_id("key_erase", KeyAction.ERASE, key_id)

    def recv_key_erase(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv_key_rc("key_erase", timeout)

    def key_erase(self, key_id: int, *, timeout: Any = _DEFAULT) -> None:
        """KEY ERASE: evict and destroy the NVM copy (v1.4.0: NotFound if the key is not in NVM)."""
        self.send_key_erase(key_id)
        self.recv_key_erase(timeout=timeout)

    def send_key_revoke(self, key_id: int) -> None:
        self._send_key_id("key_revoke", KeyAction.REVOKE, key_id)

    def recv_key_revoke(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv_key_rc("key_revoke", timeout)

    def key_revoke(self, key_id: int, *, timeout: Any = _DEFAULT) -> None:
        """KEY REVOKE: make the key non-modifiable and clear its usage flags."""
        self.send_key_revoke(key_id)
        self.recv_key_revoke(timeout=timeout)

    def send_key_cache_dma(
        self, key_addr: int, key_len: int, label: bytes | str = b"", flags: int = 0, key_id: int = 0
    ) -> None:
        lab = _label(label)
        self._send(
            "key_cache_dma",
            Group.KEY,
            KeyAction.CACHE_DMA,
            key={"addr": int(key_addr), "sz": int(key_len)},
            flags=int(flags),
            labelSz=len(lab),
            id=_u16(key_id, "key id"),
            label=lab,
        )

    def recv_key_cache_dma(self, *, timeout: Any = _DEFAULT) -> int:
        r, _ = self._recv("key_cache_dma", timeout)
        self._rc(r.rc, "key_cache_dma")
        return r.id

    def key_cache_dma(
        self,
        key_addr: int,
        key_len: int,
        label: bytes | str = b"",
        flags: int = 0,
        key_id: int = 0,
        *,
        timeout: Any = _DEFAULT,
    ) -> int:
        """KEY CACHE_DMA: the server reads the key from SoC address ``key_addr``. Returns the id."""
        self.send_key_cache_dma(key_addr, key_len, label, flags, key_id)
        return self.recv_key_cache_dma(timeout=timeout)

    def send_key_export_dma(self, key_id: int, addr: int, capacity: int) -> None:
        kid = _u16(key_id, "key id")
        self._send(
            "key_export_dma", Group.KEY, KeyAction.EXPORT_DMA, kid, key={"addr": int(addr), "sz": int(capacity)}, id=kid
        )

    def recv_key_export_dma(self, *, timeout: Any = _DEFAULT) -> KeyExportDma:
        r = self._recv_key_rc("key_export_dma", timeout)
        return KeyExportDma(r.label.rstrip(b"\0"), r.len)

    def key_export_dma(self, key_id: int, addr: int, capacity: int, *, timeout: Any = _DEFAULT) -> KeyExportDma:
        """KEY EXPORT_DMA: the server writes the key to SoC address ``addr`` (``capacity`` bytes
        there). Returns ``(label, length)``."""
        self.send_key_export_dma(key_id, addr, capacity)
        return self.recv_key_export_dma(timeout=timeout)

    # ------------------------------------------------------------------------------ counters

    def send_counter_init(self, counter_id: int, value: int = 0) -> None:
        cid = _u16(counter_id, "counter id", nonzero=True)
        self._send("counter_init", Group.COUNTER, CounterAction.INIT, cid, counter=int(value), counterId=cid)

    def recv_counter_init(self, *, timeout: Any = _DEFAULT) -> int:
        return self._recv_counter("counter_init", timeout)

    def counter_init(self, counter_id: int, value: int = 0, *, timeout: Any = _DEFAULT) -> int:
        """COUNTER INIT: create or overwrite the counter with ``value``; returns the value."""
        self.send_counter_init(counter_id, value)
        return self.recv_counter_init(timeout=timeout)

    def counter_reset(self, counter_id: int, *, timeout: Any = _DEFAULT) -> int:
        """wolfHSM's reset: INIT with 0."""
        return self.counter_init(counter_id, 0, timeout=timeout)

    def _send_counter(self, op: str, action: int, counter_id: int) -> None:
        cid = _u16(counter_id, "counter id", nonzero=True)
        self._send(op, Group.COUNTER, action, cid, counterId=cid)

    def _recv_counter(self, op: str, timeout: Any) -> int:
        r, cid = self._recv(op, timeout)
        self._rc(r.rc, f"{op} {cid}")
        return getattr(r, "counter", 0)

    def send_counter_increment(self, counter_id: int) -> None:
        self._send_counter("counter_increment", CounterAction.INCREMENT, counter_id)

    def recv_counter_increment(self, *, timeout: Any = _DEFAULT) -> int:
        return self._recv_counter("counter_increment", timeout)

    def counter_increment(self, counter_id: int, *, timeout: Any = _DEFAULT) -> int:
        """COUNTER INCREMENT: returns the new value (saturates at 0xFFFFFFFF)."""
        self.send_counter_increment(counter_id)
        return self.recv_counter_increment(timeout=timeout)

    def send_counter_read(self, counter_id: int) -> None:
        self._send_counter("counter_read", CounterAction.READ, counter_id)

    def recv_counter_read(self, *, timeout: Any = _DEFAULT) -> int:
        return self._recv_counter("counter_read", timeout)

    def counter_read(self, counter_id: int, *, timeout: Any = _DEFAULT) -> int:
        """COUNTER READ (NotFound if the counter does not exist)."""
        self.send_counter_read(counter_id)
        return self.recv_counter_read(timeout=timeout)

    def send_counter_destroy(self, counter_id: int) -> None:
        self._send_counter("counter_destroy", CounterAction.DESTROY, counter_id)

    def recv_counter_destroy(self, *, timeout: Any = _DEFAULT) -> None:
        self._recv_counter("counter_destroy", timeout)

    def counter_destroy(self, counter_id: int, *, timeout: Any = _DEFAULT) -> None:
        """COUNTER DESTROY (a missing counter is not an error)."""
        self.send_counter_destroy(counter_id)
        self.recv_counter_destroy(timeout=timeout)

    # ------------------------------------------------------------------------------ custom callbacks

    def send_custom_invoke(self, index: int, type: int, data: bytes | Mapping[str, int] = b"") -> None:
        idx = int(index)
        if not 0 <= idx <= 0xFF:
            raise BadArgs(f"custom callback index must be 0..255, got {idx}", local=True)
        if isinstance(data, bytes | bytearray | memoryview | str):
            raw: Any = _data(data)
            if len(raw) > CUSTOMCB_LEN:
                raise BadArgs(f"custom callback data: {len(raw)} bytes, at most {CUSTOMCB_LEN}", local=True)
        else:
            raw = dict(data)  # DMA32 / DMA64 words by name
        self._send("custom_invoke", Group.CUSTOM, idx, idx, id=idx, type=int(type), data=raw)

    def recv_custom_invoke(self, *, timeout: Any = _DEFAULT) -> CustomResult:
        r, idx = self._recv("custom_invoke", timeout)
        self._rc(r.err, f"custom callback {idx}")
        return CustomResult(r.id, r.type, r.rc, r.data)

    def custom_invoke(
        self, index: int, type: int, data: bytes | Mapping[str, int] = b"", *, timeout: Any = _DEFAULT
    ) -> CustomResult:
        """CUSTOM: run the server callback at ``index`` with a request of ``type`` (>= 8: user
        types, ``data`` up to 256 opaque bytes; DMA32/DMA64: a mapping of ``client_addr``,
        ``client_sz``, ``server_addr``, ``server_sz``). NoHandler if nothing is registered there;
        the callback's own return value is ``.rc`` of the result."""
        self.send_custom_invoke(index, type, data)
        return self.recv_custom_invoke(timeout=timeout)

    def send_custom_check_registered(self, index: int) -> None:
        idx = int(index)
        if not 0 <= idx <= 0xFF:
            raise BadArgs(f"custom callback index must be 0..255, got {idx}", local=True)
        self._send("custom_check_registered", Group.CUSTOM, idx, idx, id=idx, type=CustomCbType.QUERY)

    def recv_custom_check_registered(self, *, timeout: Any = _DEFAULT) -> bool:
        r, idx = self._recv("custom_check_registered", timeout)
        if r.type != CustomCbType.QUERY or r.err not in (0, WhError.NOHANDLER):
            raise BadResponse(f"custom_check_registered {idx}: type {r.type}, err {r.err}")
        return r.err == 0

    def custom_check_registered(self, index: int, *, timeout: Any = _DEFAULT) -> bool:
        """Whether a custom callback is registered at ``index`` (CUSTOM QUERY)."""
        self.send_custom_check_registered(index)
        return self.recv_custom_check_registered(timeout=timeout)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"client id {self.client_id}"
        return f"<Client {self.transport.name} {state}>"


__all__ = ["Client", "DEFAULT_COMM_DATA_LEN", "KEYID_GLOBAL", "KEYID_WRAPPED"]
