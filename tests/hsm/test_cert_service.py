"""CERT group (0x0C00) through Server.handle: trusted certs in NVM, chain verification with real
validity dates, leaf key caching, attribute certificates, DMA variants, v1.4.0 quirks.

References: crypto spec §6 and §4.8, v1.4.0 diff §11 (ADDTRUSTED unchecked add, ERASETRUSTED
unchecked destroy, READTRUSTED capacity quirk, single-root VERIFY, leaf key in a big slot,
VERIFY_ACERT signature-only) and §12.2/§12.6 (the suite's flow, expired vectors). Layouts from
struct-offsets-v1.4.0.txt lines 3-14, packed here with `struct`. The PKI is built with
`cryptography` in the test: root -> intermediate -> leaf, RSA-2048/SHA-256 as in the v1.4.0 suite,
plus ECDSA and constraint variants.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from firmware.hsm.context import Connection
from firmware.hsm.keystore import LOCAL_STATE
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import Server, default_server

INIT, ADDTRUSTED, ERASETRUSTED, READTRUSTED, VERIFY = 0x0C01, 0x0C02, 0x0C03, 0x0C04, 0x0C05
ADDTRUSTED_DMA, READTRUSTED_DMA, VERIFY_DMA, VERIFY_ACERT, VERIFY_ACERT_DMA = 0x0C22, 0x0C24, 0x0C25, 0x0C26, 0x0C27
KEY_EXPORT, KEY_EVICT, NVM_ADDOBJECT, NVM_GETMETADATA = 0x0302, 0x0301, 0x0204, 0x0206

OK, BADARGS, ABORTED, CERT_VERIFY, BUFFER_SIZE = 0, -2000, -2002, -2005, -2006
ACCESS, NOTFOUND, ASN_PARSE_E, ASN_AFTER_DATE_E = -2101, -2104, -140, -151
NONMODIFIABLE, NONEXPORTABLE, NONDESTROYABLE, USAGE_ANY = 0x0001, 0x0004, 0x0800, 0x07E0
CACHE_LEAF_PUBKEY = 0x0001

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------ PKI


@dataclass
class Cert:
    cert: x509.Certificate
    key: Any

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def spki(self) -> bytes:
        return self.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(
    cn: str,
    issuer: Cert | None,
    *,
    key: Any = None,
    ca: bool = False,
    path_len: int | None = None,
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 365 * DAY,
    key_usage: x509.KeyUsage | None = None,
    extra: list[tuple[x509.ExtensionType, bool]] = (),
) -> Cert:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    algorithm = None if isinstance(signer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Cert(builder.sign(signer_key, algorithm), key)


def ca_usage(cert_sign: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Pki:
    root_a: Cert
    int_a: Cert
    leaf_a: Cert
    root_b: Cert
    int_b: Cert
    leaf_b: Cert
    leaf_a_expired: Cert
    leaf_a_future: Cert
    int_a_expired: Cert
    leaf_under_expired_int: Cert


@pytest.fixture(scope="module")
def pki() -> Pki:
    old = NOW - 1000 * DAY
    root_a = make_cert("Root A", None, ca=True, key_usage=ca_usage(), not_before=old, not_after=NOW + 3650 * DAY)
    int_a = make_cert("Intermediate A", root_a, ca=True, path_len=0, key_usage=ca_usage(), not_before=old)
    root_b = make_cert("Root B", None, ca=True, key_usage=ca_usage(), not_after=NOW + 3650 * DAY)
    int_b = make_cert("Intermediate B", root_b, ca=True, key_usage=ca_usage())
    int_a_expired = make_cert(
        "Intermediate A", root_a, key=int_a.key, ca=True, not_before=NOW - 800 * DAY, not_after=NOW - 400 * DAY
    )
    return Pki(
        root_a=root_a,
        int_a=int_a,
        leaf_a=make_cert("Leaf A", int_a),
        root_b=root_b,
        int_b=int_b,
        leaf_b=make_cert("Leaf B", int_b),
        # the v1.4.0 vectors' failure mode (diff §12.6): leaf notAfter in the past
        leaf_a_expired=make_cert("Leaf A", int_a, not_before=NOW - 400 * DAY, not_after=NOW - DAY),
        leaf_a_future=make_cert("Leaf A", int_a, not_before=NOW + 10 * DAY, not_after=NOW + 400 * DAY),
        int_a_expired=int_a_expired,
        leaf_under_expired_int=make_cert("Leaf A", int_a_expired),
    )


# ------------------------------------------------------------------------------------------ client


class Client:
    def __init__(self, server: Server, hal: Any = None, client_id: int = 1) -> None:
        self.server, self.hal, self.conn, self.seq = server, hal, Connection(0), 0
        assert self.call(0x0101, client_id.to_bytes(4, "little"))[:4] == client_id.to_bytes(4, "little")

    def call(self, kind: int, payload: bytes = b"") -> bytes:
        self.seq += 1
        header = b"\x01\xa5" + kind.to_bytes(2, "little") + self.seq.to_bytes(2, "little") + b"\0\0"
        reply = self.server.handle(self.conn, header + payload, self.hal)
        assert reply is not None and reply[:8] == header
        assert not self.server.errors, self.server.errors
        return reply[8:]

    def simple(self, kind: int, payload: bytes) -> int:
        reply = self.call(kind, payload)
        assert len(reply) == 8
        return struct.unpack_from("<i", reply)[0]

    def add(self, nvm_id: int, der: bytes, flags: int = NONMODIFIABLE, access: int = 0xFFFF, label: bytes = b"") -> int:
        return self.simple(ADDTRUSTED, struct.pack("<IHHH24s2x", len(der), nvm_id, access, flags, label) + der)

    def erase(self, nvm_id: int) -> int:
        return self.simple(ERASETRUSTED, struct.pack("<H6x", nvm_id))

    def read(self, nvm_id: int) -> tuple[int, int, bytes]:
        reply = self.call(READTRUSTED, struct.pack("<H6x", nvm_id))
        rc, length = struct.unpack_from("<iI", reply)
        assert len(reply) == 8 + length
        return rc, length, reply[8:]

    def verify(
        self, chain: bytes, root: int, flags: int = 0, cached_flags: int = 0, key_id: int = 0
    ) -> tuple[int, int]:
        reply = self.call(VERIFY, struct.pack("<IHHHH", len(chain), root, flags, cached_flags, key_id) + chain)
        assert len(reply) == 8
        rc, out_id = struct.unpack_from("<iH", reply)
        return rc, out_id

    def verify_acert(self, acert: bytes, root: int) -> int:
        return self.simple(VERIFY_ACERT, struct.pack("<IH2x", len(acert), root) + acert)

    def export_key(self, key_id: int) -> tuple[int, bytes, bytes]:
        reply = self.call(KEY_EXPORT, struct.pack("<H6x", key_id))
        rc, length = struct.unpack_from("<iI", reply)
        return rc, reply[8:32], reply[36 : 36 + length]

    def metadata(self, nvm_id: int) -> tuple[int, int, int, int, bytes]:
        reply = self.call(NVM_GETMETADATA, struct.pack("<H", nvm_id))
        rc, _id, access, flags, length = struct.unpack_from("<iHHHH", reply)
        return rc, access, flags, length, reply[12:36]


@pytest.fixture
def server() -> Server:
    return default_server(nvm=RamNvm())


@pytest.fixture
def cl(server: Server) -> Client:
    return Client(server)


def chain(*certs: Cert) -> bytes:
    return b"".join(c.der for c in certs)


# ------------------------------------------------------------------------------------------ basics


def test_init(cl: Client) -> None:
    assert cl.call(INIT) == bytes(8)


@pytest.mark.parametrize("action", [0x06, 0x07, 0x08, 0x28, 0x00, 0x99])
def test_absent_actions_get_an_empty_response(cl: Client, action: int) -> None:
    # VERIFY_MULTI_ROOT(_DMA) and the verify-cache actions do not exist at v1.4.0 (diff §11.1)
    assert cl.call(0x0C00 | action, bytes(16)) == b""


# ------------------------------------------------------------------------------------------ verify


def test_suite_like_chain_verification(cl: Client, pki: Pki) -> None:
    """The v1.4.0 suite's whTest_CertClient sequence (diff §12.2 #7) on a fresh PKI."""
    assert cl.add(1, pki.root_a.der) == OK
    assert cl.add(2, pki.root_b.der) == OK
    assert cl.verify(chain(pki.int_a), 1)[0] == OK
    assert cl.verify(chain(pki.leaf_a), 1)[0] == CERT_VERIFY  # no signer for the leaf alone
    assert cl.verify(chain(pki.int_b), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 1)[0] == OK
    assert cl.verify(chain(pki.int_b, pki.leaf_b), 2)[0] == OK
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 2)[0] == CERT_VERIFY  # wrong root
    assert cl.verify(chain(pki.int_b, pki.leaf_b), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.root_a, pki.int_a, pki.leaf_a), 1)[0] == OK  # root included first
    assert cl.verify(chain(pki.leaf_a, pki.int_a), 1)[0] == CERT_VERIFY  # leaf must come last
    assert cl.erase(1) == OK and cl.erase(2) == OK  # NONMODIFIABLE certs are erasable


