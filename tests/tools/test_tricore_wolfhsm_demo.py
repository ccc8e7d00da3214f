"""The TriCore demo firmware's wolfHSM client: embedded request packets and a run against a responder.

Everything expected here is written by hand from the wolfHSM wire spec (core spec §1.3 transport,
§2 comm header, §3 COMM, §4.3/4.4 NVM): the request vectors are literal hex, and the responder
below packs responses with ``struct``.  Nothing here uses ``firmware/wire``, so the test checks the
codec's output as well as the firmware.

The board is modelled in bare Unicorn: UART, INTC (CORE_ID/PENDING/ENABLE) and the HSM bridge
registers as ``mmio_map`` callbacks, the LMU channel RAM as plain memory.  A core that reaches
``wait`` is stopped there (Unicorn cannot execute it) and resumed after it once an enabled line is
pending, which is what the emulator does.
"""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

unicorn = pytest.importorskip("unicorn")
capstone = pytest.importorskip("capstone")
from elftools.elf.elffile import ELFFile  # noqa: E402
from unicorn import tricore_const as tc  # noqa: E402

ELF = ROOT / "firmware" / "app" / "prebuilt" / "tricore_demo.elf"

UART, INTC, MBOX = 0xF000_0000, 0xF000_8000, 0xF004_0000
HT2HSMF, HSM2HTF, HSM2HTIE = 0x20, 0x28, 0x2C
LMU = 0x9004_0000
CHANNEL = 0x2000
RESP = 0x1000
SERVER_ID = 57
NOSPACE, NOTFOUND = -2105, -2104

# Checksums of the demo's LCG workload (firmware/app/README.md).
CHECKSUMS = {0: "9220ad6b", 1: "c163d35a", 2: "f53600aa", 3: "5548a21e", 4: "29564fd9", 5: "a72eee98"}

# Core 0's requests, little-endian: header = magic 01 a5 | kind (action, group) | seq | aux 0.
CORE0_REQUESTS = {
    # COMM INIT 0x0101, seq 1, client_id u32 = 1
    "init": bytes.fromhex("01a5 0101 0100 0000" "01000000"),
    # COMM ECHO 0x0105, seq 2, "hello hsm from tricore core 0"
    "echo": bytes.fromhex("01a5 0501 0200 0000"
                          "68656c6c6f 20 68736d 20 66726f6d 20 747269636f7265 20 636f7265 20 30"),
    # NVM ADDOBJECT 0x0204, seq 3: id 0x0020, access 0, flags 0, len 16, label "demo-core0" + 14 NULs,
    # data 00..0f
    "add": bytes.fromhex("01a5 0402 0300 0000"
                         "2000 0000 0000 1000"
                         "64656d6f2d636f726530 0000000000000000000000000000"
                         "000102030405060708090a0b0c0d0e0f"),
    # NVM READ 0x0208, seq 4: id 0x0020, offset 0, data_len 16
    "read": bytes.fromhex("01a5 0802 0400 0000" "2000 0000 1000"),
    # NVM DESTROYOBJECTS 0x0207, seq 5: list_count 1, list[19] = {0x0020, 18 x 0} (always 40 bytes)
    "destroy": bytes.fromhex("01a5 0702 0500 0000"
                             "0100 2000"
                             "0000 0000 0000 0000 0000 0000 0000 0000 0000"
                             "0000 0000 0000 0000 0000 0000 0000 0000 0000"),
    # COMM CLOSE 0x0103, seq 6, empty
    "close": bytes.fromhex("01a5 0301 0600 0000"),
}
NAMES = ("init", "echo", "add", "read", "destroy", "close")


