"""Byte-level wire vectors of the C wolfHSM client in the app demo firmware (firmware/app/common/wh_mbox_client.c).

Every expected byte below is written by hand from the specs (shared/spec/wolfhsm-wire-core.md 1.3, 2, 3, 4.3;
wolfhsm-wire-crypto.md 1, 3.1, 3.4, 3.7; wolfhsm-v1.4.0-diff.md 3, 5, 10), not produced by the code under test: the
comm header {magic 0xA501, kind, seq, aux 0} and every payload integer in the core's own byte order (PPC big-endian:
A5 01 ..., Cortex-M little-endian: 01 A5 ...), the request CSR {notify, len, ack 0, wait 0} in the same order. The
crypto messages carry the v1.4.0 envelope (request {algoType, algoSubType 0}, response {algoType, rc}); the SHA-256
midstate words are native too (the SHA-256 IV goes out as 6a09e667 ... on PPC and 67e6096a ... on Cortex-M).

Each committed ELF runs on bare Unicorn as core 0 (no emulator): `mmio_map` callbacks play UART, INTC and mailbox,
and a tiny in-test HSM takes the request packet out of channel 0 when the doorbell is rung and answers with a
hand-written response packet, the way the server answers (response data, then the response CSR with the request's
notify, then HSM2HTF bit 0, which pends INTC line 0 when HSM2HTIE bit 0 is set). The answer arrives at different
moments (inside the doorbell write, at the next quantum boundary, only once the core sleeps, or data first and the
reply flag a quantum later), so the firmware's wait loops are exercised on every interleaving that the emulator can
produce. Cortex-M exceptions are entered the way the emulator does it: at a quantum boundary (or when the core wakes)
if PRIMASK is clear and an enabled line is pending.

Besides the demo (main), single client calls are driven directly on the same ELF (`Machine.call`: arguments in
registers and on the stack per the EABI, return to `idle`): SHA-256 over one whole block and a final message, RNG
asking more than one packet holds, AES-CBC over more than one packet (IV chained by the client) and argument checks.
Their requests are compared with hand-written vectors too; the answers come from a small responder written here.
"""

from __future__ import annotations

import hashlib
import struct
import tomllib
from collections.abc import Callable
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

h = bytes.fromhex

# --------------------------------------------------------------------------------------------------
# the vectors (core 0)

LABEL = b"demo-core0" + bytes(14)  # label[24], zero padded
# 16 data bytes: the words checksum(0) + 0..3 = 0x9220ad6b.., most significant byte first, on both cores
DATA = h("9220ad6b 9220ad6c 9220ad6d 9220ad6e")
# NVM DESTROYOBJECTS payload tail: list[1..18] unused, zero (the request is always 2 + 19 * 2 = 40 bytes)
LIST_REST = bytes(36)

# Crypto (v1.4.0). RNG: 16 bytes; the answer is the example server's counter 0x81, 0x82, ... (v1.4.0 diff 10.6).
RANDOM = h("8182838485868788 898a8b8c8d8e8f90")
# SHA-256 of "abc" in one final message [116]: hiLen 0, loLen 0, the IV (native words), isLastBlock 1,
# lastBlockLen 3, inBlock "abc" + 61 zero bytes, pad 0.
SHA_IV = {
    "ppc": h("6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19"),
    "arm": h("67e6096a 85ae67bb 72f36e3c 3af54fa5 7f520e51 8c68059b abd9831f 19cde05b"),
}
ABC_BLOCK = b"abc" + bytes(61)
ABC_DIGEST = h("ba7816bf8f01cfea414140de5dae2223 b00361a396177a9cb410ff61f20015ad")  # FIPS 180-4 example
# NIST SP 800-38A F.2.1 / F.2.2 (CBC-AES128)
AES_KEY = h("2b7e151628aed2a6abf7158809cf4f3c")
AES_IV = h("000102030405060708090a0b0c0d0e0f")
AES_PLAIN = h(
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"
)
AES_CIPHER = h(
    "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
    "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7"
)

# fmt: off
# Requests, in the order the demo sends them: (name, request CSR, request packet)
REQUESTS = {
    "ppc": [
        ("INIT", h("0001 000c 0000 0000"), h("a501 0101 0001 0000") + h("0000 0001")),
        ("ECHO", h("0002 0021 0000 0000"), h("a501 0105 0002 0000") + b"hello hsm from ppc core 0"),
        ("NVM ADD", h("0003 0038 0000 0000"), h("a501 0204 0003 0000") + h("0020 ffff 0000 0010") + LABEL + DATA),
        ("NVM READ", h("0004 000e 0000 0000"), h("a501 0208 0004 0000") + h("0020 0000 0010")),
        ("NVM DESTROY", h("0005 0030 0000 0000"), h("a501 0207 0005 0000") + h("0001 0020") + LIST_REST),
        ("RNG", h("0006 0014 0000 0000"), h("a501 0404 0006 0000") + h("0000 0004 0000 0000") + h("0000 0010")),
        (
            "SHA256",
            h("0007 0084 0000 0000"),
            h("a501 0401 0007 0000") + h("0000 0006 0000 0000") + h("0000 0000 0000 0000") + SHA_IV["ppc"]
            + h("0000 0001 0000 0003") + ABC_BLOCK + h("0000 0000"),
        ),
        (
            "AES-CBC ENC",
            h("0008 0080 0000 0000"),
            h("a501 0402 0008 0000") + h("0000 0002 0000 0000") + h("0000 0001 0000 0010 0000 0040 0000 0000")
            + AES_PLAIN + AES_KEY + AES_IV,
        ),
        (
            "AES-CBC DEC",
            h("0009 0080 0000 0000"),
            h("a501 0402 0009 0000") + h("0000 0002 0000 0000") + h("0000 0000 0000 0010 0000 0040 0000 0000")
            + AES_CIPHER + AES_KEY + AES_IV,
        ),
        ("CLOSE", h("000a 0008 0000 0000"), h("a501 0103 000a 0000")),
    ],
    "arm": [
        ("INIT", h("0100 0c00 0000 0000"), h("01a5 0101 0100 0000") + h("0100 0000")),
        ("ECHO", h("0200 2100 0000 0000"), h("01a5 0501 0200 0000") + b"hello hsm from arm core 0"),
        ("NVM ADD", h("0300 3800 0000 0000"), h("01a5 0402 0300 0000") + h("2000 ffff 0000 1000") + LABEL + DATA),
        ("NVM READ", h("0400 0e00 0000 0000"), h("01a5 0802 0400 0000") + h("2000 0000 1000")),
        ("NVM DESTROY", h("0500 3000 0000 0000"), h("01a5 0702 0500 0000") + h("0100 2000") + LIST_REST),
        ("RNG", h("0600 1400 0000 0000"), h("01a5 0404 0600 0000") + h("0400 0000 0000 0000") + h("1000 0000")),
        (
            "SHA256",
            h("0700 8400 0000 0000"),
            h("01a5 0104 0700 0000") + h("0600 0000 0000 0000") + h("0000 0000 0000 0000") + SHA_IV["arm"]
            + h("0100 0000 0300 0000") + ABC_BLOCK + h("0000 0000"),
        ),
        (
            "AES-CBC ENC",
            h("0800 8000 0000 0000"),
            h("01a5 0204 0800 0000") + h("0200 0000 0000 0000") + h("0100 0000 1000 0000 4000 0000 0000 0000")
            + AES_PLAIN + AES_KEY + AES_IV,
        ),
        (
            "AES-CBC DEC",
            h("0900 8000 0000 0000"),
            h("01a5 0204 0900 0000") + h("0200 0000 0000 0000") + h("0000 0000 1000 0000 4000 0000 0000 0000")
            + AES_CIPHER + AES_KEY + AES_IV,
        ),
        ("CLOSE", h("0a00 0800 0000 0000"), h("01a5 0301 0a00 0000")),
    ],
}

