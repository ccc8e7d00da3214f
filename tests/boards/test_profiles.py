"""Board profiles load, and a bad profile gives one clear error naming the file and the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from boards import loader

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "boards" / "spc58nn.toml").read_text()


def test_every_profile_loads_and_cites_its_numbers():
    for name in loader.available():
        board = loader.load(name)
        assert board.app_cores, name
        text = board.path.read_text().splitlines()
        # every timing number carries a source or the word "assumed" in a comment
        for line in text:
            key = line.split("=")[0].strip()
            if key in ("clock_hz", "cpi", "wait_states"):
                assert "#" in line, f"{name}: {line!r} has no source comment"


def test_aurix_profile_facts():
    b = loader.load("aurix-tc3xx")
    assert [c.arch for c in b.app_cores] == ["tricore"] * 6
    assert all(c.clock_hz == 300_000_000 for c in b.app_cores)
    hsm = b.core("hsm")
    assert hsm is not None and hsm.clock_hz == 100_000_000
    assert b.memory("hsm_ram").size == 96 * 1024
    assert b.memory("hsm_dflash").size == 128 * 1024


def test_spc58_mailbox_registers_at_spec_offsets():
    b = loader.load("spc58nn")
    mb = b.peripheral("mailbox")
    assert mb.base == 0xF7F3_0000
    assert mb.config["registers"] == {
        "HSM2HTF": 0x00,
        "HSM2HTIE": 0x04,
        "HT2HSMF": 0x08,
        "HT2HSMIE": 0x0C,
        "HSM2HTS": 0x10,
        "HT2HSMS": 0x14,
    }


def _bad(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(loader.BoardError) as ei:
        loader.load(str(p))
    return str(ei.value)


def test_unknown_key(tmp_path):
    msg = _bad(tmp_path, GOOD.replace("wait_states = 1            # assumed\n", "wait_states = 1\nspeed = 3\n", 1))
    assert "bad.toml" in msg and "memory.cflash.speed" in msg and "unknown key" in msg


def test_overlapping_regions(tmp_path):
    msg = _bad(tmp_path, GOOD.replace("origin = 0x5180_0000", "origin = 0x5080_8000"))
    assert "overlaps" in msg and "memory.dsram" in msg


def test_missing_core_clock(tmp_path):
    msg = _bad(tmp_path, GOOD.replace("clock_hz = 200_000_000     # as cpu0\n", "", 1))
    assert "cores.cpu1.clock_hz" in msg and "missing" in msg


def test_misaligned_and_wrong_types(tmp_path):
    assert "not aligned" in _bad(tmp_path, GOOD.replace("origin = 0x4006_0000", "origin = 0x4006_0100"))
    assert "must be an integer" in _bad(tmp_path, GOOD.replace("clock_hz = 200_000_000", 'clock_hz = "fast"', 1))
    assert "unknown master" in _bad(tmp_path, GOOD.replace('rights = { hsm = "rw" }', 'rights = { gpu = "rw" }'))


def test_cli_reports_bad_profile_in_one_line(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace("clock_hz = 200_000_000     # as cpu0\n", "", 1))
    r = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "run", "--board", str(p)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cores.cpu1.clock_hz" in lines[0] and str(p) in lines[0]


def test_boards_command_lists_profiles():
    r = subprocess.run([sys.executable, "-m", "emulator.cli", "boards"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0
    for name in ("aurix-tc3xx", "spc58nn", "cortex-m-dual"):
        assert any(line.startswith(name) for line in r.stdout.splitlines())


def test_memory_map_command():
    r = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "boards", "--map", "aurix-tc3xx"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0
    assert "0xf0040000-0xf005ffff  peripheral mailbox" in r.stdout
    assert "alias      dspr3 as seen by cpu3 only" in r.stdout
