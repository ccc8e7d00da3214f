"""Helpers of the client tests: a scriptable fake server, TLS credentials, the CLI runner."""

from __future__ import annotations

import contextlib
import datetime
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware.client import BadResponse, Transport


@contextlib.contextmanager
def implemented(what: str):
    """Skip (not fail) while the server answers a whole message group with an empty response:
    that is how the emulator answers a group whose service is not written yet."""
    try:
        yield
    except BadResponse as e:
        if e.empty:
            pytest.skip(f"{what}: the server does not implement this message group yet (empty response)")
        raise


class FakeTransport(Transport):
    """A transport whose 'server' is a Python function packet -> packet (or None: no answer)."""

    name = "fake"

    def __init__(self, serve: Callable[[bytes], bytes | None]) -> None:
        self.serve = serve
        self.sent: list[bytes] = []
        self.replies: list[bytes] = []
        self.closed = False

    def send(self, packet: bytes) -> None:
        self.sent.append(packet)
        reply = self.serve(packet)
        if reply is not None:
            self.replies.append(reply)

    def recv(self, timeout: float | None = None) -> bytes | None:
        return self.replies.pop(0) if self.replies else None


def make_tls_credentials(directory: Path) -> dict[str, str]:
    """A CA, a server certificate and a client certificate (EC P-256), as PEM files."""

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        b = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("hsmemu test CA", ca_key, "hsmemu test CA", ca_key, True)
    out = {}

    def write(stem: str, c: x509.Certificate, key=None) -> None:
        (directory / f"{stem}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        out[stem] = str(directory / f"{stem}.pem")
        if key is not None:
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            (directory / f"{stem}-key.pem").write_bytes(pem)
            out[f"{stem}-key"] = str(directory / f"{stem}-key.pem")

    write("ca", ca)
    (directory / "ca.der").write_bytes(ca.public_bytes(serialization.Encoding.DER))
    out["ca-der"] = str(directory / "ca.der")
    for who in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        write(who, cert(f"hsmemu test {who}", key, "hsmemu test CA", ca_key, False), key)
    return out


def _cli_wired() -> bool:
    """Whether `hsmemu client` is wired into the main CLI (emulator.cli) yet."""
    try:
        from emulator import cli

        parser = cli.build_parser()
    except Exception:  # noqa: BLE001
        return False
    return any("client" in (getattr(a, "choices", None) or {}) for a in parser._actions)


def run_cli_bytes(argv: list[str]) -> tuple[int, bytes, str]:
    """`hsmemu client ARGV` in this process: (exit status, stdout bytes, stderr).

    Goes through the main CLI when `client` is wired into it, else emulator.cli_client's own main.
    """
    from emulator import cli, cli_client

    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        try:
            rc = cli.main(["client", *argv]) if _cli_wired() else cli_client.main(argv)
        except SystemExit as e:  # argparse usage errors
            rc = e.code if isinstance(e.code, int) else 2
    finally:
        sys.stdout, sys.stderr = old
    out.flush()
    return rc, out.buffer.getvalue(), err.getvalue()


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Like run_cli_bytes, with stdout decoded."""
    rc, out, err = run_cli_bytes(argv)
    return rc, out.decode("utf-8", "replace"), err
