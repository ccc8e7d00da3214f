"""`hsmemu nvm`: create, list, dump, add objects and keys, destroy, check HSM NVM flash images.

The commands run in-process through ``emulator.cli_nvm.main`` (the same parser ``hsmemu nvm`` uses);
one test runs the real ``hsmemu`` entry (``python -m emulator.cli nvm ...``), one boots a board on an
image provisioned here and reads the objects and keys back through the HSM.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import cli_nvm
from firmware.hsm.nvm_image import blank_image, geometry_for_board, parse_image
from firmware.wire import NvmFlags

BOARD = "aurix-tc3xx"
G = geometry_for_board(BOARD)
ROOT = Path(__file__).resolve().parents[2]


def nvm(*args: str) -> int:
    return cli_nvm.main(["nvm", *map(str, args)])


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = nvm(*args)
    out, err = capsys.readouterr()
    return rc, out, err


def objects(path: Path, board: str = BOARD) -> dict[int, tuple[int, int, int, bytes, bytes]]:
    """id -> (access, flags, len, label, data), as the firmware's codec reads the image."""
    image = path.read_bytes()
    rep = parse_image(image, geometry_for_board(board))
    assert rep.ok, rep.describe()
    return {
        r.meta.id: (r.meta.access, r.meta.flags, r.meta.len, r.meta.label.rstrip(b"\0"), rep.data(image, r))
        for r in rep.objects()
    }


@pytest.fixture
def img(tmp_path, capsys) -> Path:
    path = tmp_path / "hsm.img"
    assert nvm("create", "--board", BOARD, path) == 0
    capsys.readouterr()
    return path


def one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hsmemu: error: "), err
    assert "Traceback" not in err


# ------------------------------------------------------------------------------------ create


def test_create_formats_an_image_sized_for_the_board(tmp_path, capsys):
    path = tmp_path / "a.img"
    rc, out, _ = run(capsys, "create", "--board", BOARD, path)
    assert rc == 0 and "formatted" in out and "63808 B, 30 slots" in out
    assert path.stat().st_size == 128 * 1024
    rep = parse_image(path.read_bytes(), G)
    assert (rep.status, rep.active, rep.partitions[0].epoch, rep.objects()) == ("ok", 0, 1, [])
    assert rep.available() == (63808, 0, 30, 0)


def test_create_erased_and_other_boards(tmp_path, capsys):
    path = tmp_path / "spc.img"
    rc, out, _ = run(capsys, "create", "--board", "spc58nn", "--erased", path)
    assert rc == 0 and "erased" in out and "not formatted" in out
    assert path.read_bytes() == blank_image(geometry_for_board("spc58nn"))
    assert path.stat().st_size == 32 * 1024
    assert parse_image(path.read_bytes(), geometry_for_board("spc58nn")).status == "empty"


def test_create_refuses_to_overwrite_without_force(img, capsys):
    before = img.read_bytes()
    img.write_bytes(b"x" + before[1:])
    rc, _, err = run(capsys, "create", "--board", BOARD, img)
    assert rc == 2
    one_line_error(err)
    assert "--force" in err and img.read_bytes()[:1] == b"x"
    assert nvm("create", "--board", BOARD, "--force", img) == 0
    assert img.read_bytes() == before


def test_unknown_board_and_unreadable_file_are_one_line_errors(tmp_path, capsys):
    rc, _, err = run(capsys, "create", "--board", "no-such-board", tmp_path / "x.img")
    assert rc == 2
    one_line_error(err)
    rc, _, err = run(capsys, "list", tmp_path / "missing.img", "--board", BOARD)
    assert rc == 2
    one_line_error(err)
    assert "No such file" in err


# ------------------------------------------------------------------------------------ add, list, dump


