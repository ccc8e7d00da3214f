"""ML-DSA-44/65/87 through the wire: keygen, sign, verify, imported keys, error codes, DMA.

References: crypto spec §3.17/§4.5/§5.4, v1.4.0 diff §10.2/§10.5 (8-byte envelope, sign [20],
verify [24], EPHEMERAL keygen DER 3904 bytes with keyId 0x0100, cache path len 0), 01fe072 diff
§8.2 (signing domain: FIPS 204 internal form, mu = SHAKE256(tr || M), no context prefix), values
file (level values 2/3/5, DER header). Packets are framed by hand; requests are packed with
`struct` from the layout file's offsets, independent of the server's declarations.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import pytest

dilithium = pytest.importorskip("dilithium_py.ml_dsa")

from firmware.hsm.config import ServerConfig  # noqa: E402
from firmware.hsm.context import Connection  # noqa: E402
from firmware.hsm.nvm_ram import RamNvm  # noqa: E402
from firmware.hsm.server import Server, default_server  # noqa: E402

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import mldsa as crypto_mldsa
except ImportError:  # cryptography < 48 has no ML-DSA
    crypto_mldsa = None

ENGINES = {2: dilithium.ML_DSA_44, 3: dilithium.ML_DSA_65, 5: dilithium.ML_DSA_87}
SIZES = {2: (2560, 1312, 2420), 3: (4032, 1952, 3309), 5: (4896, 2592, 4627)}  # sk, pk, sig
OID_LAST = {2: 0x11, 3: 0x12, 5: 0x13}

PK, PQC_SIG = 3, 1
KEYGEN, SIGN, VERIFY, CHECK_PRIV = 21, 22, 23, 24
EPHEMERAL, USAGE_SIGN, USAGE_VERIFY, NONEXPORTABLE = 0x0010, 0x0080, 0x0100, 0x0004
KEY_CACHE, KEY_EVICT, KEY_EXPORT = 0x0300, 0x0301, 0x0302

OK, BADARGS, NOHANDLER, USAGE, NOTFOUND, ACCESS = 0, -2000, -2007, -2009, -2104, -2101
BAD_FUNC_ARG, BUFFER_E, ASN_PARSE_E, SIG_VERIFY_E, NOT_COMPILED_IN = -173, -132, -140, -229, -174


# ------------------------------------------------------------------------------------------ helpers


class Client:
    """One connection to a real server; hand-framed little-endian packets (core spec §2.1)."""

    def __init__(self, server: Server, hal: Any = None, client_id: int = 1) -> None:
        self.server, self.hal, self.conn, self.seq = server, hal, Connection(0), 0
        reply = self.call(0x0101, client_id.to_bytes(4, "little"))
        assert reply == client_id.to_bytes(4, "little") + (57).to_bytes(4, "little")

    def call(self, kind: int, payload: bytes) -> bytes:
        self.seq += 1
        header = b"\x01\xa5" + kind.to_bytes(2, "little") + self.seq.to_bytes(2, "little") + b"\0\0"
        reply = self.server.handle(self.conn, header + payload, self.hal)
        assert reply is not None and reply[:8] == header
        assert not self.server.errors, self.server.errors
        return reply[8:]

    def crypto(self, algo: int, body: bytes, sub: int = PQC_SIG, dma: bool = False) -> tuple[int, bytes]:
        reply = self.call(0x0B03 if dma else 0x0403, struct.pack("<II", algo, sub) + body)
        echoed, rc = struct.unpack_from("<Ii", reply)
        assert echoed == algo
        if rc != 0:
            assert len(reply) == 8, "v1.4.0 error responses are the 8-byte header only"
        return rc, reply[8:]

    # ---- ML-DSA messages (layouts: struct-offsets-v1.4.0.txt lines 76-81)
    def keygen(self, level: int, flags: int = EPHEMERAL, key_id: int = 0, label: bytes = b"") -> tuple[int, bytes]:
        return self.crypto(KEYGEN, struct.pack("<IIIII24s", 0, level, key_id, flags, 0xFFFF, label))

    def sign(self, key_id: int, msg: bytes, level: int = 2, options: int = 0) -> tuple[int, bytes]:
        return self.crypto(SIGN, struct.pack("<IIII4x", options, level, key_id, len(msg)) + msg)

    def verify(self, key_id: int, sig: bytes, msg: bytes, level: int = 2, options: int = 0) -> tuple[int, bytes]:
        head = struct.pack("<IIIII4x", options, level, key_id, len(sig), len(msg))
        return self.crypto(VERIFY, head + sig + msg)

    # ---- KEY group (struct-offsets-v1.4.0.txt lines 105-112)
    def cache_key(self, der: bytes, flags: int, key_id: int = 0, label: bytes = b"TempMlDsa") -> int:
        reply = self.call(KEY_CACHE, struct.pack("<IIIH2x24s", flags, len(der), len(label), key_id, label) + der)
        rc, out_id = struct.unpack_from("<iH", reply)
        assert rc == 0, rc
        return out_id

    def export_key(self, key_id: int) -> tuple[int, bytes, bytes]:
        reply = self.call(KEY_EXPORT, struct.pack("<H6x", key_id))
        rc, length = struct.unpack_from("<iI", reply)
        return rc, reply[8:32], reply[36 : 36 + length]


def signed(reply: tuple[int, bytes]) -> bytes:
    rc, body = reply
    assert rc == 0, rc
    (size,) = struct.unpack_from("<I", body)
    assert len(body) == 8 + size
    return body[8:]


def verified(reply: tuple[int, bytes]) -> int:
    rc, body = reply
    assert rc == 0, rc
    assert len(body) == 8
    return struct.unpack_from("<i", body)[0]


def der_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else b"\x82" + n.to_bytes(2, "big")


def wolfcrypt_key_der(level: int, pk: bytes, sk: bytes) -> bytes:
    """The key-pair DER as wc_Dilithium_KeyToDer writes it (crypto spec §4.5), built by hand."""
    oid = b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03" + bytes([OID_LAST[level]])
    inner = b"\x04" + der_len(len(sk)) + sk
    body = b"\x02\x01\x00" + b"\x30\x0b" + oid + b"\x04" + der_len(len(inner)) + inner
    body += b"\x81" + der_len(len(pk)) + pk
    return b"\x30" + der_len(len(body)) + body


def spki(level: int, pk: bytes) -> bytes:
    oid = b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03" + bytes([OID_LAST[level]])
    bits = b"\x03" + der_len(len(pk) + 1) + b"\x00" + pk
    body = b"\x30\x0b" + oid + bits
    return b"\x30" + der_len(len(body)) + body


def parse_key_der(der: bytes, level: int) -> tuple[bytes, bytes]:
    """(sk, pk) out of a wolfCrypt key-pair DER of `level`, checking every header byte."""
    sk_len, pk_len, _ = SIZES[level]
    expected = wolfcrypt_key_der(level, bytes(pk_len), bytes(sk_len))
    start_sk = len(expected) - pk_len - 4 - sk_len
    assert len(der) == len(expected)
    assert der[:start_sk] == expected[:start_sk]
    assert der[start_sk + sk_len : -pk_len] == expected[start_sk + sk_len : -pk_len]
    return der[start_sk : start_sk + sk_len], der[-pk_len:]


@pytest.fixture
def server() -> Server:
    return default_server(nvm=RamNvm())


@pytest.fixture
def big_server() -> Server:
    """Room for ML-DSA-65/87 key pairs (6016/7520-byte DERs): they fit neither the v1.4.0 example
    server's 4096-byte big cache slots nor its 5000-byte comm buffer."""
    cfg = ServerConfig(comm_data_len=8192, max_request_payload=8192, keycache_bigbufsize=8192)
    return default_server(cfg, nvm=RamNvm())


