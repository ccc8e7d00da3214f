"""AES (CRYPTO action 2: CBC 2, GCM 3, CTR 4, ECB 13 by algoType) and AES-CMAC (action 7) at v1.4.0.

Layouts and rules of the v1.4.0 server (v1.4.0 diff §10.2, crypto spec §3.2-§3.6):

* Every request is ``struct | in[sz] | key[keyLen] | ...``; a body shorter than the struct is BADARGS,
  and the variable parts must *fit* (``>=``, never ``==``): the v1.4.0 client appends 16 extra bytes
  to AES-CTR requests and a 16-byte IV to AES-ECB requests; both are accepted and ignored.
* Key: a non-erased keyId (client form, translated with the connection's client id) takes the key
  from the key store (cache, else NVM - wolfHSM's freshen) with usage ENCRYPT when ``enc != 0`` else
  DECRYPT (USAGE -2009); the inline key is then ignored. An erased id uses the inline key, with no
  usage check. A key length other than 16/24/32 is wolfCrypt's BAD_FUNC_ARG (-173), for inline and
  cached keys alike.
* CBC: whole blocks are processed; the response is ``[16] sz | out[sz]`` **without** the chaining IV
  (the v1.4.0 client chains itself). A trailing partial block comes back unchanged (the C server
  works in place on one buffer and wolfCrypt leaves those bytes alone).
* ECB: ``sz`` must be a multiple of 16 (BAD_LENGTH_E -279).
* CTR: wolfCrypt's streaming state travels with the message: ``reg`` (the IV field, current counter
  block), ``tmp`` (last keystream block) and ``left`` (its unused bytes); the response returns all
  three. ``left > 16`` is BADARGS here (the v1.4.0 server would read outside ``tmp``). ``enc`` only
  selects the usage flag: encryption and decryption are the same keystream XOR. (The v1.4.0 C
  server keys a decrypt-direction schedule for ``enc == 0`` and so produces a different keystream;
  no v1.4.0 client sends ``enc == 0`` for CTR - wolfCrypt's CTR callback always sets it.)
* GCM (one shot): request tag bytes only when decrypting; response ``sz, authTagSz | out | tag``
  (tag only when encrypting, authTagSz 0 when decrypting). IV: any non-zero length. Tag: 12..16 when
  encrypting, 1..16 when decrypting (wolfCrypt's limits, BAD_FUNC_ARG otherwise); a wrong tag is
  AES_GCM_AUTH_E (-180).
* CMAC: ``[56]`` {outSz, inSz, keySz, keyId, resumeState[40]} ``| in | key``; response ``[48]``
  {resumeState, outSz, keyId} ``| tag``. Inline key when keySz != 0 (keySz > 32 is BADARGS), else
  the cached key with usage SIGN or VERIFY (either; a cached key longer than 32 bytes is NOSPACE, one
  that is not 16/24/32 is ABORTED), else BADARGS. inSz != 0 and outSz != 0: one-shot, the state is
  ignored and returned zero, keyId 0. Otherwise resume (bufferSz > 16 is BADARGS), absorb ``in``, and
  either finalize (outSz != 0: tag, zero state, keyId 0) or return the new state with outSz 0 and the
  request's keyId echoed. Tag length outside 4..16 is BUFFER_E (-132).

Padding bytes of responses are zero (the C server leaves request bytes there; clients ignore them).
"""

from __future__ import annotations

from typing import Any

from firmware.wire import AlgoType, Group, NvmFlags, WhError
from firmware.wire.constants import keyid_id

from ..keystore import KeyStore, KeystoreError
from ..services.crypto import CryptoError
from .engine import AES_BLOCK, CmacState, check_aes_key, engine
from .structs_sym import (
    AES_CBC_REQUEST,
    AES_CBC_RESPONSE,
    AES_CTR_REQUEST,
    AES_CTR_RESPONSE,
    AES_ECB_REQUEST,
    AES_ECB_RESPONSE,
    AES_GCM_REQUEST,
    AES_GCM_RESPONSE,
    CMAC_REQUEST,
    CMAC_RESPONSE,
)