def test_expired_and_not_yet_valid_certificates_fail(cl: Client, pki: Pki) -> None:
    assert cl.add(1, pki.root_a.der) == OK
    assert cl.verify(chain(pki.int_a, pki.leaf_a_expired), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.int_a, pki.leaf_a_future), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.int_a_expired, pki.leaf_under_expired_int), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 1)[0] == OK


def test_clock_is_the_host_utc_time_and_can_be_pinned(server: Server, pki: Pki) -> None:
    """Virtual time has no calendar: dates are checked against the host's UTC clock, which a user
    may pin (e.g. to run the pristine v1.4.0 vectors that expired on 2026-05-08, diff §12.6)."""
    cl = Client(server)
    assert cl.add(1, pki.root_a.der) == OK
    service = server.service("cert")
    assert abs(service.clock() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    service.clock = lambda: NOW - 100 * DAY  # when the expired leaf was valid
    assert cl.verify(chain(pki.int_a, pki.leaf_a_expired), 1)[0] == OK
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 1)[0] == CERT_VERIFY  # not yet valid then


def test_expired_root_fails_to_load_with_the_wolfssl_code(cl: Client, pki: Pki) -> None:
    old_root = make_cert("Old Root", None, ca=True, not_before=NOW - 900 * DAY, not_after=NOW - 800 * DAY)
    assert cl.add(3, old_root.der) == OK
    # v1.4.0 diff §11.2: a root that fails to load into the cert manager returns its code as is
    assert cl.verify(chain(make_cert("Leaf", old_root)), 3)[0] == ASN_AFTER_DATE_E
    assert cl.add(4, b"\x30\x03\x02\x01\x00") == OK  # stored: ADDTRUSTED does not parse
    assert cl.verify(chain(pki.int_a), 4)[0] == ASN_PARSE_E


