"""ECC P-256/384/521 through the wire (CRYPTO 0x0403: keygen 9, ECDH 3, ECDSA sign 4 / verify 5).

References: crypto spec §1.6 (usage: SIGN / VERIFY / DERIVE on the private key only; EVICT
options), §3.14 (layouts, curve choice, DER signatures, any hash length, wrong signature = rc 0
res 0), §4.2 (SEC1 121/167/223 bytes, SPKI 91 bytes); v1.4.0 diff §7.2 (EPHEMERAL keygen keyId
0x0100; the client re-imports it with id 0x0100 -> 0x01FF [trace]), §10.2 (cache path len 0, ECDH
[12]/[4] with the secret always returned, EC check NOT_COMPILED_IN).
"""

from __future__ import annotations

import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from tests.hsm.crypto.test_pk_support import (
    ASN_PARSE_E,
    BADARGS,
    DERIVE,
    ECC_BAD_ARG_E,
    ECC_CURVE_OID_E,
    ECDH,
    ECDSA_SIGN,
    ECDSA_VERIFY,
    MP_ZERO_E,
    NOTFOUND,
    SIGN,
    USAGE,
    VERIFY,
    CountingHal,
    PkClient,
    h,
)

EVICT, EXPORTPUB, EVICTPUB, EVICTPRV = 1, 2, 1, 2
CURVES = {7: ec.SECP256R1(), 15: ec.SECP384R1(), 16: ec.SECP521R1()}
PREHASH = {20: hashes.SHA1(), 28: hashes.SHA224(), 32: hashes.SHA256(), 48: hashes.SHA384(), 64: hashes.SHA512()}


@pytest.fixture
def hsm() -> PkClient:
    return PkClient()


def sec1(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_outside(pub: ec.EllipticCurvePublicKey, sig: bytes, digest: bytes) -> bool:
    try:
        pub.verify(sig, digest, ec.ECDSA(Prehashed(PREHASH[len(digest)])))
        return True
    except InvalidSignature:
        return False


# ------------------------------------------------------------------------------------------ keygen


@pytest.mark.parametrize(
    ("sz", "curve_id", "wc_curve", "der_len"),
    [(32, 7, 7, 121), (32, 0, 7, 121), (48, 0, 15, 167), (66, 0, 16, 223), (20, 0, 7, 121), (48, 7, 7, 121)],
)
def test_keygen_ephemeral_sec1(hsm: PkClient, sz: int, curve_id: int, wc_curve: int, der_len: int) -> None:
    rc, body = hsm.ecc_keygen(sz, curve_id)
    assert rc == 0
    # v1.4.0 [trace]: keyId 0x0100 (erased id translated with global keys), len = DER size
    assert body[:8] == struct.pack("<II", 0x0100, der_len) and len(body) == 8 + der_len
    key = serialization.load_der_private_key(body[8:], password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == CURVES[wc_curve].name
    assert sec1(key) == body[8:]


def test_keygen_cache_path_len_0_then_sign(hsm: PkClient) -> None:
    rc, body = hsm.ecc_keygen(32, 7, flags=SIGN | VERIFY)
    assert (rc, body) == (0, h("ff000000 00000000"))  # fresh id 0xFF, no DER at v1.4.0
    rc, der = hsm.export(0xFF)
    assert rc == 0 and len(der) == 121
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    digest = bytes(range(32))
    rc, body = hsm.ecc_sign(0xFF, digest)
    assert rc == 0 and body[:4] == struct.pack("<I", len(body) - 4)
    assert verify_outside(key.public_key(), body[4:], digest)


def test_keygen_on_an_empty_request_caches_a_p256_key(hsm: PkClient) -> None:
    """v1.4.0 checks no keygen request size: missing fields read as zero -> P-256, cached, flags 0."""
    assert hsm.raw(9, b"") == h("09000000 00000000 ff000000 00000000")
    rc, der = hsm.export(0xFF)
    assert rc == 0 and len(der) == 121


@pytest.mark.parametrize(("sz", "curve_id", "rc"), [(32, 14, ECC_CURVE_OID_E), (67, 0, ECC_BAD_ARG_E), (32, 99, -172)])
def test_keygen_curve_errors(hsm: PkClient, sz: int, curve_id: int, rc: int) -> None:
    assert hsm.ecc_keygen(sz, curve_id) == (rc, b"")


def test_keygen_bad_func_arg_without_size_or_curve(hsm: PkClient) -> None:
    assert hsm.ecc_keygen(0, 0xFFFFFFFF) == (-173, b"")


# ------------------------------------------------------------------------------------------ ECDSA


def test_ephemeral_key_reimported_like_the_v140_client(hsm: PkClient) -> None:
    """[trace]: the client caches an EPHEMERAL key with id 0x0100 -> 0x01FF, then signs with EVICT."""
    rc, body = hsm.ecc_keygen(32, 7)
    assert rc == 0
    der = body[8:]
    kid = hsm.cache(der, SIGN, key_id=0x0100)
    assert kid == 0x01FF
    digest = bytes(32)
    rc, sig = hsm.ecc_sign(kid, digest, options=EVICT)
    assert rc == 0
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert verify_outside(key.public_key(), sig[4:], digest)
    assert not hsm.exists(0x01FF)  # evicted after use


@pytest.mark.parametrize("curve_id", [7, 15, 16])
def test_cross_verify_64_byte_hashes(hsm: PkClient, curve_id: int) -> None:
    """As the v1.4.0 suite's cross-verify: HSM sign + software verify and vice versa, 64-byte hashes."""
    key = ec.generate_private_key(CURVES[curve_id])
    kid = hsm.cache(sec1(key), SIGN | VERIFY, key_id=4)
    digest = bytes(range(100, 164))
    rc, body = hsm.ecc_sign(kid, digest)
    assert rc == 0
    assert verify_outside(key.public_key(), body[4:], digest)
    sig = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA512())))
    assert hsm.ecc_verify(kid, sig, digest) == (0, h("01000000 00000000"))
    # a wrong signature is not an error: rc 0, res 0
    wrong = key.sign(b"other", ec.ECDSA(hashes.SHA512()))
    assert hsm.ecc_verify(kid, wrong, digest) == (0, h("00000000 00000000"))