def _spec_requests(core):
    """The same six requests for any core, packed field by field from the spec with struct."""
    def header(kind, seq):
        return b"\x01\xa5" + struct.pack("<HHH", kind, seq, 0)
    oid = 0x20 + core
    label = f"demo-core{core}".encode().ljust(24, b"\0")
    data = bytes((16 * core + i) & 0xFF for i in range(16))
    return {
        "init": header(0x0101, 1) + struct.pack("<I", core + 1),
        "echo": header(0x0105, 2) + f"hello hsm from tricore core {core}".encode(),
        "add": header(0x0204, 3) + struct.pack("<HHHH", oid, 0, 0, 16) + label + data,
        "read": header(0x0208, 4) + struct.pack("<HHH", oid, 0, 16),
        "destroy": header(0x0207, 5) + struct.pack("<20H", 1, oid, *[0] * 18),
        "close": header(0x0103, 6),
    }


def _elf():
    elf = ELFFile(io.BytesIO(ELF.read_bytes()))
    syms = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
    return elf, syms


def _rodata_read(elf, addr, size):
    sec = elf.get_section_by_name(".rodata")
    off = addr - sec["sh_addr"]
    assert 0 <= off and off + size <= sec["sh_size"], f"{addr:#x}+{size} outside .rodata"
    return sec.data()[off:off + size]


def _table(elf, syms, core):
    """(address, length) of each request of ``core`` from the ``hsm_requests`` table."""
    base = syms["hsm_requests"]["st_value"] + core * len(NAMES) * 8
    return [struct.unpack("<II", _rodata_read(elf, base + 8 * i, 8)) for i in range(len(NAMES))]


# ---------------------------------------------------------------------------------------------
# (1) the embedded packets are the spec's bytes
# ---------------------------------------------------------------------------------------------

def test_core0_request_packets_in_rodata_match_hand_written_vectors():
    elf, syms = _elf()
    table = _table(elf, syms, 0)
    for (addr, length), name in zip(table, NAMES, strict=True):
        sym = syms[f"hsm_req0_{name}"]
        assert (addr, length) == (sym["st_value"], sym["st_size"]), name
        assert addr % 4 == 0
        assert _rodata_read(elf, addr, length) == CORE0_REQUESTS[name], name
    assert [length for _, length in table] == [12, 37, 56, 14, 48, 8]


@pytest.mark.parametrize("core", range(6))
def test_every_core_has_its_own_request_set(core):
    elf, syms = _elf()
    want = _spec_requests(core)
    if core == 0:
        assert want == CORE0_REQUESTS                       # the two hand-made views agree
    got = {name: _rodata_read(elf, addr, length) for (addr, length), name in zip(_table(elf, syms, core), NAMES)}
    assert got == want
    assert syms["hsm_requests"]["st_size"] == 6 * 6 * 8


# ---------------------------------------------------------------------------------------------
# (2) the firmware talks to a spec responder in bare Unicorn
# ---------------------------------------------------------------------------------------------

