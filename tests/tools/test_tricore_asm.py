"""Tests for the TriCore mini assembler, the ELF writer and the prebuilt TriCore firmware.

The expectations here are written by hand from the TriCore architecture manual's encodings (field
layouts, opcodes) and from capstone's/Unicorn's independent view of them, never copied from the
assembler's output.
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

from tools import build_tricore_firmware as fw  # noqa: E402
from tools.elf_writer import EM_PPC, EM_TRICORE, ElfSegment, ElfSymbol, build_elf  # noqa: E402
from tools.tricore_asm import WAIT_WORD, AsmError, Assembler, Mem, encode, hi, lo, split_hi_lo  # noqa: E402

capstone = pytest.importorskip("capstone")
unicorn = pytest.importorskip("unicorn")
from elftools.elf.elffile import ELFFile  # noqa: E402
from unicorn import tricore_const as tc  # noqa: E402

BASE = 0x8000_0000
MASK = 0xFFFF_FFFF


# ---------------------------------------------------------------------------------------------
# (a) every emitted form disassembles to what the manual says it is
# ---------------------------------------------------------------------------------------------

# (assembler call, capstone mnemonic, capstone operands).  Branches target BASE (label "_start"),
# which capstone prints as an absolute address.  Capstone quirks noted inline.
FORMS = [
    (("mov", "d1", -5), "mov", "d1, #-5"),                              # RLC 0x3B
    (("mov", "d2", "d3"), "mov", "d2, d3"),                             # RR 0x0B/0x1F
    (("mov.u", "d4", 0xABCD), "mov.u", "d4, #0xabcd"),                  # RLC 0xBB
    (("movh", "d5", 0xF000), "movh", "d5, #0xf000"),                    # RLC 0x7B
    (("movh.a", "a2", 0xD001), "movh.a", "a2, #0xd001"),                # RLC 0x91
    (("mov.a", "a3", "d6"), "mov.a", "a3, d6"),                         # RR 0x01/0x63
    (("mov.d", "d7", "a4"), "mov.d", "d7, a4"),                         # RR 0x01/0x4C
    (("mov.aa", "a5", "a6"), "mov.aa", "a5, a6"),                       # RR 0x01/0x00
    (("lea", "sp", "[sp]-32768"), "lea", "sp, [sp]#-0x8000"),           # BOL 0xD9
    (("lea", "a2", Mem("a3", 0x7FFF)), "lea", "a2, [a3]#0x7fff"),
    (("add", "d1", "d2", "d3"), "add", "d1, d2, d3"),                   # RR 0x0B/0x00
    (("add", "d1", "d2", -256), "add", "d1, d2, #-0x100"),              # RC 0x8B/0x00
    (("addi", "d1", "d2", -0xCA1), "addi", "d1, d2, #-0xca1"),          # RLC 0x1B
    (("addih", "d1", "d2", 0x8000), "addih", "d1, d2, #0x8000"),        # RLC 0x9B
    (("sub", "d8", "d9", "d10"), "sub", "d8, d9, d10"),                 # RR 0x0B/0x08
    (("mul", "d0", "d0", "d1"), "mul", "d0, d0, d1"),                   # RR2 0x73/0x0A
    (("mul", "d0", "d0", 7), "mul", "d0, d0, #7"),                      # RC 0x53/0x01
    (("and", "d0", "d1", "d2"), "and", "d0, d1, d2"),                   # RR 0x0F/0x08
    (("and", "d0", "d1", 0xFF), "and", "d0, d1, #0xff"),                # RC 0x8F/0x08 (z9)
    (("or", "d0", "d1", "d2"), "or", "d0, d1, d2"),                     # RR 0x0F/0x0A
    (("or", "d0", "d1", 1), "or", "d0, d1, #1"),                        # RC 0x8F/0x0A
    (("xor", "d0", "d1", "d2"), "xor", "d0, d1, d2"),                   # RR 0x0F/0x0C
    (("xor", "d0", "d1", 0x55), "xor", "d0, d1, #0x55"),                # RC 0x8F/0x0C
    (("sh", "d0", "d1", 1), "sh", "d0, d1, #1"),                        # RC 0x8F/0x00
    (("sh", "d0", "d1", -28), "sh", "d0, d1, #-0x1c"),
    (("sh", "d0", "d1", "d2"), "sh", "d0, d1, d2"),                     # RR 0x0F/0x00
    (("sha", "d0", "d1", -3), "sha", "d0, d1, #-3"),                    # RC 0x8F/0x01
    (("sha", "d0", "d1", "d2"), "sha", "d0, d1, d2"),                   # RR 0x0F/0x01
    (("add.a", "a2", "a3", "a4"), "add.a", "a2, a3, a4"),               # RR 0x01/0x01
    (("sub.a", "a2", "a3", "a4"), "sub.a", "a2, a3, a4"),               # RR 0x01/0x02
    (("ld.b", "d0", "[a2]-1"), "ld.b", "d0, [a2]#-1"),                  # BO 0x09/0x20
    (("ld.bu", "d0", "[a2]5"), "ld.bu", "d0, [a2]#5"),                  # BO 0x09/0x21
    (("ld.h", "d0", "[a2]6"), "ld.h", "d0, [a2]#6"),                    # BO 0x09/0x22
    (("ld.hu", "d0", "[a2]8"), "ld.hu", "d0, [a2]#8"),                  # BO 0x09/0x23
    (("ld.w", "d0", "[a15]4"), "ld.w", "d0, [a15]#4"),                  # BO 0x09/0x24
    (("ld.a", "a4", "[a2]511"), "ld.a", "a4, [a2]#0x1ff"),              # BO 0x09/0x26
    (("ld.w", "d0", "[a2]0x1008"), "ld.w", "d0, [a2]#0x1008"),          # BOL 0x19
    (("ld.a", "a4", "[a2]-600"), "ld.a", "a4, [a2]#-0x258"),            # BOL 0x99
    (("ld.bu", "d3", "[a4]1000"), "ld.bu", "d3, [a4]#0x3e8"),           # BOL 0x39
    (("ld.b", "d3", "[a4]1000"), "ld.b", "d3, [a4]#0x3e8"),             # BOL 0x79
    (("ld.h", "d3", "[a4]-1000"), "ld.h", "d3, [a4]#-0x3e8"),           # BOL 0xC9
    (("ld.hu", "d3", "[a4]1000"), "ld.hu", "d3, [a4]#0x3e8"),           # BOL 0xB9
    (("st.b", "[a2]-512", "d1"), "st.b", "[a2]#-0x200, d1"),            # BO 0x89/0x20
    (("st.h", "[a2]2", "d1"), "st.h", "[a2]#2, d1"),                    # BO 0x89/0x22
    (("st.w", "[a2]8", "d1"), "st.w", "[a2]#8, d1"),                    # BO 0x89/0x24
    (("st.a", "[a2]12", "a3"), "st.a", "[a2]#0xc, a3"),                 # BO 0x89/0x26
    (("st.w", "[a14]0x1000", "d1"), "st.w", "[a14]#0x1000, d1"),        # BOL 0x59
    (("st.b", "[a14]0x1000", "d1"), "st.b", "[a14]#0x1000, d1"),        # BOL 0xE9
    (("st.h", "[a14]0x1000", "d1"), "st.h", "[a14]#0x1000, d1"),        # BOL 0xF9
    (("st.a", "[a14]0x1000", "a1"), "st.a", "[a14]#0x1000, a1"),        # BOL 0xB5
    (("ldmst", "[a14]0x2c", "e0"), "ldmst", "[a14]#0x2c, e0"),          # BO 0x49/0x21
    (("ldmst", "[a3]-4", "e14"), "ldmst", "[a3]#-4, e14"),
    (("swap.w", "[a3]4", "d2"), "swap.w", "[a3]#4, d2"),                # BO 0x49/0x20
    (("j", "_start"), "j", "#0x80000000"),                              # B 0x1D
    (("jl", "_start"), "jl", "#0x80000000"),                            # B 0x5D
    (("call", "_start"), "call", "#0x80000000"),                        # B 0x6D
    (("ji", "a11"), "ji", "a11"),                                       # RR 0x2D/0x03
    (("calli", "a2"), "calli", "a2"),                                   # RR 0x2D/0x00
    (("ret",), "ret", ""),                                              # SYS 0x0D/0x06
    (("jeq", "d0", "d1", "_start"), "jeq", "d0, d1, #0x80000000"),      # BRR 0x5F/0
    (("jne", "d0", -8, "_start"), "jne", "d0, #-8, #0x80000000"),       # BRC 0xDF/1
    (("jlt", "d0", "d1", "_start"), "jlt", "d0, d1, #0x80000000"),      # BRR 0x3F/0
    (("jlt.u", "d0", 15, "_start"), "jlt.u", "d0, #0xf, #0x80000000"),  # BRC 0xBF/1 (const4 unsigned)
    (("jge", "d0", 7, "_start"), "jge", "d0, #7, #0x80000000"),         # BRC 0xFF/0
    (("jge.u", "d0", "d2", "_start"), "jge.u", "d0, d2, #0x80000000"),  # BRR 0x7F/1
    (("jz", "d3", "_start"), "jeq", "d3, #0, #0x80000000"),             # alias: BRC jeq #0
    (("jnz", "d3", "_start"), "jne", "d3, #0, #0x80000000"),            # alias: BRC jne #0
    (("jz.a", "a3", "_start"), "jz.a", "a3, #0x80000000"),              # BRR 0xBD/0
    (("jnz.a", "a3", "_start"), "jnz.a", "a3, #0x80000000"),            # BRR 0xBD/1
    (("jz.t", "d1", 0, "_start"), "jz.t", "d1, #0, #0x80000000"),       # BRN 0x6F/0
    (("jnz.t", "d1", 31, "_start"), "jnz.t", "d1, #0x1f, #0x80000000"),  # BRN 0x6F/1 (n[4] in bit 7)
    (("loop", "a3", "_start"), "loop", "a3, #0x80000000"),              # BRR 0xFD/0
    (("nop",), "nop", ""),                                              # SYS 0x0D/0x00
    (("debug",), "debug", ""),                                          # SYS 0x0D/0x04
    (("wait",), "wait", ""),                                            # SYS 0x0D/0x16
    (("dsync",), "dsync", ""),                                          # SYS 0x0D/0x12
    (("isync",), "isync", ""),                                          # SYS 0x0D/0x13
    (("mtcr", "FCX", "d0"), "mtcr", "#-0x1c8, d0"),                     # RLC 0xCD (capstone: signed)
    (("mfcr", "d1", "PSW"), "mfcr", "d1, #0xfe04"),                     # RLC 0x4D
    (("nop16",), "nop", ""),                                            # SR 0x00/0x0
    (("ret16",), "ret", ""),                                            # SR 0x00/0x9
    (("debug16",), "debug", ""),                                        # SR 0x00/0xA
    (("mov16", "d1", -8), "mov", "d1, #-8"),                            # SRC 0x82
    (("mov16", "d1", "d2"), "mov", "d1, d2"),                           # SRR 0x02
    (("add16", "d1", 7), "add", "d1, #7"),                              # SRC 0xC2
    (("add16", "d1", "d2"), "add", "d1, d2"),                           # SRR 0x42
    (("ld.w16", "d1", "[a2]"), "ld.w", "d1, [a2]"),                     # SLR 0x54
    (("st.w16", "[a2]", "d1"), "st.w", "[a2], d1"),                     # SSR 0x74
]


def _disasm(data: bytes, addr: int = BASE):
    md = capstone.Cs(capstone.CS_ARCH_TRICORE, capstone.CS_MODE_TRICORE_162)
    return list(md.disasm(data, addr))


def test_every_form_disassembles_as_intended():
    asm = Assembler(BASE)
    asm.label("_start")
    for call, _, _ in FORMS:
        asm.op(*call)
    asm.label("near")
    asm.j16("near")                                          # SB 0x3C, disp8 = 0
    data = asm.assemble().section(".text").data
    insns = _disasm(data)
    assert sum(i.size for i in insns) == len(data), "capstone stopped early: undecodable bytes"
    assert len(insns) == len(FORMS) + 1
    for (call, mnemonic, operands), insn in zip(FORMS, insns, strict=False):
        size = 2 if call[0].endswith("16") else 4
        assert (insn.mnemonic, insn.op_str, insn.size) == (mnemonic, operands, size), call
    last = insns[-1]
    assert (last.mnemonic, last.op_str, last.size) == ("j", f"#{last.address:#x}", 2)


# Raw words built by hand from the manual's field layouts (op1 in bits 7:0, ...).
RAW = [
    (("wait",), 0x0D | 0x16 << 22),                                      # = 0x0580000D
    (("nop",), 0x0000_000D),
    (("debug",), 0x0D | 0x04 << 22),
    (("ret",), 0x0D | 0x06 << 22),
    (("mov", "d1", -5), 1 << 28 | 0xFFFB << 12 | 0x3B),                  # RLC: c, const16, op1
    (("ld.w", "d0", "[a15]4"), 0x24 << 22 | 4 << 16 | 15 << 12 | 0x09),  # BO: op2, off[5:0], b, a, op1
    (("mul", "d0", "d0", "d1"), 0x0A << 16 | 1 << 12 | 0x73),            # RR2
    (("sh", "d6", "d2", -31), 6 << 28 | 0x00 << 21 | (-31 & 0x1FF) << 12 | 2 << 8 | 0x8F),
    (("st.w", "[a14]0x1008", "d1"), (0x1008 >> 6 & 0xF) << 28 | (0x1008 >> 10) << 22 | (0x1008 & 0x3F) << 16
     | 14 << 12 | 1 << 8 | 0x59),                                        # BOL
    (("ldmst", "[a14]44", "e2"), 0x21 << 22 | 44 << 16 | 14 << 12 | 2 << 8 | 0x49),   # BO, a = even d of the pair
    (("swap.w", "[a2]-8", "d3"), (-8 & 0x3FF) >> 6 << 28 | 0x20 << 22 | (-8 & 0x3F) << 16 | 2 << 12 | 3 << 8 | 0x49),
]


@pytest.mark.parametrize(("call", "word"), RAW, ids=[c[0][0] for c in RAW])
def test_raw_encodings(call, word):
    assert encode(call[0], call[1:]) == struct.pack("<I", word)


def test_wait_word_and_16bit_words():
    assert WAIT_WORD == 0x0580_000D and encode("wait", ()) == bytes.fromhex("0d008005")
    assert encode("ret16", ()) == b"\x00\x90"
    assert encode("debug16", ()) == b"\x00\xa0"
    assert encode("nop16", ()) == b"\x00\x00"


def test_hi_lo_sign_carry():
    for value in (0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x1234_8765, 0x8000_8000, 0xF000_8000, MASK):
        h, low = split_hi_lo(value)
        signed_low = low - 0x1_0000 if low & 0x8000 else low
        assert ((h << 16) + signed_low) & MASK == value


def test_errors():
    asm = Assembler(BASE)
    asm.label("_start")
    asm.jeq("d0", 8, "_start")              # const4 of jeq is signed: 8 does not fit, and no BRR form
    with pytest.raises(AsmError, match="no encoding"):
        asm.assemble()
    asm = Assembler(BASE)
    asm.label("_start")
    asm.j("nowhere")
    with pytest.raises(AsmError, match="undefined symbol"):
        asm.assemble()
    asm = Assembler(BASE)
    asm.label("_start")
    asm.j16("far")
    asm.space(400)
    asm.label("far")
    with pytest.raises(AsmError, match="does not fit"):
        asm.assemble()
    with pytest.raises(AsmError):
        encode("ld.w", ("a0", "[a2]0"))     # ld.w needs a data register
    with pytest.raises(AsmError, match="no encoding"):
        encode("ldmst", ("[a2]0", "e3"))    # extended registers are even pairs
    with pytest.raises(AsmError, match="no encoding"):
        encode("ldmst", ("[a2]0", "d2"))
    with pytest.raises(AsmError, match="no encoding"):
        encode("ldmst", ("[a2]0x1000", "e2"))   # BO only: off10
    with pytest.raises(AsmError, match="d or a register"):
        Assembler(BASE).load_const("e2", 1)
    with pytest.raises(AttributeError):
        Assembler(BASE).frobnicate  # noqa: B018


# ---------------------------------------------------------------------------------------------
# (b) assembled programs run correctly in a bare Unicorn TriCore
# ---------------------------------------------------------------------------------------------

RAM = 0xD000_0000


def _uc(program, ram_size=0x8000):
    uc = unicorn.Uc(unicorn.UC_ARCH_TRICORE, unicorn.UC_MODE_LITTLE_ENDIAN)
    end = max(s.addr + len(s.data) for s in program.sections if s.addr >= BASE)
    uc.mem_map(BASE, (end - BASE + 0x3FFF) & ~0x3FFF)      # TriCore pages are 16 KiB
    uc.mem_map(RAM, ram_size)
    for s in program.sections:
        uc.mem_write(s.addr, s.data)
    return uc


def _lcg(seed, steps):
    x = seed
    for _ in range(steps):
        x = (x * 1664525 + 1013904223) & MASK
    return x


def test_program_runs_in_unicorn():
    """Call/ret with a CSA list set up through mtcr, loop, jl/ji, loads/stores, branches, 16-bit forms."""
    a = Assembler(BASE)
    a.label("_start")
    a.load_const("sp", RAM + 0x8000)
    a.load_const("a15", RAM)                                 # results: one word per check
    # free CSA list: 8 contexts at RAM + 0x4000, linked through their first word
    a.load_const("a2", RAM + 0x4000)
    a.load_const("d0", 0xD << 16 | (0x4000 >> 6))
    a.mtcr("FCX", "d0")
    a.mov("d1", 6)
    a.mov_a("a3", "d1")
    a.label("link")
    a.add("d0", "d0", 1)
    a.st_w("[a2]0", "d0")
    a.lea("a2", "[a2]64")
    a.loop("a3", "link")
    a.mov("d1", 0)
    a.st_w("[a2]0", "d1")
    a.load_const("d0", 0xD << 16 | (0x4000 >> 6) + 6)
    a.mtcr("LCX", "d0")
    a.isync()
    # 0: LCG through call/ret; d8 (upper context) must survive the call
    a.load_const("d8", 0x5A5A_1234)
    a.mov("d4", 1)
    a.mov("d5", 1000)
    a.call("lcg")
    a.st_w("[a15]0", "d2")
    a.st_w("[a15]4", "d8")                                   # 1
    # 2..5: constants
    for i, value in enumerate((0x1234_8765, 0xFFFF_FFFE, 0x8000, 0xF000_0000)):
        a.load_const("d1", value)
        a.st_w(f"[a15]{8 + 4 * i}", "d1")
    a.load_const("a4", 0xD000_8000)                          # 6: address register, carry case
    a.mov_d("d1", "a4")
    a.st_w("[a15]24", "d1")
    # 7..9: logic and shifts
    a.mov("d1", -1)
    a.and_("d2", "d1", 0x1FF)                                # zero-extended const9
    a.st_w("[a15]28", "d2")
    a.movh("d1", 0x8000)
    a.sh("d2", "d1", -31)
    a.st_w("[a15]32", "d2")
    a.sha("d2", "d1", -4)
    a.st_w("[a15]36", "d2")
    # 10..13: byte/half loads through a long (BOL) and a short (BO) offset
    a.mov("d1", 0x80FF - 0x1_0000)
    a.st_h("[a15]0x1000", "d1")
    a.ld_b("d2", "[a15]0x1000")
    a.st_w("[a15]40", "d2")
    a.ld_bu("d2", "[a15]0x1000")
    a.st_w("[a15]44", "d2")
    a.ld_h("d2", "[a15]0x1000")
    a.st_w("[a15]48", "d2")
    a.ld_hu("d2", "[a15]0x1000")
    a.st_w("[a15]52", "d2")
    # 14: jl/ji leaf call, then conditional branches, each taken branch adds a bit
    a.mov("d3", 0)
    a.jl("leaf")
    a.mov("d1", 5)
    a.jge("d1", 5, "t1")
    a.j("fail")
    a.label("t1")
    a.jlt_u("d1", 6, "t2")
    a.j("fail")
    a.label("t2")
    a.jz_t("d1", 1, "t3")                                    # bit 1 of 5 is clear
    a.j("fail")
    a.label("t3")
    a.jnz_a("a15", "t4")
    a.j("fail")
    a.label("t4")
    a.jne("d1", "d3", "t5")
    a.j("fail")
    a.label("t5")
    a.or_("d3", "d3", 0x100)
    a.st_w("[a15]56", "d3")
    # 15: 16-bit forms
    a.mov16("d1", -8)
    a.add16("d1", 7)                                         # -1
    a.mov16("d2", "d1")
    a.add16("d2", "d1")                                      # -2
    a.j16("skip")
    a.mov16("d2", 0)
    a.label("skip")
    a.mov_aa("a2", "a15")
    a.lea("a2", "[a2]60")
    a.st_w16("[a2]", "d2")
    a.ld_w16("d4", "[a2]")
    # 16: mul RC, addih, sub
    a.mul("d1", "d4", 3)
    a.addih("d1", "d1", 0x10)
    a.sub("d1", "d1", "d4")
    a.st_w("[a15]64", "d1")
    # 17, 18: data directives and symbol arithmetic (a word holding an address; hi/lo of label+2)
    a.load_const("a4", "table")
    a.ld_w("d1", "[a4]4")
    a.st_w("[a15]68", "d1")
    a.movh("d1", hi("msg+2"))
    a.addi("d1", "d1", lo("msg+2"))
    a.ld_bu("d2", "[a4]8")                                   # first byte of msg, through the table
    a.sh("d2", "d2", 24)
    a.or_("d1", "d1", "d2")
    a.st_w("[a15]72", "d1")
    a.label("done")
    a.nop()
    a.label("fail")
    a.debug()
    a.j("fail")

    a.label("lcg")                                           # d2 = lcg^d5(d4); clobbers d8 on purpose
    a.mov("d2", "d4")
    a.add("d5", "d5", -1)
    a.mov_a("a2", "d5")
    a.load_const("d6", 1664525)
    a.load_const("d7", 1013904223)
    a.mov("d8", 0)
    a.label("lcg_loop")
    a.mul("d2", "d2", "d6")
    a.add("d2", "d2", "d7")
    a.loop("a2", "lcg_loop")
    a.ret()
    a.label("leaf")
    a.or_("d3", "d3", 1)
    a.ji("a11")
    a.section(".rodata", flags="r", align=16)
    a.label("table")
    a.word(0x1234_5678, "lcg")
    a.ascii("Q")
    a.align(4)
    a.label("msg")
    a.asciz("hi!")

    prog = a.assemble()
    uc = _uc(prog)
    uc.emu_start(prog.entry, prog.symbols["done"].value, count=100_000)
    assert uc.reg_read(tc.UC_TRICORE_REG_PC) == prog.symbols["done"].value
    got = struct.unpack("<19I", uc.mem_read(RAM, 76))
    expected = (
        _lcg(1, 1000), 0x5A5A_1234,
        0x1234_8765, 0xFFFF_FFFE, 0x8000, 0xF000_0000, 0xD000_8000,
        0x1FF, 1, 0xF800_0000,
        0xFFFF_FFFF, 0xFF, 0xFFFF_80FF, 0x80FF,
        0x101, 0xFFFF_FFFE,
        (0xFFFF_FFFE * 3 + 0x10_0000 - 0xFFFF_FFFE) & MASK,
        prog.symbols["lcg"].value, (prog.symbols["msg"].value + 2) | ord("Q") << 24,
    )
    rodata = prog.section(".rodata")
    assert rodata.addr % 16 == 0 and prog.symbols["msg"].value == rodata.addr + 12
    assert prog.read(prog.symbols["msg"].value, 4) == b"hi!\0"
    assert got == expected


def test_ldmst_and_swap_run_in_unicorn():
    """ldmst: word = word & ~mask | value & mask as one read and one write (also on MMIO);
    swap.w: register and memory word exchanged."""
    a = Assembler(BASE)
    a.label("_start")
    a.load_const("a2", RAM)
    a.load_const("a3", 0xF000_0000)
    a.load_const("d0", 0x0000_00F0)                          # e0 = d1:d0 = mask:value
    a.load_const("d1", 0x0000_0FF0)
    a.ldmst("[a2]4", "e0")
    a.ldmst("[a3]0x2c", "e0")
    a.load_const("d5", 0x1234_5678)
    a.swap_w("[a2]8", "d5")
    a.label("done")
    a.nop()
    prog = a.assemble()
    uc = _uc(prog)
    uc.mem_write(RAM, struct.pack("<3I", 0, 0xAAAA_AAAA, 0xCAFE_F00D))
    reg, log = [0x1234_5555], []

    def mmio_r(uc, off, size, _):
        log.append(("r", off, size))
        return reg[0]

    def mmio_w(uc, off, size, value, _):
        log.append(("w", off, size, value))
        reg[0] = value

    uc.mmio_map(0xF000_0000, 0x4000, mmio_r, None, mmio_w, None)
    uc.emu_start(prog.entry, prog.symbols["done"].value, count=100)
    assert uc.reg_read(tc.UC_TRICORE_REG_PC) == prog.symbols["done"].value
    assert struct.unpack("<2I", uc.mem_read(RAM + 4, 8)) == (0xAAAA_A0FA, 0x1234_5678)
    assert log == [("r", 0x2C, 4), ("w", 0x2C, 4, 0x1234_50F5)]
    assert uc.reg_read(tc.UC_TRICORE_REG_D5) == 0xCAFE_F00D


# ---------------------------------------------------------------------------------------------
# (c) the ELF writer's output reads back with pyelftools
# ---------------------------------------------------------------------------------------------

def test_elf_writer_tricore_roundtrip():
    code = bytes(range(16))
    elf = ELFFile(io.BytesIO(build_elf(
        machine=EM_TRICORE, entry=BASE + 4,
        segments=[ElfSegment(".text", BASE, code, "rx"), ElfSegment(".data", 0x9000_0000, b"\1\2\3", "rw"),
                  ElfSegment(".bss", 0x9000_0100, b"", "rw", mem_size=0x40)],
        symbols=[ElfSymbol("_start", BASE + 4, 8, "func"), ElfSymbol(".local", BASE, binding="local"),
                 ElfSymbol("table", 0x9000_0000, 3, "object"), ElfSymbol("end_text", BASE + 16),
                 ElfSymbol("mmio", 0xF000_0000)])))
    assert elf.little_endian and elf.elfclass == 32
    assert elf.header.e_machine == "EM_TRICORE" and elf.header.e_type == "ET_EXEC"
    assert elf.header.e_entry == BASE + 4
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    assert [(s["p_vaddr"], s["p_paddr"], s["p_filesz"], s["p_memsz"], s["p_flags"]) for s in loads] == [
        (BASE, BASE, 16, 16, 5), (0x9000_0000, 0x9000_0000, 3, 3, 6), (0x9000_0100, 0x9000_0100, 0, 0x40, 6)]
    assert loads[0].data() == code and loads[1].data() == b"\1\2\3"
    assert elf.get_section_by_name(".text").data() == code
    assert elf.get_section_by_name(".bss")["sh_type"] == "SHT_NOBITS"
    symtab = elf.get_section_by_name(".symtab")
    syms = {s.name: s for s in symtab.iter_symbols() if s.name}
    assert syms["_start"]["st_value"] == BASE + 4 and syms["_start"]["st_size"] == 8
    assert syms["_start"]["st_info"]["type"] == "STT_FUNC" and syms["_start"]["st_info"]["bind"] == "STB_GLOBAL"
    assert syms[".local"]["st_info"]["bind"] == "STB_LOCAL"
    assert symtab["sh_info"] == 2                               # null + one local
    assert syms["table"]["st_info"]["type"] == "STT_OBJECT"
    assert elf.get_section(syms["table"]["st_shndx"]).name == ".data"
    assert elf.get_section(syms["end_text"]["st_shndx"]).name == ".text"
    assert syms["mmio"]["st_shndx"] == "SHN_ABS"


def test_elf_writer_big_endian():
    elf = ELFFile(io.BytesIO(build_elf(machine=EM_PPC, entry=0x100, big_endian=True,
                                       segments=[ElfSegment(".text", 0x100, b"\x48\x00\x00\x00")],
                                       symbols=[ElfSymbol("_start", 0x100, 4, "func")])))
    assert not elf.little_endian and elf.header.e_machine == "EM_PPC" and elf.header.e_entry == 0x100
    assert elf.get_section_by_name(".symtab").get_symbol_by_name("_start")[0]["st_value"] == 0x100


# ---------------------------------------------------------------------------------------------
# (d) the firmware build is deterministic and the committed ELFs are current
# ---------------------------------------------------------------------------------------------

def test_build_is_deterministic_and_committed_elfs_are_current():
    first, second = fw.build_all(), fw.build_all()
    assert first == second
    assert set(first) == {"tricore_demo.elf", "tricore_spin.elf", "tricore_mpu_probe.elf"}
    for name, data in first.items():
        path = fw.OUT_DIR / name
        assert path.is_file(), f"{path} missing: run tools/build_tricore_firmware.py"
        assert path.read_bytes() == data, f"{path} is stale: run tools/build_tricore_firmware.py"


def _load(name):
    elf = ELFFile(io.BytesIO((fw.OUT_DIR / name).read_bytes()))
    assert elf.header.e_machine == "EM_TRICORE"
    syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
    uc = unicorn.Uc(unicorn.UC_ARCH_TRICORE, unicorn.UC_MODE_LITTLE_ENDIAN)
    uc.mem_map(0x8000_0000, 0x20_0000, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)  # pflash, 2 MiB
    uc.mem_map(0xD000_0000, 0x1_8000)                       # own DSPR, 96 KiB
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD":
            uc.mem_write(seg["p_vaddr"], seg.data())
    return elf, syms, uc


class _Board:
    """Python models of the UART, INTC and mailbox registers, as mmio_map callbacks."""

    def __init__(self, uc, core_id):
        self.core_id, self.out, self.pending, self.enable, self.ie = core_id, [], 0, 0, 0
        self.writes = []
        uc.mmio_map(0xF000_0000, 0x4000, self._uart_r, None, self._uart_w, None)
        uc.mmio_map(0xF000_8000, 0x4000, self._intc_r, None, self._intc_w, None)
        uc.mmio_map(0xF004_0000, 0x2_0000, self._mbox_r, None, self._mbox_w, None)
        uc.mem_map(0x9004_0000, 0x1_0000)                    # LMU: mailbox channels 0..5

    def _uart_r(self, uc, off, size, _):
        return 1 if off == 4 else 0                          # STATUS: TX always ready

    def _uart_w(self, uc, off, size, value, _):
        if off == 0:
            self.out.append(chr(value & 0xFF))

    def _intc_r(self, uc, off, size, _):
        return {0x0: self.core_id, 0x4: self.pending, 0x8: self.enable}.get(off, 0)

    def _intc_w(self, uc, off, size, value, _):
        self.writes.append(("intc", off, value))
        if off == 0x4:
            self.pending &= ~value
        elif off == 0x8:
            self.enable = value

    def _mbox_r(self, uc, off, size, _):
        return self.ie if off == 0x2C else 0

    def _mbox_w(self, uc, off, size, value, _):
        self.writes.append(("mbox", off, value))
        if off == 0x2C:
            self.ie = value

    @property
    def text(self):
        return "".join(self.out)


def _checksum(core_id):
    """Independent model of the demo's workload: LCG x from the core id, acc ^= x, acc rotl 1."""
    x, acc = core_id, 0
    for _ in range(20000):
        x = (x * 1664525 + 1013904223) % 2**32
        acc = ((acc ^ x) * 2 % 2**32) | ((acc ^ x) >> 31)
    return acc


