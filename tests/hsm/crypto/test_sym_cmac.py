"""AES-CMAC through the wire at v1.4.0, with wolfCrypt's resumable state (crypto spec §3.6).

Vectors: NIST SP 800-38B D.1-D.3 / RFC 4493, the CMAC messages the v1.4.0 client sent while
running the CMAC-KDF test in software with the HSM devId (``diag-stockclean`` c2, seq 167-182: the
state in each final request is the client's own wolfCrypt state, i.e. what the C server returns to
the preceding update), and `cryptography`'s CMAC for random data. Layout: struct-offsets lines 73-75.
"""

from __future__ import annotations

import os
import struct

import pytest
from cryptography.hazmat.primitives import cmac as crypto_cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sym_support import (
    ABORTED,
    BAD_FUNC_ARG,
    BADARGS,
    BUFFER_E,
    CMAC,
    DECRYPT,
    ENCRYPT,
    NOSPACE,
    NOTFOUND,
    SIGN,
    USAGE,
    VERIFY,
    SymClient,
    h,
)

K128 = h("2b7e151628aed2a6abf7158809cf4f3c")
K192 = h("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b")
K256 = h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
M = h(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)
SP800_38B = {  # (key, message length) -> tag
    (K128, 0): "bb1d6929e95937287fa37d129b756746",
    (K128, 16): "070a16b46b4d4144f79bdd9dd04a287c",
    (K128, 40): "dfa66747de9ae63030ca32611497c827",
    (K128, 64): "51f0bebf7e3b9d92fc49741779363cfe",
    (K192, 0): "d17ddf46adaacde531cac483de7a9367",
    (K192, 16): "9e99a7bf31e710900662f65e617c5184",
    (K192, 40): "8a1de5be2eb31aad089a82e6ee908b0e",
    (K192, 64): "a1d5df0eed790f794d77589659f39a11",
    (K256, 0): "028962f61b7bf89efc6b551f4667d983",
    (K256, 16): "28a7023f452e8f82bd4bf28d8c37c35c",
    (K256, 40): "aaf3d8f1de5640c232f5b169b9c911e6",
    (K256, 64): "e1992190549f6ed5696a2c056c315410",
}
ZERO_STATE = bytes(40)


def req(
    c: SymClient,
    data: bytes = b"",
    key: bytes = b"",
    out_sz: int = 0,
    key_id: int = 0,
    state: bytes = ZERO_STATE,
    key_sz: int | None = None,
) -> bytes:
    """CmacAesRequest [56]: outSz, inSz, keySz, keyId, pad, resumeState[40] | in | key."""
    n = len(key) if key_sz is None else key_sz
    return struct.pack(c.order + "IIIH2x", out_sz, len(data), n, key_id) + state + data + key


def state_bytes(c: SymClient, buffer: bytes, digest: bytes, size: int, total: int) -> bytes:
    return struct.pack(c.order + "16s16sII", buffer, digest, size, total)


def call(c: SymClient, body: bytes) -> tuple[int, bytes]:
    return c.crypto(CMAC, CMAC, body)


def update(c: SymClient, key: bytes, state: bytes, data: bytes, key_id: int = 0) -> bytes:
    rc, body = call(c, req(c, data, key, 0, key_id, state))
    assert rc == 0, rc
    assert len(body) == 48 and c.fields(body, "IH", 40) == (0, key_id)
    return body[:40]


def final(c: SymClient, key: bytes, state: bytes, data: bytes = b"", n: int = 16, key_id: int = 0) -> bytes:
    rc, body = call(c, req(c, data, key, n, key_id, state))
    assert rc == 0, rc
    assert body[:40] == ZERO_STATE and c.fields(body, "IH", 40) == (n, 0) and len(body) == 48 + n
    return body[48:]


def oneshot(c: SymClient, key: bytes, data: bytes, n: int = 16, key_id: int = 0) -> bytes:
    return final(c, key, os.urandom(40), data, n, key_id)  # the state is ignored in one-shot mode


def ref_cmac(key: bytes, data: bytes) -> bytes:
    mac = crypto_cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


# ------------------------------------------------------------------------------------------ known answers


