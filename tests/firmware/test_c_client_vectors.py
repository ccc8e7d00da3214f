"""Byte-level wire vectors of the C wolfHSM client in the app demo firmware (firmware/app/common/wh_mbox_client.c).

Every expected byte below is written by hand from the specs (shared/spec/wolfhsm-wire-core.md 1.3, 2, 3, 4.3;
wolfhsm-v1.4.0-diff.md 3, 5), not produced by the code under test: the comm header {magic 0xA501, kind, seq, aux 0}
and every payload integer in the core's own byte order (PPC big-endian: A5 01 ..., Cortex-M little-endian: 01 A5 ...),
the request CSR {notify, len, ack 0, wait 0} in the same order.

Each committed ELF runs on bare Unicorn as core 0 (no emulator): `mmio_map` callbacks play UART, INTC and mailbox,
and a tiny in-test HSM takes the request packet out of channel 0 when the doorbell is rung and answers with a
hand-written response packet, the way the server answers (response data, then the response CSR with the request's
notify, then HSM2HTF bit 0, which pends INTC line 0 when HSM2HTIE bit 0 is set). The answer arrives at different
moments (inside the doorbell write, at the next quantum boundary, only once the core sleeps, or data first and the
reply flag a quantum later), so the firmware's wait loops are exercised on every interleaving that the emulator can
produce. Cortex-M exceptions are entered the way the emulator does it: at a quantum boundary (or when the core wakes)
if PRIMASK is clear and an enabled line is pending.
"""

from __future__ import annotations

import struct
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
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

