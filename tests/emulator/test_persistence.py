"""NVM persistence across `hsmemu run` processes sharing one `--flash-image` file (issue 4).

Real processes (``python -m emulator.cli run --board aurix-tc3xx --flash-image F --listen
tcp://127.0.0.1:0``; the bound port is read from the "listening on" line), stopped with SIGTERM
between runs; a ``firmware.client.Client`` over TCP adds objects and commits keys in the first and
reads them back in the second. ``hsmemu nvm list/check`` read the same file. A corrupted image is
reported by ``hsmemu nvm check``; ``hsmemu run`` then boots with the NVM store unusable (NOTREADY)
unless ``--nvm-reformat`` is given.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from firmware.client import Client
from firmware.client.errors import NotFound, NotReady
from firmware.hsm.nvm_image import geometry_for_board, parse_image
from firmware.wire import NvmFlags

BOARD = "aurix-tc3xx"
ROOT = Path(__file__).resolve().parents[2]
CLIENT = 5  # local keys of client 5: NVM ids 0x15NN
CAL = bytes(range(256)) * 3
KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
KEK = bytes(range(32))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")


@contextmanager
def hsmemu_run(image: Path, tmp_path: Path, *extra: str) -> Iterator[tuple[str, Path]]:
    """`hsmemu run` on ``image`` in a child process; yields (URL, its stdout file: the console); SIGTERM at the end."""
    n = len(list(tmp_path.glob("run*.err")))
    out, err = tmp_path / f"run{n}.out", tmp_path / f"run{n}.err"
    cmd = [sys.executable, "-m", "emulator.cli", "run", "--board", BOARD, "--flash-image", str(image),
           "--listen", "tcp://127.0.0.1:0", *extra]
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fo, stderr=fe, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None:
            m = re.search(r"listening on (tcp://\S+)", err.read_text())
            if m:
                url = m.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"hsmemu run did not start (exit {proc.poll()}):\n{err.read_text()}")
            else:
                time.sleep(0.05)
        yield url, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("hsmemu run did not stop on SIGTERM") from None
    assert rc == 0, f"hsmemu run exited {rc}:\n{err.read_text()}"
    assert "-- interrupted" in err.read_text()


def hsmemu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_objects_and_keys_survive_two_runs(tmp_path):
    image = tmp_path / "hsm.img"  # missing: the first run creates it erased
    with hsmemu_run(image, tmp_path) as (url, _):
        with Client.connect(url, client_id=CLIENT) as hsm:
            hsm.nvm_add_object(0x30, b"first version", label="cal")
            hsm.nvm_add_object(0x31, CAL, label="table", flags=NvmFlags.NONMODIFIABLE, access=0x0011)
            hsm.nvm_add_object(0x30, b"second version", label="cal v2")  # an overwrite
            hsm.nvm_add_object(0x32, b"short lived")
            hsm.nvm_destroy([0x32])  # a compaction
            kid = hsm.key_cache(KEY, label="app key", flags=NvmFlags.USAGE_ENCRYPT, key_id=3)
            hsm.key_commit(kid)
            hsm.key_cache(b"never committed", label="ram only", key_id=4)  # cached only: gone after the run
            gid = hsm.key_cache(KEK, label="kek", flags=NvmFlags.USAGE_WRAP, key_id=0x107)  # a global key
            hsm.key_commit(gid)
            assert (kid, gid) == (3, 0x107)
    assert image.stat().st_size == 128 * 1024

    with hsmemu_run(image, tmp_path) as (url, _):
        with Client.connect(url, client_id=CLIENT) as hsm:
            assert hsm.nvm_read(0x30) == b"second version"
            assert hsm.nvm_get_metadata(0x30).label_text == "cal v2"
            assert hsm.nvm_read(0x31) == CAL
            meta = hsm.nvm_get_metadata(0x31)
            assert (meta.flags, meta.access, meta.len) == (NvmFlags.NONMODIFIABLE, 0x0011, len(CAL))
            with pytest.raises(NotFound):
                hsm.nvm_get_metadata(0x32)
            exp = hsm.key_export(3)
            assert (exp.data, exp.label) == (KEY, b"app key")
            with pytest.raises(NotFound):
                hsm.key_export(4)
            ids = hsm.nvm_list()
            assert [i for i in ids if i not in range(0x20, 0x30)] == [0x31, 0x30, 0x1503, 0x1007]
        with Client.connect(url, client_id=9) as other:  # a global key is every client's
            exp = other.key_export(0x107)
            assert (exp.data, exp.label) == (KEK, b"kek")
            with pytest.raises(NotFound):
                other.key_export(3)  # client 5's local key 3 is not client 9's

    p = hsmemu("nvm", "list", image, "--board", BOARD)
    assert p.returncode == 0, p.stderr
    rows = {line.split()[0]: line for line in p.stdout.splitlines()[2:]}
    assert set(rows) == {"0x0031", "0x0030", "0x1503", "0x1007"}
    assert "'cal v2'" in rows["0x0030"] and "key 3 (client 5)" in rows["0x1503"] and "key 7 (global)" in rows["0x1007"]
    p = hsmemu("nvm", "check", image, "--board", BOARD)
    assert p.returncode == 0 and "verdict: healthy" in p.stdout, p.stdout + p.stderr


def test_a_corrupted_image_is_reported_and_not_formatted_unless_asked(tmp_path):
    image = tmp_path / "hsm.img"
    assert hsmemu("nvm", "create", "--board", BOARD, image).returncode == 0
    key = tmp_path / "k.bin"
    key.write_bytes(KEY)
    assert hsmemu("nvm", "add-key", image, "--board", BOARD, "1", key, "--client", CLIENT).returncode == 0
    # flip bytes of the active partition's header: no partition is valid any more
    geom = geometry_for_board(BOARD)
    raw = bytearray(image.read_bytes())
    rep = parse_image(bytes(raw), geom)
    base = geom.part_offset(rep.active)
    raw[base + 8 : base + 12] = bytes(b ^ 0x5A for b in raw[base + 8 : base + 12])
    image.write_bytes(bytes(raw))
    damaged = bytes(raw)

    p = hsmemu("nvm", "check", image, "--board", BOARD)
    assert p.returncode == 1
    assert "status: corrupt" in p.stdout and "no valid partition" in p.stdout and "verdict: UNUSABLE" in p.stdout

    with hsmemu_run(image, tmp_path) as (url, console):
        with Client.connect(url, client_id=CLIENT) as hsm:
            with pytest.raises(NotReady):
                hsm.nvm_add_object(0x40, b"refused")
            with pytest.raises(NotFound):
                hsm.key_export(1)
            assert hsm.nvm_get_available().avail_size == 0
        assert "NVM store unusable" in console.read_text() and "--nvm-reformat" in console.read_text()
    assert image.read_bytes() == damaged  # never silently formatted

    with hsmemu_run(image, tmp_path, "--nvm-reformat") as (url, _):
        with Client.connect(url, client_id=CLIENT) as hsm:
            assert [i for i in hsm.nvm_list() if i not in range(0x20, 0x30)] == []  # the old data is gone
            hsm.nvm_add_object(0x40, b"after the reformat")
            assert hsm.nvm_read(0x40) == b"after the reformat"
    p = hsmemu("nvm", "check", image, "--board", BOARD)
    assert p.returncode == 0 and "verdict: healthy" in p.stdout
    p = hsmemu("nvm", "list", image, "--board", BOARD)
    assert "0x0040" in p.stdout and "0x1501" not in p.stdout
