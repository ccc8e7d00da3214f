"""Build the prebuilt TriCore app-core firmware ELFs in ``firmware/app/prebuilt/``.

There is no TriCore C compiler here, so the firmware is written with ``tools/tricore_asm.py`` and
packed by ``tools/elf_writer.py``.  Output is byte-identical on every run; the committed ELFs must
equal a fresh build (``--check`` verifies that, and so does the test suite).

    python tools/build_tricore_firmware.py            # (re)write the ELFs
    python tools/build_tricore_firmware.py --check    # exit 1 if the committed ELFs are stale
    python tools/build_tricore_firmware.py --symbols  # print each ELF's symbol table

Firmware (every core of aurix-tc3xx runs the same ELF; the code finds its core id at run time):
  tricore_demo.elf       hello line, LCG checksum, one mailbox ping/reply with the HSM, idle
  tricore_spin.elf       CPU-bound benchmark loop between ``spin_loop`` and ``spin_end``
  tricore_mpu_probe.elf  prints "probe", then reads HSM-private RAM (must bus-fault)

Run-time layout (addresses from boards/aurix-tc3xx.toml):
  0x8000_0000  pflash: .text (entry ``_start``), then .rodata (strings)
  0xD000_0000  own DSPR (local alias): per-core variables (``core_id_var`` ...)
  0xD000_1000  64 context save areas (CSAs) for call/ret, linked by ``_start``
  0xD001_8000  initial stack pointer (a10), top of the smallest (96 KiB) DSPR
No initialised RAM data: every core's DSPR sits at the same local address, so a loader could not
tell which core's DSPR a .data segment was meant for.  The code initialises what it uses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
REPLY_VAR = DSPR + 0x8
PROGRESS_VAR = DSPR + 0xC             # 1 hello printed, 2 checksum printed, 3 ping sent, 4 reply printed
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
PING_OFFSET = 0x8                     # request data after the 8-byte CSR (wolfHSM shm layout)
REPLY_OFFSET = 0x1000 + 0x8           # response block data
PING_BASE_VALUE = 0x1000              # the ping word is PING_BASE_VALUE + core id

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
    asm.st_w("[a12]12", "d0")                 # PROGRESS_VAR (a12 = DSPR variables)


def _newline(asm: Assembler) -> None:
    asm.mov("d4", ord("\n"))
    asm.call("putc")


def _common_symbols(asm: Assembler) -> None:
    asm.equ("stack_top", STACK_TOP)
    asm.equ("csa_base", CSA_BASE, kind="object", size=CSA_COUNT * 64)


def build_demo() -> Program:
    """The board's default app firmware (see the module docstring and the issue brief)."""
    asm = Assembler(PFLASH)
    _startup(asm)
    asm.label("main", kind="func")
    # Register plan (upper context, so it survives every call): d8 core id, d9 scratch value,
    # d10 = 1 << core id, a12 DSPR variables, a13 mailbox channel, a14 HSM bridge, a15 INTC.
    asm.load_const("a15", INTC)
    asm.load_const("a12", DSPR)
    asm.ld_w("d8", f"[a15]{INTC_CORE_ID}")                  # (a) core id
    asm.st_w("[a12]0", "d8")
    asm.load_const("a4", "msg_hello")                        # (b) hello line
    asm.call("puts")
    asm.add("d4", "d8", ord("0"))
    asm.call("putc")
    _newline(asm)
    _progress(asm, 1)
    asm.mov("d4", "d8")                                      # (c) checksum seeded with the core id
    asm.call("checksum")
    asm.mov("d9", "d2")
    asm.st_w("[a12]4", "d9")
    asm.load_const("a4", "msg_checksum")
    asm.call("puts")
    asm.mov("d4", "d9")
    asm.call("puthex")
    _newline(asm)
    _progress(asm, 2)
    # (d) mailbox ping: request word in our channel, enable the reply IRQ, ring the doorbell.
    asm.sh("d0", "d8", 13)                                   # channel = base + id * 0x2000
    asm.load_const("d1", CHANNEL_BASE)
    asm.add("d0", "d0", "d1")
    asm.mov_a("a13", "d0")
    asm.mov("d0", PING_BASE_VALUE)
    asm.add("d0", "d0", "d8")
    asm.st_w(f"[a13]{PING_OFFSET}", "d0")
    asm.mov("d0", 1)
    asm.sh("d10", "d0", "d8")                                # d10 = 1 << core id
    asm.load_const("a14", MBOX)
    asm.ld_w("d0", f"[a14]{HSM2HTIE}")
    asm.or_("d0", "d0", "d10")
    asm.st_w(f"[a14]{HSM2HTIE}", "d0")
    asm.ld_w("d0", f"[a15]{INTC_ENABLE}")
    asm.or_("d0", "d0", 1)
    asm.st_w(f"[a15]{INTC_ENABLE}", "d0")
    asm.st_w(f"[a14]{HT2HSMF}", "d10")                       # doorbell
    _progress(asm, 3)
    asm.label("wait_loop")
    asm.ld_w("d0", f"[a15]{INTC_PENDING}")
    asm.jnz_t("d0", 0, "got_reply")
    asm.label("wait_reply")                                  # sleeps until line 0 is pending
    asm.wait()
    asm.j("wait_loop")
    asm.label("got_reply")
    asm.mov("d0", 1)
    asm.st_w(f"[a15]{INTC_PENDING}", "d0")                   # acknowledge line 0 (write 1 to clear)
    asm.st_w(f"[a14]{HSM2HTF}", "d10")                       # clear our HSM->host flag (w1c)
    asm.st_w(f"[a15]{INTC_PENDING}", "d0")                   # again, in case a level source re-latched
    asm.ld_w("d9", f"[a13]{REPLY_OFFSET}")
    asm.st_w("[a12]8", "d9")
    asm.load_const("a4", "msg_reply")
    asm.call("puts")
    asm.mov("d4", "d9")
    asm.call("puthex")
    _newline(asm)
    _progress(asm, 4)
    asm.label("idle", kind="func")                           # (e) sleep forever
    asm.wait()
    asm.j("idle")
    asm.end_symbol("idle")
    asm.end_symbol("main")
    _library(asm)

    asm.section(".rodata", flags="r")
    for name, text in (("msg_hello", "hello from tricore app core "), ("msg_checksum", "checksum "),
                       ("msg_reply", "hsm reply ")):
        asm.label(name, kind="object")
        asm.asciz(text)
        asm.end_symbol(name)
    _common_symbols(asm)
    for name, addr in (("core_id_var", CORE_ID_VAR), ("checksum_var", CHECKSUM_VAR),
                       ("reply_var", REPLY_VAR), ("progress_var", PROGRESS_VAR)):
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