@pytest.mark.parametrize("length", [0, 1, 20, 28, 33, 48, 64, 100])
def test_any_hash_length_uses_the_leftmost_order_bits(hsm: PkClient, length: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = hsm.cache(sec1(key), SIGN | VERIFY, key_id=4)
    digest = bytes((i * 7 + 1) & 0xFF for i in range(length))
    rc, body = hsm.ecc_sign(kid, digest)
    assert rc == 0
    assert hsm.ecc_verify(kid, body[4:], digest) == (0, h("01000000 00000000"))
    equivalent = (digest[:32] if length >= 32 else bytes(32 - length) + digest)[:32]
    assert verify_outside(key.public_key(), body[4:], equivalent)


def test_p521_hash_longer_than_any_digest(hsm: PkClient) -> None:
    """A 66-byte hash on P-521 keeps 521 bits (e >= 2^512): the integer verification path."""
    key = ec.generate_private_key(ec.SECP521R1())
    kid = hsm.cache(sec1(key), SIGN | VERIFY, key_id=4)
    digest = b"\xfe" + bytes(range(65))
    rc, body = hsm.ecc_sign(kid, digest)
    assert rc == 0
    assert hsm.ecc_verify(kid, body[4:], digest) == (0, h("01000000 00000000"))
    assert hsm.ecc_verify(kid, body[4:], b"\xfd" + digest[1:]) == (0, h("00000000 00000000"))


def test_verify_export_pub_with_private_only_key(hsm: PkClient) -> None:
    from tests.hsm.crypto.test_pk_keyenc import ECC_PRIVTODER, ECC_PUBTODER

    kid = hsm.cache(ECC_PRIVTODER, SIGN | VERIFY, key_id=4)  # 51-byte SEC1 without the point
    digest = bytes(32)
    rc, body = hsm.ecc_sign(kid, digest)
    assert rc == 0
    rc, body = hsm.ecc_verify(kid, body[4:], digest, options=EXPORTPUB)
    assert (rc, body) == (0, h("01000000 5b000000") + ECC_PUBTODER)  # res 1, pubSz 91, SPKI


def test_hand_written_verify_request(hsm: PkClient) -> None:
    """wolfSSL 5.8.4 sample key; request bytes laid out by hand from the [16] struct."""
    from tests.hsm.crypto.test_pk_keyenc import ECC_KEYTODER

    assert hsm.cache(ECC_KEYTODER, SIGN | VERIFY, key_id=0x21) == 0x21
    key = serialization.load_der_private_key(ECC_KEYTODER, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    digest = h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # SHA-256("abc")
    sig = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    # options 0, keyId 0x21, sigSz, hashSz 32 | sig | hash  ->  algoType 5, rc 0, res 1, pubSz 0
    req = h("00000000 21000000") + struct.pack("<II", len(sig), 32) + sig + digest
    assert hsm.raw(ECDSA_VERIFY, req) == h("05000000 00000000 01000000 00000000")


def test_sign_and_verify_errors(hsm: PkClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = hsm.cache(sec1(key), SIGN, key_id=4)
    verifier = hsm.cache(spki(key.public_key()), VERIFY, key_id=5)
    digest = bytes(32)
    # usage: -2009 header only
    assert hsm.raw(ECDSA_SIGN, struct.pack("<III", 0, verifier, 32) + digest) == h("04000000 27f8ffff")
    rc, body = hsm.ecc_sign(signer, digest)
    assert rc == 0
    sig = body[4:]
    assert hsm.ecc_verify(signer, sig, digest) == (USAGE, b"")
    assert hsm.ecc_verify(verifier, sig, digest)[1] == h("01000000 00000000")
    # a public key cannot sign
    both = hsm.cache(spki(key.public_key()), SIGN, key_id=6)
    assert hsm.ecc_sign(both, digest) == (ECC_BAD_ARG_E, b"")
    # malformed DER, r = 0, s >= n
    assert hsm.ecc_verify(verifier, sig[:-1], digest) == (ASN_PARSE_E, b"")
    assert hsm.ecc_verify(verifier, b"\x30\x00", digest) == (ASN_PARSE_E, b"")
    assert hsm.ecc_verify(verifier, encode_dss_signature(0, 5), digest) == (MP_ZERO_E, b"")
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    assert hsm.ecc_verify(verifier, encode_dss_signature(5, n), digest) == (MP_ZERO_E, b"")
    # missing key, erased id
    assert hsm.ecc_sign(0x44, digest) == (-2104, b"")
    assert hsm.ecc_sign(0, digest) == (BADARGS, b"")


def test_truncated_requests(hsm: PkClient) -> None:
    assert hsm.raw(ECDSA_SIGN, bytes(11)) == h("04000000 30f8ffff")  # < [12]
    assert hsm.raw(ECDSA_SIGN, struct.pack("<III", 0, 4, 33) + bytes(32)) == h("04000000 30f8ffff")  # sz > data
    assert hsm.raw(ECDSA_VERIFY, bytes(15)) == h("05000000 30f8ffff")  # < [16]
    assert hsm.raw(ECDSA_VERIFY, struct.pack("<IIII", 0, 4, 72, 32) + bytes(100)) == h("05000000 30f8ffff")
    # ECDH checks no size: the ids read as zero (erased) -> BADARGS from the key load
    assert hsm.raw(ECDH, h("00000000")) == h("03000000 30f8ffff")


def test_wrong_key_type_for_the_id(hsm: PkClient) -> None:
    from tests.hsm.crypto.test_pk_keyenc import ED_KEYTODER, RSA_KEYTODER

    ed = hsm.cache(ED_KEYTODER, SIGN | VERIFY | DERIVE, key_id=7)
    rsa_kid = hsm.cache(RSA_KEYTODER, SIGN, key_id=8)
    assert hsm.ecc_sign(ed, bytes(32)) == (ASN_PARSE_E, b"")
    assert hsm.ecc_sign(rsa_kid, bytes(32)) == (ASN_PARSE_E, b"")
    assert hsm.ecc_verify(ed, b"\x30\x00", bytes(32)) == (ASN_PARSE_E, b"")


def test_evict_option_on_failure(hsm: PkClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = hsm.cache(sec1(key), VERIFY, key_id=9)
    assert hsm.ecc_sign(kid, bytes(32), options=EVICT) == (USAGE, b"")
    assert not hsm.exists(kid)


# ------------------------------------------------------------------------------------------ ECDH


@pytest.mark.parametrize("curve_id", [7, 15, 16])
def test_ecdh_matches_cryptography(hsm: PkClient, curve_id: int) -> None:
    rc, _ = hsm.ecc_keygen(0, curve_id, flags=DERIVE, key_id=0x30)
    assert rc == 0
    rc, der = hsm.export(0x30)
    assert rc == 0
    mine = serialization.load_der_private_key(der, password=None)
    assert isinstance(mine, ec.EllipticCurvePrivateKey)
    peer = ec.generate_private_key(CURVES[curve_id])
    pub_id = hsm.cache(spki(peer.public_key()), 0, key_id=0x31)  # no usage needed on the public key
    rc, body = hsm.ecdh(0x30, pub_id)
    expected = peer.exchange(ec.ECDH(), mine.public_key())
    assert rc == 0 and body == struct.pack("<I", len(expected)) + expected
    assert len(expected) == {7: 32, 15: 48, 16: 66}[curve_id]


def test_ecdh_hand_written_vector(hsm: PkClient) -> None:
    from tests.hsm.crypto.test_pk_keyenc import ECC_KEYTODER

    assert hsm.cache(ECC_KEYTODER, DERIVE, key_id=0x10) == 0x10
    peer = ec.derive_private_key(7, ec.SECP256R1())
    assert hsm.cache(sec1(peer), 0, key_id=0x11) == 0x11  # a key pair in the public role: its point
    mine = serialization.load_der_private_key(ECC_KEYTODER, password=None)
    assert isinstance(mine, ec.EllipticCurvePrivateKey)
    secret = peer.exchange(ec.ECDH(), mine.public_key())
    # [12] options 0, privateKeyId 0x10, publicKeyId 0x11 -> [4] sz 32 + secret
    assert hsm.raw(ECDH, h("00000000 10000000 11000000")) == h("03000000 00000000 20000000") + secret


def test_ecdh_errors_and_evict(hsm: PkClient) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    prv = hsm.cache(sec1(p256), SIGN, key_id=0x12)
    assert hsm.raw(ECDH, struct.pack("<III", 0, prv, prv)) == h("03000000 27f8ffff")  # no DERIVE: USAGE
    prv = hsm.cache(sec1(p256), DERIVE, key_id=0x12)
    other = hsm.cache(spki(p384.public_key()), 0, key_id=0x13)
    assert hsm.ecdh(prv, other) == (ECC_BAD_ARG_E, b"")  # different curves
    pub_only = hsm.cache(spki(p256.public_key()), DERIVE, key_id=0x14)
    assert hsm.ecdh(pub_only, prv) == (ECC_BAD_ARG_E, b"")  # no private part
    assert hsm.ecdh(prv, 0x77) == (NOTFOUND, b"")
    # EVICTPUB | EVICTPRV: both gone afterwards, even after a failure
    assert hsm.ecdh(prv, other, options=EVICTPUB | EVICTPRV) == (ECC_BAD_ARG_E, b"")
    assert not hsm.exists(prv) and not hsm.exists(other)
    prv = hsm.cache(sec1(p256), DERIVE, key_id=0x12)
    pub = hsm.cache(spki(p256.public_key()), 0, key_id=0x15)
    assert hsm.ecdh(prv, pub, options=EVICTPUB)[0] == 0
    assert hsm.exists(prv) and not hsm.exists(pub)


def test_ecdh_ephemeral_keys_in_the_global_cache(hsm: PkClient) -> None:
    """[trace] TempEccDh-pub / -prv: EPHEMERAL keys re-imported with 0x0100 land in the global cache."""
    a = hsm.ecc_keygen(32, 7)[1][8:]
    b = ec.generate_private_key(ec.SECP256R1())
    prv = hsm.cache(a, DERIVE, key_id=0x0100)
    pub = hsm.cache(spki(b.public_key()), DERIVE, key_id=0x0100)
    assert (prv, pub) == (0x01FF, 0x01FE)
    rc, body = hsm.ecdh(prv, pub, options=EVICTPUB | EVICTPRV)
    mine = serialization.load_der_private_key(a, password=None)
    assert isinstance(mine, ec.EllipticCurvePrivateKey)
    assert rc == 0 and body[4:] == b.exchange(ec.ECDH(), mine.public_key())
    assert hsm.server.keystore.global_cache.ids() == []


def test_ecc_costs_scale_with_the_curve() -> None:
    hal = CountingHal()
    hsm = PkClient(hal=hal)
    spent = []
    for curve_id in (7, 15, 16):
        before = hal.cycles
        assert hsm.ecc_keygen(0, curve_id)[0] == 0
        spent.append(hal.cycles - before)
    assert spent[0] < spent[1] < spent[2]


def test_hand_written_keygen_and_sign(hsm: PkClient) -> None:
    # keygen [44]: sz 32, curveId 7, keyId 0, flags EPHEMERAL, access 0xffff, label
    reply = hsm.raw(9, h("20000000 07000000 00000000 10000000 ffff0000") + b"ecc".ljust(24, b"\0"))
    assert reply[:16] == h("09000000 00000000 00010000 79000000") and len(reply) == 16 + 121
    der = reply[16:]
    assert der[:7] == h("30770201010420") and der[39:51] == h("a00a06082a8648ce3d030107")
    assert hsm.cache(der, SIGN, key_id=0x22) == 0x22
    # sign [12]: options 0, keyId 0x22, sz 32 | hash -> algoType 4, rc 0, sz | DER signature
    digest = bytes(range(32))
    reply = hsm.raw(ECDSA_SIGN, h("00000000 22000000 20000000") + digest)
    assert reply[:8] == h("04000000 00000000")
    n = int.from_bytes(reply[8:12], "little")
    assert len(reply) == 12 + n and reply[12] == 0x30 and 8 <= n <= 72
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert verify_outside(key.public_key(), reply[12:], digest)
