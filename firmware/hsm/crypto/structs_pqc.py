"""ML-DSA message structs of the v1.4.0 wire (CRYPTO action PK, algoType 21-24, algoSubType 1).

Declared once, from ``layout/struct-offsets-v1.4.0.txt`` (gcc, x86-64) and wolfhsm-v1.4.0-diff.md
§10.2 / §10.5: the algorithm struct follows the 8-byte crypto envelope. v1.4.0 has no context or
pre-hash fields (HEAD adds them: sign [24], verify [32], DMA [56]); a HEAD wire declares its own.
Response structs carry only the success layout: on error the response is the envelope alone.
"""

from __future__ import annotations

from firmware.wire.constants import NVM_LABEL_LEN
from firmware.wire.schema import I32, U32, U64, Bytes, Field, Message, Nested, Pad, Rest

# wolfCrypt values (wolfssl-5.8.4-values.txt)
PK_PQC_SIG_KEYGEN = 21
PK_PQC_SIG_SIGN = 22
PK_PQC_SIG_VERIFY = 23
PK_PQC_SIG_CHECK_PRIV_KEY = 24
PQC_SIG_TYPE_DILITHIUM = 1  # algoSubType; HEAD calls it WC_PQC_SIG_TYPE_MLDSA, same value

MLDSA_OPTIONS_EVICT = 0x1  # sign and verify: evict the key after the operation (client temp import)
MLDSA_VERIFY_OPTIONS_EXPORTPUB = 0x2  # not acted upon by the server

