"""Crypto offload through the client: wolfHSM v1.4.0's CRYPTO (0x0400) and CERT (0x0C00) messages.

The methods below become :class:`~firmware.client.Client` methods (``Client`` inherits
:class:`CryptoMixin`). Users pass Python values -- bytes, key ids, `cryptography` key objects --
and never pack bytes: every algorithm body is encoded with the *server's* own declarations of the
v1.4.0 structs (``firmware/hsm/crypto/structs_sym.py``, ``structs_pk.py``, ``structs_pqc.py``,
built on :mod:`firmware.wire`). Those modules live under ``firmware/hsm`` but are pure data
declarations (they import nothing but :mod:`firmware.wire`), so the client imports them instead of
declaring the same structs a second time::

    with Client.connect("tcp://127.0.0.1:23456") as hsm:
        hsm.rng(32)
        hsm.sha256(b"abc")                                   # one 64-byte block per message
        ct = hsm.aes_cbc_encrypt(key, iv, data)              # key: bytes (inline) or a key id
        ct, tag = hsm.aes_gcm_encrypt(key, iv, data, aad=b"hdr")
        der = hsm.ecc_keygen("P-256")                        # SEC1 DER (cryptography loads it)
        kid = hsm.ecc_keygen_cache("P-256")                  # or a key in the HSM's cache
        sig = hsm.ecdsa_sign(kid, digest)                    # DER SEQUENCE{r, s}
        ok = hsm.ecdsa_verify(public_key, digest, sig)       # a key object/DER is imported and evicted

What goes on the wire (wolfhsm-v1.4.0-diff.md §10, wolfhsm-wire-crypto.md §1-§4):

* every request is the 8-byte v1.4.0 envelope ``{u32 algoType, u32 algoSubType}`` + the algorithm
  struct + its data; the response echoes algoType (checked: a mismatch is :class:`BadResponse`)
  and carries ``rc`` (negative: the exception of :func:`~firmware.client.errors.error_for`, e.g.
  :class:`UsageError` for a key whose usage flags forbid the operation, or an ``HsmError`` named
  after the wolfCrypt code such as ``AES_GCM_AUTH_E``); positive rc values count as success, as
  in the v1.4.0 client's parsers;
* SHA-2 works as wolfHSM's client: the *client* keeps wolfCrypt's midstate (H words in the
  client's byte order, byte counters) and the partial block; every full block is one message, the
  final message carries the 0..block-1 byte tail with ``lastBlockLen``. :class:`Sha2Hash` has
  ``hashlib``'s interface (``update``/``digest``/``copy``); since the server is stateless,
  ``digest()`` does not end the hash;
* AES requests carry what the v1.4.0 client sends: CBC ``in|key|iv`` (the client chains the IV
  itself: the response has no IV), ECB ``in|key|iv[16]`` (an unused IV), CTR
  ``in|key|reg|tmp|16 extra bytes`` with wolfCrypt's ``left`` counter; an inline key when ``key``
  is bytes, ``keyLen`` 0 and the key id when it is an int. Inputs longer than one message are
  split (CBC/ECB/CTR chain across messages; GCM is one message at v1.4.0 and cannot be split);
* CMAC carries wolfCrypt's resumable state; one message when it fits, else update/final messages;
* asymmetric operations given a key that is not in the HSM (DER bytes or a `cryptography` key)
  import it first with KEY CACHE under wolfHSM's temporary labels ("TempEccSign" ...) and usage
  flags, and set the EVICT option so that the server drops it afterwards -- the C client's
  auto-import pattern. Keys generated "ephemeral" come back in wolfCrypt's DER forms
  (:func:`load_key` turns any of them into a `cryptography` object, including the byte-reversed
  X25519 and the raw-``[1]`` Ed25519 key pairs that `cryptography` cannot read; :func:`key_der`
  goes the other way).

Single-message operations also exist as ``send_*`` / ``recv_*`` pairs (key ids only: importing a
key is a round trip of its own), as everywhere in :class:`~firmware.client.Client`.
"""

from __future__ import annotations

import hmac as _hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from firmware.hsm.crypto import structs_pk as PK  # the server's v1.4.0 declarations (pure data)
from firmware.hsm.crypto import structs_pqc as PQC
from firmware.hsm.crypto import structs_sym as SYM
from firmware.wire import AlgoType, ByteOrder, CertAction, Group, NvmFlags, WcError, make_kind
from firmware.wire.constants import NVM_LABEL_LEN

from .errors import BadArgs, BadResponse, HsmError, HsmTransportError, error_for

__all__ = [
    "CURVES",
    "AesCtr",
    "CmacHash",
    "CryptoMixin",
    "CtrState",
    "EccCurve",
    "Sha2Hash",
    "SHA2_VARIANTS",
    "key_der",
    "load_key",
]

ENVELOPE = 8  # v1.4.0 generic crypto request / response header
LIBRARY_COMM_DATA_LEN = 1280  # wolfHSM's default COMM_DATA_LEN: a message this small fits any server
AES_BLOCK = 16

# wc_HashType (wolfSSL 5.8.4)
HASH_SHA224, HASH_SHA256, HASH_SHA384, HASH_SHA512 = 5, 6, 7, 8
HASH_SHA512_224, HASH_SHA512_256 = 16, 17
HASH_TYPES = {
    "sha224": HASH_SHA224,
    "sha256": HASH_SHA256,
    "sha384": HASH_SHA384,
    "sha512": HASH_SHA512,
    "sha3_224": 10,
    "sha3_256": 11,
    "sha3_384": 12,
    "sha3_512": 13,
}
# wc_CipherType
CIPHER_AES_CBC, CIPHER_AES_GCM, CIPHER_AES_CTR, CIPHER_AES_ECB = 2, 3, 4, 13
# wc_KdfType (algoSubType of action KDF)
KDF_HKDF, KDF_TWOSTEP_CMAC = 1, 2
# Ed25519 modes (wolfCrypt Ed25519 = -1 goes on the wire as 255)
ED25519_PURE, ED25519_CTX, ED25519_PH = 255, 0, 1
# X25519 output byte order
X25519_LITTLE_ENDIAN, X25519_BIG_ENDIAN = 0, 1
# RSA raw operations (the client pads)
RSA_PUBLIC_ENCRYPT, RSA_PUBLIC_DECRYPT, RSA_PRIVATE_ENCRYPT, RSA_PRIVATE_DECRYPT = 0, 1, 2, 3
# ML-DSA levels: wolfCrypt WC_ML_DSA_44/65/87
MLDSA_LEVELS = {44: 2, 65: 3, 87: 5, 2: 2, 3: 3, 5: 5}
CERT_FLAGS_CACHE_LEAF_PUBKEY = 0x0001

_CLIENT_TIMEOUT: Any = object()  # "use the client's timeout" (Client's own sentinel is private)


# ================================================================================ curves, SHA-2 variants


@dataclass(frozen=True)
class EccCurve:
    name: str
    curve_id: int  # wolfCrypt ecc_curve_id
    size: int  # key size in bytes, the keygen request's `sz`


CURVES: dict[str, EccCurve] = {}
for _c in (EccCurve("P-256", 7, 32), EccCurve("P-384", 15, 48), EccCurve("P-521", 16, 66)):
    for _alias in (_c.name, _c.name.replace("-", ""), {7: "secp256r1", 15: "secp384r1", 16: "secp521r1"}[_c.curve_id]):
        CURVES[_alias.lower()] = _c
_CURVE_BY_ID = {c.curve_id: c for c in CURVES.values()}


def _curve(curve: str | int | EccCurve | Any) -> EccCurve:
    if isinstance(curve, EccCurve):
        return curve
    if isinstance(curve, int):
        found = _CURVE_BY_ID.get(curve)
    else:
        found = CURVES.get(str(getattr(curve, "name", curve)).lower())  # also a cryptography curve object
    if found is None:
        raise BadArgs(f"unknown curve {curve!r} (P-256, P-384, P-521)", local=True)
    return found


@dataclass(frozen=True)
class _ShaVariant:
    name: str
    algo: int  # wire algoType (wc_HashType)
    hash_type: int  # resumeState.hashType of SHA-384/512 requests (selects SHA-512/t at the end)
    block: int
    digest_size: int
    iv: tuple[int, ...]  # FIPS 180-4 §5.3 initial hash values


_IV256 = "6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19"
_IV224 = "c1059ed8 367cd507 3070dd17 f70e5939 ffc00b31 68581511 64f98fa7 befa4fa4"
_IV512 = (
    "6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1"
    " 510e527fade682d1 9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179"
)
_IV384 = (
    "cbbb9d5dc1059ed8 629a292a367cd507 9159015a3070dd17 152fecd8f70e5939"
    " 67332667ffc00b31 8eb44a8768581511 db0c2e0d64f98fa7 47b5481dbefa4fa4"
)
_IV512_224 = (
    "8c3d37c819544da2 73e1996689dcd4d6 1dfab7ae32ff9c82 679dd514582f9fcf"
    " 0f6d2b697bd44da8 77e36f7304c48942 3f9d85a86a1d36c8 1112e6ad91d692a1"
)
_IV512_256 = (
    "22312194fc2bf72c 9f555fa3c84c64c2 2393b86b6f53b151 963877195940eabd"
    " 96283ee2a88effe3 be5e1e2553863992 2b0199fc2c85b8aa 0eb72ddc81c52ca2"
)


