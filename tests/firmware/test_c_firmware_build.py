"""The C demo firmware of the app cores (firmware/app/): the committed ELFs, their reproducible rebuild
(tools/build_c_firmware.sh), and a bare-Unicorn smoke run of each ELF on every core of its board.

The smoke run does not use the emulator: it maps the board's memories from the TOML, emulates UART,
INTC and mailbox with `mmio_map` callbacks, and plays a minimal wolfHSM server itself (COMM INIT, ECHO,
CLOSE, NVM ADDOBJECT/READ/DESTROYOBJECTS, and the v1.4.0 crypto messages RNG, SHA-256 from the
client's midstate and AES-CBC, over the channel's CSR hand-shake) when the core waits for its reply. On
Cortex-M it performs the exception entry/exit of IRQ 0 in Python (Unicorn has no NVIC) when PRIMASK is
clear. The exact request bytes are checked against hand-written vectors in test_c_client_vectors.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from elftools.elf.elffile import ELFFile
from unicorn import (
    UC_ARCH_ARM,
    UC_ARCH_PPC,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_MODE_BIG_ENDIAN,
    UC_MODE_MCLASS,
    UC_MODE_PPC32,
    UC_MODE_THUMB,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    Uc,
)
from unicorn import arm_const as arm
from unicorn import ppc_const as ppc

ROOT = Path(__file__).resolve().parents[2]
PREBUILT = ROOT / "firmware" / "app" / "prebuilt"
BUILD_SCRIPT = ROOT / "tools" / "build_c_firmware.sh"

ITERATIONS = 20000
UNTIL = 0x7FFF_FFF0  # an address no firmware reaches: emu_start stops through hooks only
MAX_INSNS = 3_000_000  # per emu_start; the demo needs about 0.2 M


@dataclass(frozen=True)
class Target:
    arch: str
    elf: str
    board: str
    machine: str
    little_endian: bool
    flash: str  # name of the [memory.*] region holding code
    compiler: str

    @property
    def hal(self) -> Path:
        return ROOT / "firmware" / "app" / self.arch / "hal.h"

    @property
    def endian(self) -> str:
        return "<" if self.little_endian else ">"


TARGETS = {
    "ppc": Target("ppc", "ppc_demo.elf", "spc58nn", "EM_PPC", False, "cflash", "powerpc-linux-gnu-gcc"),
    "arm": Target("arm", "arm_demo.elf", "cortex-m-dual", "EM_ARM", True, "flash", "arm-none-eabi-gcc"),
}


def demo_checksum(seed: int, iterations: int = ITERATIONS) -> int:
    """The formula of firmware/app/common/demo.c (shared with the TriCore demo)."""
    x, acc = seed & 0xFFFFFFFF, 0
    for _ in range(iterations):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        acc ^= x
        acc = ((acc << 1) | (acc >> 31)) & 0xFFFFFFFF
    return acc


def test_checksum_reference_values() -> None:
    # Fixed points for the other implementations (TriCore demo, emulator tests).
    assert [f"{demo_checksum(i):08x}" for i in range(3)] == ["9220ad6b", "c163d35a", "f53600aa"]


# --------------------------------------------------------------------------------------------------
# board and HAL facts


def _size(value: int | str) -> int:
    if isinstance(value, int):
        return value
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = value.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(text[:-1], 0) * units[text[-1]]
    return int(text, 0)


def _board(target: Target) -> dict:
    with open(ROOT / "boards" / f"{target.board}.toml", "rb") as f:
        return tomllib.load(f)


def _memories(board: dict) -> dict[str, tuple[int, int]]:
    return {name: (m["origin"], _size(m["size"])) for name, m in board["memory"].items()}


def _app_cores(board: dict) -> list[str]:
    return [name for name, core in board["cores"].items() if core["arch"] != "python"]


def _hal_defines(target: Target) -> dict[str, int]:
    """Numeric `#define NAME value` lines of the board's hal.h and of app_regs.h."""
    defines: dict[str, int] = {}
    for path in (target.hal, ROOT / "firmware" / "app" / "common" / "app_regs.h"):
        for m in re.finditer(r"^#define\s+(\w+)\s+(0[xX][0-9a-fA-F]+|\d+)\b", path.read_text(), re.M):
            defines[m.group(1)] = int(m.group(2), 0)
    return defines


