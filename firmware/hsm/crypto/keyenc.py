"""wolfCrypt key encodings (wolfSSL 5.8.4) and the key-store glue of the public-key handlers.

What crosses the wire and what sits in the key cache for asymmetric keys is whatever wolfCrypt's
DER helpers produce (crypto spec §4, v1.4.0 diff §10.4). This module reads and writes exactly
those bytes:

* RSA: PKCS#1 ``RSAPrivateKey`` for key pairs, ``SubjectPublicKeyInfo`` for public keys; decoding
  tries private first, then public (SPKI or bare PKCS#1 ``RSAPublicKey``) (§4.1).
* ECC P-256/384/521: SEC1/RFC 5915 ``ECPrivateKey`` with ``[0]`` named curve and ``[1]`` public
  point (121/167/223 bytes), private-only SEC1 (51 bytes for P-256) or PKCS#8 on input, SPKI with
  a named curve for public keys (§4.2).
* X25519: OneAsymmetricKey **version 0** with the public key as a raw primitive ``[1]`` (no BIT
  STRING unused-bits octet), 82 bytes; SPKI, 44 bytes. **Both 32-byte values are byte-reversed**
  against RFC 7748 (wolfCrypt exports big-endian by default) (§4.3, the major trap).
* Ed25519: the same OneAsymmetricKey shape (seed and public key not reversed), SPKI (§4.4).

`cryptography` refuses the version-0-with-raw-``[1]`` shape, so the 25519 forms go through the
tiny DER reader/writer below; RSA and ECC are standard and go through `cryptography`.

Every decoding failure is a :class:`KeyEncodingError` with a wolfCrypt rc. The C server's
decoders return various ASN.1 codes for a key of the wrong type (ASN_PARSE_E, ASN_OBJECT_ID_E,
ASN_ECC_KEY_E ...); this firmware answers ``ASN_PARSE_E`` (-140) for every "these bytes are not
such a key" case and ``ECC_CURVE_OID_E`` (-172) for an EC key on a curve the build lacks.

The second half is the glue every PK handler needs: client key id -> server id, fetching a key
with its usage flags enforced (freshen path), the unchecked "EVICT" option, caching a generated
key on the cache path, randomness (the crypto engine's RNG) and cycle costs. Key-store errors
become CryptoError so that the crypto envelope answers them as rc.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from firmware.wire import NvmFlags, WcError
from firmware.wire.constants import keyid_id

from ..keystore import KeyStore, KeystoreError, make_metadata
from ..services.crypto import CryptoError
from .engine import engine

__all__ = [
    "CURVES",
    "EccCurve",
    "EccKey",
    "Ed25519Key",
    "KeyEncodingError",
    "RsaKey",
    "X25519Key",
    "ecc_from_der",
    "ecc_pair_der",
    "ecc_spki_der",
    "ed25519_from_der",
    "ed25519_pair_der",
    "ed25519_spki_der",
    "rsa_from_der",
    "rsa_private_der",
    "rsa_public_der",
    "x25519_from_der",
    "x25519_pair_der",
    "x25519_spki_der",
]


class KeyEncodingError(ValueError):
    """Bytes that are not a key of the wanted kind; `rc` is the wolfCrypt code for the response."""

    def __init__(self, rc: int, why: str) -> None:
        super().__init__(why)
        self.rc = int(rc)


def _bad(why: str, rc: int = WcError.ASN_PARSE_E) -> KeyEncodingError:
    return KeyEncodingError(rc, why)


# ------------------------------------------------------------------------------------------ DER


def _read_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`; definite lengths only."""
    if pos + 2 > end:
        raise _bad("truncated DER element")
    tag, first = buf[pos], buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 3 or pos + n > end:
            raise _bad("bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise _bad("DER element runs past its container")
    return tag, pos, pos + length


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID = 0x30, 0x02, 0x03, 0x04, 0x06
_CTX0_CONSTRUCTED, _CTX1_PRIMITIVE = 0xA0, 0x81

# OneAsymmetricKey / SPKI algorithm identifiers (RFC 8410): no parameters.
OID_X25519 = bytes.fromhex("2b656e")  # 1.3.101.110
OID_ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
KEY25519_SIZE = 32


def _algid(oid: bytes) -> bytes:
    return _tlv(_SEQUENCE, _tlv(_OID, oid))


def _check_algid(der: bytes, start: int, end: int, oid: bytes) -> None:
    tag, s, e = _read_tlv(der, start, end)
    if tag != _OID or der[s:e] != oid:
        raise _bad("wrong algorithm OID")
    if e != end and der[e:end] != b"\x05\x00":  # tolerate an explicit NULL parameter
        raise _bad("unexpected algorithm parameters")


def decode_okp(der: bytes, oid: bytes) -> tuple[bytes | None, bytes | None]:
    """The private and public 32-byte strings of a 25519 key DER, exactly as they stand in it.

    Accepts the wolfCrypt key pair (version 0, raw ``[1]``), the RFC 5958 forms (version 0 or 1,
    ``[1]`` with the BIT STRING unused-bits octet), private-only keys and SPKI public keys.
    Bytes after the outer SEQUENCE are ignored, as wolfCrypt's decoders ignore them.
    """
    der = bytes(der)
    tag, s, end = _read_tlv(der, 0, len(der))
    if tag != _SEQUENCE:
        raise _bad("not a SEQUENCE")
    tag, s1, e1 = _read_tlv(der, s, end)
    if tag == _SEQUENCE:  # SubjectPublicKeyInfo
        _check_algid(der, s1, e1, oid)
        tag, s2, e2 = _read_tlv(der, e1, end)
        if tag != _BIT_STRING or e2 - s2 != KEY25519_SIZE + 1 or der[s2] != 0:
            raise _bad("bad public key BIT STRING")
        return None, der[s2 + 1 : e2]
    if tag != _INTEGER or der[s1:e1] not in (b"\x00", b"\x01"):
        raise _bad("bad OneAsymmetricKey version")
    tag, s2, e2 = _read_tlv(der, e1, end)
    if tag != _SEQUENCE:
        raise _bad("missing AlgorithmIdentifier")
    _check_algid(der, s2, e2, oid)
    tag, s3, e3 = _read_tlv(der, e2, end)
    if tag != _OCTET_STRING:
        raise _bad("missing privateKey OCTET STRING")
    tag, s4, e4 = _read_tlv(der, s3, e3)
    if tag != _OCTET_STRING or e4 - s4 != KEY25519_SIZE:
        raise _bad("bad CurvePrivateKey")
    private, public = der[s4:e4], None
    pos = e3
    while pos < end:
        tag, s5, e5 = _read_tlv(der, pos, end)
        if tag == _CTX1_PRIMITIVE:
            raw = der[s5:e5]
            if len(raw) == KEY25519_SIZE + 1 and raw[0] == 0:
                raw = raw[1:]  # RFC 5958 BIT STRING content
            if len(raw) != KEY25519_SIZE:
                raise _bad("bad [1] public key")
            public = raw
        elif tag != _CTX0_CONSTRUCTED:  # [0] attributes are skipped
            raise _bad(f"unexpected element 0x{tag:02x}")
        pos = e5
    return private, public


def encode_okp_pair(oid: bytes, private: bytes, public: bytes | None) -> bytes:
    """wolfCrypt's key pair DER: version 0, raw ``[1]`` public key (82 bytes with it, 48 without)."""
    body = _tlv(_INTEGER, b"\x00") + _algid(oid) + _tlv(_OCTET_STRING, _tlv(_OCTET_STRING, private))
    if public is not None:
        body += _tlv(_CTX1_PRIMITIVE, public)
    return _tlv(_SEQUENCE, body)


def encode_okp_spki(oid: bytes, public: bytes) -> bytes:
    """Standard SubjectPublicKeyInfo (44 bytes)."""
    return _tlv(_SEQUENCE, _algid(oid) + _tlv(_BIT_STRING, b"\x00" + public))


# ------------------------------------------------------------------------------------------ X25519


def x25519_clamp(k: bytes) -> bytes:
    """RFC 7748 clamping of a little-endian scalar (what wolfCrypt does on every import)."""
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return bytes(b)


@dataclass(frozen=True)
class X25519Key:
    """A Curve25519 key in RFC 7748 (little-endian) byte order, the order `cryptography` uses."""

    private: bytes | None  # clamped scalar
    public: bytes | None  # u-coordinate as stored; never masked (wolfCrypt checks bit 255 itself)

    def public_or_derived(self) -> bytes:
        if self.public is not None:
            return self.public
        assert self.private is not None
        return x25519.X25519PrivateKey.from_private_bytes(self.private).public_key().public_bytes_raw()


def x25519_from_der(der: bytes) -> X25519Key:
    """Decode a wolfCrypt X25519 DER: reverse both values back to RFC 7748 order, clamp the scalar."""
    private, public = decode_okp(der, OID_X25519)
    return X25519Key(
        None if private is None else x25519_clamp(private[::-1]),
        None if public is None else public[::-1],
    )


def x25519_pair_der(private_le: bytes, public_le: bytes | None) -> bytes:
    """The 82-byte key pair DER a wolfCrypt X25519 key serializes to (values byte-reversed)."""
    return encode_okp_pair(OID_X25519, private_le[::-1], None if public_le is None else public_le[::-1])


def x25519_spki_der(public_le: bytes) -> bytes:
    """The 44-byte public key DER of wolfCrypt (u-coordinate byte-reversed)."""
    return encode_okp_spki(OID_X25519, public_le[::-1])


# ------------------------------------------------------------------------------------------ Ed25519


@dataclass(frozen=True)
class Ed25519Key:
    seed: bytes | None  # the 32-byte private key (RFC 8032 "secret key")
    public: bytes  # always present: derived from the seed when the DER lacks it

    def signer(self) -> ed25519.Ed25519PrivateKey:
        assert self.seed is not None
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.seed)


