"""Fixtures for the client-library tests: the emulator's pytest plugin, plus a shared subprocess.

The plugin's fixtures are imported here so these tests run whether or not the ``hsmemu`` pytest11
entry point is installed (a conftest definition simply shadows the identical plugin fixture).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from emulator.pytest_plugin import (  # noqa: E402,F401 - fixtures are used by name
    hsm_board,
    hsm_board_name,
    hsm_client,
    hsm_client_id,
    hsm_process,
    hsm_target,
    running_process,
)


def pytest_configure(config):
    config.addinivalue_line("markers", "hsm_process: hsm_client talks to a `hsmemu run` subprocess")


@pytest.fixture(scope="module")
def spc58_server(tmp_path_factory):
    """`hsmemu run --board spc58nn` in a subprocess, listening on TCP and a unix socket (one per module)."""
    sock = tmp_path_factory.mktemp("hsm") / "hsm.sock"
    with running_process("spc58nn", listen=["tcp://127.0.0.1:0", f"unix://{sock}"]) as proc:
        yield proc


@pytest.fixture
def shm_name():
    """A unique POSIX shared-memory name; the object is removed afterwards."""
    name = f"hsmemu_client_test_{uuid.uuid4().hex[:10]}"
    yield name
    path = Path("/dev/shm") / name
    if path.exists():
        path.unlink()
