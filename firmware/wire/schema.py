"""A tiny declarative struct framework for wolfHSM wire messages.

Each wire message is declared exactly once, as an ordered list of items mirroring the C struct
(``uint16_t id; uint8_t WH_PAD[6]; ...``), optionally followed by trailing data that the C code
places after the struct. Everything else -- size, offsets, alignment check, record type and the
little/big endian codecs -- is derived from that declaration. Handlers never slice payloads by
hand.

Rules taken from how wolfHSM builds its messages (core spec §2.2, crypto spec §1.4):

* Structs are raw C structs with natural alignment. The framework does *not* insert implicit
  padding: every ``WH_PAD`` must be declared with :class:`Pad`, and a declaration that would need
  hidden padding is refused at import time (that catches a forgotten pad early).
* Every scalar is in the client's byte order; byte arrays (labels, keys, data) are never swapped.
* Padding is garbage in client requests: it is skipped on decode and written as zeros on encode.

Example::

    READ_REQUEST = Message("NvmReadRequest", [Field("id", U16), Field("offset", U16),
                                              Field("data_len", U16)],
                           c_name="whMessageNvm_ReadRequest")
    raw = READ_REQUEST.pack(ByteOrder.LITTLE, id=20, data_len=17)
    req = READ_REQUEST.unpack(ByteOrder.LITTLE, raw)      # req.id == 20
"""

from __future__ import annotations

import struct as _struct
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .exceptions import WireSizeError, WireValueError

__all__ = [
    "ByteOrder",
    "CType",
    "U8",
    "U16",
    "U32",
    "U64",
    "I8",
    "I16",
    "I32",
    "I64",
    "Field",
    "Bytes",
    "Array",
    "Pad",
    "Nested",
    "Union",
    "Tail",
    "Rest",
    "Message",
    "Record",
]

# Decoded messages are generated namedtuples (attribute access, equality with plain tuples,
# ``_replace``); their field set is only known at run time.
Record = Any


class ByteOrder(Enum):
    """Byte order of the client that sent a packet; the value is the ``struct`` prefix."""

    LITTLE = "<"
    BIG = ">"

    @property
    def prefix(self) -> str:
        return self.value

    def swapped(self) -> ByteOrder:
        return ByteOrder.BIG if self is ByteOrder.LITTLE else ByteOrder.LITTLE


@dataclass(frozen=True, slots=True)
class CType:
    """A C scalar type: ``struct`` format character, size in bytes, signedness."""

    name: str
    fmt: str
    size: int
    signed: bool

    @property
    def min(self) -> int:
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (8 * self.size - (1 if self.signed else 0))) - 1


U8 = CType("u8", "B", 1, False)
U16 = CType("u16", "H", 2, False)
U32 = CType("u32", "I", 4, False)
U64 = CType("u64", "Q", 8, False)
I8 = CType("i8", "b", 1, True)
I16 = CType("i16", "h", 2, True)
I32 = CType("i32", "i", 4, True)
I64 = CType("i64", "q", 8, True)

_MISSING: Any = object()


class _Item:
    """One member of a C struct. Subclasses know their format and how to (de)flatten values."""

    name: str | None
    size: int
    align: int
    fmt: str
    doc: str

    def default(self) -> Any:
        raise NotImplementedError

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class Field(_Item):
    """A scalar member, e.g. ``uint32_t client_id``."""

    def __init__(self, name: str, ctype: CType, doc: str = "") -> None:
        self.name = name
        self.ctype = ctype
        self.size = ctype.size
        self.align = ctype.size
        self.fmt = ctype.fmt
        self.doc = doc

    def default(self) -> int:
        return 0

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        out.append(0 if value is _MISSING else value)

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> int:
        return next(it)

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.ctype.name})"