def _inside(addr: int, size: int, region: tuple[int, int]) -> bool:
    return region[0] <= addr and addr + size <= region[0] + region[1]


@pytest.mark.parametrize("arch", sorted(TARGETS))
def test_hal_header_matches_board_toml(arch: str) -> None:
    target = TARGETS[arch]
    board, hal = _board(target), _hal_defines(target)
    periph = board["peripherals"]
    assert hal["UART_BASE"] == periph["uart"]["base"]
    assert hal["INTC_BASE"] == periph["intc"]["base"]
    assert hal["MBOX_BASE"] == periph["mailbox"]["base"]
    for name, offset in periph["mailbox"]["registers"].items():
        assert hal[f"MBOX_{name}"] == offset, name
    assert hal["IRQ_LINE_MAILBOX"] == periph["mailbox"]["irq_line"]
    assert hal["IRQ_LINE_TIMER"] == periph["stm"]["irq_line"]
    cores = _app_cores(board)
    assert hal["HAL_APP_CORES"] == len(cores)
    channels = periph["mailbox"]["channels"]
    assert [ch["core"] for ch in channels] == cores  # channel n belongs to core n
    for n, ch in enumerate(channels):
        assert hal["MBOX_CHANNEL0_BASE"] + n * hal["MBOX_CHANNEL_STRIDE"] == ch["base"]
        assert _size(ch["size"]) == hal["MBOX_CHANNEL_STRIDE"] == 0x2000
    mems = _memories(board)
    channel_span = (channels[0]["base"], len(channels) * 0x2000)
    shared = hal["APP_SHARED_BASE"]
    assert _inside(shared, 4, mems["sram"])
    assert not _inside(shared, 4, channel_span)
    if arch == "ppc":
        for n in range(len(cores)):
            origin, size = mems[f"dsram{n}"]
            assert hal[f"DSRAM{n}_TOP"] == origin + size
    else:
        assert hal["CORE_RAM_SIZE"] == 1 << hal["CORE_RAM_SHIFT"]
        assert hal["CORE_RAM_MAX_CORES"] >= len(cores)
        span = hal["CORE_RAM_MAX_CORES"] * hal["CORE_RAM_SIZE"]
        assert _inside(hal["CORE_RAM_BASE"], span, mems["sram"])
        assert hal["CORE_RAM_BASE"] >= channel_span[0] + channel_span[1]
        assert not hal["CORE_RAM_BASE"] <= shared < hal["CORE_RAM_BASE"] + span


# --------------------------------------------------------------------------------------------------
# (1) the committed ELFs


def _symbols(elf: ELFFile) -> dict[str, int]:
    symtab = elf.get_section_by_name(".symtab")
    assert symtab is not None, "ELF has no symbol table"
    return {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name}


