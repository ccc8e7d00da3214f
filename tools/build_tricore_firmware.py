"""Build the prebuilt TriCore app-core firmware ELFs in ``firmware/app/prebuilt/``.

There is no TriCore C compiler here, so the firmware is written with ``tools/tricore_asm.py`` and
packed by ``tools/elf_writer.py``.  Output is byte-identical on every run; the committed ELFs must
equal a fresh build (``--check`` verifies that, and so does the test suite).

    python tools/build_tricore_firmware.py            # (re)write the ELFs
    python tools/build_tricore_firmware.py --check    # exit 1 if the committed ELFs are stale
    python tools/build_tricore_firmware.py --symbols  # print each ELF's symbol table

Firmware (every core of aurix-tc3xx runs the same ELF; the code finds its core id at run time):
  tricore_demo.elf       hello line, LCG checksum, six wolfHSM requests to the HSM, idle
  tricore_spin.elf       CPU-bound benchmark loop between ``spin_loop`` and ``spin_end``
  tricore_mpu_probe.elf  prints "probe", then reads HSM-private RAM (must bus-fault)

Run-time layout (addresses from boards/aurix-tc3xx.toml):
  0x8000_0000  pflash: .text (entry ``_start``), then .rodata (strings)
  0xD000_0000  own DSPR (local alias): per-core variables (``core_id_var`` ...)
  0xD000_1000  64 context save areas (CSAs) for call/ret, linked by ``_start``
  0xD001_8000  initial stack pointer (a10), top of the smallest (96 KiB) DSPR
No initialised RAM data: every core's DSPR sits at the same local address, so a loader could not
tell which core's DSPR a .data segment was meant for.  The code initialises what it uses.

tricore_demo.elf on app core N (console lines, in order):
  hello from tricore app core N
  checksum XXXXXXXX                      (see checksum() below)
  hsm comm init: client C server S       (C, S decimal from the COMM INIT response)
  hsm echo: hello hsm from tricore core N  (the bytes of the ECHO response)
  hsm nvm add 0x00XX: rc R               (object id 0x0020 + N, R the signed rc)
  hsm nvm read 0x00XX: 16 bytes ok       (or ": mismatch", or ": rc R" when rc != 0)
  hsm nvm destroy 0x00XX: rc R           (DESTROYOBJECTS of the same id, R the signed rc: the
                                          object is removed again, the server's NVM stays empty)
  hsm close: rc 0                        (rc -1 unless the response payload is empty)
then it idles at ``idle``.  A response whose magic/kind/seq differ from the request's, that is
shorter than a header or longer than the block, or (INIT, ADD, READ, DESTROY) not the size of its
fields, prints ``hsm error: bad response`` and idles.

The wolfHSM requests are encoded here at build time by the wire codec (``firmware/wire``), one set
per core (table ``hsm_requests``: 6 cores x 6 {address, length} words; packets ``hsm_reqN_init``,
``_echo``, ``_add``, ``_read``, ``_destroy``, ``_close``), little-endian, seq 1..6, client id N + 1.  Transport
= wolfHSM shared-memory transport on mailbox channel N (CHANNEL_BASE + N * 0x2000): request block
at +0, response block at +0x1000, each an 8-byte CSR {u16 notify, u16 len, u16 ack, u16 wait} then
the packet.  At attach the core zeroes both CSRs and sets HSM2HTIE bit N with one ``ldmst`` (an
atomic read-modify-write, so cores cannot lose each other's bits) and INTC ENABLE bit 0.  Per
request (``hsm_xfer``): clear HSM2HTF bit N and INTC PENDING bit 0, copy the packet, then store
the CSR (ack/wait 0, then notify + 1 and len in one word), ring HT2HSMF = 1 << N; then loop:
response ready (resp.notify == req.notify) -> done; PENDING bit 0 -> clear it and HSM2HTF bit N;
else ``wait`` (at ``hsm_wait``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from firmware.wire import ByteOrder, CommAction, Group, Header, NvmAction, encode_packet, get_wire  # noqa: E402
from tools.elf_writer import EM_TRICORE, ElfSegment, ElfSymbol, build_elf  # noqa: E402
from tools.tricore_asm import Assembler, Program  # noqa: E402

OUT_DIR = ROOT / "firmware" / "app" / "prebuilt"

# Memory map (boards/aurix-tc3xx.toml).
PFLASH = 0x8000_0000
# Each image gets its own part of pflash, so different images can run side by side on different cores.
SPIN_ORIGIN = PFLASH + 0x8_0000
PROBE_ORIGIN = PFLASH + 0x10_0000
DSPR = 0xD000_0000                    # each core's own DSPR at its local alias
STACK_TOP = DSPR + 0x1_8000           # 96 KiB: the smallest DSPR of the board
CSA_BASE = DSPR + 0x1000
CSA_COUNT = 64                        # 64 x 64-byte contexts = 4 KiB; calls nest at most 3 deep here
CORE_ID_VAR = DSPR + 0x0              # per-core variables the demo fills in (handy for tests/traces)
CHECKSUM_VAR = DSPR + 0x4
PROGRESS_VAR = DSPR + 0xC             # 1 hello, 2 checksum, 3 channel attached, 4..9 INIT, ECHO,
PROGRESS_BAD = 0xBAD                  # ADD, READ, DESTROY, CLOSE line printed; PROGRESS_BAD: bad response
SPIN_VAR = DSPR + 0x10
HSM_PRIVATE_RAM = 0x2000_0000         # HSM local RAM: app cores must take a bus fault here

# Peripherals (our own register maps, see the board profile).
UART = 0xF000_0000                    # +0 TXDATA (write a character), +4 STATUS (bit 0 = TX ready)
INTC = 0xF000_8000                    # +0 CORE_ID, +4 PENDING (w1c), +8 ENABLE, +0xC HALT
INTC_CORE_ID, INTC_PENDING, INTC_ENABLE = 0x0, 0x4, 0x8
MBOX = 0xF004_0000                    # HSM bridge
HT2HSMF, HSM2HTF, HSM2HTIE = 0x20, 0x28, 0x2C
CHANNEL_BASE = 0x9004_0000            # mailbox channel n at CHANNEL_BASE + n * CHANNEL_STRIDE (LMU)
CHANNEL_STRIDE = 0x2000
APP_CORES = 6                         # channels / request sets baked into the demo
# wolfHSM shared-memory transport in a channel: request block at +0, response block at +0x1000,
# each an 8-byte CSR {u16 notify, u16 len, u16 ack, u16 wait} followed by one comm packet.
CSR_SIZE = 8
RESP_BLOCK = 0x1000
REQ_DATA = CSR_SIZE
RESP_PACKET = RESP_BLOCK + CSR_SIZE
COMM_HEADER_SIZE = 8                  # magic, kind, seq, aux
RESP_PAYLOAD = RESP_PACKET + COMM_HEADER_SIZE
MAX_PACKET = RESP_BLOCK - CSR_SIZE    # 0xFF8

# The demo's wolfHSM requests (see hsm_requests()).
HSM_REQUESTS = ("init", "echo", "add", "read", "destroy", "close")
REQ_ENTRY_SIZE = 8                    # {u32 address, u32 length}
REQ_TABLE_STRIDE = len(HSM_REQUESTS) * REQ_ENTRY_SIZE
ECHO_TEXT = "hello hsm from tricore core {}"
NVM_OBJECT_BASE_ID = 0x0020           # object id = 0x0020 + core id
NVM_LABEL = "demo-core{}"             # zero-padded to 24 bytes by the codec
NVM_DATA_LEN = 16
ADD_DATA_OFFSET = COMM_HEADER_SIZE + 32   # data after the header and the 32-byte ADDOBJECT metadata
POW10 = tuple(10 ** k for k in range(9, -1, -1))

# The checksum workload.
LCG_A, LCG_C = 1_664_525, 1_013_904_223
CHECKSUM_ITERATIONS = 20_000

# TriCore core special function registers (mtcr/mfcr addresses).
FCX, LCX, PCXI = 0xFE38, 0xFE3C, 0xFE00


def checksum(core_id: int) -> int:
    """Python model of the firmware's checksum (the value ``tricore_demo.elf`` prints).

    x starts at the core id; each of the 20000 steps advances the LCG x = x*1664525 + 1013904223
    (mod 2**32), xors x into the accumulator and rotates the accumulator left by one bit.
    """
    x, acc = core_id & 0xFFFF_FFFF, 0
    for _ in range(CHECKSUM_ITERATIONS):
        x = (x * LCG_A + LCG_C) & 0xFFFF_FFFF
        acc ^= x
        acc = ((acc << 1) | (acc >> 31)) & 0xFFFF_FFFF
    return acc


def _fcx(addr: int) -> int:
    """FCX/LCX/link-word encoding of a CSA address: segment [19:16], address bits 21:6 in [15:0]."""
    return (addr >> 28) << 16 | (addr >> 6) & 0xFFFF


def _startup(asm: Assembler, *, csa: bool = True) -> None:
    """``_start``: stack pointer first, then the free CSA list (call/ret need it), then main."""
    asm.label("_start", kind="func")
    asm.load_const("sp", STACK_TOP)
    if csa:
        # Link CSA k to CSA k+1 (link word = FCX encoding of the next one); the last one ends the list.
        asm.load_const("a2", CSA_BASE)
        asm.load_const("d0", _fcx(CSA_BASE))
        asm.mtcr(FCX, "d0")
        asm.mov("d1", CSA_COUNT - 2)
        asm.mov_a("a3", "d1")                 # loop runs a3+1 times
        asm.label(".csa_link")
        asm.add("d0", "d0", 1)
        asm.st_w("[a2]0", "d0")
        asm.lea("a2", "[a2]64")
        asm.loop("a3", ".csa_link")
        asm.mov("d1", 0)
        asm.st_w("[a2]0", "d1")
        # LCX: a context-depletion trap would fire when FCX reaches it; leave a few spare CSAs.
        asm.load_const("d0", _fcx(CSA_BASE + (CSA_COUNT - 4) * 64))
        asm.mtcr(LCX, "d0")
        asm.mov("d0", 0)
        asm.mtcr(PCXI, "d0")                  # no previous context: main never returns
        asm.isync()                           # CSFR writes take effect after isync
    asm.j("main")
    asm.end_symbol("_start")


def _library(asm: Assembler) -> None:
    """putc, puts, puthex, checksum.  Calling convention of the TriCore EABI: arguments in d4/a4,
    result in d2; call/ret save and restore the upper context (d8-d15, a10-a15), so callees use
    those freely; the lower context (d0-d7, a2-a7) is the caller's to lose."""
    asm.label("putc", kind="func")            # putc(d4): wait for TX ready, write one character
    asm.load_const("a2", UART)
    asm.label(".putc_poll")
    asm.ld_w("d0", "[a2]4")
    asm.jz_t("d0", 0, ".putc_poll")
    asm.st_w("[a2]0", "d4")
    asm.ret()
    asm.end_symbol("putc")

    asm.label("puts", kind="func")            # puts(a4): zero-terminated string
    asm.mov_aa("a12", "a4")
    asm.label(".puts_next")
    asm.ld_bu("d4", "[a12]0")
    asm.jz("d4", ".puts_done")
    asm.call("putc")
    asm.lea("a12", "[a12]1")
    asm.j(".puts_next")
    asm.label(".puts_done")
    asm.ret()
    asm.end_symbol("puts")

    asm.label("puthex", kind="func")          # puthex(d4): 8 lowercase hex digits, no newline
    asm.mov("d8", "d4")
    asm.mov("d9", 7)
    asm.mov_a("a12", "d9")
    asm.label(".hex_digit")
    asm.sh("d4", "d8", -28)                   # top nibble (negative count = logical right shift)
    asm.sh("d8", "d8", 4)
    asm.jlt_u("d4", 10, ".hex_num")
    asm.add("d4", "d4", ord("a") - 10)
    asm.j(".hex_put")
    asm.label(".hex_num")
    asm.add("d4", "d4", ord("0"))
    asm.label(".hex_put")
    asm.call("putc")
    asm.loop("a12", ".hex_digit")
    asm.ret()
    asm.end_symbol("puthex")

    asm.label("checksum", kind="func")        # d2 = checksum(seed d4), see checksum() above
    asm.mov("d2", 0)
    asm.mov("d0", "d4")
    asm.load_const("d1", LCG_A)
    asm.load_const("d3", LCG_C)
    asm.mov("d5", CHECKSUM_ITERATIONS - 1)
    asm.mov_a("a2", "d5")
    asm.label("checksum_loop")
    asm.mul("d0", "d0", "d1")
    asm.add("d0", "d0", "d3")
    asm.xor("d2", "d2", "d0")
    asm.sh("d6", "d2", 1)                     # rotate left by one: (acc << 1) | (acc >> 31)
    asm.sh("d7", "d2", -31)
    asm.or_("d2", "d6", "d7")
    asm.loop("a2", "checksum_loop")
    asm.ret()
    asm.end_symbol("checksum")


