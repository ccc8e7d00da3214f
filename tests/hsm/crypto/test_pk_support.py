"""Shared helpers of the public-key tests, and the PK envelope behaviour they rely on.

Requests are packed with `struct` from the offsets of ``layout/struct-offsets-v1.4.0.txt`` (not
with the server's own declarations), framed by hand (core spec §2.1, 8-byte header) and sent to a
real `default_server()` through `Server.handle`. rc bytes (LE): USAGE 27f8ffff, BADARGS 30f8ffff,
NOTFOUND c8f7ffff, BAD_FUNC_ARG 53ffffff, NOT_COMPILED_IN 52ffffff, ASN_PARSE_E 74ffffff,
ECC_BAD_ARG_E 56ffffff, ECC_CURVE_OID_E 54ffffff, SIG_VERIFY_E 1bffffff, RSA_BUFFER_E 7dffffff.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from firmware.hsm.context import Connection
from firmware.hsm.crypto import Registry
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import Server, default_server

# wc_PkType (wolfSSL 5.8.4)
RSA_FN, ECDH, ECDSA_SIGN, ECDSA_VERIFY, ED_SIGN, X25519 = 1, 3, 4, 5, 6, 7
RSA_KEYGEN, EC_KEYGEN, EC_CHECK, ED_VERIFY, ED_KEYGEN, X25519_KEYGEN, RSA_GET_SIZE = 8, 9, 11, 14, 15, 16, 17

# whNvmFlags
EPHEMERAL, ENCRYPT, DECRYPT, SIGN, VERIFY, DERIVE = 0x0010, 0x0020, 0x0040, 0x0080, 0x0100, 0x0400
NONMODIFIABLE = 0x0001

# rc values
OK, BADARGS, USAGE, NOTFOUND = 0, -2000, -2009, -2104
BAD_FUNC_ARG, NOT_COMPILED_IN, ASN_PARSE_E, ECC_BAD_ARG_E, ECC_CURVE_OID_E = -173, -174, -140, -170, -172
SIG_VERIFY_E, RSA_BUFFER_E, RSA_OUT_OF_RANGE_E, MP_ZERO_E, ECC_OUT_OF_RANGE_E = -229, -131, -253, -121, -217

KEY_CACHE, KEY_EVICT, KEY_EXPORT = 0x0300, 0x0301, 0x0302


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


class CountingHal:
    """The HAL slice the crypto path touches: cycle accounting only."""

    def __init__(self) -> None:
        self.cycles = 0

    def spend(self, cycles: int) -> None:
        self.cycles += int(cycles)

    def trace(self, kind: str, detail: str = "") -> None:
        pass


class PkClient:
    """One connection, logged in with COMM INIT, little- ('<') or big-endian ('>') framing."""

    def __init__(self, server: Server | None = None, client_id: int = 1, order: str = "<", hal: Any = None) -> None:
        self.server = server if server is not None else default_server(nvm=RamNvm())
        self.order, self.hal, self.conn, self.seq = order, hal, Connection(0), 0
        reply = self.call(0x0101, struct.pack(order + "I", client_id))
        assert reply == struct.pack(order + "II", client_id, 57)

    def call(self, kind: int, payload: bytes) -> bytes:
        self.seq += 1
        magic = b"\x01\xa5" if self.order == "<" else b"\xa5\x01"
        header = magic + struct.pack(self.order + "HHH", kind, self.seq, 0)
        reply = self.server.handle(self.conn, header + payload, self.hal)
        assert reply is not None and reply[:8] == header
        assert not self.server.errors, self.server.errors
        return reply[8:]

    def raw(self, algo: int, body: bytes, sub: int = 0) -> bytes:
        """The whole crypto response payload (8-byte v1.4.0 header + body)."""
        return self.call(0x0403, struct.pack(self.order + "II", algo, sub) + body)

    def crypto(self, algo: int, body: bytes, sub: int = 0) -> tuple[int, bytes]:
        reply = self.raw(algo, body, sub)
        echoed, rc = struct.unpack_from(self.order + "Ii", reply)
        assert echoed == algo
        if rc != 0:
            assert len(reply) == 8, "v1.4.0 error responses are the 8-byte header only"
        return rc, reply[8:]

    def u32(self, *values: int) -> bytes:
        return struct.pack(self.order + "I" * len(values), *values)

    def fields(self, body: bytes, n: int) -> tuple[int, ...]:
        return struct.unpack_from(self.order + "I" * n, body)

    # ---- KEY group (core spec §5.4; layouts lines 105-112)
    def cache(self, der: bytes, flags: int, key_id: int = 0, label: bytes = b"pk") -> int:
        """KEY CACHE; returns the client id assigned (asserts rc 0)."""
        head = struct.pack(self.order + "IIIH2x24s", flags, len(der), len(label), key_id, label)
        reply = self.call(KEY_CACHE, head + der)
        rc, kid = struct.unpack_from(self.order + "iH", reply)
        assert rc == 0, rc
        return kid

    def export(self, key_id: int) -> tuple[int, bytes]:
        reply = self.call(KEY_EXPORT, struct.pack(self.order + "H6x", key_id))
        rc, n = struct.unpack_from(self.order + "iI", reply)
        return rc, reply[36 : 36 + n]

    def evict(self, key_id: int) -> int:
        return struct.unpack_from(self.order + "i", self.call(KEY_EVICT, struct.pack(self.order + "H6x", key_id)))[0]

    def exists(self, key_id: int) -> bool:
        return self.export(key_id)[0] == 0

    # ---- PK requests (layouts: struct-offsets-v1.4.0.txt lines 40-69)
    def rsa_keygen(self, bits: int, e: int = 65537, flags: int = EPHEMERAL, key_id: int = 0) -> tuple[int, bytes]:
        return self.crypto(RSA_KEYGEN, self.u32(flags, key_id, bits, e) + b"label".ljust(24, b"\0"))

    def rsa(self, key_id: int, op: int, data: bytes, cap: int = 512, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(RSA_FN, self.u32(op, options, key_id, len(data), cap) + data)

    def rsa_size(self, key_id: int, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(RSA_GET_SIZE, self.u32(options, key_id))

    def ecc_keygen(self, sz: int, curve: int, flags: int = EPHEMERAL, key_id: int = 0) -> tuple[int, bytes]:
        return self.crypto(EC_KEYGEN, self.u32(sz, curve, key_id, flags, 0xFFFF) + b"ecc".ljust(24, b"\0"))

    def ecdh(self, prv: int, pub: int, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(ECDH, self.u32(options, prv, pub))

    def ecc_sign(self, key_id: int, digest: bytes, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(ECDSA_SIGN, self.u32(options, key_id, len(digest)) + digest)

    def ecc_verify(self, key_id: int, sig: bytes, digest: bytes, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(ECDSA_VERIFY, self.u32(options, key_id, len(sig), len(digest)) + sig + digest)

    def x25519_keygen(self, flags: int = EPHEMERAL, key_id: int = 0, sz: int = 32) -> tuple[int, bytes]:
        return self.crypto(X25519_KEYGEN, self.u32(sz, flags, key_id) + b"x25519".ljust(24, b"\0"))

    def x25519(self, prv: int, pub: int, endian: int = 1, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(X25519, self.u32(options, prv, pub, endian))

    def ed_keygen(self, flags: int = EPHEMERAL, key_id: int = 0) -> tuple[int, bytes]:
        return self.crypto(ED_KEYGEN, self.u32(flags, key_id, 0xFFFF) + b"ed25519".ljust(24, b"\0"))

    def ed_sign(
        self, key_id: int, msg: bytes, mode: int = 255, ctx: bytes = b"", options: int = 0
    ) -> tuple[int, bytes]:
        return self.crypto(ED_SIGN, self.u32(options, key_id, len(msg), mode, len(ctx)) + msg + ctx)

    def ed_verify(
        self, key_id: int, sig: bytes, msg: bytes, mode: int = 255, ctx: bytes = b"", options: int = 0
    ) -> tuple[int, bytes]:
        body = self.u32(options, key_id, len(sig), len(msg), mode, len(ctx)) + sig + msg + ctx
        return self.crypto(ED_VERIFY, body)


# ------------------------------------------------------------------------------------------ tests


@pytest.fixture
def hsm() -> PkClient:
    return PkClient()


def test_pk_handlers_registered() -> None:
    from firmware.hsm.crypto import pk_25519, pk_ecc, pk_rsa

    reg = Registry()
    for module in (pk_rsa, pk_ecc, pk_25519):
        module.register(reg)
    assert sorted(k[2] for k in reg.handlers) == [1, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 16, 17]
    assert {k[:2] for k in reg.handlers} == {(0x0400, 3)}
    assert {k[3] for k in reg.handlers} == {None}  # PK dispatch ignores algoSubType


def test_unknown_pk_type_is_not_compiled_in(hsm: PkClient) -> None:
    # v1.4.0 diff §10.1 [probe]: PK type 99 -> `63000000 52ffffff`
    assert hsm.raw(99, b"") == h("63000000 52ffffff")


def test_ec_check_private_is_compiled_out(hsm: PkClient) -> None:
    # v1.4.0: the EC check handler is `#if 0`-ed: NOT_COMPILED_IN with the [8] request
    assert hsm.raw(EC_CHECK, h("01000000 07000000")) == h("0b000000 52ffffff")


def test_big_endian_client_gets_big_endian_fields() -> None:
    be = PkClient(order=">")
    rc, body = be.ecc_keygen(32, 7)
    assert rc == 0
    key_id, n = struct.unpack_from(">II", body)
    assert (key_id, n) == (0x0100, 121) and len(body) == 8 + 121
    kid = be.cache(body[8:], SIGN | VERIFY, key_id=3)
    rc, body = be.ecc_sign(kid, bytes(32))
    assert rc == 0 and struct.unpack_from(">I", body)[0] == len(body) - 4
    rc, body = be.ecc_verify(kid, body[4:], bytes(32))
    assert (rc, body) == (0, h("00000001 00000000"))


@pytest.mark.parametrize("algo", [1, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 16, 17])
def test_garbage_bodies_never_crash(algo: int) -> None:
    """Every PK handler answers any body (short, long, random) with a proper response, never an
    exception: `PkClient.call` asserts the server recorded no handler error."""
    import random

    rnd = random.Random(algo)
    hsm = PkClient()
    hsm.cache(h("302a300506032b6570032100") + bytes(32), 0xFFFF & ~NONMODIFIABLE, key_id=1)
    for n in (0, 3, 8, 12, 16, 20, 24, 36, 40, 44, 60, 300):
        if algo in (8,) and n >= 40:
            continue  # would run an RSA keygen with random parameters (slow); covered elsewhere
        for _ in range(3):
            body = bytes(rnd.getrandbits(8) for _ in range(n))
            if n >= 8:  # aim some requests at key 1 so that they get past the key lookup
                body = body[:4] + struct.pack("<I", 1) + body[8:]
            reply = hsm.raw(algo, body)
            assert reply[:4] == struct.pack("<I", algo)


def test_seeded_rng_makes_keys_and_signatures_reproducible() -> None:
    """Keys and ECDSA nonces come from the engine's RNG: the same seed gives the same bytes."""
    from firmware.hsm.crypto.engine import SoftwareEngine

    replies = []
    for _ in range(2):
        hsm = PkClient()
        hsm.server.crypto_engine = SoftwareEngine(seed=1234)
        ecc = hsm.ecc_keygen(32, 7)[1]
        kid = hsm.cache(ecc[8:], SIGN, key_id=5)
        replies.append((ecc, hsm.ecc_sign(kid, bytes(32)), hsm.x25519_keygen(), hsm.ed_keygen(), hsm.rsa_keygen(1024)))
    assert replies[0] == replies[1]
    other = PkClient()
    other.server.crypto_engine = SoftwareEngine(seed=4321)
    assert other.ecc_keygen(32, 7)[1] != replies[0][0]
