"""The host bridge: real clients attached over TCP, TLS, a unix socket or POSIX shared memory.

Each attached client gets a mailbox channel of its own (so, unlike wolfHSM's example server, several
clients are served at once), with request/response blocks in a bridge-only RAM the HSM reaches over
its bus. The server firmware cannot tell an attached client from an app core.

Time policy (wall time outside, virtual time inside):
- socket threads only read and queue; every packet is injected by the kernel at a quantum boundary
  and stamped with the virtual time of that boundary, so runs without clients stay deterministic;
- while anything in the SoC is busy, it runs as fast as it can; when every core waits and only the
  outside world can wake the SoC, the kernel blocks on the bridge (no spinning, no virtual time
  passes), so an idle board costs no CPU and a request is picked up at once.

Framing: TCP and unix sockets use wolfHSM's POSIX TCP framing (u32 big-endian length + packet; a
length of 0 or above the MTU ends the connection). TLS carries one packet per TLS record, no prefix.
Shared memory follows wolfHSM's POSIX shm transport (64-byte header, request and response blocks,
DMA area; the client unlinks the name, so the object is created anew for every session).
"""

from __future__ import annotations

import collections
import ctypes
import mmap
import os
import socket
import ssl
import struct
import sys
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .errors import HsmemuError

BLOCK = 0x2000  # request or response block per bridge channel: 8-byte CSR + up to 8184-byte packet
CHANNEL = 2 * BLOCK
MTU = 8 + 5120  # the largest packet accepted (the v1.4.0 test client's COMM_DATA_LEN is 5120)
SHM_HEADER = 64
SHM_BLOCK = 8 + 8200  # HEAD geometry: compatible with v1.4.0 clients and carries any v1.4.0 packet
SHM_DMA = 8000


@dataclass
class Client:
    """One attached client and the mailbox channel it owns."""

    name: str
    send: Any  # callable(bytes) -> None, raises OSError when the peer is gone
    close: Any
    bit: int = -1
    inbox: collections.deque = field(default_factory=collections.deque)
    awaiting: bool = False
    gone: bool = False
    session: int = 0
    requests: int = 0


