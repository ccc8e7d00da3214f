"""X25519 and Ed25519 through the wire (CRYPTO 0x0403: X25519 keygen 16 / shared 7, Ed25519
keygen 15 / sign 6 / verify 14), wolfHSM v1.4.0.

References: crypto spec §3.15, §3.16 (layouts; endian flag; bit-255 check; Ed25519 types 255/0/1;
bad signature = rc -229), §4.3 (X25519 DER values **byte-reversed**, 82-byte key pair with version
0 and raw [1], 44-byte SPKI), §4.4 (Ed25519 pair not reversed, public key required); v1.4.0 diff
§10.2 (X25519 [16]/[8], secret always returned; EPHEMERAL keygen keyIds 0x0100 for X25519 and 0
for Ed25519; cache path len 0). Known answers: RFC 7748 §5.2 and §6.1, RFC 8032 §7.1 test 1,
§7.2 (Ed25519ctx "foo"), §7.3 (Ed25519ph "abc"), and the wolfSSL 5.8.4 probe pair.
"""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from firmware.hsm.crypto.keyenc import (
    ed25519_pair_der,
    ed25519_spki_der,
    x25519_clamp,
    x25519_pair_der,
    x25519_spki_der,
)
from tests.hsm.crypto.test_pk_keyenc import (
    ED_KEYTODER,
    X25519_KEYTODER,
    X25519_PEER_INTERNAL_P,
    X25519_SS_BE,
    X25519_SS_LE,
)
from tests.hsm.crypto.test_pk_support import (
    ASN_PARSE_E,
    BAD_FUNC_ARG,
    BADARGS,
    DERIVE,
    ECC_BAD_ARG_E,
    ECC_OUT_OF_RANGE_E,
    ED_SIGN,
    ED_VERIFY,
    SIG_VERIFY_E,
    SIGN,
    USAGE,
    VERIFY,
    X25519,
    PkClient,
    h,
)

EVICT, EVICTPUB, EVICTPRV = 1, 1, 2
LITTLE, BIG = 0, 1

