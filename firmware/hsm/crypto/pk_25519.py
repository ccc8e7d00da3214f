"""X25519 and Ed25519 behind CRYPTO action 3 (PK): X25519 keygen (16) and shared secret (7),
Ed25519 keygen (15), sign (6) and verify (14).

Semantics of wolfHSM v1.4.0 (crypto spec §3.15, §3.16, §4.3, §4.4; v1.4.0 diff §10.2):

* X25519 keys travel and sit in the cache in wolfCrypt's DER, whose scalar and u-coordinate are
  **byte-reversed** against RFC 7748 (keyenc). Keygen: sz must be 32 (else ECC_BAD_ARG_E);
  EPHEMERAL -> 82-byte key pair DER with keyId 0x0100; cache path -> the pair is cached and the
  response has len 0.
* X25519 shared secret: the v1.4.0 ``[16]``/``[8]`` structs, the secret is always returned.
  DERIVE is checked on the private key only. ``endian`` 1 returns the secret byte-reversed
  (wolfCrypt's default, what the v1.4.0 client sends), anything else the RFC 7748 bytes. A peer
  u-coordinate with bit 255 set is refused with ECC_BAD_ARG_E (-170) — RFC 7748 and
  `cryptography` would mask it; an all-zero result (low-order peer) is ECC_OUT_OF_RANGE_E.
* Ed25519 keygen: EPHEMERAL -> 82-byte key pair DER (raw ``[1]`` public key, the client needs
  it) with keyId **0**; cache path -> len 0.
* Ed25519 sign/verify: type 255 = pure Ed25519 (`cryptography`, byte-identical to wolfCrypt),
  0 = Ed25519ctx, 1 = Ed25519ph (the message is the caller's SHA-512 pre-hash) — both in the small
  RFC 8032 implementation below, computed by the crypto engine (``engine(ctx).ed25519_sign`` /
  ``_verify``: pure Ed25519 on the PKA on a board that has one, same bytes). Any other type,
  ctxSz > 255, a context with type 255 (sign) or
  sizes beyond the request -> BADARGS. Verify: sigSz != 64, S >= L or an undecodable public key ->
  BAD_FUNC_ARG (-173); a signature that does not verify -> **rc SIG_VERIFY_E (-229)**, header only
  (wolfCrypt returns the error with res 0, so the C server answers rc -229).

Key generation draws from the HSM's random bytes, so seeded runs are reproducible.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from firmware.wire import AlgoType, Group, NvmFlags, WcError, WhError

from ..services.crypto import CryptoError
from .engine import engine
from .keyenc import (
    KEY25519_SIZE,
    Ed25519Key,
    KeyEncodingError,
    X25519Key,
    as_crypto_error,
    cycles,
    ed25519_from_der,
    ed25519_pair_der,
    ed25519_public_of,
    erased_client_id,
    evict_quietly,
    fetch_key,
    is_ephemeral,
    random_bytes,
    server_key_id,
    signed32,
    spend,
    store_generated,
    x25519_clamp,
    x25519_from_der,
    x25519_pair_der,
)
from .structs_pk import (
    CURVE25519_KEYGEN_REQUEST,
    CURVE25519_KEYGEN_RESPONSE,
    CURVE25519_REQUEST,
    CURVE25519_RESPONSE,
    ED25519_KEYGEN_REQUEST,
    ED25519_KEYGEN_RESPONSE,
    ED25519_SIGN_REQUEST,
    ED25519_SIGN_RESPONSE,
    ED25519_VERIFY_REQUEST,
    ED25519_VERIFY_RESPONSE,
    OPT_EVICT,
    OPT_EVICTPRV,
    OPT_EVICTPUB,
    PK_CURVE25519,
    PK_CURVE25519_KEYGEN,
    PK_ED25519_KEYGEN,
    PK_ED25519_SIGN,
    PK_ED25519_VERIFY,
    split,
)

EC25519_BIG_ENDIAN = 1
ED25519_PURE, ED25519_CTX, ED25519_PH = 0xFF, 0, 1  # wolfCrypt Ed25519 (-1 as a byte), Ed25519ctx, Ed25519ph
ED25519_SIG_SIZE = 64
MAX_CTX_LEN = 255  # WH_CRYPTO_ED25519_MAX_CTX_LEN


def register(reg: Any) -> None:
    reg.add(Group.CRYPTO, AlgoType.PK, PK_CURVE25519_KEYGEN, handle_x25519_keygen)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_CURVE25519, handle_x25519_shared)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ED25519_KEYGEN, handle_ed25519_keygen)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ED25519_SIGN, handle_ed25519_sign)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ED25519_VERIFY, handle_ed25519_verify)


def _x25519_key(der: bytes) -> X25519Key:
    try:
        return x25519_from_der(bytes(der))
    except KeyEncodingError as e:
        raise as_crypto_error(e) from None


def _ed25519_key(der: bytes) -> Ed25519Key:
    try:
        return ed25519_from_der(bytes(der))
    except KeyEncodingError as e:
        raise as_crypto_error(e) from None


# ------------------------------------------------------------------------------------------ X25519


def x25519_shared(private_le: bytes, public_le: bytes, endian: int) -> bytes:
    """`wc_curve25519_shared_secret_ex`: bit-255 check, X25519, output order by `endian`."""
    if public_le[KEY25519_SIZE - 1] & 0x80:
        raise CryptoError(WcError.ECC_BAD_ARG_E, "peer u-coordinate has bit 255 set")
    try:
        secret = x25519.X25519PrivateKey.from_private_bytes(private_le).exchange(
            x25519.X25519PublicKey.from_public_bytes(public_le)
        )
    except ValueError:  # all-zero shared secret (low-order peer point)
        raise CryptoError(WcError.ECC_OUT_OF_RANGE_E, "all-zero shared secret") from None
    return secret[::-1] if endian == EC25519_BIG_ENDIAN else secret


def handle_x25519_keygen(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = CURVE25519_KEYGEN_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    if signed32(req.sz) != KEY25519_SIZE:
        raise CryptoError(WcError.ECC_BAD_ARG_E, f"X25519 key size {signed32(req.sz)}")
    k = x25519_clamp(random_bytes(ctx, KEY25519_SIZE))
    pub = x25519.X25519PrivateKey.from_private_bytes(k).public_key().public_bytes_raw()
    spend(ctx, cycles(ctx, "x25519") + cycles(ctx, "der"))
    der = x25519_pair_der(k, pub)
    if is_ephemeral(req.flags):
        return 0, CURVE25519_KEYGEN_RESPONSE.pack(ctx.order, keyId=erased_client_id(ctx), der=der)
    key_id = store_generated(ctx, req.keyId, req.flags, req.label, der)
    return 0, CURVE25519_KEYGEN_RESPONSE.pack(ctx.order, keyId=key_id, len=0)


def handle_x25519_shared(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = CURVE25519_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    prv_sid = server_key_id(ctx, req.privateKeyId)
    pub_sid = server_key_id(ctx, req.publicKeyId)
    try:
        _meta, prv_der = fetch_key(ctx, prv_sid, NvmFlags.USAGE_DERIVE)
        prv = _x25519_key(prv_der)
        _meta, pub_der = fetch_key(ctx, pub_sid)
        pub = _x25519_key(pub_der)
        if prv.private is None:
            raise CryptoError(WcError.ECC_BAD_ARG_E, "X25519 private key has no private part")
        spend(ctx, cycles(ctx, "x25519") + 2 * cycles(ctx, "der"))
        secret = x25519_shared(prv.private, pub.public_or_derived(), req.endian)
    finally:
        if req.options & OPT_EVICTPUB:
            evict_quietly(ctx, pub_sid)
        if req.options & OPT_EVICTPRV:
            evict_quietly(ctx, prv_sid)
    return 0, CURVE25519_RESPONSE.pack(ctx.order, secret=secret)


# ------------------------------------------------------------------------------------------ Ed25519 math
# RFC 8032 §5.1 in extended coordinates, for Ed25519ctx / Ed25519ph (which `cryptography` lacks)
# and for the public-key and S range checks wolfCrypt makes before verifying.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]
_IDENTITY: Point = (0, 1, 1, 0)


def _add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % _P
    bb = (y1 + x1) * (y2 + x2) % _P
    cc = 2 * t1 * t2 * _D % _P
    dd = 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(k: int, pt: Point) -> Point:
    acc = _IDENTITY
    while k:
        if k & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        k >>= 1
    return acc


def _encode(pt: Point) -> bytes:
    x, y, z, _t = pt
    zi = pow(z, -1, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decode(raw: bytes) -> Point | None:
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vx2 = v * x * x % _P
    if vx2 == (-u) % _P:
        x = x * _SQRT_M1 % _P
    elif vx2 != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y, 1, x * y % _P


_B = _decode(bytes.fromhex("58" + "66" * 31))
assert _B is not None


@functools.lru_cache(maxsize=256)
def _decode_public(raw: bytes) -> Point | None:
    """Decoded public keys are kept: the square root costs more than the OpenSSL verification."""
    return _decode(raw)


def _dom2(flag: int, context: bytes) -> bytes:
    return b"SigEd25519 no Ed25519 collisions" + bytes((flag, len(context))) + context


def _h(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def ed25519_sign(seed: bytes, public: bytes, msg: bytes, mode: int, context: bytes = b"") -> bytes:
    """RFC 8032 signing for the three wolfCrypt modes (ph: `msg` is already SHA-512(M))."""
    if mode == ED25519_PURE:
        return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(msg)
    dom = _dom2(1 if mode == ED25519_PH else 0, context)
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    r = _h(dom, digest[32:], msg) % _L
    big_r = _encode(_mul(r, _B))
    k = _h(dom, big_r, public, msg) % _L
    return big_r + ((r + k * a) % _L).to_bytes(32, "little")


def ed25519_check(public: bytes, sig: bytes) -> int:
    """wolfCrypt's checks before verifying: 0, or BAD_FUNC_ARG (not 64 bytes, S >= L, bad public key)."""
    if len(sig) != ED25519_SIG_SIZE:
        return int(WcError.BAD_FUNC_ARG)
    s = int.from_bytes(sig[32:], "little")
    if s >= _L or _decode_public(bytes(public)) is None:
        return int(WcError.BAD_FUNC_ARG)
    return 0


