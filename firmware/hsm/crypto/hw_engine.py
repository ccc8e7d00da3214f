"""The hardware crypto engine: the board's AES, SHA-256 and TRNG accelerators driven through the HAL.

:class:`HardwareEngine` implements the :class:`~.engine.CryptoEngine` primitives on the accelerator
peripherals (``peripherals/aes.py``, ``sha.py``, ``trng.py``; read their docstrings for the register
maps). Results are byte-identical to :class:`~.engine.SoftwareEngine`; the virtual time is the
peripherals' own durations plus what this driver costs the HSM core (``HW_COSTS`` below, plus the bus
wait states of every register access, which the HAL charges). The wolfCrypt state machines (CTR's
``reg/tmp/left``, CMAC's pending block) stay in the base class, so CTR streaming and CMAC run on the
AES block primitives here too.

What runs where (decided per call from the profile of each engine; the profile is the driver's
"datasheet": ``modes``, ``key_sizes``):

* AES ECB / CBC / CTR / GCM: on the AES engine when it implements the mode and the key size, GCM
  also only with an IV of 8..16 bytes (the engine's IVLEN range) and data + AAD that fit in the
  scratch buffer. Anything else - and any request the engine refuses with an error flag - is computed
  by the software engine for that call (same bytes, software cycles), counted in ``stats`` as
  ``"<op>:sw"`` and traced as ``crypto-sw-fallback``. Hardware calls count as ``"<op>:hw"``.
  CMAC (and CMAC-KDF) uses the ECB and CBC primitives, so it follows them.
* SHA-256 / SHA-224 compression (and so HMAC-SHA256 / HKDF, and the final block of the midstate
  protocol): on the SHA engine, loaded with the midstate H0..H7 and N blocks. SHA-384/512 and SHA-3
  have no hardware (the engine is SHA-256 only): software.
* Random bytes: words from the TRNG FIFO (``CUSTOM_RAND_GENERATE_BLOCK`` style: no DRBG in between),
  waiting on the TRNG's RDY interrupt while the FIFO is empty, so a large request is bound by the
  TRNG's word rate. Bytes are the words stored in the HSM core's byte order. With ``rng_seed`` in the
  server config the firmware is in its reproducible mode: the TRNG is still read for every request
  (same virtual time, same health checks and failures) but the bytes returned are the seeded stream
  :class:`~.engine.SoftwareEngine` defines, so a seeded run answers the same bytes on every engine
  and board. Failures: a TRNG health-test failure (STAT.FIPS_ERR) and this driver's continuous test
  (two equal consecutive 32-bit words, FIPS 140-2 4.9.2 style: what catches a stuck source the
  hardware test misses) fail the call with wolfCrypt's ``RNG_FAILURE_E`` (-199), traced as
  ``rng-failure``; the driver writes FIPS_ERR back (w1c) so that the generator restarts once the
  fault is gone. No byte of a failed call is returned.
* Public key on the PKA (``peripherals/pka.py``): ECDSA P-256 sign (OP_ECDSA_SIGN with the nonce k
  the handler drew from this engine's ``random``, so the bytes equal the software engine's) and
  verify, pure Ed25519 sign and verify (the message copied to the scratch buffer, SRC/LEN). Operands
  go through the R0..R7 registers as big-endian words; a verify is DONE with or without VALID. Other
  curves (P-384/521), Ed25519ctx / Ed25519ph, a board without the PKA or without the curve family,
  a message longer than the scratch buffer, and any operation the PKA ends with an error flag run in
  software (``"<op>:sw"``, traced as ``crypto-sw-fallback``); PKA calls count as ``"<op>:hw"``. The
  handlers (``pk_ecc.py``, ``pk_25519.py``) keep DER parsing and wolfCrypt's argument checks.

Waiting: every AES / SHA operation sets IRQEN.DONE (at boot) and sleeps in ``hal.wait_irq`` on the
engine's own ``irq_line`` only (the PKA: IRQEN.DONE | ERR, on its ``irq_line`` and ``err_irq_line``);
the server's serve loop waits on the mailbox line, and a mailbox
interrupt that arrives meanwhile simply stays pending until the request in hand is answered. After a
wake-up the driver re-reads STATUS and sleeps again until DONE without BUSY (a stale interrupt is
harmless), then clears DONE and the error flags (w1c).

Scratch buffer: the top ``SCRATCH_SIZE`` (16 KiB) of the HSM RAM memory the AES/SHA engines DMA from
(``hsm_ram`` on both boards: 0x2001_4000..0x2001_7FFF on aurix-tc3xx, 0xA000_6000..0xA000_9FFF on
spc58nn). The Python firmware keeps all its state in Python objects, nothing else lives in HSM RAM,
and the app cores cannot reach it (MPU: hsm only). ``crypto_scratch`` in the HSM params moves it.
AES works in place there (SRC = DST: the engine reads its input at START and writes at completion),
GCM's AAD follows the data; longer inputs are cut into scratch-sized pieces (CBC chains the IV,
CTR advances the counter, SHA continues the midstate). Inputs, outputs and the last key stay in the
scratch RAM and the KEY registers after a call (HSM-private), as with the software engine's buffers.

Byte order: key, IV, tag and H registers are big-endian words of the byte strings (FIPS-197 /
FIPS 180-4 words), independent of the core's byte order; ``hal.write32`` / ``read32`` move values.
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Sequence
from typing import Any

from firmware.wire import WcError

from ..services.crypto import CryptoError
from .engine import AES_BLOCK, ED25519_PURE, GCM_MIN_TAG_ENCRYPT, CryptoEngine, SoftwareEngine, check_aes_key

__all__ = ["HW_COSTS", "SCRATCH_SIZE", "HardwareEngine", "scratch_region"]

# HSM-core cycles of this driver, on top of the bus wait states the HAL charges per register access.
# All *assumed* (no figure for the emulated core); each overridable by a ServerConfig attribute of the
# same name, like SW_COSTS.
HW_COSTS: dict[str, int] = {
    "crypto_hw_call": 250,  # assumed: driver entry, argument checks, engine selection, per call
    "crypto_hw_op": 60,  # assumed: per engine operation: register sequence set-up, IRQ entry/exit
    "crypto_hw_copy_word": 1,  # assumed: per 32-bit word copied into / out of the scratch buffer
    "crypto_hw_rng_word": 6,  # assumed: per TRNG word: store, continuous-test compare
}

SCRATCH_SIZE = 0x4000  # 16 KiB at the top of HSM RAM

# ---- AES engine registers (peripherals/aes.py)
AES_CTRL, AES_CMD, AES_STATUS, AES_IRQEN = 0x00, 0x04, 0x08, 0x0C
AES_SRC, AES_DST, AES_LEN, AES_AAD, AES_AADLEN, AES_IVLEN = 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24
AES_KEY0, AES_IV0, AES_TAG0 = 0x40, 0x60, 0x70
OPC = {("ecb", True): 0x00, ("ecb", False): 0x01, ("cbc", True): 0x02, ("cbc", False): 0x03}
OPC_CTR, OPC_GCMENC, OPC_GCMDEC = 0x04, 0x08, 0x09
KSIZE = {16: 0, 24: 1, 32: 2}
# ---- SHA-256 engine registers (peripherals/sha.py)
SHA_CMD, SHA_STATUS, SHA_IRQEN, SHA_SRC, SHA_LEN, SHA_H0 = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x20
# ---- common to the AES and SHA engines
CMD_START = 1
ST_BUSY, ST_DONE = 1 << 0, 1 << 1
ST_ERRORS = 0x7C  # ERR_SEQUENCE | ERR_MODE | ERR_KEY | ERR_LEN | ERR_DMA (bits 2..6)
IRQEN_DONE = 1
# ---- TRNG registers (peripherals/trng.py)
TRNG_DATA, TRNG_STAT, TRNG_CTRL, TRNG_IRQEN, TRNG_LEVEL = 0x00, 0x0C, 0x10, 0x14, 0x18
TRNG_FIPS_ERR, TRNG_UNDERRUN = 1 << 2, 1 << 4
TRNG_IRQEN_RDY, TRNG_IRQEN_ERR = 1 << 0, 1 << 1

# ---- PKA registers (peripherals/pka.py)
PKA_CMD, PKA_STATUS, PKA_IRQEN, PKA_SRC, PKA_LEN, PKA_R0 = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x100
OP_ECDSA_SIGN, OP_ECDSA_VERIFY, OP_ED25519_SIGN, OP_ED25519_VERIFY = 0x30, 0x31, 0x2A, 0x2B
PKA_VALID = 1 << 8
PKA_ERRORS = 0x5C  # ERR_SEQUENCE | ERR_MODE | ERR_OPERAND | ERR_DMA (bits 2, 3, 4, 6)
PKA_IRQEN_DONE, PKA_IRQEN_ERR = 1 << 0, 1 << 1
PKA_CURVES = ("p256", "curve25519")  # the PKA's default families
_PKA_ERR_NAMES = {1 << 2: "ERR_SEQUENCE", 1 << 3: "ERR_MODE", 1 << 4: "ERR_OPERAND", 1 << 6: "ERR_DMA"}

_ERR_NAMES = {1 << 2: "ERR_SEQUENCE", 1 << 3: "ERR_MODE", 1 << 4: "ERR_KEY", 1 << 5: "ERR_LEN", 1 << 6: "ERR_DMA"}


class _Refused(Exception):
    """The engine ended an operation with an error flag: the call goes to software."""


class _Unit:
    """What the driver knows of one accelerator: base, interrupt line, capabilities (plain data)."""

    def __init__(self, name: str, cfg: dict[str, Any]) -> None:
        self.name = name
        self.base = int(cfg["base"])
        self.irq_line = int(cfg["irq_line"])
        self.modes = frozenset(str(m) for m in cfg.get("modes", ()))
        self.key_bytes = frozenset(int(k) // 8 for k in cfg.get("key_sizes", ()))
        self.curves = frozenset(str(c) for c in cfg.get("curves", PKA_CURVES))  # PKA only
        self.err_irq_line = int(cfg.get("err_irq_line", self.irq_line))  # PKA only


def _first(hal: Any, type_: str) -> _Unit | None:
    names = hal.peripherals_of_type(type_) if hasattr(hal, "peripherals_of_type") else []
    return _Unit(names[0], hal.peripheral(names[0])) if names else None


def scratch_region(hal: Any, memory: str = "hsm_ram") -> tuple[int, int]:
    """(address, size) of the driver's buffer: the top SCRATCH_SIZE bytes of `memory` (the firmware's
    link map: the board profile the HAL was built from)."""
    board = getattr(hal, "_board", None)  # the HAL has no public memory-map accessor
    spec = board.memory(memory) if board is not None else None
    if spec is None:
        raise ValueError(f"no memory {memory!r} for the crypto scratch buffer; set the HSM param crypto_scratch")
    if spec.size < SCRATCH_SIZE:
        raise ValueError(f"memory {memory!r} is smaller than the {SCRATCH_SIZE}-byte crypto scratch buffer")
    return spec.origin + spec.size - SCRATCH_SIZE, SCRATCH_SIZE


class _Quiet:
    """A request context that charges nothing: the seeded stream of the software engine, taken without
    its DRBG cost (the time of the hardware path is the TRNG's)."""

    def __init__(self, ctx: Any) -> None:
        self.config = ctx.config

    def spend(self, cycles: int) -> None:
        pass


class HardwareEngine(CryptoEngine):
    """The accelerator path (see the module docstring). Holds no HAL reference: every primitive uses
    the request's ``ctx.hal``; its state (counters, the software fallback and its seeded stream
    position, the continuous test's last word) is plain data, so firmware snapshots deep-copy it."""

    name = "hardware"

    def __init__(self, hal: Any, seed: Any = None, scratch: tuple[int, int] | None = None) -> None:
        self.aes = _first(hal, "aes")
        self.sha = _first(hal, "sha")
        self.trng = _first(hal, "trng")
        self.pka = _first(hal, "pka")
        self.scratch, self.scratch_size = scratch if scratch is not None else scratch_region(hal)
        if self.scratch_size < 1024 or self.scratch_size % 64:
            raise ValueError("the crypto scratch buffer must be at least 1 KiB and a multiple of 64 bytes")
        self.sw = SoftwareEngine(seed=seed)
        self.seeded = self.sw.seeded
        self.stats: Counter[str] = Counter()
        self.last_word: int | None = None  # continuous RNG test: the previous TRNG word
        self.boot(hal)

    def boot(self, hal: Any) -> None:
        """Done-interrupts on, stale flags and interrupts cleared (after every HSM reset)."""
        for unit, irqen, status in ((self.aes, AES_IRQEN, AES_STATUS), (self.sha, SHA_IRQEN, SHA_STATUS)):
            if unit is not None:
                hal.write32(unit.base + irqen, IRQEN_DONE)
                hal.write32(unit.base + status, ST_DONE | ST_ERRORS)
                hal.ack_irq(unit.irq_line)
        if self.trng is not None:
            hal.write32(self.trng.base + TRNG_IRQEN, 0)
        if self.pka is not None:
            hal.write32(self.pka.base + PKA_IRQEN, PKA_IRQEN_DONE | PKA_IRQEN_ERR)
            hal.write32(self.pka.base + PKA_STATUS, ST_DONE | PKA_ERRORS)
            hal.ack_irq(self.pka.irq_line)
            hal.ack_irq(self.pka.err_irq_line)

    # ---------------------------------------------------------------- bookkeeping

    @staticmethod
    def cost(ctx: Any, name: str) -> int:
        return int(getattr(ctx.config, name, HW_COSTS[name]))

    @staticmethod
    def _hal(ctx: Any) -> Any:
        hal = getattr(ctx, "hal", None)
        return hal if hal is not None and hasattr(hal, "read32") else None

    def _fallback(self, ctx: Any, op: str, why: str) -> SoftwareEngine:
        self.stats[f"{op}:sw"] += 1
        hal = getattr(ctx, "hal", None)
        if hal is not None and hasattr(hal, "trace"):
            hal.trace("crypto-sw-fallback", f"{op}: {why}")
        return self.sw

    def _aes_ok(self, ctx: Any, mode: str, key: bytes) -> str:
        """'' when the AES engine can run `mode` with `key`, else why not."""
        if self._hal(ctx) is None:
            return "no HAL"
        if self.aes is None:
            return "no AES engine"
        if mode not in self.aes.modes:
            return f"mode {mode} not in the engine"
        if len(key) not in self.aes.key_bytes:
            return f"AES-{len(key) * 8} not in the engine"
        return ""

    def _wait_done(self, hal: Any, unit: _Unit, status_reg: int) -> int:
        """Sleep on the engine's interrupt line until DONE without BUSY; clear the flags; the status."""
        line, status = unit.irq_line, unit.base + status_reg
        while True:
            hal.wait_irq(1 << line)
            hal.ack_irq(line)
            st = hal.read32(status)
            if st & ST_DONE and not st & ST_BUSY:
                break
        hal.write32(status, st & (ST_DONE | ST_ERRORS))
        return st

    def _copy_cost(self, ctx: Any, nbytes: int) -> int:
        return self.cost(ctx, "crypto_hw_copy_word") * (-(-nbytes // 4))

    # ---------------------------------------------------------------- AES

    def _aes_op(
        self,
        ctx: Any,
        opc: int,
        key: bytes,
        iv: bytes,
        data: bytes,
        aad: bytes = b"",
        ivlen: int = 16,
    ) -> tuple[bytes, bytes]:
        """One engine operation in place in the scratch buffer: (output, TAG0..3 bytes for GCM)."""
        hal, unit = self._hal(ctx), self.aes
        assert unit is not None
        base, buf = unit.base, self.scratch
        gcm = opc in (OPC_GCMENC, OPC_GCMDEC)
        ctx.spend(self.cost(ctx, "crypto_hw_op") + self._copy_cost(ctx, len(data) + len(aad)))
        if data:
            hal.write(buf, data)
        if aad:
            hal.write(buf + len(data), aad)
        hal.write32(base + AES_CTRL, opc | KSIZE[len(key)] << 8)
        hal.write32(base + AES_SRC, buf)
        hal.write32(base + AES_DST, buf)
        hal.write32(base + AES_LEN, len(data))
        if gcm:
            hal.write32(base + AES_AAD, buf + len(data))
            hal.write32(base + AES_AADLEN, len(aad))
            hal.write32(base + AES_IVLEN, ivlen)
        for i in range(0, len(key), 4):
            hal.write32(base + AES_KEY0 + i, int.from_bytes(key[i : i + 4], "big"))
        padded_iv = bytes(iv).ljust(16, b"\0")
        for i in range(0, 16, 4):
            hal.write32(base + AES_IV0 + i, int.from_bytes(padded_iv[i : i + 4], "big"))
        hal.write32(base + AES_CMD, CMD_START)
        st = self._wait_done(hal, unit, AES_STATUS)
        if st & ST_ERRORS:
            raise _Refused(", ".join(n for b, n in _ERR_NAMES.items() if st & b))
        tag = b""
        if gcm:
            tag = b"".join(hal.read32(base + AES_TAG0 + i).to_bytes(4, "big") for i in range(0, 16, 4))
        out = hal.read(buf, len(data)) if data else b""
        return out, tag

    def _chunks(self, data: bytes) -> list[bytes]:
        step = self.scratch_size
        return [data[i : i + step] for i in range(0, len(data), step)]

    def aes_ecb(self, ctx: Any, key: bytes, data: bytes, encrypt: bool = True) -> bytes:
        check_aes_key(key)
        if len(data) % AES_BLOCK:
            raise CryptoError(WcError.BAD_LENGTH_E, "ECB on a partial block")
        why = self._aes_ok(ctx, "ecb", key)
        if why:
            return self._fallback(ctx, "aes_ecb", why).aes_ecb(ctx, key, data, encrypt)
        ctx.spend(self.cost(ctx, "crypto_hw_call"))
        try:
            out = b"".join(self._aes_op(ctx, OPC[("ecb", encrypt)], key, b"", c)[0] for c in self._chunks(data))
        except _Refused as e:
            return self._fallback(ctx, "aes_ecb", f"engine refused: {e}").aes_ecb(ctx, key, data, encrypt)
        self.stats["aes_ecb:hw"] += 1
        return out

    def aes_cbc(self, ctx: Any, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        """Whole blocks on the engine; a trailing partial block comes back unchanged (as wolfCrypt's
        in-place CBC leaves it)."""
        check_aes_key(key)
        why = self._aes_ok(ctx, "cbc", key)
        if why:
            return self._fallback(ctx, "aes_cbc", why).aes_cbc(ctx, key, iv, data, encrypt)
        ctx.spend(self.cost(ctx, "crypto_hw_call"))
        whole = len(data) // AES_BLOCK * AES_BLOCK
        chain, parts = bytes(iv[:AES_BLOCK]), []
        try:
            for chunk in self._chunks(bytes(data[:whole])):
                out = self._aes_op(ctx, OPC[("cbc", encrypt)], key, chain, chunk)[0]
                chain = (out if encrypt else chunk)[-AES_BLOCK:]
                parts.append(out)
        except _Refused as e:
            return self._fallback(ctx, "aes_cbc", f"engine refused: {e}").aes_cbc(ctx, key, iv, data, encrypt)
        self.stats["aes_cbc:hw"] += 1
        return b"".join(parts) + bytes(data[whole:])

    def aes_ctr_blocks(self, ctx: Any, key: bytes, counter: bytes, data: bytes) -> bytes:
        check_aes_key(key)
        why = self._aes_ok(ctx, "ctr", key)
        if why:
            return self._fallback(ctx, "aes_ctr", why).aes_ctr_blocks(ctx, key, counter, data)
        ctx.spend(self.cost(ctx, "crypto_hw_call"))
        ctr, parts = int.from_bytes(counter, "big"), []
        try:
            for chunk in self._chunks(bytes(data)):
                parts.append(self._aes_op(ctx, OPC_CTR, key, ctr.to_bytes(16, "big"), chunk)[0])
                ctr = (ctr + len(chunk) // AES_BLOCK) % (1 << 128)
        except _Refused as e:
            return self._fallback(ctx, "aes_ctr", f"engine refused: {e}").aes_ctr_blocks(ctx, key, counter, data)
        self.stats["aes_ctr:hw"] += 1
        return b"".join(parts)

    def _gcm_ok(self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes) -> str:
        why = self._aes_ok(ctx, "gcm", key)
        if not why and not 8 <= len(iv) <= 16:
            why = f"GCM IV of {len(iv)} bytes (engine: 8..16)"
        if not why and len(data) + len(aad) > self.scratch_size:
            why = f"GCM data + AAD of {len(data) + len(aad)} bytes > the scratch buffer"
        return why

    def aes_gcm_encrypt(
        self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag_len: int
    ) -> tuple[bytes, bytes]:
        check_aes_key(key)
        if not iv or not GCM_MIN_TAG_ENCRYPT <= tag_len <= AES_BLOCK:
            raise CryptoError(WcError.BAD_FUNC_ARG, f"GCM IV {len(iv)} / tag {tag_len} bytes")
        why = self._gcm_ok(ctx, key, iv, aad, data)
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            try:
                out, tag = self._aes_op(ctx, OPC_GCMENC, key, iv, bytes(data), bytes(aad), len(iv))
            except _Refused as e:
                why = f"engine refused: {e}"
            else:
                self.stats["aes_gcm:hw"] += 1
                return out, tag[:tag_len]
        return self._fallback(ctx, "aes_gcm", why).aes_gcm_encrypt(ctx, key, iv, aad, data, tag_len)

    def aes_gcm_decrypt(self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag: bytes) -> bytes:
        """The engine decrypts and computes the tag over the ciphertext; the firmware compares it."""
        check_aes_key(key)
        if not iv or not 1 <= len(tag) <= AES_BLOCK:
            raise CryptoError(WcError.BAD_FUNC_ARG, f"GCM IV {len(iv)} / tag {len(tag)} bytes")
        why = self._gcm_ok(ctx, key, iv, aad, data)
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            try:
                out, full = self._aes_op(ctx, OPC_GCMDEC, key, iv, bytes(data), bytes(aad), len(iv))
            except _Refused as e:
                why = f"engine refused: {e}"
            else:
                self.stats["aes_gcm:hw"] += 1
                if not hmac.compare_digest(full[: len(tag)], bytes(tag)):
                    raise CryptoError(WcError.AES_GCM_AUTH_E, "GCM tag mismatch")
                return out
        return self._fallback(ctx, "aes_gcm", why).aes_gcm_decrypt(ctx, key, iv, aad, data, tag)

    # ---------------------------------------------------------------- SHA-2

    def sha2_compress(self, ctx: Any, bits: int, h: Sequence[int], data: bytes) -> tuple[int, ...]:
        """SHA-256/224 on the SHA engine from the midstate `h`; SHA-512 family in software."""
        hal, unit = self._hal(ctx), self.sha
        if bits != 256 or unit is None or hal is None:
            self.stats["sha512:sw" if bits != 256 else "sha256:sw"] += 1
            return self.sw.sha2_compress(ctx, bits, h, data)
        if len(data) % 64:
            raise ValueError("SHA-256 compresses whole 64-byte blocks")
        ctx.spend(self.cost(ctx, "crypto_hw_call"))
        self.stats["sha256:hw"] += 1
        words, base, data = tuple(h), unit.base, bytes(data)
        for off in range(0, len(data), self.scratch_size):
            chunk = data[off : off + self.scratch_size]
            ctx.spend(self.cost(ctx, "crypto_hw_op") + self._copy_cost(ctx, len(chunk)))
            hal.write(self.scratch, chunk)
            for i, w in enumerate(words):
                hal.write32(base + SHA_H0 + 4 * i, w)
            hal.write32(base + SHA_SRC, self.scratch)
            hal.write32(base + SHA_LEN, len(chunk))
            hal.write32(base + SHA_CMD, CMD_START)
            st = self._wait_done(hal, unit, SHA_STATUS)
            if st & ST_ERRORS:  # not expected (whole blocks in HSM RAM): software for the rest
                self.stats["sha256:sw"] += 1
                hal.trace("crypto-sw-fallback", f"sha256: engine refused: status 0x{st:x}")
                return self.sw.sha2_compress(ctx, 256, words, data[off:])
            words = tuple(hal.read32(base + SHA_H0 + 4 * i) for i in range(8))
        return words

    def sha3(self, ctx: Any, name: str, data: bytes) -> bytes:
        return self.sw.sha3(ctx, name, data)

    # ---------------------------------------------------------------- random

    def _rng_fail(self, ctx: Any, hal: Any, why: str) -> CryptoError:
        hal.trace("rng-failure", why)
        self.stats["rng:fail"] += 1
        return CryptoError(WcError.RNG_FAILURE_E, why)

    def _trng_words(self, ctx: Any, hal: Any, count: int) -> list[int]:
        """`count` words from the TRNG FIFO, sleeping on its RDY interrupt while it is empty."""
        unit = self.trng
        assert unit is not None
        base, line = unit.base, unit.irq_line
        stat = base + TRNG_STAT

        def health(at_start: bool = False) -> None:
            st = hal.read32(stat)
            if st & (TRNG_FIPS_ERR | TRNG_UNDERRUN):
                hal.write32(stat, st & (TRNG_FIPS_ERR | TRNG_UNDERRUN))  # w1c: FIPS_ERR restarts the generator
                if at_start and st & TRNG_FIPS_ERR:
                    st = hal.read32(stat)  # a failure that has ended stays cleared: go on with fresh words
                if st & TRNG_FIPS_ERR:
                    raise self._rng_fail(ctx, hal, "TRNG health test failure (FIPS_ERR)")

        health(at_start=True)
        words: list[int] = []
        while len(words) < count:
            level = hal.read32(base + TRNG_LEVEL)
            if level:
                words.extend(hal.read32(base + TRNG_DATA) for _ in range(min(level, count - len(words))))
                continue
            hal.ack_irq(line)
            hal.write32(base + TRNG_IRQEN, TRNG_IRQEN_RDY | TRNG_IRQEN_ERR)
            hal.wait_irq(1 << line)
            hal.ack_irq(line)
            hal.write32(base + TRNG_IRQEN, 0)
            health()
        health()  # the words read are valid only if no failure struck meanwhile
        ctx.spend(self.cost(ctx, "crypto_hw_rng_word") * count)
        last = self.last_word
        for w in words:
            if w == last:
                raise self._rng_fail(ctx, hal, f"continuous test: repeated word 0x{w:08x}")
            last = w
        self.last_word = last
        return words

    def random(self, ctx: Any, n: int) -> bytes:
        hal = self._hal(ctx)
        if self.trng is None or hal is None:
            self.stats["rng:sw"] += 1
            return self.sw.random(ctx, n)
        ctx.spend(self.cost(ctx, "crypto_hw_call"))
        if n <= 0:
            return b""
        words = self._trng_words(ctx, hal, -(-n // 4))
        self.stats["rng:hw"] += 1
        if self.seeded:
            return self.sw.random(_Quiet(ctx), n)
        order = "big" if getattr(hal, "big_endian", False) else "little"
        return b"".join(w.to_bytes(4, order) for w in words)[:n]

    # ---------------------------------------------------------------- public key (PKA)

    def _pka_ok(self, ctx: Any, family: str) -> str:
        """'' when the PKA can run an operation of `family` ("p256", "curve25519"), else why not."""
        unit = getattr(self, "pka", None)
        if self._hal(ctx) is None:
            return "no HAL"
        if unit is None:
            return "no PKA"
        if family not in unit.curves:
            return f"{family} not in the PKA"
        return ""

    def _pka_op(self, ctx: Any, opc: int, operands: dict[int, bytes], msg: bytes | None = None) -> int:
        """Load the operand registers (and the message into the scratch buffer), run `opc`, sleep until
        it ends; the STATUS it ended with. An error flag raises _Refused."""
        hal, unit = self._hal(ctx), self.pka
        assert unit is not None
        base = unit.base
        ctx.spend(self.cost(ctx, "crypto_hw_op") + self._copy_cost(ctx, 32 * len(operands) + len(msg or b"")))
        if msg is not None:
            if msg:
                hal.write(self.scratch, msg)
            hal.write32(base + PKA_SRC, self.scratch)
            hal.write32(base + PKA_LEN, len(msg))
        for n, value in operands.items():
            for i in range(0, 32, 4):
                hal.write32(base + PKA_R0 + 32 * n + i, int.from_bytes(value[i : i + 4], "big"))
        hal.write32(base + PKA_CMD, opc)
        mask = 1 << unit.irq_line | 1 << unit.err_irq_line
        while True:
            hal.wait_irq(mask)
            hal.ack_irq(unit.irq_line)
            hal.ack_irq(unit.err_irq_line)
            st = hal.read32(base + PKA_STATUS)
            if st & ST_DONE and not st & ST_BUSY:
                break
        hal.write32(base + PKA_STATUS, st & (ST_DONE | PKA_ERRORS))  # VALID stays: the last verify's result
        if st & PKA_ERRORS:
            raise _Refused(", ".join(n for b, n in _PKA_ERR_NAMES.items() if st & b))
        return st

    def _pka_read(self, ctx: Any, n: int) -> bytes:
        hal, base = self._hal(ctx), self.pka.base  # type: ignore[union-attr]
        ctx.spend(self._copy_cost(ctx, 32))
        return b"".join(hal.read32(base + PKA_R0 + 32 * n + i).to_bytes(4, "big") for i in range(0, 32, 4))

    @staticmethod
    def _p256_e(digest: bytes) -> bytes:
        """The digest as R1 takes it: its leftmost 256 bits, a shorter one left-padded (= bits2int)."""
        return bytes(digest[:32]).rjust(32, b"\0")

    def ecdsa_sign(self, ctx: Any, curve: Any, priv_scalar: int, digest: bytes, k: int) -> tuple[int, int]:
        why = self._pka_ok(ctx, "p256") if curve.name == "secp256r1" else f"curve {curve.name} not in the PKA"
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            ops = {0: priv_scalar.to_bytes(32, "big"), 1: self._p256_e(digest), 2: k.to_bytes(32, "big")}
            try:
                self._pka_op(ctx, OP_ECDSA_SIGN, ops)
            except _Refused as e:  # ERR_OPERAND: r or s zero (the software engine says so too)
                why = f"engine refused: {e}"
            else:
                self.stats["ecdsa_sign:hw"] += 1
                return int.from_bytes(self._pka_read(ctx, 3), "big"), int.from_bytes(self._pka_read(ctx, 4), "big")
        return self._fallback(ctx, "ecdsa_sign", why).ecdsa_sign(ctx, curve, priv_scalar, digest, k)

    def ecdsa_verify(self, ctx: Any, curve: Any, pub_xy: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
        why = self._pka_ok(ctx, "p256") if curve.name == "secp256r1" else f"curve {curve.name} not in the PKA"
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            x, y = pub_xy
            ops = {n: v.to_bytes(32, "big") for n, v in ((5, x), (6, y), (3, r), (4, s))}
            ops[1] = self._p256_e(digest)
            try:
                st = self._pka_op(ctx, OP_ECDSA_VERIFY, ops)
            except _Refused as e:
                why = f"engine refused: {e}"
            else:
                self.stats["ecdsa_verify:hw"] += 1
                return bool(st & PKA_VALID)
        return self._fallback(ctx, "ecdsa_verify", why).ecdsa_verify(ctx, curve, pub_xy, digest, r, s)

    def _ed25519_ok(self, ctx: Any, mode: int, context: bytes, msg: bytes) -> str:
        if mode != ED25519_PURE or context:
            return "Ed25519ctx / Ed25519ph not in the PKA"
        if len(msg) > self.scratch_size:
            return f"Ed25519 message of {len(msg)} bytes > the scratch buffer"
        return self._pka_ok(ctx, "curve25519")

    def ed25519_sign(
        self, ctx: Any, seed: bytes, msg: bytes, mode: int = ED25519_PURE, context: bytes = b"", public: bytes = b""
    ) -> bytes:
        why = self._ed25519_ok(ctx, mode, context, msg)
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            try:
                self._pka_op(ctx, OP_ED25519_SIGN, {0: bytes(seed)}, bytes(msg))
            except _Refused as e:
                why = f"engine refused: {e}"
            else:
                self.stats["ed25519_sign:hw"] += 1
                return self._pka_read(ctx, 3) + self._pka_read(ctx, 4)
        return self._fallback(ctx, "ed25519_sign", why).ed25519_sign(ctx, seed, msg, mode, context, public)

    def ed25519_verify(
        self, ctx: Any, pub: bytes, msg: bytes, sig: bytes, mode: int = ED25519_PURE, context: bytes = b""
    ) -> bool:
        why = self._ed25519_ok(ctx, mode, context, msg)
        if not why and len(sig) != 64:
            why = f"Ed25519 signature of {len(sig)} bytes"
        if not why:
            ctx.spend(self.cost(ctx, "crypto_hw_call"))
            sig = bytes(sig)
            try:
                st = self._pka_op(ctx, OP_ED25519_VERIFY, {5: bytes(pub), 3: sig[:32], 4: sig[32:]}, bytes(msg))
            except _Refused as e:
                why = f"engine refused: {e}"
            else:
                self.stats["ed25519_verify:hw"] += 1
                return bool(st & PKA_VALID)
        return self._fallback(ctx, "ed25519_verify", why).ed25519_verify(ctx, pub, msg, sig, mode, context)