def test_missing_root_and_malformed_requests(cl: Client, pki: Pki) -> None:
    assert cl.verify(chain(pki.int_a), 9) == (NOTFOUND, 0)
    assert cl.add(1, pki.root_a.der) == OK
    assert cl.call(VERIFY, bytes(10)) == struct.pack("<iH2x", ABORTED, 0)  # shorter than 12
    assert cl.verify(b"", 1)[0] == BADARGS
    assert cl.verify(b"\x04\x03abc", 1)[0] == CERT_VERIFY  # not a certificate
    assert cl.verify(b"\x30\x82\x10\x00" + bytes(20), 1)[0] == CERT_VERIFY  # overruns the chain
    truncated = struct.pack("<IHHHH", 5000, 1, 0, 0, 0) + chain(pki.int_a)  # cert_len beyond the data
    reply = cl.call(VERIFY, truncated)
    assert struct.unpack_from("<i", reply)[0] == CERT_VERIFY


def test_constraints(cl: Client, pki: Pki) -> None:
    assert cl.add(1, pki.root_a.der) == OK
    # intermediate A has pathlen 0: it may sign leaves, not another CA
    sub_ca = make_cert("Sub CA", pki.int_a, ca=True)
    assert cl.verify(chain(pki.int_a, sub_ca), 1)[0] == CERT_VERIFY
    # an issuer whose keyUsage lacks keyCertSign cannot sign certificates
    no_sign = make_cert("No certSign", pki.root_a, ca=True, key_usage=ca_usage(cert_sign=False))
    assert cl.verify(chain(no_sign), 1)[0] == OK
    assert cl.verify(chain(no_sign, make_cert("Leaf", no_sign)), 1)[0] == CERT_VERIFY
    # an unknown critical extension is refused, an unknown non-critical one is fine
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    assert cl.verify(chain(pki.int_a, make_cert("Leaf", pki.int_a, extra=[(odd, True)])), 1)[0] == CERT_VERIFY
    assert cl.verify(chain(pki.int_a, make_cert("Leaf", pki.int_a, extra=[(odd, False)])), 1)[0] == OK
    # a leaf signed by a different key with the intermediate's name: signature check fails
    impostor = make_cert("Intermediate A", pki.root_b, ca=True)
    assert cl.verify(chain(pki.int_a, make_cert("Leaf", impostor)), 1)[0] == CERT_VERIFY


