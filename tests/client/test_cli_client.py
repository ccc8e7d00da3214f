"""`hsmemu client`: one-line outputs and one-line errors with the right exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.pytest_plugin import free_port

from .helpers import _cli_wired, run_cli, run_cli_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_echo_and_info(spc58_server):
    rc, out, err = run_cli(["--connect", spc58_server.url, "echo", "hello from the shell"])
    assert (rc, out, err) == (0, "hello from the shell\n", "")
    rc, out, err = run_cli(["--connect", spc58_server.urls[1], "--client-id", "4", "info"])
    assert rc == 0 and err == ""
    assert out.count("\n") == 1
    assert out.startswith("server id 57, client id 4: wolfHSM server version 01.01.01 build 12345678")


def test_url_from_the_environment(spc58_server, monkeypatch):
    monkeypatch.setenv("HSMEMU_CONNECT", spc58_server.url)
    assert run_cli(["echo", "env"]) == (0, "env\n", "")


def test_nvm_key_counter_commands(spc58_server, tmp_path):
    url = ["--connect", spc58_server.url]
    data = tmp_path / "obj.bin"
    data.write_bytes(b"\x00\x01binary\xff")
    rc, out, err = run_cli([*url, "nvm", "add", "0x1a0", str(data), "--label", "cli", "--flags", "sensitive"])
    if rc == 1 and "does not implement" in err:
        pytest.skip("NVM not implemented by the server yet")
    assert (rc, err) == (0, "") and out == "added NVM object 0x01a0 (9 bytes)\n"
    rc, out, err = run_cli([*url, "nvm", "list"])
    line = next(x for x in out.splitlines() if x.startswith("0x01a0"))
    assert "len     9" in line and "(sensitive)" in line and "label 'cli'" in line
    assert run_cli_bytes([*url, "nvm", "read", "0x1a0"]) == (0, b"\x00\x01binary\xff", "")
    assert run_cli([*url, "nvm", "read", "0x1a0", "--hex"]) == (0, "000162696e617279ff\n", "")
    back = tmp_path / "back.bin"
    rc, out, _ = run_cli([*url, "nvm", "read", "416", "--out", str(back)])
    assert rc == 0 and back.read_bytes() == data.read_bytes() and "9 bytes" in out
    rc, out, _ = run_cli([*url, "nvm", "available"])
    assert rc == 0 and out.startswith("available: ") and "reclaimable" in out
    assert run_cli([*url, "nvm", "destroy", "0x1a0"]) == (0, "destroyed 0x01a0\n", "")

    key = tmp_path / "aes.key"
    key.write_bytes(bytes(range(16)))
    rc, out, err = run_cli([*url, "key", "cache", str(key), "--id", "0x21", "--label", "k"])
    if rc == 1 and "does not implement" in err:
        pytest.skip("KEY not implemented by the server yet")
    assert (rc, out, err) == (0, "cached key 0x0021 (16 bytes)\n", "")
    # keys belong to the connection: a new CLI call is a new connection, so commit it is not there
    rc, out, err = run_cli([*url, "key", "export", "0x21"])
    assert rc == 1 and err == "hsmemu: error: key_export 0x0021: NOTFOUND (-2104)\n" and out == ""

    rc, out, err = run_cli([*url, "counter", "init", "9", "41"])
    if rc == 1 and "does not implement" in err:
        pytest.skip("COUNTER not implemented by the server yet")
    assert (rc, out) == (0, "41\n")
    assert run_cli([*url, "counter", "inc", "9"])[:2] == (0, "42\n")
    assert run_cli([*url, "counter", "read", "9"])[:2] == (0, "42\n")
    assert run_cli([*url, "counter", "destroy", "9"])[:2] == (0, "destroyed counter 9\n")
    assert run_cli([*url, "counter", "read", "9"]) == (1, "", "hsmemu: error: counter_read 9: NOTFOUND (-2104)\n")


def test_hsm_errors_exit_1_with_name_and_code(spc58_server):
    rc, out, err = run_cli(["--connect", spc58_server.url, "nvm", "read", "0xeee"])
    if "does not implement" in err:
        pytest.skip("NVM not implemented by the server yet")
    assert (rc, out, err) == (1, "", "hsmemu: error: nvm_read 0x0eee: NOTFOUND (-2104)\n")
    rc, out, err = run_cli(["--connect", spc58_server.url, "nvm", "destroy", "0xeee", "0xeef"])
    assert rc == 1 and err.endswith("NOTFOUND (-2104)\n") and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["echo"], "TEXT"),  # missing argument
        (["nvm"], "ACTION"),
        (["nvm", "read", "banana"], "not a number"),
        (["nvm", "add", "1", "/nonexistent/file"], "/nonexistent/file"),
        (["nvm", "add", "1", "-", "--flags", "shiny"], "unknown flag 'shiny'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_in_one_line(spc58_server, argv, fragment):
    rc, out, err = run_cli(["--connect", spc58_server.url, *argv])
    assert rc == 2 and out == ""
    assert err.startswith("hsmemu: error: ") and err.count("\n") == 1 and fragment in err
    assert "Traceback" not in err


def test_label_too_long_is_a_usage_error(spc58_server, tmp_path):
    f = tmp_path / "d"
    f.write_bytes(b"x")
    rc, out, err = run_cli(["--connect", spc58_server.url, "nvm", "add", "1", str(f), "--label", "L" * 30])
    assert rc == 2 and err == "hsmemu: error: label is 30 bytes, at most 24 fit\n"


def test_no_server_exits_2(tmp_path):
    rc, out, err = run_cli(["--connect", f"tcp://127.0.0.1:{free_port()}", "echo", "x"])
    assert rc == 2 and out == "" and err.startswith("hsmemu: error: cannot connect to tcp://127.0.0.1:")
    assert err.count("\n") == 1
    rc, out, err = run_cli(["--connect", "ftp://x", "info"])
    assert rc == 2 and "tcp://, tls://, unix:// or shm://" in err


def test_real_command_line(spc58_server):
    """The installed entry point: `hsmemu client` once wired into emulator.cli, else the module."""
    cmd = (
        [sys.executable, "-m", "emulator.cli", "client"]
        if _cli_wired()
        else [sys.executable, "-m", "emulator.cli_client"]
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [*cmd, "--connect", spc58_server.url, "echo", "hi"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "")
    done = subprocess.run(
        [*cmd, "--connect", spc58_server.url, "counter", "read", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr == "hsmemu: error: counter id must be 1..0xffff, got 0\n"
