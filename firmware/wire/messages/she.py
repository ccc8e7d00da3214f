"""SHE group (0x0700) structs: ``wolfhsm/wh_message_she.h`` (core spec §6.5, v1.4.0 diff §9).

Every response starts with ``i32 rc``. FINISH, GET_STATUS, EXPORT_RAM_KEY, INIT_RND and RND have
empty requests.
"""

from __future__ import annotations

from ..schema import I8, I32, U8, U32, Bytes, Field, Message, Pad, Rest
from .common import rc_field

SHE_UID_SZ = 15
SHE_KEY_SZ = 16
SHE_M1_SZ = 16
SHE_M2_SZ = 32
SHE_M3_SZ = 16
SHE_M4_SZ = 32
SHE_M5_SZ = 16


def _rc_status(name: str, c_name: str) -> Message:
    return Message(name, [rc_field(), Field("status", I32, doc="ignored by the C client")], c_name=c_name)


def _ecb_request(name: str, c_name: str) -> Message:
    return Message(
        name,
        [Field("sz", U32), Field("keyId", U8, doc="SHE slot"), Pad(3)],
        c_name=c_name,
        tail=[Rest("data", length_field="sz")],
    )


def _cbc_request(name: str, c_name: str) -> Message:
    return Message(
        name,
        [Field("sz", U32), Field("keyId", U8, doc="SHE slot"), Pad(3), Bytes("iv", SHE_KEY_SZ)],
        c_name=c_name,
        tail=[Rest("data", length_field="sz")],
    )


def _cipher_response(name: str, c_name: str) -> Message:
    return Message(
        name,
        [rc_field(), Field("sz", U32, doc="request sz rounded down to 16; 0 on error")],
        c_name=c_name,
        tail=[Rest("data", length_field="sz")],
    )


SHE_SET_UID_REQUEST = Message(
    "SheSetUidRequest", [Bytes("uid", SHE_UID_SZ), Pad(1)], c_name="whMessageShe_SetUidRequest"
)
SHE_SET_UID_RESPONSE = Message(
    "SheSetUidResponse",
    [rc_field(), Pad(4)],
    c_name="whMessageShe_SetUidResponse",
    doc="v1.4.0 sends 16 bytes: rc then request bytes 4..15 (the handler never sets a length).",
)

SHE_SECURE_BOOT_INIT_REQUEST = Message(
    "SheSecureBootInitRequest",
    [Field("sz", U32, doc="image size; hashed as 4 native (LE) bytes"), Pad(4)],
    c_name="whMessageShe_SecureBootInitRequest",
)
SHE_SECURE_BOOT_INIT_RESPONSE = _rc_status("SheSecureBootInitResponse", "whMessageShe_SecureBootInitResponse")

SHE_SECURE_BOOT_UPDATE_REQUEST = Message(
    "SheSecureBootUpdateRequest",
    [Field("sz", U32), Pad(4)],
    c_name="whMessageShe_SecureBootUpdateRequest",
    tail=[Rest("data", length_field="sz")],
)
SHE_SECURE_BOOT_UPDATE_RESPONSE = _rc_status(
    "SheSecureBootUpdateResponse", "whMessageShe_SecureBootUpdateResponse"
)
SHE_SECURE_BOOT_FINISH_RESPONSE = _rc_status(
    "SheSecureBootFinishResponse", "whMessageShe_SecureBootFinishResponse"
)

SHE_GET_STATUS_RESPONSE = Message(
    "SheGetStatusResponse",
    [rc_field(), Field("sreg", U8), Pad(7)],
    c_name="whMessageShe_GetStatusResponse",
)

SHE_LOAD_KEY_REQUEST = Message(
    "SheLoadKeyRequest",
    [Bytes("messageOne", SHE_M1_SZ), Bytes("messageTwo", SHE_M2_SZ), Bytes("messageThree", SHE_M3_SZ)],
    c_name="whMessageShe_LoadKeyRequest",
)
SHE_LOAD_KEY_RESPONSE = Message(
    "SheLoadKeyResponse",
    [rc_field(), Bytes("messageFour", SHE_M4_SZ), Bytes("messageFive", SHE_M5_SZ)],
    c_name="whMessageShe_LoadKeyResponse",
)

