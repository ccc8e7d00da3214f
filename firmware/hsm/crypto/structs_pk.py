"""Public-key algorithm structs of the CRYPTO group (action 3 = PK) as at wolfHSM v1.4.0.

One declaration per wire struct (``wolfhsm/wh_message_crypto.h`` at v1.4.0; sizes and offsets in
``layout/struct-offsets-v1.4.0.txt``, checked by the tests). They follow the 8-byte crypto envelope
(v1.4.0 diff §10.1). Where v1.4.0 differs from the HEAD crypto spec: ECDH is ``[12]``/``[4]`` and
X25519 shared secret ``[16]``/``[8]`` (no flags/keyId/label, the secret is always returned), EC
check-private is ``[8]`` (its handler is compiled out: NOT_COMPILED_IN), and there is no EC
make-pub / check-pub. Every field is a ``uint32_t`` in the client's byte order; key ids are
client-facing ids in the low 16 bits, flags are ``whNvmFlags`` in the low 16 bits, labels are
24 raw bytes.

Variable data after a struct is declared as ``Rest``; where C places several arrays back to back
(e.g. ``sig[sigSz] | hash[hashSz]``) the ``Rest`` holds them all and the handler splits it.
"""

from __future__ import annotations

from firmware.wire.constants import NVM_LABEL_LEN
from firmware.wire.schema import U32, Bytes, Field, Message, Pad, Rest

# wolfCrypt `enum wc_PkType` values the PK handlers are registered under (wolfSSL 5.8.4, §2).
PK_RSA = 1
PK_ECDH = 3
PK_ECDSA_SIGN = 4
PK_ECDSA_VERIFY = 5
PK_ED25519_SIGN = 6
PK_CURVE25519 = 7
PK_RSA_KEYGEN = 8
PK_EC_KEYGEN = 9
PK_EC_CHECK_PRIV_KEY = 11
PK_ED25519_VERIFY = 14
PK_ED25519_KEYGEN = 15
PK_CURVE25519_KEYGEN = 16
PK_RSA_GET_SIZE = 17

# option bits
OPT_EVICT = 1 << 0  # RSA, RSA get-size, ECDSA sign/verify, Ed25519 sign/verify
OPT_EXPORTPUB = 1 << 1  # ECDSA verify: also return the key's public DER
OPT_EVICTPUB = 1 << 0  # ECDH, X25519
OPT_EVICTPRV = 1 << 1  # ECDH, X25519


def _label() -> Bytes:
    return Bytes("label", NVM_LABEL_LEN, doc="copied into the key metadata label")


# ---------------------------------------------------------------------------------------- RSA

RSA_KEYGEN_REQUEST = Message(
    "RsaKeyGenRequest",
    [
        Field("flags", U32, doc="whNvmFlags; EPHEMERAL returns the key instead of caching it"),
        Field("keyId", U32, doc="client key id for the cache path; erased -> a fresh id"),
        Field("size", U32, doc="modulus bits"),
        Field("e", U32, doc="public exponent"),
        _label(),
    ],
    c_name="whMessageCrypto_RsaKeyGenRequest",
)
RSA_KEYGEN_RESPONSE = Message(
    "RsaKeyGenResponse",
    [Field("keyId", U32, doc="0 when EPHEMERAL"), Field("len", U32, doc="0 on the cache path at v1.4.0")],
    c_name="whMessageCrypto_RsaKeyGenResponse",
    tail=[Rest("der", "len", doc="EPHEMERAL: PKCS#1 RSAPrivateKey DER")],
)
RSA_REQUEST = Message(
    "RsaRequest",
    [
        Field("opType", U32, doc="0 pub-enc, 1 pub-dec, 2 priv-enc, 3 priv-dec"),
        Field("options", U32, doc="bit0 EVICT"),
        Field("keyId", U32),
        Field("inLen", U32),
        Field("outLen", U32, doc="client output capacity"),
    ],
    c_name="whMessageCrypto_RsaRequest",
    tail=[Rest("data", doc="in[inLen], a big-endian integer (already padded by the client)")],
)
RSA_RESPONSE = Message(
    "RsaResponse",
    [Field("outLen", U32, doc="modulus bytes")],
    c_name="whMessageCrypto_RsaResponse",
    tail=[Rest("out", "outLen", doc="result, big-endian, left-padded to the modulus size")],
)
RSA_GET_SIZE_REQUEST = Message(
    "RsaGetSizeRequest",
    [Field("options", U32, doc="bit0 EVICT"), Field("keyId", U32)],
    c_name="whMessageCrypto_RsaGetSizeRequest",
)
RSA_GET_SIZE_RESPONSE = Message(
    "RsaGetSizeResponse",
    [Field("keySize", U32, doc="modulus bytes")],
    c_name="whMessageCrypto_RsaGetSizeResponse",
)

