"""One integer virtual time base for the whole SoC.

The tick is chosen per board as 1 / lcm(1 GHz, every clock in the board), so a cycle of any core or
peripheral and a nanosecond are both a whole number of ticks: no float ever accumulates.
"""

from __future__ import annotations

import math
import re

_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "µs": 10**3, "ns": 1}


class TimeBase:
    def __init__(self, clocks_hz: list[int]) -> None:
        hz = 10**9
        for c in clocks_hz:
            if c <= 0:
                raise ValueError(f"clock must be positive, got {c}")
            hz = math.lcm(hz, c)
        self.hz = hz

    def period(self, clock_hz: int) -> int:
        """Ticks per cycle of a clock of `clock_hz` (exact, the time base is a multiple of it)."""
        return self.hz // clock_hz

    def ns(self, nanoseconds: int) -> int:
        return nanoseconds * (self.hz // 10**9)

    def to_seconds(self, ticks: int) -> float:
        return ticks / self.hz

    def format(self, ticks: int) -> str:
        return format_seconds(ticks / self.hz)


def format_seconds(s: float) -> str:
    if s == 0:
        return "0 s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.6g} {unit}"
    return f"{s / 1e-9:.6g} ns"


def parse_duration_ns(text: str) -> int:
    """Parse '10ms', '1 s', '250us', '0' into integer nanoseconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|ms|us|µs|ns)?\s*", text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 10ms, 1s, 250us, 500ns)")
    value, unit = m.group(1), m.group(2) or ("s" if m.group(1) != "0" else "ns")
    if m.group(2) is None and value != "0":
        raise ValueError(f"duration {text!r} needs a unit (s, ms, us, ns)")
    num, _, frac = value.partition(".")
    scale = _UNITS[unit]
    # exact decimal arithmetic: "1.5ms" -> 1_500_000 ns
    ns = int(num) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
    return ns