def ed25519_verify_math(public: bytes, sig: bytes, msg: bytes, mode: int, context: bytes = b"") -> bool:
    """RFC 8032 verification of a checked signature (ed25519_check passed)."""
    if mode == ED25519_PURE:
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(sig, msg)
            return True
        except InvalidSignature:
            return False
    pub_point = _decode_public(bytes(public))
    assert pub_point is not None
    s = int.from_bytes(sig[32:], "little")
    dom = _dom2(1 if mode == ED25519_PH else 0, context)
    k = _h(dom, sig[:32], public, msg) % _L
    x, y, z, t = pub_point
    check = _add(_mul(s, _B), _mul(k, ((-x) % _P, y, z, (-t) % _P)))  # [S]B - [k]A must encode to R
    return _encode(check) == sig[:32]


def ed25519_verify(public: bytes, sig: bytes, msg: bytes, mode: int, context: bytes = b"") -> int:
    """0 if valid, else the wolfCrypt code: BAD_FUNC_ARG for a malformed input, SIG_VERIFY_E."""
    rc = ed25519_check(public, sig)
    if rc:
        return rc
    return 0 if ed25519_verify_math(public, sig, msg, mode, context) else int(WcError.SIG_VERIFY_E)


# ------------------------------------------------------------------------------------------ Ed25519


