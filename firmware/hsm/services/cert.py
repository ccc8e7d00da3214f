"""CERT group (0x0C00): trusted certificates in NVM, X.509 chain verification, leaf key caching.

Semantics of wolfHSM v1.4.0 with its wolfSSL certificate manager (crypto spec §6, v1.4.0 diff §11,
§12.2, §12.6). Every response carries its own rc; unknown actions (VERIFY_MULTI_ROOT(_DMA) and the
verify-cache actions of HEAD among them) get an empty response (Service.unknown, wire table).

* INIT: rc 0.
* ADDTRUSTED: the certificate becomes an ordinary NVM object {id, access, flags, label, DER}.
  v1.4.0 adds it *unchecked*: it overwrites NONMODIFIABLE objects and keeps every flag as given.
  Payload < 36 bytes, ``cert_len`` beyond the payload, or ``cert_len`` 0: BADARGS.
* ERASETRUSTED: unchecked NVM destroy: NONMODIFIABLE/NONDESTROYABLE certs go too; a missing id
  is rc 0 (the back-end still compacts).
* READTRUSTED: missing -> NOTFOUND, NONEXPORTABLE -> ACCESS (``cert_len`` 0, no data); a cert
  larger than the capacity min(MAX_CERT_SIZE, COMM_DATA_LEN - 8) -> BUFFER_SIZE with ``cert_len`` =
  the capacity and that many (stale, here zero) bytes -- the v1.4.0 quirk.
* VERIFY: one trusted root, read from NVM (missing root or read error returned as is; the root's
  NONEXPORTABLE flag does not matter here), loaded as trust anchor (a root that does not parse,
  or whose validity period excludes now, returns the wolfSSL code as is). The chain is a
  concatenation of DER certificates, root side first, leaf last; each one must be signed by a
  certificate in the store, be inside its validity period, and satisfy the basic constraints
  below; CA certificates (basicConstraints CA:TRUE) join the store, and for a non-CA (leaf) with
  CACHE_LEAF_PUBKEY its SubjectPublicKeyInfo -- sliced byte-for-byte out of the certificate -- is
  cached under the requested key id (or a fresh unique one) in a *big* cache slot with
  flags = ``cachedKeyFlags`` (as given), access ANY, label "cert_pubkey", uncommitted. Any chain
  failure -> CERT_VERIFY (-2005). The response ``keyId`` is the client form of the (possibly
  allocated) id, also on failure.
* VERIFY_ACERT: the root's public key verifies the attribute certificate's signature over its
  AttributeCertificateInfo (RFC 5755); no date check (the v1.4.0 suite's ACERT is long expired).
  Only a signature mismatch (including a key of the wrong algorithm) maps to CERT_VERIFY; other
  errors (unparsable ACERT ASN_PARSE_E, unknown signature algorithm ASN_SIG_OID_E, root errors)
  are returned as is. `cryptography` does not parse attribute certificates, so the three
  top-level elements are sliced by hand and the signature checked with the root key.
* DMA variants: the certificate (or the READTRUSTED destination) is in client memory, reached
  through ``ctx.dma_read`` / ``ctx.dma_write`` (the board's DMA allow list); a request whose size
  is not exactly its struct -> ABORTED; a refused transfer -> ACCESS.

Time: the SoC's virtual clock has no calendar, so validity dates are checked against the *host's*
current UTC time (``CertService.clock``). Replace ``clock`` to pin a date, e.g. to run the pristine
v1.4.0 test vectors whose leaves expired on 2026-05-08 (v1.4.0 diff §12.6)::

    server.service("cert").clock = lambda: datetime(2026, 1, 1, tzinfo=UTC)

Certificate checks reproduced from the wolfSSL certificate manager (what v1.4.0 clients rely on):
issuer found by subject name (authority/subject key identifiers preferred when both present),
signature (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519 through `cryptography`), notBefore <= now <=
notAfter, an issuer whose keyUsage lacks keyCertSign cannot sign, a CA path length of 0 cannot
sign another CA, unknown critical extensions are refused. Not reproduced: CRL/OCSP, name
constraints, policy processing.

Deliberate difference: the v1.4.0 VERIFY_ACERT_DMA handler sets its error rc after encoding the
response, so a malformed request or a refused DMA reaches the client as rc 0 ("verified"); here
such failures carry their code (ABORTED / ACCESS), as the other DMA actions do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from firmware.wire import CertAction, Group, KeyIdType, NvmFlags, WcError, WhError
from firmware.wire.constants import NVM_ACCESS_ANY, keyid_id

from ..context import DmaError, RequestContext
from ..keystore import KeyStore, KeystoreError, Op
from ..nvm_backend import Metadata
from ..server import Service

__all__ = ["CertChainError", "CertService", "CertStore", "spki_of", "split_chain", "verify_acert", "verify_chain"]

CERT_FLAGS_CACHE_LEAF_PUBKEY = 0x0001
LEAF_KEY_LABEL = b"cert_pubkey"
CERT_READ_HEADER = 8  # sizeof(whMessageCert_ReadTrustedResponse)

# wolfCrypt/wolfSSL codes used here beyond the values file (wolfSSL 5.8.4 error-crypt.h /
# error-ssl.h; inferred, they only travel when a root fails to load or an ACERT is malformed).
ASN_BEFORE_DATE_E = -150
ASN_AFTER_DATE_E = -151
ASN_SIG_OID_E = -152
ASN_CRIT_EXT_E = -160
ASN_PATHLEN_INV_E = -245
KEYUSAGE_E = -226

# cycles (assumed, no public figure): one certificate's parse + signature check on the HSM core
DEFAULT_CERT_VERIFY_CYCLES = 2_000_000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CertChainError(Exception):
    """One certificate of a chain (or the root) failed; `rc` is the wolfSSL-style reason."""

    def __init__(self, rc: int, detail: str = "") -> None:
        super().__init__(f"rc {rc}{': ' + detail if detail else ''}")
        self.rc = int(rc)


# ------------------------------------------------------------------------------------------ DER slicing


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int, int]:
    """(tag, header start, content start, content end) of the DER element at `pos`."""
    if pos + 2 > end:
        raise CertChainError(WcError.ASN_PARSE_E, "truncated DER")
    tag, first = buf[pos], buf[pos + 1]
    start = pos
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > end:
            raise CertChainError(WcError.ASN_PARSE_E, "bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise CertChainError(WcError.ASN_PARSE_E, "DER element overruns its container")
    return tag, start, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        item = _tlv(buf, pos, end)
        out.append(item)
        pos = item[3]
    return out


def split_chain(chain: bytes) -> list[bytes]:
    """Cut a concatenation of DER certificates. A bad header is ASN_PARSE_E; a certificate longer
    than what is left is ABORTED (as ``_verifyChainAgainstCmStore`` answers)."""
    out, pos = [], 0
    while pos < len(chain):
        if len(chain) - pos < 2 or chain[pos] != 0x30:
            raise CertChainError(WcError.ASN_PARSE_E, f"no SEQUENCE at offset {pos}")
        try:
            _tag, _s, _cs, ce = _tlv(chain, pos, len(chain))
        except CertChainError:
            # a length that runs past the end is the C code's "cert_len + idx > remaining"
            raise CertChainError(WhError.ABORTED, f"certificate at offset {pos} overruns the chain") from None
        out.append(bytes(chain[pos:ce]))
        pos = ce
    return out


def spki_of(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo of a certificate, byte-for-byte as it appears in it (crypto §4.8)."""
    _t, _s, cs, ce = _tlv(cert_der, 0, len(cert_der))
    parts = _children(cert_der, cs, ce)
    if not parts or parts[0][0] != 0x30:
        raise CertChainError(WcError.ASN_PARSE_E, "no tbsCertificate")
    tbs = _children(cert_der, parts[0][2], parts[0][3])
    fields = tbs[1:] if tbs and tbs[0][0] == 0xA0 else tbs  # [0] version is optional
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or fields[5][0] != 0x30:
        raise CertChainError(WcError.ASN_PARSE_E, "no subjectPublicKeyInfo")
    return bytes(cert_der[fields[5][1] : fields[5][3]])