@pytest.mark.parametrize("arch", sorted(TARGETS))
def test_committed_elf(arch: str) -> None:
    target = TARGETS[arch]
    path = PREBUILT / target.elf
    assert path.is_file(), f"{path} missing: run tools/build_c_firmware.sh"
    flash = _memories(_board(target))[target.flash]
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf.elfclass == 32
        assert elf.little_endian is target.little_endian
        assert elf["e_machine"] == target.machine
        assert elf["e_type"] == "ET_EXEC"
        entry = elf["e_entry"] & ~1
        assert _inside(entry, 4, flash)
        syms = _symbols(elf)
        for name in (
            "_start", "main", "idle", "cpu_wait", "demo_checksum",
            "wh_attach", "wh_call", "wh_init", "wh_echo", "wh_nvm_add", "wh_nvm_read", "wh_nvm_destroy", "wh_close",
            "wh_detach", "wh_rng", "wh_sha256", "wh_aes_cbc",
            "board_reply_reset", "board_reply_wait",
        ):
            assert name in syms, name
            assert _inside(syms[name] & ~1, 2, flash), name
        assert syms["_start"] & ~1 == entry
        if arch == "arm":
            assert elf["e_entry"] & 1, "Thumb entry point"
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert loads
        for seg in loads:
            assert _inside(seg["p_paddr"], seg["p_memsz"], flash)
            assert seg["p_filesz"] == seg["p_memsz"]
        for sec in elf.iter_sections():
            assert not sec["sh_flags"] & 0x1, f"writable section {sec.name}"  # SHF_WRITE
        # The idle loop starts with the wait instruction.
        text = elf.get_section_by_name(".text")
        data, base = text.data(), text["sh_addr"]
        for name in ("idle", "cpu_wait"):
            off = (syms[name] & ~1) - base
            if arch == "ppc":
                assert data[off : off + 4] == bytes.fromhex("7c00007c"), name
            else:
                assert data[off : off + 2] == bytes.fromhex("30bf"), name  # wfi
        if arch == "arm":
            hal = _hal_defines(target)
            vectors = struct.unpack_from("<18I", data, 0)
            assert base == 0 == syms["vector_table"]
            assert vectors[0] == hal["CORE_RAM_BASE"] + hal["CORE_RAM_SIZE"]  # core 0's stack top
            assert vectors[1] == elf["e_entry"]
            assert vectors[16] == syms["irq0_handler"] | 1


