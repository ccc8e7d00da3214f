"""A small TriCore (TC1.6.x, little-endian) assembler for the app-core firmware of hsmemu.

Why it exists: Debian and PyPI have no TriCore toolchain and keystone has no TriCore back end, yet
the aurix-tc3xx board wants real TriCore machine code on its app cores.  This module encodes the
small subset of the TriCore instruction set that our demo and test firmware needs.  Every encoding
is checked against capstone (``CS_ARCH_TRICORE``) in ``tests/tools/test_tricore_asm.py``.

Programs are written as Python calls instead of text::

    asm = Assembler(0x8000_0000)
    asm.label("_start", kind="func")
    asm.load_const("a10", 0xD001_8000)     # movh.a + lea (the pair handles the sign carry)
    asm.mov("d0", 0)
    asm.label("again")
    asm.add("d0", "d0", 1)
    asm.jne("d0", 10, "again")              # 32-bit BRC form, disp15
    asm.ld_w("d1", "[a10]-4")               # BO form when the offset fits 10 bits, else BOL
    asm.section(".rodata", flags="r")
    asm.label("msg", kind="object")
    asm.asciz("hello")
    prog = asm.assemble()                   # bytes per section + symbol table

Method names are mnemonics with ``.`` written as ``_`` and a trailing ``_`` for Python keywords
(``asm.ld_w`` is ``ld.w``, ``asm.jlt_u`` is ``jlt.u``, ``asm.and_`` is ``and``); ``asm.op("ld.w",
...)`` does the same by name.  Mnemonics ending in ``16`` are the 16-bit encodings (``mov16``,
``j16``, ...); everything else is a 32-bit encoding, so every instruction's size is known before
labels are resolved and two passes suffice (pass 1 lays out, pass 2 encodes).

Operands:
  * registers ``"d0"``..``"d15"``, ``"a0"``..``"a15"``; ``"sp"`` is a10 and ``"ra"`` is a11;
    extended (64-bit) data registers ``"e0"``, ``"e2"``..``"e14"`` (eN = d(N+1):dN);
  * immediates: an ``int``, a symbol expression ``"name"`` / ``"name+8"``, or ``hi(expr)`` /
    ``lo(expr)`` (the halves for movh/addi and movh.a/lea: ``hi`` already adds the carry that the
    sign-extended low half needs);
  * memory operands ``"[a2]"``, ``"[a2]-8"``, ``"[a2]0x1008"`` or ``Mem("a2", lo("sym"))``;
  * branch targets: a label name (or an absolute address as ``int``).

Instruction subset (32-bit unless noted; format letters as in the TriCore architecture manual):
  moves      mov (RLC const16 / RR), mov.u, movh, movh.a, mov.a, mov.d, mov.aa, lea (BOL)
  arithmetic add (RR / RC), addi, addih, sub, mul (RR2 / RC), add.a, sub.a
  logic      and, or, xor, sh, sha (RR / RC; shift count < 0 shifts right)
  memory     ld.b, ld.bu, ld.h, ld.hu, ld.w, ld.a (BO off10 / BOL off16), st.b, st.h, st.w, st.a
  atomic     ldmst [a]off10, eN (word = word & ~d(N+1) | dN & d(N+1): set/clear bits in one
             instruction, e.g. a shared MMIO enable register); swap.w [a]off10, d (BO)
  control    j, jl, ji, call, calli, ret, loop, jeq, jne, jlt, jlt.u, jge, jge.u (BRR / BRC),
             jz/jnz (= jeq/jne against #0), jz.a, jnz.a, jz.t, jnz.t (BRN)
  system     nop, debug, wait, isync, dsync, mtcr, mfcr
  16-bit     nop16, ret16, debug16, mov16 (SRC / SRR), add16 (SRC / SRR), j16 (SB),
             ld.w16 (SLR), st.w16 (SSR)
  pseudo     load_const (d or a register, any 32-bit value or symbol)
  data       byte, half, word (ints or symbol expressions), ascii, asciz, space, align
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CSFR", "WAIT_WORD", "AsmError", "Assembler", "Mem", "Program", "SectionImage", "Symbol",
           "encode", "hi", "lo", "split_hi_lo"]

#: The 32-bit encoding of ``wait`` (SYS format, op1 0x0D, op2 0x16).  Unicorn does not implement it
#: (it traps as an illegal opcode), so the emulator has to stop a core in front of it.
WAIT_WORD = 0x0580_000D

#: Core special function register addresses for mtcr/mfcr (TriCore architecture manual, CSFR table).
CSFR = {"PCXI": 0xFE00, "PSW": 0xFE04, "PC": 0xFE08, "SYSCON": 0xFE14, "CORE_ID": 0xFE1C,
        "BIV": 0xFE20, "BTV": 0xFE24, "ISP": 0xFE28, "ICR": 0xFE2C, "FCX": 0xFE38, "LCX": 0xFE3C}


class AsmError(ValueError):
    """Bad operand, unknown symbol or value out of range for its field."""


# ---------------------------------------------------------------------------------------------
# Values: ints, symbol expressions, hi/lo halves
# ---------------------------------------------------------------------------------------------

def split_hi_lo(value: int) -> tuple[int, int]:
    """Split a 32-bit value into (hi, lo) so that ``(hi << 16) + sign_extend(lo) == value``.

    addi and lea sign-extend their 16-bit operand, so when bit 15 of the value is set the high
    half must be one larger to compensate (the "sign carry").
    """
    value &= 0xFFFF_FFFF
    return ((value + 0x8000) >> 16) & 0xFFFF, value & 0xFFFF


@dataclass(frozen=True)
class _Half:
    expr: object
    upper: bool


def hi(expr) -> _Half:
    """High half of ``expr`` for movh/movh.a/addih, carry-adjusted for a following addi/lea."""
    return _Half(expr, True)


def lo(expr) -> _Half:
    """Low half of ``expr`` for addi/lea (used signed; ``hi`` carries the correction)."""
    return _Half(expr, False)


_EXPR_RE = re.compile(r"^\s*([A-Za-z_.$][\w.$]*)\s*(?:([+-])\s*(0[xX][0-9a-fA-F]+|\d+))?\s*$")


def _eval(value, symbols: dict[str, Symbol]) -> int:
    """Evaluate an immediate: int, "sym", "sym+off" or hi()/lo() of those."""
    if isinstance(value, bool):
        raise AsmError(f"bad immediate {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, _Half):
        h, low = split_hi_lo(_eval(value.expr, symbols))
        if value.upper:
            return h
        return low - 0x1_0000 if low & 0x8000 else low
    if isinstance(value, str):
        m = _EXPR_RE.match(value)
        if not m:
            raise AsmError(f"bad expression {value!r}")
        name, sign, num = m.groups()
        if name not in symbols:
            raise AsmError(f"undefined symbol {name!r}")
        off = int(num, 0) if num else 0
        return symbols[name].value + (-off if sign == "-" else off)
    raise AsmError(f"bad immediate {value!r}")


@dataclass(frozen=True)
class Mem:
    """Memory operand ``[base]offset``; ``offset`` may be an int or an expression such as lo()."""

    base: str
    offset: object = 0


_MEM_RE = re.compile(r"^\s*\[\s*(\w+)\s*\]\s*([+-]?\s*(?:0[xX][0-9a-fA-F]+|\d+))?\s*$")


def _parse_mem(op) -> Mem | None:
    if isinstance(op, Mem):
        return op
    if isinstance(op, str):
        m = _MEM_RE.match(op)
        if m:
            return Mem(m.group(1), int(m.group(2).replace(" ", ""), 0) if m.group(2) else 0)
    return None


_REG_ALIAS = {"sp": "a10", "ra": "a11"}


def _reg(op) -> tuple[str, int] | None:
    """("d"|"a"|"e", number) for a register name, else None (e registers: even numbers only)."""
    if not isinstance(op, str):
        return None
    name = _REG_ALIAS.get(op.strip().lower(), op.strip().lower())
    m = re.fullmatch(r"([da])(\d|1[0-5])", name)
    if m:
        return m.group(1), int(m.group(2))
    m = re.fullmatch(r"e([02468]|1[024])", name)
    return ("e", int(m.group(1))) if m else None


# ---------------------------------------------------------------------------------------------
# Instruction formats: one packer per format (field names follow the architecture manual:
# a = s1 (bits 11:8), b = s2 (bits 15:12), c = d (bits 31:28)).
# ---------------------------------------------------------------------------------------------

def _chk(value: int, bits: int, signed: bool, what: str) -> int:
    lo_lim, hi_lim = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo_lim <= value <= hi_lim:
        raise AsmError(f"{what} {value:#x} does not fit {'s' if signed else 'u'}{bits}")
    return value & ((1 << bits) - 1)


def _f_rr(op1, op2, f):      # [31:28] c, [27:20] op2, [17:16] n, [15:12] b, [11:8] a, [7:0] op1
    return f["c"] << 28 | op2 << 20 | f["n"] << 16 | f["b"] << 12 | f["a"] << 8 | op1


def _f_rr2(op1, op2, f):     # [31:28] c, [27:16] op2, [15:12] b, [11:8] a
    return f["c"] << 28 | op2 << 16 | f["b"] << 12 | f["a"] << 8 | op1


def _f_rc(op1, op2, f):      # [31:28] c, [27:21] op2, [20:12] const9, [11:8] a
    return f["c"] << 28 | op2 << 21 | f["const"] << 12 | f["a"] << 8 | op1


def _f_rlc(op1, _op2, f):    # [31:28] c, [27:12] const16, [11:8] a
    return f["c"] << 28 | f["const"] << 12 | f["a"] << 8 | op1


def _f_bo(op1, op2, f):      # [31:28] off10[9:6], [27:22] op2, [21:16] off10[5:0], [15:12] b, [11:8] a
    off = f["off"]
    return (off >> 6) << 28 | op2 << 22 | (off & 0x3F) << 16 | f["b"] << 12 | f["a"] << 8 | op1


def _f_bol(op1, _op2, f):    # [31:28] off16[9:6], [27:22] off16[15:10], [21:16] off16[5:0], b, a
    off = f["off"]
    return (off >> 6 & 0xF) << 28 | (off >> 10) << 22 | (off & 0x3F) << 16 | f["b"] << 12 | f["a"] << 8 | op1


def _f_b(op1, _op2, f):      # [31:16] disp24[15:0], [15:8] disp24[23:16]
    d = f["disp"]
    return (d & 0xFFFF) << 16 | (d >> 16) << 8 | op1


def _f_brc(op1, op2, f):     # [31] op2, [30:16] disp15, [15:12] const4, [11:8] a
    return op2 << 31 | f["disp"] << 16 | f["const"] << 12 | f["a"] << 8 | op1


def _f_brr(op1, op2, f):     # [31] op2, [30:16] disp15, [15:12] b, [11:8] a
    return op2 << 31 | f["disp"] << 16 | f["b"] << 12 | f["a"] << 8 | op1


def _f_brn(op1, op2, f):     # [31] op2, [30:16] disp15, [15:12] n[3:0], [11:8] a, [7] n[4], [6:0] op1
    n = f["n"]
    return op2 << 31 | f["disp"] << 16 | (n & 0xF) << 12 | f["a"] << 8 | (n >> 4) << 7 | op1


def _f_sys(op1, op2, f):     # [27:22] op2, [11:8] a
    return op2 << 22 | f["a"] << 8 | op1


def _f_16(op1, op2, f):      # SR/SRC/SRR/SLR/SSR: [15:12] op2 | const4 | b (one of them), [11:8] a
    return (op2 | f.get("const", 0) | f["b"]) << 12 | f["a"] << 8 | op1


def _f_sb(op1, _op2, f):     # [15:8] disp8
    return f["disp"] << 8 | op1


_FORMATS: dict[str, Callable[[int, int, dict], int]] = {
    "RR": _f_rr, "RR2": _f_rr2, "RC": _f_rc, "RLC": _f_rlc, "BO": _f_bo, "BOL": _f_bol, "B": _f_b,
    "BRC": _f_brc, "BRR": _f_brr, "BRN": _f_brn, "SYS": _f_sys, "S16": _f_16, "SB": _f_sb,
}

# Operand specs: "Dc" = data register into field c, "Aa" = address register into field a, "Ea" =
# extended register (even d pair) into field a, ...;
# "#s9" signed / "#z9" zero-extended immediate of that width into the const field; "#n5" bit number;
# "[Ab]o10" memory operand (base into b, offset signed 10/16 bit); "@15" branch target (disp15).
# One row per encoding; the first row whose operand kinds and ranges match is used.
_Form = tuple[str, int, int, str]
_TABLE: dict[str, list[_Form]] = {
    # moves
    "mov":    [("RLC", 0x3B, 0, "Dc #s16"), ("RR", 0x0B, 0x1F, "Dc Db")],
    "mov.u":  [("RLC", 0xBB, 0, "Dc #z16")],
    "movh":   [("RLC", 0x7B, 0, "Dc #z16")],
    "movh.a": [("RLC", 0x91, 0, "Ac #z16")],
    "mov.a":  [("RR", 0x01, 0x63, "Ac Db")],
    "mov.d":  [("RR", 0x01, 0x4C, "Dc Ab")],
    "mov.aa": [("RR", 0x01, 0x00, "Ac Ab")],
    "lea":    [("BOL", 0xD9, 0, "Aa [Ab]o16")],
    # arithmetic and logic
    "add":    [("RR", 0x0B, 0x00, "Dc Da Db"), ("RC", 0x8B, 0x00, "Dc Da #s9")],
    "addi":   [("RLC", 0x1B, 0, "Dc Da #s16")],
    "addih":  [("RLC", 0x9B, 0, "Dc Da #z16")],
    "sub":    [("RR", 0x0B, 0x08, "Dc Da Db")],
    "mul":    [("RR2", 0x73, 0x0A, "Dc Da Db"), ("RC", 0x53, 0x01, "Dc Da #s9")],
    "and":    [("RR", 0x0F, 0x08, "Dc Da Db"), ("RC", 0x8F, 0x08, "Dc Da #z9")],
    "or":     [("RR", 0x0F, 0x0A, "Dc Da Db"), ("RC", 0x8F, 0x0A, "Dc Da #z9")],
    "xor":    [("RR", 0x0F, 0x0C, "Dc Da Db"), ("RC", 0x8F, 0x0C, "Dc Da #z9")],
    "sh":     [("RR", 0x0F, 0x00, "Dc Da Db"), ("RC", 0x8F, 0x00, "Dc Da #s6")],
    "sha":    [("RR", 0x0F, 0x01, "Dc Da Db"), ("RC", 0x8F, 0x01, "Dc Da #s6")],
    "add.a":  [("RR", 0x01, 0x01, "Ac Aa Ab")],
    "sub.a":  [("RR", 0x01, 0x02, "Ac Aa Ab")],
    # loads and stores: base + offset (BO, op1 0x09/0x89) or long offset (BOL)
    "ld.b":   [("BO", 0x09, 0x20, "Da [Ab]o10"), ("BOL", 0x79, 0, "Da [Ab]o16")],
    "ld.bu":  [("BO", 0x09, 0x21, "Da [Ab]o10"), ("BOL", 0x39, 0, "Da [Ab]o16")],
    "ld.h":   [("BO", 0x09, 0x22, "Da [Ab]o10"), ("BOL", 0xC9, 0, "Da [Ab]o16")],
    "ld.hu":  [("BO", 0x09, 0x23, "Da [Ab]o10"), ("BOL", 0xB9, 0, "Da [Ab]o16")],
    "ld.w":   [("BO", 0x09, 0x24, "Da [Ab]o10"), ("BOL", 0x19, 0, "Da [Ab]o16")],
    "ld.a":   [("BO", 0x09, 0x26, "Aa [Ab]o10"), ("BOL", 0x99, 0, "Aa [Ab]o16")],
    "st.b":   [("BO", 0x89, 0x20, "[Ab]o10 Da"), ("BOL", 0xE9, 0, "[Ab]o16 Da")],
    "st.h":   [("BO", 0x89, 0x22, "[Ab]o10 Da"), ("BOL", 0xF9, 0, "[Ab]o16 Da")],
    "st.w":   [("BO", 0x89, 0x24, "[Ab]o10 Da"), ("BOL", 0x59, 0, "[Ab]o16 Da")],
    "st.a":   [("BO", 0x89, 0x26, "[Ab]o10 Aa"), ("BOL", 0xB5, 0, "[Ab]o16 Aa")],
    # atomic read-modify-write (BO, base + short offset addressing mode)
    "ldmst":  [("BO", 0x49, 0x21, "[Ab]o10 Ea")],
    "swap.w": [("BO", 0x49, 0x20, "[Ab]o10 Da")],
    # control flow
    "j":      [("B", 0x1D, 0, "@24")],
    "jl":     [("B", 0x5D, 0, "@24")],
    "call":   [("B", 0x6D, 0, "@24")],
    "ji":     [("RR", 0x2D, 0x03, "Aa")],
    "calli":  [("RR", 0x2D, 0x00, "Aa")],
    "ret":    [("SYS", 0x0D, 0x06, "")],
    "jeq":    [("BRR", 0x5F, 0, "Da Db @15"), ("BRC", 0xDF, 0, "Da #s4 @15")],
    "jne":    [("BRR", 0x5F, 1, "Da Db @15"), ("BRC", 0xDF, 1, "Da #s4 @15")],
    "jlt":    [("BRR", 0x3F, 0, "Da Db @15"), ("BRC", 0xBF, 0, "Da #s4 @15")],
    "jlt.u":  [("BRR", 0x3F, 1, "Da Db @15"), ("BRC", 0xBF, 1, "Da #z4 @15")],
    "jge":    [("BRR", 0x7F, 0, "Da Db @15"), ("BRC", 0xFF, 0, "Da #s4 @15")],
    "jge.u":  [("BRR", 0x7F, 1, "Da Db @15"), ("BRC", 0xFF, 1, "Da #z4 @15")],
    "jz.a":   [("BRR", 0xBD, 0, "Aa @15")],
    "jnz.a":  [("BRR", 0xBD, 1, "Aa @15")],
    "jz.t":   [("BRN", 0x6F, 0, "Da #n5 @15")],
    "jnz.t":  [("BRN", 0x6F, 1, "Da #n5 @15")],
    "loop":   [("BRR", 0xFD, 0, "Ab @15")],
    # system
    "nop":    [("SYS", 0x0D, 0x00, "")],
    "debug":  [("SYS", 0x0D, 0x04, "")],
    "wait":   [("SYS", 0x0D, 0x16, "")],
    "dsync":  [("SYS", 0x0D, 0x12, "")],
    "isync":  [("SYS", 0x0D, 0x13, "")],
    "mtcr":   [("RLC", 0xCD, 0, "#z16 Da")],
    "mfcr":   [("RLC", 0x4D, 0, "Dc #z16")],
    # 16-bit encodings
    "nop16":   [("S16", 0x00, 0x0, "")],
    "ret16":   [("S16", 0x00, 0x9, "")],
    "debug16": [("S16", 0x00, 0xA, "")],
    "mov16":   [("S16", 0x82, 0, "Da #s4"), ("S16", 0x02, 0, "Da Db")],
    "add16":   [("S16", 0xC2, 0, "Da #s4"), ("S16", 0x42, 0, "Da Db")],
    "j16":     [("SB", 0x3C, 0, "@8")],
    "ld.w16":  [("S16", 0x54, 0, "Da [Ab]o0")],
    "st.w16":  [("S16", 0x74, 0, "[Ab]o0 Da")],
}

# jz/jnz on a data register are the BRC jeq/jne against zero (capstone shows them as such).
_ALIASES = {"jz": ("jeq", 0), "jnz": ("jne", 0)}


def _size(mnemonic: str) -> int:
    return 2 if mnemonic.endswith("16") else 4


def _match(spec: str, ops: tuple, symbols, pc: int) -> dict | None:
    """Fields for ``ops`` under operand ``spec``, or None if the operands do not fit this form."""
    kinds = spec.split()
    if len(kinds) != len(ops):
        return None
    fields: dict[str, int] = {}
    for kind, op in zip(kinds, ops, strict=True):
        if kind[0] in "DAE":                             # register
            r = _reg(op)
            if r is None or r[0] != kind[0].lower():
                return None
            fields[kind[1]] = r[1]
        elif kind.startswith("[A"):                      # memory operand
            m = _parse_mem(op)
            r = _reg(m.base) if m else None
            if r is None or r[0] != "a":
                return None
            fields[kind[2]] = r[1]
            off = _eval(m.offset, symbols)
            bits = int(kind[5:])
            if bits == 0:
                if off:
                    return None
            elif not -(1 << (bits - 1)) <= off < (1 << (bits - 1)):
                return None
            fields["off"] = off & ((1 << bits) - 1) if bits else 0
        elif kind.startswith("#"):                       # immediate
            if _reg(op) is not None or _parse_mem(op) is not None:
                return None
            value = _eval(op, symbols)
            signed, bits = kind[1] == "s", int(kind[2:])
            if kind[1] == "n":
                fields["n"] = _chk(value, 5, False, "bit number")
                continue
            if signed and not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
                return None
            if not signed and not 0 <= value < (1 << bits):
                return None
            fields["const"] = value & ((1 << bits) - 1)
            if bits == 6:                                # shift counts live in a 9-bit const field
                fields["const"] = value & 0x1FF
        elif kind.startswith("@"):                       # branch target
            if _reg(op) is not None:
                return None
            delta = _eval(op, symbols) - pc
            if delta % 2:
                raise AsmError(f"branch target {op!r} is not halfword aligned")
            fields["disp"] = _chk(delta // 2, int(kind[1:]), True, f"branch to {op!r}: displacement")
        else:  # pragma: no cover - table error
            raise AssertionError(kind)
    return fields


def encode(mnemonic: str, ops: tuple, symbols: dict[str, Symbol] | None = None, pc: int = 0) -> bytes:
    """Encode one instruction at address ``pc`` (little-endian bytes)."""
    symbols = symbols or {}
    if mnemonic in ("mtcr", "mfcr"):          # accept CSFR names such as "FCX"
        ops = tuple(CSFR.get(o, o) if isinstance(o, str) else o for o in ops)
    if mnemonic in _ALIASES:
        real, zero = _ALIASES[mnemonic]
        if len(ops) != 2:
            raise AsmError(f"{mnemonic} takes a register and a target")
        return encode(real, (ops[0], zero, ops[1]), symbols, pc)
    forms = _TABLE.get(mnemonic)
    if forms is None:
        raise AsmError(f"unknown mnemonic {mnemonic!r}")
    for fmt, op1, op2, spec in forms:
        fields = _match(spec, tuple(ops), symbols, pc)
        if fields is not None:
            word = _FORMATS[fmt](op1, op2, {"a": 0, "b": 0, "c": 0, "n": 0} | fields)
            return struct.pack("<H" if _size(mnemonic) == 2 else "<I", word)
    raise AsmError(f"no encoding of {mnemonic} for operands {ops!r}")


# ---------------------------------------------------------------------------------------------
# Program assembly
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    """A resolved symbol: ``kind`` is "func", "object" or "notype"; ``section`` None = absolute."""

    name: str
    value: int
    size: int = 0
    kind: str = "notype"
    section: str | None = None
    is_global: bool = True


@dataclass(frozen=True)
class SectionImage:
    name: str
    addr: int
    data: bytes
    flags: str          # any of "r", "w", "x"


@dataclass
class Program:
    """Assembler output: section images in address order, symbols by name, entry address."""

    sections: list[SectionImage]
    symbols: dict[str, Symbol]
    entry: int

    def section(self, name: str) -> SectionImage:
        return next(s for s in self.sections if s.name == name)

    def read(self, addr: int, size: int) -> bytes:
        """Bytes at ``addr`` from the section that holds them (handy for tests)."""
        for s in self.sections:
            if s.addr <= addr and addr + size <= s.addr + len(s.data):
                return s.data[addr - s.addr: addr - s.addr + size]
        raise KeyError(f"{addr:#x} not in any section")


@dataclass
class _Item:
    offset: int
    size: int
    emit: Callable[[dict[str, Symbol], int], bytes]   # (symbols, address) -> bytes


@dataclass
class _Section:
    name: str
    flags: str
    addr: int | None
    align: int
    items: list[_Item] = field(default_factory=list)
    size: int = 0


class Assembler:
    """Collects instructions, data and labels per section; ``assemble()`` resolves and encodes."""

    def __init__(self, base: int, *, entry: str = "_start", text: str = ".text"):
        self._sections: list[_Section] = []
        self._labels: dict[str, tuple[_Section, int, str, bool]] = {}
        self._sizes: dict[str, int] = {}
        self._abs: dict[str, Symbol] = {}
        self._entry = entry
        self.section(text, addr=base, flags="rx")

    # -- sections, labels, symbols -------------------------------------------------------------
    def section(self, name: str, *, addr: int | None = None, flags: str = "r", align: int = 4) -> None:
        """Switch to section ``name`` (created on first use; without ``addr`` it follows the previous)."""
        for s in self._sections:
            if s.name == name:
                self._cur = s
                return
        self._cur = _Section(name, flags, addr, align)
        self._sections.append(self._cur)

    def label(self, name: str, *, kind: str = "notype", glob: bool | None = None) -> None:
        """Define ``name`` here.  Names starting with '.' are local symbols unless ``glob``."""
        if name in self._labels or name in self._abs:
            raise AsmError(f"duplicate symbol {name!r}")
        is_global = not name.startswith(".") if glob is None else glob
        self._labels[name] = (self._cur, self._cur.size, kind, is_global)

    def end_symbol(self, name: str) -> None:
        """Set the size of symbol ``name`` to the distance from it to here (same section)."""
        sec, off, _, _ = self._labels[name]
        if sec is not self._cur:
            raise AsmError(f"end_symbol({name!r}) in another section")
        self._sizes[name] = self._cur.size - off

    def equ(self, name: str, value: int, *, kind: str = "notype", size: int = 0) -> None:
        """An absolute symbol (e.g. a RAM variable address); exported like a label."""
        if name in self._labels or name in self._abs:
            raise AsmError(f"duplicate symbol {name!r}")
        self._abs[name] = Symbol(name, value & 0xFFFF_FFFF, size, kind, None, True)

    @property
    def here(self) -> int:
        """Offset of the next item in the current section."""
        return self._cur.size

    # -- emission primitives ---------------------------------------------------------------------
    def _add(self, size: int, emit) -> None:
        self._cur.items.append(_Item(self._cur.size, size, emit))
        self._cur.size += size

    def op(self, mnemonic: str, *ops) -> None:
        """Emit one instruction by mnemonic (encoded in pass 2, once labels are known)."""
        mnemonic = mnemonic.lower()
        if mnemonic not in _TABLE and mnemonic not in _ALIASES:
            raise AsmError(f"unknown mnemonic {mnemonic!r}")
        if self._cur.size % 2:
            raise AsmError("instruction at an odd offset")
        self._add(_size(mnemonic), lambda syms, pc: encode(mnemonic, ops, syms, pc))

    def __getattr__(self, name: str):
        # asm.ld_w(...) -> op("ld.w", ...); asm.and_(...) -> op("and", ...)
        mnemonic = name.rstrip("_").replace("_", ".")
        if name.startswith("__") or (mnemonic not in _TABLE and mnemonic not in _ALIASES):
            raise AttributeError(name)
        return lambda *ops: self.op(mnemonic, *ops)

    # -- pseudo instructions ------------------------------------------------------------------------
    def load_const(self, reg: str, value) -> None:
        """Load a 32-bit constant or symbol address into a data or address register.

        Data registers: mov / mov.u / movh when one instruction does, else movh + addi.
        Address registers: movh.a, plus lea when the low half is not zero.  Symbols always take
        the two-instruction form (their value is unknown in pass 1).
        """
        r = _reg(reg)
        if r is None or r[0] == "e":
            raise AsmError(f"load_const needs a d or a register, got {reg!r}")
        known = isinstance(value, int) and not isinstance(value, bool)
        if known:
            value &= 0xFFFF_FFFF
            signed = value - (1 << 32) if value & 0x8000_0000 else value
        if r[0] == "d":
            if known and -0x8000 <= signed < 0x8000:
                self.op("mov", reg, signed)
            elif known and value < 0x1_0000:
                self.op("mov.u", reg, value)
            elif known and value & 0xFFFF == 0:
                self.op("movh", reg, value >> 16)
            else:
                self.op("movh", reg, hi(value))
                self.op("addi", reg, reg, lo(value))
        else:
            self.op("movh.a", reg, hi(value))
            if not known or value & 0xFFFF:
                self.op("lea", reg, Mem(reg, lo(value)))

    # -- data -----------------------------------------------------------------------------------------
    def _data(self, fmt: str, values) -> None:
        size = struct.calcsize(fmt)
        for v in values:
            self._add(size, lambda syms, pc, v=v: struct.pack(fmt, _eval(v, syms) & ((1 << 8 * size) - 1)))

    def byte(self, *values) -> None:
        self._data("<B", values)

    def half(self, *values) -> None:
        self._data("<H", values)

    def word(self, *values) -> None:
        """32-bit words; values may be symbol expressions (e.g. a table of addresses)."""
        self._data("<I", values)

    def ascii(self, text: str | bytes) -> None:
        data = text.encode("ascii") if isinstance(text, str) else bytes(text)
        self._add(len(data), lambda syms, pc: data)

    def asciz(self, text: str | bytes) -> None:
        """Zero-terminated string."""
        self.ascii((text.encode("ascii") if isinstance(text, str) else bytes(text)) + b"\0")

    def space(self, count: int, fill: int = 0) -> None:
        self._add(count, lambda syms, pc: bytes([fill]) * count)

    def align(self, boundary: int, fill: int = 0) -> None:
        """Pad to a multiple of ``boundary`` (the section start is aligned at least as much)."""
        if boundary & (boundary - 1):
            raise AsmError("alignment must be a power of two")
        self._cur.align = max(self._cur.align, boundary)
        pad = -self._cur.size % boundary
        if pad:
            self.space(pad, fill)

    # -- passes ---------------------------------------------------------------------------------------
    def assemble(self) -> Program:
        """Pass 1: place sections and bind labels; pass 2: encode every item."""
        addr = None
        for sec in self._sections:
            if sec.addr is None:
                if addr is None:
                    raise AsmError(f"section {sec.name} has no address")
                sec.addr = (addr + sec.align - 1) & -sec.align
            elif sec.addr % sec.align:
                raise AsmError(f"section {sec.name} at {sec.addr:#x} is not {sec.align}-aligned")
            addr = sec.addr + sec.size
        placed = sorted((s for s in self._sections if s.size), key=lambda s: s.addr)
        for a, b in zip(placed, placed[1:], strict=False):
            if a.addr + a.size > b.addr:
                raise AsmError(f"sections {a.name} and {b.name} overlap")

        symbols = dict(self._abs)
        for name, (sec, off, kind, is_global) in self._labels.items():
            symbols[name] = Symbol(name, sec.addr + off, self._sizes.get(name, 0), kind, sec.name, is_global)

        images = []
        for sec in self._sections:
            out = bytearray()
            for item in sec.items:
                try:
                    data = item.emit(symbols, sec.addr + item.offset)
                except AsmError as exc:
                    where = f"{sec.name}+{item.offset:#x} ({sec.addr + item.offset:#x})"
                    raise AsmError(f"{where}: {exc}") from None
                if len(data) != item.size:  # pragma: no cover - internal invariant
                    raise AssertionError(f"item size changed at {sec.addr + item.offset:#x}")
                out += data
            images.append(SectionImage(sec.name, sec.addr, bytes(out), sec.flags))
        if self._entry not in symbols:
            raise AsmError(f"entry symbol {self._entry!r} is not defined")
        return Program(sorted(images, key=lambda s: s.addr), symbols, symbols[self._entry].value)