class Board:
    """UART, INTC and HSM bridge models plus a tiny wolfHSM responder on the mailbox channels.

    ``mode`` "immediate": the response is written inside the doorbell write (before the core can
    look); "deferred": only once the core sleeps at ``wait``.  ``tweak(name, payload, header)`` may
    change a response (returns the new (payload, header)).
    """

    def __init__(self, uc, core_id, mode="immediate", tweak=None, ie=0):
        self.uc, self.core_id, self.mode, self.tweak = uc, core_id, mode, tweak
        self.out, self.pending, self.enable, self.ie, self.ht2hsmf, self.hsm2htf = [], 0, 0, ie, 0, 0
        self.requests, self.queued, self.nvm, self.doorbells = [], [], {}, []
        uc.mmio_map(UART, 0x4000, self._uart_r, None, self._uart_w, None)
        uc.mmio_map(INTC, 0x4000, self._intc_r, None, self._intc_w, None)
        uc.mmio_map(MBOX, 0x2_0000, self._mbox_r, None, self._mbox_w, None)
        uc.mem_map(LMU, 0x1_0000)                            # channels 0..5 (+ spare)

    # registers
    def _uart_r(self, uc, off, size, _):
        return 1 if off == 4 else 0                          # STATUS: TX always ready

    def _uart_w(self, uc, off, size, value, _):
        if off == 0:
            self.out.append(chr(value & 0xFF))

    def _intc_r(self, uc, off, size, _):
        return {0x0: self.core_id, 0x4: self.pending, 0x8: self.enable}.get(off, 0)

    def _intc_w(self, uc, off, size, value, _):
        if off == 0x4:
            self.pending &= ~value                           # write 1 to clear
        elif off == 0x8:
            self.enable = value

    def _mbox_r(self, uc, off, size, _):
        return {HT2HSMF: self.ht2hsmf, HSM2HTF: self.hsm2htf, HSM2HTIE: self.ie}.get(off, 0)

    def _mbox_w(self, uc, off, size, value, _):
        if off == HT2HSMF:                                   # doorbell
            self.doorbells.append(value)
            self.ht2hsmf |= value
            for bit in range(6):
                if value >> bit & 1:
                    self.queued.append(bit)
            if self.mode == "immediate":
                self.serve()
        elif off == HSM2HTF:
            self.hsm2htf &= ~value                           # host clears
        elif off == HSM2HTIE:
            self.ie = value

    # the HSM side
    def serve(self):
        while self.queued:
            self._serve_channel(self.queued.pop(0))

    def _serve_channel(self, bit):
        self.ht2hsmf &= ~(1 << bit)
        base = LMU + bit * CHANNEL
        notify, length, ack, wait = struct.unpack("<4H", self.uc.mem_read(base, 8))
        r_notify = struct.unpack("<H", self.uc.mem_read(base + RESP, 2))[0]
        if notify == r_notify:
            return                                           # nothing new
        packet = bytes(self.uc.mem_read(base + 8, length))
        self.requests.append((notify, length, ack, wait, packet))
        assert packet[:2] == b"\x01\xa5", "little-endian magic"
        kind, _seq = struct.unpack_from("<HH", packet, 2)
        body = packet[8:]
        name = {0x0101: "init", 0x0105: "echo", 0x0204: "add", 0x0208: "read", 0x0207: "destroy",
                0x0103: "close"}[kind]
        if name == "init":
            payload = struct.pack("<II", struct.unpack("<I", body)[0], SERVER_ID)
        elif name == "echo":
            payload = body
        elif name == "add":
            oid, _access, _flags, dlen = struct.unpack_from("<HHHH", body)
            assert len(body) == 32 + dlen
            self.nvm[oid] = body[32:]
            payload = struct.pack("<i", 0)
        elif name == "read":
            oid, offset, dlen = struct.unpack("<HHH", body)
            data = self.nvm.get(oid)
            payload = struct.pack("<i", NOTFOUND) if data is None else struct.pack("<i", 0) + data[offset:offset + dlen]
        elif name == "destroy":                              # v1.4.0: an absent id -> NOTFOUND, nothing destroyed
            assert len(body) == 40
            count, *ids = struct.unpack("<20H", body)
            ids = ids[:count]
            if all(oid in self.nvm for oid in ids):
                for oid in ids:
                    del self.nvm[oid]
                payload = struct.pack("<i", 0)
            else:
                payload = struct.pack("<i", NOTFOUND)
        else:
            payload = b""
        header = packet[:8]                                  # magic, kind, seq, aux echoed
        if self.tweak:
            payload, header = self.tweak(name, payload, header)
        resp = header + payload
        self.uc.mem_write(base + RESP + 8, resp)             # data first, then the CSR
        self.uc.mem_write(base + RESP, struct.pack("<4H", notify, len(resp), 0, 0))
        self.hsm2htf |= 1 << bit
        if self.ie >> bit & 1:
            self.pending |= 1                                # app-core line 0

    @property
    def lines(self):
        return "".join(self.out).splitlines()


def _boot(core_id, **board_args):
    elf, syms = _elf()
    uc = unicorn.Uc(unicorn.UC_ARCH_TRICORE, unicorn.UC_MODE_LITTLE_ENDIAN)
    uc.mem_map(0x8000_0000, 0x20_0000, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)   # pflash
    uc.mem_map(0xD000_0000, 0x1_8000)                                                  # own DSPR
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD":
            uc.mem_write(seg["p_vaddr"], seg.data())
    addr = {name: s["st_value"] for name, s in syms.items()}
    return elf, addr, uc, Board(uc, core_id, **board_args)


