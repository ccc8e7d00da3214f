"""SHA-224/256/384/512 (+512/224, 512/256) through the wire at v1.4.0: one block per message,
client-carried midstate (crypto spec §3.7/§3.8 + Appendix A, v1.4.0 diff §10.2).

Vectors: packets the unmodified v1.4.0 client suite sent (``/tmp/hsmtest/diag-stockclean/
packets.log``, connection c2; the midstate in each *final* request was computed by the client's own
wolfCrypt, so it is what the C server answers to the preceding non-final request), the C server's
answer to the first SHA-256 request, FIPS 180-4 example messages, and hashlib for random messages.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sym_support import (
    BADARGS,
    DIGEST_LEN,
    HASH,
    HASHLIB,
    IV,
    NOT_COMPILED_IN,
    SHA224,
    SHA256,
    SHA384,
    SHA512,
    SHA512_224,
    SHA512_256,
    WIRE_ALGO,
    CountingHal,
    SymClient,
    block_size,
    h,
    sha_request,
    wire_hash,
    words,
)

from firmware.hsm.crypto import engine as eng

# ------------------------------------------------------------------------------------------ captured packets

# kind 0401 seq 2 (c2): the first SHA-256 message of the suite (DRBG instantiation), final, 53 bytes.
FIRST_SHA256_REQUEST = h(
    "06000000 00000000  00000000 00000000 67e6096a85ae67bb72f36e3c3af54fa57f520e518c68059babd9831f19cde05b"
    " 01000000 35000000 01000001b8a65ad0f345db4e0effe875c3a2e71f42c7129d620ff5c119a9ef55f05185e0fb8581f9317517"
    "276e06e9607ddbcbcc2e000000000000000000000000000000"
)
# What the v1.4.0 C server answers (header, hiLen, loLen, digest, 32 zero bytes, hashType 0).
FIRST_SHA256_RESPONSE = h(
    "06000000 00000000 00000000 00000000"
    " 6e2f8fe3cdcd8942bc19890b70e89dd37ef46dfbdc17c209941b1b236417b370" + "00" * 32 + " 00000000"
)

# (variant, non-final request, the client's next final request, expected digest of the message).
# Non-final requests carry garbage in lastBlockLen (and, for SHA-384, in hashType): ignored.
CAPTURED_CHAINS = [
    (  # seq 145/146: whTest_CryptoSha256, 64 x "a"; wolfHSM's expectedOutOne
        SHA256,
        h(
            "06000000000000000000000000000000"
            "67e6096a85ae67bb72f36e3c3af54fa57f520e518c68059babd9831f19cde05b0000000004220420" + "61" * 64 + "4e1b0000"
        ),
        h(
            "06000000000000000000000040000000"
            "1cb85bdf26061ee894a845fb310fd44f16685eb2c199d4d6294990ab665e63000100000000000000" + "61" * 64 + "4e1b0000"
        ),
        h("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    ),
    (  # seq 147/148: SHA-224, 64 x "a"
        SHA224,
        h(
            "05000000000000000000000000000000"
            "d89e05c107d57c3617dd703039590ef7310bc0ff11155868a78ff964a44ffabe0000000000000000" + "61" * 64 + "4e1b0000"
        ),
        h(
            "05000000000000000000000040000000"
            "39deb6b055882c2f866d83640b176bde62d0eae237172674e4102cef128d35570100000000000000" + "61" * 64 + "4e1b0000"
        ),
        hashlib.sha224(b"a" * 64).digest(),
    ),
    (  # seq 149/150: SHA-384, 128 x "a"; hashType (and non-final lastBlockLen) = "aaaa" garbage
        SHA384,
        h(
            "07000000000000000000000000000000"
            "d89e05c15d9dbbcb07d57c362a299a6217dd70305a01599139590ef7d8ec2f15310bc0ff6726336711155868874ab48e"
            "a78ff9640d2e0cdba44ffabe1d48b547" + "61616161" + "00000000" + "61616161" + "61" * 128 + "00000000"
        ),
        h(
            "07000000000000000000000080000000"
            "5ce2c2c7931f0491230783bbbffad9372fbb8bcb10943317676a27b55bbb70a131827221e17d35d6287833e6efcd53be"
            "c4586562970c89ab056649dd2ba7ef50" + "61616161" + "01000000" + "00000000" + "61" * 128 + "00000000"
        ),
        hashlib.sha384(b"a" * 128).digest(),
    ),
    (  # seq 151/152: SHA-512, 128 x "a"
        SHA512,
        h(
            "08000000000000000000000000000000"
            "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c68059b"
            "6bbd41fbabd9831f79217e1319cde05b" + "08000000" + "00000000" + "00000000" + "61" * 128 + "00000000"
        ),
        h(
            "08000000000000000000000080000000"
            "041bc1556e7cbf03dc5f28457f75480dc02690fc9b6846edf5804c42a1011728eeafe6ef8b7331ca48e2414e8dfef530"
            "f45a89747cd57993b0b8bac1eb841e4b" + "08000000" + "01000000" + "00000000" + "61" * 128 + "00000000"
        ),
        hashlib.sha512(b"a" * 128).digest(),
    ),
]


def test_first_captured_request_gets_the_c_servers_bytes() -> None:
    c = SymClient()
    assert c.raw(HASH, SHA256, FIRST_SHA256_REQUEST[8:]) == FIRST_SHA256_RESPONSE


@pytest.mark.parametrize("variant,first,second,digest", CAPTURED_CHAINS, ids=["sha256", "sha224", "sha384", "sha512"])
def test_captured_chain_midstate_equals_wolfcrypts(variant: int, first: bytes, second: bytes, digest: bytes) -> None:
    c = SymClient()
    algo = struct.unpack_from("<I", first)[0]
    half = block_size(variant) // 2
    rc, body = c.crypto(HASH, algo, first[8:])
    assert rc == 0 and len(body) == 76
    # the state the client carried into its next message (offset 8 of the request struct)
    assert body[: 8 + half] == second[8 : 16 + half]
    assert body[8 + half :] == bytes(76 - 8 - half), "unused hash bytes and hashType are 0"
    rc, body = c.crypto(HASH, algo, second[8:])
    assert rc == 0
    assert body == bytes(8) + digest.ljust(64, b"\0") + bytes(4)


def test_sha256_after_one_block_equals_the_values_file() -> None:
    """values file: sha256_after1blk_digest (64 x 'a', as in the wolfHSM test) and lo=64 hi=0."""
    assert words(SymClient(), SHA256, eng.sha256_compress(IV[SHA256], b"a" * 64)) == h(
        "1cb85bdf26061ee894a845fb310fd44f16685eb2c199d4d6294990ab665e6300"
    )


# ------------------------------------------------------------------------------------------ known answers

ABC = b"abc"
TWO_BLOCK = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
TWO_BLOCK_512 = (
    b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
)
# FIPS 180-4 example digests (NIST CSRC "Examples with intermediate values")
KAT = {
    (SHA256, ABC): "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    (SHA256, TWO_BLOCK): "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    (SHA224, ABC): "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
    (SHA224, TWO_BLOCK): "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
    (SHA384, ABC): "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    (
        SHA384,
        TWO_BLOCK_512,
    ): "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
    (SHA512, ABC): "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    (SHA512, TWO_BLOCK_512): "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    (SHA512_224, ABC): "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa",
    (SHA512_256, ABC): "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23",
}


@pytest.mark.parametrize("variant,msg", list(KAT), ids=[f"{HASHLIB[v]}-{len(m)}" for v, m in KAT])
@pytest.mark.parametrize("order", ["<", ">"])
def test_fips180_examples(variant: int, msg: bytes, order: str) -> None:
    assert wire_hash(SymClient(order=order), variant, msg).hex() == KAT[(variant, msg)]


@pytest.mark.parametrize("variant", [SHA224, SHA256, SHA384, SHA512, SHA512_224, SHA512_256])
@pytest.mark.parametrize("n", [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 300])
def test_lengths_around_the_padding_boundaries(variant: int, n: int) -> None:
    msg = bytes((i * 7 + 3) & 0xFF for i in range(n))
    c = SymClient()
    ref = hashlib.new(HASHLIB[variant], msg).digest()
    assert wire_hash(c, variant, msg) == ref
    assert wire_hash(c, variant, msg, final_full=True) == ref  # a whole block in the final message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from([SHA224, SHA256, SHA384, SHA512, SHA512_224, SHA512_256]),
    msg=st.binary(max_size=700),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=8),
    order=st.sampled_from(["<", ">"]),
)
def test_random_splits_hashed_block_by_block_equal_hashlib(
    variant: int, msg: bytes, cuts: list[int], order: str
) -> None:
    """A client model with wolfCrypt's buffering: updates of random sizes, a block goes out whenever
    the buffer fills, the final message carries the 0..block-1 remaining bytes."""
    c = SymClient(order=order)
    algo, bs = WIRE_ALGO[variant], block_size(variant)
    state, count, buf = words(c, variant, IV[variant]), 0, b""
    pieces, prev = [], 0
    for cut in sorted({min(x, len(msg)) for x in cuts} | {len(msg)}):
        pieces.append(msg[prev:cut])
        prev = cut
    for piece in pieces:
        buf += piece
        while len(buf) >= bs:  # the v1.4.0 client sends a block as soon as its buffer is full
            block, buf = buf[:bs], buf[bs:]
            rc, body = c.crypto(HASH, algo, sha_request(c, variant, state, count, block, False, last_len=0xDEAD))
            assert rc == 0
            state, count = body[8 : 8 + bs // 2], count + bs
    rc, body = c.crypto(
        HASH, algo, sha_request(c, variant, state, count, buf.ljust(bs, b"\0"), True, last_len=len(buf))
    )
    assert rc == 0
    assert body[8 : 8 + DIGEST_LEN[variant]] == hashlib.new(HASHLIB[variant], msg).digest()


# ------------------------------------------------------------------------------------------ byte order


def test_big_endian_client_gets_big_endian_words_and_counters() -> None:
    """The midstate is the client's raw memory: on a big-endian client the words are big-endian, so the
    state bytes equal the standard digest bytes of the chaining value; u32 fields are big-endian too."""
    be, le = SymClient(order=">"), SymClient(order="<")
    block = b"a" * 64
    rc, body = be.crypto(HASH, SHA256, sha_request(be, SHA256, words(be, SHA256, IV[SHA256]), 0, block, False))
    assert rc == 0
    assert body[:8] == h("00000000 00000040")
    assert body[8:40] == struct.pack(">8I", *eng.sha256_compress(IV[SHA256], block))
    rc2, body_le = le.crypto(HASH, SHA256, sha_request(le, SHA256, words(le, SHA256, IV[SHA256]), 0, block, False))
    assert struct.unpack(">8I", body[8:40]) == struct.unpack("<8I", body_le[8:40])
    # and the final digest is the standard big-endian one for both
    assert wire_hash(be, SHA512, TWO_BLOCK_512) == wire_hash(le, SHA512, TWO_BLOCK_512)


def test_big_endian_captured_request() -> None:
    """The first captured request re-framed big-endian: same digest."""
    c = SymClient(order=">")
    lo_req = FIRST_SHA256_REQUEST[8:]
    hi, lo, state, last, n, block = struct.unpack("<II32sII64s4x", lo_req)
    state_be = struct.pack(">8I", *struct.unpack("<8I", state))
    rc, body = c.crypto(HASH, SHA256, struct.pack(">II32sII64s4x", hi, lo, state_be, last, n, block))
    assert rc == 0 and body == FIRST_SHA256_RESPONSE[8:]


# ------------------------------------------------------------------------------------------ counters and quirks


def test_sha256_counter_carries_into_hilen() -> None:
    c = SymClient()
    rc, body = c.crypto(
        HASH, SHA256, sha_request(c, SHA256, words(c, SHA256, IV[SHA256]), 0xFFFF_FFC0, bytes(64), False)
    )
    assert rc == 0 and c.fields(body, "II") == (1, 0)


def test_sha256_final_uses_the_64_bit_bit_length() -> None:
    """hiLen:loLen = 2^32 bytes already hashed: the padding's length field is (2^32 + 3) * 8."""
    c = SymClient()
    state = words(c, SHA256, IV[SHA256])
    rc, body = c.crypto(HASH, SHA256, sha_request(c, SHA256, state, 0, b"abc".ljust(64, b"\0"), True, hi=1, last_len=3))
    assert rc == 0
    pad = b"abc\x80" + bytes(52) + (((1 << 32) + 3) * 8).to_bytes(8, "big")
    assert body[8:40] == struct.pack(">8I", *eng.sha256_compress_pure(IV[SHA256], pad))
    assert body[8:40] != hashlib.sha256(b"abc").digest()