# ---------------------------------------------------------------------------------------- ECC

ECC_KEYGEN_REQUEST = Message(
    "EccKeyGenRequest",
    [
        Field("sz", U32, doc="key size in bytes (used when curveId <= 0)"),
        Field("curveId", U32, doc="wolfCrypt ecc_curve_id, read as int; 0 = first curve with size >= sz"),
        Field("keyId", U32),
        Field("flags", U32),
        Field("access", U32, doc="unused"),
        _label(),
    ],
    c_name="whMessageCrypto_EccKeyGenRequest",
)
ECC_KEYGEN_RESPONSE = Message(
    "EccKeyGenResponse",
    [Field("keyId", U32, doc="0x0100 when EPHEMERAL (erased id translated to client)"), Field("len", U32)],
    c_name="whMessageCrypto_EccKeyGenResponse",
    tail=[Rest("der", "len", doc="EPHEMERAL: SEC1 ECPrivateKey DER with [0] curve and [1] point")],
)
ECDH_REQUEST = Message(
    "EcdhRequest",
    [
        Field("options", U32, doc="bit0 EVICTPUB, bit1 EVICTPRV"),
        Field("privateKeyId", U32),
        Field("publicKeyId", U32),
    ],
    c_name="whMessageCrypto_EcdhRequest",
)
ECDH_RESPONSE = Message(
    "EcdhResponse",
    [Field("sz", U32)],
    c_name="whMessageCrypto_EcdhResponse",
    tail=[Rest("secret", "sz", doc="x-coordinate of d*Q, big-endian, field size")],
)
ECC_SIGN_REQUEST = Message(
    "EccSignRequest",
    [Field("options", U32, doc="bit0 EVICT"), Field("keyId", U32), Field("sz", U32)],
    c_name="whMessageCrypto_EccSignRequest",
    tail=[Rest("data", doc="hash[sz] (any length; leftmost order bits are used)")],
)
ECC_SIGN_RESPONSE = Message(
    "EccSignResponse",
    [Field("sz", U32)],
    c_name="whMessageCrypto_EccSignResponse",
    tail=[Rest("sig", "sz", doc="DER SEQUENCE{INTEGER r, INTEGER s}")],
)
ECC_VERIFY_REQUEST = Message(
    "EccVerifyRequest",
    [
        Field("options", U32, doc="bit0 EVICT, bit1 EXPORTPUB"),
        Field("keyId", U32),
        Field("sigSz", U32),
        Field("hashSz", U32),
    ],
    c_name="whMessageCrypto_EccVerifyRequest",
    tail=[Rest("data", doc="sig[sigSz] | hash[hashSz]")],
)
ECC_VERIFY_RESPONSE = Message(
    "EccVerifyResponse",
    [Field("res", U32, doc="1 valid, 0 invalid (a wrong signature is not an error)"), Field("pubSz", U32)],
    c_name="whMessageCrypto_EccVerifyResponse",
    tail=[Rest("pub", "pubSz", doc="EXPORTPUB: SPKI DER of the key")],
)
ECC_CHECK_REQUEST = Message(
    "EccCheckRequest",
    [Field("keyId", U32), Field("curveId", U32)],
    c_name="whMessageCrypto_EccCheckRequest",
    doc="declared for completeness: the v1.4.0 handler is compiled out (NOT_COMPILED_IN)",
)
ECC_CHECK_RESPONSE = Message(
    "EccCheckResponse",
    [Field("ok", U32)],
    c_name="whMessageCrypto_EccCheckResponse",
)

# ---------------------------------------------------------------------------------------- Curve25519

CURVE25519_KEYGEN_REQUEST = Message(
    "Curve25519KeyGenRequest",
    [Field("sz", U32, doc="must be 32"), Field("flags", U32), Field("keyId", U32), _label()],
    c_name="whMessageCrypto_Curve25519KeyGenRequest",
)
CURVE25519_KEYGEN_RESPONSE = Message(
    "Curve25519KeyGenResponse",
    [Field("keyId", U32, doc="0x0100 when EPHEMERAL"), Field("len", U32)],
    c_name="whMessageCrypto_Curve25519KeyGenResponse",
    tail=[Rest("der", "len", doc="EPHEMERAL: 82-byte key pair DER, values byte-reversed")],
)
CURVE25519_REQUEST = Message(
    "Curve25519Request",
    [
        Field("options", U32, doc="bit0 EVICTPUB, bit1 EVICTPRV"),
        Field("privateKeyId", U32),
        Field("publicKeyId", U32),
        Field("endian", U32, doc="1 = big-endian (byte-reversed) output, else RFC 7748 little-endian"),
    ],
    c_name="whMessageCrypto_Curve25519Request",
)
CURVE25519_RESPONSE = Message(
    "Curve25519Response",
    [Field("sz", U32), Pad(4)],
    c_name="whMessageCrypto_Curve25519Response",
    tail=[Rest("secret", "sz")],
)

