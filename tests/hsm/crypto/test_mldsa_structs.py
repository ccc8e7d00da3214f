"""The ML-DSA struct declarations against the compiler-printed v1.4.0 layout.

Lines copied from ``layout/struct-offsets-v1.4.0.txt`` (spec folder; gcc, x86-64), line numbers
given, so the check runs without the spec folder.
"""

from __future__ import annotations

import re

import pytest

from firmware.hsm.crypto import structs_pqc
from firmware.wire import ByteOrder

LAYOUT = """
whMessageCrypto_MlDsaKeyGenRequest [44]: sz@0/4 level@4/4 keyId@8/4 flags@12/4 access@16/4 label@20/24
whMessageCrypto_MlDsaKeyGenResponse [8]: keyId@0/4 len@4/4
whMessageCrypto_MlDsaSignRequest [20]: options@0/4 level@4/4 keyId@8/4 sz@12/4
whMessageCrypto_MlDsaSignResponse [8]: sz@0/4
whMessageCrypto_MlDsaVerifyRequest [24]: options@0/4 level@4/4 keyId@8/4 sigSz@12/4 hashSz@16/4
whMessageCrypto_MlDsaVerifyResponse [8]: res@0/4
whMessageCrypto_DmaBuffer [16]: addr@0/8 sz@8/8
whMessageCrypto_DmaAddrStatus [16]: badAddr@0/16
whMessageCrypto_MlDsaKeyGenDmaRequest [64]: key@0/16 level@16/4 flags@20/4 keyId@24/4 access@28/4 labelSize@32/4 label@36/24
whMessageCrypto_MlDsaKeyGenDmaResponse [24]: dmaAddrStatus@0/16 keyId@16/4 keySize@20/4
whMessageCrypto_MlDsaSignDmaRequest [48]: msg@0/16 sig@16/16 options@32/4 level@36/4 keyId@40/4
whMessageCrypto_MlDsaSignDmaResponse [24]: dmaAddrStatus@0/16 sigLen@16/4
whMessageCrypto_MlDsaVerifyDmaRequest [48]: sig@0/16 msg@16/16 options@32/4 level@36/4 keyId@40/4
whMessageCrypto_MlDsaVerifyDmaResponse [24]: dmaAddrStatus@0/16 verifyResult@16/4
"""  # noqa: E501 - lines 76-83 and 90-95 of the layout file, verbatim


def _layout() -> dict[str, tuple[int, dict[str, tuple[int, int]]]]:
    out = {}
    for line in LAYOUT.strip().splitlines():
        m = re.match(r"^(\w+) \[(\d+)\]:(.*)$", line)
        assert m
        fields = {f: (int(o), int(s)) for f, o, s in re.findall(r"(\w+)@(\d+)/(\d+)", m.group(3))}
        out[m.group(1)] = (int(m.group(2)), fields)
    return out


@pytest.mark.parametrize("msg", structs_pqc.ALL, ids=lambda m: m.c_name)
def test_struct_matches_layout(msg) -> None:
    size, fields = _layout()[msg.c_name]
    assert msg.size == size
    assert msg.offsets == fields


def test_every_layout_struct_is_declared() -> None:
    assert sorted(m.c_name for m in structs_pqc.ALL) == sorted(_layout())


def test_keygen_response_round_trip_carries_the_der() -> None:
    raw = structs_pqc.MLDSA_KEYGEN_RESPONSE.pack(ByteOrder.LITTLE, keyId=0x100, der=b"\x30\x03abc")
    assert raw == bytes.fromhex("00010000 05000000 3003616263")
    rec = structs_pqc.MLDSA_KEYGEN_RESPONSE.unpack(ByteOrder.BIG, bytes.fromhex("00000100 00000002 3000"))
    assert (rec.keyId, rec.len, rec.der) == (0x100, 2, b"\x30\x00")