def test_ecdsa_and_ed25519_chains(cl: Client) -> None:
    root = make_cert("EC Root", None, key=ec.generate_private_key(ec.SECP384R1()), ca=True)
    inter = make_cert("EC Int", root, key=ec.generate_private_key(ec.SECP256R1()), ca=True)
    leaf = make_cert("Ed Leaf", inter, key=ed25519.Ed25519PrivateKey.generate())
    assert cl.add(7, root.der) == OK
    assert cl.verify(chain(inter, leaf), 7)[0] == OK
    ed_root = make_cert("Ed Root", None, key=ed25519.Ed25519PrivateKey.generate(), ca=True)
    assert cl.add(8, ed_root.der) == OK
    assert cl.verify(chain(make_cert("Leaf", ed_root, key=ec.generate_private_key(ec.SECP256R1()))), 8)[0] == OK


def test_nonexportable_root_still_verifies(cl: Client, pki: Pki) -> None:
    assert cl.add(5, pki.root_a.der, flags=NONEXPORTABLE) == OK
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 5)[0] == OK


# ------------------------------------------------------------------------------------------ leaf key


def test_cache_leaf_pubkey_and_export(server: Server, cl: Client, pki: Pki) -> None:
    assert cl.add(1, pki.root_a.der) == OK
    rc, key_id = cl.verify(chain(pki.int_a, pki.leaf_a), 1, CACHE_LEAF_PUBKEY, USAGE_ANY, 0)
    assert rc == OK
    assert key_id == 0x00FF  # first unique local id, as in the v1.4.0 trace
    rc, label, spki = cl.export_key(key_id)
    assert rc == OK
    assert spki == pki.leaf_a.spki and len(spki) == 294  # RSA-2048, as LEAF_A_PUBKEY
    assert label == b"cert_pubkey".ljust(24, b"\0")
    # v1.4.0 puts it in a big slot even though 294 bytes would need one anyway; check a small key too
    ec_leaf = make_cert("EC Leaf", pki.int_a, key=ec.generate_private_key(ec.SECP256R1()))
    rc, ec_id = cl.verify(chain(pki.int_a, ec_leaf), 1, CACHE_LEAF_PUBKEY, USAGE_ANY, 0x0010)
    assert (rc, ec_id) == (OK, 0x0010)
    assert cl.export_key(ec_id)[2] == ec_leaf.spki and len(ec_leaf.spki) == 91
    big = cl.conn.state[LOCAL_STATE].big
    assert {s.meta.id & 0xFF for s in big if s.meta is not None} == {0xFF, 0x10}
    assert cl.call(KEY_EVICT, struct.pack("<H6x", key_id))[:4] == bytes(4)
    assert cl.export_key(key_id)[0] == NOTFOUND


def test_cached_leaf_key_flags_and_global_id(server: Server, cl: Client, pki: Pki) -> None:
    """cachedKeyFlags are stored as given (no stripping at v1.4.0), a global id stays global, and
    the key lands in a big slot of the global cache (diff §11.2)."""
    assert cl.add(1, pki.root_a.der) == OK
    rc, key_id = cl.verify(chain(pki.int_a, pki.leaf_a), 1, CACHE_LEAF_PUBKEY, 0x0100 | NONEXPORTABLE, 0x0101)
    assert (rc, key_id) == (OK, 0x0101)  # global id kept in client form
    assert cl.export_key(key_id)[0] == ACCESS  # cachedKeyFlags stored as given
    slot = server.keystore.global_cache.find(0x1001)
    assert slot is not None and slot.meta.flags == 0x0104 and slot in server.keystore.global_cache.big


