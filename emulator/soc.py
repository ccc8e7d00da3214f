"""Assemble a SoC from a board profile: memories, MPU, peripherals, cores, firmware; run and snapshot it."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boards.loader import Board, BoardError, CoreSpec
from boards.loader import load as load_board
from peripherals import TYPES as PERIPHERAL_TYPES

from . import errors
from .bus import Bus
from .cores.base import Core, CoreState
from .cores.python_core import PythonCore
from .cores.unicorn_core import UnicornCore
from .elf import ElfImage, load_elf
from .hal import Hal
from .kernel import DeviceCtx, Kernel
from .memory import Memory
from .mpu import MPU, Region
from .timebase import TimeBase
from .trace import Trace


@dataclass
class Snapshot:
    now: int
    events: Any
    cores: list[Any]
    memories: list[tuple[int, Any]]  # (version, numpy copy of the buffer)
    devices: list[Any]
    trace: Any


class Soc:
    def __init__(
        self,
        board: Board | str,
        firmware: dict[str, str] | None = None,
        quantum: int | None = None,
        trace: Trace | None = None,
        console: Callable[[str, str], None] | None = None,
        memory_files: dict[str, Path] | None = None,
        params: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        if isinstance(board, str):
            try:
                board = load_board(board)
            except BoardError as e:
                raise errors.BoardError(e.path, e.key, str(e).split(": ", 2)[-1]) from None
        self.board = board
        firmware = dict(firmware or {})
        for core in firmware:
            if board.core(core) is None:
                names = ", ".join(c.name for c in board.cores)
                raise errors.HsmemuError(f"board {board.name} has no core {core!r} (cores: {names})")
        clocks = [c.clock_hz for c in board.cores]
        clocks += [int(p.config["clock_hz"]) for p in board.peripherals if "clock_hz" in p.config]
        self.timebase = TimeBase(clocks)
        self.trace = trace if trace is not None else Trace("events")
        self.kernel = Kernel(self.timebase, self.trace, console)
        self.kernel.on_fault = board.on_fault

        files = memory_files or {}
        self.memories = [
            Memory(m.name, m.kind, m.origin, m.size, m.wait_states, m.fill, files.get(m.name)) for m in board.memories
        ]
        self.memory = {m.name: m for m in self.memories}
        regions = [Region(r.name, r.start, r.end, r.rights) for r in board.mpu]
        # a peripheral block is open, read and write, to the masters its profile lists
        regions += [Region(p.name, p.base, p.end, {m: "rw" for m in p.masters}) for p in board.peripherals]
        self.mpu = MPU(regions)

        app_names = [c.name for c in board.app_cores]
        self.devices: dict[str, Any] = {}
        for p in board.peripherals:
            cls = PERIPHERAL_TYPES.get(p.type)
            key = f"peripherals.{p.name}"
            if cls is None:
                raise errors.BoardError(
                    str(board.path),
                    f"{key}.type",
                    f"unknown type {p.type!r} (known: {', '.join(PERIPHERAL_TYPES)})",
                )
            for k, v in p.config.items():
                want = cls.CONFIG.get(k)
                if want is None:
                    raise errors.BoardError(str(board.path), f"{key}.{k}", "unknown key")
                if not isinstance(v, want) or isinstance(v, bool):
                    raise errors.BoardError(str(board.path), f"{key}.{k}", f"must be {want.__name__}, got {v!r}")
            try:
                self.devices[p.name] = cls(p.name, DeviceCtx(self.kernel, p.name, app_names, self.memory), p.config)
            except (KeyError, ValueError, TypeError) as e:
                raise errors.BoardError(str(board.path), key, str(e)) from None
        intcs = [d for p, d in zip(board.peripherals, self.devices.values()) if p.type == "intc"]
        self.kernel.intc = intcs[0] if intcs else None
        self.bus_mmio = [(p.base, p.size, self.devices[p.name], p.wait_states) for p in board.peripherals]
        self.bus = Bus(self.memories, self.bus_mmio, self.mpu)

        self.quantum = quantum or board.quantum
        self._params = params or {}
        self._fw_classes: dict[str, type] = {}
        self.power_cuts = 0
        self.cores: list[Core] = []
        self.images: dict[str, ElfImage] = {}
        self._loaded: dict[str, list[tuple[int, int, Path]]] = {}
        big = False
        for spec in board.app_cores:
            core = self._build_app_core(spec, app_names.index(spec.name))
            big = big or core.big
            self.cores.append(core)
        for spec in board.app_cores:
            path = firmware.get(spec.name) or spec.firmware
            if path is None:
                raise errors.HsmemuError(f"core {spec.name} has no firmware (give --firmware {spec.name}=ELF)")
            self._load_firmware(self.core(spec.name), spec, path)  # type: ignore[arg-type]
        for spec in board.cores:
            if not spec.is_app:
                self.cores.append(self._build_python_core(spec, firmware.get(spec.name) or spec.firmware, big))
        self.cores.sort(key=lambda c: [s.name for s in board.cores].index(c.name))
        self.kernel.cores = self.cores
        fastest = min(c.period * c.cpi_num // c.cpi_den for c in self.cores if isinstance(c, UnicornCore))
        self.kernel.quantum_ticks = max(1, self.quantum * fastest)
        self.host_seconds = 0.0
        self._powered = False

    # ------------------------------------------------------------------ building
    def core(self, name: str) -> Core | None:
        return next((c for c in self.cores if c.name == name), None)

    def describe(self, addr: int) -> str:
        for m in self.memories:
            if m.contains(addr):
                return m.name
        for p in self.board.peripherals:
            if p.base <= addr < p.end:
                return p.name
        return ""

    def _build_app_core(self, spec: CoreSpec, index: int) -> UnicornCore:
        tb = self.timebase
        cpi = spec.cpi
        names = frozenset({spec.name, "app"})
        core = UnicornCore(
            spec.name,
            index,
            spec.arch,
            spec.clock_hz,
            tb.period(spec.clock_hz),
            (cpi.numerator, cpi.denominator),
            names,
            self.kernel,
            spec.cpu_model,
            spec.vector_table,
        )
        page = self.board.page_size
        for mem in self.memories:
            self._map_pages(core, mem, mem.origin, names, page)
        for mem_name, alias in spec.local.items():
            self._map_pages(core, self.memory[mem_name], alias, names, page)
        for p in self.board.peripherals:
            if spec.name in p.masters or "app" in p.masters:
                core.map_mmio(p.base, p.size, self.devices[p.name], p.wait_states)
        core.choose_until()
        core.describe = self.describe
        return core

    def _map_pages(self, core: UnicornCore, mem: Memory, at: int, names: frozenset[str], page: int) -> None:
        """Map a memory at `at` with the MPU rights of its global pages, coalescing equal runs."""
        runs: list[tuple[int, int, str]] = []
        for off in range(0, mem.size, page):
            rights = self.mpu.rights_at(names, mem.origin + off)
            if mem.kind == "flash":
                rights = rights.replace("w", "")  # flash is written through its controller only
            if runs and runs[-1][2] == rights:
                runs[-1] = (runs[-1][0], runs[-1][1] + page, rights)
            else:
                runs.append((off, page, rights))
        for off, size, rights in runs:
            core.map_memory(at + off, size, mem.address + off, rights, mem.wait_states)

    def _locate(self, spec: CoreSpec, addr: int, size: int) -> tuple[Memory, int] | None:
        for mem_name, alias in spec.local.items():
            mem = self.memory[mem_name]
            if alias <= addr and addr + size <= alias + mem.size:
                return mem, addr - alias
        for mem in self.memories:
            if mem.contains(addr, size):
                return mem, addr - mem.origin
        return None

    def _load_firmware(self, core: UnicornCore, spec: CoreSpec, path_text: str) -> None:
        path = self.board.resolve(path_text)
        image = load_elf(path, spec.arch)
        for seg in image.segments:
            where = self._locate(spec, seg.addr, len(seg.data))
            if where is None:
                raise errors.FirmwareError(
                    f"{path}: segment at 0x{seg.addr:08x} ({len(seg.data)} bytes) lies outside every "
                    f"memory of board {self.board.name} as seen by {spec.name}"
                )
            mem, off = where
            local = any(self.memory[n] is mem for n in spec.local)
            if not local:  # each core's local memory is its own; shared memory is checked for clashes
                end = off + len(seg.data)
                for o_start, o_end, o_path in self._loaded.get(mem.name, []):
                    if o_path != path and off < o_end and o_start < end:
                        raise errors.FirmwareError(
                            f"{path}: segment at 0x{seg.addr:08x} overlaps {o_path}, loaded for another core"
                        )
                self._loaded.setdefault(mem.name, []).append((off, end, path))
            mem.buf[off : off + len(seg.data)] = seg.data
            mem.version += 1
        core.load(image)
        self.images[spec.name] = image

    def _build_python_core(self, spec: CoreSpec, fw_spec: str | None, big: bool) -> PythonCore:
        if not fw_spec or ":" not in fw_spec:
            raise errors.HsmemuError(f"core {spec.name}: firmware must be 'module:Class', got {fw_spec!r}")
        mod_name, _, cls_name = fw_spec.partition(":")
        try:
            cls = getattr(importlib.import_module(mod_name), cls_name)
        except (ImportError, AttributeError) as e:
            raise errors.HsmemuError(f"core {spec.name}: cannot load firmware {fw_spec!r}: {e}") from None
        fw = cls()
        self._fw_classes[spec.name] = cls
        names = frozenset({spec.name, spec.master or "hsm"})
        core = PythonCore(spec.name, spec.clock_hz, self.timebase.period(spec.clock_hz), names, self.kernel, fw)
        core.hal = Hal(core, self.kernel, self.bus, big, self.board, self.devices)
        core.hal.params.update(self._params.get(spec.name, {}))  # run-time settings over the profile's
        fw.hal = core.hal
        return core

    def flash_memory_name(self) -> str | None:
        """The memory the HSM's flash controller programs (its data flash), if the board has one."""
        for p in self.board.peripherals:
            if p.type == "flash":
                return str(p.config.get("memory"))
        return None

    @property
    def big_endian(self) -> bool:
        """Byte order of the app cores (and so of words in shared RAM)."""
        return any(getattr(c, "big", False) for c in self.cores)

    def add_bridge_memory(self, size: int) -> Memory:
        """RAM for the host bridge's channels: on the HSM's bus only, at an address nothing else uses."""
        taken = [(m.origin, m.end) for m in self.memories] + [(p.base, p.end) for p in self.board.peripherals]
        for c in self.board.cores:
            for mem, addr in c.local.items():
                taken.append((addr, addr + self.memory[mem].size))
        for origin in (0xE100_0000, 0x0E00_0000, 0x6E00_0000, 0xB000_0000):
            if all(origin + size <= a or b <= origin for a, b in taken):
                break
        else:
            raise errors.HsmemuError("no free address range for the host bridge's channels")
        mem = Memory("bridge_ram", "ram", origin, size)
        self.memories.append(mem)
        self.memory[mem.name] = mem
        self.mpu.regions.append(Region("bridge_ram", origin, origin + size, {"hsm": "rw", "bridge": "rw"}))
        self.bus = Bus(self.memories, self.bus_mmio, self.mpu)
        for c in self.cores:
            hal = getattr(c, "hal", None)
            if hal is not None:
                hal._bus = self.bus
        return mem

    # ------------------------------------------------------------------ running
    def power_on(self) -> None:
        if self._powered:
            return
        self._powered = True
        for c in self.cores:
            if isinstance(c, PythonCore):
                c.start()
        self.kernel._refresh_running()

    def run_for(self, ticks: int, stop_when_idle: bool = False) -> None:
        self.power_on()
        t0 = time.perf_counter()
        try:
            self.kernel.run(self.kernel.now + ticks, stop_when_idle)
        finally:
            self.host_seconds += time.perf_counter() - t0

    def run_ns(self, ns: int) -> None:
        self.run_for(self.timebase.ns(ns))

    def run_until_idle(self, limit_ns: int = 10 * 10**9) -> bool:
        """Run until nothing can happen any more (True) or `limit_ns` of virtual time passed (False)."""
        self.run_for(self.timebase.ns(limit_ns), stop_when_idle=True)
        idle = self.kernel.stop_reason == "idle"
        if idle:
            self.kernel.stop_reason = None
        return idle

    @property
    def now(self) -> int:
        return self.kernel.now

    # ------------------------------------------------------------------ power
    def power_cut(self, at_ns: int | None = None, seed: int = 0) -> None:
        """Cut the power at a virtual instant (now, or `at_ns` from now), then power on again.

        Every device tears what it is doing (a flash operation leaves a partly programmed page or a
        partly erased sector, in a pattern drawn from `seed`); RAM is lost, flash keeps its
        contents; the cores restart from reset and the HSM firmware boots again from flash.
        """
        if at_ns is None:
            self._power_cut_now(seed)
        else:
            self.kernel.schedule_at(self.kernel.now + self.timebase.ns(at_ns), self._power_cut_now, seed)

    def _power_cut_now(self, seed: int) -> None:
        import random

        rng = random.Random(seed)
        self.power_cuts += 1
        self.trace.emit(self.kernel.now, "soc", "power-cut", f"seed {seed}")
        for d in self.devices.values():
            d.power_cut(rng)
        self.reset()

    def reset(self) -> None:
        """Power-on reset at the current virtual time: RAM cleared, flash kept, cores and firmware restart."""
        now = self.kernel.now
        self.kernel.events.restore(([], self.kernel.events.save()[1]))
        for m in self.memories:
            if m.kind == "ram":
                m.reset()
        for name, image in self.images.items():  # the boot loader copies RAM images again
            spec = self.board.core(name)
            for seg in image.segments:
                where = self._locate(spec, seg.addr, len(seg.data))  # type: ignore[arg-type]
                if where is not None and where[0].kind == "ram":
                    mem, off = where
                    mem.buf[off : off + len(seg.data)] = seg.data
        for d in self.devices.values():
            d.reset()
        for c in self.cores:
            c.reset()
            c.time = now
            if isinstance(c, PythonCore):
                fw = self._fw_classes[c.name]()
                fw.hal = c.hal
                c.firmware = fw
                c.start()
        self.kernel._refresh_running()

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> Snapshot:
        """Save the whole SoC state in memory. Python cores must be idle at the top of serve()."""
        self.power_on()
        busy = [c.name for c in self.cores if isinstance(c, PythonCore) and not c.quiescent()]
        if busy:
            raise errors.HsmemuError(f"cannot snapshot now: {', '.join(busy)} busy with a request")
        return Snapshot(
            now=self.kernel.now,
            events=self.kernel.events.save(),
            cores=[c.save() for c in self.cores],
            memories=[(m.version, m.array.copy()) for m in self.memories],
            devices=[d.save() for d in self.devices.values()],
            trace=self.trace.save(),
        )

    def restore(self, snap: Snapshot) -> None:
        self.kernel.now = self.kernel.boundary = snap.now
        self.kernel.events.restore(snap.events)
        for c, s in zip(self.cores, snap.cores):
            c.restore(s)
        for m, (version, data) in zip(self.memories, snap.memories):
            if m.kind == "ram":
                m.array[:] = data  # cores write RAM directly: always restore it
            elif m.version != version:
                # flash changed only through the host side; cores may hold translated code from it
                m.array[:] = data
                m.version = version
                for c in self.cores:
                    if isinstance(c, UnicornCore):
                        c.uc.ctl_remove_cache(m.origin, m.end)
        for d, s in zip(self.devices.values(), snap.devices):
            d.restore(s)
        self.trace.restore(snap.trace)
        self.kernel._refresh_running()

    # ------------------------------------------------------------------ reports
    def stats(self) -> list[dict[str, Any]]:
        secs = self.timebase.to_seconds(self.kernel.now)
        out = []
        for c in self.cores:
            out.append(
                {
                    "core": c.name,
                    "state": c.state.value,
                    "instructions": c.instructions,
                    "cycles": getattr(c, "cycles", None),
                    "mips": (c.instructions / self.host_seconds / 1e6) if self.host_seconds else 0.0,
                    "virtual_mips": (c.instructions / secs / 1e6) if secs else 0.0,
                }
            )
        return out

    def close(self) -> None:
        for m in self.memories:
            m.flush()


__all__ = ["Soc", "Snapshot", "CoreState"]
