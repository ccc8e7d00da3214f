"""The `hsmemu` command line."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from boards import loader

from .errors import HsmemuError
from .timebase import format_seconds, parse_duration_ns
from .trace import LEVELS, Trace


def _firmware_args(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        core, sep, path = item.partition("=")
        if not sep or not core or not path:
            raise HsmemuError(f"--firmware wants CORE=ELF (e.g. cpu0=app.elf), got {item!r}")
        out[core] = path
    return out


def cmd_boards(args: argparse.Namespace) -> int:
    if args.map:
        board = _load_board(args.map)
        print(memory_map(board))
        return 0
    for name in loader.available():
        try:
            b = loader.load(name)
            print(f"{name:16} {b.summary}")
        except loader.BoardError as e:
            print(f"{name:16} INVALID: {e}")
    return 0


def _load_board(name: str) -> loader.Board:
    try:
        return loader.load(name)
    except loader.BoardError as e:
        raise HsmemuError(str(e)) from None


def memory_map(board: loader.Board) -> str:
    rows = [(m.origin, m.end, f"memory     {m.name} ({m.kind}, {m.wait_states} ws)") for m in board.memories]
    rows += [
        (p.base, p.end, f"peripheral {p.name} ({p.type}; masters {', '.join(p.masters)})") for p in board.peripherals
    ]
    for c in board.cores:
        for mem, addr in c.local.items():
            size = board.memory(mem).size  # type: ignore[union-attr]
            rows.append((addr, addr + size, f"alias      {mem} as seen by {c.name} only"))
    lines = [f"{board.name}: {board.summary}", "", "address range              what"]
    for a, b, what in sorted(rows):
        lines.append(f"0x{a:08x}-0x{b - 1:08x}  {what}")
    lines += ["", "MPU regions (master: rights)"]
    for r in board.mpu:
        rights = ", ".join(f"{k}: {v}" for k, v in r.rights.items())
        lines.append(f"0x{r.start:08x}-0x{r.end - 1:08x}  {r.name:12} {rights}")
    lines += ["", "cores"]
    for c in board.cores:
        lines.append(f"{c.name:6} {c.arch:8} {c.clock_hz / 1e6:g} MHz  firmware {c.firmware}")
    return "\n".join(lines)


def _flash_args(args: argparse.Namespace) -> tuple[dict[str, Path], dict[str, dict[str, object]]]:
    """--flash-image maps the board's HSM data flash onto a file; --nvm-reformat tells the firmware."""
    files: dict[str, Path] = {}
    params: dict[str, dict[str, object]] = {}
    if args.flash_image:
        board = _load_board(args.board)
        flash = next((str(p.config.get("memory")) for p in board.peripherals if p.type == "flash"), None)
        if flash is None:
            raise HsmemuError(f"board {board.name} has no flash controller: --flash-image has nothing to map")
        files[flash] = Path(args.flash_image)
    if args.nvm_reformat:
        params.setdefault("hsm", {})["nvm_reformat"] = True
    if args.seed is not None:
        params.setdefault("hsm", {})["rng_seed"] = args.seed
    return files, params


def cmd_run(args: argparse.Namespace) -> int:
    from .soc import Soc

    t_start = time.perf_counter()
    firmware = _firmware_args(args.firmware or [])
    sink = None
    trace = Trace("off")
    if args.trace:
        sink = open(args.trace, "w")  # noqa: SIM115 - closed below
        trace = Trace(args.trace_level, sink=sink, keep=False)
    if args.quantum is not None and args.quantum <= 0:
        raise HsmemuError("--quantum must be a positive number of instructions")
    try:
        duration = parse_duration_ns(args.for_) if args.for_ is not None else None
    except ValueError as e:
        raise HsmemuError(f"--for: {e}") from None
    if args.wire != "v1.4.0":
        raise HsmemuError(f"--wire {args.wire}: only v1.4.0 is implemented")
    files, params = _flash_args(args)
    soc = Soc(args.board, firmware=firmware, quantum=args.quantum, trace=trace, memory_files=files, params=params)
    if args.seed is not None:
        for dev in soc.devices.values():
            if hasattr(dev, "reseed"):  # the TRNG
                dev.reseed(args.seed)
    bridge = None
    if args.listen:
        from .bridge import HostBridge

        # let the app firmware boot first (bounded), so attached clients find a settled HSM
        soc.run_until_idle(limit_ns=2_000_000_000)
        bridge = HostBridge(soc)
        tls = {"cert": args.tls_cert, "key": args.tls_key, "ca": args.tls_ca}
        for url in args.listen:
            try:
                bound = bridge.listen(url, tls)
            except OSError as e:
                raise HsmemuError(f"--listen {url}: {e.strerror or e}") from None
            print(f"listening on {bound}", file=sys.stderr, flush=True)
    ready = time.perf_counter() - t_start
    interrupted = False
    try:
        soc.power_on()
        if bridge is not None and duration is None:
            while not soc.kernel.stop_reason:  # serve attached clients until Ctrl-C
                soc.run_for(soc.timebase.ns(10**9))
        elif duration is None:
            # run until nothing can happen any more: every core waits and no event is pending
            while not soc.run_until_idle(limit_ns=10**9) and not soc.kernel.stop_reason:
                pass
        else:
            soc.run_ns(duration)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        soc.close()
        if sink is not None:
            sink.close()
    if soc.kernel.stop_reason:
        print(f"stopped: {soc.kernel.stop_reason}", file=sys.stderr)
    print(summary(soc, ready, interrupted), file=sys.stderr)
    return 1 if soc.kernel.stop_reason else 0