# ---------------------------------------------------------------------------------------- Ed25519

ED25519_KEYGEN_REQUEST = Message(
    "Ed25519KeyGenRequest",
    [Field("flags", U32), Field("keyId", U32), Field("access", U32, doc="unused"), _label()],
    c_name="whMessageCrypto_Ed25519KeyGenRequest",
)
ED25519_KEYGEN_RESPONSE = Message(
    "Ed25519KeyGenResponse",
    [Field("keyId", U32, doc="0 when EPHEMERAL"), Field("outSz", U32)],
    c_name="whMessageCrypto_Ed25519KeyGenResponse",
    tail=[Rest("der", "outSz", doc="EPHEMERAL: 82-byte key pair DER (raw [1] public key)")],
)
ED25519_SIGN_REQUEST = Message(
    "Ed25519SignRequest",
    [
        Field("options", U32, doc="bit0 EVICT"),
        Field("keyId", U32),
        Field("msgSz", U32),
        Field("type", U32, doc="255 pure Ed25519 (Ed25519 = -1 as a byte), 0 Ed25519ctx, 1 Ed25519ph"),
        Field("ctxSz", U32, doc="0..255; must be 0 for pure Ed25519"),
    ],
    c_name="whMessageCrypto_Ed25519SignRequest",
    tail=[Rest("data", doc="msg[msgSz] | ctx[ctxSz]")],
)
ED25519_SIGN_RESPONSE = Message(
    "Ed25519SignResponse",
    [Field("sigSz", U32)],
    c_name="whMessageCrypto_Ed25519SignResponse",
    tail=[Rest("sig", "sigSz", doc="R || S, 64 bytes")],
)
ED25519_VERIFY_REQUEST = Message(
    "Ed25519VerifyRequest",
    [
        Field("options", U32, doc="bit0 EVICT"),
        Field("keyId", U32),
        Field("sigSz", U32),
        Field("msgSz", U32),
        Field("type", U32),
        Field("ctxSz", U32),
    ],
    c_name="whMessageCrypto_Ed25519VerifyRequest",
    tail=[Rest("data", doc="sig[sigSz] | msg[msgSz] | ctx[ctxSz]")],
)
ED25519_VERIFY_RESPONSE = Message(
    "Ed25519VerifyResponse",
    [Field("res", U32, doc="1; a bad signature is rc SIG_VERIFY_E (-229), header only")],
    c_name="whMessageCrypto_Ed25519VerifyResponse",
)

ALL: tuple[Message, ...] = (
    RSA_KEYGEN_REQUEST,
    RSA_KEYGEN_RESPONSE,
    RSA_REQUEST,
    RSA_RESPONSE,
    RSA_GET_SIZE_REQUEST,
    RSA_GET_SIZE_RESPONSE,
    ECC_KEYGEN_REQUEST,
    ECC_KEYGEN_RESPONSE,
    ECDH_REQUEST,
    ECDH_RESPONSE,
    ECC_SIGN_REQUEST,
    ECC_SIGN_RESPONSE,
    ECC_VERIFY_REQUEST,
    ECC_VERIFY_RESPONSE,
    ECC_CHECK_REQUEST,
    ECC_CHECK_RESPONSE,
    CURVE25519_KEYGEN_REQUEST,
    CURVE25519_KEYGEN_RESPONSE,
    CURVE25519_REQUEST,
    CURVE25519_RESPONSE,
    ED25519_KEYGEN_REQUEST,
    ED25519_KEYGEN_RESPONSE,
    ED25519_SIGN_REQUEST,
    ED25519_SIGN_RESPONSE,
    ED25519_VERIFY_REQUEST,
    ED25519_VERIFY_RESPONSE,
)


def split(data: bytes, *sizes: int) -> list[bytes]:
    """Cut back-to-back arrays (`sig | hash`, `msg | ctx`) out of a request's trailing data."""
    out, pos = [], 0
    for n in sizes:
        out.append(bytes(data[pos : pos + n]))
        pos += n
    return out
