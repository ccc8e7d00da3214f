"""The hardware crypto engine (firmware/hsm/crypto/hw_engine.py) on real boards, through the bridge.

Every request is a raw v1.4.0 CRYPTO packet (layouts as in test_sym_*.py: struct-offsets-v1.4.0.txt)
sent by an in-process bridge client to a real ``Soc``. The same script runs with the HSM param
``crypto = "hw"`` and ``"sw"`` on aurix-tc3xx (AES-128/256 ECB/CBC/CTR/GCM, SHA-256, TRNG) and
spc58nn (AES-128 ECB/CBC, TRNG; no SHA engine): the reply bytes must be identical everywhere, the
virtual durations (bridge "request" to "reply" trace records) must differ where the hardware does.
Runs are seeded (``rng_seed`` 7 and the TRNG's ``reseed(7)``), so they are reproducible.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import cmac as cmac_mod
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emulator.bridge import HostBridge
from emulator.soc import Soc
from emulator.trace import Trace
from firmware.client import Client
from firmware.client.transport import Transport
from firmware.hsm.crypto.engine import SoftwareEngine
from firmware.hsm.crypto.hw_engine import SCRATCH_SIZE, HardwareEngine
from peripherals import aes as aes_dev
from peripherals import pka as pka_dev
from peripherals import sha as sha_dev
from peripherals import trng as trng_dev
from peripherals.pka import P256_N

BOARDS = ("aurix-tc3xx", "spc58nn")
HASH, CIPHER, RNG, CMAC = 1, 2, 4, 7
SHA256, SHA512 = 6, 8
AES_CBC, AES_GCM, AES_CTR, AES_ECB = 2, 3, 4, 13
RNG_FAILURE_E = -199
SHA256_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
SHA512_IV = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip
ALIGN_RNG = 256  # both boards' seeded streams are brought to this position before the script
KEY128, KEY192, KEY256 = bytes(range(16)), bytes(range(24)), bytes(range(32))
IV = bytes(range(16, 32))
DATA_1K = bytes(i * 7 & 0xFF for i in range(1024))


# ------------------------------------------------------------------------------------------ packets


def frame(kind: int, seq: int, payload: bytes) -> bytes:
    return b"\x01\xa5" + struct.pack("<HHH", kind, seq, 0) + payload


def crypto(action: int, algo: int, body: bytes) -> tuple[int, bytes]:
    return 0x0400 | action, struct.pack("<II", algo, 0) + body


def aes_cbc(key: bytes, data: bytes, enc: bool = True) -> tuple[int, bytes]:
    return crypto(CIPHER, AES_CBC, struct.pack("<IIIH2x", int(enc), len(key), len(data), 0) + data + key + IV)


def aes_ecb(key: bytes, data: bytes, enc: bool = True) -> tuple[int, bytes]:
    return crypto(CIPHER, AES_ECB, struct.pack("<IIIH2x", int(enc), len(key), len(data), 0) + data + key + IV)


def aes_ctr(key: bytes, data: bytes) -> tuple[int, bytes]:
    body = struct.pack("<IIIH2xI4x", 1, len(key), len(data), 0, 0) + data + key + IV + bytes(16)
    return crypto(CIPHER, AES_CTR, body)


def aes_gcm(key: bytes, data: bytes, iv: bytes, aad: bytes, enc: bool = True, tag: bytes = b"") -> tuple[int, bytes]:
    head = struct.pack("<IIIIIIH2x", int(enc), len(key), len(data), len(iv), len(aad), 16 if enc else len(tag), 0)
    return crypto(CIPHER, AES_GCM, head + data + key + iv + aad + (b"" if enc else tag))


def cmac(key: bytes, data: bytes) -> tuple[int, bytes]:
    return crypto(CMAC, CMAC, struct.pack("<IIIH2x", 16, len(data), len(key), 0) + bytes(40) + data + key)


def sha256_block(block: bytes, last: bool = False, last_len: int = 0) -> tuple[int, bytes]:
    state = struct.pack("<8I", *SHA256_IV)
    return crypto(HASH, SHA256, struct.pack("<II32sII64s4x", 0, 0, state, int(last), last_len, block))


def sha512_block(block: bytes) -> tuple[int, bytes]:
    state = struct.pack("<8Q", *SHA512_IV)
    return crypto(HASH, SHA512, struct.pack("<II64sIII128s4x", 0, 0, state, SHA512, 0, 0, block))


def rng(n: int) -> tuple[int, bytes]:
    return crypto(RNG, RNG, struct.pack("<I", n))


def rc_of(reply: bytes) -> int:
    return struct.unpack_from("<i", reply, 12)[0]


# ------------------------------------------------------------------------------------------ a board


class Board:
    """A booted board (app demo run to the end), a local bridge client logged in, seeded streams."""

    def __init__(self, board: str, crypto_kind: str | None = "hw", seed: int | None = 7, **params: Any) -> None:
        hsm: dict[str, Any] = dict(params)
        if crypto_kind is not None:
            hsm["crypto"] = crypto_kind
        if seed is not None:
            hsm["rng_seed"] = seed
        self.name = board
        self.soc = Soc(board, trace=Trace("events"), console=lambda s, t: None, params={"hsm": hsm})
        if seed is not None:
            self.soc.devices["trng"].reseed(seed)
        assert self.soc.run_until_idle(limit_ns=5_000_000_000)
        self.bridge = HostBridge(self.soc, log=lambda m: None)
        self.client = self.bridge.attach_local()
        self.seq = 0
        assert self.send(0x0101, struct.pack("<I", 1))[8:] == struct.pack("<II", 1, 57)  # COMM INIT

    @property
    def server(self) -> Any:
        return self.soc.core("hsm").firmware.server  # type: ignore[union-attr]

    @property
    def engine(self) -> Any:
        return getattr(self.server, "crypto_engine", None)

    def send(self, kind: int, payload: bytes) -> bytes:
        self.seq += 1
        reply = self.bridge.request(self.client, frame(kind, self.seq, payload), limit_ns=2_000_000_000)
        assert reply[:2] == b"\x01\xa5" and struct.unpack_from("<H", reply, 2)[0] == kind
        return reply

    def timed(self, request: tuple[int, bytes]) -> tuple[bytes, int, list[tuple[int, str, str, str]]]:
        """(reply, virtual ns from the bridge's request record to its reply record, trace records)."""
        start = len(self.soc.trace.records)
        reply = self.send(*request)
        recs = self.soc.trace.records[start:]
        bridge = [r for r in recs if r[1] == "bridge"]
        assert [r[2] for r in bridge] == ["request", "reply"]
        ticks = bridge[1][0] - bridge[0][0]
        return reply, ticks * 10**9 // self.soc.timebase.hz, recs

    def rng_position(self) -> int:
        eng = self.engine
        if eng is None:
            return 0
        return (eng.sw if isinstance(eng, HardwareEngine) else eng)._rng_pos

    def align_rng(self, position: int = ALIGN_RNG) -> None:
        """Draw from the seeded stream up to `position` (the app demo may have drawn some already)."""
        have = self.rng_position()
        assert have <= position
        if have < position:
            assert rc_of(self.send(*rng(position - have))) == 0
        assert self.rng_position() == position


SCRIPT: dict[str, tuple[int, bytes]] = {
    "cbc_1k_enc": aes_cbc(KEY128, DATA_1K),
    "cbc_1k_dec": aes_cbc(KEY128, DATA_1K, enc=False),
    "cbc_partial": aes_cbc(KEY128, DATA_1K[:40]),
    "cbc_256": aes_cbc(KEY256, DATA_1K[:64]),
    "cbc_192": aes_cbc(KEY192, DATA_1K[:64]),
    "ecb": aes_ecb(KEY128, DATA_1K[:64], enc=False),
    "ctr": aes_ctr(KEY128, DATA_1K[:100]),
    "gcm": aes_gcm(KEY128, DATA_1K[:77], IV[:12], b"aad bytes"),
    "gcm_256": aes_gcm(KEY256, DATA_1K[:77], IV[:12], b""),
    "cmac": cmac(KEY128, DATA_1K[:100]),
    "sha256_block": sha256_block(bytes(range(64))),
    "sha256_final": sha256_block(b"abc".ljust(64, b"\0"), last=True, last_len=3),
    "sha512_block": sha512_block(bytes(range(128))),
    "rng_32": rng(32),
    "rng_1000": rng(1000),
}


@functools.cache
def run_script(board: str, crypto_kind: str) -> dict[str, Any]:
    b = Board(board, crypto_kind)
    b.align_rng()
    out: dict[str, Any] = {"replies": {}, "ns": {}, "records": {}}
    for name, request in SCRIPT.items():
        reply, ns, recs = b.timed(request)
        out["replies"][name], out["ns"][name], out["records"][name] = reply, ns, recs
    out["engine"] = type(b.engine).__name__
    out["stats"] = dict(getattr(b.engine, "stats", {}))
    return out


# ------------------------------------------------------------------------------------------ same bytes


@pytest.mark.parametrize("board", BOARDS)
def test_hw_and_sw_give_identical_reply_bytes(board: str) -> None:
    hw, sw = run_script(board, "hw"), run_script(board, "sw")
    assert hw["engine"] == "HardwareEngine" and sw["engine"] == "SoftwareEngine"
    for name in SCRIPT:
        assert rc_of(hw["replies"][name]) == 0, name
        assert hw["replies"][name] == sw["replies"][name], name


def test_both_boards_give_identical_reply_bytes() -> None:
    a, s = run_script("aurix-tc3xx", "hw"), run_script("spc58nn", "hw")
    assert a["replies"] == s["replies"]


def test_replies_are_the_right_answers() -> None:
    """Independent checks with `cryptography` / the standard (the engines could agree on a wrong answer)."""
    r = run_script("aurix-tc3xx", "hw")["replies"]
    enc = Cipher(algorithms.AES(KEY128), modes.CBC(IV)).encryptor()
    assert r["cbc_1k_enc"][32:] == enc.update(DATA_1K) + enc.finalize()
    dec = Cipher(algorithms.AES(KEY128), modes.CBC(IV)).decryptor()
    assert r["cbc_1k_dec"][32:] == dec.update(DATA_1K) + dec.finalize()
    head = Cipher(algorithms.AES(KEY128), modes.CBC(IV)).encryptor().update(DATA_1K[:32])
    assert r["cbc_partial"][32:] == head + DATA_1K[32:40]  # the partial block comes back unchanged
    ctr = Cipher(algorithms.AES(KEY128), modes.CTR(IV)).encryptor().update(DATA_1K[:100])
    assert r["ctr"][40 : 40 + 100] == ctr
    gcm = Cipher(algorithms.AES(KEY128), modes.GCM(IV[:12])).encryptor()
    gcm.authenticate_additional_data(b"aad bytes")
    ct = gcm.update(DATA_1K[:77]) + gcm.finalize()
    assert r["gcm"][44:] == ct + gcm.tag
    mac = cmac_mod.CMAC(algorithms.AES(KEY128))
    mac.update(DATA_1K[:100])
    assert r["cmac"][-16:] == mac.finalize()
    assert r["sha256_final"][24:56] == bytes.fromhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    h = hashes.Hash(hashes.SHA256())
    h.update(b"abc")
    assert r["sha256_final"][24:56] == h.finalize()
    expect = SoftwareEngine(seed=7).random(_NoCtx(), ALIGN_RNG + 32)[ALIGN_RNG:]
    assert r["rng_32"][20:] == expect  # the seeded stream at the aligned position


class _NoCtx:
    class config:  # noqa: N801 - stands in for ServerConfig
        pass

    def spend(self, cycles: int) -> None:
        pass


# ------------------------------------------------------------------------------------------ time


def test_virtual_durations_differ_where_the_hardware_does() -> None:
    ns = {(b, k): run_script(b, k)["ns"] for b in BOARDS for k in ("hw", "sw")}
    a_hw, a_sw, s_hw, s_sw = ns["aurix-tc3xx", "hw"], ns["aurix-tc3xx", "sw"], ns["spc58nn", "hw"], ns["spc58nn", "sw"]
    # AES-CBC 1 KiB: engine (40 / 128 cycles a block) far below table AES (~1040 cycles a block)
    assert a_hw["cbc_1k_enc"] * 4 < a_sw["cbc_1k_enc"]
    assert s_hw["cbc_1k_enc"] * 2 < s_sw["cbc_1k_enc"]
    assert a_hw["cbc_1k_enc"] < s_hw["cbc_1k_enc"]  # the Aurix engine is the faster one
    # SHA-256: engine on the Aurix-like board only; spc58nn computes in software either way
    assert a_hw["sha256_block"] < a_sw["sha256_block"]
    assert s_hw["sha256_block"] == s_sw["sha256_block"] == a_sw["sha256_block"]
    # RNG: TRNG words instead of the DRBG; the spc58 FIFO (4 words) runs dry for 32 bytes
    assert a_hw["rng_32"] != a_sw["rng_32"] and s_hw["rng_32"] != s_sw["rng_32"]
    assert a_hw["rng_32"] != s_hw["rng_32"]
    # the software path costs the same on both boards (same HSM clock, same cycle tables)
    assert a_sw == s_sw
    # AES-256 is hardware on the Aurix-like board only, AES-192 on neither
    assert a_hw["cbc_256"] < s_hw["cbc_256"] == s_sw["cbc_256"]
    assert a_hw["cbc_192"] == a_sw["cbc_192"]


# ------------------------------------------------------------------------------------------ routing


def _kinds(records: list[tuple[int, str, str, str]]) -> list[str]:
    return [r[2] for r in records]


def test_aurix_runs_aes_sha_and_rng_on_the_accelerators() -> None:
    run = run_script("aurix-tc3xx", "hw")
    recs, stats = run["records"], run["stats"]
    for name in ("cbc_1k_enc", "cbc_1k_dec", "cbc_256", "ecb", "ctr", "gcm", "gcm_256", "cmac"):
        assert "aes-start" in _kinds(recs[name]), name
        assert "crypto-sw-fallback" not in _kinds(recs[name]), name
    assert [r[3] for r in recs["cbc_1k_enc"] if r[2] == "aes-start"] == ["opc 0x02 AES-128 1024 B"]
    assert [r[3] for r in recs["gcm_256"] if r[2] == "aes-start"] == ["opc 0x08 AES-256 77 B"]
    for name in ("sha256_block", "sha256_final"):
        assert _kinds(recs[name]).count("sha-start") == 1, name
    assert "sha-start" not in _kinds(recs["sha512_block"])  # no SHA-512 engine
    assert "aes-start" not in _kinds(recs["cbc_192"])
    assert [r[3] for r in recs["cbc_192"] if r[2] == "crypto-sw-fallback"] == ["aes_cbc: AES-192 not in the engine"]
    assert stats["aes_cbc:sw"] == 1 and stats["aes_cbc:hw"] >= 4 and stats["sha256:hw"] >= 2
    assert stats["rng:hw"] >= 2 and "rng:sw" not in stats and stats["sha512:sw"] == 1
    # the TRNG was read: no software DRBG cycles, words taken from the FIFO
    assert run_script("aurix-tc3xx", "sw")["stats"] == {}


def test_spc58_runs_aes128_ecb_cbc_on_the_engine_and_sha_in_software() -> None:
    run = run_script("spc58nn", "hw")
    recs, stats = run["records"], run["stats"]
    for name in ("cbc_1k_enc", "cbc_1k_dec", "ecb", "cmac"):
        assert "aes-start" in _kinds(recs[name]), name
    for name, why in (
        ("ctr", "aes_ctr: mode ctr not in the engine"),
        ("gcm", "aes_gcm: mode gcm not in the engine"),
        ("cbc_256", "aes_cbc: AES-256 not in the engine"),
    ):
        assert [r[3] for r in recs[name] if r[2] == "crypto-sw-fallback"] == [why]
    assert "aes-start" not in _kinds(recs["gcm"]) and "aes-start" not in _kinds(recs["cbc_256"])
    # CTR: the 6 whole blocks in software, the keystream block of the 4-byte tail by ECB on the engine
    assert [r[3] for r in recs["ctr"] if r[2] == "aes-start"] == ["opc 0x00 AES-128 16 B"]
    for name in SCRIPT:
        assert "sha-start" not in _kinds(recs[name]), name
    assert stats["sha256:sw"] >= 2 and "sha256:hw" not in stats
    assert stats["aes_ctr:sw"] == 1 and stats["aes_gcm:sw"] == 2 and stats["rng:hw"] >= 2


def test_register_and_scratch_activity_prove_the_hardware_path() -> None:
    b = Board("aurix-tc3xx", "hw")
    eng = b.engine
    ram = b.soc.memory["hsm_ram"]
    assert (eng.scratch, eng.scratch_size) == (ram.origin + ram.size - SCRATCH_SIZE, SCRATCH_SIZE)
    assert eng.scratch == 0x2001_4000
    reply = b.send(*aes_cbc(KEY128, DATA_1K))
    out = reply[32:]
    aes = b.soc.devices["aes"]
    assert aes.regs.get("LEN") == 1024 and aes.regs.get("SRC") == aes.regs.get("DST") == eng.scratch
    assert aes.regs.get("CTRL") == aes_dev.OPC_CBCENC
    assert b"".join(aes.regs.get(f"IV{i}").to_bytes(4, "big") for i in range(4)) == out[-16:]
    assert bytes(ram.read(eng.scratch, 1024)) == out  # in place in the scratch buffer
    assert not any(ram.read(ram.origin, ram.size - SCRATCH_SIZE))  # nothing else in HSM RAM is touched
    reply = b.send(*sha256_block(bytes(range(64))))
    sha = b.soc.devices["sha"]
    words = tuple(sha.regs.get(f"H{i}") for i in range(8))
    assert struct.pack("<8I", *words) == reply[24:56] and sha.regs.get("LEN") == 64
    assert aes.regs.get("STATUS") == 0 and sha.regs.get("STATUS") == 0  # DONE cleared by the driver
    assert aes.regs.get("IRQEN") == sha.regs.get("IRQEN") == 1


def test_long_inputs_are_cut_to_the_scratch_buffer() -> None:
    """With a 1 KiB buffer, 4 KiB requests take several engine operations and give the same bytes."""
    data = bytes(i * 13 & 0xFF for i in range(4096))
    requests = {
        "cbc_enc": aes_cbc(KEY128, data),
        "cbc_dec": aes_cbc(KEY256, data, enc=False),
        "ecb": aes_ecb(KEY128, data),
        "ctr": aes_ctr(KEY128, data + b"tail"),
        "gcm": aes_gcm(KEY128, data[:1000], IV[:12], b"x" * 100),  # > 1 KiB with the AAD: software
    }
    hw, sw = Board("aurix-tc3xx", "hw"), Board("aurix-tc3xx", "sw")
    hw.engine.scratch_size = 1024
    for name, request in requests.items():
        reply, _ns, recs = hw.timed(request)
        assert reply == sw.send(*request), name
        starts = _kinds(recs).count("aes-start")
        assert starts == {"gcm": 0, "ctr": 5}.get(name, 4), name
    assert hw.engine.stats["aes_gcm:sw"] == 1


# ------------------------------------------------------------------------------------------ TRNG failures


@pytest.mark.parametrize("board", BOARDS)
def test_trng_health_failure_fails_rng_requests_with_rng_failure_e(board: str) -> None:
    b = Board(board, "hw")
    assert rc_of(b.send(*rng(16))) == 0
    trng = b.soc.devices["trng"]
    trng.inject_failure("health")
    for _ in range(2):  # the failure lasts: every request fails
        reply, _ns, recs = b.timed(rng(16))
        assert rc_of(reply) == RNG_FAILURE_E and len(reply) == 16  # the header only
        assert [r[3] for r in recs if r[2] == "rng-failure"] == ["TRNG health test failure (FIPS_ERR)"]
    assert b.engine.stats["rng:fail"] == 2
    trng.clear_failure()  # the fault ends; FIPS_ERR is sticky until the driver clears it
    assert trng.regs.get("STAT") & trng_dev.ST_FIPS_ERR
    reply, _ns, recs = b.timed(rng(16))  # cleared at the start of the call: the generator restarts
    assert rc_of(reply) == 0 and "trng-restart" in _kinds(recs) and "rng-failure" not in _kinds(recs)
    assert not trng.regs.get("STAT") & trng_dev.ST_FIPS_ERR


def test_stuck_trng_is_caught_by_the_continuous_test() -> None:
    b = Board("aurix-tc3xx", "hw")
    b.soc.devices["trng"].inject_failure("stuck", word=0x1234_5678)
    reply, _ns, recs = b.timed(rng(16))
    assert rc_of(reply) == RNG_FAILURE_E
    assert [r[3] for r in recs if r[2] == "rng-failure"] == ["continuous test: repeated word 0x12345678"]


def test_unseeded_hardware_rng_returns_the_trng_words() -> None:
    b = Board("aurix-tc3xx", "hw", seed=None)
    trng = b.soc.devices["trng"]
    trng.reseed(5)
    b.soc.run_ns(1_000_000)  # refill the FIFO
    start = trng.counter
    reply = b.send(*rng(30))
    words = [trng._word(start + i) for i in range(8)]
    assert reply[20:] == b"".join(w.to_bytes(4, "little") for w in words)[:30]  # the HSM core's order
    assert trng.counter == start + 8


# ------------------------------------------------------------------------------------------ selection


@pytest.mark.parametrize("board", BOARDS)
def test_auto_installs_the_hardware_engine_and_sw_keeps_software(board: str) -> None:
    auto = Board(board, None)
    assert isinstance(auto.engine, HardwareEngine)
    sw = Board(board, "sw")
    assert not isinstance(sw.engine, HardwareEngine)


def test_bad_crypto_param_stops_the_hsm_at_boot() -> None:
    soc = Soc("spc58nn", console=lambda s, t: None, params={"hsm": {"crypto": "fast"}})
    soc.run_until_idle()
    assert "HSM param crypto must be auto, hw or sw" in (soc.core("hsm").fault or "")  # type: ignore[union-attr]


def test_crypto_scratch_param_moves_the_buffer() -> None:
    b = Board("spc58nn", "hw", crypto_scratch=0xA000_0000)
    assert b.engine.scratch == 0xA000_0000
    b.send(*aes_cbc(KEY128, DATA_1K[:64]))
    assert b.soc.devices["aes"].regs.get("SRC") == 0xA000_0000
    default = Board("spc58nn", "hw").engine
    assert (default.scratch, default.scratch_size) == (0xA000_6000, 0x4000)


def test_engine_state_deep_copies_without_the_hal() -> None:
    b = Board("aurix-tc3xx", "hw")
    b.send(*rng(10))
    snap = copy.deepcopy(b.engine)
    assert snap.stats == b.engine.stats and snap.sw._rng_pos == b.engine.sw._rng_pos
    assert not any(hasattr(v, "read32") for v in vars(snap).values())


def test_driver_constants_match_the_peripherals() -> None:
    from firmware.hsm.crypto import hw_engine as hw

    assert (hw.ST_BUSY, hw.ST_DONE, hw.ST_ERRORS) == (aes_dev.ST_BUSY, aes_dev.ST_DONE, aes_dev.ERRORS)
    assert hw.OPC[("cbc", True)] == aes_dev.OPC_CBCENC and hw.OPC_GCMDEC == aes_dev.OPC_GCMDEC
    assert hw.OPC_CTR == aes_dev.OPC_CTR and hw.OPC[("ecb", False)] == aes_dev.OPC_ECBDEC
    regs = {r.name: r.offset for r in aes_dev.AesEngine.REGS.regs}
    assert (regs["CTRL"], regs["CMD"], regs["STATUS"], regs["LEN"], regs["KEY0"], regs["IV0"], regs["TAG0"]) == (
        hw.AES_CTRL, hw.AES_CMD, hw.AES_STATUS, hw.AES_LEN, hw.AES_KEY0, hw.AES_IV0, hw.AES_TAG0,
    )  # fmt: skip
    regs = {r.name: r.offset for r in sha_dev.ShaEngine.REGS.regs}
    assert (regs["CMD"], regs["STATUS"], regs["SRC"], regs["LEN"], regs["H0"]) == (
        hw.SHA_CMD, hw.SHA_STATUS, hw.SHA_SRC, hw.SHA_LEN, hw.SHA_H0,
    )  # fmt: skip
    regs = {r.name: r.offset for r in trng_dev.Trng.REGS.regs}
    assert (regs["DATA"], regs["STAT"], regs["IRQEN"], regs["LEVEL"]) == (
        hw.TRNG_DATA, hw.TRNG_STAT, hw.TRNG_IRQEN, hw.TRNG_LEVEL,
    )  # fmt: skip
    assert hw.TRNG_FIPS_ERR == trng_dev.ST_FIPS_ERR and hw.TRNG_IRQEN_RDY == trng_dev.IRQEN_RDY


# ------------------------------------------------------------------------------------------ public key on the PKA

ED25519_T1_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")  # RFC 8032 7.1
ED25519_T1_PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
ED25519_T1_SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


class _BoardTransport(Transport):
    """The firmware client's transport over a Board's in-process bridge client."""

    name = "board"

    def __init__(self, board: Board) -> None:
        self.board, self.replies = board, []

    def send(self, packet: bytes) -> None:
        self.replies.append(self.board.bridge.request(self.board.client, packet, limit_ns=2_000_000_000))

    def recv(self, timeout: float | None = None) -> bytes | None:
        return self.replies.pop(0) if self.replies else None


def pk_board(board: str, crypto_kind: str) -> tuple[Board, Client]:
    b = Board(board, crypto_kind)
    b.align_rng()
    client = Client(_BoardTransport(b))
    client.comm_init(1)
    return b, client


def _pka_starts(b: Board, since: int) -> list[str]:
    return [r[3] for r in b.soc.trace.records[since:] if r[2] == "pka-start"]


def _operand(pka: Any, n: int) -> bytes:
    return b"".join(pka.regs.get(f"R{n}_{k}").to_bytes(4, "big") for k in range(8))


def test_ecdsa_p256_on_the_pka_gives_the_software_bytes_and_verdicts() -> None:
    signer = ec.derive_private_key(0x1234_5678_9ABC_DEF0, ec.SECP256R1())
    digest = hashlib.sha256(b"firmware image").digest()
    answers = {}
    for kind in ("hw", "sw"):
        b, c = pk_board("aurix-tc3xx", kind)
        start = len(b.soc.trace.records)
        sig = c.ecdsa_sign(signer, digest)  # nonce from the seeded stream at the same position on both
        r, s = decode_dss_signature(sig)
        tampered = encode_dss_signature(r, (s + 1) % P256_N or 1)
        verdicts = (
            c.ecdsa_verify(signer.public_key(), digest, sig),
            c.ecdsa_verify(signer.public_key(), digest, tampered),
            c.ecdsa_verify(signer.public_key(), bytes(32), sig),
        )
        answers[kind] = (sig, verdicts)
        if kind == "hw":
            pka, stats = b.soc.devices["pka"], b.engine.stats
            assert _pka_starts(b, start) == ["opcode 0x30", "opcode 0x31", "opcode 0x31", "opcode 0x31"]
            assert stats["ecdsa_sign:hw"] == 1 and stats["ecdsa_verify:hw"] == 3
            assert "ecdsa_sign:sw" not in stats and "ecdsa_verify:sw" not in stats
            pub = signer.public_key().public_numbers()
            assert _operand(pka, 5) == pub.x.to_bytes(32, "big") and _operand(pka, 6) == pub.y.to_bytes(32, "big")
            assert _operand(pka, 1) == bytes(32)  # the last verify's digest
            assert pka.regs.get("STATUS") == 0  # DONE cleared by the driver; the last verify was not VALID
            assert pka.regs.get("IRQEN") == 3
        else:
            assert b.engine.name == "software"
    assert answers["hw"] == answers["sw"]
    sig, verdicts = answers["hw"]
    assert verdicts == (True, False, False)
    signer.public_key().verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ecdsa_sign_result_registers_hold_r_and_s() -> None:
    b, c = pk_board("aurix-tc3xx", "hw")
    signer = ec.derive_private_key(7, ec.SECP256R1())
    sig = c.ecdsa_sign(signer, bytes(range(48)))  # a longer digest: its leftmost 256 bits go to R1
    r, s = decode_dss_signature(sig)
    pka = b.soc.devices["pka"]
    assert (_operand(pka, 3), _operand(pka, 4)) == (r.to_bytes(32, "big"), s.to_bytes(32, "big"))
    assert _operand(pka, 1) == bytes(range(32)) and _operand(pka, 0) == (7).to_bytes(32, "big")
    signer.public_key().verify(sig, bytes(range(32)), ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ed25519_rfc8032_test1_through_the_pka() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(ED25519_T1_SEED)
    b, c = pk_board("aurix-tc3xx", "hw")
    start = len(b.soc.trace.records)
    assert c.ed25519_sign(key, b"") == ED25519_T1_SIG
    assert c.ed25519_verify(key.public_key(), b"", ED25519_T1_SIG) is True
    assert _pka_starts(b, start) == ["opcode 0x2a", "opcode 0x2b"]
    pka = b.soc.devices["pka"]
    assert _operand(pka, 5) == ED25519_T1_PUB and _operand(pka, 3) + _operand(pka, 4) == ED25519_T1_SIG
    assert pka.regs.get("STATUS") & 0x100  # VALID of the verify
    stats = b.engine.stats
    assert stats["ed25519_sign:hw"] == 1 and stats["ed25519_verify:hw"] == 1


def test_other_curves_and_ed25519ph_fall_back_to_software() -> None:
    b, c = pk_board("aurix-tc3xx", "hw")
    start = len(b.soc.trace.records)
    p384 = ec.derive_private_key(5, ec.SECP384R1())
    digest = hashlib.sha384(b"x").digest()
    sig = c.ecdsa_sign(p384, digest)
    assert c.ecdsa_verify(p384.public_key(), digest, sig) is True
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(ED25519_T1_SEED)
    ph = hashlib.sha512(b"abc").digest()
    c.ed25519_sign(ed, ph, prehashed=True)
    recs = b.soc.trace.records[start:]
    assert not _pka_starts(b, start)
    assert [r[3] for r in recs if r[2] == "crypto-sw-fallback"] == [
        "ecdsa_sign: curve secp384r1 not in the PKA",
        "ecdsa_verify: curve secp384r1 not in the PKA",
        "ed25519_sign: Ed25519ctx / Ed25519ph not in the PKA",
    ]
    stats = b.engine.stats
    assert stats["ecdsa_sign:sw"] == stats["ecdsa_verify:sw"] == stats["ed25519_sign:sw"] == 1


def test_spc58_without_a_pka_signs_the_same_bytes_in_software() -> None:
    signer = ec.derive_private_key(0x1234_5678_9ABC_DEF0, ec.SECP256R1())
    digest = hashlib.sha256(b"firmware image").digest()
    b_hw, c_hw = pk_board("aurix-tc3xx", "hw")
    b_sp, c_sp = pk_board("spc58nn", "hw")
    assert c_hw.ecdsa_sign(signer, digest) == c_sp.ecdsa_sign(signer, digest)
    assert b_sp.engine.stats["ecdsa_sign:sw"] == 1 and "pka" not in b_sp.soc.devices


def test_pka_driver_constants_match_the_peripheral() -> None:
    from firmware.hsm.crypto import hw_engine as hw

    regs = {r.name: r.offset for r in pka_dev.Pka.REGS.regs}
    assert (regs["CMD"], regs["STATUS"], regs["IRQEN"], regs["SRC"], regs["LEN"], regs["R0_0"]) == (
        hw.PKA_CMD, hw.PKA_STATUS, hw.PKA_IRQEN, hw.PKA_SRC, hw.PKA_LEN, hw.PKA_R0,
    )  # fmt: skip
    assert (hw.OP_ECDSA_SIGN, hw.OP_ECDSA_VERIFY) == (pka_dev.OP_ECDSA_SIGN, pka_dev.OP_ECDSA_VERIFY)
    assert (hw.OP_ED25519_SIGN, hw.OP_ED25519_VERIFY) == (pka_dev.OP_ED25519_SIGN, pka_dev.OP_ED25519_VERIFY)
    assert (hw.PKA_VALID, hw.PKA_ERRORS) == (pka_dev.ST_VALID, pka_dev.ERRORS)
    assert (hw.PKA_IRQEN_DONE, hw.PKA_IRQEN_ERR) == (pka_dev.IRQEN_DONE, pka_dev.IRQEN_ERR)
