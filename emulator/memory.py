"""Physical memories: one page-aligned host buffer each, shared zero-copy by every core and by Python."""

from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Memory:
    name: str
    kind: str  # "ram" or "flash"
    origin: int
    size: int
    wait_states: int = 0
    fill: int = 0
    backing: Path | None = None  # a file mapped shared (flash images that outlive the run)
    # set by a controller that owns this memory (flash): called on Python-side reads and writes with
    # (addr, size, kind); returns extra stall ticks or raises (e.g. a read of a sector being erased)
    guard: Any = field(init=False, default=None, repr=False)
    version: int = field(init=False, default=0)  # bumped by every host-side write (loader, flash controller)
    buf: mmap.mmap = field(init=False, repr=False)
    _array: Any = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.backing is None:
            self.buf = mmap.mmap(-1, self.size)
            if self.fill:
                self.buf.write(bytes([self.fill]) * self.size)
        else:
            self.backing = Path(self.backing)
            if not self.backing.exists():
                self.backing.write_bytes(bytes([self.fill]) * self.size)
            elif self.backing.stat().st_size != self.size:
                from .errors import HsmemuError

                raise HsmemuError(
                    f"{self.backing}: image is {self.backing.stat().st_size} bytes, "
                    f"memory {self.name} needs {self.size}"
                )
            with open(self.backing, "r+b") as f:
                self.buf = mmap.mmap(f.fileno(), self.size)
        # the host address for Unicorn, without numpy (importing numpy costs start-up time)
        self._anchor = (ctypes.c_char * self.size).from_buffer(self.buf)
        self._address = ctypes.addressof(self._anchor)

    @property
    def end(self) -> int:
        return self.origin + self.size

    @property
    def array(self) -> Any:
        """A numpy uint8 view of the buffer (zero copy), created on first use."""
        if self._array is None:
            import numpy as np

            self._array = np.frombuffer(self.buf, dtype=np.uint8)
        return self._array

    @property
    def address(self) -> int:
        """Host address of the buffer, for Unicorn's mem_map_ptr."""
        return self._address

    def contains(self, addr: int, size: int = 1) -> bool:
        return self.origin <= addr and addr + size <= self.end

    def read(self, addr: int, size: int) -> bytes:
        off = addr - self.origin
        return self.buf[off : off + size]

    def write(self, addr: int, data: bytes) -> None:
        off = addr - self.origin
        self.buf[off : off + len(data)] = data
        self.version += 1

    def reset(self) -> None:
        if self.backing is None:
            self.buf[:] = bytes([self.fill]) * self.size

    def flush(self) -> None:
        if self.backing is not None:
            self.buf.flush()