# Requests, in the order the demo sends them: (name, request CSR, request packet)
REQUESTS = {
    "ppc": [
        ("INIT", h("0001 000c 0000 0000"), h("a501 0101 0001 0000") + h("0000 0001")),
        ("ECHO", h("0002 0021 0000 0000"), h("a501 0105 0002 0000") + b"hello hsm from ppc core 0"),
        ("NVM ADD", h("0003 0038 0000 0000"), h("a501 0204 0003 0000") + h("0020 ffff 0000 0010") + LABEL + DATA),
        ("NVM READ", h("0004 000e 0000 0000"), h("a501 0208 0004 0000") + h("0020 0000 0010")),
        ("NVM DESTROY", h("0005 0030 0000 0000"), h("a501 0207 0005 0000") + h("0001 0020") + LIST_REST),
        ("CLOSE", h("0006 0008 0000 0000"), h("a501 0103 0006 0000")),
    ],
    "arm": [
        ("INIT", h("0100 0c00 0000 0000"), h("01a5 0101 0100 0000") + h("0100 0000")),
        ("ECHO", h("0200 2100 0000 0000"), h("01a5 0501 0200 0000") + b"hello hsm from arm core 0"),
        ("NVM ADD", h("0300 3800 0000 0000"), h("01a5 0402 0300 0000") + h("2000 ffff 0000 1000") + LABEL + DATA),
        ("NVM READ", h("0400 0e00 0000 0000"), h("01a5 0802 0400 0000") + h("2000 0000 1000")),
        ("NVM DESTROY", h("0500 3000 0000 0000"), h("01a5 0702 0500 0000") + h("0100 2000") + LIST_REST),
        ("CLOSE", h("0600 0800 0000 0000"), h("01a5 0301 0600 0000")),
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
        h("a501 0103 0006 0000"),  # empty
    ],
    "arm": [
        h("01a5 0101 0100 0000") + h("0100 0000 3900 0000"),
        h("01a5 0501 0200 0000") + b"hello hsm from arm core 0",
        h("01a5 0402 0300 0000") + h("0000 0000"),
        h("01a5 0802 0400 0000") + h("0000 0000") + DATA,
        h("01a5 0702 0500 0000") + h("0000 0000"),
        h("01a5 0301 0600 0000"),
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
        h("a501 0103 0006 0000"),
    ],
    "arm": [
        h("01a5 0101 0200 0000") + h("0100 0000 3900 0000"),
        h("a501 0501 0200 0000") + b"hello hsm from arm core 0",
        h("01a5 0402 0300 0000") + h("c7f7 ffff"),
        h("01a5 0802 0400 0000") + h("c8f7 ffff"),
        h("01a5 0702 0500 0000") + h("c8f7 ffff"),
        h("01a5 0301 0600 0000"),
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
    "hsm close: rc 0\n"
)

RESPONSES_ODD = {
    "ppc": [
        h("a501 0101 0001 0000"),  # empty INIT response (the server refused the id) -> ABORTED
        h("a501 0105 0002 0000") + b"hello",  # a shorter echo is accepted
        h("a501 0204 0003 0000") + h("0000 0000"),
        h("a501 0208 0004 0000") + h("0000 0000") + DATA[:12],  # 12 of 16 bytes
        h("a501 0207 0005 0000") + h("0000 0000 0000 0000"),  # 8 bytes instead of the 4-byte rc -> ABORTED
        h("a501 0104 0006 0000"),  # CLOSE answered with kind INFO -> ABORTED
    ],
    "arm": [
        h("01a5 0101 0100 0000"),
        h("01a5 0501 0200 0000") + b"hello",
        h("01a5 0402 0300 0000") + h("0000 0000"),
        h("01a5 0802 0400 0000") + h("0000 0000") + DATA[:12],
        h("01a5 0702 0500 0000") + h("0000 0000 0000 0000"),
        h("01a5 0401 0600 0000"),
    ],
}
CONSOLE_ODD = (
    "hello from {arch} app core 0\n"
    "checksum 9220ad6b\n"
    "hsm comm init: rc -2002\n"
    "hsm echo: hello\n"
    "hsm nvm add 0x0020: rc 0\n"
    "hsm nvm read 0x0020: 12 bytes mismatch\n"
    "hsm nvm destroy 0x0020: rc -2002\n"
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
    responses: list[bytes]
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
                packet = self.responses[i]
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

    def run(self) -> None:
        uc, thumb = self.uc, self.board.arch == "arm"
        if thumb:
            sp, pc = struct.unpack("<2I", uc.mem_read(0, 8))
            uc.reg_write(arm.UC_ARM_REG_SP, sp)
            pc &= ~1
        else:
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
                assert not self.pending & self.enable, "idle with an enabled line pending: it would spin"
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
    # its notify counts 1..6, and each ok response echoes its request's header.
    for arch, endian in (("ppc", ">"), ("arm", "<")):
        for i, (_name, csr, packet) in enumerate(REQUESTS[arch]):
            assert struct.unpack(endian + "4H", csr) == (i + 1, len(packet), 0, 0)
            assert RESPONSES_OK[arch][i][:8] == packet[:8]
    assert [len(p) for _, _, p in REQUESTS["ppc"]] == [12, 33, 56, 14, 48, 8]


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
    assert m.doorbells == [1] * 6  # HT2HSMF = 1 << core id, once per request
    # attach zeroed both blocks: the request block is zero behind the longest packet (the ADD, 56 bytes)
    assert bytes(m.uc.mem_read(m.channel + 8 + 56, 0x1000 - 8 - 56)) == bytes(0x1000 - 8 - 56)
    assert bytes(m.uc.mem_read(m.channel + 0x1000 + 8 + 40, 0x1000 - 8 - 40)) == bytes(0x1000 - 8 - 40)
    # detached at the end: reply interrupt masked at the mailbox and the INTC, the spinlock released
    assert m.hsm2htie == 0 and not m.enable & LINE0
    assert bytes(m.uc.mem_read(m.lock_addr, 4)) == bytes(4)
    if timing != "split":
        assert m.hsm2htf == 0 and m.pending == 0  # every reply acknowledged
    if timing == "sleep":
        assert m.sleeps == 6  # it waited for each answer asleep (else the HSM would never have answered)
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
