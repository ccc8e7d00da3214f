"""KEY group (0x0300) structs: ``wolfhsm/wh_message_keystore.h``, actions 0..12 as at v1.4.0.

Core spec §5.4, v1.4.0 diff §7-§8. Key ids in requests/responses are client-facing ids (low byte
= id, 0x0100 global, 0x0200 wrapped). ``rc`` is ``uint32_t`` in these C structs; it is declared
i32 here because it carries negative codes (same bytes).
"""

from __future__ import annotations

from ..constants import NVM_LABEL_LEN, NVM_METADATA_SIZE
from ..schema import U16, U32, Bytes, Field, Message, Nested, Pad, Rest, Tail
from .common import KEY_DMA_ADDR_STATUS, KEY_DMA_BUFFER, rc_field


def _id_request(name: str, c_name: str) -> Message:
    # EVICT/EXPORT/COMMIT/ERASE/REVOKE requests are separate C structs of the same shape.
    return Message(name, [Field("id", U16), Pad(6)], c_name=c_name)


def _ok_response(name: str, c_name: str) -> Message:
    return Message(
        name,
        [rc_field(), Field("ok", U32, doc="always 0"), Pad(4)],
        c_name=c_name,
    )


KEY_CACHE_REQUEST = Message(
    "KeyCacheRequest",
    [
        Field("flags", U32, doc="whNvmFlags, truncated to u16 by the server"),
        Field("sz", U32, doc="key length"),
        Field("labelSz", U32, doc="the server copies min(labelSz, 24) label bytes"),
        Field("id", U16, doc="client key id; 0 = let the server assign one"),
        Pad(2),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whMessageKeystore_CacheRequest",
    tail=[Rest("key", length_field="sz")],
)

KEY_CACHE_RESPONSE = Message(
    "KeyCacheResponse",
    [rc_field(), Field("id", U16, doc="client-facing id of the cached key"), Pad(6)],
    c_name="whMessageKeystore_CacheResponse",
)

KEY_EVICT_REQUEST = _id_request("KeyEvictRequest", "whMessageKeystore_EvictRequest")
KEY_EVICT_RESPONSE = _ok_response("KeyEvictResponse", "whMessageKeystore_EvictResponse")

KEY_EXPORT_REQUEST = _id_request("KeyExportRequest", "whMessageKeystore_ExportRequest")
KEY_EXPORT_RESPONSE = Message(
    "KeyExportResponse",
    [
        rc_field(),
        Field("len", U32, doc="key length; 0 on error"),
        Bytes("label", NVM_LABEL_LEN, doc="full 24-byte metadata label; zero on error"),
        Pad(4),
    ],
    c_name="whMessageKeystore_ExportResponse",
    tail=[Rest("key", length_field="len")],
)

KEY_COMMIT_REQUEST = _id_request("KeyCommitRequest", "whMessageKeystore_CommitRequest")
KEY_COMMIT_RESPONSE = _ok_response("KeyCommitResponse", "whMessageKeystore_CommitResponse")

KEY_ERASE_REQUEST = _id_request("KeyEraseRequest", "whMessageKeystore_EraseRequest")
KEY_ERASE_RESPONSE = _ok_response("KeyEraseResponse", "whMessageKeystore_EraseResponse")

KEY_REVOKE_REQUEST = _id_request("KeyRevokeRequest", "whMessageKeystore_RevokeRequest")
KEY_REVOKE_RESPONSE = Message(
    "KeyRevokeResponse",
    [rc_field(), Pad(4)],
    c_name="whMessageKeystore_RevokeResponse",
)

KEY_CACHE_DMA_REQUEST = Message(
    "KeyCacheDmaRequest",
    [
        Nested("key", KEY_DMA_BUFFER, doc="client buffer holding the key; sz = key length"),
        Field("flags", U32),
        Field("labelSz", U32),
        Field("id", U16),
        Bytes("label", NVM_LABEL_LEN),
        Pad(6),
    ],
    c_name="whMessageKeystore_CacheDmaRequest",
)

KEY_CACHE_DMA_RESPONSE = Message(
    "KeyCacheDmaResponse",
    [Nested("dmaAddrStatus", KEY_DMA_ADDR_STATUS), rc_field(), Field("id", U16), Pad(2)],
    c_name="whMessageKeystore_CacheDmaResponse",
)

KEY_EXPORT_DMA_REQUEST = Message(
    "KeyExportDmaRequest",
    [Nested("key", KEY_DMA_BUFFER, doc="client buffer; sz = its capacity"), Field("id", U16), Pad(6)],
    c_name="whMessageKeystore_ExportDmaRequest",
)

KEY_EXPORT_DMA_RESPONSE = Message(
    "KeyExportDmaResponse",
    [
        Nested("dmaAddrStatus", KEY_DMA_ADDR_STATUS),
        rc_field(),
        Field("len", U32, doc="v1.4.0: the client's buffer capacity (key.sz), not the key length"),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whMessageKeystore_ExportDmaResponse",
)

KEY_WRAP_REQUEST = Message(
    "KeyWrapRequest",
    [
        Field("keySz", U16),
        Field("serverKeyId", U16, doc="KEK, client-facing id"),
        Field("cipherType", U16, doc="wc_CipherType; only AES-GCM (3) is supported"),
    ],
    c_name="whMessageKeystore_KeyWrapRequest",
    tail=[
        Tail("metadata", NVM_METADATA_SIZE, doc="whNvmMetadata in client order, wrapped raw at v1.4.0"),
        Rest("key", length_field="keySz"),
    ],
)

KEY_WRAP_RESPONSE = Message(
    "KeyWrapResponse",
    [rc_field(), Field("wrappedKeySz", U16, doc="0 on error"), Field("cipherType", U16, doc="echo")],
    c_name="whMessageKeystore_KeyWrapResponse",
    tail=[Rest("wrappedKey", length_field="wrappedKeySz", doc="IV[12] || TAG[16] || ciphertext")],
)

KEY_UNWRAP_EXPORT_REQUEST = Message(
    "KeyUnwrapAndExportRequest",
    [Field("wrappedKeySz", U16), Field("serverKeyId", U16), Field("cipherType", U16), Pad(2)],
    c_name="whMessageKeystore_KeyUnwrapAndExportRequest",
    tail=[Rest("wrappedKey", length_field="wrappedKeySz")],
)

KEY_UNWRAP_EXPORT_RESPONSE = Message(
    "KeyUnwrapAndExportResponse",
    [rc_field(), Field("keySz", U16, doc="0 on error"), Field("cipherType", U16, doc="echo")],
    c_name="whMessageKeystore_KeyUnwrapAndExportResponse",
    tail=[
        Tail("metadata", NVM_METADATA_SIZE, doc="unwrapped metadata as stored (raw); zero on error"),
        Rest("key", length_field="keySz"),
    ],
)

KEY_UNWRAP_CACHE_REQUEST = Message(
    "KeyUnwrapAndCacheRequest",
    [Field("wrappedKeySz", U16), Field("serverKeyId", U16), Field("cipherType", U16), Pad(2)],
    c_name="whMessageKeystore_KeyUnwrapAndCacheRequest",
    tail=[Rest("wrappedKey", length_field="wrappedKeySz")],
)

KEY_UNWRAP_CACHE_RESPONSE = Message(
    "KeyUnwrapAndCacheResponse",
    [rc_field(), Field("keyId", U16, doc="client-facing id, e.g. 0x0214"), Field("cipherType", U16)],
    c_name="whMessageKeystore_KeyUnwrapAndCacheResponse",
)

KEY_DATA_WRAP_REQUEST = Message(
    "DataWrapRequest",
    [Field("dataSz", U32), Field("serverKeyId", U16), Field("cipherType", U16)],
    c_name="whMessageKeystore_DataWrapRequest",
    tail=[Rest("data", length_field="dataSz")],
)

KEY_DATA_WRAP_RESPONSE = Message(
    "DataWrapResponse",
    [rc_field(), Field("wrappedDataSz", U32), Field("cipherType", U16), Pad(2)],
    c_name="whMessageKeystore_DataWrapResponse",
    tail=[Rest("wrappedData", length_field="wrappedDataSz")],
)

KEY_DATA_UNWRAP_REQUEST = Message(
    "DataUnwrapRequest",
    [Field("wrappedDataSz", U32), Field("serverKeyId", U16), Field("cipherType", U16)],
    c_name="whMessageKeystore_DataUnwrapRequest",
    tail=[Rest("wrappedData", length_field="wrappedDataSz")],
)

KEY_DATA_UNWRAP_RESPONSE = Message(
    "DataUnwrapResponse",
    [rc_field(), Field("dataSz", U32), Field("cipherType", U16), Pad(2)],
    c_name="whMessageKeystore_DataUnwrapResponse",
    tail=[Rest("data", length_field="dataSz")],
)