# --------------------------------------------------------------------------------------------------
# (2) reproducible rebuild


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both ELFs rebuilt by tools/build_c_firmware.sh into a temporary directory."""
    missing = [t.compiler for t in TARGETS.values() if shutil.which(t.compiler) is None]
    if missing:
        pytest.skip(f"cross compiler not installed: {', '.join(missing)}")
    out = tmp_path_factory.mktemp("c_firmware") / "out"
    res = subprocess.run(
        ["bash", str(BUILD_SCRIPT), str(out)], capture_output=True, text=True, check=False, cwd=out.parent
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return out


@pytest.mark.parametrize("arch", sorted(TARGETS))
def test_rebuild_is_byte_identical(arch: str, fresh_build: Path) -> None:
    target = TARGETS[arch]
    fresh, committed = (fresh_build / target.elf).read_bytes(), (PREBUILT / target.elf).read_bytes()
    assert fresh == committed, (
        f"a fresh build of {target.elf} differs from the committed one: "
        "run tools/build_c_firmware.sh (and check the compiler version, see the script)"
    )


def test_check_mode_without_compilers_skips() -> None:
    env = dict(os.environ, PPC_CC="hsmemu-no-such-gcc", ARM_CC="hsmemu-no-such-gcc")
    res = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--check"], env=env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("skipped: compiler not installed") == 2


# --------------------------------------------------------------------------------------------------
# (3) bare-Unicorn smoke run


@dataclass
class Soc:
    """UART, INTC and mailbox of one app core, plus the HSM's side of the mailbox."""

    target: Target
    core_id: int
    hal: dict[str, int]
    uc: Uc
    uart: bytearray = field(default_factory=bytearray)
    pending: int = 0
    enable: int = 0
    halted: bool = False
    hsm2htf: int = 0
    hsm2htie: int = 0
    ht2hsmf: int = 0
    doorbells: int = 0
    requests: list[tuple[int, int, bytes]] = field(default_factory=list)  # (kind, seq, payload)
    nvm: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # id -> (metadata, data), live objects
    added: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # every object ever added
    random: bytes = b""  # the last RNG answer

    @property
    def channel(self) -> int:
        return self.hal["MBOX_CHANNEL0_BASE"] + self.core_id * self.hal["MBOX_CHANNEL_STRIDE"]

    def map(self) -> None:
        h = self.hal
        self.uc.mmio_map(h["UART_BASE"], 0x1000, self._uart_read, None, self._uart_write, None)
        self.uc.mmio_map(h["INTC_BASE"], 0x1000, self._intc_read, None, self._intc_write, None)
        self.uc.mmio_map(h["MBOX_BASE"], 0x1000, self._mbox_read, None, self._mbox_write, None)

    def _uart_read(self, _uc, offset, _size, _ud) -> int:
        return 1 if offset == self.hal["UART_STATUS"] else 0

    def _uart_write(self, _uc, offset, _size, value, _ud) -> None:
        if offset == self.hal["UART_TXDATA"]:
            self.uart.append(value & 0xFF)

    def _intc_read(self, _uc, offset, _size, _ud) -> int:
        return {
            self.hal["INTC_CORE_ID"]: self.core_id,
            self.hal["INTC_PENDING"]: self.pending,
            self.hal["INTC_ENABLE"]: self.enable,
        }.get(offset, 0)

    def _intc_write(self, uc, offset, _size, value, _ud) -> None:
        if offset == self.hal["INTC_PENDING"]:
            self.pending &= ~value
        elif offset == self.hal["INTC_ENABLE"]:
            self.enable = value
        elif offset == self.hal["INTC_HALT"] and value:
            self.halted = True
            uc.emu_stop()

    def _mbox_read(self, _uc, offset, _size, _ud) -> int:
        return {
            self.hal["MBOX_HSM2HTF"]: self.hsm2htf,
            self.hal["MBOX_HSM2HTIE"]: self.hsm2htie,
            self.hal["MBOX_HT2HSMF"]: self.ht2hsmf,
        }.get(offset, 0)

    def _mbox_write(self, _uc, offset, _size, value, _ud) -> None:
        if offset == self.hal["MBOX_HSM2HTF"]:
            self.hsm2htf &= ~value  # host writes 1 to clear
        elif offset == self.hal["MBOX_HSM2HTIE"]:
            self.hsm2htie = value
        elif offset == self.hal["MBOX_HT2HSMF"]:
            self.ht2hsmf |= value  # host writes 1 to set: the doorbell
            self.doorbells += 1

    def hsm_answer(self) -> None:
        """The HSM's turn: if this core rang, serve its request, reply, and raise its IRQ line 0."""
        bit = 1 << self.core_id
        if not self.ht2hsmf & bit:
            return
        self.ht2hsmf &= ~bit
        e = self.target.endian
        notify, length, ack, wait = struct.unpack(e + "4H", self.uc.mem_read(self.channel, 8))
        (resp_notify,) = struct.unpack(e + "H", self.uc.mem_read(self.channel + 0x1000, 2))
        assert notify != resp_notify, "doorbell without a new request"
        packet = bytes(self.uc.mem_read(self.channel + 8, length))
        magic, kind, seq, aux = struct.unpack(e + "4H", packet[:8])
        assert (magic, aux) == (0xA501, 0)
        payload = packet[8:]
        self.requests.append((kind, seq, payload))
        reply = packet[:8] + self.serve(kind, payload)
        self.uc.mem_write(self.channel + 0x1000 + 8, reply)
        self.uc.mem_write(self.channel + 0x1000, struct.pack(e + "4H", notify, len(reply), ack, wait))
        if not self.hsm2htf & bit and self.hsm2htie & bit:
            self.pending |= 1 << self.hal["IRQ_LINE_MAILBOX"]
        self.hsm2htf |= bit

    def serve(self, kind: int, payload: bytes) -> bytes:
        """A minimal wolfHSM server: the response payload for one request (core spec 3, 4)."""
        e = self.target.endian
        if kind == 0x0101:  # COMM INIT: client id, server id
            (client_id,) = struct.unpack(e + "I", payload)
            return struct.pack(e + "2I", client_id, SERVER_ID)
        if kind == 0x0105:  # COMM ECHO
            return payload
        if kind == 0x0103:  # COMM CLOSE
            return b""
        if kind == 0x0204:  # NVM ADDOBJECT: metadata (32) + data
            obj_id, _access, _flags, size = struct.unpack(e + "4H", payload[:8])
            assert len(payload) == 32 + size
            self.nvm[obj_id] = self.added[obj_id] = (payload[:32], payload[32:])
            return struct.pack(e + "i", 0)
        if kind == 0x0207:  # NVM DESTROYOBJECTS: u16 list_count, u16 list[19] -> rc
            assert len(payload) == 40
            count, *ids = struct.unpack(e + "20H", payload)
            assert count <= 19
            ids = ids[:count]
            if any(i not in self.nvm for i in ids):  # v1.4.0: an absent id -> NOTFOUND, nothing destroyed
                return struct.pack(e + "i", -2104)
            for i in ids:
                del self.nvm[i]
            return struct.pack(e + "i", 0)
        if kind == 0x0208:  # NVM READ: rc + data
            obj_id, offset, size = struct.unpack(e + "3H", payload)
            if obj_id not in self.nvm:
                return struct.pack(e + "i", -2104)
            return struct.pack(e + "i", 0) + self.nvm[obj_id][1][offset : offset + size]
        if kind in (0x0401, 0x0402, 0x0404):  # CRYPTO HASH, CIPHER, RNG: 8-byte envelope (v1.4.0)
            algo_type, _sub = struct.unpack(e + "2I", payload[:8])
            return struct.pack(e + "Ii", algo_type, 0) + self.serve_crypto(kind & 0xFF, algo_type, payload[8:])
        return b""

    def serve_crypto(self, action: int, algo_type: int, body: bytes) -> bytes:
        """The algorithm struct of a successful crypto response (crypto spec 3.1, 3.4, 3.7; v1.4.0 diff 10)."""
        e = self.target.endian
        if (action, algo_type) == (4, 4):  # RNG: {sz} -> {sz} + bytes
            (size,) = struct.unpack(e + "I", body[:4])
            self.random = bytes((0x81 + i) & 0xFF for i in range(size))  # the example server's counter
            return struct.pack(e + "I", size) + self.random
        if (action, algo_type) == (1, 6):  # SHA-256 [116]: {hiLen, loLen, hash[32]}, isLastBlock, lastBlockLen, inBlock
            assert len(body) == 116
            hi, lo, *words = struct.unpack(e + "10I", body[:40])
            is_last, last_len = struct.unpack(e + "2I", body[40:48])
            block = body[48:112]
            count = (hi << 32) | lo
            if is_last:
                assert last_len <= 64
                digest = sha256_final(tuple(words), count, block[:last_len])
                return struct.pack(e + "2I", 0, 0) + digest + bytes(32) + struct.pack(e + "I", 0)
            words = sha256_compress(tuple(words), block)
            count += 64
            return struct.pack(e + "10I", count >> 32, count & 0xFFFFFFFF, *words) + bytes(32) + struct.pack(e + "I", 0)
        if (action, algo_type) == (2, 2):  # AES-CBC [16]: {enc, keyLen, sz, keyId, pad} + in + key + iv -> {sz} + out
            enc, key_len, size, key_id = struct.unpack(e + "3IH", body[:14])
            assert key_id == 0 and len(body) == 16 + size + key_len + 16
            data, key, iv = body[16 : 16 + size], body[16 + size : 16 + size + key_len], body[16 + size + key_len :]
            cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
            op = cipher.encryptor() if enc else cipher.decryptor()
            return struct.pack(e + "I", size) + bytes(12) + op.update(data) + op.finalize()
        raise AssertionError(f"unexpected crypto request {action}/{algo_type}")


