"""The power-loss-safe NVM object store on the HSM's data flash (an :class:`NvmBackend`).

The on-flash format, the commit protocol and the recovery rules are defined in
:mod:`firmware.hsm.nvm_image` (read its docstring); this module is the firmware side:

* :class:`HalFlash` -- the flash controller driver. It reaches the hardware only through the HAL:
  registers with ``read32``/``write32``, the flash array with ``hal.read`` (mapped read-only for the
  HSM; an uncorrectable ECC word raises ``hal.AccessError`` and is reported as unreadable). It waits
  for every command's DONE with ``wait_irq`` on the controller's ``irq_line`` (IRQEN.DONE set at
  boot; a controller without an ``irq_line`` is polled instead: STATUS read after ``hal.spend`` of
  the profile's ``program_ns`` / ``erase_ns`` in slices of at most 1 ms). So every page program and
  sector erase costs its virtual time on the HSM core, and an operation returns only once the flash
  says DONE without an error flag.
* :class:`FlashNvm` -- the store: it mounts at boot (one read of the whole flash, then
  :func:`~firmware.hsm.nvm_image.parse_image`) and keeps a RAM index (records of the current log,
  plain attributes, deep-copyable for snapshots); object data stays in flash and is read, and its CRC
  checked, on every :meth:`FlashNvm.get`.

Unusable store. When the image is corrupt (see the recovery rules) the store does not format it:
``ready`` is False, ``problem`` says why, and the HSM trace gets an ``nvm-unusable`` record plus a
console line. The firmware keeps serving; every NVM mutation (add, destroy, compact; so also key
commit/erase and counters) answers ``WH_ERROR_NOTREADY`` (-2001); lookups find nothing (the back-end
protocol has no error channel for reads: READ / GETMETADATA answer NOTFOUND, LIST is empty, and
GETAVAILABLE reports 0 everywhere). With ``reformat=True`` (``hsmemu run --nvm-reformat``) a corrupt
image is erased at boot instead and the store starts empty (trace ``nvm-reformat``); a healthy image
is never touched by that option. Object-level corruption (a record whose data CRC fails, an
unreadable ECC word) does not stop the store: that object is dropped (reads as absent; an older
version is *not* resurrected) and reported with ``nvm-corrupt``; the same happens when a later read
finds an object's data damaged.

Errors of the flash itself (a command refused, e.g. a worn-out sector): the operation answers
``WH_ERROR_ABORTED`` (-2002) and the store stays consistent (an interrupted add leaves an uncommitted
record, an interrupted compaction leaves the old partition current); trace ``nvm-flash-error``.

Trace records of the store (source: the HSM core), besides the flash controller's own
``flash-program`` / ``flash-erase`` (one per command, at its start) and ``flash-torn``:
``nvm-mount``, ``nvm-note``, ``nvm-corrupt``, ``nvm-unusable``, ``nvm-reformat``, ``nvm-format``,
``nvm-add``, ``nvm-compact``, ``nvm-flash-error``.
"""

from __future__ import annotations

import zlib
from typing import Any

from firmware.wire import WhError

from .nvm_backend import Metadata
from .nvm_image import (
    CORRUPT,
    ECC_WORD,
    MAX_DATA,
    SUPERSEDED,
    UNCOMMITTED,
    FlashFault,
    Geometry,
    Record,
    accounting,
    capacity,
    encode_commit,
    encode_obsolete,
    encode_partition_header,
    encode_record,
    parse_image,
)

__all__ = ["FlashFault", "FlashNvm", "HalFlash"]

# The flash controller's register interface (peripherals/flash.py), as the firmware's own header.
REG_CMD = 0x00
REG_ADDR = 0x04
REG_STATUS = 0x08
REG_IRQEN = 0x0C
REG_MEM_BASE = 0x20
REG_MEM_SIZE = 0x24
REG_PAGE_SIZE = 0x28
REG_SECTOR_SIZE = 0x2C
REG_DATA = 0x40
CMD_PROGRAM_PAGE = 0x01
CMD_ERASE_SECTOR = 0x02
CMD_CLEAR_STATUS = 0x04
ST_BUSY = 1 << 0
ST_DONE = 1 << 1
ST_ERRORS = 0x7C  # ERR_SEQUENCE | ERR_ALIGN | ERR_RANGE | ERR_PROGRAM | ERR_ENDURANCE
IRQEN_DONE = 1 << 0
READ_PIECE = 1024  # bytes re-read at a time after a failed read
POLL_SLICE_NS = 1_000_000  # longest sleep between two STATUS polls (controllers without an irq_line)
_ERR_NAMES = {1 << 2: "sequence", 1 << 3: "align", 1 << 4: "range", 1 << 5: "program", 1 << 6: "endurance"}