def _progress(asm: Assembler, step: int) -> None:
    asm.mov("d0", step)
    asm.load_const("a2", PROGRESS_VAR)
    asm.st_w("[a2]0", "d0")


def _newline(asm: Assembler) -> None:
    asm.mov("d4", ord("\n"))
    asm.call("putc")


def _puts(asm: Assembler, label: str) -> None:
    asm.load_const("a4", label)
    asm.call("puts")


def _common_symbols(asm: Assembler) -> None:
    asm.equ("stack_top", STACK_TOP)
    asm.equ("csa_base", CSA_BASE, kind="object", size=CSA_COUNT * 64)


# ---------------------------------------------------------------------------------------------
# The demo's wolfHSM requests, encoded at build time with the wire codec (firmware/wire)
# ---------------------------------------------------------------------------------------------

def nvm_object_id(core_id: int) -> int:
    """NVM id of the object core ``core_id`` adds, reads back and destroys."""
    return NVM_OBJECT_BASE_ID + core_id


def nvm_object_data(core_id: int) -> bytes:
    """Its 16 data bytes: (16 * core id + i) & 0xFF."""
    return bytes((NVM_DATA_LEN * core_id + i) & 0xFF for i in range(NVM_DATA_LEN))


def hsm_requests(core_id: int) -> list[tuple[str, bytes]]:
    """The request packets core ``core_id`` sends, in order, as (name, packet bytes).

    A little-endian wolfHSM client connection: COMM INIT (client id = core id + 1), COMM ECHO,
    NVM ADDOBJECT, NVM READ, NVM DESTROYOBJECTS {the object}, COMM CLOSE with sequence numbers 1..6.
    """
    wire = get_wire()
    order = ByteOrder.LITTLE
    oid = nvm_object_id(core_id)
    bodies = [
        ("init", Group.COMM, CommAction.INIT, {"client_id": core_id + 1}),
        ("echo", Group.COMM, CommAction.ECHO, {"data": ECHO_TEXT.format(core_id).encode("ascii")}),
        ("add", Group.NVM, NvmAction.ADDOBJECT,
         {"id": oid, "access": 0, "flags": 0, "len": NVM_DATA_LEN, "label": NVM_LABEL.format(core_id).encode("ascii"),
          "data": nvm_object_data(core_id)}),
        ("read", Group.NVM, NvmAction.READ, {"id": oid, "offset": 0, "data_len": NVM_DATA_LEN}),
        ("destroy", Group.NVM, NvmAction.DESTROYOBJECTS, {"list_count": 1, "list": [oid]}),  # list[1..18] = 0
        ("close", Group.COMM, CommAction.CLOSE, {}),
    ]
    assert tuple(name for name, *_ in bodies) == HSM_REQUESTS
    packets = []
    for seq, (name, group, action, fields) in enumerate(bodies, start=1):
        spec = wire.message(group, action)
        packet = encode_packet(Header(kind=spec.kind, seq=seq, order=order), spec.request.pack(order, **fields))
        if len(packet) > MAX_PACKET:
            raise ValueError(f"{name} request of core {core_id} does not fit the channel")
        packets.append((name, packet))
    return packets


