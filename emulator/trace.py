"""The event trace: what happened, when, in virtual time.

Two runs of the same board, firmware, seeds and inputs give identical traces; tests compare them.
Level "events" records interrupts, sleeps, wake-ups, console lines, faults and peripheral activity;
level "quanta" adds every core's PC at every quantum boundary (a much stronger determinism check).
"""

from __future__ import annotations

import hashlib
from typing import IO

LEVELS = {"off": 0, "events": 1, "quanta": 2}


class Trace:
    def __init__(self, level: str = "events", sink: IO[str] | None = None, keep: bool = True) -> None:
        if level not in LEVELS:
            raise ValueError(f"trace level must be one of {sorted(LEVELS)}")
        self.level = LEVELS[level]
        self.on = self.level > 0
        self.quanta = self.level >= 2
        self.sink = sink
        self.keep = keep
        self.records: list[tuple[int, str, str, str]] = []
        self._hash = hashlib.sha256()

    def emit(self, time: int, source: str, kind: str, detail: str = "") -> None:
        if not self.on:
            return
        rec = (time, source, kind, detail)
        if self.keep:
            self.records.append(rec)
        self._hash.update(f"{time}|{source}|{kind}|{detail}\n".encode())
        if self.sink is not None:
            self.sink.write(f"{time} {source} {kind} {detail}\n")

    def digest(self) -> str:
        return self._hash.hexdigest()

    def find(self, kind: str, source: str | None = None) -> list[tuple[int, str, str, str]]:
        return [r for r in self.records if r[2] == kind and (source is None or r[1] == source)]

    def save(self) -> tuple[int, object]:
        return len(self.records), self._hash.copy()

    def restore(self, state: tuple[int, object]) -> None:
        n, h = state
        del self.records[n:]
        self._hash = h.copy()  # type: ignore[attr-defined]
