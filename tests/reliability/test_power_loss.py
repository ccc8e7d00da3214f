"""Power-loss sweep of the flash-backed NVM object store (issue 4): cut the power anywhere, lose nothing.

Workload
    ``MUTATIONS`` (>= 200) seeded, deterministic operations through the HSM server, sent by an
    in-process bridge client (``HostBridge.attach_local``: no socket, no thread, so every run is
    bit-for-bit the same), each packet built with the wire codec: NVM ADDOBJECT of new ids and
    overwrites (1..600 bytes), DESTROYOBJECTS of 1..3 ids (every destroy compacts) and of none (a
    pure compaction), adds that find the 30 directory slots full (NOSPACE, store unchanged) and the
    compaction they force, adds and destroys refused by policy (ACCESS, a NONMODIFIABLE object) or
    for an absent id (NOTFOUND), KEY CACHE + COMMIT of local and global keys (an add with reclaim:
    it compacts by itself when the slots are full) and KEY ERASE; read-only checks (GETAVAILABLE,
    READ) in between. :class:`Model` predicts every reply code, the content of the store (ids in
    directory order, metadata, exact bytes) and its accounting after each acknowledged operation.

Golden run
    From a snapshot taken before the workload (the board's app-core demo finished, the client
    connected), every step once. The trace gives every flash command's start (``flash-program`` /
    ``flash-erase`` of ``hsm_flash``), the controller its duration, the bridge's ``reply`` record
    the instant each operation was acknowledged. Snapshots every ``CHECKPOINT`` steps (the HSM idle
    between requests) keep a cut cheap.

One cut
    Restore the checkpoint before the operation, replay the requests in between (every reply must
    equal the golden one byte for byte), submit the operation, schedule ``soc.power_cut(at_ns=...,
    seed=...)`` and step the SoC exactly as ``HostBridge.request`` does until the cut has happened
    (so the run up to the cut is the golden one: the torn flash command must be the golden one).
    Then:

    * offline: :func:`parse_image` of the flash as the cut left it mounts (status ok or empty) with
      no corruption reported, and holds exactly the state before the operation in flight or the
      state after it -- before it if the cut came before the operation's commit point (the record's
      marker program for an add, the commit-unit program for a compaction) started, after it if the
      commit point had completed (in between, either);
    * the HSM boots again from that flash; a fresh client (same client id, so it sees the local
      keys) asks: GETAVAILABLE answers rc 0 with exactly ``parse_image(...).available()``, and the
      ``nvm-mount`` trace record says the same; LIST gives the same ids in the same order; every
      object's metadata (GETMETADATA) and bytes (READ) are those of that state; every workload key
      exports (KEY EXPORT, read back from NVM) with its bytes and label, or is NOTFOUND; a new
      object can be added and read back (the store works on after the torn write).

Cut points
    Every flash operation's start and its last tick (end - 1), plus seeded random instants inside
    operations (one per four flash operations). ``power_cut`` takes nanoseconds: a cut lands on the
    1 ns grid at or just before the wanted tick (up to 2 ticks earlier on a 3 GHz time base), and
    the checks use the instant it really happened (the ``power-cut`` trace record). The default run
    checks a seeded sample of ``SAMPLE`` cut points, stratified over the kinds of cut; ``-m slow``
    checks every one. The number of cut points checked is printed (stderr) and shown in the pytest
    terminal report, with or without ``-s``.
"""

from __future__ import annotations

import copy
import random
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.bridge import HostBridge
from emulator.soc import Soc
from emulator.trace import Trace
from firmware.hsm.nvm_image import Geometry, capacity, geometry_for_board, parse_image
from firmware.wire import (
    ByteOrder,
    CommAction,
    Group,
    Header,
    KeyAction,
    KeyIdType,
    NvmAction,
    NvmFlags,
    WhError,
    decode_packet,
    encode_packet,
    get_wire,
)
from firmware.wire.constants import NVM_ACCESS_ANY, NVM_LABEL_LEN, make_keyid

BOARD = "aurix-tc3xx"  # 128 KiB, 2 x 16 sectors of 4 KiB, 50 us program, 50 ms erase, ECC, strict NOR
CLIENT_ID = 12  # not one of the app cores' (1..6), so its local keys are the workload's own
SEED = 20240604
MUTATIONS = 210  # operations that may change the store (read-only checks come on top)
CHECKPOINT = 8  # a snapshot every CHECKPOINT steps
SAMPLE = 40  # cut points of the default run
STEP_NS = 20_000  # HostBridge.request steps the SoC by 20 us; a cut run must step the same way
OBJ_IDS = list(range(0x40, 0x4C))  # plain objects of the workload
LOCKED_ID = 0x4F  # a NONMODIFIABLE object
PROBE_ID = 0x7E  # added after each reboot
DEMO_IDS = range(0x20, 0x30)  # the app-core demo adds and destroys 0x20 + core (it runs again after a cut)
KEYS = [(1, False), (2, False), (3, False), (7, True), (8, True)]  # (key id, global)
MAX_LIVE = 8  # plain objects kept live at most (compactions stay short)
USER = CLIENT_ID & 0x0F
WIRE = get_wire()
ORDER = ByteOrder.LITTLE
OK, NOSPACE, NOTFOUND, ACCESS = int(WhError.OK), int(WhError.NOSPACE), int(WhError.NOTFOUND), int(WhError.ACCESS)