SERVER_ID = 57  # the example server's id (core spec 0)

# SHA-256 (FIPS 180-4), written out here so that the server can continue from the client's midstate.
SHA256_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
SHA256_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
M32 = 0xFFFFFFFF


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & M32


def sha256_compress(h: tuple[int, ...], data: bytes) -> tuple[int, ...]:
    """The SHA-256 compression function over whole 64-byte blocks."""
    for off in range(0, len(data), 64):
        w = list(struct.unpack(">16I", data[off : off + 64]))
        for t in range(16, 64):
            s0 = _rotr(w[t - 15], 7) ^ _rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            s1 = _rotr(w[t - 2], 17) ^ _rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & M32)
        a, b, c, d, e, f, g, hh = h
        for t in range(64):
            t1 = hh + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[t] + w[t]
            t2 = (_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
            a, b, c, d, e, f, g, hh = (t1 + t2) & M32, a, b, c, (d + t1) & M32, e, f, g
        h = tuple((x + y) & M32 for x, y in zip(h, (a, b, c, d, e, f, g, hh), strict=True))
    return h


def sha256_final(h: tuple[int, ...], count: int, tail: bytes) -> bytes:
    """Absorb `tail` after `count` compressed bytes, pad, and return the big-endian digest."""
    bits = (count + len(tail)) * 8
    padded = tail + b"\x80" + bytes((55 - len(tail)) % 64) + struct.pack(">Q", bits)
    return struct.pack(">8I", *sha256_compress(h, padded))


def test_in_test_sha256_matches_hashlib() -> None:
    for n in (0, 3, 55, 56, 64, 119, 200):
        msg = bytes(range(256))[:n]
        whole = n // 64 * 64
        assert sha256_final(sha256_compress(SHA256_IV, msg[:whole]), whole, msg[whole:]) == hashlib.sha256(msg).digest()

# The NVM DESTROYOBJECTS payload a core sends, written by hand from the core spec 4.3 (not by the code under
# test): {u16 list_count = 1, u16 list[19] = {0x0020 + core id, 0 x 18}} = 40 bytes, in the core's byte order.
# Format with the low byte of the object id.
DESTROY_PAYLOAD = {
    "ppc": "0001 00{obj:02x}" + " 0000" * 18,  # big-endian: 00 01, 00 2N
    "arm": "0100 {obj:02x}00" + " 0000" * 18,  # little-endian: 01 00, 2N 00
}


# Registers of a Cortex-M exception frame, in stacking order (PC and xPSR follow).
STACKED_REGS = (
    arm.UC_ARM_REG_R0,
    arm.UC_ARM_REG_R1,
    arm.UC_ARM_REG_R2,
    arm.UC_ARM_REG_R3,
    arm.UC_ARM_REG_R12,
    arm.UC_ARM_REG_LR,
)


class Runner:
    """One app core running one ELF on bare Unicorn, until it reaches `idle` (or halts)."""

    def __init__(self, target: Target, core_id: int) -> None:
        self.target = target
        board = _board(target)
        if target.arch == "ppc":
            self.uc = Uc(UC_ARCH_PPC, UC_MODE_PPC32 | UC_MODE_BIG_ENDIAN)
        else:
            self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, cpu=arm.UC_CPU_ARM_CORTEX_M4)
        for name, (origin, size) in _memories(board).items():
            prot = UC_PROT_READ | UC_PROT_EXEC if name == target.flash else UC_PROT_ALL
            self.uc.mem_map(origin, size, prot)
        self.soc = Soc(target, core_id, _hal_defines(target), self.uc)
        self.soc.map()
        with open(PREBUILT / target.elf, "rb") as f:
            elf = ELFFile(f)
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD":
                    self.uc.mem_write(seg["p_paddr"], seg.data())
            self.syms = _symbols(elf)
            self.entry = elf["e_entry"]
        self.idle = self.syms["idle"] & ~1
        self.cpu_wait = self.syms["cpu_wait"] & ~1
        self.stop: str | None = None
        self.irq_entries = 0
        self.irq_exits = 0
        self.resume_pc = 0
        self.uc.hook_add(UC_HOOK_CODE, self._at, "idle", self.idle, self.idle)
        self.uc.hook_add(UC_HOOK_CODE, self._at, "wait", self.cpu_wait, self.cpu_wait)
        if target.arch == "arm":
            self.uc.hook_add(UC_HOOK_INTR, self._intr)

    def _at(self, uc: Uc, _address, _size, what: str) -> None:
        self.stop = what  # stopped in front of the wait instruction: it has not run
        uc.emu_stop()

    # Cortex-M exception entry/exit, the way the emulator's Python NVIC does it.
    def _irq_entry(self, exc: int, return_pc: int) -> int:
        uc = self.uc
        sp = uc.reg_read(arm.UC_ARM_REG_SP)
        xpsr = uc.reg_read(arm.UC_ARM_REG_XPSR)
        realign = sp & 4
        sp = (sp - realign) - 32
        regs = [uc.reg_read(r) for r in STACKED_REGS]
        stacked_xpsr = (xpsr & ~0x1FF) | (1 << 24) | (0x200 if realign else 0)
        uc.mem_write(sp, struct.pack("<8I", *regs, return_pc & ~1, stacked_xpsr))
        uc.reg_write(arm.UC_ARM_REG_SP, sp)
        uc.reg_write(arm.UC_ARM_REG_LR, 0xFFFF_FFF9)  # return to thread mode, main stack
        uc.reg_write(arm.UC_ARM_REG_IPSR, exc)
        (vector,) = struct.unpack("<I", uc.mem_read(4 * exc, 4))  # VTOR = 0
        self.irq_entries += 1
        return vector

    def _intr(self, uc: Uc, intno: int, _ud) -> None:
        if intno != 8:  # EXCP_EXCEPTION_EXIT
            self.stop = f"exception {intno}"
            uc.emu_stop()
            return
        sp = uc.reg_read(arm.UC_ARM_REG_SP)
        r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", uc.mem_read(sp, 32))
        for reg, value in zip(STACKED_REGS, (r0, r1, r2, r3, r12, lr), strict=True):
            uc.reg_write(reg, value)
        uc.reg_write(arm.UC_ARM_REG_SP, sp + 32 + (4 if xpsr & 0x200 else 0))
        uc.reg_write(arm.UC_ARM_REG_XPSR, xpsr & ~0x3FF)
        uc.reg_write(arm.UC_ARM_REG_IPSR, 0)
        self.irq_exits += 1
        self.resume_pc = pc
        self.stop = "exception return"
        uc.emu_stop()

    def run(self) -> None:
        soc, uc, thumb = self.soc, self.uc, self.target.arch == "arm"
        if thumb:
            vectors = struct.unpack("<2I", uc.mem_read(0, 8))
            uc.reg_write(arm.UC_ARM_REG_SP, vectors[0])
            pc = vectors[1]
        else:
            pc = self.entry
        for _ in range(100):
            self.stop = None
            uc.emu_start(pc | thumb, UNTIL, count=MAX_INSNS)
            if self.stop == "idle" or soc.halted:
                return
            if self.stop == "wait":
                # The core sleeps in front of `wait`/`wfi`: now the HSM answers, and the core wakes
                # after the wait instruction (4 bytes on PPC, 2 in Thumb).
                soc.hsm_answer()
                assert soc.pending & soc.enable, "waits with no enabled line pending: would sleep forever"
                pc = self.cpu_wait + (2 if thumb else 4)
                primask = uc.reg_read(arm.UC_ARM_REG_PRIMASK) if thumb else 1
                if thumb and primask == 0 and soc.pending & soc.enable & 1:
                    pc = self._irq_entry(16 + soc.hal["IRQ_LINE_MAILBOX"], pc)
            elif self.stop == "exception return":
                pc = self.resume_pc
            else:
                where = uc.reg_read(arm.UC_ARM_REG_PC if thumb else ppc.UC_PPC_REG_PC)
                raise AssertionError(f"stopped at {where:#x} ({self.stop}); UART so far: {bytes(soc.uart)!r}")
        raise AssertionError(f"firmware did not reach idle; UART: {bytes(soc.uart)!r}")