@pytest.mark.parametrize("key,n", list(SP800_38B), ids=[f"aes{len(k) * 8}-{n}" for k, n in SP800_38B])
@pytest.mark.parametrize("order", ["<", ">"])
def test_sp800_38b(key: bytes, n: int, order: str) -> None:
    c = SymClient(order=order)
    want = h(SP800_38B[(key, n)])
    if n:
        assert oneshot(c, key, M[:n]) == want
    # init (key provisioning: no input), update, final with no input
    st0 = update(c, key, ZERO_STATE, b"")
    assert st0 == ZERO_STATE
    assert final(c, key, update(c, key, st0, M[:n])) == want
    if n:  # split updates, then a final without input (what the v1.4.0 client sends)
        assert final(c, key, update(c, key, update(c, key, st0, M[: n // 2]), M[n // 2 : n])) == want


def test_a_final_with_input_is_a_one_shot_of_that_input() -> None:
    """v1.4.0 quirk: inSz != 0 and outSz != 0 selects the one-shot path, so a carried state is
    ignored (the v1.4.0 client always finalizes with inSz 0)."""
    c = SymClient()
    st = update(c, K128, ZERO_STATE, M[:20])
    assert final(c, K128, st, M[20:40]) == ref_cmac(K128, M[20:40]) != ref_cmac(K128, M[:40])


def test_truncated_tags_and_bad_lengths() -> None:
    c = SymClient()
    full = h(SP800_38B[(K128, 40)])
    for n in (4, 8, 15):
        assert oneshot(c, K128, M[:40], n) == full[:n]
        assert final(c, K128, ZERO_STATE, M[:40], n) == full[:n]
    for n in (1, 3, 17, 32):
        assert call(c, req(c, M[:40], K128, n))[0] == BUFFER_E
        assert call(c, req(c, b"", K128, n, state=update(c, K128, ZERO_STATE, M[:40])))[0] == BUFFER_E


# ------------------------------------------------------------------------------------------ captured packets

CAPTURED = {
    # one-shot CMAC(salt, Z) of the CMAC-KDF test, keyId and resumeState are garbage ("aa", WH_DEV_ID)
    167: h(
        "0700000000000000100000002000000018000000616100002a0000000000000000000000000000004d53485700000000"
        "15a4cb50975500006161616161616161ae8e93c9c991cf896a491a8907df4e4be5186ae496cd340dc19b237821db7b60"
        "2051af34762ebe556f72a5c6edc7771eb9245fad76f034be"
    ),
    168: h(  # init: no input, no output, inline 24-byte key
        "070000000000000000000000000000001800000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000002051af34762ebe556f72a5c6edc7771eb9245fad76f034be"
    ),
    169: h(  # update with Z (32 bytes)
        "070000000000000000000000200000001800000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000ae8e93c9c991cf896a491a8907df4e4be5186ae496cd340dc19b237821db7b60"
        "2051af34762ebe556f72a5c6edc7771eb9245fad76f034be"
    ),
    170: h(  # final, carrying wolfCrypt's state after 169: second block pending, one folded
        "070000000000000010000000000000001800000000000000e5186ae496cd340dc19b237821db7b6003c64a086a139005"
        "31c29b15013f623a10000000100000002051af34762ebe556f72a5c6edc7771eb9245fad76f034be"
    ),
    172: h(  # update with the counter 00000001 (K_DK as key)
        "070000000000000000000000040000001000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000174f74608c04f0f4e47fa640433b6e6fb"
    ),
    173: h(  # update with fixedInfo (60 bytes) on a 4-byte pending buffer
        "0700000000000000000000003c0000001000000000000000000000010000000000000000000000000000000000000000"
        "00000000000000000400000000000000a259cae2c4a36b89563cb148c78251343bbfabdc13ca7ac2171c2eb6021f4477"
        "fea33b28724da721ee087bffd794a1563754b425a8d09b3e0da5ffed74f74608c04f0f4e47fa640433b6e6fb"
    ),
    174: h(
        "070000000000000010000000000000001000000000000000d794a1563754b425a8d09b3e0da5ffed3ce72fae62abb8c1"
        "959d6d5c2db01eda100000003000000074f74608c04f0f4e47fa640433b6e6fb"
    ),
    177: h(  # as 173 with counter 2
        "0700000000000000000000003c0000001000000000000000000000020000000000000000000000000000000000000000"
        "00000000000000000400000000000000a259cae2c4a36b89563cb148c78251343bbfabdc13ca7ac2171c2eb6021f4477"
        "fea33b28724da721ee087bffd794a1563754b425a8d09b3e0da5ffed74f74608c04f0f4e47fa640433b6e6fb"
    ),
    178: h(
        "070000000000000010000000000000001000000000000000d794a1563754b425a8d09b3e0da5ffed312112ad1317526e"
        "c60bd196b5afd599100000003000000074f74608c04f0f4e47fa640433b6e6fb"
    ),
}
K_DK = h("74f74608c04f0f4e47fa640433b6e6fb")  # CMAC(salt, Z): the key of requests 171-182
KDF_OUT = h("b40c32be012793bafdf778c5f45443f4c97123931763d83a592707bff2d36059502729cab88b2938")


def test_captured_one_shot_ignores_garbage_key_id_and_state() -> None:
    c = SymClient()
    reply = c.call(0x0407, CAPTURED[167])
    assert reply == h("07000000 00000000") + ZERO_STATE + h("10000000 0000 0000") + K_DK


def test_captured_init_update_final_chain() -> None:
    c = SymClient()
    assert c.call(0x0407, CAPTURED[168]) == h("07000000 00000000") + ZERO_STATE + bytes(8)
    reply = c.call(0x0407, CAPTURED[169])
    assert reply[8:48] == CAPTURED[170][8 + 16 : 8 + 56], "the state wolfCrypt computed"
    assert reply[48:] == bytes(8)
    assert c.call(0x0407, CAPTURED[170])[56:] == K_DK


@pytest.mark.parametrize("upd,fin,block", [(173, 174, 0), (177, 178, 1)])
def test_captured_kdf_prf_chain(upd: int, fin: int, block: int) -> None:
    """SP 800-108 PRF step of the CMAC-KDF: state after (counter || fixedInfo) and the block."""
    c = SymClient()
    counter = (block + 1).to_bytes(4, "big")  # request 172 carries counter 1; 176 (not kept) counter 2
    counter_state = c.call(0x0407, CAPTURED[172][:64] + counter + CAPTURED[172][68:])[8:48]
    assert counter_state == CAPTURED[upd][8 + 16 : 8 + 56], "4 bytes pending, nothing folded"
    assert counter_state[:4] == counter and counter_state[32:] == h("04000000 00000000")
    reply = c.call(0x0407, CAPTURED[upd])
    assert reply[8:48] == CAPTURED[fin][8 + 16 : 8 + 56]
    assert c.call(0x0407, CAPTURED[fin])[56:] == KDF_OUT[16 * block : 16 * block + 16]


# ------------------------------------------------------------------------------------------ the state machine


@settings(max_examples=60, deadline=None)
@given(
    msg=st.binary(max_size=150),
    cuts=st.lists(st.integers(min_value=0, max_value=150), max_size=6),
    key=st.sampled_from([K128, K192, K256]),
    order=st.sampled_from(["<", ">"]),
)
def test_random_splits_equal_one_shot(msg: bytes, cuts: list[int], key: bytes, order: str) -> None:
    c = SymClient(order=order)
    state, prev = ZERO_STATE, 0
    for cut in sorted({min(x, len(msg)) for x in cuts} | {len(msg)}):
        state = update(c, key, state, msg[prev:cut])
        prev = cut
    assert final(c, key, state) == ref_cmac(key, msg)


def test_full_last_block_stays_pending() -> None:
    c = SymClient()
    st = update(c, K128, ZERO_STATE, M[:32])
    buffer, digest, size, total = struct.unpack("<16s16sII", st)
    assert (buffer, size, total) == (M[16:32], 16, 16)
    assert digest == Cipher(algorithms.AES(K128), modes.ECB()).encryptor().update(M[:16])
    st2 = update(c, K128, st, M[32:33])
    assert struct.unpack("<16s16sII", st2)[2:] == (1, 32)


def test_stale_buffer_bytes_are_kept() -> None:
    """wolfCrypt only overwrites the bytes it appends; the rest of the buffer travels back as sent."""
    c = SymClient()
    st = update(c, K128, state_bytes(c, b"ABCDEFGHIJKLMNOP", bytes(16), 3, 0), b"xy")
    assert st[:16] == b"ABCxyFGHIJKLMNOP" and c.fields(st, "II", 32) == (5, 0)


def _ecb(key: bytes, block: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def test_total_zero_skips_the_xor_on_update_but_not_on_final() -> None:
    """wc_CmacUpdate XORs the digest only when totalSz != 0; wc_CmacFinal always XORs it."""
    c = SymClient()
    garbage = bytes(range(100, 116))
    st = update(c, K128, state_bytes(c, M[:16], garbage, 16, 0), M[16:20])
    assert st[16:32] == _ecb(K128, M[:16])  # garbage digest ignored
    tag = final(c, K128, state_bytes(c, M[:16], garbage, 5, 0))
    l_ = int.from_bytes(_ecb(K128, bytes(16)), "big")
    k1 = ((l_ << 1) ^ (0x87 if l_ >> 127 else 0)) & ((1 << 128) - 1)
    k2 = ((k1 << 1) ^ (0x87 if k1 >> 127 else 0)) & ((1 << 128) - 1)
    last = M[:5] + b"\x80" + bytes(10)
    assert tag == _ecb(K128, _xor(_xor(last, garbage), k2.to_bytes(16, "big")))


def test_total_size_wraps_like_a_u32() -> None:
    """totalSz 0xFFFFFFF0: the first fold XORs, totalSz wraps to 0, so the next fold does not."""
    c = SymClient()
    d0 = bytes(range(16))
    st = update(c, K128, state_bytes(c, bytes(16), d0, 0, 0xFFFF_FFF0), M[:48])
    d1 = _ecb(K128, _xor(M[:16], d0))
    d2 = _ecb(K128, M[16:32])  # totalSz was 0: no XOR
    assert struct.unpack("<16s16sII", st) == (M[32:48], d2, 16, 16)
    assert d1 != d2


def test_update_response_echoes_the_client_key_id_and_big_endian_sizes() -> None:
    c = SymClient(order=">")
    kid = c.cache(K128, SIGN, key_id=0x0107)
    st = update(c, b"", ZERO_STATE, M[:20], key_id=kid)
    assert st[32:] == h("00000004 00000010")
    assert final(c, b"", st, key_id=kid) == ref_cmac(K128, M[:20])


# ------------------------------------------------------------------------------------------ keys and errors


def test_cached_key_usage_sign_or_verify() -> None:
    c = SymClient()
    want = h(SP800_38B[(K128, 64)])
    for flags in (SIGN, VERIFY, SIGN | VERIFY):
        kid = c.cache(K128, flags)
        assert oneshot(c, b"", M, key_id=kid) == want
    for flags in (0, ENCRYPT | DECRYPT):
        kid = c.cache(K128, flags)
        assert call(c, req(c, M, b"", 16, kid)) == (USAGE, b"")
        assert call(c, req(c, b"", b"", 0, kid)) == (USAGE, b"")
    assert call(c, req(c, M, b"", 16, 0x77)) == (NOTFOUND, b"")


def test_cached_key_sizes() -> None:
    c = SymClient()
    assert call(c, req(c, M, b"", 16, c.cache(bytes(20), SIGN)))[0] == ABORTED
    assert call(c, req(c, M, b"", 16, c.cache(bytes(48), SIGN)))[0] == NOSPACE
    assert oneshot(c, b"", M, key_id=c.cache(K256, SIGN)) == h(SP800_38B[(K256, 64)])


def test_inline_key_takes_precedence_over_the_key_id() -> None:
    c = SymClient()
    kid = c.cache(K256, SIGN)
    assert oneshot(c, K128, M, key_id=kid) == h(SP800_38B[(K128, 64)])


def test_bad_requests() -> None:
    c = SymClient()
    assert call(c, req(c, M, b""))[0] == BADARGS  # no inline key, erased id
    assert call(c, req(c, M, bytes(33), 16))[0] == BADARGS  # keySz > 32
    assert call(c, req(c, M, bytes(20), 16))[0] == BAD_FUNC_ARG  # wolfCrypt key size
    assert call(c, req(c, b"", bytes(20), 0))[0] == BAD_FUNC_ARG
    assert call(c, req(c, M, bytes(20), 99))[0] == BAD_FUNC_ARG, "the key is checked before the tag length"
    bad_state = state_bytes(c, bytes(16), bytes(16), 17, 0)
    assert call(c, req(c, M, K128, 0, state=bad_state))[0] == BADARGS
    assert call(c, req(c, b"", K128, 16, state=bad_state))[0] == BADARGS
    assert call(c, req(c, M, K128, 16, state=bad_state))[0] == 0, "one-shot does not restore the state"
    body = req(c, M, K128, 16)
    assert call(c, body[:55]) == (BADARGS, b"")
    assert call(c, body[:-1]) == (BADARGS, b""), "the key must fit"
    assert call(c, req(c, M, K128, 16, key_sz=0xFFFF_FFFF))[0] == BADARGS
    assert call(c, body + b"extra")[0] == 0


@pytest.mark.parametrize("n", [17 * 16, 1000, 4000])
def test_long_messages(n: int) -> None:
    c = SymClient()
    msg = bytes((i * 13 + 5) & 0xFF for i in range(n))
    assert oneshot(c, K256, msg) == ref_cmac(K256, msg)
    assert final(c, K256, update(c, K256, update(c, K256, ZERO_STATE, msg[:7]), msg[7:])) == ref_cmac(K256, msg)
