"""The declarative struct framework: declaration checks, strict/lenient decoding, validation."""

from __future__ import annotations

import pytest

from firmware.wire import ByteOrder, WireSizeError, WireValueError
from firmware.wire.messages import comm, counter, customcb, keystore, nvm, she
from firmware.wire.schema import (
    I8,
    I32,
    U8,
    U16,
    U32,
    U64,
    Array,
    Bytes,
    Field,
    Message,
    Nested,
    Pad,
    Rest,
    Tail,
)

LE = ByteOrder.LITTLE
BE = ByteOrder.BIG


def raw(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


# ---------------------------------------------------------------- declarations


def test_misaligned_member_is_refused() -> None:
    # C would insert 3 bytes of padding before the u32; the declaration must say so.
    with pytest.raises(TypeError, match="alignment"):
        Message("Bad", [Field("a", U8), Field("b", U32)])


def test_missing_tail_padding_is_refused() -> None:
    with pytest.raises(TypeError, match="multiple of alignment"):
        Message("Bad", [Field("a", U32), Field("b", U16)])


def test_explicit_padding_is_accepted() -> None:
    msg = Message("Ok", [Field("a", U8), Pad(3), Field("b", U32), Field("c", U16), Pad(2)])
    assert (msg.size, msg.align, msg.offsets) == (12, 4, {"a": (0, 1), "b": (4, 4), "c": (8, 2)})


def test_union_selector_must_come_first() -> None:
    from firmware.wire.schema import Union

    with pytest.raises(TypeError, match="selector"):
        Message("Bad", [Union("data", 16, selector="type", variants={}), Field("type", U32)])


def test_rest_must_be_last_and_length_field_scalar() -> None:
    with pytest.raises(TypeError, match="last"):
        Message("Bad", [Field("n", U32)], tail=[Rest("a"), Tail("b", 4)])
    with pytest.raises(TypeError, match="length field"):
        Message("Bad", [Bytes("n", 4)], tail=[Rest("a", length_field="n")])


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(TypeError, match="duplicate"):
        Message("Bad", [Field("a", U16), Field("a", U16)])
    with pytest.raises(TypeError, match="duplicate"):
        Message("Bad", [Field("a", U16), Pad(2)], tail=[Rest("a")])


def test_byte_order_swapped() -> None:
    assert LE.swapped() is BE and BE.swapped() is LE


# ---------------------------------------------------------------- strict decoding


@pytest.mark.parametrize(
    "msg", [nvm.NVM_LIST_REQUEST, keystore.KEY_EVICT_REQUEST, customcb.CUSTOM_CB_REQUEST]
)
def test_short_and_oversize_fixed_messages_are_rejected(msg: Message) -> None:
    with pytest.raises(WireSizeError) as short:
        msg.unpack(LE, bytes(msg.size - 1))
    assert "short" in str(short.value)
    with pytest.raises(WireSizeError) as long:
        msg.unpack(LE, bytes(msg.size + 1))
    assert "oversize" in str(long.value)
    assert (long.value.minimum, long.value.maximum) == (msg.size, msg.size)


def test_trailing_data_needs_the_fixed_part_and_fixed_tail() -> None:
    with pytest.raises(WireSizeError):
        nvm.NVM_ADDOBJECT_REQUEST.unpack(LE, bytes(31))
    assert nvm.NVM_ADDOBJECT_REQUEST.unpack(LE, bytes(32)).data == b""
    # KEYWRAP: 6-byte struct + 32-byte metadata are required before the key.
    with pytest.raises(WireSizeError):
        keystore.KEY_WRAP_REQUEST.unpack(LE, bytes(37))
    assert keystore.KEY_WRAP_REQUEST.unpack(LE, bytes(38)).key == b""


def test_padding_garbage_is_ignored() -> None:
    # core Appendix A: COUNTER INIT request with pad garbage 07 00 from the client.
    req = counter.COUNTER_INIT_REQUEST.unpack(LE, raw("00000000 0100 0700"))
    assert (req.counter, req.counterId) == (0, 1)
    assert counter.COUNTER_INIT_REQUEST.pack_record(LE, req) == raw("00000000 0100 0000")


def test_memoryview_input() -> None:
    buf = memoryview(bytearray(raw("ffff 0000 1400")))
    assert nvm.NVM_LIST_REQUEST.unpack(LE, buf).startId == 0x14


# ---------------------------------------------------------------- lenient / prefix decoding


def test_lenient_zero_extends_short_input() -> None:
    # v1.4.0 KEY CACHE validates no size: a 10-byte request is read as far as it goes.
    req = keystore.KEY_CACHE_REQUEST.unpack_lenient(LE, raw("60000000 10000000 0300"))
    assert (req.flags, req.sz, req.labelSz, req.id, req.label, req.key) == (0x60, 16, 3, 0, bytes(24), b"")


def test_lenient_ignores_extra_bytes_of_fixed_messages() -> None:
    # COMM INIT request length is not checked by the C server.
    req = comm.COMM_INIT_REQUEST.unpack_lenient(LE, raw("05000000 deadbeef"))
    assert req.client_id == 5


def test_set_uid_v1_4_0_reply_of_16_bytes_decodes_leniently() -> None:
    # diff §9.1: v1.4.0 answers SET_UID with the request length (16): rc + request bytes 4..15.
    reply = raw("00000000 00000000 00000000 00000001")
    with pytest.raises(WireSizeError):
        she.SHE_SET_UID_RESPONSE.unpack(LE, reply)
    assert she.SHE_SET_UID_RESPONSE.unpack_lenient(LE, reply).rc == 0


def test_prefix_returns_the_rest_unparsed() -> None:
    # An 8-byte KEYUNWRAPEXPORT error reply (not what v1.4.0 sends, but a client must cope).
    rec, rest = keystore.KEY_UNWRAP_EXPORT_RESPONSE.unpack_prefix(LE, raw("2af8ffff 0000 0300"))
    assert (rec.rc, rec.keySz, rec.cipherType, rest) == (-2006, 0, 3, b"")
    rec, rest = nvm.NVM_READ_RESPONSE.unpack_prefix(BE, raw("00000000 aabb"))
    assert (rec.rc, rest) == (0, b"\xaa\xbb")
    with pytest.raises(WireSizeError):
        nvm.NVM_READ_RESPONSE.unpack_prefix(LE, b"\0\0")


# ---------------------------------------------------------------- encoding


def test_missing_fields_are_zero_and_unknown_fields_refused() -> None:
    assert nvm.NVM_LIST_REQUEST.pack(LE, startId=0x14) == raw("0000 0000 1400")
    with pytest.raises(WireValueError, match="unknown"):
        nvm.NVM_LIST_REQUEST.pack(LE, start_id=0x14)


@pytest.mark.parametrize("value", [-1, 0x10000])
def test_out_of_range_integers_are_refused(value: int) -> None:
    with pytest.raises(WireValueError):
        nvm.NVM_LIST_REQUEST.pack(LE, startId=value)


def test_signed_fields_take_negative_codes() -> None:
    assert nvm.NVM_SIMPLE_RESPONSE.pack(BE, rc=-2000) == raw("fffff830")
    with pytest.raises(WireValueError):
        nvm.NVM_SIMPLE_RESPONSE.pack(LE, rc=0x80000000)


def test_byte_arrays_are_zero_filled_but_never_truncated() -> None:
    assert nvm.NVM_GETMETADATA_RESPONSE.pack(LE, label=b"ab")[12:] == b"ab" + bytes(22)
    with pytest.raises(WireValueError, match="label"):
        nvm.NVM_GETMETADATA_RESPONSE.pack(LE, label=bytes(25))
    with pytest.raises(WireValueError, match="metadata"):
        keystore.KEY_WRAP_REQUEST.pack(LE, metadata=bytes(33))


def test_arrays_are_zero_filled_but_never_truncated() -> None:
    assert nvm.NVM_DESTROYOBJECTS_REQUEST.pack(BE, list_count=1, list=[0x14]) == raw("0001 0014") + bytes(36)
    with pytest.raises(WireValueError, match="list"):
        nvm.NVM_DESTROYOBJECTS_REQUEST.pack(LE, list=[1] * 20)


def test_length_field_is_filled_from_the_data() -> None:
    body = nvm.NVM_ADDOBJECT_REQUEST.pack(LE, id=0x14, data=b"abc")
    assert body[6:8] == raw("0300") and body[32:] == b"abc"
    # An explicit length is kept even if it disagrees (the server handles the quirk, core §4.4).
    assert nvm.NVM_ADDOBJECT_REQUEST.pack(LE, len=9, data=b"abc")[6:8] == raw("0900")


def test_tail_values_must_be_bytes() -> None:
    with pytest.raises(WireValueError):
        comm.COMM_ECHO.pack(LE, data="text")


def test_nested_values_accept_records_and_mappings() -> None:
    by_map = keystore.KEY_EXPORT_DMA_REQUEST.pack(LE, key={"addr": 1, "sz": 2}, id=3)
    rec = keystore.KEY_EXPORT_DMA_REQUEST.unpack(LE, by_map)
    assert keystore.KEY_EXPORT_DMA_REQUEST.pack(LE, key=rec.key, id=3) == by_map
    with pytest.raises(WireValueError, match="unknown"):
        keystore.KEY_EXPORT_DMA_REQUEST.pack(LE, key={"address": 1})
    with pytest.raises(WireValueError):
        keystore.KEY_EXPORT_DMA_REQUEST.pack(LE, key=5)


def test_union_accepts_raw_bytes_and_checks_variants() -> None:
    msg = customcb.CUSTOM_CB_REQUEST
    as_bytes = msg.pack(LE, type=1, data=raw("01000000 02000000 03000000 04000000"))
    as_record = msg.pack(
        LE, type=1, data={"client_addr": 1, "client_sz": 2, "server_addr": 3, "server_sz": 4}
    )
    assert as_bytes == as_record
    with pytest.raises(WireValueError, match="variant"):
        msg.pack(LE, type=8, data={"client_addr": 1})
    with pytest.raises(WireValueError):
        msg.pack(LE, type=8, data=bytes(257))
    # Reserved and user types decode to raw bytes.
    assert msg.unpack(LE, msg.pack(LE, type=3)).data == bytes(256)


def test_union_dma_words_follow_the_byte_order() -> None:
    msg = customcb.CUSTOM_CB_REQUEST
    data = {"client_addr": 0x11223344, "client_sz": 0, "server_addr": 0, "server_sz": 0}
    assert msg.pack(BE, type=1, data=data)[8:12] == raw("11223344")
    assert msg.pack(LE, type=1, data=data)[8:12] == raw("44332211")


def test_record_is_canonical_and_pad_spans_are_listed() -> None:
    rec = nvm.NVM_GETMETADATA_RESPONSE.record(id=5, label=b"x")
    assert rec.label == b"x" + bytes(23) and rec.rc == 0
    assert nvm.NVM_GETMETADATA_RESPONSE.default_record() == nvm.NVM_GETMETADATA_RESPONSE.record()
    assert keystore.KEY_CACHE_REQUEST.pad_spans() == [(14, 2)]
    assert comm.COMM_INFO_RESPONSE.pad_spans() == [(66, 6)]


def test_small_scalar_types() -> None:
    msg = Message(
        "Small",
        [Field("a", I8), Field("b", U8), Array("c", U16, 3), Field("d", I32), Pad(4), Field("e", U64)],
    )
    assert (msg.size, msg.align) == (24, 8)
    assert msg.offsets == {"a": (0, 1), "b": (1, 1), "c": (2, 6), "d": (8, 4), "e": (16, 8)}
    values = {"a": -1, "b": 0xFE, "c": (1, 2, 3), "d": -2, "e": 0x0102030405060708}
    le = raw("ff fe 0100 0200 0300 feffffff 00000000 0807060504030201")
    be = raw("ff fe 0001 0002 0003 fffffffe 00000000 0102030405060708")
    assert msg.pack(LE, **values) == le and msg.pack(BE, **values) == be
    assert msg.unpack(LE, le)._asdict() == values and msg.unpack(BE, be)._asdict() == values


def test_nested_inherits_alignment() -> None:
    inner = Message("Inner", [Field("x", U64)])
    with pytest.raises(TypeError, match="alignment"):
        Message("Outer", [Field("a", U32), Nested("n", inner)])
    outer = Message("Outer", [Field("a", U32), Pad(4), Nested("n", inner)])
    assert outer.offsets["n"] == (8, 8)


def test_byte_order_must_be_the_enum() -> None:
    with pytest.raises(WireValueError, match="ByteOrder"):
        nvm.NVM_LIST_REQUEST.pack("<", startId=1)  # type: ignore[arg-type]
    with pytest.raises(WireValueError, match="ByteOrder"):
        nvm.NVM_LIST_REQUEST.unpack("little", bytes(6))  # type: ignore[arg-type]


def test_bytes_fields_refuse_non_bytes() -> None:
    # bytes(5) would otherwise turn an int into five zero bytes.
    with pytest.raises(WireValueError, match="expected bytes"):
        nvm.NVM_GETMETADATA_RESPONSE.pack(LE, label=5)
