"""The HSM server firmware: serves wolfHSM requests arriving on the mailbox channels.

Channel layout (wolfHSM's generic shared-memory transport, one pair of blocks per channel): the
request block at the channel base, the response block at base + size/2; each block is an 8-byte
CSR {u16 notify, u16 len, u16 ack, u16 wait} followed by the packet. CSRs are in the app cores'
byte order. A request is new when req.notify != resp.notify; the reply copies req.notify.
Convention of this emulator: the host side may keep a session number in the request CSR's `wait`
field (wolfHSM's library never uses it); when it changes, the channel's connection state is reset,
as wolfHSM does on reconnect. Attached host clients use that; app cores leave it 0.
"""

from __future__ import annotations

import struct
from typing import Any

from .context import Connection
from .server import Server, default_server


class HsmFirmware:
    def __init__(self) -> None:
        self.server: Server | None = None
        self.conns: dict[int, Connection] = {}
        self.sessions: dict[int, int] = {}
        self.served = 0
        self.dropped = 0

    def make_server(self, hal: Any) -> Server:
        """Build the server; integrators subclass to add custom callbacks or another NVM back-end."""
        from .config import ServerConfig
        from .nvm_ram import RamNvm

        params = dict(getattr(hal, "params", {}) or {})
        self.nvm_reformat = bool(params.pop("nvm_reformat", False))  # used by the flash-backed NVM store
        nvm_kind = str(params.pop("nvm", "auto"))  # "auto": flash when the board has a controller; "flash"; "ram"
        crypto_kind = str(params.pop("crypto", "auto"))  # "auto": accelerators when the board has any; "hw"; "sw"
        crypto_scratch = params.pop("crypto_scratch", None)  # bus address of the 16 KiB accelerator buffer
        known = {f for f in ServerConfig.__dataclass_fields__}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown HSM params {unknown}; known: {sorted(known)}")
        for k in ("version", "build"):
            if k in params:
                params[k] = str(params[k]).encode()
        config = ServerConfig(**params)
        # NVM: the power-loss-safe store on the board's HSM data flash controller, else RAM only
        if nvm_kind not in ("auto", "flash", "ram"):
            raise ValueError(f"HSM param nvm must be auto, flash or ram, not {nvm_kind!r}")
        flashes = hal.peripherals_of_type("flash") if hasattr(hal, "peripherals_of_type") else []
        if nvm_kind == "flash" and not flashes:
            raise ValueError("HSM param nvm = flash, but the board has no flash controller")
        if flashes and nvm_kind != "ram":
            from .nvm_flash import FlashNvm, HalFlash

            nvm: Any = FlashNvm(
                HalFlash(hal, flashes[0]), object_count=config.nvm_object_count, reformat=self.nvm_reformat
            )
        else:
            nvm = RamNvm(object_count=config.nvm_object_count)
        server = default_server(config=config, nvm=nvm)
        # crypto: the accelerators (AES, SHA-256, TRNG) through the HAL, else the software engine
        if crypto_kind not in ("auto", "hw", "sw"):
            raise ValueError(f"HSM param crypto must be auto, hw or sw, not {crypto_kind!r}")
        kinds = getattr(hal, "peripherals_of_type", lambda _t: [])
        accels = [t for t in ("aes", "sha", "trng") if kinds(t)]
        if crypto_kind == "hw" and not accels:
            raise ValueError("HSM param crypto = hw, but the board has no crypto accelerator")
        if accels and crypto_kind != "sw":
            from .crypto.hw_engine import SCRATCH_SIZE, HardwareEngine

            scratch = None if crypto_scratch is None else (int(crypto_scratch), SCRATCH_SIZE)
            server.crypto_engine = HardwareEngine(hal, seed=config.rng_seed, scratch=scratch)
        return server

    def boot(self, hal: Any) -> None:
        mb = hal.peripheral("mailbox")
        self.base = mb["base"]
        self.regs = dict(mb["registers"])
        self.irq = int(mb["hsm_irq"])
        self.csr_fmt = (">" if hal.big_endian else "<") + "HHHH"
        if "HT2HSMIE" in self.regs:
            hal.write32(self.base + self.regs["HT2HSMIE"], 0xFFFF_FFFF)
        self.server = self.make_server(hal)
        hal.trace("boot", f"wolfHSM server firmware, wire {self.server.wire.name}")

    def serve(self, hal: Any) -> None:
        ht2hsmf = self.base + self.regs["HT2HSMF"]
        while True:
            hal.wait_irq(1 << self.irq)
            hal.ack_irq(self.irq)
            flags = hal.read32(ht2hsmf)
            hal.write32(ht2hsmf, flags)  # the HSM clears what it took
            bit = 0
            while flags:
                if flags & 1:
                    self.serve_channel(hal, bit)
                flags >>= 1
                bit += 1

    def serve_channel(self, hal: Any, bit: int) -> None:
        channels = hal.mailbox_channels()
        if bit >= len(channels):
            return
        ch = channels[bit]
        half = ch["size"] // 2
        req_base, resp_base = ch["base"], ch["base"] + half
        notify, length, _ack, session = struct.unpack(self.csr_fmt, hal.read(req_base, 8))
        r_notify, _r_len, r_ack, r_wait = struct.unpack(self.csr_fmt, hal.read(resp_base, 8))
        conn = self.conns.get(bit)
        if conn is None:
            conn = self.conns[bit] = Connection(bit)
        if self.sessions.get(bit, 0) != session:
            self.sessions[bit] = session
            self.server.close_connection(conn)  # type: ignore[union-attr]
        if notify == r_notify:
            return  # nothing new (a doorbell for a session change, or a spurious one)
        packet = hal.read(req_base + 8, min(length, half - 8))
        reply = self.server.handle(conn, packet, hal)  # type: ignore[union-attr]
        if reply is None:
            self.dropped += 1
            hal.trace("request-dropped", f"channel {bit}: {length}-byte packet refused")
            reply = b""  # an empty response: the client side treats it as fatal
        elif len(reply) > half - 8:
            reply = reply[: half - 8]
        hal.write(resp_base + 8, reply)
        hal.write(resp_base, struct.pack(self.csr_fmt, notify, len(reply), r_ack, r_wait))
        hal.write32(self.base + self.regs["HSM2HTF"], 1 << bit)
        self.served += 1
        if conn.closed:
            self.server.close_connection(conn)  # type: ignore[union-attr]
