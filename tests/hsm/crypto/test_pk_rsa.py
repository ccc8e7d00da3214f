"""RSA through the wire (CRYPTO 0x0403, algoType 8 keygen / 1 function / 17 get-size), v1.4.0.

References: crypto spec §1.6 (usage table with the VERIFY/SIGN fallback), §3.13 (layouts, raw
primitive, k-byte output, BAD_FUNC_ARG/RSA_BUFFER_E), §4.1 (PKCS#1 / SPKI); v1.4.0 diff §10.2
(EPHEMERAL keygen -> PKCS#1 DER of 1191-1193 bytes with keyId 0; **cache path -> len 0**). The
client pads (PKCS#1 v1.5, OAEP, PSS are all done by `cryptography` here) and the HSM only runs
the raw primitive.
"""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.hsm.crypto.test_pk_support import (
    ASN_PARSE_E,
    BAD_FUNC_ARG,
    BADARGS,
    DECRYPT,
    ENCRYPT,
    EPHEMERAL,
    NOTFOUND,
    RSA_BUFFER_E,
    RSA_FN,
    RSA_GET_SIZE,
    RSA_OUT_OF_RANGE_E,
    SIGN,
    USAGE,
    VERIFY,
    CountingHal,
    PkClient,
    h,
)

PUB_ENC, PUB_DEC, PRIV_ENC, PRIV_DEC = 0, 1, 2, 3
EVICT = 1