def test_sha512_counter_loses_the_carry_like_v140() -> None:
    """wolfCrypt's SHA-512 counter is u64 but travels as u32: 0xFFFFFF80 + 128 comes back as 0 with
    hiLen unchanged (the client then believes 4 GiB less was hashed)."""
    c = SymClient()
    state = words(c, SHA512, IV[SHA512])
    rc, body = c.crypto(HASH, SHA512, sha_request(c, SHA512, state, 0xFFFF_FF80, bytes(128), False, hi=5))
    assert rc == 0 and c.fields(body, "II") == (5, 0)


@pytest.mark.parametrize("hash_type,n", [(8, 64), (16, 28), (17, 32), (0, 64), (7, 64), (0x61616161, 64)])
def test_sha512_hashtype_selects_the_output_length(hash_type: int, n: int) -> None:
    """SHA-512 requests: 16 -> /224, 17 -> /256, anything else -> SHA-512 (v1.4.0 default branch)."""
    c = SymClient()
    state = words(c, SHA512, IV[SHA512])
    rc, body = c.crypto(
        HASH, SHA512, sha_request(c, SHA512, state, 0, ABC.ljust(128, b"\0"), True, hash_type=hash_type, last_len=3)
    )
    assert rc == 0
    full = eng.SoftwareEngine().sha2_final(_NoCtx(), 512, IV[SHA512], 0, ABC, 64)
    assert body[8 : 8 + n] == full[:n] and body[8 + n :] == bytes(76 - 8 - n)