def test_add_list_dump(img, tmp_path, capsys):
    cal = tmp_path / "cal.bin"
    cal.write_bytes(bytes(range(40)))
    rc, out, _ = run(capsys, "add", img, "--board", BOARD, "0x14", cal, "--label", "cal", "--flags", "nonmodifiable")
    assert rc == 0 and "added object 0x0014 (40 B)" in out
    assert nvm("add", img, "--board", BOARD, "0x15", cal, "--access", "0x11", "--flags", "0x4") == 0
    capsys.readouterr()
    got = objects(img)
    assert got[0x14] == (0, int(NvmFlags.NONMODIFIABLE), 40, b"cal", bytes(range(40)))
    assert got[0x15] == (0x11, 0x4, 40, b"", bytes(range(40)))

    rc, out, _ = run(capsys, "list", img, "--board", BOARD)
    assert rc == 0
    lines = out.splitlines()
    assert "partition 0 epoch 1: 2 objects" in lines[0]
    assert lines[1].split() == ["id", "len", "flags", "access", "label"]
    assert lines[2].startswith("0x0014     40  0x0001  0x0000  'cal'") and "nonmodifiable" in lines[2]
    assert lines[3].startswith("0x0015     40  0x0004  0x0011  ''") and "nonexportable" in lines[3]

    rc, out, _ = run(capsys, "dump", img, "--board", BOARD, "--id", "0x14", "--hex")
    assert (rc, out) == (0, bytes(range(40)).hex() + "\n")
    rc, out, _ = run(capsys, "dump", img, "--board", BOARD)
    assert rc == 0 and "object 0x0014: len 40, flags 0x0001 (nonmodifiable)" in out
    assert "  0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|" in out
    raw = tmp_path / "out.bin"
    assert nvm("dump", img, "--board", BOARD, "--id", "0x15", "--out", raw) == 0
    assert raw.read_bytes() == bytes(range(40))
    rc, _, err = run(capsys, "dump", img, "--board", BOARD, "--id", "0x99")
    assert rc == 1 and "no object 0x0099" in err


def test_add_replaces_and_dump_records_shows_the_history(img, tmp_path, capsys):
    f = tmp_path / "d"
    for text in (b"first", b"second", b"third"):
        f.write_bytes(text)
        assert nvm("add", img, "--board", BOARD, "0x20", f, "--label", text.decode()) == 0
    capsys.readouterr()
    assert objects(img) == {0x20: (0, 0, 5, b"third", b"third")}
    rep = parse_image(img.read_bytes(), G)
    assert rep.available()[3] == 2  # two superseded versions are reclaimable
    rc, out, _ = run(capsys, "dump", img, "--board", BOARD, "--records")
    assert rc == 0 and out.count("superseded") == 2 and out.count("live") == 1


def test_add_from_stdin(img, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"piped data")))
    assert nvm("add", img, "--board", BOARD, "0x30", "-") == 0
    assert objects(img)[0x30][4] == b"piped data"


def test_add_key_ids_follow_the_key_id_layout(img, tmp_path, capsys):
    key = tmp_path / "aes.key"
    key.write_bytes(bytes.fromhex("000102030405060708090a0b0c0d0e0f"))
    flags = "usage_encrypt,usage_decrypt"
    rc, out, err = run(capsys, "add-key", img, "--board", BOARD, "1", key, "--client", "12", "--label", "k1",
                       "--flags", flags)
    assert rc == 0 and "NVM object 0x1c01" in out and not err
    rc, out, err = run(capsys, "add-key", img, "--board", BOARD, "5", key, "--global")
    assert rc == 0 and "global key 5 as NVM object 0x1005" in out and "no usage flags" in err
    rc, out, _ = run(capsys, "add-key", img, "--board", BOARD, "0x107", key)  # the client form of a global id
    assert rc == 0 and "0x1007" in out
    rc, out, _ = run(capsys, "add-key", img, "--board", BOARD, "2", key, "--client", "0x13")  # USER = low 4 bits
    assert rc == 0 and "0x1302" in out and "USER 3" in out
    got = objects(img)
    assert got[0x1C01] == (0xFFFF, 0x60, 16, b"k1", key.read_bytes())  # what KEY CACHE + COMMIT store
    assert got[0x1005] == (0xFFFF, 0, 16, b"", key.read_bytes())
    rc, out, _ = run(capsys, "list", img, "--board", BOARD)
    assert "key 1 (client 12)" in out and "key 5 (global)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["1"], "--client N"),
        (["0x201", "--client", "1"], "wrapped"),
        (["0", "--client", "1"], "KEYID 0"),
        (["0x1c01", "--client", "1"], "1..255"),
        (["0x101", "--client", "1"], "global key"),
        (["1", "--client", "16"], "--global"),
        (["1", "--client", "300"], "1..255"),
    ],
)
def test_add_key_bad_arguments(img, tmp_path, capsys, args, message):
    key = tmp_path / "k"
    key.write_bytes(b"k" * 16)
    before = img.read_bytes()
    rc, _, err = run(capsys, "add-key", img, "--board", BOARD, args[0], key, *args[1:])
    assert rc == 2
    one_line_error(err)
    assert message in err
    assert img.read_bytes() == before


