"""ECC P-256/384/521 behind CRYPTO action 3 (PK): keygen (9), ECDH (3), ECDSA sign (4) / verify (5).

Semantics of wolfHSM v1.4.0 (crypto spec §3.14, §4.2; v1.4.0 diff §7.2, §10.2):

* Keygen: the curve is chosen like `wc_ecc_set_curve` (a positive curveId selects that curve,
  unknown -> ECC_CURVE_OID_E; otherwise the first curve, by ascending size, whose size >= sz;
  sz > 66 -> ECC_BAD_ARG_E; sz <= 0 with curveId < 0 -> BAD_FUNC_ARG). EPHEMERAL -> SEC1 DER
  (121/167/223 bytes) in the response with keyId **0x0100** (the erased id translated to the
  client, global keys); otherwise the key pair is cached and the response has **len 0**. The
  request size is not checked (missing bytes read as zero).
* ECDH: the v1.4.0 ``[12]``/``[4]`` structs; DERIVE is checked on the private key only; the secret
  (x-coordinate, field size, big-endian) is always returned. Curves of the two keys differ, or
  the "private" key has no private part -> ECC_BAD_ARG_E (-170).
* ECDSA sign: SIGN usage; the hash may have any length (wolfCrypt keeps the leftmost order bits);
  the signature is DER ``SEQUENCE{r, s}``. The nonce comes from the HSM's random bytes; the signature
  and the verification are computed by the crypto engine (``engine(ctx).ecdsa_sign`` / ``_verify``:
  the PKA for P-256 on a board that has one, same bytes).
* ECDSA verify: VERIFY usage; a wrong signature is rc 0 with res 0; a malformed DER signature is
  ASN_PARSE_E (-140), r or s zero or >= n is MP_ZERO_E (-121). EXPORTPUB returns the SPKI.
* EC check-private (11) is compiled out at v1.4.0 -> NOT_COMPILED_IN; make-pub / check-pub do
  not exist on this wire (not registered -> NOT_COMPILED_IN from the envelope).
* EVICT / EVICTPUB / EVICTPRV: unchecked eviction after the operation, success or not.

A key with a private part always yields its public point (a private-only SEC1 key works for
verify and as an ECDH peer, as wolfCrypt's verify derives it too).
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature

from firmware.wire import AlgoType, Group, NvmFlags, WcError, WhError

from ..services.crypto import CryptoError
from .engine import engine
from .keyenc import (
    CURVE_BY_ID,
    CURVES,
    ECC_MAXSIZE,
    EccCurve,
    EccKey,
    KeyEncodingError,
    as_crypto_error,
    cycles,
    ecc_cycles,
    ecc_from_der,
    ecc_pair_der,
    ecc_spki_der,
    erased_client_id,
    evict_quietly,
    fetch_key,
    is_ephemeral,
    random_bytes,
    server_key_id,
    signed32,
    spend,
    store_generated,
)
from .structs_pk import (
    ECC_KEYGEN_REQUEST,
    ECC_KEYGEN_RESPONSE,
    ECC_SIGN_REQUEST,
    ECC_SIGN_RESPONSE,
    ECC_VERIFY_REQUEST,
    ECC_VERIFY_RESPONSE,
    ECDH_REQUEST,
    ECDH_RESPONSE,
    OPT_EVICT,
    OPT_EVICTPRV,
    OPT_EVICTPUB,
    OPT_EXPORTPUB,
    PK_EC_CHECK_PRIV_KEY,
    PK_EC_KEYGEN,
    PK_ECDH,
    PK_ECDSA_SIGN,
    PK_ECDSA_VERIFY,
    split,
)

MP_ZERO_E = -121  # wolfCrypt error-crypt.h: r or s zero / out of range in ECDSA verify
NOT_COMPILED_IN = int(WcError.NOT_COMPILED_IN)


def register(reg: Any) -> None:
    reg.add(Group.CRYPTO, AlgoType.PK, PK_EC_KEYGEN, handle_keygen)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ECDH, handle_ecdh)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ECDSA_SIGN, handle_sign)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_ECDSA_VERIFY, handle_verify)
    reg.add(Group.CRYPTO, AlgoType.PK, PK_EC_CHECK_PRIV_KEY, handle_check_priv)


def decode_key(der: bytes) -> EccKey:
    try:
        return ecc_from_der(bytes(der))
    except KeyEncodingError as e:
        raise as_crypto_error(e) from None


# ------------------------------------------------------------------------------------------ math


def select_curve(size: int, curve_id: int) -> EccCurve:
    """`wc_ecc_set_curve(key, keysize, curve_id)` over the build's curves (P-256/384/521)."""
    if size <= 0 and curve_id < 0:
        raise CryptoError(WcError.BAD_FUNC_ARG, "no key size and no curve")
    if size > ECC_MAXSIZE:
        raise CryptoError(WcError.ECC_BAD_ARG_E, f"key size {size} > {ECC_MAXSIZE}")
    if curve_id > 0:
        curve = CURVE_BY_ID.get(curve_id)
    else:
        curve = next((c for c in CURVES if size <= c.size), None)
    if curve is None:
        raise CryptoError(WcError.ECC_CURVE_OID_E, f"curve {curve_id} not in this build")
    return curve