@pytest.fixture
def cl(server: Server) -> Client:
    return Client(server)


def new_keypair(level: int) -> tuple[bytes, bytes]:
    pk, sk = ENGINES[level].key_derive(os.urandom(32))
    return pk, sk


# ------------------------------------------------------------------------------------------ keygen


def test_ephemeral_keygen_ml_dsa_44_is_wolfcrypt_der(cl: Client) -> None:
    rc, body = cl.keygen(2)
    assert rc == 0
    key_id, length = struct.unpack_from("<II", body)
    assert key_id == 0x0100  # the erased id in client form (global keys), v1.4.0 diff §10.2
    assert length == 3904 == len(body) - 8
    der = body[8:]
    # values file: mldsa_keytoder_head(40)
    assert der[:24].hex() == "30820f3c020100300b060960864801650304031104820a04"
    assert der[24:28].hex() == "04820a00"
    sk, pk = parse_key_der(der, 2)
    assert dilithium.ML_DSA_44.pk_from_sk(sk) == pk
    assert sk[:32] == pk[:32]  # rho: the values file's tail region repeats it after 81820520


def test_ephemeral_keygen_65_and_87_do_not_fit_the_example_server(cl: Client) -> None:
    # 01fe072 diff §8.2: the DER does not fit the 5000-byte buffer -> -173, header-only response
    assert cl.keygen(3) == (BAD_FUNC_ARG, b"")
    assert cl.keygen(5) == (BAD_FUNC_ARG, b"")


