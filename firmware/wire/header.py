"""The 8-byte comm header and whole-packet framing (core spec §2.1-§2.4, v1.4.0 diff §3.1).

Packet = header (magic, kind, seq, aux; each u16 in the client's byte order) + payload.
The magic tells the byte order: ``01 A5`` = little endian, ``A5 01`` = big endian. A server
answers with the same magic bytes, kind, seq and aux as the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import (
    COMM_ENDIAN,
    COMM_HEADER_SIZE,
    COMM_MAGIC_NATIVE,
    COMM_VERSION,
    kind_action,
    kind_group,
)
from .exceptions import WireMagicError, WireSizeError
from .schema import U16, ByteOrder, Field, Message

COMM_HEADER = Message(
    "CommHeader",
    [
        Field("magic", U16, doc="0xA501 read in the client's order; the C server never checks the version"),
        Field("kind", U16, doc="group << 8 | action"),
        Field("seq", U16, doc="client counter, first request of a connection is 1; echoed"),
        Field("aux", U16, doc="unused by wolfHSM (always 0 in practice); echoed untranslated"),
    ],
    c_name="whCommHeader",
)


def byte_order_from_magic(
    magic: bytes | bytearray | memoryview, server_order: ByteOrder | None = None
) -> ByteOrder:
    """Byte order of the client that wrote these two magic bytes.

    With ``server_order=None`` (strict) only ``01 A5`` and ``A5 01`` are accepted. With a server
    order, the C rule applies instead: the server reads the magic as a native u16 and, unless its
    high byte is 0xA5, assumes the other byte order -- the C server never rejects a packet for
    its magic (core spec §2.2).
    """
    if len(magic) < 2:
        raise WireSizeError("CommHeader.magic", len(magic), 2, 2)
    b0, b1 = magic[0], magic[1]
    if server_order is None:
        if b0 == COMM_VERSION and b1 == COMM_ENDIAN:
            return ByteOrder.LITTLE
        if b0 == COMM_ENDIAN and b1 == COMM_VERSION:
            return ByteOrder.BIG
        raise WireMagicError(f"bad magic {b0:02x}{b1:02x} (expected 01a5 or a501)")
    high = b1 if server_order is ByteOrder.LITTLE else b0
    return server_order if high == COMM_ENDIAN else server_order.swapped()


@dataclass(frozen=True, slots=True)
class Header:
    """A decoded comm header plus the byte order of its sender."""

    kind: int
    seq: int
    aux: int = 0
    order: ByteOrder = ByteOrder.LITTLE
    magic: int = COMM_MAGIC_NATIVE  # as read in ``order``; kept so a reply echoes odd magics

    @property
    def group(self) -> int:
        return kind_group(self.kind)

    @property
    def action(self) -> int:
        return kind_action(self.kind)

    def encode(self) -> bytes:
        return COMM_HEADER.pack(self.order, magic=self.magic, kind=self.kind, seq=self.seq, aux=self.aux)

    def reply(self) -> Header:
        """Header of the response: wolfHSM echoes magic, kind, seq and aux unchanged."""
        return self


def next_seq(seq: int) -> int:
    """The client's next sequence number (16-bit, wraps 65535 -> 0)."""
    return (seq + 1) & 0xFFFF


def decode_header(packet: bytes | bytearray | memoryview, server_order: ByteOrder | None = None) -> Header:
    """Decode the first 8 bytes of a packet. See :func:`byte_order_from_magic` for ``server_order``."""
    if len(packet) < COMM_HEADER_SIZE:
        raise WireSizeError("CommHeader", len(packet), COMM_HEADER_SIZE, None)
    order = byte_order_from_magic(packet, server_order)
    magic, kind, seq, aux = COMM_HEADER.unpack(order, packet[:COMM_HEADER_SIZE])
    return Header(kind=kind, seq=seq, aux=aux, order=order, magic=magic)


def decode_packet(
    packet: bytes | bytearray | memoryview,
    *,
    max_payload: int | None = None,
    server_order: ByteOrder | None = None,
) -> tuple[Header, bytes]:
    """Split a packet into its header and payload.

    ``max_payload`` is the receiver's COMM_DATA_LEN: longer packets are refused, as the C comm
    layer treats them as fatal (core spec §1.1).
    """
    header = decode_header(packet, server_order)
    payload = bytes(packet[COMM_HEADER_SIZE:])
    if max_payload is not None and len(payload) > max_payload:
        raise WireSizeError("packet payload", len(payload), 0, max_payload)
    return header, payload


def encode_packet(header: Header, payload: bytes = b"", *, max_payload: int | None = None) -> bytes:
    """Header + payload. ``max_payload`` is the sender's COMM_DATA_LEN (C refuses larger sends)."""
    if max_payload is not None and len(payload) > max_payload:
        raise WireSizeError("packet payload", len(payload), 0, max_payload)
    return header.encode() + bytes(payload)
