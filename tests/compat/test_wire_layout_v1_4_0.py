"""Struct sizes and field offsets against the compiler-printed v1.4.0 layout.

``layout/struct-offsets-v1.4.0.txt`` (spec folder) holds gcc's sizeof/offsetof of every v1.4.0
message struct (x86-64). SIZEOF below copies the sizes, each with the line of that file it comes
from, so the check runs even where the spec folder is absent; when the file is present, every
named field's offset and size is compared as well.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from firmware.wire import get_wire
from firmware.wire.header import COMM_HEADER
from firmware.wire.schema import Message

# c_name: (sizeof, line in layout/struct-offsets-v1.4.0.txt)
SIZEOF: dict[str, tuple[int, int]] = {
    "whCommHeader": (8, 1),
    "whNvmMetadata": (32, 2),
    "whMessageCert_SimpleResponse": (8, 3),
    "whMessageCert_AddTrustedRequest": (36, 4),
    "whMessageCert_EraseTrustedRequest": (8, 5),
    "whMessageCert_ReadTrustedRequest": (8, 6),
    "whMessageCert_ReadTrustedResponse": (8, 7),
    "whMessageCert_VerifyRequest": (12, 8),
    "whMessageCert_VerifyResponse": (8, 9),
    "whMessageCert_AddTrustedDmaRequest": (48, 10),
    "whMessageCert_ReadTrustedDmaRequest": (16, 11),
    "whMessageCert_VerifyDmaRequest": (24, 12),
    "whMessageCert_VerifyDmaResponse": (8, 13),
    "whMessageCert_VerifyAcertRequest": (8, 14),
    "whMessageComm_ErrorResponse": (4, 15),
    "whMessageCommInitRequest": (4, 16),
    "whMessageCommInitResponse": (8, 17),
    "whMessageCommInfoResponse": (72, 18),
    "whMessageCounter_InitRequest": (8, 19),
    "whMessageCounter_InitResponse": (8, 20),
    "whMessageCounter_IncrementRequest": (8, 21),
    "whMessageCounter_IncrementResponse": (8, 22),
    "whMessageCounter_ReadRequest": (8, 23),
    "whMessageCounter_ReadResponse": (8, 24),
    "whMessageCounter_DestroyRequest": (8, 25),
    "whMessageCounter_DestroyResponse": (8, 26),
    "whMessageCrypto_GenericRequestHeader": (8, 27),
    "whMessageCrypto_GenericResponseHeader": (8, 28),
    "whMessageCustomCb_Request": (264, 103),
    "whMessageCustomCb_Response": (272, 104),
    "whMessageKeystore_CacheRequest": (40, 105),
    "whMessageKeystore_CacheResponse": (12, 106),
    "whMessageKeystore_EvictRequest": (8, 107),
    "whMessageKeystore_EvictResponse": (12, 108),
    "whMessageKeystore_CommitRequest": (8, 109),
    "whMessageKeystore_CommitResponse": (12, 110),
    "whMessageKeystore_ExportRequest": (8, 111),
    "whMessageKeystore_ExportResponse": (36, 112),
    "whMessageKeystore_EraseRequest": (8, 113),
    "whMessageKeystore_EraseResponse": (12, 114),
    "whMessageKeystore_RevokeRequest": (8, 115),
    "whMessageKeystore_RevokeResponse": (8, 116),
    "whMessageKeystore_DmaBuffer": (16, 117),
    "whMessageKeystore_DmaAddrStatus": (16, 118),
    "whMessageKeystore_CacheDmaRequest": (56, 119),
    "whMessageKeystore_CacheDmaResponse": (24, 120),
    "whMessageKeystore_ExportDmaRequest": (24, 121),
    "whMessageKeystore_ExportDmaResponse": (48, 122),
    "whMessageKeystore_KeyWrapRequest": (6, 123),
    "whMessageKeystore_KeyWrapResponse": (8, 124),
    "whMessageKeystore_KeyUnwrapAndExportRequest": (8, 125),
    "whMessageKeystore_KeyUnwrapAndExportResponse": (8, 126),
    "whMessageKeystore_KeyUnwrapAndCacheRequest": (8, 127),
    "whMessageKeystore_KeyUnwrapAndCacheResponse": (8, 128),
    "whMessageKeystore_DataWrapRequest": (8, 129),
    "whMessageKeystore_DataWrapResponse": (12, 130),
    "whMessageKeystore_DataUnwrapRequest": (8, 131),
    "whMessageKeystore_DataUnwrapResponse": (12, 132),
    "whMessageNvm_SimpleResponse": (4, 133),
    "whMessageNvm_InitRequest": (4, 134),
    "whMessageNvm_InitResponse": (12, 135),
    "whMessageNvm_GetAvailableResponse": (16, 136),
    "whMessageNvm_AddObjectRequest": (32, 137),
    "whMessageNvm_ListRequest": (6, 138),
    "whMessageNvm_ListResponse": (8, 139),
    "whMessageNvm_GetMetadataRequest": (2, 140),
    "whMessageNvm_GetMetadataResponse": (36, 141),
    "whMessageNvm_DestroyObjectsRequest": (40, 142),
    "whMessageNvm_ReadRequest": (6, 143),
    "whMessageNvm_ReadResponse": (4, 144),
    "whMessageNvm_AddObjectDmaRequest": (24, 145),
    "whMessageNvm_ReadDmaRequest": (16, 146),
    "whMessageShe_SetUidRequest": (16, 147),
    "whMessageShe_SetUidResponse": (8, 148),
    "whMessageShe_SecureBootInitRequest": (8, 149),
    "whMessageShe_SecureBootInitResponse": (8, 150),
    "whMessageShe_SecureBootUpdateRequest": (8, 151),
    "whMessageShe_SecureBootUpdateResponse": (8, 152),
    "whMessageShe_SecureBootFinishResponse": (8, 153),
    "whMessageShe_GetStatusResponse": (12, 154),
    "whMessageShe_LoadKeyRequest": (64, 155),
    "whMessageShe_LoadKeyResponse": (52, 156),
    "whMessageShe_LoadPlainKeyRequest": (16, 157),
    "whMessageShe_LoadPlainKeyResponse": (4, 158),
    "whMessageShe_ExportRamKeyResponse": (116, 159),
    "whMessageShe_InitRngResponse": (8, 160),
    "whMessageShe_RndResponse": (20, 161),
    "whMessageShe_ExtendSeedRequest": (16, 162),
    "whMessageShe_ExtendSeedResponse": (8, 163),
    "whMessageShe_EncEcbRequest": (8, 164),
    "whMessageShe_EncEcbResponse": (8, 165),
    "whMessageShe_EncCbcRequest": (24, 166),
    "whMessageShe_EncCbcResponse": (8, 167),
    "whMessageShe_DecEcbRequest": (8, 168),
    "whMessageShe_DecEcbResponse": (8, 169),
    "whMessageShe_DecCbcRequest": (24, 170),
    "whMessageShe_DecCbcResponse": (8, 171),
    "whMessageShe_GenMacRequest": (8, 172),
    "whMessageShe_GenMacResponse": (20, 173),
    "whMessageShe_VerifyMacRequest": (16, 174),
    "whMessageShe_VerifyMacResponse": (12, 175),
}


def _declared() -> dict[str, Message]:
    found = {COMM_HEADER.c_name: COMM_HEADER}
    for msg in get_wire("v1.4.0").messages():
        if msg.c_name is not None:
            found[msg.c_name] = msg
    return found  # type: ignore[return-value]


def _layout_file() -> Path | None:
    spec_dir = os.environ.get("HSMEMU_SPEC_DIR")
    candidates = [Path(spec_dir)] if spec_dir else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "spec")
    for base in candidates:
        path = base / "layout" / "struct-offsets-v1.4.0.txt"
        if path.is_file():
            return path
    return None


@pytest.mark.parametrize("c_name", sorted(SIZEOF))
def test_sizeof_matches_layout(c_name: str) -> None:
    msg = _declared()[c_name]
    assert msg.size == SIZEOF[c_name][0]


def test_every_declared_struct_is_in_the_size_table() -> None:
    assert sorted(_declared()) == sorted(SIZEOF)


def test_field_offsets_match_layout_file() -> None:
    path = _layout_file()
    if path is None:
        pytest.skip("spec folder not available (set HSMEMU_SPEC_DIR)")
    line_re = re.compile(r"^(\w+) \[(\d+)\]:(.*)$")
    field_re = re.compile(r"(\w+)@(\d+)/(\d+)")
    layout: dict[str, tuple[int, dict[str, tuple[int, int]], int]] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        m = line_re.match(line)
        if m:
            fields = {f: (int(o), int(s)) for f, o, s in field_re.findall(m.group(3))}
            layout[m.group(1)] = (int(m.group(2)), fields, lineno)
    for c_name, msg in _declared().items():
        size, fields, lineno = layout[c_name]
        assert (c_name, SIZEOF[c_name]) == (c_name, (size, lineno))
        assert msg.size == size, c_name
        # The dump lists named members only (no WH_PAD), as does Message.offsets.
        assert msg.offsets == fields, c_name