def ed25519_public_of(seed: bytes) -> bytes:
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_from_der(der: bytes) -> Ed25519Key:
    """Decode an Ed25519 DER (key pair, private-only or SPKI).

    A private-only key gets its public key derived from the seed (wolfCrypt's private-only import
    leaves it unset; a user expects a usable key).
    """
    seed, public = decode_okp(der, OID_ED25519)
    if public is None:
        assert seed is not None
        public = ed25519_public_of(seed)
    return Ed25519Key(seed, public)


def ed25519_pair_der(seed: bytes, public: bytes) -> bytes:
    return encode_okp_pair(OID_ED25519, seed, public)


def ed25519_spki_der(public: bytes) -> bytes:
    return encode_okp_spki(OID_ED25519, public)


# ------------------------------------------------------------------------------------------ ECC


@dataclass(frozen=True)
class EccCurve:
    """One NIST curve of the build: wolfCrypt id, `cryptography` curve, sizes and group order."""

    wc_id: int
    name: str
    size: int  # field/key size in bytes (wolfCrypt `dp->size`)
    p: int  # field prime
    n: int  # group order

    def curve(self) -> ec.EllipticCurve:
        return _EC_CURVES[self.name]()

    @property
    def order_bits(self) -> int:
        return self.n.bit_length()