def handle_ed25519_keygen(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = ED25519_KEYGEN_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    seed = random_bytes(ctx, KEY25519_SIZE)
    der = ed25519_pair_der(seed, ed25519_public_of(seed))
    spend(ctx, cycles(ctx, "ed25519_keygen") + cycles(ctx, "der"))
    if is_ephemeral(req.flags):
        return 0, ED25519_KEYGEN_RESPONSE.pack(ctx.order, keyId=0, der=der)
    key_id = store_generated(ctx, req.keyId, req.flags, req.label, der)
    return 0, ED25519_KEYGEN_RESPONSE.pack(ctx.order, keyId=key_id, outSz=0)


def _check_mode(mode: int) -> None:
    if mode not in (ED25519_PURE, ED25519_CTX, ED25519_PH):
        raise CryptoError(WhError.BADARGS, f"Ed25519 type {mode}")


def handle_ed25519_sign(ctx: Any, body: bytes) -> tuple[int, bytes]:
    if len(body) < ED25519_SIGN_REQUEST.size:
        raise CryptoError(WhError.BADARGS, "short Ed25519 sign request")
    req = ED25519_SIGN_REQUEST.unpack_lenient(ctx.order, body)
    available = len(req.data)
    if req.msgSz > available:
        raise CryptoError(WhError.BADARGS, "message beyond the request")
    if req.ctxSz > MAX_CTX_LEN or req.ctxSz > available - req.msgSz:
        raise CryptoError(WhError.BADARGS, "context too long or beyond the request")
    _check_mode(req.type)
    if req.type == ED25519_PURE and req.ctxSz:
        raise CryptoError(WhError.BADARGS, "pure Ed25519 takes no context")
    msg, context = split(req.data, req.msgSz, req.ctxSz)
    sid = server_key_id(ctx, req.keyId)
    try:
        _meta, der = fetch_key(ctx, sid, NvmFlags.USAGE_SIGN)
        key = _ed25519_key(der)
        if key.seed is None:
            raise CryptoError(WcError.BAD_FUNC_ARG, "Ed25519 sign with a public key")
        spend(ctx, cycles(ctx, "der"))  # the signature and its hashing: the engine charges them
        sig = engine(ctx).ed25519_sign(ctx, key.seed, msg, req.type, context, key.public)
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    return 0, ED25519_SIGN_RESPONSE.pack(ctx.order, sig=sig)


def handle_ed25519_verify(ctx: Any, body: bytes) -> tuple[int, bytes]:
    if len(body) < ED25519_VERIFY_REQUEST.size:
        raise CryptoError(WhError.BADARGS, "short Ed25519 verify request")
    req = ED25519_VERIFY_REQUEST.unpack_lenient(ctx.order, body)
    available = len(req.data)
    if req.sigSz > available or req.msgSz > available - req.sigSz:
        raise CryptoError(WhError.BADARGS, "signature or message beyond the request")
    if req.ctxSz > available - req.sigSz - req.msgSz or req.ctxSz > MAX_CTX_LEN:
        raise CryptoError(WhError.BADARGS, "context too long or beyond the request")
    _check_mode(req.type)
    sig, msg, context = split(req.data, req.sigSz, req.msgSz, req.ctxSz)
    sid = server_key_id(ctx, req.keyId)
    try:
        _meta, der = fetch_key(ctx, sid, NvmFlags.USAGE_VERIFY)
        key = _ed25519_key(der)
        spend(ctx, cycles(ctx, "der"))  # the verification and its hashing: the engine charges them
        rc = ed25519_check(key.public, sig)
        if not rc and not engine(ctx).ed25519_verify(ctx, key.public, msg, sig, req.type, context):
            rc = int(WcError.SIG_VERIFY_E)
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    if rc:
        raise CryptoError(rc, "Ed25519 signature does not verify")
    return 0, ED25519_VERIFY_RESPONSE.pack(ctx.order, res=1)
