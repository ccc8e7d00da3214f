"""SHA-256 engine: the compression function over whole 64-byte blocks, from any midstate.

The engine neither pads nor finalises: firmware loads a midstate (or INITs one), lets the engine
compress N blocks fetched by DMA, reads the new midstate, and does the padding of the last block
itself. So one engine serves one-shot hashing, SHA-224 (its own IV, truncated output) and wolfHSM's
midstate protocol, where the client carries the state between messages.

Our own register block, named after the Aurix HSM HASH block (hw spec 1.4: HASH_CFG, HASH_STAT,
HASH_IVIN, HASH_VAL; SHA-256 is its widest algorithm, no SHA-384/512 in hardware); not
register-compatible. Registers (32 bit, offsets from the base):

    0x00 CMD     w    1 START: compress LEN / 64 blocks from SRC into H0..H7
                      2 INIT_SHA256: H0..H7 <- the SHA-256 initial value (FIPS 180-4 5.3.3)
                      3 INIT_SHA224: H0..H7 <- the SHA-224 initial value (FIPS 180-4 5.3.2)
                      other values: ERR_SEQUENCE
    0x04 STATUS  w1c  BUSY (bit 0, read only, derived), DONE (bit 1), ERR_SEQUENCE (bit 2: a command
                      while busy, or unknown), ERR_LEN (bit 5: LEN not a multiple of 64), ERR_DMA (bit
                      6: SRC outside the DMA memories, or a flash ECC error)
    0x08 IRQEN   rw   bit 0 DONE: raise `irq_line` on the HSM whenever DONE is set
    0x0C SRC     rw   bus address of the message blocks
    0x10 LEN     rw   bytes to compress, a multiple of 64 (0 is allowed: nothing changes)
    0x20 H0..H7  rw   the chaining value as SHA-256 words (H0 = 0x6A09E667 after INIT_SHA256):
                      written by firmware before START (a midstate), the result after DONE.
                      Reset value: the SHA-256 initial value. The digest is H0..H7 big-endian.

START while BUSY is refused with ERR_SEQUENCE (the running operation still ends with DONE); INIT while
BUSY likewise. Otherwise START clears DONE and the ERR flags, then either ends at once with DONE plus
ERR_LEN or ERR_DMA (H unchanged), or sets BUSY for `setup_cycles + blocks * cycles_per_block` cycles
of `clock_hz`; at the completion event H0..H7 take the result and DONE sets. The engine takes the
blocks and H when START is written. INIT completes at once (no DONE, no interrupt).

DMA: SRC must lie inside one of the memories in the profile's `dma_memories` (a read of flash goes
through the flash controller's read guard: a busy sector stalls the engine, an ECC error is ERR_DMA).

Power loss or reset while BUSY aborts the operation (H stays as it was; reset sets the IV).
`inject_glitch(bit)` flips one bit of the result of the running (or next) operation.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any

from emulator.device import Device, DeviceContext, DmaWindow
from emulator.regs import Reg, RegisterMap

CMD_START = 1
CMD_INIT_SHA256 = 2
CMD_INIT_SHA224 = 3

ST_BUSY = 1 << 0
ST_DONE = 1 << 1
ST_ERR_SEQUENCE = 1 << 2
ST_ERR_LEN = 1 << 5
ST_ERR_DMA = 1 << 6

_STATUS_FIELDS = {"BUSY": (0, 1), "DONE": (1, 1), "ERR_SEQUENCE": (2, 1), "ERR_LEN": (5, 1), "ERR_DMA": (6, 1)}

IV_SHA256 = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
IV_SHA224 = (0xC1059ED8, 0x367CD507, 0x3070DD17, 0xF70E5939, 0xFFC00B31, 0x68581511, 0x64F98FA7, 0xBEFA4FA4)

_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip


def compress(state: tuple[int, ...] | list[int], data: bytes) -> tuple[int, ...]:
    """SHA-256 compression (FIPS 180-4 6.2.2) of whole 64-byte blocks, starting from `state`.

    Uses OpenSSL's block function through libcrypto when the host has it (about 40x faster than
    Python), else the Python version below; both give the same words.
    """
    if len(data) % 64:
        raise ValueError("SHA-256 compresses whole 64-byte blocks")
    if _openssl_blocks is not None and data:
        return _openssl_blocks(state, data)
    return compress_py(state, data)


def compress_py(state: tuple[int, ...] | list[int], data: bytes) -> tuple[int, ...]:
    """The compression function in Python (reference and fallback)."""
    m = 0xFFFFFFFF
    k = _K
    h0, h1, h2, h3, h4, h5, h6, h7 = state
    for off in range(0, len(data), 64):
        w = list(struct.unpack_from(">16I", data, off))
        for i in range(16, 64):
            x = w[i - 15]
            y = w[i - 2]
            s0 = ((x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)) & m
            s1 = ((y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)) & m
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & m)
        a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
        for i in range(64):
            t1 = (
                h
                + (((e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)) & m)
                + ((e & f) ^ (~e & g))
                + k[i]
                + w[i]
            )
            t2 = (((a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)) & m) + ((a & b) ^ (a & c) ^ (b & c))
            h = g
            g = f
            f = e
            e = (d + t1) & m
            d = c
            c = b
            b = a
            a = (t1 + t2) & m
        h0 = (h0 + a) & m
        h1 = (h1 + b) & m
        h2 = (h2 + c) & m
        h3 = (h3 + d) & m
        h4 = (h4 + e) & m
        h5 = (h5 + f) & m
        h6 = (h6 + g) & m
        h7 = (h7 + h) & m
    return h0, h1, h2, h3, h4, h5, h6, h7


def _load_openssl() -> Any:
    """OpenSSL's SHA256_Update on a context whose state we set: compresses whole blocks from a midstate.

    SHA256_CTX is {uint32 h[8], Nl, Nh, data[16]; unsigned num, md_len} (28 words). With num = 0 and
    whole blocks, SHA256_Update runs the block function on every block and buffers nothing; the
    counters it advances are never read. Checked against the Python version before it is used.
    """
    update = None
    for name in ("libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib"):
        try:
            update = ctypes.CDLL(name).SHA256_Update
            break
        except (OSError, AttributeError):
            continue
    if update is None:
        return None
    update.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    update.restype = ctypes.c_int

    def blocks(state: tuple[int, ...] | list[int], data: bytes) -> tuple[int, ...]:
        ctx = (ctypes.c_uint32 * 32)()  # 28 words used, some slack
        ctx[0:8] = list(state)
        ctx[27] = 32
        if update(ctx, bytes(data), len(data)) != 1:
            return compress_py(state, data)
        return tuple(ctx[0:8])

    probe = bytes(range(128))
    try:
        ok = blocks(IV_SHA224, probe) == compress_py(IV_SHA224, probe)
    except (OSError, ValueError, TypeError, ctypes.ArgumentError):
        ok = False
    return blocks if ok else None


_openssl_blocks = _load_openssl()


class ShaEngine(Device):
    REGS = RegisterMap(
        "sha",
        [
            Reg("CMD", 0x00, "w", doc="1 START, 2 INIT_SHA256, 3 INIT_SHA224"),
            Reg("STATUS", 0x04, "w1c", fields=_STATUS_FIELDS, doc="BUSY (derived), DONE, error flags"),
            Reg("IRQEN", 0x08, "rw", fields={"DONE": (0, 1)}, doc="raise irq_line on the HSM when DONE is set"),
            Reg("SRC", 0x0C, "rw", doc="bus address of the message blocks"),
            Reg("LEN", 0x10, "rw", doc="bytes to compress (multiple of 64)"),
        ]
        + [
            Reg(f"H{i}", 0x20 + 4 * i, "rw", reset=IV_SHA256[i], doc=f"chaining value word {i} (midstate/result)")
            for i in range(8)
        ],
    )
    STATE = ("gen", "op", "glitch")
    CONFIG = {
        "clock_hz": int,  # engine clock the cycle costs count in
        "setup_cycles": int,  # per operation (DMA set-up, loading H)
        "cycles_per_block": int,  # per 64-byte block (64 rounds plus the DMA of the block)
        "dma_memories": list,  # names of the memories the engine may read
        "irq_line": int,  # HSM interrupt line raised on DONE when IRQEN.DONE
    }

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.clock_hz = int(config.get("clock_hz", 100_000_000))
        self.setup_cycles = int(config.get("setup_cycles", 40))
        self.cycles_per_block = int(config.get("cycles_per_block", 80))
        self.irq_line = int(config.get("irq_line", 12))
        if self.setup_cycles < 0 or self.cycles_per_block <= 0:
            raise ValueError("setup_cycles must not be negative and cycles_per_block must be positive")
        self.dma = DmaWindow(ctx, list(config.get("dma_memories", ["hsm_ram"])))
        self.gen = 0
        self.op: dict[str, Any] | None = None
        self.glitch: int | None = None

    # ------------------------------------------------------------------ registers
    def read_STATUS(self, master: str) -> int:
        return self.regs.get("STATUS") | (ST_BUSY if self.op is not None else 0)

    def write_CMD(self, master: str, value: int) -> None:
        if self.op is not None or value not in (CMD_START, CMD_INIT_SHA256, CMD_INIT_SHA224):
            self._set(ST_ERR_SEQUENCE)
            self.ctx.trace("sha-error", "command while busy" if self.op is not None else f"unknown command {value}")
            return
        if value != CMD_START:
            self._set_state(IV_SHA256 if value == CMD_INIT_SHA256 else IV_SHA224)
            return
        self.regs.set("STATUS", 0)
        length = self.regs.get("LEN")
        if length % 64:
            self._refuse(ST_ERR_LEN)
            return
        src = self.dma.read(self.regs.get("SRC"), length)
        if src is None:
            self._refuse(ST_ERR_DMA)
            return
        data, stall = src
        result = compress(self.state(), data)
        cycles = self.setup_cycles + length // 64 * self.cycles_per_block
        ticks = self.ctx.ticks(cycles, self.clock_hz) + stall
        now = self.ctx.now()
        self.gen += 1
        self.op = {"start": now, "end": now + ticks, "result": result}
        self.ctx.trace("sha-start", f"{length // 64} block(s) from 0x{self.regs.get('SRC'):08x}")
        self.ctx.schedule(ticks, self._complete, self.gen)

    def _refuse(self, bits: int) -> None:
        self.ctx.trace("sha-error", ", ".join(n for n, (lsb, _) in _STATUS_FIELDS.items() if bits >> lsb & 1))
        self._done(bits)

    def _complete(self, gen: int) -> None:
        op = self.op
        if gen != self.gen or op is None:
            return  # aborted by a reset or a power cut
        result = list(op["result"])
        if self.glitch is not None:
            raw = bytearray(b"".join(w.to_bytes(4, "big") for w in result))
            b = self.glitch % 256
            raw[b // 8] ^= 1 << (b % 8)
            result = [int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(8)]
            self.ctx.trace("sha-glitch", f"bit {self.glitch}")
            self.glitch = None
        self._set_state(result)
        self.op = None
        self._done(0)

    def _set(self, bits: int) -> None:
        self.regs.set("STATUS", self.regs.get("STATUS") | bits)

    def _done(self, bits: int) -> None:
        self._set(ST_DONE | bits)
        if self.regs.get("IRQEN") & 1:
            self.ctx.raise_irq("hsm", self.irq_line)

    def reset(self) -> None:
        super().reset()
        self.gen += 1
        self.op = None

    def power_cut(self, rng: Any) -> None:
        if self.op is not None:
            self.ctx.trace("sha-abort", "power cut")
        self.gen += 1
        self.op = None

    # ------------------------------------------------------------------ Python API
    def state(self) -> tuple[int, ...]:
        """H0..H7 as they are now."""
        return tuple(self.regs.get(f"H{i}") for i in range(8))

    def _set_state(self, words: tuple[int, ...] | list[int]) -> None:
        for i, w in enumerate(words):
            self.regs.set(f"H{i}", w)

    @property
    def busy(self) -> bool:
        return self.op is not None

    def inject_glitch(self, bit: int = 0) -> None:
        """Flip bit `bit` % 8 of byte `bit` // 8 of the digest (H0..H7 big-endian) of the running or next operation."""
        self.glitch = int(bit)