def _hsm_library(asm: Assembler) -> None:
    """The demo's wolfHSM transport and printing helpers (same calling convention as _library)."""
    asm.label("hsm_xfer", kind="func")
    # hsm_xfer(a4 packet, d4 length, a5 channel base, d5 channel bit) -> d2 = response payload
    # length, or -1 if the response is shorter than a header, longer than the block, or its
    # magic/kind/seq differ from the request's.  Sleeps at `hsm_wait` until the response is there.
    asm.load_const("a2", INTC)
    asm.load_const("a3", MBOX)
    asm.mov("d0", 1)
    asm.st_w(f"[a3]{HSM2HTF}", "d5")                         # drop a stale reply flag (w1c) and
    asm.st_w(f"[a2]{INTC_PENDING}", "d0")                    # a stale line-0 interrupt
    asm.mov_aa("a12", "a4")                                  # 1. packet into the request data area
    asm.lea("a13", f"[a5]{REQ_DATA}")
    asm.add("d0", "d4", -1)
    asm.mov_a("a14", "d0")
    asm.label(".xfer_copy")
    asm.ld_bu("d0", "[a12]0")
    asm.st_b("[a13]0", "d0")
    asm.lea("a12", "[a12]1")
    asm.lea("a13", "[a13]1")
    asm.loop("a14", ".xfer_copy")
    asm.dsync()                                              # data before the CSR
    asm.ld_hu("d6", "[a5]0")                                 # 2. request CSR: notify + 1 (16 bits),
    asm.add("d6", "d6", 1)                                   #    len = packet length, ack = wait = 0
    asm.sh("d6", "d6", 16)
    asm.sh("d6", "d6", -16)
    asm.mov("d0", 0)
    asm.st_w("[a5]4", "d0")                                  # ack/wait first, notify + len last
    asm.sh("d0", "d4", 16)
    asm.or_("d0", "d0", "d6")
    asm.st_w("[a5]0", "d0")
    asm.dsync()
    asm.st_w(f"[a3]{HT2HSMF}", "d5")                         # 3. doorbell
    asm.label(".xfer_poll")                                  # 4. until resp.notify == req.notify
    asm.ld_hu("d0", f"[a5]{RESP_BLOCK}")
    asm.jeq("d0", "d6", ".xfer_ready")
    asm.ld_w("d0", f"[a2]{INTC_PENDING}")
    asm.jz_t("d0", 0, "hsm_wait")
    asm.mov("d0", 1)
    asm.st_w(f"[a2]{INTC_PENDING}", "d0")                    # acknowledge line 0 (write 1 to clear)
    asm.st_w(f"[a3]{HSM2HTF}", "d5")                         # clear our HSM->host flag (w1c)
    asm.j(".xfer_poll")
    asm.label("hsm_wait", kind="func")                       # sleeps until an enabled line is pending
    asm.wait()
    asm.j(".xfer_poll")
    asm.end_symbol("hsm_wait")
    asm.label(".xfer_ready")
    asm.mov("d0", 1)
    asm.st_w(f"[a3]{HSM2HTF}", "d5")                         # leave no flag or line pending behind
    asm.st_w(f"[a2]{INTC_PENDING}", "d0")
    asm.ld_hu("d2", f"[a5]{RESP_BLOCK + 2}")                 # 5. check the response
    asm.jlt_u("d2", COMM_HEADER_SIZE, ".xfer_bad")
    asm.mov_u("d0", MAX_PACKET)
    asm.jlt_u("d0", "d2", ".xfer_bad")
    asm.ld_w("d0", f"[a5]{RESP_PACKET}")                     # magic + kind
    asm.ld_w("d1", "[a4]0")
    asm.jne("d0", "d1", ".xfer_bad")
    asm.ld_hu("d0", f"[a5]{RESP_PACKET + 4}")                # seq
    asm.ld_hu("d1", "[a4]4")
    asm.jne("d0", "d1", ".xfer_bad")
    asm.add("d2", "d2", -COMM_HEADER_SIZE)
    asm.ret()
    asm.label(".xfer_bad")
    asm.mov("d2", -1)
    asm.ret()
    asm.end_symbol("hsm_xfer")

    asm.label("putdec", kind="func")          # putdec(d4): signed decimal, no newline
    asm.mov("d8", "d4")
    asm.jge("d8", 0, ".dec_abs")
    asm.mov("d4", ord("-"))
    asm.call("putc")
    asm.mov("d0", 0)
    asm.sub("d8", "d0", "d8")                 # |value| (0x80000000 stays, read unsigned below)
    asm.label(".dec_abs")
    asm.load_const("a12", "pow10")
    asm.mov("d9", 0)                          # 1 once a digit has been printed
    asm.mov("d0", len(POW10) - 1)
    asm.mov_a("a13", "d0")
    asm.label(".dec_digit")
    asm.ld_w("d11", "[a12]0")
    asm.lea("a12", "[a12]4")
    asm.mov("d4", ord("0"))
    asm.label(".dec_sub")                     # digit = how often the power of ten fits
    asm.jlt_u("d8", "d11", ".dec_emit")
    asm.sub("d8", "d8", "d11")
    asm.add("d4", "d4", 1)
    asm.j(".dec_sub")
    asm.label(".dec_emit")
    asm.jnz("d9", ".dec_put")
    asm.mov("d0", ord("0"))
    asm.jne("d4", "d0", ".dec_put")
    asm.mov("d0", 1)
    asm.jne("d11", "d0", ".dec_next")         # a leading zero, and not the ones digit
    asm.label(".dec_put")
    asm.mov("d9", 1)
    asm.call("putc")
    asm.label(".dec_next")
    asm.loop("a13", ".dec_digit")
    asm.ret()
    asm.end_symbol("putdec")

    asm.label("puthexn", kind="func")         # puthexn(d4 value, d5 digits 1..8): low digits, lowercase
    asm.mov("d0", 8)
    asm.sub("d0", "d0", "d5")
    asm.sh("d0", "d0", 2)
    asm.sh("d8", "d4", "d0")                  # wanted digits to the top
    asm.add("d0", "d5", -1)
    asm.mov_a("a12", "d0")
    asm.label(".hexn_digit")
    asm.sh("d4", "d8", -28)
    asm.sh("d8", "d8", 4)
    asm.jlt_u("d4", 10, ".hexn_num")
    asm.add("d4", "d4", ord("a") - 10)
    asm.j(".hexn_put")
    asm.label(".hexn_num")
    asm.add("d4", "d4", ord("0"))
    asm.label(".hexn_put")
    asm.call("putc")
    asm.loop("a12", ".hexn_digit")
    asm.ret()
    asm.end_symbol("puthexn")

    asm.label("putn", kind="func")            # putn(a4 bytes, d4 count): raw bytes to the UART
    asm.mov_aa("a12", "a4")
    asm.mov("d8", "d4")
    asm.label(".putn_next")
    asm.jz("d8", ".putn_done")
    asm.ld_bu("d4", "[a12]0")
    asm.call("putc")
    asm.lea("a12", "[a12]1")
    asm.add("d8", "d8", -1)
    asm.j(".putn_next")
    asm.label(".putn_done")
    asm.ret()
    asm.end_symbol("putn")

    asm.label("memeq", kind="func")           # d2 = memeq(a4, a5, d4 count): 1 if equal, else 0
    asm.mov("d2", 1)
    asm.label(".memeq_next")
    asm.jz("d4", ".memeq_done")
    asm.ld_bu("d0", "[a4]0")
    asm.ld_bu("d1", "[a5]0")
    asm.jne("d0", "d1", ".memeq_diff")
    asm.lea("a4", "[a4]1")
    asm.lea("a5", "[a5]1")
    asm.add("d4", "d4", -1)
    asm.j(".memeq_next")
    asm.label(".memeq_diff")
    asm.mov("d2", 0)
    asm.label(".memeq_done")
    asm.ret()
    asm.end_symbol("memeq")


