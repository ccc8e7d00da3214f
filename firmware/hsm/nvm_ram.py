"""RAM-only NVM object store with the accounting of wolfHSM's example server (v1.4.0).

The example server keeps NVM in a RAM-simulated flash driven by wolfHSM's flash back-end
(core spec §4.5, v1.4.0 diff §5.4). What clients can observe of it is its capacity accounting,
which this store reproduces exactly without simulating flash:

* One 512 KiB partition is active. Its first ``3 + 7 * object_count`` 8-byte units hold the
  partition state and the directory (213 units for 30 objects); the rest is the data area
  (65323 units = 522584 bytes).
* The directory has ``object_count`` slots, used in order. Every add takes the next slot and
  ``ceil(len / 8)`` data units, including adds that replace an id: the old version stays
  allocated and counts as reclaimable until the next compaction.
* GETAVAILABLE: ``avail_size`` = free data bytes, ``avail_objects`` = free slots (live and
  superseded entries both use one), ``reclaim_size``/``reclaim_objects`` = superseded versions.
* Compaction (every destroy call, v1.4.0) keeps only live objects, in directory order.
* v1.4.0 quirk, kept: the add-time space check compares against the whole partition size, not
  the data area. An object that passes it but overruns the data area fails with BADARGS after its
  directory slot was half-programmed; that slot then refuses every later add with NOTBLANK until
  a compaction rewrites the partition. (Only reachable with objects far larger than a comm
  payload, i.e. via DMA or internal writers.)

State is plain attributes, so ``copy.deepcopy`` makes a complete snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.wire import WhError

from .nvm_backend import Metadata

UNIT = 8  # bytes per flash unit (whFlashUnit)
STATE_UNITS = 3  # nfState: epoch, start, count
OBJECT_UNITS = STATE_UNITS + 4  # nfObject: state + 32-byte metadata
MAX_OBJECT_LEN = 0xFFFF  # whNvmSize is a u16


def _units(nbytes: int) -> int:
    return (nbytes + UNIT - 1) // UNIT


@dataclass
class _Slot:
    """One directory entry: an object version. ``live`` is False once superseded or destroyed."""

    meta: Metadata
    data: bytes
    units: int
    live: bool = True


class RamNvm:
    """:class:`~firmware.hsm.nvm_backend.NvmBackend` in RAM, accounted like the v1.4.0 example server."""

    def __init__(self, object_count: int = 30, partition_size: int = 512 * 1024) -> None:
        if partition_size % UNIT:
            raise ValueError("partition_size must be a multiple of 8")
        self.object_count = object_count
        self.partition_units = partition_size // UNIT
        self.data_units = self.partition_units - STATE_UNITS - OBJECT_UNITS * object_count
        if self.data_units <= 0:
            raise ValueError("partition too small for its directory")
        self.slots: list[_Slot] = []  # directory since the last compaction, in slot order
        self.torn_slot = False  # the v1.4.0 half-programmed slot (see the module docstring)

    # ------------------------------------------------------------------ queries

    @property
    def data_size(self) -> int:
        """Size of the data area in bytes (522584 for the example geometry)."""
        return self.data_units * UNIT

    def _live(self, nvm_id: int) -> _Slot | None:
        for slot in self.slots:
            if slot.live and slot.meta.id == nvm_id:
                return slot
        return None

    def list_ids(self) -> list[int]:
        return [slot.meta.id for slot in self.slots if slot.live]

    def metadata(self, nvm_id: int) -> Metadata | None:
        slot = self._live(nvm_id)
        return None if slot is None else slot.meta

    def get(self, nvm_id: int) -> tuple[Metadata, bytes] | None:
        slot = self._live(nvm_id)
        return None if slot is None else (slot.meta, slot.data)

    def _used_units(self) -> int:
        return sum(slot.units for slot in self.slots)

    def available(self) -> tuple[int, int, int, int]:
        dead = [slot for slot in self.slots if not slot.live]
        avail_size = (self.data_units - self._used_units()) * UNIT
        reclaim_size = sum(slot.units for slot in dead) * UNIT
        return avail_size, reclaim_size, self.object_count - len(self.slots), len(dead)

    # ------------------------------------------------------------------ updates

    def add(self, meta: Metadata, data: bytes, reclaim: bool = False) -> int:
        data = bytes(data)
        if len(data) > MAX_OBJECT_LEN:
            return WhError.BADARGS
        if reclaim:
            # wh_Nvm_AddObjectWithReclaim: compact first when it does not fit but would after it
            avail_size, reclaim_size, avail_objects, reclaim_objects = self.available()
            if avail_size < len(data) or avail_objects == 0:
                if avail_size + reclaim_size >= len(data) and avail_objects + reclaim_objects > 0:
                    self.compact()
                else:
                    return WhError.NOSPACE
        return self._add(meta, data)

    def _add(self, meta: Metadata, data: bytes) -> int:
        used_bytes = self._used_units() * UNIT
        if len(self.slots) >= self.object_count or used_bytes + len(data) > self.partition_units * UNIT:
            return WhError.NOSPACE  # v1.4.0 compares with the partition, not the data area
        if self.torn_slot:
            return WhError.NOTBLANK  # the next slot was half-programmed by a failed add
        if used_bytes + len(data) > self.data_size:
            self.torn_slot = True  # slot metadata written, data refused by the range check
            return WhError.BADARGS
        old = self._live(meta.id)
        self.slots.append(_Slot(meta.replace(len=len(data)), data, _units(len(data))))
        if old is not None:
            old.live = False
        return WhError.OK

    def destroy(self, ids: list[int]) -> int:
        doomed = set(ids)
        for slot in self.slots:
            if slot.meta.id in doomed:
                slot.live = False
        return self.compact()

    def compact(self) -> int:
        self.slots = [slot for slot in self.slots if slot.live]
        self.torn_slot = False
        return WhError.OK

    def __repr__(self) -> str:
        avail_size, reclaim_size, avail_objects, reclaim_objects = self.available()
        return (
            f"<RamNvm {len(self.list_ids())} objects, avail {avail_size} B/{avail_objects} slots, "
            f"reclaimable {reclaim_size} B/{reclaim_objects} slots>"
        )
