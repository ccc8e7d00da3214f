"""Flash controller: the only way to program and erase one flash memory (the HSM's data flash).

The memory itself is mapped read-only for every master; this block takes commands through its
registers and changes the memory in virtual time. Geometry, timing and behaviour come from the board
profile (`[peripherals.<name>]`, type "flash"); the register block is our own, not register-compatible
with the Aurix DMU or the SPC58 C55 flash controller.

Registers (32 bit, offsets from the block base):

    0x00 CMD          w    write a command code (CMD_* below); it acts on ADDR (and DATA for a program)
    0x04 ADDR         rw   target bus address: page aligned for PROGRAM_PAGE / BLANK_CHECK, sector
                           aligned for ERASE_SECTOR, inside the memory
    0x08 STATUS       w1c  BUSY (read only, derived) and sticky flags, see ST_* below
    0x0C IRQEN        rw   bit 0 DONE: raise `irq_line` on the HSM core whenever DONE is set
    0x10 ERASE_COUNT  r    erase count of the sector containing ADDR (0xFFFF_FFFF if ADDR is outside)
    0x14 ECC_COUNT    r    single-bit errors corrected on read since reset (saturates)
    0x18 ECC_ADDR     r    address of the 8-byte word of the last ECC event
    0x20 MEM_BASE     r    bus address of the controlled memory
    0x24 MEM_SIZE     r    its size in bytes
    0x28 PAGE_SIZE    r    program unit in bytes
    0x2C SECTOR_SIZE  r    erase unit in bytes
    0x40 DATA0..      rw   page buffer: DATAk holds page bytes 4k..4k+3 in the profile's `byte_order`
                           (so a 32-bit read of the flash after the program gives back the same word);
                           page_size / 4 registers; reset to the erased pattern

Command protocol. A command other than CLEAR_STATUS written while an operation runs is refused with
ERR_SEQUENCE (nothing else changes; the running operation still ends with DONE). Otherwise the
command first clears DONE, BLANK and the ERR_* flags of the previous command (the ECC flags stay
until written 1 or CLEAR_STATUS), then either
- is refused at once: DONE plus the error flag (ERR_RANGE: ADDR outside the memory; ERR_ALIGN: not
  aligned; ERR_PROGRAM: the page is not blank and `double_program = "error"`; ERR_ENDURANCE: the sector
  has been erased `endurance` times already; ERR_SEQUENCE: unknown command code), or
- starts: BUSY for `program_ns` / `erase_ns` of virtual time, then DONE at a completion event, where
  the memory changes. BLANK_CHECK completes at once (DONE, and BLANK if the page is blank).
CLEAR_STATUS clears every flag, DONE included (never refused, sets nothing, raises no interrupt).
The page buffer is copied when a program starts, so DATA may be refilled while BUSY.
Firmware waits for DONE by polling STATUS or with `wait_irq` on `irq_line`, then checks the ERR bits.

NOR semantics (per bit, relative to `erased_value`, 0xFF by default): erase sets every byte of the
sector to `erased_value`; a program can only move bits away from the erased state (with 0xFF: the
new byte is old AND data). A page counts as blank when every byte equals `erased_value`, so a page
programmed with all-erased data may be programmed again. Programming a page that is not blank:
`double_program = "error"` refuses it (ERR_PROGRAM, nothing changes), `"and"` combines as above.

Reads of the sector being programmed or erased (only reads through `Bus.read` see this, i.e. the
Python masters; the memory's `guard` hook): `busy_read = "stall"` returns the remaining busy time as
stall ticks and the read returns the data as it will be at completion; `"fail"` raises
`FlashBusyError`, an `AccessViolation`, which the HSM firmware sees as `hal.AccessError`.

ECC (`ecc = "secded"`; "none" turns it off): modelled per 8-byte word with a record of injected bit
flips, not a real code. The memory buffer keeps the corrected data; `inject_bitflip(addr, bit)` adds
the flip to the word's record (flipping the same bit again removes it). A read of a word with one
flipped bit succeeds, sets ECC_CORRECTED, counts in ECC_COUNT and sets ECC_ADDR; two or more flipped
bits in one word set ECC_UNCORRECTABLE and the read fails with `FlashEccError` (an AccessViolation).
An erase clears the records of its sector; a program keeps them. Without ECC a flip changes the
buffer itself, silently. Flip records are device state: snapshots keep them, a flash image file
does not.

Endurance: each sector counts its erases (counted when the erase starts, so a torn erase counts);
`endurance` erases succeed and the next one is refused with ERR_ENDURANCE, leaving the sector as it
is (a worn-out sector). Counters survive resets and power cuts (they are wear, not registers) and
snapshots; a flash image file does not carry them.

Power loss (`power_cut(rng)`): an operation in progress is torn in a pattern drawn from `rng` and the
elapsed fraction f of its duration. A page program leaves each bit it was changing changed with
probability f; a sector erase leaves each 8-byte word erased with probability f, else partly erased
(each differing bit erased with probability f) with probability 1/4, else unchanged. The pending
completion event is made stale (generation counter) and the reset that follows aborts the command.
A reset without a power cut aborts an operation without applying it.
"""

