"""A core that hosts Python firmware (the HSM) through a HAL, in virtual time.

The firmware runs in a greenlet: HAL calls that must wait (an interrupt, the cycles it has spent)
switch back to the kernel, which resumes the firmware at the right virtual time from an event. So the
firmware is plain sequential code, and it is always at a well-defined virtual instant.

`spend(cycles)` is lazy: cycles are added to a debt that is paid (the core sleeps for it) just before
the firmware's next externally visible action (a bus access, an interrupt wait). That keeps the number
of switches per request small without changing when anything becomes visible.

Firmware contract: an object with `boot(hal)` (run once after reset) and `serve(hal)` (a loop that
waits with `hal.wait_irq()` at its top). Its whole state lives in its attributes, so a snapshot taken
while it waits at the top of `serve` is a deep copy of them; restore starts a fresh `serve`.
"""

from __future__ import annotations

import copy
import sys
import traceback
from typing import Any

from greenlet import GreenletExit, greenlet

from .base import Core, CoreState


class FirmwareCrash(Exception):
    pass


class PythonCore(Core):
    def __init__(
        self, name: str, clock_hz: int, period: int, masters: frozenset[str], kernel: Any, firmware: Any
    ) -> None:
        super().__init__(name, -1, clock_hz, period, masters)
        self.kernel = kernel
        self.firmware = firmware
        self.hal: Any = None
        self.debt = 0
        self.cycles = 0  # HSM cycles the firmware has spent (its timing model), for reports
        self.activity = 0  # counts resumptions; restore skips the state copy when nothing ran since
        self._restored: tuple[Any, int] | None = None
        self.wait_mask = 0
        self.at_top = False  # blocked in wait_irq called directly from serve()
        self._glet: greenlet | None = None
        self._back: greenlet | None = None
        self._fresh = False  # next resume starts a new serve() greenlet (after reset or restore)
        self._serve_code = type(firmware).serve.__code__
        self.state = CoreState.WAITING

    # ------------------------------------------------------------------ kernel side
    def start(self) -> None:
        """Power-on: schedule boot at the current time."""
        self._kill()
        self.state = CoreState.RUNNING
        self.debt = 0
        self._glet = greenlet(self._main)
        self.kernel.schedule_at(self.kernel.now, self._resume)

    def _main(self) -> None:
        try:
            self.firmware.boot(self.hal)
            self._serve()
        except (GreenletExit, KeyboardInterrupt, SystemExit):
            raise  # Ctrl-C lands wherever Python runs, often in the firmware: it stops the run
        except BaseException as e:  # noqa: BLE001 - a firmware crash is reported, not fatal to the SoC
            self._crashed(e)

    def _serve(self) -> None:
        try:
            self.firmware.serve(self.hal)
            self.state = CoreState.HALTED
            self.kernel.core_halted(self, "firmware returned")
        except (GreenletExit, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001
            self._crashed(e)

    def _crashed(self, e: BaseException) -> None:
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        msg = f"firmware crashed: {type(e).__name__}: {e}{where}"
        self.fault = msg
        self.state = CoreState.FAULTED
        self.kernel.core_faulted(self, msg)

    def _resume(self) -> None:
        if self.state in (CoreState.HALTED, CoreState.FAULTED):
            return
        self.activity += 1  # the firmware runs: its state may change (see restore)
        self.time = max(self.time, self.kernel.now)
        self.state = CoreState.RUNNING
        if self._fresh:
            self._fresh = False
            self._glet = greenlet(self._serve)
        self._back = greenlet.getcurrent()
        prev = self.kernel.current
        self.kernel.current = self
        try:
            self._glet.switch()  # type: ignore[union-attr]
        finally:
            self.kernel.current = prev

    def _block(self) -> None:
        back = self._back
        assert back is not None
        back.switch()

    def wake_check(self, at: int) -> None:
        if self.state is CoreState.WAITING and self.kernel.intc.pending(self.name) & self.wait_mask:
            self.state = CoreState.RUNNING
            self.kernel.schedule_at(at, self._resume)

    def _kill(self) -> None:
        g, self._glet = self._glet, None
        if g is not None and not g.dead:
            g.throw(GreenletExit)

    # ------------------------------------------------------------------ firmware side (via the HAL)
    def sync(self) -> None:
        """Pay the spent-cycle debt: sleep until the firmware's local time catches up."""
        if self.debt:
            t = self.time + self.debt * self.period
            self.cycles += self.debt
            self.debt = 0
            self.state = CoreState.RUNNING
            self.kernel.schedule_at(t, self._resume)
            self._block()

    def wait_irq(self, mask: int) -> int:
        self.sync()
        intc = self.kernel.intc
        while True:
            p = intc.pending(self.name) & mask
            if p:
                self.at_top = False
                return (p & -p).bit_length() - 1
            self.wait_mask = mask
            self.at_top = sys._getframe(2).f_code is self._serve_code
            self.state = CoreState.WAITING
            self.kernel.core_sleeps(self)
            self._block()

    # ------------------------------------------------------------------ reset and snapshots
    def reset(self) -> None:
        super().reset()
        self._kill()
        self.debt = 0
        self.at_top = False
        self.state = CoreState.WAITING

    def quiescent(self) -> bool:
        return self.state in (CoreState.HALTED, CoreState.FAULTED) or (self.state is CoreState.WAITING and self.at_top)

    def save(self) -> Any:
        if not self.quiescent():
            raise RuntimeError(f"{self.name} is busy (not waiting at the top of serve())")
        fw = {k: v for k, v in vars(self.firmware).items() if k != "hal"}
        state = (super().save(), copy.deepcopy(fw), self.wait_mask)
        self._restored = (state, self.activity)  # the live firmware equals this state until it runs
        return state

    def restore(self, state: Any) -> None:
        base, fw, self.wait_mask = state
        self._kill()
        super().restore(base)
        if self._restored is not None and self._restored[0] is state and self._restored[1] == self.activity:
            # restored from this very snapshot and the firmware has not run since: its state is
            # still exactly the snapshot's, so the (expensive) deep copy can be skipped
            self.debt = 0
            self.at_top = self.state is CoreState.WAITING
            self._fresh = True
            return
        hal = getattr(self.firmware, "hal", None)
        self.firmware.__dict__.clear()
        self.firmware.__dict__.update(copy.deepcopy(fw))
        if hal is not None:
            self.firmware.hal = hal
        self.debt = 0
        self.at_top = self.state is CoreState.WAITING
        self._fresh = True
        self._restored = (state, self.activity)
