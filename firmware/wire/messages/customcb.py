"""CUSTOM group (0x0A00) structs: ``wolfhsm/wh_message_customcb.h`` (core spec §7.1).

The kind's action is the callback index. ``data`` is a 256-byte union whose live member is chosen
by ``type``: QUERY carries nothing, DMA32/DMA64 carry four translated address/size words, types
>= 8 carry opaque bytes copied verbatim.
"""

from __future__ import annotations

from ..constants import CUSTOMCB_LEN, CustomCbType
from ..schema import I32, U32, U64, Field, Message, Union

CUSTOM_CB_DMA32 = Message(
    "CustomCbDma32",
    [Field("client_addr", U32), Field("client_sz", U32), Field("server_addr", U32), Field("server_sz", U32)],
    doc="whMessageCustomCb_Data.dma32",
)

CUSTOM_CB_DMA64 = Message(
    "CustomCbDma64",
    [Field("client_addr", U64), Field("client_sz", U64), Field("server_addr", U64), Field("server_sz", U64)],
    doc="whMessageCustomCb_Data.dma64",
)

CUSTOM_CB_DATA_VARIANTS = {CustomCbType.DMA32: CUSTOM_CB_DMA32, CustomCbType.DMA64: CUSTOM_CB_DMA64}


def _data() -> Union:
    return Union("data", CUSTOMCB_LEN, selector="type", variants=CUSTOM_CB_DATA_VARIANTS)


CUSTOM_CB_REQUEST = Message(
    "CustomCbRequest",
    [
        Field("id", U32, doc="callback id; the client puts its low 8 bits in the kind action"),
        Field("type", U32, doc="CustomCbType"),
        _data(),
    ],
    c_name="whMessageCustomCb_Request",
)

CUSTOM_CB_RESPONSE = Message(
    "CustomCbResponse",
    [
        Field("id", U32, doc="echo of the request id"),
        Field("type", U32, doc="not copied from the request: 0 unless the callback sets it"),
        Field("rc", I32, doc="callback return value; invalid if err != 0"),
        Field("err", I32, doc="0, or WH_ERROR_NOHANDLER when no callback is registered"),
        _data(),
    ],
    c_name="whMessageCustomCb_Response",
)