# RFC 7748 §6.1
ALICE_PRIV = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUB = h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_PRIV = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PUB = h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
# RFC 7748 §5.2
VEC1 = (
    h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
    h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
    h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
)
VEC2_SCALAR = h("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d")
VEC2_U = h("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")  # bit 255 set
# RFC 8032
T1_SEED = h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
T1_PUB = h("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
T1_SIG = h(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
    "24655141438e7a100b"
)
CTX_SEED = h("0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6")
CTX_PUB = h("dfc9425e4f968f7f0c29f0259cf5f9aed6851c2bb4ad8bfb860cfee0ab248292")
CTX_MSG = h("f726936d19c800494e3fdaff20b276a8")
CTX_SIG = h(
    "55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a8b36950b95130022907a7fb7c4e9b2d5f6cca685a587b4"
    "b21f4b888e4e7edb0d"
)
PH_SEED = h("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
PH_PUB = h("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
PH_SIG = h(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e63606"
    "2aaad11c2a26083406"
)


@pytest.fixture
def hsm() -> PkClient:
    return PkClient()


def x_pub(priv_le: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(priv_le).public_key().public_bytes_raw()


# ------------------------------------------------------------------------------------------ X25519


def test_rfc7748_dh_through_the_wire_with_reversed_der(hsm: PkClient) -> None:
    alice = hsm.cache(x25519_pair_der(x25519_clamp(ALICE_PRIV), ALICE_PUB), DERIVE, key_id=1)
    bob = hsm.cache(x25519_spki_der(BOB_PUB), 0, key_id=2)
    assert x25519_spki_der(BOB_PUB)[12:] == BOB_PUB[::-1]  # the trap: DER holds the reversed bytes
    # [16] options 0, prv 1, pub 2, endian 0 (RFC order) -> [8] sz 32 + pad, secret
    assert (
        hsm.raw(X25519, h("00000000 01000000 02000000 00000000")) == h("07000000 00000000 20000000 00000000") + SHARED
    )
    # endian 1 (what the v1.4.0 client sends, wolfCrypt's default): the secret byte-reversed
    assert hsm.x25519(alice, bob, endian=BIG) == (0, h("20000000 00000000") + SHARED[::-1])
    bob_pair = hsm.cache(x25519_pair_der(x25519_clamp(BOB_PRIV), BOB_PUB), DERIVE, key_id=3)
    alice_pub = hsm.cache(x25519_spki_der(ALICE_PUB), 0, key_id=4)
    assert hsm.x25519(bob_pair, alice_pub, endian=LITTLE)[1][8:] == SHARED
    assert hsm.x25519(bob_pair, alice, endian=LITTLE)[1][8:] == SHARED  # a pair in the public role


def test_rfc7748_scalar_mult_vectors(hsm: PkClient) -> None:
    scalar, u, out = VEC1
    prv = hsm.cache(x25519_pair_der(x25519_clamp(scalar), None), DERIVE, key_id=5)  # private-only DER
    pub = hsm.cache(x25519_spki_der(u), 0, key_id=6)
    assert hsm.x25519(prv, pub, endian=LITTLE) == (0, h("20000000 00000000") + out)
    # the second vector's u has bit 255 set: RFC 7748 masks it, wolfCrypt refuses it
    prv = hsm.cache(x25519_pair_der(x25519_clamp(VEC2_SCALAR), None), DERIVE, key_id=7)
    pub = hsm.cache(x25519_spki_der(VEC2_U), 0, key_id=8)
    assert hsm.raw(X25519, struct.pack("<IIII", 0, prv, pub, 0)) == h("07000000 56ffffff")


def test_wolfssl_probe_pair(hsm: PkClient) -> None:
    prv = hsm.cache(X25519_KEYTODER, DERIVE, key_id=9)
    pub = hsm.cache(x25519_spki_der(X25519_PEER_INTERNAL_P), 0, key_id=10)
    assert hsm.x25519(prv, pub, endian=BIG)[1][8:] == X25519_SS_BE  # x25519_ss_be of the values file
    assert hsm.x25519(prv, pub, endian=LITTLE)[1][8:] == X25519_SS_LE


def test_keygen_ephemeral_82_byte_reversed_pair(hsm: PkClient) -> None:
    rc, body = hsm.x25519_keygen()
    assert rc == 0
    assert body[:8] == h("00010000 52000000") and len(body) == 8 + 82  # keyId 0x0100, len 82
    der = body[8:]
    assert der[:16] == h("3050020100300506032b656e04220420") and der[48:50] == h("8120")
    priv_le, pub_le = der[16:48][::-1], der[50:82][::-1]
    assert priv_le == x25519_clamp(priv_le)  # the stored scalar is clamped
    assert x_pub(priv_le) == pub_le  # reversed back, the public key is the RFC 7748 one


def test_keygen_cache_path_and_interop(hsm: PkClient) -> None:
    rc, body = hsm.x25519_keygen(flags=DERIVE)
    assert (rc, body) == (0, h("ff000000 00000000"))
    rc, der = hsm.export(0xFF)
    assert rc == 0 and len(der) == 82
    mine = x25519.X25519PrivateKey.from_private_bytes(der[16:48][::-1])
    peer = x25519.X25519PrivateKey.generate()
    pub = hsm.cache(x25519_spki_der(peer.public_key().public_bytes_raw()), 0, key_id=0x20)
    rc, body = hsm.x25519(0xFF, pub, endian=BIG)
    assert rc == 0 and body[8:] == peer.exchange(mine.public_key())[::-1]


def test_x25519_errors(hsm: PkClient) -> None:
    assert hsm.x25519_keygen(sz=31) == (ECC_BAD_ARG_E, b"")
    k = x25519_clamp(bytes(range(32)))
    no_derive = hsm.cache(x25519_pair_der(k, x_pub(k)), SIGN, key_id=11)
    pub = hsm.cache(x25519_spki_der(x_pub(k)), 0, key_id=12)
    assert hsm.raw(X25519, struct.pack("<IIII", 0, no_derive, pub, 1)) == h("07000000 27f8ffff")  # USAGE
    prv = hsm.cache(x25519_pair_der(k, x_pub(k)), DERIVE, key_id=11)
    pub_as_prv = hsm.cache(x25519_spki_der(x_pub(k)), DERIVE, key_id=13)
    assert hsm.x25519(pub_as_prv, pub) == (ECC_BAD_ARG_E, b"")  # no private part
    ed = hsm.cache(ED_KEYTODER, DERIVE, key_id=14)
    assert hsm.x25519(ed, pub) == (ASN_PARSE_E, b"")  # an Ed25519 key is not an X25519 key
    assert hsm.x25519(prv, ed) == (ASN_PARSE_E, b"")
    low_order = hsm.cache(x25519_spki_der(bytes(32)), 0, key_id=15)  # u = 0: all-zero secret
    assert hsm.x25519(prv, low_order) == (ECC_OUT_OF_RANGE_E, b"")
    assert hsm.raw(X25519, h("00000000")) == h("07000000 30f8ffff")  # short: ids read as 0 (erased)
    # EVICTPUB | EVICTPRV after a failure
    assert hsm.x25519(prv, low_order, options=EVICTPUB | EVICTPRV) == (ECC_OUT_OF_RANGE_E, b"")
    assert not hsm.exists(prv) and not hsm.exists(low_order)


# ------------------------------------------------------------------------------------------ Ed25519


def test_rfc8032_test1_through_the_wire(hsm: PkClient) -> None:
    kid = hsm.cache(ed25519_pair_der(T1_SEED, T1_PUB), SIGN | VERIFY, key_id=1)
    # [20] options 0, keyId 1, msgSz 0, type 255, ctxSz 0 -> [4] sigSz 64 + sig
    assert (
        hsm.raw(ED_SIGN, h("00000000 01000000 00000000 ff000000 00000000")) == h("06000000 00000000 40000000") + T1_SIG
    )
    # [24] options 0, keyId 1, sigSz 64, msgSz 0, type 255, ctxSz 0 -> [4] res 1
    req = h("00000000 01000000 40000000 00000000 ff000000 00000000") + T1_SIG
    assert hsm.raw(ED_VERIFY, req) == h("0e000000 00000000 01000000")
    bad = bytes([T1_SIG[0] ^ 1]) + T1_SIG[1:]
    # a bad signature is an error at v1.4.0: rc SIG_VERIFY_E (-229), header only
    assert hsm.raw(ED_VERIFY, req[:24] + bad) == h("0e000000 1bffffff")
    assert hsm.ed_verify(kid, T1_SIG, b"x") == (SIG_VERIFY_E, b"")


def test_rfc8032_ctx_and_ph_vectors(hsm: PkClient) -> None:
    kid = hsm.cache(ed25519_pair_der(CTX_SEED, CTX_PUB), SIGN | VERIFY, key_id=2)
    assert hsm.ed_sign(kid, CTX_MSG, mode=0, ctx=b"foo") == (0, h("40000000") + CTX_SIG)
    assert hsm.ed_verify(kid, CTX_SIG, CTX_MSG, mode=0, ctx=b"foo") == (0, h("01000000"))
    assert hsm.ed_verify(kid, CTX_SIG, CTX_MSG, mode=0, ctx=b"bar") == (SIG_VERIFY_E, b"")
    kid = hsm.cache(ed25519_pair_der(PH_SEED, PH_PUB), SIGN | VERIFY, key_id=3)
    prehash = hashlib.sha512(b"abc").digest()  # Ed25519ph: the client sends SHA-512(M)
    assert hsm.ed_sign(kid, prehash, mode=1) == (0, h("40000000") + PH_SIG)
    assert hsm.ed_verify(kid, PH_SIG, prehash, mode=1) == (0, h("01000000"))
    assert hsm.ed_verify(kid, PH_SIG, prehash, mode=255) == (SIG_VERIFY_E, b"")


def test_keygen_ephemeral_pair_der_and_interop(hsm: PkClient) -> None:
    rc, body = hsm.ed_keygen()
    assert rc == 0 and body[:8] == h("00000000 52000000") and len(body) == 90  # keyId 0, outSz 82
    der = body[8:]
    assert der[:16] == h("3050020100300506032b657004220420") and der[48:50] == h("8120")
    seed, pub = der[16:48], der[50:82]
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert signer.public_key().public_bytes_raw() == pub  # the [1] public key is present and right
    kid = hsm.cache(der, SIGN, key_id=4)
    rc, body = hsm.ed_sign(kid, b"hsm message")
    assert rc == 0
    ed25519.Ed25519PublicKey.from_public_bytes(pub).verify(body[4:], b"hsm message")
    assert body[4:] == signer.sign(b"hsm message")  # pure Ed25519 is deterministic


def test_keygen_cache_path_and_outside_key(hsm: PkClient) -> None:
    rc, body = hsm.ed_keygen(flags=SIGN | VERIFY, key_id=0x40)
    assert (rc, body) == (0, h("40000000 00000000"))
    rc, der = hsm.export(0x40)
    assert rc == 0 and len(der) == 82
    rc, body = hsm.ed_sign(0x40, b"m")
    ed25519.Ed25519PublicKey.from_public_bytes(der[50:]).verify(body[4:], b"m")
    # a key made by cryptography, cached in wolfCrypt's encoding, and its SPKI for verify-only
    outside = ed25519.Ed25519PrivateKey.generate()
    pub = outside.public_key().public_bytes_raw()
    kid = hsm.cache(ed25519_pair_der(outside.private_bytes_raw(), pub), SIGN, key_id=0x41)
    rc, body = hsm.ed_sign(kid, b"from outside")
    outside.public_key().verify(body[4:], b"from outside")
    verifier = hsm.cache(ed25519_spki_der(pub), VERIFY, key_id=0x42)
    assert hsm.ed_verify(verifier, outside.sign(b"x"), b"x") == (0, h("01000000"))


def test_ed25519_errors(hsm: PkClient) -> None:
    kid = hsm.cache(ed25519_pair_der(T1_SEED, T1_PUB), SIGN | VERIFY, key_id=5)
    assert hsm.ed_sign(kid, b"m", mode=2) == (BADARGS, b"")
    assert hsm.ed_sign(kid, b"m", mode=255, ctx=b"c") == (BADARGS, b"")  # pure takes no context
    assert hsm.ed_sign(kid, b"m", mode=0, ctx=bytes(256)) == (BADARGS, b"")  # ctxSz > 255
    assert hsm.raw(ED_SIGN, struct.pack("<5I", 0, kid, 10, 255, 0) + b"short") == h("06000000 30f8ffff")
    assert hsm.raw(ED_SIGN, bytes(19)) == h("06000000 30f8ffff")
    assert hsm.raw(ED_VERIFY, bytes(23)) == h("0e000000 30f8ffff")
    assert hsm.raw(ED_VERIFY, struct.pack("<6I", 0, kid, 64, 0, 255, 0) + bytes(63)) == h("0e000000 30f8ffff")
    assert hsm.ed_verify(kid, T1_SIG[:63], b"") == (BAD_FUNC_ARG, b"")  # sigSz != 64
    s_too_big = T1_SIG[:32] + b"\xff" * 32  # S >= L
    assert hsm.ed_verify(kid, s_too_big, b"") == (BAD_FUNC_ARG, b"")
    # usage flags, public-only key, wrong key type
    signer_only = hsm.cache(ed25519_pair_der(T1_SEED, T1_PUB), SIGN, key_id=6)
    assert hsm.raw(ED_VERIFY, struct.pack("<6I", 0, signer_only, 64, 0, 255, 0) + T1_SIG) == h("0e000000 27f8ffff")
    verify_only = hsm.cache(ed25519_spki_der(T1_PUB), VERIFY, key_id=7)
    assert hsm.ed_sign(verify_only, b"") == (USAGE, b"")
    public_signer = hsm.cache(ed25519_spki_der(T1_PUB), SIGN, key_id=8)
    assert hsm.ed_sign(public_signer, b"") == (BAD_FUNC_ARG, b"")
    x = hsm.cache(X25519_KEYTODER, SIGN, key_id=9)
    assert hsm.ed_sign(x, b"") == (ASN_PARSE_E, b"")
    # EVICT after a failure
    assert hsm.ed_verify(kid, s_too_big, b"", options=EVICT) == (BAD_FUNC_ARG, b"")
    assert not hsm.exists(kid)


def test_private_only_der_derives_the_public_key(hsm: PkClient) -> None:
    from firmware.hsm.crypto.keyenc import OID_ED25519, encode_okp_pair

    kid = hsm.cache(encode_okp_pair(OID_ED25519, T1_SEED, None), SIGN | VERIFY, key_id=10)  # 48 bytes
    assert hsm.ed_sign(kid, b"") == (0, h("40000000") + T1_SIG)
    assert hsm.ed_verify(kid, T1_SIG, b"") == (0, h("01000000"))


def test_hand_written_keygen_requests(hsm: PkClient) -> None:
    # X25519 keygen [36]: sz 32, flags EPHEMERAL, keyId 0, label -> keyId 0x0100, len 82
    reply = hsm.raw(16, h("20000000 10000000 00000000") + b"x".ljust(24, b"\0"))
    assert reply[:16] == h("10000000 00000000 00010000 52000000") and len(reply) == 16 + 82
    # Ed25519 keygen [36]: flags EPHEMERAL, keyId 0, access 0, label -> keyId 0, outSz 82
    reply = hsm.raw(15, h("10000000 00000000 00000000") + b"e".ljust(24, b"\0"))
    assert reply[:16] == h("0f000000 00000000 00000000 52000000") and len(reply) == 16 + 82
    # cache path with a requested id: X25519 keyId 0x33 -> 0x33, len 0
    reply = hsm.raw(16, h("20000000 00040000 33000000") + b"x".ljust(24, b"\0"))
    assert reply == h("10000000 00000000 33000000 00000000")
