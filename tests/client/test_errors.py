"""Typed errors: wolfHSM codes -> exception classes, and the protocol checks of the v1.4.0 client."""

from __future__ import annotations

import pickle
import struct

import pytest

from firmware.client import (
    Aborted,
    AccessDenied,
    BadArgs,
    BadResponse,
    Client,
    HsmError,
    HsmTimeout,
    HsmTransportError,
    NoHandler,
    NoSpace,
    NotFound,
    NotReady,
    UsageError,
    error_for,
    error_name,
)
from firmware.client.errors import SheError, SheKeyEmpty
from firmware.wire import WhError

from .helpers import FakeTransport, implemented


@pytest.mark.parametrize(
    "rc, cls, name",
    [
        (-2000, BadArgs, "BADARGS"),
        (-2001, NotReady, "NOTREADY"),
        (-2002, Aborted, "ABORTED"),
        (-2007, NoHandler, "NOHANDLER"),
        (-2009, UsageError, "USAGE"),
        (-2101, AccessDenied, "ACCESS"),
        (-2104, NotFound, "NOTFOUND"),
        (-2105, NoSpace, "NOSPACE"),
        (-2203, SheKeyEmpty, "SHE_ERC_KEY_EMPTY"),
    ],
)
def test_error_classes(rc, cls, name):
    e = error_for(rc, "nvm_read 0x0014")
    assert type(e) is cls and isinstance(e, HsmError)
    assert e.rc == rc and e.name == name
    assert str(e) == f"nvm_read 0x0014: {name} ({rc})"
    assert cls().rc == rc  # a class knows its own code
    assert cls("why").detail == "why"
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is cls and again.rc == rc


def test_error_families():
    assert issubclass(NotFound, LookupError)
    assert issubclass(AccessDenied, PermissionError)
    assert issubclass(BadArgs, ValueError)
    assert issubclass(SheKeyEmpty, SheError)
    assert issubclass(BadResponse, Aborted)
    assert issubclass(HsmTimeout, HsmTransportError) and issubclass(HsmTimeout, TimeoutError)
    assert not issubclass(HsmTransportError, HsmError)
    # every wolfHSM code has a name; unknown ones and wolfCrypt codes still make an HsmError
    assert all(error_for(int(c)).name == c.name for c in WhError if c)
    assert error_name(-180) == "AES_GCM_AUTH_E"
    odd = error_for(-99999)
    assert type(odd) is HsmError and odd.name == "rc -99999"


# ------------------------------------------------------------------------------------ protocol checks


def _reply(packet: bytes, payload: bytes, *, magic=None, kind=None, seq=None) -> bytes:
    m, k, s, aux = struct.unpack("<HHHH", packet[:8])
    m = m if magic is None else magic
    k = k if kind is None else kind
    s = s if seq is None else seq
    return struct.pack("<HHHH", m, k, s, aux) + payload


def _client(serve) -> Client:
    return Client(FakeTransport(serve))


def test_response_checks_like_the_v1_4_0_client():
    init_ok = lambda p: _reply(p, struct.pack("<II", 1, 57))  # noqa: E731
    c = _client(init_ok)
    assert c.comm_init() == (1, 57)

    with pytest.raises(BadResponse, match="seq"):
        _client(lambda p: _reply(p, struct.pack("<II", 1, 57), seq=9)).comm_init()
    with pytest.raises(BadResponse, match="kind"):
        _client(lambda p: _reply(p, struct.pack("<II", 1, 57), kind=0x0105)).comm_init()
    with pytest.raises(BadResponse, match="magic"):
        _client(lambda p: _reply(p, struct.pack("<II", 1, 57), magic=0x01A5)).comm_init()
    with pytest.raises(BadResponse, match="expected 8"):
        _client(lambda p: _reply(p, struct.pack("<III", 1, 57, 0))).comm_init()  # INIT is checked == 8
    with pytest.raises(BadResponse, match="refused client id") as exc:
        _client(lambda p: _reply(p, b"")).comm_init()
    assert exc.value.rc == WhError.ABORTED


