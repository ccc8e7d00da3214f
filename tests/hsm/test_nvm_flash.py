"""The flash-backed NVM object store (firmware/hsm/nvm_flash.py) and its image codec (nvm_image.py).

Store tests run real parts: a Soc built from a board profile, the HSM firmware serving the mailbox,
and a firmware.client.Client on an in-process bridge client (deterministic, no threads). Each board
boots its app-core demo first (which adds and destroys its own objects 0x20.., so the store has
already been formatted and compacted a few times when a test starts). Codec tests are pure Python.
"""

from __future__ import annotations

import copy
import pickle
import zlib

import pytest

from boards.loader import load as load_board
from emulator.bridge import HostBridge
from emulator.soc import Soc
from emulator.trace import Trace
from firmware.client import Client, NotFound
from firmware.client.errors import HsmError, NoSpace
from firmware.client.transport import Transport
from firmware.hsm import nvm_flash
from firmware.hsm.nvm_backend import Metadata
from firmware.hsm.nvm_flash import FlashNvm, HalFlash
from firmware.hsm.nvm_image import (
    CORRUPT,
    LIVE,
    SUPERSEDED,
    UNCOMMITTED,
    Geometry,
    ImageFlash,
    NvmImageError,
    add_objects,
    blank_image,
    build_image,
    capacity,
    destroy_objects,
    encode_commit,
    encode_partition_header,
    geometry_for_board,
    open_store,
    parse_image,
)
from firmware.wire import WhError

FAST = "cortex-m-dual"  # 64 KiB, 2 KiB sectors, 40 us program, 20 ms erase, no ECC, double_program "and"
NOTREADY = int(WhError.NOTREADY)


class LocalLink(Transport):
    """A client transport onto an in-process bridge client: requests run the SoC until the reply."""

    name = "local"

    def __init__(self, soc: Soc, bridge: HostBridge) -> None:
        self.soc, self.bridge = soc, bridge
        self.c = bridge.attach_local("test")

    def send(self, packet: bytes) -> None:
        self.bridge.submit(self.c, packet)

    def recv(self, timeout: float | None = None) -> bytes | None:
        soc, replies = self.soc, self.c.replies  # type: ignore[attr-defined]
        end = soc.now + soc.timebase.ns(10_000_000_000)  # 10 s of virtual time
        while not replies:
            if soc.now >= end:
                return None
            soc.run_for(soc.timebase.ns(200_000))
        return replies.popleft()


class Hsm:
    """A board with the HSM firmware, its demo run to the end, and a connected client."""

    def __init__(self, board=FAST, image=None, params: dict | None = None) -> None:
        self.console: list[tuple[str, str]] = []
        self.soc = Soc(
            board,
            trace=Trace("events"),
            console=lambda s, t: self.console.append((s, t)),
            memory_files={"hsm_dflash": image} if image is not None else None,
            params={"hsm": params} if params else None,
        )
        assert self.soc.run_until_idle(limit_ns=5_000_000_000)  # the app cores' demo
        self.bridge = HostBridge(self.soc, log=lambda m: None)
        self.client = self.connect()

    def connect(self) -> Client:
        client = Client(LocalLink(self.soc, self.bridge), timeout=None)
        client.comm_init()
        return client

    @property
    def fw(self):
        return self.soc.core("hsm").firmware

    @property
    def nvm(self):
        return self.fw.server.nvm

    @property
    def flash(self):
        return self.soc.devices["hsm_flash"]

    @property
    def geom(self) -> Geometry:
        return self.nvm.geom

    def image(self) -> bytes:
        return bytes(self.soc.memory["hsm_dflash"].array)

    def poke(self, offset: int, xor: int) -> None:
        """Flip bits of one flash byte behind the store's back (no ECC model involved)."""
        mem = self.soc.memory["hsm_dflash"]
        mem.array[offset] ^= xor
        mem.version += 1

    def traces(self, kind: str, since: int = 0) -> list[tuple[int, str, str, str]]:
        return [r for r in self.soc.trace.records if r[2] == kind and r[0] >= since]

    def run_ms(self, ms: float) -> None:
        self.soc.run_ns(int(ms * 1_000_000))

    def reboot(self) -> None:
        """Power cut now; the HSM boots again from flash; let the demo finish; a new client."""
        self.soc.power_cut()
        self.run_ms(500)
        self.client = self.connect()

    def objects(self) -> dict[int, bytes]:
        return {i: self.client.nvm_read(i) for i in self.client.nvm_list()}

    def close(self) -> None:
        self.soc.close()