def test_failed_verify_returns_the_translated_request_id(cl: Client, pki: Pki) -> None:
    assert cl.add(1, pki.root_a.der) == OK
    rc, key_id = cl.verify(chain(pki.int_a, pki.leaf_a_expired), 1, CACHE_LEAF_PUBKEY, USAGE_ANY, 0x0133)
    assert (rc, key_id) == (CERT_VERIFY, 0x0133)
    assert cl.export_key(0x0133)[0] == NOTFOUND
    assert cl.verify(chain(pki.int_a), 9, CACHE_LEAF_PUBKEY, 0, 0x22) == (NOTFOUND, 0x22)


def test_cache_leaf_over_a_nonmodifiable_key_fails(cl: Client, pki: Pki) -> None:
    key = b"k" * 16
    reply = cl.call(0x0300, struct.pack("<IIIH2x24s", NONMODIFIABLE, len(key), 0, 0x44, b"") + key)
    assert struct.unpack_from("<i", reply)[0] == OK
    assert cl.add(1, pki.root_a.der) == OK
    assert cl.verify(chain(pki.int_a, pki.leaf_a), 1, CACHE_LEAF_PUBKEY, 0, 0x44)[0] == CERT_VERIFY


# ------------------------------------------------------------------------------------------ trusted store


def test_read_trusted(cl: Client, pki: Pki) -> None:
    assert cl.add(101, pki.root_a.der, flags=NONMODIFIABLE) == OK
    assert cl.add(102, pki.root_b.der, flags=NONMODIFIABLE | NONEXPORTABLE) == OK
    assert cl.read(101) == (OK, len(pki.root_a.der), pki.root_a.der)
    assert cl.read(102) == (ACCESS, 0, b"")  # diff §12.2: NONEXPORTABLE cert read -> ACCESS
    assert cl.read(103) == (NOTFOUND, 0, b"")
    assert cl.erase(101) == OK and cl.erase(102) == OK
    assert cl.read(101) == (NOTFOUND, 0, b"")


def test_read_trusted_capacity_quirk(cl: Client) -> None:
    """v1.4.0: a cert larger than min(MAX_CERT_SIZE, 5000 - 8) -> BUFFER_SIZE, cert_len = capacity,
    followed by that many stale bytes (diff §11.2)."""
    blob = b"\x30\x82\x13\x8d" + bytes(4993 - 4)
    assert cl.add(20, blob) == OK
    rc, length, data = cl.read(20)
    assert (rc, length, len(data)) == (BUFFER_SIZE, 4992, 4992)
    assert cl.add(21, blob[:4992]) == OK
    assert cl.read(21)[:2] == (OK, 4992)


def test_add_trusted_is_unchecked(cl: Client, pki: Pki) -> None:
    """v1.4.0 diff §11.2: ADDTRUSTED overwrites protected objects and keeps every flag."""
    obj = struct.pack("<HHHH24s", 0x70, 0xFFFF, NONMODIFIABLE, 4, b"obj") + b"data"
    assert struct.unpack("<i", cl.call(NVM_ADDOBJECT, obj))[0] == OK
    assert cl.add(0x70, pki.root_a.der, flags=0x1800, access=0x1234, label=b"my root") == OK
    rc, access, flags, length, label = cl.metadata(0x70)
    assert (rc, access, flags, length) == (OK, 0x1234, 0x1800, len(pki.root_a.der))
    assert label == b"my root".ljust(24, b"\0")
    assert cl.read(0x70)[2] == pki.root_a.der


