"""HKDF (CRYPTO action 9, algoSubType 1) and the two-step CMAC KDF of SP 800-56C (algoSubType 2) at
v1.4.0 (crypto spec §3.11/§3.12, v1.4.0 diff §10.2). Both requests are ``[56]`` + variable data;
both responses are ``[8]`` {keyIdOut, outSz} + the output key when EPHEMERAL.

Common rules (v1.4.0 server):

* a body shorter than the struct, or variable parts that do not fit in it, is BADARGS;
* output: ``flags & EPHEMERAL`` returns the key (``keyIdOut`` 0, ``outSz`` = length); otherwise the
  key is cached under ``keyIdOut`` (a fresh id when erased) with metadata {flags as sent (16 bits,
  no TRUSTED stripping at v1.4.0), label[24], access ANY} and the response carries the client-form
  id and ``outSz`` 0;
* ``outSz`` larger than COMM_DATA_LEN - 8 is BADARGS.

HKDF: IKM inline, or (``inKeySz == 0`` and a non-erased ``keyIdIn``) the cached key with usage
DERIVE (no size limit at v1.4.0); an empty salt is RFC 5869's zero salt; ``hashType`` is a
wc_HashType: SHA-224/256/384/512 and SHA3-224/256/384/512 (the build has NO_SHA and NO_MD5; anything
else is BAD_FUNC_ARG), more than 255 hash blocks of output is BAD_FUNC_ARG, ``outSz`` 0 is an empty key.
HMAC and HKDF are written out here on top of the engine's hash (so an accelerator engine carries
them, and the cycles are those of the compressions).

CMAC-KDF: ``saltSz == 0`` takes the salt from the cache (``keyIdSalt`` erased -> BADARGS; usage
DERIVE), ``zSz == 0`` likewise for Z; ``outSz == 0`` is BADARGS. Then wolfCrypt's
``wc_KDA_KDF_twostep_cmac``: the salt must be 16/24/32 bytes and Z non-empty (BAD_FUNC_ARG);
K_DK = AES-CMAC(salt, Z); block i = AES-128-CMAC(K_DK, BE32(i) || fixedInfo) for i = 1, 2, ...
"""

from __future__ import annotations

from typing import Any

from firmware.wire import AlgoType, Group, NvmFlags, WcError, WhError
from firmware.wire.constants import keyid_id

from ..keystore import KeyStore, KeystoreError, make_metadata
from ..services.crypto import CryptoError
from .engine import HASH_BLOCK, HASH_SIZE, CryptoEngine, engine
from .structs_sym import CMAC_KDF_REQUEST, CMAC_KDF_RESPONSE, HKDF_REQUEST, HKDF_RESPONSE
from .symmetric import cut_fields, fixed_request

KDF_HKDF, KDF_TWOSTEP_CMAC = 1, 2  # wc_KdfType
ENVELOPE = 8
_BADARGS = int(WhError.BADARGS)
_DERIVE = int(NvmFlags.USAGE_DERIVE)


def register(reg: Any) -> None:
    # v1.4.0 dispatches KDF on algoSubType alone; the client always puts algoType = 9 (KDF).
    reg.add(Group.CRYPTO, AlgoType.KDF, AlgoType.KDF, handle_hkdf, sub_type=KDF_HKDF)
    reg.add(Group.CRYPTO, AlgoType.KDF, AlgoType.KDF, handle_cmac_kdf, sub_type=KDF_TWOSTEP_CMAC)


# ------------------------------------------------------------------------------------------ algorithms


def hmac(eng: CryptoEngine, ctx: Any, hash_type: int, key: bytes, msg: bytes) -> bytes:
    """RFC 2104 HMAC over the engine's hash (block size of the hash, SHA-3: its rate, as wolfCrypt)."""
    block = HASH_BLOCK.get(hash_type)
    if block is None:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"hash type {hash_type}")
    if len(key) > block:
        key = eng.digest(ctx, hash_type, key)
    key = key.ljust(block, b"\0")
    inner = eng.digest(ctx, hash_type, bytes(b ^ 0x36 for b in key) + msg)
    return eng.digest(ctx, hash_type, bytes(b ^ 0x5C for b in key) + inner)


