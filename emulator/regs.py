"""Declarative register blocks.

A peripheral declares its registers once (name, offset, access, reset value, fields); bus dispatch,
reset, snapshots and the trace's register names are derived from that declaration. Behaviour hangs
on it by name: a device method `read_<NAME>(master)` computes a read value, `write_<NAME>(master,
value)` reacts to a write (after the access rule has updated the stored value).
Access sizes: registers are 32 bits; narrower accesses address byte lanes of the containing word.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ACCESS = ("r", "w", "rw", "w1c", "w1s")


@dataclass(frozen=True)
class Reg:
    name: str
    offset: int = -1  # -1: placed later by the board (e.g. mailbox layouts differ per board)
    access: str = "rw"
    reset: int = 0
    banked: bool = False  # one copy per bus master (e.g. a core's own interrupt enables)
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (lsb, width)
    doc: str = ""

    def __post_init__(self) -> None:
        if self.access not in ACCESS:
            raise ValueError(f"register {self.name}: access must be one of {ACCESS}")

    def field(self, value: int, name: str) -> int:
        lsb, width = self.fields[name]
        return (value >> lsb) & ((1 << width) - 1)


class RegisterMap:
    def __init__(self, name: str, regs: list[Reg]) -> None:
        self.name = name
        self.regs = regs
        self.by_name = {r.name: r for r in regs}
        self.by_offset: dict[int, Reg] = {}
        for r in regs:
            if r.offset < 0:
                continue
            if r.offset % 4:
                raise ValueError(f"{name}.{r.name}: offset 0x{r.offset:x} not word aligned")
            if r.offset in self.by_offset:
                raise ValueError(f"{name}: {r.name} overlaps {self.by_offset[r.offset].name}")
            self.by_offset[r.offset] = r

    def placed(self, offsets: dict[str, int]) -> RegisterMap:
        """A copy with offsets taken from a board profile; registers it does not name are absent."""
        unknown = set(offsets) - set(self.by_name)
        if unknown:
            raise KeyError(f"unknown register(s) {sorted(unknown)}; known: {sorted(self.by_name)}")
        return RegisterMap(self.name, [replace(self.by_name[n], offset=o) for n, o in offsets.items()])


class RegisterFile:
    """The stored values of one register map, plus derived dispatch for one device."""

    def __init__(self, regmap: RegisterMap, device: object) -> None:
        self.map = regmap
        self.device = device
        self.values: dict[str, int] = {}
        self.banks: dict[tuple[str, str], int] = {}
        self._read_hooks = {r.name: getattr(device, f"read_{r.name}", None) for r in regmap.regs}
        self._write_hooks = {r.name: getattr(device, f"write_{r.name}", None) for r in regmap.regs}
        self.reset()

    def reset(self) -> None:
        self.values = {r.name: r.reset for r in self.map.regs if not r.banked}
        self.banks = {}

    def get(self, name: str, master: str = "") -> int:
        reg = self.map.by_name[name]
        if reg.banked:
            return self.banks.get((name, master), reg.reset)
        return self.values[name]

    def set(self, name: str, value: int, master: str = "") -> None:
        reg = self.map.by_name[name]
        if reg.banked:
            self.banks[(name, master)] = value & 0xFFFFFFFF
        else:
            self.values[name] = value & 0xFFFFFFFF

    def read(self, offset: int, size: int, master: str) -> int:
        reg = self.map.by_offset.get(offset & ~3)
        if reg is None or reg.access == "w":
            return 0
        hook = self._read_hooks[reg.name]
        value = hook(master) if hook is not None else self.get(reg.name, master)
        lane = offset & 3
        return (value >> (8 * lane)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int, master: str) -> None:
        reg = self.map.by_offset.get(offset & ~3)
        if reg is None or reg.access == "r":
            return
        lane = offset & 3
        value = (value & ((1 << (8 * size)) - 1)) << (8 * lane)
        if reg.access == "rw" or reg.access == "w":
            stored = value
            if size < 4:
                mask = ((1 << (8 * size)) - 1) << (8 * lane)
                stored = (self.get(reg.name, master) & ~mask) | value
            self.set(reg.name, stored, master)
        elif reg.access == "w1c":
            self.set(reg.name, self.get(reg.name, master) & ~value, master)
        elif reg.access == "w1s":
            self.set(reg.name, self.get(reg.name, master) | value, master)
        hook = self._write_hooks[reg.name]
        if hook is not None:
            hook(master, value)

    def save(self) -> tuple[dict, dict]:
        return dict(self.values), dict(self.banks)

    def restore(self, state: tuple[dict, dict]) -> None:
        self.values, self.banks = dict(state[0]), dict(state[1])