def pkcs1(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def spki(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def key2048() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture
def hsm() -> PkClient:
    return PkClient()


def emsa_pkcs1_v15_sha256(msg: bytes, k: int) -> bytes:
    """EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of SHA-256(msg): what wolfCrypt pads before a raw sign."""
    t = h("3031300d060960864801650304020105000420") + hashlib.sha256(msg).digest()
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def _mgf1_sha256(seed: bytes, n: int) -> bytes:
    out = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range((n + 31) // 32))
    return out[:n]


def oaep_sha256_decode(em: bytes) -> bytes:
    """EME-OAEP decoding (RFC 8017 §7.1.2, SHA-256, empty label): the client's unpadding."""
    masked_seed, masked_db = em[1:33], em[33:]
    seed = bytes(a ^ b for a, b in zip(masked_seed, _mgf1_sha256(masked_db, 32)))
    db = bytes(a ^ b for a, b in zip(masked_db, _mgf1_sha256(seed, len(masked_db))))
    assert db[:32] == hashlib.sha256(b"").digest()
    return db[db.index(b"\x01", 32) + 1 :]


# ------------------------------------------------------------------------------------------ keygen


def test_keygen_ephemeral_returns_pkcs1_der(hsm: PkClient) -> None:
    rc, body = hsm.rsa_keygen(2048)
    assert rc == 0
    key_id, n = hsm.fields(body, 2)
    der = body[8:]
    assert key_id == 0 and n == len(der) and 1190 <= n <= 1193  # [trace] 1191-1192 bytes
    assert der[:2] == h("3082") and int.from_bytes(der[2:4], "big") == n - 4 and der[4:7] == h("020100")
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.private_numbers().public_numbers.e == 65537
    assert pkcs1(key) == der  # canonical PKCS#1, like wc_RsaKeyToDer
    # the generated key works outside: sign with it, verify with cryptography
    sig = key.sign(b"msg", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(sig, b"msg", padding.PKCS1v15(), hashes.SHA256())


def test_keygen_cache_path_returns_len_0_and_key_is_usable(hsm: PkClient) -> None:
    rc, body = hsm.rsa_keygen(1024, flags=SIGN | VERIFY | ENCRYPT | DECRYPT)
    # v1.4.0 [trace]: keyId = fresh id (highest free, 0xFF), len 0, no body
    assert (rc, body) == (0, h("ff000000 00000000"))
    rc, der = hsm.export(0xFF)
    assert rc == 0
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 1024
    assert hsm.raw(RSA_GET_SIZE, h("00000000 ff000000")) == h("11000000 00000000 80000000")
    digest = emsa_pkcs1_v15_sha256(b"hello", 128)
    rc, body = hsm.rsa(0xFF, PRIV_ENC, digest)
    assert rc == 0 and hsm.fields(body, 1) == (128,)
    key.public_key().verify(body[4:], b"hello", padding.PKCS1v15(), hashes.SHA256())


def test_keygen_requested_id_and_other_exponents(hsm: PkClient) -> None:
    rc, body = hsm.rsa_keygen(1024, e=3, flags=DECRYPT, key_id=0x22)
    assert (rc, body) == (0, h("22000000 00000000"))
    rc, body = hsm.rsa_keygen(1030, e=17)  # wolfCrypt: prime size = bits/16 bytes -> a 1024-bit modulus
    assert rc == 0
    key = serialization.load_der_private_key(body[8:], password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert (key.key_size, key.private_numbers().public_numbers.e) == (1024, 17)


@pytest.mark.parametrize(
    ("bits", "e", "rc"),
    [(512, 65537, BAD_FUNC_ARG), (8192, 65537, BAD_FUNC_ARG), (2048, 65536, BAD_FUNC_ARG), (2048, 1, BAD_FUNC_ARG)],
)
def test_keygen_argument_errors(hsm: PkClient, bits: int, e: int, rc: int) -> None:
    assert hsm.rsa_keygen(bits, e=e) == (rc, b"")


def test_keygen_short_request_is_badargs(hsm: PkClient) -> None:
    # RSA keygen checks `inSize < sizeof(request)` (40): 39 bytes -> BADARGS, header only
    assert hsm.raw(8, bytes(39)) == h("08000000 30f8ffff")


# ------------------------------------------------------------------------------------------ function


def test_raw_private_sign_verifies_outside(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(pkcs1(key2048), SIGN, key_id=5)
    digest = emsa_pkcs1_v15_sha256(b"interop", 256)
    rc, body = hsm.rsa(kid, PRIV_ENC, digest)  # opType 2 with SIGN only: the USAGE fallback
    assert rc == 0
    key2048.public_key().verify(body[4:], b"interop", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    "pad",
    [padding.PKCS1v15(), padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)],
    ids=["pkcs1v15", "oaep"],
)
def test_client_encrypts_hsm_raw_decrypts(
    hsm: PkClient, key2048: rsa.RSAPrivateKey, pad: padding.AsymmetricPadding
) -> None:
    kid = hsm.cache(pkcs1(key2048), DECRYPT, key_id=6)
    ct = key2048.public_key().encrypt(b"secret", pad)
    rc, body = hsm.rsa(kid, PRIV_DEC, ct)
    assert rc == 0 and len(body) == 4 + 256
    em = body[4:]  # the padded block: the client unpads
    assert em[0] == 0
    if isinstance(pad, padding.PKCS1v15):
        assert em[1] == 2 and em[-7] == 0 and em.endswith(b"secret")
    else:
        assert oaep_sha256_decode(em) == b"secret"


def test_public_ops_with_spki_key_and_left_padding(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    pub = key2048.public_key()
    kid = hsm.cache(spki(pub), ENCRYPT | VERIFY, key_id=7)
    n, e = pub.public_numbers().n, pub.public_numbers().e
    x = 2
    rc, body = hsm.rsa(kid, PUB_ENC, b"\x02")  # a short input is a big-endian integer
    assert rc == 0 and body[4:] == pow(x, e, n).to_bytes(256, "big")
    sig = key2048.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    rc, body = hsm.rsa(kid, PUB_DEC, sig)  # opType 1 with VERIFY only: the fallback
    assert rc == 0 and body[4:] == emsa_pkcs1_v15_sha256(b"m", 256)
    small = int.from_bytes(body[4:], "big")
    assert small < n and body[4] == 0  # left-padded to k bytes
    assert hsm.rsa(kid, PRIV_DEC, sig) == (USAGE, b"")  # no DECRYPT: no fallback for opType 3


def test_hand_written_vectors_1024(hsm: PkClient) -> None:
    """Request/response bytes for the wolfSSL 5.8.4 sample key (values file, 1024-bit)."""
    from tests.hsm.crypto.test_pk_keyenc import RSA_KEYTODER

    assert hsm.cache(RSA_KEYTODER, ENCRYPT | DECRYPT, key_id=9) == 9
    # get-size: options 0, keyId 9 -> keySize 128
    assert hsm.raw(RSA_GET_SIZE, h("00000000 09000000")) == h("11000000 00000000 80000000")
    # public encrypt of the integer 2: opType 0, options 0, keyId 9, inLen 1, outLen 128, in = 02
    key = serialization.load_der_private_key(RSA_KEYTODER, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    n = key.private_numbers().public_numbers.n
    reply = hsm.raw(RSA_FN, h("00000000 00000000 09000000 01000000 80000000 02"))
    assert reply == h("01000000 00000000 80000000") + pow(2, 65537, n).to_bytes(128, "big")
    # and back with the private key: 2^e^d = 2, left-padded to 128 bytes
    reply = hsm.raw(RSA_FN, h("03000000 00000000 09000000 80000000 80000000") + reply[12:])
    assert reply == h("01000000 00000000 80000000") + bytes(127) + b"\x02"


# ------------------------------------------------------------------------------------------ errors


def test_function_errors(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(pkcs1(key2048), ENCRYPT | DECRYPT, key_id=8)
    block = b"\x00\x01" + bytes(254)
    assert hsm.raw(RSA_FN, struct.pack("<5I", 4, 0, kid, 256, 256) + block) == h("01000000 53ffffff")  # opType 4
    assert hsm.rsa(kid, PRIV_DEC, b"\x01" + block) == (BAD_FUNC_ARG, b"")  # inLen 257 > k
    assert hsm.rsa(kid, PRIV_DEC, block, cap=255) == (RSA_BUFFER_E, b"")  # capacity < k
    assert hsm.rsa(kid, PRIV_DEC, block, cap=0) == (BAD_FUNC_ARG, b"")
    assert hsm.rsa(kid, PRIV_DEC, b"") == (BAD_FUNC_ARG, b"")
    assert hsm.rsa(kid, PRIV_DEC, b"\xff" * 256) == (RSA_OUT_OF_RANGE_E, b"")  # >= n (assumed code)
    # inLen beyond the request data, and a request shorter than its [20] struct: BADARGS
    assert hsm.raw(RSA_FN, struct.pack("<5I", 3, 0, kid, 300, 512) + block) == h("01000000 30f8ffff")
    assert hsm.raw(RSA_FN, struct.pack("<4I", 3, 0, kid, 0)) == h("01000000 30f8ffff")
    assert hsm.rsa(0x33, PRIV_DEC, block) == (NOTFOUND, b"")
    assert hsm.rsa(0, PRIV_DEC, block) == (BADARGS, b"")  # erased id


def test_private_op_with_public_key(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(spki(key2048.public_key()), DECRYPT | SIGN, key_id=10)
    assert hsm.rsa(kid, PRIV_DEC, b"\x05") == (BAD_FUNC_ARG, b"")


def test_usage_violation(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(pkcs1(key2048), VERIFY, key_id=11)
    assert hsm.raw(RSA_FN, struct.pack("<5I", 2, 0, kid, 1, 256) + b"\x05") == h("01000000 27f8ffff")
    assert hsm.rsa(kid, PUB_ENC, b"\x05") == (USAGE, b"")
    assert hsm.rsa(kid, PUB_DEC, b"\x05")[0] == 0


def test_wrong_key_type(hsm: PkClient) -> None:
    from tests.hsm.crypto.test_pk_keyenc import ECC_KEYTODER

    kid = hsm.cache(ECC_KEYTODER, ENCRYPT, key_id=12)
    assert hsm.rsa(kid, PUB_ENC, b"\x05") == (ASN_PARSE_E, b"")
    assert hsm.rsa_size(kid) == (ASN_PARSE_E, b"")


def test_evict_option_evicts_even_on_failure(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(pkcs1(key2048), ENCRYPT, key_id=13)
    assert hsm.rsa(kid, PRIV_DEC, b"\x05", options=EVICT) == (USAGE, b"")
    assert not hsm.exists(kid)
    kid = hsm.cache(pkcs1(key2048), ENCRYPT, key_id=13)
    assert hsm.rsa_size(kid, options=EVICT) == (0, h("00010000"))
    assert not hsm.exists(kid)


def test_private_ops_cost_more_virtual_time(key2048: rsa.RSAPrivateKey) -> None:
    hal = CountingHal()
    hsm = PkClient(hal=hal)
    kid = hsm.cache(pkcs1(key2048), ENCRYPT | DECRYPT, key_id=14)
    before = hal.cycles
    assert hsm.rsa(kid, PUB_ENC, b"\x05")[0] == 0
    public = hal.cycles - before
    before = hal.cycles
    assert hsm.rsa(kid, PRIV_DEC, b"\x05")[0] == 0
    private = hal.cycles - before
    assert private > 10 * public > 0


def test_ephemeral_keygen_is_not_cached(hsm: PkClient) -> None:
    assert hsm.rsa_keygen(1024, flags=EPHEMERAL)[0] == 0
    from firmware.hsm.keystore import KeyStore

    ks = KeyStore.of(hsm.server)
    assert ks.global_cache.ids() == [] and ks.local_cache(hsm.conn, hsm.server.config).ids() == []


def test_extra_request_bytes_are_ignored(hsm: PkClient, key2048: rsa.RSAPrivateKey) -> None:
    kid = hsm.cache(pkcs1(key2048), 0, key_id=15)
    assert hsm.raw(RSA_GET_SIZE, struct.pack("<II", 0, kid) + b"\xee" * 5) == h("11000000 00000000 00010000")


def test_hand_written_keygen_request(hsm: PkClient) -> None:
    # [40] flags EPHEMERAL, keyId 0, size 1024, e 65537, label -> algoType 8, rc 0, keyId 0, len, PKCS#1
    reply = hsm.raw(8, h("10000000 00000000 00040000 01000100") + b"label".ljust(24, b"\0"))
    assert reply[:12] == h("08000000 00000000 00000000")
    n = int.from_bytes(reply[12:16], "little")
    assert len(reply) == 16 + n and 600 <= n <= 612 and reply[16:18] == h("3082")
