"""Restoring one snapshot many times reproduces the run every time (the fault engine's pattern)."""

from emulator.soc import Soc
from emulator.trace import Trace


def test_repeated_restores_reproduce_the_run_each_time():
    out = []
    soc = Soc("spc58nn", trace=Trace("events"), console=lambda s, t: out.append((s, t)))
    soc.run_ns(20_000)
    snap = soc.snapshot()
    mark = len(soc.trace.records)
    runs = []
    for _ in range(3):
        soc.restore(snap)  # the HSM firmware ran in between: its state must be copied back
        soc.restore(snap)  # nothing ran since: the cheap path must give the same state
        soc.run_ns(200_000_000)
        runs.append((soc.now, soc.trace.records[mark:], soc.core("hsm").firmware.served))
    assert runs[0][2] > 0
    assert runs[0] == runs[1] == runs[2]
