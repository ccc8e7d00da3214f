"""The scheduler: virtual time, quanta, events, sleeping cores, and the devices' view of the kernel.

One loop, deterministic:
1. run every event due at `now` (peripheral completions, interrupt lines, Python-core resumptions);
2. if some Unicorn core is running, give each (in board order) a quantum that ends at the window end
   = min(now + quantum, next event, end of run); side effects that cross cores are posted to that
   boundary; then `now` = window end;
3. if every core waits, jump straight to the next event (idle time costs no host time).
External inputs (the host bridge) are polled at each boundary; when the whole SoC waits and only the
outside world can wake it, the kernel blocks on them instead of spinning (see `Kernel.idle_wait`).
"""

from __future__ import annotations

import sys
import time as _time
from collections.abc import Callable
from typing import Any

from .cores.base import Core, CoreState
from .events import EventQueue
from .timebase import TimeBase
from .trace import Trace


class Kernel:
    def __init__(self, timebase: TimeBase, trace: Trace, console: Callable[[str, str], None] | None = None) -> None:
        self.timebase = timebase
        self.trace = trace
        self.events = EventQueue()
        self.now = 0
        self.boundary = 0
        self.current: Core | None = None
        self.cores: list[Core] = []
        self._running: tuple[Any, ...] = ()
        self.intc: Any = None
        self.quantum_ticks = 1
        self.on_fault = "stop-core"
        self.stop_reason: str | None = None
        self.console_sink = console or (lambda src, text: print(f"{src}: {text}", flush=True))
        self.fault_sink: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True)
        # external inputs: poll() -> None (inject what arrived); wait(timeout_s) blocks until input
        self.inputs: list[Any] = []

    # ------------------------------------------------------------------ time and events
    def schedule_at(self, t: int, fn: Callable[..., Any], *args: Any) -> None:
        self.events.schedule(max(t, self.now), fn, *args)

    def effect_time(self) -> int:
        """When a side effect made now becomes visible: the current quantum boundary."""
        return max(self.boundary, self.now)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        self.events.schedule(self.effect_time(), fn, *args)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = reason

    def run(self, until: int, stop_when_idle: bool = False) -> None:
        """Advance virtual time to `until` ticks (or until a stop is requested).

        With stop_when_idle, also stop as soon as nothing can happen any more (every core waits and no
        event is pending; requests from attached clients already queued count as pending), leaving
        `now` there.
        """
        self.stop_reason = None
        ev = self.events
        trace = self.trace
        inputs = self.inputs
        while self.stop_reason is None:
            e = ev.pop_due(self.now)
            while e is not None:
                e[0](*e[1])
                e = ev.pop_due(self.now)
            if inputs:
                for src in inputs:
                    src.poll()
                if ev.next_time() is not None and ev.next_time() <= self.now:  # type: ignore[operator]
                    continue
            if self.now >= until or self.stop_reason is not None:
                break
            running = self._running
            nt = ev.next_time()
            if not running:
                if nt is None and stop_when_idle:
                    self.stop_reason = "idle"
                    break
                if inputs and nt is None and any(src.active() for src in inputs):
                    # only the outside world can wake the SoC: block on it (bounded), time stands still
                    for src in inputs:
                        if src.wait(0.05):
                            break
                    continue
                if nt is None or nt > until:
                    self.now = until
                    break
                self.now = self.boundary = nt
                continue
            end = self.now + self.quantum_ticks
            if nt is not None and nt < end:
                end = nt
            if until < end:
                end = until
            self.boundary = end
            for c in running:
                if c.state is CoreState.RUNNING:
                    self.current = c
                    c.run(end)
            self.current = None
            if trace.quanta:
                for c in running:
                    trace.emit(end, c.name, "quantum", f"pc=0x{c.pc:08x} t={c.time}")
            self.now = self.boundary = end

    # ------------------------------------------------------------------ core callbacks
    def _refresh_running(self) -> None:
        self._running = tuple(c for c in self.cores if c.state is CoreState.RUNNING and hasattr(c, "uc"))

    def core_sleeps(self, core: Core) -> None:
        self.trace.emit(self.effect_time(), core.name, "sleep", "")
        self._refresh_running()
        core.wake_check(self.effect_time())

    def core_wakes(self, core: Core) -> None:
        self.trace.emit(self.effect_time(), core.name, "wake", "")
        self._refresh_running()

    def core_halted(self, core: Core, why: str) -> None:
        self.trace.emit(self.effect_time(), core.name, "halt", why)
        self._refresh_running()

    def core_faulted(self, core: Core, msg: str) -> None:
        self.trace.emit(self.effect_time(), core.name, "fault", msg)
        self.fault_sink(f"{core.name}: {msg}")
        self._refresh_running()
        if self.on_fault == "halt":
            self.request_stop(f"{core.name}: {msg}")

    def wake(self, name: str) -> None:
        for c in self.cores:
            if c.name == name:
                c.wake_check(self.effect_time())

    def halt(self, name: str, code: int) -> None:
        for c in self.cores:
            if c.name == name and c.state not in (CoreState.HALTED, CoreState.FAULTED):
                c.state = CoreState.HALTED
                c.exit_code = code
                if getattr(c, "uc", None) is not None and self.current is c:
                    c.uc.emu_stop()  # type: ignore[attr-defined]
                self.core_halted(c, f"halt register, code {code}")

    def trace_core(self, core: Core, kind: str, detail: str) -> None:
        self.trace.emit(self.effect_time(), core.name, kind, detail)

    def console(self, source: str, text: str) -> None:
        self.console_sink(source, text)


class DeviceCtx:
    """What one peripheral sees of the kernel (emulator.device.DeviceContext)."""

    def __init__(self, kernel: Kernel, name: str, app_cores: list[str], memories: dict | None = None) -> None:
        self.kernel = kernel
        self.name = name
        self._memories = memories if memories is not None else {}
        self._app = app_cores
        self._index = {n: i for i, n in enumerate(app_cores)}

    def now(self) -> int:
        c = self.kernel.current
        return c.time if c is not None else self.kernel.now

    def ticks(self, cycles: int, clock_hz: int) -> int:
        return cycles * self.kernel.timebase.period(clock_hz)

    def schedule(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        self.kernel.schedule_at(self.now() + delay, fn, *args)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        self.kernel.post(fn, *args)

    def raise_irq(self, core: str, line: int) -> None:
        intc = self.kernel.intc
        if intc is not None:
            self.kernel.post(intc.set_pending, core, line)

    def wake(self, core: str) -> None:
        self.kernel.wake(core)

    def halt(self, core: str, code: int) -> None:
        self.kernel.halt(core, code)

    def trace(self, kind: str, detail: str = "") -> None:
        self.kernel.trace.emit(self.kernel.effect_time(), self.name, kind, detail)

    def console(self, source: str, text: str) -> None:
        self.kernel.console(source, text)

    def app_cores(self) -> list[str]:
        return list(self._app)

    def core_index(self, master: str) -> int:
        return self._index.get(master, -1)

    def memory(self, name: str) -> Any:
        return self._memories[name]


def host_clock() -> float:
    return _time.perf_counter()