def random_scalar(ctx: Any, curve: EccCurve) -> int:
    """`wc_ecc_gen_k`: size + 8 random bytes reduced into [1, n-1]."""
    return int.from_bytes(random_bytes(ctx, curve.size + 8), "big") % (curve.n - 1) + 1


def bits2int(digest: bytes, curve: EccCurve) -> int:
    """The hash as wolfCrypt (and FIPS 186) uses it: its leftmost `order bits` bits."""
    obits = curve.order_bits
    if len(digest) * 8 > obits:
        digest = digest[: (obits + 7) // 8]
        return int.from_bytes(digest, "big") >> (len(digest) * 8 - obits)
    return int.from_bytes(digest, "big") if digest else 0


def ecdsa_sign_k(curve: EccCurve, d: int, digest: bytes, k: int) -> tuple[int, int]:
    """ECDSA (r, s) with the nonce k; k*G by OpenSSL, the rest in integers. (r, 0 when r is 0.)"""
    n = curve.n
    r = ec.derive_private_key(k, curve.curve()).public_key().public_numbers().x % n
    if r == 0:
        return 0, 0
    return r, pow(k, -1, n) * (bits2int(digest, curve) + r * d) % n


def ecdsa_sign(ctx: Any, key: EccKey, digest: bytes) -> bytes:
    """ECDSA with a nonce from the HSM's random bytes, computed by the crypto engine."""
    assert key.private is not None
    curve = key.curve
    d = key.private.private_numbers().private_value
    eng = engine(ctx)
    while True:
        k = random_scalar(ctx, curve)
        r, s = eng.ecdsa_sign(ctx, curve, d, digest, k)
        if r and s:
            return encode_dss_signature(r, s)


# Prehashed digests whose bits2int keeps every bit (8 * len <= order bits), per curve size.
_PREHASH = {32: hashes.SHA256(), 48: hashes.SHA384(), 66: hashes.SHA512()}


def ecdsa_verify(ctx: Any, key: EccKey, sig: bytes, digest: bytes) -> int:
    """1 if the signature is valid, 0 if not; malformed signatures raise the wolfCrypt code."""
    curve = key.curve
    n = curve.n
    try:
        r, s = decode_dss_signature(bytes(sig))
    except ValueError:
        raise CryptoError(WcError.ASN_PARSE_E, "malformed DER signature") from None
    if not (0 < r < n and 0 < s < n):
        raise CryptoError(MP_ZERO_E, "r or s out of range")
    q = key.public.public_numbers()
    return int(engine(ctx).ecdsa_verify(ctx, curve, (q.x, q.y), digest, r, s))


@functools.lru_cache(maxsize=64)
def _public_key(curve: EccCurve, x: int, y: int) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(x, y, curve.curve()).public_key()


def ecdsa_verify_rs(curve: EccCurve, pub_xy: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """The verification equation for r, s in 1..n-1 (the software engine's computation)."""
    public = _public_key(curve, *pub_xy)
    e = bits2int(digest, curve) % curve.n
    prehash = _PREHASH[curve.size]
    if e < 1 << (8 * prehash.digest_size):
        # e written as a digest OpenSSL takes without truncation: the same verification equation
        try:
            public.verify(
                encode_dss_signature(r, s), e.to_bytes(prehash.digest_size, "big"), ec.ECDSA(Prehashed(prehash))
            )
            return True
        except InvalidSignature:
            return False
    return _verify_affine(curve, public, e, r, s)  # P-521 with a > 64-byte hash


def _verify_affine(curve: EccCurve, public: ec.EllipticCurvePublicKey, e: int, r: int, s: int) -> bool:
    """Plain ECDSA verification in affine coordinates (a = -3), for hashes OpenSSL cannot take."""
    p, n = curve.p, curve.n
    g = ec.derive_private_key(1, curve.curve()).public_key().public_numbers()
    q = public.public_numbers()

    def add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
        if a is None:
            return b
        if b is None:
            return a
        if a[0] == b[0]:
            if (a[1] + b[1]) % p == 0:
                return None
            lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, p) % p
        else:
            lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, p) % p
        x = (lam * lam - a[0] - b[0]) % p
        return x, (lam * (a[0] - x) - a[1]) % p

    def mul(k: int, pt: tuple[int, int]) -> tuple[int, int] | None:
        acc: tuple[int, int] | None = None
        base: tuple[int, int] | None = pt
        while k:
            if k & 1:
                acc = add(acc, base)
            base = add(base, base)
            k >>= 1
        return acc

    w = pow(s, -1, n)
    x = add(mul(e * w % n, (g.x, g.y)), mul(r * w % n, (q.x, q.y)))
    return x is not None and x[0] % n == r