SHE_LOAD_PLAIN_KEY_REQUEST = Message(
    "SheLoadPlainKeyRequest", [Bytes("key", SHE_KEY_SZ)], c_name="whMessageShe_LoadPlainKeyRequest"
)
SHE_LOAD_PLAIN_KEY_RESPONSE = Message(
    "SheLoadPlainKeyResponse", [rc_field()], c_name="whMessageShe_LoadPlainKeyResponse"
)

SHE_EXPORT_RAM_KEY_RESPONSE = Message(
    "SheExportRamKeyResponse",
    [
        rc_field(),
        Bytes("messageOne", SHE_M1_SZ),
        Bytes("messageTwo", SHE_M2_SZ),
        Bytes("messageThree", SHE_M3_SZ),
        Bytes("messageFour", SHE_M4_SZ),
        Bytes("messageFive", SHE_M5_SZ),
    ],
    c_name="whMessageShe_ExportRamKeyResponse",
)

SHE_INIT_RND_RESPONSE = _rc_status("SheInitRngResponse", "whMessageShe_InitRngResponse")

SHE_RND_RESPONSE = Message(
    "SheRndResponse", [rc_field(), Bytes("rnd", SHE_KEY_SZ)], c_name="whMessageShe_RndResponse"
)

SHE_EXTEND_SEED_REQUEST = Message(
    "SheExtendSeedRequest", [Bytes("entropy", SHE_KEY_SZ)], c_name="whMessageShe_ExtendSeedRequest"
)
SHE_EXTEND_SEED_RESPONSE = _rc_status("SheExtendSeedResponse", "whMessageShe_ExtendSeedResponse")

SHE_ENC_ECB_REQUEST = _ecb_request("SheEncEcbRequest", "whMessageShe_EncEcbRequest")
SHE_ENC_ECB_RESPONSE = _cipher_response("SheEncEcbResponse", "whMessageShe_EncEcbResponse")
SHE_ENC_CBC_REQUEST = _cbc_request("SheEncCbcRequest", "whMessageShe_EncCbcRequest")
SHE_ENC_CBC_RESPONSE = _cipher_response("SheEncCbcResponse", "whMessageShe_EncCbcResponse")
SHE_DEC_ECB_REQUEST = _ecb_request("SheDecEcbRequest", "whMessageShe_DecEcbRequest")
SHE_DEC_ECB_RESPONSE = _cipher_response("SheDecEcbResponse", "whMessageShe_DecEcbResponse")
SHE_DEC_CBC_REQUEST = _cbc_request("SheDecCbcRequest", "whMessageShe_DecCbcRequest")
SHE_DEC_CBC_RESPONSE = _cipher_response("SheDecCbcResponse", "whMessageShe_DecCbcResponse")

SHE_GEN_MAC_REQUEST = Message(
    "SheGenMacRequest",
    [Field("keyId", U32, doc="SHE slot in the low byte"), Field("sz", U32)],
    c_name="whMessageShe_GenMacRequest",
    tail=[Rest("data", length_field="sz")],
)
SHE_GEN_MAC_RESPONSE = Message(
    "SheGenMacResponse", [rc_field(), Bytes("mac", SHE_KEY_SZ)], c_name="whMessageShe_GenMacResponse"
)

SHE_VERIFY_MAC_REQUEST = Message(
    "SheVerifyMacRequest",
    [
        Field("keyId", U32),
        Field("messageLen", U32),
        Field("macLen", U32, doc="the C client sends 16"),
        Pad(4),
    ],
    c_name="whMessageShe_VerifyMacRequest",
    tail=[Rest("data", doc="message[messageLen] || mac[macLen]")],
)
SHE_VERIFY_MAC_RESPONSE = Message(
    "SheVerifyMacResponse",
    [rc_field(), Field("status", I8, doc="0 match, 1 mismatch (rc stays 0)"), Pad(7)],
    c_name="whMessageShe_VerifyMacResponse",
)
