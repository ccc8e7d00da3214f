"""Hypothesis round trips for every v1.4.0 message type, in both byte orders.

Strategies are derived from each declaration (the C types bound the integers), so a new message
is covered as soon as it is in the wire table.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.wire import ByteOrder, get_wire
from firmware.wire.header import COMM_HEADER
from firmware.wire.schema import Array, Bytes, Field, Message, Nested, Pad, Rest, Tail, Union

MESSAGES = [COMM_HEADER, *get_wire("v1.4.0").messages()]
ORDERS = st.sampled_from(list(ByteOrder))
EXAMPLES = settings(max_examples=20, deadline=None)


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    return value


@st.composite
def field_values(draw: st.DrawFn, msg: Message) -> dict[str, Any]:
    selectors = {item.selector: item for item in msg.items if isinstance(item, Union)}
    out: dict[str, Any] = {}
    for item in msg.items:
        if isinstance(item, Pad):
            continue
        if isinstance(item, Field):
            ints = st.integers(item.ctype.min, item.ctype.max)
            if item.name in selectors:
                # Make the union's structured variants likely, not a 1-in-2**32 event.
                ints = st.one_of(st.sampled_from(sorted(selectors[item.name].variants) + [0, 3, 8]), ints)
            out[item.name] = draw(ints)
        elif isinstance(item, Bytes):
            out[item.name] = draw(st.binary(min_size=item.size, max_size=item.size))
        elif isinstance(item, Array):
            out[item.name] = tuple(
                draw(
                    st.lists(
                        st.integers(item.ctype.min, item.ctype.max), min_size=item.count, max_size=item.count
                    )
                )
            )
        elif isinstance(item, Nested):
            out[item.name] = draw(field_values(item.message))
        elif isinstance(item, Union):
            variant = item.variants.get(out[item.selector])
            out[item.name] = (
                draw(field_values(variant))
                if variant is not None
                else draw(st.binary(min_size=item.size, max_size=item.size))
            )
        else:  # pragma: no cover - a new item kind needs a strategy here
            raise AssertionError(item)
    for seg in msg.tail:
        if isinstance(seg, Tail):
            out[seg.name] = draw(st.binary(min_size=seg.size, max_size=seg.size))
        elif isinstance(seg, Rest):
            out[seg.name] = draw(st.binary(max_size=48))
    return out


def payload_size(msg: Message) -> st.SearchStrategy[int]:
    if msg.max_size is None:
        return st.integers(msg.min_size, msg.min_size + 48)
    return st.just(msg.min_size)


def canonical(msg: Message, data: bytes, order: ByteOrder) -> bytes:
    """What a decode/encode cycle must give back: pads and unused union bytes become zeros."""
    out = bytearray(data)
    for offset, size in msg.pad_spans():
        out[offset : offset + size] = bytes(size)
    for item in msg.items:
        if isinstance(item, Union):
            sel_off, sel_size = msg.offsets[item.selector]
            selector = int.from_bytes(
                data[sel_off : sel_off + sel_size], "little" if order is ByteOrder.LITTLE else "big"
            )
            variant = item.variants.get(selector)
            if variant is not None:
                start = msg.offsets[item.name][0] + variant.size
                end = msg.offsets[item.name][0] + item.size
                out[start:end] = bytes(end - start)
    return bytes(out)


@pytest.mark.parametrize("msg", MESSAGES, ids=[m.name for m in MESSAGES])
@EXAMPLES
@given(data=st.data(), order=ORDERS)
def test_unpack_of_pack_gives_the_fields(msg: Message, data: st.DataObject, order: ByteOrder) -> None:
    values = data.draw(field_values(msg))
    packed = msg.pack(order, **values)
    assert len(packed) >= msg.min_size
    assert plain(msg.unpack(order, packed)) == values


@pytest.mark.parametrize("msg", MESSAGES, ids=[m.name for m in MESSAGES])
@EXAMPLES
@given(data=st.data(), order=ORDERS)
def test_pack_of_unpack_gives_the_bytes(msg: Message, data: st.DataObject, order: ByteOrder) -> None:
    size = data.draw(payload_size(msg))
    blob = data.draw(st.binary(min_size=size, max_size=size))
    record = msg.unpack(order, blob)
    assert msg.pack_record(order, record) == canonical(msg, blob, order)


@pytest.mark.parametrize("msg", MESSAGES, ids=[m.name for m in MESSAGES])
@EXAMPLES
@given(data=st.data(), order=ORDERS)
def test_lenient_decode_equals_zero_extension(msg: Message, data: st.DataObject, order: ByteOrder) -> None:
    blob = data.draw(st.binary(max_size=msg.min_size))
    assert msg.unpack_lenient(order, blob) == msg.unpack(order, blob + bytes(msg.min_size - len(blob)))


@pytest.mark.parametrize("msg", MESSAGES, ids=[m.name for m in MESSAGES])
@EXAMPLES
@given(data=st.data())
def test_byte_orders_mirror_each_scalar(msg: Message, data: st.DataObject) -> None:
    # Each scalar member's bytes in big endian are its little-endian bytes reversed.
    values = data.draw(field_values(msg))
    le = msg.pack(ByteOrder.LITTLE, **values)
    be = msg.pack(ByteOrder.BIG, **values)
    assert len(le) == len(be)
    for item in msg.items:
        if isinstance(item, Field):
            off, size = msg.offsets[item.name]
            assert be[off : off + size] == le[off : off + size][::-1]
        elif isinstance(item, Bytes):
            off, size = msg.offsets[item.name]
            assert be[off : off + size] == le[off : off + size]
    assert be[msg.size :] == le[msg.size :]  # trailing data is never swapped