def test_add_key_larger_than_any_cache_slot_is_refused(img, tmp_path, capsys):
    key = tmp_path / "big"
    key.write_bytes(bytes(4097))
    rc, _, err = run(capsys, "add-key", img, "--board", BOARD, "1", key, "--global")
    assert rc == 2 and "key-cache slot (4096 B)" in err


def test_add_that_does_not_fit_leaves_the_image_unchanged(img, tmp_path, capsys):
    big = tmp_path / "big"
    big.write_bytes(bytes(40_000))
    assert nvm("add", img, "--board", BOARD, "1", big) == 0
    before = img.read_bytes()
    rc, _, err = run(capsys, "add", img, "--board", BOARD, "2", big)
    assert rc == 1
    one_line_error(err)
    assert "does not fit" in err and "unchanged" in err
    assert img.read_bytes() == before
    rc, _, err = run(capsys, "add", img, "--board", BOARD, "0", big)
    assert rc == 2 and "id 0" in err


def test_adds_compact_when_the_directory_is_full(img, tmp_path, capsys):
    """30 slots: the 31st add of a replaced id compacts first (as an internal writer of the HSM would)."""
    f = tmp_path / "d"
    for i in range(31):
        f.write_bytes(b"v%d" % i)
        assert nvm("add", img, "--board", BOARD, 0x40 + i % 3, f) == 0
    capsys.readouterr()
    rep = parse_image(img.read_bytes(), G)
    assert rep.active == 1 and rep.partitions[1].epoch == 2
    assert {i: o[4] for i, o in objects(img).items()} == {0x40: b"v30", 0x41: b"v28", 0x42: b"v29"}


def test_destroy(img, tmp_path, capsys):
    f = tmp_path / "d"
    f.write_bytes(b"data")
    for i in (1, 2, 3):
        assert nvm("add", img, "--board", BOARD, i, f) == 0
    rc, out, _ = run(capsys, "destroy", img, "--board", BOARD, "1", "3")
    assert rc == 0 and "destroyed 0x0001 0x0003" in out
    assert list(objects(img)) == [2]
    assert parse_image(img.read_bytes(), G).partitions[1].state == "active"  # a destroy compacts
    before = img.read_bytes()
    rc, _, err = run(capsys, "destroy", img, "--board", BOARD, "2", "7")
    assert rc == 1 and "no object 0x0007 (nothing destroyed)" in err
    assert img.read_bytes() == before


# ------------------------------------------------------------------------------------ check


def test_check_healthy_image(img, tmp_path, capsys):
    f = tmp_path / "d"
    f.write_bytes(b"calibration")
    assert nvm("add", img, "--board", BOARD, "0x14", f, "--label", "cal") == 0
    assert nvm("add", img, "--board", BOARD, "0x14", f, "--label", "cal2") == 0
    rc, out, _ = run(capsys, "check", img, "--board", BOARD)
    assert rc == 0
    assert "status: ok, active partition 0" in out
    assert "partition 0 @0x0: active epoch 1" in out and "partition 1 @0x10000: blank" in out
    assert "log: 1 superseded, 1 live" in out
    assert "available: 63776 B, 28 objects; reclaimable: 16 B, 1 objects" in out
    assert "0x0014 len 11 flags 0x0000 access 0x0000 label 'cal2'" in out
    assert "partition 0: sectors 0-15  #...............  1 written" in out
    assert "wear: unknown" in out
    assert out.rstrip().endswith("verdict: healthy")


