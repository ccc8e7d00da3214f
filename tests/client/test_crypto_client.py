"""Crypto offload and certificates through the client library and `hsmemu client`, against the emulator.

Known answers (FIPS 180-4, SP 800-38A, the GCM specification, RFC 4493, RFC 5869, RFC 7748,
RFC 8032), interop with `cryptography` (keys made in the HSM used outside and the other way round),
SHA-2 over random splits equal to hashlib (the client carries the midstate, one block per message),
usage flags surfacing as UsageError, the request bytes the v1.4.0 client sends, the CLI, and the same
requests on both boards: identical reply bytes, different virtual durations.

Most tests share one in-process aurix-tc3xx board (module scope; each test gets its own connection,
and a connection's cached keys go with it); a few use the plugin's ``hsm_client`` fixture.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import cmac as cg_cmac
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.pytest_plugin import running_board
from firmware.client import (
    BadArgs,
    CertVerifyError,
    Client,
    HsmError,
    NotFound,
    NotReady,
    NvmFlags,
    RequestPending,
    UsageError,
)
from firmware.client.crypto import CtrState, key_der, load_key
from tests.emulator import bridge_util

from .helpers import run_cli, run_cli_bytes

ENCRYPT, DECRYPT = NvmFlags.USAGE_ENCRYPT, NvmFlags.USAGE_DECRYPT
SIGN, VERIFY, DERIVE = NvmFlags.USAGE_SIGN, NvmFlags.USAGE_VERIFY, NvmFlags.USAGE_DERIVE


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


@pytest.fixture(scope="module")
def board():
    with running_board("aurix-tc3xx") as b:
        yield b


@pytest.fixture
def hsm(board):
    with board.connect() as client:
        yield client


def recording(client: Client) -> tuple[list[bytes], list[bytes]]:
    """Record every packet the client sends and receives from now on."""
    sent: list[bytes] = []
    got: list[bytes] = []
    t = client.transport
    send, recv = t.send, t.recv

    def _send(packet: bytes) -> None:
        sent.append(packet)
        send(packet)

    def _recv(timeout=None):
        packet = recv(timeout)
        if packet is not None:
            got.append(packet)
        return packet

    t.send, t.recv = _send, _recv  # type: ignore[method-assign]
    return sent, got


# ============================================================================================ RNG


def test_rng_sizes_and_chunking(hsm):
    assert hsm.rng(0) == b""
    assert len(hsm.rng(1)) == 1
    sent, got = recording(hsm)
    big = hsm.rng(12_000)
    assert len(big) == 12_000 and len(set(big)) > 200
    # the client asks for its COMM_DATA_LEN - 12 (5108) first; the server answers its cap
    # (5000 - 12 = 4988), which the client then keeps to
    assert [int.from_bytes(p[16:20], "little") for p in sent] == [5108, 4988, 12_000 - 2 * 4988]
    assert sum(int.from_bytes(p[16:20], "little") for p in got) == 12_000
    assert hsm.rng(32) != hsm.rng(32)


def test_rng_request_bytes_and_nonblocking_pair(hsm):
    sent, got = recording(hsm)
    hsm.send_rng(52)
    assert hsm.pending == "rng"
    with pytest.raises(RequestPending):
        hsm.send_rng(1)
    deadline = time.monotonic() + 10
    while True:  # poll as a non-blocking caller would: NotReady until the answer is there
        try:
            out = hsm.recv_rng(timeout=0)
            break
        except NotReady:
            assert time.monotonic() < deadline
            time.sleep(0.001)
    # v1.4.0 diff §10.1 [trace]: RNG request `04000000 00000000 34000000`, response header + sz + data
    assert sent[0][8:] == h("04000000 00000000 34000000")
    assert got[0][8:20] == h("04000000 00000000 34000000") and got[0][20:] == out and len(out) == 52


# ============================================================================================ SHA-2

ABC = {
    "sha224": "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "sha512_224": "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa",
    "sha512_256": "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23",
}
FIPS_MESSAGES = [
    b"",
    b"abc",
    b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
]


@pytest.mark.parametrize("name", list(ABC))
def test_sha2_known_answers(hsm, name):
    assert hsm.sha2(name, b"abc").hex() == ABC[name]  # FIPS 180-4 examples
    for msg in FIPS_MESSAGES:
        assert hsm.sha2(name, msg) == hashlib.new(name, msg).digest()
    assert hsm.sha256(b"a" * 1000) == hashlib.sha256(b"a" * 1000).digest()


def test_sha2_shortcuts(hsm):
    for fn, name in ((hsm.sha224, "sha224"), (hsm.sha256, "sha256"), (hsm.sha384, "sha384"), (hsm.sha512, "sha512")):
        assert fn(b"x" * 200) == hashlib.new(name, b"x" * 200).digest()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=700),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=6),
    name=st.sampled_from(sorted(ABC)),
)
def test_sha2_random_splits_equal_hashlib(hsm, data, cuts, name):
    hasher = hsm.sha2_new(name)
    ref = hashlib.new(name)
    pos = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        hasher.update(data[pos:cut])
        ref.update(data[pos:cut])
        pos = max(pos, cut)
    assert hasher.hexdigest() == ref.hexdigest()


def test_sha2_one_block_per_message_and_hashlib_semantics(hsm):
    sent, _ = recording(hsm)
    hasher = hsm.sha2_new("sha256")
    hasher.update(b"q" * 1000)  # 15 whole blocks go now, 40 bytes wait for the final message
    assert len(sent) == 15 and hasher.messages == 15
    assert all(len(p) == 8 + 8 + 116 for p in sent)  # header + envelope + Sha256Request[116]
    first = hasher.digest()
    assert len(sent) == 16 and first == hashlib.sha256(b"q" * 1000).digest()
    # the server keeps nothing between messages: digest() does not end the hash
    assert hasher.digest() == first
    twin = hasher.copy()
    hasher.update(b"more")
    assert hasher.digest() == hashlib.sha256(b"q" * 1000 + b"more").digest()
    assert twin.digest() == first
    # exactly one block: sent as a non-final message, then a final one with lastBlockLen 0
    sent.clear()
    assert hsm.sha256(b"a" * 64) == hashlib.sha256(b"a" * 64).digest()
    assert [p[8 + 8 + 40 : 8 + 8 + 48] for p in sent] == [h("00000000 00000000"), h("01000000 00000000")]
    big = hsm.sha2_new("sha512", b"z" * 300)
    assert big.messages == 2 and big.digest() == hashlib.sha512(b"z" * 300).digest()


def test_sha256_request_is_byte_identical_to_the_v140_client(hsm):
    """The first SHA-256 message of the v1.4.0 client suite (DRBG instantiation; captured, see
    tests/hsm/crypto/test_sym_sha2.py): a 53-byte final block from the initial state."""
    captured = h(
        "06000000 00000000  00000000 00000000 67e6096a85ae67bb72f36e3c3af54fa57f520e518c68059babd9831f19cde05b"
        " 01000000 35000000 01000001b8a65ad0f345db4e0effe875c3a2e71f42c7129d620ff5c119a9ef55f05185e0fb8581f9317517"
        "276e06e9607ddbcbcc2e000000000000000000000000000000"
    )
    data = captured[56 : 56 + 53]
    sent, got = recording(hsm)
    assert hsm.sha256(data) == hashlib.sha256(data).digest()
    assert sent[0][:4] == h("01a50104") and sent[0][8:] == captured
    assert got[0][8:] == h("06000000 00000000 00000000 00000000") + hashlib.sha256(data).digest() + bytes(36)


# ============================================================================================ AES

SP800_38A_PLAIN = h(
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"
)
K128 = h("2b7e151628aed2a6abf7158809cf4f3c")
K256 = h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
IV = h("000102030405060708090a0b0c0d0e0f")


@pytest.mark.parametrize(
    ("mode", "key", "iv", "cipher"),
    [
        (
            "ecb",
            K128,
            None,
            "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
            "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
        ),
        (
            "cbc",
            K128,
            IV,
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
            "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        (
            "cbc",
            K256,
            IV,
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
            "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
        (
            "ctr",
            K128,
            h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
            "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
        ),
    ],
)
def test_aes_sp800_38a(hsm, mode, key, iv, cipher):
    expected = h(cipher)
    if mode == "ecb":
        assert hsm.aes_ecb_encrypt(key, SP800_38A_PLAIN) == expected
        assert hsm.aes_ecb_decrypt(key, expected) == SP800_38A_PLAIN
    elif mode == "cbc":
        assert hsm.aes_cbc_encrypt(key, iv, SP800_38A_PLAIN) == expected
        assert hsm.aes_cbc_decrypt(key, iv, expected) == SP800_38A_PLAIN
    else:
        assert hsm.aes_ctr(key, iv, SP800_38A_PLAIN) == expected
        assert hsm.aes_ctr(key, iv, expected) == SP800_38A_PLAIN
    # the same with the key in the HSM's cache, by id
    kid = hsm.key_cache(key, label="sp800-38a", flags=ENCRYPT | DECRYPT)
    if mode == "ecb":
        assert hsm.aes_ecb_encrypt(kid, SP800_38A_PLAIN) == expected
    elif mode == "cbc":
        assert hsm.aes_cbc_decrypt(kid, iv, expected) == SP800_38A_PLAIN
    else:
        assert hsm.aes_ctr(kid, iv, SP800_38A_PLAIN) == expected


def test_aes_gcm_known_answer_and_tag_failure(hsm):
    # GCM specification (McGrew/Viega) test case 4: AES-128, 60-byte plaintext, 20-byte AAD
    key = h("feffe9928665731c6d6a8f9467308308")
    iv = h("cafebabefacedbaddecaf888")
    aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    plain = h(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    ct, tag = hsm.aes_gcm_encrypt(key, iv, plain, aad)
    assert ct == h(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
    )
    assert tag == h("5bc94fbc3221a5db94fae95ae7121a47")
    assert hsm.aes_gcm_decrypt(key, iv, ct, tag, aad) == plain
    with pytest.raises(HsmError) as e:
        hsm.aes_gcm_decrypt(key, iv, ct, bytes(16), aad)
    assert (e.value.rc, e.value.name) == (-180, "AES_GCM_AUTH_E")
    # the v1.4.0 suite's shape: 16-byte IV (GHASH-derived J0), truncated 12-byte tag
    iv16 = os.urandom(16)
    ct, tag = hsm.aes_gcm_encrypt(key, iv16, plain, b"", tag_len=12)
    enc = Cipher(algorithms.AES(key), modes.GCM(iv16)).encryptor()
    assert ct == enc.update(plain) + enc.finalize() and tag == enc.tag[:12]
    assert hsm.aes_gcm_decrypt(key, iv16, ct, tag) == plain


def test_aes_long_inputs_are_chained_across_messages(hsm):
    key, iv, data = os.urandom(32), os.urandom(16), os.urandom(12_288)
    sent, _ = recording(hsm)
    ct = hsm.aes_cbc_encrypt(key, iv, data)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert ct == enc.update(data) + enc.finalize()
    cbc_msgs = [p for p in sent if p[2:4] == h("0204")]
    assert len(cbc_msgs) == 3  # 12 KiB in 4.9 KiB messages (the server's COMM_DATA_LEN is 5000)
    assert hsm.aes_cbc_decrypt(key, iv, ct) == data
    assert hsm.aes_ecb_decrypt(key, hsm.aes_ecb_encrypt(key, data)) == data
    ctr = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    odd = data[:10_001]
    assert hsm.aes_ctr(key, iv, odd) == ctr.update(odd)
    # a CTR stream continued over odd-sized pieces carries wolfCrypt's reg/tmp/left between messages
    stream, ref = hsm.aes_ctr_new(key, iv), Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    for size in (5, 11, 16, 1, 0, 37, 6000):
        piece = os.urandom(size)
        assert stream.update(piece) == ref.update(piece)
    assert isinstance(stream.state, CtrState) and 0 <= stream.state.left <= 16


def test_aes_request_shapes_match_the_v140_client(hsm):
    """v1.4.0 diff §10.2 [trace]: CTR with a 16-byte inline key and 16 bytes of data is a 112-byte
    payload (8 + 24 + sz + keyLen + 48), ECB 72 bytes (an IV is appended), CBC's response 40 bytes."""
    sent, got = recording(hsm)
    hsm.aes_ctr(K128, IV, bytes(16))
    hsm.aes_ecb_encrypt(K128, bytes(16))
    hsm.aes_cbc_encrypt(K128, IV, bytes(16))
    assert [len(p) - 8 for p in sent] == [112, 72, 72]
    assert len(got[2]) - 8 == 40


