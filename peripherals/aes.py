"""AES engine: ECB, CBC, CTR, GCM and CBC-MAC over data moved by DMA, in virtual time.

Our own register block (not register-compatible with the Aurix HSM AES of hw spec 1.4, whose
AESIN/AESOUT registers move one block at a time); the mode opcodes are Aurix's AESCTRL.OPC values
where one exists. The math comes from `cryptography`. Registers (32 bit, offsets from the base):

    0x00 CTRL    rw   OPC[4:0] mode (OPC_* below), KSIZE[9:8] key size (0: 128, 1: 192, 2: 256 bit)
    0x04 CMD     w    1 START: run the operation CTRL describes (any other value: ERR_SEQUENCE)
    0x08 STATUS  w1c  BUSY (bit 0, read only, derived), DONE, ERR_* flags (ST_* below)
    0x0C IRQEN   rw   bit 0 DONE: raise `irq_line` on the HSM whenever DONE is set
    0x10 SRC     rw   bus address of the input (LEN bytes)
    0x14 DST     rw   bus address of the output (LEN bytes; not used by CBC-MAC)
    0x18 LEN     rw   bytes of input: a multiple of 16 for ECB, CBC and CBC-MAC; any for CTR and GCM
    0x1C AAD     rw   GCM: bus address of the additional authenticated data
    0x20 AADLEN  rw   GCM: its length in bytes (0: none)
    0x24 IVLEN   rw   GCM: IV length in bytes, 8..16 (reset 12)
    0x40 KEY0..7 rw   key: KEYk = key bytes 4k..4k+3 as a big-endian word (FIPS-197 words); AES-128
                      uses KEY0..3, AES-256 KEY0..7
    0x60 IV0..3  rw   IV / counter block / chaining value, IVk = bytes 4k..4k+3 big-endian; GCM uses
                      the first IVLEN bytes. Updated when an operation ends (below)
    0x70 TAG0..3 r    GCM: the tag the engine computed (for GCMDEC too: firmware compares it)

Modes (CTRL.OPC): ECBENC 0x00, ECBDEC 0x01, CBCENC 0x02, CBCDEC 0x03, CTR 0x04 (full 128-bit
big-endian counter, as wolfCrypt and SP 800-38A), GCMENC 0x08, GCMDEC 0x09, and CBCMAC 0x0E (our own:
CBC encryption that writes nothing and leaves the last block in IV0..3; with one ECB encryption of the
zero block for the subkeys, that is everything CMAC needs, the rest is XOR in firmware). A board
enables a subset (`modes`) and key sizes (`key_sizes`); others end at once with ERR_MODE / ERR_KEY,
so firmware falls back to software.

After an operation IV0..3 hold what continues the stream: CBCENC / CBCMAC the last ciphertext block,
CBCDEC the last input block, CTR the next counter block; ECB and GCM leave them unchanged.

Command protocol (as the flash controller): START while BUSY is refused with ERR_SEQUENCE (the running
operation still ends with DONE). Otherwise START clears DONE and the ERR_* flags, then either refuses
at once (DONE plus ERR_MODE, ERR_KEY, ERR_LEN or ERR_DMA; nothing is written), or sets BUSY for
`setup_cycles + blocks * cycles_per_block` cycles of `clock_hz` (AES-192/256 blocks cost 12/10 and
14/10 of an AES-128 block, by round count; GCM adds its AAD blocks and two blocks for J0 and the tag),
then DONE at a completion event where the output is written and IV/TAG change. The engine reads its
input, key and IV when START is written, so they may be refilled while BUSY.

DMA: SRC, DST and AAD must each lie inside one of the memories the profile lists in `dma_memories`
(HSM-side bus addresses); DST only in RAM. Anything else is ERR_DMA. A read of flash goes through the
flash controller's read guard (a busy sector stalls the engine, an ECC error is ERR_DMA).

Power loss or reset while BUSY aborts the operation: nothing is written (the completion event goes
stale). `inject_glitch(bit)` flips bit `bit` % 8 of byte `bit` // 8 of the output of the running (or
next) operation (the written data; for CBC-MAC the IV registers as bytes), for fault injection.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emulator.device import Device, DeviceContext, DmaWindow
from emulator.regs import Reg, RegisterMap

OPC_ECBENC = 0x00
OPC_ECBDEC = 0x01
OPC_CBCENC = 0x02
OPC_CBCDEC = 0x03
OPC_CTR = 0x04
OPC_GCMENC = 0x08
OPC_GCMDEC = 0x09
OPC_CBCMAC = 0x0E

MODE_OPCODES = {
    "ecb": (OPC_ECBENC, OPC_ECBDEC),
    "cbc": (OPC_CBCENC, OPC_CBCDEC),
    "ctr": (OPC_CTR,),
    "gcm": (OPC_GCMENC, OPC_GCMDEC),
    "cbcmac": (OPC_CBCMAC,),
}
KSIZE_BITS = {0: 128, 1: 192, 2: 256}
ROUNDS = {128: 10, 192: 12, 256: 14}

CMD_START = 1

ST_BUSY = 1 << 0
ST_DONE = 1 << 1
ST_ERR_SEQUENCE = 1 << 2  # START while busy, or an unknown CMD value
ST_ERR_MODE = 1 << 3  # mode not implemented by this engine (profile `modes`)
ST_ERR_KEY = 1 << 4  # key size not implemented by this engine (profile `key_sizes`)
ST_ERR_LEN = 1 << 5  # LEN not a multiple of 16 where required, or IVLEN outside 8..16 for GCM
ST_ERR_DMA = 1 << 6  # SRC, DST or AAD outside the DMA memories (or DST not RAM, or a flash ECC error)
ERRORS = ST_ERR_SEQUENCE | ST_ERR_MODE | ST_ERR_KEY | ST_ERR_LEN | ST_ERR_DMA

_STATUS_FIELDS = {
    "BUSY": (0, 1),
    "DONE": (1, 1),
    "ERR_SEQUENCE": (2, 1),
    "ERR_MODE": (3, 1),
    "ERR_KEY": (4, 1),
    "ERR_LEN": (5, 1),
    "ERR_DMA": (6, 1),
}


class AesEngine(Device):
    REGS = RegisterMap(
        "aes",
        [
            Reg("CTRL", 0x00, "rw", fields={"OPC": (0, 5), "KSIZE": (8, 2)}, doc="mode opcode and key size"),
            Reg("CMD", 0x04, "w", doc="1: START"),
            Reg("STATUS", 0x08, "w1c", fields=_STATUS_FIELDS, doc="BUSY (derived), DONE, error flags"),
            Reg("IRQEN", 0x0C, "rw", fields={"DONE": (0, 1)}, doc="raise irq_line on the HSM when DONE is set"),
            Reg("SRC", 0x10, "rw", doc="bus address of the input"),
            Reg("DST", 0x14, "rw", doc="bus address of the output"),
            Reg("LEN", 0x18, "rw", doc="input length in bytes"),
            Reg("AAD", 0x1C, "rw", doc="GCM: bus address of the additional authenticated data"),
            Reg("AADLEN", 0x20, "rw", doc="GCM: AAD length in bytes"),
            Reg("IVLEN", 0x24, "rw", reset=12, doc="GCM: IV length in bytes (8..16)"),
        ]
        + [Reg(f"KEY{i}", 0x40 + 4 * i, "rw", doc=f"key bytes {4 * i}..{4 * i + 3}, big-endian") for i in range(8)]
        + [Reg(f"IV{i}", 0x60 + 4 * i, "rw", doc=f"IV bytes {4 * i}..{4 * i + 3}, big-endian") for i in range(4)]
        + [Reg(f"TAG{i}", 0x70 + 4 * i, "r", doc=f"GCM tag bytes {4 * i}..{4 * i + 3}, big-endian") for i in range(4)],
    )
    STATE = ("gen", "op", "glitch")
    CONFIG = {
        "clock_hz": int,  # engine clock the cycle costs count in
        "setup_cycles": int,  # per operation: key schedule, DMA descriptor set-up
        "cycles_per_block": int,  # per 16-byte block of AES-128 (DMA in and out included)
        "modes": list,  # of "ecb", "cbc", "ctr", "gcm", "cbcmac"
        "key_sizes": list,  # of 128, 192, 256
        "dma_memories": list,  # names of the memories the engine may DMA from (and, if RAM, to)
        "irq_line": int,  # HSM interrupt line raised on DONE when IRQEN.DONE
    }

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.clock_hz = int(config.get("clock_hz", 100_000_000))
        self.setup_cycles = int(config.get("setup_cycles", 60))
        self.cycles_per_block = int(config.get("cycles_per_block", 40))
        self.irq_line = int(config.get("irq_line", 11))
        mode_names = list(config.get("modes", list(MODE_OPCODES)))
        unknown = [m for m in mode_names if m not in MODE_OPCODES]
        if unknown:
            raise ValueError(f"modes: unknown {unknown} (known: {', '.join(MODE_OPCODES)})")
        self.modes = mode_names
        self.opcodes = {op for m in mode_names for op in MODE_OPCODES[m]}
        self.key_sizes = [int(k) for k in config.get("key_sizes", [128, 192, 256])]
        if not self.key_sizes or set(self.key_sizes) - set(ROUNDS):
            raise ValueError(f"key_sizes must be a non-empty subset of [128, 192, 256], got {self.key_sizes}")
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
        if self.op is not None or value != CMD_START:
            self._set(ST_ERR_SEQUENCE)
            self.ctx.trace("aes-error", "START while busy" if self.op is not None else f"unknown command {value}")
            return
        self.regs.set("STATUS", 0)
        err = self._start()
        if err:
            self.ctx.trace("aes-error", _flag_names(err))
            self._done(err)

    def _words(self, prefix: str, count: int) -> bytes:
        return b"".join(self.regs.get(f"{prefix}{i}").to_bytes(4, "big") for i in range(count))

    def _set_words(self, prefix: str, data: bytes) -> dict[str, int]:
        return {f"{prefix}{i}": int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(len(data) // 4)}

    def _start(self) -> int:
        ctrl = self.regs.get("CTRL")
        opc = ctrl & 0x1F
        bits = KSIZE_BITS.get((ctrl >> 8) & 3)
        if opc not in self.opcodes:
            return ST_ERR_MODE
        if bits not in self.key_sizes:
            return ST_ERR_KEY
        length = self.regs.get("LEN")
        gcm = opc in (OPC_GCMENC, OPC_GCMDEC)
        ivlen = self.regs.get("IVLEN")
        if opc not in (OPC_CTR, OPC_GCMENC, OPC_GCMDEC) and length % 16:
            return ST_ERR_LEN
        if gcm and not 8 <= ivlen <= 16:
            return ST_ERR_LEN
        src = self.dma.read(self.regs.get("SRC"), length)
        aad = self.dma.read(self.regs.get("AAD"), self.regs.get("AADLEN")) if gcm else (b"", 0)
        dst = self.regs.get("DST")
        if src is None or aad is None or (opc != OPC_CBCMAC and not self.dma.writable(dst, length)):
            return ST_ERR_DMA
        data, stall = src
        key = self._words("KEY", bits // 32)
        iv = self._words("IV", 4)
        out, regs = self._compute(opc, key, iv, ivlen, data, aad[0])
        blocks = -(-length // 16)
        if gcm:
            blocks += -(-len(aad[0]) // 16) + 2
        cycles = self.setup_cycles + blocks * (self.cycles_per_block * ROUNDS[bits] // 10)
        ticks = self.ctx.ticks(cycles, self.clock_hz) + stall + aad[1]
        writes = [(dst, out)] if opc != OPC_CBCMAC and out else []
        self._begin(ticks, writes, regs, f"opc 0x{opc:02x} AES-{bits} {length} B")
        return 0

    def _compute(self, opc: int, key: bytes, iv: bytes, ivlen: int, data: bytes, aad: bytes) -> tuple[bytes, dict]:
        aes = algorithms.AES(key)
        if opc in (OPC_ECBENC, OPC_ECBDEC):
            c = Cipher(aes, modes.ECB())
            ctx = c.encryptor() if opc == OPC_ECBENC else c.decryptor()
            return ctx.update(data) + ctx.finalize(), {}
        if opc in (OPC_CBCENC, OPC_CBCMAC):
            enc = Cipher(aes, modes.CBC(iv)).encryptor()
            out = enc.update(data) + enc.finalize()
            return out, (self._set_words("IV", out[-16:]) if out else {})
        if opc == OPC_CBCDEC:
            dec = Cipher(aes, modes.CBC(iv)).decryptor()
            out = dec.update(data) + dec.finalize()
            return out, (self._set_words("IV", data[-16:]) if data else {})
        if opc == OPC_CTR:
            enc = Cipher(aes, modes.CTR(iv)).encryptor()
            out = enc.update(data) + enc.finalize()
            nxt = (int.from_bytes(iv, "big") + -(-len(data) // 16)) % (1 << 128)
            return out, self._set_words("IV", nxt.to_bytes(16, "big"))
        # GCM: the engine always outputs the tag over the ciphertext; for decryption the keystream
        # (an encryption of the ciphertext) gives the plaintext, then a second pass gives the tag
        nonce = iv[:ivlen]
        enc = Cipher(aes, modes.GCM(nonce)).encryptor()
        if opc == OPC_GCMDEC:
            out = enc.update(data) + enc.finalize()
            enc = Cipher(aes, modes.GCM(nonce)).encryptor()
            enc.authenticate_additional_data(aad)
            enc.update(out)
            enc.finalize()
        else:
            enc.authenticate_additional_data(aad)
            out = enc.update(data) + enc.finalize()
        return out, self._set_words("TAG", enc.tag)

    # ------------------------------------------------------------------ operation life cycle
    def _begin(self, ticks: int, writes: list[tuple[int, bytes]], regs: dict[str, int], what: str) -> None:
        now = self.ctx.now()
        self.gen += 1
        self.op = {"start": now, "end": now + ticks, "writes": writes, "regs": regs}
        self.ctx.trace("aes-start", what)
        self.ctx.schedule(ticks, self._complete, self.gen)

    def _complete(self, gen: int) -> None:
        op = self.op
        if gen != self.gen or op is None:
            return  # aborted by a reset or a power cut
        writes, regs = op["writes"], dict(op["regs"])
        if self.glitch is not None:
            writes, regs = _flip(writes, regs, self.glitch)
            self.ctx.trace("aes-glitch", f"bit {self.glitch}")
            self.glitch = None
        for addr, data in writes:
            self.dma.write(addr, data)
        for name, value in regs.items():
            self.regs.set(name, value)
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
            self.ctx.trace("aes-abort", "power cut")
        self.gen += 1
        self.op = None

    # ------------------------------------------------------------------ Python API
    @property
    def busy(self) -> bool:
        return self.op is not None

    def inject_glitch(self, bit: int = 0) -> None:
        """Flip bit `bit` % 8 of byte `bit` // 8 (modulo the size) of the output of the running or next operation."""
        self.glitch = int(bit)


def _flip(writes: list[tuple[int, bytes]], regs: dict[str, int], bit: int) -> tuple[list, dict]:
    """Flip bit `bit` % 8 of byte `bit` // 8 of the output: the DMA data if any, else the result registers."""
    if writes:
        addr, data = writes[0]
        b = bit % (8 * len(data))
        buf = bytearray(data)
        buf[b // 8] ^= 1 << (b % 8)
        return [(addr, bytes(buf)), *writes[1:]], regs
    if regs:
        names = list(regs)
        raw = bytearray(b"".join(regs[n].to_bytes(4, "big") for n in names))
        b = bit % (8 * len(raw))
        raw[b // 8] ^= 1 << (b % 8)
        return writes, {n: int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i, n in enumerate(names)}
    return writes, regs


def _flag_names(bits: int) -> str:
    return ", ".join(n for n, (lsb, _) in _STATUS_FIELDS.items() if bits >> lsb & 1) or "none"
