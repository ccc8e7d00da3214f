"""`hsmemu run` end to end (subprocess), MPU faults, and bad command-line input."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator.soc import Soc
from emulator.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
PREBUILT = ROOT / "firmware/app/prebuilt"


def hsmemu(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def test_run_default_board_prints_prefixed_console_and_summary():
    r = hsmemu("run")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    for i in range(6):
        assert f"cpu{i}: hello from tricore app core {i}" in out
    assert "virtual time" in r.stderr and "MIPS" in r.stderr
    for i in range(6):
        assert any(line.split()[:2] == [f"cpu{i}", "waiting"] for line in r.stderr.splitlines())


def test_run_for_a_virtual_duration():
    r = hsmemu("run", "--board", "spc58nn", "--for", "20us", "--quantum", "1000")
    assert r.returncode == 0, r.stderr
    assert "virtual time 20 us" in r.stderr


def test_bad_inputs_are_one_line_errors(tmp_path):
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"not an elf at all")
    cases = [
        (["run", "--firmware", f"cpu0={PREBUILT / 'ppc_demo.elf'}"], "built for EM_PPC"),
        (["run", "--firmware", "cpu0=/no/such.elf"], "no such firmware file"),
        (["run", "--firmware", f"cpu0={junk}"], "not a valid ELF"),
        (["run", "--firmware", "cpu9=x.elf"], "has no core 'cpu9'"),
        (["run", "--board", "nope"], "no such board profile"),
        (["run", "--for", "10"], "needs a unit"),
        (["run", "--quantum", "0"], "--quantum"),
    ]
    for args, text in cases:
        r = hsmemu(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and text in lines[0], (args, r.stderr)


def test_ctrl_c_stops_cleanly_with_summary():
    spin = PREBUILT / "tricore_spin.elf"
    p = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "run", "--for", "100s", "--firmware", f"cpu0={spin}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert "Traceback" not in err
    assert "interrupted" in err and "cpu0" in err


def test_mpu_violation_is_reported_and_other_cores_go_on():
    faults, out = [], []
    soc = Soc(
        "aurix-tc3xx",
        firmware={"cpu2": str(PREBUILT / "tricore_mpu_probe.elf")},
        trace=Trace("events"),
        console=lambda s, t: out.append((s, t)),
    )
    soc.kernel.fault_sink = faults.append
    assert soc.run_until_idle()
    assert ("cpu2", "probe") in out and ("cpu2", "not reached") not in out
    probe_load = soc.images["cpu2"].symbols["probe_load"]
    assert faults == [
        f"cpu2: bus fault: read of 0x20000000 at pc 0x{probe_load:08x} (MPU: cpu2 has no read right in hsm_ram)"
    ]
    assert soc.core("cpu2").state.value == "faulted"
    assert soc.trace.find("fault", "cpu2")
    for i in (0, 1, 3, 4, 5):
        assert (f"cpu{i}", "hsm close: rc 0") in out


def test_on_fault_halt_stops_the_soc(tmp_path):
    board = (ROOT / "boards/aurix-tc3xx.toml").read_text().replace('on_fault = "stop-core"', 'on_fault = "halt"')
    path = tmp_path / "halting.toml"
    path.write_text(board)
    r = hsmemu("run", "--board", str(path), "--firmware", f"cpu2={PREBUILT / 'tricore_mpu_probe.elf'}")
    assert r.returncode == 1
    assert "stopped: cpu2: bus fault" in r.stderr
    assert "hsm close" not in r.stdout  # the SoC stopped before the HSM answered anyone


def test_hsm_dma_is_checked_against_the_allow_list():
    soc = Soc("aurix-tc3xx", trace=Trace("events"), console=lambda s, t: None)
    hal = soc.core("hsm").hal
    assert hal.dma_allowed(0x9004_0000, 64, write=True)
    assert not hal.dma_allowed(0x9008_0000, 64, write=False)  # LMU beyond the 256 KiB window
    assert not hal.dma_allowed(0x2000_0000, 4, write=False)  # HSM RAM is not client memory
    assert soc.mpu.allows(frozenset({"hsm"}), 0x2000_0000, 4, "w")