def _words(text: str) -> tuple[int, ...]:
    return tuple(int(w, 16) for w in text.split())


SHA2_VARIANTS: dict[str, _ShaVariant] = {
    v.name: v
    for v in (
        _ShaVariant("sha224", HASH_SHA224, 0, 64, 28, _words(_IV224)),
        _ShaVariant("sha256", HASH_SHA256, 0, 64, 32, _words(_IV256)),
        # the v1.4.0 client leaves garbage in a SHA-384 request's hashType; the server ignores it
        _ShaVariant("sha384", HASH_SHA384, HASH_SHA384, 128, 48, _words(_IV384)),
        _ShaVariant("sha512", HASH_SHA512, HASH_SHA512, 128, 64, _words(_IV512)),
        _ShaVariant("sha512_224", HASH_SHA512, HASH_SHA512_224, 128, 28, _words(_IV512_224)),
        _ShaVariant("sha512_256", HASH_SHA512, HASH_SHA512_256, 128, 32, _words(_IV512_256)),
    )
}
_SHA2_ALIASES = {"224": "sha224", "256": "sha256", "384": "sha384", "512": "sha512", "sha-256": "sha256"}


def _sha_variant(name: str) -> _ShaVariant:
    key = str(name).lower().replace("/", "_")
    key = _SHA2_ALIASES.get(key, key).replace("-", "")
    try:
        return SHA2_VARIANTS[key]
    except KeyError:
        raise BadArgs(f"unknown SHA-2 variant {name!r} (one of {', '.join(SHA2_VARIANTS)})", local=True) from None


# ================================================================================ small helpers


def _bytes(data: Any, what: str = "data") -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BadArgs(f"{what}: expected bytes, got {type(data).__name__}", local=True)
    return bytes(data)


def _key_id(value: int, what: str = "key id") -> int:
    value = int(value)
    if not 0 <= value <= 0xFFFF:
        raise BadArgs(f"{what} must be 0..0xffff, got {value}", local=True)
    return value


def _label(label: bytes | str | None) -> bytes:
    raw = b"" if label is None else _bytes(label, "label")
    if len(raw) > NVM_LABEL_LEN:
        raise BadArgs(f"label is {len(raw)} bytes, at most {NVM_LABEL_LEN} fit", local=True)
    return raw


def _take(data: bytes, n: int, what: str) -> bytes:
    if n > len(data):
        raise BadResponse(f"{what}: the response announces {n} bytes but carries {len(data)}")
    return data[:n]


def _aes_key(key: Any) -> tuple[bytes, int]:
    """(inline key bytes, key id): an int is a key id in the HSM, bytes are an inline key."""
    if isinstance(key, bool):
        raise BadArgs("key: expected bytes or a key id", local=True)
    if isinstance(key, int):
        return b"", _key_id(key)
    return _bytes(key, "key"), 0


def _iv16(iv: Any) -> bytes:
    raw = _bytes(iv, "iv")
    if len(raw) != AES_BLOCK:
        raise BadArgs(f"iv: {len(raw)} bytes, AES needs 16", local=True)
    return raw


def _describe_key(key: Any) -> str:
    return f"key 0x{key:04x}" if isinstance(key, int) else "inline key"


# ================================================================================ key encodings


_OID_X25519 = b"\x2b\x65\x6e"
_OID_ED25519 = b"\x2b\x65\x70"


def _okp_pair(oid: bytes, private: bytes, public: bytes) -> bytes:
    """wolfCrypt's 25519 key pair DER: OneAsymmetricKey version 0, raw primitive [1] public key."""
    return b"\x30\x50\x02\x01\x00\x30\x05\x06\x03" + oid + b"\x04\x22\x04\x20" + private + b"\x81\x20" + public


def _okp_spki(oid: bytes, public: bytes) -> bytes:
    return b"\x30\x2a\x30\x05\x06\x03" + oid + b"\x03\x21\x00" + public


