"""A minimal ELF32 writer for prebuilt test firmware (TriCore, PowerPC, ARM, ...).

Why: we build some firmware without a toolchain (see ``tricore_asm.py``) and still want files the
emulator's normal ELF loader (pyelftools) reads: PT_LOAD program headers, an entry point, and
section headers with a symbol table so tests and traces can find ``_start``, ``idle`` and friends.
pyelftools only reads ELF, so this writes it by hand with ``struct``.

The output is deterministic (no timestamps, fixed ordering): the same input gives the same bytes.

File layout: ELF header | program headers | segment data (one section each) | .symtab | .strtab |
.shstrtab | section headers.  Each segment becomes one PT_LOAD and one section (PROGBITS, or
NOBITS when it has no file bytes but a memory size, e.g. .bss).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EM_ARM", "EM_PPC", "EM_TRICORE", "ElfSegment", "ElfSymbol", "build_elf", "write_elf"]

EM_PPC = 20
EM_ARM = 40
EM_TRICORE = 44

_ET_EXEC = 2
_PT_LOAD = 1
_PF_X, _PF_W, _PF_R = 1, 2, 4
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB, _SHT_NOBITS = 1, 2, 3, 8
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 1, 2, 4
_SHN_ABS = 0xFFF1
_STB = {"local": 0, "global": 1, "weak": 2}
_STT = {"notype": 0, "object": 1, "func": 2}

_EHDR_SIZE, _PHDR_SIZE, _SHDR_SIZE, _SYM_SIZE = 52, 32, 40, 16


@dataclass(frozen=True)
class ElfSegment:
    """One loadable region: it becomes a PT_LOAD and a section called ``name``.

    ``flags`` is a string of "r", "w", "x".  ``mem_size`` larger than ``len(data)`` means the rest
    is zero-filled at load time (bss); ``paddr`` defaults to ``addr`` (set it for a load address
    that differs from the run address).
    """

    name: str
    addr: int
    data: bytes
    flags: str = "rx"
    mem_size: int | None = None
    paddr: int | None = None
    align: int = 4


@dataclass(frozen=True)
class ElfSymbol:
    """``kind``: "func" | "object" | "notype"; ``binding``: "global" | "local" | "weak".

    The symbol's section is the segment that contains ``value`` (first match), else SHN_ABS;
    give ``section`` to force one by name, or ``absolute=True`` for SHN_ABS.
    """

    name: str
    value: int
    size: int = 0
    kind: str = "notype"
    binding: str = "global"
    section: str | None = None
    absolute: bool = False


class _StrTab:
    """String table with de-duplication; index 0 is the empty string."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self._index: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        if s not in self._index:
            self._index[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self._index[s]


def _pad(buf: bytearray, align: int) -> None:
    buf += b"\0" * (-len(buf) % align)


def _flag_bits(flags: str) -> tuple[int, int]:
    """(program header flags, section flags) from an "rwx" string."""
    flags = flags.lower()
    if set(flags) - set("rwx"):
        raise ValueError(f"bad segment flags {flags!r}")
    pf = (_PF_R if "r" in flags else 0) | (_PF_W if "w" in flags else 0) | (_PF_X if "x" in flags else 0)
    sf = _SHF_ALLOC | (_SHF_WRITE if "w" in flags else 0) | (_SHF_EXECINSTR if "x" in flags else 0)
    return pf, sf


def build_elf(*, machine: int, entry: int, segments: Sequence[ElfSegment], symbols: Sequence[ElfSymbol] = (),
              big_endian: bool = False, e_flags: int = 0) -> bytes:
    """Return the bytes of an ELF32 executable (ET_EXEC) with the given segments and symbols."""
    e = ">" if big_endian else "<"
    segments = list(segments)
    names = [s.name for s in segments]
    if len(set(names)) != len(names):
        raise ValueError("segment names must be unique")

    # Section indices: 0 null, 1..n segments, then .symtab, .strtab, .shstrtab.
    n_seg = len(segments)
    strtab_idx, shstrtab_idx = n_seg + 2, n_seg + 3

    body = bytearray()                    # everything after the ELF header and program headers
    data_start = _EHDR_SIZE + _PHDR_SIZE * n_seg
    seg_offsets = []
    for seg in segments:
        _pad(body, max(seg.align, 4))
        seg_offsets.append(data_start + len(body))
        body += seg.data

    # Symbols: locals first (ELF rule), sh_info = index of the first global.
    def section_of(sym: ElfSymbol) -> int:
        if sym.absolute:
            return _SHN_ABS
        if sym.section is not None:
            return names.index(sym.section) + 1
        spans = [(seg.addr, seg.addr + (len(seg.data) if seg.mem_size is None else seg.mem_size))
                 for seg in segments]
        for i, (lo, hi) in enumerate(spans):
            if lo <= sym.value < hi:
                return i + 1
        for i, (lo, hi) in enumerate(spans):      # an end marker just past a section belongs to it
            if sym.value == hi and hi > lo:
                return i + 1
        return _SHN_ABS

    strtab = _StrTab()
    ordered = sorted(symbols, key=lambda s: s.binding != "local")   # stable: keeps the caller's order
    symtab = bytearray(_SYM_SIZE)                                   # symbol 0 is the null symbol
    for sym in ordered:
        info = (_STB[sym.binding] << 4) | _STT[sym.kind]
        symtab += struct.pack(e + "IIIBBH", strtab.add(sym.name), sym.value & 0xFFFF_FFFF, sym.size, info, 0,
                              section_of(sym))
    first_global = 1 + sum(1 for s in ordered if s.binding == "local")

    _pad(body, 4)
    symtab_off = data_start + len(body)
    body += symtab
    strtab_off = data_start + len(body)
    body += strtab.data
    shstr = _StrTab()
    sec_name_idx = [shstr.add(s.name) for s in segments]
    symtab_name, strtab_name = shstr.add(".symtab"), shstr.add(".strtab")
    shstrtab_name = shstr.add(".shstrtab")
    shstrtab_off = data_start + len(body)
    body += shstr.data
    _pad(body, 4)
    shoff = data_start + len(body)

    # Section headers.
    shdrs = bytearray(_SHDR_SIZE)                                   # section 0 is the null section
    for seg, off, name_idx in zip(segments, seg_offsets, sec_name_idx, strict=True):
        _, sf = _flag_bits(seg.flags)
        nobits = not seg.data and seg.mem_size
        size = seg.mem_size if nobits else len(seg.data)
        shdrs += struct.pack(e + "10I", name_idx, _SHT_NOBITS if nobits else _SHT_PROGBITS, sf, seg.addr,
                             off, size, 0, 0, seg.align, 0)
    shdrs += struct.pack(e + "10I", symtab_name, _SHT_SYMTAB, 0, 0, symtab_off, len(symtab), strtab_idx,
                         first_global, 4, _SYM_SIZE)
    for name, off, size in ((strtab_name, strtab_off, len(strtab.data)),
                            (shstrtab_name, shstrtab_off, len(shstr.data))):
        shdrs += struct.pack(e + "10I", name, _SHT_STRTAB, 0, 0, off, size, 0, 0, 1, 0)

    # Program headers: one PT_LOAD per segment.
    phdrs = bytearray()
    for seg, off in zip(segments, seg_offsets, strict=True):
        pf, _ = _flag_bits(seg.flags)
        mem = seg.mem_size if seg.mem_size is not None else len(seg.data)
        if mem < len(seg.data):
            raise ValueError(f"segment {seg.name}: mem_size smaller than its data")
        paddr = seg.addr if seg.paddr is None else seg.paddr
        phdrs += struct.pack(e + "8I", _PT_LOAD, off, seg.addr, paddr, len(seg.data), mem, pf,
                             max(seg.align, 4))

    ident = b"\x7fELF" + bytes([1, 2 if big_endian else 1, 1, 0]) + bytes(8)   # ELFCLASS32, data, version
    ehdr = ident + struct.pack(e + "HHIIIIIHHHHHH", _ET_EXEC, machine, 1, entry & 0xFFFF_FFFF,
                               _EHDR_SIZE if n_seg else 0, shoff, e_flags, _EHDR_SIZE, _PHDR_SIZE, n_seg,
                               _SHDR_SIZE, n_seg + 4, shstrtab_idx)
    return bytes(ehdr + phdrs + body + shdrs)


def write_elf(path: str | Path, **kwargs) -> bytes:
    """``build_elf(**kwargs)`` and write the result to ``path``; returns the bytes."""
    data = build_elf(**kwargs)
    Path(path).write_bytes(data)
    return data