def test_empty_response_means_group_not_implemented():
    c = _client(lambda p: _reply(p, b""))
    with pytest.raises(BadResponse) as exc:
        c.nvm_get_available()
    assert exc.value.empty and "does not implement" in str(exc.value)
    with pytest.raises(BadResponse) as exc:
        c.counter_read(1)
    assert exc.value.empty
    assert c.echo(b"") == b""  # an empty echo is fine, of course


def test_rc_becomes_the_typed_error():
    def serve(p: bytes) -> bytes:
        kind = struct.unpack_from("<H", p, 2)[0]
        if kind == 0x0208:  # NVM READ: error -> the 4-byte rc only
            return _reply(p, struct.pack("<i", WhError.NOTFOUND))
        if kind == 0x0802:  # COUNTER READ
            return _reply(p, struct.pack("<iI", WhError.NOTFOUND, 0))
        if kind == 0x0204:  # NVM ADDOBJECT
            return _reply(p, struct.pack("<i", WhError.ACCESS))
        if kind == 0x0300:  # KEY CACHE
            return _reply(p, struct.pack("<iH6x", WhError.NOSPACE, 0))
        return _reply(p, b"")

    c = _client(serve)
    with pytest.raises(NotFound, match="nvm_read 0x0014"):
        c.nvm_read(0x14, 0, 10)
    with pytest.raises(NotFound, match="counter_read 7"):
        c.counter_read(7)
    with pytest.raises(AccessDenied):
        c.nvm_add_object(0x20, b"x")
    with pytest.raises(NoSpace):
        c.key_cache(b"k" * 16)


def test_local_argument_checks_send_nothing():
    t = FakeTransport(lambda p: None)
    c = Client(t)
    for call in (
        lambda: c.counter_read(0),  # the C client refuses counter id 0 too
        lambda: c.nvm_add_object(0x14, b"x", label=b"y" * 25),
        lambda: c.nvm_add_object(0x14, b"x" * 6000),
        lambda: c.send_nvm_destroy(range(1, 21)),  # at most 19 per request
        lambda: c.nvm_get_metadata(0x10000),
        lambda: c.custom_invoke(1, 8, b"z" * 257),
        lambda: c.echo(b"e" * 5121),
        lambda: c.echo(12),
    ):
        with pytest.raises(BadArgs) as exc:
            call()
        assert exc.value.local
    assert t.sent == []


def test_timeout_and_polling():
    c = _client(lambda p: None)  # a server that never answers
    c.send_echo(b"x")
    with pytest.raises(NotReady):
        c.recv_echo(timeout=0)
    with pytest.raises(HsmTimeout):
        c.recv_echo(timeout=0.01)
    assert c.pending == "echo"  # still outstanding: the answer may come later
    c.transport.replies.append(_reply(c.transport.sent[-1], b"x"))
    assert c.recv_echo() == b"x"


def test_server_errors_are_typed(spc58_server):
    with Client.connect(spc58_server.url, client_id=4) as hsm, implemented("NVM"):
        with pytest.raises(NotFound) as exc:
            hsm.nvm_get_metadata(0x0EEE)
        assert exc.value.rc == -2104 and not exc.value.local
        with pytest.raises(NotFound):
            hsm.nvm_read(0x0EEE)
        with pytest.raises(NotFound):
            hsm.nvm_destroy([0x0EEE])  # v1.4.0: an absent id is NOTFOUND
        hsm.nvm_add_object(0x0E01, b"locked", flags=0x0001 | 0x0004)  # nonmodifiable, nonexportable
        with pytest.raises(AccessDenied):
            hsm.nvm_read(0x0E01)
        with pytest.raises(AccessDenied):
            hsm.nvm_add_object(0x0E01, b"again")
        with pytest.raises(AccessDenied):
            hsm.nvm_destroy(0x0E01)
        with pytest.raises(BadArgs) as exc:
            hsm.nvm_read(0x0E01, offset=100, length=1)  # offset past the end is checked first
        assert not exc.value.local
    with Client.connect(spc58_server.url) as hsm:
        with pytest.raises(NoHandler):
            hsm.custom_invoke(1, 8, b"nobody registered a callback")
        assert hsm.custom_check_registered(0) is False
