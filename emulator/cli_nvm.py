"""`hsmemu nvm`: create, inspect, provision and check HSM NVM flash images offline.

An image is the HSM data flash of a board, byte for byte, as ``hsmemu run --flash-image FILE`` maps
it. The format and the store are the firmware's own (firmware/hsm/nvm_image.py, nvm_flash.py): adds
and destroys here run the very same store code on the file, so an image provisioned here is exactly
what the HSM would have written itself (like wolfHSM's NVM tool, whnvmtool)::

    hsmemu nvm create --board aurix-tc3xx hsm.img        # formatted, empty (partition 0, epoch 1)
    hsmemu nvm create --board spc58nn --erased hsm.img   # all erased: the HSM formats it on its first write
    hsmemu nvm add hsm.img --board aurix-tc3xx 0x14 cal.bin --label cal --flags nonmodifiable
    hsmemu nvm add-key hsm.img --board aurix-tc3xx 1 aes128.key --client 12 --label k1 \\
        --flags usage_encrypt,usage_decrypt                # NVM id 0x1c01: key 1 of client 12
    hsmemu nvm add-key hsm.img --board aurix-tc3xx 5 kek.key --global --flags usage_wrap   # id 0x1005
    hsmemu nvm list hsm.img --board aurix-tc3xx          # id, len, flags, access, label
    hsmemu nvm dump hsm.img --board aurix-tc3xx [--id 0x14] [--hex | --out FILE] [--records]
    hsmemu nvm destroy hsm.img --board aurix-tc3xx 0x14
    hsmemu nvm check hsm.img --board aurix-tc3xx         # consistency report; exit 0 healthy, 1 problems
    hsmemu run --board aurix-tc3xx --flash-image hsm.img --listen tcp://127.0.0.1:23456

Key ids (wolfhsm-wire-core.md §5.1): the NVM id of a key is TYPE(15..12) | USER(11..8) | ID(7..0),
TYPE 1 (crypto key), USER the client id (its low 4 bits; v1.4.0 keeps client ids in 8 bits, so 16..255
alias) or 0 for a global key (client key id flag 0x0100). A key object's metadata is what KEY CACHE
makes: access 0xFFFF, the given flags and label, len = key length.

Wear: a flash image carries no erase counters. ``check`` reports them when a sidecar file
``IMAGE.wear.json`` (or ``--wear FILE``) holds them -- :func:`save_wear` writes one from
``FlashController.wear()``, :func:`load_wear` reads it for ``set_wear()`` -- and updates nothing
itself but the sidecar's counts for the erases its own adds and destroys do. Without one it
estimates from the epoch (every compaction erases the used sectors of its target partition).

Adds and destroys replace the file atomically; do not change an image while ``hsmemu run`` has it
mapped (the running HSM would not see the change, and its own writes would go to the replaced file).

Exit status: 0 done (``check``: healthy); 1 the image is unusable or has problems (``check``: the
report says which), an object does not fit, an id is absent; 2 bad usage or an unreadable file.
Errors are one line on stderr, never a traceback. Wired into the main CLI by ``emulator.cli``
calling :func:`add_nvm_parser`; also runs alone as ``python -m emulator.cli_nvm ARGS``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cli_client import _int, _one_line_error  # the same argument types and error style as `hsmemu client`

DEFAULT_BOARD = "aurix-tc3xx"
WEAR_SUFFIX = ".wear.json"
WEAR_FORMAT = "hsmemu-flash-wear"


class UsageProblem(Exception):
    """Bad input from the user (arguments, files): one line, exit status 2."""


class ImageProblem(Exception):
    """The image is unusable for the request, an object does not fit, an id is absent: exit status 1."""


# ------------------------------------------------------------------------------------ argument types


def _u16(text: str) -> int:
    v = _int(text)
    if not 0 <= v <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text} does not fit 16 bits")
    return v


def _flags(text: str) -> int:
    from firmware.client.types import parse_flags

    try:
        v = parse_flags(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not 0 <= v <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"flags {text} do not fit 16 bits")
    return v


# ------------------------------------------------------------------------------------ parser


def add_nvm_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nvm` (and its subcommands) on the main CLI's subparsers."""
    p = subparsers.add_parser(
        "nvm",
        help="HSM NVM flash images: create, list, dump, add objects and keys, destroy, check",
        description="Offline tool for the HSM data flash images that `hsmemu run --flash-image` uses.",
    )
    _one_line_error(p)
    sub = p.add_subparsers(dest="nvm_command", metavar="ACTION", required=True)

    def cmd(name: str, help_text: str, fn: Any) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_text, description=help_text)
        _one_line_error(q)
        q.add_argument("--board", default=DEFAULT_BOARD, help=f"board profile name or .toml (default {DEFAULT_BOARD})")
        q.add_argument(
            "--objects", type=_int, metavar="N", help="NVM directory slots (default: the board's nvm_object_count)"
        )
        q.set_defaults(nvm_fn=fn)
        return q

    q = cmd("create", "write a fresh image sized for the board's HSM data flash (formatted and empty)", _create)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("--erased", action="store_true", help="all erased instead (the HSM formats it on its first write)")
    q.add_argument("--force", action="store_true", help="overwrite an existing file")

    q = cmd("list", "list the objects of an image: id, len, flags, access, label", _list)
    q.add_argument("image", metavar="IMAGE")

    q = cmd("dump", "print objects with their metadata and data (hex dump)", _dump)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("--id", type=_u16, metavar="ID", help="only this object")
    q.add_argument("--hex", action="store_true", help="data as plain hex (with --id: the hex string only)")
    q.add_argument("--out", metavar="FILE", help="with --id: write the object's data to FILE")
    q.add_argument("--records", action="store_true", help="every record of the log: superseded, torn, corrupt too")

    q = cmd("add", "store FILE as object ID (replacing a live one; compacts first when needed)", _add)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("id", type=_u16, metavar="ID")
    q.add_argument("file", metavar="FILE", help="data file ('-' = stdin)")
    q.add_argument("--label", default="", help="label, up to 24 bytes")
    q.add_argument("--flags", type=_flags, default=0, help="e.g. nonmodifiable,nonexportable or 0x5")
    q.add_argument("--access", type=_u16, default=0, help="access field (stored, never enforced)")

    q = cmd("add-key", "store the key in FILE as key KEYID of a client (or global), as KEY COMMIT would", _add_key)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("key_id", type=_u16, metavar="KEYID", help="key id 1..255 (0x1NN: a global key)")
    q.add_argument("file", metavar="FILE", help="key file, raw key bytes ('-' = stdin)")
    who = q.add_mutually_exclusive_group()
    who.add_argument("--client", type=_int, metavar="N", help="wolfHSM client id that owns the key (USER = N & 0xF)")
    who.add_argument("--global", dest="global_", action="store_true", help="a global key (USER 0), any client")
    q.add_argument("--label", default="", help="label, up to 24 bytes")
    q.add_argument("--flags", type=_flags, default=0, help="e.g. usage_encrypt,usage_decrypt,nonexportable")

    q = cmd("destroy", "remove objects (the store compacts, as the HSM's DESTROYOBJECTS does)", _destroy)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("ids", type=_u16, nargs="+", metavar="ID")

    q = cmd("check", "consistency report: partitions, active one, epoch, objects, free space, wear, damage", _check)
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("--wear", metavar="FILE", help=f"erase counts (default IMAGE{WEAR_SUFFIX} when it exists)")

    p.set_defaults(func=cmd_nvm)
    return p