def test_check_erased_image_is_healthy(tmp_path, capsys):
    path = tmp_path / "e.img"
    path.write_bytes(blank_image(G))
    rc, out, _ = run(capsys, "check", path, "--board", BOARD)
    assert rc == 0 and "status: empty" in out and "verdict: healthy" in out


def test_check_reports_a_damaged_object(img, tmp_path, capsys):
    f = tmp_path / "d"
    f.write_bytes(b"A" * 32)
    for i in (0x10, 0x11):
        assert nvm("add", img, "--board", BOARD, i, f) == 0
    rep = parse_image(img.read_bytes(), G)
    rec = rep.objects()[0]
    raw = bytearray(img.read_bytes())
    raw[rep.partitions[0].offset + rec.data_offset + 3] ^= 0x10  # one bit of 0x10's data
    img.write_bytes(bytes(raw))
    capsys.readouterr()
    rc, out, _ = run(capsys, "check", img, "--board", BOARD)
    assert rc == 1
    assert "problem: object 0x0010 at partition 0 offset 0x30: data CRC mismatch; the object is dropped" in out
    assert "1 corrupt, 1 live" in out and "verdict: DAMAGED" in out
    rc, out, err = run(capsys, "list", img, "--board", BOARD)
    assert rc == 0 and "0x0011" in out and "0x0010" not in out and "1 problem" in err


def test_check_both_partitions_invalid(img, tmp_path, capsys):
    f = tmp_path / "d"
    f.write_bytes(b"x" * 8)
    assert nvm("add", img, "--board", BOARD, 1, f) == 0
    assert nvm("destroy", img, "--board", BOARD, 1) == 0  # partition 1 active, partition 0 obsolete
    raw = bytearray(img.read_bytes())
    raw[G.part_offset(1) + 8] ^= 0xFF  # the active header's epoch
    raw[0:4] = b"XXXX"  # the obsolete partition's magic
    img.write_bytes(bytes(raw))
    capsys.readouterr()
    rc, out, _ = run(capsys, "check", img, "--board", BOARD)
    assert rc == 1
    assert "status: corrupt" in out
    assert "problem: no valid partition: partition 0 invalid (no partition magic); partition 1 invalid" in out
    assert "verdict: UNUSABLE" in out and "--nvm-reformat" in out
    for args in (["list", img], ["dump", img], ["add", img, "5", f], ["destroy", img, "1"]):
        rc, _, err = run(capsys, *args, "--board", BOARD)
        assert rc == 1
        one_line_error(err)
        assert "the NVM store is unusable: no valid partition" in err


@pytest.mark.parametrize("size, what", [(1000, "truncated"), (128 * 1024 + 1, "oversize")])
def test_check_wrong_size(img, capsys, size, what):
    data = img.read_bytes()
    img.write_bytes((data + b"\xff")[:size])
    rc, out, _ = run(capsys, "check", img, "--board", BOARD)
    assert rc == 1
    assert f"is {size} bytes, the aurix-tc3xx HSM data flash is 131072: {what}" in out
    assert "verdict: UNUSABLE -- wrong size" in out
    rc, _, err = run(capsys, "list", img, "--board", BOARD)
    assert rc == 1
    one_line_error(err)
    assert what in err


def test_an_image_of_another_board_is_named(img, capsys):
    rc, _, err = run(capsys, "list", img, "--board", "spc58nn")
    assert rc == 1
    one_line_error(err)
    assert "oversize (or made for another board: aurix-tc3xx has 131072 bytes; give --board)" in err


