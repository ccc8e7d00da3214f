"""An app core executing real machine code in Unicorn (TriCore, PPC32 big-endian, ARM Cortex-M Thumb).

Timing: a core runs in quanta (`emu_start(count=N)`, `until` on an address outside guest code). A
quantum of N instructions costs N x (CPI + fetch wait states of the memory the PC is in) cycles,
plus the wait states of every MMIO access. Unicorn does not report how many instructions ran when a
quantum stops early (at a wait instruction or a fault), so such a quantum is charged in full: the
error is at most one quantum per sleep.

Sleep: the loader finds the architecture's wait instruction (TriCore `wait`, PPC `wait`, ARM `wfi`)
in the executable segments and hooks exactly those addresses; the core stops in front of one and
sleeps until one of its enabled interrupt lines is pending, then resumes after it.

Interrupts: Cortex-M cores get exception entry and exit emulated in Python (vector table at the
board's `vector_table`, IRQ line n = exception 16+n, no nesting). TriCore and PPC cores use a simple
documented model: a pending enabled line only wakes the core; firmware reads PENDING itself.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from typing import Any

import unicorn as uc_mod
from unicorn import UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_INVALID, Uc, UcError
from unicorn import arm_const as arm
from unicorn import ppc_const as ppc
from unicorn import tricore_const as tc
from unicorn.unicorn_py3.unicorn import MMIO_READ_CFUNC, MMIO_WRITE_CFUNC, uclib

from ..elf import ElfImage
from .base import Core, CoreState

PROT = {"r": uc_mod.UC_PROT_READ, "w": uc_mod.UC_PROT_WRITE, "x": uc_mod.UC_PROT_EXEC}

ARCHES: dict[str, dict[str, Any]] = {
    "tricore": dict(
        uc=(uc_mod.UC_ARCH_TRICORE, uc_mod.UC_MODE_LITTLE_ENDIAN),
        pc=tc.UC_TRICORE_REG_PC,
        wait=(b"\x0d\x00\x80\x05", 2),  # WAIT, 0x0580000D
        big=False,
    ),
    "ppc32": dict(
        uc=(uc_mod.UC_ARCH_PPC, uc_mod.UC_MODE_PPC32 | uc_mod.UC_MODE_BIG_ENDIAN),
        pc=ppc.UC_PPC_REG_PC,
        wait=(b"\x7c\x00\x00\x7c", 4),  # wait, 0x7C00007C
        big=True,
    ),
    "arm-m": dict(
        uc=(uc_mod.UC_ARCH_ARM, uc_mod.UC_MODE_THUMB | uc_mod.UC_MODE_MCLASS),
        pc=arm.UC_ARM_REG_PC,
        wait=(b"\x30\xbf", 2),  # WFI (T1)
        big=False,
    ),
}
ARM_CPUS = {
    "cortex-m0": arm.UC_CPU_ARM_CORTEX_M0,
    "cortex-m3": arm.UC_CPU_ARM_CORTEX_M3,
    "cortex-m4": arm.UC_CPU_ARM_CORTEX_M4,
    "cortex-m7": arm.UC_CPU_ARM_CORTEX_M7,
    "cortex-m33": arm.UC_CPU_ARM_CORTEX_M33,
}
ACCESS = {
    uc_mod.UC_MEM_READ_UNMAPPED: ("read", "unmapped"),
    uc_mod.UC_MEM_WRITE_UNMAPPED: ("write", "unmapped"),
    uc_mod.UC_MEM_FETCH_UNMAPPED: ("fetch", "unmapped"),
    uc_mod.UC_MEM_READ_PROT: ("read", "prot"),
    uc_mod.UC_MEM_WRITE_PROT: ("write", "prot"),
    uc_mod.UC_MEM_FETCH_PROT: ("fetch", "prot"),
}
EXC_RETURN = 0xFFFFFFF9


class UnicornCore(Core):
    def __init__(
        self,
        name: str,
        index: int,
        arch: str,
        clock_hz: int,
        period: int,
        cpi: tuple[int, int],
        masters: frozenset[str],
        kernel: Any,
        cpu_model: str | None = None,
        vector_table: int | None = None,
    ) -> None:
        super().__init__(name, index, clock_hz, period, masters)
        self.arch = arch
        spec = ARCHES[arch]
        self.big = spec["big"]
        self.kernel = kernel
        cpu = None
        if arch == "arm-m":
            cpu = ARM_CPUS.get(cpu_model or "cortex-m4")
        self.uc = Uc(*spec["uc"], cpu=cpu) if cpu is not None else Uc(*spec["uc"])
        self.uc.ctl_set_tlb_mode(uc_mod.UC_TLB_VIRTUAL)  # ~2x on compiled code; page rights still hold
        self._uch = self.uc._uch
        self._pc_reg = spec["pc"]
        self._pcbuf = ctypes.c_uint64(0)
        self._pcref = ctypes.byref(self._pcbuf)
        self._thumb = 1 if arch == "arm-m" else 0
        self._wait_bytes, self._wait_align = spec["wait"]
        self.cpi_num, self.cpi_den = cpi
        self.vector_table = vector_table
        self.pc = 0
        self.quanta = 0
        self.rem = 0  # fractional ticks carried between quanta, in units of 1/den tick
        self.stall = 0  # ticks of MMIO wait states accrued during the current quantum
        self.until = 0xFFFF_FFF0
        self.mappings: list[tuple[int, int, str]] = []  # (start, end, rights) of mapped memory
        self._code_ws: list[tuple[int, int, int]] = []  # (start, end, tpi numerator)
        self._tpi_cache: tuple[int, int, int] = (0, 0, 0)
        self._callbacks: list[Any] = []  # keep ctypes trampolines alive
        self._wait_hooks: list[int] = []
        self._waited = False
        self._hook_error: BaseException | None = None
        self._mem_fault: tuple[str, str, int, int] | None = None
        self._exc_frames = 0
        self.initial_context: Any = None
        self.describe: Callable[[int], str] = lambda addr: ""
        self.uc.hook_add(UC_HOOK_MEM_INVALID, self._on_invalid)
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)

    # ------------------------------------------------------------------ building
    def map_memory(self, addr: int, size: int, host_ptr: int, rights: str, wait_states: int) -> None:
        perms = 0
        for k in rights:
            perms |= PROT[k]
        self.uc.mem_map_ptr(addr, size, perms, host_ptr)
        self.mappings.append((addr, addr + size, rights))
        tpi = self.period * (self.cpi_num + wait_states * self.cpi_den)
        self._code_ws.append((addr, addr + size, tpi))

    def map_mmio(self, base: int, size: int, device: Any, wait_states: int) -> None:
        name = self.name
        stall = wait_states * self.period
        big = self.big

        def lane(offset: int, size: int) -> int:
            return (offset & ~3) + (4 - (offset & 3) - size) if big and size < 4 else offset

        def on_read(_uch: Any, offset: int, size: int, _ud: Any) -> int:
            try:
                self.stall += stall
                return device.mmio_read(lane(offset, size), size, name)
            except BaseException as e:  # noqa: BLE001 - surfaced after emu_start returns
                self._hook_error = e
                self.uc.emu_stop()
                return 0

        def on_write(_uch: Any, offset: int, size: int, value: int, _ud: Any) -> None:
            try:
                self.stall += stall
                device.mmio_write(lane(offset, size), size, value, name)
            except BaseException as e:  # noqa: BLE001
                self._hook_error = e
                self.uc.emu_stop()

        rcb, wcb = MMIO_READ_CFUNC(on_read), MMIO_WRITE_CFUNC(on_write)
        self._callbacks += [rcb, wcb]
        err = uclib.uc_mmio_map(self._uch, base, size, rcb, None, wcb, None)
        if err:
            raise UcError(err)
        self.mappings.append((base, base + size, "mmio"))

    def choose_until(self) -> None:
        """An exit address no guest code can reach: emu_start invalidates the TB holding until-1."""
        for cand in (0xFFFF_FFF0, 0xEFFF_FFF0, 0x0FFF_FFF0, 0x7FFF_FFF0, 0x3FFF_FFF0):
            if not any(a <= cand < b for a, b, _ in self.mappings):
                self.until = cand
                return

    def load(self, image: ElfImage) -> None:
        """Point the core at a loaded image (the SoC has already written its bytes to memory)."""
        for h in self._wait_hooks:
            self.uc.hook_del(h)
        self._wait_hooks = []
        pat, align = self._wait_bytes, self._wait_align
        for base, data in image.executable_ranges():
            pos = data.find(pat)
            while pos >= 0:
                if (base + pos) % align == 0:
                    addr = base + pos
                    self._wait_hooks.append(self.uc.hook_add(UC_HOOK_CODE, self._on_wait, begin=addr, end=addr))
                pos = data.find(pat, pos + 1)
        if self.arch == "arm-m":
            vt = self.vector_table if self.vector_table is not None else 0
            sp, reset = struct.unpack("<II", self.uc.mem_read(vt, 8))
            self.uc.reg_write(arm.UC_ARM_REG_SP, sp)
            self.uc.reg_write(arm.UC_ARM_REG_MSP, sp)
            self.pc = reset & ~1
        else:
            self.pc = image.entry
        self.uc.reg_write(self._pc_reg, self.pc | self._thumb)
        self.initial_context = self.uc.context_save()
        self.initial_pc = self.pc

    def reset(self) -> None:
        super().reset()
        if self.initial_context is not None:
            self.uc.context_restore(self.initial_context)
            self.pc = self.initial_pc
        self.rem = self.stall = 0
        self._exc_frames = 0

    # ------------------------------------------------------------------ hooks
    def _on_wait(self, uc: Uc, address: int, size: int, _ud: Any) -> None:
        self._waited = True
        uc.emu_stop()

    def _on_invalid(self, uc: Uc, access: int, address: int, size: int, value: int, _ud: Any) -> bool:
        kind, why = ACCESS.get(access, ("access", "invalid"))
        self._mem_fault = (kind, why, address, size)
        return False

    def _on_intr(self, uc: Uc, intno: int, _ud: Any) -> None:
        try:
            if self.arch == "arm-m" and intno == 8:  # EXCP_EXCEPTION_EXIT: the handler's bx lr
                self._arm_exception_return()
                return
            if self.arch == "arm-m" and intno == 7:
                self._mem_fault = None
                self.exit_code = 0
                self._stop_reason = "breakpoint"
            else:
                self._stop_reason = f"exception {intno}"
        except BaseException as e:  # noqa: BLE001
            self._hook_error = e
        uc.emu_stop()

    # ------------------------------------------------------------------ running
    def _tpi(self, pc: int) -> int:
        a, b, tpi = self._tpi_cache
        if a <= pc < b:
            return tpi
        for entry in self._code_ws:
            if entry[0] <= pc < entry[1]:
                self._tpi_cache = entry
                return entry[2]
        return self.period * self.cpi_num

    def run(self, window_end: int) -> None:
        """Run until this core's local time reaches window_end (or it sleeps or faults)."""
        t = self.time
        if t >= window_end:
            return
        if self._exc_pending():
            self._arm_exception_entry()
        num, den = self._tpi(self.pc), self.cpi_den
        n = ((window_end - t) * den - self.rem) // num
        if n <= 0:
            return
        self._stop_reason = None
        err = uclib.uc_emu_start(self._uch, self.pc | self._thumb, self.until, 0, n)
        uclib.uc_reg_read(self._uch, self._pc_reg, self._pcref)
        pc = self._pcbuf.value & 0xFFFF_FFFF
        used = n * num + self.rem
        self.time = t + used // den + self.stall
        self.rem = used % den
        self.stall = 0
        self.instructions += n
        self.quanta += 1
        if self._waited:
            self._waited = False
            pc += len(self._wait_bytes)
            self.uc.reg_write(self._pc_reg, pc | self._thumb)
            self.pc = pc
            self.state = CoreState.WAITING
            self.kernel.core_sleeps(self)
            return
        self.pc = pc & ~1 if self._thumb else pc
        if err or self._hook_error is not None or self._stop_reason:
            self._stopped(err)

    def _stopped(self, err: int) -> None:
        if self._hook_error is not None:
            e, self._hook_error = self._hook_error, None
            raise e
        if self._stop_reason == "breakpoint":
            self.state = CoreState.HALTED
            self.kernel.core_halted(self, "breakpoint")
            return
        if self._mem_fault is not None:
            kind, why, addr, size = self._mem_fault
            self._mem_fault = None
            where = self.describe(addr)
            if why == "prot":
                reason = f"MPU: {self.name} has no {kind} right in {where or 'this region'}"
            else:
                reason = f"unmapped address{' (' + where + ')' if where else ''}"
            msg = f"bus fault: {kind} of 0x{addr:08x} at pc 0x{self.pc:08x} ({reason})"
        elif err == uc_mod.UC_ERR_INSN_INVALID:
            msg = f"illegal instruction at pc 0x{self.pc:08x}"
        elif self._stop_reason:
            msg = f"{self._stop_reason} at pc 0x{self.pc:08x} (not modelled)"
        else:
            msg = f"{UcError(err)} at pc 0x{self.pc:08x}"
        self.fault = msg
        self.state = CoreState.FAULTED
        self.kernel.core_faulted(self, msg)

    def wake_check(self, at: int) -> None:
        if self.state is CoreState.WAITING:
            intc = self.kernel.intc
            if intc is not None and intc.pending(self.name) & intc.enabled(self.name):
                self.state = CoreState.RUNNING
                self.time = max(self.time, at)
                self.kernel.core_wakes(self)

    # ------------------------------------------------------------------ Cortex-M exceptions
    def _exc_pending(self) -> bool:
        if self.arch != "arm-m" or self.kernel.intc is None:
            return False
        intc = self.kernel.intc
        lines = intc.pending(self.name) & intc.enabled(self.name)
        if not lines or self._exc_frames:
            return False
        return not (self.uc.reg_read(arm.UC_ARM_REG_PRIMASK) & 1)

    def _arm_exception_entry(self) -> None:
        intc = self.kernel.intc
        lines = intc.pending(self.name) & intc.enabled(self.name)
        line = (lines & -lines).bit_length() - 1
        r = self.uc.reg_read
        regs = [
            r(arm.UC_ARM_REG_R0),
            r(arm.UC_ARM_REG_R1),
            r(arm.UC_ARM_REG_R2),
            r(arm.UC_ARM_REG_R3),
            r(arm.UC_ARM_REG_R12),
            r(arm.UC_ARM_REG_LR),
            self.pc,
            r(arm.UC_ARM_REG_XPSR) | (1 << 24),
        ]
        sp = r(arm.UC_ARM_REG_SP)
        if sp & 4:
            sp -= 4
            regs[7] |= 1 << 9  # stack was realigned: remember it in the stacked xPSR
        sp -= 32
        self.uc.mem_write(sp, struct.pack("<8I", *regs))
        vt = self.vector_table or 0
        (handler,) = struct.unpack("<I", self.uc.mem_read(vt + 4 * (16 + line), 4))
        self.uc.reg_write(arm.UC_ARM_REG_SP, sp)
        self.uc.reg_write(arm.UC_ARM_REG_LR, EXC_RETURN)
        self.uc.reg_write(arm.UC_ARM_REG_IPSR, 16 + line)
        self.pc = handler & ~1
        self.uc.reg_write(arm.UC_ARM_REG_PC, handler | 1)
        self._exc_frames += 1
        self.kernel.trace_core(self, "exception", f"entry IRQ{line} -> 0x{self.pc:08x}")

    def _arm_exception_return(self) -> None:
        sp = self.uc.reg_read(arm.UC_ARM_REG_SP)
        r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", self.uc.mem_read(sp, 32))
        sp += 32 + (4 if xpsr & (1 << 9) else 0)
        w = self.uc.reg_write
        for reg, v in (
            (arm.UC_ARM_REG_R0, r0),
            (arm.UC_ARM_REG_R1, r1),
            (arm.UC_ARM_REG_R2, r2),
            (arm.UC_ARM_REG_R3, r3),
            (arm.UC_ARM_REG_R12, r12),
            (arm.UC_ARM_REG_LR, lr),
        ):
            w(reg, v)
        w(arm.UC_ARM_REG_SP, sp)
        w(arm.UC_ARM_REG_XPSR, xpsr & ~(1 << 9))
        w(arm.UC_ARM_REG_IPSR, 0)
        w(arm.UC_ARM_REG_PC, pc | 1)
        self._exc_frames = max(0, self._exc_frames - 1)

    # ------------------------------------------------------------------ snapshots
    def save(self) -> Any:
        return (super().save(), self.uc.context_save(), self.pc, self.rem, self._exc_frames)

    def restore(self, state: Any) -> None:
        base, ctx, self.pc, self.rem, self._exc_frames = state
        super().restore(base)
        self.uc.context_restore(ctx)
        self.stall = 0
