"""Shared-memory transports: POSIX shm against `hsmemu run --listen shm://NAME`, and the generic
two-block transport (as a Python app-core firmware would use over the mailbox) against the server."""

from __future__ import annotations

import struct
import threading

import pytest

from emulator.pytest_plugin import running_board, running_process
from firmware.client import BadArgs, Client, MemTransport, NotReady, ShmTransport
from firmware.hsm.context import Connection
from firmware.hsm.server import default_server

from .helpers import implemented


def test_shm_round_trip_with_the_cli_server(shm_name):
    with running_process("spc58nn", listen=f"shm://{shm_name}") as server:
        assert server.url == f"shm://{shm_name}"
        with Client.connect(server.url, client_id=5, wait=10) as hsm:
            t = hsm.transport
            assert isinstance(t, ShmTransport)
            assert t.req_size >= 8 + 5128 and t.resp_size >= 8 + 5128  # any v1.4.0 packet fits
            assert hsm.server_id == 57
            assert hsm.echo(b"over shared memory") == b"over shared memory"
            assert hsm.echo(b"\xa5" * 5000) == b"\xa5" * 5000
            assert hsm.info().version == "01.01.01"
            with implemented("NVM"):
                hsm.nvm_add_object(0x0190, b"via shm", label="shm")
                assert hsm.nvm_read(0x0190) == b"via shm"
        # the client unlinked the name; after COMM CLOSE the server creates the object anew
        with Client.connect(server.url, client_id=6, wait=10) as hsm:
            assert hsm.echo(b"second session") == b"second session"
            with implemented("NVM"):
                assert hsm.nvm_read(0x0190) == b"via shm"  # NVM outlives the session
                hsm.nvm_destroy(0x0190)


def test_shm_client_disconnect_without_close(shm_name):
    with running_board("spc58nn", listen=[f"shm://{shm_name}"]) as board:
        hsm = board.connect()
        assert hsm.echo(b"a") == b"a"
        hsm.transport.close()  # initialized = 1: the server ends the session and starts another
        with board.connect(client_id=2) as again:
            assert again.echo(b"b") == b"b"


class _Block:
    """A bytearray 'RAM' whose 8-byte CSR accesses are atomic (a lock stands for the 64-bit store)."""

    def __init__(self, size: int) -> None:
        self.mem = bytearray(size)
        self.lock = threading.Lock()

    def read(self, addr: int, n: int) -> bytes:
        with self.lock:
            return bytes(self.mem[addr : addr + n])

    def write(self, addr: int, data: bytes) -> None:
        with self.lock:
            self.mem[addr : addr + len(data)] = data


@pytest.mark.parametrize("csr_order", ["<", ">"])
def test_mem_transport_against_the_server(csr_order):
    """The mailbox layout of the firmware (request block at base, response block at base + size/2),
    served by the HSM server code in a thread the way the HSM firmware serves a channel."""
    ram = _Block(0x4000)
    req, resp, half = 0x0000, 0x2000, 0x2000
    csr = struct.Struct(csr_order + "HHHH")
    server = default_server()
    conn = Connection(0)
    doorbell = threading.Event()
    replied = threading.Event()
    stop = threading.Event()

    def hsm() -> None:
        while not stop.is_set():
            if not doorbell.wait(0.05):
                continue
            doorbell.clear()
            notify, length, _a, _w = csr.unpack(ram.read(req, 8))
            r_notify, _l, r_ack, r_wait = csr.unpack(ram.read(resp, 8))
            if notify == r_notify:
                continue
            reply = server.handle(conn, ram.read(req + 8, length)) or b""
            ram.write(resp + 8, reply)
            ram.write(resp, csr.pack(notify, len(reply), r_ack, r_wait))
            replied.set()

    def wait(timeout):
        replied.wait(0.05 if timeout is None else min(timeout, 0.05))
        replied.clear()

    thread = threading.Thread(target=hsm, daemon=True)
    thread.start()
    try:
        t = MemTransport(
            ram.read, ram.write, req, half, resp, half, csr_order=csr_order, doorbell=doorbell.set, wait=wait
        )
        hsm_client = Client(t, client_id=7, order="big" if csr_order == ">" else "little")
        assert hsm_client.comm_init() == (7, server.config.server_id)
        assert hsm_client.echo(b"through the mailbox") == b"through the mailbox"
        assert hsm_client.info().comm_data_len == server.config.comm_data_len
        # the transport enforces one exchange at a time, like wolfHSM's (NOTREADY)
        t.send(b"\x01\xa5\x05\x01\x09\x00\x00\x00")
        with pytest.raises(NotReady):
            t.send(b"\x01\xa5\x05\x01\x0a\x00\x00\x00")
        assert t.recv(5) is not None
        with pytest.raises(BadArgs):
            t.send(bytes(half))  # larger than the block's data area
        hsm_client.close()
    finally:
        stop.set()
        thread.join(5)
