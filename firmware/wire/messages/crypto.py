"""CRYPTO (0x0400) / CRYPTO_DMA (0x0B00) envelope as at v1.4.0 (v1.4.0 diff §10.1).

v1.4.0 uses 8-byte generic headers; the algorithm struct starts at payload offset 8. (HEAD adds
``affinity`` / ``reserved`` words, making them 12 bytes; a HEAD wire needs its own declarations.)
The algorithm-specific structs are not declared here; ``body`` carries them raw.
"""

from __future__ import annotations

from ..schema import I32, U32, Field, Message, Rest

CRYPTO_REQUEST_HEADER = Message(
    "CryptoRequestHeader",
    [
        Field("algoType", U32, doc="wc_CipherType / wc_PkType / wc_HashType, or the action for RNG/CMAC/KDF"),
        Field("algoSubType", U32, doc="KDF: wc_KdfType; PQC signature: 1; else 0"),
    ],
    c_name="whMessageCrypto_GenericRequestHeader",
    tail=[Rest("body", doc="algorithm struct + data")],
)

CRYPTO_RESPONSE_HEADER = Message(
    "CryptoResponseHeader",
    [
        Field("algoType", U32, doc="echo of the request's algoType; clients abort on mismatch"),
        Field("rc", I32),
    ],
    c_name="whMessageCrypto_GenericResponseHeader",
    tail=[Rest("body", doc="algorithm struct + data; absent when rc != 0")],
)