class Bytes(_Item):
    """A fixed byte array, e.g. ``uint8_t label[24]``. Never byte-swapped.

    Encoding accepts shorter values and zero-fills them (labels are usually shorter);
    decoding always returns exactly ``size`` bytes.
    """

    def __init__(self, name: str, size: int, doc: str = "") -> None:
        self.name = name
        self.size = size
        self.align = 1
        self.fmt = f"{size}s"
        self.doc = doc

    def default(self) -> bytes:
        return bytes(self.size)

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        if value is _MISSING:
            out.append(b"")
            return
        if not isinstance(value, bytes | bytearray | memoryview):
            # bytes(5) would silently mean five zero bytes
            raise WireValueError(f"{self.name}: expected bytes, got {type(value).__name__}")
        value = bytes(value)
        if len(value) > self.size:
            raise WireValueError(f"{self.name}: {len(value)} bytes do not fit uint8_t[{self.size}]")
        out.append(value)

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> bytes:
        return next(it)

    def __repr__(self) -> str:
        return f"Bytes({self.name!r}, {self.size})"


class Array(_Item):
    """A fixed array of scalars, e.g. ``uint16_t list[19]``; every element is byte-swapped.

    Encoding accepts shorter sequences and zero-fills the remaining elements.
    """

    def __init__(self, name: str, ctype: CType, count: int, doc: str = "") -> None:
        self.name = name
        self.ctype = ctype
        self.count = count
        self.size = ctype.size * count
        self.align = ctype.size
        self.fmt = f"{count}{ctype.fmt}"
        self.doc = doc

    def default(self) -> tuple[int, ...]:
        return (0,) * self.count

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        values = () if value is _MISSING else tuple(value)
        if len(values) > self.count:
            raise WireValueError(f"{self.name}: {len(values)} elements do not fit [{self.count}]")
        out.extend(values)
        out.extend((0,) * (self.count - len(values)))

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(next(it) for _ in range(self.count))

    def __repr__(self) -> str:
        return f"Array({self.name!r}, {self.ctype.name}, {self.count})"


class Pad(_Item):
    """Explicit padding (``WH_PAD``): zeros on encode, ignored on decode (clients send garbage)."""

    def __init__(self, size: int, doc: str = "") -> None:
        self.name = None
        self.size = size
        self.align = 1
        self.fmt = f"{size}x"
        self.doc = doc

    def default(self) -> None:
        return None

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        return None

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        return None

    def __repr__(self) -> str:
        return f"Pad({self.size})"


class Nested(_Item):
    """An embedded struct, e.g. ``whMessageKeystore_DmaBuffer key``. Its value is a record."""

    def __init__(self, name: str, message: Message, doc: str = "") -> None:
        if message.tail:
            raise TypeError(f"{message.name}: a struct with trailing data cannot be embedded")
        self.name = name
        self.message = message
        self.size = message.size
        self.align = message.align
        self.fmt = message._fmt
        self.doc = doc

    def default(self) -> Record:
        return self.message.default_record()

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        values: Mapping[str, Any] = {} if value is _MISSING else _as_mapping(value, self.message.name)
        unknown = set(values) - self.message._name_set
        if unknown:
            raise WireValueError(f"{self.name}: unknown field(s) {sorted(unknown)}")
        self.message._flatten(values, out, order)

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> Record:
        return self.message._build(it, order)

    def __repr__(self) -> str:
        return f"Nested({self.name!r}, {self.message.name})"


class Union(_Item):
    """A C union whose live member is chosen by an earlier scalar field (the selector).

    The value is the variant's record when the selector names a variant, else the raw bytes.
    Encoding also accepts raw bytes for any selector value. Bytes beyond the variant's size are
    not part of the variant: they decode as nothing and encode as zeros.
    """

    def __init__(
        self, name: str, size: int, selector: str, variants: Mapping[int, Message], doc: str = ""
    ) -> None:
        for variant in variants.values():
            if variant.tail or variant.size > size:
                raise TypeError(f"{name}: variant {variant.name} does not fit union[{size}]")
        self.name = name
        self.size = size
        self.selector = selector
        self.variants = dict(variants)
        self.align = max((v.align for v in variants.values()), default=1)
        self.fmt = f"{size}s"
        self.doc = doc

    def default(self) -> bytes:
        return bytes(self.size)

    def flatten(self, value: Any, out: list[Any], order: ByteOrder, scope: Mapping[str, Any]) -> None:
        if value is _MISSING:
            out.append(b"")
            return
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
        else:
            selector = scope.get(self.selector, 0)
            variant = self.variants.get(selector)
            if variant is None:
                raise WireValueError(f"{self.name}: {self.selector}={selector} has no structured variant")
            raw = variant.pack(order, **_as_mapping(value, variant.name))
        if len(raw) > self.size:
            raise WireValueError(f"{self.name}: {len(raw)} bytes do not fit union[{self.size}]")
        out.append(raw)

    def build(self, it: Iterator[Any], order: ByteOrder, scope: Mapping[str, Any]) -> Any:
        raw = next(it)
        variant = self.variants.get(scope.get(self.selector))
        if variant is None:
            return raw
        return variant.unpack(order, raw[: variant.size])

    def __repr__(self) -> str:
        return f"Union({self.name!r}, {self.size}, selector={self.selector!r})"