class HostBridge:
    def __init__(self, soc: Any, log: Any = None) -> None:
        self.soc = soc
        self.kernel = soc.kernel
        self.mailbox = next((d for d in soc.devices.values() if hasattr(d, "host_doorbell")), None)
        if self.mailbox is None:
            raise HsmemuError(f"board {soc.board.name} has no mailbox: nothing to attach clients to")
        self.memory = soc.add_bridge_memory(32 * CHANNEL)
        self.first_bit = len(self.mailbox.channels)
        self.free_bits = list(range(self.first_bit, 32))
        self.csr_fmt = (">" if soc.big_endian else "<") + "HHHH"
        self.clients: list[Client] = []
        self.waiting: collections.deque[Client] = collections.deque()  # clients waiting for a channel
        self.lock = threading.Lock()
        self.wakeup = threading.Event()
        self.listeners: list[Any] = []
        self.sockets: list[socket.socket] = []
        self.session = 0
        self.log = log or (lambda msg: print(f"bridge: {msg}", file=sys.stderr, flush=True))
        self.stopping = False
        self.mailbox.reply_listeners = getattr(self.mailbox, "reply_listeners", {})
        self.kernel.inputs.append(self)

    # ------------------------------------------------------------------ listening
    def listen(self, url: str, tls: dict[str, str] | None = None) -> str:
        """Start serving `url`; returns the address actually bound (port 0 picks a free port)."""
        u = urlparse(url)
        if u.scheme in ("tcp", "tls"):
            host, port = u.hostname or "127.0.0.1", u.port if u.port is not None else 23456
            sock = socket.create_server((host, port), reuse_port=False)
            ctx = self._tls_context(tls or {}) if u.scheme == "tls" else None
            bound = f"{u.scheme}://{host}:{sock.getsockname()[1]}"
            self.sockets.append(sock)
            self._spawn(self._accept_loop, sock, bound, ctx)
        elif u.scheme == "unix":
            path = u.path or u.netloc
            if not path:
                raise HsmemuError(f"{url}: give a socket path, e.g. unix:///tmp/hsm.sock")
            if os.path.exists(path):
                os.unlink(path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            sock.listen(8)
            bound = f"unix://{path}"
            self.sockets.append(sock)
            self._spawn(self._accept_loop, sock, bound, None)
        elif u.scheme == "shm":
            name = (u.netloc + u.path).strip("/")
            if not name or "/" in name:
                raise HsmemuError(f"{url}: give a shared-memory name, e.g. shm://wh_example_shm")
            bound = f"shm://{name}"
            self._spawn(self._shm_loop, name)
        else:
            raise HsmemuError(f"--listen {url}: scheme must be tcp://, tls://, unix:// or shm://")
        self.listeners.append(bound)
        return bound

    def _tls_context(self, tls: dict[str, str]) -> ssl.SSLContext:
        if not tls.get("cert") or not tls.get("key"):
            raise HsmemuError("tls:// needs --tls-cert and --tls-key")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(tls["cert"], tls["key"])
            if tls.get("ca"):
                ctx.load_verify_locations(tls["ca"])
                ctx.verify_mode = ssl.CERT_REQUIRED  # mutual authentication when a CA is given
        except (OSError, ssl.SSLError) as e:
            raise HsmemuError(f"TLS credentials: {e}") from None
        return ctx

    def _spawn(self, fn: Any, *args: Any) -> None:
        threading.Thread(target=fn, args=args, daemon=True).start()

    def _accept_loop(self, sock: socket.socket, bound: str, tls: ssl.SSLContext | None) -> None:
        while not self.stopping:
            try:
                conn, addr = sock.accept()
            except OSError:
                return
            name = f"{bound} client {addr if addr else ''}".strip()
            if tls is not None:
                self._spawn(self._tls_handshake, conn, tls, name)
            else:
                self._spawn(self._stream_reader, conn, name, True)

    def _tls_handshake(self, raw: socket.socket, ctx: ssl.SSLContext, name: str) -> None:
        raw.settimeout(10)
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log(f"TLS client refused ({name}): {getattr(e, 'reason', None) or e}")
            raw.close()
            return
        conn.settimeout(None)
        self._stream_reader(conn, name, False)

    def _stream_reader(self, conn: socket.socket, name: str, framed: bool) -> None:
        lock = threading.Lock()

        def send(packet: bytes) -> None:
            with lock:
                conn.sendall(struct.pack(">I", len(packet)) + packet if framed else packet)

        def close() -> None:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

        client = Client(name, send, close)
        self._attach(client)
        try:
            while True:
                if framed:
                    head = _recv_exact(conn, 4)
                    if head is None:
                        break
                    (n,) = struct.unpack(">I", head)
                    if n == 0 or n > MTU:
                        self.log(f"{name}: frame length {n} outside 1..{MTU}: disconnected")
                        break
                    packet = _recv_exact(conn, n)
                    if packet is None:
                        break
                else:
                    packet = conn.recv(MTU + 1)  # one TLS record = one packet
                    if not packet:
                        break
                    if len(packet) > MTU:
                        self.log(f"{name}: {len(packet)}-byte packet above the MTU: disconnected")
                        break
                self._queue(client, packet)
        except (OSError, ssl.SSLError):
            pass
        self._queue(client, None)

    # ------------------------------------------------------------------ shared memory
    def _shm_loop(self, name: str) -> None:
        while not self.stopping:
            try:
                session = ShmSession(name, self)
            except OSError as e:
                self.log(f"shm://{name}: {e}")
                return
            session.run()
            session.destroy()

    # ------------------------------------------------------------------ in-process clients
    def attach_local(self, name: str = "local") -> Client:
        """A client without a socket, for deterministic scripted workloads (power-loss sweeps, tests).

        `submit(client, packet)` queues a request; the kernel injects it at the next quantum boundary
        and the reply lands in `client.replies`. No thread is involved, so runs stay deterministic.
        """
        replies: collections.deque[bytes] = collections.deque()
        client = Client(name, replies.append, lambda: None)
        client.replies = replies  # type: ignore[attr-defined]
        with self.lock:
            self.clients.append(client)
        return client

    def submit(self, client: Client, packet: bytes) -> None:
        self._queue(client, packet)

    def request(self, client: Client, packet: bytes, limit_ns: int = 1_000_000_000) -> bytes:
        """Submit and run the SoC until the reply arrives (in-process clients only)."""
        replies = client.replies  # type: ignore[attr-defined]
        replies.clear()
        self.submit(client, packet)
        step = self.soc.timebase.ns(20_000)
        end = self.kernel.now + self.soc.timebase.ns(limit_ns)
        while not replies:
            if self.kernel.now >= end or client.gone:
                raise HsmemuError(f"{client.name}: no reply within {limit_ns} ns of virtual time")
            self.soc.run_for(step)
        return replies.popleft()

    # ------------------------------------------------------------------ thread -> kernel
    def _attach(self, client: Client) -> None:
        with self.lock:
            self.clients.append(client)
        self.log(f"attached {client.name}")
        self.wakeup.set()

    def _queue(self, client: Client, packet: bytes | None) -> None:
        with self.lock:
            client.inbox.append(packet)
        self.wakeup.set()

    # ------------------------------------------------------------------ kernel input protocol
    def active(self) -> bool:
        return bool(self.listeners)

    def wait(self, timeout: float) -> bool:
        got = self.wakeup.wait(timeout)
        self.wakeup.clear()
        return got

    def poll(self) -> None:
        """At a quantum boundary: deliver replies, inject queued requests, handle disconnects."""
        if not self.clients:
            return
        with self.lock:
            clients = list(self.clients)
        for c in clients:
            if c.awaiting and self.mailbox.regs.get("HSM2HTF") >> c.bit & 1:
                self._deliver_reply(c)
            if c.awaiting:
                continue
            if c.inbox:
                with self.lock:
                    packet = c.inbox.popleft()
                if packet is None:
                    self._detach(c)
                elif not c.gone:
                    if c.bit < 0 and not self._assign(c):
                        with self.lock:
                            c.inbox.appendleft(packet)
                        continue
                    self._inject(c, packet)

    def _assign(self, c: Client) -> bool:
        if not self.free_bits:
            return False
        c.bit = self.free_bits.pop(0)
        self.session = (self.session % 0xFFFF) + 1
        c.session = self.session
        base = self.memory.origin + (c.bit - self.first_bit) * CHANNEL
        entry = {"core": None, "base": base, "size": CHANNEL, "client": c.name}
        chans = self.mailbox.channels
        while len(chans) <= c.bit:
            chans.append({"core": None, "base": 0, "size": 0})
        chans[c.bit] = entry
        # a fresh channel: both CSRs zero except the session number the HSM watches
        self.memory.write(base, struct.pack(self.csr_fmt, 0, 0, 0, c.session))
        self.memory.write(base + BLOCK, struct.pack(self.csr_fmt, 0, 0, 0, 0))
        return True

    def _inject(self, c: Client, packet: bytes) -> None:
        base = self.memory.origin + (c.bit - self.first_bit) * CHANNEL
        notify = struct.unpack(self.csr_fmt, self.memory.read(base, 8))[0]
        self.memory.write(base + 8, packet)
        self.memory.write(base, struct.pack(self.csr_fmt, (notify + 1) & 0xFFFF, len(packet), 0, c.session))
        c.awaiting = True
        c.requests += 1
        self.kernel.trace.emit(self.kernel.now, "bridge", "request", f"{c.name} ch{c.bit} {len(packet)}B")
        self.mailbox.host_doorbell(1 << c.bit, "bridge")

    def _deliver_reply(self, c: Client) -> None:
        base = self.memory.origin + (c.bit - self.first_bit) * CHANNEL
        _, length, _, _ = struct.unpack(self.csr_fmt, self.memory.read(base + BLOCK, 8))
        reply = self.memory.read(base + BLOCK + 8, length)
        self.mailbox.regs.set("HSM2HTF", self.mailbox.regs.get("HSM2HTF") & ~(1 << c.bit))
        c.awaiting = False
        self.kernel.trace.emit(self.kernel.now, "bridge", "reply", f"{c.name} ch{c.bit} {length}B")
        if c.gone:
            self._release(c)
            return
        try:
            if length < 8:
                raise OSError("fatal request")  # the server refused the packet: end the session
            c.send(reply)
        except OSError:
            c.gone = True
            c.close()
            with self.lock:
                c.inbox.clear()
            self._detach(c)

    def _detach(self, c: Client) -> None:
        c.gone = True
        if c.awaiting:
            return  # release the channel when the reply in flight has come back
        self._release(c)

    def _release(self, c: Client) -> None:
        with self.lock:
            if c in self.clients:
                self.clients.remove(c)
        if c.bit >= 0:
            # tell the HSM the session ended (it drops that connection's keys), then free the bit
            base = self.memory.origin + (c.bit - self.first_bit) * CHANNEL
            notify = struct.unpack(self.csr_fmt, self.memory.read(base, 8))[0]
            self.session = (self.session % 0xFFFF) + 1
            self.memory.write(base, struct.pack(self.csr_fmt, notify, 0, 0, self.session))
            self.mailbox.host_doorbell(1 << c.bit, "bridge")
            self.free_bits.append(c.bit)
            self.free_bits.sort()
            c.bit = -1
        try:
            c.close()
        except OSError:
            pass
        self.log(f"detached {c.name} after {c.requests} request(s)")

    def shutdown(self) -> None:
        self.stopping = True
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class ShmSession:
    """One session of wolfHSM's POSIX shared-memory transport, as the server ("creator") side."""

    def __init__(self, name: str, bridge: HostBridge) -> None:
        self.name, self.bridge = name, bridge
        self.path = f"/dev/shm/{name}"
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.size = SHM_HEADER + 2 * SHM_BLOCK + SHM_DMA
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o666)
        try:
            os.ftruncate(fd, self.size)
            self.map = mmap.mmap(fd, self.size)
        finally:
            os.close(fd)
        # sizes and pid first, then `initialized = 2` (created) as a separate store
        struct.pack_into("<HHQI", self.map, 4, SHM_BLOCK, SHM_BLOCK, SHM_DMA, os.getpid())
        struct.pack_into("<I", self.map, 0, 2)
        self.req = SHM_HEADER
        self.resp = SHM_HEADER + SHM_BLOCK
        self.client: Client | None = None
        self.pending_reply = threading.Event()
        self.reply: bytes | None = None

    def _csr(self, off: int) -> tuple[int, int, int, int]:
        word = ctypes.c_uint64.from_buffer(self.map, off).value  # one 64-bit load, as the C side stores it
        return struct.unpack("<HHHH", struct.pack("<Q", word))

    def run(self) -> None:
        import time

        while not self.bridge.stopping and struct.unpack_from("<I", self.map, 0)[0] != 3:
            time.sleep(0.002)
        if self.bridge.stopping:
            return
        done = threading.Event()

        def send(packet: bytes) -> None:
            notify = self._csr(self.req)[0]
            _, _, ack, wait = self._csr(self.resp)
            self.map[self.resp + 8 : self.resp + 8 + len(packet)] = packet
            word = struct.unpack("<Q", struct.pack("<HHHH", notify, len(packet), ack, wait))[0]
            ctypes.c_uint64.from_buffer(self.map, self.resp).value = word
            if packet[2:4] in (b"\x03\x01", b"\x01\x03"):  # COMM CLOSE answered: the session ends
                done.set()

        client = Client(f"shm://{self.name}", send, done.set)
        self.bridge._attach(client)
        last = None  # notify of the request already queued (a request exists iff req.notify != resp.notify)
        while not self.bridge.stopping and not done.is_set():
            state = struct.unpack_from("<I", self.map, 0)[0]
            if state not in (3,):
                break
            notify, length, _, _ = self._csr(self.req)
            if notify != last and notify != self._csr(self.resp)[0]:
                last = notify
                length = min(length, SHM_BLOCK - 8)
                self.bridge._queue(client, bytes(self.map[self.req + 8 : self.req + 8 + length]))
            else:
                time.sleep(0.0002)
        self.bridge._queue(client, None)

    def destroy(self) -> None:
        try:
            struct.pack_into("<I", self.map, 0, 1)
            self.map.close()
        except (ValueError, BufferError):
            pass
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