def _status_text(st: int) -> str:
    return ", ".join(n for b, n in _ERR_NAMES.items() if st & b) or f"status 0x{st:x}"


class HalFlash:
    """Driver of one flash controller through the HAL (see the module docstring).

    Holds no state besides the HAL reference and constants read at construction, so a deep copy
    (the emulator's snapshot of the firmware) shares it: ``copy.deepcopy`` returns the same object.
    """

    def __init__(self, hal: Any, name: str) -> None:
        cfg = hal.peripheral(name)
        self.hal = hal
        self.name = name
        self.regs = int(cfg["base"])
        self.byte_order = "big" if str(cfg.get("byte_order", "little")) == "big" else "little"
        # nominal durations in HSM cycles (the profile's numbers, as a driver's datasheet constants)
        clock = int(getattr(hal, "clock_hz", 100_000_000))
        self.program_cycles = -(-int(cfg.get("program_ns", 50_000)) * clock // 10**9)
        self.erase_cycles = -(-int(cfg.get("erase_ns", 50_000_000)) * clock // 10**9)
        self.poll_cycles = max(1, POLL_SLICE_NS * clock // 10**9)
        self.irq_line: int | None = int(cfg["irq_line"]) if "irq_line" in cfg else None  # None: poll
        r = self.regs
        self.geometry = Geometry(
            size=hal.read32(r + REG_MEM_SIZE),
            page_size=hal.read32(r + REG_PAGE_SIZE),
            sector_size=hal.read32(r + REG_SECTOR_SIZE),
            erased=int(cfg.get("erased_value", 0xFF)),
            base=hal.read32(r + REG_MEM_BASE),
        )
        self._blank_page = self.geometry.blank(self.geometry.page_size)
        hal.write32(r + REG_CMD, CMD_CLEAR_STATUS)
        hal.write32(r + REG_IRQEN, IRQEN_DONE if self.irq_line is not None else 0)
        if self.irq_line is not None:
            hal.ack_irq(self.irq_line)

    def __deepcopy__(self, memo: dict[int, Any]) -> HalFlash:
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "hal"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.hal = None

    # ------------------------------------------------------------------ array reads
    def read(self, offset: int, size: int) -> tuple[bytes, frozenset[int]]:
        """``size`` bytes at flash ``offset`` and the offsets of unreadable (ECC) 8-byte words.

        One bus read; if it fails (an uncorrectable ECC word), again in 1 KiB pieces, and a failing
        piece word by word: an unreadable word reads as all-programmed bytes and is listed.
        """
        try:
            return self.hal.read(self.geometry.base + offset, size), frozenset()
        except self.hal.AccessError:
            pass
        out = bytearray()
        bad: set[int] = set()
        for lo in range(offset, offset + size, READ_PIECE):
            n = min(READ_PIECE, offset + size - lo)
            try:
                out += self.hal.read(self.geometry.base + lo, n)
            except self.hal.AccessError:
                out += self._read_words(lo, n, bad)
        return bytes(out), frozenset(bad)

    def _read_words(self, offset: int, size: int, bad: set[int]) -> bytes:
        out = bytearray()
        pos = offset
        while pos < offset + size:
            w = pos - pos % ECC_WORD
            n = min(w + ECC_WORD, offset + size) - pos
            try:
                out += self.hal.read(self.geometry.base + pos, n)
            except self.hal.AccessError:
                out += bytes([self.geometry.programmed]) * n
                bad.add(w)
            pos += n
        return bytes(out)

    # ------------------------------------------------------------------ commands
    def _command(self, cmd: int, addr: int, cycles: int) -> None:
        """Issue ``cmd`` on ``addr`` and wait for DONE, then check the error flags.

        With an ``irq_line``: sleep in ``wait_irq`` until the controller raises DONE. Without one:
        poll STATUS, sleeping (``hal.spend``) through the nominal duration ``cycles`` in slices of at
        most POLL_SLICE_NS, then in small steps.
        """
        hal, r = self.hal, self.regs
        hal.write32(r + REG_ADDR, addr)
        hal.write32(r + REG_CMD, cmd)
        line = self.irq_line
        if line is not None:
            while True:
                hal.wait_irq(1 << line)
                hal.ack_irq(line)
                st = hal.read32(r + REG_STATUS)
                if st & ST_DONE and not st & ST_BUSY:
                    break
        else:
            st = hal.read32(r + REG_STATUS)
            left = cycles
            while not st & ST_DONE or st & ST_BUSY:
                step = min(left, self.poll_cycles) if left > 0 else max(1, min(cycles // 16, self.poll_cycles))
                left -= step
                hal.spend(step)
                st = hal.read32(r + REG_STATUS)
        hal.write32(r + REG_STATUS, st & (ST_DONE | ST_ERRORS))
        if st & ST_ERRORS:
            what = "program" if cmd == CMD_PROGRAM_PAGE else "erase"
            raise FlashFault(f"{what} at 0x{addr:08x} refused: {_status_text(st)}", st)

    def program(self, offset: int, data: bytes) -> None:
        """Program whole pages from flash ``offset``, one at a time in ascending order, each awaited.

        Pages that are entirely erased data are skipped (programming them changes nothing).
        """
        g = self.geometry
        ps, hal, r = g.page_size, self.hal, self.regs
        order = self.byte_order
        for i in range(0, len(data), ps):
            page = data[i : i + ps]
            if page == self._blank_page:
                continue
            for k in range(0, ps, 4):
                hal.write32(r + REG_DATA + k, int.from_bytes(page[k : k + 4], order))
            self._command(CMD_PROGRAM_PAGE, g.base + offset + i, self.program_cycles)

    def erase(self, sector: int) -> None:
        g = self.geometry
        self._command(CMD_ERASE_SECTOR, g.base + sector * g.sector_size, self.erase_cycles)

    # ------------------------------------------------------------------ diagnostics
    def trace(self, kind: str, detail: str = "") -> None:
        self.hal.trace(kind, detail)

    def log(self, text: str) -> None:
        self.hal.log(text)


class FlashNvm:
    """:class:`~firmware.hsm.nvm_backend.NvmBackend` on a flash driver (:class:`HalFlash`, or
    :class:`~firmware.hsm.nvm_image.ImageFlash` offline). Mounts in the constructor."""

    def __init__(self, flash: Any, object_count: int = 30, reformat: bool = False) -> None:
        self.flash = flash
        self.geom: Geometry = flash.geometry
        self.object_count = int(object_count)
        self.slots, self.data_units = capacity(self.geom, self.object_count)
        self.ready = False
        self.problem = ""  # why the store is unusable
        self.findings: list[str] = []  # corruption found (objects dropped), newest last
        self.active: int | None = None  # mounted partition; None = not formatted yet (erased flash)
        self.epoch = 0
        self.records: list[Record] = []  # the active partition's log
        self.free = self.geom.log_offset  # partition offset of the next record
        self._live: dict[int, int] = {}  # id -> index in records
        self.stats = {"adds": 0, "compactions": 0, "formats": 0}
        self.mount(reformat)

    # ------------------------------------------------------------------ mount
    def mount(self, reformat: bool = False) -> None:
        g, flash = self.geom, self.flash
        image, bad = flash.read(0, g.size)
        rep = parse_image(image, g, bad, object_count=self.object_count)
        for note in rep.notes:
            flash.trace("nvm-note", note)
        self.active, self.epoch, self.records, self.free = None, 0, [], g.log_offset
        if rep.status == "corrupt":
            why = "; ".join(rep.problems)
            if not reformat:
                self.ready, self.problem = False, why
                flash.trace("nvm-unusable", why)
                flash.log(
                    f"NVM store unusable: {why}. NVM requests fail (NOTREADY); "
                    "restart with --nvm-reformat to start with an empty store (the data is lost)"
                )
                return
            flash.trace("nvm-reformat", why)
            flash.log(f"NVM store corrupt ({why}); --nvm-reformat: erasing it, starting empty")
            try:
                for index in (1, 0):
                    self._erase_partition(index, image, bad)
            except FlashFault as e:
                self.ready, self.problem = False, f"reformat failed: {e}"
                flash.trace("nvm-unusable", self.problem)
                return
        else:
            for p in rep.problems:
                self._finding(p)
            if rep.status == "ok":
                part = rep.partitions[rep.active]  # type: ignore[index]
                self.active, self.epoch = rep.active, part.epoch or 0
                self.records, self.free = part.records, part.end
        self.ready, self.problem = True, ""
        self._reindex()
        a = self.available()
        where = "not formatted" if self.active is None else f"partition {self.active} epoch {self.epoch}"
        flash.trace(
            "nvm-mount",
            f"{where}: {len(self._live)} objects, {a[0]} B / {a[2]} slots free, {a[1]} B / {a[3]} reclaimable",
        )

    def _finding(self, text: str) -> None:
        self.findings.append(text)
        self.flash.trace("nvm-corrupt", text)
        self.flash.log(f"NVM: {text}")

    def _reindex(self) -> None:
        self._live = {r.meta.id: i for i, r in enumerate(self.records) if r.live and r.meta is not None}

    # ------------------------------------------------------------------ queries
    def list_ids(self) -> list[int]:
        if not self.ready:
            return []
        return [r.meta.id for r in self.records if r.live and r.meta is not None]

    def metadata(self, nvm_id: int) -> Metadata | None:
        i = self._live.get(nvm_id) if self.ready else None
        return None if i is None else self.records[i].meta

    def get(self, nvm_id: int) -> tuple[Metadata, bytes] | None:
        i = self._live.get(nvm_id) if self.ready else None
        if i is None:
            return None
        rec = self.records[i]
        data = self._read_data(self.active, rec)  # type: ignore[arg-type]
        if data is None:
            rec.state = CORRUPT
            self._reindex()
            return None
        return rec.meta, data  # type: ignore[return-value]

    def available(self) -> tuple[int, int, int, int]:
        if not self.ready:
            return 0, 0, 0, 0
        return accounting(self.geom, self.object_count, self.records)

    def _read_data(self, part: int, rec: Record) -> bytes | None:
        """The record's data, or None (reported) when it is unreadable or fails its CRC."""
        assert rec.meta is not None
        n = rec.meta.len
        data, bad = self.flash.read(self.geom.part_offset(part) + rec.data_offset, n)
        if bad or zlib.crc32(data) & 0xFFFF_FFFF != rec.data_crc:
            why = "unreadable data (ECC)" if bad else "data CRC mismatch"
            self._finding(
                f"object 0x{rec.meta.id:04x} at partition {part} offset 0x{rec.offset:x}: {why}; the object is dropped"
            )
            return None
        return data

    # ------------------------------------------------------------------ updates
    def _fits(self, units: int, after_compaction: bool = False) -> bool:
        recs = [r for r in self.records if r.live] if after_compaction else self.records
        used_slots = sum(r.slots for r in recs)
        used_units = sum(r.data_units for r in recs)
        if used_slots + 1 > self.slots or used_units + units > self.data_units:
            return False
        if after_compaction:
            return True
        return self.free + self.geom.record_units(0) * self.geom.unit + units * self.geom.unit <= self.geom.part_size

    def add(self, meta: Metadata, data: bytes, reclaim: bool = False) -> int:
        if not self.ready:
            return WhError.NOTREADY
        data = bytes(data)
        if len(data) > MAX_DATA:
            return WhError.BADARGS
        units = self.geom.data_units(len(data))
        if not self._fits(units):
            if not (reclaim and self._fits(units, after_compaction=True)):
                return WhError.NOSPACE  # checked before anything is programmed: the store is unchanged
            rc = self._compact(set())
            if rc != WhError.OK:
                return rc
            if not self._fits(units):
                return WhError.NOSPACE
        if self.active is None:
            rc = self.format()
            if rc != WhError.OK:
                return rc
        return self._append(meta.replace(len=len(data)), data)

    def _append(self, meta: Metadata, data: bytes) -> int:
        g = self.geom
        blob = encode_record(g, meta, data)
        off = self.free
        rec = Record.for_object(g, off, meta, zlib.crc32(data) & 0xFFFF_FFFF)
        self.free = off + len(blob)  # never reused, whatever happens below
        try:
            self.flash.program(g.part_offset(self.active) + off, blob)  # type: ignore[arg-type]
        except FlashFault as e:
            rec.state, rec.note = UNCOMMITTED, f"flash error: {e}"
            self.records.append(rec)
            self.flash.trace("nvm-flash-error", f"add of 0x{meta.id:04x}: {e}")
            return WhError.ABORTED
        old = self._live.get(meta.id)
        if old is not None:
            self.records[old].state = SUPERSEDED
        self.records.append(rec)
        self._live[meta.id] = len(self.records) - 1
        self.stats["adds"] += 1
        self.flash.trace("nvm-add", f"0x{meta.id:04x} {len(data)} B at partition {self.active} offset 0x{off:x}")
        return WhError.OK

    def destroy(self, ids: list[int]) -> int:
        """Remove ``ids`` (absent ones ignored) by compacting into the other partition (v1.4.0: always)."""
        if not self.ready:
            return WhError.NOTREADY
        if self.active is None:
            return WhError.OK  # nothing was ever written: nothing to rewrite
        return self._compact({int(i) for i in ids})

    def compact(self) -> int:
        return self.destroy([])

    def format(self) -> int:
        """Write an empty partition 0 at epoch 1 on a store that was never formatted (offline tools use it)."""
        if not self.ready:
            return WhError.NOTREADY
        if self.active is not None:
            return WhError.OK
        self.stats["formats"] += 1
        self.flash.trace("nvm-format", "partition 0 epoch 1")
        return self._compact(set())

    def _erase_partition(self, index: int, image: bytes | None = None, bad: frozenset[int] = frozenset()) -> None:
        """Erase every sector of partition ``index`` that is not already erased."""
        g = self.geom
        first = g.part_offset(index) // g.sector_size
        blank = g.blank(g.sector_size)
        for s in range(first, first + g.part_sectors):
            lo = s * g.sector_size
            if image is not None:
                data = image[lo : lo + g.sector_size]
                unreadable = any(lo <= w < lo + g.sector_size for w in bad)
            else:
                data, words = self.flash.read(lo, g.sector_size)
                unreadable = bool(words)
            if unreadable or data != blank:
                self.flash.erase(s)

    def _compact(self, drop: set[int]) -> int:
        """Copy the live objects not in ``drop`` into the other partition and commit it (see nvm_image)."""
        g, flash = self.geom, self.flash
        src = self.active
        dst = 0 if src is None else 1 - src
        epoch = self.epoch + 1 if src is not None else 1
        base = g.part_offset(dst)
        keep = [r for r in self.records if r.live and r.meta is not None and r.meta.id not in drop]
        records: list[Record] = []
        pos = g.log_offset
        try:
            self._erase_partition(dst)
            flash.program(base, encode_partition_header(g, dst, epoch))
            for r in keep:
                data = self._read_data(src, r)  # type: ignore[arg-type]
                if data is None:
                    continue  # damaged since the mount: dropped (and reported)
                assert r.meta is not None
                blob = encode_record(g, r.meta, data)
                flash.program(base + pos, blob)
                records.append(Record.for_object(g, pos, r.meta, r.data_crc))
                pos += len(blob)
            flash.program(base + g.commit_offset, encode_commit(g, dst, epoch))  # the switch point
        except FlashFault as e:
            flash.trace("nvm-flash-error", f"compaction into partition {dst}: {e}; partition {src} stays current")
            return WhError.ABORTED
        if src is not None:
            try:
                flash.program(g.part_offset(src) + g.obsolete_offset, encode_obsolete(g))
            except FlashFault as e:  # harmless: the newer epoch wins at the next mount
                flash.trace("nvm-flash-error", f"obsolete mark of partition {src}: {e}")
        removed = len([r for r in self.records if r.live]) - len(records)
        self.active, self.epoch, self.records, self.free = dst, epoch, records, pos
        self._reindex()
        self.stats["compactions"] += 1
        kept = f"{len(records)} objects kept, {removed} removed"
        flash.trace("nvm-compact", f"partition {src} -> {dst} epoch {epoch}: {kept}")
        return WhError.OK

    def __repr__(self) -> str:
        if not self.ready:
            return f"<FlashNvm unusable: {self.problem}>"
        a = self.available()
        return (
            f"<FlashNvm partition {self.active} epoch {self.epoch}: {len(self._live)} objects, "
            f"avail {a[0]} B/{a[2]} slots, reclaimable {a[1]} B/{a[3]} slots>"
        )