class Tail:
    """Fixed-size raw bytes that follow the C struct (e.g. 32 bytes of metadata after KEYWRAP)."""

    def __init__(self, name: str, size: int, doc: str = "") -> None:
        self.name = name
        self.size = size
        self.doc = doc

    def __repr__(self) -> str:
        return f"Tail({self.name!r}, {self.size})"


class Rest:
    """Variable trailing data up to the end of the payload (e.g. NVM object data).

    ``length_field`` names the fixed field that announces its length; when encoding without that
    field it is filled in from ``len(data)``. Decoding does not enforce the match, because wolfHSM
    handlers react to a mismatch differently (see the per-message notes).
    """

    def __init__(self, name: str, length_field: str | None = None, doc: str = "") -> None:
        self.name = name
        self.length_field = length_field
        self.doc = doc

    def __repr__(self) -> str:
        return f"Rest({self.name!r}, length_field={self.length_field!r})"


def _as_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    as_dict = getattr(value, "_asdict", None)
    if as_dict is None:
        raise WireValueError(f"{what}: expected a record or mapping, got {type(value).__name__}")
    return as_dict()


class Message:
    """One wire struct: ordered items plus optional trailing data, with derived codecs.

    Attributes derived from the declaration:

    * ``size`` -- ``sizeof`` of the C struct (without trailing data);
    * ``align`` -- its C alignment;
    * ``offsets`` -- ``{name: (offset, size)}`` of every named member;
    * ``min_size`` / ``max_size`` -- accepted payload sizes (``max_size`` is None with ``Rest``);
    * ``record_type`` -- the namedtuple returned by :meth:`unpack`.
    """

    def __deepcopy__(self, memo: dict) -> Message:
        return self  # immutable once declared: snapshots of firmware state share it

    def __init__(
        self,
        name: str,
        items: Sequence[_Item],
        *,
        c_name: str | None = None,
        tail: Sequence[Tail | Rest] = (),
        doc: str = "",
    ) -> None:
        self.name = name
        self.c_name = c_name
        self.doc = doc
        self.items: tuple[_Item, ...] = tuple(items)
        self.tail: tuple[Tail | Rest, ...] = tuple(tail)

        offsets: dict[str, tuple[int, int]] = {}
        offset = 0
        align = 1
        fixed_names: list[str] = []
        for item in self.items:
            # C never leaves a member misaligned; if we would, a WH_PAD is missing.
            if offset % item.align:
                raise TypeError(f"{name}: {item!r} at offset {offset} breaks C alignment {item.align}")
            if isinstance(item, Union) and item.selector not in fixed_names:
                raise TypeError(f"{name}: union selector {item.selector!r} must be declared before it")
            if item.name is not None:
                if item.name in offsets:
                    raise TypeError(f"{name}: duplicate member {item.name!r}")
                offsets[item.name] = (offset, item.size)
                fixed_names.append(item.name)
            offset += item.size
            align = max(align, item.align)
        if offset % align:
            raise TypeError(f"{name}: size {offset} is not a multiple of alignment {align} (tail pad?)")
        self.size = offset
        self.align = align
        self.offsets = offsets

        tail_names = [seg.name for seg in self.tail]
        for i, seg in enumerate(self.tail):
            if isinstance(seg, Rest):
                if i != len(self.tail) - 1:
                    raise TypeError(f"{name}: Rest({seg.name!r}) must be the last tail segment")
                if seg.length_field is not None:
                    holder = next((it for it in self.items if it.name == seg.length_field), None)
                    if not isinstance(holder, Field):
                        raise TypeError(f"{name}: length field {seg.length_field!r} is not a scalar")
        names = fixed_names + tail_names
        if len(set(names)) != len(names):
            raise TypeError(f"{name}: duplicate names in {names}")
        self.field_names: tuple[str, ...] = tuple(fixed_names)
        self.names: tuple[str, ...] = tuple(names)
        self._name_set = frozenset(names)
        self.record_type = namedtuple(name, names)  # type: ignore[misc]
        self._make = self.record_type._make

        tail_fixed = sum(seg.size for seg in self.tail if isinstance(seg, Tail))
        self.min_size = self.size + tail_fixed
        has_rest = bool(self.tail) and isinstance(self.tail[-1], Rest)
        self.max_size: int | None = None if has_rest else self.min_size

        self._fmt = "".join(item.fmt for item in self.items)
        self._structs = {order: _struct.Struct(order.prefix + self._fmt) for order in ByteOrder}
        if self._structs[ByteOrder.LITTLE].size != self.size:
            raise AssertionError(f"{name}: struct size mismatch")  # framework bug, not user error
        # Fast path: flat tuple maps 1:1 onto the named members.
        self._simple = all(isinstance(item, Field | Bytes | Pad) for item in self.items)
        self._defaults = tuple(item.default() for item in self.items if item.name is not None)
        self._rest_length = next(
            ((seg.name, seg.length_field) for seg in self.tail if isinstance(seg, Rest) and seg.length_field),
            None,
        )

    # ------------------------------------------------------------------ introspection

    def __repr__(self) -> str:
        return f"<Message {self.name} size={self.size}{' +tail' if self.tail else ''}>"

    def offset_of(self, name: str) -> int:
        return self.offsets[name][0]

    def default_record(self) -> Record:
        """The record a zero-filled payload decodes to."""
        tail_defaults = tuple(bytes(seg.size) if isinstance(seg, Tail) else b"" for seg in self.tail)
        return self._make(self._defaults + tail_defaults)

    def record(self, **fields: Any) -> Record:
        """Build a record in canonical (decoded) form: missing fields zero, short arrays filled."""
        return self.unpack(ByteOrder.LITTLE, self.pack(ByteOrder.LITTLE, **fields))

    def pad_spans(self) -> list[tuple[int, int]]:
        """``(offset, size)`` of every top-level ``WH_PAD`` (their content is ignored on decode)."""
        spans = []
        offset = 0
        for item in self.items:
            if isinstance(item, Pad):
                spans.append((offset, item.size))
            offset += item.size
        return spans

    # ------------------------------------------------------------------ encode

    def pack(self, order: ByteOrder, /, **fields: Any) -> bytes:
        """Encode fields (missing ones are zero, as in a zero-initialised C struct)."""
        if not self._name_set.issuperset(fields):
            unknown = sorted(set(fields) - self._name_set)
            raise WireValueError(f"{self.name}: unknown field(s) {unknown}")
        if self._rest_length is not None:
            rest_name, length_field = self._rest_length
            if length_field not in fields:
                fields[length_field] = len(fields.get(rest_name, b""))
        flat: list[Any] = []
        try:
            self._flatten(fields, flat, order)
            head = self._codec(order).pack(*flat)
        except _struct.error as exc:
            raise WireValueError(f"{self.name}: {exc}") from None
        except WireValueError as exc:
            raise WireValueError(f"{self.name}.{exc}") from None
        if not self.tail:
            return head
        parts = [head]
        for seg in self.tail:
            value = fields.get(seg.name, b"")
            if not isinstance(value, bytes | bytearray | memoryview):
                raise WireValueError(f"{self.name}.{seg.name}: expected bytes, got {type(value).__name__}")
            value = bytes(value)
            if isinstance(seg, Tail):
                if len(value) > seg.size:
                    raise WireValueError(f"{self.name}.{seg.name}: {len(value)} bytes exceed {seg.size}")
                value = value.ljust(seg.size, b"\0")
            parts.append(value)
        return b"".join(parts)

    def pack_record(self, order: ByteOrder, record: Record) -> bytes:
        """Encode a record (or mapping) as returned by :meth:`unpack`."""
        return self.pack(order, **dict(_as_mapping(record, self.name)))

    def _codec(self, order: ByteOrder) -> _struct.Struct:
        try:
            return self._structs[order]
        except KeyError:
            raise WireValueError(f"{self.name}: byte order must be a ByteOrder, got {order!r}") from None

    def _flatten(self, fields: Mapping[str, Any], out: list[Any], order: ByteOrder) -> None:
        if self._simple:
            # Same result as the generic loop below, without per-item calls.
            for item in self.items:
                if item.name is None:
                    continue
                value = fields.get(item.name, _MISSING)
                if value is _MISSING:
                    out.append(b"" if isinstance(item, Bytes) else 0)
                elif isinstance(item, Bytes):
                    item.flatten(value, out, order, fields)
                else:
                    out.append(value)
            return
        for item in self.items:
            if item.name is not None:
                item.flatten(fields.get(item.name, _MISSING), out, order, fields)

    # ------------------------------------------------------------------ decode

    def unpack(self, order: ByteOrder, data: bytes | bytearray | memoryview) -> Record:
        """Strict decode: the payload size must match the declaration (see ``min_size``/``max_size``)."""
        n = len(data)
        if n < self.min_size or (self.max_size is not None and n > self.max_size):
            raise WireSizeError(self.name, n, self.min_size, self.max_size)
        return self._decode(order, data)

    def unpack_lenient(self, order: ByteOrder, data: bytes | bytearray | memoryview) -> Record:
        """Decode the way a C handler reads its buffer without checking the size.

        Short input is zero-extended (the C server would read stale buffer bytes; zeros are the
        deterministic choice) and bytes beyond a fixed-size message are ignored.
        """
        n = len(data)
        if n < self.min_size:
            data = bytes(data) + bytes(self.min_size - n)
        elif self.max_size is not None and n > self.max_size:
            data = data[: self.max_size]
        return self._decode(order, data)

    def unpack_prefix(self, order: ByteOrder, data: bytes | bytearray | memoryview) -> tuple[Record, bytes]:
        """Decode only the fixed C struct at the start; return it with the raw remaining bytes.

        For callers that must look at a field (e.g. ``rc``) before deciding how to read the rest.
        The returned record has only the fixed members' values; tail names hold defaults.
        """
        if len(data) < self.size:
            raise WireSizeError(self.name, len(data), self.size, None)
        flat = self._codec(order).unpack_from(data, 0)
        values = list(flat) if self._simple else self._build(iter(flat), order, as_list=True)
        values.extend(bytes(seg.size) if isinstance(seg, Tail) else b"" for seg in self.tail)
        return self._make(values), bytes(data[self.size :])

    def _decode(self, order: ByteOrder, data: bytes | bytearray | memoryview) -> Record:
        flat = self._codec(order).unpack_from(data, 0)
        if self._simple and not self.tail:
            return self._make(flat)
        values = list(flat) if self._simple else self._build(iter(flat), order, as_list=True)
        pos = self.size
        for seg in self.tail:
            if isinstance(seg, Tail):
                values.append(bytes(data[pos : pos + seg.size]))
                pos += seg.size
            else:
                values.append(bytes(data[pos:]))
        return self._make(values)

    def _build(self, it: Iterator[Any], order: ByteOrder, as_list: bool = False) -> Any:
        scope: dict[str, Any] = {}
        values = []
        for item in self.items:
            if item.name is None:
                continue
            value = item.build(it, order, scope)
            scope[item.name] = value
            values.append(value)
        if as_list:
            return values
        return self._make(values)
