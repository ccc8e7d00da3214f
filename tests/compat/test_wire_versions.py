"""The wire-version switch and the v1.4.0 message table (v1.4.0 diff §3.4, core spec §2.3-§2.5)."""

from __future__ import annotations

import pytest

from firmware.wire import (
    DEFAULT_WIRE_VERSION,
    AlgoType,
    CertAction,
    CommAction,
    CounterAction,
    Group,
    KeyAction,
    NvmAction,
    SheAction,
    SizeCheck,
    UnknownReply,
    UnknownWireVersionError,
    WcError,
    WhError,
    WireError,
    decode_packet,
    encode_packet,
    get_wire,
    make_kind,
)
from firmware.wire.schema import ByteOrder

WIRE = get_wire("v1.4.0")
LE = ByteOrder.LITTLE


def raw(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


def test_default_wire_is_v1_4_0() -> None:
    assert DEFAULT_WIRE_VERSION == "v1.4.0"
    assert get_wire() is WIRE
    assert WIRE.wolfhsm_commit.startswith("50e408e")


def test_unknown_wire_version() -> None:
    with pytest.raises(UnknownWireVersionError) as err:
        get_wire("v9.9.9")
    assert isinstance(err.value, WireError) and "v1.4.0" in str(err.value)


HEAD_ONLY_CERT = {
    CertAction.VERIFY_MULTI_ROOT,
    CertAction.VERIFY_CACHE_CLEAR,
    CertAction.VERIFY_CACHE_SET_ENABLED,
    CertAction.VERIFY_MULTI_ROOT_DMA,
}
V1_4_0_KINDS = (
    [make_kind(Group.COMM, a) for a in CommAction if a is not CommAction.NONE]
    + [make_kind(Group.NVM, a) for a in NvmAction]
    + [make_kind(Group.KEY, a) for a in KeyAction if a <= KeyAction.DATAUNWRAP]
    + [make_kind(Group.COUNTER, a) for a in CounterAction]
    + [make_kind(Group.SHE, a) for a in SheAction]
    + [make_kind(Group.CERT, a) for a in CertAction if a not in HEAD_ONLY_CERT]
)


@pytest.mark.parametrize("kind", V1_4_0_KINDS, ids=lambda k: f"{k:#06x}")
def test_every_v1_4_0_action_has_a_spec(kind: int) -> None:
    spec = WIRE.lookup(kind)
    assert spec is not None and spec.kind == kind
    assert WIRE.message(kind & 0xFF00, kind & 0xFF) is spec


@pytest.mark.parametrize(
    "kind,reply",
    [
        (make_kind(Group.KEY, KeyAction.EXPORT_PUBLIC), UnknownReply.ECHO),  # HEAD-only KEY actions
        (make_kind(Group.KEY, KeyAction.CACHE_RANDOM), UnknownReply.ECHO),
        (make_kind(Group.KEY, KeyAction.KEYWRAPEXPORT), UnknownReply.ECHO),
        (make_kind(Group.SHE, 0x11), UnknownReply.ECHO),
        (make_kind(Group.COUNTER, 4), UnknownReply.ECHO),
        (make_kind(Group.COMM, CommAction.NONE), UnknownReply.EMPTY),
        (make_kind(Group.COMM, 0x06), UnknownReply.EMPTY),
        (make_kind(Group.NVM, 0x09), UnknownReply.EMPTY),
        (make_kind(Group.CERT, CertAction.VERIFY_MULTI_ROOT), UnknownReply.EMPTY),
        (make_kind(Group.CERT, CertAction.VERIFY_MULTI_ROOT_DMA), UnknownReply.EMPTY),
        (make_kind(Group.AUTH, 0), UnknownReply.EMPTY),  # no AUTH group at v1.4.0
        (make_kind(Group.IMAGE, 1), UnknownReply.EMPTY),
        (make_kind(Group.PKCS11, 1), UnknownReply.EMPTY),
        (make_kind(Group.RESERVED, 1), UnknownReply.EMPTY),
        (0x0E00, UnknownReply.EMPTY),
    ],
)
def test_unknown_kinds_and_their_reply(kind: int, reply: UnknownReply) -> None:
    assert WIRE.lookup(kind) is None
    assert not WIRE.is_action_known(kind)
    with pytest.raises(KeyError):
        WIRE.message(kind & 0xFF00, kind & 0xFF)
    assert WIRE.unknown_reply(kind & 0xFF00) is reply


@pytest.mark.parametrize("action", [0, 5, 255])
def test_custom_group_covers_every_callback_index(action: int) -> None:
    spec = WIRE.lookup(make_kind(Group.CUSTOM, action))
    assert spec is not None and spec.name == "CUSTOM_CB" and spec.response_check is SizeCheck.EXACT
    with pytest.raises(ValueError):
        _ = spec.kind


@pytest.mark.parametrize("group", [Group.CRYPTO, Group.CRYPTO_DMA])
@pytest.mark.parametrize("action", [AlgoType.HASH, AlgoType.RNG, AlgoType.KDF, 0x55])
def test_crypto_groups_use_the_8_byte_envelope(group: Group, action: int) -> None:
    spec = WIRE.lookup(make_kind(group, action))
    assert spec is not None
    assert spec.request is WIRE.crypto_request_header and spec.response is WIRE.crypto_response_header
    assert spec.request.size == spec.response.size == 8
    # Captured RNG request (diff §10.1): 12-byte payload, algorithm struct at offset 8.
    req = spec.request.unpack(LE, raw("04000000 00000000 34000000"))
    assert (req.algoType, req.algoSubType, req.body) == (4, 0, raw("34000000"))
    assert spec.response.pack(LE, algoType=req.algoType, rc=WcError.NOT_COMPILED_IN) == raw(
        "04000000 52ffffff"
    )


def test_v1_4_0_error_codes() -> None:
    codes = WIRE.error_codes
    for absent in (WhError.TIMEOUT, WhError.REQUEST_PENDING, WhError.AUTH_NOT_ENABLED):
        assert absent not in codes
    for present in (WhError.OK, WhError.BADARGS, WhError.NOSPACE, WhError.SHE_ERC_GENERAL_ERROR):
        assert present in codes
    assert WcError.NOT_COMPILED_IN in codes


def test_reference_comm_data_lengths() -> None:
    # diff §1: example server 5000, test client 5120 (= 1280 x 4).
    assert (WIRE.reference_server_comm_data_len, WIRE.reference_client_comm_data_len) == (5000, 5120)


def test_spec_names_are_unique_and_noted() -> None:
    names = [s.name for s in WIRE.specs]
    assert len(names) == len(set(names))
    assert all(isinstance(n, str) and n for s in WIRE.specs for n in s.notes)


@pytest.mark.parametrize(
    "name,check",
    [
        ("COMM_INIT", SizeCheck.EXACT),
        ("COMM_INFO", SizeCheck.EXACT),
        ("COMM_CLOSE", SizeCheck.NONE),
        ("NVM_GETAVAILABLE", SizeCheck.EXACT),
        ("NVM_READ", SizeCheck.AT_LEAST),
        ("KEY_EXPORT", SizeCheck.NONE),
        ("KEY_KEYWRAP", SizeCheck.BOUNDED),
        ("COUNTER_READ", SizeCheck.NONE),
    ],
)
def test_client_size_checks_of_v1_4_0(name: str, check: SizeCheck) -> None:
    # diff §3.2: which response sizes a v1.4.0 client checks.
    spec = next(s for s in WIRE.specs if s.name == name)
    assert spec.response_check is check


def test_quirk_error_response_sizes() -> None:
    # core §4.4: an NVM READ error is the 4-byte rc only.
    read = WIRE.message(Group.NVM, NvmAction.READ).response
    assert read.pack(LE, rc=WhError.ACCESS) == raw("cbf7ffff")
    # core §5.5: a KEY EXPORT error keeps the 36-byte struct (len 0, label zero).
    export = WIRE.message(Group.KEY, KeyAction.EXPORT).response
    assert len(export.pack(LE, rc=WhError.NOTFOUND)) == 36
    # diff §8: an unwrap-export error is always 8 + 32 bytes.
    unwrap = WIRE.message(Group.KEY, KeyAction.KEYUNWRAPEXPORT).response
    assert len(unwrap.pack(LE, rc=WhError.BUFFER_SIZE, cipherType=3)) == 40
    # diff §10.1: a crypto error response is the 8-byte header only.
    assert len(WIRE.crypto_response_header.pack(LE, algoType=2, rc=WhError.USAGE)) == 8


def test_dma_messages_are_marked() -> None:
    dma = {s.name for s in WIRE.specs if s.build_option == "WOLFHSM_CFG_DMA"}
    assert {"NVM_ADDOBJECTDMA", "NVM_READDMA", "KEY_CACHE_DMA", "KEY_EXPORT_DMA", "CRYPTO_DMA"} <= dma


# core spec Appendix A: a captured exchange between the C client-only suite and the C example
# server (little-endian). Each request decodes through the table and each response re-encodes
# from its decoded fields byte for byte.
_LABEL = "4c6162656c3a3230" + "00" * 16
_DATA = "446174613a323020436f756e7465723a30"
CAPTURED = [
    ("01a5 0101 0100 0000 01000000", "01a5 0101 0100 0000 01000000 39000000"),
    ("01a5 0501 0200 0000 526571756573743a30", "01a5 0501 0200 0000 526571756573743a30"),
    ("01a5 0102 0c00 0000 01000000", "01a5 0102 0c00 0000 00000000 39000000 01000000"),
    ("01a5 0302 0d00 0000", "01a5 0302 0d00 0000 00000000 58f90700 00000000 1e00 0000"),
    ("01a5 0402 1100 0000 1400 ffff 0000 1100" + _LABEL + _DATA, "01a5 0402 1100 0000 00000000"),
    ("01a5 0602 1300 0000 1400", "01a5 0602 1300 0000 00000000 1400 ffff 0000 1100" + _LABEL),
    ("01a5 0802 1400 0000 1400 0000 1100", "01a5 0802 1400 0000 00000000" + _DATA),
    ("01a5 0502 2500 0000 ffff 0000 0000", "01a5 0502 2500 0000 00000000 0500 1400"),
    ("01a5 0702 2b00 0000 0100 1400" + "00" * 36, "01a5 0702 2b00 0000 00000000"),
    ("01a5 0602 2c00 0000 1400", "01a5 0602 2c00 0000 c8f7ffff" + "00" * 32),
    ("01a5 0008 3700 0000 00000000 0100 0700", "01a5 0008 3700 0000 00000000 00000000"),
    ("01a5 0108 3800 0000 0100 000000000000", "01a5 0108 3800 0000 00000000 01000000"),
    ("01a5 0802 6a01 0000 0200 0000 0800", "01a5 0802 6a01 0000 cbf7ffff"),
    ("01a5 0301 8301 0000", "01a5 0301 8301 0000"),
]


@pytest.mark.parametrize("request_hex,response_hex", CAPTURED)
def test_captured_exchange(request_hex: str, response_hex: str) -> None:
    header, payload = decode_packet(raw(request_hex), max_payload=WIRE.reference_client_comm_data_len)
    spec = WIRE.lookup(header.kind)
    assert spec is not None
    request = spec.request.unpack(header.order, payload)
    # Re-encoding gives the same bytes except pad garbage, which is written as zeros.
    reencoded = spec.request.pack_record(header.order, request)
    assert len(reencoded) == len(payload)
    for offset, size in spec.request.pad_spans():
        payload = payload[:offset] + bytes(size) + payload[offset + size :]
    assert reencoded == payload

    reply_header, reply_payload = decode_packet(raw(response_hex))
    assert reply_header == header.reply()
    response = spec.response.unpack(reply_header.order, reply_payload)
    assert encode_packet(header.reply(), spec.response.pack_record(header.order, response)) == raw(
        response_hex
    )