# The default curve set of the v1.4.0 builds, in wolfCrypt's ecc_sets order (ascending size).
# p and n from SEC 2 / FIPS 186-5 (checked against OpenSSL in the tests).
CURVES: tuple[EccCurve, ...] = (
    EccCurve(
        7,
        "secp256r1",
        32,
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    EccCurve(
        15,
        "secp384r1",
        48,
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        int(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
            16,
        ),
    ),
    EccCurve(
        16,
        "secp521r1",
        66,
        2**521 - 1,
        int(
            "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B"
            "8899C47AEBB6FB71E91386409",
            16,
        ),
    ),
)
_EC_CURVES = {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}
CURVE_BY_ID = {c.wc_id: c for c in CURVES}
CURVE_BY_NAME = {c.name: c for c in CURVES}
ECC_MAXSIZE = 66  # wolfCrypt ECC_MAXSIZE: the largest curve size in bytes


@dataclass(frozen=True)
class EccKey:
    curve: EccCurve
    private: ec.EllipticCurvePrivateKey | None
    public: ec.EllipticCurvePublicKey  # derived from the private scalar for private-only keys


def _ecc_of(key: Any) -> EccKey:
    curve = CURVE_BY_NAME.get(key.curve.name)
    if curve is None:
        raise _bad(f"curve {key.curve.name} is not in this build", WcError.ECC_CURVE_OID_E)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return EccKey(curve, key, key.public_key())
    return EccKey(curve, None, key)


@functools.lru_cache(maxsize=128)
def ecc_from_der(der: bytes) -> EccKey:
    """A cached ECC key: SEC1 (with or without public point) or PKCS#8, else SPKI (§4.2)."""
    der = bytes(der)
    try:
        key: Any = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise _bad("not an ECC key DER") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        raise _bad(f"{type(key).__name__} is not an ECC key")
    return _ecc_of(key)


def ecc_pair_der(private: ec.EllipticCurvePrivateKey) -> bytes:
    """`wc_EccKeyToDer`: SEC1 with [0] named curve and [1] public point (121/167/223 bytes)."""
    return private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def ecc_spki_der(public: ec.EllipticCurvePublicKey) -> bytes:
    """`wc_EccPublicKeyToDer(..., with curve)`: SPKI with id-ecPublicKey + named curve (91 B for P-256)."""
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# ------------------------------------------------------------------------------------------ RSA


@dataclass(frozen=True)
class RsaKey:
    """RSA key numbers (the raw primitive is done with Python integers, §3.13)."""

    n: int
    e: int
    d: int | None = None
    p: int | None = None
    q: int | None = None
    dp: int | None = None
    dq: int | None = None
    qinv: int | None = None

    @property
    def size(self) -> int:
        """`wc_RsaEncryptSize`: modulus length in bytes."""
        return (self.n.bit_length() + 7) // 8

    @property
    def is_private(self) -> bool:
        return self.d is not None

    def public(self, x: int) -> int:
        return pow(x, self.e, self.n)

    def private(self, x: int) -> int:
        """x^d mod n through the CRT (same result as wolfCrypt's blinded CRT)."""
        assert self.d is not None
        if self.p is None or self.q is None or self.dp is None or self.dq is None or self.qinv is None:
            return pow(x, self.d, self.n)
        m1 = pow(x, self.dp, self.p)
        m2 = pow(x, self.dq, self.q)
        h = (self.qinv * (m1 - m2)) % self.p
        return m2 + h * self.q

    def to_cryptography(self) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
        pub = rsa.RSAPublicNumbers(self.e, self.n)
        if self.d is None:
            return pub.public_key()
        assert None not in (self.p, self.q, self.dp, self.dq, self.qinv)
        numbers = rsa.RSAPrivateNumbers(self.p, self.q, self.d, self.dp, self.dq, self.qinv, pub)  # type: ignore[arg-type]
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)