from __future__ import annotations

from typing import Any

from emulator.device import Device, DeviceContext
from emulator.mpu import AccessViolation
from emulator.regs import Reg, RegisterMap

# command codes (CMD)
CMD_PROGRAM_PAGE = 0x01
CMD_ERASE_SECTOR = 0x02
CMD_BLANK_CHECK = 0x03
CMD_CLEAR_STATUS = 0x04

# STATUS bits
ST_BUSY = 1 << 0  # an operation is running (derived from the operation, never stored)
ST_DONE = 1 << 1  # the last command completed (successfully or refused)
ST_ERR_SEQUENCE = 1 << 2  # command written while busy, or unknown command code
ST_ERR_ALIGN = 1 << 3  # ADDR not page (program, blank check) or sector (erase) aligned
ST_ERR_RANGE = 1 << 4  # ADDR outside the memory
ST_ERR_PROGRAM = 1 << 5  # program of a page that is not blank, with double_program = "error"
ST_ERR_ENDURANCE = 1 << 6  # erase of a sector that reached its endurance limit
ST_ECC_CORRECTED = 1 << 7  # a read corrected a single-bit error (sticky)
ST_ECC_UNCORRECTABLE = 1 << 8  # a read hit a word with two or more flipped bits (sticky)
ST_BLANK = 1 << 9  # result of the last BLANK_CHECK: the page is blank

CMD_ERRORS = ST_ERR_SEQUENCE | ST_ERR_ALIGN | ST_ERR_RANGE | ST_ERR_PROGRAM | ST_ERR_ENDURANCE
ECC_FLAGS = ST_ECC_CORRECTED | ST_ECC_UNCORRECTABLE

IRQEN_DONE = 1 << 0

ECC_WORD = 8  # bytes covered by one ECC code word
MAX_PAGE = 256  # bytes; the page buffer has page_size / 4 DATA registers, at most 64
DATA_BASE = 0x40

_STATUS_FIELDS = {
    "BUSY": (0, 1),
    "DONE": (1, 1),
    "ERR_SEQUENCE": (2, 1),
    "ERR_ALIGN": (3, 1),
    "ERR_RANGE": (4, 1),
    "ERR_PROGRAM": (5, 1),
    "ERR_ENDURANCE": (6, 1),
    "ECC_CORRECTED": (7, 1),
    "ECC_UNCORRECTABLE": (8, 1),
    "BLANK": (9, 1),
}


def _numpy():  # noqa: ANN202 - numpy is imported when first needed: it costs start-up time
    import numpy

    return numpy