def _request(asm: Assembler, index: int) -> None:
    """Send request ``index`` of this core's table (a12) on the channel (a13, bit d10).

    Leaves the response payload length in d9; a bad response goes to ``hsm_bad``."""
    asm.ld_a("a4", f"[a12]{index * REQ_ENTRY_SIZE}")
    asm.ld_w("d4", f"[a12]{index * REQ_ENTRY_SIZE + 4}")
    asm.mov_aa("a5", "a13")
    asm.mov("d5", "d10")
    asm.call("hsm_xfer")
    asm.jlt("d2", 0, "hsm_bad")
    asm.mov("d9", "d2")


def _put_object_id(asm: Assembler) -> None:
    """4 hex digits of the object id, read from this core's ADDOBJECT packet (header + id)."""
    asm.ld_a("a2", f"[a12]{HSM_REQUESTS.index('add') * REQ_ENTRY_SIZE}")
    asm.ld_hu("d4", f"[a2]{COMM_HEADER_SIZE}")
    asm.mov("d5", 4)
    asm.call("puthexn")


def build_demo() -> Program:
    """The board's default app firmware (see the module docstring)."""
    asm = Assembler(PFLASH)
    _startup(asm)
    asm.label("main", kind="func")
    # Register plan (upper context, so it survives every call): d8 core id, d9 response payload
    # length, d10 = 1 << core id, d11 scratch, a12 this core's request table, a13 mailbox channel,
    # a14 HSM bridge, a15 INTC.
    asm.load_const("a15", INTC)
    asm.ld_w("d8", f"[a15]{INTC_CORE_ID}")                  # (a) core id
    asm.load_const("a2", CORE_ID_VAR)
    asm.st_w("[a2]0", "d8")
    _puts(asm, "msg_hello")                                  # (b) hello line
    asm.add("d4", "d8", ord("0"))
    asm.call("putc")
    _newline(asm)
    _progress(asm, 1)
    asm.mov("d4", "d8")                                      # (c) checksum seeded with the core id
    asm.call("checksum")
    asm.mov("d9", "d2")
    asm.load_const("a2", CHECKSUM_VAR)
    asm.st_w("[a2]0", "d9")
    _puts(asm, "msg_checksum")
    asm.mov("d4", "d9")
    asm.call("puthex")
    _newline(asm)
    _progress(asm, 2)
    # (d) attach to mailbox channel n: zero both CSRs, enable the reply interrupt.
    asm.sh("d0", "d8", 13)                                   # channel = base + id * 0x2000
    asm.load_const("d1", CHANNEL_BASE)
    asm.add("d0", "d0", "d1")
    asm.mov_a("a13", "d0")
    asm.mov("d0", 0)
    for off in (0, 4, RESP_BLOCK, RESP_BLOCK + 4):
        asm.st_w(f"[a13]{off}", "d0")
    asm.mov("d0", 1)
    asm.sh("d10", "d0", "d8")                                # d10 = 1 << core id
    asm.load_const("a14", MBOX)
    asm.mov("d0", "d10")                                     # e0 = mask:value = d10:d10
    asm.mov("d1", "d10")
    asm.label("hsm_irq_enable")                              # HSM2HTIE |= d10 in one instruction,
    asm.ldmst(f"[a14]{HSM2HTIE}", "e0")                      # so no other core's bit can be lost
    asm.ld_w("d0", f"[a15]{INTC_ENABLE}")
    asm.or_("d0", "d0", 1)
    asm.st_w(f"[a15]{INTC_ENABLE}", "d0")
    asm.load_const("a12", "hsm_requests")                    # this core's row of the request table
    asm.mul("d0", "d8", REQ_TABLE_STRIDE)
    asm.mov_a("a2", "d0")
    asm.add_a("a12", "a12", "a2")
    _progress(asm, 3)
    # (e) COMM INIT: "hsm comm init: client C server S"
    _request(asm, 0)
    asm.mov("d0", 8)
    asm.jne("d9", "d0", "hsm_bad")
    _puts(asm, "msg_init")
    asm.ld_w("d4", f"[a13]{RESP_PAYLOAD}")
    asm.call("putdec")
    _puts(asm, "msg_server")
    asm.ld_w("d4", f"[a13]{RESP_PAYLOAD + 4}")
    asm.call("putdec")
    _newline(asm)
    _progress(asm, 4)
    # (f) COMM ECHO: "hsm echo: " + the response's bytes
    _request(asm, 1)
    _puts(asm, "msg_echo")
    asm.lea("a4", f"[a13]{RESP_PAYLOAD}")
    asm.mov("d4", "d9")
    asm.call("putn")
    _newline(asm)
    _progress(asm, 5)
    # (g) NVM ADDOBJECT: "hsm nvm add 0x00XX: rc R"
    _request(asm, 2)
    asm.mov("d0", 4)
    asm.jne("d9", "d0", "hsm_bad")
    asm.ld_w("d11", f"[a13]{RESP_PAYLOAD}")
    _puts(asm, "msg_add")
    _put_object_id(asm)
    _puts(asm, "msg_rc")
    asm.mov("d4", "d11")
    asm.call("putdec")
    _newline(asm)
    _progress(asm, 6)
    # (h) NVM READ: "hsm nvm read 0x00XX: 16 bytes ok" | ": mismatch" | ": rc R"
    _request(asm, 3)
    asm.jlt("d9", 4, "hsm_bad")
    asm.ld_w("d11", f"[a13]{RESP_PAYLOAD}")
    _puts(asm, "msg_read")
    _put_object_id(asm)
    asm.jz("d11", ".read_rc_ok")
    _puts(asm, "msg_rc")
    asm.mov("d4", "d11")
    asm.call("putdec")
    _newline(asm)
    asm.j(".read_done")
    asm.label(".read_rc_ok")
    asm.mov("d0", 4 + NVM_DATA_LEN)
    asm.jne("d9", "d0", ".read_mismatch")
    asm.lea("a4", f"[a13]{RESP_PAYLOAD + 4}")
    asm.ld_a("a5", f"[a12]{HSM_REQUESTS.index('add') * REQ_ENTRY_SIZE}")
    asm.lea("a5", f"[a5]{ADD_DATA_OFFSET}")                  # the data the ADDOBJECT request sent
    asm.mov("d4", NVM_DATA_LEN)
    asm.call("memeq")
    asm.jz("d2", ".read_mismatch")
    _puts(asm, "msg_read_ok")
    asm.j(".read_done")
    asm.label(".read_mismatch")
    _puts(asm, "msg_mismatch")
    asm.label(".read_done")
    _progress(asm, 7)
    # (i) NVM DESTROYOBJECTS {the object}: "hsm nvm destroy 0x00XX: rc R"
    _request(asm, 4)
    asm.mov("d0", 4)
    asm.jne("d9", "d0", "hsm_bad")
    asm.ld_w("d11", f"[a13]{RESP_PAYLOAD}")
    _puts(asm, "msg_destroy")
    _put_object_id(asm)
    _puts(asm, "msg_rc")
    asm.mov("d4", "d11")
    asm.call("putdec")
    _newline(asm)
    _progress(asm, 8)
    # (j) COMM CLOSE: "hsm close: rc 0" for an empty response, else "rc -1"
    _request(asm, 5)
    _puts(asm, "msg_close")
    asm.mov("d4", 0)
    asm.jz("d9", ".close_rc")
    asm.mov("d4", -1)
    asm.label(".close_rc")
    asm.call("putdec")
    _newline(asm)
    _progress(asm, 9)
    asm.j("idle")
    asm.label("hsm_bad", kind="func")                        # a response that does not belong to the request
    _puts(asm, "msg_bad")
    _progress(asm, PROGRESS_BAD)
    asm.end_symbol("hsm_bad")
    asm.label("idle", kind="func")                           # (k) sleep forever
    asm.wait()
    asm.mov("d0", 1)                                         # a late reply interrupt must not keep
    asm.st_w(f"[a15]{INTC_PENDING}", "d0")                   # waking us: acknowledge it, then sleep
    asm.st_w(f"[a14]{HSM2HTF}", "d10")
    asm.j("idle")
    asm.end_symbol("idle")
    asm.end_symbol("main")
    _library(asm)
    _hsm_library(asm)

    asm.section(".rodata", flags="r")
    for name, text in (("msg_hello", "hello from tricore app core "), ("msg_checksum", "checksum "),
                       ("msg_init", "hsm comm init: client "), ("msg_server", " server "),
                       ("msg_echo", "hsm echo: "), ("msg_add", "hsm nvm add 0x"), ("msg_rc", ": rc "),
                       ("msg_read", "hsm nvm read 0x"), ("msg_read_ok", f": {NVM_DATA_LEN} bytes ok\n"),
                       ("msg_mismatch", ": mismatch\n"), ("msg_destroy", "hsm nvm destroy 0x"),
                       ("msg_close", "hsm close: rc "),
                       ("msg_bad", "hsm error: bad response\n")):
        asm.label(name, kind="object")
        asm.asciz(text)
        asm.end_symbol(name)
    asm.align(4)
    asm.label("pow10", kind="object")
    asm.word(*POW10)
    asm.end_symbol("pow10")
    # hsm_requests[core][i] = {u32 packet address, u32 packet length}, i in HSM_REQUESTS order.
    packets = {core: hsm_requests(core) for core in range(APP_CORES)}
    asm.label("hsm_requests", kind="object")
    for core, reqs in packets.items():
        for name, packet in reqs:
            asm.word(f"hsm_req{core}_{name}", len(packet))
    asm.end_symbol("hsm_requests")
    for core, reqs in packets.items():
        for name, packet in reqs:
            asm.align(4)
            asm.label(f"hsm_req{core}_{name}", kind="object")
            asm.ascii(packet)
            asm.end_symbol(f"hsm_req{core}_{name}")
    _common_symbols(asm)
    for name, addr in (("core_id_var", CORE_ID_VAR), ("checksum_var", CHECKSUM_VAR),
                       ("progress_var", PROGRESS_VAR)):
        asm.equ(name, addr, kind="object", size=4)
    return asm.assemble()


