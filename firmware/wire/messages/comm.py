"""COMM group (0x0100) structs: ``wolfhsm/wh_message_comm.h`` (core spec §3)."""

from __future__ import annotations

from ..constants import INFO_BUILD_LEN, INFO_VERSION_LEN
from ..schema import I32, U32, Bytes, Field, Message, Pad, Rest

COMM_INIT_REQUEST = Message(
    "CommInitRequest",
    [Field("client_id", U32, doc="v1.4.0 stores it as u8; 0 is refused (empty response)")],
    c_name="whMessageCommInitRequest",
)

COMM_INIT_RESPONSE = Message(
    "CommInitResponse",
    [
        Field("client_id", U32, doc="echo of the accepted id (truncated to 8 bits at v1.4.0)"),
        Field("server_id", U32),
    ],
    c_name="whMessageCommInitResponse",
)

COMM_INFO_RESPONSE = Message(
    "CommInfoResponse",
    [
        Field("cfg_comm_data_len", U32),
        Field("cfg_nvm_object_count", U32),
        Field("cfg_server_keycache_count", U32),
        Field("cfg_server_keycache_bufsize", U32),
        Field("cfg_server_keycache_bigcount", U32),
        Field("cfg_server_keycache_bigbufsize", U32),
        Field("cfg_server_customcb_count", U32),
        Field("cfg_server_dmaaddr_count", U32),
        Field("debug_state", U32),
        Field("boot_state", U32),
        Field("lifecycle_state", U32),
        Field("nvm_state", U32),
        Bytes("version", INFO_VERSION_LEN, doc="ASCII + NUL, e.g. b'01.01.01\\0'"),
        Bytes("build", INFO_BUILD_LEN, doc="ASCII + NUL, e.g. b'12345678\\0'"),
        Pad(6),
    ],
    c_name="whMessageCommInfoResponse",
)

COMM_ECHO = Message(
    "CommEcho",
    [],
    tail=[Rest("data", doc="any bytes, 0..COMM_DATA_LEN; the response repeats them")],
)

# Declared by wolfHSM but sent by no handler (core spec §3.6).
COMM_ERROR_RESPONSE = Message(
    "CommErrorResponse",
    [Field("return_code", I32)],
    c_name="whMessageComm_ErrorResponse",
)