def rc_of(fn, *args) -> int:
    try:
        fn(*args)
    except HsmError as e:
        return int(e.rc)
    return 0


@pytest.fixture
def hsm():
    h = Hsm()
    yield h
    h.close()


# ------------------------------------------------------------------------------------ geometry


def test_driver_register_map_matches_the_flash_controller():
    from peripherals import flash as dev

    assert (nvm_flash.CMD_PROGRAM_PAGE, nvm_flash.CMD_ERASE_SECTOR, nvm_flash.CMD_CLEAR_STATUS) == (
        dev.CMD_PROGRAM_PAGE,
        dev.CMD_ERASE_SECTOR,
        dev.CMD_CLEAR_STATUS,
    )
    assert (nvm_flash.ST_BUSY, nvm_flash.ST_DONE, nvm_flash.ST_ERRORS) == (dev.ST_BUSY, dev.ST_DONE, dev.CMD_ERRORS)
    regs = {r.name: r.offset for r in dev.FlashController.REGS.regs}
    for name in ("CMD", "ADDR", "STATUS", "IRQEN", "MEM_BASE", "MEM_SIZE", "PAGE_SIZE", "SECTOR_SIZE"):
        assert getattr(nvm_flash, f"REG_{name}") == regs[name]
    assert nvm_flash.REG_DATA == regs["DATA0"]