# Responses as the server sends them: magic/kind/seq echoed, aux 0.
RESPONSES_OK = {
    "ppc": [
        h("a501 0101 0001 0000") + h("0000 0001 0000 0039"),  # client 1, server 57
        h("a501 0105 0002 0000") + b"hello hsm from ppc core 0",
        h("a501 0204 0003 0000") + h("0000 0000"),  # rc 0
        h("a501 0208 0004 0000") + h("0000 0000") + DATA,  # rc 0 + data
        h("a501 0207 0005 0000") + h("0000 0000"),  # rc 0
        h("a501 0404 0006 0000") + h("0000 0004 0000 0000") + h("0000 0010") + RANDOM,  # {4, rc 0}, sz 16
        # {6, rc 0}, Sha2Response [76]: hiLen 0, loLen 0, hash = digest + 32 zero bytes, hashType 0
        h("a501 0401 0007 0000") + h("0000 0006 0000 0000") + h("0000 0000 0000 0000") + ABC_DIGEST + bytes(32)
        + h("0000 0000"),
        h("a501 0402 0008 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_CIPHER,  # {sz 64}
        h("a501 0402 0009 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_PLAIN,
        h("a501 0103 000a 0000"),  # empty
    ],
    "arm": [
        h("01a5 0101 0100 0000") + h("0100 0000 3900 0000"),
        h("01a5 0501 0200 0000") + b"hello hsm from arm core 0",
        h("01a5 0402 0300 0000") + h("0000 0000"),
        h("01a5 0802 0400 0000") + h("0000 0000") + DATA,
        h("01a5 0702 0500 0000") + h("0000 0000"),
        h("01a5 0404 0600 0000") + h("0400 0000 0000 0000") + h("1000 0000") + RANDOM,
        h("01a5 0104 0700 0000") + h("0600 0000 0000 0000") + h("0000 0000 0000 0000") + ABC_DIGEST + bytes(32)
        + h("0000 0000"),
        h("01a5 0204 0800 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_CIPHER,
        h("01a5 0204 0900 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_PLAIN,
        h("01a5 0301 0a00 0000"),
    ],
}

CONSOLE_OK = (
    "hello from {arch} app core 0\n"
    "checksum 9220ad6b\n"
    "hsm comm init: client 1 server 57\n"
    "hsm echo: hello hsm from {arch} core 0\n"
    "hsm nvm add 0x0020: rc 0\n"
    "hsm nvm read 0x0020: 16 bytes ok\n"
    "hsm nvm destroy 0x0020: rc 0\n"
    "hsm rng: 16 bytes\n"
    "hsm sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    "hsm aes-cbc: ok\n"
    "hsm close: rc 0\n"
)

# Faulty answers: the client must check the header (v1.4.0: magic, kind and seq, else ABORTED -2002) and the
# sizes, and print negative server rcs in decimal.
RESPONSES_ERRORS = {
    "ppc": [
        h("a501 0101 0002 0000") + h("0000 0001 0000 0039"),  # seq 2 instead of 1 -> ABORTED
        h("01a5 0105 0002 0000") + b"hello hsm from ppc core 0",  # the other byte order's magic -> ABORTED
        h("a501 0204 0003 0000") + h("ffff f7c7"),  # rc NOSPACE -2105
        h("a501 0208 0004 0000") + h("ffff f7c8"),  # rc NOTFOUND -2104, no data
        h("a501 0207 0005 0000") + h("ffff f7c8"),  # rc NOTFOUND -2104 (v1.4.0: an absent id)
        h("a501 0404 0006 0000") + h("0000 0004 ffff ff53"),  # header only, rc BAD_FUNC_ARG -173
        # algoType 5 (SHA-224) echoed to a SHA-256 request -> ABORTED
        h("a501 0401 0007 0000") + h("0000 0005 0000 0000") + h("0000 0000 0000 0000") + ABC_DIGEST + bytes(32)
        + h("0000 0000"),
        h("a501 0402 0008 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_CIPHER,
        # HEAD's AES-CBC response (with iv_out[16] appended): 16 bytes too many for v1.4.0 -> ABORTED
        h("a501 0402 0009 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_PLAIN + AES_CIPHER[48:],
        h("a501 0103 000a 0000"),
    ],
    "arm": [
        h("01a5 0101 0200 0000") + h("0100 0000 3900 0000"),
        h("a501 0501 0200 0000") + b"hello hsm from arm core 0",
        h("01a5 0402 0300 0000") + h("c7f7 ffff"),
        h("01a5 0802 0400 0000") + h("c8f7 ffff"),
        h("01a5 0702 0500 0000") + h("c8f7 ffff"),
        h("01a5 0404 0600 0000") + h("0400 0000 53ff ffff"),
        h("01a5 0104 0700 0000") + h("0500 0000 0000 0000") + h("0000 0000 0000 0000") + ABC_DIGEST + bytes(32)
        + h("0000 0000"),
        h("01a5 0204 0800 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_CIPHER,
        h("01a5 0204 0900 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_PLAIN + AES_CIPHER[48:],
        h("01a5 0301 0a00 0000"),
    ],
}
CONSOLE_ERRORS = (
    "hello from {arch} app core 0\n"
    "checksum 9220ad6b\n"
    "hsm comm init: rc -2002\n"
    "hsm echo: rc -2002\n"
    "hsm nvm add 0x0020: rc -2105\n"
    "hsm nvm read 0x0020: rc -2104\n"
    "hsm nvm destroy 0x0020: rc -2104\n"
    "hsm rng: rc -173\n"
    "hsm sha256: rc -2002\n"
    "hsm aes-cbc: rc -2002\n"
    "hsm close: rc 0\n"
)

RESPONSES_ODD = {
    "ppc": [
        h("a501 0101 0001 0000"),  # empty INIT response (the server refused the id) -> ABORTED
        h("a501 0105 0002 0000") + b"hello",  # a shorter echo is accepted
        h("a501 0204 0003 0000") + h("0000 0000"),
        h("a501 0208 0004 0000") + h("0000 0000") + DATA[:12],  # 12 of 16 bytes
        h("a501 0207 0005 0000") + h("0000 0000 0000 0000"),  # 8 bytes instead of the 4-byte rc -> ABORTED
        h("a501 0404 0006 0000") + h("0000 0004 0000 0000") + h("0000 0000"),  # 0 random bytes -> ABORTED
        # the v1.4.0 server leaves garbage in what the client ignores on the final answer: counters, hash[32..64),
        # hashType. The digest is still taken.
        h("a501 0401 0007 0000") + h("0000 0006 0000 0000") + h("dead beef 0000 0040") + ABC_DIGEST + b"\xa5" * 32
        + h("0000 0100"),
        # one ciphertext bit flipped -> mismatch (the output, and the IV chained from it)
        h("a501 0402 0008 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_CIPHER[:63] + h("a6"),
        h("a501 0402 0009 0000") + h("0000 0002 0000 0000") + h("0000 0040") + bytes(12) + AES_PLAIN,
        h("a501 0104 000a 0000"),  # CLOSE answered with kind INFO -> ABORTED
    ],
    "arm": [
        h("01a5 0101 0100 0000"),
        h("01a5 0501 0200 0000") + b"hello",
        h("01a5 0402 0300 0000") + h("0000 0000"),
        h("01a5 0802 0400 0000") + h("0000 0000") + DATA[:12],
        h("01a5 0702 0500 0000") + h("0000 0000 0000 0000"),
        h("01a5 0404 0600 0000") + h("0400 0000 0000 0000") + h("0000 0000"),
        h("01a5 0104 0700 0000") + h("0600 0000 0000 0000") + h("efbe adde 4000 0000") + ABC_DIGEST + b"\xa5" * 32
        + h("0001 0000"),
        h("01a5 0204 0800 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_CIPHER[:63] + h("a6"),
        h("01a5 0204 0900 0000") + h("0200 0000 0000 0000") + h("4000 0000") + bytes(12) + AES_PLAIN,
        h("01a5 0401 0a00 0000"),
    ],
}
# fmt: on
CONSOLE_ODD = (
    "hello from {arch} app core 0\n"
    "checksum 9220ad6b\n"
    "hsm comm init: rc -2002\n"
    "hsm echo: hello\n"
    "hsm nvm add 0x0020: rc 0\n"
    "hsm nvm read 0x0020: 12 bytes mismatch\n"
    "hsm nvm destroy 0x0020: rc -2002\n"
    "hsm rng: rc -2002\n"
    "hsm sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    "hsm aes-cbc: mismatch\n"
    "hsm close: rc -2002\n"
)

SCENARIOS = {
    "ok": (RESPONSES_OK, CONSOLE_OK),
    "errors": (RESPONSES_ERRORS, CONSOLE_ERRORS),
    "odd": (RESPONSES_ODD, CONSOLE_ODD),
}

# --------------------------------------------------------------------------------------------------
# the bare-Unicorn machine

# Register offsets of the emulator's INTC and UART (firmware/app/common/app_regs.h)
UART_TXDATA, UART_STATUS = 0x00, 0x04
INTC_CORE_ID, INTC_PENDING, INTC_ENABLE, INTC_HALT = 0x00, 0x04, 0x08, 0x0C
LINE0 = 1  # INTC line 0: the mailbox reply

UNTIL = 0x7FFF_FFF0  # never reached: emu_start stops on count or hooks
QUANTUM = 97  # instructions per emu_start: small and odd, to cut the firmware at many places
MAX_QUANTA = 100_000


@dataclass(frozen=True)
class Board:
    arch: str
    toml: str
    elf: str
    flash: str
    endian: str


BOARDS = {
    "ppc": Board("ppc", "spc58nn", "ppc_demo.elf", "cflash", ">"),
    "arm": Board("arm", "cortex-m-dual", "arm_demo.elf", "flash", "<"),
}


def _size(value: int | str) -> int:
    if isinstance(value, int):
        return value
    units = {"K": 1 << 10, "M": 1 << 20}
    text = value.strip().upper()
    return int(text[:-1], 0) * units[text[-1]] if text[-1] in units else int(text, 0)


@dataclass
class Machine:
    """One app core (core 0) with UART, INTC, mailbox and a scripted HSM on channel 0."""

    board: Board
    responses: list[bytes] | Callable[[bytes], bytes]  # the answers in order, or packet -> answer
    timing: str  # when the HSM answers: "doorbell", "boundary", "sleep" or "split"
    quantum: int = QUANTUM
    core_id: int = 0
    uart: bytearray = field(default_factory=bytearray)
    pending: int = 0
    enable: int = 0
    halted: bool = False
    hsm2htf: int = 0
    hsm2htie: int = 0
    ht2hsmf: int = 0
    doorbells: list[int] = field(default_factory=list)
    captured: list[tuple[bytes, bytes]] = field(default_factory=list)  # (request CSR, packet)
    todo: list[str] = field(default_factory=list)  # deferred HSM steps: "data", "flag"
    irq_entries: int = 0
    irq_exits: int = 0
    sleeps: int = 0

    def __post_init__(self) -> None:
        b = self.board
        with open(ROOT / "boards" / f"{b.toml}.toml", "rb") as f:
            cfg = tomllib.load(f)
        periph = cfg["peripherals"]
        self.uart_base = periph["uart"]["base"]
        self.intc_base = periph["intc"]["base"]
        self.mbox_base = periph["mailbox"]["base"]
        self.mbox_regs = {off: name for name, off in periph["mailbox"]["registers"].items()}
        self.channel = periph["mailbox"]["channels"][self.core_id]["base"]
        self.lock_addr = {"ppc": 0x400F_0000, "arm": 0x2002_0000}[b.arch]  # APP_MBOX_LOCK (hal.h)
        self.stack_top = {"ppc": 0x5081_0000, "arm": 0x2001_4000}[b.arch]  # core 0's stack (hal.h)
        self.scratch = {"ppc": 0x400A_0000, "arm": 0x2003_0000}[b.arch]  # 64 KiB of sram no one else uses
        if b.arch == "ppc":
            self.uc = Uc(UC_ARCH_PPC, UC_MODE_PPC32 | UC_MODE_BIG_ENDIAN)
        else:
            self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, cpu=arm.UC_CPU_ARM_CORTEX_M4)
        for name, mem in cfg["memory"].items():
            prot = UC_PROT_READ | UC_PROT_EXEC if name == b.flash else UC_PROT_ALL
            self.uc.mem_map(mem["origin"], _size(mem["size"]), prot)
        self.uc.mmio_map(self.uart_base, 0x1000, self._uart_read, None, self._uart_write, None)
        self.uc.mmio_map(self.intc_base, 0x1000, self._intc_read, None, self._intc_write, None)
        self.uc.mmio_map(self.mbox_base, 0x1000, self._mbox_read, None, self._mbox_write, None)
        # Garbage in the channel: the client must zero both blocks (CSRs included) when it attaches.
        self.uc.mem_write(self.channel, b"\xee" * 0x2000)
        with open(PREBUILT / b.elf, "rb") as f:
            elf = ELFFile(f)
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD":
                    self.uc.mem_write(seg["p_paddr"], seg.data())
            syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
            self.entry = elf["e_entry"]
        self.syms = syms
        self.idle = syms["idle"] & ~1
        self.cpu_wait = syms["cpu_wait"] & ~1
        self.stop: str | None = None
        self.resume_pc = 0
        self.uc.hook_add(UC_HOOK_CODE, self._at, "idle", self.idle, self.idle)
        self.uc.hook_add(UC_HOOK_CODE, self._at, "wait", self.cpu_wait, self.cpu_wait)
        if b.arch == "arm":
            self.uc.hook_add(UC_HOOK_INTR, self._intr)

    # ---- peripherals
    def _uart_read(self, _uc, offset, _size, _ud) -> int:
        return 1 if offset == UART_STATUS else 0

    def _uart_write(self, _uc, offset, _size, value, _ud) -> None:
        if offset == UART_TXDATA:
            self.uart.append(value & 0xFF)

    def _intc_read(self, _uc, offset, _size, _ud) -> int:
        return {INTC_CORE_ID: self.core_id, INTC_PENDING: self.pending, INTC_ENABLE: self.enable}.get(offset, 0)

    def _intc_write(self, uc, offset, _size, value, _ud) -> None:
        if offset == INTC_PENDING:
            self.pending &= ~value
        elif offset == INTC_ENABLE:
            self.enable = value
        elif offset == INTC_HALT and value:
            self.halted = True
            uc.emu_stop()

    def _mbox_read(self, _uc, offset, _size, _ud) -> int:
        return {"HSM2HTF": self.hsm2htf, "HSM2HTIE": self.hsm2htie, "HT2HSMF": self.ht2hsmf}.get(
            self.mbox_regs.get(offset, ""), 0
        )

    def _mbox_write(self, _uc, offset, _size, value, _ud) -> None:
        name = self.mbox_regs.get(offset)
        if name == "HSM2HTF":
            self.hsm2htf &= ~value  # the host writes 1 to clear
        elif name == "HSM2HTIE":
            self.hsm2htie = value
            if self.hsm2htf & value & (1 << self.core_id):  # enabling a set flag raises the line
                self.pending |= LINE0
        elif name == "HT2HSMF":
            self.doorbells.append(value)
            self.ht2hsmf |= value
            self._take_request()

    # ---- the HSM
    def _take_request(self) -> None:
        bit = 1 << self.core_id
        if not self.ht2hsmf & bit:
            return
        self.ht2hsmf &= ~bit
        e = self.board.endian
        csr = bytes(self.uc.mem_read(self.channel, 8))
        notify, length, _ack, _wait = struct.unpack(e + "4H", csr)
        (resp_notify,) = struct.unpack(e + "H", self.uc.mem_read(self.channel + 0x1000, 2))
        assert notify == (resp_notify + 1) & 0xFFFF, "request sent before the previous one was answered"
        assert 8 <= length <= 0x1000 - 8
        self.captured.append((csr, bytes(self.uc.mem_read(self.channel + 8, length))))
        self.todo = ["data", "flag"]
        if self.timing == "doorbell":
            self._hsm_steps(2)
        elif self.timing == "split":
            self._hsm_steps(1)

    def _hsm_steps(self, n: int) -> None:
        for _ in range(min(n, len(self.todo))):
            step = self.todo.pop(0)
            if step == "data":  # response packet, then the response CSR {notify = req.notify, len, ack, wait}
                i = len(self.captured) - 1
                packet = self.responses(self.captured[i][1]) if callable(self.responses) else self.responses[i]
                e = self.board.endian
                req_notify, _len, _ack, _wait = struct.unpack(e + "4H", self.captured[i][0])
                _n, _l, ack, wait = struct.unpack(e + "4H", self.uc.mem_read(self.channel + 0x1000, 8))
                self.uc.mem_write(self.channel + 0x1000 + 8, packet)
                self.uc.mem_write(self.channel + 0x1000, struct.pack(e + "4H", req_notify, len(packet), ack, wait))
            else:  # HSM2HTF: a newly set bit pends the core's line 0 when HSM2HTIE has it
                bit = 1 << self.core_id
                if not self.hsm2htf & bit and self.hsm2htie & bit:
                    self.pending |= LINE0
                self.hsm2htf |= bit

    # ---- Cortex-M exceptions, as the emulator's Python NVIC does them
    def _intr(self, uc: Uc, intno: int, _ud) -> None:
        if intno != 8:  # EXCP_EXCEPTION_EXIT
            self.stop = f"exception {intno}"
            uc.emu_stop()
            return
        sp = uc.reg_read(arm.UC_ARM_REG_SP)
        r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", uc.mem_read(sp, 32))
        for reg, value in zip(_STACKED, (r0, r1, r2, r3, r12, lr), strict=True):
            uc.reg_write(reg, value)
        uc.reg_write(arm.UC_ARM_REG_SP, sp + 32 + (4 if xpsr & 0x200 else 0))
        uc.reg_write(arm.UC_ARM_REG_XPSR, xpsr & ~0x3FF)
        uc.reg_write(arm.UC_ARM_REG_IPSR, 0)
        self.irq_exits += 1
        self.resume_pc = pc
        self.stop = "exception return"
        uc.emu_stop()

    def _maybe_take_irq(self, pc: int) -> int:
        uc = self.uc
        if self.board.arch != "arm" or not self.pending & self.enable & LINE0:
            return pc
        if uc.reg_read(arm.UC_ARM_REG_PRIMASK) & 1 or uc.reg_read(arm.UC_ARM_REG_IPSR):
            return pc
        sp = uc.reg_read(arm.UC_ARM_REG_SP)
        xpsr = uc.reg_read(arm.UC_ARM_REG_XPSR)
        realign = sp & 4
        sp = (sp - realign) - 32
        regs = [uc.reg_read(r) for r in _STACKED]
        uc.mem_write(sp, struct.pack("<8I", *regs, pc & ~1, (xpsr & ~0x1FF) | (1 << 24) | (0x200 if realign else 0)))
        uc.reg_write(arm.UC_ARM_REG_SP, sp)
        uc.reg_write(arm.UC_ARM_REG_LR, 0xFFFF_FFF9)
        uc.reg_write(arm.UC_ARM_REG_IPSR, 16)
        (vector,) = struct.unpack("<I", uc.mem_read(4 * 16, 4))  # VTOR = 0, IRQ 0 = exception 16
        self.irq_entries += 1
        return vector & ~1

    def _at(self, uc: Uc, _address, _size, what: str) -> None:
        self.stop = what  # in front of the wait instruction, which has not run
        uc.emu_stop()

    def _pc(self) -> int:
        return self.uc.reg_read(arm.UC_ARM_REG_PC if self.board.arch == "arm" else ppc.UC_PPC_REG_PC)

    def run(self, pc: int | None = None, idle_check: bool = True) -> None:
        """Run from reset (or from `pc`) until the core reaches `idle`."""
        uc, thumb = self.uc, self.board.arch == "arm"
        if pc is None and thumb:
            sp, pc = struct.unpack("<2I", uc.mem_read(0, 8))
            uc.reg_write(arm.UC_ARM_REG_SP, sp)
            pc &= ~1
        elif pc is None:
            pc = self.entry
        for _ in range(MAX_QUANTA):
            self.stop = None
            uc.emu_start(pc | thumb, UNTIL, count=self.quantum)
            if self.halted:
                raise AssertionError(f"core halted; UART: {bytes(self.uart)!r}")
            if self.stop == "idle":
                # the rest of the last answer (split: the reply flag) may come after the core has moved on
                self._hsm_steps(2)
                # idle must really sleep: no enabled line left pending (else `wait`/`wfi` returns at once, forever)
                spins = idle_check and self.pending & self.enable
                assert not spins, "idle with an enabled line pending: it would spin"
                return
            if self.stop == "wait":
                self.sleeps += 1
                # Asleep in front of `wait`/`wfi`: the HSM's pending work happens now; the core wakes after the
                # instruction once an enabled line is pending (whatever PRIMASK says).
                self._hsm_steps(2)
                assert self.pending & self.enable, "sleeps with no enabled line pending: would sleep forever"
                pc = self.cpu_wait + (2 if thumb else 4)
            elif self.stop == "exception return":
                pc = self.resume_pc
            elif self.stop is None:  # a quantum boundary
                pc = self._pc() & ~1 if thumb else self._pc()
                if self.timing != "sleep":
                    self._hsm_steps(1 if self.timing == "split" else 2)
            else:
                raise AssertionError(f"stopped at {self._pc():#x} ({self.stop}); UART: {bytes(self.uart)!r}")
            pc = self._maybe_take_irq(pc)
        raise AssertionError(f"did not reach idle; UART: {bytes(self.uart)!r}")

    def call(self, name: str, *args: int) -> int:
        """Call the firmware function `name` with integer arguments (EABI: PPC r3..r10; Cortex-M r0..r3, the rest on
        the stack) on core 0's stack, returning to `idle`; the C int result. The firmware never enables interrupts
        itself outside `_start`: on Cortex-M PRIMASK is clear from reset, as in `main`."""
        uc, fn = self.uc, self.syms[name]
        sp = self.stack_top - 0x100
        if self.board.arch == "arm":
            regs, stacked = args[:4], args[4:]
            uc.mem_write(sp, struct.pack(f"<{len(stacked)}I", *stacked))
            for reg, value in zip((arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3), regs):
                uc.reg_write(reg, value)
            uc.reg_write(arm.UC_ARM_REG_SP, sp)
            uc.reg_write(arm.UC_ARM_REG_LR, self.idle | 1)
            self.run(fn & ~1, idle_check=False)
            result = uc.reg_read(arm.UC_ARM_REG_R0)
        else:
            assert len(args) <= 8
            uc.mem_write(sp, bytes(16))  # back chain 0; the callee saves LR at sp + 4
            for i, value in enumerate(args):
                uc.reg_write(ppc.UC_PPC_REG_3 + i, value)
            uc.reg_write(ppc.UC_PPC_REG_1, sp)
            uc.reg_write(ppc.UC_PPC_REG_LR, self.idle)
            self.run(fn, idle_check=False)
            result = uc.reg_read(ppc.UC_PPC_REG_3)
        return result - (1 << 32) if result & 0x8000_0000 else result


_STACKED = (
    arm.UC_ARM_REG_R0,
    arm.UC_ARM_REG_R1,
    arm.UC_ARM_REG_R2,
    arm.UC_ARM_REG_R3,
    arm.UC_ARM_REG_R12,
    arm.UC_ARM_REG_LR,
)

TIMINGS = ("doorbell", "boundary", "sleep", "split")


def _run(arch: str, scenario: str, timing: str, quantum: int = QUANTUM) -> Machine:
    responses, _ = SCENARIOS[scenario]
    m = Machine(BOARDS[arch], responses[arch], timing, quantum)
    m.run()
    return m


# --------------------------------------------------------------------------------------------------
# tests


def test_vectors_are_consistent() -> None:
    # Cross-checks of the hand-written tables (not of the firmware): each request CSR's len is the packet length,
    # its notify counts 1..10, each ok response echoes its request's header (and a crypto response its algoType),
    # the two byte orders differ only by swapping, and the crypto answers are right.
    for arch, endian in (("ppc", ">"), ("arm", "<")):
        for i, (_name, csr, packet) in enumerate(REQUESTS[arch]):
            assert struct.unpack(endian + "4H", csr) == (i + 1, len(packet), 0, 0)
            assert RESPONSES_OK[arch][i][:8] == packet[:8]
            if struct.unpack_from(endian + "H", packet, 2)[0] & 0xFF00 == 0x0400:  # CRYPTO
                assert RESPONSES_OK[arch][i][8:12] == packet[8:12]  # algoType
                assert RESPONSES_OK[arch][i][12:16] == bytes(4)  # rc 0
    assert [len(p) for _, _, p in REQUESTS["ppc"]] == [12, 33, 56, 14, 48, 20, 132, 128, 128, 8]
    assert [len(p) for _, _, p in REQUESTS["arm"]] == [12, 33, 56, 14, 48, 20, 132, 128, 128, 8]
    assert SHA_IV["arm"] == b"".join(SHA_IV["ppc"][i : i + 4][::-1] for i in range(0, 32, 4))
    assert hashlib.sha256(b"abc").digest() == ABC_DIGEST
    enc = Cipher(algorithms.AES(AES_KEY), modes.CBC(AES_IV)).encryptor()
    assert enc.update(AES_PLAIN) + enc.finalize() == AES_CIPHER


@pytest.mark.parametrize("quantum", [13, QUANTUM, 10_000])
@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_requests_match_vectors(arch: str, timing: str, quantum: int) -> None:
    m = _run(arch, "ok", timing, quantum)
    assert m.uart.decode("ascii") == CONSOLE_OK.format(arch=arch)
    expected = REQUESTS[arch]
    assert len(m.captured) == len(expected)
    for (name, csr, packet), (got_csr, got_packet) in zip(expected, m.captured, strict=True):
        assert got_packet.hex(" ") == packet.hex(" "), name
        assert got_csr.hex(" ") == csr.hex(" "), name
    assert m.doorbells == [1] * 10  # HT2HSMF = 1 << core id, once per request
    # attach zeroed both blocks: each block is zero behind the longest packet (request: the SHA-256, 132 bytes;
    # response: the AES-CBC answers, 96 bytes)
    assert bytes(m.uc.mem_read(m.channel + 8 + 132, 0x1000 - 8 - 132)) == bytes(0x1000 - 8 - 132)
    assert bytes(m.uc.mem_read(m.channel + 0x1000 + 8 + 96, 0x1000 - 8 - 96)) == bytes(0x1000 - 8 - 96)
    # detached at the end: reply interrupt masked at the mailbox and the INTC, the spinlock released
    assert m.hsm2htie == 0 and not m.enable & LINE0
    assert bytes(m.uc.mem_read(m.lock_addr, 4)) == bytes(4)
    if timing != "split":
        assert m.hsm2htf == 0 and m.pending == 0  # every reply acknowledged
    if timing == "sleep":
        assert m.sleeps == 10  # it waited for each answer asleep (else the HSM would never have answered)
    if arch == "arm":
        assert m.irq_entries == m.irq_exits
        flag, count = struct.unpack("<2I", m.uc.mem_read(0x2001_0000, 8))  # core-local block of core 0
        assert count == m.irq_entries and flag in (0, 1)


@pytest.mark.parametrize("scenario", ["errors", "odd"])
@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_bad_answers(arch: str, scenario: str) -> None:
    m = _run(arch, scenario, "boundary")
    assert m.uart.decode("ascii") == SCENARIOS[scenario][1].format(arch=arch)
    # the requests do not depend on the answers: seq keeps counting after an aborted exchange
    assert [p for _, p in m.captured] == [p for _, _, p in REQUESTS[arch]]


def test_both_cores_print_the_same_lines() -> None:
    ppc_text = _run("ppc", "ok", "sleep").uart.decode("ascii")
    arm_text = _run("arm", "ok", "sleep").uart.decode("ascii")
    assert ppc_text.replace("ppc", "ARCH") == arm_text.replace("arm", "ARCH")
    assert ppc_text.splitlines()[:2] == ["hello from ppc app core 0", "checksum 9220ad6b"]
    assert arm_text.splitlines()[:2] == ["hello from arm app core 0", "checksum 9220ad6b"]


# --------------------------------------------------------------------------------------------------
# single client calls, driven directly (Machine.call)

# SHA-256 over 64 x "a" + tail: one non-final message with the whole block, then the final one with the tail.
# The midstate after the block (hiLen 0, loLen 64 bytes, H0..H7) is wolfHSM's "sha256_after1blk" value; native words.
A64_MIDSTATE = {
    "ppc": h("df5bb81c e81e0626 fb45a894 4fd40f31 b25e6816 d6d499c1 ab904929 00635e66"),
    "arm": h("1cb85bdf 26061ee8 94a845fb 310fd44f 16685eb2 c199d4d6 294990ab 665e6300"),
}
A64_DIGEST = {  # SHA-256("a" * 64 + tail)
    b"": h("ffe054fe7ae0cb6dc65c3af9b61d5209 f439851db43d0ba5997337df154668eb"),
    b"abc": h("18917c887594f95a0a81701c589533ff 21c74b1fb567e4521272f37815a64275"),
}
# fmt: off
A64_REQUESTS = {  # (non-final, final) packets; format with the final's lastBlockLen (2 hex digits) and inBlock
    "ppc": (
        h("a501 0401 0001 0000") + h("0000 0006 0000 0000") + h("0000 0000 0000 0000") + SHA_IV["ppc"]
        + h("0000 0000 0000 0000") + b"a" * 64 + h("0000 0000"),
        "a501 0401 0002 0000 0000 0006 0000 0000 0000 0000 0000 0040" + A64_MIDSTATE["ppc"].hex()
        + "0000 0001 0000 00{n} {block} 0000 0000",
    ),
    "arm": (
        h("01a5 0104 0100 0000") + h("0600 0000 0000 0000") + h("0000 0000 0000 0000") + SHA_IV["arm"]
        + h("0000 0000 0000 0000") + b"a" * 64 + h("0000 0000"),
        "01a5 0104 0200 0000 0600 0000 0000 0000 0000 0000 4000 0000" + A64_MIDSTATE["arm"].hex()
        + "0100 0000 {n}00 0000 {block} 0000 0000",
    ),
}
A64_RESPONSES = {  # (non-final, final); format the final with the digest
    "ppc": (
        h("a501 0401 0001 0000") + h("0000 0006 0000 0000") + h("0000 0000 0000 0040") + A64_MIDSTATE["ppc"]
        + bytes(32) + h("0000 0000"),
        "a501 0401 0002 0000 0000 0006 0000 0000 0000 0000 0000 0000 {digest}" + "00" * 32 + "0000 0000",
    ),
    "arm": (
        h("01a5 0104 0100 0000") + h("0600 0000 0000 0000") + h("0000 0000 4000 0000") + A64_MIDSTATE["arm"]
        + bytes(32) + h("0000 0000"),
        "01a5 0104 0200 0000 0600 0000 0000 0000 0000 0000 0000 0000 {digest}" + "00" * 32 + "0000 0000",
    ),
}
# fmt: on
# What wolfHSM's v1.4.0 client (x86-64, little-endian) sent for 64 x "a" (tests/hsm/crypto/test_sym_sha2.py,
# captured): the same bytes as ours but for what that client leaves uninitialised: the non-final lastBlockLen,
# the pad, and the final inBlock (its stale buffer).
CAPTURED_A64 = (
    h(
        "06000000000000000000000000000000 67e6096a85ae67bb72f36e3c3af54fa57f520e518c68059babd9831f19cde05b"
        "00000000 04220420" + "61" * 64 + "4e1b0000"
    ),
    h(
        "06000000000000000000000040000000 1cb85bdf26061ee894a845fb310fd44f16685eb2c199d4d6294990ab665e6300"
        "01000000 00000000" + "61" * 64 + "4e1b0000"
    ),
)

# Addresses in the scratch area (Machine.scratch) for the arguments of a call
CH, KEY, IV_BUF, DIGEST_BUF, IN_BUF, OUT_BUF = 0x0, 0x80, 0xC0, 0xE0, 0x100, 0x4000


def _attached(arch: str, responses, timing: str = "boundary") -> Machine:
    m = Machine(BOARDS[arch], responses, timing)
    m.call("wh_attach", m.scratch + CH, 0)  # void
    assert m.hsm2htie == 1 and m.enable & LINE0
    return m


def _detach(m: Machine) -> None:
    m.call("wh_detach", m.scratch + CH)
    assert m.hsm2htie == 0 and not m.enable & LINE0
    assert not m.pending & m.enable


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("tail", [b"", b"abc"], ids=["64", "67"])
@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_sha256_block_then_final(arch: str, tail: bytes, timing: str) -> None:
    digest = A64_DIGEST[tail]
    first, final = A64_RESPONSES[arch]
    m = _attached(arch, [first, h(final.format(digest=digest.hex()))], timing)
    msg = b"a" * 64 + tail
    m.uc.mem_write(m.scratch + IN_BUF, msg)
    m.uc.mem_write(m.scratch + DIGEST_BUF, b"\xee" * 32)
    rc = m.call("wh_sha256", m.scratch + CH, m.scratch + IN_BUF, len(msg), m.scratch + DIGEST_BUF)
    assert rc == 0
    assert bytes(m.uc.mem_read(m.scratch + DIGEST_BUF, 32)) == digest
    req_first, req_final = A64_REQUESTS[arch]
    block = (tail + bytes(64 - len(tail))).hex()
    expected = [req_first, h(req_final.format(n=f"{len(tail):02x}", block=block))]
    assert [p.hex(" ") for _, p in m.captured] == [p.hex(" ") for p in expected]
    assert [len(p) for _, p in m.captured] == [8 + 8 + 116] * 2
    _detach(m)
    if arch == "arm" and not tail:
        for ours, theirs in zip(m.captured, CAPTURED_A64, strict=True):
            ours = ours[1][8:]
            assert len(ours) == len(theirs) == 124
            assert ours[:52] == theirs[:52]  # envelope, counters, midstate, isLastBlock
            assert ours[56:120] == (theirs[56:120] if ours[48] == 0 else bytes(64))  # inBlock


def crypto_responder(arch: str, rng_caps: tuple[int, ...] = ()) -> Callable[[bytes], bytes]:
    """A small v1.4.0 crypto server for RNG and AES-CBC (inline key), answering in the request's byte order.
    RNG answers the counter 0x81, 0x82, ... continued over the calls, at most rng_caps[i] bytes for the i-th."""
    e = BOARDS[arch].endian
    caps = list(rng_caps)
    counter = [0]

    def answer(packet: bytes) -> bytes:
        (kind,) = struct.unpack_from(e + "H", packet, 2)
        algo_type, sub_type = struct.unpack_from(e + "2I", packet, 8)
        assert sub_type == 0
        body = packet[16:]
        head = packet[:8] + struct.pack(e + "Ii", algo_type, 0)
        if (kind, algo_type) == (0x0404, 4):
            assert len(body) == 4
            (size,) = struct.unpack(e + "I", body)
            n = min(size, caps.pop(0)) if caps else size
            data = bytes((0x81 + counter[0] + i) & 0xFF for i in range(n))
            counter[0] += n
            return head + struct.pack(e + "I", n) + data
        if (kind, algo_type) == (0x0402, 2):
            enc, key_len, size, key_id, pad = struct.unpack_from(e + "3I2H", body)
            assert key_id == 0 and pad == 0 and len(body) == 16 + size + key_len + 16
            data, key, iv = body[16 : 16 + size], body[16 + size : -16], body[-16:]
            c = Cipher(algorithms.AES(key), modes.CBC(iv))
            op = c.encryptor() if enc else c.decryptor()
            return head + struct.pack(e + "I", size) + bytes(12) + op.update(data) + op.finalize()
        raise AssertionError(f"unexpected request {packet[:24].hex(' ')}")

    return answer


@pytest.mark.parametrize("first_answer", [4068, 4000])
@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_rng_asks_at_most_one_packet(arch: str, first_answer: int) -> None:
    # 5000 bytes: the first request asks 4068 = 4080 - 8 - 4 bytes (the most a 4088-byte response packet carries),
    # the next one the rest of what was not delivered.
    m = _attached(arch, crypto_responder(arch, rng_caps=(first_answer,)))
    assert m.call("wh_rng", m.scratch + CH, m.scratch + OUT_BUF, 5000) == 0
    assert bytes(m.uc.mem_read(m.scratch + OUT_BUF, 5000)) == bytes((0x81 + i) & 0xFF for i in range(5000))
    rest = 5000 - first_answer  # 932 or 1000
    expected = {
        "ppc": [
            h("a501 0404 0001 0000 0000 0004 0000 0000 0000 0fe4"),
            h("a501 0404 0002 0000 0000 0004 0000 0000") + struct.pack(">I", rest),
        ],
        "arm": [
            h("01a5 0404 0100 0000 0400 0000 0000 0000 e40f 0000"),
            h("01a5 0404 0200 0000 0400 0000 0000 0000") + struct.pack("<I", rest),
        ],
    }[arch]
    assert [p.hex(" ") for _, p in m.captured] == [p.hex(" ") for p in expected]
    assert rest in (0x3A4, 0x3E8)
    _detach(m)


AES_CHUNK = {16: 4016, 32: 4000}  # whole blocks per message: 4080 - 8 - 16 - keyLen - 16, rounded down to 16


@pytest.mark.parametrize("key_len", sorted(AES_CHUNK))
@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_aes_cbc_over_two_messages_chains_the_iv(arch: str, key_len: int) -> None:
    key = bytes(range(0x40, 0x40 + key_len))
    iv = h("f0e1d2c3b4a5968778695a4b3c2d1e0f")
    plain = bytes((7 * i + 3) & 0xFF for i in range(4096))
    c = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    cipher = c.update(plain) + c.finalize()
    m = _attached(arch, crypto_responder(arch))
    s = m.scratch
    m.uc.mem_write(s + KEY, key)
    m.uc.mem_write(s + IV_BUF, iv)
    m.uc.mem_write(s + IN_BUF, plain)
    rc = m.call("wh_aes_cbc", s + CH, 1, s + KEY, key_len, s + IV_BUF, s + IN_BUF, s + OUT_BUF, len(plain))
    assert rc == 0
    assert bytes(m.uc.mem_read(s + OUT_BUF, len(plain))) == cipher
    assert bytes(m.uc.mem_read(s + IV_BUF, 16)) == cipher[-16:]  # encrypt: the last output block
    # decrypt in place (in == out), from the original IV
    m.uc.mem_write(s + IV_BUF, iv)
    rc = m.call("wh_aes_cbc", s + CH, 0, s + KEY, key_len, s + IV_BUF, s + OUT_BUF, s + OUT_BUF, len(plain))
    assert rc == 0
    assert bytes(m.uc.mem_read(s + OUT_BUF, len(plain))) == plain
    assert bytes(m.uc.mem_read(s + IV_BUF, 16)) == cipher[-16:]  # decrypt: the last input block
    n = AES_CHUNK[key_len]
    kl = f"{key_len:02x}"

    def struct_hex(seq: int, enc: int, size: int) -> bytes:  # header, envelope, AesCbcRequest
        if arch == "ppc":
            return h(f"a501 0402 00{seq:02x} 0000 0000 0002 0000 0000 0000 000{enc} 0000 00{kl}") + struct.pack(
                ">I2H", size, 0, 0
            )
        return h(f"01a5 0204 {seq:02x}00 0000 0200 0000 0000 0000 0{enc}00 0000 {kl}00 0000") + struct.pack(
            "<I2H", size, 0, 0
        )

    expected = [
        struct_hex(1, 1, n) + plain[:n] + key + iv,
        struct_hex(2, 1, 4096 - n) + plain[n:] + key + cipher[n - 16 : n],  # the IV chained by the client
        struct_hex(3, 0, n) + cipher[:n] + key + iv,
        struct_hex(4, 0, 4096 - n) + cipher[n:] + key + cipher[n - 16 : n],
    ]
    assert [p[:24].hex(" ") for _, p in m.captured] == [p[:24].hex(" ") for p in expected]
    assert [p for _, p in m.captured] == expected
    assert len(m.captured[0][1]) == 4080  # the packet limit is 4088; the next block would not fit
    _detach(m)


@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_bad_arguments_send_nothing(arch: str) -> None:
    m = _attached(arch, crypto_responder(arch))
    s = m.scratch
    badargs = -2000
    assert m.call("wh_aes_cbc", s + CH, 1, s + KEY, 16, s + IV_BUF, s + IN_BUF, s + OUT_BUF, 20) == badargs
    assert m.call("wh_aes_cbc", s + CH, 1, s + KEY, 20, s + IV_BUF, s + IN_BUF, s + OUT_BUF, 32) == badargs
    assert m.call("wh_aes_cbc", s + CH, 1, 0, 16, s + IV_BUF, s + IN_BUF, s + OUT_BUF, 32) == badargs
    assert m.call("wh_sha256", s + CH, s + IN_BUF, 3, 0) == badargs
    assert m.call("wh_sha256", s + CH, 0, 3, s + DIGEST_BUF) == badargs
    assert m.call("wh_rng", s + CH, 0, 16) == badargs
    assert m.call("wh_rng", s + CH, s + OUT_BUF, 0) == 0  # nothing to ask for
    assert m.call("wh_aes_cbc", s + CH, 0, s + KEY, 16, s + IV_BUF, s + IN_BUF, s + OUT_BUF, 0) == 0
    assert m.captured == []
    _detach(m)
