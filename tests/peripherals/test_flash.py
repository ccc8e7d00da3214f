"""Flash controller (peripherals/flash.py) on real SoCs built from the board profiles.

The tests drive the controller's registers as the HSM bus master (`mmio_write`/`mmio_read` with
master "hsm": the HAL would do the same, but its calls block in the firmware's greenlet) and advance
virtual time with `soc.run_ns`, which applies the completion events. Reads of the flash go through
`soc.bus.read` as the HSM, which is the path where the controller's guard (busy sector, ECC) acts.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from boards.loader import load as load_board
from emulator.errors import BoardError
from emulator.hal import Hal
from emulator.soc import Soc
from peripherals.flash import (
    CMD_BLANK_CHECK,
    CMD_CLEAR_STATUS,
    CMD_ERASE_SECTOR,
    CMD_PROGRAM_PAGE,
    ST_BLANK,
    ST_BUSY,
    ST_DONE,
    ST_ECC_CORRECTED,
    ST_ECC_UNCORRECTABLE,
    ST_ERR_ALIGN,
    ST_ERR_ENDURANCE,
    ST_ERR_PROGRAM,
    ST_ERR_RANGE,
    ST_ERR_SEQUENCE,
    FlashBusyError,
    FlashController,
    FlashEccError,
    FlashError,
)

CMD, ADDR, STATUS, IRQEN, ERASE_COUNT, ECC_COUNT, ECC_ADDR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
MEM_BASE, MEM_SIZE, PAGE_SIZE, SECTOR_SIZE, DATA0 = 0x20, 0x24, 0x28, 0x2C, 0x40
HSM = frozenset({"hsm"})


def _quiet(source: str, text: str) -> None:
    pass


def make_soc(board: str = "aurix-tc3xx", **overrides) -> Soc:
    b = load_board(board)
    b.peripheral("hsm_flash").config.update(overrides)  # type: ignore[union-attr]
    return Soc(b, console=_quiet, params={"hsm": {"nvm": "ram"}})  # the HSM firmware keeps off the flash


class Drv:
    """A tiny register-level driver, as HSM firmware would write it."""

    def __init__(self, soc: Soc) -> None:
        self.soc = soc
        self.dev: FlashController = soc.devices["hsm_flash"]
        self.base = self.dev.mem.origin
        self.page = self.dev.page_size
        self.sector = self.dev.sector_size
        self.order = self.dev.byte_order

    def w(self, off: int, value: int) -> None:
        self.dev.mmio_write(off, 4, value, "hsm")

    def r(self, off: int) -> int:
        return self.dev.mmio_read(off, 4, "hsm")

    def status(self) -> int:
        return self.r(STATUS)

    def program(self, addr: int, data: bytes) -> None:
        assert len(data) == self.page
        for i in range(0, self.page, 4):
            self.w(DATA0 + i, int.from_bytes(data[i : i + 4], self.order))
        self.w(ADDR, addr)
        self.w(CMD, CMD_PROGRAM_PAGE)

    def erase(self, addr: int) -> None:
        self.w(ADDR, addr)
        self.w(CMD, CMD_ERASE_SECTOR)

    def wait(self) -> int:
        """Run until the operation in progress is done; return STATUS."""
        if self.status() & ST_BUSY:
            remaining = self.dev.op["end"] - self.soc.now
            self.soc.run_for(remaining)
        st = self.status()
        assert st & ST_DONE and not st & ST_BUSY
        return st

    def read(self, addr: int, size: int) -> bytes:
        return self.soc.bus.read("hsm", HSM, addr, size)[0]

    def mem(self, addr: int, size: int) -> bytes:
        return self.dev.mem.read(addr, size)


@pytest.fixture
def aurix() -> Drv:
    return Drv(make_soc("aurix-tc3xx"))


def test_register_block_describes_the_geometry(aurix: Drv) -> None:
    d = aurix
    assert d.r(MEM_BASE) == 0xAFC0_0000 and d.r(MEM_SIZE) == 128 * 1024
    assert d.r(PAGE_SIZE) == 8 and d.r(SECTOR_SIZE) == 4096
    names = [r.name for r in d.dev.regs.map.regs]
    assert [n for n in names if n.startswith("DATA")] == ["DATA0", "DATA1"]  # 8-byte page: two words
    assert d.r(DATA0) == 0xFFFF_FFFF  # the page buffer resets to the erased pattern
    assert d.status() == 0
    # every board carries a controller for its HSM data flash
    for board, sectors in (("spc58nn", 8), ("cortex-m-dual", 32)):
        dev = make_soc(board).devices["hsm_flash"]
        assert dev.sectors == sectors and dev.mem.name == "hsm_dflash"


def test_program_follows_nor_semantics_and_erase_sets_erased_value(aurix: Drv) -> None:
    d = aurix
    a = d.base + 0x1000
    assert d.read(a, 16) == b"\xff" * 16  # a fresh image is erased
    d.program(a, bytes.fromhex("0123456789abcdef"))
    d.wait()
    assert d.read(a, 8) == bytes.fromhex("0123456789abcdef")
    assert d.read(a + 8, 8) == b"\xff" * 8  # the next page is untouched
    # DATA words carry bytes in the board's byte order: a 32-bit read gives the word back
    assert int.from_bytes(d.read(a, 4), "little") == 0x6745_2301
    d.erase(a)
    assert d.wait() & ST_DONE
    assert d.read(a, 4096) == b"\xff" * 4096
    assert d.r(ERASE_COUNT) == 1  # ADDR still points at the sector


def test_big_endian_board_page_buffer() -> None:
    d = Drv(make_soc("spc58nn"))
    d.w(DATA0, 0x0102_0304)
    d.w(DATA0 + 4, 0x0506_0708)
    d.w(ADDR, d.base)
    d.w(CMD, CMD_PROGRAM_PAGE)
    d.wait()
    assert d.mem(d.base, 8) == bytes(range(1, 9))


def test_double_program_error_refuses_and_leaves_the_page() -> None:
    d = Drv(make_soc("aurix-tc3xx"))  # double_program = "error" (hw spec 1.5)
    a = d.base + 0x40
    d.program(a, bytes.fromhex("f0f0f0f0ffffffff"))
    d.wait()
    t0 = d.soc.now
    d.program(a, bytes.fromhex("0f0f0f0f00000000"))
    st = d.status()
    assert st & ST_ERR_PROGRAM and st & ST_DONE and not st & ST_BUSY  # refused at once
    assert d.soc.now == t0
    assert d.mem(a, 8) == bytes.fromhex("f0f0f0f0ffffffff")
    # a page programmed with all-erased data is still blank, so it may be programmed
    b = d.base + 0x48
    d.program(b, b"\xff" * 8)
    d.wait()
    d.program(b, b"\x5a" * 8)
    assert not d.wait() & ST_ERR_PROGRAM
    assert d.mem(b, 8) == b"\x5a" * 8


def test_double_program_and_clears_more_bits() -> None:
    d = Drv(make_soc("cortex-m-dual"))  # double_program = "and"
    a = d.base + 0x800
    first, second = bytes.fromhex("f0f0f0f0ffff00ff"), bytes.fromhex("3c3c3c3c0f0fffff")
    d.program(a, first)
    d.wait()
    d.program(a, second)
    assert not d.wait() & ST_ERR_PROGRAM
    assert d.mem(a, 8) == bytes(x & y for x, y in zip(first, second))
    # a program can never set a bit again
    d.program(a, b"\xff" * 8)
    d.wait()
    assert d.mem(a, 8) == bytes.fromhex("303030300f0f00ff")


def test_erased_value_zero_programs_by_setting_bits() -> None:
    b = load_board("cortex-m-dual")
    next(m for m in b.memories if m.name == "hsm_dflash").fill = 0x00
    b.peripheral("hsm_flash").config["erased_value"] = 0  # type: ignore[union-attr]
    d = Drv(Soc(b, console=_quiet))
    a = d.base
    d.program(a, bytes.fromhex("0f00000000000000"))
    d.wait()
    d.program(a, bytes.fromhex("f000000000000001"))  # "and" mode: bits move away from 0 only
    d.wait()
    assert d.mem(a, 8) == bytes.fromhex("ff00000000000001")
    d.erase(a)
    d.wait()
    assert d.mem(a, 2048) == bytes(2048)


@pytest.mark.parametrize(
    "cmd, offset, flag",
    [
        (CMD_PROGRAM_PAGE, 4, ST_ERR_ALIGN),  # not page aligned
        (CMD_ERASE_SECTOR, 8, ST_ERR_ALIGN),  # page aligned, not sector aligned
        (CMD_BLANK_CHECK, 3, ST_ERR_ALIGN),
        (CMD_PROGRAM_PAGE, 128 * 1024, ST_ERR_RANGE),  # just past the end
        (CMD_ERASE_SECTOR, -4096, ST_ERR_RANGE),  # just before the start
        (0x77, 0, ST_ERR_SEQUENCE),  # unknown command
    ],
)
def test_bad_commands_are_refused_at_once(aurix: Drv, cmd: int, offset: int, flag: int) -> None:
    d = aurix
    before = d.mem(d.base, 8192)
    d.w(ADDR, d.base + offset)
    d.w(CMD, cmd)
    assert d.status() == ST_DONE | flag
    assert not d.dev.busy and d.mem(d.base, 8192) == before
    assert d.dev.wear() == [0] * 32
    if flag == ST_ERR_RANGE:
        assert d.r(ERASE_COUNT) == 0xFFFF_FFFF


def test_command_while_busy_is_a_sequence_error(aurix: Drv) -> None:
    d = aurix
    d.erase(d.base)
    d.program(d.base + 0x2000, b"\x00" * 8)  # a second command while the erase runs
    st = d.status()
    assert st & ST_BUSY and st & ST_ERR_SEQUENCE and not st & ST_DONE
    st = d.wait()
    assert st & ST_ERR_SEQUENCE  # still visible when the running erase is done
    assert d.mem(d.base + 0x2000, 8) == b"\xff" * 8  # the refused program did nothing
    d.w(STATUS, ST_ERR_SEQUENCE)  # write 1 to clear
    assert d.status() == ST_DONE
    d.w(CMD, CMD_CLEAR_STATUS)
    assert d.status() == 0


def test_blank_check(aurix: Drv) -> None:
    d = aurix
    d.w(ADDR, d.base + 0x10)
    d.w(CMD, CMD_BLANK_CHECK)
    assert d.status() == ST_DONE | ST_BLANK
    d.program(d.base + 0x10, b"\xfe" + b"\xff" * 7)
    d.wait()
    d.w(CMD, CMD_BLANK_CHECK)
    assert d.status() == ST_DONE


def test_timing_busy_until_the_durations_pass_then_done_and_irq(aurix: Drv) -> None:
    d = aurix
    soc = d.soc
    line = d.dev.irq_line
    ns = soc.timebase.ns
    d.w(IRQEN, 1)
    d.program(d.base, b"\x00" * 8)
    t0 = soc.now
    assert d.status() == ST_BUSY
    soc.run_ns(d.dev.program_ns - 1)
    assert d.status() == ST_BUSY and d.mem(d.base, 8) == b"\xff" * 8  # not visible before completion
    assert not soc.kernel.intc.pending("hsm") >> line & 1
    soc.run_ns(1)
    assert soc.now - t0 == ns(50_000)  # program_ns of the profile
    assert d.status() == ST_DONE and d.mem(d.base, 8) == b"\x00" * 8
    assert soc.kernel.intc.pending("hsm") >> line & 1
    soc.kernel.intc.clear_pending("hsm", line)
    d.erase(d.base)
    soc.run_ns(d.dev.erase_ns - 1)
    assert d.status() & ST_BUSY
    soc.run_ns(1)
    assert d.status() == ST_DONE and soc.kernel.intc.pending("hsm") >> line & 1
    # without IRQEN: DONE, but no interrupt
    soc.kernel.intc.clear_pending("hsm", line)
    d.w(IRQEN, 0)
    d.program(d.base, b"\x00" * 8)
    d.wait()
    soc.run_ns(10)
    assert not soc.kernel.intc.pending("hsm") >> line & 1


def test_timing_follows_the_profile() -> None:
    d = Drv(make_soc("aurix-tc3xx", program_ns=1_000, erase_ns=7_000))
    d.erase(d.base)
    t0 = d.soc.now
    d.wait()
    assert d.soc.now - t0 == d.soc.timebase.ns(7_000)


def test_busy_read_stalls_until_completion_and_sees_the_result(aurix: Drv) -> None:
    d = aurix
    soc = d.soc
    d.program(d.base + 0x18, bytes.fromhex("0011223344556677"))
    soc.run_ns(20_000)
    remaining = d.dev.op["end"] - soc.now
    assert remaining == soc.timebase.ns(30_000)
    data, ws = soc.bus.read("hsm", HSM, d.base + 0x100, 4)  # same sector: stalls
    assert ws == remaining + d.dev.mem.wait_states
    # the reader waits until completion, so it sees the programmed page
    data, _ = soc.bus.read("hsm", HSM, d.base + 0x18, 8)
    assert data == bytes.fromhex("0011223344556677")
    # another sector reads without stall
    _, ws = soc.bus.read("hsm", HSM, d.base + 0x1000, 4)
    assert ws == d.dev.mem.wait_states
    assert d.status() & ST_BUSY  # still busy in virtual time until the completion event
    d.wait()
    _, ws = soc.bus.read("hsm", HSM, d.base + 0x100, 4)
    assert ws == d.dev.mem.wait_states


def test_busy_read_fails_where_the_profile_says_so() -> None:
    d = Drv(make_soc("spc58nn"))  # busy_read = "fail"
    soc = d.soc
    d.erase(d.base + 0x1000)
    with pytest.raises(FlashBusyError) as e:
        soc.bus.read("hsm", HSM, d.base + 0x1FF8, 8)
    assert isinstance(e.value, Hal.AccessError)  # firmware catches hal.AccessError
    assert "busy" in str(e.value)
    assert soc.bus.read("hsm", HSM, d.base, 8)[0] == b"\xff" * 8  # other sectors are readable
    d.wait()
    assert soc.bus.read("hsm", HSM, d.base + 0x1FF8, 8)[0] == b"\xff" * 8


def test_erase_counters_and_endurance() -> None:
    d = Drv(make_soc("aurix-tc3xx", endurance=3, erase_ns=1_000))
    s1 = d.base + 0x3000
    for n in range(1, 4):
        d.program(s1, b"\x00" * 8)
        d.wait()
        d.erase(s1)
        assert not d.wait() & ST_ERR_ENDURANCE
        assert d.r(ERASE_COUNT) == n
    d.program(s1, b"\x00" * 8)
    d.wait()
    d.erase(s1)
    st = d.status()
    assert st == ST_DONE | ST_ERR_ENDURANCE and not d.dev.busy  # refused at once
    assert d.mem(s1, 8) == b"\x00" * 8  # a worn-out sector keeps its content
    assert d.r(ERASE_COUNT) == 3
    wear = d.dev.wear()
    assert wear[3] == 3 and sum(wear) == 3 and d.dev.erase_count(d.dev.sector_of(s1)) == 3
    with pytest.raises(FlashError) as e:
        d.dev.erase_now(s1)
    assert e.value.status == ST_ERR_ENDURANCE
    # counters are wear: a power cut and reset keep them
    d.soc.power_cut(seed=1)
    assert d.dev.wear()[3] == 3
    d.w(ADDR, s1)
    assert d.r(ERASE_COUNT) == 3


def test_ecc_corrects_single_and_detects_double_bit_flips(aurix: Drv) -> None:
    d = aurix
    a = d.base + 0x2000
    d.program(a, bytes.fromhex("a5a5a5a5a5a5a5a5"))
    d.wait()
    d.dev.inject_bitflip(a + 3, 5)
    assert d.dev.raw(a, 8) == bytes.fromhex("a5a5a585a5a5a5a5")  # the cells hold the flip
    assert d.read(a, 8) == bytes.fromhex("a5a5a5a5a5a5a5a5")  # the read is corrected
    st = d.status()
    assert st & ST_ECC_CORRECTED and not st & ST_ECC_UNCORRECTABLE
    assert d.r(ECC_COUNT) == 1 and d.r(ECC_ADDR) == a
    d.read(a + 4, 4)
    assert d.r(ECC_COUNT) == 2  # every read of the word counts
    d.read(a + 8, 8)
    assert d.r(ECC_COUNT) == 2  # the next word is clean
    d.w(STATUS, ST_ECC_CORRECTED)
    assert not d.status() & ST_ECC_CORRECTED
    # a second flip in the same 8-byte word: detected, the read fails
    d.dev.inject_bitflip(a + 6, 0)
    assert d.dev.ecc_errors() == {a: 2}
    with pytest.raises(FlashEccError) as e:
        d.read(a, 2)  # any byte of the word
    assert isinstance(e.value, Hal.AccessError)
    assert d.status() & ST_ECC_UNCORRECTABLE and d.r(ECC_ADDR) == a
    # flipping the same bit back leaves one flip: correctable again
    d.dev.inject_bitflip(a + 6, 0)
    assert d.read(a, 8) == bytes.fromhex("a5a5a5a5a5a5a5a5")
    # an erase renews the cells
    d.dev.inject_bitflip(a + 1, 1)
    d.erase(a)
    d.wait()
    assert d.dev.ecc_errors() == {}
    assert d.read(a, 8) == b"\xff" * 8


def test_without_ecc_a_flip_corrupts_the_data_silently() -> None:
    d = Drv(make_soc("cortex-m-dual"))  # ecc = "none"
    d.dev.inject_bitflip(d.base + 5, 7)
    assert d.read(d.base, 8) == b"\xff" * 5 + b"\x7f" + b"\xff" * 2
    assert d.status() == 0 and d.dev.ecc_errors() == {}


def _torn_program(seed: int) -> tuple[bytes, bytes, FlashController]:
    d = Drv(make_soc("aurix-tc3xx"))
    a = d.base + 0x4000
    before = d.mem(a, 8)
    d.program(a, bytes.fromhex("0000000000000000"))
    d.soc.run_ns(25_000)  # half of program_ns
    d.soc.power_cut(seed=seed)
    return before, d.mem(a, 8), d.dev


def test_power_cut_during_program_tears_the_page_deterministically() -> None:
    before, torn, dev = _torn_program(seed=42)
    after = b"\x00" * 8
    assert torn != before and torn != after
    assert all(t & ~b == 0 for t, b in zip(torn, before))  # only bits the program was clearing changed
    bits = sum(bin(x).count("1") for x in torn)
    assert 8 < bits < 56  # about half of the 64 bits made it at half time
    assert not dev.busy and dev.regs.get("STATUS") == 0  # reset followed
    assert _torn_program(seed=42)[1] == torn
    assert _torn_program(seed=43)[1] != torn


def test_stale_completion_does_not_apply_after_a_cut() -> None:
    d = Drv(make_soc("aurix-tc3xx"))
    d.w(IRQEN, 1)
    d.program(d.base, b"\x00" * 8)
    d.soc.run_ns(10_000)
    d.dev.power_cut(random.Random(5))  # the device alone: its completion event stays queued
    torn = d.mem(d.base, 8)
    d.soc.run_ns(100_000)
    assert d.mem(d.base, 8) == torn and not d.status() & ST_DONE
    assert not d.soc.kernel.intc.pending("hsm") >> d.dev.irq_line & 1


def _torn_erase(seed: int, at_ns: int = 25_000_000) -> tuple[bytes, Drv]:
    d = Drv(make_soc("aurix-tc3xx"))
    s = d.base + 0x8000
    for off in range(0, d.sector, 8):  # fill the sector with a pattern that has zeros in every word
        d.dev.program_now(s + off, bytes([off >> 3 & 0xFF, 0x00, 0x5A, 0xA5, 0x0F, 0xF0, 0x12, 0x34]))
    d.erase(s)
    d.soc.run_ns(at_ns)
    d.soc.power_cut(seed=seed)
    return d.mem(s, d.sector), d


def test_power_cut_during_erase_leaves_a_partly_erased_sector() -> None:
    torn, d = _torn_erase(seed=9)
    s = d.base + 0x8000
    pattern = b"".join(bytes([i & 0xFF, 0x00, 0x5A, 0xA5, 0x0F, 0xF0, 0x12, 0x34]) for i in range(512))
    assert torn != pattern and torn != b"\xff" * 4096
    words = [torn[i : i + 8] for i in range(0, 4096, 8)]
    erased = sum(w == b"\xff" * 8 for w in words)
    unchanged = sum(w == pattern[i * 8 : i * 8 + 8] for i, w in enumerate(words))
    partial = len(words) - erased - unchanged
    assert erased > 100 and unchanged > 100 and partial > 10
    # an erase only sets bits
    assert all(t & p == p for t, p in zip(torn, pattern))
    assert d.dev.wear()[8] == 1  # the torn erase counts
    assert d.mem(s + 4096, 8) == b"\xff" * 8  # the next sector is untouched
    assert _torn_erase(seed=9)[0] == torn
    assert _torn_erase(seed=10)[0] != torn
    # cut right at the start: nothing erased yet; the sector is whole again after a new erase
    early, d2 = _torn_erase(seed=9, at_ns=0)
    assert early == pattern
    d2.erase(s)
    d2.wait()
    assert d2.mem(s, 4096) == b"\xff" * 4096


def test_power_cut_after_a_stalled_read_still_tears() -> None:
    d = Drv(make_soc("aurix-tc3xx"))
    d.program(d.base, b"\x00" * 8)
    d.soc.run_ns(25_000)
    assert d.read(d.base, 8) == b"\x00" * 8  # a stalled read saw the result early
    d.soc.power_cut(seed=42)
    assert d.mem(d.base, 8) not in (b"\x00" * 8, b"\xff" * 8)


def test_snapshot_restore_keeps_the_operation_and_the_wear() -> None:
    d = Drv(make_soc("aurix-tc3xx"))
    soc = d.soc
    soc.run_ns(10_000)
    d.erase(d.base + 0x1000)
    d.wait()
    d.dev.inject_bitflip(d.base + 0x1000, 0)
    d.program(d.base + 0x1000, bytes.fromhex("1122334455667788"))
    soc.run_ns(10_000)
    snap = soc.snapshot()
    state = (d.status(), d.dev.wear(), d.dev.ecc_errors(), dict(d.dev.op))
    soc.run_ns(100_000)
    assert d.status() == ST_DONE
    d.erase(d.base + 0x1000)
    d.wait()
    assert d.dev.wear()[1] == 2 and d.dev.ecc_errors() == {}
    soc.restore(snap)
    assert (d.status(), d.dev.wear(), d.dev.ecc_errors(), dict(d.dev.op)) == state
    assert d.mem(d.base + 0x1000, 8) == b"\xff" * 8  # flash is restored with the snapshot
    d.wait()  # the restored completion event applies the program
    assert d.mem(d.base + 0x1000, 8) == bytes.fromhex("1122334455667788")
    assert d.dev.wear()[1] == 1
    # a snapshot restored after a cut brings the operation back
    soc.restore(snap)
    soc.power_cut(seed=3)
    soc.restore(snap)
    assert d.dev.busy
    d.wait()
    assert d.mem(d.base + 0x1000, 8) == bytes.fromhex("1122334455667788")


def test_host_side_helpers_follow_the_same_rules(aurix: Drv) -> None:
    dev = aurix.dev
    a = aurix.base + 0x100
    dev.program_now(a, b"\x0f" * 8)
    with pytest.raises(FlashError) as e:
        dev.program_now(a, b"\x00" * 8)
    assert e.value.status == ST_ERR_PROGRAM
    with pytest.raises(FlashError):
        dev.program_now(a + 4, b"\x00" * 8)
    dev.erase_now(a - 0x100)
    assert aurix.mem(a, 8) == b"\xff" * 8 and dev.wear()[0] == 1
    dev.set_wear([7] * 32)
    assert dev.wear() == [7] * 32
    assert dev.geometry()["sectors"] == 32


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("page_size", 12, "page_size"),
        ("sector_size", 4100, "sector_size"),
        ("double_program", "or", "double_program"),
        ("busy_read", "retry", "busy_read"),
        ("ecc", "yes", "ecc"),
        ("erased_value", 0, "fill"),
        ("memory", "lmu", "not flash"),
    ],
)
def test_bad_profile_values_name_the_peripheral(key: str, value: object, message: str) -> None:
    with pytest.raises(BoardError) as e:
        make_soc("aurix-tc3xx", **{key: value})
    assert "hsm_flash" in str(e.value) and message in str(e.value)


def test_sixteen_byte_pages() -> None:
    d = Drv(make_soc("cortex-m-dual", page_size=16))
    assert [r.name for r in d.dev.regs.map.regs if r.name.startswith("DATA")] == [f"DATA{i}" for i in range(4)]
    d.program(d.base + 16, bytes(range(16)))
    d.wait()
    assert d.mem(d.base + 16, 16) == bytes(range(16))
    d.program(d.base + 8, bytes(16))
    assert d.status() & ST_ERR_ALIGN


def test_flash_is_not_writable_on_the_bus(aurix: Drv) -> None:
    with pytest.raises(Hal.AccessError):
        aurix.soc.bus.write("hsm", HSM, aurix.base, b"\x00")
    assert np.all(aurix.dev.mem.array[:16] == 0xFF)


class FlashFirmware:
    """HSM firmware that drives the controller through its HAL, as the NVM store will."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int, object]] = []

    def boot(self, hal) -> None:
        p = hal.peripheral("hsm_flash")
        base, line = p["base"], p["irq_line"]
        mem = hal.read32(base + MEM_BASE)
        order = "big" if hal.big_endian else "little"
        hal.write32(base + IRQEN, 1)
        hal.write32(base + ADDR, mem)
        hal.write32(base + CMD, CMD_ERASE_SECTOR)
        hal.wait_irq(1 << line)
        hal.ack_irq(line)
        self.log.append(("erased", hal.now(), hal.read32(base + STATUS)))
        page = bytes.fromhex("c0ffee00deadbeef")
        for i in range(0, 8, 4):
            hal.write32(base + DATA0 + i, int.from_bytes(page[i : i + 4], order))
        hal.write32(base + CMD, CMD_PROGRAM_PAGE)
        self.log.append(("programming", hal.now(), hal.read32(base + STATUS)))
        while hal.read32(base + STATUS) & ST_BUSY:  # polling, 100 cycles a round
            hal.spend(100)
        data = hal.read(mem, 8)
        self.log.append(("programmed", hal.now(), data))
        hal.write32(base + DATA0, 0)
        hal.write32(base + DATA0 + 4, 0)
        hal.write32(base + ADDR, mem + 8)
        hal.write32(base + CMD, CMD_PROGRAM_PAGE)
        data = hal.read(mem + 8, 8)
        self.log.append(("stalled read", hal.now(), data))
        try:
            hal.read(mem + 0x2000, 8)
        except hal.AccessError as e:  # not expected: another sector
            self.log.append(("error", hal.now(), str(e)))

    def serve(self, hal) -> None:
        while True:
            hal.wait_irq(0)