def cmd_nvm(args: argparse.Namespace) -> int:
    try:
        return int(args.nvm_fn(args) or 0)
    except UsageProblem as e:
        print(f"hsmemu: error: {e}", file=sys.stderr)
        return 2
    except ImageProblem as e:
        print(f"hsmemu: error: {e}", file=sys.stderr)
        return 1


# ------------------------------------------------------------------------------------ board, image


class Target:
    """The board's flash geometry, NVM parameters and one image file."""

    def __init__(self, args: argparse.Namespace) -> None:
        from boards import loader
        from firmware.hsm.nvm_image import NvmImageError, geometry_for_board

        try:
            self.board = loader.load(args.board)
        except loader.BoardError as e:
            raise UsageProblem(str(e)) from None
        try:
            self.geom = geometry_for_board(self.board)
        except (NvmImageError, ValueError, StopIteration) as e:
            raise UsageProblem(f"board {self.board.name}: {e or 'no HSM data flash'}") from None
        hsm = next((c for c in self.board.cores if not c.is_app), None)
        params = hsm.params if hsm is not None else {}
        self.objects = int(args.objects if args.objects is not None else params.get("nvm_object_count", 30))
        if not 1 <= self.objects <= 0xFFFF:
            raise UsageProblem(f"--objects {self.objects}: give 1..65535")
        self.key_max = int(params.get("keycache_bigbufsize", 4096))
        flash = next(p for p in self.board.peripherals if p.type == "flash")
        self.endurance = int(flash.config.get("endurance", 100_000))
        self.path = Path(args.image)
        self.name = f"{self.board.name} HSM data flash, {self.geom.size} B"

    def read(self, exact: bool = True) -> bytes:
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise UsageProblem(f"{self.path}: {e.strerror or e}") from None
        if exact and len(data) != self.geom.size:
            raise ImageProblem(self.size_problem(len(data)) + f"; see `hsmemu nvm check {self.path}`")
        return data

    def size_problem(self, n: int) -> str:
        what = "truncated" if n < self.geom.size else "oversize"
        text = f"{self.path} is {n} bytes, the {self.board.name} HSM data flash is {self.geom.size}: {what}"
        others = _boards_of_size(n)
        if others:
            text += f" (or made for another board: {', '.join(others)} has {n} bytes; give --board)"
        return text

    def parse(self, image: bytes, scan_all: bool = False) -> Any:
        from firmware.hsm.nvm_image import parse_image

        return parse_image(image, self.geom, object_count=self.objects, scan_all=scan_all)

    def write(self, image: bytes) -> None:
        """Replace the file atomically (a crash never leaves half an image)."""
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(image)
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            os.replace(tmp, self.path)
        except OSError as e:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            raise UsageProblem(f"{self.path}: {e.strerror or e}") from None

    def store(self, image: bytes) -> Any:
        """The firmware's store on an in-memory copy of ``image`` (refuses an unusable image)."""
        from firmware.hsm.nvm_flash import FlashNvm

        store = FlashNvm(_counting_flash_class()(image, self.geom), object_count=self.objects)
        if not store.ready:
            raise ImageProblem(
                f"{self.path}: the NVM store is unusable: {store.problem}; see `hsmemu nvm check {self.path}`"
            )
        return store

    def save(self, store: Any) -> None:
        self.write(bytes(store.flash.image))
        wear = wear_path(self.path)
        if any(store.flash.sector_erases) and wear.exists():
            counts = load_wear(wear, self.geom.size // self.geom.sector_size)
            save_wear(wear, [a + b for a, b in zip(counts, store.flash.sector_erases)], self.board.name)


def _boards_of_size(n: int) -> list[str]:
    from boards import loader
    from firmware.hsm.nvm_image import geometry_for_board

    out = []
    for name in loader.available():
        try:
            if geometry_for_board(name).size == n:
                out.append(name)
        except Exception:  # noqa: BLE001 - an invalid or flash-less profile simply does not match
            continue
    return out


@functools.cache
def _counting_flash_class() -> type:
    from firmware.hsm.nvm_image import ImageFlash  # imported on use: `hsmemu` starts fast

    class CountingFlash(ImageFlash):
        """ImageFlash that also counts erases per sector (for the wear sidecar)."""

        def __init__(self, image: bytes | bytearray | None, geom: Any) -> None:
            super().__init__(image, geom)
            self.sector_erases = [0] * (geom.size // geom.sector_size)

        def erase(self, sector: int) -> None:
            super().erase(sector)
            self.sector_erases[sector] += 1

    return CountingFlash


# ------------------------------------------------------------------------------------ wear sidecar


def wear_path(image: Path | str) -> Path:
    return Path(str(image) + WEAR_SUFFIX)


def load_wear(path: Path | str, sectors: int) -> list[int]:
    """Erase counts per sector from a sidecar file (raises UsageProblem when unreadable or mismatched)."""
    try:
        doc = json.loads(Path(path).read_text())
        counts = [int(c) for c in (doc["erase_counts"] if isinstance(doc, dict) else doc)]
    except OSError as e:
        raise UsageProblem(f"{path}: {e.strerror or e}") from None
    except (ValueError, KeyError, TypeError):
        raise UsageProblem(f"{path}: not a wear file (JSON with a list \"erase_counts\")") from None
    if len(counts) != sectors:
        raise UsageProblem(f"{path}: {len(counts)} erase counts, the flash has {sectors} sectors")
    return counts


def save_wear(path: Path | str, counts: list[int], board: str = "") -> None:
    """Write erase counts per sector (e.g. ``FlashController.wear()`` at the end of a run)."""
    doc = {"format": WEAR_FORMAT, "version": 1, "board": board, "erase_counts": [int(c) for c in counts]}
    Path(path).write_text(json.dumps(doc) + "\n")


# ------------------------------------------------------------------------------------ formatting


def _label_text(label: bytes) -> str:
    raw = label.split(b"\0", 1)[0]
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in raw)


def _flag_names(flags: int) -> str:
    from firmware.wire import NvmFlags

    names = [f.name.lower() for f in NvmFlags if f.value and f.value & (f.value - 1) == 0 and flags & f.value]
    rest = flags & ~sum(f.value for f in NvmFlags if f.value and f.value & (f.value - 1) == 0)
    if rest:
        names.append(f"0x{rest:04x}")
    return ",".join(names)


def _id_kind(nvm_id: int) -> str:
    """What an NVM id is, by the key id layout (TYPE 0 is a plain object)."""
    from firmware.wire import KeyIdType

    t, user, kid = nvm_id >> 12, (nvm_id >> 8) & 0xF, nvm_id & 0xFF
    if t == 0:
        return ""
    try:
        kind = KeyIdType(t).name.lower()
    except ValueError:
        kind = f"type {t}"
    if kind == "crypto":
        owner = "global" if user == 0 else f"client {user}"
        return f"key {kid} ({owner})"
    return f"{kind} {kid}" + (f" user {user}" if user else "")


def _summary(rep: Any) -> str:
    a = rep.available()
    if rep.status == "empty":
        where = "not formatted (erased)" if rep.partitions[0].state == "blank" else "empty"
    else:
        where = f"partition {rep.active} epoch {rep.partitions[rep.active].epoch}"
    n = len(rep.objects())
    return (
        f"{where}: {n} object{'s' if n != 1 else ''}; free {a[0]} B, {a[2]} slots; "
        f"reclaimable {a[1]} B, {a[3]} slots"
    )


def _object_rows(rep: Any) -> list[str]:
    rows = [f"{'id':6}  {'len':>5}  {'flags':6}  {'access':6}  label"]
    for r in rep.objects():
        m = r.meta
        extra = ", ".join(x for x in (_flag_names(m.flags), _id_kind(m.id)) if x)
        rows.append(
            f"0x{m.id:04x}  {m.len:>5}  0x{m.flags:04x}  0x{m.access:04x}  {_label_text(m.label)!r}"
            + (f"  [{extra}]" if extra else "")
        )
    return rows


def _hexdump(data: bytes, indent: str = "  ") -> list[str]:
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hx = "  ".join(chunk[i : i + 8].hex(" ") for i in range(0, len(chunk), 8))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{indent}{off:04x}  {hx:<48}  |{text}|")
    return out


def _usable(t: Target, rep: Any) -> None:
    if rep.status == "corrupt":
        why = "; ".join(rep.problems)
        raise ImageProblem(f"{t.path}: the NVM store is unusable: {why}; see `hsmemu nvm check {t.path}`")
    if rep.problems:
        n = len(rep.problems)
        print(f"hsmemu: warning: {t.path}: {n} problem{'s' if n > 1 else ''} (see `hsmemu nvm check`)", file=sys.stderr)


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageProblem(f"{path}: {e.strerror or e}") from None


def _label(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 24:
        raise UsageProblem(f"label {text!r} is {len(raw)} bytes, at most 24 fit")
    return raw


# ------------------------------------------------------------------------------------ commands


def _create(args: argparse.Namespace) -> int:
    from firmware.hsm.nvm_image import NvmImageError, blank_image, build_image

    t = Target(args)
    if t.path.exists() and not args.force:
        raise UsageProblem(f"{t.path} exists (give --force to overwrite it)")
    try:
        image = blank_image(t.geom) if args.erased else build_image(t.geom, object_count=t.objects)
    except NvmImageError as e:
        raise ImageProblem(str(e)) from None
    t.write(image)
    state = "erased" if args.erased else "formatted"
    print(f"created {t.path}: {t.name}, {state}; {_summary(t.parse(image))}")
    return 0


def _list(args: argparse.Namespace) -> int:
    t = Target(args)
    rep = t.parse(t.read())
    _usable(t, rep)
    print(f"{t.path} ({t.name}): {_summary(rep)}")
    if rep.objects():
        print("\n".join(_object_rows(rep)))
    return 0


def _dump(args: argparse.Namespace) -> int:
    t = Target(args)
    image = t.read()
    rep = t.parse(image)
    _usable(t, rep)
    objs = rep.objects()
    if args.id is not None:
        objs = [r for r in objs if r.meta.id == args.id]
        if not objs:
            raise ImageProblem(f"{t.path}: no object 0x{args.id:04x}")
        data = rep.data(image, objs[0])
        if args.out:
            try:
                Path(args.out).write_bytes(data)
            except OSError as e:
                raise UsageProblem(f"{args.out}: {e.strerror or e}") from None
            print(f"wrote {len(data)} bytes of object 0x{args.id:04x} to {args.out}")
            return 0
        if args.hex:
            print(data.hex())
            return 0
    elif args.out:
        raise UsageProblem("--out needs --id")
    print(f"{t.path} ({t.name}): {_summary(rep)}")
    for r in objs:
        m = r.meta
        data = rep.data(image, r)
        extra = ", ".join(x for x in (_flag_names(m.flags), _id_kind(m.id)) if x)
        print(
            f"object 0x{m.id:04x}: len {m.len}, flags 0x{m.flags:04x}{f' ({extra})' if extra else ''}, "
            f"access 0x{m.access:04x}, label {_label_text(m.label)!r}, data crc32 0x{r.data_crc:08x}, "
            f"at partition {rep.active} offset 0x{r.offset:x}"
        )
        if args.hex:
            print(f"  {data.hex()}")
        else:
            print("\n".join(_hexdump(data)))
    if args.records:
        full = t.parse(image, scan_all=True)
        for p in full.partitions:
            if not p.scanned:
                continue
            print(f"records of partition {p.index} ({p.state}{'' if p.epoch is None else f' epoch {p.epoch}'}):")
            for r in p.records:
                what = f"0x{r.meta.id:04x} len {r.meta.len}" if r.meta is not None else f"{r.units} units"
                print(f"  0x{r.offset:05x}  {r.state:12} {what}" + (f"  ({r.note})" if r.note else ""))
    return 0


def _add_object(t: Target, meta: Any, data: bytes) -> Any:
    from firmware.hsm.nvm_image import MAX_DATA
    from firmware.wire import WhError

    if len(data) > MAX_DATA:
        raise UsageProblem(f"{len(data)} bytes: an NVM object holds at most {MAX_DATA}")
    store = t.store(t.read())
    a = store.available()
    rc = store.add(meta, data, reclaim=True)
    if rc == WhError.NOSPACE:
        raise ImageProblem(
            f"{t.path}: object 0x{meta.id:04x} ({len(data)} B) does not fit: {a[0]} B and {a[2]} slots free, "
            f"{a[1]} B and {a[3]} slots reclaimable (the image is unchanged)"
        )
    if rc != WhError.OK:
        raise ImageProblem(f"{t.path}: add of object 0x{meta.id:04x}: {WhError(rc).name}")
    t.save(store)
    return store


def _add(args: argparse.Namespace) -> int:
    from firmware.hsm.nvm_backend import Metadata

    t = Target(args)
    if args.id == 0:
        raise UsageProblem("id 0 cannot be listed by a client (LIST uses 0 as 'none'): give 1..0xffff")
    data = _read_input(args.file)
    meta = Metadata(id=args.id, access=args.access, flags=args.flags, label=_label(args.label))
    store = _add_object(t, meta, data)
    print(f"added object 0x{args.id:04x} ({len(data)} B) to {t.path}: {_store_summary(store)}")
    return 0


def _add_key(args: argparse.Namespace) -> int:
    from firmware.hsm.keystore import make_metadata
    from firmware.wire import KeyIdType
    from firmware.wire.constants import (
        KEYID_CLIENT_GLOBAL_FLAG,
        KEYID_CLIENT_WRAPPED_FLAG,
        KEYUSER_GLOBAL,
        NVM_ACCESS_ANY,
        make_keyid,
    )

    t = Target(args)
    kid = args.key_id
    if kid & KEYID_CLIENT_WRAPPED_FLAG:
        raise UsageProblem(f"KEYID 0x{kid:x}: wrapped keys (0x0200) live in the key cache only, never in NVM")
    if kid & ~0x1FF:
        raise UsageProblem(
            f"KEYID 0x{kid:x}: give the key's id 1..255 (0x1NN for a global key); "
            "`hsmemu nvm add` stores any raw NVM id"
        )
    glob = args.global_ or bool(kid & KEYID_CLIENT_GLOBAL_FLAG)
    if kid & 0xFF == 0:
        raise UsageProblem("KEYID 0 means 'let the server pick one': give 1..255")
    if glob and args.client is not None:
        raise UsageProblem(f"KEYID 0x{kid:x} is a global key: drop --client")
    if not glob and args.client is None:
        raise UsageProblem("say whose key it is: --client N (the wolfHSM client id) or --global")
    if args.client is not None and not 1 <= args.client <= 0xFF:
        raise UsageProblem(f"--client {args.client}: client ids are 1..255")
    user = KEYUSER_GLOBAL if glob else args.client & 0x0F
    if not glob and user == KEYUSER_GLOBAL:
        raise UsageProblem(f"--client {args.client}: its low 4 bits are 0, the global key space; use --global")
    key = _read_input(args.file)
    if not key:
        raise UsageProblem(f"{args.file}: empty key")
    if len(key) > t.key_max:
        raise UsageProblem(
            f"{args.file}: a {len(key)}-byte key is larger than the HSM's biggest key-cache slot "
            f"({t.key_max} B): it could never be loaded"
        )
    nvm_id = make_keyid(KeyIdType.CRYPTO, user, kid & 0xFF)
    meta = make_metadata(nvm_id, args.flags, len(key), _label(args.label), access=NVM_ACCESS_ANY)
    store = _add_object(t, meta, key)
    owner = "global key" if glob else f"key of client {args.client}" + (f" (USER {user})" if args.client > 0x0F else "")
    print(f"added {owner} {kid & 0xFF} as NVM object 0x{nvm_id:04x} ({len(key)} B) to {t.path}: "
          f"{_store_summary(store)}")
    if not args.flags & 0x07E0:
        print("note: the key has no usage flags (--flags usage_encrypt,...): the HSM refuses to use it for crypto",
              file=sys.stderr)
    return 0


def _destroy(args: argparse.Namespace) -> int:
    from firmware.wire import WhError

    t = Target(args)
    store = t.store(t.read())
    absent = [i for i in args.ids if store.metadata(i) is None]
    if absent:
        raise ImageProblem(
            f"{t.path}: no object {', '.join(f'0x{i:04x}' for i in absent)} (nothing destroyed)"
        )
    rc = store.destroy(list(args.ids))
    if rc != WhError.OK:
        raise ImageProblem(f"{t.path}: destroy: {WhError(rc).name}")
    t.save(store)
    ids = " ".join(f"0x{i:04x}" for i in args.ids)
    print(f"destroyed {ids} in {t.path}: {_store_summary(store)}")
    return 0


def _store_summary(store: Any) -> str:
    a = store.available()
    n = len(store.list_ids())
    where = f"partition {store.active} epoch {store.epoch}"
    return f"{where}, {n} object{'s' if n != 1 else ''}; free {a[0]} B, {a[2]} slots; reclaimable {a[1]} B"


def _check(args: argparse.Namespace) -> int:
    t = Target(args)
    image = t.read(exact=False)
    g = t.geom
    size_problem = t.size_problem(len(image)) if len(image) != g.size else ""
    rep = t.parse(image, scan_all=True)
    healthy = rep.status != "corrupt" and not rep.problems
    print(f"{t.path}: {t.name}, {t.objects} directory slots")
    if size_problem:
        print(f"problem: {size_problem}; the HSM refuses to map it (hsmemu run exits with an error)")
        if len(image) < g.size:
            print(f"(below: the first {len(image)} bytes, the missing part read as erased)")
    print(rep.describe())
    if len(image) == g.size:
        print("\n".join(_sector_map(t, image)))
    print("\n".join(_wear_lines(t, rep, args.wear)))
    if rep.status == "corrupt" and not size_problem:
        print(
            "verdict: UNUSABLE -- `hsmemu run --flash-image` boots with the NVM store unusable (NVM requests "
            "answer NOTREADY); `--nvm-reformat` erases it and starts empty (whatever it held is lost)"
        )
    elif size_problem:
        print("verdict: UNUSABLE -- wrong size")
    elif rep.problems:
        n = len(rep.problems)
        print(f"verdict: DAMAGED -- {n} problem(s); the damaged objects read as absent, the rest is usable")
    else:
        print("verdict: healthy")
    return 0 if healthy else 1


def _sector_map(t: Target, image: bytes) -> list[str]:
    g = t.geom
    blank = g.blank(g.sector_size)
    lines = ["sectors ('#' written, '.' erased):"]
    n = g.size // g.sector_size
    for p in (0, 1):
        first = g.part_offset(p) // g.sector_size
        marks = "".join(
            "." if image[s * g.sector_size : (s + 1) * g.sector_size] == blank else "#"
            for s in range(first, first + g.part_sectors)
        )
        lines.append(f"  partition {p}: sectors {first}-{first + g.part_sectors - 1}  {marks}  "
                     f"{marks.count('#')} written")
    if n > 2 * g.part_sectors:
        lines.append(f"  unused: sector {2 * g.part_sectors}-{n - 1}")
    return lines


def _wear_lines(t: Target, rep: Any, wear_file: str | None) -> list[str]:
    g = t.geom
    n = g.size // g.sector_size
    path = Path(wear_file) if wear_file else wear_path(t.path)
    if wear_file or path.exists():
        counts = load_wear(path, n)
        worst = max(range(n), key=lambda s: counts[s])
        pct = 100.0 * counts[worst] / t.endurance if t.endurance else 0.0
        return [
            f"wear (erase counts from {path}): min {min(counts)}, max {counts[worst]} (sector {worst}, "
            f"{pct:.3g}% of the {t.endurance} erase endurance), total {sum(counts)}"
        ]
    epochs = [p.epoch for p in rep.partitions if p.epoch is not None]
    if not epochs:
        return ["wear: unknown (a flash image carries no erase counts; no wear file)"]
    e = max(epochs)
    if e <= 1:
        return [f"wear: unknown (a flash image carries no erase counts; no {path.name}); no compaction yet"]
    return [
        f"wear: unknown (a flash image carries no erase counts; no {path.name}); estimate from epoch {e}: "
        f"{e - 1} compaction(s) since the first format, each erasing the written sectors of its target partition, "
        f"the two partitions in turn (about {-(-(e - 1) // 2)} erase(s) of each partition's first sector)"
    ]


# ------------------------------------------------------------------------------------ standalone


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hsmemu")
    sub = p.add_subparsers(dest="command", required=True)
    add_nvm_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] if sys.argv[1:2] == ["nvm"] else ["nvm", *sys.argv[1:]]))