@pytest.mark.parametrize("level", [0, 1, 4, 6, 44, 0xFFFFFFFF])
def test_keygen_unknown_level_is_badargs(cl: Client, level: int) -> None:
    assert cl.keygen(level) == (BADARGS, b"")
    assert cl.keygen(level, flags=USAGE_SIGN) == (BADARGS, b"")


def test_cache_path_keygen_stores_the_key_pair(cl: Client) -> None:
    rc, body = cl.keygen(2, flags=USAGE_SIGN | USAGE_VERIFY, label=b"my mldsa key")
    assert rc == 0
    key_id, length = struct.unpack_from("<II", body)
    assert length == 0 and len(body) == 8  # v1.4.0: no public key on the cache path
    assert key_id & 0xFF and not key_id & 0x0100  # local id of client 1
    rc, label, der = cl.export_key(key_id)
    assert rc == 0 and label == b"my mldsa key".ljust(24, b"\0")
    sk, pk = parse_key_der(der, 2)
    msg = b"cache path"
    assert dilithium.ML_DSA_44._verify_internal(pk, msg, signed(cl.sign(key_id, msg)))


def test_cache_path_keygen_with_requested_id_and_nonexportable(cl: Client) -> None:
    rc, body = cl.keygen(2, flags=USAGE_SIGN | NONEXPORTABLE, key_id=0x42)
    assert rc == 0 and struct.unpack_from("<I", body)[0] == 0x42
    assert cl.export_key(0x42)[0] == ACCESS
    assert len(signed(cl.sign(0x42, b"x"))) == 2420


def test_cache_path_keygen_65_87_fit_no_v140_slot(cl: Client) -> None:
    assert cl.keygen(3, flags=USAGE_SIGN) == (BADARGS, b"")
    assert cl.keygen(5, flags=USAGE_SIGN) == (BADARGS, b"")


# ------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("level", [2, 3, 5])
def test_keygen_sign_verify_round_trip(big_server: Server, level: int) -> None:
    cl = Client(big_server)
    rc, body = cl.keygen(level, flags=USAGE_SIGN | USAGE_VERIFY)
    assert rc == 0
    key_id = struct.unpack_from("<I", body)[0]
    msg = os.urandom(100)
    sig = signed(cl.sign(key_id, msg, level))
    assert len(sig) == SIZES[level][2]
    assert verified(cl.verify(key_id, sig, msg, level)) == 1
    assert verified(cl.verify(key_id, sig, msg + b"!", level)) == 0
    bad = bytes([sig[0] ^ 1]) + sig[1:]  # what the v1.4.0 suite does
    assert verified(cl.verify(key_id, bad, msg, level)) == 0
    # hedged signing: two signatures of one message differ, both verify
    sig2 = signed(cl.sign(key_id, msg, level))
    assert sig2 != sig and verified(cl.verify(key_id, sig2, msg, level)) == 1


