"""The client library against a real emulator: COMM over TCP, unix sockets and TLS; several clients."""

from __future__ import annotations

import threading

import pytest

from emulator.pytest_plugin import running_board
from firmware.client import (
    BadArgs,
    Client,
    HsmTransportError,
    NotReady,
    RequestPending,
    ServerInfo,
    TlsConfig,
)

from .helpers import make_tls_credentials


def expected_info(board: str) -> dict:
    """What INFO must report: the board profile's HSM server settings, else the v1.4.0 example's."""
    from boards import loader

    values = dict(
        comm_data_len=5000,
        nvm_object_count=30,
        keycache_count=9,
        keycache_bufsize=256,
        keycache_bigcount=5,
        keycache_bigbufsize=4096,
        customcb_count=6,
        dmaaddr_count=10,
        version="01.01.01",
        build="12345678",
    )
    params = getattr(loader.load(board).core("hsm"), "params", None) or {}
    values.update({k: v for k, v in params.items() if k in values})
    return values


@pytest.mark.parametrize("scheme", ["tcp", "unix"])
def test_echo_and_info(spc58_server, scheme):
    url = next(u for u in spc58_server.urls if u.startswith(scheme))
    with Client.connect(url, client_id=3) as hsm:
        assert hsm.server_id == 57
        assert hsm.client_id == 3
        assert hsm.echo(b"hello hsm") == b"hello hsm"
        assert hsm.echo("text is sent as UTF-8: \u00e9") == "text is sent as UTF-8: \u00e9".encode()
        assert hsm.echo(b"") == b""
        big = bytes(range(256)) * 19  # 4864 bytes, within both sides' COMM_DATA_LEN
        assert hsm.echo(big) == big
        info = hsm.info()
        assert isinstance(info, ServerInfo)
        for name, value in expected_info("spc58nn").items():
            assert getattr(info, name) == value, name
        assert "01.01.01" in info.summary()
    assert hsm.closed
    hsm.close()  # twice is fine


def test_sequence_numbers_and_split_calls(spc58_server):
    with Client.connect(spc58_server.url) as hsm:
        sent = []
        real_send = hsm.transport.send
        hsm.transport.send = lambda packet: (sent.append(packet), real_send(packet))[1]
        hsm.send_echo(b"one")
        assert hsm.pending == "echo"
        with pytest.raises(RequestPending):
            hsm.send_info()  # one outstanding request at a time, as in wolfHSM
        with pytest.raises(BadArgs):
            hsm.recv_info()  # not the outstanding request
        assert hsm.recv_echo() == b"one"
        assert hsm.pending is None
        hsm.send_info()
        info = None
        for _ in range(20000):  # poll, as a C client would with its non-blocking recv
            try:
                info = hsm.recv_info(timeout=0)
                break
            except NotReady:
                pass
        assert info is not None and info.version == "01.01.01"
        seqs = [int.from_bytes(p[4:6], "little") for p in sent]
        assert seqs == [2, 3]  # COMM INIT was 1
        assert all(p[:2] == b"\x01\xa5" for p in sent)  # little-endian magic


def test_big_endian_client(spc58_server):
    with Client.connect(spc58_server.url, order="big", client_id=2) as hsm:
        assert hsm.server_id == 57 and hsm.client_id == 2
        assert hsm.echo(b"big") == b"big"
        assert hsm.info().comm_data_len == expected_info("spc58nn")["comm_data_len"]


def test_sequence_number_wraps(spc58_server):
    with Client.connect(spc58_server.url) as hsm:
        hsm._seq = 0xFFFE  # noqa: SLF001 - jump close to the 16-bit wrap
        assert hsm.echo(b"a") == b"a"  # seq 0xFFFF
        assert hsm.echo(b"b") == b"b"  # seq 0
        assert hsm.echo(b"c") == b"c"  # seq 1
        assert hsm._seq == 1  # noqa: SLF001


def test_several_clients_at_once(spc58_server):
    errors: list[str] = []
    urls = spc58_server.urls

    def worker(i: int) -> None:
        try:
            with Client.connect(urls[i % len(urls)], client_id=i + 1) as hsm:
                assert hsm.client_id == i + 1
                for n in range(25):
                    data = f"client {i} message {n} ".encode() * (1 + n % 7)
                    got = hsm.echo(data)
                    assert got == data, (i, n, got[:40])
        except Exception as e:  # noqa: BLE001
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_no_server_is_a_transport_error(tmp_path):
    from emulator.pytest_plugin import free_port

    with pytest.raises(HsmTransportError, match="cannot connect"):
        Client.connect(f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(HsmTransportError):
        Client.connect(f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(HsmTransportError):
        Client.connect("shm://hsmemu_no_such_object_here")
    with pytest.raises(BadArgs):
        Client.connect("http://127.0.0.1:80")


def test_server_gone_is_a_transport_error():
    with running_board("spc58nn") as board:
        hsm = board.connect()
        assert hsm.echo(b"x") == b"x"
        board.stop()
        # the bridge's reader thread still owns the socket, but nobody serves it any more
    with pytest.raises((HsmTransportError, TimeoutError)):
        hsm.echo(b"y", timeout=0.5)
    hsm.transport.close()


def test_tls_mutual_authentication(tmp_path):
    creds = make_tls_credentials(tmp_path)
    server_tls = {"cert": creds["server"], "key": creds["server-key"], "ca": creds["ca"]}
    with running_board("spc58nn", listen=["tls://127.0.0.1:0"], tls=server_tls) as board:
        client_tls = TlsConfig(cert=creds["client"], key=creds["client-key"], ca=creds["ca"])
        with Client.connect(board.url, client_id=12, tls=client_tls) as hsm:  # 12: wolfHSM's TLS test id
            assert hsm.client_id == 12
            assert hsm.echo(b"over TLS" * 300) == b"over TLS" * 300
            assert hsm.info().version == "01.01.01"
        # the CA as DER (like wolfHSM's ca_cert_der_2048), credentials as a mapping
        tls = {"cert": creds["client"], "key": creds["client-key"], "ca": creds["ca-der"]}
        with Client.connect(board.url, tls=tls) as hsm:
            assert hsm.echo(b"der") == b"der"
        # no client certificate: the server (CA given = mutual TLS) refuses
        with pytest.raises(HsmTransportError):
            with Client.connect(board.url, tls=TlsConfig(ca=creds["ca"]), timeout=5) as hsm:
                hsm.echo(b"nope")
        # a server the client's CA did not sign
        other = make_tls_credentials(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path)
        with pytest.raises(HsmTransportError, match="TLS"):
            Client.connect(board.url, tls=TlsConfig(cert=creds["client"], key=creds["client-key"], ca=other["ca"]))
