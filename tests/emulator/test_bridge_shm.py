"""wolfHSM's POSIX shared-memory transport, with a client written here from wolfhsm-wire-core.md §1.3-1.4."""

import ctypes
import mmap
import os
import struct
import time
import uuid

from .bridge_util import running_board

INIT_REQ = bytes.fromhex("01a50101010000000100000" "0")
INIT_RESP = bytes.fromhex("01a5010101000000010000003900000" "0")


class ShmClient:
    """The client ("user") side: attach, then CSR hand-shake with single 64-bit stores."""

    def __init__(self, name: str, timeout: float = 10.0) -> None:
        path = f"/dev/shm/{name}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(path, os.O_RDWR)
                if os.fstat(fd).st_size >= 64:
                    head = mmap.mmap(fd, 64)
                    if struct.unpack_from("<I", head, 0)[0] == 2:
                        break
                    head.close()
                os.close(fd)
            except FileNotFoundError:
                pass
            assert time.monotonic() < deadline, "server never created the object"
            time.sleep(0.01)
        self.req_size, self.resp_size, self.dma_size = struct.unpack_from("<HHQ", head, 4)
        head.close()
        size = 64 + self.req_size + self.resp_size + self.dma_size
        self.map = mmap.mmap(fd, size)
        os.close(fd)
        os.unlink(path)  # the client removes the name (so every session needs a new object)
        struct.pack_into("<I", self.map, 20, os.getpid())
        struct.pack_into("<I", self.map, 0, 3)
        self.req, self.resp = 64, 64 + self.req_size
        self.map[self.req : self.req + self.req_size] = bytes(self.req_size)
        self.map[self.resp : self.resp + self.resp_size] = bytes(self.resp_size)

    def _csr(self, off):
        return struct.unpack("<HHHH", struct.pack("<Q", ctypes.c_uint64.from_buffer(self.map, off).value))

    def roundtrip(self, packet: bytes, timeout: float = 10.0) -> bytes:
        notify, _, ack, wait = self._csr(self.req)
        assert notify == self._csr(self.resp)[0]
        self.map[self.req + 8 : self.req + 8 + len(packet)] = packet
        word = struct.unpack("<Q", struct.pack("<HHHH", (notify + 1) & 0xFFFF, len(packet), ack, wait))[0]
        ctypes.c_uint64.from_buffer(self.map, self.req).value = word
        deadline = time.monotonic() + timeout
        while self._csr(self.resp)[0] != (notify + 1) & 0xFFFF:
            assert time.monotonic() < deadline, "no response"
            time.sleep(0.0005)
        n = self._csr(self.resp)[1]
        return bytes(self.map[self.resp + 8 : self.resp + 8 + n])


def test_shm_session_and_recreation():
    name = f"hsmemu_test_{uuid.uuid4().hex[:8]}"
    with running_board(listen=(f"shm://{name}",)) as (soc, bridge, _):
        c = ShmClient(name)
        assert c.req_size >= 8 + 5128 and c.dma_size == 8000  # a block carries any v1.4.0 packet
        assert c.roundtrip(INIT_REQ) == INIT_RESP
        echo = bytes.fromhex("01a5050102000000") + b"x" * 3000
        assert c.roundtrip(echo) == echo
        assert c.roundtrip(bytes.fromhex("01a5030103000000")) == bytes.fromhex("01a5030103000000")
        # after COMM CLOSE the server creates the object anew for the next session
        c2 = ShmClient(name)
        assert c2.roundtrip(INIT_REQ) == INIT_RESP