def hkdf(eng: CryptoEngine, ctx: Any, hash_type: int, ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """`wc_HKDF` (RFC 5869): extract with the salt (zeros of the hash size when empty), then expand."""
    size = HASH_SIZE.get(hash_type)
    if size is None:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"hash type {hash_type}")
    prk = hmac(eng, ctx, hash_type, salt if salt else bytes(size), ikm)
    if -(-length // size) > 255:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"HKDF output of {length} bytes")
    out, t = [], b""
    for i in range(1, -(-length // size) + 1):
        t = hmac(eng, ctx, hash_type, prk, t + info + bytes([i]))
        out.append(t)
    return b"".join(out)[:length]


def cmac_kdf(eng: CryptoEngine, ctx: Any, salt: bytes, z: bytes, fixed_info: bytes, length: int) -> bytes:
    """`wc_KDA_KDF_twostep_cmac`: CMAC extract keyed by the salt, SP 800-108 counter-mode expand."""
    if len(salt) not in (16, 24, 32) or not z or not length:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"salt {len(salt)}, Z {len(z)}, out {length} bytes")
    kdk = eng.cmac(ctx, salt, z)
    blocks = [eng.cmac(ctx, kdk, i.to_bytes(4, "big") + fixed_info) for i in range(1, -(-length // 16) + 1)]
    return b"".join(blocks)[:length]


# ------------------------------------------------------------------------------------------ handlers


def _derive_key(ctx: Any, client_key_id: int) -> bytes | None:
    """A cached/NVM input key with usage DERIVE, or None when the id is erased."""
    ks = KeyStore.of(ctx.server)
    sid = ks.server_id(ctx, client_key_id)
    if keyid_id(sid) == 0:
        return None
    try:
        return ks.read(ctx, sid, usage=_DERIVE)[1]
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None


def _check_out(ctx: Any, out_sz: int) -> None:
    if out_sz > int(ctx.config.comm_data_len) - ENVELOPE:
        raise CryptoError(_BADARGS, f"output of {out_sz} bytes does not fit the response")


def _deliver(ctx: Any, response: Any, req: Any, key_id_out: int, okm: bytes) -> tuple[int, bytes]:
    """EPHEMERAL: the key in the response; otherwise cache it and answer its client id."""
    if req.flags & NvmFlags.EPHEMERAL:
        return 0, response.pack(ctx.order, keyIdOut=0, outSz=len(okm), data=okm)
    ks = KeyStore.of(ctx.server)
    try:
        sid = ks.cache(ctx, make_metadata(ks.server_id(ctx, key_id_out), req.flags, len(okm), req.label), okm)
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None
    return 0, response.pack(ctx.order, keyIdOut=ks.client_id(sid), outSz=0)


def handle_hkdf(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(HKDF_REQUEST, ctx, body)
    ikm, salt, info = cut_fields(rest, req.inKeySz, req.saltSz, req.infoSz)
    if req.inKeySz == 0:
        cached = _derive_key(ctx, req.keyIdIn)
        if cached is not None:
            ikm = cached
    _check_out(ctx, req.outSz)
    okm = hkdf(engine(ctx), ctx, req.hashType, ikm, salt, info, req.outSz)
    return _deliver(ctx, HKDF_RESPONSE, req, req.keyIdOut, okm)


def handle_cmac_kdf(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(CMAC_KDF_REQUEST, ctx, body)
    salt, z, fixed_info = cut_fields(rest, req.saltSz, req.zSz, req.fixedInfoSz)
    for size, key_id, name in ((req.saltSz, req.keyIdSalt, "salt"), (req.zSz, req.keyIdZ, "Z")):
        if size == 0:
            cached = _derive_key(ctx, key_id)
            if cached is None:
                raise CryptoError(_BADARGS, f"no {name}: neither inline nor by key id")
            if name == "salt":
                salt = cached
            else:
                z = cached
    if req.outSz == 0:
        raise CryptoError(_BADARGS, "CMAC-KDF with no output")
    _check_out(ctx, req.outSz)
    okm = cmac_kdf(engine(ctx), ctx, salt, z, fixed_info, req.outSz)
    return _deliver(ctx, CMAC_KDF_RESPONSE, req, req.keyIdOut, okm)
