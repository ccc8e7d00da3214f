"""The NVM object store interface: what every service (NVM, counter, keystore, SHE, cert) may ask of it.

wolfHSM keeps everything persistent -- plain objects, keys, SHE slots, counters -- as *objects* in
one flat 16-bit id space (core spec §4.1). An object is a 32-byte metadata record plus up to 65535
data bytes. This module defines:

* :class:`Metadata` -- ``whNvmMetadata`` {id, access, flags, len, label[24]} as a value;
* :class:`NvmBackend` -- the back-end protocol (the ``whNvmCb`` table of the C server). The RAM
  store (:mod:`firmware.hsm.nvm_ram`) implements it today; a flash-backed, power-loss-safe store
  will implement the same methods later, so services must use nothing but these methods;
* the central policy layer (``wh_nvm.c``'s "checked" operations): :func:`check_policy`,
  :func:`add_checked`, :func:`read_checked`, :func:`destroy_checked`. Client-facing NVM messages
  use the checked forms; internal writers (counters, key commit/erase, SHE) call the back-end
  directly, exactly as wolfHSM does.

Back-end contract (every implementation must keep it):

* **Ids.** Any u16 is storable, 0 included (LIST treats 0 as "none", so clients avoid it). At most
  one *live* object per id; adding an existing id replaces it.
* **Directory order.** :meth:`NvmBackend.list_ids` yields live ids in directory order: insertion
  order, where replacing an id moves it to the end (the new version takes a fresh directory slot).
  Compaction keeps the relative order of live objects.
* **Atomicity.** :meth:`~NvmBackend.add` and :meth:`~NvmBackend.destroy` either complete or leave
  the store exactly as it was (a power-loss-safe store guarantees this across a cut as well).
  Failure codes are :class:`firmware.wire.WhError` values, never exceptions.
* **Stored length.** ``add`` stores ``meta.len = len(data)`` whatever the caller put in ``meta.len``
  (the C back-end overwrites it too).
* **No policy.** The back-end never looks at ``flags``; policy is the caller's business (the
  checked helpers below).
* **Capacity** (the example server's flash back-end, v1.4.0; core §4.5, diff §5.4): a fixed number
  of directory slots and data units. Every add consumes a fresh slot and ``ceil(len/8)`` units; a
  replaced version stays allocated but *reclaimable* until the next compaction. Plain ``add`` never
  compacts (NOSPACE when out of slots even if some are reclaimable); ``add(..., reclaim=True)`` is
  wolfHSM's ``wh_Nvm_AddObjectWithReclaim`` used by internal writers: it compacts first when the
  object does not fit but would after reclaiming. Every ``destroy`` call compacts (v1.4.0), also an
  empty list and also when no listed id exists.
* **Snapshots.** State is plain Python attributes (or a byte buffer); ``copy.deepcopy`` of the
  back-end is a complete snapshot (the emulator snapshots firmware state that way).

Example -- what the key store does to commit, read and erase a key::

    meta = Metadata(id=key_id, access=0, flags=flags, label=label)
    rc = nvm.add(meta, key_bytes, reclaim=True)          # COMMIT: WhError.OK or NOSPACE
    found = nvm.get(key_id)                               # (Metadata, bytes) or None
    if found is not None:
        rc = nvm.destroy([key_id])                        # ERASE (unchecked; compacts)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from firmware.wire import ByteOrder, NvmFlags, WhError
from firmware.wire.constants import NVM_LABEL_LEN
from firmware.wire.messages.common import NVM_METADATA

__all__ = [
    "METADATA_SIZE",
    "Metadata",
    "NvmBackend",
    "NvmOp",
    "add_checked",
    "check_policy",
    "destroy_checked",
    "read_checked",
]

METADATA_SIZE = NVM_METADATA.size  # 32 = sizeof(whNvmMetadata)
_U16 = 0xFFFF


@dataclass(frozen=True)
class Metadata:
    """``whNvmMetadata``: id, access (stored, never enforced), flags (:class:`NvmFlags` bits), len, label.

    ``label`` is always exactly 24 raw bytes (shorter input is zero-filled). ``len`` is the data
    length as stored; callers of :meth:`NvmBackend.add` may leave it 0.
    """

    id: int
    access: int = 0
    flags: int = 0
    len: int = 0
    label: bytes = bytes(NVM_LABEL_LEN)

    def __post_init__(self) -> None:
        for name in ("id", "access", "flags", "len"):
            value = getattr(self, name)
            if not 0 <= value <= _U16:
                raise ValueError(f"Metadata.{name}={value} does not fit a u16")
        label = bytes(self.label)
        if len(label) > NVM_LABEL_LEN:
            raise ValueError(f"Metadata.label: {len(label)} bytes exceed {NVM_LABEL_LEN}")
        object.__setattr__(self, "label", label.ljust(NVM_LABEL_LEN, b"\0"))

    def replace(self, **changes: int | bytes) -> Metadata:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def pack(self, order: ByteOrder = ByteOrder.LITTLE) -> bytes:
        """The 32-byte C struct, integers in ``order`` (label never swapped)."""
        return NVM_METADATA.pack(
            order, id=self.id, access=self.access, flags=self.flags, len=self.len, label=self.label
        )

    @classmethod
    def unpack(cls, raw: bytes, order: ByteOrder = ByteOrder.LITTLE) -> Metadata:
        """Decode exactly 32 bytes (raises ``firmware.wire.WireSizeError`` otherwise)."""
        r = NVM_METADATA.unpack(order, raw)
        return cls(id=r.id, access=r.access, flags=r.flags, len=r.len, label=r.label)


@runtime_checkable
class NvmBackend(Protocol):
    """The NVM object store behind the services (wolfHSM's ``whNvmCb``). See the module docstring."""

    def list_ids(self) -> list[int]:
        """Ids of all live objects, in directory order."""
        ...

    def metadata(self, nvm_id: int) -> Metadata | None:
        """Metadata of the live object ``nvm_id``, or None. Cheap: no data is read."""
        ...

    def get(self, nvm_id: int) -> tuple[Metadata, bytes] | None:
        """Metadata and the whole data of the live object ``nvm_id``, or None."""
        ...

    def add(self, meta: Metadata, data: bytes, reclaim: bool = False) -> int:
        """Store an object (replacing a live one with the same id); returns a WhError code.

        OK once stored; NOSPACE (store unchanged) when out of directory slots or data space.
        ``reclaim=True``: compact first if that makes it fit (internal writers only).
        Back-end specific failures are possible (the RAM store reproduces v1.4.0's BADARGS /
        NOTBLANK of an object that passes the partition-size check but not the data area).
        """
        ...

    def destroy(self, ids: list[int]) -> int:
        """Remove the listed ids (absent ones are ignored) and compact; returns a WhError code.

        An empty list is a pure compaction. Atomic: all listed objects go, or none.
        """
        ...

    def available(self) -> tuple[int, int, int, int]:
        """``(avail_size, reclaim_size, avail_objects, reclaim_objects)`` as GETAVAILABLE reports them."""
        ...

    def compact(self) -> int:
        """Drop superseded versions; returns a WhError code. Same as ``destroy([])``."""
        ...


class NvmOp(Enum):
    """The operations the central policy knows (``wh_Nvm_CheckPolicy``)."""

    ADD = "add"
    READ = "read"
    DESTROY = "destroy"


_REFUSED = {
    NvmOp.ADD: NvmFlags.NONMODIFIABLE,
    NvmOp.READ: NvmFlags.NONEXPORTABLE,
    NvmOp.DESTROY: NvmFlags.NONMODIFIABLE | NvmFlags.NONDESTROYABLE,
}


def check_policy(nvm: NvmBackend, op: NvmOp, nvm_id: int) -> int:
    """Policy of ``op`` on the *existing* object ``nvm_id`` (core §4.2, diff §5.2).

    NOTFOUND if there is no such object (ADD callers treat that as allowed), ACCESS if its flags
    forbid ``op``, else OK. v1.4.0 has no TRUSTED flag: bit 12 means nothing here.
    """
    meta = nvm.metadata(nvm_id)
    if meta is None:
        return WhError.NOTFOUND
    if meta.flags & _REFUSED[op]:
        return WhError.ACCESS
    return WhError.OK


def add_checked(nvm: NvmBackend, meta: Metadata, data: bytes) -> int:
    """Client ADD: refused with ACCESS over a NONMODIFIABLE object; plain add (no reclaim)."""
    rc = check_policy(nvm, NvmOp.ADD, meta.id)
    if rc not in (WhError.OK, WhError.NOTFOUND):
        return rc
    return nvm.add(meta, data)


def read_checked(nvm: NvmBackend, nvm_id: int) -> tuple[int, tuple[Metadata, bytes] | None]:
    """Client READ: ``(rc, (meta, data))``; NOTFOUND if absent, ACCESS if NONEXPORTABLE."""
    rc = check_policy(nvm, NvmOp.READ, nvm_id)
    if rc != WhError.OK:
        return rc, None
    found = nvm.get(nvm_id)
    return (WhError.OK, found) if found is not None else (WhError.NOTFOUND, None)


def destroy_checked(nvm: NvmBackend, ids: list[int]) -> int:
    """Client DESTROY at v1.4.0 (diff §5.3): every id is checked in list order first.

    The first absent id gives NOTFOUND, the first NONMODIFIABLE/NONDESTROYABLE one ACCESS; in
    both cases nothing is destroyed. Otherwise the back-end destroys (and compacts).
    """
    for nvm_id in ids:
        rc = check_policy(nvm, NvmOp.DESTROY, nvm_id)
        if rc != WhError.OK:
            return rc
    return nvm.destroy(list(ids))
