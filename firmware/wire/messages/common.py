"""Structs shared by several groups."""

from __future__ import annotations

from ..constants import NVM_LABEL_LEN
from ..schema import I32, U16, U64, Bytes, Field, Message, Nested

EMPTY = Message("Empty", [], doc="No payload (also used where the C server ignores the request bytes).")

NVM_METADATA = Message(
    "NvmMetadata",
    [
        Field("id", U16),
        Field("access", U16),
        Field("flags", U16),
        Field("len", U16),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whNvmMetadata",
    doc="Object metadata; read from client memory by ADDOBJECTDMA and carried raw inside key-wrap "
    "messages (v1.4.0 copies it without byte-order translation, diff §8).",
)

# The keystore DMA buffer descriptor: a client address (or SHM DMA-area offset) and a size.
KEY_DMA_BUFFER = Message(
    "KeyDmaBuffer",
    [Field("addr", U64), Field("sz", U64)],
    c_name="whMessageKeystore_DmaBuffer",
)

KEY_DMA_ADDR_STATUS = Message(
    "KeyDmaAddrStatus",
    [Nested("badAddr", KEY_DMA_BUFFER, doc="echoes the offending request buffer on a DMA failure")],
    c_name="whMessageKeystore_DmaAddrStatus",
)

RC_ONLY_DOC = "rc is a negative wolfHSM/wolfCrypt code in two's complement"


def rc_field(doc: str = RC_ONLY_DOC) -> Field:
    """An ``rc`` member. Declared i32 even where C says uint32_t: the bytes are identical."""
    return Field("rc", I32, doc=doc)