def test_sha384_ignores_hashtype_garbage() -> None:
    c = SymClient()
    state = words(c, SHA384, IV[SHA384])
    for ht in (0, 7, 8, 16, 17, 0x61616161):
        rc, body = c.crypto(
            HASH, SHA384, sha_request(c, SHA384, state, 0, ABC.ljust(128, b"\0"), True, hash_type=ht, last_len=3)
        )
        assert rc == 0 and body[8:56].hex() == KAT[(SHA384, ABC)]


def test_response_hashtype_is_zero() -> None:
    """v1.4.0 never sets Sha2Response.hashType (the v1.4.0 client ignores it)."""
    c = SymClient()
    for variant in (SHA224, SHA256, SHA384, SHA512):
        algo = variant
        bs = block_size(variant)
        for last in (False, True):
            rc, body = c.crypto(HASH, algo, sha_request(c, variant, words(c, variant, IV[variant]), 0, bytes(bs), last))
            assert rc == 0 and c.fields(body, "I", 72) == (0,)


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("algo,size", [(SHA224, 116), (SHA256, 116), (SHA384, 216), (SHA512, 216)])
def test_short_body_is_badargs_and_longer_is_fine(algo: int, size: int) -> None:
    c = SymClient()
    assert c.crypto(HASH, algo, bytes(size - 1))[0] == BADARGS
    assert c.crypto(HASH, algo, b"")[0] == BADARGS
    assert c.crypto(HASH, algo, bytes(size))[0] == 0
    assert c.crypto(HASH, algo, bytes(size + 40))[0] == 0


