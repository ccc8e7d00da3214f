"""NVM group (0x0200) structs: ``wolfhsm/wh_message_nvm.h`` (core spec §4.3, v1.4.0 diff §5)."""

from __future__ import annotations

from ..constants import NVM_LABEL_LEN, NVM_MAX_DESTROY_OBJECTS_COUNT
from ..schema import U16, U32, U64, Array, Bytes, Field, Message, Pad, Rest
from .common import rc_field

NVM_SIMPLE_RESPONSE = Message(
    "NvmSimpleResponse",
    [rc_field()],
    c_name="whMessageNvm_SimpleResponse",
    doc="Response of CLEANUP, ADDOBJECT, DESTROYOBJECTS, ADDOBJECTDMA and READDMA.",
)

NVM_INIT_REQUEST = Message(
    "NvmInitRequest",
    [Field("clientnvm_id", U32)],
    c_name="whMessageNvm_InitRequest",
)

NVM_INIT_RESPONSE = Message(
    "NvmInitResponse",
    [rc_field(), Field("servernvm_id", U32), Field("clientnvm_id", U32, doc="echo of the request")],
    c_name="whMessageNvm_InitResponse",
)

NVM_GETAVAILABLE_RESPONSE = Message(
    "NvmGetAvailableResponse",
    [
        rc_field(),
        Field("avail_size", U32),
        Field("reclaim_size", U32),
        Field("avail_objects", U16),
        Field("reclaim_objects", U16),
    ],
    c_name="whMessageNvm_GetAvailableResponse",
)

NVM_ADDOBJECT_REQUEST = Message(
    "NvmAddObjectRequest",
    [
        Field("id", U16),
        Field("access", U16),
        Field("flags", U16),
        Field("len", U16, doc="data length; a payload != 32 + len is answered rc 0, nothing stored"),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whMessageNvm_AddObjectRequest",
    tail=[Rest("data", length_field="len", doc="object data, up to COMM_DATA_LEN - 32 bytes")],
)

NVM_LIST_REQUEST = Message(
    "NvmListRequest",
    [
        Field("access", U16, doc="ignored by the server"),
        Field("flags", U16, doc="ignored by the server"),
        Field("startId", U16, doc="0 = from the first object"),
    ],
    c_name="whMessageNvm_ListRequest",
)

NVM_LIST_RESPONSE = Message(
    "NvmListResponse",
    [rc_field(), Field("count", U16), Field("id", U16)],
    c_name="whMessageNvm_ListResponse",
)

NVM_GETMETADATA_REQUEST = Message(
    "NvmGetMetadataRequest",
    [Field("id", U16)],
    c_name="whMessageNvm_GetMetadataRequest",
)

NVM_GETMETADATA_RESPONSE = Message(
    "NvmGetMetadataResponse",
    [
        rc_field(),
        Field("id", U16),
        Field("access", U16),
        Field("flags", U16),
        Field("len", U16),
        Bytes("label", NVM_LABEL_LEN),
    ],
    c_name="whMessageNvm_GetMetadataResponse",
    doc="On NOTFOUND every field but rc is zero.",
)

NVM_DESTROYOBJECTS_REQUEST = Message(
    "NvmDestroyObjectsRequest",
    [
        Field("list_count", U16, doc="> 19 -> ABORTED; 0 -> compaction only"),
        Array("list", U16, NVM_MAX_DESTROY_OBJECTS_COUNT, doc="only the first list_count entries matter"),
    ],
    c_name="whMessageNvm_DestroyObjectsRequest",
)

NVM_READ_REQUEST = Message(
    "NvmReadRequest",
    [Field("id", U16), Field("offset", U16), Field("data_len", U16)],
    c_name="whMessageNvm_ReadRequest",
)

NVM_READ_RESPONSE = Message(
    "NvmReadResponse",
    [rc_field()],
    c_name="whMessageNvm_ReadResponse",
    tail=[Rest("data", doc="clamped object data on success; absent on error")],
)

NVM_ADDOBJECTDMA_REQUEST = Message(
    "NvmAddObjectDmaRequest",
    [
        Field("metadata_hostaddr", U64, doc="32-byte whNvmMetadata in client memory, client order"),
        Field("data_hostaddr", U64),
        Field("data_len", U16),
        Pad(6),
    ],
    c_name="whMessageNvm_AddObjectDmaRequest",
)

NVM_READDMA_REQUEST = Message(
    "NvmReadDmaRequest",
    [
        Field("data_hostaddr", U64),
        Field("id", U16),
        Field("offset", U16),
        Field("data_len", U16),
        Pad(2),
    ],
    c_name="whMessageNvm_ReadDmaRequest",
)