def test_aes_bad_input(hsm):
    with pytest.raises(BadArgs) as e:
        hsm.aes_cbc_encrypt(K128, IV, b"x" * 15)
    assert e.value.local
    with pytest.raises(BadArgs):
        hsm.aes_cbc_encrypt(K128, b"short iv", bytes(16))
    with pytest.raises(BadArgs):
        hsm.aes_gcm_encrypt(K128, IV, bytes(6000))  # one message at v1.4.0
    with pytest.raises(HsmError) as e:
        hsm.aes_cbc_encrypt(b"fifteen bytes..", IV, bytes(16))  # the server's wolfCrypt says no
    assert e.value.rc == -173 and not e.value.local
    with pytest.raises(NotFound):
        hsm.aes_cbc_encrypt(0x42, IV, bytes(16))


# ============================================================================================ CMAC

RFC4493_MSG = SP800_38A_PLAIN
RFC4493 = [
    (0, "bb1d6929e95937287fa37d129b756746"),
    (16, "070a16b46b4d4144f79bdd9dd04a287c"),
    (40, "dfa66747de9ae63030ca32611497c827"),
    (64, "51f0bebf7e3b9d92fc49741779363cfe"),
]


@pytest.mark.parametrize(("length", "tag"), RFC4493)
def test_cmac_rfc4493(hsm, length, tag):
    msg = RFC4493_MSG[:length]
    assert hsm.cmac(K128, msg).hex() == tag
    stream = hsm.cmac_new(K128)
    for i in range(0, length, 7):
        stream.update(msg[i : i + 7])
    assert stream.hexdigest() == tag
    assert hsm.cmac_verify(K128, msg, h(tag)) and not hsm.cmac_verify(K128, msg + b"!", h(tag))
    assert hsm.cmac(K128, msg, tag_len=8) == h(tag)[:8]


