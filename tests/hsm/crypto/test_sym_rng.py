"""RNG through the wire at v1.4.0 (crypto spec §3.1, v1.4.0 diff §10.1/§10.2/§10.6).

Vectors: the suite's RNG requests (``04000000 00000000 10000000`` = 16 bytes, ``... 80000000`` = 128)
and the trace in diff §10.1 (request for 0x34 bytes answered with sz 0x34 + data).
"""

from __future__ import annotations

import struct
from collections import Counter

import pytest
from test_sym_support import BADARGS, RNG, CountingHal, SymClient, h

from firmware.hsm.config import ServerConfig
from firmware.hsm.crypto.engine import SW_COSTS, SoftwareEngine
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import default_server


def seeded(seed: object) -> SymClient:
    cfg = ServerConfig()
    cfg.rng_seed = seed  # type: ignore[attr-defined]
    return SymClient(default_server(cfg, nvm=RamNvm()))


@pytest.mark.parametrize("request_hex,n", [("10000000", 16), ("80000000", 128), ("34000000", 0x34)])
def test_captured_requests(request_hex: str, n: int) -> None:
    c = SymClient()
    reply = c.raw(RNG, RNG, h(request_hex))
    assert reply[:12] == h("04000000 00000000") + n.to_bytes(4, "little")
    assert len(reply) == 12 + n


def test_answer_is_capped_at_comm_data_len_minus_12() -> None:
    c = SymClient()
    for asked in (4988, 4989, 5000, 0xFFFF_FFFF):
        rc, body = c.crypto(RNG, RNG, c.u32(asked))
        assert rc == 0 and c.fields(body, "I") == (4988,) and len(body) == 4 + 4988
    cfg = ServerConfig(comm_data_len=1280)
    small = SymClient(default_server(cfg, nvm=RamNvm()))
    rc, body = small.crypto(RNG, RNG, small.u32(5000))
    assert rc == 0 and small.fields(body, "I") == (1280 - 12,)


def test_zero_bytes_is_an_empty_answer() -> None:
    c = SymClient()
    assert c.crypto(RNG, RNG, c.u32(0)) == (0, bytes(4))


def test_short_body_is_badargs_extra_bytes_ignored() -> None:
    c = SymClient()
    assert c.crypto(RNG, RNG, b"\x10\x00\x00")[0] == BADARGS
    assert c.crypto(RNG, RNG, b"")[0] == BADARGS
    rc, body = c.crypto(RNG, RNG, c.u32(8) + b"junk")
    assert rc == 0 and len(body) == 12


def test_big_endian_client() -> None:
    c = SymClient(order=">")
    rc, body = c.crypto(RNG, RNG, struct.pack(">I", 40))
    assert rc == 0 and body[:4] == b"\x00\x00\x00\x28" and len(body) == 44


def test_unseeded_output_differs_and_looks_random() -> None:
    c = SymClient()
    a = c.crypto(RNG, RNG, c.u32(4988))[1][4:]
    b = c.crypto(RNG, RNG, c.u32(4988))[1][4:]
    assert a != b
    counts = Counter(a + b)
    assert len(counts) == 256 and max(counts.values()) < 100  # ~39 expected per value


def test_seed_makes_runs_reproducible_and_chunking_invisible() -> None:
    one, two, other = seeded(1234), seeded(1234), seeded(1235)
    big = one.crypto(RNG, RNG, one.u32(1000))[1][4:]
    parts = b"".join(two.crypto(RNG, RNG, two.u32(n))[1][4:] for n in (1, 15, 16, 17, 451, 500))
    assert big == parts
    assert other.crypto(RNG, RNG, other.u32(1000))[1][4:] != big
    assert (
        seeded(b"\x00\x01").crypto(RNG, RNG, one.u32(32))[1][4:]
        == seeded(b"\x00\x01").crypto(RNG, RNG, one.u32(32))[1][4:]
    )


def test_seeded_engine_survives_a_deepcopy_snapshot() -> None:
    import copy

    class Ctx:
        config = ServerConfig()

        def spend(self, cycles: int) -> None:
            pass

    eng = SoftwareEngine(seed=7)
    eng.random(Ctx(), 100)
    snap = copy.deepcopy(eng)
    assert eng.random(Ctx(), 64) == snap.random(Ctx(), 64)


def test_cycles_per_byte() -> None:
    hal = CountingHal()
    c = SymClient(hal=hal)
    before = hal.cycles
    c.crypto(RNG, RNG, c.u32(16))
    small = hal.cycles - before
    before = hal.cycles
    c.crypto(RNG, RNG, c.u32(1016))
    assert hal.cycles - before - small >= 1000 * SW_COSTS["crypto_sw_rng_byte"]


def test_other_algo_types_under_the_rng_action() -> None:
    """wolfHSM dispatches RNG by action and never looks at algoType (the client always sends 4)."""
    c = SymClient()
    rc, body = c.crypto(RNG, 0, c.u32(16))[:2]
    assert rc == 0 and len(body) == 4 + 16
