"""CERT group (0x0C00) structs: ``wolfhsm/wh_message_cert.h`` as at v1.4.0.

Crypto spec §6.2, v1.4.0 diff §11. Unlike the crypto group, each response carries its own rc.
VERIFY_MULTI_ROOT(_DMA) and the verify-cache actions do not exist at v1.4.0.
"""

from __future__ import annotations

from ..constants import NVM_LABEL_LEN
from ..schema import U16, U32, U64, Bytes, Field, Message, Pad, Rest
from .common import rc_field

CERT_SIMPLE_RESPONSE = Message(
    "CertSimpleResponse", [rc_field(), Pad(4)], c_name="whMessageCert_SimpleResponse"
)

CERT_ADDTRUSTED_REQUEST = Message(
    "CertAddTrustedRequest",
    [
        Field("cert_len", U32),
        Field("id", U16, doc="NVM id"),
        Field("access", U16),
        Field("flags", U16),
        Bytes("label", NVM_LABEL_LEN),
        Pad(2),
    ],
    c_name="whMessageCert_AddTrustedRequest",
    tail=[Rest("cert", length_field="cert_len", doc="DER")],
)

CERT_ERASETRUSTED_REQUEST = Message(
    "CertEraseTrustedRequest", [Field("id", U16), Pad(6)], c_name="whMessageCert_EraseTrustedRequest"
)

CERT_READTRUSTED_REQUEST = Message(
    "CertReadTrustedRequest", [Field("id", U16), Pad(6)], c_name="whMessageCert_ReadTrustedRequest"
)

CERT_READTRUSTED_RESPONSE = Message(
    "CertReadTrustedResponse",
    [rc_field(), Field("cert_len", U32, doc="v1.4.0 BUFFER_SIZE: the capacity, with stale data")],
    c_name="whMessageCert_ReadTrustedResponse",
    tail=[Rest("cert", length_field="cert_len")],
)

CERT_VERIFY_REQUEST = Message(
    "CertVerifyRequest",
    [
        Field("cert_len", U32),
        Field("trustedRootNvmId", U16),
        Field("flags", U16, doc="bit 0 = CACHE_LEAF_PUBKEY"),
        Field("cachedKeyFlags", U16),
        Field("keyId", U16),
    ],
    c_name="whMessageCert_VerifyRequest",
    tail=[Rest("cert", length_field="cert_len", doc="DER chain, root side first, leaf last")],
)

CERT_VERIFY_RESPONSE = Message(
    "CertVerifyResponse",
    [rc_field(), Field("keyId", U16, doc="client-facing id of the cached leaf key"), Pad(2)],
    c_name="whMessageCert_VerifyResponse",
)

CERT_VERIFY_ACERT_REQUEST = Message(
    "CertVerifyAcertRequest",
    [Field("cert_len", U32), Field("trustedRootNvmId", U16), Pad(2)],
    c_name="whMessageCert_VerifyAcertRequest",
    tail=[Rest("cert", length_field="cert_len", doc="attribute certificate DER")],
)

CERT_ADDTRUSTED_DMA_REQUEST = Message(
    "CertAddTrustedDmaRequest",
    [
        Field("cert_addr", U64, doc="raw client pointer at v1.4.0 (not translated by the client)"),
        Field("cert_len", U32),
        Field("id", U16),
        Field("access", U16),
        Field("flags", U16),
        Bytes("label", NVM_LABEL_LEN),
        Pad(6),
    ],
    c_name="whMessageCert_AddTrustedDmaRequest",
)

CERT_READTRUSTED_DMA_REQUEST = Message(
    "CertReadTrustedDmaRequest",
    [Field("cert_addr", U64), Field("cert_len", U32, doc="buffer capacity"), Field("id", U16), Pad(2)],
    c_name="whMessageCert_ReadTrustedDmaRequest",
)

CERT_VERIFY_DMA_REQUEST = Message(
    "CertVerifyDmaRequest",
    [
        Field("cert_addr", U64),
        Field("cert_len", U32),
        Field("trustedRootNvmId", U16),
        Field("flags", U16),
        Field("cachedKeyFlags", U16),
        Field("keyId", U16),
        Pad(4),
    ],
    c_name="whMessageCert_VerifyDmaRequest",
)

CERT_VERIFY_DMA_RESPONSE = Message(
    "CertVerifyDmaResponse",
    [rc_field(), Field("keyId", U16), Pad(2)],
    c_name="whMessageCert_VerifyDmaResponse",
)