@pytest.mark.parametrize("variant", [SHA224, SHA256, SHA384, SHA512])
def test_last_block_len_over_the_block_is_badargs_only_when_final(variant: int) -> None:
    c = SymClient()
    bs = block_size(variant)
    state = words(c, variant, IV[variant])
    assert c.crypto(HASH, variant, sha_request(c, variant, state, 0, bytes(bs), True, last_len=bs + 1))[0] == BADARGS
    assert (
        c.crypto(HASH, variant, sha_request(c, variant, state, 0, bytes(bs), True, last_len=0xFFFF_FFFF))[0] == BADARGS
    )
    rc, body = c.crypto(HASH, variant, sha_request(c, variant, state, 0, bytes(bs), True, last_len=bs))
    assert rc == 0 and body[8 : 8 + DIGEST_LEN[variant]] == hashlib.new(HASHLIB[variant], bytes(bs)).digest()
    assert c.crypto(HASH, variant, sha_request(c, variant, state, 0, bytes(bs), False, last_len=bs + 1))[0] == 0


@pytest.mark.parametrize("algo", [0, 4, 10, 11, 12, 13, 16, 17, 18, 99, 0xFFFF_FFFF])
def test_hash_types_not_on_the_v140_wire_are_not_compiled_in(algo: int) -> None:
    """SHA-1 (NO_SHA), SHA-3 (absent at v1.4.0), SHA-512/t as algoType, SHAKE, unknown."""
    c = SymClient()
    assert c.crypto(HASH, algo, bytes(216)) == (NOT_COMPILED_IN, b"")


def test_sub_type_is_ignored() -> None:
    c = SymClient()
    assert c.raw(HASH, SHA256, FIRST_SHA256_REQUEST[8:], sub=7) == FIRST_SHA256_RESPONSE


# ------------------------------------------------------------------------------------------ engine and costs


class _NoCtx:
    class config:  # noqa: N801 - stands in for ServerConfig
        pass

    def spend(self, cycles: int) -> None:
        pass


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=128, max_size=128), seed=st.binary(min_size=64, max_size=64))
def test_fast_and_pure_compression_agree(data: bytes, seed: bytes) -> None:
    h256 = struct.unpack(">8I", seed[:32])
    h512 = struct.unpack(">8Q", seed)
    assert eng.sha256_compress_pure(h256, data) == eng.sha256_compress(h256, data)
    assert eng.sha512_compress_pure(h512, data) == eng.sha512_compress(h512, data)
    if eng.sha256_compress_fast is not None:
        assert eng.sha256_compress_fast(h256, data[:64]) == eng.sha256_compress_pure(h256, data[:64])


