"""Post-quantum crypto handlers: ML-DSA-44/65/87 keygen, sign, verify (CRYPTO and CRYPTO_DMA groups).

Semantics of wolfHSM v1.4.0 built against wolfSSL 5.8.4 (v1.4.0 diff §10.2/§10.5, crypto spec
§3.17/§4.5, 01fe072 diff §8.2). Dispatch: action PK (3), algoType 21 keygen / 22 sign / 23 verify /
24 check-private-key, algoSubType 1 (Dilithium = ML-DSA); any other subtype -> NOHANDLER (-2007),
check-private-key -> NOHANDLER. ML-KEM (algoType 18-20) does not exist at v1.4.0: nothing is
registered for it, so the envelope answers NOT_COMPILED_IN (-174).

Behaviour kept from the C server:

* keygen: level must be 2/3/5 (else BADARGS); the request's ``sz`` and ``access`` are ignored;
  EPHEMERAL returns the wolfCrypt key-pair DER (3904 bytes for ML-DSA-44) with keyId = the erased id
  in client form (0x0100 with global keys); a DER larger than the response room
  (COMM_DATA_LEN - 8) is BAD_FUNC_ARG (-173): ML-DSA-65/87 at the 5000-byte example server.
  Cache path: the key-pair DER is cached under the requested id (or a fresh unique one) with
  flags as given, access ANY and the 24-byte label; the response carries the id and len 0.
* sign / verify: the key id is looked up and its usage (SIGN / VERIFY) enforced first (errors:
  NOTFOUND, USAGE), then the sizes (BADARGS), then the key is pulled into the cache (freshen) and
  decoded (ASN_PARSE_E if it is no ML-DSA key). The request's ``level`` is not looked at: the key's
  own parameter set (from its OID) is used. Signing is FIPS 204's internal form on the raw message
  (mu = SHAKE256(tr || M), no ``0x00 || len(ctx) || ctx`` prefix), hedged with fresh randomness.
  Verify: a bad signature is rc 0 with res 0; a wrong-length one BUFFER_E (-132).
* EVICT (option bit 0): the key is evicted after the operation, also after a key or usage error;
  not after the size errors, which return before that point in C.
* DMA variants: the same, with message/signature/key buffers in client memory (``ctx.dma_read`` /
  ``ctx.dma_write``; a refused transfer is ACCESS). As in v1.4.0 the DMA sign/verify handlers do
  not check usage flags and do not refuse erased ids before the key lookup (BADARGS from it).

Deliberate difference: the C server reserves a cache slot sized for an ML-DSA-87 key (~7.5 KB) on
the cache path and so fails every non-EPHEMERAL keygen with BADARGS against its 4096-byte big slots
(01fe072 diff §8.2, "success is harmless"). Here the real DER is cached: ML-DSA-44 (3904 bytes)
works; 65/87 still fail with BADARGS because their DERs fit no slot.

Requires ``dilithium-py`` (see :mod:`.mldsa_keys` for why); without it nothing is registered and
every ML-DSA request answers NOT_COMPILED_IN, as a server built without HAVE_DILITHIUM.

Virtual time: the per-operation cycle counts below are *assumed* (order of magnitude of published
Cortex-M4 ML-DSA figures); a board may override them through ``costs["mldsa_<op>_<level>"]``.
"""

from __future__ import annotations

from typing import Any

from firmware.wire import AlgoType, Group, KeyIdType, NvmFlags, WcError, WhError
from firmware.wire.constants import keyid_id

from ..context import DmaError
from ..keystore import KeyStore, KeystoreError, make_metadata
from ..services.crypto import CryptoError
from . import structs_pqc as S
from .mldsa_keys import (
    AVAILABLE,
    MlDsaKey,
    MlDsaKeyError,
    decode_key_der,
    encode_key_der,
    generate,
    params_for_level,
    sign_internal,
    verify_internal,
)

__all__ = ["register"]

ENVELOPE = 8  # v1.4.0 generic response header; the algorithm struct follows it