# ------------------------------------------------------------------------------------------ handlers


def handle_keygen(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = ECC_KEYGEN_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    curve = select_curve(signed32(req.sz), signed32(req.curveId))
    private = ec.derive_private_key(random_scalar(ctx, curve), curve.curve())
    spend(ctx, ecc_cycles(ctx, "ecc_keygen", curve) + cycles(ctx, "der"))
    der = ecc_pair_der(private)
    if is_ephemeral(req.flags):
        return 0, ECC_KEYGEN_RESPONSE.pack(ctx.order, keyId=erased_client_id(ctx), der=der)
    key_id = store_generated(ctx, req.keyId, req.flags, req.label, der)
    return 0, ECC_KEYGEN_RESPONSE.pack(ctx.order, keyId=key_id, len=0)


def handle_ecdh(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = ECDH_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    prv_sid = server_key_id(ctx, req.privateKeyId)
    pub_sid = server_key_id(ctx, req.publicKeyId)
    try:
        _meta, prv_der = fetch_key(ctx, prv_sid, NvmFlags.USAGE_DERIVE)
        prv = decode_key(prv_der)
        _meta, pub_der = fetch_key(ctx, pub_sid)
        pub = decode_key(pub_der)
        if prv.private is None:
            raise CryptoError(WcError.ECC_BAD_ARG_E, "ECDH private key has no private part")
        if prv.curve != pub.curve:
            raise CryptoError(WcError.ECC_BAD_ARG_E, "ECDH keys on different curves")
        spend(ctx, ecc_cycles(ctx, "ecdh", prv.curve) + 2 * cycles(ctx, "der"))
        secret = prv.private.exchange(ec.ECDH(), pub.public)
    finally:
        if req.options & OPT_EVICTPUB:
            evict_quietly(ctx, pub_sid)
        if req.options & OPT_EVICTPRV:
            evict_quietly(ctx, prv_sid)
    return 0, ECDH_RESPONSE.pack(ctx.order, secret=secret)


def handle_sign(ctx: Any, body: bytes) -> tuple[int, bytes]:
    if len(body) < ECC_SIGN_REQUEST.size:
        raise CryptoError(WhError.BADARGS, "short ECDSA sign request")
    req = ECC_SIGN_REQUEST.unpack_lenient(ctx.order, body)
    if req.sz > len(req.data):
        raise CryptoError(WhError.BADARGS, "hash beyond the request")
    sid = server_key_id(ctx, req.keyId)
    try:
        _meta, der = fetch_key(ctx, sid, NvmFlags.USAGE_SIGN)
        key = decode_key(der)
        if key.private is None:
            raise CryptoError(WcError.ECC_BAD_ARG_E, "ECDSA sign with a public key")
        spend(ctx, cycles(ctx, "der"))  # the signature itself: the engine charges it
        sig = ecdsa_sign(ctx, key, req.data[: req.sz])
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    return 0, ECC_SIGN_RESPONSE.pack(ctx.order, sig=sig)


def handle_verify(ctx: Any, body: bytes) -> tuple[int, bytes]:
    if len(body) < ECC_VERIFY_REQUEST.size:
        raise CryptoError(WhError.BADARGS, "short ECDSA verify request")
    req = ECC_VERIFY_REQUEST.unpack_lenient(ctx.order, body)
    if req.sigSz > len(req.data) or req.hashSz > len(req.data) - req.sigSz:
        raise CryptoError(WhError.BADARGS, "signature or hash beyond the request")
    sig, digest = split(req.data, req.sigSz, req.hashSz)
    sid = server_key_id(ctx, req.keyId)
    pub = b""
    try:
        _meta, der = fetch_key(ctx, sid, NvmFlags.USAGE_VERIFY)
        key = decode_key(der)
        spend(ctx, cycles(ctx, "der"))  # the verification itself: the engine charges it
        res = ecdsa_verify(ctx, key, sig, digest)
        if req.options & OPT_EXPORTPUB:
            pub = ecc_spki_der(key.public)
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    return 0, ECC_VERIFY_RESPONSE.pack(ctx.order, res=res, pub=pub)


def handle_check_priv(ctx: Any, body: bytes) -> tuple[int, bytes]:
    """EC check-private (`[8]` keyId, curveId): the v1.4.0 handler is `#if 0`-ed out."""
    raise CryptoError(NOT_COMPILED_IN, "EC check-private is not compiled into v1.4.0")