def _run(uc, addr, board, max_sleeps=50):
    """Run from _start to ``idle``; at ``hsm_wait`` sleep like the emulator. Returns the sleeps."""
    sleeps = 0

    def stop(uc, address, size, _):
        uc.emu_stop()

    for name in ("hsm_wait", "idle"):
        uc.hook_add(unicorn.UC_HOOK_CODE, stop, begin=addr[name], end=addr[name])
    pc = addr["_start"]
    while True:
        uc.emu_start(pc, 0xFFFF_FFF0, count=2_000_000)
        pc = uc.reg_read(tc.UC_TRICORE_REG_PC)
        if pc == addr["idle"]:
            return sleeps
        assert pc == addr["hsm_wait"], f"core stopped at {pc:#x}"
        sleeps += 1
        assert sleeps <= max_sleeps
        board.serve()                                        # the HSM runs while the core sleeps
        assert board.pending & board.enable, "the core would sleep forever"
        pc += 4                                              # woken: continue after `wait`


def _expected(core):
    oid = f"0x{0x20 + core:04x}"
    return [f"hello from tricore app core {core}",
            f"checksum {CHECKSUMS[core]}",
            f"hsm comm init: client {core + 1} server 57",
            f"hsm echo: hello hsm from tricore core {core}",
            f"hsm nvm add {oid}: rc 0",
            f"hsm nvm read {oid}: 16 bytes ok",
            f"hsm nvm destroy {oid}: rc 0",
            "hsm close: rc 0"]


@pytest.mark.parametrize("mode", ["immediate", "deferred"])
@pytest.mark.parametrize("core", [0, 3])
def test_demo_runs_the_wolfhsm_sequence(core, mode):
    others = 0b11_1111 & ~(1 << core) & 0b10_1010            # some other cores' enable bits already set
    elf, addr, uc, board = _boot(core, mode=mode, ie=others)
    sleeps = _run(uc, addr, board)
    assert board.lines == _expected(core)
    # the transport: notify 1..6, len = packet length, ack/wait 0, one doorbell bit per request
    want = _spec_requests(core)
    assert [(n, ln, a, w) for n, ln, a, w, _ in board.requests] == [
        (i + 1, len(want[name]), 0, 0) for i, name in enumerate(NAMES)]
    assert [p for *_, p in board.requests] == [want[name] for name in NAMES]
    assert board.doorbells == [1 << core] * 6
    assert sleeps == (6 if mode == "deferred" else 0)
    assert board.nvm == {}                                   # the object was destroyed again
    # interrupt plumbing: own HSM2HTIE bit added without losing others', INTC line 0 enabled,
    # nothing left pending or flagged at idle
    assert board.ie == others | 1 << core
    assert board.enable & 1
    assert board.pending == 0 and board.hsm2htf == 0
    assert struct.unpack("<2I", uc.mem_read(addr["core_id_var"], 8)) == (core, int(CHECKSUMS[core], 16))
    assert struct.unpack("<I", uc.mem_read(addr["progress_var"], 4))[0] == 9
    channel = LMU + core * CHANNEL
    assert struct.unpack("<HH", uc.mem_read(channel, 4)) == (6, 8)                 # CLOSE was last
    assert struct.unpack("<HH", uc.mem_read(channel + RESP, 4)) == (6, 8)


def test_attach_enables_the_reply_irq_with_one_ldmst():
    """HSM2HTIE is shared by all cores: the bit goes in with one atomic read-modify-write."""
    elf, syms = _elf()
    at = syms["hsm_irq_enable"]["st_value"]
    text = elf.get_section_by_name(".text")
    off = at - text["sh_addr"]
    md = capstone.Cs(capstone.CS_ARCH_TRICORE, capstone.CS_MODE_TRICORE_162)
    insn = next(md.disasm(text.data()[off:off + 4], at))
    assert (insn.mnemonic, insn.op_str) == ("ldmst", "[a14]#0x2c, e0")