# wc_CipherType (wolfSSL 5.8.4 values file)
CIPHER_AES_CBC, CIPHER_AES_GCM, CIPHER_AES_CTR, CIPHER_AES_ECB = 2, 3, 4, 13
CMAC_MAX_KEY = 32  # AES_MAX_KEY_SIZE / 8: the server's key buffer for CMAC

_BADARGS = int(WhError.BADARGS)


def register(reg: Any) -> None:
    reg.add(Group.CRYPTO, AlgoType.CIPHER, CIPHER_AES_CBC, handle_aes_cbc)
    reg.add(Group.CRYPTO, AlgoType.CIPHER, CIPHER_AES_ECB, handle_aes_ecb)
    reg.add(Group.CRYPTO, AlgoType.CIPHER, CIPHER_AES_CTR, handle_aes_ctr)
    reg.add(Group.CRYPTO, AlgoType.CIPHER, CIPHER_AES_GCM, handle_aes_gcm)
    # v1.4.0 dispatches CMAC on the action alone; the client always puts algoType = 7 (CMAC).
    reg.add(Group.CRYPTO, AlgoType.CMAC, AlgoType.CMAC, handle_cmac)


# ------------------------------------------------------------------------------------------ helpers


def fixed_request(message: Any, ctx: Any, body: bytes) -> tuple[Any, bytes]:
    """The request struct and the bytes after it; a body shorter than the struct is BADARGS."""
    if len(body) < message.size:
        raise CryptoError(_BADARGS, f"{message.name}: {len(body)} < {message.size} bytes")
    return message.unpack_prefix(ctx.order, body)


def cut_fields(rest: bytes, *sizes: int) -> list[bytes]:
    """Cut back-to-back fields; they must fit in what was sent (BADARGS), extra bytes are ignored."""
    if sum(sizes) > len(rest):
        raise CryptoError(_BADARGS, f"fields of {sizes} bytes do not fit in {len(rest)}")
    out, pos = [], 0
    for n in sizes:
        out.append(rest[pos : pos + n])
        pos += n
    return out


def _read_key(ctx: Any, client_key_id: int, usage: int) -> tuple[int, bytes] | None:
    """(flags, key) of a cached/NVM key, or None when the id is erased. Key-store errors pass through."""
    ks = KeyStore.of(ctx.server)
    sid = ks.server_id(ctx, client_key_id)
    if keyid_id(sid) == 0:
        return None
    try:
        meta, key = ks.read(ctx, sid, usage=usage)
    except KeystoreError as e:
        raise CryptoError(e.rc, str(e)) from None
    return meta.flags, key


def aes_key(ctx: Any, client_key_id: int, inline: bytes, enc: int) -> bytes:
    """The key for an AES request: cached (ENCRYPT / DECRYPT usage) unless the id is erased."""
    usage = NvmFlags.USAGE_ENCRYPT if enc else NvmFlags.USAGE_DECRYPT
    found = _read_key(ctx, client_key_id, int(usage))
    return inline if found is None else found[1]


# ------------------------------------------------------------------------------------------ AES


