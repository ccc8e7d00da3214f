"""ELF loading with pyelftools: segments at their load (physical) address, entry point, symbols."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .errors import FirmwareError

# architecture -> (e_machine name as pyelftools spells it, big endian)
MACHINES = {
    "tricore": ("EM_TRICORE", False),
    "ppc32": ("EM_PPC", True),
    "arm-m": ("EM_ARM", False),
}


@dataclass
class Segment:
    addr: int  # load address (p_paddr)
    data: bytes  # file bytes followed by zeros up to p_memsz
    executable: bool


@dataclass
class ElfImage:
    path: Path
    machine: str
    big_endian: bool
    entry: int
    segments: list[Segment]
    symbols: dict[str, int] = field(default_factory=dict)

    def executable_ranges(self) -> list[tuple[int, bytes]]:
        return [(s.addr, s.data) for s in self.segments if s.executable]


_CACHE: dict[tuple[str, str, int, int], ElfImage] = {}


def load_elf(path: str | Path, arch: str) -> ElfImage:
    """Load (and cache: boards run one ELF on several cores) an ELF for a core of `arch`."""
    path = Path(path)
    if not path.exists():
        raise FirmwareError(f"{path}: no such firmware file")
    st = path.stat()
    key = (str(path.resolve()), arch, st.st_mtime_ns, st.st_size)
    image = _CACHE.get(key)
    if image is None:
        image = _CACHE[key] = _load_elf(path, arch)
    return image


def _load_elf(path: Path, arch: str) -> ElfImage:
    want_machine, want_be = MACHINES[arch]
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            machine = elf["e_machine"]
            big = not elf.little_endian
            if elf.elfclass != 32:
                raise FirmwareError(f"{path}: 64-bit ELF; {arch} cores run 32-bit code")
            if machine != want_machine or big != want_be:
                order = "big" if big else "little"
                raise FirmwareError(
                    f"{path}: built for {machine} ({order}-endian), but this core is {arch} "
                    f"({want_machine}, {'big' if want_be else 'little'}-endian)"
                )
            segs = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                data = seg.data() + bytes(seg["p_memsz"] - seg["p_filesz"])
                segs.append(Segment(seg["p_paddr"], data, bool(seg["p_flags"] & 1)))
            syms: dict[str, int] = {}
            for sec in elf.iter_sections():
                if isinstance(sec, SymbolTableSection):
                    for s in sec.iter_symbols():
                        if s.name and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                            syms.setdefault(s.name, s["st_value"])
            entry = elf["e_entry"]
    except ELFError as e:
        raise FirmwareError(f"{path}: not a valid ELF file ({e})") from None
    except OSError as e:
        raise FirmwareError(f"{path}: cannot read ({e.strerror})") from None
    if not segs:
        raise FirmwareError(f"{path}: no loadable segment")
    return ElfImage(path, want_machine, big, entry, segs, syms)