def _parse_okp(der: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    """(oid, private, public) of a 25519 DER in wolfCrypt's (or the standard) fixed shapes, else None."""
    if len(der) == 44 and der[:6] == b"\x30\x2a\x30\x05\x06\x03" and der[9:12] == b"\x03\x21\x00":
        return der[6:9], None, der[12:44]
    if len(der) >= 48 and der[2:9] == b"\x02\x01\x00\x30\x05\x06\x03" and der[12:16] == b"\x04\x22\x04\x20":
        public = der[50:82] if len(der) >= 82 and der[48:50] == b"\x81\x20" else None
        return der[9:12], der[16:48], public
    return None


def _clamp(k: bytes) -> bytes:
    b = bytearray(k)
    b[0] &= 248
    b[31] = (b[31] & 127) | 64
    return bytes(b)


def key_der(key: Any) -> bytes:
    """The DER wolfCrypt's client would send for ``key`` (bytes pass through unchanged).

    `cryptography` keys: ECC private -> SEC1 ``ECPrivateKey``; RSA private -> PKCS#1; public
    keys -> SubjectPublicKeyInfo; Ed25519 private -> the 82-byte key pair with a raw ``[1]``
    public key; X25519 -> the same shapes with both 32-byte values **byte-reversed** (and the
    scalar clamped), as wolfCrypt exports them (crypto spec §4).
    """
    if isinstance(key, bytes | bytearray | memoryview):
        return bytes(key)
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

    raw, der = ser.Encoding.Raw, ser.Encoding.DER
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return key.private_bytes(der, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption())
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return key.public_bytes(der, ser.PublicFormat.SubjectPublicKeyInfo)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        seed = key.private_bytes(raw, ser.PrivateFormat.Raw, ser.NoEncryption())
        return _okp_pair(_OID_ED25519, seed, key.public_key().public_bytes(raw, ser.PublicFormat.Raw))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return _okp_spki(_OID_ED25519, key.public_bytes(raw, ser.PublicFormat.Raw))
    if isinstance(key, x25519.X25519PrivateKey):
        k = _clamp(key.private_bytes(raw, ser.PrivateFormat.Raw, ser.NoEncryption()))
        pub = key.public_key().public_bytes(raw, ser.PublicFormat.Raw)
        return _okp_pair(_OID_X25519, k[::-1], pub[::-1])
    if isinstance(key, x25519.X25519PublicKey):
        return _okp_spki(_OID_X25519, key.public_bytes(raw, ser.PublicFormat.Raw)[::-1])
    raise BadArgs(f"cannot encode a {type(key).__name__} for the HSM", local=True)


def load_key(der: bytes) -> Any:
    """A `cryptography` key object from a DER the HSM produced (ephemeral keygen, key export).

    Reads wolfCrypt's 25519 key pairs (raw ``[1]`` public key; X25519 values byte-reversed) by
    hand, everything else (SEC1/PKCS#8/SPKI ECC, PKCS#1/SPKI RSA) through `cryptography`.
    ML-DSA keys in wolfCrypt's expanded form are not readable by `cryptography`.
    """
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

    der = _bytes(der, "der")
    okp = _parse_okp(der)
    if okp is not None and okp[0] in (_OID_X25519, _OID_ED25519):
        oid, private, public = okp
        if oid == _OID_ED25519:
            if private is not None:
                return ed25519.Ed25519PrivateKey.from_private_bytes(private)
            assert public is not None
            return ed25519.Ed25519PublicKey.from_public_bytes(public)
        if private is not None:
            return x25519.X25519PrivateKey.from_private_bytes(private[::-1])
        assert public is not None
        return x25519.X25519PublicKey.from_public_bytes(public[::-1])
    try:
        return ser.load_der_private_key(der, password=None)
    except ValueError:
        return ser.load_der_public_key(der)


# ================================================================================ streaming objects


class Sha2Hash:
    """A SHA-2 hash computed by the HSM, with ``hashlib``'s interface.

    The client holds wolfCrypt's midstate: the eight H words (raw, in the client's byte order),
    the count of bytes compressed and the partial block. ``update`` sends one message per full
    block (at v1.4.0 a message carries exactly one block); ``digest`` sends the tail as the final
    message and leaves the local state alone, so it may be called again or followed by more
    updates (the server keeps nothing between messages).
    """

    def __init__(self, client: Any, name: str = "sha256", data: bytes = b"") -> None:
        self._client = client
        self._v = v = _sha_variant(name)
        self._words = struct.Struct(client.order.prefix + ("8I" if v.block == 64 else "8Q"))
        self._state = self._words.pack(*v.iv)
        self._hi = 0
        self._lo = 0
        self._buf = bytearray()
        self.messages = 0  # messages this object sent (one per block, plus one per digest())
        if data:
            self.update(data)

    @property
    def name(self) -> str:
        return self._v.name

    @property
    def digest_size(self) -> int:
        return self._v.digest_size

    @property
    def block_size(self) -> int:
        return self._v.block

    @property
    def midstate(self) -> tuple[int, int, bytes]:
        """(hiLen, loLen, raw H words) as they travel: what the next request carries."""
        return self._hi, self._lo, self._state

    def update(self, data: bytes | bytearray | memoryview) -> None:
        raw = memoryview(_bytes(data))
        bs = self._v.block
        buf = self._buf
        pos = 0
        if buf:
            pos = min(bs - len(buf), len(raw))
            buf += raw[:pos]
            if len(buf) < bs:
                return
            self._block(bytes(buf))
            buf.clear()
        end = len(raw)
        while end - pos >= bs:
            self._block(bytes(raw[pos : pos + bs]))
            pos += bs
        buf += raw[pos:]

    def _block(self, block: bytes) -> None:
        c = self._client
        c._sha2_send(self._v, self._state, self._hi, self._lo, block, False)
        self._hi, self._lo, h = c.recv_sha2_block()
        self._state = h[: self._words.size]
        self.messages += 1

    def digest(self) -> bytes:
        c = self._client
        c._sha2_send(self._v, self._state, self._hi, self._lo, bytes(self._buf), True)
        _hi, _lo, h = c.recv_sha2_block()
        self.messages += 1
        return h[: self._v.digest_size]

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> Sha2Hash:
        other = Sha2Hash.__new__(Sha2Hash)
        other.__dict__.update(self.__dict__)
        other._buf = bytearray(self._buf)
        other.messages = 0
        return other

    def __repr__(self) -> str:
        return f"<Sha2Hash {self.name} {self._hi << 32 | self._lo} bytes compressed, {len(self._buf)} pending>"


@dataclass(frozen=True)
class CtrState:
    """wolfCrypt's streaming AES-CTR state: counter block, last keystream block, its unused bytes."""

    reg: bytes
    tmp: bytes = bytes(16)
    left: int = 0


class AesCtr:
    """AES-CTR keystream in the HSM, continued across calls (``update`` as often as wanted)."""

    def __init__(self, client: Any, key: bytes | int, iv: bytes) -> None:
        self._client = client
        self._key = key
        self.state = CtrState(_iv16(iv))

    def update(self, data: bytes) -> bytes:
        out, self.state = self._client._aes_ctr_run(self._key, self.state, _bytes(data))
        return out


class CmacHash:
    """AES-CMAC in the HSM with wolfCrypt's resumable state carried by the client.

    ``update`` sends the data (update messages: ``outSz`` 0); ``digest`` sends the final message
    (``outSz`` = tag length) and, the server being stateless, leaves this object usable.
    """

    def __init__(self, client: Any, key: bytes | int) -> None:
        self._client = client
        self._key = key
        self.state: dict[str, Any] = {"buffer": b"", "digest": b"", "bufferSz": 0, "totalSz": 0}

    def update(self, data: bytes) -> None:
        raw = _bytes(data)
        for chunk in self._client._cmac_chunks(self._key, raw):
            self.state = self._client._cmac_message(self._key, chunk, self.state, 0)[1]

    def digest(self, tag_len: int = 16) -> bytes:
        return self._client._cmac_message(self._key, b"", self.state, tag_len)[0]

    def hexdigest(self, tag_len: int = 16) -> str:
        return self.digest(tag_len).hex()


# ================================================================================ the mixin


class CryptoMixin:
    """Crypto and certificate calls of :class:`~firmware.client.Client` (see the module doc).

    ``key`` parameters of symmetric calls: ``bytes`` = an inline key (no usage check), ``int`` =
    the id of a key in the HSM (cache or NVM; its usage flags are enforced). Asymmetric calls take
    a key id, a DER, or a `cryptography` key object (imported for the call and evicted after it).
    """

    if TYPE_CHECKING:  # provided by Client
        order: ByteOrder
        comm_data_len: int
        timeout: float | None
        _server_info: Any

        def _send(self, op: str, group: int, action: int, ctx: Any = None, **fields: Any) -> None: ...
        def _recv(self, op: str, timeout: Any) -> tuple[Any, Any]: ...
        def info(self, *, timeout: Any = ...) -> Any: ...
        def key_cache(self, data: bytes, label: bytes | str = b"", flags: int = 0, key_id: int = 0) -> int: ...
        def key_evict(self, key_id: int) -> None: ...
        def key_export(self, key_id: int) -> Any: ...

    # ------------------------------------------------------------------------ envelope

    def _crypto_send(
        self, op: str, action: int, algo: int, body: bytes, sub: int = 0, what: str = "", ctx: Any = None
    ) -> None:
        """One CRYPTO request: the v1.4.0 envelope + the algorithm ``body``."""
        self._send(
            op,
            Group.CRYPTO,
            int(action),
            (int(action), int(algo), what or op, ctx),
            algoType=int(algo),
            algoSubType=int(sub),
            body=body,
        )

    def _crypto_recv(self, op: str, timeout: Any) -> tuple[bytes, Any]:
        """The response body of a CRYPTO request (its algorithm struct + data) and the send context."""
        wait = self.timeout if timeout is _CLIENT_TIMEOUT else timeout
        r, (action, algo, what, ctx) = self._recv(op, wait)
        if r.algoType != algo:
            raise BadResponse(
                f"{what}: response algoType {r.algoType} to request algoType {algo}",
                kind=make_kind(Group.CRYPTO, action),
            )
        if r.rc < 0:  # the v1.4.0 parsers take rc >= 0 as success
            raise error_for(r.rc, what)
        return r.body, ctx

    def _body(self, message: Any, body: bytes, what: str) -> Any:
        """Decode a response struct (+ its trailing bytes in the Rest field)."""
        if len(body) < message.size:
            raise BadResponse(f"{what}: {len(body)}-byte {message.name}, expected at least {message.size}")
        return message.unpack_lenient(self.order, body)

    def _room(self) -> int:
        """Largest payload both sides take: min(client, server COMM_DATA_LEN) (one COMM INFO, cached)."""
        if self._server_info is None:
            self.info()
        return min(int(self.comm_data_len), int(self._server_info.comm_data_len))

    def _chunk_size(self, overhead: int, total: int, unit: int = AES_BLOCK) -> int:
        """Data bytes per message for a request of ``overhead`` + data bytes (responses are no larger
        than their request here). Asks the server's limit only when one small message cannot do."""
        if overhead + total <= min(LIBRARY_COMM_DATA_LEN, int(self.comm_data_len)):
            return max(total, unit)
        size = (self._room() - overhead) // unit * unit
        if size <= 0:
            raise BadArgs(f"no room for data: {overhead} bytes of overhead per message", local=True)
        return size

    # ------------------------------------------------------------------------ RNG

    def _rng_cap(self) -> int:
        learned = getattr(self, "_rng_learned_cap", None)
        cap = int(self.comm_data_len) - ENVELOPE - SYM.RNG_REQUEST.size  # as wh_Client_RngGenerate
        return min(cap, learned) if learned else cap

    def send_rng(self, size: int) -> None:
        n = int(size)
        if not 0 <= n <= 0xFFFFFFFF:
            raise BadArgs(f"rng: size {n}", local=True)
        self._crypto_send("rng", AlgoType.RNG, AlgoType.RNG, SYM.RNG_REQUEST.pack(self.order, sz=n), ctx=n)

    def recv_rng(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, asked = self._crypto_recv("rng", timeout)
        r = self._body(SYM.RNG_RESPONSE, body, "rng")
        if r.sz > asked:
            raise BadResponse(f"rng: {r.sz} bytes returned for {asked} asked")
        return _take(r.data, r.sz, "rng")

    def rng(self, size: int, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        """``size`` random bytes from the HSM, in as many messages as the server's cap needs."""
        size = int(size)
        if size < 0:
            raise BadArgs(f"rng: size {size}", local=True)
        out = bytearray()
        while len(out) < size:
            want = min(size - len(out), self._rng_cap())
            self.send_rng(want)
            part = self.recv_rng(timeout=timeout)
            if not part:
                raise BadResponse(f"rng: the server returned 0 bytes for {want}")
            if len(part) < want:
                self._rng_learned_cap = len(part)  # the server's cap: ask no more than that next time
            out += part
        return bytes(out)

    # ------------------------------------------------------------------------ SHA-2

    def send_sha2_block(self, name: str, state: bytes, hi: int, lo: int, block: bytes, *, last: bool = False) -> None:
        """One v1.4.0 SHA-2 message: ``state`` = raw H words (client order), ``hi``/``lo`` = bytes
        compressed so far, ``block`` = one full block (non-final) or the 0..block tail (``last``)."""
        v = _sha_variant(name)
        block = _bytes(block, "block")
        if len(block) > v.block or (not last and len(block) != v.block):
            raise BadArgs(f"{v.name}: a {'final' if last else 'non-final'} block of {len(block)} bytes", local=True)
        self._sha2_send(v, _bytes(state, "state"), int(hi), int(lo), block, bool(last))

    def _sha2_send(self, v: _ShaVariant, state: bytes, hi: int, lo: int, block: bytes, last: bool) -> None:
        o = self.order
        n = len(block) if last else 0
        if v.block == 64:
            body = SYM.SHA256_REQUEST_FLAT.pack(o, hi, lo, state, int(last), n, block)
        else:
            body = SYM.SHA512_REQUEST_FLAT.pack(o, hi, lo, state, v.hash_type, int(last), n, block)
        self._crypto_send("sha2", AlgoType.HASH, v.algo, body, what=v.name)

    def recv_sha2_block(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[int, int, bytes]:
        """(hiLen, loLen, hash[64]): the new midstate, or after a final block the digest in front."""
        body, _ = self._crypto_recv("sha2", timeout)
        if len(body) < SYM.SHA2_RESPONSE_FLAT.size:
            raise BadResponse(f"sha2: {len(body)}-byte Sha2Response, expected {SYM.SHA2_RESPONSE_FLAT.size}")
        hi, lo, h, _hash_type = SYM.SHA2_RESPONSE_FLAT.unpack(self.order, body)  # hashType: not set at v1.4.0
        return hi, lo, h

    def sha2_new(self, name: str = "sha256", data: bytes = b"") -> Sha2Hash:
        """A :class:`Sha2Hash` ("sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256")."""
        return Sha2Hash(self, name, data)

    def sha2(self, name: str, data: bytes) -> bytes:
        return Sha2Hash(self, name, data).digest()

    def sha224(self, data: bytes) -> bytes:
        return self.sha2("sha224", data)

    def sha256(self, data: bytes) -> bytes:
        return self.sha2("sha256", data)

    def sha384(self, data: bytes) -> bytes:
        return self.sha2("sha384", data)

    def sha512(self, data: bytes) -> bytes:
        return self.sha2("sha512", data)

    # ------------------------------------------------------------------------ AES-CBC / ECB

    def send_aes_cbc(self, key: bytes | int, iv: bytes, data: bytes, *, encrypt: bool = True) -> None:
        inline, kid = _aes_key(key)
        raw, iv = _bytes(data), _iv16(iv)
        if len(raw) % AES_BLOCK:
            raise BadArgs(f"aes_cbc: {len(raw)} bytes is not a whole number of blocks", local=True)
        body = SYM.AES_CBC_REQUEST.pack(
            self.order, enc=int(encrypt), keyLen=len(inline), sz=len(raw), keyId=kid, data=raw + inline + iv
        )
        self._crypto_send("aes_cbc", AlgoType.CIPHER, CIPHER_AES_CBC, body, what=f"aes_cbc {_describe_key(key)}")

    def recv_aes_cbc(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("aes_cbc", timeout)
        r = self._body(SYM.AES_CBC_RESPONSE, body, "aes_cbc")
        return _take(r.data, r.sz, "aes_cbc")

    def _aes_blocks(self, op: str, key: bytes | int, iv: bytes | None, data: bytes, encrypt: bool) -> bytes:
        inline, _ = _aes_key(key)
        raw = _bytes(data)
        if len(raw) % AES_BLOCK:
            raise BadArgs(f"{op}: {len(raw)} bytes is not a whole number of 16-byte blocks", local=True)
        overhead = ENVELOPE + SYM.AES_CBC_REQUEST.size + len(inline) + AES_BLOCK  # ECB: same shape
        chunk = self._chunk_size(overhead, len(raw))
        out = bytearray()
        chain = _iv16(iv) if iv is not None else None
        for pos in range(0, len(raw), chunk):
            part = raw[pos : pos + chunk]
            if chain is None:
                self.send_aes_ecb(key, part, encrypt=encrypt)
                out += self.recv_aes_ecb()
                continue
            self.send_aes_cbc(key, chain, part, encrypt=encrypt)
            res = self.recv_aes_cbc()
            if len(res) != len(part):
                raise BadResponse(f"{op}: {len(res)} bytes back for {len(part)}")
            out += res
            chain = (res if encrypt else part)[-AES_BLOCK:]  # v1.4.0: the client chains the IV itself
        return bytes(out)

    def aes_cbc_encrypt(self, key: bytes | int, iv: bytes, data: bytes) -> bytes:
        """AES-CBC, no padding (whole blocks); long inputs go in several chained messages."""
        return self._aes_blocks("aes_cbc", key, iv, data, True)

    def aes_cbc_decrypt(self, key: bytes | int, iv: bytes, data: bytes) -> bytes:
        return self._aes_blocks("aes_cbc", key, iv, data, False)

    def send_aes_ecb(self, key: bytes | int, data: bytes, *, encrypt: bool = True) -> None:
        inline, kid = _aes_key(key)
        raw = _bytes(data)
        # the v1.4.0 client appends its 16-byte IV register; the server requires and ignores it
        body = SYM.AES_ECB_REQUEST.pack(
            self.order, enc=int(encrypt), keyLen=len(inline), sz=len(raw), keyId=kid, data=raw + inline + bytes(16)
        )
        self._crypto_send("aes_ecb", AlgoType.CIPHER, CIPHER_AES_ECB, body, what=f"aes_ecb {_describe_key(key)}")

    def recv_aes_ecb(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("aes_ecb", timeout)
        r = self._body(SYM.AES_ECB_RESPONSE, body, "aes_ecb")
        return _take(r.data, r.sz, "aes_ecb")

    def aes_ecb_encrypt(self, key: bytes | int, data: bytes) -> bytes:
        return self._aes_blocks("aes_ecb", key, None, data, True)

    def aes_ecb_decrypt(self, key: bytes | int, data: bytes) -> bytes:
        return self._aes_blocks("aes_ecb", key, None, data, False)

    # ------------------------------------------------------------------------ AES-CTR

    def send_aes_ctr(self, key: bytes | int, state: CtrState, data: bytes) -> None:
        """One CTR message continuing wolfCrypt's ``state`` (counter block ``reg``, keystream ``tmp``,
        ``left`` unused keystream bytes). ``enc`` is 1, as wolfCrypt's CTR callback always sends."""
        inline, kid = _aes_key(key)
        raw = _bytes(data)
        if len(state.reg) != 16 or len(state.tmp) != 16 or not 0 <= state.left <= 16:
            raise BadArgs("aes_ctr: bad CTR state", local=True)
        body = SYM.AES_CTR_REQUEST.pack(
            self.order,
            enc=1,
            keyLen=len(inline),
            sz=len(raw),
            keyId=kid,
            left=state.left,
            data=raw + inline + state.reg + state.tmp + bytes(16),  # + the v1.4.0 client's 16 extra bytes
        )
        self._crypto_send("aes_ctr", AlgoType.CIPHER, CIPHER_AES_CTR, body, what=f"aes_ctr {_describe_key(key)}")

    def recv_aes_ctr(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[bytes, CtrState]:
        body, _ = self._crypto_recv("aes_ctr", timeout)
        r = self._body(SYM.AES_CTR_RESPONSE, body, "aes_ctr")
        rest = _take(r.data, r.sz + 32, "aes_ctr")
        return rest[: r.sz], CtrState(rest[r.sz : r.sz + 16], rest[r.sz + 16 :], r.left)

    def _aes_ctr_run(self, key: bytes | int, state: CtrState, data: bytes) -> tuple[bytes, CtrState]:
        inline, _ = _aes_key(key)
        overhead = ENVELOPE + SYM.AES_CTR_REQUEST.size + len(inline) + 48
        chunk = self._chunk_size(overhead, len(data))
        out = bytearray()
        for pos in range(0, len(data), chunk):
            self.send_aes_ctr(key, state, data[pos : pos + chunk])
            part, state = self.recv_aes_ctr()
            out += part
        return bytes(out), state

    def aes_ctr(self, key: bytes | int, iv: bytes, data: bytes) -> bytes:
        """AES-CTR (encryption = decryption) from the 16-byte initial counter block ``iv``."""
        return self._aes_ctr_run(key, CtrState(_iv16(iv)), _bytes(data))[0]

    def aes_ctr_new(self, key: bytes | int, iv: bytes) -> AesCtr:
        return AesCtr(self, key, iv)

    # ------------------------------------------------------------------------ AES-GCM

    def send_aes_gcm(
        self,
        key: bytes | int,
        iv: bytes,
        data: bytes,
        aad: bytes = b"",
        *,
        encrypt: bool = True,
        tag: bytes = b"",
        tag_len: int = 16,
    ) -> None:
        inline, kid = _aes_key(key)
        raw, iv, aad = _bytes(data), _bytes(iv, "iv"), _bytes(aad, "aad")
        tag = b"" if encrypt else _bytes(tag, "tag")
        tag_sz = int(tag_len) if encrypt else len(tag)
        body = SYM.AES_GCM_REQUEST.pack(
            self.order,
            enc=int(encrypt),
            keyLen=len(inline),
            sz=len(raw),
            ivSz=len(iv),
            authInSz=len(aad),
            authTagSz=tag_sz,
            keyId=kid,
            data=raw + inline + iv + aad + tag,  # tag bytes only when decrypting
        )
        if ENVELOPE + len(body) > int(self.comm_data_len):
            raise BadArgs(f"aes_gcm: {ENVELOPE + len(body)}-byte request exceeds COMM_DATA_LEN", local=True)
        self._crypto_send("aes_gcm", AlgoType.CIPHER, CIPHER_AES_GCM, body, what=f"aes_gcm {_describe_key(key)}")

    def recv_aes_gcm(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[bytes, bytes]:
        """(output, tag): the tag is empty after a decryption."""
        body, _ = self._crypto_recv("aes_gcm", timeout)
        r = self._body(SYM.AES_GCM_RESPONSE, body, "aes_gcm")
        rest = _take(r.data, r.sz + r.authTagSz, "aes_gcm")
        return rest[: r.sz], rest[r.sz :]

    def aes_gcm_encrypt(
        self, key: bytes | int, iv: bytes, data: bytes, aad: bytes = b"", *, tag_len: int = 16
    ) -> tuple[bytes, bytes]:
        """(ciphertext, tag). One message (v1.4.0 has no streaming GCM): at most COMM_DATA_LEN."""
        self.send_aes_gcm(key, iv, data, aad, encrypt=True, tag_len=tag_len)
        return self.recv_aes_gcm()

    def aes_gcm_decrypt(self, key: bytes | int, iv: bytes, data: bytes, tag: bytes, aad: bytes = b"") -> bytes:
        """The plaintext; a wrong tag raises HsmError AES_GCM_AUTH_E (-180)."""
        self.send_aes_gcm(key, iv, data, aad, encrypt=False, tag=tag)
        return self.recv_aes_gcm()[0]

    # ------------------------------------------------------------------------ CMAC

    def send_cmac(
        self, key: bytes | int, data: bytes, *, tag_len: int = 0, state: dict[str, Any] | None = None
    ) -> None:
        """One CMAC message: one-shot (data and ``tag_len``), update (``tag_len`` 0) or final,
        continuing ``state`` (the ``resumeState`` record: buffer, digest, bufferSz, totalSz)."""
        inline, kid = _aes_key(key)
        raw = _bytes(data)
        body = SYM.CMAC_REQUEST.pack(
            self.order,
            outSz=int(tag_len),
            inSz=len(raw),
            keySz=len(inline),
            keyId=kid,
            resumeState=state or {},
            data=raw + inline,
        )
        self._crypto_send("cmac", AlgoType.CMAC, AlgoType.CMAC, body, what=f"cmac {_describe_key(key)}")

    def recv_cmac(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[bytes, dict[str, Any]]:
        """(tag, new state): the tag is empty after an update."""
        body, _ = self._crypto_recv("cmac", timeout)
        r = self._body(SYM.CMAC_RESPONSE, body, "cmac")
        return _take(r.data, r.outSz, "cmac"), r.resumeState._asdict()

    def _cmac_chunks(self, key: bytes | int, data: bytes) -> Iterable[bytes]:
        inline, _ = _aes_key(key)
        chunk = self._chunk_size(ENVELOPE + SYM.CMAC_REQUEST.size + len(inline), len(data), 1)
        return (data[i : i + chunk] for i in range(0, len(data), chunk))

    def _cmac_message(
        self, key: bytes | int, data: bytes, state: dict[str, Any], tag_len: int
    ) -> tuple[bytes, dict[str, Any]]:
        self.send_cmac(key, data, tag_len=tag_len, state=state)
        return self.recv_cmac()

    def cmac(self, key: bytes | int, data: bytes, *, tag_len: int = 16) -> bytes:
        """AES-CMAC tag: one message when it fits, else update messages and a final one."""
        raw = _bytes(data)
        chunks = list(self._cmac_chunks(key, raw))
        if len(chunks) == 1:
            return self._cmac_message(key, raw, {}, tag_len)[0]  # one-shot (inSz and outSz set)
        mac = self.cmac_new(key)
        mac.update(raw)
        return mac.digest(tag_len)

    def cmac_new(self, key: bytes | int) -> CmacHash:
        return CmacHash(self, key)

    def cmac_verify(self, key: bytes | int, data: bytes, tag: bytes) -> bool:
        """As wolfCrypt's wc_AesCmacVerify: generate and compare on the client (no verify message)."""
        tag = _bytes(tag, "tag")
        return _hmac.compare_digest(self.cmac(key, data, tag_len=len(tag)), tag)

    # ------------------------------------------------------------------------ HKDF, CMAC-KDF

    def send_hkdf(
        self,
        ikm: bytes | int,
        length: int,
        salt: bytes = b"",
        info: bytes = b"",
        *,
        hash: str = "sha256",
        flags: int = NvmFlags.EPHEMERAL,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> None:
        hash_type = HASH_TYPES.get(str(hash).lower().replace("-", ""))
        if hash_type is None:
            raise BadArgs(f"hkdf: unknown hash {hash!r} ({', '.join(HASH_TYPES)})", local=True)
        key_in, kid_in = _aes_key(ikm)
        salt, info = _bytes(salt, "salt"), _bytes(info, "info")
        body = SYM.HKDF_REQUEST.pack(
            self.order,
            flags=int(flags),
            keyIdIn=kid_in,
            keyIdOut=_key_id(key_id),
            hashType=hash_type,
            inKeySz=len(key_in),
            saltSz=len(salt),
            infoSz=len(info),
            outSz=int(length),
            label=_label(label),
            data=key_in + salt + info,
        )
        self._crypto_send("hkdf", AlgoType.KDF, AlgoType.KDF, body, KDF_HKDF, what=f"hkdf {_describe_key(ikm)}")

    def recv_hkdf(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[int, bytes]:
        """(key id, output key): the key when EPHEMERAL, else the id it is cached under."""
        body, _ = self._crypto_recv("hkdf", timeout)
        r = self._body(SYM.HKDF_RESPONSE, body, "hkdf")
        return r.keyIdOut, _take(r.data, r.outSz, "hkdf")

    def hkdf(
        self, ikm: bytes | int, length: int, salt: bytes = b"", info: bytes = b"", *, hash: str = "sha256"
    ) -> bytes:
        """RFC 5869 HKDF in the HSM; ``ikm`` inline or a key id (usage DERIVE). Returns the key."""
        self.send_hkdf(ikm, length, salt, info, hash=hash)
        return self.recv_hkdf()[1]

    def hkdf_cache(
        self,
        ikm: bytes | int,
        length: int,
        salt: bytes = b"",
        info: bytes = b"",
        *,
        hash: str = "sha256",
        flags: int = 0,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        """HKDF whose output stays in the HSM's key cache (``flags`` its usage); returns its id."""
        self.send_hkdf(ikm, length, salt, info, hash=hash, flags=int(flags) & ~int(NvmFlags.EPHEMERAL), key_id=key_id,
                       label=label)  # fmt: skip
        return self.recv_hkdf()[0]

    def send_cmac_kdf(
        self,
        salt: bytes | int,
        z: bytes | int,
        fixed_info: bytes,
        length: int,
        *,
        flags: int = NvmFlags.EPHEMERAL,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> None:
        salt_raw, salt_id = _aes_key(salt)
        z_raw, z_id = _aes_key(z)
        fixed = _bytes(fixed_info, "fixed_info")
        body = SYM.CMAC_KDF_REQUEST.pack(
            self.order,
            flags=int(flags),
            keyIdSalt=salt_id,
            keyIdZ=z_id,
            keyIdOut=_key_id(key_id),
            saltSz=len(salt_raw),
            zSz=len(z_raw),
            fixedInfoSz=len(fixed),
            outSz=int(length),
            label=_label(label),
            data=salt_raw + z_raw + fixed,
        )
        self._crypto_send("cmac_kdf", AlgoType.KDF, AlgoType.KDF, body, KDF_TWOSTEP_CMAC)

    def recv_cmac_kdf(self, *, timeout: Any = _CLIENT_TIMEOUT) -> tuple[int, bytes]:
        body, _ = self._crypto_recv("cmac_kdf", timeout)
        r = self._body(SYM.CMAC_KDF_RESPONSE, body, "cmac_kdf")
        return r.keyIdOut, _take(r.data, r.outSz, "cmac_kdf")

    def cmac_kdf(self, salt: bytes | int, z: bytes | int, fixed_info: bytes, length: int) -> bytes:
        """SP 800-56C two-step KDF with AES-CMAC (wolfCrypt's wc_KDA_KDF_twostep_cmac); salt and Z
        inline or by key id (usage DERIVE)."""
        self.send_cmac_kdf(salt, z, fixed_info, length)
        return self.recv_cmac_kdf()[1]

    def cmac_kdf_cache(
        self,
        salt: bytes | int,
        z: bytes | int,
        fixed_info: bytes,
        length: int,
        *,
        flags: int = 0,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        self.send_cmac_kdf(salt, z, fixed_info, length, flags=int(flags) & ~int(NvmFlags.EPHEMERAL), key_id=key_id,
                           label=label)  # fmt: skip
        return self.recv_cmac_kdf()[0]

    # ------------------------------------------------------------------------ key import for PK calls

    def _pk_key(self, key: Any, flags: int, label: bytes) -> tuple[int, bool]:
        """(key id, imported): a key id as is, else KEY CACHE the DER with ``flags`` (the C client's
        temporary import; the operation then carries EVICT)."""
        if isinstance(key, bool):
            raise BadArgs("key: expected a key id, a DER or a key object", local=True)
        if isinstance(key, int):
            return _key_id(key), False
        return self.key_cache(key_der(key), label=label, flags=int(flags)), True

    def _evict_after_failure(self, key_id: int, imported: bool) -> None:
        if imported:
            try:
                self.key_evict(key_id)
            except (HsmError, HsmTransportError):
                pass  # the server already evicted it (EVICT option), or the link is gone

    def _pk_call(self, keys: list[tuple[Any, int, bytes]], run: Any) -> Any:
        """Import what needs importing, run ``run(ids, evict_bits)``, evict leftovers on failure."""
        done: list[tuple[int, bool]] = []
        try:
            for key, flags, label in keys:
                done.append(self._pk_key(key, flags, label))
            return run([kid for kid, _ in done], [imp for _, imp in done])
        except BaseException:
            for kid, imp in done:
                self._evict_after_failure(kid, imp)
            raise

    def _keygen(self, op: str, algo: int, message: Any, response: Any, sub: int = 0, **fields: Any) -> Any:
        self._crypto_send(op, AlgoType.PK, algo, message.pack(self.order, **fields), sub)
        body, _ = self._crypto_recv(op, _CLIENT_TIMEOUT)
        return self._body(response, body, op)

    # ------------------------------------------------------------------------ RSA

    def rsa_keygen(self, bits: int = 2048, e: int = 65537) -> bytes:
        """An RSA key generated in the HSM and returned (PKCS#1 RSAPrivateKey DER)."""
        r = self._keygen("rsa_keygen", PK.PK_RSA_KEYGEN, PK.RSA_KEYGEN_REQUEST, PK.RSA_KEYGEN_RESPONSE,
                         flags=NvmFlags.EPHEMERAL, keyId=0, size=int(bits), e=int(e))  # fmt: skip
        return _take(r.der, r.len, "rsa_keygen")

    def rsa_keygen_cache(
        self,
        bits: int = 2048,
        e: int = 65537,
        *,
        flags: int = NvmFlags.USAGE_ENCRYPT | NvmFlags.USAGE_DECRYPT | NvmFlags.USAGE_SIGN | NvmFlags.USAGE_VERIFY,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        """An RSA key generated into the HSM's key cache; returns its id (v1.4.0 returns no public key)."""
        r = self._keygen("rsa_keygen", PK.PK_RSA_KEYGEN, PK.RSA_KEYGEN_REQUEST, PK.RSA_KEYGEN_RESPONSE,
                         flags=int(flags) & ~int(NvmFlags.EPHEMERAL), keyId=_key_id(key_id), size=int(bits), e=int(e),
                         label=_label(label))  # fmt: skip
        return r.keyId & 0xFFFF

    def send_rsa_function(self, key_id: int, op: int, data: bytes, *, options: int = 0, out_len: int = 0) -> None:
        raw = _bytes(data)
        cap = int(out_len) or max(len(raw), 512)
        body = PK.RSA_REQUEST.pack(
            self.order, opType=int(op), options=int(options), keyId=_key_id(key_id), inLen=len(raw), outLen=cap,
            data=raw,
        )  # fmt: skip
        self._crypto_send("rsa_function", AlgoType.PK, PK.PK_RSA, body, what=f"rsa_function key 0x{key_id:04x}")

    def recv_rsa_function(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("rsa_function", timeout)
        r = self._body(PK.RSA_RESPONSE, body, "rsa_function")
        return _take(r.out, r.outLen, "rsa_function")

    def rsa_function(self, key: Any, op: int, data: bytes) -> bytes:
        """The raw RSA primitive on a modulus-sized big-endian block (the caller pads):
        op 0 public encrypt, 1 public decrypt (x^e), 2 private encrypt, 3 private decrypt (x^d).
        ``key``: a key id, or a DER / `cryptography` key imported for the call."""
        usage = NvmFlags.USAGE_ENCRYPT if op in (0, 2) else NvmFlags.USAGE_DECRYPT
        usage |= NvmFlags.USAGE_VERIFY if op == 1 else NvmFlags.USAGE_SIGN if op == 2 else 0

        def run(ids: list[int], imported: list[bool]) -> bytes:
            self.send_rsa_function(ids[0], op, data, options=PK.OPT_EVICT if imported[0] else 0)
            return self.recv_rsa_function()

        return self._pk_call([(key, int(usage), b"TempRsaFunction\0")], run)

    def rsa_public_encrypt(self, key: Any, block: bytes) -> bytes:
        return self.rsa_function(key, RSA_PUBLIC_ENCRYPT, block)

    def rsa_private_decrypt(self, key: Any, block: bytes) -> bytes:
        return self.rsa_function(key, RSA_PRIVATE_DECRYPT, block)

    def rsa_get_size(self, key: Any) -> int:
        """Modulus size in bytes."""

        def run(ids: list[int], imported: list[bool]) -> int:
            body = PK.RSA_GET_SIZE_REQUEST.pack(self.order, options=PK.OPT_EVICT if imported[0] else 0, keyId=ids[0])
            self._crypto_send("rsa_get_size", AlgoType.PK, PK.PK_RSA_GET_SIZE, body)
            body, _ = self._crypto_recv("rsa_get_size", _CLIENT_TIMEOUT)
            return self._body(PK.RSA_GET_SIZE_RESPONSE, body, "rsa_get_size").keySize

        return self._pk_call([(key, 0, b"TempRsaGetSize\0")], run)

    # ------------------------------------------------------------------------ ECC

    def ecc_keygen(self, curve: str | int = "P-256") -> bytes:
        """An ECC key pair generated in the HSM and returned: SEC1 ECPrivateKey DER with the curve
        and public point (121 / 167 / 223 bytes for P-256 / 384 / 521); see :func:`load_key`."""
        c = _curve(curve)
        r = self._keygen("ecc_keygen", PK.PK_EC_KEYGEN, PK.ECC_KEYGEN_REQUEST, PK.ECC_KEYGEN_RESPONSE,
                         sz=c.size, curveId=c.curve_id, keyId=0, flags=NvmFlags.EPHEMERAL)  # fmt: skip
        return _take(r.der, r.len, "ecc_keygen")

    def ecc_keygen_cache(
        self,
        curve: str | int = "P-256",
        *,
        flags: int = NvmFlags.USAGE_SIGN | NvmFlags.USAGE_VERIFY | NvmFlags.USAGE_DERIVE,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        """An ECC key generated into the HSM's key cache with usage ``flags``; returns its id."""
        c = _curve(curve)
        r = self._keygen("ecc_keygen", PK.PK_EC_KEYGEN, PK.ECC_KEYGEN_REQUEST, PK.ECC_KEYGEN_RESPONSE,
                         sz=c.size, curveId=c.curve_id, keyId=_key_id(key_id),
                         flags=int(flags) & ~int(NvmFlags.EPHEMERAL), label=_label(label))  # fmt: skip
        return r.keyId & 0xFFFF

    def public_key(self, key_id: int) -> Any:
        """The `cryptography` public key of an (exportable) asymmetric key in the HSM (KEY EXPORT)."""
        key = load_key(self.key_export(key_id).data)
        return key.public_key() if hasattr(key, "public_key") else key

    def send_ecdsa_sign(self, key_id: int, digest: bytes, *, options: int = 0) -> None:
        raw = _bytes(digest, "digest")
        body = PK.ECC_SIGN_REQUEST.pack(self.order, options=int(options), keyId=_key_id(key_id), sz=len(raw), data=raw)
        self._crypto_send("ecdsa_sign", AlgoType.PK, PK.PK_ECDSA_SIGN, body, what=f"ecdsa_sign key 0x{key_id:04x}")

    def recv_ecdsa_sign(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("ecdsa_sign", timeout)
        r = self._body(PK.ECC_SIGN_RESPONSE, body, "ecdsa_sign")
        return _take(r.sig, r.sz, "ecdsa_sign")

    def ecdsa_sign(self, key: Any, digest: bytes) -> bytes:
        """ECDSA signature (DER ``SEQUENCE{r, s}``) of a digest of any length (its leftmost bits
        are used). ``key``: a key id (usage SIGN) or a private key DER / object."""

        def run(ids: list[int], imported: list[bool]) -> bytes:
            self.send_ecdsa_sign(ids[0], digest, options=PK.OPT_EVICT if imported[0] else 0)
            return self.recv_ecdsa_sign()

        return self._pk_call([(key, NvmFlags.USAGE_SIGN, b"TempEccSign\0")], run)

    def send_ecdsa_verify(self, key_id: int, digest: bytes, sig: bytes, *, options: int = 0) -> None:
        raw, sig = _bytes(digest, "digest"), _bytes(sig, "sig")
        body = PK.ECC_VERIFY_REQUEST.pack(
            self.order, options=int(options), keyId=_key_id(key_id), sigSz=len(sig), hashSz=len(raw), data=sig + raw
        )
        what = f"ecdsa_verify key 0x{key_id:04x}"
        self._crypto_send("ecdsa_verify", AlgoType.PK, PK.PK_ECDSA_VERIFY, body, what=what)

    def recv_ecdsa_verify(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bool:
        body, _ = self._crypto_recv("ecdsa_verify", timeout)
        return self._body(PK.ECC_VERIFY_RESPONSE, body, "ecdsa_verify").res == 1

    def ecdsa_verify(self, key: Any, digest: bytes, sig: bytes) -> bool:
        """Whether ``sig`` (DER) is a valid ECDSA signature of ``digest``; a wrong signature is
        False (rc 0, res 0 on the wire), a malformed one an HsmError (e.g. ASN_PARSE_E).
        ``key``: a key id (usage VERIFY), or a public/private key DER or object."""

        def run(ids: list[int], imported: list[bool]) -> bool:
            self.send_ecdsa_verify(ids[0], digest, sig, options=PK.OPT_EVICT if imported[0] else 0)
            return self.recv_ecdsa_verify()

        return self._pk_call([(key, NvmFlags.USAGE_VERIFY, b"TempEccVerify\0")], run)

    def send_ecdh(self, private_key_id: int, public_key_id: int, *, options: int = 0) -> None:
        body = PK.ECDH_REQUEST.pack(
            self.order, options=int(options), privateKeyId=_key_id(private_key_id), publicKeyId=_key_id(public_key_id)
        )
        self._crypto_send("ecdh", AlgoType.PK, PK.PK_ECDH, body, what=f"ecdh key 0x{private_key_id:04x}")

    def recv_ecdh(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("ecdh", timeout)
        r = self._body(PK.ECDH_RESPONSE, body, "ecdh")
        return _take(r.secret, r.sz, "ecdh")

    def ecdh(self, private_key: Any, public_key: Any) -> bytes:
        """ECDH shared secret (x coordinate, big-endian, field size). The private key needs usage
        DERIVE; either key may be an id, a DER or an object (imported with DERIVE, then evicted)."""

        def run(ids: list[int], imported: list[bool]) -> bytes:
            options = (PK.OPT_EVICTPUB if imported[0] else 0) | (PK.OPT_EVICTPRV if imported[1] else 0)
            self.send_ecdh(ids[1], ids[0], options=options)
            return self.recv_ecdh()

        derive = int(NvmFlags.USAGE_DERIVE)  # the C client imports the public key first
        return self._pk_call([(public_key, derive, b"TempEccDh-pub\0"), (private_key, derive, b"TempEccDh-prv\0")],
                             run)  # fmt: skip

    # ------------------------------------------------------------------------ X25519

    def x25519_keygen(self) -> bytes:
        """An X25519 key pair from the HSM: wolfCrypt's 82-byte DER with **byte-reversed** values
        (:func:`load_key` reads it)."""
        r = self._keygen("x25519_keygen", PK.PK_CURVE25519_KEYGEN, PK.CURVE25519_KEYGEN_REQUEST,
                         PK.CURVE25519_KEYGEN_RESPONSE, sz=32, flags=NvmFlags.EPHEMERAL, keyId=0)  # fmt: skip
        return _take(r.der, r.len, "x25519_keygen")

    def x25519_keygen_cache(
        self, *, flags: int = NvmFlags.USAGE_DERIVE, key_id: int = 0, label: bytes | str = b""
    ) -> int:
        r = self._keygen("x25519_keygen", PK.PK_CURVE25519_KEYGEN, PK.CURVE25519_KEYGEN_REQUEST,
                         PK.CURVE25519_KEYGEN_RESPONSE, sz=32, flags=int(flags) & ~int(NvmFlags.EPHEMERAL),
                         keyId=_key_id(key_id), label=_label(label))  # fmt: skip
        return r.keyId & 0xFFFF

    def send_x25519(
        self, private_key_id: int, public_key_id: int, *, endian: int = X25519_LITTLE_ENDIAN, options: int = 0
    ) -> None:
        body = PK.CURVE25519_REQUEST.pack(
            self.order,
            options=int(options),
            privateKeyId=_key_id(private_key_id),
            publicKeyId=_key_id(public_key_id),
            endian=int(endian),
        )
        self._crypto_send("x25519", AlgoType.PK, PK.PK_CURVE25519, body, what=f"x25519 key 0x{private_key_id:04x}")

    def recv_x25519(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("x25519", timeout)
        r = self._body(PK.CURVE25519_RESPONSE, body, "x25519")
        return _take(r.secret, r.sz, "x25519")

    def x25519(self, private_key: Any, public_key: Any, *, big_endian: bool = False) -> bytes:
        """X25519 shared secret, RFC 7748 byte order (``big_endian``: reversed, wolfCrypt's default).
        Keys: ids (the private one with usage DERIVE), wolfCrypt DERs, or `cryptography` objects."""

        def run(ids: list[int], imported: list[bool]) -> bytes:
            options = (PK.OPT_EVICTPUB if imported[0] else 0) | (PK.OPT_EVICTPRV if imported[1] else 0)
            endian = X25519_BIG_ENDIAN if big_endian else X25519_LITTLE_ENDIAN
            self.send_x25519(ids[1], ids[0], endian=endian, options=options)
            return self.recv_x25519()

        derive = int(NvmFlags.USAGE_DERIVE)
        return self._pk_call([(public_key, derive, b"TempX25519-pub\0"), (private_key, derive, b"TempX25519-prv\0")],
                             run)  # fmt: skip

    # ------------------------------------------------------------------------ Ed25519

    def ed25519_keygen(self) -> bytes:
        """An Ed25519 key pair from the HSM: wolfCrypt's 82-byte DER (:func:`load_key` reads it)."""
        r = self._keygen("ed25519_keygen", PK.PK_ED25519_KEYGEN, PK.ED25519_KEYGEN_REQUEST,
                         PK.ED25519_KEYGEN_RESPONSE, flags=NvmFlags.EPHEMERAL, keyId=0)  # fmt: skip
        return _take(r.der, r.outSz, "ed25519_keygen")

    def ed25519_keygen_cache(
        self,
        *,
        flags: int = NvmFlags.USAGE_SIGN | NvmFlags.USAGE_VERIFY,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        r = self._keygen("ed25519_keygen", PK.PK_ED25519_KEYGEN, PK.ED25519_KEYGEN_REQUEST,
                         PK.ED25519_KEYGEN_RESPONSE, flags=int(flags) & ~int(NvmFlags.EPHEMERAL), keyId=_key_id(key_id),
                         label=_label(label))  # fmt: skip
        return r.keyId & 0xFFFF

    @staticmethod
    def _ed_mode(context: bytes | None, prehashed: bool) -> tuple[int, bytes]:
        if prehashed:
            return ED25519_PH, _bytes(context or b"", "context")
        if context is not None:
            return ED25519_CTX, _bytes(context, "context")
        return ED25519_PURE, b""

    def send_ed25519_sign(
        self, key_id: int, msg: bytes, *, context: bytes | None = None, prehashed: bool = False, options: int = 0
    ) -> None:
        mode, ctx = self._ed_mode(context, prehashed)
        raw = _bytes(msg, "message")
        body = PK.ED25519_SIGN_REQUEST.pack(
            self.order, options=int(options), keyId=_key_id(key_id), msgSz=len(raw), type=mode, ctxSz=len(ctx),
            data=raw + ctx,
        )  # fmt: skip
        what = f"ed25519_sign key 0x{key_id:04x}"
        self._crypto_send("ed25519_sign", AlgoType.PK, PK.PK_ED25519_SIGN, body, what=what)

    def recv_ed25519_sign(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bytes:
        body, _ = self._crypto_recv("ed25519_sign", timeout)
        r = self._body(PK.ED25519_SIGN_RESPONSE, body, "ed25519_sign")
        return _take(r.sig, r.sigSz, "ed25519_sign")

    def ed25519_sign(self, key: Any, msg: bytes, *, context: bytes | None = None, prehashed: bool = False) -> bytes:
        """64-byte Ed25519 signature: pure Ed25519, Ed25519ctx with ``context``, or Ed25519ph with
        ``prehashed`` (``msg`` = the SHA-512 of the message). ``key``: id (usage SIGN), DER or object."""

        def run(ids: list[int], imported: list[bool]) -> bytes:
            self.send_ed25519_sign(ids[0], msg, context=context, prehashed=prehashed,
                                   options=PK.OPT_EVICT if imported[0] else 0)  # fmt: skip
            return self.recv_ed25519_sign()

        return self._pk_call([(key, NvmFlags.USAGE_SIGN, b"TempEd25519Sign\0")], run)

    def send_ed25519_verify(
        self,
        key_id: int,
        msg: bytes,
        sig: bytes,
        *,
        context: bytes | None = None,
        prehashed: bool = False,
        options: int = 0,
    ) -> None:
        mode, ctx = self._ed_mode(context, prehashed)
        raw, sig = _bytes(msg, "message"), _bytes(sig, "sig")
        body = PK.ED25519_VERIFY_REQUEST.pack(
            self.order, options=int(options), keyId=_key_id(key_id), sigSz=len(sig), msgSz=len(raw), type=mode,
            ctxSz=len(ctx), data=sig + raw + ctx,
        )  # fmt: skip
        what = f"ed25519_verify key 0x{key_id:04x}"
        self._crypto_send("ed25519_verify", AlgoType.PK, PK.PK_ED25519_VERIFY, body, what=what)

    def recv_ed25519_verify(self, *, timeout: Any = _CLIENT_TIMEOUT) -> bool:
        """True; a signature that does not verify is False (the server answers SIG_VERIFY_E)."""
        try:
            body, _ = self._crypto_recv("ed25519_verify", timeout)
        except HsmError as e:
            if e.rc == WcError.SIG_VERIFY_E:
                return False
            raise
        return self._body(PK.ED25519_VERIFY_RESPONSE, body, "ed25519_verify").res == 1

    def ed25519_verify(
        self, key: Any, msg: bytes, sig: bytes, *, context: bytes | None = None, prehashed: bool = False
    ) -> bool:
        def run(ids: list[int], imported: list[bool]) -> bool:
            self.send_ed25519_verify(ids[0], msg, sig, context=context, prehashed=prehashed,
                                     options=PK.OPT_EVICT if imported[0] else 0)  # fmt: skip
            return self.recv_ed25519_verify()

        return self._pk_call([(key, NvmFlags.USAGE_VERIFY, b"TempEd25519Verify\0")], run)

    # ------------------------------------------------------------------------ ML-DSA

    @staticmethod
    def _mldsa_level(level: int | str) -> int:
        text = str(level).upper().removeprefix("ML-DSA-").removeprefix("MLDSA")
        try:
            return MLDSA_LEVELS[int(text)]
        except (KeyError, ValueError):
            raise BadArgs(f"unknown ML-DSA level {level!r} (44, 65, 87)", local=True) from None

    def mldsa_keygen(self, level: int | str = 44) -> bytes:
        """An ML-DSA key pair from the HSM: wolfCrypt's DER with the expanded private key (3904 bytes
        for ML-DSA-44; 65/87 do not fit the 5000-byte example server's responses: BAD_FUNC_ARG)."""
        r = self._keygen("mldsa_keygen", PQC.PK_PQC_SIG_KEYGEN, PQC.MLDSA_KEYGEN_REQUEST, PQC.MLDSA_KEYGEN_RESPONSE,
                         PQC.PQC_SIG_TYPE_DILITHIUM, level=self._mldsa_level(level), keyId=0,
                         flags=NvmFlags.EPHEMERAL)  # fmt: skip
        return _take(r.der, r.len, "mldsa_keygen")

    def mldsa_keygen_cache(
        self,
        level: int | str = 44,
        *,
        flags: int = NvmFlags.USAGE_SIGN | NvmFlags.USAGE_VERIFY,
        key_id: int = 0,
        label: bytes | str = b"",
    ) -> int:
        r = self._keygen("mldsa_keygen", PQC.PK_PQC_SIG_KEYGEN, PQC.MLDSA_KEYGEN_REQUEST, PQC.MLDSA_KEYGEN_RESPONSE,
                         PQC.PQC_SIG_TYPE_DILITHIUM, level=self._mldsa_level(level), keyId=_key_id(key_id),
                         flags=int(flags) & ~int(NvmFlags.EPHEMERAL), label=_label(label))  # fmt: skip
        return r.keyId & 0xFFFF

    def mldsa_sign(self, key: Any, msg: bytes, *, level: int | str = 44) -> bytes:
        """ML-DSA signature of ``msg`` as v1.4.0 signs it (FIPS 204 internal form, no context prefix).
        ``key``: id (usage SIGN) or wolfCrypt key DER. ``level`` goes on the wire; the server uses the key's."""
        lvl = self._mldsa_level(level)

        def run(ids: list[int], imported: list[bool]) -> bytes:
            raw = _bytes(msg, "message")
            body = PQC.MLDSA_SIGN_REQUEST.pack(self.order, options=PQC.MLDSA_OPTIONS_EVICT if imported[0] else 0,
                                               level=lvl, keyId=ids[0], sz=len(raw), msg=raw)  # fmt: skip
            self._crypto_send("mldsa_sign", AlgoType.PK, PQC.PK_PQC_SIG_SIGN, body, PQC.PQC_SIG_TYPE_DILITHIUM)
            body, _ = self._crypto_recv("mldsa_sign", _CLIENT_TIMEOUT)
            r = self._body(PQC.MLDSA_SIGN_RESPONSE, body, "mldsa_sign")
            return _take(r.sig, r.sz, "mldsa_sign")

        return self._pk_call([(key, NvmFlags.USAGE_SIGN, b"TempMlDsaSign\0")], run)

    def mldsa_verify(self, key: Any, msg: bytes, sig: bytes, *, level: int | str = 44) -> bool:
        lvl = self._mldsa_level(level)

        def run(ids: list[int], imported: list[bool]) -> bool:
            raw, s = _bytes(msg, "message"), _bytes(sig, "sig")
            body = PQC.MLDSA_VERIFY_REQUEST.pack(
                self.order, options=PQC.MLDSA_OPTIONS_EVICT if imported[0] else 0, level=lvl, keyId=ids[0],
                sigSz=len(s), hashSz=len(raw), data=s + raw,
            )  # fmt: skip
            self._crypto_send("mldsa_verify", AlgoType.PK, PQC.PK_PQC_SIG_VERIFY, body, PQC.PQC_SIG_TYPE_DILITHIUM)
            body, _ = self._crypto_recv("mldsa_verify", _CLIENT_TIMEOUT)
            return self._body(PQC.MLDSA_VERIFY_RESPONSE, body, "mldsa_verify").res == 1

        return self._pk_call([(key, NvmFlags.USAGE_VERIFY, b"TempMlDsaVerify\0")], run)

    # ------------------------------------------------------------------------ certificates (CERT group)

    def _cert(self, op: str, action: int, ctx: Any = None, **fields: Any) -> Any:
        self._send(op, Group.CERT, action, ctx, **fields)
        r, ctx = self._recv(op, self.timeout)
        return r, ctx

    def cert_init(self) -> None:
        """CERT INIT (the server's certificate manager)."""
        r, _ = self._cert("cert_init", CertAction.INIT)
        if r.rc:
            raise error_for(r.rc, "cert_init")

    def cert_add_trusted(
        self, nvm_id: int, cert: Any, *, label: bytes | str = b"", flags: int = 0, access: int = 0
    ) -> None:
        """Store a trusted (root) certificate as NVM object ``nvm_id`` (DER, or an x509 object).
        v1.4.0 overwrites whatever object has that id, protected or not."""
        der = _cert_der(cert)
        r, _ = self._cert("cert_add_trusted", CertAction.ADDTRUSTED, cert_len=len(der), id=_key_id(nvm_id, "NVM id"),
                          access=int(access), flags=int(flags), label=_label(label), cert=der)  # fmt: skip
        if r.rc:
            raise error_for(r.rc, f"cert_add_trusted 0x{nvm_id:04x}")

    def cert_erase_trusted(self, nvm_id: int) -> None:
        """Remove trusted certificate ``nvm_id`` (v1.4.0: a missing id is not an error)."""
        r, _ = self._cert("cert_erase_trusted", CertAction.ERASETRUSTED, id=_key_id(nvm_id, "NVM id"))
        if r.rc:
            raise error_for(r.rc, f"cert_erase_trusted 0x{nvm_id:04x}")

    def cert_read_trusted(self, nvm_id: int) -> bytes:
        """The DER of trusted certificate ``nvm_id`` (AccessDenied if it is NONEXPORTABLE)."""
        r, _ = self._cert("cert_read_trusted", CertAction.READTRUSTED, id=_key_id(nvm_id, "NVM id"))
        if r.rc:
            raise error_for(r.rc, f"cert_read_trusted 0x{nvm_id:04x}")
        return _take(r.cert, r.cert_len, "cert_read_trusted")

    def cert_verify(
        self,
        chain: Any,
        root_id: int,
        *,
        cache_leaf_key: bool = False,
        key_flags: int = NvmFlags.USAGE_VERIFY,
        key_id: int = 0,
    ) -> int | None:
        """Verify a chain (DER certificates root side first, leaf last: concatenated bytes, or a list
        of DERs / x509 objects) against trusted root ``root_id``, with real validity dates.
        Raises CertVerifyError when it does not verify. With ``cache_leaf_key`` the leaf's public key
        is put in the key cache (usage ``key_flags``) and its id returned; else None."""
        der = _cert_der(chain)
        r, _ = self._cert(
            "cert_verify",
            CertAction.VERIFY,
            cert_len=len(der),
            trustedRootNvmId=_key_id(root_id, "NVM id"),
            flags=CERT_FLAGS_CACHE_LEAF_PUBKEY if cache_leaf_key else 0,
            cachedKeyFlags=int(key_flags) if cache_leaf_key else 0,
            keyId=_key_id(key_id),
            cert=der,
        )
        if r.rc:
            raise error_for(r.rc, f"cert_verify against root 0x{root_id:04x}")
        return r.keyId if cache_leaf_key else None

    def cert_verify_acert(self, acert: bytes, root_id: int) -> None:
        """Verify an attribute certificate's signature with trusted root ``root_id`` (no date check)."""
        der = _bytes(acert, "acert")
        r, _ = self._cert("cert_verify_acert", CertAction.VERIFY_ACERT, cert_len=len(der),
                          trustedRootNvmId=_key_id(root_id, "NVM id"), cert=der)  # fmt: skip
        if r.rc:
            raise error_for(r.rc, f"cert_verify_acert against root 0x{root_id:04x}")


def _cert_der(cert: Any) -> bytes:
    """DER bytes of a certificate, an x509 object, or a list of them (concatenated in order)."""
    if isinstance(cert, bytes | bytearray | memoryview):
        return bytes(cert)
    if hasattr(cert, "public_bytes") and hasattr(cert, "tbs_certificate_bytes"):
        from cryptography.hazmat.primitives.serialization import Encoding

        return cert.public_bytes(Encoding.DER)
    if isinstance(cert, Iterable) and not isinstance(cert, str):
        return b"".join(_cert_der(c) for c in cert)
    raise BadArgs(f"certificate: expected DER bytes or an x509 certificate, got {type(cert).__name__}", local=True)
