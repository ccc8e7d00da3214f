"""HKDF and the two-step CMAC KDF through the wire at v1.4.0 (crypto spec §3.11/§3.12, v1.4.0 diff
§10.2). Vectors: the suite's requests (``diag-stockclean`` c2 seq 153 = RFC 5869 test case 1 with
EPHEMERAL, seq 166 = wolfHSM's CMAC-KDF vector from wolfSSL's NIST-based tests), RFC 5869 cases 2/3,
and `cryptography`'s HKDF for the other hash functions. Layouts: struct-offsets lines 46-49.
"""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from test_sym_support import (
    BAD_FUNC_ARG,
    BADARGS,
    DERIVE,
    EPHEMERAL,
    KDF,
    KDF_HKDF,
    KDF_TWOSTEP_CMAC,
    NOT_COMPILED_IN,
    NOTFOUND,
    SIGN,
    USAGE,
    CountingHal,
    SymClient,
    h,
)

from firmware.hsm.config import ServerConfig
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import default_server

CAPTURED_HKDF = h(  # seq 153: EPHEMERAL, SHA-256, IKM 0x0b x 22, salt 00..0c, info f0..f9, 42 bytes
    "090000000100000010000000000000000000000006000000160000000d0000000a0000002a0000000000000000000000"
    "000000000000000000000000000000000b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b00010203040506070809"
    "0a0b0cf0f1f2f3f4f5f6f7f8f9"
)
RFC5869_TC1_OKM = h("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
CAPTURED_CMAC_KDF = h(  # seq 166: EPHEMERAL, salt 24 bytes, Z 32 bytes, fixedInfo 60 bytes, 40 bytes out
    "09000000020000001000000000000000000000000000000018000000200000003c000000280000000000000000000000"
    "000000000000000000000000000000002051af34762ebe556f72a5c6edc7771eb9245fad76f034beae8e93c9c991cf89"
    "6a491a8907df4e4be5186ae496cd340dc19b237821db7b60a259cae2c4a36b89563cb148c78251343bbfabdc13ca7ac2"
    "171c2eb6021f4477fea33b28724da721ee087bffd794a1563754b425a8d09b3e0da5ffed"
)
SALT, Z = CAPTURED_CMAC_KDF[64:88], CAPTURED_CMAC_KDF[88:120]
FIXED = CAPTURED_CMAC_KDF[120:]
CMAC_KDF_OUT = h("b40c32be012793bafdf778c5f45443f4c97123931763d83a592707bff2d36059502729cab88b2938")

SHA224, SHA256, SHA384, SHA512, SHA3_224, SHA3_256, SHA3_384, SHA3_512 = 5, 6, 7, 8, 10, 11, 12, 13
CRYPTOGRAPHY_HASH = {
    SHA224: hashes.SHA224,
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
    SHA3_224: hashes.SHA3_224,
    SHA3_256: hashes.SHA3_256,
    SHA3_384: hashes.SHA3_384,
    SHA3_512: hashes.SHA3_512,
}


def hkdf_req(
    c: SymClient,
    ikm: bytes,
    salt: bytes = b"",
    info: bytes = b"",
    out: int = 32,
    hash_type: int = SHA256,
    flags: int = EPHEMERAL,
    key_in: int = 0,
    key_out: int = 0,
    label: bytes = b"",
) -> bytes:
    head = struct.pack(
        c.order + "IIIIIIII24s", flags, key_in, key_out, hash_type, len(ikm), len(salt), len(info), out, label
    )
    return head + ikm + salt + info


def cmac_kdf_req(
    c: SymClient,
    salt: bytes = SALT,
    z: bytes = Z,
    fixed: bytes = FIXED,
    out: int = 40,
    flags: int = EPHEMERAL,
    key_salt: int = 0,
    key_z: int = 0,
    key_out: int = 0,
    label: bytes = b"",
) -> bytes:
    head = struct.pack(
        c.order + "IIIIIIII24s", flags, key_salt, key_z, key_out, len(salt), len(z), len(fixed), out, label
    )
    return head + salt + z + fixed


def hkdf(c: SymClient, body: bytes) -> tuple[int, bytes]:
    return c.crypto(KDF, KDF, body, sub=KDF_HKDF)


def cmac_kdf(c: SymClient, body: bytes) -> tuple[int, bytes]:
    return c.crypto(KDF, KDF, body, sub=KDF_TWOSTEP_CMAC)


def ref(hash_type: int, ikm: bytes, salt: bytes, info: bytes, n: int) -> bytes:
    return HKDF(CRYPTOGRAPHY_HASH[hash_type](), n, salt or None, info).derive(ikm)


# ------------------------------------------------------------------------------------------ HKDF


def test_captured_hkdf_request_rfc5869_case_1() -> None:
    c = SymClient()
    assert c.call(0x0409, CAPTURED_HKDF) == h("09000000 00000000 00000000 2a000000") + RFC5869_TC1_OKM


RFC5869 = [
    (  # test case 2: long inputs
        bytes(range(0x00, 0x50)),
        bytes(range(0x60, 0xB0)),
        bytes(range(0xB0, 0x100)),
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (  # test case 3: no salt, no info
        b"\x0b" * 22,
        b"",
        b"",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
]


@pytest.mark.parametrize("ikm,salt,info,okm", RFC5869, ids=["tc2", "tc3"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_rfc5869(ikm: bytes, salt: bytes, info: bytes, okm: str, order: str) -> None:
    c = SymClient(order=order)
    n = len(h(okm))
    rc, body = hkdf(c, hkdf_req(c, ikm, salt, info, n))
    assert rc == 0 and c.fields(body, "II") == (0, n) and body[8:] == h(okm)


@pytest.mark.parametrize("hash_type", list(CRYPTOGRAPHY_HASH))
@pytest.mark.parametrize("n", [0, 1, 28, 64, 65, 1000])
def test_every_hash_of_the_build(hash_type: int, n: int) -> None:
    c = SymClient()
    ikm, salt, info = bytes(range(100)), b"salt" * 40, b"info"  # salt longer than the HMAC block
    rc, body = hkdf(c, hkdf_req(c, ikm, salt, info, n, hash_type))
    assert rc == 0 and body[8:] == (ref(hash_type, ikm, salt, info, n) if n else b"")


@pytest.mark.parametrize("hash_type", [0, 1, 3, 4, 9, 14, 16, 17, 18, 19, 99])
def test_hash_types_outside_the_build_are_bad_func_arg(hash_type: int) -> None:
    """MD5 (3) and SHA-1 (4) are compiled out (NO_MD5, NO_SHA); wolfCrypt HMAC has no SHA-512/t."""
    c = SymClient()
    assert hkdf(c, hkdf_req(c, b"ikm", out=16, hash_type=hash_type)) == (BAD_FUNC_ARG, b"")


def test_output_limits() -> None:
    c = SymClient()
    assert hkdf(c, hkdf_req(c, b"ikm", out=4992))[0] == 0  # COMM_DATA_LEN 5000 - 8
    assert hkdf(c, hkdf_req(c, b"ikm", out=4993)) == (BADARGS, b"")
    big = SymClient(default_server(ServerConfig(comm_data_len=9000), nvm=RamNvm()))
    assert hkdf(big, hkdf_req(big, b"ikm", out=255 * 32))[0] == 0
    assert hkdf(big, hkdf_req(big, b"ikm", out=255 * 32 + 1)) == (BAD_FUNC_ARG, b"")


def test_cached_output_and_cached_input() -> None:
    """whTest_CryptoHkdf: the derived key cached with a label, then used as input key by id."""
    c = SymClient()
    want = ref(SHA256, b"ikm", b"", b"", 32)
    rc, body = hkdf(c, hkdf_req(c, b"ikm", flags=DERIVE, label=b"HKDF Key"))
    assert rc == 0 and len(body) == 8
    kid, n = c.fields(body, "II")
    assert n == 0 and kid & 0xFF
    rc, size, label, key = c.export(kid)
    assert rc == 0 and key == want and label.rstrip(b"\0") == b"HKDF Key"
    # the cached key as IKM (usage DERIVE was stored with it)
    rc, body = hkdf(c, hkdf_req(c, b"", info=b"x", key_in=kid))
    assert rc == 0 and body[8:] == ref(SHA256, want, b"", b"x", 32)
    # a given output id, global
    rc, body = hkdf(c, hkdf_req(c, b"ikm", flags=0, key_out=0x0142))
    assert rc == 0 and c.fields(body, "II") == (0x0142, 0)
    assert c.export(0x0142)[3] == want


def test_input_key_usage_and_precedence() -> None:
    c = SymClient()
    no_derive = c.cache(b"k" * 32, SIGN)
    assert hkdf(c, hkdf_req(c, b"", key_in=no_derive)) == (USAGE, b"")
    assert hkdf(c, hkdf_req(c, b"", key_in=0x33)) == (NOTFOUND, b"")
    # inline IKM wins over a key id
    rc, body = hkdf(c, hkdf_req(c, b"ikm", key_in=no_derive))
    assert rc == 0 and body[8:] == ref(SHA256, b"ikm", b"", b"", 32)
    # no IKM at all (erased id, inKeySz 0): wolfCrypt HKDF over an empty key
    rc, body = hkdf(c, hkdf_req(c, b""))
    assert rc == 0 and body[8:] == ref(SHA256, b"", b"", b"", 32)
    # keys larger than a regular cache slot are fine as IKM (no 256-byte limit at v1.4.0)
    big = c.cache(bytes(range(256)) * 2, DERIVE)
    rc, body = hkdf(c, hkdf_req(c, b"", key_in=big))
    assert rc == 0 and body[8:] == ref(SHA256, bytes(range(256)) * 2, b"", b"", 32)


def test_hkdf_sizes() -> None:
    c = SymClient()
    body = hkdf_req(c, b"ikm", b"salt", b"info")
    assert hkdf(c, body[:55]) == (BADARGS, b"")
    assert hkdf(c, body[:-1]) == (BADARGS, b"")
    assert hkdf(c, body + b"junk")[0] == 0
    assert hkdf(c, struct.pack("<IIIIIIII24s", EPHEMERAL, 0, 0, SHA256, 0xFFFF_FFFF, 0, 0, 32, b""))[0] == BADARGS


def test_hkdf_cycles_follow_the_hash_blocks() -> None:
    hal = CountingHal()
    c = SymClient(hal=hal)
    before = hal.cycles
    hkdf(c, hkdf_req(c, b"ikm", out=32))
    short = hal.cycles - before
    before = hal.cycles
    hkdf(c, hkdf_req(c, b"ikm", out=32 * 20))
    assert hal.cycles - before > short + 19 * 4 * 3000


# ------------------------------------------------------------------------------------------ CMAC-KDF


def test_captured_cmac_kdf_request() -> None:
    c = SymClient()
    assert c.call(0x0409, CAPTURED_CMAC_KDF) == h("09000000 00000000 00000000 28000000") + CMAC_KDF_OUT


@pytest.mark.parametrize("order", ["<", ">"])
def test_cmac_kdf_cached_salt_and_z(order: str) -> None:
    """whTest_CryptoCmacKdf: salt and Z by key id (usage DERIVE), output cached with a label."""
    c = SymClient(order=order)
    salt_id, z_id = c.cache(SALT, DERIVE), c.cache(Z, DERIVE)
    for body in (
        cmac_kdf_req(c, salt=b"", key_salt=salt_id),
        cmac_kdf_req(c, z=b"", key_z=z_id),
        cmac_kdf_req(c, salt=b"", z=b"", key_salt=salt_id, key_z=z_id),
    ):
        rc, out = cmac_kdf(c, body)
        assert rc == 0 and c.fields(out, "II") == (0, 40) and out[8:] == CMAC_KDF_OUT
    rc, out = cmac_kdf(c, cmac_kdf_req(c, flags=DERIVE, label=b"CMAC KDF Key"))
    kid, n = c.fields(out, "II")
    assert rc == 0 and n == 0 and len(out) == 8
    rc, size, label, key = c.export(kid)
    assert (rc, key, label.rstrip(b"\0")) == (0, CMAC_KDF_OUT, b"CMAC KDF Key")


def test_cmac_kdf_lengths() -> None:
    c = SymClient()
    for n in (1, 16, 17, 40):
        rc, out = cmac_kdf(c, cmac_kdf_req(c, out=n))
        assert rc == 0 and out[8:] == CMAC_KDF_OUT[:n]
    rc, out = cmac_kdf(c, cmac_kdf_req(c, out=100))
    assert rc == 0 and len(out) == 108 and out[8:48] == CMAC_KDF_OUT
    for salt in (SALT[:16], SALT + bytes(8)):
        assert cmac_kdf(c, cmac_kdf_req(c, salt=salt))[0] == 0
    assert cmac_kdf(c, cmac_kdf_req(c, fixed=b""))[0] == 0


def test_cmac_kdf_errors() -> None:
    c = SymClient()
    no_derive = c.cache(SALT, SIGN)
    assert cmac_kdf(c, cmac_kdf_req(c, salt=b"")) == (BADARGS, b""), "no salt and an erased salt id"
    assert cmac_kdf(c, cmac_kdf_req(c, z=b"")) == (BADARGS, b""), "no Z and an erased Z id"
    assert cmac_kdf(c, cmac_kdf_req(c, salt=b"", key_salt=no_derive)) == (USAGE, b"")
    assert cmac_kdf(c, cmac_kdf_req(c, z=b"", key_z=0x44)) == (NOTFOUND, b"")
    assert cmac_kdf(c, cmac_kdf_req(c, out=0)) == (BADARGS, b"")
    assert cmac_kdf(c, cmac_kdf_req(c, out=4993)) == (BADARGS, b"")
    assert cmac_kdf(c, cmac_kdf_req(c, salt=SALT[:20])) == (BAD_FUNC_ARG, b"")
    assert cmac_kdf(c, cmac_kdf_req(c, salt=b"", key_salt=c.cache(SALT[:20], DERIVE))) == (BAD_FUNC_ARG, b"")
    body = cmac_kdf_req(c)
    assert cmac_kdf(c, body[:55]) == (BADARGS, b"")
    assert cmac_kdf(c, body[:-1]) == (BADARGS, b"")


@pytest.mark.parametrize("sub", [0, 3, 99])
def test_unknown_kdf_sub_types_are_not_compiled_in(sub: int) -> None:
    c = SymClient()
    assert c.crypto(KDF, KDF, cmac_kdf_req(c), sub=sub) == (NOT_COMPILED_IN, b"")