def build_spin() -> Program:
    """CPU-bound benchmark: 9 instructions per iteration, 1 load + 1 store to the own DSPR."""
    asm = Assembler(SPIN_ORIGIN)
    _startup(asm, csa=False)
    asm.label("main", kind="func")
    asm.load_const("a2", SPIN_VAR)
    asm.mov("d0", 1)
    asm.load_const("d1", LCG_A)
    asm.load_const("d3", LCG_C)
    asm.mov("d2", 0)
    asm.mov("d5", 0)
    asm.label("spin_loop")
    asm.mul("d0", "d0", "d1")
    asm.add("d0", "d0", "d3")
    asm.xor("d2", "d2", "d0")
    asm.st_w("[a2]0", "d2")
    asm.ld_w("d4", "[a2]0")
    asm.add("d5", "d5", "d4")
    asm.sh("d6", "d0", -16)
    asm.xor("d2", "d2", "d6")
    asm.j("spin_loop")
    asm.label("spin_end")                                    # first address after the loop
    asm.end_symbol("main")
    _common_symbols(asm)
    asm.equ("spin_var", SPIN_VAR, kind="object", size=4)
    return asm.assemble()


def build_mpu_probe() -> Program:
    """Prints "probe", then reads HSM-private RAM at ``probe_load``: the MPU must stop it there."""
    asm = Assembler(PROBE_ORIGIN)
    _startup(asm)
    asm.label("main", kind="func")
    asm.load_const("a4", "msg_probe")
    asm.call("puts")
    asm.load_const("a12", HSM_PRIVATE_RAM)
    asm.label("probe_load")                                  # the faulting instruction
    asm.ld_w("d8", "[a12]0")
    asm.load_const("a4", "msg_not_reached")
    asm.call("puts")
    asm.label("idle", kind="func")
    asm.wait()
    asm.j("idle")
    asm.end_symbol("idle")
    asm.end_symbol("main")
    _library(asm)
    asm.section(".rodata", flags="r")
    for name, text in (("msg_probe", "probe\n"), ("msg_not_reached", "not reached\n")):
        asm.label(name, kind="object")
        asm.asciz(text)
        asm.end_symbol(name)
    _common_symbols(asm)
    asm.equ("hsm_private_ram", HSM_PRIVATE_RAM)
    return asm.assemble()


