"""The MPU: per-master read/write/execute rights over address ranges, from the board profile.

Unicorn cores get their rights baked into their page mappings (no per-access cost); Python masters
(the HSM core, HSM DMA, the host bridge) are checked here on every bus access.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str
    start: int
    end: int
    rights: dict[str, str]  # master or group name -> subset of "rwx"

    def grants(self, names: frozenset[str], kind: str) -> bool:
        return any(kind in self.rights.get(n, "") for n in names)


class AccessViolation(Exception):
    def __init__(self, master: str, kind: str, addr: int, size: int, reason: str) -> None:
        word = {"r": "read", "w": "write", "x": "execute"}[kind]
        super().__init__(f"{master}: {word} of {size} byte(s) at 0x{addr:08x} refused: {reason}")
        self.master, self.kind, self.addr, self.size, self.reason = master, kind, addr, size, reason


class MPU:
    def __init__(self, regions: list[Region]) -> None:
        self.regions = sorted(regions, key=lambda r: r.start)

    def rights_at(self, names: frozenset[str], addr: int) -> str:
        """Union of the rights the master has at one address."""
        got = set()
        for r in self.regions:
            if r.start <= addr < r.end:
                for n in names:
                    got.update(r.rights.get(n, ""))
        return "".join(k for k in "rwx" if k in got)

    def check(self, master: str, names: frozenset[str], addr: int, size: int, kind: str) -> None:
        """Raise AccessViolation unless every byte of [addr, addr+size) is granted `kind`."""
        pos, end = addr, addr + size
        while pos < end:
            best = None
            for r in self.regions:
                if r.start <= pos < r.end and r.grants(names, kind):
                    best = r if best is None or r.end > best.end else best
            if best is None:
                inside = [r.name for r in self.regions if r.start <= pos < r.end]
                reason = f"no {kind!r} right in {', '.join(inside)}" if inside else "outside every region"
                raise AccessViolation(master, kind, addr, size, reason)
            pos = best.end

    def allows(self, names: frozenset[str], addr: int, size: int, kind: str) -> bool:
        try:
            self.check("", names, addr, size, kind)
        except AccessViolation:
            return False
        return True
