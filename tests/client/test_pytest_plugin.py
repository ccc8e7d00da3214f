"""The pytest plugin's fixtures (hsm_board, hsm_process, hsm_client), used here and in a pytest run
of its own (the plugin loaded with -p, as the `hsmemu` pytest11 entry point loads it)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emulator.pytest_plugin import DEFAULT_BOARD

ROOT = Path(__file__).resolve().parents[2]


def test_default_board_in_process(hsm_board, hsm_client, hsm_board_name):
    assert hsm_board_name == DEFAULT_BOARD and hsm_board.board_name == DEFAULT_BOARD
    assert hsm_client.transport.name == hsm_board.url and hsm_board.url.startswith("tcp://127.0.0.1:")
    assert hsm_client.echo(b"in process") == b"in process"
    assert hsm_board.running
    with hsm_board.paused() as soc:  # the test thread may use the SoC while the kernel is held
        assert not hsm_board.running
        assert soc.core("hsm").firmware.served > 0
    assert hsm_client.echo(b"after the pause") == b"after the pause"
    assert any(src == "cpu0" for src, _ in hsm_board.console)  # app-core console is collected


@pytest.mark.hsm_process
def test_marker_selects_the_subprocess(hsm_client, hsm_process, hsm_target):
    assert hsm_target == "process"
    assert hsm_client.transport.name == hsm_process.url
    assert hsm_client.echo(b"subprocess") == b"subprocess"
    assert any(line.startswith("listening on tcp://127.0.0.1:") for line in hsm_process.output)


@pytest.mark.parametrize("hsm_client_id", [9])
def test_client_id_fixture(hsm_client, hsm_client_id):
    assert hsm_client.client_id == 9


def _entry_point_installed() -> bool:
    try:
        eps = importlib.metadata.entry_points(group="pytest11")
    except Exception:  # noqa: BLE001
        return False
    return any(ep.value.startswith("emulator.pytest_plugin") for ep in eps)


def test_plugin_in_a_pytest_run_of_its_own(tmp_path):
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_board_option(hsm_board_name, hsm_board, hsm_client):
                assert hsm_board_name == "spc58nn" == hsm_board.board_name
                assert hsm_client.info().version == "01.01.01"

            @pytest.mark.parametrize("hsm_target", ["board", "process"], indirect=True)
            def test_both_targets(hsm_target, hsm_client):
                assert hsm_client.echo(hsm_target.encode()) == hsm_target.encode()
            """
        )
    )
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hsm-board", "spc58nn"]
    if not _entry_point_installed():
        cmd[4:4] = ["-p", "emulator.pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
