"""Raw wolfHSM wire layer: declarative message structs and their codecs.

This package runs inside the HSM firmware and in the client library, so it imports only the
standard library. It is the raw layer; the friendly client API is built on top of it.

Server side (decode a request, encode the response)::

    from firmware.wire import WhError, decode_packet, encode_packet, get_wire

    wire = get_wire()                                  # the one version switch ("v1.4.0")
    header, payload = decode_packet(packet)            # byte order from the magic
    spec = wire.lookup(header.kind)                    # None -> wire.unknown_reply(header.group)
    req = spec.request.unpack(header.order, payload)   # WireSizeError on a mis-sized payload
    # e.g. NVM LIST (kind 0x0205): req.startId in, (rc, count, id) out
    body = spec.response.pack(header.order, rc=WhError.OK, count=4, id=0x15)
    reply = encode_packet(header.reply(), body)

Client side (build a request)::

    from firmware.wire import ByteOrder, Group, Header, NvmAction, encode_packet, get_wire

    spec = get_wire().message(Group.NVM, NvmAction.READ)
    body = spec.request.pack(ByteOrder.LITTLE, id=20, offset=0, data_len=17)
    packet = encode_packet(Header(kind=spec.kind, seq=1, order=ByteOrder.LITTLE), body)
"""

from .constants import (
    AlgoType,
    CertAction,
    CommAction,
    CounterAction,
    CustomCbType,
    Group,
    KeyAction,
    KeyIdType,
    NvmAction,
    NvmFlags,
    SheAction,
    kind_action,
    kind_group,
    make_kind,
)
from .errors import WcError, WhError
from .exceptions import (
    UnknownWireVersionError,
    WireError,
    WireMagicError,
    WireSizeError,
    WireValueError,
)
from .header import (
    COMM_HEADER,
    Header,
    byte_order_from_magic,
    decode_header,
    decode_packet,
    encode_packet,
    next_seq,
)
from .messages.common import NVM_METADATA
from .schema import ByteOrder, Message
from .versions import (
    DEFAULT_WIRE_VERSION,
    WIRE_VERSIONS,
    MessageSpec,
    SizeCheck,
    UnknownReply,
    WireVersion,
    get_wire,
)

__all__ = [
    "AlgoType",
    "ByteOrder",
    "CertAction",
    "COMM_HEADER",
    "CommAction",
    "CounterAction",
    "CustomCbType",
    "DEFAULT_WIRE_VERSION",
    "Group",
    "Header",
    "KeyAction",
    "KeyIdType",
    "Message",
    "MessageSpec",
    "NvmAction",
    "NVM_METADATA",
    "NvmFlags",
    "SheAction",
    "SizeCheck",
    "UnknownReply",
    "UnknownWireVersionError",
    "WIRE_VERSIONS",
    "WcError",
    "WhError",
    "WireError",
    "WireMagicError",
    "WireSizeError",
    "WireValueError",
    "WireVersion",
    "byte_order_from_magic",
    "decode_header",
    "decode_packet",
    "encode_packet",
    "get_wire",
    "kind_action",
    "kind_group",
    "make_kind",
    "next_seq",
]
