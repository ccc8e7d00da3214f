"""SoC kernel benchmark: figures are ratios against a baseline measured in the same run.

1. CPU-bound firmware (tricore_spin.elf) on all 6 app cores of aurix-tc3xx: aggregate MIPS of the
   emulator, and of raw Unicorn running the same ELF on 6 TriCore instances time-sliced the same way
   (round robin, emu_start(count=quantum), `until` outside guest code, same TLB mode). Target >= 0.7.
2. One virtual second of an idle board (target < 20 ms of host time).
3. `hsmemu run --for 0` from process start to exit, next to `python -c pass` (target < 0.5 s).
4. Snapshot restore of the whole Aurix-like board (target < 200 us).

Usage: python tools/bench_soc.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import unicorn as uc  # noqa: E402
from unicorn.unicorn_py3.unicorn import uclib  # noqa: E402

from emulator.elf import load_elf  # noqa: E402
from emulator.soc import Soc  # noqa: E402
from emulator.trace import Trace  # noqa: E402

SPIN = ROOT / "firmware/app/prebuilt/tricore_spin.elf"


def emulator_mips(quantum: int, virtual_ms: int) -> tuple[float, int, int]:
    """Aggregate MIPS, instructions run, and the mean instructions per emu_start call."""
    soc = Soc("aurix-tc3xx", firmware={f"cpu{i}": str(SPIN) for i in range(6)}, quantum=quantum, trace=Trace("off"))
    soc.run_ns(100_000)  # warm-up: translate the loop
    n0 = sum(c.instructions for c in soc.cores)
    q0 = sum(getattr(c, "quanta", 0) for c in soc.cores)
    t0 = time.perf_counter()
    soc.run_ns(virtual_ms * 1_000_000)
    dt = time.perf_counter() - t0
    n = sum(c.instructions for c in soc.cores) - n0
    q = sum(getattr(c, "quanta", 0) for c in soc.cores) - q0
    return n / dt / 1e6, n, n // q


def raw_unicorn_mips(quantum: int, total_insns: int) -> float:
    """The same ELF on 6 bare TriCore Unicorn instances, round robin, the same quantum."""
    image = load_elf(SPIN, "tricore")
    cores = []
    for _ in range(6):
        u = uc.Uc(uc.UC_ARCH_TRICORE, uc.UC_MODE_LITTLE_ENDIAN)
        u.ctl_set_tlb_mode(uc.UC_TLB_VIRTUAL)
        u.mem_map(0x8000_0000, 0x20_0000, uc.UC_PROT_READ | uc.UC_PROT_EXEC)
        u.mem_map(0xD000_0000, 0x1_8000, uc.UC_PROT_ALL)
        for seg in image.segments:
            u.mem_write(seg.addr, seg.data)
        cores.append([u, u._uch, image.entry])
    pc_reg = uc.tricore_const.UC_TRICORE_REG_PC
    import ctypes

    buf = ctypes.c_uint64()
    ref = ctypes.byref(buf)
    until = 0xFFFF_FFF0

    def go(rounds: int) -> None:
        for _ in range(rounds):
            for c in cores:
                uclib.uc_emu_start(c[1], c[2], until, 0, quantum)
                uclib.uc_reg_read(c[1], pc_reg, ref)
                c[2] = buf.value

    go(3)  # warm-up
    rounds = max(1, total_insns // (6 * quantum))
    t0 = time.perf_counter()
    go(rounds)
    dt = time.perf_counter() - t0
    return rounds * 6 * quantum / dt / 1e6


def idle_second_ms() -> float:
    soc = Soc("aurix-tc3xx", trace=Trace("off"), console=lambda s, t: None)
    soc.run_until_idle()
    t0 = time.perf_counter()
    soc.run_ns(1_000_000_000)
    return (time.perf_counter() - t0) * 1e3


def startup_seconds(runs: int) -> tuple[float, float]:
    def timed(cmd: list[str]) -> float:
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    run = timed([sys.executable, "-m", "emulator.cli", "run", "--for", "0"])
    base = timed([sys.executable, "-c", "pass"])
    return run, base


def restore_us(reps: int) -> tuple[float, float]:
    soc = Soc("aurix-tc3xx", trace=Trace("off"), console=lambda s, t: None)
    soc.run_ns(20_000)
    snap = soc.snapshot()
    t0 = time.perf_counter()
    for _ in range(reps):
        soc.restore(snap)
    restore = (time.perf_counter() - t0) / reps * 1e6
    t0 = time.perf_counter()
    for _ in range(reps // 10 or 1):
        soc.snapshot()
    save = (time.perf_counter() - t0) / (reps // 10 or 1) * 1e6
    return restore, save


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (CI smoke)")
    ap.add_argument("--quantum", type=int, default=10_000)
    args = ap.parse_args()
    ms = 20 if args.quick else 200
    # alternate the two measurements and take medians, so load from elsewhere hits both alike
    emus, raws = [], []
    for _ in range(3):
        emu, n, per_call = emulator_mips(args.quantum, ms)
        emus.append(emu)
        # the baseline runs the same number of instructions per emu_start call as the emulator did
        raws.append(raw_unicorn_mips(per_call, n))
    emu, raw = statistics.median(emus), statistics.median(raws)
    print(f"cpu-bound, 6 TriCore cores, quantum {args.quantum} ({per_call} instructions per emu_start):")
    print(f"  hsmemu aggregate      {emu:8.1f} MIPS ({n:,} instructions)")
    print(f"  raw Unicorn baseline  {raw:8.1f} MIPS")
    print(f"  ratio                 {emu / raw:8.2f}   (target >= 0.70)")
    idle = idle_second_ms()
    print(f"idle board, 1 s virtual: {idle:.2f} ms host   (target < 20 ms)")
    run, base = startup_seconds(3 if args.quick else 5)
    print(f"hsmemu run --for 0: {run:.3f} s (python -c pass: {base:.3f} s; ratio {run / base:.1f})   (target < 0.5 s)")
    r, s = restore_us(200 if args.quick else 2000)
    print(f"snapshot restore, whole aurix-tc3xx: {r:.1f} us (save {s:.1f} us)   (target < 200 us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
