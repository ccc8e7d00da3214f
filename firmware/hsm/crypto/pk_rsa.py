"""RSA behind CRYPTO action 3 (PK): keygen (algoType 8), the raw function (1), get-size (17).

Semantics of wolfHSM v1.4.0 (crypto spec §3.13, v1.4.0 diff §10.2):

* Padding is always the client's job: the server performs the bare RSA primitive on a k-byte
  big-endian block and answers the k-byte result, left-padded (``x^e mod n`` for opType 0/1,
  ``x^d mod n`` through the CRT for 2/3). `cryptography` has no raw RSA, so the math is Python
  integers on the key numbers.
* Usage: opType 0/2 need ENCRYPT, 1/3 DECRYPT; when that fails with USAGE, opType 1 retries with
  VERIFY and opType 2 with SIGN (wolfCrypt cannot tell a raw op that is part of a signature).
  get-size checks nothing.
* Keygen: EPHEMERAL -> PKCS#1 RSAPrivateKey DER in the response with keyId 0; otherwise the key
  pair is cached (fresh id if erased) and **the response carries len 0 and no body** (v1.4.0;
  HEAD returns the SPKI).
* Error codes follow wolfCrypt's `wc_RsaFunction`: opType not 0..3 -> BAD_FUNC_ARG (-173, before
  the key is touched), inLen 0 or capacity 0 -> BAD_FUNC_ARG, inLen > k -> BAD_FUNC_ARG, capacity
  < k -> RSA_BUFFER_E (-131). A request shorter than its struct or an inLen beyond the data ->
  BADARGS (-2000).

Assumed where the C source leaves it to the math library (documented choices): an input
numerically >= n -> RSA_OUT_OF_RANGE_E (-253); a private operation with a public-only key ->
BAD_FUNC_ARG.

Keys are generated from the HSM's random bytes (not OpenSSL's), so a seeded run is reproducible:
primes by sieve + Miller-Rabin with ``pow``, ``n`` of ``16 * (bits // 16)`` bits like
`wc_MakeRsaKey` (prime size = bits/16 bytes), ``d = e^-1 mod lcm(p-1, q-1)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from firmware.wire import AlgoType, Group, NvmFlags, WcError, WhError

from ..services.crypto import CryptoError
from .keyenc import (
    KeyEncodingError,
    RsaKey,
    as_crypto_error,
    check_usage,
    evict_quietly,
    fetch_key,
    is_ephemeral,
    random_bytes,
    rsa_cycles,
    rsa_from_der,
    rsa_private_der,
    server_key_id,
    signed32,
    spend,
    store_generated,
)
from .structs_pk import (
    OPT_EVICT,
    PK_RSA,
    PK_RSA_GET_SIZE,
    PK_RSA_KEYGEN,
    RSA_GET_SIZE_REQUEST,
    RSA_GET_SIZE_RESPONSE,
    RSA_KEYGEN_REQUEST,
    RSA_KEYGEN_RESPONSE,
    RSA_REQUEST,
    RSA_RESPONSE,
)

RSA_PUBLIC_ENCRYPT, RSA_PUBLIC_DECRYPT, RSA_PRIVATE_ENCRYPT, RSA_PRIVATE_DECRYPT = 0, 1, 2, 3
RSA_MIN_BITS = 1024  # RSA_MIN_SIZE of the example builds (crypto spec §8.1: RSA min 1024)
RSA_MAX_BITS = 4096  # RSA_MAX_SIZE (wolfSSL default)

_USAGE = {
    RSA_PUBLIC_ENCRYPT: (NvmFlags.USAGE_ENCRYPT, None),
    RSA_PUBLIC_DECRYPT: (NvmFlags.USAGE_DECRYPT, NvmFlags.USAGE_VERIFY),
    RSA_PRIVATE_ENCRYPT: (NvmFlags.USAGE_ENCRYPT, NvmFlags.USAGE_SIGN),
    RSA_PRIVATE_DECRYPT: (NvmFlags.USAGE_DECRYPT, None),
}


def register(reg: Any) -> None:
    for group in (Group.CRYPTO,):
        reg.add(group, AlgoType.PK, PK_RSA_KEYGEN, handle_keygen)
        reg.add(group, AlgoType.PK, PK_RSA, handle_function)
        reg.add(group, AlgoType.PK, PK_RSA_GET_SIZE, handle_get_size)


def _request(ctx: Any, msg: Any, body: bytes) -> Any:
    """Handlers that check `inSize < sizeof(request)` first (-> BADARGS)."""
    if len(body) < msg.size:
        raise CryptoError(WhError.BADARGS, f"{msg.name}: {len(body)} < {msg.size} bytes")
    return msg.unpack_lenient(ctx.order, body)  # extra bytes are ignored, as in C


def decode_key(der: bytes) -> RsaKey:
    try:
        return rsa_from_der(bytes(der))
    except KeyEncodingError as e:
        raise as_crypto_error(e) from None


# ------------------------------------------------------------------------------------------ keygen

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))]
_PRIMORIAL = math.prod(_SMALL_PRIMES)


def _is_probable_prime(c: int, rounds: int, rand_below: Callable[[int], int]) -> bool:
    if math.gcd(c, _PRIMORIAL) != 1:
        return c in _SMALL_PRIMES
    d, s = c - 1, 0
    while not d & 1:
        d >>= 1
        s += 1
    for _ in range(rounds):
        x = pow(2 + rand_below(c - 3), d, c)
        if x in (1, c - 1):
            continue
        for _ in range(s - 1):
            x = x * x % c
            if x == c - 1:
                break
        else:
            return False
    return True


def _mr_rounds(bits: int) -> int:
    """Miller-Rabin rounds for an error below 2^-100 (FIPS 186-5 table B.1, MR-only column)."""
    return 7 if bits < 1024 else 5 if bits < 1536 else 4


def generate_key(bits: int, e: int, rand: Callable[[int], bytes]) -> RsaKey:
    """An RSA key of `16 * (bits // 16)` bits from the random source `rand(n) -> n bytes`."""
    pbytes = bits // 16
    pbits = 8 * pbytes

    def rand_below(n: int) -> int:
        return int.from_bytes(rand((n.bit_length() + 7) // 8 + 8), "big") % n

    def prime() -> int:
        while True:
            c = int.from_bytes(rand(pbytes), "big") | (3 << (pbits - 2)) | 1  # top two bits: |n| exact
            for _ in range(20 * pbits):  # incremental search from a random start, then a new start
                if math.gcd(c - 1, e) == 1 and _is_probable_prime(c, _mr_rounds(pbits), rand_below):
                    return c
                c += 2
                if c.bit_length() > pbits:
                    break

    while True:
        p, q = prime(), prime()
        if abs(p - q) <= 1 << (pbits - 100):  # FIPS 186-5 A.1.3 distance
            continue
        if p < q:
            p, q = q, p
        lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
        d = pow(e, -1, lam)
        if d.bit_length() <= pbits:  # d > 2^(nlen/2)
            continue
        return RsaKey(p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))


def handle_keygen(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _request(ctx, RSA_KEYGEN_REQUEST, body)
    bits, e = signed32(req.size), req.e  # `int key_size`, `long e` (64-bit on the reference server)
    # wc_MakeRsaKey's argument checks
    if not RSA_MIN_BITS <= bits <= RSA_MAX_BITS:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"RSA size {bits} outside {RSA_MIN_BITS}..{RSA_MAX_BITS}")
    if e < 3 or not e & 1:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"RSA exponent {e}")
    key = generate_key(bits, e, lambda n: random_bytes(ctx, n))
    spend(ctx, rsa_cycles(ctx, "keygen", bits))
    der = rsa_private_der(key)
    if is_ephemeral(req.flags):
        if len(der) > ctx.config.comm_data_len - RSA_KEYGEN_RESPONSE.size:
            raise CryptoError(WcError.BUFFER_E, "key DER does not fit the response")
        return 0, RSA_KEYGEN_RESPONSE.pack(ctx.order, keyId=0, der=der)
    key_id = store_generated(ctx, req.keyId, req.flags, req.label, der)
    return 0, RSA_KEYGEN_RESPONSE.pack(ctx.order, keyId=key_id, len=0)


# ------------------------------------------------------------------------------------------ function


def raw(key: RsaKey, op: int, data: bytes, capacity: int) -> bytes:
    """`wc_RsaFunction` without padding: checks, then the k-byte big-endian result."""
    k = key.size
    if not data or capacity == 0:
        raise CryptoError(WcError.BAD_FUNC_ARG, "empty input or output buffer")
    if len(data) > k:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"input of {len(data)} bytes exceeds the modulus ({k})")
    if k > capacity:
        raise CryptoError(WcError.RSA_BUFFER_E, f"output capacity {capacity} < {k}")
    x = int.from_bytes(data, "big")
    if x >= key.n:
        raise CryptoError(WcError.RSA_OUT_OF_RANGE_E, "input not below the modulus")
    if op in (RSA_PUBLIC_ENCRYPT, RSA_PUBLIC_DECRYPT):
        y = key.public(x)
    elif key.is_private:
        y = key.private(x)
    else:
        raise CryptoError(WcError.BAD_FUNC_ARG, "private operation with a public key")
    return y.to_bytes(k, "big")


def handle_function(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _request(ctx, RSA_REQUEST, body)
    if req.inLen > len(req.data):
        raise CryptoError(WhError.BADARGS, "inLen beyond the request")
    op = req.opType
    if op not in _USAGE:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"RSA opType {op}")
    sid = server_key_id(ctx, req.keyId)
    try:
        meta, der = fetch_key(ctx, sid)
        usage, fallback = _USAGE[op]
        try:
            check_usage(meta, usage)
        except CryptoError as e:
            if e.rc != WhError.USAGE or fallback is None:
                raise
            check_usage(meta, fallback)
        key = decode_key(der)
        spend(ctx, rsa_cycles(ctx, "private" if op >= RSA_PRIVATE_ENCRYPT else "public", key.n.bit_length()))
        out = raw(key, op, req.data[: req.inLen], req.outLen)
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    return 0, RSA_RESPONSE.pack(ctx.order, out=out)


def handle_get_size(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _request(ctx, RSA_GET_SIZE_REQUEST, body)
    sid = server_key_id(ctx, req.keyId)
    try:
        _meta, der = fetch_key(ctx, sid)
        key = decode_key(der)
    finally:
        if req.options & OPT_EVICT:
            evict_quietly(ctx, sid)
    return 0, RSA_GET_SIZE_RESPONSE.pack(ctx.order, keySize=key.size)
