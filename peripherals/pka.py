"""Public-key accelerator: ECDSA P-256, P-256 ECDH, Ed25519 and X25519 on operand registers.

Our own register block (not register-compatible with the Aurix HSM PKC of hw spec 1.4, which runs
field and point primitives on 32 x 256-bit shared-crypto-memory registers; it has ECDSASIG 0x30 and
ECDSAVER 0x31, whose type codes our ECDSA opcodes reuse, and Ed25519/X25519 scalar multiplication).
Whole operations run at once here; the math comes from `cryptography`. Registers (32 bit):

    0x000 CMD     w    write an opcode (OP_* below): the operation starts
    0x004 STATUS  w1c  BUSY (bit 0, read only, derived), DONE (bit 1), ERR_SEQUENCE (bit 2: opcode
                       while busy), ERR_MODE (bit 3: opcode unknown or not on this board), ERR_OPERAND
                       (bit 4: a private scalar out of range, a public key not on the curve, an
                       all-zero shared secret), ERR_DMA (bit 6: the message is outside the DMA
                       memories), VALID (bit 8: result of the last verify: the signature is valid)
    0x008 IRQEN   rw   bit 0 DONE: raise `irq_line` when an operation ends without error; bit 1 ERR:
                       raise `err_irq_line` when it ends with an error (Aurix: PKCRdy 8, PKCErr 9)
    0x00C SRC     rw   Ed25519: bus address of the message
    0x010 LEN     rw   Ed25519: message length in bytes
    0x100 R0_0 .. R7_7 rw  eight 32-byte operand registers Rn, word Rn_k = bytes 4k..4k+3 of Rn read
                       big-endian. P-256 integers and coordinates are 32-byte big-endian numbers (as in
                       SEC 1); Ed25519/X25519 keys and signature halves are the RFC 8032 / RFC 7748
                       32-byte strings as they are.

Operand use (inputs -> outputs; a register not named keeps its value):

    OP_P256_PUBKEY      0x20  R0 d                              -> R5 Qx, R6 Qy   (Q = d*G)
    OP_P256_ECDH        0x21  R0 d, R5 Qx, R6 Qy (peer)          -> R7 x of d*Q
    OP_ECDSA_SIGN       0x30  R0 d, R1 e (digest), R2 k (nonce)  -> R3 r, R4 s
    OP_ECDSA_VERIFY     0x31  R5 Qx, R6 Qy, R1 e, R3 r, R4 s     -> STATUS.VALID
    OP_ECDSA_SIGN_DET   0x32  R0 d, R1 e                         -> R3 r, R4 s (k from RFC 6979, HMAC-SHA256)
    OP_X25519           0x28  R0 scalar, R5 u (peer)             -> R7 shared secret
    OP_X25519_PUBKEY    0x29  R0 scalar                          -> R5 u = scalar*9
    OP_ED25519_SIGN     0x2A  R0 seed, message at SRC/LEN         -> R3 R, R4 S (signature = R || S)
    OP_ED25519_VERIFY   0x2B  R5 A (public key), R3 R, R4 S, message -> STATUS.VALID
    OP_ED25519_PUBKEY   0x2C  R0 seed                            -> R5 A

ECDSA: e is the digest as a 256-bit number (firmware truncates a longer digest to its leftmost 256
bits and left-pads a shorter one); k comes from the firmware (e.g. read from the TRNG, so a seeded run
signs reproducibly) or, with OP_ECDSA_SIGN_DET, from RFC 6979. r or s of 0 and d or k outside
1..n-1 are ERR_OPERAND. A signature that does not verify is not an error: DONE without VALID.

Timing: every opcode takes its profile cost (`<op>_cycles` at `clock_hz`, plus `setup_cycles`);
Ed25519 adds `msg_cycles_per_block` per 128-byte SHA-512 block of the message, twice for a signature
(the nonce hash and the challenge hash) and once for a verification. The costs do not depend on the
operands (a constant-time engine). The engine takes its operands when the opcode is written; results
appear at the completion event, with DONE (or the error) and the interrupt.

Command protocol: an opcode while BUSY is refused with ERR_SEQUENCE (the running operation still ends
with DONE). Otherwise the opcode clears DONE, VALID and the ERR flags, then either ends at once with
DONE plus ERR_MODE, ERR_OPERAND or ERR_DMA (nothing written), or runs. Power loss or reset while BUSY
aborts the operation (operand registers are reset). `inject_glitch(bit)` flips bit `bit` % 8 of byte
`bit` // 8 of the result of the running (or next) operation, its result registers taken in address
order as bytes (for a verify, or with bit -1, it flips VALID instead).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from emulator.device import Device, DeviceContext, DmaWindow
from emulator.regs import Reg, RegisterMap

OP_P256_PUBKEY = 0x20
OP_P256_ECDH = 0x21
OP_X25519 = 0x28
OP_X25519_PUBKEY = 0x29
OP_ED25519_SIGN = 0x2A
OP_ED25519_VERIFY = 0x2B
OP_ED25519_PUBKEY = 0x2C
OP_ECDSA_SIGN = 0x30
OP_ECDSA_VERIFY = 0x31
OP_ECDSA_SIGN_DET = 0x32

# opcode -> (curve family the profile enables it with, cost key)
OPS = {
    OP_P256_PUBKEY: ("p256", "mult_p256_cycles"),
    OP_P256_ECDH: ("p256", "mult_p256_cycles"),
    OP_ECDSA_SIGN: ("p256", "sign_p256_cycles"),
    OP_ECDSA_SIGN_DET: ("p256", "sign_p256_cycles"),
    OP_ECDSA_VERIFY: ("p256", "verify_p256_cycles"),
    OP_X25519: ("curve25519", "mult_25519_cycles"),
    OP_X25519_PUBKEY: ("curve25519", "mult_25519_cycles"),
    OP_ED25519_PUBKEY: ("curve25519", "mult_25519_cycles"),
    OP_ED25519_SIGN: ("curve25519", "sign_ed25519_cycles"),
    OP_ED25519_VERIFY: ("curve25519", "verify_ed25519_cycles"),
}
CURVES = ("p256", "curve25519")

ST_BUSY = 1 << 0
ST_DONE = 1 << 1
ST_ERR_SEQUENCE = 1 << 2
ST_ERR_MODE = 1 << 3
ST_ERR_OPERAND = 1 << 4
ST_ERR_DMA = 1 << 6
ST_VALID = 1 << 8
ERRORS = ST_ERR_SEQUENCE | ST_ERR_MODE | ST_ERR_OPERAND | ST_ERR_DMA

IRQEN_DONE = 1 << 0
IRQEN_ERR = 1 << 1

_STATUS_FIELDS = {
    "BUSY": (0, 1),
    "DONE": (1, 1),
    "ERR_SEQUENCE": (2, 1),
    "ERR_MODE": (3, 1),
    "ERR_OPERAND": (4, 1),
    "ERR_DMA": (6, 1),
    "VALID": (8, 1),
}

SLOTS = 8
OPERAND_BASE = 0x100

# P-256 group order (SEC 2 2.4.2 / FIPS 186-5)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256 = ec.SECP256R1()


class OperandError(Exception):
    """An operand is out of range or not a valid key (ERR_OPERAND)."""


def rfc6979_k(d: int, digest: bytes) -> int:
    """The deterministic ECDSA nonce of RFC 6979 3.2 for P-256 with HMAC-SHA256 (qlen = hlen = 256)."""
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % P256_N).to_bytes(32, "big")
    v = b"\x01" * 32
    k = b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        t = int.from_bytes(v, "big")
        if 1 <= t < P256_N:
            return t
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def ecdsa_sign(d: int, digest: bytes, k: int) -> tuple[int, int]:
    """ECDSA P-256 signature (r, s) with an explicit nonce k (SEC 1 4.1.3); k*G from `cryptography`."""
    if not 1 <= d < P256_N or not 1 <= k < P256_N:
        raise OperandError("d and k must lie in 1..n-1")
    kx = ec.derive_private_key(k, _P256).public_key().public_numbers().x
    r = kx % P256_N
    e = int.from_bytes(digest, "big")
    s = pow(k, -1, P256_N) * (e + r * d) % P256_N
    if r == 0 or s == 0:
        raise OperandError("r or s is zero: choose another k")
    return r, s


def _p256_public(x: int, y: int) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicNumbers(x, y, _P256).public_key()
    except ValueError:
        raise OperandError("the public key is not a point of P-256") from None


def _p256_private(d: int) -> ec.EllipticCurvePrivateKey:
    if not 1 <= d < P256_N:
        raise OperandError("the private key must lie in 1..n-1")
    return ec.derive_private_key(d, _P256)


class Pka(Device):
    REGS = RegisterMap(
        "pka",
        [
            Reg("CMD", 0x000, "w", doc="opcode: starts the operation"),
            Reg("STATUS", 0x004, "w1c", fields=_STATUS_FIELDS, doc="BUSY (derived), DONE, errors, VALID"),
            Reg("IRQEN", 0x008, "rw", fields={"DONE": (0, 1), "ERR": (1, 1)}, doc="irq on success / on error"),
            Reg("SRC", 0x00C, "rw", doc="Ed25519: bus address of the message"),
            Reg("LEN", 0x010, "rw", doc="Ed25519: message length in bytes"),
        ]
        + [
            Reg(f"R{n}_{k}", OPERAND_BASE + 32 * n + 4 * k, "rw", doc=f"operand R{n} bytes {4 * k}..{4 * k + 3}")
            for n in range(SLOTS)
            for k in range(8)
        ],
    )
    STATE = ("gen", "op", "glitch")
    CONFIG = {
        "clock_hz": int,  # engine clock the cycle costs count in
        "curves": list,  # of "p256", "curve25519": the operation families this engine has
        "setup_cycles": int,  # per operation (operand load, command decode)
        "mult_p256_cycles": int,  # P-256 scalar multiplication (public key, ECDH)
        "sign_p256_cycles": int,  # ECDSA P-256 signature
        "verify_p256_cycles": int,  # ECDSA P-256 verification
        "mult_25519_cycles": int,  # Curve25519 scalar multiplication (X25519, Ed25519 public key)
        "sign_ed25519_cycles": int,  # Ed25519 signature, without the message hashing
        "verify_ed25519_cycles": int,  # Ed25519 verification, without the message hashing
        "msg_cycles_per_block": int,  # per 128-byte SHA-512 block of an Ed25519 message
        "dma_memories": list,  # names of the memories the message may be read from
        "irq_line": int,  # HSM interrupt line for a successful end (IRQEN.DONE)
        "err_irq_line": int,  # HSM interrupt line for an end with an error (IRQEN.ERR)
    }
    DEFAULT_CYCLES = {
        "setup_cycles": 200,
        "mult_p256_cycles": 230_000,
        "sign_p256_cycles": 250_000,
        "verify_p256_cycles": 480_000,
        "mult_25519_cycles": 180_000,
        "sign_ed25519_cycles": 200_000,
        "verify_ed25519_cycles": 420_000,
        "msg_cycles_per_block": 200,
    }

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.clock_hz = int(config.get("clock_hz", 100_000_000))
        self.irq_line = int(config.get("irq_line", 8))
        self.err_irq_line = int(config.get("err_irq_line", 9))
        self.curves = [str(c) for c in config.get("curves", list(CURVES))]
        if set(self.curves) - set(CURVES):
            raise ValueError(f"curves must be a subset of {list(CURVES)}, got {self.curves}")
        self.cycles = {k: int(config.get(k, v)) for k, v in self.DEFAULT_CYCLES.items()}
        if any(v < 0 for v in self.cycles.values()):
            raise ValueError("cycle costs must not be negative")
        self.dma = DmaWindow(ctx, list(config.get("dma_memories", ["hsm_ram"])))
        self.gen = 0
        self.op: dict[str, Any] | None = None
        self.glitch: int | None = None

    # ------------------------------------------------------------------ operands
    def operand(self, n: int) -> bytes:
        """The 32 bytes of operand register Rn."""
        return b"".join(self.regs.get(f"R{n}_{k}").to_bytes(4, "big") for k in range(8))

    def set_operand(self, n: int, data: bytes | int) -> None:
        """Load Rn (for tools and tests; firmware writes the words): 32 bytes, or an int stored big-endian."""
        raw = data.to_bytes(32, "big") if isinstance(data, int) else bytes(data)
        if len(raw) != 32:
            raise ValueError(f"an operand is 32 bytes, got {len(raw)}")
        for name, value in _operand_words(n, raw).items():
            self.regs.set(name, value)

    def _int(self, n: int) -> int:
        return int.from_bytes(self.operand(n), "big")

    # ------------------------------------------------------------------ registers
    def read_STATUS(self, master: str) -> int:
        return self.regs.get("STATUS") | (ST_BUSY if self.op is not None else 0)

    def write_CMD(self, master: str, value: int) -> None:
        if self.op is not None:
            self._set(ST_ERR_SEQUENCE)
            self.ctx.trace("pka-error", f"opcode 0x{value:02x} while busy")
            return
        self.regs.set("STATUS", 0)
        spec = OPS.get(value)
        if spec is None or spec[0] not in self.curves:
            self._refuse(value, ST_ERR_MODE)
            return
        msg_blocks = 0
        message = b""
        stall = 0
        if value in (OP_ED25519_SIGN, OP_ED25519_VERIFY):
            got = self.dma.read(self.regs.get("SRC"), self.regs.get("LEN"))
            if got is None:
                self._refuse(value, ST_ERR_DMA)
                return
            message, stall = got
            blocks = (len(message) + 64 + 17 + 127) // 128  # SHA-512 of (32-byte prefix + 32 more) || M, padded
            msg_blocks = blocks * (2 if value == OP_ED25519_SIGN else 1)
        try:
            regs, status = self._compute(value, message)
        except OperandError as e:
            self.ctx.trace("pka-operand", str(e))
            self._refuse(value, ST_ERR_OPERAND)
            return
        cycles = self.cycles["setup_cycles"] + self.cycles[spec[1]] + msg_blocks * self.cycles["msg_cycles_per_block"]
        ticks = self.ctx.ticks(cycles, self.clock_hz) + stall
        now = self.ctx.now()
        self.gen += 1
        self.op = {"opcode": value, "start": now, "end": now + ticks, "regs": regs, "status": status}
        self.ctx.trace("pka-start", f"opcode 0x{value:02x}")
        self.ctx.schedule(ticks, self._complete, self.gen)

    def _compute(self, opc: int, message: bytes) -> tuple[dict[str, int], int]:
        """(result registers, STATUS bits to set at the end) or OperandError."""
        out: dict[str, int] = {}
        if opc == OP_P256_PUBKEY:
            pub = _p256_private(self._int(0)).public_key().public_numbers()
            out.update(_operand_words(5, pub.x.to_bytes(32, "big")))
            out.update(_operand_words(6, pub.y.to_bytes(32, "big")))
        elif opc == OP_P256_ECDH:
            shared = _p256_private(self._int(0)).exchange(ec.ECDH(), _p256_public(self._int(5), self._int(6)))
            out.update(_operand_words(7, shared))
        elif opc in (OP_ECDSA_SIGN, OP_ECDSA_SIGN_DET):
            d, digest = self._int(0), self.operand(1)
            if not 1 <= d < P256_N:
                raise OperandError("the private key must lie in 1..n-1")
            k = self._int(2) if opc == OP_ECDSA_SIGN else rfc6979_k(d, digest)
            r, s = ecdsa_sign(d, digest, k)
            out.update(_operand_words(3, r.to_bytes(32, "big")))
            out.update(_operand_words(4, s.to_bytes(32, "big")))
        elif opc == OP_ECDSA_VERIFY:
            pub = _p256_public(self._int(5), self._int(6))
            sig = encode_dss_signature(self._int(3), self._int(4))
            try:
                pub.verify(sig, self.operand(1), ec.ECDSA(Prehashed(hashes.SHA256())))
            except InvalidSignature:
                return out, 0
            return out, ST_VALID
        elif opc in (OP_X25519, OP_X25519_PUBKEY):
            priv = x25519.X25519PrivateKey.from_private_bytes(self.operand(0))
            if opc == OP_X25519_PUBKEY:
                out.update(_operand_words(5, priv.public_key().public_bytes_raw()))
            else:
                try:
                    shared = priv.exchange(x25519.X25519PublicKey.from_public_bytes(self.operand(5)))
                except ValueError:
                    raise OperandError("X25519: the shared secret is all zero") from None
                out.update(_operand_words(7, shared))
        elif opc in (OP_ED25519_SIGN, OP_ED25519_PUBKEY):
            priv = ed25519.Ed25519PrivateKey.from_private_bytes(self.operand(0))
            if opc == OP_ED25519_PUBKEY:
                out.update(_operand_words(5, priv.public_key().public_bytes_raw()))
            else:
                sig = priv.sign(message)
                out.update(_operand_words(3, sig[:32]))
                out.update(_operand_words(4, sig[32:]))
        elif opc == OP_ED25519_VERIFY:
            try:
                pub = ed25519.Ed25519PublicKey.from_public_bytes(self.operand(5))
            except ValueError:
                raise OperandError("Ed25519: not a public key") from None
            try:
                pub.verify(self.operand(3) + self.operand(4), message)
            except InvalidSignature:
                return out, 0
            return out, ST_VALID
        return out, 0

    def _refuse(self, opc: int, bits: int) -> None:
        names = ", ".join(n for n, (lsb, _) in _STATUS_FIELDS.items() if bits >> lsb & 1)
        self.ctx.trace("pka-error", f"opcode 0x{opc:02x}: {names}")
        self._done(bits)

    def _complete(self, gen: int) -> None:
        op = self.op
        if gen != self.gen or op is None:
            return  # aborted by a reset or a power cut
        regs, status = dict(op["regs"]), op["status"]
        if self.glitch is not None:
            if self.glitch < 0 or not regs:
                status ^= ST_VALID if op["opcode"] in (OP_ECDSA_VERIFY, OP_ED25519_VERIFY) else 0
            else:
                names = sorted(regs, key=lambda r: self.regs.map.by_name[r].offset)
                raw = bytearray(b"".join(regs[n].to_bytes(4, "big") for n in names))
                b = self.glitch % (8 * len(raw))
                raw[b // 8] ^= 1 << (b % 8)
                regs = {n: int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i, n in enumerate(names)}
            self.ctx.trace("pka-glitch", f"bit {self.glitch}")
            self.glitch = None
        for name, value in regs.items():
            self.regs.set(name, value)
        self.op = None
        self._done(status)

    def _set(self, bits: int) -> None:
        self.regs.set("STATUS", self.regs.get("STATUS") | bits)

    def _done(self, bits: int) -> None:
        self._set(ST_DONE | bits)
        irqen = self.regs.get("IRQEN")
        if bits & ERRORS:
            if irqen & IRQEN_ERR:
                self.ctx.raise_irq("hsm", self.err_irq_line)
        elif irqen & IRQEN_DONE:
            self.ctx.raise_irq("hsm", self.irq_line)

    def reset(self) -> None:
        super().reset()
        self.gen += 1
        self.op = None

    def power_cut(self, rng: Any) -> None:
        if self.op is not None:
            self.ctx.trace("pka-abort", "power cut")
        self.gen += 1
        self.op = None

    # ------------------------------------------------------------------ Python API
    @property
    def busy(self) -> bool:
        return self.op is not None

    def inject_glitch(self, bit: int = 0) -> None:
        """Flip bit `bit` % 8 of byte `bit` // 8 of the next result (registers in address order; -1: VALID)."""
        self.glitch = int(bit)


def _operand_words(n: int, data: bytes) -> dict[str, int]:
    return {f"R{n}_{k}": int.from_bytes(data[4 * k : 4 * k + 4], "big") for k in range(8)}