def handle_aes_cbc(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(AES_CBC_REQUEST, ctx, body)
    data, key, iv = cut_fields(rest, req.sz, req.keyLen, AES_BLOCK)
    key = aes_key(ctx, req.keyId, key, req.enc)
    out = engine(ctx).aes_cbc(ctx, key, iv, data, req.enc != 0)
    return 0, AES_CBC_RESPONSE.pack(ctx.order, sz=req.sz, data=out)


def handle_aes_ecb(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(AES_ECB_REQUEST, ctx, body)
    data, key, _iv = cut_fields(rest, req.sz, req.keyLen, AES_BLOCK)  # the v1.4.0 client sends an IV; unused
    key = aes_key(ctx, req.keyId, key, req.enc)
    out = engine(ctx).aes_ecb(ctx, key, data, req.enc != 0)
    return 0, AES_ECB_RESPONSE.pack(ctx.order, sz=req.sz, data=out)


def handle_aes_ctr(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(AES_CTR_REQUEST, ctx, body)
    data, key, reg, tmp = cut_fields(rest, req.sz, req.keyLen, AES_BLOCK, AES_BLOCK)
    if req.left > AES_BLOCK:
        raise CryptoError(_BADARGS, f"CTR left {req.left} > 16")
    key = aes_key(ctx, req.keyId, key, req.enc)
    out, reg, tmp, left = engine(ctx).aes_ctr(ctx, key, reg, tmp, req.left, data)
    return 0, AES_CTR_RESPONSE.pack(ctx.order, sz=req.sz, left=left, data=out + reg + tmp)


def handle_aes_gcm(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(AES_GCM_REQUEST, ctx, body)
    tag_in = req.authTagSz if req.enc == 0 else 0
    data, key, iv, aad, tag = cut_fields(rest, req.sz, req.keyLen, req.ivSz, req.authInSz, tag_in)
    key = aes_key(ctx, req.keyId, key, req.enc)
    eng = engine(ctx)
    if req.enc:
        out, tag = eng.aes_gcm_encrypt(ctx, key, iv, aad, data, req.authTagSz)
        return 0, AES_GCM_RESPONSE.pack(ctx.order, sz=req.sz, authTagSz=req.authTagSz, data=out + tag)
    out = eng.aes_gcm_decrypt(ctx, key, iv, aad, data, tag)
    return 0, AES_GCM_RESPONSE.pack(ctx.order, sz=req.sz, authTagSz=0, data=out)


# ------------------------------------------------------------------------------------------ CMAC


def cmac_key(ctx: Any, key_sz: int, inline: bytes, client_key_id: int) -> bytes:
    """`_CmacResolveKey`: inline key, else the cached key (SIGN or VERIFY), else BADARGS."""
    if key_sz:
        return inline
    found = _read_key(ctx, client_key_id, 0)
    if found is None:
        raise CryptoError(_BADARGS, "CMAC without a key")
    flags, key = found
    if not flags & (NvmFlags.USAGE_SIGN | NvmFlags.USAGE_VERIFY):
        raise CryptoError(WhError.USAGE, "CMAC key lacks SIGN and VERIFY")
    if len(key) > CMAC_MAX_KEY:
        raise CryptoError(WhError.NOSPACE, f"CMAC key of {len(key)} bytes")
    if len(key) not in (16, 24, 32):
        raise CryptoError(WhError.ABORTED, f"CMAC key of {len(key)} bytes")
    return key


def handle_cmac(ctx: Any, body: bytes) -> tuple[int, bytes]:
    req, rest = fixed_request(CMAC_REQUEST, ctx, body)
    data, inline = cut_fields(rest, req.inSz, req.keySz)
    if req.keySz > CMAC_MAX_KEY:
        raise CryptoError(_BADARGS, f"CMAC key of {req.keySz} bytes")
    key = cmac_key(ctx, req.keySz, inline, req.keyId)
    eng = engine(ctx)
    order = ctx.order
    if req.inSz and req.outSz:  # one shot: the carried state is not looked at
        tag = eng.cmac(ctx, key, data, req.outSz)
        return 0, CMAC_RESPONSE.pack(order, outSz=len(tag), keyId=0, data=tag)
    check_aes_key(key)  # wc_InitCmac_ex: the key is checked before the state is restored
    st = req.resumeState
    if st.bufferSz > AES_BLOCK:
        raise CryptoError(_BADARGS, f"CMAC bufferSz {st.bufferSz} > 16")
    state = eng.cmac_update(ctx, key, CmacState(st.buffer, st.digest, st.bufferSz, st.totalSz), data)
    if req.outSz:
        tag = eng.cmac_final(ctx, key, state, req.outSz)
        return 0, CMAC_RESPONSE.pack(order, outSz=len(tag), keyId=0, data=tag)
    resume = {"buffer": state.buffer, "digest": state.digest, "bufferSz": state.size, "totalSz": state.total}
    return 0, CMAC_RESPONSE.pack(order, resumeState=resume, outSz=0, keyId=req.keyId)