# HSM cycles per operation (assumed; see the module docstring), keyed by (op, level)
_CYCLES = {
    ("keygen", 2): 1_900_000,
    ("keygen", 3): 3_300_000,
    ("keygen", 5): 5_600_000,
    ("sign", 2): 4_500_000,
    ("sign", 3): 7_500_000,
    ("sign", 5): 10_000_000,
    ("verify", 2): 1_900_000,
    ("verify", 3): 3_200_000,
    ("verify", 5): 5_500_000,
}


def _spend(ctx: Any, op: str, level: int) -> None:
    default = _CYCLES.get((op, level), 0)
    costs = getattr(ctx.config, "costs", {}) or {}
    ctx.spend(costs.get(f"mldsa_{op}_{level}", default))


def _random(ctx: Any, n: int) -> bytes:
    """Randomness for key generation and hedged signing: the key store's source, so that the
    firmware has one place where its randomness comes from (host CSPRNG today)."""
    return KeyStore.of(ctx.server).random_bytes(ctx, n)


def _fail(e: KeystoreError | MlDsaKeyError | DmaError) -> CryptoError:
    return CryptoError(e.rc, str(e))


def _evict_quietly(ctx: Any, ks: KeyStore, key_id: int) -> None:
    try:
        ks.evict(ctx, key_id)
    except KeystoreError:
        pass  # "evict even if the call failed"; its own errors are ignored


def _find_enforce(ctx: Any, ks: KeyStore, key_id: int, usage: int) -> None:
    """``FindEnforceKeyUsage``: the key must exist (cache or NVM) and carry `usage`."""
    found = ks.lookup(ctx, key_id)
    if found is None:
        raise CryptoError(WhError.NOTFOUND, f"key 0x{key_id:04x}")
    try:
        ks.check_usage(found[0], usage)
    except KeystoreError as e:
        raise _fail(e) from None


def _load_key(ctx: Any, ks: KeyStore, key_id: int) -> MlDsaKey:
    """``MlDsaKeyCacheExport``: erased id BADARGS, freshen into the cache, decode the DER."""
    if keyid_id(key_id) == 0:
        raise CryptoError(WhError.BADARGS, "erased key id")
    try:
        _meta, der = ks.read(ctx, key_id, freshen=True)
        return decode_key_der(der)
    except (KeystoreError, MlDsaKeyError) as e:
        raise _fail(e) from None


def _make_key(ctx: Any, level: int) -> MlDsaKey:
    params = params_for_level(level)
    if params is None:
        raise CryptoError(WhError.BADARGS, f"ML-DSA level {level} not supported")
    _spend(ctx, "keygen", level)
    return generate(params, _random(ctx, 32))


def _cache_key(ctx: Any, ks: KeyStore, key: MlDsaKey, client_key_id: int, flags: int, label: bytes) -> int:
    """Cache path: store the key-pair DER; returns the server id (allocated if erased)."""
    key_id = ks.server_id(ctx, client_key_id, KeyIdType.CRYPTO)
    try:
        if keyid_id(key_id) == 0:
            key_id = ks.unique_id(ctx, key_id)
        der = encode_key_der(key)
        return ks.cache(ctx, make_metadata(key_id, flags, len(der), label), der)
    except KeystoreError as e:
        raise _fail(e) from None


def _sign(ctx: Any, key: MlDsaKey, msg: bytes) -> bytes:
    _spend(ctx, "sign", key.level)
    try:
        return sign_internal(key, msg, _random(ctx, 32))
    except MlDsaKeyError as e:
        raise _fail(e) from None


def _verify(ctx: Any, key: MlDsaKey, sig: bytes, msg: bytes) -> int:
    _spend(ctx, "verify", key.level)
    try:
        return 1 if verify_internal(key, msg, sig) else 0
    except MlDsaKeyError as e:
        raise _fail(e) from None


# ------------------------------------------------------------------------------------------ inline


