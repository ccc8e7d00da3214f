"""COUNTER group (0x0800) structs: ``wolfhsm/wh_message_counter.h`` (core spec §7.2)."""

from __future__ import annotations

from ..schema import U16, U32, Field, Message, Pad
from .common import rc_field


def _id_request(name: str, c_name: str) -> Message:
    return Message(name, [Field("counterId", U16), Pad(6)], c_name=c_name)


def _value_response(name: str, c_name: str) -> Message:
    return Message(name, [rc_field(), Field("counter", U32)], c_name=c_name)


COUNTER_INIT_REQUEST = Message(
    "CounterInitRequest",
    [
        Field("counter", U32, doc="initial value (INIT with 0 is the client's reset)"),
        Field("counterId", U16),
        Pad(2),
    ],
    c_name="whMessageCounter_InitRequest",
)
COUNTER_INIT_RESPONSE = _value_response("CounterInitResponse", "whMessageCounter_InitResponse")

COUNTER_INCREMENT_REQUEST = _id_request("CounterIncrementRequest", "whMessageCounter_IncrementRequest")
COUNTER_INCREMENT_RESPONSE = _value_response("CounterIncrementResponse", "whMessageCounter_IncrementResponse")

COUNTER_READ_REQUEST = _id_request("CounterReadRequest", "whMessageCounter_ReadRequest")
COUNTER_READ_RESPONSE = _value_response("CounterReadResponse", "whMessageCounter_ReadResponse")

COUNTER_DESTROY_REQUEST = _id_request("CounterDestroyRequest", "whMessageCounter_DestroyRequest")
COUNTER_DESTROY_RESPONSE = Message(
    "CounterDestroyResponse",
    [rc_field(), Pad(4)],
    c_name="whMessageCounter_DestroyResponse",
)