@pytest.mark.parametrize("level", [3, 5])
def test_ephemeral_keygen_65_87_with_a_big_comm_buffer(big_server: Server, level: int) -> None:
    rc, body = Client(big_server).keygen(level)
    assert rc == 0
    sk, pk = parse_key_der(body[8:], level)
    assert ENGINES[level].pk_from_sk(sk) == pk


def test_empty_message(cl: Client) -> None:
    key_id = struct.unpack_from("<I", cl.keygen(2, flags=USAGE_SIGN | USAGE_VERIFY)[1])[0]
    sig = signed(cl.sign(key_id, b""))
    assert verified(cl.verify(key_id, sig, b"")) == 1


# ------------------------------------------------------------------------------------------ interop


def test_hsm_signature_is_fips204_internal_form(cl: Client) -> None:
    """01fe072 diff §8.2: mu = SHAKE256(tr || M) on the raw message, no context prefix."""
    pk, sk = new_keypair(2)
    key_id = cl.cache_key(wolfcrypt_key_der(2, pk, sk), USAGE_SIGN)
    msg = b"internal form"
    sig = signed(cl.sign(key_id, msg))
    assert dilithium.ML_DSA_44._verify_internal(pk, msg, sig)
    assert not dilithium.ML_DSA_44.verify(pk, msg, sig)  # not pure ML-DSA of the same bytes


def test_outside_internal_signature_verifies_in_hsm(cl: Client) -> None:
    pk, sk = new_keypair(2)
    key_id = cl.cache_key(spki(2, pk), USAGE_VERIFY)  # public key only
    msg = b"signed outside"
    sig = dilithium.ML_DSA_44._sign_internal(sk, msg, os.urandom(32))
    assert verified(cl.verify(key_id, sig, msg)) == 1
    pure = dilithium.ML_DSA_44.sign(sk, msg)  # pure ML-DSA: prefix 00 00, so not the same M
    assert verified(cl.verify(key_id, pure, msg)) == 0
    assert verified(cl.verify(key_id, pure, b"\x00\x00" + msg)) == 1


@pytest.mark.skipif(crypto_mldsa is None, reason="cryptography without ML-DSA")
def test_interop_with_cryptography_pure_mldsa(cl: Client) -> None:
    """A pure ML-DSA signature of X (empty context) is an internal-form signature of 00 00 || X."""
    assert crypto_mldsa is not None
    priv = crypto_mldsa.MLDSA44PrivateKey.generate()
    pub = priv.public_key()
    pk_der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert len(pk_der) == 1334
    # cryptography's seed-only PKCS#8 (54 bytes) is accepted as a cached key (crypto spec §4.5)
    seed_der = priv.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert len(seed_der) == 54
    key_id = cl.cache_key(seed_der, USAGE_SIGN | USAGE_VERIFY)
    x = b"message for cryptography"
    sig = signed(cl.sign(key_id, b"\x00\x00" + x))
    pub.verify(sig, x)  # HSM -> outside
    theirs = priv.sign(x)
    assert verified(cl.verify(key_id, theirs, b"\x00\x00" + x)) == 1  # outside -> HSM
    assert verified(cl.verify(key_id, theirs, x)) == 0
    # and the SPKI it exports is what the HSM's keys look like (same public key)
    pub_id = cl.cache_key(pk_der, USAGE_VERIFY)
    assert verified(cl.verify(pub_id, sig, b"\x00\x00" + x)) == 1


# ------------------------------------------------------------------------------------------ imported keys


@pytest.mark.parametrize("level", [2, 3, 5])
def test_imported_expanded_key_signs(big_server: Server, level: int) -> None:
    cl = Client(big_server)
    pk, sk = new_keypair(level)
    der = wolfcrypt_key_der(level, pk, sk)
    assert len(der) == {2: 3904, 3: 6016, 5: 7520}[level]
    key_id = cl.cache_key(der, USAGE_SIGN | USAGE_VERIFY, key_id=0x0100)  # global, as the client does
    assert key_id & 0x0100
    msg = os.urandom(33)
    sig = signed(cl.sign(key_id, msg, level))
    assert ENGINES[level]._verify_internal(pk, msg, sig)
    assert verified(cl.verify(key_id, sig, msg, level)) == 1


