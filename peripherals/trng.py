"""True random number generator: 32-bit words into a small FIFO at a fixed rate in virtual time.

Our own register block, laid out after the Aurix HSM TRNG where that fits (hw spec 1.4: TRNG_DATA32
at 0x0, TRNG_STAT at 0xC with DTA_RDY bit 0 and FIPS_ERR bit 2, TRNG_CTRL at 0x10 with DIS bit 2);
the data-block-size field, WARN and the unlock bits are not modelled. Registers (32 bit):

    0x00 DATA   r    take the oldest word of the FIFO; 0 when the FIFO is empty (then STAT.UNDERRUN
                     is set), while FIPS_ERR is set, or while the generator is disabled
    0x0C STAT   w1c  DTA_RDY (bit 0, read only, derived: a word is waiting), FIPS_ERR (bit 2: the
                     health test failed; sticky, write 1 to clear; it sets again at once while the
                     failure lasts), UNDERRUN (bit 4: DATA read with no word waiting; write 1 to clear)
    0x10 CTRL   rw   DIS (bit 2): generator stopped and FIFO emptied while set; clearing it restarts
                     the generator (the first word is ready `cycles_per_word` later)
    0x14 IRQEN  rw   bit 0 RDY: raise `irq_line` on the HSM when a word becomes ready (at once if one
                     is waiting when RDY is enabled); bit 1 ERR: raise it when FIPS_ERR sets
    0x18 LEVEL  r    words waiting in the FIFO (0..fifo_words)

Timing: the generator delivers one word every `cycles_per_word` cycles of `clock_hz` while it runs,
until `fifo_words` wait; taking a word restarts the production of the next one. The FIFO level is
derived from virtual time (no event per word); an event is scheduled only for the RDY interrupt.

Entropy: from the host OS (`os.urandom`) unless a seed is set (profile key `seed`, or `reseed(seed)`,
which `hsmemu run --seed N` calls): then word n of the stream is taken from SHAKE-256 of the seed and
n // 64, so every run with the same seed reads the same words in the same order, and a snapshot
restores the position in the stream. Reset and power loss keep the stream position (the stream is not
a register); the FIFO empties.

Fault injection (Python API, e.g. for the fault engine and tests):
- `inject_failure("health")`: the hardware health test fails: FIPS_ERR sets (interrupt if IRQEN.ERR),
  the FIFO empties, DATA reads 0 and no word becomes ready until `clear_failure()` ends the fault and
  the firmware clears FIPS_ERR (write 1), which restarts the generator.
- `inject_failure("stuck", word=None)`: the source is stuck: every word delivered is the same value
  (`word`, or the next word of the stream); the health test does not notice (STAT looks normal), so
  only the firmware's own checks can. `clear_failure()` resumes the stream.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from emulator.device import Device, DeviceContext
from emulator.regs import Reg, RegisterMap

ST_DTA_RDY = 1 << 0
ST_FIPS_ERR = 1 << 2
ST_UNDERRUN = 1 << 4
CTRL_DIS = 1 << 2
IRQEN_RDY = 1 << 0
IRQEN_ERR = 1 << 1

FAILURES = ("health", "stuck")
_CHUNK_WORDS = 64  # words per SHAKE-256 call of the seeded stream


class Trng(Device):
    REGS = RegisterMap(
        "trng",
        [
            Reg("DATA", 0x00, "r", doc="take the next random word (0 if none is ready or on FIPS_ERR)"),
            Reg(
                "STAT",
                0x0C,
                "w1c",
                fields={"DTA_RDY": (0, 1), "FIPS_ERR": (2, 1), "UNDERRUN": (4, 1)},
                doc="DTA_RDY (derived), FIPS_ERR and UNDERRUN (sticky, write 1 to clear)",
            ),
            Reg("CTRL", 0x10, "rw", fields={"DIS": (2, 1)}, doc="DIS: stop the generator and empty the FIFO"),
            Reg("IRQEN", 0x14, "rw", fields={"RDY": (0, 1), "ERR": (1, 1)}, doc="interrupt on word ready / FIPS_ERR"),
            Reg("LEVEL", 0x18, "r", doc="words waiting in the FIFO"),
        ],
    )
    STATE = ("seed", "counter", "level", "level_time", "failure", "stuck_word", "fips_halt", "gen")
    CONFIG = {
        "clock_hz": int,  # clock the word period is counted in
        "cycles_per_word": int,  # cycles from one word to the next
        "fifo_words": int,  # FIFO depth
        "irq_line": int,  # HSM interrupt line for RDY / ERR
        "seed": int,  # reproducible stream (normally given at run time: reseed / --seed)
    }

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        super().__init__(name, ctx, config)
        self.clock_hz = int(config.get("clock_hz", 100_000_000))
        self.cycles_per_word = int(config.get("cycles_per_word", 400))
        self.fifo_words = int(config.get("fifo_words", 8))
        self.irq_line = int(config.get("irq_line", 2))
        if self.cycles_per_word <= 0 or self.fifo_words <= 0:
            raise ValueError("cycles_per_word and fifo_words must be positive")
        self.period = ctx.ticks(self.cycles_per_word, self.clock_hz)
        self.seed: int | None = None
        self.counter = 0  # words taken from the stream so far
        self.level = 0  # words in the FIFO as of level_time
        self.level_time = ctx.now()
        self.failure: str | None = None
        self.stuck_word = 0
        self.fips_halt = False  # stopped by FIPS_ERR: clearing the flag restarts the generator
        self.gen = 0  # generation of the RDY interrupt event
        self._chunk: tuple[Any, int, bytes] | None = None  # cache: (seed, chunk index, bytes)
        if "seed" in config:
            self.reseed(int(config["seed"]))

    # ------------------------------------------------------------------ the stream
    def reseed(self, seed: int | None) -> None:
        """Make the stream reproducible from `seed` (None: entropy from the host OS again); restart it."""
        self.seed = None if seed is None else int(seed)
        self.counter = 0
        self._chunk = None
        self.ctx.trace("trng-seed", "os entropy" if seed is None else f"seed {seed}")

    def _word(self, n: int) -> int:
        if self.seed is None:
            return int.from_bytes(os.urandom(4), "little")
        k, i = divmod(n, _CHUNK_WORDS)
        if self._chunk is None or self._chunk[0] != self.seed or self._chunk[1] != k:
            xof = hashlib.shake_256(b"hsmemu-trng:%d:%d" % (self.seed, k))
            self._chunk = (self.seed, k, xof.digest(4 * _CHUNK_WORDS))
        return int.from_bytes(self._chunk[2][4 * i : 4 * i + 4], "little")

    def _next(self) -> int:
        if self.failure == "stuck":
            return self.stuck_word
        w = self._word(self.counter)
        self.counter += 1
        return w

    # ------------------------------------------------------------------ FIFO level from virtual time
    def _running(self) -> bool:
        return not self.regs.get("CTRL") & CTRL_DIS and not self.regs.get("STAT") & ST_FIPS_ERR

    def _update(self) -> None:
        now = self.ctx.now()
        if not self._running() or self.level >= self.fifo_words:
            self.level_time = max(self.level_time, now)
            return
        n = (now - self.level_time) // self.period
        if n > 0:
            self.level = min(self.fifo_words, self.level + n)
            self.level_time = now if self.level >= self.fifo_words else self.level_time + n * self.period

    def _restart(self) -> None:
        """Empty the FIFO and start producing from now."""
        self.level = 0
        self.level_time = self.ctx.now()
        self._arm()

    def _arm(self) -> None:
        """If RDY interrupts are on and the FIFO is empty, schedule the interrupt for the next word."""
        self.gen += 1
        if not self.regs.get("IRQEN") & IRQEN_RDY or not self._running():
            return
        if self.level > 0:
            self.ctx.raise_irq("hsm", self.irq_line)
            return
        self.ctx.schedule(self.level_time + self.period - self.ctx.now(), self._ready, self.gen)

    def _ready(self, gen: int) -> None:
        if gen == self.gen and self.regs.get("IRQEN") & IRQEN_RDY and self._running():
            self.ctx.raise_irq("hsm", self.irq_line)

    # ------------------------------------------------------------------ registers
    def read_DATA(self, master: str) -> int:
        self._update()
        if not self._running():
            return 0
        if self.level == 0:
            self.regs.set("STAT", self.regs.get("STAT") | ST_UNDERRUN)
            return 0
        if self.level >= self.fifo_words:
            self.level_time = self.ctx.now()  # a full FIFO starts producing again now
        self.level -= 1
        word = self._next()
        if self.level == 0:
            self._arm()
        return word

    def read_STAT(self, master: str) -> int:
        self._update()
        return self.regs.get("STAT") | (ST_DTA_RDY if self.level > 0 and self._running() else 0)

    def read_LEVEL(self, master: str) -> int:
        self._update()
        return self.level if self._running() else 0

    def write_STAT(self, master: str, value: int) -> None:
        if self.failure == "health":
            self.regs.set("STAT", self.regs.get("STAT") | ST_FIPS_ERR)  # the failure is still there
        elif value & ST_FIPS_ERR and self.fips_halt:
            self.fips_halt = False
            self.ctx.trace("trng-restart", "FIPS_ERR cleared")
            self._restart()

    def write_CTRL(self, master: str, value: int) -> None:
        self._update()
        if self.regs.get("CTRL") & CTRL_DIS:
            self._stop()
        else:
            self._restart()

    def _stop(self) -> None:
        self.level = 0
        self.gen += 1

    def write_IRQEN(self, master: str, value: int) -> None:
        self._update()
        self._arm()

    # ------------------------------------------------------------------ reset, power
    def reset(self) -> None:
        super().reset()
        self._stop()
        self.level_time = self.ctx.now()
        if self.failure == "health":
            self.regs.set("STAT", ST_FIPS_ERR)
            self.fips_halt = True

    def power_cut(self, rng: Any) -> None:
        self._stop()

    # ------------------------------------------------------------------ fault injection
    def inject_failure(self, kind: str, word: int | None = None) -> None:
        """Make the TRNG fail: "health" (health test fails, FIPS_ERR) or "stuck" (one word repeats)."""
        if kind not in FAILURES:
            raise ValueError(f"unknown TRNG failure {kind!r} (known: {', '.join(FAILURES)})")
        self._update()
        self.failure = kind
        if kind == "stuck":
            self.stuck_word = (self._word(self.counter) if word is None else int(word)) & 0xFFFF_FFFF
            self.ctx.trace("trng-fault", f"stuck at 0x{self.stuck_word:08x}")
            return
        self.regs.set("STAT", self.regs.get("STAT") | ST_FIPS_ERR)
        self.fips_halt = True
        self._stop()
        self.ctx.trace("trng-fault", "health test failure")
        if self.regs.get("IRQEN") & IRQEN_ERR:
            self.ctx.raise_irq("hsm", self.irq_line)

    def clear_failure(self) -> None:
        """End an injected failure. After "health", FIPS_ERR stays set until the firmware clears it."""
        if self.failure is not None:
            self.ctx.trace("trng-fault", f"{self.failure} cleared")
        self.failure = None
