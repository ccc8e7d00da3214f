"""The symmetric-crypto struct declarations (``firmware/hsm/crypto/structs_sym.py``) against the
compiler-printed v1.4.0 layout, and the flat SHA-2 codecs derived from them.

Lines copied verbatim from ``layout/struct-offsets-v1.4.0.txt`` (spec folder; gcc, x86-64), lines
30-39, 46-49, 70-75, 82-83, 86-87, 100-101, so the check runs without the spec folder.
"""

from __future__ import annotations

import os
import re

import pytest

from firmware.hsm.crypto import structs_sym
from firmware.wire import ByteOrder

LAYOUT = """
whMessageCrypto_RngRequest [4]: sz@0/4
whMessageCrypto_RngResponse [4]: sz@0/4
whMessageCrypto_AesCtrRequest [24]: enc@0/4 keyLen@4/4 sz@8/4 keyId@12/2 left@16/4
whMessageCrypto_AesCtrResponse [24]: sz@0/4 left@4/4
whMessageCrypto_AesEcbRequest [16]: enc@0/4 keyLen@4/4 sz@8/4 keyId@12/2
whMessageCrypto_AesEcbResponse [16]: sz@0/4
whMessageCrypto_AesCbcRequest [16]: enc@0/4 keyLen@4/4 sz@8/4 keyId@12/2
whMessageCrypto_AesCbcResponse [16]: sz@0/4
whMessageCrypto_AesGcmRequest [28]: enc@0/4 keyLen@4/4 sz@8/4 ivSz@12/4 authInSz@16/4 authTagSz@20/4 keyId@24/2
whMessageCrypto_AesGcmResponse [28]: sz@0/4 authTagSz@4/4
whMessageCrypto_HkdfRequest [56]: flags@0/4 keyIdIn@4/4 keyIdOut@8/4 hashType@12/4 inKeySz@16/4 saltSz@20/4 infoSz@24/4 outSz@28/4 label@32/24
whMessageCrypto_HkdfResponse [8]: keyIdOut@0/4 outSz@4/4
whMessageCrypto_CmacKdfRequest [56]: flags@0/4 keyIdSalt@4/4 keyIdZ@8/4 keyIdOut@12/4 saltSz@16/4 zSz@20/4 fixedInfoSz@24/4 outSz@28/4 label@32/24
whMessageCrypto_CmacKdfResponse [8]: keyIdOut@0/4 outSz@4/4
whMessageCrypto_Sha256Request [116]: resumeState@0/40 isLastBlock@40/4 lastBlockLen@44/4 inBlock@48/64
whMessageCrypto_Sha512Request [216]: resumeState@0/76 isLastBlock@76/4 lastBlockLen@80/4 inBlock@84/128
whMessageCrypto_Sha2Response [76]: hiLen@0/4 loLen@4/4 hash@8/64 hashType@72/4
whMessageCrypto_CmacAesState [40]: buffer@0/16 digest@16/16 bufferSz@32/4 totalSz@36/4
whMessageCrypto_CmacAesRequest [56]: outSz@0/4 inSz@4/4 keySz@8/4 keyId@12/2 resumeState@16/40
whMessageCrypto_CmacAesResponse [48]: resumeState@0/40 outSz@40/4 keyId@44/2
whMessageCrypto_DmaBuffer [16]: addr@0/8 sz@8/8
whMessageCrypto_DmaAddrStatus [16]: badAddr@0/16
whMessageCrypto_CmacAesDmaRequest [72]: resumeState@0/40 input@40/16 outSz@56/4 keySz@60/4 keyId@64/2
whMessageCrypto_CmacAesDmaResponse [64]: resumeState@0/40 dmaAddrStatus@40/16 outSz@56/4 keyId@60/2
whMessageCrypto_RngDmaRequest [16]: output@0/16
whMessageCrypto_RngDmaResponse [16]: dmaAddrStatus@0/16
"""  # noqa: E501 - verbatim


def _layout() -> dict[str, tuple[int, dict[str, tuple[int, int]]]]:
    out = {}
    for line in LAYOUT.strip().splitlines():
        m = re.match(r"^(\w+) \[(\d+)\]:(.*)$", line)
        assert m
        fields = {f: (int(o), int(s)) for f, o, s in re.findall(r"(\w+)@(\d+)/(\d+)", m.group(3))}
        out[m.group(1)] = (int(m.group(2)), fields)
    return out


@pytest.mark.parametrize("message", structs_sym.ALL, ids=[m.name for m in structs_sym.ALL])
def test_size_and_offsets_match_the_compiler(message) -> None:  # type: ignore[no-untyped-def]
    size, fields = _layout()[message.c_name]
    assert message.size == size
    assert message.offsets == fields


def test_every_layout_line_is_declared() -> None:
    declared = {m.c_name for m in structs_sym.ALL}
    assert set(_layout()) <= declared


def test_sha_midstate_structs() -> None:
    assert structs_sym.SHA256_STATE.size == 40 and structs_sym.SHA512_STATE.size == 76
    assert structs_sym.SHA512_STATE.offsets["hashType"] == (72, 4)


@pytest.mark.parametrize(
    "flat,message",
    [
        (structs_sym.SHA256_REQUEST_FLAT, structs_sym.SHA256_REQUEST),
        (structs_sym.SHA512_REQUEST_FLAT, structs_sym.SHA512_REQUEST),
        (structs_sym.SHA2_RESPONSE_FLAT, structs_sym.SHA2_RESPONSE),
    ],
)
@pytest.mark.parametrize("order", list(ByteOrder))
def test_flat_codecs_agree_with_the_declaration(flat, message, order) -> None:  # type: ignore[no-untyped-def]
    raw = os.urandom(message.size)
    rec = message.unpack(order, raw)
    values = flat.unpack(order, raw + b"extra")
    for name, value in zip(flat.names, values, strict=True):
        obj = rec
        for part in name.split("."):
            obj = getattr(obj, part)
        assert obj == value, name
    assert flat.pack(order, *values) == message.pack_record(order, rec)
