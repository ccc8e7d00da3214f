"""A board with the host bridge, running in a background thread, for bridge tests."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from emulator.bridge import HostBridge
from emulator.soc import Soc
from emulator.trace import Trace

HSM_FW = "firmware.hsm.firmware:HsmFirmware"


@contextlib.contextmanager
def running_board(
    board: str = "spc58nn",
    listen: tuple[str, ...] = ("tcp://127.0.0.1:0",),
    tls=None,
    logs=None,
    hsm_fw=HSM_FW,
    settle: bool = False,
):
    soc = Soc(board, firmware={"hsm": hsm_fw}, trace=Trace("events"), console=lambda s, t: None)
    bridge = HostBridge(soc, log=(logs.append if logs is not None else (lambda m: None)))
    bound = [bridge.listen(url, tls) for url in listen]
    stop = threading.Event()

    settled = threading.Event()

    def run() -> None:
        # the SoC belongs to this thread (the HSM firmware's greenlet cannot change threads)
        if settle:  # let the app demo finish first (its NVM destroys wait for flash erases)
            soc.run_until_idle(limit_ns=2_000_000_000)
        settled.set()
        while not stop.is_set():
            soc.run_for(soc.timebase.ns(50_000_000))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    settled.wait(60)
    try:
        yield soc, bridge, bound
    finally:
        stop.set()
        soc.kernel.request_stop("test over")
        bridge.wakeup.set()
        t.join(timeout=10)
        bridge.shutdown()


def connect(url: str) -> socket.socket:
    if url.startswith("unix://"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(url[len("unix://") :])
    else:
        host, port = url.split("://")[1].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def roundtrip(s: socket.socket, packet: bytes) -> bytes:
    s.sendall(struct.pack(">I", len(packet)) + packet)
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return recv_exact(s, n)