def test_suite_flow_ephemeral_keygen_then_client_import(cl: Client) -> None:
    """v1.4.0 suite (diff §12.3 #16): EPHEMERAL keygen, import as TempMlDsaSign with EVICT, verify."""
    der = cl.keygen(2)[1][8:]
    key_id = cl.cache_key(der, USAGE_SIGN, key_id=0x0100)
    assert key_id == 0x01FF
    msg = bytes(range(32))
    sig = signed(cl.sign(key_id, msg, options=1))  # EVICT
    assert cl.sign(key_id, msg) == (NOTFOUND, b"")  # evicted after the operation
    key_id = cl.cache_key(der, USAGE_VERIFY, key_id=0x0100)
    assert verified(cl.verify(key_id, sig, msg, options=1)) == 1
    assert cl.export_key(key_id)[0] == NOTFOUND
    key_id = cl.cache_key(der, USAGE_VERIFY, key_id=0x0100)
    assert verified(cl.verify(key_id, bytes([sig[0] ^ 1]) + sig[1:], msg, options=1)) == 0


def test_private_only_and_raw_encodings_are_accepted(cl: Client) -> None:
    pk, sk = new_keypair(2)
    oid = b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x11"
    inner = b"\x04\x82\x0a\x00" + sk
    body = b"\x02\x01\x00\x30\x0b" + oid + b"\x04\x82\x0a\x04" + inner
    priv_only = b"\x30" + der_len(len(body)) + body  # no [1] public key: derived from sk
    key_id = cl.cache_key(priv_only, USAGE_SIGN | USAGE_VERIFY)
    sig = signed(cl.sign(key_id, b"m"))
    assert verified(cl.verify(key_id, sig, b"m")) == 1
    raw_pub = cl.cache_key(pk, USAGE_VERIFY)  # a bare 1312-byte public key
    assert verified(cl.verify(raw_pub, sig, b"m")) == 1


def test_public_key_cannot_sign(cl: Client) -> None:
    pk, _sk = new_keypair(2)
    key_id = cl.cache_key(spki(2, pk), USAGE_SIGN)
    assert cl.sign(key_id, b"m") == (BAD_FUNC_ARG, b"")


def test_key_of_another_algorithm_is_asn_parse_error(cl: Client) -> None:
    key_id = cl.cache_key(os.urandom(32), USAGE_SIGN | USAGE_VERIFY)
    assert cl.sign(key_id, b"m") == (ASN_PARSE_E, b"")
    assert cl.verify(key_id, bytes(2420), b"m") == (ASN_PARSE_E, b"")


def test_request_level_is_not_checked_against_the_key(cl: Client) -> None:
    """v1.4.0 quirk: sign/verify ignore `level` and use the key's own parameter set."""
    key_id = struct.unpack_from("<I", cl.keygen(2, flags=USAGE_SIGN | USAGE_VERIFY)[1])[0]
    sig = signed(cl.sign(key_id, b"m", level=5))
    assert len(sig) == 2420
    assert verified(cl.verify(key_id, sig, b"m", level=77)) == 1


# ------------------------------------------------------------------------------------------ bad input


def test_usage_flags_are_enforced(cl: Client) -> None:
    pk, sk = new_keypair(2)
    der = wolfcrypt_key_der(2, pk, sk)
    verify_only = cl.cache_key(der, USAGE_VERIFY)
    sign_only = cl.cache_key(der, USAGE_SIGN)
    assert cl.sign(verify_only, b"m") == (USAGE, b"")
    sig = signed(cl.sign(sign_only, b"m"))
    assert cl.verify(sign_only, sig, b"m") == (USAGE, b"")
    assert verified(cl.verify(verify_only, sig, b"m")) == 1
    # a usage failure still evicts a key sent with EVICT
    assert cl.sign(verify_only, b"m", options=1) == (USAGE, b"")
    assert cl.export_key(verify_only)[0] == NOTFOUND