@pytest.mark.parametrize(
    "board, size, part, avail",
    [
        ("aurix-tc3xx", 128 * 1024, 64 * 1024, 63808),
        ("spc58nn", 32 * 1024, 16 * 1024, 14656),
        (FAST, 65536, 32768, 31040),
    ],
)
def test_geometry_and_fresh_accounting_per_board(board, size, part, avail):
    g = geometry_for_board(board)
    assert (g.size, g.part_size, g.unit, g.log_offset) == (size, part, 8, 0x30)
    assert capacity(g, 30) == (30, avail // 8)
    assert parse_image(blank_image(g), g).available() == (avail, 0, 30, 0)


def test_boards_use_the_flash_store_and_it_can_be_switched_off():
    h = Hsm()
    assert isinstance(h.nvm, FlashNvm) and h.nvm.ready
    assert h.client.nvm_get_available() == (31040, 0, 30, 0)  # the demo's objects are gone again
    h.close()
    r = Hsm(params={"nvm": "ram"})
    assert type(r.nvm).__name__ == "RamNvm"
    assert r.client.nvm_get_available().avail_size == 522584
    r.close()


# ------------------------------------------------------------------------------------ persistence


def test_add_overwrite_read_destroy_list_survive_reboots(tmp_path):
    image = tmp_path / "dflash.bin"
    h = Hsm("spc58nn", image)  # busy_read = "fail": the store never reads a sector while it works on it
    c = h.client
    c.nvm_add_object(0x10, b"first version", label="a", access=0x00FF, flags=0x0002)
    c.nvm_add_object(0x11, bytes(range(200)), label="b")
    c.nvm_add_object(0x12, b"", label="empty")
    c.nvm_add_object(0x10, b"second version", label="a2")  # overwrite: moves to the end
    c.nvm_add_object(0x13, b"\xff" * 24)  # all-erased data pages (not programmed) still read back
    c.nvm_destroy([0x11])
    want = {0x12: b"", 0x10: b"second version", 0x13: b"\xff" * 24}
    assert c.nvm_list() == [0x12, 0x10, 0x13]
    assert h.objects() == want
    meta = c.nvm_get_metadata(0x10)
    assert (meta.access, meta.flags, meta.len, meta.label_text) == (0, 0, 14, "a2")  # all from the new version
    assert c.nvm_get_metadata(0x12).label_text == "empty"
    avail = c.nvm_get_available()
    where = f"partition {h.nvm.active} epoch {h.nvm.epoch}: 3 objects"

    h.reboot()  # power cut from a quiet state: RAM lost, flash kept (then the demo runs again)
    assert h.traces("nvm-mount")[-1][3].startswith(where)
    assert h.nvm.ready and h.client.nvm_list() == [0x12, 0x10, 0x13] and h.objects() == want
    assert h.client.nvm_get_available() == avail
    h.close()

    h2 = Hsm("spc58nn", image)  # a new SoC (a new `hsmemu run`) on the same image file
    assert h2.client.nvm_list() == [0x12, 0x10, 0x13] and h2.objects() == want
    assert h2.client.nvm_get_metadata(0x10).label_text == "a2"
    h2.client.nvm_add_object(0x14, b"after the second boot")
    h2.close()
    rep = parse_image(image.read_bytes(), geometry_for_board("spc58nn"))
    assert rep.status == "ok" and [r.meta.id for r in rep.objects()] == [0x12, 0x10, 0x13, 0x14]


def test_accounting_is_wolfhsm_style(hsm):
    c = hsm.client
    a0 = c.nvm_get_available()
    c.nvm_add_object(0x10, b"x" * 17)  # 3 units of 8 bytes
    assert c.nvm_get_available() == (a0[0] - 24, 0, a0[2] - 1, 0)
    c.nvm_add_object(0x10, b"y" * 8)  # the old version stays allocated, reclaimable
    assert c.nvm_get_available() == (a0[0] - 32, 24, a0[2] - 2, 1)
    c.nvm_destroy([])  # v1.4.0: every destroy compacts, also an empty list
    assert c.nvm_get_available() == (a0[0] - 8, 0, a0[2] - 1, 0)
    assert hsm.nvm.available() == parse_image(hsm.image(), hsm.geom).available()


def test_plain_add_runs_out_of_slots_and_compaction_gives_them_back(hsm):
    c = hsm.client
    for i in range(30):
        c.nvm_add_object(0x10, bytes([i]) * 5)  # one id, 30 versions: every slot used
    assert c.nvm_get_available()[2:] == (0, 29)
    before = hsm.image()
    with pytest.raises(NoSpace):
        c.nvm_add_object(0x11, b"no slot")  # plain add never compacts (v1.4.0)
    assert hsm.image() == before  # nothing was programmed
    c.nvm_destroy([])
    assert c.nvm_get_available()[2:] == (29, 0)
    c.nvm_add_object(0x11, b"fits now")
    assert hsm.objects() == {0x10: bytes([29]) * 5, 0x11: b"fits now"}


def test_internal_writers_compact_when_the_partition_fills(hsm):
    c = hsm.client
    epoch = hsm.nvm.epoch
    c.counter_init(5, 0)
    for i in range(1, 70):  # each increment is an add with reclaim: compacts when the slots run out
        assert c.counter_increment(5) == i
    compactions = hsm.traces("nvm-compact")
    assert hsm.nvm.epoch >= epoch + 2 and len(compactions) >= 2
    hsm.reboot()
    assert hsm.client.counter_read(5) == 69


def test_object_larger_than_the_free_space_is_nospace_and_changes_nothing(hsm):
    c = hsm.client
    big = bytes(range(256)) * 16  # 4096 bytes
    n = 0
    while True:
        before, avail = hsm.image(), c.nvm_get_available()
        try:
            c.nvm_add_object(0x40 + n, big)
        except NoSpace:
            break
        n += 1
    assert n == 31040 // 4096 == 7
    assert hsm.image() == before and c.nvm_get_available() == avail
    assert len(c.nvm_list()) == 7 and c.nvm_read(0x46) == big


def test_virtual_time_of_an_add_covers_its_page_programs(hsm):
    c = hsm.client
    c.nvm_add_object(0x10, b"warm-up")  # the store is formatted already; this one just appends
    data = bytes(range(1, 101))  # 100 bytes: 6 header + 13 data + 1 marker pages
    t0, since = hsm.soc.now, hsm.soc.now
    c.nvm_add_object(0x11, data)
    elapsed_ns = (hsm.soc.now - t0) * 10**9 // hsm.soc.timebase.hz
    programs = hsm.traces("flash-program", since)
    assert len(programs) == 20
    assert elapsed_ns >= 20 * 40_000  # program_ns of the board
    assert elapsed_ns < 20 * 40_000 + 1_000_000  # ... plus request handling, not much more


def test_snapshot_restore_with_the_flash_store(hsm):
    c = hsm.client
    c.nvm_add_object(0x10, b"kept")
    snap = hsm.soc.snapshot()  # deep-copies the firmware: the store's index, sharing the HAL driver
    c.nvm_add_object(0x11, b"undone")
    c.nvm_destroy([0x10])
    assert c.nvm_list() == [0x11]
    hsm.soc.restore(snap)
    assert hsm.nvm.flash.hal is hsm.soc.core("hsm").hal
    assert c.nvm_list() == [0x10] and c.nvm_read(0x10) == b"kept"
    c.nvm_add_object(0x12, b"after restore")
    assert hsm.objects() == {0x10: b"kept", 0x12: b"after restore"}


def test_the_driver_is_shared_by_deep_copies_and_dropped_by_pickle(hsm):
    store = hsm.nvm
    twin = copy.deepcopy(store)
    assert twin.flash is store.flash and twin.records is not store.records
    state = pickle.loads(pickle.dumps(store.flash))
    assert state.hal is None and state.geometry == store.geom


def test_a_refused_flash_command_aborts_and_leaves_the_store_consistent():
    board = load_board(FAST)
    board.peripheral("hsm_flash").config["endurance"] = 1  # every sector can be erased once
    h = Hsm(board)  # the demo's compactions erased partition 0's first sector once already
    c = h.client
    c.nvm_add_object(0x10, b"survives")
    c.nvm_destroy([])  # into partition 1: its first sector's one erase
    since = h.soc.now
    assert rc_of(c.nvm_destroy, []) == int(WhError.ABORTED)  # partition 0's sector is worn out
    err = h.traces("nvm-flash-error", since)
    assert err and "endurance" in err[0][3] and "partition 1 stays current" in err[0][3]
    assert h.objects() == {0x10: b"survives"}
    c.nvm_add_object(0x11, b"appends still work")
    h.reboot()  # (the demo's destroys now fail the same way: its objects 0x20.. stay)
    mine = {i: d for i, d in h.objects().items() if i < 0x20}
    assert mine == {0x10: b"survives", 0x11: b"appends still work"}
    h.close()


# ------------------------------------------------------------------------------------ power loss


def _cut_during(board: str, tmp_path, prepare, request, offsets_from_programs, tag: str):
    """Golden run of `request` after `prepare` on a fresh image, then one run per cut offset.

    Returns a list of (offset_ns, Hsm after the cut and reboot) for the caller to check. Cut offsets
    are relative to the request's submission: each flash operation's start + fraction of its time.
    """
    base = tmp_path / f"{tag}-base.bin"
    h = Hsm(board, base)
    prepare(h.client)
    h.close()
    seed = base.read_bytes()

    golden = tmp_path / f"{tag}-golden.bin"
    golden.write_bytes(seed)
    g = Hsm(board, golden)
    t0 = g.soc.now
    request(g.client, send=True)
    request(g.client, send=False)
    hz = g.soc.timebase.hz
    ops = [
        ((r[0] - t0) * 10**9 // hz, r[2])
        for r in g.soc.trace.records
        if r[0] >= t0 and r[2] in ("flash-program", "flash-erase")
    ]
    g.close()
    results = []
    for k, offset in enumerate(offsets_from_programs(ops)):
        path = tmp_path / f"{tag}-{k}.bin"
        path.write_bytes(seed)
        x = Hsm(board, path)
        assert x.soc.now == t0  # deterministic: the request starts at the same instant
        request(x.client, send=True)
        x.soc.power_cut(at_ns=offset, seed=k)
        x.run_ms(offset / 1e6 + 0.1)
        assert x.soc.power_cuts == 1
        x.run_ms(500)  # the HSM boots again from the torn flash; the demo runs again
        x.client = x.connect()
        results.append((offset, x))
    return ops, results


def _add(data: bytes):
    def request(c: Client, send: bool) -> None:
        if send:
            c.send_nvm_add_object(0x10, data, label="new")
        else:
            c.recv_nvm_add_object()

    return request


def test_power_cut_during_an_add_leaves_the_old_or_the_new_object(tmp_path):
    old, new = b"old value " * 3, bytes(range(40, 80))

    def prepare(c: Client) -> None:
        c.nvm_add_object(0x10, old, label="old")
        c.nvm_add_object(0x11, b"bystander")

    def offsets(ops):
        progs = [t for t, kind in ops if kind == "flash-program"]
        assert len(progs) == 12  # 6 header + 5 data + 1 marker pages
        # inside every page program, and just after the last one completed (before the reply)
        return [t + 20_000 for t in progs] + [progs[-1] + 40_000 + 1]

    ops, results = _cut_during(FAST, tmp_path, prepare, _add(new), offsets, "add")
    seen = set()
    for offset, x in results:
        assert x.nvm.ready, (offset, x.nvm.problem)
        got = x.objects()
        assert got[0x11] == b"bystander", offset
        assert got[0x10] in (old, new), offset
        meta = x.client.nvm_get_metadata(0x10)
        assert meta.label_text == ("new" if got[0x10] == new else "old")  # never a mix of versions
        assert x.client.nvm_list() == ([0x11, 0x10] if got[0x10] == new else [0x10, 0x11])
        assert x.nvm.available() == parse_image(x.image(), x.geom).available()
        seen.add(got[0x10])
        x.client.nvm_add_object(0x12, b"the store works on")  # appends after any torn record
        assert x.client.nvm_read(0x12) == b"the store works on"
        x.close()
    assert seen == {old, new}
    assert len(results) == 13


def test_power_cut_during_a_compaction_keeps_all_or_applies_all(tmp_path):
    objs = {0x10: b"A" * 30, 0x11: b"B" * 50, 0x12: b"C" * 20}

    def prepare(c: Client) -> None:
        for i, d in objs.items():
            c.nvm_add_object(i, d)

    def destroy(c: Client, send: bool) -> None:
        if send:
            c.send_nvm_destroy([0x11])
        else:
            c.recv_nvm_destroy()

    def offsets(ops):
        erases = [t for t, kind in ops if kind == "flash-erase"]
        progs = [t for t, kind in ops if kind == "flash-program"]
        assert erases, "the demo left the other partition dirty: the compaction erases first"
        cuts = [t + 10_000_000 for t in erases]  # half-way through an erase
        cuts += [progs[i] + 20_000 for i in (0, 3, 8, -2, -1)]  # header, copies, commit, obsolete mark
        cuts += [progs[-2] + 40_000 + 1]  # commit done, obsolete mark not started
        return cuts

    ops, results = _cut_during(FAST, tmp_path, prepare, destroy, offsets, "compact")
    outcomes = []
    for offset, x in results:
        assert x.nvm.ready, (offset, x.nvm.problem)
        got = x.objects()
        if 0x11 in got:
            assert got == objs, offset
        else:
            assert got == {0x10: objs[0x10], 0x12: objs[0x12]}, offset
        outcomes.append(0x11 in got)
        x.client.nvm_add_object(0x13, b"still fine")
        x.close()
    assert outcomes[0] is True and outcomes[-1] is False  # cut in the erase: kept; after the commit: applied


# ------------------------------------------------------------------------------------ corruption


def _record(h: Hsm, nvm_id: int):
    rep = parse_image(h.image(), h.geom)
    part = rep.partitions[rep.active]
    return part.offset, next(r for r in rep.records if r.meta is not None and r.meta.id == nvm_id and r.live)


def test_crc_corruption_of_one_object_drops_it_and_keeps_the_rest(hsm):
    c = hsm.client
    c.nvm_add_object(0x10, b"version one")
    c.nvm_add_object(0x11, b"healthy")
    c.nvm_add_object(0x10, b"version two")  # the older version is still in the log
    base, rec = _record(hsm, 0x10)
    hsm.poke(base + rec.data_offset + 3, 0x20)  # one bit of the data of the newest 0x10
    since = hsm.soc.now
    hsm.reboot()
    found = hsm.traces("nvm-corrupt", since)
    assert found and "object 0x0010" in found[0][3] and "data CRC mismatch" in found[0][3]
    assert hsm.nvm.ready
    assert hsm.objects() == {0x11: b"healthy"}  # 0x10 dropped; "version one" is NOT resurrected
    with pytest.raises(NotFound):
        hsm.client.nvm_read(0x10)
    hsm.client.nvm_add_object(0x10, b"version three")
    hsm.client.nvm_destroy([])  # the compaction leaves the damaged record behind
    assert hsm.objects() == {0x11: b"healthy", 0x10: b"version three"}
    assert parse_image(hsm.image(), hsm.geom).problems == []


def test_corruption_found_by_a_read_is_reported_at_once(hsm):
    c = hsm.client
    c.nvm_add_object(0x10, b"x" * 64)
    base, rec = _record(hsm, 0x10)
    hsm.poke(base + rec.data_offset + 40, 0x01)
    since = hsm.soc.now
    with pytest.raises(NotFound):
        c.nvm_read(0x10)
    assert hsm.traces("nvm-corrupt", since)
    assert 0x10 not in c.nvm_list() and c.nvm_get_available()[3] == 1  # its slot is reclaimable


def test_ecc_single_bit_is_corrected_double_bit_drops_the_object():
    h = Hsm("aurix-tc3xx")  # ECC = secded: the controller corrects 1 flipped bit per 8-byte word
    c = h.client
    c.nvm_add_object(0x10, b"0123456789abcdef" * 2)
    c.nvm_add_object(0x11, b"neighbour")
    base, rec = _record(h, 0x10)
    addr = h.geom.base + base + rec.data_offset
    h.flash.inject_bitflip(addr + 8, 3)
    assert c.nvm_read(0x10) == b"0123456789abcdef" * 2
    h.flash.inject_bitflip(addr + 9, 5)  # a second flip in the same word: uncorrectable
    since = h.soc.now
    h.reboot()  # flip records are device state: they survive the power cut
    assert any("unreadable data (ECC)" in r[3] for r in h.traces("nvm-corrupt", since))
    assert h.objects() == {0x11: b"neighbour"}
    h.close()


def _damage_active_header(h: Hsm) -> None:
    rep = parse_image(h.image(), h.geom)
    assert rep.partitions[1 - rep.active].state in ("obsolete", "blank")
    h.poke(rep.partitions[rep.active].offset + 9, 0x40)  # a bit of the epoch: header CRC mismatch


def test_corrupt_image_is_not_formatted_without_nvm_reformat(tmp_path):
    image = tmp_path / "dflash.bin"
    h = Hsm(FAST, image)
    h.client.nvm_add_object(0x10, b"precious")
    _damage_active_header(h)
    h.close()
    damaged = image.read_bytes()

    b = Hsm(FAST, image)  # the demo's NVM requests fail too; the HSM keeps serving
    assert not b.nvm.ready and "no valid partition" in b.nvm.problem
    unusable = b.traces("nvm-unusable")
    assert unusable and "partition header CRC mismatch" in unusable[0][3]
    assert any(s == "hsm" and "NVM store unusable" in t and "--nvm-reformat" in t for s, t in b.console)
    c = b.client
    assert rc_of(c.nvm_add_object, 0x11, b"new") == NOTREADY
    assert rc_of(c.nvm_destroy, []) == NOTREADY
    assert rc_of(c.nvm_read, 0x10) == int(WhError.NOTFOUND)
    assert c.nvm_list() == [] and c.nvm_get_available() == (0, 0, 0, 0)
    assert c.echo(b"still serving") == b"still serving"
    b.close()
    assert image.read_bytes() == damaged  # nothing was written

    r = Hsm(FAST, image, params={"nvm_reformat": True})
    assert r.nvm.ready and r.traces("nvm-reformat")
    assert r.client.nvm_list() == []
    r.client.nvm_add_object(0x11, b"fresh start")
    r.close()
    again = Hsm(FAST, image)  # the reformatted store is an ordinary store now
    assert again.objects() == {0x11: b"fresh start"}
    again.close()


def test_nvm_reformat_leaves_a_healthy_store_alone(tmp_path):
    image = tmp_path / "dflash.bin"
    h = Hsm(FAST, image)
    h.client.nvm_add_object(0x10, b"keep me")
    h.close()
    r = Hsm(FAST, image, params={"nvm_reformat": True})
    assert r.objects() == {0x10: b"keep me"} and not r.traces("nvm-reformat")
    r.close()


# ------------------------------------------------------------------------------------ the image codec


G = geometry_for_board(FAST)


def meta(i: int, label: str = "", flags: int = 0) -> Metadata:
    return Metadata(id=i, flags=flags, label=label.encode())


def test_offline_build_add_destroy_and_parse():
    img = build_image(G, [(meta(1, "one"), b"first"), (meta(2, "two"), b"second" * 10)])
    rep = parse_image(img, G)
    assert rep.status == "ok" and rep.active == 0 and rep.partitions[0].epoch == 1
    assert [(r.meta.id, rep.data(img, r)) for r in rep.objects()] == [(1, b"first"), (2, b"second" * 10)]
    img2 = add_objects(img, G, [(meta(1, "uno"), b"replaced"), (meta(3), b"")])
    rep2 = parse_image(img2, G)
    assert [r.meta.id for r in rep2.objects()] == [2, 1, 3]
    assert [r.state for r in rep2.records] == [SUPERSEDED, LIVE, LIVE, LIVE]
    assert rep2.available() == (31040 - (1 + 8 + 1) * 8, 8, 26, 1)
    img3 = destroy_objects(img2, G, [2, 99])
    rep3 = parse_image(img3, G)
    assert rep3.active == 1 and rep3.partitions[0].state == "obsolete" and rep3.partitions[1].epoch == 2
    assert [(r.meta.id, rep3.data(img3, r)) for r in rep3.objects()] == [(1, b"replaced"), (3, b"")]
    text = rep3.describe()
    assert "active partition 1" in text and "0x0001 len 8" in text and "obsolete" in text


def test_offline_add_that_does_not_fit_raises():
    with pytest.raises(NvmImageError, match="NOSPACE"):
        build_image(G, [(meta(i), bytes(6000)) for i in range(1, 7)])
    with pytest.raises(NvmImageError, match="unusable"):
        add_objects(b"\x00" * G.size, G, [(meta(1), b"x")])


def test_firmware_reads_an_image_built_offline(tmp_path):
    keys = [(meta(0x100 + i, f"key{i}", flags=0x0004 if i == 2 else 0), bytes([i]) * (16 + i)) for i in range(4)]
    path = tmp_path / "provisioned.bin"
    path.write_bytes(build_image(G, keys))
    h = Hsm(FAST, path)
    assert h.client.nvm_list() == [0x100, 0x101, 0x102, 0x103]
    assert h.client.nvm_read(0x101) == bytes([1]) * 17
    assert h.client.nvm_get_metadata(0x102).label_text == "key2"
    assert rc_of(h.client.nvm_read, 0x102) == int(WhError.ACCESS)  # NONEXPORTABLE, as provisioned
    h.client.nvm_add_object(0x200, b"added by the firmware")
    h.close()
    rep = parse_image(path.read_bytes(), G)  # and the tool reads what the firmware wrote
    assert [r.meta.id for r in rep.objects()][-1] == 0x200


def test_torn_and_corrupt_images_are_classified():
    blank = blank_image(G)
    assert parse_image(blank, G).status == "empty"
    assert parse_image(blank[:-1], G).status == "corrupt"  # truncated
    # an interrupted first format (a NOR subset of the epoch-1 header) mounts empty: nothing was acknowledged
    head = bytearray(encode_partition_header(G, 0, 1) + encode_commit(G, 0, 1))
    head[20:] = b"\xff" * (len(head) - 20)
    head[5] &= 0xF0
    rep = parse_image(bytes(head) + blank[len(head) :], G)
    assert rep.status == "empty" and "interrupted first format" in rep.notes[0]
    # a formatted store whose only partition lost its header is corrupt (it held data)
    img = bytearray(build_image(G, [(meta(1), b"data")]))
    img[0] ^= 0x01
    assert parse_image(bytes(img), G).status == "corrupt"
    # an uncommitted record (marker missing) is discarded; an older version stays visible
    img = bytearray(build_image(G, [(meta(1), b"v1")]))
    store = open_store(bytes(img), G)
    mark = store.free + G.header_units * G.unit + G.unit
    store.add(meta(1), b"v2")
    torn = bytearray(store.flash.image)
    torn[mark : mark + 8] = b"\xff" * 8
    rep = parse_image(bytes(torn), G)
    assert [r.state for r in rep.records] == [LIVE, UNCOMMITTED] and rep.data(bytes(torn), rep.objects()[0]) == b"v1"
    assert rep.notes and not rep.problems
    # a damaged marker (a bit programmed that the marker never programs) marks the record corrupt:
    # it was committed, so the id is dropped rather than rolled back to v1
    damaged = bytearray(store.flash.image)
    assert damaged[mark] == ord("W")
    damaged[mark] = ord("W") & 0xFE
    rep = parse_image(bytes(damaged), G)
    assert [r.state for r in rep.records] == [SUPERSEDED, CORRUPT] and rep.objects() == [] and rep.problems


def test_other_partition_committed_newer_means_corrupt():
    img = bytearray(destroy_objects(build_image(G, [(meta(1), b"a"), (meta(2), b"b")]), G, [2]))
    # as if the cut came between the commit of partition 1 and the obsolete mark of partition 0
    img[G.obsolete_offset : G.obsolete_offset + 8] = b"\xff" * 8
    rep = parse_image(bytes(img), G)
    assert [p.state for p in rep.partitions] == ["active", "active"] and rep.active == 1  # the newer epoch
    # now damage partition 1's header but not its commit unit: the older partition must not be used
    img[G.part_offset(1) + 2] ^= 0x01
    rep = parse_image(bytes(img), G)
    assert rep.status == "corrupt" and "newest data is damaged" in rep.problems[0]


def test_image_flash_enforces_nor_rules():
    f = ImageFlash(None, G)
    f.program(0, b"\x00" * 8)
    with pytest.raises(Exception, match="not erased"):
        f.program(0, b"\x01" * 8)
    f.erase(0)
    f.program(0, b"\x01" * 8)
    assert f.read(0, 8) == (b"\x01" * 8, frozenset())


def test_crc_is_zlib_crc32_over_the_data():
    img = build_image(G, [(meta(7), b"payload")])
    rep = parse_image(img, G)
    assert rep.objects()[0].data_crc == zlib.crc32(b"payload")


def test_hal_flash_is_the_driver_of_the_firmware(hsm):
    assert isinstance(hsm.nvm.flash, HalFlash)
    assert hsm.nvm.flash.geometry == Geometry(65536, 8, 2048, 0xFF, base=0x1000_0000)