MLDSA_KEYGEN_REQUEST = Message(
    "MlDsaKeyGenRequest",
    [
        Field("sz", U32, doc="ignored by the server"),
        Field("level", U32, doc="WC_ML_DSA_44 = 2, _65 = 3, _87 = 5"),
        Field("keyId", U32, doc="client key id (low 16 bits); erased = allocate one"),
        Field("flags", U32, doc="whNvmFlags; EPHEMERAL returns the key instead of caching it"),
        Field("access", U32, doc="ignored: cached keys get access ANY"),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whMessageCrypto_MlDsaKeyGenRequest",
)

MLDSA_KEYGEN_RESPONSE = Message(
    "MlDsaKeyGenResponse",
    [Field("keyId", U32), Field("len", U32)],
    c_name="whMessageCrypto_MlDsaKeyGenResponse",
    tail=[Rest("der", length_field="len", doc="EPHEMERAL: wolfCrypt key-pair DER; cache path: none")],
)

MLDSA_SIGN_REQUEST = Message(
    "MlDsaSignRequest",
    [Field("options", U32), Field("level", U32), Field("keyId", U32), Field("sz", U32), Pad(4)],
    c_name="whMessageCrypto_MlDsaSignRequest",
    tail=[Rest("msg", doc="message (sz bytes); signed in FIPS 204 internal form, no context prefix")],
)

MLDSA_SIGN_RESPONSE = Message(
    "MlDsaSignResponse",
    [Field("sz", U32), Pad(4)],
    c_name="whMessageCrypto_MlDsaSignResponse",
    tail=[Rest("sig", length_field="sz")],
)

MLDSA_VERIFY_REQUEST = Message(
    "MlDsaVerifyRequest",
    [
        Field("options", U32),
        Field("level", U32),
        Field("keyId", U32),
        Field("sigSz", U32),
        Field("hashSz", U32, doc="message length (the name is historical)"),
        Pad(4),
    ],
    c_name="whMessageCrypto_MlDsaVerifyRequest",
    tail=[Rest("data", doc="sig[sigSz] || msg[hashSz]")],
)

MLDSA_VERIFY_RESPONSE = Message(
    "MlDsaVerifyResponse",
    [Field("res", I32, doc="1 verified, 0 not"), Pad(4)],
    c_name="whMessageCrypto_MlDsaVerifyResponse",
)

# ---------------------------------------------------------------------------- CRYPTO_DMA (0x0B00)

CRYPTO_DMA_BUFFER = Message(
    "CryptoDmaBuffer",
    [Field("addr", U64, doc="client address (SoC address here)"), Field("sz", U64)],
    c_name="whMessageCrypto_DmaBuffer",
)

CRYPTO_DMA_ADDR_STATUS = Message(
    "CryptoDmaAddrStatus",
    [Nested("badAddr", CRYPTO_DMA_BUFFER, doc="never delivered: error responses are header-only")],
    c_name="whMessageCrypto_DmaAddrStatus",
)

MLDSA_KEYGEN_DMA_REQUEST = Message(
    "MlDsaKeyGenDmaRequest",
    [
        Nested("key", CRYPTO_DMA_BUFFER, doc="EPHEMERAL: where the key-pair DER goes (sz = capacity)"),
        Field("level", U32),
        Field("flags", U32),
        Field("keyId", U32),
        Field("access", U32),
        Field("labelSize", U32),
        Bytes("label", NVM_LABEL_LEN),
        Pad(4),
    ],
    c_name="whMessageCrypto_MlDsaKeyGenDmaRequest",
)

MLDSA_KEYGEN_DMA_RESPONSE = Message(
    "MlDsaKeyGenDmaResponse",
    [Nested("dmaAddrStatus", CRYPTO_DMA_ADDR_STATUS), Field("keyId", U32), Field("keySize", U32)],
    c_name="whMessageCrypto_MlDsaKeyGenDmaResponse",
)

MLDSA_SIGN_DMA_REQUEST = Message(
    "MlDsaSignDmaRequest",
    [
        Nested("msg", CRYPTO_DMA_BUFFER),
        Nested("sig", CRYPTO_DMA_BUFFER, doc="sz = capacity"),
        Field("options", U32),
        Field("level", U32),
        Field("keyId", U32),
        Pad(4),
    ],
    c_name="whMessageCrypto_MlDsaSignDmaRequest",
)

MLDSA_SIGN_DMA_RESPONSE = Message(
    "MlDsaSignDmaResponse",
    [Nested("dmaAddrStatus", CRYPTO_DMA_ADDR_STATUS), Field("sigLen", U32), Pad(4)],
    c_name="whMessageCrypto_MlDsaSignDmaResponse",
)

MLDSA_VERIFY_DMA_REQUEST = Message(
    "MlDsaVerifyDmaRequest",
    [
        Nested("sig", CRYPTO_DMA_BUFFER),
        Nested("msg", CRYPTO_DMA_BUFFER),
        Field("options", U32),
        Field("level", U32),
        Field("keyId", U32),
        Pad(4),
    ],
    c_name="whMessageCrypto_MlDsaVerifyDmaRequest",
)

MLDSA_VERIFY_DMA_RESPONSE = Message(
    "MlDsaVerifyDmaResponse",
    [Nested("dmaAddrStatus", CRYPTO_DMA_ADDR_STATUS), Field("verifyResult", I32), Pad(4)],
    c_name="whMessageCrypto_MlDsaVerifyDmaResponse",
)

ALL = (
    MLDSA_KEYGEN_REQUEST,
    MLDSA_KEYGEN_RESPONSE,
    MLDSA_SIGN_REQUEST,
    MLDSA_SIGN_RESPONSE,
    MLDSA_VERIFY_REQUEST,
    MLDSA_VERIFY_RESPONSE,
    CRYPTO_DMA_BUFFER,
    CRYPTO_DMA_ADDR_STATUS,
    MLDSA_KEYGEN_DMA_REQUEST,
    MLDSA_KEYGEN_DMA_RESPONSE,
    MLDSA_SIGN_DMA_REQUEST,
    MLDSA_SIGN_DMA_RESPONSE,
    MLDSA_VERIFY_DMA_REQUEST,
    MLDSA_VERIFY_DMA_RESPONSE,
)
