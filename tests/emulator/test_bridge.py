"""Attached clients over TCP, unix sockets and TLS, byte for byte (vectors from wolfhsm-wire-core.md)."""

import datetime
import ssl
import struct
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .bridge_util import connect, recv_exact, roundtrip, running_board

# core spec §3.1 [verified]: COMM INIT request / response of a little-endian client, seq 1
INIT_REQ = bytes.fromhex("01a5 0101 0100 0000 01000000".replace(" ", ""))
INIT_RESP = bytes.fromhex("01a5 0101 0100 0000 01000000 39000000".replace(" ", ""))
# the same from a big-endian client: magic A5 01, every field swapped
INIT_REQ_BE = bytes.fromhex("a501 0101 0001 0000 00000001".replace(" ", ""))
INIT_RESP_BE = bytes.fromhex("a501 0101 0001 0000 00000001 00000039".replace(" ", ""))


def echo_packet(seq: int, data: bytes, big: bool = False) -> bytes:
    if big:
        return bytes.fromhex("a501 0105".replace(" ", "")) + struct.pack(">HH", seq, 0) + data
    return bytes.fromhex("01a5 0501".replace(" ", "")) + struct.pack("<HH", seq, 0) + data


def test_tcp_init_echo_close_both_byte_orders():
    with running_board() as (soc, bridge, (url,)):
        s = connect(url)
        assert roundtrip(s, INIT_REQ) == INIT_RESP
        assert roundtrip(s, echo_packet(2, b"hello hsm")) == echo_packet(2, b"hello hsm")
        assert roundtrip(s, bytes.fromhex("01a5 0301 0300 0000".replace(" ", ""))) == bytes.fromhex("01a5030103000000")
        s.close()
        b = connect(url)
        assert roundtrip(b, INIT_REQ_BE) == INIT_RESP_BE
        assert roundtrip(b, echo_packet(7, b"\x00\xff" * 100, big=True)) == echo_packet(7, b"\x00\xff" * 100, big=True)
        info = roundtrip(b, bytes.fromhex("a501 0104 0003 0000".replace(" ", "")))
        assert len(info) == 8 + 72
        assert info[8:12] == (5000).to_bytes(4, "big")  # cfg_comm_data_len of the v1.4.0 example
        assert info[8 + 48 : 8 + 57] == b"01.01.01\0"
        b.close()


def test_several_clients_at_once():
    with running_board() as (soc, bridge, (url,)):
        errors = []

        def worker(i: int) -> None:
            try:
                s = connect(url)
                req = INIT_REQ[:8] + struct.pack("<I", i + 1)
                assert roundtrip(s, req) == req + struct.pack("<I", 57)
                for n in range(40):
                    data = f"client {i} message {n}".encode()
                    assert roundtrip(s, echo_packet(n + 2, data)) == echo_packet(n + 2, data)
                s.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert soc.core("hsm").firmware.served >= 5 * 41


@pytest.mark.parametrize("length", [0, 5129, 0x7FFFFFFF])
def test_bad_frame_length_disconnects_only_that_client(length):
    logs = []
    with running_board(logs=logs) as (soc, bridge, (url,)):
        good = connect(url)
        assert roundtrip(good, INIT_REQ) == INIT_RESP
        bad = connect(url)
        bad.sendall(struct.pack(">I", length) + b"\0" * 16)
        with pytest.raises((ConnectionError, OSError)):
            recv_exact(bad, 4)
        assert roundtrip(good, echo_packet(2, b"still here")) == echo_packet(2, b"still here")
        assert any("frame length" in m for m in logs)


def test_short_packet_is_fatal_for_that_connection():
    with running_board() as (soc, bridge, (url,)):
        s = connect(url)
        s.sendall(struct.pack(">I", 3) + b"\x01\xa5\x05")
        with pytest.raises((ConnectionError, OSError)):
            recv_exact(s, 4)
        t = connect(url)
        assert roundtrip(t, INIT_REQ) == INIT_RESP


def test_unknown_group_gets_an_empty_reply():
    with running_board() as (soc, bridge, (url,)):
        s = connect(url)
        for kind in (0x0D00, 0x0501, 0x0900):  # AUTH (absent at v1.4.0), IMAGE, RESERVED
            req = struct.pack("<HHHH", 0xA501, kind, 9, 0) + b"abc"
            assert roundtrip(s, req) == req[:8]


def test_unix_socket(tmp_path):
    path = tmp_path / "hsm.sock"
    with running_board(listen=(f"unix://{path}",)) as (soc, bridge, (url,)):
        s = connect(url)
        assert roundtrip(s, INIT_REQ) == INIT_RESP


