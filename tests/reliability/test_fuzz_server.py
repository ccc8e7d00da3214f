"""Random and mutated packets over TCP never take the server down: echo still answers afterwards."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulator.bridge_util import connect, recv_exact, roundtrip, running_board

VALID = [  # well-formed requests to mutate: INIT, ECHO, INFO, NVM LIST, KEY EXPORT, COUNTER READ, CUSTOM
    bytes.fromhex("01a501010100000001000000"),
    bytes.fromhex("01a5050102000000") + b"hello",
    bytes.fromhex("01a5040103000000"),
    bytes.fromhex("01a5050204000000000000000000"),
    bytes.fromhex("01a50203050000000500000000000000"),
    bytes.fromhex("01a50208060000000100000000000000"),
    bytes.fromhex("01a5010a07000000") + bytes(264),
]

packets = st.one_of(
    st.binary(min_size=8, max_size=600),
    st.builds(
        lambda base, pos, val, cut: (base[:pos] + bytes([val]) + base[pos + 1 :])[: max(8, cut)],
        st.sampled_from(VALID),
        st.integers(0, 40),
        st.integers(0, 255),
        st.integers(8, 300),
    ),
    st.builds(
        lambda kind, body: struct.pack("<HHHH", 0xA501, kind, 1, 0) + body,
        st.integers(0, 0xFFFF),
        st.binary(max_size=300),
    ),
)

_board = {}


def _server():
    if "ctx" not in _board:
        cm = running_board("spc58nn")
        _board["ctx"] = cm
        _board["soc"], _board["bridge"], (_board["url"],) = cm.__enter__()
    return _board


def teardown_module(module):
    if "ctx" in _board:
        _board["ctx"].__exit__(None, None, None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(packets, min_size=1, max_size=8))
def test_random_packets_then_echo_still_works(batch):
    b = _server()
    s = connect(b["url"])
    try:
        for p in batch:
            s.sendall(struct.pack(">I", len(p)) + p)
            try:
                (n,) = struct.unpack(">I", recv_exact(s, 4))
                reply = recv_exact(s, n)
                assert reply[2:6] == p[2:6] and len(reply) >= 8  # kind and seq echoed
            except (TimeoutError, ConnectionError, OSError):
                s.close()
                s = connect(b["url"])  # the server may end a session on a fatal packet
    finally:
        s.close()
    check = connect(b["url"])
    echo = bytes.fromhex("01a5050101000000") + b"still alive"
    assert roundtrip(check, echo) == echo
    check.close()
    hsm = b["soc"].core("hsm")
    assert not hsm.fault
    assert hsm.firmware.server.errors == []  # no handler raised: every bad input got a wire answer
