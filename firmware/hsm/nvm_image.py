"""The on-flash format of the HSM's NVM object store, and an offline codec of flash images.

This module defines the format once. The firmware store (:mod:`firmware.hsm.nvm_flash`) parses the
flash with :func:`parse_image` at boot and writes with the encoders below; offline tools (``hsmemu
nvm``) parse, build and extend images with the same code, and modify them by running the very same
store (:class:`~firmware.hsm.nvm_flash.FlashNvm`) on an in-memory flash (:class:`ImageFlash`).
Pure Python: no HAL, no emulator.

Geometry
--------
The flash (``size`` bytes, erase unit ``sector_size``, program unit ``page_size``, erased byte
``erased``, 0xFF on every board) holds two partitions of ``(size // sector_size) // 2`` whole sectors
each: partition 0 at offset 0, partition 1 right after it (an odd last sector stays unused). The
format unit ``U = max(page_size, 8)`` (8 on every board) is the alignment of everything below; a
unit is programmed at most once between two erases, and padding is left erased. All integers are
little-endian whatever the core's byte order; CRCs are ``zlib.crc32``.

Partition (offsets for U = 8)::

    0x00  partition header, 32 bytes
            +0  4s  magic b"WHNV"
            +4  u16 format version (1)
            +6  u16 U
            +8  u32 epoch (1 for the first format, +1 at every compaction)
            +12 u32 partition size    +16 u32 sector size
            +20 u16 partition index   +22 u16 0   +24 u32 0
            +28 u32 crc32 of bytes 0..27
    0x20  commit unit:   u32 epoch, u32 crc32(b"WHNV-COMMIT" + u32 epoch + u16 index)
    0x28  obsolete unit: erased while the partition is current; programmed all-0x00 (every bit
          flipped from erased) once a newer partition is committed
    0x30  log: records back to back, then erased space to the end of the partition

Record = ceil(48/U) header units + ceil(len/U) data units + 1 marker unit::

    +0  4s  magic b"WHOB"
    +4  u16 kind (1 = object)    +6 u16 0
    +8  u32 crc32 of the data
    +12 32  whNvmMetadata {u16 id, u16 access, u16 flags, u16 len, u8 label[24]}, len = data length
    +44 u32 crc32 of bytes 0..43 (the header CRC)
    then the data, then the marker unit: 4s b"WHOK", u32 header CRC

Commit protocol (why a power cut at any instant is safe)
--------------------------------------------------------
Pages are programmed one at a time in ascending address order, each awaited (DONE, no error flag).
* Add: the record goes to the erased space after the log: header, data, and the marker last. A record
  counts only with an exact marker, so a cut anywhere before the marker's program completed leaves an
  *uncommitted* record that recovery ignores (the previous version of the id stays current).
* Compaction (every destroy, and an add with reclaim): erase every non-blank sector of the other
  partition, program its header (epoch + 1), copy the live records, then program its commit unit --
  the switch point -- and last program the old partition's obsolete unit. Until the commit unit is
  complete the old partition is untouched and current; afterwards the new one has the higher epoch.
  A cut between commit and obsolete leaves two committed partitions: the higher epoch wins.
* A torn program only moves bits away from erased, towards the intended value (NOR); a torn erase
  only moves bits back. So a torn unit is a "NOR subset" of what was meant, never equal to it unless
  the program had in fact completed (then the new state is simply there a little early).

Recovery (:func:`parse_image`)
------------------------------
Partition states: ``blank`` (header area erased), ``active`` (valid header, commit unit valid for the
header's epoch, obsolete unit erased), ``obsolete`` (the same with the obsolete unit programmed),
``pending`` (valid header, commit incomplete: an interrupted compaction), ``invalid`` (anything else:
a torn erase or header program, or corruption). The store mounts the ``active`` partition with the
highest epoch. The image is *corrupt* (the store refuses to mount) when no partition is active, or
two are active with the same epoch, or another partition's commit unit (self-checking, so it survives
a damaged header) shows an epoch at least as new as the chosen one. Two exceptions mount *empty*: an
entirely erased flash, and an interrupted first format (partition 0 holds nothing but a NOR subset
of the epoch-1 header and commit, everything else erased) -- no object was ever acknowledged there.

In the mounted partition the log is scanned from its start to the last non-erased unit:
* a valid header (magic, kind, CRC, extent inside the partition) gives the record's extent;
  exact marker and data CRC: *live*, superseding the previous version of its id;
  marker erased or a NOR subset of the expected one: *uncommitted* (a cut during an add), ignored;
  marker otherwise damaged, data CRC wrong, or an unreadable (ECC) word: *corrupt*. A corrupt record
  was committed, so it still supersedes older versions (no silent rollback of a key or counter); its
  id reads as absent and the finding is reported;
* units that are not a valid header are skipped one by one (a *garbage* run): a run no longer than a
  record header is a header torn by a cut (normal); a longer one is reported as corruption. A record
  whose header itself is destroyed cannot be attributed to an id: an older version of that id, if
  any, becomes visible again -- the one case where the format cannot prevent a rollback.
New records go after the last non-erased unit (never over a torn unit).

Accounting (GETAVAILABLE, wolfHSM style)
----------------------------------------
Like wolfHSM's flash back-end, the log has ``slots = min(object_count, log_units // (H + 2))``
directory slots (``H`` header units + 1 marker unit reserved per slot) and ``data_units = log_units -
slots * (H + 1)`` data units. Every record takes one slot and ``ceil(len/U)`` data units until the
next compaction (a garbage run takes ``ceil(run/(H+1))`` slots); superseded, uncommitted, corrupt and
garbage entries are *reclaimable*. Sizes are reported in bytes (units * U). With the default 30
objects: aurix 128 KiB -> 63808 B, spc58nn 32 KiB -> 14656 B, cortex-m-dual 64 KiB -> 31040 B.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from firmware.wire import ByteOrder

from .nvm_backend import METADATA_SIZE, Metadata

__all__ = [
    "FORMAT_VERSION",
    "FlashFault",
    "Geometry",
    "ImageFlash",
    "ImageReport",
    "NvmImageError",
    "Partition",
    "Record",
    "add_objects",
    "blank_image",
    "build_image",
    "capacity",
    "destroy_objects",
    "encode_commit",
    "encode_partition_header",
    "encode_record",
    "geometry_for_board",
    "open_store",
    "parse_image",
]

FORMAT_VERSION = 1
PART_MAGIC = b"WHNV"
RECORD_MAGIC = b"WHOB"
MARKER_MAGIC = b"WHOK"
COMMIT_TAG = b"WHNV-COMMIT"
KIND_OBJECT = 1
MAX_DATA = 0xFFFF  # whNvmSize is a u16

_PART = struct.Struct("<4sHHIIIHHII")  # magic, version, unit, epoch, part size, sector size, index, 0, 0, crc
_RECORD = struct.Struct("<4sHHI32sI")  # magic, kind, 0, data crc, metadata, header crc
_MARKER = struct.Struct("<4sI")
_COMMIT = struct.Struct("<II")
PART_HEADER_SIZE = _PART.size  # 32
RECORD_HEADER_SIZE = _RECORD.size  # 48
MARKER_SIZE = _MARKER.size  # 8
COMMIT_SIZE = _COMMIT.size  # 8
ECC_WORD = 8  # granularity of unreadable-word reports (the flash controller's ECC word)

# record states
LIVE = "live"
SUPERSEDED = "superseded"
UNCOMMITTED = "uncommitted"
CORRUPT = "corrupt"
GARBAGE = "garbage"

assert METADATA_SIZE == 32


class NvmImageError(Exception):
    """An offline operation on an image failed (corrupt image, no space, bad arguments)."""


class FlashFault(Exception):
    """A flash command failed (a driver raises it; the store turns it into an error code)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _ceil(n: int, unit: int) -> int:
    return -(-n // unit)


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFF_FFFF


# ---------------------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Geometry:
    """The flash as the store sees it. ``base`` is the bus address (0 for a detached image)."""

    size: int
    page_size: int
    sector_size: int
    erased: int = 0xFF
    base: int = 0

    def __post_init__(self) -> None:
        ps, ss = self.page_size, self.sector_size
        if ps < 1 or ps & (ps - 1) or ss < ps or ss % ps or self.size < 2 * ss:
            raise ValueError(f"unusable flash geometry: size {self.size}, sector {ss}, page {ps}")
        if not 0 <= self.erased <= 0xFF:
            raise ValueError("erased must be a byte value")
        if self.log_offset + self.unit * (self.header_units + 2) > self.part_size:
            raise ValueError(f"a partition of {self.part_size} bytes is too small for the NVM format")

    @property
    def unit(self) -> int:
        return max(self.page_size, 8)

    @property
    def part_sectors(self) -> int:
        return (self.size // self.sector_size) // 2

    @property
    def part_size(self) -> int:
        return self.part_sectors * self.sector_size

    def part_offset(self, index: int) -> int:
        return index * self.part_size

    @property
    def commit_offset(self) -> int:
        return _ceil(PART_HEADER_SIZE, self.unit) * self.unit

    @property
    def obsolete_offset(self) -> int:
        return self.commit_offset + self.unit

    @property
    def log_offset(self) -> int:
        return self.obsolete_offset + self.unit

    @property
    def header_units(self) -> int:
        return _ceil(RECORD_HEADER_SIZE, self.unit)

    @property
    def overhead_units(self) -> int:
        """Units of a record besides its data: header + marker."""
        return self.header_units + 1

    def data_units(self, length: int) -> int:
        return _ceil(length, self.unit)

    def record_units(self, length: int) -> int:
        return self.overhead_units + self.data_units(length)

    @property
    def log_units(self) -> int:
        return (self.part_size - self.log_offset) // self.unit

    def blank(self, n: int) -> bytes:
        return bytes([self.erased]) * n

    @property
    def programmed(self) -> int:
        """A byte with every bit moved away from the erased state (the obsolete mark)."""
        return self.erased ^ 0xFF

    def pad(self, data: bytes) -> bytes:
        """``data`` padded with erased bytes to a whole number of units."""
        return data + self.blank(-len(data) % self.unit)


def capacity(geom: Geometry, object_count: int) -> tuple[int, int]:
    """``(slots, data_units)`` of a partition's log for ``object_count`` directory slots."""
    slots = max(0, min(int(object_count), geom.log_units // (geom.overhead_units + 1)))
    return slots, geom.log_units - slots * geom.overhead_units


def geometry_for_board(board: Any) -> Geometry:
    """The NVM geometry of a board profile (a name, a path or a loaded ``Board``), for tools."""
    from boards.loader import load  # tools only: the firmware gets its geometry from the controller

    if isinstance(board, str):
        board = load(board)
    flash = next((p for p in board.peripherals if p.type == "flash"), None)
    if flash is None:
        raise NvmImageError(f"board {board.name} has no flash controller (no NVM image)")
    mem = next(m for m in board.memories if m.name == flash.config.get("memory"))
    return Geometry(
        size=mem.size,
        page_size=int(flash.config.get("page_size", 8)),
        sector_size=int(flash.config.get("sector_size", 4096)),
        erased=int(flash.config.get("erased_value", 0xFF)),
        base=mem.origin,
    )


# ---------------------------------------------------------------------------------------- encoders


def encode_partition_header(geom: Geometry, index: int, epoch: int) -> bytes:
    """The partition header, padded to its units."""
    body = _PART.pack(PART_MAGIC, FORMAT_VERSION, geom.unit, epoch, geom.part_size, geom.sector_size, index, 0, 0, 0)
    body = body[:-4] + struct.pack("<I", _crc(body[:-4]))
    return geom.pad(body)


def _commit_crc(epoch: int, index: int) -> int:
    return _crc(COMMIT_TAG + struct.pack("<IH", epoch, index))


def encode_commit(geom: Geometry, index: int, epoch: int) -> bytes:
    """The commit unit of partition ``index`` at ``epoch``."""
    return geom.pad(_COMMIT.pack(epoch, _commit_crc(epoch, index)))


def encode_obsolete(geom: Geometry) -> bytes:
    return bytes([geom.programmed]) * geom.unit


def encode_record(geom: Geometry, meta: Metadata, data: bytes) -> bytes:
    """One record: header, data, marker, each padded to units. ``meta.len`` is set to ``len(data)``."""
    data = bytes(data)
    if len(data) > MAX_DATA:
        raise ValueError(f"{len(data)} bytes exceed an NVM object's {MAX_DATA}")
    meta = meta.replace(len=len(data))
    head = _RECORD.pack(RECORD_MAGIC, KIND_OBJECT, 0, _crc(data), meta.pack(ByteOrder.LITTLE), 0)
    hcrc = _crc(head[:-4])
    head = head[:-4] + struct.pack("<I", hcrc)
    return geom.pad(head) + geom.pad(data) + geom.pad(_MARKER.pack(MARKER_MAGIC, hcrc))


def _decode_partition_header(raw: bytes) -> tuple[dict[str, int] | None, str]:
    magic, version, unit, epoch, psize, ssize, index, _r1, _r2, crc = _PART.unpack(raw[:PART_HEADER_SIZE])
    if magic != PART_MAGIC:
        return None, "no partition magic"
    if _crc(raw[: PART_HEADER_SIZE - 4]) != crc:
        return None, "partition header CRC mismatch"
    if version != FORMAT_VERSION:
        return None, f"unknown format version {version}"
    return {"unit": unit, "epoch": epoch, "part_size": psize, "sector_size": ssize, "index": index}, ""


def _decode_record_header(raw: bytes) -> tuple[Metadata, int, int] | None:
    magic, kind, _r, dcrc, meta_raw, hcrc = _RECORD.unpack(raw[:RECORD_HEADER_SIZE])
    if magic != RECORD_MAGIC or kind != KIND_OBJECT or _crc(raw[: RECORD_HEADER_SIZE - 4]) != hcrc:
        return None
    return Metadata.unpack(meta_raw, ByteOrder.LITTLE), dcrc, hcrc


def _nor_subset(actual: bytes, expected: bytes, erased: int) -> bool:
    """True if every bit programmed in ``actual`` is also programmed in ``expected`` (a torn write of it)."""
    for a, x in zip(actual, expected):
        if (a ^ erased) & ~(x ^ erased) & 0xFF:
            return False
    return True


# ---------------------------------------------------------------------------------------- parsing


@dataclass
class Record:
    """One log entry of a partition (offsets relative to the partition)."""

    offset: int
    units: int  # physical extent in format units
    state: str  # LIVE, SUPERSEDED, UNCOMMITTED, CORRUPT, GARBAGE
    meta: Metadata | None = None
    data_offset: int = 0
    data_crc: int = 0
    slots: int = 1  # directory slots it takes in the accounting
    data_units: int = 0  # data units it takes in the accounting
    note: str = ""

    @property
    def live(self) -> bool:
        return self.state == LIVE

    @classmethod
    def for_object(cls, geom: Geometry, offset: int, meta: Metadata, data_crc: int) -> Record:
        """A live object record at partition ``offset`` (``meta.len`` is the data length)."""
        n = geom.data_units(meta.len)
        return cls(
            offset, geom.record_units(meta.len), LIVE, meta, offset + geom.header_units * geom.unit, data_crc, 1, n
        )


@dataclass
class Partition:
    index: int
    offset: int
    state: str = "invalid"  # blank | active | obsolete | pending | invalid
    epoch: int | None = None  # from a valid header
    commit_epoch: int | None = None  # from a valid commit unit (even with a damaged header)
    why: str = ""
    records: list[Record] = field(default_factory=list)
    end: int = 0  # where the next record goes (partition offset)
    scanned: bool = False


@dataclass
class ImageReport:
    """What :func:`parse_image` found: status "ok" (``active`` is mounted), "empty" or "corrupt"."""

    geometry: Geometry
    status: str = "corrupt"
    active: int | None = None
    partitions: list[Partition] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # corruption (fatal when status is "corrupt")
    notes: list[str] = field(default_factory=list)  # normal findings, e.g. a torn write discarded
    object_count: int = 30

    @property
    def ok(self) -> bool:
        return self.status != "corrupt"

    @property
    def records(self) -> list[Record]:
        return [] if self.active is None else self.partitions[self.active].records

    def objects(self) -> list[Record]:
        """Live records in directory order."""
        return [r for r in self.records if r.live]

    def data(self, image: bytes, rec: Record) -> bytes:
        """The data of a record of the active partition, taken from ``image``."""
        assert self.active is not None and rec.meta is not None
        start = self.partitions[self.active].offset + rec.data_offset
        return bytes(image[start : start + rec.meta.len])

    def available(self) -> tuple[int, int, int, int]:
        """GETAVAILABLE as the firmware would report it after mounting this image."""
        return accounting(self.geometry, self.object_count, self.records)

    def describe(self) -> str:
        """A human-readable consistency report (what ``hsmemu nvm check`` prints)."""
        g = self.geometry
        lines = [
            f"flash {g.size} B: 2 partitions of {g.part_sectors} x {g.sector_size} B sectors, unit {g.unit} B",
            f"status: {self.status}" + (f", active partition {self.active}" if self.active is not None else ""),
        ]
        for p in self.partitions:
            epoch = "" if p.epoch is None else f" epoch {p.epoch}"
            why = f" ({p.why})" if p.why else ""
            lines.append(f"partition {p.index} @0x{p.offset:x}: {p.state}{epoch}{why}")
            if p.scanned:
                counts: dict[str, int] = {}
                for r in p.records:
                    counts[r.state] = counts.get(r.state, 0) + 1
                summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "empty log"
                lines.append(f"  log: {summary}; next record at 0x{p.end:x}")
        if self.status == "ok" or self.status == "empty":
            a = self.available()
            lines.append(f"available: {a[0]} B, {a[2]} objects; reclaimable: {a[1]} B, {a[3]} objects")
            for r in self.objects():
                m = r.meta
                assert m is not None
                label = m.label.rstrip(b"\0").decode("latin-1")
                lines.append(
                    f"  0x{m.id:04x} len {m.len} flags 0x{m.flags:04x} access 0x{m.access:04x} label {label!r}"
                )
        lines += [f"problem: {p}" for p in self.problems]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def accounting(geom: Geometry, object_count: int, records: list[Record]) -> tuple[int, int, int, int]:
    """``(avail_size, reclaim_size, avail_objects, reclaim_objects)`` of a log (see the module doc)."""
    slots, data_units = capacity(geom, object_count)
    used_slots = sum(r.slots for r in records)
    used_units = sum(r.data_units for r in records)
    dead = [r for r in records if not r.live]
    return (
        max(data_units - used_units, 0) * geom.unit,
        sum(r.data_units for r in dead) * geom.unit,
        min(max(slots - used_slots, 0), 0xFFFF),
        min(sum(r.slots for r in dead), 0xFFFF),
    )


class _Image:
    """The bytes of the flash plus the set of unreadable 8-byte words (flash offsets)."""

    def __init__(self, image: bytes, geom: Geometry, bad: Iterable[int]) -> None:
        self.b = image
        self.g = geom
        self.bad = frozenset(bad)

    def has_bad(self, lo: int, hi: int) -> bool:
        if not self.bad:
            return False
        return any(w in self.bad for w in range(lo - lo % ECC_WORD, hi, ECC_WORD))

    def is_blank(self, lo: int, hi: int) -> bool:
        return not self.has_bad(lo, hi) and self.b[lo:hi] == self.g.blank(hi - lo)


def _parse_header(img: _Image, index: int) -> Partition:
    g = img.g
    base = g.part_offset(index)
    p = Partition(index, base)
    raw_commit = img.b[base + g.commit_offset : base + g.commit_offset + COMMIT_SIZE]
    if not img.has_bad(base + g.commit_offset, base + g.commit_offset + COMMIT_SIZE):
        epoch, crc = _COMMIT.unpack(raw_commit)
        if crc == _commit_crc(epoch, index):
            p.commit_epoch = epoch
    if img.is_blank(base, base + g.log_offset):
        p.state = "blank"
        return p
    if img.has_bad(base, base + PART_HEADER_SIZE):
        p.why = "unreadable header (ECC)"
        return p
    hdr, why = _decode_partition_header(img.b[base : base + PART_HEADER_SIZE])
    if hdr is None:
        p.why = why
        return p
    expect = {"unit": g.unit, "part_size": g.part_size, "sector_size": g.sector_size, "index": index}
    wrong = [k for k, v in expect.items() if hdr[k] != v]
    if wrong:
        p.why = "geometry differs: " + ", ".join(f"{k} {hdr[k]} (flash: {expect[k]})" for k in wrong)
        return p
    p.epoch = hdr["epoch"]
    if p.commit_epoch is None:
        p.state = "pending"
        p.why = "not committed (an interrupted compaction or format)"
        return p
    if p.commit_epoch != p.epoch:
        p.why = f"commit unit for epoch {p.commit_epoch}, header epoch {p.epoch}"
        return p
    obsolete = not img.is_blank(base + g.obsolete_offset, base + g.obsolete_offset + g.unit)
    p.state = "obsolete" if obsolete else "active"
    return p


def _scan_log(img: _Image, p: Partition, problems: list[str], notes: list[str]) -> None:
    """Fill ``p.records`` and ``p.end`` from the partition's log."""
    g, b = img.g, img.b
    base, U, H = p.offset, g.unit, g.header_units
    log = b[base + g.log_offset : base + g.part_size]
    tail = len(log.rstrip(bytes([g.erased])))
    if img.bad:  # an unreadable word counts as written
        mine = [w - base - g.log_offset + ECC_WORD for w in img.bad if base <= w < base + g.part_size]
        tail = max([tail, *mine])
    limit = g.log_offset + _ceil(tail, U) * U
    records: list[Record] = []
    live: dict[int, Record] = {}
    pos = g.log_offset
    run = -1  # start of the current garbage run

    def end_run(stop: int) -> None:
        nonlocal run
        if run < 0:
            return
        units = (stop - run) // U
        rec = Record(run, units, GARBAGE, slots=_ceil(units, g.overhead_units))
        if units <= H:
            rec.note = "torn record header (a cut during an add)"
            notes.append(f"partition {p.index}: {rec.note} at 0x{run:x}, discarded")
        else:
            rec.note = "unreadable region: a damaged record header?"
            problems.append(
                f"partition {p.index}: {units} unreadable units at 0x{run:x} (a damaged record; "
                "an older version of its object, if any, is visible again)"
            )
        records.append(rec)
        run = -1

    while pos < limit:
        a = base + pos
        hdr = None
        if not img.has_bad(a, a + RECORD_HEADER_SIZE):
            hdr = _decode_record_header(b[a : a + RECORD_HEADER_SIZE])
        units = g.record_units(hdr[0].len) if hdr is not None else 0
        if hdr is None or pos + units * U > g.part_size:
            if run < 0:
                run = pos
            pos += U
            continue
        end_run(pos)
        meta, dcrc, hcrc = hdr
        rec = Record.for_object(g, pos, meta, dcrc)
        data_off = rec.data_offset
        mark = base + data_off + rec.data_units * U
        expected = _MARKER.pack(MARKER_MAGIC, hcrc)
        marker = b[mark : mark + MARKER_SIZE]
        where = f"object 0x{meta.id:04x} at partition {p.index} offset 0x{pos:x}"
        if img.has_bad(mark, mark + MARKER_SIZE):
            rec.state, rec.note = CORRUPT, "unreadable commit marker (ECC)"
        elif marker != expected:
            if _nor_subset(marker, expected, g.erased):
                rec.state, rec.note = UNCOMMITTED, "not committed (a cut during an add)"
                notes.append(f"{where}: {rec.note}, discarded")
            else:
                rec.state, rec.note = CORRUPT, "damaged commit marker"
        elif img.has_bad(base + data_off, base + data_off + meta.len):
            rec.state, rec.note = CORRUPT, "unreadable data (ECC)"
        elif _crc(b[base + data_off : base + data_off + meta.len]) != dcrc:
            rec.state, rec.note = CORRUPT, "data CRC mismatch"
        if rec.state in (LIVE, CORRUPT):
            old = live.pop(meta.id, None)
            if old is not None:
                old.state = SUPERSEDED
            if rec.state == LIVE:
                live[meta.id] = rec
            else:
                problems.append(f"{where}: {rec.note}; the object is dropped")
        records.append(rec)
        pos += units * U
    end_run(pos)
    p.records = records
    p.end = max(pos, limit)
    p.scanned = True


def _interrupted_first_format(img: _Image) -> bool:
    """Partition 0 holds only a NOR subset of the epoch-1 format, the rest of the flash is erased."""
    g = img.g
    expected = encode_partition_header(g, 0, 1) + encode_commit(g, 0, 1) + g.blank(g.unit)
    head = img.b[: g.log_offset]
    return (
        not img.has_bad(0, g.log_offset)
        and _nor_subset(head, expected, g.erased)
        and img.is_blank(g.log_offset, 2 * g.part_size)
    )


def parse_image(
    image: bytes, geom: Geometry, bad: Iterable[int] = (), *, object_count: int = 30, scan_all: bool = False
) -> ImageReport:
    """Recover the store from a flash image (see the module docstring for the rules).

    ``bad``: flash offsets of 8-byte words that could not be read (uncorrectable ECC errors); their
    bytes in ``image`` are ignored. ``scan_all`` also scans the log of a partition that is not
    mounted (for reports). ``object_count`` only matters for the accounting.
    """
    rep = ImageReport(geom, object_count=object_count)
    image = bytes(image)
    if len(image) != geom.size:
        rep.problems.append(f"image is {len(image)} bytes, the flash is {geom.size} (truncated or another board)")
        image = (image + geom.blank(geom.size))[: geom.size]
    img = _Image(image, geom, bad)
    rep.partitions = [_parse_header(img, i) for i in (0, 1)]
    actives = [p for p in rep.partitions if p.state == "active"]
    if rep.problems:
        pass  # a truncated image is never mounted
    elif actives:
        best = max(actives, key=lambda p: p.epoch or 0)
        other = rep.partitions[1 - best.index]
        assert best.epoch is not None
        if other.commit_epoch is not None and other.commit_epoch >= best.epoch:
            rep.problems.append(
                f"partition {other.index} was committed at epoch {other.commit_epoch}, not older than the active "
                f"partition {best.index} (epoch {best.epoch}), but is {other.state}"
                + (f" ({other.why})" if other.why else "")
                + ": the newest data is damaged"
            )
        else:
            rep.status, rep.active = "ok", best.index
    elif img.is_blank(0, 2 * geom.part_size):
        rep.status = "empty"
    elif _interrupted_first_format(img):
        rep.status = "empty"
        rep.notes.append("an interrupted first format was found and is discarded")
    else:
        states = "; ".join(f"partition {p.index} {p.state}" + (f" ({p.why})" if p.why else "") for p in rep.partitions)
        rep.problems.append(f"no valid partition: {states}")
    for p in rep.partitions:
        if p.index == rep.active or (scan_all and p.state not in ("blank",) and p.epoch is not None):
            _scan_log(img, p, rep.problems if p.index == rep.active else [], rep.notes if p.index == rep.active else [])
    if rep.status == "empty":
        rep.partitions[0].end = geom.log_offset
    return rep


# ---------------------------------------------------------------------------------------- offline flash


class ImageFlash:
    """A flash image in memory with the NOR rules, for running the store offline (tools, tests).

    Same interface as the firmware's driver (:class:`firmware.hsm.nvm_flash.HalFlash`): ``geometry``,
    ``read``, ``program``, ``erase``, ``trace``, ``log``. Programming a page that is not erased fails
    (the strict ``double_program = "error"`` rule), so a store bug cannot go unnoticed here.
    """

    def __init__(self, image: bytes | bytearray | None, geom: Geometry) -> None:
        self.geometry = geom
        self.image = bytearray(geom.blank(geom.size) if image is None else image)
        if len(self.image) != geom.size:
            raise NvmImageError(f"image is {len(self.image)} bytes, the flash is {geom.size}")
        self.messages: list[str] = []
        self.programs = 0
        self.erases = 0

    def read(self, offset: int, size: int) -> tuple[bytes, frozenset[int]]:
        return bytes(self.image[offset : offset + size]), frozenset()

    def program(self, offset: int, data: bytes) -> None:
        g = self.geometry
        ps = g.page_size
        if offset % ps or len(data) % ps or offset < 0 or offset + len(data) > g.size:
            raise FlashFault(f"program of {len(data)} bytes at 0x{offset:x}: not page aligned or outside")
        for i in range(0, len(data), ps):
            page = data[i : i + ps]
            if page == g.blank(ps):
                continue
            if self.image[offset + i : offset + i + ps] != g.blank(ps):
                raise FlashFault(f"program of a page that is not erased at 0x{offset + i:x}")
            self.image[offset + i : offset + i + ps] = page
            self.programs += 1

    def erase(self, sector: int) -> None:
        g = self.geometry
        self.image[sector * g.sector_size : (sector + 1) * g.sector_size] = g.blank(g.sector_size)
        self.erases += 1

    def trace(self, kind: str, detail: str = "") -> None:
        self.messages.append(f"{kind}: {detail}")

    def log(self, text: str) -> None:
        self.messages.append(text)


def blank_image(geom: Geometry) -> bytes:
    """An erased flash: the store mounts it as empty (it formats itself on the first write)."""
    return geom.blank(geom.size)


def open_store(image: bytes | bytearray | None, geom: Geometry, object_count: int = 30, reformat: bool = False) -> Any:
    """The firmware's store running on an in-memory copy of ``image``; its ``flash.image`` is the result."""
    from .nvm_flash import FlashNvm

    return FlashNvm(ImageFlash(image, geom), object_count=object_count, reformat=reformat)


def _check(store: Any, what: str) -> None:
    if not store.ready:
        raise NvmImageError(f"{what}: the image is unusable: {store.problem}")


def add_objects(
    image: bytes | None, geom: Geometry, objects: Iterable[tuple[Metadata, bytes]], object_count: int = 30
) -> bytes:
    """A copy of ``image`` (None: a blank flash) with ``objects`` added in order, as the firmware would add
    them (compacting first when needed, like an internal writer). Raises NvmImageError on a corrupt image
    or when an object does not fit (the image is then not changed: nothing is returned)."""
    from firmware.wire import WhError

    store = open_store(image, geom, object_count)
    _check(store, "add")
    for meta, data in objects:
        rc = store.add(meta, bytes(data), reclaim=True)
        if rc != WhError.OK:
            raise NvmImageError(f"add of object 0x{meta.id:04x} ({len(data)} bytes): {WhError(rc).name}")
    return bytes(store.flash.image)


def build_image(geom: Geometry, objects: Iterable[tuple[Metadata, bytes]] = (), object_count: int = 30) -> bytes:
    """A fresh image: formatted (partition 0, epoch 1) and holding ``objects``."""
    from firmware.wire import WhError

    store = open_store(None, geom, object_count)
    rc = store.format()
    if rc != WhError.OK:
        raise NvmImageError(f"format: {WhError(rc).name}")
    return add_objects(bytes(store.flash.image), geom, objects, object_count)


def destroy_objects(image: bytes, geom: Geometry, ids: Iterable[int], object_count: int = 30) -> bytes:
    """A copy of ``image`` without the objects ``ids`` (absent ones ignored), compacted."""
    from firmware.wire import WhError

    store = open_store(image, geom, object_count)
    _check(store, "destroy")
    rc = store.destroy(list(ids))
    if rc != WhError.OK:
        raise NvmImageError(f"destroy: {WhError(rc).name}")
    return bytes(store.flash.image)