def _smoke_cases() -> list[tuple[str, int]]:
    return [(arch, n) for arch, t in sorted(TARGETS.items()) for n in range(len(_app_cores(_board(t))))]


@pytest.mark.parametrize(("arch", "core_id"), _smoke_cases())
def test_smoke_run_on_unicorn(arch: str, core_id: int) -> None:
    target = TARGETS[arch]
    runner = Runner(target, core_id)
    runner.run()
    soc = runner.soc
    text = soc.uart.decode("ascii")
    checksum = demo_checksum(core_id)
    obj = 0x20 + core_id
    assert text == (
        f"hello from {arch} app core {core_id}\n"
        f"checksum {checksum:08x}\n"
        f"hsm comm init: client {core_id + 1} server {SERVER_ID}\n"
        f"hsm echo: hello hsm from {arch} core {core_id}\n"
        f"hsm nvm add 0x{obj:04x}: rc 0\n"
        f"hsm nvm read 0x{obj:04x}: 16 bytes ok\n"
        f"hsm nvm destroy 0x{obj:04x}: rc 0\n"
        "hsm rng: 16 bytes\n"
        "hsm sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        "hsm aes-cbc: ok\n"
        "hsm close: rc 0\n"
    )
    assert not soc.halted
    assert [(kind, seq) for kind, seq, _ in soc.requests] == [
        (0x0101, 1), (0x0105, 2), (0x0204, 3), (0x0208, 4), (0x0207, 5),
        (0x0404, 6), (0x0401, 7), (0x0402, 8), (0x0402, 9), (0x0103, 10),
    ]  # fmt: skip
    assert soc.random and hashlib.sha256(b"abc").hexdigest() in text
    data = b"".join(((checksum + k) & 0xFFFFFFFF).to_bytes(4, "big") for k in range(4))
    meta, stored = soc.added[obj]
    assert stored == data
    assert meta[8:] == f"demo-core{core_id}".encode().ljust(24, b"\0")
    destroy = soc.requests[4][2]
    assert destroy.hex(" ") == bytes.fromhex(DESTROY_PAYLOAD[arch].format(obj=obj)).hex(" ")
    assert len(destroy) == 40
    assert soc.nvm == {}  # the demo destroyed its object again: the server's NVM is empty
    assert soc.doorbells == 10
    assert soc.hsm2htie == 0 and soc.enable == 0  # detached: reply interrupt masked again
    assert soc.hsm2htf == 0 and soc.pending == 0  # every reply flag and IRQ line acknowledged
    (lock,) = struct.unpack(target.endian + "I", runner.uc.mem_read(soc.hal["APP_SHARED_BASE"], 4))
    assert lock == 0  # the HSM2HTIE spinlock was released
    if arch == "arm":
        # This runner delivers IRQ 0 only when the core wakes; the firmware sleeps with PRIMASK set
        # (cpsid i; wfi; cpsie i), so here the replies are acknowledged by the thread code.
        assert runner.irq_entries == runner.irq_exits
        local = soc.hal["CORE_RAM_BASE"] + core_id * soc.hal["CORE_RAM_SIZE"]
        _flag, count = struct.unpack("<2I", runner.uc.mem_read(local, 8))
        assert count == runner.irq_entries


@pytest.mark.parametrize(("arch", "core_id"), [("ppc", 3), ("arm", 4)])
def test_core_without_a_stack_halts(arch: str, core_id: int) -> None:
    # A core id with no stack (ppc: no DSRAM; arm: beyond CORE_RAM_MAX_CORES) stops itself.
    runner = Runner(TARGETS[arch], core_id)
    runner.run()
    assert runner.soc.halted and runner.soc.uart == b""
