"""Result types of the client API (plain data; nothing here touches the wire)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from firmware.wire import NvmFlags


class CommInitResult(NamedTuple):
    client_id: int
    server_id: int


@dataclass(frozen=True)
class ServerInfo:
    """COMM INFO: the server's build configuration and states."""

    comm_data_len: int
    nvm_object_count: int
    keycache_count: int
    keycache_bufsize: int
    keycache_bigcount: int
    keycache_bigbufsize: int
    customcb_count: int
    dmaaddr_count: int
    debug_state: int
    boot_state: int
    lifecycle_state: int
    nvm_state: int
    version: str
    build: str

    def summary(self) -> str:
        """One line, e.g. for ``hsmemu client info``."""
        return (
            f"wolfHSM server version {self.version} build {self.build}: comm data {self.comm_data_len} B, "
            f"NVM {self.nvm_object_count} objects, key cache {self.keycache_count}x{self.keycache_bufsize} B"
            f" + {self.keycache_bigcount}x{self.keycache_bigbufsize} B, {self.customcb_count} custom callbacks, "
            f"{self.dmaaddr_count} DMA regions, states debug {self.debug_state} boot {self.boot_state} "
            f"lifecycle {self.lifecycle_state} nvm {self.nvm_state}"
        )


class NvmInitResult(NamedTuple):
    client_nvm_id: int
    server_nvm_id: int


class NvmAvailable(NamedTuple):
    avail_size: int
    reclaim_size: int
    avail_objects: int
    reclaim_objects: int


class NvmListEntry(NamedTuple):
    """One LIST step: ``count`` objects from ``id`` (inclusive) to the end; (0, 0) = no more."""

    count: int
    id: int


@dataclass(frozen=True)
class NvmMetadata:
    id: int
    access: int
    flags: int
    len: int
    label: bytes  # the 24 label bytes as stored (see ``label_text``)

    @property
    def label_text(self) -> str:
        """The label up to its first NUL, decoded leniently."""
        return self.label.split(b"\0", 1)[0].decode("utf-8", "replace")

    @property
    def flag_names(self) -> list[str]:
        return flag_names(self.flags)


class KeyExport(NamedTuple):
    label: bytes  # trailing NULs of the 24-byte label removed
    data: bytes


class KeyExportDma(NamedTuple):
    label: bytes
    length: int  # as the server reports it (v1.4.0: the buffer capacity, not the key length)


@dataclass(frozen=True)
class CustomResult:
    """CUSTOM callback response: ``rc`` is the callback's own return value."""

    id: int
    type: int
    rc: int
    data: Any  # 256 raw bytes, or a record for the DMA32/DMA64 types


def flag_names(flags: int) -> list[str]:
    """Names of the NVM/key flag bits set in ``flags`` (unknown bits as hex)."""
    names = []
    rest = flags
    for f in NvmFlags:
        if f.value and f.value & (f.value - 1) == 0 and flags & f.value:  # single bits only
            names.append(f.name.lower())
            rest &= ~f.value
    if rest:
        names.append(f"0x{rest:04x}")
    return names


def parse_flags(text: str | int) -> int:
    """``"nonexportable,usage_encrypt"`` / ``"0x24"`` / ``36`` -> 36."""
    if isinstance(text, int):
        return text
    value = 0
    for part in str(text).replace("|", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value |= int(part, 0)
            continue
        except ValueError:
            pass
        try:
            value |= NvmFlags[part.upper()].value
        except KeyError:
            known = ", ".join(f.name.lower() for f in NvmFlags if f.value)
            raise ValueError(f"unknown flag {part!r} (known: {known})") from None
    return value


__all__ = [
    "CommInitResult",
    "CustomResult",
    "KeyExport",
    "KeyExportDma",
    "NvmAvailable",
    "NvmInitResult",
    "NvmListEntry",
    "NvmMetadata",
    "ServerInfo",
    "flag_names",
    "parse_flags",
]
