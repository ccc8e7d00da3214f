"""Wire structs of the symmetric crypto messages at wolfHSM v1.4.0: RNG, AES, CMAC, SHA-2, HKDF, CMAC-KDF.

One declaration per C struct of ``wolfhsm/wh_message_crypto.h`` at v1.4.0, with the same member names;
sizes and offsets are those of ``layout/struct-offsets-v1.4.0.txt`` (checked by the tests). These are
the algorithm bodies that follow the 8-byte crypto envelope (payload offset 8, v1.4.0 diff §10.1).
``Rest("data")`` is the variable part the C code places after the struct (inputs, keys, outputs).

Conventions (crypto spec §1.4): u32/u16 fields are in the client's byte order; byte arrays (keys,
CMAC buffers, SHA-2 midstates, input blocks, labels) are copied verbatim, never swapped.

:class:`FlatCodec` is a fast codec *derived* from one of these declarations (its items' formats and
names, nested structs flattened), for the per-block SHA-2 path where the generic record codec of
``firmware.wire.schema`` would cost more than the hashing itself.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from firmware.wire import ByteOrder
from firmware.wire.schema import U16, U32, U64, Bytes, Field, Message, Nested, Pad, Rest

__all__ = [
    "RNG_REQUEST",
    "RNG_RESPONSE",
    "AES_CTR_REQUEST",
    "AES_CTR_RESPONSE",
    "AES_ECB_REQUEST",
    "AES_ECB_RESPONSE",
    "AES_CBC_REQUEST",
    "AES_CBC_RESPONSE",
    "AES_GCM_REQUEST",
    "AES_GCM_RESPONSE",
    "CMAC_STATE",
    "CMAC_REQUEST",
    "CMAC_RESPONSE",
    "SHA256_STATE",
    "SHA256_REQUEST",
    "SHA512_STATE",
    "SHA512_REQUEST",
    "SHA2_RESPONSE",
    "HKDF_REQUEST",
    "HKDF_RESPONSE",
    "CMAC_KDF_REQUEST",
    "CMAC_KDF_RESPONSE",
    "DMA_BUFFER",
    "DMA_ADDR_STATUS",
    "RNG_DMA_REQUEST",
    "RNG_DMA_RESPONSE",
    "CMAC_DMA_REQUEST",
    "CMAC_DMA_RESPONSE",
    "ALL",
    "FlatCodec",
    "SHA256_REQUEST_FLAT",
    "SHA512_REQUEST_FLAT",
    "SHA2_RESPONSE_FLAT",
]

_DATA = "bytes after the struct"

# ------------------------------------------------------------------------------------------ RNG

RNG_REQUEST = Message(
    "RngRequest",
    [Field("sz", U32, doc="bytes wanted")],
    c_name="whMessageCrypto_RngRequest",
)
RNG_RESPONSE = Message(
    "RngResponse",
    [Field("sz", U32, doc="bytes returned: min(sz, COMM_DATA_LEN - 8 - 4)")],
    c_name="whMessageCrypto_RngResponse",
    tail=[Rest("data", "sz", doc="random bytes")],
)

# ------------------------------------------------------------------------------------------ AES

AES_CTR_REQUEST = Message(
    "AesCtrRequest",
    [
        Field("enc", U32, doc="1 encrypt / 0 decrypt (same maths)"),
        Field("keyLen", U32),
        Field("sz", U32),
        Field("keyId", U16, doc="client key id; erased -> inline key"),
        Pad(2),
        Field("left", U32, doc="unused keystream bytes at the end of tmp (0..16)"),
        Pad(4),
    ],
    c_name="whMessageCrypto_AesCtrRequest",
    tail=[Rest("data", doc="in[sz] | key[keyLen] | iv[16] (= reg) | tmp[16] | 16 extra bytes (v1.4.0 client)")],
)
AES_CTR_RESPONSE = Message(
    "AesCtrResponse",
    [Field("sz", U32), Field("left", U32), Pad(16)],
    c_name="whMessageCrypto_AesCtrResponse",
    tail=[Rest("data", doc="out[sz] | reg[16] | tmp[16]")],
)

AES_ECB_REQUEST = Message(
    "AesEcbRequest",
    [Field("enc", U32), Field("keyLen", U32), Field("sz", U32), Field("keyId", U16), Pad(2)],
    c_name="whMessageCrypto_AesEcbRequest",
    tail=[Rest("data", doc="in[sz] | key[keyLen] | iv[16] (sent and required by v1.4.0, unused)")],
)
AES_ECB_RESPONSE = Message(
    "AesEcbResponse",
    [Field("sz", U32), Pad(12)],
    c_name="whMessageCrypto_AesEcbResponse",
    tail=[Rest("data", doc="out[sz]")],
)

AES_CBC_REQUEST = Message(
    "AesCbcRequest",
    [Field("enc", U32), Field("keyLen", U32), Field("sz", U32), Field("keyId", U16), Pad(2)],
    c_name="whMessageCrypto_AesCbcRequest",
    tail=[Rest("data", doc="in[sz] | key[keyLen] | iv[16]")],
)
AES_CBC_RESPONSE = Message(
    "AesCbcResponse",
    [Field("sz", U32), Pad(12)],
    c_name="whMessageCrypto_AesCbcResponse",
    tail=[Rest("data", doc="out[sz] only: v1.4.0 sends no chaining IV, the client chains itself")],
)

AES_GCM_REQUEST = Message(
    "AesGcmRequest",
    [
        Field("enc", U32),
        Field("keyLen", U32),
        Field("sz", U32),
        Field("ivSz", U32),
        Field("authInSz", U32),
        Field("authTagSz", U32),
        Field("keyId", U16),
        Pad(2),
    ],
    c_name="whMessageCrypto_AesGcmRequest",
    tail=[Rest("data", doc="in[sz] | key[keyLen] | iv[ivSz] | aad[authInSz] | tag[authTagSz] (decrypt only)")],
)
AES_GCM_RESPONSE = Message(
    "AesGcmResponse",
    [Field("sz", U32), Field("authTagSz", U32, doc="tag length when encrypting, 0 when decrypting"), Pad(20)],
    c_name="whMessageCrypto_AesGcmResponse",
    tail=[Rest("data", doc="out[sz] | tag[authTagSz] (encrypt only)")],
)

# ------------------------------------------------------------------------------------------ CMAC

CMAC_STATE = Message(
    "CmacAesState",
    [
        Bytes("buffer", 16, doc="pending block (a full last block stays pending)"),
        Bytes("digest", 16, doc="running CBC-MAC value"),
        Field("bufferSz", U32, doc="0..16; > 16 -> BADARGS"),
        Field("totalSz", U32, doc="bytes folded into digest"),
    ],
    c_name="whMessageCrypto_CmacAesState",
)
CMAC_REQUEST = Message(
    "CmacAesRequest",
    [
        Field("outSz", U32, doc="tag length wanted; 0 = not finalizing"),
        Field("inSz", U32),
        Field("keySz", U32, doc="inline key length; 0 = key by keyId"),
        Field("keyId", U16),
        Pad(2),
        Nested("resumeState", CMAC_STATE),
    ],
    c_name="whMessageCrypto_CmacAesRequest",
    tail=[Rest("data", doc="in[inSz] | key[keySz]")],
)
CMAC_RESPONSE = Message(
    "CmacAesResponse",
    [Nested("resumeState", CMAC_STATE), Field("outSz", U32), Field("keyId", U16), Pad(2)],
    c_name="whMessageCrypto_CmacAesResponse",
    tail=[Rest("data", doc="tag[outSz]")],
)

# ------------------------------------------------------------------ SHA-2 (v1.4.0: one block per message)

SHA256_STATE = Message(
    "Sha256ResumeState",
    [
        Field("hiLen", U32, doc="high 32 bits of the byte count"),
        Field("loLen", U32, doc="low 32 bits of the byte count"),
        Bytes("hash", 32, doc="H0..H7 as u32 words in the client's native order (raw memory)"),
    ],
    c_name="whMessageCrypto_Sha256Request.resumeState",
)
SHA256_REQUEST = Message(
    "Sha256Request",
    [
        Nested("resumeState", SHA256_STATE),
        Field("isLastBlock", U32),
        Field("lastBlockLen", U32, doc="final: 0..64 bytes of inBlock; > 64 -> BADARGS"),
        Bytes("inBlock", 64),
        Pad(4),
    ],
    c_name="whMessageCrypto_Sha256Request",
)
SHA512_STATE = Message(
    "Sha512ResumeState",
    [
        Field("hiLen", U32, doc="wolfCrypt's 2^64-overflow counter (0 in practice)"),
        Field("loLen", U32, doc="low 32 bits of the byte count"),
        Bytes("hash", 64, doc="H0..H7 as u64 words in the client's native order (raw memory)"),
        Field("hashType", U32, doc="SHA-512 requests: 8, 16 (/224) or 17 (/256); anything else = SHA-512"),
    ],
    c_name="whMessageCrypto_Sha512Request.resumeState",
)
SHA512_REQUEST = Message(
    "Sha512Request",
    [
        Nested("resumeState", SHA512_STATE),
        Field("isLastBlock", U32),
        Field("lastBlockLen", U32, doc="final: 0..128 bytes of inBlock; > 128 -> BADARGS"),
        Bytes("inBlock", 128),
        Pad(4),
    ],
    c_name="whMessageCrypto_Sha512Request",
)
SHA2_RESPONSE = Message(
    "Sha2Response",
    [
        Field("hiLen", U32),
        Field("loLen", U32),
        Bytes("hash", 64, doc="non-final: midstate (native-order words); final: big-endian digest"),
        Field("hashType", U32, doc="never set by the v1.4.0 server (0); the v1.4.0 client ignores it"),
    ],
    c_name="whMessageCrypto_Sha2Response",
)

# ------------------------------------------------------------------------------------------ KDF

HKDF_REQUEST = Message(
    "HkdfRequest",
    [
        Field("flags", U32, doc="whNvmFlags of the output key; EPHEMERAL -> return the OKM"),
        Field("keyIdIn", U32, doc="IKM from the key store when inKeySz == 0"),
        Field("keyIdOut", U32),
        Field("hashType", U32, doc="wc_HashType"),
        Field("inKeySz", U32),
        Field("saltSz", U32),
        Field("infoSz", U32),
        Field("outSz", U32),
        Bytes("label", 24),
    ],
    c_name="whMessageCrypto_HkdfRequest",
    tail=[Rest("data", doc="ikm[inKeySz] | salt[saltSz] | info[infoSz]")],
)
HKDF_RESPONSE = Message(
    "HkdfResponse",
    [Field("keyIdOut", U32), Field("outSz", U32)],
    c_name="whMessageCrypto_HkdfResponse",
    tail=[Rest("data", doc="okm[outSz] (EPHEMERAL only)")],
)
CMAC_KDF_REQUEST = Message(
    "CmacKdfRequest",
    [
        Field("flags", U32),
        Field("keyIdSalt", U32),
        Field("keyIdZ", U32),
        Field("keyIdOut", U32),
        Field("saltSz", U32),
        Field("zSz", U32),
        Field("fixedInfoSz", U32),
        Field("outSz", U32),
        Bytes("label", 24),
    ],
    c_name="whMessageCrypto_CmacKdfRequest",
    tail=[Rest("data", doc="salt[saltSz] | z[zSz] | fixedInfo[fixedInfoSz]")],
)
CMAC_KDF_RESPONSE = Message(
    "CmacKdfResponse",
    [Field("keyIdOut", U32), Field("outSz", U32)],
    c_name="whMessageCrypto_CmacKdfResponse",
    tail=[Rest("data", doc="okm[outSz] (EPHEMERAL only)")],
)

# ------------------------------------------------------------------------ CRYPTO_DMA (v1.4.0 diff §10.5)

DMA_BUFFER = Message(
    "CryptoDmaBuffer",
    [Field("addr", U64, doc="client address"), Field("sz", U64)],
    c_name="whMessageCrypto_DmaBuffer",
)
DMA_ADDR_STATUS = Message(
    "CryptoDmaAddrStatus",
    [Nested("badAddr", DMA_BUFFER, doc="never delivered: error responses are header-only")],
    c_name="whMessageCrypto_DmaAddrStatus",
)
RNG_DMA_REQUEST = Message(
    "RngDmaRequest",
    [Nested("output", DMA_BUFFER)],
    c_name="whMessageCrypto_RngDmaRequest",
)
RNG_DMA_RESPONSE = Message(
    "RngDmaResponse",
    [Nested("dmaAddrStatus", DMA_ADDR_STATUS)],
    c_name="whMessageCrypto_RngDmaResponse",
)
CMAC_DMA_REQUEST = Message(
    "CmacAesDmaRequest",
    [
        Nested("resumeState", CMAC_STATE),
        Nested("input", DMA_BUFFER),
        Field("outSz", U32),
        Field("keySz", U32),
        Field("keyId", U16),
        Pad(6),
    ],
    c_name="whMessageCrypto_CmacAesDmaRequest",
    tail=[Rest("data", doc="key[keySz] (inline key)")],
)
CMAC_DMA_RESPONSE = Message(
    "CmacAesDmaResponse",
    [
        Nested("resumeState", CMAC_STATE),
        Nested("dmaAddrStatus", DMA_ADDR_STATUS),
        Field("outSz", U32),
        Field("keyId", U16),
        Pad(2),
    ],
    c_name="whMessageCrypto_CmacAesDmaResponse",
    tail=[Rest("data", doc="tag[outSz]")],
)

ALL: tuple[Message, ...] = (
    RNG_REQUEST,
    RNG_RESPONSE,
    AES_CTR_REQUEST,
    AES_CTR_RESPONSE,
    AES_ECB_REQUEST,
    AES_ECB_RESPONSE,
    AES_CBC_REQUEST,
    AES_CBC_RESPONSE,
    AES_GCM_REQUEST,
    AES_GCM_RESPONSE,
    CMAC_STATE,
    CMAC_REQUEST,
    CMAC_RESPONSE,
    SHA256_REQUEST,
    SHA512_REQUEST,
    SHA2_RESPONSE,
    HKDF_REQUEST,
    HKDF_RESPONSE,
    CMAC_KDF_REQUEST,
    CMAC_KDF_RESPONSE,
    DMA_BUFFER,
    DMA_ADDR_STATUS,
    RNG_DMA_REQUEST,
    RNG_DMA_RESPONSE,
    CMAC_DMA_REQUEST,
    CMAC_DMA_RESPONSE,
)


# ------------------------------------------------------------------------------------------ flat codecs


def _flat_names(message: Message, prefix: str = "") -> Iterator[str]:
    for item in message.items:
        if item.name is None:
            continue
        if isinstance(item, Nested):
            yield from _flat_names(item.message, f"{prefix}{item.name}.")
        elif isinstance(item, Field | Bytes):
            yield prefix + item.name
        else:  # arrays and unions would flatten to a variable number of values
            raise TypeError(f"{message.name}: {item!r} has no flat form")


class FlatCodec:
    """``struct`` codecs for the fixed part of a declared message, one per byte order.

    Values are a flat tuple in declaration order, nested members named ``outer.inner``
    (``index("resumeState.hash")``); pads are skipped on decode and zero on encode, as in the
    declaration. Byte arrays shorter than their size are zero-filled on encode.
    """

    def __init__(self, message: Message) -> None:
        if message.tail:
            raise TypeError(f"{message.name}: only the fixed part can be flat")
        self.message = message
        self.names: tuple[str, ...] = tuple(_flat_names(message))
        fmt = "".join(item.fmt for item in message.items)
        self.codecs = {order: struct.Struct(order.prefix + fmt) for order in ByteOrder}
        assert self.codecs[ByteOrder.LITTLE].size == message.size
        self.size = message.size

    def index(self, name: str) -> int:
        return self.names.index(name)

    def unpack(self, order: ByteOrder, data: bytes) -> tuple:
        """Decode the first `size` bytes (the caller checks the length)."""
        return self.codecs[order].unpack_from(data, 0)

    def pack(self, order: ByteOrder, *values: object) -> bytes:
        return self.codecs[order].pack(*values)


SHA256_REQUEST_FLAT = FlatCodec(SHA256_REQUEST)  # hiLen, loLen, hash, isLastBlock, lastBlockLen, inBlock
SHA512_REQUEST_FLAT = FlatCodec(SHA512_REQUEST)  # hiLen, loLen, hash, hashType, isLastBlock, lastBlockLen, inBlock
SHA2_RESPONSE_FLAT = FlatCodec(SHA2_RESPONSE)  # hiLen, loLen, hash, hashType