def test_missing_and_erased_keys(cl: Client) -> None:
    assert cl.sign(0x33, b"m") == (NOTFOUND, b"")
    assert cl.verify(0x33, bytes(2420), b"m") == (NOTFOUND, b"")
    assert cl.sign(0, b"m") == (BADARGS, b"")  # erased id: no usage lookup, key export refuses it
    assert cl.verify(0, bytes(2420), b"m") == (BADARGS, b"")


def test_truncated_requests(cl: Client) -> None:
    key_id = struct.unpack_from("<I", cl.keygen(2, flags=USAGE_SIGN | USAGE_VERIFY)[1])[0]
    head = struct.pack("<IIII4x", 1, 2, key_id, 10)
    assert cl.crypto(SIGN, head[:12]) == (BADARGS, b"")  # shorter than the 20-byte struct
    assert cl.crypto(SIGN, head + b"123456789") == (BADARGS, b"")  # sz beyond the data
    assert cl.export_key(key_id)[0] == OK, "size errors return before the EVICT cleanup"
    vhead = struct.pack("<IIIII4x", 0, 2, key_id, 2420, 5)
    assert cl.crypto(VERIFY, vhead[:20]) == (BADARGS, b"")
    assert cl.crypto(VERIFY, vhead + bytes(2424)) == (BADARGS, b"")
    huge = struct.pack("<IIIII4x", 0, 2, key_id, 0xFFFFFFFF, 2)
    assert cl.crypto(VERIFY, huge + bytes(10)) == (BADARGS, b"")


def test_bad_signatures(cl: Client) -> None:
    key_id = struct.unpack_from("<I", cl.keygen(2, flags=USAGE_SIGN | USAGE_VERIFY)[1])[0]
    msg = b"bad signatures"
    sig = signed(cl.sign(key_id, msg))
    assert cl.verify(key_id, sig[:-1], msg) == (BUFFER_E, b"")  # wrong length
    assert cl.verify(key_id, sig + b"\0", msg) == (BUFFER_E, b"")
    malformed = sig[:-4] + b"\x50\x50\x50\x51"  # hint counts beyond omega (80)
    assert cl.verify(key_id, malformed, msg) == (SIG_VERIFY_E, b"")
    assert verified(cl.verify(key_id, bytes(len(sig)), msg)) == 0  # all zero: well-formed, wrong
    tampered = sig[:100] + bytes([sig[100] ^ 0x80]) + sig[101:]
    assert verified(cl.verify(key_id, tampered, msg)) == 0


@pytest.mark.parametrize("algo", [KEYGEN, SIGN, VERIFY, CHECK_PRIV])
def test_wrong_subtype_is_nohandler(cl: Client, algo: int) -> None:
    assert cl.crypto(algo, bytes(64), sub=0) == (NOHANDLER, b"")
    assert cl.crypto(algo, bytes(64), sub=2) == (NOHANDLER, b"")


def test_check_private_key_is_nohandler(cl: Client) -> None:
    assert cl.crypto(CHECK_PRIV, bytes(16)) == (NOHANDLER, b"")


@pytest.mark.parametrize("algo", [18, 19, 20])
def test_ml_kem_is_not_compiled_in_at_v140(cl: Client, algo: int) -> None:
    assert cl.crypto(algo, bytes(40)) == (NOT_COMPILED_IN, b"")


def test_big_endian_client(server: Server) -> None:
    cl = Client(server)
    cl.seq += 1
    body = struct.pack(">II", KEYGEN, PQC_SIG) + struct.pack(">IIIII24s", 0, 2, 0, EPHEMERAL, 0, b"")
    header = b"\xa5\x01" + (0x0403).to_bytes(2, "big") + cl.seq.to_bytes(2, "big") + b"\0\0"
    reply = server.handle(cl.conn, header + body)
    assert reply is not None
    algo, rc, key_id, length = struct.unpack_from(">IiII", reply, 8)
    assert (algo, rc, key_id, length) == (KEYGEN, 0, 0x0100, 3904)
    assert reply[24:28].hex() == "30820f3c"


# ------------------------------------------------------------------------------------------ DMA