def keygen(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = S.MLDSA_KEYGEN_REQUEST.unpack_lenient(ctx.order, body)  # v1.4.0 checks no request size
    ks = KeyStore.of(ctx.server)
    key = _make_key(ctx, req.level)
    flags = req.flags & 0xFFFF
    if flags & NvmFlags.EPHEMERAL:
        der = encode_key_der(key)
        if len(der) > ctx.config.comm_data_len - S.MLDSA_KEYGEN_RESPONSE.size:
            raise CryptoError(WcError.BAD_FUNC_ARG, f"{len(der)}-byte key DER does not fit the response")
        out = S.MLDSA_KEYGEN_RESPONSE.pack(ctx.order, keyId=ks.client_id(0), der=der)
        return 0, out
    key_id = _cache_key(ctx, ks, key, req.keyId & 0xFFFF, flags, req.label)
    return 0, S.MLDSA_KEYGEN_RESPONSE.pack(ctx.order, keyId=ks.client_id(key_id), len=0)


def sign(ctx: Any, body: bytes) -> tuple[int, bytes]:
    spec = S.MLDSA_SIGN_REQUEST
    req = spec.unpack_lenient(ctx.order, body)
    ks = KeyStore.of(ctx.server)
    key_id = ks.server_id(ctx, req.keyId & 0xFFFF, KeyIdType.CRYPTO)
    evict = bool(req.options & S.MLDSA_OPTIONS_EVICT)
    try:
        if keyid_id(key_id) != 0:
            _find_enforce(ctx, ks, key_id, NvmFlags.USAGE_SIGN)
        if len(body) < spec.size or req.sz > len(body) - spec.size:
            evict = False  # C returns before its cleanup label
            raise CryptoError(WhError.BADARGS, "message larger than the request")
        key = _load_key(ctx, ks, key_id)
        sig = _sign(ctx, key, body[spec.size : spec.size + req.sz])
    finally:
        if evict:
            _evict_quietly(ctx, ks, key_id)
    return 0, S.MLDSA_SIGN_RESPONSE.pack(ctx.order, sig=sig)


def verify(ctx: Any, body: bytes) -> tuple[int, bytes]:
    spec = S.MLDSA_VERIFY_REQUEST
    req = spec.unpack_lenient(ctx.order, body)
    ks = KeyStore.of(ctx.server)
    key_id = ks.server_id(ctx, req.keyId & 0xFFFF, KeyIdType.CRYPTO)
    evict = bool(req.options & S.MLDSA_OPTIONS_EVICT)
    try:
        if keyid_id(key_id) != 0:
            _find_enforce(ctx, ks, key_id, NvmFlags.USAGE_VERIFY)
        avail = len(body) - spec.size
        if avail < 0 or req.sigSz > avail or req.hashSz > avail or req.sigSz > avail - req.hashSz:
            evict = False
            raise CryptoError(WhError.BADARGS, "signature/message larger than the request")
        data = body[spec.size :]
        sig, msg = data[: req.sigSz], data[req.sigSz : req.sigSz + req.hashSz]
        key = _load_key(ctx, ks, key_id)
        res = _verify(ctx, key, sig, msg)
    finally:
        if evict:
            _evict_quietly(ctx, ks, key_id)
    return 0, S.MLDSA_VERIFY_RESPONSE.pack(ctx.order, res=res)


# ------------------------------------------------------------------------------------------ DMA


def _dma_read(ctx: Any, addr: int, size: int) -> bytes:
    try:
        return ctx.dma_read(addr, size)
    except DmaError as e:
        raise _fail(e) from None


def _dma_write(ctx: Any, addr: int, data: bytes) -> None:
    try:
        ctx.dma_write(addr, data)
    except DmaError as e:
        raise _fail(e) from None


def _dma_request(ctx: Any, spec: Any, body: bytes) -> Any:
    if len(body) < spec.size:
        raise CryptoError(WhError.BADARGS, "short DMA request")
    return spec.unpack_lenient(ctx.order, body)


def keygen_dma(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _dma_request(ctx, S.MLDSA_KEYGEN_DMA_REQUEST, body)
    ks = KeyStore.of(ctx.server)
    key = _make_key(ctx, req.level)
    flags = req.flags & 0xFFFF
    if flags & NvmFlags.EPHEMERAL:
        try:
            ctx.dma_check(req.key.addr, req.key.sz, write=True)
        except DmaError as e:
            raise _fail(e) from None
        der = encode_key_der(key)
        if len(der) > req.key.sz:
            raise CryptoError(WcError.BAD_FUNC_ARG, "client buffer too small for the key DER")
        _dma_write(ctx, req.key.addr, der)
        out = S.MLDSA_KEYGEN_DMA_RESPONSE.pack(ctx.order, keyId=0, keySize=len(der))
        return 0, out
    if req.labelSize > len(req.label):
        raise CryptoError(WhError.BADARGS, "label longer than 24 bytes")
    label = req.label[: req.labelSize]
    key_id = _cache_key(ctx, ks, key, req.keyId & 0xFFFF, flags, label)
    return 0, S.MLDSA_KEYGEN_DMA_RESPONSE.pack(ctx.order, keyId=ks.client_id(key_id), keySize=0)


def sign_dma(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _dma_request(ctx, S.MLDSA_SIGN_DMA_REQUEST, body)
    ks = KeyStore.of(ctx.server)
    key_id = ks.server_id(ctx, req.keyId & 0xFFFF, KeyIdType.CRYPTO)
    try:
        key = _load_key(ctx, ks, key_id)  # no usage check on the v1.4.0 DMA path
        msg = _dma_read(ctx, req.msg.addr, req.msg.sz)
        try:
            ctx.dma_check(req.sig.addr, req.sig.sz, write=True)
        except DmaError as e:
            raise _fail(e) from None
        sig = _sign(ctx, key, msg)
        if len(sig) > req.sig.sz:
            raise CryptoError(WcError.BUFFER_E, "signature buffer too small")
        _dma_write(ctx, req.sig.addr, sig)
    finally:
        if req.options & S.MLDSA_OPTIONS_EVICT:
            _evict_quietly(ctx, ks, key_id)
    return 0, S.MLDSA_SIGN_DMA_RESPONSE.pack(ctx.order, sigLen=len(sig))


def verify_dma(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req = _dma_request(ctx, S.MLDSA_VERIFY_DMA_REQUEST, body)
    ks = KeyStore.of(ctx.server)
    key_id = ks.server_id(ctx, req.keyId & 0xFFFF, KeyIdType.CRYPTO)
    try:
        key = _load_key(ctx, ks, key_id)  # no usage check on the v1.4.0 DMA path
        sig = _dma_read(ctx, req.sig.addr, req.sig.sz)
        msg = _dma_read(ctx, req.msg.addr, req.msg.sz)
        res = _verify(ctx, key, sig, msg)
    finally:
        if req.options & S.MLDSA_OPTIONS_EVICT:
            _evict_quietly(ctx, ks, key_id)
    return 0, S.MLDSA_VERIFY_DMA_RESPONSE.pack(ctx.order, verifyResult=res)


# ------------------------------------------------------------------------------------------ registry


def _no_handler(ctx: Any, body: bytes) -> tuple[int, bytes]:
    return WhError.NOHANDLER, b""


def register(registry: Any) -> None:
    if not AVAILABLE:
        return  # no FIPS 204 library installed: like a server built without HAVE_DILITHIUM
    inline = {
        S.PK_PQC_SIG_KEYGEN: keygen,
        S.PK_PQC_SIG_SIGN: sign,
        S.PK_PQC_SIG_VERIFY: verify,
        S.PK_PQC_SIG_CHECK_PRIV_KEY: _no_handler,
    }
    dma = {
        S.PK_PQC_SIG_KEYGEN: keygen_dma,
        S.PK_PQC_SIG_SIGN: sign_dma,
        S.PK_PQC_SIG_VERIFY: verify_dma,
        S.PK_PQC_SIG_CHECK_PRIV_KEY: _no_handler,
    }
    for group, table in ((Group.CRYPTO, inline), (Group.CRYPTO_DMA, dma)):
        for algo_type, handler in table.items():
            registry.add(group, AlgoType.PK, algo_type, handler, sub_type=S.PQC_SIG_TYPE_DILITHIUM)
            # any other algoSubType on a PQC signature type: the inner switch's default
            registry.add(group, AlgoType.PK, algo_type, _no_handler)
