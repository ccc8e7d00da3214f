"""The PK algorithm structs (firmware/hsm/crypto/structs_pk.py) against the v1.4.0 layout.

SIZEOF copies gcc's sizeof of every v1.4.0 PK struct from ``layout/struct-offsets-v1.4.0.txt``
(each with its line), so the sizes are checked even without the spec folder; when the file is
there, every named field's offset and size is compared too. Then a few hand-written encodings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from firmware.hsm.crypto import structs_pk as s
from firmware.wire import ByteOrder

# c_name: (sizeof, line in layout/struct-offsets-v1.4.0.txt)
SIZEOF: dict[str, tuple[int, int]] = {
    "whMessageCrypto_RsaKeyGenRequest": (40, 40),
    "whMessageCrypto_RsaKeyGenResponse": (8, 41),
    "whMessageCrypto_RsaRequest": (20, 42),
    "whMessageCrypto_RsaResponse": (4, 43),
    "whMessageCrypto_RsaGetSizeRequest": (8, 44),
    "whMessageCrypto_RsaGetSizeResponse": (4, 45),
    "whMessageCrypto_EccKeyGenRequest": (44, 50),
    "whMessageCrypto_EccKeyGenResponse": (8, 51),
    "whMessageCrypto_EcdhRequest": (12, 52),
    "whMessageCrypto_EcdhResponse": (4, 53),
    "whMessageCrypto_EccSignRequest": (12, 54),
    "whMessageCrypto_EccSignResponse": (4, 55),
    "whMessageCrypto_EccVerifyRequest": (16, 56),
    "whMessageCrypto_EccVerifyResponse": (8, 57),
    "whMessageCrypto_EccCheckRequest": (8, 58),
    "whMessageCrypto_EccCheckResponse": (4, 59),
    "whMessageCrypto_Curve25519KeyGenRequest": (36, 60),
    "whMessageCrypto_Curve25519KeyGenResponse": (8, 61),
    "whMessageCrypto_Curve25519Request": (16, 62),
    "whMessageCrypto_Curve25519Response": (8, 63),
    "whMessageCrypto_Ed25519KeyGenRequest": (36, 64),
    "whMessageCrypto_Ed25519KeyGenResponse": (8, 65),
    "whMessageCrypto_Ed25519SignRequest": (20, 66),
    "whMessageCrypto_Ed25519SignResponse": (4, 67),
    "whMessageCrypto_Ed25519VerifyRequest": (24, 68),
    "whMessageCrypto_Ed25519VerifyResponse": (4, 69),
}
DECLARED = {m.c_name: m for m in s.ALL}
LE, BE = ByteOrder.LITTLE, ByteOrder.BIG


def _layout_file() -> Path | None:
    spec_dir = os.environ.get("HSMEMU_SPEC_DIR")
    candidates = [Path(spec_dir)] if spec_dir else []
    candidates.append(Path(__file__).resolve().parents[4] / "shared" / "spec")
    for base in candidates:
        path = base / "layout" / "struct-offsets-v1.4.0.txt"
        if path.is_file():
            return path
    return None


def test_one_declaration_per_struct() -> None:
    assert sorted(DECLARED) == sorted(SIZEOF)
    assert len(DECLARED) == len(s.ALL)


@pytest.mark.parametrize("c_name", sorted(SIZEOF))
def test_sizeof(c_name: str) -> None:
    assert DECLARED[c_name].size == SIZEOF[c_name][0]


def test_field_offsets_match_layout_file() -> None:
    path = _layout_file()
    if path is None:
        pytest.skip("spec folder not available (set HSMEMU_SPEC_DIR)")
    line_re = re.compile(r"^(\w+) \[(\d+)\]:(.*)$")
    field_re = re.compile(r"(\w+)@(\d+)/(\d+)")
    layout = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        m = line_re.match(line)
        if m:
            fields = {f: (int(o), int(n)) for f, o, n in field_re.findall(m.group(3))}
            layout[m.group(1)] = (int(m.group(2)), fields, lineno)
    for c_name, msg in DECLARED.items():
        size, fields, lineno = layout[c_name]
        assert (size, lineno) == SIZEOF[c_name], c_name
        assert msg.offsets == fields, c_name  # the dump lists named members only, like Message.offsets


def test_x25519_response_has_four_pad_bytes() -> None:
    # whMessageCrypto_Curve25519Response [8]: sz@0/4 + WH_PAD[4], then the secret
    secret = bytes(range(32))
    assert s.CURVE25519_RESPONSE.pack(LE, secret=secret) == bytes.fromhex("20000000 00000000") + secret
    assert s.CURVE25519_RESPONSE.pack(BE, secret=secret) == bytes.fromhex("00000020 00000000") + secret


def test_keygen_response_length_follows_der() -> None:
    der = b"\x30\x03\x02\x01\x00"
    assert s.ECC_KEYGEN_RESPONSE.pack(LE, keyId=0x0100, der=der) == bytes.fromhex("00010000 05000000") + der
    # cache path at v1.4.0: len 0 and no body
    assert s.RSA_KEYGEN_RESPONSE.pack(LE, keyId=0xFF, len=0) == bytes.fromhex("ff000000 00000000")


def test_requests_decode_from_layout_offsets() -> None:
    # Ed25519 verify [24]: options@0 keyId@4 sigSz@8 msgSz@12 type@16 ctxSz@20, then sig|msg|ctx
    raw = bytes.fromhex("01000000 05010000 40000000 03000000 ff000000 00000000") + b"S" * 64 + b"abc"
    req = s.ED25519_VERIFY_REQUEST.unpack(LE, raw)
    assert (req.options, req.keyId, req.sigSz, req.msgSz, req.type, req.ctxSz) == (1, 0x105, 64, 3, 255, 0)
    assert s.split(req.data, req.sigSz, req.msgSz, req.ctxSz) == [b"S" * 64, b"abc", b""]
    # ECC keygen [44] decodes leniently (v1.4.0 checks no size): missing bytes are zero
    req = s.ECC_KEYGEN_REQUEST.unpack_lenient(LE, bytes.fromhex("20000000 07000000"))
    assert (req.sz, req.curveId, req.keyId, req.flags, req.label) == (32, 7, 0, 0, bytes(24))