@pytest.mark.parametrize("core_id", range(6))
def test_demo_firmware_smoke(core_id):
    """Up to the first wolfHSM request: hello, checksum, channel attach, COMM INIT sent, asleep.
    (The whole request sequence against a responder: tests/tools/test_tricore_wolfhsm_demo.py.)"""
    elf, syms, uc = _load("tricore_demo.elf")
    assert elf.header.e_entry == syms["_start"] == 0x8000_0000
    board = _Board(uc, core_id)
    board.ie = 0b10_0000 if core_id != 5 else 0b1           # another core's enable bit is set already
    others = board.ie
    stops = []

    def stop_here(uc, addr, size, _):                        # what the emulator does at `wait`
        stops.append(addr)
        uc.emu_stop()

    for name in ("hsm_wait", "idle"):
        uc.hook_add(unicorn.UC_HOOK_CODE, stop_here, begin=syms[name], end=syms[name])
    uc.emu_start(syms["_start"], 0xFFFF_FFF0, count=1_000_000)
    assert stops == [syms["hsm_wait"]]                       # no response yet: the core sleeps
    assert struct.unpack("<I", uc.mem_read(0xD000_0000, 4))[0] == core_id    # core_id_var
    assert uc.reg_read(tc.UC_TRICORE_REG_SP) == 0xD001_8000
    channel = 0x9004_0000 + core_id * 0x2000
    # request CSR: notify 1, len 12, ack 0, wait 0; packet: magic 01 a5, COMM INIT 0x0101, seq 1,
    # aux 0, client id = core id + 1
    assert struct.unpack("<4H", uc.mem_read(channel, 8)) == (1, 12, 0, 0)
    assert bytes(uc.mem_read(channel + 8, 12)) == bytes([1, 0xA5, 1, 1, 1, 0, 0, 0, core_id + 1, 0, 0, 0])
    assert struct.unpack("<4H", uc.mem_read(channel + 0x1000, 8)) == (0, 0, 0, 0)
    assert board.ie == others | 1 << core_id and board.enable & 1
    assert ("mbox", 0x20, 1 << core_id) in board.writes      # doorbell
    assert board.text == (f"hello from tricore app core {core_id}\n"
                          f"checksum {_checksum(core_id):08x}\n")
    assert fw.checksum(core_id) == _checksum(core_id)