@functools.lru_cache(maxsize=64)
def rsa_from_der(der: bytes) -> RsaKey:
    """Private (PKCS#1 or PKCS#8) first, then public (SPKI or PKCS#1 RSAPublicKey) (§4.1).

    Like wolfCrypt, the key is not validated (no consistency check of the CRT numbers).
    """
    der = bytes(der)
    try:
        key: Any = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise _bad("not an RSA key DER") from None
    if isinstance(key, rsa.RSAPrivateKey):
        pn = key.private_numbers()
        return RsaKey(pn.public_numbers.n, pn.public_numbers.e, pn.d, pn.p, pn.q, pn.dmp1, pn.dmq1, pn.iqmp)
    if isinstance(key, rsa.RSAPublicKey):
        pub = key.public_numbers()
        return RsaKey(pub.n, pub.e)
    raise _bad(f"{type(key).__name__} is not an RSA key")


def rsa_private_der(key: RsaKey) -> bytes:
    """`wc_RsaKeyToDer`: PKCS#1 RSAPrivateKey (version 0, nine INTEGERs)."""
    priv = key.to_cryptography()
    assert isinstance(priv, rsa.RSAPrivateKey)
    return priv.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def rsa_public_der(key: RsaKey) -> bytes:
    """`wc_RsaKeyToPublicDer`: SubjectPublicKeyInfo (rsaEncryption, NULL parameters)."""
    pub = rsa.RSAPublicNumbers(key.e, key.n).public_key()
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# ------------------------------------------------------------------------------------------ glue

EPHEMERAL = int(NvmFlags.EPHEMERAL)


def signed32(v: int) -> int:
    """A u32 wire field read back as the signed value the C struct holds (e.g. an int32 option)."""
    return v - (1 << 32) if v & 0x8000_0000 else v


def is_ephemeral(flags: int) -> bool:
    """Keygen with EPHEMERAL returns the key in the response instead of caching it (crypto §1.6)."""
    return bool(flags & EPHEMERAL)


def keystore(ctx: Any) -> KeyStore:
    return KeyStore.of(ctx.server)


def server_key_id(ctx: Any, client_key_id: int) -> int:
    """`wh_KeyId_TranslateFromClient(CRYPTO, client_id, keyId)` of a request field."""
    return keystore(ctx).server_id(ctx, client_key_id & 0xFFFF)


def fetch_key(ctx: Any, server_id: int, usage: int = 0) -> tuple[Any, bytes]:
    """The key's metadata and bytes through the freshen path, its usage flags enforced.

    `wh_Server_KeystoreFindEnforceKeyUsage` then `..CacheExport..Key`: an erased id gives BADARGS,
    a missing key NOTFOUND, a missing usage bit USAGE (-2009).
    """
    try:
        return keystore(ctx).read(ctx, server_id, usage=usage)
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None


def check_usage(meta: Any, usage: int) -> None:
    try:
        KeyStore.check_usage(meta, usage)
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None


