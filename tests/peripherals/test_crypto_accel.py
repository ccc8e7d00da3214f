"""Crypto accelerators (peripherals/trng.py, aes.py, sha.py, pka.py) on real SoCs from the board profiles.

As in test_flash.py, the tests drive the registers as the HSM bus master (`mmio_write`/`mmio_read`
with master "hsm") and advance virtual time with `soc.run_ns`, which applies completion events. Data
goes in and out through the HSM RAM (`soc.memory["hsm_ram"]`), which the engines reach by DMA.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import algorithms

from boards.loader import load as load_board
from emulator.errors import BoardError
from emulator.soc import Soc
from peripherals import aes as A
from peripherals import pka as P
from peripherals import sha as S
from peripherals import trng as T


def _quiet(source: str, text: str) -> None:
    pass


def make_soc(board: str = "aurix-tc3xx", **overrides: dict) -> Soc:
    b = load_board(board)
    for dev, cfg in overrides.items():
        b.peripheral(dev).config.update(cfg)  # type: ignore[union-attr]
    return Soc(b, console=_quiet)


class Block:
    """Register access to one device as the HSM, plus HSM RAM helpers."""

    def __init__(self, soc: Soc, name: str) -> None:
        self.soc = soc
        self.dev = soc.devices[name]
        self.ram = soc.memory["hsm_ram"]

    def w(self, off: int, value: int) -> None:
        self.dev.mmio_write(off, 4, value, "hsm")

    def r(self, off: int) -> int:
        return self.dev.mmio_read(off, 4, "hsm")

    def put(self, off: int, data: bytes) -> int:
        """Place data at an offset of the HSM RAM; returns its bus address."""
        self.ram.write(self.ram.origin + off, data)
        return self.ram.origin + off

    def get(self, addr: int, size: int) -> bytes:
        return bytes(self.ram.read(addr, size))

    def wait(self, status: int) -> int:
        """Run until the operation in progress ends; return STATUS."""
        op = self.dev.op
        if op is not None:
            self.soc.run_for(op["end"] - self.soc.now)
        st = self.r(status)
        assert st & 2 and not st & 1, f"not done: STATUS 0x{st:x}"
        return st

    def hsm_irqs(self) -> int:
        return self.soc.kernel.intc.pending("hsm")


def words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 4], "big") for i in range(0, len(data), 4)]


def unwords(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in values)


# ================================================================================================ AES

AES_CTRL, AES_CMD, AES_STATUS, AES_IRQEN, AES_SRC, AES_DST, AES_LEN = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
AES_AAD, AES_AADLEN, AES_IVLEN, AES_KEY0, AES_IV0, AES_TAG0 = 0x1C, 0x20, 0x24, 0x40, 0x60, 0x70
KSIZE = {16: 0, 24: 1, 32: 2}


class Aes(Block):
    def __init__(self, soc: Soc) -> None:
        super().__init__(soc, "aes")

    def setup(self, opc: int, key: bytes, iv: bytes = bytes(16)) -> None:
        self.w(AES_CTRL, opc | KSIZE[len(key)] << 8)
        for i, v in enumerate(words(key)):
            self.w(AES_KEY0 + 4 * i, v)
        for i, v in enumerate(words(iv.ljust(16, b"\0"))):
            self.w(AES_IV0 + 4 * i, v)

    def iv(self) -> bytes:
        return unwords([self.r(AES_IV0 + 4 * i) for i in range(4)])

    def tag(self) -> bytes:
        return unwords([self.r(AES_TAG0 + 4 * i) for i in range(4)])

    def run(self, opc: int, key: bytes, data: bytes, iv: bytes = bytes(16), aad: bytes = b"") -> tuple[bytes, int]:
        """One operation from HSM RAM 0x1000 to 0x4000; returns (output, STATUS)."""
        self.setup(opc, key, iv)
        self.w(AES_SRC, self.put(0x1000, data))
        self.w(AES_DST, self.ram.origin + 0x4000)
        self.w(AES_LEN, len(data))
        self.w(AES_AAD, self.put(0x7000, aad))
        self.w(AES_AADLEN, len(aad))
        self.w(AES_CMD, A.CMD_START)
        st = self.wait(AES_STATUS)
        return self.get(self.ram.origin + 0x4000, len(data)), st


@pytest.fixture(scope="module")
def aurix() -> Soc:
    return make_soc("aurix-tc3xx")


@pytest.fixture(scope="module")
def spc58() -> Soc:
    return make_soc("spc58nn")


H = bytes.fromhex
# FIPS-197 appendix C.1 / C.3
FIPS197_PT = H("00112233445566778899aabbccddeeff")
FIPS197 = [
    (H("000102030405060708090a0b0c0d0e0f"), H("69c4e0d86a7b0430d8cdb78070b4c55a")),
    (H("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), H("8ea2b7ca516745bfeafc49904b496089")),
]
# SP 800-38A F.1-F.5
SP38A_KEY128 = H("2b7e151628aed2a6abf7158809cf4f3c")
SP38A_KEY256 = H("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
SP38A_PT = H(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)
SP38A_IV = H("000102030405060708090a0b0c0d0e0f")
SP38A_CTR = H("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
SP38A = {
    ("ecb", 16): H(
        "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
        "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"
    ),
    ("cbc", 16): H(
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
    ),
    ("ctr", 16): H(
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"
    ),
    ("cbc", 32): H(
        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
        "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"
    ),
}
# GCM spec (McGrew & Viega) test case 4: AES-128, 12-byte IV, 20-byte AAD, 60-byte plaintext
GCM4_KEY = H("feffe9928665731c6d6a8f9467308308")
GCM4_IV = H("cafebabefacedbaddecaf888")
GCM4_AAD = H("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM4_PT = H(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM4_CT = H(
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
)
GCM4_TAG = H("5bc94fbc3221a5db94fae95ae7121a47")


def test_boards_place_the_accelerators(aurix: Soc, spc58: Soc) -> None:
    bases = {p.name: (p.base, p.size, p.masters) for p in aurix.board.peripherals}
    assert bases["aes"] == (0xE800_0000, 0x4000, ["hsm"])
    assert bases["sha"][0] == 0xE800_4000 and bases["pka"][0] == 0xE800_8000 and bases["trng"][0] == 0xEC00_0000
    assert aurix.devices["trng"].irq_line == 2 and aurix.devices["pka"].irq_line == 8  # hw spec 1.1
    assert aurix.devices["pka"].err_irq_line == 9
    # the SPC58-like board has a TRNG and an AES-128 engine only (hw spec 2.3)
    assert {"trng", "aes"} <= set(spc58.devices) and not {"sha", "pka"} & set(spc58.devices)
    assert spc58.devices["aes"].key_sizes == [128]
    # the blocks are the HSM's alone
    assert not aurix.mpu.allows(frozenset({"cpu0", "app"}), 0xE800_0000, 4, "r")
    assert aurix.mpu.allows(frozenset({"hsm"}), 0xE800_0000, 4, "w")


@pytest.mark.parametrize("key,ct", FIPS197, ids=["aes128", "aes256"])
def test_aes_fips197(aurix: Soc, key: bytes, ct: bytes) -> None:
    a = Aes(aurix)
    out, st = a.run(A.OPC_ECBENC, key, FIPS197_PT)
    assert out == ct and not st & A.ERRORS
    out, st = a.run(A.OPC_ECBDEC, key, ct)
    assert out == FIPS197_PT


@pytest.mark.parametrize("mode,klen", list(SP38A), ids=[f"{m}-{8 * k}" for m, k in SP38A])
def test_aes_sp800_38a(aurix: Soc, mode: str, klen: int) -> None:
    a = Aes(aurix)
    key = SP38A_KEY128 if klen == 16 else SP38A_KEY256
    ct = SP38A[(mode, klen)]
    enc, dec, iv = {
        "ecb": (A.OPC_ECBENC, A.OPC_ECBDEC, bytes(16)),
        "cbc": (A.OPC_CBCENC, A.OPC_CBCDEC, SP38A_IV),
        "ctr": (A.OPC_CTR, A.OPC_CTR, SP38A_CTR),
    }[mode]
    out, _ = a.run(enc, key, SP38A_PT, iv)
    assert out == ct
    if mode == "cbc":
        assert a.iv() == ct[-16:]  # the chaining value to continue with
    if mode == "ctr":
        assert a.iv() == (int.from_bytes(SP38A_CTR, "big") + 4).to_bytes(16, "big")
    out, _ = a.run(dec, key, ct, iv)
    assert out == SP38A_PT


def test_aes_chaining_continues_across_operations(aurix: Soc) -> None:
    """CBC and CTR split in two operations, continuing from the IV registers, equal one operation."""
    a = Aes(aurix)
    for opc, iv, ct in ((A.OPC_CBCENC, SP38A_IV, SP38A[("cbc", 16)]), (A.OPC_CTR, SP38A_CTR, SP38A[("ctr", 16)])):
        first, _ = a.run(opc, SP38A_KEY128, SP38A_PT[:32], iv)
        second, _ = a.run(opc, SP38A_KEY128, SP38A_PT[32:], a.iv())
        assert first + second == ct


def test_aes_gcm(aurix: Soc) -> None:
    a = Aes(aurix)
    out, st = a.run(A.OPC_GCMENC, GCM4_KEY, GCM4_PT, GCM4_IV, GCM4_AAD)
    assert out == GCM4_CT and a.tag() == GCM4_TAG and not st & A.ERRORS
    assert a.iv()[:12] == GCM4_IV  # GCM leaves the IV registers alone
    # decryption outputs the plaintext and the tag over the ciphertext; the firmware compares
    out, _ = a.run(A.OPC_GCMDEC, GCM4_KEY, GCM4_CT, GCM4_IV, GCM4_AAD)
    assert out == GCM4_PT and a.tag() == GCM4_TAG
    forged = bytearray(GCM4_CT)
    forged[0] ^= 1
    a.run(A.OPC_GCMDEC, GCM4_KEY, bytes(forged), GCM4_IV, GCM4_AAD)
    assert a.tag() != GCM4_TAG
    # an IV length outside 8..16 is refused
    a.w(AES_IVLEN, 4)
    _, st = a.run(A.OPC_GCMENC, GCM4_KEY, GCM4_PT, GCM4_IV, GCM4_AAD)
    assert st & A.ST_ERR_LEN
    a.w(AES_IVLEN, 12)


def test_cmac_from_ecb_and_cbcmac(aurix: Soc) -> None:
    """What CMAC needs: L = E(K, 0) by ECB, then CBC-MAC over the message with the last block masked."""
    a = Aes(aurix)
    key = SP38A_KEY128
    msg = SP38A_PT[:40]  # RFC 4493 example 3: a partial last block
    lblock, _ = a.run(A.OPC_ECBENC, key, bytes(16))

    def dbl(b: bytes) -> bytes:
        v = int.from_bytes(b, "big") << 1
        return ((v ^ 0x87 if v >> 128 else v) & ((1 << 128) - 1)).to_bytes(16, "big")

    k1 = dbl(lblock)
    k2 = dbl(k1)
    full, rest = divmod(len(msg), 16)
    if rest or not msg:
        last = (msg[16 * full :] + b"\x80").ljust(16, b"\0")
        mask = k2
    else:
        full -= 1
        last, mask = msg[16 * full :], k1
    blocks = msg[: 16 * full] + bytes(x ^ y for x, y in zip(last, mask))
    before = a.get(a.ram.origin + 0x4000, 16)
    _, st = a.run(A.OPC_CBCMAC, key, blocks, bytes(16))
    assert not st & A.ERRORS
    assert a.get(a.ram.origin + 0x4000, 16) == before  # CBC-MAC writes nothing
    ref = cmac.CMAC(algorithms.AES(key))
    ref.update(msg)
    assert a.iv() == ref.finalize() == H("dfa66747de9ae63030ca32611497c827")


def test_aes_refusals_and_board_subsets(aurix: Soc, spc58: Soc) -> None:
    a = Aes(aurix)
    _, st = a.run(A.OPC_CBCENC, SP38A_KEY128, SP38A_PT[:20])
    assert st & A.ST_ERR_LEN
    _, st = a.run(A.OPC_ECBENC, bytes(24), bytes(16))  # AES-192 is not in the Aurix-like engine
    assert st & A.ST_ERR_KEY
    _, st = a.run(0x05, SP38A_KEY128, bytes(16))  # OFB: not implemented
    assert st & A.ST_ERR_MODE
    a.w(AES_CMD, 7)
    assert a.r(AES_STATUS) & A.ST_ERR_SEQUENCE
    s = Aes(spc58)
    out, st = s.run(A.OPC_ECBENC, FIPS197[0][0], FIPS197_PT)
    assert out == FIPS197[0][1]
    _, st = s.run(A.OPC_ECBENC, FIPS197[1][0], FIPS197_PT)
    assert st & A.ST_ERR_KEY  # AES-128 only
    _, st = s.run(A.OPC_GCMENC, GCM4_KEY, GCM4_PT, GCM4_IV)
    assert st & A.ST_ERR_MODE


def test_dma_outside_the_allowed_memories(aurix: Soc) -> None:
    a = Aes(aurix)
    lmu = aurix.memory["lmu"]
    pflash = aurix.memory["pflash"]
    lmu_before = bytes(lmu.read(lmu.origin, 64))
    ram_before = a.get(a.ram.origin + 0x4000, 64)
    cases = [
        (a.put(0x1000, bytes(64)), lmu.origin),  # destination outside: the shared LMU
        (lmu.origin, a.ram.origin + 0x4000),  # source outside
        (a.put(0x1000, bytes(64)), pflash.origin),  # flash is a source only
        (a.ram.end - 32, a.ram.origin + 0x4000),  # source runs past the end of the HSM RAM
    ]
    for src, dst in cases:
        a.setup(A.OPC_ECBENC, SP38A_KEY128)
        a.w(AES_SRC, src)
        a.w(AES_DST, dst)
        a.w(AES_LEN, 64)
        a.w(AES_CMD, A.CMD_START)
        st = a.r(AES_STATUS)
        assert st & A.ST_DONE and st & A.ST_ERR_DMA and not st & A.ST_BUSY, hex(st)
    assert bytes(lmu.read(lmu.origin, 64)) == lmu_before
    assert a.get(a.ram.origin + 0x4000, 64) == ram_before
    # program flash is a valid source (secure boot MACs over code)
    a.setup(A.OPC_ECBENC, SP38A_KEY128)
    a.w(AES_SRC, pflash.origin)
    a.w(AES_DST, a.ram.origin + 0x4000)
    a.w(AES_LEN, 32)
    a.w(AES_CMD, A.CMD_START)
    a.wait(AES_STATUS)
    ecb = a.get(a.ram.origin + 0x4000, 32)
    assert ecb == Aes(aurix).run(A.OPC_ECBENC, SP38A_KEY128, bytes(pflash.read(pflash.origin, 32)))[0]


def test_aes_busy_done_timing_and_irq() -> None:
    """BUSY for setup + blocks * cycles_per_block at 100 MHz, then DONE and the IRQ; the SPC58 is slower."""
    durations = {}
    for board, line in (("aurix-tc3xx", 11), ("spc58nn", 11)):
        soc = make_soc(board)
        a = Aes(soc)
        a.w(AES_IRQEN, 1)
        a.setup(A.OPC_CBCENC, SP38A_KEY128, SP38A_IV)
        a.w(AES_SRC, a.put(0x1000, SP38A_PT))
        a.w(AES_DST, a.ram.origin + 0x4000)
        a.w(AES_LEN, 64)
        t0 = soc.now
        a.w(AES_CMD, A.CMD_START)
        assert a.r(AES_STATUS) & A.ST_BUSY and not a.r(AES_STATUS) & A.ST_DONE
        a.w(AES_CMD, A.CMD_START)  # START while busy: refused, the running operation goes on
        assert a.r(AES_STATUS) & A.ST_ERR_SEQUENCE
        end = a.dev.op["end"]
        durations[board] = end - t0
        soc.run_for(end - t0 - 1)
        assert a.r(AES_STATUS) & A.ST_BUSY
        assert a.get(a.ram.origin + 0x4000, 64) == bytes(64)  # output appears at the end only
        assert not a.hsm_irqs() & (1 << line)
        soc.run_for(1)
        soc.run_ns(10)  # the interrupt line is applied at the next boundary
        st = a.r(AES_STATUS)
        assert st & A.ST_DONE and not st & A.ST_BUSY
        assert a.get(a.ram.origin + 0x4000, 64) == SP38A[("cbc", 16)]
        assert a.hsm_irqs() & (1 << line)
        a.w(AES_STATUS, A.ST_DONE | A.ST_ERR_SEQUENCE)  # write 1 to clear
        assert a.r(AES_STATUS) == 0
    tns = make_soc("aurix-tc3xx").timebase.ns(1)
    assert durations["aurix-tc3xx"] == (60 + 4 * 40) * 10 * tns  # 2.2 us
    assert durations["spc58nn"] == (60 + 4 * 128) * 10 * make_soc("spc58nn").timebase.ns(1)  # 5.72 us


def test_power_cut_aborts_and_glitch_flips() -> None:
    soc = make_soc("aurix-tc3xx")
    a = Aes(soc)
    a.setup(A.OPC_ECBENC, FIPS197[0][0])
    a.w(AES_SRC, a.put(0x1000, FIPS197_PT))
    a.w(AES_DST, a.ram.origin + 0x4000)
    a.w(AES_LEN, 16)
    a.w(AES_CMD, A.CMD_START)
    assert a.dev.busy
    soc.power_cut()
    assert not a.dev.busy and a.r(AES_STATUS) == 0
    soc.run_ns(10_000)
    assert a.r(AES_STATUS) == 0 and a.get(a.ram.origin + 0x4000, 16) == bytes(16)
    a.dev.inject_glitch(3)
    out, _ = a.run(A.OPC_ECBENC, FIPS197[0][0], FIPS197_PT)
    assert out == bytes([FIPS197[0][1][0] ^ 8]) + FIPS197[0][1][1:]
    out, _ = a.run(A.OPC_ECBENC, FIPS197[0][0], FIPS197_PT)  # one glitch, one operation
    assert out == FIPS197[0][1]


# ================================================================================================ SHA

SHA_CMD, SHA_STATUS, SHA_IRQEN, SHA_SRC, SHA_LEN, SHA_H0 = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x20


def sha_pad(msg: bytes, total: int | None = None) -> bytes:
    bits = 8 * (len(msg) if total is None else total)
    return msg + b"\x80" + bytes((55 - len(msg)) % 64) + struct.pack(">Q", bits)


class Sha(Block):
    def __init__(self, soc: Soc) -> None:
        super().__init__(soc, "sha")

    def state(self) -> list[int]:
        return [self.r(SHA_H0 + 4 * i) for i in range(8)]

    def load(self, state: list[int]) -> None:
        for i, v in enumerate(state):
            self.w(SHA_H0 + 4 * i, v)

    def blocks(self, data: bytes) -> int:
        self.w(SHA_SRC, self.put(0x2000, data))
        self.w(SHA_LEN, len(data))
        self.w(SHA_CMD, S.CMD_START)
        return self.wait(SHA_STATUS)


def test_sha256_abc(aurix: Soc) -> None:
    s = Sha(aurix)
    s.w(SHA_CMD, S.CMD_INIT_SHA256)
    assert s.state() == list(S.IV_SHA256)
    st = s.blocks(sha_pad(b"abc"))
    assert not st & (S.ST_ERR_LEN | S.ST_ERR_DMA)
    assert unwords(s.state()) == hashlib.sha256(b"abc").digest()


def test_sha256_midstate_continuation(aurix: Soc) -> None:
    """Two blocks in two operations, the midstate carried outside in between (wolfHSM's protocol)."""
    msg = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" + bytes(range(40))
    padded = sha_pad(msg)
    assert len(padded) == 128
    s = Sha(aurix)
    s.w(SHA_CMD, S.CMD_INIT_SHA256)
    s.blocks(padded[:64])
    midstate = s.state()
    s.w(SHA_CMD, S.CMD_INIT_SHA224)  # the engine is used for something else in between
    s.blocks(sha_pad(b"abc"))
    assert unwords(s.state())[:28] == hashlib.sha224(b"abc").digest()
    s.load(midstate)
    s.blocks(padded[64:])
    assert unwords(s.state()) == hashlib.sha256(msg).digest()
    # random splits of a longer message give the one-shot digest
    data = bytes((i * 7 + 3) & 0xFF for i in range(1000))
    padded = sha_pad(data)
    s.w(SHA_CMD, S.CMD_INIT_SHA256)
    for lo, hi in ((0, 64), (64, 448), (448, len(padded))):
        state = s.state()
        s.load(state)
        s.blocks(padded[lo:hi])
    assert unwords(s.state()) == hashlib.sha256(data).digest()


def test_sha_compress_paths_agree() -> None:
    data = bytes(range(256)) * 3
    assert S.compress(S.IV_SHA256, data) == S.compress_py(S.IV_SHA256, data)


def test_sha_errors_timing_and_irq() -> None:
    soc = make_soc("aurix-tc3xx")
    s = Sha(soc)
    s.w(SHA_IRQEN, 1)
    before = s.state()
    s.w(SHA_SRC, s.put(0x2000, bytes(100)))
    s.w(SHA_LEN, 100)
    s.w(SHA_CMD, S.CMD_START)
    assert s.r(SHA_STATUS) & S.ST_ERR_LEN and s.state() == before
    s.w(SHA_SRC, soc.memory["lmu"].origin)
    s.w(SHA_LEN, 64)
    s.w(SHA_CMD, S.CMD_START)
    assert s.r(SHA_STATUS) & S.ST_ERR_DMA and s.state() == before
    soc.run_ns(10)
    assert s.hsm_irqs() & (1 << 12)  # a refused command is DONE too
    soc.kernel.intc.clear_pending("hsm", 12)
    s.w(SHA_SRC, s.put(0x2000, bytes(192)))
    s.w(SHA_LEN, 192)
    t0 = soc.now
    s.w(SHA_CMD, S.CMD_START)
    assert s.r(SHA_STATUS) & S.ST_BUSY
    s.w(SHA_CMD, S.CMD_INIT_SHA256)
    assert s.r(SHA_STATUS) & S.ST_ERR_SEQUENCE
    assert s.dev.op["end"] - t0 == (40 + 3 * 80) * soc.timebase.period(100_000_000)
    s.wait(SHA_STATUS)
    soc.run_ns(10)
    assert s.hsm_irqs() & (1 << 12)
    assert tuple(s.state()) == S.compress(before, bytes(192))


# ================================================================================================ PKA

PKA_CMD, PKA_STATUS, PKA_IRQEN, PKA_SRC, PKA_LEN, PKA_R0 = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x100
N256 = P.P256_N


class Pka(Block):
    def __init__(self, soc: Soc) -> None:
        super().__init__(soc, "pka")

    def put_op(self, n: int, value: bytes | int) -> None:
        raw = value.to_bytes(32, "big") if isinstance(value, int) else value
        for k, v in enumerate(words(raw)):
            self.w(PKA_R0 + 32 * n + 4 * k, v)

    def op(self, n: int) -> bytes:
        return unwords([self.r(PKA_R0 + 32 * n + 4 * k) for k in range(8)])

    def int(self, n: int) -> int:
        return int.from_bytes(self.op(n), "big")

    def run(self, opcode: int, message: bytes | None = None) -> int:
        if message is not None:
            self.w(PKA_SRC, self.put(0x8000, message))
            self.w(PKA_LEN, len(message))
        self.w(PKA_CMD, opcode)
        return self.wait(PKA_STATUS)


def trng_words(soc: Soc, n: int) -> list[int]:
    t = Block(soc, "trng")
    out = []
    while len(out) < n:
        if t.r(TRNG_STAT) & T.ST_DTA_RDY:
            out.append(t.r(TRNG_DATA))
        else:
            soc.run_ns(1000)
    return out


def test_ecdsa_p256_sign_with_a_trng_nonce_verifies_outside() -> None:
    soc = make_soc("aurix-tc3xx", trng={"seed": 7})
    p = Pka(soc)
    key = ec.generate_private_key(ec.SECP256R1())
    d = key.private_numbers().private_value
    digest = hashlib.sha256(b"message to sign").digest()
    p.put_op(0, d)
    assert not p.run(P.OP_P256_PUBKEY) & P.ERRORS
    pub = key.public_key().public_numbers()
    assert (p.int(5), p.int(6)) == (pub.x, pub.y)
    k = int.from_bytes(unwords(trng_words(soc, 8)), "big") % (N256 - 1) + 1  # the nonce from the TRNG
    p.put_op(1, digest)
    p.put_op(2, k)
    st = p.run(P.OP_ECDSA_SIGN)
    assert not st & P.ERRORS
    r, s = p.int(3), p.int(4)
    key.public_key().verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert (r, s) == P.ecdsa_sign(d, digest, k)
    # and the engine verifies its own signature
    assert p.run(P.OP_ECDSA_VERIFY) & P.ST_VALID


def test_ecdsa_p256_verify_a_cryptography_signature(aurix: Soc) -> None:
    p = Pka(aurix)
    key = ec.generate_private_key(ec.SECP256R1())
    msg = b"signed outside"
    r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
    pub = key.public_key().public_numbers()
    for n, v in ((5, pub.x), (6, pub.y), (1, hashlib.sha256(msg).digest()), (3, r), (4, s)):
        p.put_op(n, v)
    st = p.run(P.OP_ECDSA_VERIFY)
    assert st & P.ST_VALID and not st & P.ERRORS
    p.put_op(4, (s + 1) % N256)
    st = p.run(P.OP_ECDSA_VERIFY)
    assert not st & P.ST_VALID and not st & P.ERRORS  # an invalid signature is a result, not an error
    p.put_op(6, (pub.y + 1) % (2**256))
    assert p.run(P.OP_ECDSA_VERIFY) & P.ST_ERR_OPERAND  # not a point of the curve


def test_ecdsa_deterministic_rfc6979(aurix: Soc) -> None:
    # RFC 6979 A.2.5, P-256 with SHA-256, message "sample"
    d = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
    digest = hashlib.sha256(b"sample").digest()
    assert P.rfc6979_k(d, digest) == 0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60
    p = Pka(aurix)
    p.put_op(0, d)
    p.put_op(1, digest)
    assert not p.run(P.OP_ECDSA_SIGN_DET) & P.ERRORS
    assert p.int(3) == 0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716
    assert p.int(4) == 0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8
    p.put_op(0, 0)
    assert p.run(P.OP_ECDSA_SIGN_DET) & P.ST_ERR_OPERAND
    p.put_op(0, N256)
    assert p.run(P.OP_ECDSA_SIGN) & P.ST_ERR_OPERAND


def test_p256_ecdh_matches_cryptography(aurix: Soc) -> None:
    p = Pka(aurix)
    a = ec.generate_private_key(ec.SECP256R1())
    b = ec.generate_private_key(ec.SECP256R1())
    bpub = b.public_key().public_numbers()
    p.put_op(0, a.private_numbers().private_value)
    p.put_op(5, bpub.x)
    p.put_op(6, bpub.y)
    assert not p.run(P.OP_P256_ECDH) & P.ERRORS
    assert p.op(7) == b.exchange(ec.ECDH(), a.public_key())


# RFC 8032 7.1 tests 1 and 2
ED_VECTORS = [
    (
        H("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
        H("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
        b"",
        H(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
    ),
    (
        H("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
        H("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
        H("72"),
        H(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ),
]


@pytest.mark.parametrize("seed,pub,msg,sig", ED_VECTORS, ids=["test1", "test2"])
def test_ed25519_rfc8032(aurix: Soc, seed: bytes, pub: bytes, msg: bytes, sig: bytes) -> None:
    p = Pka(aurix)
    p.put_op(0, seed)
    assert not p.run(P.OP_ED25519_PUBKEY) & P.ERRORS
    assert p.op(5) == pub
    assert not p.run(P.OP_ED25519_SIGN, msg) & P.ERRORS
    assert p.op(3) + p.op(4) == sig
    st = p.run(P.OP_ED25519_VERIFY, msg)
    assert st & P.ST_VALID
    st = p.run(P.OP_ED25519_VERIFY, msg + b"!")
    assert not st & P.ST_VALID and not st & P.ERRORS
    ed25519.Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)


def test_x25519_matches_cryptography(aurix: Soc) -> None:
    p = Pka(aurix)
    a = x25519.X25519PrivateKey.generate()
    b = x25519.X25519PrivateKey.generate()
    p.put_op(0, a.private_bytes_raw())
    assert not p.run(P.OP_X25519_PUBKEY) & P.ERRORS
    assert p.op(5) == a.public_key().public_bytes_raw()
    p.put_op(5, b.public_key().public_bytes_raw())
    assert not p.run(P.OP_X25519) & P.ERRORS
    assert p.op(7) == b.exchange(a.public_key())
    p.put_op(5, bytes(32))  # the zero point: all-zero shared secret
    assert p.run(P.OP_X25519) & P.ST_ERR_OPERAND


def test_pka_timing_irq_lines_and_refusals() -> None:
    soc = make_soc("aurix-tc3xx")
    p = Pka(soc)
    p.w(PKA_IRQEN, P.IRQEN_DONE | P.IRQEN_ERR)
    p.put_op(0, 12345)
    t0 = soc.now
    p.w(PKA_CMD, P.OP_P256_PUBKEY)
    assert p.r(PKA_STATUS) & P.ST_BUSY
    assert p.dev.op["end"] - t0 == (200 + 230_000) * soc.timebase.period(100_000_000)  # 2.302 ms
    p.w(PKA_CMD, P.OP_ECDSA_SIGN_DET)
    assert p.r(PKA_STATUS) & P.ST_ERR_SEQUENCE
    p.wait(PKA_STATUS)
    soc.run_ns(10)
    assert p.hsm_irqs() & (1 << 8) and not p.hsm_irqs() & (1 << 9)  # PKCRdy
    p.w(PKA_CMD, 0x7F)  # unknown opcode
    soc.run_ns(10)
    assert p.r(PKA_STATUS) & P.ST_ERR_MODE and p.hsm_irqs() & (1 << 9)  # PKCErr
    p.w(PKA_SRC, soc.memory["lmu"].origin)
    p.w(PKA_LEN, 16)
    p.w(PKA_CMD, P.OP_ED25519_SIGN)
    assert p.r(PKA_STATUS) & P.ST_ERR_DMA
    # Ed25519 charges the message hashing: a 1000-byte message costs more than an empty one
    p.w(PKA_LEN, 0)
    p.w(PKA_CMD, P.OP_ED25519_SIGN)
    short = p.dev.op["end"] - p.dev.op["start"]
    p.wait(PKA_STATUS)
    p.w(PKA_SRC, p.put(0x8000, bytes(1000)))
    p.w(PKA_LEN, 1000)
    p.w(PKA_CMD, P.OP_ED25519_SIGN)
    long = p.dev.op["end"] - p.dev.op["start"]
    p.wait(PKA_STATUS)
    assert long - short == 2 * (9 - 1) * 200 * soc.timebase.period(100_000_000)


def test_pka_profile_subset_and_glitch() -> None:
    soc = make_soc("aurix-tc3xx", pka={"curves": ["p256"]})
    p = Pka(soc)
    p.put_op(0, bytes(32))
    assert p.run(P.OP_ED25519_PUBKEY) & P.ST_ERR_MODE
    p.put_op(0, 1)
    p.dev.inject_glitch(8 * 31)  # bit 0 of the last byte of Qx
    p.run(P.OP_P256_PUBKEY)
    g = ec.derive_private_key(1, ec.SECP256R1()).public_key().public_numbers()
    assert p.int(5) == g.x ^ 1 and p.int(6) == g.y
    p.dev.inject_glitch(-1)  # a verify's answer turns
    p.put_op(1, bytes(32))
    p.put_op(3, 1)
    p.put_op(4, 1)
    p.put_op(5, g.x)
    assert p.run(P.OP_ECDSA_VERIFY) & P.ST_VALID
    assert not p.run(P.OP_ECDSA_VERIFY) & P.ST_VALID


# ================================================================================================ TRNG

TRNG_DATA, TRNG_STAT, TRNG_CTRL, TRNG_IRQEN, TRNG_LEVEL = 0x00, 0x0C, 0x10, 0x14, 0x18


def test_trng_seeded_runs_repeat() -> None:
    a, b, c = make_soc(), make_soc(), make_soc()
    a.devices["trng"].reseed(42)
    b.devices["trng"].reseed(42)
    c.devices["trng"].reseed(43)
    wa, wb, wc = trng_words(a, 40), trng_words(b, 40), trng_words(c, 40)
    assert wa == wb and wa != wc
    assert len(set(wa)) == 40
    # the profile key does the same as reseed
    d = make_soc(trng={"seed": 42})
    assert trng_words(d, 40) == wa
    # the SPC58-like board's TRNG gives the same stream for the same seed (slower)
    e = make_soc("spc58nn")
    e.devices["trng"].reseed(42)
    assert trng_words(e, 40) == wa
    # unseeded: entropy from the OS
    assert trng_words(make_soc(), 8) != trng_words(make_soc(), 8)


def test_trng_rate_fifo_underrun_and_irq() -> None:
    soc = make_soc(trng={"seed": 1})
    t = Block(soc, "trng")
    period_ns = 400 * 10  # 400 cycles at 100 MHz
    soc.run_ns(1)  # power on
    t.w(TRNG_CTRL, T.CTRL_DIS)
    t.w(TRNG_CTRL, 0)  # restart: empty now
    assert t.r(TRNG_LEVEL) == 0 and not t.r(TRNG_STAT) & T.ST_DTA_RDY
    assert t.r(TRNG_DATA) == 0 and t.r(TRNG_STAT) & T.ST_UNDERRUN
    t.w(TRNG_STAT, T.ST_UNDERRUN)
    assert not t.r(TRNG_STAT) & T.ST_UNDERRUN
    soc.run_ns(period_ns)
    assert t.r(TRNG_LEVEL) == 1 and t.r(TRNG_STAT) & T.ST_DTA_RDY
    soc.run_ns(100 * period_ns)
    assert t.r(TRNG_LEVEL) == 8  # the FIFO is full
    for _ in range(8):
        assert t.r(TRNG_DATA) != 0
    assert t.r(TRNG_LEVEL) == 0
    # RDY interrupt when the next word arrives
    t.w(TRNG_IRQEN, T.IRQEN_RDY)
    soc.run_ns(period_ns // 2)
    assert not t.hsm_irqs() & (1 << 2)
    soc.run_ns(period_ns // 2 + 10)
    assert t.hsm_irqs() & (1 << 2)


def test_trng_failures_inject_and_clear() -> None:
    soc = make_soc(trng={"seed": 5})
    t = Block(soc, "trng")
    dev: T.Trng = soc.devices["trng"]
    soc.run_ns(100_000)
    t.w(TRNG_IRQEN, T.IRQEN_ERR)
    dev.inject_failure("health")
    soc.run_ns(10)
    st = t.r(TRNG_STAT)
    assert st & T.ST_FIPS_ERR and not st & T.ST_DTA_RDY
    assert t.hsm_irqs() & (1 << 2)
    assert t.r(TRNG_DATA) == 0
    soc.run_ns(100_000)
    assert t.r(TRNG_DATA) == 0 and t.r(TRNG_LEVEL) == 0
    t.w(TRNG_STAT, T.ST_FIPS_ERR)  # the failure is still there: the flag sets again
    assert t.r(TRNG_STAT) & T.ST_FIPS_ERR
    dev.clear_failure()
    assert t.r(TRNG_STAT) & T.ST_FIPS_ERR  # latched until the firmware clears it
    t.w(TRNG_STAT, T.ST_FIPS_ERR)
    assert not t.r(TRNG_STAT) & T.ST_FIPS_ERR
    assert len(set(trng_words(soc, 4))) == 4
    # stuck output: the same word again and again, the status looks healthy
    dev.inject_failure("stuck")
    stuck = trng_words(soc, 6)
    assert len(set(stuck)) == 1 and not t.r(TRNG_STAT) & T.ST_FIPS_ERR
    dev.inject_failure("stuck", word=0xA5A5A5A5)
    assert set(trng_words(soc, 3)) == {0xA5A5A5A5}
    dev.clear_failure()
    assert len(set(trng_words(soc, 4))) == 4
    with pytest.raises(ValueError):
        dev.inject_failure("melted")


def test_trng_snapshot_restores_the_stream() -> None:
    soc = make_soc(trng={"seed": 9})
    trng_words(soc, 3)
    snap = soc.snapshot()
    first = trng_words(soc, 10)
    soc.restore(snap)
    assert trng_words(soc, 10) == first


# ================================================================================================ profiles


def test_profile_errors_name_the_key() -> None:
    b = load_board("aurix-tc3xx")
    b.peripheral("aes").config["modes"] = ["ecb", "xts"]  # type: ignore[union-attr]
    with pytest.raises(BoardError, match="peripherals.aes"):
        Soc(b, console=_quiet)
    b = load_board("aurix-tc3xx")
    b.peripheral("sha").config["dma_memories"] = ["nowhere"]  # type: ignore[union-attr]
    with pytest.raises(BoardError, match="nowhere"):
        Soc(b, console=_quiet)
    b = load_board("aurix-tc3xx")
    b.peripheral("trng").config["seed"] = True  # type: ignore[union-attr]
    with pytest.raises(BoardError, match="seed"):
        Soc(b, console=_quiet)


# ================================================================================================ firmware


class AccelFirmware:
    """HSM firmware that drives the engines through its HAL, as the crypto service would."""

    def __init__(self) -> None:
        self.log: dict[str, object] = {}

    def boot(self, hal: Any) -> None:
        pass

    def serve(self, hal: Any) -> None:
        aes, sha, trng = (hal.peripheral(n) for n in ("aes", "sha", "trng"))
        ram = 0x2000_0000  # the Aurix-like HSM RAM
        # AES-128 ECB of one block, waiting for the done interrupt
        hal.write(ram + 0x100, FIPS197_PT)
        for i, v in enumerate(words(FIPS197[0][0])):
            hal.write32(aes["base"] + AES_KEY0 + 4 * i, v)
        for off, v in ((AES_CTRL, A.OPC_ECBENC), (AES_SRC, ram + 0x100), (AES_DST, ram + 0x200), (AES_LEN, 16)):
            hal.write32(aes["base"] + off, v)
        hal.write32(aes["base"] + AES_IRQEN, 1)
        t0 = hal.now_ns()
        hal.write32(aes["base"] + AES_CMD, A.CMD_START)
        line = hal.wait_irq(1 << aes["irq_line"])
        hal.ack_irq(line)
        self.log["aes_ns"] = hal.now_ns() - t0
        self.log["aes"] = hal.read(ram + 0x200, 16)
        self.log["aes_status"] = hal.read32(aes["base"] + AES_STATUS)
        # SHA-256 of "abc" by polling STATUS
        hal.write(ram + 0x300, sha_pad(b"abc"))
        hal.write32(sha["base"] + SHA_CMD, S.CMD_INIT_SHA256)
        hal.write32(sha["base"] + SHA_SRC, ram + 0x300)
        hal.write32(sha["base"] + SHA_LEN, 64)
        hal.write32(sha["base"] + SHA_CMD, S.CMD_START)
        while hal.read32(sha["base"] + SHA_STATUS) & S.ST_BUSY:
            hal.spend(10)
        self.log["sha"] = unwords([hal.read32(sha["base"] + SHA_H0 + 4 * i) for i in range(8)])
        # four TRNG words, waiting for each
        hal.write32(trng["base"] + TRNG_IRQEN, T.IRQEN_RDY)
        got = []
        while len(got) < 4:
            if hal.read32(trng["base"] + TRNG_STAT) & T.ST_DTA_RDY:
                got.append(hal.read32(trng["base"] + TRNG_DATA))
            else:
                hal.ack_irq(hal.wait_irq(1 << trng["irq_line"]))
        self.log["trng"] = got


def test_hsm_firmware_drives_the_engines_through_its_hal() -> None:
    runs = []
    for _ in range(2):
        soc = Soc("aurix-tc3xx", firmware={"hsm": f"{__name__}:AccelFirmware"}, console=_quiet)
        soc.devices["trng"].reseed(11)
        soc.run_ns(1_000_000)
        fw = soc.core("hsm").firmware  # type: ignore[union-attr]
        log = fw.log
        assert log["aes"] == FIPS197[0][1] and log["aes_status"] == A.ST_DONE
        assert 1000 <= log["aes_ns"] < 1200  # 100 cycles at 100 MHz, plus the bus accesses' wait states
        assert log["sha"] == hashlib.sha256(b"abc").digest()
        runs.append(log["trng"])
    assert runs[0] == runs[1] and len(set(runs[0])) == 4