def test_dma_keygen_sign_verify(server: Server, hal: Any) -> None:
    """CRYPTO_DMA layouts (struct-offsets-v1.4.0.txt lines 90-95); buffers in client memory."""
    cl = Client(server, hal)
    key_buf, msg_buf, sig_buf = hal.rw, hal.rw + 0x2000, hal.rw + 0x3000
    rc, body = cl.crypto(KEYGEN, struct.pack("<QQIIIII24s4x", key_buf, 4096, 2, EPHEMERAL, 0, 0, 0, b""), dma=True)
    assert rc == 0
    key_id, size = struct.unpack_from("<II", body, 16)
    assert (key_id, size, len(body)) == (0, 3904, 24)
    sk, pk = parse_key_der(hal.peek(key_buf, 3904), 2)
    # cache-path keygen through DMA, then sign and verify with buffers in client memory
    label = b"dma key"
    req = struct.pack("<QQIIIII24s4x", 0, 0, 2, USAGE_SIGN | USAGE_VERIFY, 0, 0, len(label), label)
    rc, body = cl.crypto(KEYGEN, req, dma=True)
    assert rc == 0
    key_id, size = struct.unpack_from("<II", body, 16)
    assert size == 0 and key_id & 0xFF
    assert cl.export_key(key_id)[1] == label.ljust(24, b"\0")
    msg = b"message in client RAM"
    hal.poke(msg_buf, msg)
    rc, body = cl.crypto(SIGN, struct.pack("<QQQQIII4x", msg_buf, len(msg), sig_buf, 4096, 0, 2, key_id), dma=True)
    assert rc == 0
    sig_len = struct.unpack_from("<I", body, 16)[0]
    assert sig_len == 2420
    sig = hal.peek(sig_buf, sig_len)
    req = struct.pack("<QQQQIII4x", sig_buf, sig_len, msg_buf, len(msg), 0, 2, key_id)
    rc, body = cl.crypto(VERIFY, req, dma=True)
    assert rc == 0 and struct.unpack_from("<i", body, 16)[0] == 1
    hal.poke(sig_buf, bytes([sig[0] ^ 1]))
    rc, body = cl.crypto(VERIFY, req, dma=True)
    assert rc == 0 and struct.unpack_from("<i", body, 16)[0] == 0


def test_dma_refusals_are_access(server: Server, hal: Any) -> None:
    cl = Client(server, hal)
    req = struct.pack("<QQIIIII24s4x", hal.ro, 4096, 2, EPHEMERAL, 0, 0, 0, b"")  # read-only memory
    assert cl.crypto(KEYGEN, req, dma=True) == (ACCESS, b"")
    req = struct.pack("<QQIIIII24s4x", hal.rw, 100, 2, EPHEMERAL, 0, 0, 0, b"")  # too small
    assert cl.crypto(KEYGEN, req, dma=True) == (BAD_FUNC_ARG, b"")
    key_id = struct.unpack_from("<I", cl.keygen(2, flags=USAGE_SIGN)[1])[0]
    req = struct.pack("<QQQQIII4x", hal.outside, 16, hal.rw, 4096, 0, 2, key_id)
    assert cl.crypto(SIGN, req, dma=True) == (ACCESS, b"")
    req = struct.pack("<QQQQIII4x", hal.rw, 16, hal.rw + 0x1000, 100, 0, 2, key_id)
    assert cl.crypto(SIGN, req, dma=True) == (BUFFER_E, b"")
    assert hal.refused
    assert cl.crypto(SIGN, bytes(40), dma=True) == (BADARGS, b"")  # shorter than the 48-byte struct


def test_dma_without_a_dma_engine_is_access(server: Server) -> None:
    cl = Client(server)  # no HAL: the server has no DMA path to client memory
    req = struct.pack("<QQIIIII24s4x", 0x2000_0000, 4096, 2, EPHEMERAL, 0, 0, 0, b"")
    assert cl.crypto(KEYGEN, req, dma=True) == (ACCESS, b"")


def test_without_the_fips204_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without dilithium-py the server behaves as one built without HAVE_DILITHIUM (NOT_COMPILED_IN)."""
    from firmware.hsm.crypto import Registry, pqc

    monkeypatch.setattr(pqc, "AVAILABLE", False)
    registry = Registry()
    pqc.register(registry)
    assert registry.handlers == {}