def evict_quietly(ctx: Any, server_id: int) -> None:
    """The request's EVICT option: `wh_Server_KeystoreEvictKey`, unchecked, errors ignored.

    Done after the operation whether it succeeded or not (crypto §1.6); no policy check (the crypto
    handlers call the unchecked evict at v1.4.0).
    """
    if keyid_id(server_id) == 0:
        return
    ks = keystore(ctx)
    ks.cache_for(ctx, server_id).remove(server_id)


def store_generated(ctx: Any, client_key_id: int, flags: int, label: bytes, der: bytes) -> int:
    """Keygen cache path: a fresh id if the requested one is erased, then cache the key with the
    request's flags (16 bits, stored as given at v1.4.0) and label. Returns the client-facing id."""
    ks = keystore(ctx)
    sid = server_key_id(ctx, client_key_id)
    try:
        sid = ks.cache(ctx, make_metadata(sid, flags, len(der), label), der)
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None
    return ks.client_id(sid)


def erased_client_id(ctx: Any) -> int:
    """The id the C server reports for EPHEMERAL ECC/X25519 keygen: the erased id run through the
    to-client translation (0x0100 with global keys, v1.4.0 diff §7.2)."""
    return keystore(ctx).client_id(0)


def random_bytes(ctx: Any, n: int) -> bytes:
    """Key material and nonces from the crypto engine's RNG (`engine(ctx).random`): OS entropy, or
    the seeded stream that makes runs bit-identical; the engine charges the DRBG cycles."""
    return engine(ctx).random(ctx, n)


# HSM cycles of the software path, per operation. All *assumed*: wolfCrypt's C math on a
# Cortex-M3/M4-class HSM core, order of magnitude of wolfSSL's published embedded benchmarks; no
# figure exists for the emulated core. Each is overridable by a server config (board) attribute of
# the same name, like the engine's SW_COSTS. ECDSA sign/verify and Ed25519 sign/verify are charged by
# the crypto engine (SoftwareEngine, from these figures; the hardware engine runs ECDSA P-256 and pure
# Ed25519 on the PKA where the board has one: same bytes, different virtual time).
PK_CYCLES: dict[str, int] = {
    "crypto_sw_rsa_public_2048": 2_500_000,  # assumed: e = 65537, scales with (bits/2048)^2
    "crypto_sw_rsa_private_2048": 120_000_000,  # assumed: CRT, scales with (bits/2048)^3
    "crypto_sw_rsa_keygen_2048": 1_500_000_000,  # assumed: prime search dominates, (bits/2048)^4
    "crypto_sw_ecc_keygen_256": 12_000_000,  # assumed; P-384 x3, P-521 x6
    "crypto_sw_ecc_sign_256": 13_000_000,  # assumed
    "crypto_sw_ecc_verify_256": 26_000_000,  # assumed
    "crypto_sw_ecdh_256": 12_000_000,  # assumed
    "crypto_sw_x25519": 6_000_000,  # assumed: one Montgomery ladder (keygen or shared secret)
    "crypto_sw_ed25519_keygen": 5_000_000,  # assumed
    "crypto_sw_ed25519_sign": 6_000_000,  # assumed, plus SHA-512 per byte
    "crypto_sw_ed25519_verify": 13_000_000,  # assumed, plus SHA-512 per byte
    "crypto_sw_sha512_per_byte": 110,  # assumed: as the engine's SHA-512 block cost / 128
    "crypto_sw_der": 20_000,  # assumed: parsing or writing one key DER
}
_ECC_SCALE = {32: 1, 48: 3, 66: 6}


def cycles(ctx: Any, name: str) -> int:
    """A cost of PK_CYCLES (named without the ``crypto_sw_`` prefix), or the config's override."""
    key = f"crypto_sw_{name}"
    return int(getattr(ctx.config, key, PK_CYCLES[key]))


def spend(ctx: Any, n: int) -> None:
    ctx.spend(int(n))


def rsa_cycles(ctx: Any, kind: str, bits: int) -> int:
    power = {"public": 2, "private": 3, "keygen": 4}[kind]
    return int(cycles(ctx, f"rsa_{kind}_2048") * (max(bits, 512) / 2048) ** power)


def ecc_cycles(ctx: Any, kind: str, curve: EccCurve) -> int:
    return cycles(ctx, f"{kind}_256") * _ECC_SCALE.get(curve.size, 6)


def as_crypto_error(e: KeyEncodingError) -> CryptoError:
    return CryptoError(e.rc, str(e))
