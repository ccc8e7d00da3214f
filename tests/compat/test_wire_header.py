"""Comm header and packet framing (core spec §2.1-§2.4, Appendix A; v1.4.0 diff §3.1).

Vectors are hand-written: magic 0xA501 is sent as 01 A5 by little-endian clients and A5 01 by
big-endian ones; kind, seq and aux follow in the same order.
"""

from __future__ import annotations

import pytest

from firmware.wire import (
    ByteOrder,
    Header,
    WireError,
    WireMagicError,
    WireSizeError,
    byte_order_from_magic,
    decode_header,
    decode_packet,
    encode_packet,
    next_seq,
)
from firmware.wire.constants import COMM_MAGIC_NATIVE

LE = ByteOrder.LITTLE
BE = ByteOrder.BIG


def raw(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


HEADER_VECTORS = [
    # (kind, seq, aux, order, bytes)
    (0x0101, 1, 0, LE, "01a5 0101 0100 0000"),  # COMM INIT, first request (captured)
    (0x0101, 1, 0, BE, "a501 0101 0001 0000"),
    (0x0208, 20, 0, LE, "01a5 0802 1400 0000"),  # NVM READ seq 20 (captured)
    (0x0208, 20, 0, BE, "a501 0208 0014 0000"),
    (0x0A05, 0xFFFF, 0x1234, LE, "01a5 050a ffff 3412"),
    (0x0A05, 0xFFFF, 0x1234, BE, "a501 0a05 ffff 1234"),
]


@pytest.mark.parametrize("kind,seq,aux,order,hex_text", HEADER_VECTORS)
def test_header_encode(kind: int, seq: int, aux: int, order: ByteOrder, hex_text: str) -> None:
    assert Header(kind=kind, seq=seq, aux=aux, order=order).encode() == raw(hex_text)


@pytest.mark.parametrize("kind,seq,aux,order,hex_text", HEADER_VECTORS)
def test_header_decode(kind: int, seq: int, aux: int, order: ByteOrder, hex_text: str) -> None:
    header = decode_header(raw(hex_text))
    assert header == Header(kind=kind, seq=seq, aux=aux, order=order, magic=COMM_MAGIC_NATIVE)
    assert header.group == kind & 0xFF00
    assert header.action == kind & 0xFF


def test_magic_bytes_give_byte_order() -> None:
    assert byte_order_from_magic(b"\x01\xa5") is LE
    assert byte_order_from_magic(b"\xa5\x01") is BE


@pytest.mark.parametrize("magic", ["0000", "a5a5", "02a5", "a502", "01a4", "ffff"])
def test_wrong_magic_is_rejected(magic: str) -> None:
    packet = raw(magic + "0101 0100 0000")
    with pytest.raises(WireMagicError):
        decode_header(packet)
    with pytest.raises(WireError):  # WireMagicError is a WireError (and a ValueError)
        decode_packet(packet)


@pytest.mark.parametrize(
    "magic,server_order,expected",
    [
        # The C rule: native u16 whose high byte is 0xA5 -> same order as the server, else swapped.
        ("01a5", LE, LE),
        ("a501", LE, BE),
        ("0000", LE, BE),
        ("02a5", LE, LE),  # version byte is never checked by the C server
        ("a501", BE, BE),
        ("01a5", BE, LE),
        ("0000", BE, LE),
        ("a502", BE, BE),
    ],
)
def test_c_server_magic_rule(magic: str, server_order: ByteOrder, expected: ByteOrder) -> None:
    assert byte_order_from_magic(raw(magic), server_order) is expected


def test_reply_echoes_odd_magic_kind_seq_aux() -> None:
    # A C server never rejects a magic; it answers with the request's own header bytes.
    request = raw("0000 0102 0003 0004")
    header = decode_header(request, server_order=LE)
    assert header.order is BE and header.kind == 0x0102 and header.seq == 3 and header.aux == 4
    assert header.reply().encode() == request


@pytest.mark.parametrize("length", range(8))
def test_short_packet_is_rejected(length: int) -> None:
    packet = raw("01a5 0101 0100 0000")[:length]
    with pytest.raises(WireSizeError) as err:
        decode_packet(packet)
    assert err.value.got == length and err.value.minimum == 8


def test_header_only_packet_has_empty_payload() -> None:
    header, payload = decode_packet(raw("01a5 0301 8301 0000"))  # COMM CLOSE, seq 387 (captured)
    assert (header.kind, header.seq, payload) == (0x0103, 387, b"")


def test_payload_limit_is_the_comm_data_len() -> None:
    header = Header(kind=0x0105, seq=1)
    ok = encode_packet(header, bytes(5120), max_payload=5120)
    assert len(ok) == 5128
    assert decode_packet(ok, max_payload=5120)[1] == bytes(5120)
    with pytest.raises(WireSizeError):
        decode_packet(ok + b"\0", max_payload=5120)
    with pytest.raises(WireSizeError):
        encode_packet(header, bytes(5121), max_payload=5120)


def test_captured_echo_packet_round_trip() -> None:
    # core Appendix A: C>S len=17 magic=a501 kind=0105 seq=2 payload="Request:0"
    packet = raw("01a5 0501 0200 0000 526571756573743a30")
    header, payload = decode_packet(packet)
    assert (header.kind, header.seq, header.order, payload) == (0x0105, 2, LE, b"Request:0")
    assert encode_packet(header.reply(), payload) == packet


def test_sequence_wraps_at_16_bits() -> None:
    assert next_seq(0) == 1
    assert next_seq(0xFFFE) == 0xFFFF
    assert next_seq(0xFFFF) == 0
