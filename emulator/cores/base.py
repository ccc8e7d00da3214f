"""What every core has: a clock, a local virtual time, a run state and statistics."""

from __future__ import annotations

import enum
from typing import Any


class CoreState(enum.Enum):
    RUNNING = "running"  # has work: the scheduler gives it quanta (or resumes it at its event)
    WAITING = "waiting"  # asleep until an enabled interrupt line is pending; costs no host time
    HALTED = "halted"  # stopped for good (halt register, breakpoint, end of firmware)
    FAULTED = "faulted"  # stopped by a bus fault or an illegal instruction


class Core:
    def __init__(self, name: str, index: int, clock_hz: int, period: int, masters: frozenset[str]) -> None:
        self.name = name
        self.index = index  # index among the board's app cores, -1 for others
        self.clock_hz = clock_hz
        self.period = period  # ticks per cycle
        self.masters = masters  # names the MPU knows this core by (its name and its groups)
        self.time = 0
        self.state = CoreState.RUNNING
        self.instructions = 0
        self.host_seconds = 0.0
        self.fault: str | None = None
        self.exit_code: int | None = None

    @property
    def runnable(self) -> bool:
        return self.state is CoreState.RUNNING

    def wake_check(self, at: int) -> None:
        """Called when an interrupt line of this core changed."""

    def reset(self) -> None:
        self.time = 0
        self.state = CoreState.RUNNING
        self.instructions = 0
        self.host_seconds = 0.0
        self.fault = None
        self.exit_code = None

    def save(self) -> Any:
        return (self.time, self.state, self.instructions, self.fault, self.exit_code)

    def restore(self, state: Any) -> None:
        self.time, self.state, self.instructions, self.fault, self.exit_code = state