# ---------------------------------------------------------------------------------------------- TLS
def _cert(subject, issuer_key, issuer_name, key, ca=False):
    now = datetime.datetime.now(datetime.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return b.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    files = {}

    def save(name, cert, key):
        files[name + "_cert"] = d / f"{name}.pem"
        files[name + "_key"] = d / f"{name}.key"
        files[name + "_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[name + "_key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test CA", ca_key, "test CA", ca_key, ca=True)
    save("ca", ca, ca_key)
    for name, issuer_key in (("server", ca_key), ("client", ca_key)):
        k = ec.generate_private_key(ec.SECP256R1())
        save(name, _cert(name, issuer_key, "test CA", k), k)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    save("rogue", _cert("rogue", rogue_key, "rogue", rogue_key), rogue_key)
    return files


def _tls_client(url, pki, cert="client"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki["ca_cert"])
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(pki[cert + "_cert"], pki[cert + "_key"])
    raw = connect(url)
    return ctx.wrap_socket(raw, server_hostname="server")


def test_tls_mutual_auth_accepts_and_refuses(pki):
    logs = []
    tls = {"cert": str(pki["server_cert"]), "key": str(pki["server_key"]), "ca": str(pki["ca_cert"])}
    with running_board(listen=("tls://127.0.0.1:0",), tls=tls, logs=logs) as (soc, bridge, (url,)):
        s = _tls_client(url, pki)
        s.sendall(INIT_REQ)  # one TLS record = one packet, no length prefix
        assert s.recv(8200) == INIT_RESP
        s.sendall(echo_packet(2, b"over tls"))
        assert s.recv(8200) == echo_packet(2, b"over tls")
        s.close()
        for who in (None, "rogue"):
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                c = _tls_client(url, pki, who)
                c.sendall(INIT_REQ)
                if not c.recv(8200):
                    raise ConnectionError("closed")
        plain = connect(url)
        plain.sendall(struct.pack(">I", len(INIT_REQ)) + INIT_REQ)
        with pytest.raises((ConnectionError, OSError)):
            if not plain.recv(100):
                raise ConnectionError("closed")
        assert sum("TLS client refused" in m for m in logs) >= 2


def test_key_cache_is_sized_by_the_board_profile():
    with running_board("spc58nn") as (soc, bridge, (url,)):
        s = connect(url)
        assert roundtrip(s, INIT_REQ) == INIT_RESP
        info = roundtrip(s, bytes.fromhex("01a5040102000000"))
        assert struct.unpack_from("<4I", info, 8 + 8) == (6, 256, 2, 4096)  # spc58nn.toml [cores.hsm.params]
        rcs = []
        for n in range(7):  # KEY CACHE of a 16-byte key, auto id: the 7th finds no free slot
            body = struct.pack("<IIIH2x24s", 0, 16, 4, 0, b"key" + bytes([48 + n])) + bytes(16)
            reply = roundtrip(s, struct.pack("<HHHH", 0xA501, 0x0300, 3 + n, 0) + body)
            rcs.append(struct.unpack_from("<i", reply, 8)[0])
        assert rcs == [0] * 6 + [-2105]


def test_keys_are_isolated_between_clients_and_dropped_on_disconnect():
    with running_board() as (soc, bridge, (url,)):
        a, b = connect(url), connect(url)
        roundtrip(a, INIT_REQ[:8] + struct.pack("<I", 1))
        roundtrip(b, INIT_REQ[:8] + struct.pack("<I", 2))
        cache = struct.pack("<IIIH2x24s", 0, 16, 3, 5, b"mine") + b"K" * 16  # key id 5, local
        assert struct.unpack_from("<iH", roundtrip(a, struct.pack("<HHHH", 0xA501, 0x0300, 2, 0) + cache), 8) == (0, 5)
        export = struct.pack("<H6x", 5)
        got = roundtrip(a, struct.pack("<HHHH", 0xA501, 0x0302, 3, 0) + export)
        assert struct.unpack_from("<i", got, 8)[0] == 0 and got[8 + 36 :] == b"K" * 16
        other = roundtrip(b, struct.pack("<HHHH", 0xA501, 0x0302, 2, 0) + export)
        assert struct.unpack_from("<i", other, 8)[0] == -2104  # client 2 cannot see client 1's key 5
        a.close()  # disconnect without COMM CLOSE: the local cache of that connection goes
        c = connect(url)
        roundtrip(c, INIT_REQ[:8] + struct.pack("<I", 1))
        again = roundtrip(c, struct.pack("<HHHH", 0xA501, 0x0302, 2, 0) + export)
        assert struct.unpack_from("<i", again, 8)[0] == -2104