def test_cmac_long_input_and_cached_key(hsm):
    data = os.urandom(11_000)
    ref = cg_cmac.CMAC(algorithms.AES(K256))
    ref.update(data)
    expected = ref.finalize()
    sent, _ = recording(hsm)
    assert hsm.cmac(K256, data) == expected
    assert len(sent) >= 3  # update messages, then a final one
    kid = hsm.key_cache(K256, flags=SIGN)
    assert hsm.cmac(kid, data) == expected


# ============================================================================================ KDF


def test_hkdf_rfc5869_and_cached_output(hsm):
    ikm, salt, info = b"\x0b" * 22, h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9")
    okm = h("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    assert hsm.hkdf(ikm, 42, salt, info) == okm  # RFC 5869 A.1
    ref = HKDF(hashes.SHA384(), 70, b"s", b"i").derive(b"key material")
    assert hsm.hkdf(b"key material", 70, b"s", b"i", hash="sha384") == ref
    ikm_id = hsm.key_cache(ikm, flags=DERIVE)
    assert hsm.hkdf(ikm_id, 42, salt, info) == okm
    out_id = hsm.hkdf_cache(ikm_id, 32, salt, info, flags=ENCRYPT | DECRYPT, label="derived")
    assert hsm.key_export(out_id).data == okm[:32]
    assert hsm.aes_cbc_encrypt(out_id, IV, bytes(16)) == hsm.aes_cbc_encrypt(okm[:32], IV, bytes(16))


def test_cmac_kdf_matches_sp800_56c(hsm):
    salt, z, fixed = os.urandom(16), os.urandom(48), b"fixed info"

    def mac(key: bytes, msg: bytes) -> bytes:
        c = cg_cmac.CMAC(algorithms.AES(key))
        c.update(msg)
        return c.finalize()

    kdk = mac(salt, z)
    expected = (mac(kdk, b"\0\0\0\1" + fixed) + mac(kdk, b"\0\0\0\2" + fixed))[:24]
    assert hsm.cmac_kdf(salt, z, fixed, 24) == expected
    z_id = hsm.key_cache(z, flags=DERIVE)
    assert hsm.cmac_kdf(salt, z_id, fixed, 24) == expected
    out = hsm.cmac_kdf_cache(salt, z_id, fixed, 16, flags=ENCRYPT)
    assert hsm.key_export(out).data == expected[:16]


# ============================================================================================ usage flags


def test_usage_flags_surface_as_usage_error(hsm_client):
    """wolfHSM's USAGE (-2009) for keys whose flags forbid the operation (v1.4.0 suite,
    whTest_CryptoKeyUsagePolicies), here through the plugin's hsm_client fixture."""
    hsm = hsm_client
    enc_only = hsm.key_cache(K128, flags=ENCRYPT)
    hsm.aes_cbc_encrypt(enc_only, IV, bytes(16))
    for call in (
        lambda: hsm.aes_cbc_decrypt(enc_only, IV, bytes(16)),
        lambda: hsm.aes_gcm_encrypt(hsm.key_cache(K128, flags=DECRYPT), IV[:12], b"x"),
        lambda: hsm.cmac(enc_only, b"data"),
        lambda: hsm.hkdf(enc_only, 16),
        lambda: hsm.cmac_kdf(K128, enc_only, b"", 16),
    ):
        with pytest.raises(UsageError) as e:
            call()
        assert e.value.rc == -2009 and e.value.name == "USAGE"
    verify_only = hsm.ecc_keygen_cache("P-256", flags=VERIFY)
    with pytest.raises(UsageError):
        hsm.ecdsa_sign(verify_only, bytes(32))
    with pytest.raises(UsageError):
        hsm.ecdh(verify_only, ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(UsageError):
        hsm.ed25519_sign(hsm.ed25519_keygen_cache(flags=VERIFY), b"m")


# ============================================================================================ ECC

CURVES = {"P-256": (ec.SECP256R1(), 121), "P-384": (ec.SECP384R1(), 167), "P-521": (ec.SECP521R1(), 223)}
PREHASH = {32: hashes.SHA256(), 48: hashes.SHA384(), 64: hashes.SHA512()}


@pytest.mark.parametrize("curve", list(CURVES))
def test_ecc_interop_with_cryptography(hsm, curve):
    cg_curve, der_len = CURVES[curve]
    der = hsm.ecc_keygen(curve)
    assert len(der) == der_len
    key = load_key(der)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == cg_curve.name
    digest = os.urandom(64)  # the v1.4.0 cross-verify test's 64-byte "hashes"
    # HSM key (imported for the call) signs, cryptography verifies
    sig = hsm.ecdsa_sign(der, digest)
    key.public_key().verify(sig, digest, ec.ECDSA(Prehashed(PREHASH[64])))
    # a cryptography key signs, the HSM verifies with its public key (DER or object) or a cached copy
    outside = ec.generate_private_key(cg_curve)
    sig = outside.sign(digest, ec.ECDSA(Prehashed(PREHASH[64])))
    assert hsm.ecdsa_verify(outside.public_key(), digest, sig)
    assert hsm.ecdsa_verify(key_der(outside.public_key()), digest, sig)
    kid = hsm.key_cache(key_der(outside), flags=SIGN | VERIFY)
    assert hsm.ecdsa_verify(kid, digest, sig)
    assert not hsm.ecdsa_verify(kid, digest[::-1], sig)  # wrong signature: False, not an error
    # ECDH: the HSM and cryptography agree
    peer = ec.generate_private_key(cg_curve)
    mine = hsm.ecc_keygen_cache(curve)
    assert hsm.ecdh(mine, peer.public_key()) == peer.exchange(ec.ECDH(), hsm.public_key(mine))


def test_ecc_cached_key_and_temporary_imports_are_evicted(hsm):
    kid = hsm.ecc_keygen_cache("P-256", label="signer")
    pub = hsm.public_key(kid)
    digest = hashlib.sha256(b"firmware image").digest()
    sig = hsm.ecdsa_sign(kid, digest)
    pub.verify(sig, b"firmware image", ec.ECDSA(hashes.SHA256()))
    sent, got = recording(hsm)
    assert hsm.ecdsa_verify(pub, digest, sig)
    # KEY CACHE (label TempEccVerify, usage VERIFY), then ECDSA verify with the EVICT option
    assert [p[2:4] for p in sent] == [h("0003"), h("0304")]
    temp_id = int.from_bytes(got[0][12:14], "little")
    assert sent[1][16:20] == h("01000000") and int.from_bytes(sent[1][20:24], "little") == temp_id
    with pytest.raises(NotFound):
        hsm.key_export(temp_id)
    with pytest.raises(BadArgs):
        hsm.ecc_keygen("P-192")


# ============================================================================================ 25519


def test_ed25519_rfc8032_and_interop(hsm):
    seed = h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    expected = h(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
        "d25bf5f0595bbe24655141438e7a100b"
    )
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert hsm.ed25519_sign(key, b"") == expected  # RFC 8032 §7.1 test 1
    assert hsm.ed25519_verify(key.public_key(), b"", expected)
    assert not hsm.ed25519_verify(key.public_key(), b"x", expected)  # SIG_VERIFY_E on the wire
    der = hsm.ed25519_keygen()
    assert len(der) == 82  # wolfCrypt's key pair: version 0, raw [1] public key
    mine = load_key(der)
    sig = hsm.ed25519_sign(der, b"message")
    mine.public_key().verify(sig, b"message")
    kid = hsm.ed25519_keygen_cache()
    pub = hsm.public_key(kid)
    pub.verify(hsm.ed25519_sign(kid, b"cached"), b"cached")
    # Ed25519ctx and Ed25519ph go through the same calls
    for kw in ({"context": b"ctx"}, {"prehashed": True}):
        msg = hashlib.sha512(b"m").digest() if kw.get("prehashed") else b"m"
        s = hsm.ed25519_sign(kid, msg, **kw)
        assert hsm.ed25519_verify(kid, msg, s, **kw) and not hsm.ed25519_verify(kid, msg, s)


def test_x25519_rfc7748_and_byte_order(hsm):
    alice = x25519.X25519PrivateKey.from_private_bytes(
        h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob_pub = x25519.X25519PublicKey.from_public_bytes(
        h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    )
    shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert hsm.x25519(alice, bob_pub) == shared  # RFC 7748 §6.1
    assert hsm.x25519(alice, bob_pub, big_endian=True) == shared[::-1]  # wolfCrypt's default output
    der = hsm.x25519_keygen()
    assert len(der) == 82
    mine = load_key(der)  # the values in wolfCrypt's DER are byte-reversed
    peer = x25519.X25519PrivateKey.generate()
    assert hsm.x25519(der, peer.public_key()) == peer.exchange(mine.public_key())
    kid = hsm.x25519_keygen_cache()
    assert hsm.x25519(kid, peer.public_key()) == peer.exchange(hsm.public_key(kid))


# ============================================================================================ RSA, ML-DSA


def test_rsa_raw_operations_interop(hsm):
    der = hsm.rsa_keygen(2048)
    key = load_key(der)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert hsm.rsa_get_size(der) == 256
    kid = hsm.key_cache(der, flags=ENCRYPT | DECRYPT | SIGN | VERIFY)
    assert hsm.rsa_get_size(kid) == 256
    # PKCS#1 v1.5 signature padded on the client, raw private operation in the HSM
    digest = hashlib.sha256(b"boot image").digest()
    info = h("3031300d060960864801650304020105000420") + digest
    block = b"\x00\x01" + b"\xff" * (256 - 3 - len(info)) + b"\x00" + info
    sig = hsm.rsa_function(kid, 2, block)
    key.public_key().verify(sig, b"boot image", padding.PKCS1v15(), hashes.SHA256())
    # a cryptography key's public operation; the HSM's private operation undoes it
    outside = rsa.generate_private_key(65537, 2048)
    m = os.urandom(255)
    c = hsm.rsa_public_encrypt(outside.public_key(), b"\0" + m)
    n, d = outside.public_key().public_numbers().n, outside.private_numbers().d
    assert pow(int.from_bytes(c, "big"), d, n) == int.from_bytes(m, "big")
    assert hsm.rsa_private_decrypt(outside, c) == b"\0" + m


def test_mldsa_keygen_sign_verify(hsm):
    kid = hsm.mldsa_keygen_cache(44)
    msg = b"post-quantum boot manifest"
    sig = hsm.mldsa_sign(kid, msg)
    assert len(sig) == 2420
    assert hsm.mldsa_verify(kid, msg, sig)
    bad = bytearray(sig)
    bad[100] ^= 1
    assert not hsm.mldsa_verify(kid, msg, bytes(bad))
    der = hsm.mldsa_keygen(44)
    assert len(der) == 3904  # wolfCrypt's expanded-key DER (v1.4.0 trace)
    sig = hsm.mldsa_sign(der, msg)  # imported in the expanded form, then evicted
    assert hsm.mldsa_verify(der, msg, sig)


# ============================================================================================ certificates


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca: bool, days: int = 30, offset: int = -1) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=offset))
        .not_valid_after(now + datetime.timedelta(days=offset + days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return b.sign(issuer_key, hashes.SHA256())


def test_certificate_chain_and_leaf_key(hsm):
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("hsmemu root", root_key, "hsmemu root", root_key, True)
    mid = _cert("hsmemu intermediate", mid_key, "hsmemu root", root_key, True)
    leaf = _cert("ecu 7", leaf_key, "hsmemu intermediate", mid_key, False)
    hsm.cert_init()
    hsm.cert_add_trusted(0x0170, root, label="root")
    assert hsm.cert_read_trusted(0x0170) == root.public_bytes(serialization.Encoding.DER)
    assert hsm.cert_verify([mid, leaf], 0x0170) is None
    kid = hsm.cert_verify([mid, leaf], 0x0170, cache_leaf_key=True)
    assert isinstance(kid, int) and kid
    digest = hashlib.sha256(b"signed by the ECU").digest()
    assert hsm.ecdsa_verify(kid, digest, leaf_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    expired = _cert("ecu 8", leaf_key, "hsmemu intermediate", mid_key, False, days=10, offset=-20)
    other_root = ec.generate_private_key(ec.SECP256R1())
    stranger = _cert("ecu 9", leaf_key, "hsmemu intermediate", other_root, False)
    for chain in ([mid, expired], [mid, stranger], [leaf]):
        with pytest.raises(CertVerifyError) as e:
            hsm.cert_verify(chain, 0x0170)
        assert e.value.rc == -2005
    hsm.cert_erase_trusted(0x0170)
    with pytest.raises(NotFound):
        hsm.cert_read_trusted(0x0170)
    with pytest.raises(NotFound):
        hsm.cert_verify([mid, leaf], 0x0170)


# ============================================================================================ byte order


def test_big_endian_client(board):
    """A client that claims big-endian (a PowerPC app core): u32 fields, and the SHA-2 midstate words,
    travel in its byte order."""
    with board.connect(order="big") as hsm:
        sent, _ = recording(hsm)
        assert hsm.sha256(b"x" * 100) == hashlib.sha256(b"x" * 100).digest()
        assert sent[0][16:24] == bytes(8) and sent[0][24:28] == h("6a09e667")  # H0 as a big-endian word
        assert hsm.sha512(b"y" * 300) == hashlib.sha512(b"y" * 300).digest()
        assert hsm.aes_cbc_encrypt(K128, IV, SP800_38A_PLAIN)[:16] == h("7649abac8119b246cee98e9b12e9197d")
        assert hsm.cmac(K128, RFC4493_MSG[:40]).hex() == RFC4493[2][1]
        assert len(hsm.rng(6000)) == 6000
        key = ec.generate_private_key(ec.SECP256R1())
        sig = hsm.ecdsa_sign(key, DIGEST32)
        assert hsm.ecdsa_verify(key.public_key(), DIGEST32, sig)


DIGEST32 = hashlib.sha256(b"digest").digest()


# ============================================================================================ CLI


def test_cli_crypto_commands(board, tmp_path):
    url = ["--connect", board.url]
    rc, out, err = run_cli([*url, "rng", "16", "--hex"])
    assert (rc, err) == (0, "") and len(out.strip()) == 32 and int(out, 16) >= 0
    rc, raw, _ = run_cli_bytes([*url, "rng", "7"])
    assert rc == 0 and len(raw) == 7
    out_file = tmp_path / "random.bin"
    rc, out, err = run_cli([*url, "rng", "64", "--out", str(out_file)])
    assert (rc, out, err) == (0, f"wrote 64 bytes of random data to {out_file}\n", "")
    assert len(out_file.read_bytes()) == 64

    data = tmp_path / "image.bin"
    data.write_bytes(os.urandom(777))
    for bits in ("224", "256", "384", "512"):
        expected = hashlib.new("sha" + bits, data.read_bytes()).hexdigest()
        assert run_cli([*url, "sha", bits, str(data)]) == (0, f"{expected}  {data}\n", "")

    key, iv = "000102030405060708090a0b0c0d0e0f", "0f0e0d0c0b0a09080706050403020100"
    enc, dec = tmp_path / "image.enc", tmp_path / "image.dec"
    rc, out, err = run_cli([*url, "aes", "cbc", "enc", "--key", key, "--iv", iv, "--pad", str(data), str(enc)])
    assert (rc, err) == (0, "") and out == f"wrote 784 bytes of AES-CBC ciphertext to {enc}\n"
    assert run_cli([*url, "aes", "cbc", "dec", "--key", key, "--iv", iv, "--pad", str(enc), str(dec)])[0] == 0
    assert dec.read_bytes() == data.read_bytes()
    rc, out, err = run_cli([*url, "aes", "cbc", "enc", "--key", key, "--iv", iv, str(data)])
    assert rc == 2 and "not a whole number of 16-byte blocks" in err and err.count("\n") == 1
    gcm = [*url, "aes", "gcm"]
    assert run_cli([*gcm, "enc", "--key", key, "--iv", iv[:24], "--aad", "aa", str(data), str(enc)])[0] == 0
    assert len(enc.read_bytes()) == 777 + 16  # ciphertext || tag
    rc, raw, _ = run_cli_bytes([*gcm, "dec", "--key", key, "--iv", iv[:24], "--aad", "aa", str(enc)])
    assert (rc, raw) == (0, data.read_bytes())
    rc, out, err = run_cli([*gcm, "dec", "--key", key, "--iv", iv[:24], str(enc)])  # AAD missing
    assert rc == 1 and err == "hsmemu: error: aes_gcm inline key: AES_GCM_AUTH_E (-180)\n"
    rc, out, _ = run_cli([*url, "aes", "ctr", "enc", "--key", key, "--iv", iv, "--hex", str(data)])
    assert rc == 0 and bytes.fromhex(out.strip()) == ctr_reference(key, iv, data.read_bytes())

    msg = tmp_path / "msg.bin"
    msg.write_bytes(RFC4493_MSG[:40])
    assert run_cli([*url, "cmac", "--key", K128.hex(), str(msg)]) == (0, "dfa66747de9ae63030ca32611497c827\n", "")


def ctr_reference(key_hex: str, iv_hex: str, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(h(key_hex)), modes.CTR(h(iv_hex))).encryptor()
    return enc.update(data)


def test_cli_ecc_keygen_sign_verify(board, tmp_path):
    url = ["--connect", board.url]
    key, sig, msg = tmp_path / "key.der", tmp_path / "sig.der", tmp_path / "fw.bin"
    msg.write_bytes(b"firmware " * 100)
    rc, out, err = run_cli([*url, "ecc", "keygen", "--curve", "P-384", "--out", str(key)])
    assert (rc, err) == (0, "") and "167 bytes" in out
    private = load_key(key.read_bytes())
    assert run_cli([*url, "ecc", "sign", "--key", str(key), str(msg), "--out", str(sig)])[0] == 0
    private.public_key().verify(sig.read_bytes(), msg.read_bytes(), ec.ECDSA(hashes.SHA256()))
    pem = tmp_path / "pub.pem"
    pem.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    ok = run_cli([*url, "ecc", "verify", "--key", str(pem), "--sig-file", str(sig), str(msg)])
    assert ok == (0, "signature valid\n", "")
    bad = run_cli([*url, "ecc", "verify", "--key", str(pem), "--sig", sig.read_bytes().hex(), "--digest", "00" * 32])
    assert bad == (1, "signature INVALID\n", "")
    rc, out, _ = run_cli([*url, "ecc", "keygen"])
    assert rc == 0 and out.startswith("-----BEGIN EC PRIVATE KEY-----")
    # a key kept in NVM outlives the connection: sign with it by id in the next call
    rc, out, err = run_cli([*url, "ecc", "keygen", "--cache", "--commit", "--id", "0x61"])
    assert (rc, err) == (0, "") and out == "key 0x0061 (P-256, committed to NVM)\n"
    rc, out, _ = run_cli([*url, "ecc", "sign", "--key-id", "0x61", "--digest", "11" * 32])
    assert rc == 0
    assert run_cli([*url, "ecc", "verify", "--key-id", "0x61", "--sig", out.strip(), "--digest", "11" * 32])[0] == 0
    with board.connect() as c:
        c.key_erase(0x61)


# ============================================================================================ both boards


def _bridge_durations_ns(soc, start: int) -> list[int]:
    """Virtual time between each bridge request and its reply, in ns, from trace record ``start``."""
    out, pending = [], None
    for t, src, kind, _detail in soc.trace.records[start:]:
        if src == "bridge" and kind == "request":
            pending = t
        elif src == "bridge" and kind == "reply" and pending is not None:
            out.append((t - pending) * 1_000_000_000 // soc.timebase.hz)
            pending = None
    return out


def _run_ops_on(board_name: str, signer: ec.EllipticCurvePrivateKey, digest: bytes, sig: bytes) -> tuple[dict, str]:
    """The same requests on one board: ({op: (request packets, reply packets, durations ns)}, the
    name of the HSM server's crypto engine). Each op runs three times; the packets are those of the
    first run, a message's duration the least of its three (requests of the board's app cores that
    the HSM serves first inflate single samples, mostly right after boot)."""
    ops = {
        "aes_cbc_1k": lambda c: c.aes_cbc_encrypt(K128, IV, bytes(range(256)) * 4),
        "sha256_1k": lambda c: c.sha256(bytes(1024)),
        "cmac_1k": lambda c: c.cmac(K128, bytes(1024)),
        "ecdsa_verify_p256": lambda c: c.ecdsa_verify(signer.public_key(), digest, sig),
    }
    results = {}
    with bridge_util.running_board(board_name) as (soc, _bridge, urls):
        with Client.connect(urls[0], 1) as client:
            sent, got = recording(client)
            for name, op in ops.items():
                runs = []
                for _ in range(3):
                    first, start = len(sent), len(soc.trace.records)
                    op(client)
                    n = len(sent) - first
                    client.echo(b"sync")  # by its answer, the trace holds the op's last reply record
                    runs.append((sent[first : first + n], got[first : first + n], _bridge_durations_ns(soc, start)[:n]))
                durations = [min(samples) for samples in zip(*(r[2] for r in runs))]
                results[name] = (runs[0][0], runs[0][1], durations)
            engine = type(getattr(soc.core("hsm").firmware.server, "crypto_engine", None)).__name__
    return results, engine


def test_same_requests_on_both_boards_same_bytes_different_virtual_time():
    signer = ec.derive_private_key(0x1234_5678_9ABC_DEF0, ec.SECP256R1())
    digest = hashlib.sha256(b"same request").digest()
    sig = signer.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))  # randomized: made once for both boards
    aurix, aurix_engine = _run_ops_on("aurix-tc3xx", signer, digest, sig)
    spc58, spc58_engine = _run_ops_on("spc58nn", signer, digest, sig)
    for name in aurix:
        sent_a, got_a, ns_a = aurix[name]
        sent_s, got_s, ns_s = spc58[name]
        assert sent_a == sent_s, name  # the very same request packets
        assert got_a == got_s, name  # ... get the very same reply bytes
        assert len(ns_a) == len(sent_a) and all(ns > 0 for ns in ns_a + ns_s), name
    # the profiles differ where the hardware differs (SHA-256 engine and PKA on the Aurix-like board
    # only): the service times must differ by more than the boards' few-ns mailbox/quantum jitter
    totals = {name: (sum(aurix[name][2]), sum(spc58[name][2])) for name in ("sha256_1k", "ecdsa_verify_p256")}
    differ = {name: abs(a - s) > 0.1 * max(a, s) for name, (a, s) in totals.items()}
    if not any(differ.values()) and {aurix_engine, spc58_engine} == {"SoftwareEngine"}:
        pytest.xfail(f"both boards' HSM servers still compute in software at 100 MHz (no accelerator engine): {totals}")
    assert all(differ.values()), totals