def _run_flash_firmware() -> tuple[dict, object]:
    soc = make_soc("aurix-tc3xx", program_ns=40_000, erase_ns=1_000_000)
    hsm = soc.core("hsm")
    fw = FlashFirmware()
    fw.hal = hsm.hal
    hsm.firmware = fw
    soc.run_ns(3_000_000)
    return {k: (t, v) for k, t, v in fw.log}, soc.timebase.ns


def test_hsm_firmware_drives_the_controller_through_the_hal() -> None:
    log, ns = _run_flash_firmware()
    assert "error" not in log
    t_erased, st = log["erased"]
    assert st == ST_DONE and t_erased >= ns(1_000_000)
    t_prog, st = log["programming"]
    assert st == ST_BUSY
    t_done, data = log["programmed"]
    assert data == bytes.fromhex("c0ffee00deadbeef")
    assert ns(40_000) <= t_done - t_prog <= ns(40_000) + ns(2_000)  # polled to within a round or two
    t_read, data = log["stalled read"]
    assert data == b"\x00" * 8  # the stalled read returns the programmed page
    assert t_read - t_done >= ns(40_000)  # the reader waited for the program to end


def test_stalled_hal_read_costs_the_remaining_busy_time() -> None:
    log, ns = _run_flash_firmware()
    t_done, _ = log["programmed"]
    t_read, _ = log["stalled read"]
    assert t_read - t_done <= ns(40_000) + ns(1_000)


def test_programmed_data_persists_in_a_flash_image_file(tmp_path) -> None:
    image = tmp_path / "hsm_dflash.bin"
    soc = Soc(load_board("spc58nn"), console=_quiet, memory_files={"hsm_dflash": image})
    d = Drv(soc)
    assert image.read_bytes() == b"\xff" * 32 * 1024  # a fresh image is created erased
    d.program(d.base + 0x7FF8, bytes.fromhex("0102030405060708"))
    d.wait()
    soc.close()
    again = Drv(Soc(load_board("spc58nn"), console=_quiet, memory_files={"hsm_dflash": image}))
    assert again.read(again.base + 0x7FF8, 8) == bytes.fromhex("0102030405060708")
    assert image.read_bytes()[-8:] == bytes.fromhex("0102030405060708")