def test_add_trusted_size_checks(cl: Client, pki: Pki) -> None:
    der = pki.root_a.der
    assert cl.simple(ADDTRUSTED, bytes(35)) == BADARGS
    head = struct.pack("<IHHH24s2x", len(der) + 1, 1, 0, 0, b"")
    assert cl.simple(ADDTRUSTED, head + der) == BADARGS  # cert_len beyond the payload
    assert cl.add(1, b"") == BADARGS  # cert_len 0
    head = struct.pack("<IHHH24s2x", len(der), 1, 0, 0, b"")
    assert cl.simple(ADDTRUSTED, head + der + b"trailing") == OK  # extra bytes ignored
    assert cl.read(1)[2] == der


def test_erase_trusted_is_unchecked(cl: Client, pki: Pki) -> None:
    assert cl.add(1, pki.root_a.der, flags=NONMODIFIABLE | NONDESTROYABLE | 0x1000) == OK
    assert cl.erase(1) == OK
    assert cl.metadata(1)[0] == NOTFOUND
    assert cl.erase(1) == OK  # missing id -> 0 at v1.4.0


# ------------------------------------------------------------------------------------------ ACERT


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = bytes([n]) if n < 0x80 else (b"\x81" + bytes([n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big"))
    return bytes([tag]) + length + content


ECDSA_SHA256 = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a8648ce3d040302")))


def make_acert(ca: Cert, not_after: dt.datetime = NOW + DAY) -> bytes:
    """An RFC 5755 attribute certificate (v2) signed by `ca`'s P-256 key, built by hand."""
    holder = _tlv(0x30, _tlv(0xA1, _tlv(0xA4, ca.cert.subject.public_bytes())))  # entityName directoryName
    issuer = _tlv(0xA0, _tlv(0x30, _tlv(0xA4, ca.cert.subject.public_bytes())))  # v2Form issuerName

    def gtime(t: dt.datetime) -> bytes:
        return _tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())

    gt = gtime(NOW - DAY) + gtime(not_after)
    role_value = _tlv(0x31, _tlv(0x30, _tlv(0xA1, _tlv(0x86, b"urn:role:ecu"))))  # RoleSyntax roleName URI
    role = _tlv(0x30, _tlv(0x06, bytes.fromhex("550448")) + role_value)  # id-at-role
    acinfo = _tlv(
        0x30,
        _tlv(0x02, b"\x01") + holder + issuer + ECDSA_SHA256 + _tlv(0x02, b"\x2a") + _tlv(0x30, gt) + _tlv(0x30, role),
    )
    sig = ca.key.sign(acinfo, ec.ECDSA(hashes.SHA256()))
    return _tlv(0x30, acinfo + ECDSA_SHA256 + _tlv(0x03, b"\x00" + sig))


@pytest.fixture(scope="module")
def ec_ca() -> Cert:
    return make_cert("ACERT CA", None, key=ec.generate_private_key(ec.SECP256R1()), ca=True)


def test_verify_acert(cl: Client, pki: Pki, ec_ca: Cert) -> None:
    """The v1.4.0 suite's whTest_CertClientAcert (diff §12.2 #8)."""
    assert cl.add(1, ec_ca.der) == OK
    assert cl.add(2, pki.root_b.der) == OK
    acert = make_acert(ec_ca)
    assert cl.verify_acert(acert, 1) == OK
    assert cl.verify_acert(acert, 2) == CERT_VERIFY  # ECDSA ACERT vs RSA root
    expired = make_acert(ec_ca, not_after=NOW - 300 * DAY)
    assert cl.verify_acert(expired, 1) == OK  # signature only: no date check (diff §12.6)
    tampered = bytearray(acert)
    tampered[40] ^= 1
    assert cl.verify_acert(bytes(tampered), 1) == CERT_VERIFY
    other_ca = make_cert("ACERT CA", None, key=ec.generate_private_key(ec.SECP256R1()), ca=True)
    assert cl.add(3, other_ca.der) == OK
    assert cl.verify_acert(acert, 3) == CERT_VERIFY
    assert cl.verify_acert(b"\x30\x03\x02\x01\x00", 1) == ASN_PARSE_E  # other errors pass through
    assert cl.verify_acert(acert, 9) == NOTFOUND
    assert cl.erase(1) == OK and cl.erase(2) == OK


# ------------------------------------------------------------------------------------------ DMA


def test_dma_variants(server: Server, hal: Any, pki: Pki, ec_ca: Cert) -> None:
    cl = Client(server, hal)
    root_buf, chain_buf, out_buf, acert_buf = hal.rw, hal.rw + 0x2000, hal.rw + 0x6000, hal.rw + 0x8000
    root = pki.root_a.der
    hal.poke(root_buf, root)
    req = struct.pack("<QIHHH24s6x", root_buf, len(root), 1, 0xFFFF, NONMODIFIABLE, b"dma root")
    assert cl.simple(ADDTRUSTED_DMA, req) == OK
    assert cl.read(1)[2] == root
    # READTRUSTED_DMA into client memory; a too small buffer -> BUFFER_SIZE
    assert cl.simple(READTRUSTED_DMA, struct.pack("<QIH2x", out_buf, 4096, 1)) == OK
    assert hal.peek(out_buf, len(root)) == root
    assert cl.simple(READTRUSTED_DMA, struct.pack("<QIH2x", out_buf, 100, 1)) == BUFFER_SIZE
    assert cl.simple(READTRUSTED_DMA, struct.pack("<QIH2x", out_buf, 4096, 9)) == NOTFOUND
    # VERIFY_DMA with leaf caching
    data = chain(pki.int_a, pki.leaf_a)
    hal.poke(chain_buf, data)
    reply = cl.call(VERIFY_DMA, struct.pack("<QIHHHH4x", chain_buf, len(data), 1, CACHE_LEAF_PUBKEY, USAGE_ANY, 0))
    rc, key_id = struct.unpack_from("<iH", reply)
    assert (rc, key_id, len(reply)) == (OK, 0x00FF, 8)
    assert cl.export_key(key_id)[2] == pki.leaf_a.spki
    hal.poke(chain_buf, chain(pki.int_b, pki.leaf_b))
    reply = cl.call(VERIFY_DMA, struct.pack("<QIHHHH4x", chain_buf, len(data), 1, 0, 0, 0))
    assert struct.unpack_from("<i", reply)[0] == CERT_VERIFY
    # VERIFY_ACERT_DMA
    assert cl.add(2, ec_ca.der) == OK
    acert = make_acert(ec_ca)
    hal.poke(acert_buf, acert)
    assert cl.simple(VERIFY_ACERT_DMA, struct.pack("<QIHHHH4x", acert_buf, len(acert), 2, 0, 0, 0)) == OK
    assert cl.simple(VERIFY_ACERT_DMA, struct.pack("<QIHHHH4x", acert_buf, len(acert), 1, 0, 0, 0)) == CERT_VERIFY


def test_dma_refusals_and_sizes(server: Server, hal: Any, pki: Pki) -> None:
    cl = Client(server, hal)
    der = pki.root_a.der
    assert cl.simple(ADDTRUSTED_DMA, struct.pack("<QIHHH24s6x", hal.outside, len(der), 1, 0, 0, b"")) == ACCESS
    assert cl.simple(ADDTRUSTED_DMA, bytes(40)) == ABORTED  # not exactly 48 bytes
    assert cl.add(1, der) == OK
    assert cl.simple(READTRUSTED_DMA, struct.pack("<QIH2x", hal.ro, 4096, 1)) == ACCESS  # not writable
    assert cl.simple(READTRUSTED_DMA, bytes(17)) == ABORTED
    reply = cl.call(VERIFY_DMA, struct.pack("<QIHHHH4x", hal.outside, 100, 1, 0, 0, 0))
    assert struct.unpack_from("<iH", reply) == (ACCESS, 0)
    assert struct.unpack_from("<i", cl.call(VERIFY_DMA, bytes(23)))[0] == ABORTED
    assert cl.simple(VERIFY_ACERT_DMA, bytes(8)) == ABORTED  # v1.4.0 would report rc 0 here (not copied)
    assert cl.simple(VERIFY_ACERT_DMA, struct.pack("<QIHHHH4x", hal.outside, 100, 1, 0, 0, 0)) == ACCESS
    assert hal.refused


def test_dma_without_a_dma_engine(server: Server, pki: Pki) -> None:
    cl = Client(server)  # no HAL
    der = pki.root_a.der
    assert cl.simple(ADDTRUSTED_DMA, struct.pack("<QIHHH24s6x", 0x2000_0000, len(der), 1, 0, 0, b"")) == ACCESS
