"""Load and validate board profiles (TOML data; see aurix-tc3xx.toml for the annotated format).

Every problem is reported as one BoardError naming the file and the key. This module uses only the
standard library: a board is data, and the emulator assembles the SoC from what is returned here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

BOARD_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BOARD_DIR.parent

ARCHES = ("tricore", "ppc32", "arm-m", "python")
MEMORY_KINDS = ("ram", "flash")
ON_FAULT = ("stop-core", "halt")
BUILTIN_MASTERS = ("app", "hsm", "hsm_dma", "bridge")


class BoardError(Exception):
    """A board profile is invalid (mirrors emulator.errors.BoardError without importing it)."""

    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.path, self.key = path, key


@dataclass
class CoreSpec:
    name: str
    arch: str
    clock_hz: int
    cpi: Fraction = Fraction(1)
    firmware: str | None = None
    master: str | None = None
    cpu_model: str | None = None
    vector_table: int | None = None
    local: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # Python firmware settings (HSM server config)

    @property
    def is_app(self) -> bool:
        return self.arch != "python"


@dataclass
class MemorySpec:
    name: str
    kind: str
    origin: int
    size: int
    wait_states: int = 0
    fill: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.origin + self.size


@dataclass
class MpuSpec:
    name: str
    start: int
    end: int
    rights: dict[str, str]


@dataclass
class PeripheralSpec:
    name: str
    type: str
    base: int
    size: int
    masters: list[str]
    wait_states: int
    config: dict[str, Any]

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass
class Board:
    name: str
    path: Path
    summary: str
    quantum: int
    page_size: int
    on_fault: str
    cores: list[CoreSpec]
    memories: list[MemorySpec]
    mpu: list[MpuSpec]
    peripherals: list[PeripheralSpec]

    @property
    def app_cores(self) -> list[CoreSpec]:
        return [c for c in self.cores if c.is_app]

    def core(self, name: str) -> CoreSpec | None:
        return next((c for c in self.cores if c.name == name), None)

    def memory(self, name: str) -> MemorySpec | None:
        return next((m for m in self.memories if m.name == name), None)

    def peripheral(self, name: str) -> PeripheralSpec | None:
        return next((p for p in self.peripherals if p.name == name), None)

    def resolve(self, rel: str) -> Path:
        """Firmware paths in a profile are relative to the project root."""
        p = Path(rel)
        return p if p.is_absolute() else PROJECT_ROOT / p


def available() -> list[str]:
    return sorted(p.stem for p in BOARD_DIR.glob("*.toml"))


def find(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.exists():
        return p
    candidate = BOARD_DIR / f"{name_or_path}.toml"
    if candidate.exists():
        return candidate
    raise BoardError(name_or_path, "board", f"no such board profile (available: {', '.join(available())})")


_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)i?B?\s*$", re.IGNORECASE)


class _Reader:
    """Typed access to one TOML table, with errors that name the file and the dotted key."""

    def __init__(self, path: str, prefix: str, table: Any) -> None:
        self.path, self.prefix = path, prefix
        if not isinstance(table, dict):
            self.fail("", "must be a table")
        self.table = table
        self.used: set[str] = set()

    def key(self, k: str) -> str:
        return f"{self.prefix}.{k}" if self.prefix and k else (self.prefix or k)

    def fail(self, k: str, msg: str) -> None:
        raise BoardError(self.path, self.key(k), msg)

    def has(self, k: str) -> bool:
        return k in self.table

    def get(self, k: str, kind: str, default: Any = ..., choices: tuple | None = None) -> Any:
        self.used.add(k)
        if k not in self.table:
            if default is ...:
                self.fail(k, "missing (required)")
            return default
        v = self.table[k]
        if kind == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                self.fail(k, f"must be an integer, got {v!r}")
        elif kind == "size":
            v = self._size(k, v)
        elif kind == "str":
            if not isinstance(v, str):
                self.fail(k, f"must be a string, got {v!r}")
        elif kind == "fraction":
            try:
                v = Fraction(str(v))
            except (ValueError, ZeroDivisionError):
                self.fail(k, f'must be a number such as "1.25", got {v!r}')
            if v <= 0:
                self.fail(k, "must be positive")
        elif kind == "list":
            if not isinstance(v, list):
                self.fail(k, f"must be a list, got {v!r}")
        elif kind == "table":
            if not isinstance(v, dict):
                self.fail(k, f"must be a table, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(k, f"must be one of {', '.join(map(str, choices))}; got {v!r}")
        return v

    def _size(self, k: str, v: Any) -> int:
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str):
            m = _SIZE.match(v)
            if m:
                return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
        self.fail(k, f'must be a size such as 0x4000, "96K" or "2M", got {v!r}')
        return 0

    def done(self, extra_ok: tuple[str, ...] = ()) -> None:
        unknown = set(self.table) - self.used - set(extra_ok)
        if unknown:
            self.fail(sorted(unknown)[0], "unknown key")


def load(name_or_path: str) -> Board:
    path = find(name_or_path)
    spath = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BoardError(spath, "toml", str(e)) from None
    top = _Reader(spath, "", data)

    b = _Reader(spath, "board", top.get("board", "table"))
    name = b.get("name", "str")
    summary = b.get("summary", "str", "")
    quantum = b.get("quantum", "int", 10000)
    if quantum <= 0:
        b.fail("quantum", "must be positive")
    page = b.get("page_size", "int", 0x1000)
    if page <= 0 or page & (page - 1):
        b.fail("page_size", "must be a power of two")
    on_fault = b.get("on_fault", "str", "stop-core", ON_FAULT)
    b.done()

    memories = []
    for mname, mt in top.get("memory", "table").items():
        r = _Reader(spath, f"memory.{mname}", mt)
        kind = r.get("kind", "str", choices=MEMORY_KINDS)
        m = MemorySpec(
            name=mname,
            kind=kind,
            origin=r.get("origin", "int"),
            size=r.get("size", "size"),
            wait_states=r.get("wait_states", "int", 0),
            fill=r.get("fill", "int", 0xFF if kind == "flash" else 0),
        )
        if m.size <= 0:
            r.fail("size", "must be positive")
        if m.wait_states < 0:
            r.fail("wait_states", "must not be negative")
        if not 0 <= m.fill <= 0xFF:
            r.fail("fill", "must be a byte value")
        _aligned(r, "origin", m.origin, page)
        _aligned(r, "size", m.size, page)
        r.done()
        memories.append(m)

    cores = []
    for cname, ct in top.get("cores", "table").items():
        r = _Reader(spath, f"cores.{cname}", ct)
        arch = r.get("arch", "str", choices=ARCHES)
        clock = r.get("clock_hz", "int")
        if clock <= 0:
            r.fail("clock_hz", "must be positive")
        c = CoreSpec(
            name=cname,
            arch=arch,
            clock_hz=clock,
            cpi=r.get("cpi", "fraction", Fraction(1)),
            firmware=r.get("firmware", "str", None),
            master=r.get("master", "str", None),
            cpu_model=r.get("cpu_model", "str", None),
            vector_table=r.get("vector_table", "int", None),
        )
        local = r.get("local", "table", {})
        for mem, addr in local.items():
            if not any(m.name == mem for m in memories):
                r.fail(f"local.{mem}", "names no memory of this board")
            if not isinstance(addr, int):
                r.fail(f"local.{mem}", "must be an address")
            _aligned(r, f"local.{mem}", addr, page)
            c.local[mem] = addr
        if arch == "python" and not c.master:
            c.master = "hsm"
        c.params = dict(r.get("params", "table", {}))
        if c.params and arch != "python":
            r.fail("params", "only Python cores take firmware params")
        r.done()
        cores.append(c)
    if not any(c.is_app for c in cores):
        top.fail("cores", "a board needs at least one app core")
    if len({c.name for c in cores}) != len(cores):
        top.fail("cores", "duplicate core name")

    periphs = []
    masters = set(BUILTIN_MASTERS) | {c.name for c in cores}
    for pname, pt in top.get("peripherals", "table", {}).items():
        r = _Reader(spath, f"peripherals.{pname}", pt)
        p = PeripheralSpec(
            name=pname,
            type=r.get("type", "str"),
            base=r.get("base", "int"),
            size=r.get("size", "size"),
            masters=r.get("masters", "list", ["app"]),
            wait_states=r.get("wait_states", "int", 0),
            config={},
        )
        for mm in p.masters:
            if mm not in masters:
                r.fail("masters", f"unknown master {mm!r} (known: {', '.join(sorted(masters))})")
        _aligned(r, "base", p.base, page)
        _aligned(r, "size", p.size, page)
        p.config = {k: v for k, v in pt.items() if k not in r.used}
        periphs.append(p)

    _check_overlaps(spath, page, memories, periphs, cores)

    mpu = []
    for i, mt in enumerate(top.get("mpu", "list", [])):
        r = _Reader(spath, f"mpu[{i}]", mt)
        region = r.get("region", "str", None)
        if region is not None:
            mem = next((m for m in memories if m.name == region), None)
            per = next((p for p in periphs if p.name == region), None)
            if mem is None and per is None:
                r.fail("region", f"names no memory or peripheral ({region!r})")
            base, limit = (mem.origin, mem.size) if mem else (per.base, per.size)  # type: ignore[union-attr]
            off = r.get("offset", "size", 0)
            size = r.get("size", "size", limit - off)
            if off + size > limit:
                r.fail("size", f"offset+size 0x{off + size:x} exceeds {region} (0x{limit:x})")
            start = base + off
        else:
            start = r.get("origin", "int")
            size = r.get("size", "size")
        rights = r.get("rights", "table")
        for who, what in rights.items():
            if who not in masters:
                r.fail(f"rights.{who}", f"unknown master (known: {', '.join(sorted(masters))})")
            if not isinstance(what, str) or set(what) - set("rwx"):
                r.fail(f"rights.{who}", f'must be a subset of "rwx", got {what!r}')
        nm = r.get("name", "str", region or f"mpu{i}")
        r.done()
        mpu.append(MpuSpec(nm, start, start + size, dict(rights)))
    top.done()
    return Board(name, path, summary, quantum, page, on_fault, cores, memories, mpu, periphs)


def _aligned(r: _Reader, key: str, value: int, page: int) -> None:
    if value % page:
        r.fail(key, f"0x{value:x} is not aligned to the board's page size 0x{page:x}")


def _check_overlaps(
    path: str, page: int, mems: list[MemorySpec], pers: list[PeripheralSpec], cores: list[CoreSpec]
) -> None:
    spans: list[tuple[int, int, str]] = [(m.origin, m.end, f"memory.{m.name}") for m in mems]
    spans += [(p.base, p.end, f"peripherals.{p.name}") for p in pers]
    for c in cores:
        for mem, addr in c.local.items():
            size = next(m.size for m in mems if m.name == mem)
            spans.append((addr, addr + size, f"cores.{c.name}.local.{mem}"))
    # local aliases of different cores may share an address (each core sees its own memory there)
    spans.sort()
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        if b0 < a1 and not (an.startswith("cores.") and bn.startswith("cores.") and a0 == b0):
            raise BoardError(path, bn, f"0x{b0:08x}..0x{b1:08x} overlaps {an} (0x{a0:08x}..0x{a1:08x})")