FIRMWARE: dict[str, Callable[[], Program]] = {
    "tricore_demo.elf": build_demo,
    "tricore_spin.elf": build_spin,
    "tricore_mpu_probe.elf": build_mpu_probe,
}


def to_elf(program: Program) -> bytes:
    """ELF32 little-endian, EM_TRICORE, one PT_LOAD per non-empty section, all symbols."""
    segments = [ElfSegment(s.name, s.addr, s.data, s.flags) for s in program.sections if s.data]
    symbols = [
        ElfSymbol(sym.name, sym.value, sym.size, sym.kind, "global" if sym.is_global else "local",
                  section=sym.section, absolute=sym.section is None)
        for sym in sorted(program.symbols.values(), key=lambda s: (s.value, s.name))
    ]
    return build_elf(machine=EM_TRICORE, entry=program.entry, segments=segments, symbols=symbols)


def build_all() -> dict[str, bytes]:
    """ELF bytes of every firmware, by file name."""
    return {name: to_elf(build()) for name, build in FIRMWARE.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="only compare with the files in --out")
    ap.add_argument("--symbols", action="store_true", help="print the symbol tables")
    args = ap.parse_args(argv)

    stale = []
    for name, data in build_all().items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path} ({len(data)} bytes)")
        if args.symbols:
            print(f"{name}:")
            for sym in sorted(FIRMWARE[name]().symbols.values(), key=lambda s: (s.value, s.name)):
                print(f"  {sym.value:08x} {sym.size:6d} {sym.kind:7s} {sym.name}")
    if stale:
        print("stale (run tools/build_tricore_firmware.py):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