class FlashError(Exception):
    """A host-side operation (`program_now`, `erase_now`) was refused; `status` holds the ST_* flag."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FlashBusyError(AccessViolation):
    """Read of a sector that is being programmed or erased, with busy_read = "fail"."""


class FlashEccError(AccessViolation):
    """Read of a word with an uncorrectable (two or more bit) ECC error."""


class FlashController(Device):
    REGS = RegisterMap(
        "flash",
        [
            Reg("CMD", 0x00, "w", doc="command code: 1 program page, 2 erase sector, 3 blank check, 4 clear status"),
            Reg("ADDR", 0x04, "rw", doc="target bus address of the next command"),
            Reg("STATUS", 0x08, "w1c", fields=_STATUS_FIELDS, doc="BUSY (derived), DONE, error and ECC flags"),
            Reg("IRQEN", 0x0C, "rw", fields={"DONE": (0, 1)}, doc="raise irq_line on the HSM when DONE is set"),
            Reg("ERASE_COUNT", 0x10, "r", doc="erase count of the sector containing ADDR"),
            Reg("ECC_COUNT", 0x14, "r", doc="single-bit errors corrected on read since reset"),
            Reg("ECC_ADDR", 0x18, "r", doc="address of the ECC word of the last ECC event"),
            Reg("MEM_BASE", 0x20, "r", doc="bus address of the controlled flash memory"),
            Reg("MEM_SIZE", 0x24, "r", doc="size of the controlled flash memory in bytes"),
            Reg("PAGE_SIZE", 0x28, "r", doc="program unit in bytes"),
            Reg("SECTOR_SIZE", 0x2C, "r", doc="erase unit in bytes"),
        ]
        + [
            Reg(f"DATA{i}", DATA_BASE + 4 * i, "rw", doc=f"page buffer bytes {4 * i}..{4 * i + 3}")
            for i in range(MAX_PAGE // 4)
        ],
    )
    STATE = ("gen", "op", "erase_counts", "flips")
    CONFIG = {
        "memory": str,  # name of the flash memory this controller owns
        "page_size": int,  # program unit, bytes (multiple of 4, power of two, <= 256)
        "sector_size": int,  # erase unit, bytes (multiple of page_size, divides the memory size)
        "program_ns": int,  # duration of one page program in virtual time
        "erase_ns": int,  # duration of one sector erase in virtual time
        "erased_value": int,  # byte value of an erased cell (must equal the memory's fill)
        "double_program": str,  # "error" | "and"
        "busy_read": str,  # "stall" | "fail"
        "endurance": int,  # erases per sector that succeed
        "ecc": str,  # "secded" | "none"
        "irq_line": int,  # HSM interrupt line raised on DONE when IRQEN.DONE
        "byte_order": str,  # "little" | "big": byte order of the DATA words
    }

    def __init__(self, name: str, ctx: DeviceContext, config: dict[str, Any]) -> None:
        self.mem = ctx.memory(str(config["memory"]))
        self.page_size = int(config.get("page_size", 8))
        self.sector_size = int(config.get("sector_size", 4096))
        self.program_ns = int(config.get("program_ns", 50_000))
        self.erase_ns = int(config.get("erase_ns", 50_000_000))
        self.erased_value = int(config.get("erased_value", 0xFF))
        self.double_program = str(config.get("double_program", "error"))
        self.busy_read = str(config.get("busy_read", "stall"))
        self.endurance = int(config.get("endurance", 100_000))
        self.ecc = str(config.get("ecc", "none"))
        self.irq_line = int(config.get("irq_line", 0))
        self.byte_order = str(config.get("byte_order", "little"))
        self._check_config()
        self.words = self.page_size // 4
        self.sectors = self.mem.size // self.sector_size
        super().__init__(name, ctx, config)
        self.program_ticks = ctx.ticks(self.program_ns, 10**9)
        self.erase_ticks = ctx.ticks(self.erase_ns, 10**9)
        self.gen = 0
        self.op: dict[str, Any] | None = None  # the operation in progress (see _start)
        self.erase_counts = [0] * self.sectors
        self.flips: dict[int, int] = {}  # ECC word offset -> mask of flipped bits (bit 8*i+b = byte i, bit b)
        self._erased_page = bytes([self.erased_value]) * self.page_size
        self.mem.guard = self._guard
        self._reset_values()

    def _check_config(self) -> None:
        ps, ss, size = self.page_size, self.sector_size, self.mem.size
        if self.mem.kind != "flash":
            raise ValueError(f"memory {self.mem.name!r} is not flash")
        if ps < 4 or ps > MAX_PAGE or ps & (ps - 1):
            raise ValueError(f"page_size must be a power of two from 4 to {MAX_PAGE}, got {ps}")
        if ss < ps or ss % ps or size % ss:
            raise ValueError(f"sector_size {ss} must be a multiple of page_size {ps} and divide the memory size {size}")
        if not 0 <= self.erased_value <= 0xFF:
            raise ValueError(f"erased_value must be a byte, got {self.erased_value}")
        if self.mem.fill != self.erased_value:
            raise ValueError(
                f"erased_value 0x{self.erased_value:02x} differs from memory {self.mem.name}'s fill "
                f"0x{self.mem.fill:02x} (a fresh image would not read as erased)"
            )
        for key, value, allowed in (
            ("double_program", self.double_program, ("error", "and")),
            ("busy_read", self.busy_read, ("stall", "fail")),
            ("ecc", self.ecc, ("secded", "none")),
            ("byte_order", self.byte_order, ("little", "big")),
        ):
            if value not in allowed:
                raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
        if self.program_ns <= 0 or self.erase_ns <= 0:
            raise ValueError("program_ns and erase_ns must be positive")
        if self.endurance < 0:
            raise ValueError("endurance must not be negative")

    def regmap(self) -> RegisterMap:
        words = self.page_size // 4
        return RegisterMap(
            "flash",
            [r for r in self.REGS.regs if not r.name.startswith("DATA") or int(r.name[4:]) < words],
        )

    # ------------------------------------------------------------------ reset, power
    def reset(self) -> None:
        """Registers back to reset values; an operation in progress is abandoned (its event goes stale)."""
        super().reset()
        self.gen += 1
        self.op = None
        self._reset_values()

    def _reset_values(self) -> None:
        self.regs.set("MEM_BASE", self.mem.origin)
        self.regs.set("MEM_SIZE", self.mem.size)
        self.regs.set("PAGE_SIZE", self.page_size)
        self.regs.set("SECTOR_SIZE", self.sector_size)
        pattern = self.erased_value * 0x0101_0101
        for i in range(self.words):
            self.regs.set(f"DATA{i}", pattern)

    def power_cut(self, rng: Any) -> None:
        np = _numpy()
        op = self.op
        if op is None:
            return
        now = self.ctx.now()
        span = op["end"] - op["start"]
        frac = min(max(now - op["start"], 0), span) / span
        g = np.random.default_rng(rng.getrandbits(64))
        old = np.frombuffer(op["old"], dtype=np.uint8)
        new = np.frombuffer(op["new"], dtype=np.uint8)
        diff = old ^ new
        if op["kind"] == "program":
            # every changing bit made it with probability frac
            take = np.packbits(g.random(diff.size * 8) < frac)
            torn = old ^ (diff & take)
        else:
            words = old.size // ECC_WORD
            u = g.random(words)
            erased = np.repeat(u < frac, ECC_WORD)
            partial = np.repeat((u >= frac) & (g.random(words) < 0.25), ECC_WORD)
            bits = np.packbits(g.random(diff.size * 8) < frac)
            torn = np.where(erased, new, np.where(partial, old ^ (diff & bits), old))
        off = op["offset"]
        self.mem.array[off : off + old.size] = torn
        self.mem.version += 1
        self.gen += 1
        self.op = None
        self.ctx.trace("flash-torn", f"{op['kind']} 0x{self.mem.origin + off:08x} at {frac:.3f} of its time")

    # ------------------------------------------------------------------ registers
    def read_STATUS(self, master: str) -> int:
        busy = ST_BUSY if self.op is not None else 0
        return self.regs.get("STATUS") | busy

    def read_ERASE_COUNT(self, master: str) -> int:
        off = self.regs.get("ADDR") - self.mem.origin
        if not 0 <= off < self.mem.size:
            return 0xFFFF_FFFF
        return min(self.erase_counts[off // self.sector_size], 0xFFFF_FFFF)

    def write_CMD(self, master: str, value: int) -> None:
        cmd = value & 0xFF
        if cmd == CMD_CLEAR_STATUS:
            self.regs.set("STATUS", 0)  # every flag, DONE included; a running operation goes on
            return
        if self.op is not None:
            self._set(ST_ERR_SEQUENCE)
            self.ctx.trace("flash-error", f"command 0x{cmd:x} while busy")
            return
        status = self.regs.get("STATUS") & ECC_FLAGS
        self.regs.set("STATUS", status)
        addr = self.regs.get("ADDR")
        if cmd == CMD_PROGRAM_PAGE:
            err = self._check(addr, self.page_size)
            if not err:
                err = self._start_program(addr - self.mem.origin, self._page_buffer())
        elif cmd == CMD_ERASE_SECTOR:
            err = self._check(addr, self.sector_size)
            if not err:
                err = self._start_erase(addr - self.mem.origin)
        elif cmd == CMD_BLANK_CHECK:
            err = self._check(addr, self.page_size)
            if not err:
                off = addr - self.mem.origin
                self._done(ST_BLANK if self._blank(off, self.page_size) else 0)
        else:
            err = ST_ERR_SEQUENCE
        if err:
            self.ctx.trace("flash-error", f"command 0x{cmd:x} at 0x{addr:08x}: {_flag_names(err)}")
            self._done(err)

    def _page_buffer(self) -> bytes:
        order = "big" if self.byte_order == "big" else "little"
        return b"".join(self.regs.get(f"DATA{i}").to_bytes(4, order) for i in range(self.words))

    def _check(self, addr: int, unit: int) -> int:
        off = addr - self.mem.origin
        if not 0 <= off < self.mem.size:
            return ST_ERR_RANGE
        if off % unit:
            return ST_ERR_ALIGN
        return 0

    def _set(self, bits: int) -> None:
        self.regs.set("STATUS", self.regs.get("STATUS") | bits)

    def _done(self, bits: int) -> None:
        self._set(ST_DONE | bits)
        if self.regs.get("IRQEN") & IRQEN_DONE:
            self.ctx.raise_irq("hsm", self.irq_line)

    # ------------------------------------------------------------------ operations
    def _blank(self, off: int, size: int) -> bool:
        return bool((self.mem.array[off : off + size] == self.erased_value).all())

    def _programmed(self, old: Any, data: Any) -> Any:
        """NOR program: bits where data differs from the erased state take data's value."""
        np = _numpy()
        moving = data ^ np.uint8(self.erased_value)
        return (old & ~moving) | (data & moving)

    def _program_result(self, off: int, data: bytes) -> tuple[int, bytes, bytes]:
        np = _numpy()
        old = self.mem.array[off : off + self.page_size]
        if self.double_program == "error" and not self._blank(off, self.page_size):
            return ST_ERR_PROGRAM, b"", b""
        new = self._programmed(old, np.frombuffer(data, dtype=np.uint8))
        return 0, old.tobytes(), new.tobytes()

    def _start_program(self, off: int, data: bytes) -> int:
        err, old, new = self._program_result(off, data)
        if err:
            return err
        self._start("program", off, old, new, self.program_ticks)
        return 0

    def _start_erase(self, off: int) -> int:
        sector = off // self.sector_size
        if self.erase_counts[sector] >= self.endurance:
            return ST_ERR_ENDURANCE
        self.erase_counts[sector] += 1
        old = self.mem.array[off : off + self.sector_size].tobytes()
        self._start("erase", off, old, bytes([self.erased_value]) * self.sector_size, self.erase_ticks)
        return 0

    def _start(self, kind: str, off: int, old: bytes, new: bytes, ticks: int) -> None:
        now = self.ctx.now()
        self.gen += 1
        self.op = {
            "kind": kind,
            "offset": off,
            "old": old,
            "new": new,
            "start": now,
            "end": now + ticks,
            "applied": False,
        }
        self.ctx.trace(f"flash-{kind}", f"0x{self.mem.origin + off:08x}")
        self.ctx.schedule(ticks, self._complete, self.gen)

    def _apply(self) -> None:
        np = _numpy()
        op = self.op
        if op is None or op["applied"]:
            return
        off = op["offset"]
        new = op["new"]
        self.mem.array[off : off + len(new)] = np.frombuffer(new, dtype=np.uint8)
        self.mem.version += 1
        if op["kind"] == "erase":
            for w in [w for w in self.flips if off <= w < off + len(new)]:
                del self.flips[w]
        op["applied"] = True

    def _complete(self, gen: int) -> None:
        if gen != self.gen or self.op is None:
            return  # torn by a power cut, or abandoned by a reset
        self._apply()
        self.op = None
        self._done(0)

    # ------------------------------------------------------------------ the memory's read guard
    def _guard(self, addr: int, size: int, kind: str) -> int:
        if kind != "r":
            return 0
        stall = 0
        op = self.op
        if op is not None:
            s0 = self.mem.origin + op["offset"] // self.sector_size * self.sector_size
            if addr < s0 + self.sector_size and s0 < addr + size:
                remaining = max(op["end"] - self.ctx.now(), 0)
                if self.busy_read == "fail":
                    raise FlashBusyError(
                        self.name, "r", addr, size, f"flash sector 0x{s0:08x} busy ({op['kind']} in progress)"
                    )
                self._apply()  # the reader waits until completion, so it sees the result
                stall = remaining
        if self.flips and self.ecc == "secded":
            self._ecc_check(addr, size)
        return stall

    def _ecc_check(self, addr: int, size: int) -> None:
        off = addr - self.mem.origin
        first = off // ECC_WORD * ECC_WORD
        for w in range(first, off + size, ECC_WORD):
            mask = self.flips.get(w)
            if not mask:
                continue
            self.regs.set("ECC_ADDR", self.mem.origin + w)
            if mask.bit_count() == 1:
                self._set(ST_ECC_CORRECTED)
                self.regs.set("ECC_COUNT", min(self.regs.get("ECC_COUNT") + 1, 0xFFFF_FFFF))
            else:
                self._set(ST_ECC_UNCORRECTABLE)
                self.ctx.trace("flash-ecc", f"uncorrectable error in word 0x{self.mem.origin + w:08x}")
                raise FlashEccError(
                    self.name, "r", addr, size, f"uncorrectable ECC error in word 0x{self.mem.origin + w:08x}"
                )

    # ------------------------------------------------------------------ Python API (tools, fault injection)
    @property
    def busy(self) -> bool:
        return self.op is not None

    def geometry(self) -> dict[str, int]:
        return {
            "base": self.mem.origin,
            "size": self.mem.size,
            "page_size": self.page_size,
            "sector_size": self.sector_size,
            "sectors": self.sectors,
            "erased_value": self.erased_value,
        }

    def sector_of(self, addr: int) -> int:
        """Index of the sector holding bus address `addr`."""
        off = addr - self.mem.origin
        if not 0 <= off < self.mem.size:
            raise ValueError(f"0x{addr:08x} is outside {self.mem.name}")
        return off // self.sector_size

    def erase_count(self, sector: int) -> int:
        return self.erase_counts[sector]

    def wear(self) -> list[int]:
        """Erase count of every sector (a copy)."""
        return list(self.erase_counts)

    def set_wear(self, counts: list[int]) -> None:
        """Load erase counts kept elsewhere (e.g. by a tool beside a flash image)."""
        if len(counts) != self.sectors:
            raise ValueError(f"need {self.sectors} counts, got {len(counts)}")
        self.erase_counts = [int(c) for c in counts]

    def inject_bitflip(self, addr: int, bit: int) -> None:
        """Flip bit `bit` (0..7) of the byte at bus address `addr` (fault injection).

        With ECC the flip goes into the word's error record (reads correct one flip per 8-byte word
        and fail on two); without ECC the byte in the memory changes.
        """
        off = addr - self.mem.origin
        if not 0 <= off < self.mem.size or not 0 <= bit < 8:
            raise ValueError(f"no bit {bit} at 0x{addr:08x} in {self.mem.name}")
        if self.ecc == "secded":
            w = off // ECC_WORD * ECC_WORD
            mask = self.flips.get(w, 0) ^ (1 << (8 * (off - w) + bit))
            if mask:
                self.flips[w] = mask
            else:
                self.flips.pop(w, None)
        else:
            self.mem.array[off] ^= 1 << bit
            self.mem.version += 1
        self.ctx.trace("flash-bitflip", f"0x{addr:08x} bit {bit}")

    def ecc_errors(self) -> dict[int, int]:
        """Bus address of each 8-byte word with recorded flips -> number of flipped bits."""
        return {self.mem.origin + w: m.bit_count() for w, m in sorted(self.flips.items())}

    def raw(self, addr: int, size: int) -> bytes:
        """The cells as they are, injected flips included (what the ECC decoder sees)."""
        off = addr - self.mem.origin
        data = bytearray(self.mem.array[off : off + size].tobytes())
        for w, mask in self.flips.items():
            for i in range(ECC_WORD):
                if off <= w + i < off + size:
                    data[w + i - off] ^= (mask >> (8 * i)) & 0xFF
        return bytes(data)

    def program_now(self, addr: int, data: bytes) -> None:
        """Program one page at once, with the same rules as the command (for tools and test set-up)."""
        np = _numpy()
        if self.op is not None:
            raise FlashError("flash controller busy", ST_ERR_SEQUENCE)
        if len(data) != self.page_size:
            raise ValueError(f"a page is {self.page_size} bytes, got {len(data)}")
        err = self._check(addr, self.page_size)
        off = addr - self.mem.origin
        new = b""
        if not err:
            err, _, new = self._program_result(off, bytes(data))
        if err:
            raise FlashError(f"program at 0x{addr:08x} refused: {_flag_names(err)}", err)
        self.mem.array[off : off + self.page_size] = np.frombuffer(new, dtype=np.uint8)
        self.mem.version += 1

    def erase_now(self, addr: int) -> None:
        """Erase one sector at once (counts towards its endurance), for tools and test set-up."""
        if self.op is not None:
            raise FlashError("flash controller busy", ST_ERR_SEQUENCE)
        err = self._check(addr, self.sector_size)
        off = addr - self.mem.origin
        if not err and self.erase_counts[off // self.sector_size] >= self.endurance:
            err = ST_ERR_ENDURANCE
        if err:
            raise FlashError(f"erase at 0x{addr:08x} refused: {_flag_names(err)}", err)
        self.erase_counts[off // self.sector_size] += 1
        self.mem.array[off : off + self.sector_size] = self.erased_value
        self.mem.version += 1
        for w in [w for w in self.flips if off <= w < off + self.sector_size]:
            del self.flips[w]


def _flag_names(bits: int) -> str:
    return ", ".join(n for n, (lsb, _) in _STATUS_FIELDS.items() if bits >> lsb & 1) or "none"