def summary(soc: object, ready: float, interrupted: bool) -> str:
    from .soc import Soc

    assert isinstance(soc, Soc)
    vt = soc.timebase.to_seconds(soc.now)
    head = "interrupted" if interrupted else "done"
    lines = [
        f"-- {head}: virtual time {format_seconds(vt)}, host time {soc.host_seconds:.3f} s (ready in {ready:.3f} s)",
        f"   {'core':6} {'state':8} {'instructions':>14} {'MIPS':>8}",
    ]
    for s in soc.stats():
        if s["cycles"] is not None:  # a Python core: its firmware's cycle model, no instructions
            lines.append(f"   {s['core']:6} {s['state']:8} {'-':>14} {'-':>8}   {s['cycles']:,} HSM cycles spent")
        else:
            lines.append(f"   {s['core']:6} {s['state']:8} {s['instructions']:>14,} {s['mips']:>8.1f}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hsmemu", description="Automotive multi-core MCU + HSM emulator")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("boards", help="list board profiles")
    b.add_argument("--map", metavar="NAME", help="print the memory map of one board")
    b.set_defaults(func=cmd_boards)

    r = sub.add_parser("run", help="boot a board and run it")
    r.add_argument("--board", default="aurix-tc3xx", help="board profile name or .toml path")
    r.add_argument("--firmware", action="append", metavar="CORE=ELF", help="firmware for one core (repeatable)")
    r.add_argument(
        "--for",
        dest="for_",
        metavar="DURATION",
        help="virtual time to run, e.g. 10ms, 1s (default: until every core waits and nothing is pending)",
    )
    r.add_argument("--quantum", type=int, help="instructions per quantum (default: the board's)")
    r.add_argument(
        "--listen", action="append", metavar="URL",
        help="attach clients: tcp://127.0.0.1:23456, tls://HOST:PORT, unix:///path, shm://wh_example_shm (repeatable)",
    )
    r.add_argument("--tls-cert", metavar="PEM", help="server certificate for tls://")
    r.add_argument("--tls-key", metavar="PEM", help="server private key for tls://")
    r.add_argument("--tls-ca", metavar="PEM", help="CA for client certificates; given = mutual TLS required")
    r.add_argument("--flash-image", metavar="FILE", help="keep the HSM data flash in FILE (created erased if missing)")
    r.add_argument(
        "--nvm-reformat", action="store_true", help="let the HSM format an unreadable NVM store (data is lost)"
    )
    r.add_argument("--seed", type=int, metavar="N", help="seed the TRNG and the HSM random numbers (reproducible runs)")
    r.add_argument("--wire", default="v1.4.0", help="wolfHSM wire version the HSM speaks (default v1.4.0)")
    r.add_argument("--trace", metavar="FILE", help="write the event trace to FILE")
    r.add_argument("--trace-level", choices=[k for k in LEVELS if k != "off"], default="events")
    r.set_defaults(func=cmd_run)

    from .cli_client import add_client_parser
    from .cli_nvm import add_nvm_parser

    add_client_parser(sub)
    add_nvm_parser(sub)
    return p


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run as cleanly as Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except HsmemuError as e:
        print(f"hsmemu: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"hsmemu: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "memory_map", "Path"]
