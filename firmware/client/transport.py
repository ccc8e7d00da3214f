"""Client transports: how whole comm packets travel to the HSM server and back.

A transport moves opaque packets (8-byte comm header + payload), one request then its response
(wolfhsm-wire-core.md §1). The :class:`~firmware.client.Client` never looks below this interface:

* ``send(packet)`` -- hand one request packet to the server;
* ``recv(timeout)`` -- the next response packet, or ``None`` if none arrived within ``timeout``
  seconds (``0`` polls once, ``None`` waits for ever);
* ``close()``.

Transports here:

* :class:`StreamTransport` over a connected socket: TCP and unix sockets use wolfHSM's POSIX TCP
  framing (u32 big-endian length, then the packet); TLS carries one packet per TLS record.
* :class:`MemTransport`: wolfHSM's generic shared-memory transport over any request/response pair
  of memory blocks (8-byte CSR ``{u16 notify, u16 len, u16 ack, u16 wait}`` + data), given
  ``read(addr, n)`` / ``write(addr, data)`` callables -- a host mapping, or a HAL's bus accesses
  in a Python app-core firmware talking to the HSM over the mailbox.
* :class:`ShmTransport`: wolfHSM's POSIX shared-memory transport; attaches to the object the server
  created, with the client attach sequence of the spec (§1.4), then runs a :class:`MemTransport`.

:func:`open_transport` builds the right one from a URL: ``tcp://HOST:PORT``, ``tls://HOST:PORT``,
``unix:///PATH``, ``shm://NAME``.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .errors import BadArgs, HsmTransportError, NotReady

DEFAULT_TCP_PORT = 23456  # the wolfHSM examples' port
FRAME = struct.Struct(">I")  # POSIX TCP framing: u32 big-endian packet length
MAX_FRAME = 0x10000 + 8  # sanity bound on a received frame; wolfHSM packets are far smaller
CSR_SIZE = 8
SHM_HEADER_SIZE = 64
SHM_HEADER = struct.Struct("=IHHQII")  # initialized, req_size, resp_size, dma_size (size_t), creator, user
SHM_CREATED = 2
SHM_ATTACHED = 3
SHM_CLEANED_UP = 1

Read = Callable[[int, int], bytes]
Write = Callable[[int, bytes], None]


class Transport:
    """One request packet out, one response packet in; see the module documentation."""

    name = "transport"
    closed = False

    def send(self, packet: bytes) -> None:
        raise NotImplementedError

    def recv(self, timeout: float | None = None) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + max(0.0, timeout)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


# ------------------------------------------------------------------------------------ sockets


class StreamTransport(Transport):
    """A connected stream socket: length-framed (TCP, unix) or one packet per TLS record."""

    def __init__(self, sock: socket.socket, *, framed: bool = True, name: str = "socket") -> None:
        self.sock = sock
        self.framed = framed
        self.name = name
        self.closed = False
        self._rx = bytearray()

    def send(self, packet: bytes) -> None:
        if self.closed:
            raise HsmTransportError(f"{self.name}: transport is closed")
        data = FRAME.pack(len(packet)) + packet if self.framed else bytes(packet)
        try:
            self.sock.settimeout(None)
            self.sock.sendall(data)  # TLS: one SSL_write of <= 16 KiB = one record = one packet
        except OSError as e:
            self._fail(f"send failed: {e}")

    def recv(self, timeout: float | None = None) -> bytes | None:
        if self.closed:
            raise HsmTransportError(f"{self.name}: transport is closed")
        deadline = _deadline(timeout)
        while True:
            if self.framed:
                packet = self._take_frame()
                if packet is not None:
                    return packet
            chunk = self._read(_remaining(deadline))
            if chunk is None:
                return None
            if not self.framed:
                return chunk
            self._rx += chunk

    def _take_frame(self) -> bytes | None:
        if len(self._rx) < FRAME.size:
            return None
        (n,) = FRAME.unpack_from(self._rx)
        if n == 0 or n > MAX_FRAME:
            self._fail(f"bad frame length {n} from the server")
        if len(self._rx) < FRAME.size + n:
            return None
        packet = bytes(self._rx[FRAME.size : FRAME.size + n])
        del self._rx[: FRAME.size + n]
        return packet

    def _read(self, timeout: float | None) -> bytes | None:
        try:
            self.sock.settimeout(timeout)
            chunk = self.sock.recv(MAX_FRAME + FRAME.size)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError as e:
            self._fail(f"receive failed: {e}")
        if not chunk:
            self._fail("connection closed by the server")
        return chunk

    def _fail(self, why: str):
        self.close()
        raise HsmTransportError(f"{self.name}: {why}")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


@dataclass
class TlsConfig:
    """Client credentials for ``tls://``: files in PEM (the CA may also be DER).

    As wolfHSM's TLS client does, the server certificate is verified against ``ca`` but the host
    name is not checked unless ``server_hostname`` is given. ``verify=False`` turns verification
    off (tests only).
    """

    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    verify: bool = True
    server_hostname: str | None = None

    @classmethod
    def coerce(cls, tls: Any) -> TlsConfig | ssl.SSLContext:
        if tls is None:
            return cls()
        if isinstance(tls, cls | ssl.SSLContext):
            return tls
        if isinstance(tls, Mapping):
            return cls(**{k: v for k, v in tls.items() if v is not None})
        raise BadArgs(f"tls must be a TlsConfig, a mapping or an ssl.SSLContext, not {type(tls).__name__}", local=True)

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = bool(self.server_hostname) and self.verify
        try:
            if not self.verify:
                ctx.verify_mode = ssl.CERT_NONE
            elif self.ca:
                with open(self.ca, "rb") as f:
                    data = f.read()
                if b"-----BEGIN" in data:
                    ctx.load_verify_locations(cadata=data.decode("ascii", "replace"))
                else:
                    ctx.load_verify_locations(cadata=data)  # DER, like wolfHSM's ca_cert_der_2048
            else:
                ctx.load_default_certs()
            if self.cert:
                ctx.load_cert_chain(self.cert, self.key)
            elif self.key:
                raise BadArgs("a TLS key without a certificate", local=True)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise HsmTransportError(f"TLS credentials: {e}") from None
        return ctx


def _connect_retry(connect: Callable[[], Any], what: str, wait: float) -> Any:
    """Call ``connect`` until it works; refused / absent servers are retried for ``wait`` seconds."""
    deadline = time.monotonic() + max(0.0, wait)
    delay = 0.01
    while True:
        try:
            return connect()
        except (ConnectionRefusedError, FileNotFoundError) as e:
            if time.monotonic() >= deadline:
                raise HsmTransportError(f"cannot connect to {what}: {e.strerror or e}") from None
        except TimeoutError:
            raise HsmTransportError(f"cannot connect to {what}: timed out") from None
        except ssl.SSLError as e:
            raise HsmTransportError(f"TLS handshake with {what} failed: {e.reason or e}") from None
        except OSError as e:
            raise HsmTransportError(f"cannot connect to {what}: {e.strerror or e}") from None
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def connect_tcp(host: str, port: int, *, timeout: float = 10.0, wait: float = 0.0) -> StreamTransport:
    what = f"tcp://{host}:{port}"

    def attempt() -> socket.socket:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    return StreamTransport(_connect_retry(attempt, what, wait), framed=True, name=what)


def connect_tls(host: str, port: int, tls: Any = None, *, timeout: float = 10.0, wait: float = 0.0) -> StreamTransport:
    what = f"tls://{host}:{port}"
    cfg = TlsConfig.coerce(tls)
    ctx = cfg if isinstance(cfg, ssl.SSLContext) else cfg.context()
    hostname = None if isinstance(cfg, ssl.SSLContext) else cfg.server_hostname
    if isinstance(cfg, ssl.SSLContext) and ctx.check_hostname:
        hostname = host

    def attempt() -> ssl.SSLSocket:
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            return ctx.wrap_socket(raw, server_hostname=hostname)
        except BaseException:
            raw.close()
            raise

    return StreamTransport(_connect_retry(attempt, what, wait), framed=False, name=what)


def connect_unix(path: str, *, timeout: float = 10.0, wait: float = 0.0) -> StreamTransport:
    what = f"unix://{path}"

    def attempt() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        return sock

    return StreamTransport(_connect_retry(attempt, what, wait), framed=True, name=what)


# ------------------------------------------------------------------------------------ memory


class MemTransport(Transport):
    """wolfHSM's generic shared-memory transport, client side, over two memory blocks.

    ``read(addr, n) -> bytes`` and ``write(addr, data)`` reach the memory holding the request block
    (``req_base``, ``req_size`` bytes: CSR + data) and the response block. A CSR is always read and
    written with one 8-byte call (wolfHSM uses a single 64-bit access; make those calls atomic if
    the server runs concurrently); data is written before the CSR. ``csr_order`` is the byte order
    of the CSR fields (the machine's own, e.g. ``">"`` for a PowerPC app core).

    ``doorbell()`` is called after each request is published (e.g. to set the mailbox's
    host-to-HSM flag); ``wait(timeout)`` blocks until the response may be there (e.g. the reply
    interrupt) -- without it the response CSR is polled. ``clear`` zero-fills both blocks first,
    as wolfHSM's client does on init.
    """

    def __init__(
        self,
        read: Read,
        write: Write,
        req_base: int,
        req_size: int,
        resp_base: int,
        resp_size: int,
        *,
        csr_order: str = "<",
        doorbell: Callable[[], None] | None = None,
        wait: Callable[[float | None], Any] | None = None,
        clear: bool = True,
        name: str = "memory",
    ) -> None:
        if req_size <= CSR_SIZE or resp_size <= CSR_SIZE:
            raise BadArgs("each block needs room for the 8-byte CSR and data", local=True)
        if csr_order not in ("<", ">", "="):
            raise BadArgs(f"csr_order must be '<', '>' or '=', not {csr_order!r}", local=True)
        self._read, self._write = read, write
        self.req_base, self.req_size = req_base, req_size
        self.resp_base, self.resp_size = resp_base, resp_size
        self._csr = struct.Struct(csr_order + "HHHH")
        self._doorbell, self._wait = doorbell, wait
        self.name = name
        self.closed = False
        self._expect: int | None = None  # notify value of the response we wait for
        self.max_packet = min(req_size, resp_size) - CSR_SIZE
        if clear:
            self._write(req_base, bytes(req_size))
            self._write(resp_base, bytes(resp_size))

    def _get_csr(self, base: int) -> tuple[int, int, int, int]:
        return self._csr.unpack(self._read(base, CSR_SIZE))

    def send(self, packet: bytes) -> None:
        if self.closed:
            raise HsmTransportError(f"{self.name}: transport is closed")
        if len(packet) > self.req_size - CSR_SIZE:
            raise BadArgs(f"{len(packet)}-byte packet does not fit the {self.req_size}-byte request block", local=True)
        notify, _len, ack, wait = self._get_csr(self.req_base)
        if notify != self._get_csr(self.resp_base)[0]:
            raise NotReady("the previous exchange is not complete", local=True)
        notify = (notify + 1) & 0xFFFF
        self._write(self.req_base + CSR_SIZE, bytes(packet))
        self._write(self.req_base, self._csr.pack(notify, len(packet), ack, wait))  # ack/wait kept as found
        self._expect = notify
        if self._doorbell is not None:
            self._doorbell()

    def recv(self, timeout: float | None = None) -> bytes | None:
        if self.closed:
            raise HsmTransportError(f"{self.name}: transport is closed")
        if self._expect is None:
            return None
        deadline = _deadline(timeout)
        pause = 0.00005
        while True:
            notify, length, _ack, _wait = self._get_csr(self.resp_base)
            if notify == self._expect:
                self._expect = None
                length = min(length, self.resp_size - CSR_SIZE)
                return bytes(self._read(self.resp_base + CSR_SIZE, length))
            left = _remaining(deadline)
            if left == 0.0:
                return None
            if self._wait is not None:
                self._wait(left)
            else:
                time.sleep(pause if left is None else min(pause, left))
                pause = min(pause * 2, 0.001)

    def close(self) -> None:
        self.closed = True


class _Mapping:
    """Byte access to an mmap; aligned 8-byte accesses are single 64-bit loads/stores."""

    def __init__(self, mm: mmap.mmap) -> None:
        self.mm = mm
        self._words: dict[int, ctypes.c_uint64] = {}

    def _word(self, addr: int) -> ctypes.c_uint64:
        w = self._words.get(addr)
        if w is None:
            w = self._words[addr] = ctypes.c_uint64.from_buffer(self.mm, addr)
        return w

    def read(self, addr: int, n: int) -> bytes:
        if n == CSR_SIZE and addr % 8 == 0:
            return self._word(addr).value.to_bytes(8, sys.byteorder)
        return bytes(self.mm[addr : addr + n])

    def write(self, addr: int, data: bytes) -> None:
        if len(data) == CSR_SIZE and addr % 8 == 0:
            self._word(addr).value = int.from_bytes(data, sys.byteorder)
        else:
            self.mm[addr : addr + len(data)] = data

    def close(self) -> None:
        self._words.clear()  # release the buffer exports before closing the map
        try:
            self.mm.close()
        except (BufferError, ValueError):
            pass


class ShmTransport(MemTransport):
    """wolfHSM's POSIX shared-memory transport: attach to a server-created object (spec §1.4).

    Attach sequence: open ``/dev/shm/NAME`` (absent or empty: retry), require ``initialized == 2``
    (retry), map the whole object with the sizes from the header, unlink the name (the client
    removes it, so the server creates a new object for the next session), write ``user_pid``,
    ``initialized = 3``, zero both blocks. The CSRs are native-order 64-bit words. On close the
    client writes ``initialized = 1`` (cleaned up).

    ``dma_offset``/``dma_size`` describe the optional DMA area after the blocks; :meth:`dma_read`
    and :meth:`dma_write` reach it by offset (the address space wolfHSM's POSIX DMA uses).
    """

    def __init__(self, name: str, *, wait: float = 0.0) -> None:
        self.shm_name = name.lstrip("/")
        if not self.shm_name or "/" in self.shm_name:
            raise BadArgs(f"bad shared-memory name {name!r}", local=True)
        path = f"/dev/shm/{self.shm_name}"
        deadline = time.monotonic() + max(0.0, wait)
        delay = 0.002
        while True:
            fd, why = self._try_open(path)
            if fd is not None:
                break
            if time.monotonic() >= deadline:
                raise HsmTransportError(f"cannot attach to shm://{self.shm_name}: {why}")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            head = os.pread(fd, SHM_HEADER.size, 0)
            _init, self.req_size_hdr, self.resp_size_hdr, self.dma_size, self.creator_pid, _user = SHM_HEADER.unpack(
                head
            )
            total = SHM_HEADER_SIZE + self.req_size_hdr + self.resp_size_hdr + self.dma_size
            if os.fstat(fd).st_size < total:
                raise HsmTransportError(f"shm://{self.shm_name}: object smaller than its header says")
            mm = mmap.mmap(fd, total)
        finally:
            os.close(fd)
        try:
            os.unlink(path)  # as wolfHSM's client does: the name is gone once a client attached
        except FileNotFoundError:
            pass
        self._mem = _Mapping(mm)
        mm[20:24] = struct.pack("=I", os.getpid())
        self._set_state(SHM_ATTACHED)
        req, resp = SHM_HEADER_SIZE, SHM_HEADER_SIZE + self.req_size_hdr
        self.dma_offset = resp + self.resp_size_hdr
        super().__init__(
            self._mem.read,
            self._mem.write,
            req,
            self.req_size_hdr,
            resp,
            self.resp_size_hdr,
            csr_order="=",
            clear=True,
            name=f"shm://{self.shm_name}",
        )

    @staticmethod
    def _try_open(path: str) -> tuple[int | None, str]:
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None, "no such object (is the server listening on it?)"
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM):
                raise HsmTransportError(f"cannot open {path}: {e.strerror}") from None
            return None, e.strerror or str(e)
        try:
            if os.fstat(fd).st_size < SHM_HEADER_SIZE:
                os.close(fd)
                return None, "object not initialised yet"
            (state,) = struct.unpack("=I", os.pread(fd, 4, 0))
        except OSError as e:
            os.close(fd)
            return None, e.strerror or str(e)
        if state != SHM_CREATED:
            os.close(fd)
            return None, f"object state {state} (2 = ready for a client)"
        return fd, ""

    def _set_state(self, state: int) -> None:
        # initialized is a 32-bit field at offset 0; one aligned store
        ctypes.c_uint32.from_buffer(self._mem.mm, 0).value = state

    def dma_read(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.dma_size:
            raise BadArgs(f"DMA area access {offset}+{n} outside 0..{self.dma_size}", local=True)
        return self._mem.read(self.dma_offset + offset, n)

    def dma_write(self, offset: int, data: bytes) -> None:
        if offset < 0 or offset + len(data) > self.dma_size:
            raise BadArgs(f"DMA area access {offset}+{len(data)} outside 0..{self.dma_size}", local=True)
        self._mem.mm[self.dma_offset + offset : self.dma_offset + offset + len(data)] = data

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        try:
            self._set_state(SHM_CLEANED_UP)
        except (ValueError, TypeError):
            pass
        self._mem.close()


# ------------------------------------------------------------------------------------ URLs


def parse_url(url: str) -> tuple[str, Any]:
    """``(scheme, address)``: tcp/tls -> (host, port), unix -> path, shm -> name."""
    u = urlparse(url)
    scheme = u.scheme.lower()
    if scheme in ("tcp", "tls"):
        try:
            port = u.port
        except ValueError:
            raise BadArgs(f"{url}: bad port", local=True) from None
        return scheme, (u.hostname or "127.0.0.1", DEFAULT_TCP_PORT if port is None else port)
    if scheme == "unix":
        path = (u.netloc + u.path) if u.netloc else u.path
        if not path:
            raise BadArgs(f"{url}: give a socket path, e.g. unix:///tmp/hsm.sock", local=True)
        return scheme, path
    if scheme == "shm":
        name = (u.netloc + u.path).strip("/")
        if not name or "/" in name:
            raise BadArgs(f"{url}: give a shared-memory name, e.g. shm://wh_example_shm", local=True)
        return scheme, name
    raise BadArgs(f"{url!r}: the URL must start with tcp://, tls://, unix:// or shm://", local=True)


def open_transport(url: str, *, tls: Any = None, timeout: float = 10.0, wait: float = 0.0) -> Transport:
    """Open the transport a URL names. ``wait``: seconds to keep retrying while no server is there."""
    scheme, addr = parse_url(url)
    if scheme == "tcp":
        return connect_tcp(*addr, timeout=timeout, wait=wait)
    if scheme == "tls":
        return connect_tls(*addr, tls, timeout=timeout, wait=wait)
    if scheme == "unix":
        return connect_unix(addr, timeout=timeout, wait=wait)
    return ShmTransport(addr, wait=wait)


__all__ = [
    "DEFAULT_TCP_PORT",
    "MemTransport",
    "ShmTransport",
    "StreamTransport",
    "TlsConfig",
    "Transport",
    "connect_tcp",
    "connect_tls",
    "connect_unix",
    "open_transport",
    "parse_url",
]