def test_pending_line_without_a_response_does_not_spin():
    """A stale line 0 at start is acknowledged; then the core sleeps until the real reply."""
    _, addr, uc, board = _boot(0, mode="deferred")
    board.pending = 1
    _run(uc, addr, board)
    assert board.lines == _expected(0)


@pytest.mark.parametrize("rc", [-2105, -1, 7, 10, 1_000_000_000, 2_147_483_647, -2_147_483_648])
def test_nvm_error_codes_print_as_signed_decimal(rc):
    def tweak(name, payload, header):
        if name == "add":
            return struct.pack("<i", rc), header
        if name == "read":
            return struct.pack("<i", NOTFOUND), header
        return payload, header

    _, addr, uc, board = _boot(1, tweak=tweak)
    _run(uc, addr, board)
    assert board.lines[4:] == [f"hsm nvm add 0x0021: rc {rc}", "hsm nvm read 0x0021: rc -2104",
                               "hsm nvm destroy 0x0021: rc 0", "hsm close: rc 0"]


@pytest.mark.parametrize("rc", [NOTFOUND, -2101, 0, 3])
def test_destroy_rc_prints_as_signed_decimal(rc):
    def tweak(name, payload, header):
        return (struct.pack("<i", rc) if name == "destroy" else payload), header

    _, addr, uc, board = _boot(4, tweak=tweak)
    _run(uc, addr, board)
    assert board.lines[4:] == ["hsm nvm add 0x0024: rc 0", "hsm nvm read 0x0024: 16 bytes ok",
                               f"hsm nvm destroy 0x0024: rc {rc}", "hsm close: rc 0"]


@pytest.mark.parametrize(("read_payload", "line"), [
    (struct.pack("<i", 0) + bytes(range(16, 31)) + b"\xff", "hsm nvm read 0x0021: mismatch"),
    (struct.pack("<i", 0) + bytes(range(16, 31)), "hsm nvm read 0x0021: mismatch"),     # 15 bytes
    (struct.pack("<i", 0) + bytes(range(16, 32)), "hsm nvm read 0x0021: 16 bytes ok"),
])
def test_read_data_is_compared_with_what_was_written(read_payload, line):
    def tweak(name, payload, header):
        return (read_payload if name == "read" else payload), header

    _, addr, uc, board = _boot(1, tweak=tweak)
    _run(uc, addr, board)
    assert board.lines[5] == line


def test_close_with_a_payload_reports_rc_minus_one():
    _, addr, uc, board = _boot(2, tweak=lambda name, p, h: (struct.pack("<i", 0) if name == "close" else p, h))
    _run(uc, addr, board)
    assert board.lines[-1] == "hsm close: rc -1"


@pytest.mark.parametrize(("bad", "field"), [("echo", "seq"), ("init", "magic"), ("add", "kind"), ("read", "short"),
                                            ("init", "size"), ("destroy", "size"), ("destroy", "seq")])
def test_bad_response_stops_the_sequence(bad, field):
    def tweak(name, payload, header):
        if name != bad:
            return payload, header
        if field == "seq":
            return payload, header[:4] + struct.pack("<H", 99) + header[6:]
        if field == "magic":
            return payload, b"\xa5\x01" + header[2:]
        if field == "kind":
            return payload, header[:2] + struct.pack("<H", 0x0205) + header[4:]
        if field == "size":                                  # INIT response must be 8 bytes, DESTROY's 4
            return (payload[:4] if name == "init" else payload + bytes(4)), header
        return b"", b""                                      # an empty packet: not even a header

    _, addr, uc, board = _boot(0, tweak=tweak)
    _run(uc, addr, board)
    done = NAMES.index(bad)
    printed = {"init": 2, "echo": 3, "add": 4, "read": 5, "destroy": 6}[bad]
    assert board.lines == _expected(0)[:printed] + ["hsm error: bad response"]
    assert len(board.requests) == done + 1                   # nothing sent after the bad response
    assert struct.unpack("<I", uc.mem_read(addr["progress_var"], 4))[0] == 0xBAD