def test_demo_firmware_pending_already_set():
    """A line 0 pending before any response is acknowledged (with the HSM2HTF bit) and the core
    goes to sleep instead of spinning or running on."""
    _, syms, uc = _load("tricore_demo.elf")
    board = _Board(uc, 0)
    board.pending = 1
    uc.hook_add(unicorn.UC_HOOK_CODE, lambda uc, *_: uc.emu_stop(), begin=syms["hsm_wait"], end=syms["hsm_wait"])
    uc.emu_start(syms["_start"], 0xFFFF_FFF0, count=1_000_000)
    assert uc.reg_read(tc.UC_TRICORE_REG_PC) == syms["hsm_wait"]
    assert board.pending == 0 and ("mbox", 0x28, 1) in board.writes
    assert board.text == f"hello from tricore app core 0\nchecksum {_checksum(0):08x}\n"


def test_mpu_probe_faults_at_probe_load():
    _, syms, uc = _load("tricore_mpu_probe.elf")
    board = _Board(uc, 0)
    with pytest.raises(unicorn.UcError) as err:              # 0x2000_0000 is not mapped here
        uc.emu_start(syms["_start"], 0xFFFF_FFF0, count=100_000)
    assert err.value.errno == unicorn.UC_ERR_READ_UNMAPPED
    assert uc.reg_read(tc.UC_TRICORE_REG_PC) == syms["probe_load"]
    assert board.text == "probe\n"