# ------------------------------------------------------------------------------------------ verification


@dataclass
class _Anchor:
    cert: x509.Certificate
    max_path_len: int | None  # CA certificates it may still sign below it; None = unlimited


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _path_len(cert: x509.Certificate) -> int | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return None


def _ext_value(cert: x509.Certificate, cls: type) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _load(der: bytes) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.extensions  # noqa: B018 - parse them now: a broken extension is a parse error
    except Exception as e:  # noqa: BLE001 - whatever `cryptography` cannot parse is a parse error
        raise CertChainError(WcError.ASN_PARSE_E, f"{type(e).__name__}: {e}") from None
    return cert


def _check_dates(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertChainError(ASN_BEFORE_DATE_E, f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S}")
    if now > cert.not_valid_after_utc:
        raise CertChainError(ASN_AFTER_DATE_E, f"expired {cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S}")


def _check_critical(cert: x509.Certificate) -> None:
    for ext in cert.extensions:
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            raise CertChainError(ASN_CRIT_EXT_E, f"unknown critical extension {ext.oid.dotted_string}")


class CertStore:
    """The certificate manager of one VERIFY: trust anchors plus the CAs of the chain so far."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.anchors: list[_Anchor] = []

    def load_root(self, der: bytes) -> None:
        """``CertManagerLoadCABuffer`` of the trusted root: parse and date check, no signature check."""
        cert = _load(der)
        _check_dates(cert, self.now)
        self.anchors.append(_Anchor(cert, _path_len(cert)))

    def _signer(self, cert: x509.Certificate) -> _Anchor:
        candidates = [a for a in self.anchors if a.cert.subject == cert.issuer]
        if not candidates:
            raise CertChainError(WcError.ASN_NO_SIGNER_E, f"no signer for {cert.issuer.rfc4514_string()}")
        akid = _ext_value(cert, x509.AuthorityKeyIdentifier)
        if akid is not None and akid.key_identifier is not None:
            # prefer the CA whose subject key identifier matches (ties keep store order)
            def rank(a: _Anchor) -> int:
                skid = _ext_value(a.cert, x509.SubjectKeyIdentifier)
                return 0 if skid is not None and skid.digest == akid.key_identifier else 1

            candidates.sort(key=rank)
        for anchor in candidates:
            try:
                cert.verify_directly_issued_by(anchor.cert)
            except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
                continue
            return anchor
        raise CertChainError(WcError.ASN_SIG_CONFIRM_E, "signature does not verify")

    def verify(self, der: bytes) -> x509.Certificate:
        """``CertManagerVerifyBuffer`` of one chain element, then (for a CA) ``LoadCABuffer``:
        the certificate on success."""
        cert = _load(der)
        _check_critical(cert)
        _check_dates(cert, self.now)
        signer = self._signer(cert)
        self_issued = signer.cert.subject == cert.subject
        usage = _ext_value(signer.cert, x509.KeyUsage)
        if usage is not None and not usage.key_cert_sign and not self_issued:
            raise CertChainError(KEYUSAGE_E, "issuer may not sign certificates")
        if _is_ca(cert):
            if signer.max_path_len == 0 and not self_issued:
                raise CertChainError(ASN_PATHLEN_INV_E, "path length constraint exceeded")
            own = _path_len(cert)
            inherited = None if signer.max_path_len is None else max(signer.max_path_len - 1, 0)
            limits = [v for v in (own, inherited) if v is not None]
            self.anchors.append(_Anchor(cert, min(limits) if limits else None))
        return cert


def verify_chain(
    store: CertStore,
    chain: bytes,
    on_leaf: Callable[[bytes], None] | None = None,
    on_cert: Callable[[], None] | None = None,
) -> None:
    """Verify a concatenation of DER certificates (root side first) against `store`.

    CA certificates join the store as they verify; `on_leaf(der)` is called for every verified
    non-CA certificate, `on_cert()` before each certificate (to charge its cost). The first
    failure raises :class:`CertChainError`.
    """
    if not chain:
        raise CertChainError(WhError.BADARGS, "empty chain")
    for der in split_chain(chain):
        if on_cert is not None:
            on_cert()
        cert = store.verify(der)
        if not _is_ca(cert) and on_leaf is not None:
            on_leaf(der)


# ------------------------------------------------------------------------------------------ ACERT

# signatureAlgorithm OIDs (DER content octets) -> (key kind, hash)
_ACERT_ALGS: dict[bytes, tuple[str, Any]] = {
    bytes.fromhex("2a8648ce3d040301"): ("ec", hashes.SHA224),
    bytes.fromhex("2a8648ce3d040302"): ("ec", hashes.SHA256),
    bytes.fromhex("2a8648ce3d040303"): ("ec", hashes.SHA384),
    bytes.fromhex("2a8648ce3d040304"): ("ec", hashes.SHA512),
    bytes.fromhex("2a864886f70d01010e"): ("rsa", hashes.SHA224),
    bytes.fromhex("2a864886f70d01010b"): ("rsa", hashes.SHA256),
    bytes.fromhex("2a864886f70d01010c"): ("rsa", hashes.SHA384),
    bytes.fromhex("2a864886f70d01010d"): ("rsa", hashes.SHA512),
    bytes.fromhex("2b6570"): ("ed25519", None),
}


def verify_acert(root_der: bytes, acert: bytes) -> None:
    """``wc_VerifyX509Acert`` with the root's key: raise CertChainError (ASN_SIG_CONFIRM_E on a
    signature mismatch, ASN_PARSE_E / ASN_SIG_OID_E on a malformed attribute certificate)."""
    root = _load(root_der)
    if not acert:
        raise CertChainError(WcError.BAD_FUNC_ARG, "empty attribute certificate")
    _t, _s, cs, ce = _tlv(acert, 0, len(acert))
    if acert[0] != 0x30:
        raise CertChainError(WcError.ASN_PARSE_E, "attribute certificate is not a SEQUENCE")
    parts = _children(acert, cs, ce)
    if len(parts) != 3 or parts[0][0] != 0x30 or parts[1][0] != 0x30 or parts[2][0] != 0x03:
        raise CertChainError(WcError.ASN_PARSE_E, "not an AttributeCertificate")
    acinfo = bytes(acert[parts[0][1] : parts[0][3]])
    alg = _children(acert, parts[1][2], parts[1][3])
    if not alg or alg[0][0] != 0x06:
        raise CertChainError(WcError.ASN_PARSE_E, "bad signatureAlgorithm")
    scheme = _ACERT_ALGS.get(bytes(acert[alg[0][2] : alg[0][3]]))
    if scheme is None:
        raise CertChainError(ASN_SIG_OID_E, "unsupported signature algorithm")
    bits = acert[parts[2][2] : parts[2][3]]
    if not bits or bits[0] != 0:
        raise CertChainError(WcError.ASN_PARSE_E, "bad signature BIT STRING")
    signature = bytes(bits[1:])
    key = root.public_key()
    kind, hash_cls = scheme
    try:
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, acinfo, ec.ECDSA(hash_cls()))
        elif kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, acinfo, padding.PKCS1v15(), hash_cls())
        elif kind == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, acinfo)
        else:  # a key of another algorithm cannot confirm it (wolfSSL 5.8.4 answers the same)
            raise InvalidSignature
    except (InvalidSignature, ValueError):
        raise CertChainError(WcError.ASN_SIG_CONFIRM_E, "attribute certificate signature") from None


# ------------------------------------------------------------------------------------------ service


class CertService(Service):
    group = Group.CERT
    name = "cert"

    def __init__(self, server: Any) -> None:
        super().__init__(server)
        self.clock: Callable[[], datetime] = _utc_now

    def table(self) -> dict[int, Any]:
        return {
            CertAction.INIT: self.init,
            CertAction.ADDTRUSTED: self.add_trusted,
            CertAction.ERASETRUSTED: self.erase_trusted,
            CertAction.READTRUSTED: self.read_trusted,
            CertAction.VERIFY: self.verify,
            CertAction.ADDTRUSTED_DMA: self.add_trusted_dma,
            CertAction.READTRUSTED_DMA: self.read_trusted_dma,
            CertAction.VERIFY_DMA: self.verify_dma,
            CertAction.VERIFY_ACERT: self.verify_acert,
            CertAction.VERIFY_ACERT_DMA: self.verify_acert_dma,
        }

    # ---------------------------------------------------------------- helpers

    def _spec(self, action: int) -> Any:
        return self.server.wire.message(Group.CERT, action)

    def _simple(self, ctx: RequestContext, rc: int) -> bytes:
        return self._spec(CertAction.INIT).response.pack(ctx.order, rc=int(rc))

    def _nvm(self, ctx: RequestContext) -> Any:
        ctx.spend(ctx.config.costs.get("nvm_op", 0))
        return self.server.nvm

    @staticmethod
    def _max_cert_size(ctx: RequestContext) -> int:
        """WOLFHSM_CFG_MAX_CERT_SIZE: COMM_DATA_LEN unless the configuration says otherwise."""
        return int(getattr(ctx.config, "max_cert_size", ctx.config.comm_data_len))

    def _chain_bytes(self, ctx: RequestContext, data: bytes, length: int) -> bytes:
        """`length` bytes of trailing request data. The C server does not check the announced
        length against the request; bytes past the request are whatever the buffer held -- zeros
        here (which can only fail to parse), bounded by the largest request."""
        out = bytes(data[:length])
        if len(out) < length:
            out += bytes(min(length, ctx.config.max_request_payload) - len(out))
        return out

    def _add(self, ctx: RequestContext, cert_id: int, access: int, flags: int, label: bytes, cert: bytes) -> int:
        """``wh_Server_CertAddTrusted`` at v1.4.0: unchecked NVM add (overwrites protected objects)."""
        if not cert:
            return WhError.BADARGS
        nvm = self._nvm(ctx)
        if nvm is None:
            return WhError.NOTIMPL
        meta = Metadata(id=cert_id & 0xFFFF, access=access & 0xFFFF, flags=flags & 0xFFFF, label=label)
        return nvm.add(meta, cert)

    def _read(self, ctx: RequestContext, cert_id: int, capacity: int) -> tuple[int, bytes]:
        """``wh_Server_CertReadTrusted``: no policy check; NOTFOUND, BUFFER_SIZE (too big), data."""
        if capacity > self._max_cert_size(ctx):
            return WhError.BADARGS, b""
        nvm = self._nvm(ctx)
        found = None if nvm is None else nvm.get(cert_id)
        if found is None:
            return WhError.NOTFOUND, b""
        meta, data = found
        if meta.len > capacity:
            return WhError.BUFFER_SIZE, b""
        return WhError.OK, bytes(data[: meta.len])

    def _exportable(self, ctx: RequestContext, cert_id: int) -> int:
        nvm = self._nvm(ctx)
        meta = None if nvm is None else nvm.metadata(cert_id)
        if meta is None:
            return WhError.NOTFOUND
        return WhError.ACCESS if meta.flags & NvmFlags.NONEXPORTABLE else WhError.OK

    def _cache_leaf(self, ctx: RequestContext, key_id: int, cert_der: bytes, flags: int) -> int:
        """Cache a leaf's SPKI in a big slot (v1.4.0 asks for a big-slot-sized buffer); returns the
        server key id used. Errors raise CertChainError (-> CERT_VERIFY)."""
        ks = KeyStore.of(self.server)
        try:
            if keyid_id(key_id) == 0:
                key_id = ks.unique_id(ctx, key_id)
            spki = spki_of(cert_der)
            big = ctx.config.keycache_bigbufsize
            if len(spki) > big:
                raise CertChainError(WcError.BUFFER_E, "SPKI larger than a big cache slot")
            try:
                ks.check_policy(ctx, Op.CACHE, key_id)
            except KeystoreError as e:
                if e.rc != WhError.NOTFOUND:
                    raise
            cache = ks.cache_for(ctx, key_id)
            cache.remove(key_id)
            slot = cache.take(big)
        except KeystoreError as e:
            raise CertChainError(e.rc, str(e)) from None
        slot.meta = Metadata(
            id=key_id, access=NVM_ACCESS_ANY, flags=flags & 0xFFFF, len=len(spki), label=LEAF_KEY_LABEL
        )
        slot.data = spki
        slot.committed = False
        return key_id

    def _verify(
        self, ctx: RequestContext, chain: bytes, root_id: int, flags: int, cached_flags: int, key_id: int
    ) -> tuple[int, int]:
        """``wh_Server_CertVerify``: (rc, server key id of the cached leaf key or the request's)."""
        if not chain:
            return WhError.BADARGS, key_id
        rc, root = self._read(ctx, root_id, self._max_cert_size(ctx))
        if rc != WhError.OK:
            return rc, key_id
        store = CertStore(self.clock())
        try:
            store.load_root(root)
        except CertChainError as e:
            return e.rc, key_id  # the root failed to load: the wolfSSL code as is
        result = [key_id]
        cycles = ctx.config.costs.get("cert_verify", DEFAULT_CERT_VERIFY_CYCLES)

        def on_leaf(der: bytes) -> None:
            if flags & CERT_FLAGS_CACHE_LEAF_PUBKEY:
                result[0] = self._cache_leaf(ctx, result[0], der, cached_flags)

        try:
            verify_chain(store, chain, on_leaf, lambda: ctx.spend(cycles))
        except CertChainError as e:
            self._trace(ctx, f"chain verification failed: {e}")
            return WhError.CERT_VERIFY, result[0]
        return WhError.OK, result[0]

    def _verify_acert(self, ctx: RequestContext, acert: bytes, root_id: int) -> int:
        rc, root = self._read(ctx, root_id, self._max_cert_size(ctx))
        if rc != WhError.OK:
            return rc
        ctx.spend(ctx.config.costs.get("cert_verify", DEFAULT_CERT_VERIFY_CYCLES))
        try:
            verify_acert(root, acert)
        except CertChainError as e:
            self._trace(ctx, f"attribute certificate: {e}")
            return WhError.CERT_VERIFY if e.rc == WcError.ASN_SIG_CONFIRM_E else e.rc
        return WhError.OK

    @staticmethod
    def _trace(ctx: RequestContext, msg: str) -> None:
        if ctx.hal is not None:
            ctx.hal.trace("cert", msg)

    def _key_server_id(self, ctx: RequestContext, client_key_id: int) -> int:
        return KeyStore.of(self.server).server_id(ctx, client_key_id, KeyIdType.CRYPTO)

    def _key_client_id(self, server_key_id: int) -> int:
        return KeyStore.of(self.server).client_id(server_key_id)

    # ---------------------------------------------------------------- handlers

    def init(self, ctx: RequestContext, payload: bytes) -> bytes:
        return self._simple(ctx, WhError.OK)

    def add_trusted(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(CertAction.ADDTRUSTED).request
        if len(payload) < spec.size:
            return self._simple(ctx, WhError.BADARGS)
        req, data = spec.unpack_prefix(ctx.order, payload)
        if req.cert_len > len(data):
            return self._simple(ctx, WhError.BADARGS)
        rc = self._add(ctx, req.id, req.access, req.flags, req.label, data[: req.cert_len])
        return self._simple(ctx, rc)

    def erase_trusted(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._spec(CertAction.ERASETRUSTED).request.unpack_lenient(ctx.order, payload)
        nvm = self._nvm(ctx)
        rc = WhError.NOTIMPL if nvm is None else nvm.destroy([req.id])  # unchecked, missing id -> 0
        return self._simple(ctx, rc)

    def read_trusted(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(CertAction.READTRUSTED)
        req = spec.request.unpack_lenient(ctx.order, payload)
        capacity = min(self._max_cert_size(ctx), ctx.config.comm_data_len - CERT_READ_HEADER)
        rc = self._exportable(ctx, req.id)
        if rc != WhError.OK:
            return spec.response.pack(ctx.order, rc=rc, cert_len=0)
        rc, cert = self._read(ctx, req.id, capacity)
        if rc == WhError.BUFFER_SIZE:  # v1.4.0: cert_len = capacity, followed by that many stale bytes
            return spec.response.pack(ctx.order, rc=rc, cert_len=capacity, cert=bytes(capacity))
        return spec.response.pack(ctx.order, rc=rc, cert_len=len(cert), cert=cert)

    def verify(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(CertAction.VERIFY)
        if len(payload) < spec.request.size:
            return spec.response.pack(ctx.order, rc=WhError.ABORTED, keyId=0)
        req, data = spec.request.unpack_prefix(ctx.order, payload)
        key_id = self._key_server_id(ctx, req.keyId)
        chain = self._chain_bytes(ctx, data, req.cert_len)
        rc, key_id = self._verify(ctx, chain, req.trustedRootNvmId, req.flags, req.cachedKeyFlags, key_id)
        return spec.response.pack(ctx.order, rc=rc, keyId=self._key_client_id(key_id))

    def verify_acert(self, ctx: RequestContext, payload: bytes) -> bytes:
        req, data = self._spec(CertAction.VERIFY_ACERT).request.unpack_prefix(
            ctx.order,
            bytes(payload).ljust(8, b"\0"),  # v1.4.0 checks no request size
        )
        acert = self._chain_bytes(ctx, data, req.cert_len)
        return self._simple(ctx, self._verify_acert(ctx, acert, req.trustedRootNvmId))

    # ---------------------------------------------------------------- DMA

    def _dma_request(self, ctx: RequestContext, action: int, payload: bytes) -> Any:
        spec = self._spec(action).request
        return spec.unpack(ctx.order, payload) if len(payload) == spec.size else None

    def add_trusted_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._dma_request(ctx, CertAction.ADDTRUSTED_DMA, payload)
        if req is None:
            return self._simple(ctx, WhError.ABORTED)
        try:
            cert = ctx.dma_read(req.cert_addr, req.cert_len)
        except DmaError as e:
            return self._simple(ctx, e.rc)
        return self._simple(ctx, self._add(ctx, req.id, req.access, req.flags, req.label, cert))

    def read_trusted_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._dma_request(ctx, CertAction.READTRUSTED_DMA, payload)
        if req is None:
            return self._simple(ctx, WhError.ABORTED)
        try:
            ctx.dma_check(req.cert_addr, req.cert_len, write=True)  # the whole buffer, up front
        except DmaError as e:
            return self._simple(ctx, e.rc)
        rc = self._exportable(ctx, req.id)
        if rc == WhError.OK:
            rc, cert = self._read(ctx, req.id, req.cert_len)
            if rc == WhError.OK:
                try:
                    ctx.dma_write(req.cert_addr, cert)
                except DmaError as e:
                    rc = e.rc
        return self._simple(ctx, rc)

    def verify_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        spec = self._spec(CertAction.VERIFY_DMA)
        req = self._dma_request(ctx, CertAction.VERIFY_DMA, payload)
        if req is None:
            return spec.response.pack(ctx.order, rc=WhError.ABORTED, keyId=0)
        key_id = self._key_server_id(ctx, req.keyId)
        try:
            chain = ctx.dma_read(req.cert_addr, req.cert_len)
        except DmaError as e:
            return spec.response.pack(ctx.order, rc=e.rc, keyId=0)
        rc, key_id = self._verify(ctx, chain, req.trustedRootNvmId, req.flags, req.cachedKeyFlags, key_id)
        return spec.response.pack(ctx.order, rc=rc, keyId=self._key_client_id(key_id))

    def verify_acert_dma(self, ctx: RequestContext, payload: bytes) -> bytes:
        req = self._dma_request(ctx, CertAction.VERIFY_ACERT_DMA, payload)
        if req is None:
            return self._simple(ctx, WhError.ABORTED)
        try:
            acert = ctx.dma_read(req.cert_addr, req.cert_len)
        except DmaError as e:
            return self._simple(ctx, e.rc)
        return self._simple(ctx, self._verify_acert(ctx, acert, req.trustedRootNvmId))
