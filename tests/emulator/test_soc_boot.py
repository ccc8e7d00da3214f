"""Boot real boards with the committed demo ELFs on real Unicorn cores."""

import time

import pytest

from emulator.soc import Soc
from emulator.trace import Trace

CHECKSUMS = ["9220ad6b", "c163d35a", "f53600aa", "5548a21e", "29564fd9", "a72eee98"]
BOARDS = {"spc58nn": ("ppc", 3), "cortex-m-dual": ("arm", 2), "aurix-tc3xx": ("tricore", 6)}
CRYPTO_LINES = [
    "hsm rng: 16 bytes",
    "hsm sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",  # SHA-256("abc")
    "hsm aes-cbc: ok",
]


def boot(board, level="events", **kw):
    out = []
    soc = Soc(board, trace=Trace(level), console=lambda src, text: out.append((src, text)), **kw)
    return soc, out


@pytest.mark.parametrize("board", list(BOARDS))
def test_every_app_core_runs_the_demo(board):
    arch, n = BOARDS[board]
    soc, out = boot(board)
    assert soc.run_until_idle(limit_ns=2_000_000_000), "the demo should end with every core asleep"
    # the C demo (ppc, arm) adds RNG, SHA-256 and AES-CBC (encrypt + decrypt): four more requests
    crypto = arch != "tricore"
    for i in range(n):
        lines = [t for s, t in out if s == f"cpu{i}"]
        assert lines == [
            f"hello from {arch} app core {i}",
            f"checksum {CHECKSUMS[i]}",
            f"hsm comm init: client {i + 1} server 57",
            f"hsm echo: hello hsm from {arch} core {i}",
            f"hsm nvm add 0x{0x20 + i:04x}: rc 0",
            f"hsm nvm read 0x{0x20 + i:04x}: 16 bytes ok",
            f"hsm nvm destroy 0x{0x20 + i:04x}: rc 0",
            *(CRYPTO_LINES if crypto else []),
            "hsm close: rc 0",
        ]
    fw = soc.core("hsm").firmware
    assert fw.served == (10 if crypto else 6) * n
    assert fw.server.nvm.list_ids() == []  # every core destroyed its object: the server's NVM is empty again


@pytest.mark.parametrize("board", list(BOARDS))
def test_two_runs_give_identical_traces(board):
    a, _ = boot(board, "quanta")
    b, _ = boot(board, "quanta")
    a.run_ns(3_000_000)
    b.run_ns(3_000_000)
    assert len(a.trace.records) > 50
    assert a.trace.records == b.trace.records
    assert a.trace.digest() == b.trace.digest()


def test_quantum_changes_interleaving_but_not_results():
    a, out_a = boot("spc58nn", quantum=500)
    b, out_b = boot("spc58nn", quantum=20000)
    a.run_until_idle()
    b.run_until_idle()
    assert sorted(out_a) == sorted(out_b)
    assert a.trace.digest() != b.trace.digest()


@pytest.mark.parametrize("board", list(BOARDS))
def test_snapshot_restore_reproduces_the_run(board):
    soc, out = boot(board, "quanta")
    soc.run_ns(20_000)  # cores mid-checksum, HSM idle
    snap = soc.snapshot()
    mark, out_mark = len(soc.trace.records), len(out)
    soc.run_ns(300_000_000)
    first, first_out, first_time = soc.trace.records[mark:], out[out_mark:], soc.now
    soc.restore(snap)
    assert soc.now == snap.now and len(soc.trace.records) == mark
    del out[out_mark:]
    soc.run_ns(300_000_000)
    assert soc.trace.records[mark:] == first
    assert out[out_mark:] == first_out and any("hsm close" in t for _, t in first_out)
    assert soc.now == first_time
    assert len(first) > 20


def test_idle_board_skips_time():
    soc, _ = boot("aurix-tc3xx")
    soc.run_until_idle()
    t0 = time.perf_counter()
    soc.run_ns(1_000_000_000)  # one virtual second with every core asleep
    host = time.perf_counter() - t0
    assert soc.timebase.to_seconds(soc.now) > 1.0
    assert host < 0.5  # generous bound; the benchmark reports the real figure