def test_constants_and_ivs_are_fips_180_4() -> None:
    assert eng._K256[:2] == (0x428A2F98, 0x71374491) and eng._K256[-1] == 0xC67178F2
    assert eng._K512[0] == 0x428A2F98D728AE22 and eng._K512[-1] == 0x6C44198C4A475817
    assert eng.SHA256_IV == IV[SHA256] and eng.SHA224_IV == IV[SHA224]
    assert eng.SHA384_IV == IV[SHA384] and eng.SHA512_IV == IV[SHA512]


def test_fast_path_is_active_here() -> None:
    """This machine's libcrypto exports SHA256_Transform/SHA512_Transform: the fast path must be on."""
    assert eng.SHA2_BACKEND == "openssl-ctypes"


def test_pure_backend_can_be_forced() -> None:
    code = (
        "from firmware.hsm.crypto import engine as e; import hashlib;"
        "assert e.sha256_compress is e.sha256_compress_pure; print(e.SHA2_BACKEND)"
    )
    env = dict(os.environ, HSMEMU_SHA2_BACKEND="pure")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "pure-python"


def test_cycles_are_charged_per_block_and_overridable() -> None:
    hal = CountingHal()
    c = SymClient(hal=hal)
    req = sha_request(c, SHA256, words(c, SHA256, IV[SHA256]), 0, bytes(64), False)
    before = hal.cycles
    c.crypto(HASH, SHA256, req)
    default = hal.cycles - before
    c.server.config.crypto_sw_sha256_block = eng.SW_COSTS["crypto_sw_sha256_block"] + 10_000
    before = hal.cycles
    c.crypto(HASH, SHA256, req)
    assert hal.cycles - before == default + 10_000
    before = hal.cycles
    c.crypto(HASH, SHA256, sha_request(c, SHA256, words(c, SHA256, IV[SHA256]), 0, bytes(64), True, last_len=56))
    assert hal.cycles - before >= default + 2 * 10_000, "56 bytes pad into two blocks"


# ------------------------------------------------------------------------------------------ speed


def _per_call_us(fn, n: int, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n * 1e6)
    return best


def test_one_block_from_a_midstate_is_far_below_an_echo_round_trip() -> None:
    """Issue 5: one SHA-256 block from a midstate must cost < 10% of an echo round trip over TCP
    (~450 us here), i.e. < 45 us. Measured as what a non-final SHA-256 request costs the server beyond
    an echo request (best of several rounds, so that a loaded machine does not make it flaky)."""
    c = SymClient()
    req = struct.pack("<II", SHA256, 0) + sha_request(c, SHA256, words(c, SHA256, IV[SHA256]), 0, bytes(64), False)
    sha = echo = float("inf")
    for _ in range(7):
        sha = min(sha, _per_call_us(lambda: c.call(0x0401, req), 100, 1))
        echo = min(echo, _per_call_us(lambda: c.call(0x0105, b"Request:0"), 100, 1))
    assert sha - echo < 45, (sha, echo)
    assert _per_call_us(lambda: eng.sha256_compress(IV[SHA256], bytes(64)), 1000, 5) < 15


@pytest.mark.slow
def test_report_speeds(capsys: pytest.CaptureFixture[str]) -> None:
    c = SymClient()
    req = struct.pack("<II", SHA256, 0) + sha_request(c, SHA256, words(c, SHA256, IV[SHA256]), 0, bytes(64), False)
    echo = b"Request:0"
    rows = {
        "sha256 pure / block": _per_call_us(lambda: eng.sha256_compress_pure(IV[SHA256], bytes(64)), 300),
        "sha256 fast / block": _per_call_us(lambda: eng.sha256_compress(IV[SHA256], bytes(64)), 5000),
        "sha512 pure / block": _per_call_us(lambda: eng.sha512_compress_pure(IV[SHA512], bytes(128)), 300),
        "sha512 fast / block": _per_call_us(lambda: eng.sha512_compress(IV[SHA512], bytes(128)), 5000),
        "Server.handle SHA-256 block": _per_call_us(lambda: c.call(0x0401, req), 2000),
        "Server.handle echo": _per_call_us(lambda: c.call(0x0105, echo), 2000),
    }
    with capsys.disabled():
        for k, v in rows.items():
            print(f"{k:32s} {v:8.2f} us")
