"""Deterministic event queue in virtual time.

Events at the same time run in the order they were scheduled (a sequence number breaks ties), so the
same inputs always give the same order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


class EventQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._seq = 0

    def schedule(self, time: int, fn: Callable[..., Any], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (time, self._seq, fn, args))

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: int) -> tuple[Callable[..., Any], tuple] | None:
        if self._heap and self._heap[0][0] <= now:
            _, _, fn, args = heapq.heappop(self._heap)
            return fn, args
        return None

    def cancel(self, predicate: Callable[[Callable[..., Any], tuple], bool]) -> int:
        before = len(self._heap)
        self._heap = [e for e in self._heap if not predicate(e[2], e[3])]
        heapq.heapify(self._heap)
        return before - len(self._heap)

    def __len__(self) -> int:
        return len(self._heap)

    # snapshots: the entries are immutable tuples, so a shallow copy of the list is a full copy
    def save(self) -> tuple[list, int]:
        return list(self._heap), self._seq

    def restore(self, state: tuple[list, int]) -> None:
        self._heap = list(state[0])
        self._seq = state[1]