def test_spin_firmware_loops_without_mmio():
    """Nothing but pflash and the DSPR is mapped, so any MMIO access would raise."""
    _, syms, uc = _load("tricore_spin.elf")
    assert syms["_start"] < syms["spin_loop"] < syms["spin_end"]
    prologue = (syms["spin_loop"] - syms["_start"]) // 4     # straight-line 32-bit instructions
    per_iteration = (syms["spin_end"] - syms["spin_loop"]) // 4
    assert per_iteration == 9
    iterations = 5000
    uc.emu_start(syms["_start"], 0xFFFF_FFF0, count=prologue + iterations * per_iteration)
    assert uc.reg_read(tc.UC_TRICORE_REG_PC) == syms["spin_loop"]
    assert uc.reg_read(tc.UC_TRICORE_REG_D0) == _lcg(1, iterations)
    assert struct.unpack("<I", uc.mem_read(syms["spin_var"], 4))[0] == uc.reg_read(tc.UC_TRICORE_REG_D2) ^ (
        uc.reg_read(tc.UC_TRICORE_REG_D0) >> 16)


@pytest.mark.parametrize(("name", "wait_symbols"), [("tricore_demo.elf", {"hsm_wait", "idle"}),
                                                    ("tricore_mpu_probe.elf", {"idle"}),
                                                    ("tricore_spin.elf", set())])
def test_text_is_pure_code_and_waits_are_at_symbols(name, wait_symbols):
    """.text holds only instructions, and every `wait` sits at an exported symbol, so an emulator
    can find its stop points by symbol or by scanning .text for WAIT_WORD."""
    elf, syms, _ = _load(name)
    text = elf.get_section_by_name(".text")
    insns = _disasm(text.data(), text["sh_addr"])
    assert sum(i.size for i in insns) == text["sh_size"]
    waits = {i.address for i in insns if i.mnemonic == "wait"}
    assert waits == {syms[s] for s in wait_symbols}
    scanned = {text["sh_addr"] + off for off in range(0, text["sh_size"] - 3, 2)
               if struct.unpack_from("<I", text.data(), off)[0] == WAIT_WORD}
    assert scanned == waits