def test_check_reports_wear_from_a_sidecar_file(img, tmp_path, capsys):
    sectors = G.size // G.sector_size
    counts = [3] * sectors
    counts[17] = 250
    cli_nvm.save_wear(cli_nvm.wear_path(img), counts, BOARD)
    assert cli_nvm.load_wear(cli_nvm.wear_path(img), sectors) == counts
    rc, out, _ = run(capsys, "check", img, "--board", BOARD)
    assert rc == 0
    assert "wear (erase counts from" in out
    assert "min 3, max 250 (sector 17, 0.25% of the 100000 erase endurance)" in out
    # the tool's own erases are counted in an existing sidecar: a destroy compacts into partition 1
    f = tmp_path / "d"
    f.write_bytes(b"1234")
    assert nvm("add", img, "--board", BOARD, 9, f) == 0
    assert nvm("destroy", img, "--board", BOARD, 9) == 0
    after = json.loads(cli_nvm.wear_path(img).read_text())["erase_counts"]
    assert after == counts  # partition 1 was blank: nothing to erase
    assert nvm("add", img, "--board", BOARD, 9, f) == 0
    assert nvm("destroy", img, "--board", BOARD, 9) == 0  # back into partition 0: its used sector is erased
    after = json.loads(cli_nvm.wear_path(img).read_text())["erase_counts"]
    assert after[0] == counts[0] + 1 and after[1:] == counts[1:]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    rc, _, err = run(capsys, "check", img, "--board", BOARD, "--wear", bad)
    assert rc == 2 and "2 erase counts, the flash has 32 sectors" in err


def test_check_estimates_wear_from_the_epoch(tmp_path, capsys):
    path = tmp_path / "w.img"
    assert nvm("create", "--board", BOARD, path) == 0
    f = tmp_path / "d"
    f.write_bytes(b"z")
    for _ in range(3):
        assert nvm("add", path, "--board", BOARD, 1, f) == 0
        assert nvm("destroy", path, "--board", BOARD, 1) == 0
    capsys.readouterr()
    rc, out, _ = run(capsys, "check", path, "--board", BOARD)
    assert rc == 0 and "estimate from epoch 4: 3 compaction(s)" in out


# ------------------------------------------------------------------------------------ the hsmemu entry, the HSM


def test_hsmemu_nvm_is_wired_into_the_main_cli(img, capsys):
    from emulator import cli

    assert cli.main(["nvm", "list", str(img), "--board", BOARD]) == 0
    assert "0 objects" in capsys.readouterr().out


def test_standalone_module_and_one_line_errors(tmp_path):
    path = tmp_path / "s.img"
    p = subprocess.run(
        [sys.executable, "-m", "emulator.cli_nvm", "create", "--board", "cortex-m-dual", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert p.returncode == 0 and path.stat().st_size == 64 * 1024, p.stderr
    p = subprocess.run(
        [sys.executable, "-m", "emulator.cli_nvm", "add", str(path), "--board", "cortex-m-dual", "nan", "x"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("hsmemu: error:") and "not a number" in p.stderr


def test_a_provisioned_image_boots_and_the_hsm_serves_it(img, tmp_path, capsys):
    """Objects and keys added offline are what the HSM firmware reads at boot."""
    from emulator.bridge import HostBridge
    from emulator.soc import Soc
    from emulator.trace import Trace
    from firmware.wire import Group, KeyAction, NvmAction
    from tests.reliability.test_power_loss import LocalWire

    data, key = b"provisioned calibration", bytes(range(32))
    (tmp_path / "d").write_bytes(data)
    (tmp_path / "k").write_bytes(key)
    assert nvm("add", img, "--board", BOARD, "0x14", tmp_path / "d", "--label", "cal") == 0
    assert nvm("add-key", img, "--board", BOARD, "3", tmp_path / "k", "--client", "12", "--label", "app key",
               "--flags", "usage_encrypt") == 0
    soc = Soc(BOARD, trace=Trace("events"), console=lambda s, t: None, memory_files={"hsm_dflash": img})
    try:
        assert soc.run_until_idle(limit_ns=5_000_000_000)
        w = LocalWire(HostBridge(soc, log=lambda m: None), "check")
        w.comm_init(12)
        assert w.read_object(0x14) == (0x14, 0, 0, b"cal".ljust(24, b"\0"), data)
        r = w.call(Group.KEY, KeyAction.EXPORT, id=3)
        assert (r.rc, bytes(r.key), bytes(r.label).rstrip(b"\0")) == (0, key, b"app key")
        r = w.call(Group.NVM, NvmAction.GETAVAILABLE)
        assert r.rc == 0
    finally:
        soc.close()
    # the demo's adds and destroys compacted the store meanwhile: the tool still reads it
    assert {0x14, 0x1C03} <= set(objects(img))