Obj = tuple[int, int, int, bytes, bytes]  # (id, access, flags, label[24], data)
State = tuple[Obj, ...]  # live objects in directory order


def key_server_id(key: int, glob: bool) -> int:
    return make_keyid(KeyIdType.CRYPTO, 0 if glob else USER, key)


def key_client_id(key: int, glob: bool) -> int:
    return key | (0x0100 if glob else 0)


def label24(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else bytes(text)
    return raw[:NVM_LABEL_LEN].ljust(NVM_LABEL_LEN, b"\0")


# ------------------------------------------------------------------------------------------ model


class Model:
    """What the store must hold: live objects in directory order, and wolfHSM-style accounting.

    ``slots``/``units``: directory slots and data units taken since the last compaction (every
    record: live, superseded); a compaction keeps the live ones only (nvm_image module docstring).
    """

    def __init__(self, geom: Geometry, object_count: int) -> None:
        self.geom = geom
        self.max_slots, self.max_units = capacity(geom, object_count)
        self.objs: OrderedDict[int, Obj] = OrderedDict()
        self.slots = 0
        self.units = 0

    def state(self) -> State:
        return tuple(self.objs.values())

    def _live_use(self, drop: set[int] = frozenset()) -> tuple[int, int]:  # type: ignore[assignment]
        live = [o for i, o in self.objs.items() if i not in drop]
        return len(live), sum(self.geom.data_units(len(o[4])) for o in live)

    def fits(self, n: int, after_compaction: bool = False) -> bool:
        slots, units = self._live_use() if after_compaction else (self.slots, self.units)
        return slots + 1 <= self.max_slots and units + self.geom.data_units(n) <= self.max_units

    def add(self, obj: Obj, reclaim: bool = False, checked: bool = True) -> int:
        old = self.objs.get(obj[0])
        if checked and old is not None and old[2] & NvmFlags.NONMODIFIABLE:
            return ACCESS
        if not self.fits(len(obj[4])):
            if not (reclaim and self.fits(len(obj[4]), after_compaction=True)):
                return NOSPACE
            self._compact(set())
        self.objs.pop(obj[0], None)
        self.objs[obj[0]] = obj
        self.slots += 1
        self.units += self.geom.data_units(len(obj[4]))
        return OK

    def destroy(self, ids: list[int], checked: bool = True) -> int:
        for i in ids:
            o = self.objs.get(i)
            if o is None:
                return NOTFOUND
            if checked and o[2] & (NvmFlags.NONMODIFIABLE | NvmFlags.NONDESTROYABLE):
                return ACCESS
        self._compact(set(ids))
        return OK

    def _compact(self, drop: set[int]) -> None:
        for i in drop:
            self.objs.pop(i, None)
        self.slots, self.units = self._live_use()

    def available(self) -> tuple[int, int, int, int]:
        live_slots, live_units = self._live_use()
        U = self.geom.unit
        return (
            (self.max_units - self.units) * U,
            (self.units - live_units) * U,
            self.max_slots - self.slots,
            self.slots - live_slots,
        )


# ------------------------------------------------------------------------------------------ wire


def pack(group: int, action: int, seq: int, **fields: Any) -> bytes:
    spec = WIRE.message(group, action)
    return encode_packet(Header(kind=spec.kind, seq=seq, order=ORDER), spec.request.pack(ORDER, **fields))


def unpack(reply: bytes) -> Any:
    header, payload = decode_packet(reply)
    spec = WIRE.lookup(header.kind)
    assert spec is not None, f"reply of unknown kind 0x{header.kind:04x}"
    return spec.response.unpack_lenient(header.order, payload)


class LocalWire:
    """Raw wolfHSM requests through an in-process bridge client (deterministic, no socket)."""

    def __init__(self, bridge: HostBridge, name: str) -> None:
        self.bridge = bridge
        self.c = bridge.attach_local(name)
        self.seq = 0

    def packet(self, group: int, action: int, **fields: Any) -> bytes:
        self.seq = self.seq % 0xFFFF + 1
        return pack(group, action, self.seq, **fields)

    def exchange(self, packet: bytes) -> bytes:
        return self.bridge.request(self.c, packet, limit_ns=20_000_000_000)

    def call(self, group: int, action: int, **fields: Any) -> Any:
        return unpack(self.exchange(self.packet(group, action, **fields)))

    # the requests of the checks
    def comm_init(self, client_id: int = CLIENT_ID) -> None:
        r = self.call(Group.COMM, CommAction.INIT, client_id=client_id)
        assert r.client_id == client_id, r

    def available(self) -> tuple[int, tuple[int, int, int, int]]:
        r = self.call(Group.NVM, NvmAction.GETAVAILABLE)
        return r.rc, (r.avail_size, r.reclaim_size, r.avail_objects, r.reclaim_objects)

    def list_ids(self) -> list[int]:
        ids: list[int] = []
        r = self.call(Group.NVM, NvmAction.LIST, startId=0)
        while r.rc == OK and r.count and r.id and len(ids) < 100:
            ids.append(r.id)
            r = self.call(Group.NVM, NvmAction.LIST, startId=r.id)
        return ids

    def read_object(self, nvm_id: int) -> Obj | int:
        m = self.call(Group.NVM, NvmAction.GETMETADATA, id=nvm_id)
        if m.rc != OK:
            return m.rc
        data = b""
        if m.len:
            r = self.call(Group.NVM, NvmAction.READ, id=nvm_id, offset=0, data_len=m.len)
            if r.rc != OK:
                return r.rc
            data = bytes(r.data)
        return (m.id, m.access, m.flags, bytes(m.label), data)


# ------------------------------------------------------------------------------------------ the workload


@dataclass
class Step:
    """One operation of the workload: its requests (the last one does the work) and what it must do."""

    name: str
    packets: list[bytes]
    expect: list[int]  # rc of each request (None: not checked)
    mutating: bool
    before: State = ()
    after: State = ()
    replies: list[bytes] = field(default_factory=list)  # golden replies
    t_submit: int = 0  # virtual time the last request was submitted
    t_ack: int = 0  # virtual time of its reply (the acknowledgement)
    flash_ops: list[int] = field(default_factory=list)  # indexes into Golden.flash_ops
    commit_op: int | None = None  # the flash operation whose completion makes the change durable


@dataclass(frozen=True)
class FlashOp:
    start: int
    end: int
    kind: str  # program | erase
    addr: int


class Workload:
    """Seeded generator of steps; the model decides what each request must answer."""

    def __init__(self, wire: LocalWire, model: Model, rng: random.Random) -> None:
        self.w, self.m, self.rng = wire, model, rng
        self.locked = False
        self.fill = False  # in a fill phase
        self.full = False  # the last add answered NOSPACE
        self.count = 0
        self.version = 0

    def _data(self) -> bytes:
        r = self.rng.random()
        lo, hi = (1, 40) if r < 0.7 else (41, 160) if r < 0.95 else (161, 600)
        n = self.rng.randint(lo, hi)
        return self.rng.randbytes(n)

    def _label(self, nvm_id: int) -> bytes:
        self.version += 1
        return label24(f"obj {nvm_id:#x} v{self.version}")

    def add(self, nvm_id: int, flags: int = 0, data: bytes | None = None) -> Step:
        data = self._data() if data is None else data
        obj = (nvm_id, self.rng.choice([0, NVM_ACCESS_ANY, 0x0011]), flags, self._label(nvm_id), data)
        pkt = self.w.packet(Group.NVM, NvmAction.ADDOBJECT, id=obj[0], access=obj[1], flags=obj[2], label=obj[3],
                            data=data)
        rc = self.m.add(obj)
        return Step(f"add 0x{nvm_id:04x} {len(data)} B", [pkt], [rc], True)

    def destroy(self, ids: list[int]) -> Step:
        pkt = self.w.packet(Group.NVM, NvmAction.DESTROYOBJECTS, list_count=len(ids), list=ids)
        rc = self.m.destroy(ids)
        return Step("destroy [" + " ".join(f"0x{i:04x}" for i in ids) + "]", [pkt], [rc], True)

    def key_commit(self, key: int, glob: bool) -> Step:
        data = self.rng.randbytes(self.rng.choice([16, 24, 32, 64]))
        flags = int(NvmFlags.USAGE_ENCRYPT | NvmFlags.USAGE_DECRYPT)
        sid, cid = key_server_id(key, glob), key_client_id(key, glob)
        label = self._label(sid)
        cache = self.w.packet(Group.KEY, KeyAction.CACHE, flags=flags, sz=len(data), labelSz=NVM_LABEL_LEN, id=cid,
                              label=label, key=data)
        commit = self.w.packet(Group.KEY, KeyAction.COMMIT, id=cid)
        rc = self.m.add((sid, NVM_ACCESS_ANY, flags, label, data), reclaim=True, checked=False)
        return Step(f"key commit 0x{sid:04x} {len(data)} B", [cache, commit], [OK, rc], True)

    def key_erase(self, key: int, glob: bool) -> Step:
        sid = key_server_id(key, glob)
        pkt = self.w.packet(Group.KEY, KeyAction.ERASE, id=key_client_id(key, glob))
        rc = self.m.destroy([sid])
        return Step(f"key erase 0x{sid:04x}", [pkt], [rc], True)

    def check(self) -> Step:
        ids = [i for i in self.m.objs if not self.m.objs[i][2] & NvmFlags.NONEXPORTABLE]
        pkts = [self.w.packet(Group.NVM, NvmAction.GETAVAILABLE)]
        if ids:
            i = self.rng.choice(ids)
            pkts.append(self.w.packet(Group.NVM, NvmAction.READ, id=i, offset=0, data_len=len(self.m.objs[i][4])))
        return Step("check", pkts, [OK] * len(pkts), False)

    def next(self) -> Step:
        """The next mutating step, chosen from the model's state.

        Mostly a mix; every 70 operations a fill phase (adds and key commits only) runs the store
        out of directory slots: one more add answers NOSPACE, then a destroy or a key commit (which
        compacts by itself) makes room again.
        """
        m, rng = self.m, self.rng
        self.count += 1
        plain = [i for i in m.objs if i in OBJ_IDS]
        free = [i for i in OBJ_IDS if i not in m.objs]
        keys = [k for k in KEYS if key_server_id(*k) in m.objs]
        if not self.locked and m.slots >= 3:
            self.locked = True
            return self.add(LOCKED_ID, int(NvmFlags.NONMODIFIABLE), b"locked calibration data")
        if self.count % 70 == 20:
            self.fill = True
        if self.full:  # the last add found no slot
            self.full = self.fill = False
            if rng.random() < 0.5:
                return self.key_commit(*rng.choice(KEYS))
            return self.destroy(rng.sample(plain, min(len(plain), rng.randint(0, 2))))
        if m.slots >= m.max_slots:
            self.full = True
            return self.add(rng.choice(plain or free))  # NOSPACE, the store unchanged
        if self.fill:  # adds and key commits only
            if rng.random() < 0.2:
                return self.key_commit(*rng.choice(KEYS))
            return self.add(rng.choice(free if free and len(plain) < MAX_LIVE else plain or free))
        r = rng.random()
        if r < 0.35 and free and len(plain) < MAX_LIVE:
            return self.add(rng.choice(free))
        if r < 0.70 and plain:
            return self.add(rng.choice(plain))
        if r < 0.78 and plain:
            return self.destroy(rng.sample(plain, min(len(plain), rng.randint(1, 3))))
        if r < 0.79:
            return self.destroy([])
        if r < 0.81 and plain and free:
            return self.destroy([rng.choice(plain), rng.choice(free)])  # NOTFOUND: nothing destroyed
        if r < 0.83 and self.locked:
            return self.add(LOCKED_ID) if rng.random() < 0.5 else self.destroy([LOCKED_ID])  # ACCESS
        if r < 0.96:
            return self.key_commit(*rng.choice(KEYS))
        if keys:
            return self.key_erase(*rng.choice(keys))
        return self.add(rng.choice(free or plain))


# ------------------------------------------------------------------------------------------ the rig


class Rig:
    """A board with the HSM firmware, the demo finished, a bridge and the workload's client."""

    def __init__(self, board: str = BOARD) -> None:
        self.soc = Soc(board, trace=Trace("events"), console=lambda s, t: None)
        assert self.soc.run_until_idle(limit_ns=5_000_000_000), "the app-core demo did not finish"
        self.bridge = HostBridge(self.soc, log=lambda m: None)
        self.wire = LocalWire(self.bridge, "workload")
        self.wire.comm_init()
        self.flash = self.soc.devices["hsm_flash"]
        self.mem = self.flash.mem
        self.geom = geometry_for_board(board)
        self.object_count = int(self.soc.core("hsm").firmware.server.config.nvm_object_count)
        self.tpn = self.soc.timebase.ns(1)  # ticks per ns
        self.checkpoints: dict[int, Any] = {}

    # bridge bookkeeping is not part of a SoC snapshot: keep it beside
    def _bridge_state(self) -> Any:
        b, c = self.bridge, self.wire.c
        return (list(b.clients), list(b.free_bits), b.session, copy.deepcopy(b.mailbox.channels), c.bit, c.session)

    def checkpoint(self, index: int) -> None:
        self.checkpoints[index] = (self.soc.snapshot(), self._bridge_state(), self.wire.seq)

    def restore(self, index: int) -> None:
        snap, (clients, free, session, channels, bit, csession), seq = self.checkpoints[index]
        self.soc.restore(snap)
        b, c = self.bridge, self.wire.c
        b.clients[:] = clients
        b.free_bits[:] = free
        b.session = session
        b.mailbox.channels[:] = copy.deepcopy(channels)
        c.bit, c.session, c.awaiting, c.gone = bit, csession, False, False
        c.inbox.clear()
        c.replies.clear()  # type: ignore[attr-defined]
        self.wire.seq = seq

    def image(self) -> tuple[bytes, list[int]]:
        """The flash as it is, and the offsets of words an ECC read would refuse."""
        bad = [a - self.mem.origin for a, n in self.flash.ecc_errors().items() if n >= 2]
        return bytes(self.mem.array), bad

    def records(self, since: int, *kinds: str) -> list[tuple[int, str, str, str]]:
        return [r for r in self.soc.trace.records[since:] if r[2] in kinds]

    def close(self) -> None:
        self.soc.close()


@dataclass
class Golden:
    rig: Rig
    steps: list[Step]
    flash_ops: list[FlashOp]
    final_state: State
    final_available: tuple[int, int, int, int]
    host_seconds: float


def _flash_ops(rig: Rig, since: int) -> list[FlashOp]:
    out = []
    for t, src, kind, detail in rig.records(since, "flash-program", "flash-erase"):
        if src == "hsm_flash":
            dur = rig.flash.program_ticks if kind == "flash-program" else rig.flash.erase_ticks
            out.append(FlashOp(t, t + dur, kind[6:], int(detail, 16)))
    return out


def _reply_time(rig: Rig, since: int) -> int:
    replies = [r[0] for r in rig.records(since, "reply") if r[1] == "bridge" and r[3].startswith("workload ")]
    assert len(replies) == 1, replies
    return replies[0]


def golden_run(board: str = BOARD, mutations: int = MUTATIONS, seed: int = SEED) -> Golden:
    """Run the workload once, recording replies, timing and flash operations."""
    t0 = time.perf_counter()
    rig = Rig(board)
    model = Model(rig.geom, rig.object_count)
    rc, avail = rig.wire.available()
    assert rc == OK and avail == model.available(), f"the store is not empty and compacted at the start: {avail}"
    gen = Workload(rig.wire, model, random.Random(seed))
    steps: list[Step] = []
    flash_ops: list[FlashOp] = []
    done = 0
    while done < mutations:
        before = model.state()
        if steps and len(steps) % 6 == 5:
            step = gen.check()
        else:
            step = gen.next()
            done += 1
        step.before, step.after = before, model.state()
        if len(steps) % CHECKPOINT == 0:
            rig.checkpoint(len(steps))
        for k, pkt in enumerate(step.packets):
            mark = len(rig.soc.trace.records)
            last = k == len(step.packets) - 1
            if last:
                step.t_submit = rig.soc.now
            reply = rig.wire.exchange(pkt)
            step.replies.append(reply)
            r = unpack(reply)
            assert r.rc == step.expect[k], f"step {len(steps)} {step.name}: rc {r.rc}, model says {step.expect[k]}"
            if step.name == "check" and k == 0:  # GETAVAILABLE: wolfHSM-style accounting, as the model has it
                got = (r.avail_size, r.reclaim_size, r.avail_objects, r.reclaim_objects)
                assert got == model.available(), f"step {len(steps)}: GETAVAILABLE {got}, model {model.available()}"
            ops = _flash_ops(rig, mark)
            if last:
                step.t_ack = _reply_time(rig, mark)
                step.flash_ops = list(range(len(flash_ops), len(flash_ops) + len(ops)))
                flash_ops += ops
            else:
                assert not ops, f"step {step.name}: request {k} wrote the flash"
        if step.flash_ops:
            step.commit_op = _commit_op(rig.geom, rig.mem.origin, flash_ops, step)
        steps.append(step)
    image, bad = rig.image()
    rep = parse_image(image, rig.geom, bad, object_count=rig.object_count)
    assert rep.status == "ok" and not rep.problems, rep.describe()
    assert offline_state(rep, image) == model.state()
    rc, avail = rig.wire.available()
    assert rc == OK and avail == model.available() == rep.available()
    return Golden(rig, steps, flash_ops, model.state(), avail, time.perf_counter() - t0)


def _commit_op(geom: Geometry, base: int, flash_ops: list[FlashOp], step: Step) -> int:
    """The flash operation that makes the step durable: the commit unit of a compaction (destroy),
    the marker (last program) of an add."""
    if step.name.startswith(("destroy", "key erase")):
        commits = [i for i in step.flash_ops if (flash_ops[i].addr - base) % geom.part_size == geom.commit_offset]
        assert commits, f"{step.name}: no commit-unit program"
        return commits[-1]
    progs = [i for i in step.flash_ops if flash_ops[i].kind == "program"]
    return progs[-1]


def offline_state(rep: Any, image: bytes) -> State:
    out = []
    for r in rep.objects():
        m = r.meta
        out.append((m.id, m.access, m.flags, m.label, rep.data(image, r)))
    return tuple(out)


# ------------------------------------------------------------------------------------------ cut points


@dataclass(frozen=True)
class Cut:
    step: int
    op: int  # flash operation (index into Golden.flash_ops)
    tick: int  # wanted instant (absolute virtual time)
    category: str  # "<start|end-1|random> <program|erase|commit>"
    seed: int


def cut_points(g: Golden, seed: int = SEED) -> list[Cut]:
    """Every flash operation's start and last tick, plus one seeded random instant per four operations."""
    rng = random.Random(seed ^ 0x5EED)
    owner = {f: i for i, s in enumerate(g.steps) for f in s.flash_ops}
    commits = {s.commit_op for s in g.steps if s.commit_op is not None}
    cuts = []
    for f, op in enumerate(g.flash_ops):
        what = "commit" if f in commits else op.kind
        cuts.append(Cut(owner[f], f, op.start, f"start {what}", len(cuts)))
        cuts.append(Cut(owner[f], f, op.end - 1, f"end-1 {what}", len(cuts)))
    for f in sorted(rng.sample(range(len(g.flash_ops)), len(g.flash_ops) // 4)):
        op = g.flash_ops[f]
        what = "commit" if f in commits else op.kind
        cuts.append(Cut(owner[f], f, rng.randrange(op.start + 1, op.end), f"random {what}", len(cuts)))
    return cuts


def sample_cuts(cuts: list[Cut], n: int, seed: int = SEED) -> list[Cut]:
    """``n`` cut points, round robin over the categories (each shuffled with ``seed``)."""
    rng = random.Random(seed)
    groups: dict[str, list[Cut]] = {}
    for c in cuts:
        groups.setdefault(c.category, []).append(c)
    for lst in groups.values():
        rng.shuffle(lst)
    out: list[Cut] = []
    while len(out) < n and any(groups.values()):
        for cat in sorted(groups):
            if groups[cat] and len(out) < n:
                out.append(groups[cat].pop())
    return sorted(out, key=lambda c: (c.step, c.tick))


# ------------------------------------------------------------------------------------------ one cut


def replay(rig: Rig, step: Step, index: int, packets: int | None = None) -> None:
    """Send a step's requests (the first ``packets`` of them); the replies must be the golden ones."""
    for k, pkt in enumerate(step.packets[:packets]):
        reply = rig.wire.exchange(pkt)
        assert reply == step.replies[k], f"replay of step {index} ({step.name}) diverged from the golden run"


def run_cut(g: Golden, cut: Cut, apps: bool = True) -> str:
    """Cut the power at ``cut`` and check everything; returns "before" or "after" (which state survived).

    ``apps``: the app cores boot again with the HSM and run their demo (NVM adds, destroys: every
    destroy a compaction) while the checks run, as on a real board. False: they are halted right
    after the cut (the kernel's halt, as the INTC halt register would do) -- the HSM is then the
    only one at work, about 8x cheaper in host time.
    """
    rig, soc, step = g.rig, g.rig.soc, g.steps[cut.step]
    start = max(k for k in rig.checkpoints if k <= cut.step)
    rig.restore(start)
    for i in range(start, cut.step):
        replay(rig, g.steps[i], i)
    replay(rig, step, cut.step, len(step.packets) - 1)
    assert soc.now == step.t_submit, "the replay is not at the golden submission time"
    # the operation in flight, and the cut
    at_ns = (cut.tick - soc.now) // rig.tpn
    assert at_ns > 0
    cuts0, mark = soc.power_cuts, len(soc.trace.records)
    soc.power_cut(at_ns=at_ns, seed=cut.seed)
    c = rig.wire.c
    c.replies.clear()  # type: ignore[attr-defined]
    rig.bridge.submit(c, step.packets[-1])
    while soc.power_cuts == cuts0:  # the loop of HostBridge.request, until the cut instead of the reply
        assert not c.replies, "the operation was acknowledged before the cut"  # type: ignore[attr-defined]
        soc.run_for(soc.timebase.ns(STEP_NS))
    if not apps:
        for core in soc.board.app_cores:
            soc.kernel.halt(core.name, 0)
    tc = next(r[0] for r in rig.records(mark, "power-cut") if r[1] == "soc")
    for _ in range(1000):  # the HSM mounts right after its reset (the cut may have ended the last step)
        mounts = [r for r in rig.records(mark, "nvm-mount", "nvm-unusable") if r[0] >= tc]
        if mounts:
            break
        soc.run_ns(1_000)
    assert tc == soc.timebase.ns(at_ns) + step.t_submit
    # the run up to the cut was the golden one: the flash command torn is the golden one at tc
    ops = [g.flash_ops[f] for f in step.flash_ops]
    torn = rig.records(mark, "flash-torn")
    running = [op for op in ops if op.start < tc < op.end]
    if torn:
        at = int(torn[0][3].split()[1], 16)
        assert [op.addr for op in ops if op.start <= tc < op.end] == [at], f"torn {torn[0][3]}, golden {running}"
    else:
        assert not running, f"flash operation {running} was running at the cut, none was torn"
    written = rig.records(mark, "flash-program", "flash-erase")
    before_cut = [r for r in written if r[0] < tc]
    assert [(r[0], int(r[3], 16)) for r in before_cut] == [(op.start, op.addr) for op in ops if op.start < tc], (
        "the flash operations before the cut differ from the golden run"
    )
    assert len(written) == len(before_cut), "the flash was written after the cut, before the checks"

    # offline: the flash as the cut left it
    image, bad = rig.image()
    rep = parse_image(image, rig.geom, bad, object_count=rig.object_count)
    assert rep.status in ("ok", "empty") and not rep.problems, f"the image does not mount cleanly:\n{rep.describe()}"
    state = offline_state(rep, image)
    commit = g.flash_ops[step.commit_op] if step.commit_op is not None else None
    if state == step.before:
        outcome = "before"
    elif state == step.after:
        outcome = "after"
    else:
        raise AssertionError(f"the store holds neither the state before nor after {step.name}: {_diff(state, step)}")
    if commit is not None and step.before != step.after:
        if tc <= commit.start:
            assert outcome == "before", f"{step.name} is visible, though its commit point had not started"
        elif tc >= commit.end:
            assert outcome == "after", f"{step.name} is lost, though its commit point had completed"

    # the HSM boots again from that flash: what a fresh client sees
    assert mounts and mounts[0][2] == "nvm-mount", f"the store did not mount after the cut: {mounts}"
    avail = rep.available()
    text = f"{avail[0]} B / {avail[2]} slots free, {avail[1]} B / {avail[3]} reclaimable"
    assert text in mounts[0][3], (mounts[0][3], text)
    probe = LocalWire(rig.bridge, "verify")
    probe.comm_init()
    rc, got = probe.available()
    assert rc == OK, f"GETAVAILABLE rc {rc}"
    assert len(rig.records(mark, "flash-program", "flash-erase")) == len(written), "flash written before the check"
    assert got == avail, f"GETAVAILABLE {got}, parse_image of the flash {avail}"
    ids = [i for i in probe.list_ids() if i not in DEMO_IDS]
    assert ids == [o[0] for o in state], f"LIST {[hex(i) for i in ids]}"
    for o in state:
        assert probe.read_object(o[0]) == o, f"object 0x{o[0]:04x} differs"
    present = {o[0]: o for o in state}
    for key, glob in KEYS:
        sid = key_server_id(key, glob)
        r = probe.call(Group.KEY, KeyAction.EXPORT, id=key_client_id(key, glob))
        if sid in present:
            o = present[sid]
            assert (r.rc, bytes(r.key), bytes(r.label)) == (OK, o[4], o[3]), f"key 0x{sid:04x} export"
        else:
            assert r.rc == NOTFOUND, f"key 0x{sid:04x} is not in NVM but exports rc {r.rc}"
    # the store works on: a new object (after a compaction if the slots are used up)
    data = b"written after the cut " + cut.seed.to_bytes(4, "little")
    add = {"id": PROBE_ID, "label": label24("probe"), "data": data}
    if got[2] == 0 or got[0] < rig.geom.data_units(len(data)) * rig.geom.unit:
        r = probe.call(Group.NVM, NvmAction.ADDOBJECT, **add)
        assert r.rc == NOSPACE, f"add into a full store: rc {r.rc}"
        r = probe.call(Group.NVM, NvmAction.DESTROYOBJECTS, list_count=0, list=[])
        assert r.rc == OK, f"compaction after the reboot: rc {r.rc}"
    r = probe.call(Group.NVM, NvmAction.ADDOBJECT, **add)
    assert r.rc == OK, f"add after the reboot: rc {r.rc}"
    assert probe.read_object(PROBE_ID) == (PROBE_ID, 0, 0, label24("probe"), data)
    ids = [i for i in probe.list_ids() if i not in DEMO_IDS]
    assert ids == [o[0] for o in state] + [PROBE_ID], f"LIST after the new add {[hex(i) for i in ids]}"
    return outcome


def _diff(state: State, step: Step) -> str:
    def show(s: State) -> dict[int, str]:
        return {o[0]: f"{len(o[4])}B/{o[3].rstrip(bytes(1)).decode(errors='replace')}" for o in s}

    return f"found {show(state)}; before {show(step.before)}; after {show(step.after)}"


def sweep(g: Golden, cuts: list[Cut], apps: bool = True) -> tuple[dict[str, int], list[str]]:
    outcomes: dict[str, int] = {"before": 0, "after": 0}
    failures: list[str] = []
    for cut in cuts:
        try:
            outcomes[run_cut(g, cut, apps)] += 1
        except AssertionError as e:
            s = g.steps[cut.step]
            failures.append(f"cut {cut.category} at tick {cut.tick} in step {cut.step} ({s.name}): {e}")
    return outcomes, failures


def report(pytestconfig: Any, text: str) -> None:
    """Print ``text`` so that it shows with or without ``-s``: on stderr (captured by pytest unless
    ``-s``; shown with a failure), and straight to the terminal, past the capture, when captured."""
    print(text, file=sys.stderr)
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    tr = pytestconfig.pluginmanager.getplugin("terminalreporter")
    if capman is not None and tr is not None and pytestconfig.getoption("capture") != "no":
        with capman.global_and_fixture_disabled():
            tr.write_line("")
            tr.write_line(text)


# ------------------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def golden() -> Any:
    g = golden_run()  # a few seconds; the checkpoints hold ~180 MB until the module is done
    yield g
    g.rig.checkpoints.clear()
    g.rig.close()


def test_the_workload_covers_every_kind_of_operation(golden):
    g = golden
    names = [s.name.split()[0] + " " + s.name.split()[1] for s in g.steps if s.mutating]
    rcs = [s.expect[-1] for s in g.steps if s.mutating]
    assert len(names) >= 200
    assert sum(n.startswith("add") for n in names) >= 80
    assert sum(n.startswith("destroy") for n in names) >= 15
    assert names.count("key commit") >= 15 and names.count("key erase") >= 3
    assert rcs.count(NOSPACE) >= 1 and rcs.count(ACCESS) >= 1 and rcs.count(NOTFOUND) >= 1
    compactions = [r for r in g.rig.soc.trace.records if r[2] == "nvm-compact"]
    assert len(compactions) >= 20
    overwrites = [s for s in g.steps if s.name.startswith("add") and any(o[0] == int(s.name.split()[1], 16)
                                                                            for o in s.before)]
    assert len(overwrites) >= 40
    reclaims = [s for s in g.steps if s.name.startswith("key commit") and any(
        g.flash_ops[f].kind == "erase" for f in s.flash_ops)]
    assert reclaims, "no key commit had to compact first"
    assert g.final_state and len(g.flash_ops) > 1000


def test_power_loss_sample(golden, pytestconfig):
    g = golden
    cuts = cut_points(g)
    chosen = sample_cuts(cuts, SAMPLE)
    t0 = time.perf_counter()
    outcomes, failures = sweep(g, chosen)
    secs = time.perf_counter() - t0
    report(
        pytestconfig,
        f"power-loss sweep ({BOARD}, sample): {len(chosen)} of {len(cuts)} cut points checked in {secs:.1f} s "
        f"({len(g.steps)} steps, {len(g.flash_ops)} flash operations, golden run {g.host_seconds:.1f} s); "
        f"old state kept {outcomes['before']}, new state {outcomes['after']}",
    )
    assert not failures, f"{len(failures)} of {len(chosen)} cut points failed:\n" + "\n".join(failures[:10])
    assert outcomes["before"] and outcomes["after"]
    assert len({c.category for c in chosen}) == len({c.category for c in cuts})


@pytest.mark.slow
def test_power_loss_every_cut_point(golden, pytestconfig):
    g = golden
    cuts = cut_points(g)
    t0 = time.perf_counter()
    outcomes, failures = sweep(g, cuts, apps=False)  # the demo after each reboot would cost 8x the time
    secs = time.perf_counter() - t0
    report(
        pytestconfig,
        f"power-loss sweep ({BOARD}, every cut point, app cores halted after the cut): "
        f"{len(cuts)} cut points checked in {secs:.0f} s "
        f"({len(g.flash_ops)} flash operations in {len(g.steps)} steps); "
        f"old state kept {outcomes['before']}, new state {outcomes['after']}; {len(failures)} failed",
    )
    assert not failures, f"{len(failures)} of {len(cuts)} cut points failed:\n" + "\n".join(failures[:20])
