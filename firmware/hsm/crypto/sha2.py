"""SHA-224/256/384/512 (and SHA-512/224, SHA-512/256) at v1.4.0: CRYPTO action 1 (HASH), algoType =
wc_HashType (SHA-224 5, SHA-256 6, SHA-384 7, SHA-512 8), algoSubType ignored.

The server is stateless; the client ships wolfCrypt's midstate in every request and v1.4.0 carries
**exactly one block per message** (v1.4.0 diff §10.2, crypto spec Appendix A):

* request ``[116]`` (SHA-224/256) / ``[216]`` (SHA-384/512): resumeState {hiLen, loLen, hash, [hashType]},
  isLastBlock, lastBlockLen, inBlock[64 / 128]; a shorter body is BADARGS, extra bytes are ignored;
* ``hash`` holds the eight H words **in the client's byte order** (raw wolfCrypt memory, never
  translated); ``hiLen:loLen`` count the bytes already compressed;
* non-final (isLastBlock == 0): compress the whole inBlock (lastBlockLen is not looked at - the
  v1.4.0 client leaves garbage there), answer the new words (client order) and counters;
* final (isLastBlock != 0): absorb lastBlockLen bytes (0..block; more is BADARGS), pad, answer the
  standard big-endian digest in ``hash`` with everything else zero;
* response ``[76]`` Sha2Response; its ``hashType`` is never set by the v1.4.0 server (0 here; the C
  server leaves 0 or stack garbage, the v1.4.0 client ignores it).

Quirks kept on purpose (each named in a test):

* SHA-384 requests carry garbage in resumeState.hashType (the v1.4.0 client never sets it); it is
  ignored. SHA-512 requests select the output length with it: 16 -> SHA-512/224 (28 bytes), 17 ->
  SHA-512/256 (32 bytes), anything else -> SHA-512 (64 bytes). The midstate already carries the
  variant's IV, so the variant only matters at the end.
* SHA-256/224 counters are wolfCrypt's two u32 words with carry; the bit length wraps mod 2^64.
* SHA-384/512: wolfCrypt's counters are u64 but the wire carries only 32 bits of each; the server
  adds 128 to the 64-bit value and the response truncates it back, so crossing 4 GiB loses the carry
  (hiLen is wolfCrypt's 2^64 overflow word and stays as sent).
"""

from __future__ import annotations

import struct
from typing import Any

from firmware.wire import AlgoType, Group, WhError

from ..services.crypto import CryptoError
from .engine import M32, M64, engine
from .structs_sym import SHA2_RESPONSE_FLAT, SHA256_REQUEST_FLAT, SHA512_REQUEST_FLAT

# wc_HashType (wolfSSL 5.8.4 values file)
HASH_SHA224, HASH_SHA256, HASH_SHA384, HASH_SHA512 = 5, 6, 7, 8
HASH_SHA512_224, HASH_SHA512_256 = 16, 17
SHA512_OUT = {HASH_SHA512_224: 28, HASH_SHA512_256: 32}  # everything else: 64

_BADARGS = int(WhError.BADARGS)
# Flat codecs derived from the declarations in structs_sym; the unpacking below relies on this order.
assert SHA256_REQUEST_FLAT.names == (
    "resumeState.hiLen",
    "resumeState.loLen",
    "resumeState.hash",
    "isLastBlock",
    "lastBlockLen",
    "inBlock",
)
assert SHA512_REQUEST_FLAT.names == (
    "resumeState.hiLen", "resumeState.loLen", "resumeState.hash", "resumeState.hashType",
    "isLastBlock", "lastBlockLen", "inBlock",
)  # fmt: skip
assert SHA2_RESPONSE_FLAT.names == ("hiLen", "loLen", "hash", "hashType")
_RESPONSE = SHA2_RESPONSE_FLAT
_WORDS32 = {p: struct.Struct(p + "8I") for p in "<>"}
_WORDS64 = {p: struct.Struct(p + "8Q") for p in "<>"}


def register(reg: Any) -> None:
    reg.add(Group.CRYPTO, AlgoType.HASH, HASH_SHA256, handle_sha256)
    reg.add(Group.CRYPTO, AlgoType.HASH, HASH_SHA224, handle_sha224)
    reg.add(Group.CRYPTO, AlgoType.HASH, HASH_SHA384, handle_sha384)
    reg.add(Group.CRYPTO, AlgoType.HASH, HASH_SHA512, handle_sha512)


def handle_sha256(ctx: Any, body: bytes) -> tuple[int, bytes]:
    return _sha256_family(ctx, body, 32)


def handle_sha224(ctx: Any, body: bytes) -> tuple[int, bytes]:
    return _sha256_family(ctx, body, 28)


def handle_sha384(ctx: Any, body: bytes) -> tuple[int, bytes]:
    return _sha512_family(ctx, body, lambda _hash_type: 48)


def handle_sha512(ctx: Any, body: bytes) -> tuple[int, bytes]:
    return _sha512_family(ctx, body, lambda hash_type: SHA512_OUT.get(hash_type, 64))


def _sha256_family(ctx: Any, body: bytes, out_len: int) -> tuple[int, bytes]:
    if len(body) < SHA256_REQUEST_FLAT.size:
        raise CryptoError(_BADARGS, "short SHA-256 request")
    order = ctx.order
    hi, lo, raw_h, is_last, last_len, block = SHA256_REQUEST_FLAT.unpack(order, body)
    words = _WORDS32[order.prefix]
    h = words.unpack(raw_h)
    count = (hi << 32) | lo
    eng = engine(ctx)
    if is_last:
        if last_len > 64:
            raise CryptoError(_BADARGS, f"lastBlockLen {last_len} > 64")
        digest = eng.sha2_final(ctx, 256, h, count, block[:last_len], out_len)
        return 0, _RESPONSE.pack(order, 0, 0, digest, 0)
    h = eng.sha2_compress(ctx, 256, h, block)
    count = (count + 64) & M64
    return 0, _RESPONSE.pack(order, count >> 32, count & M32, words.pack(*h), 0)


def _sha512_family(ctx: Any, body: bytes, out_len_of: Any) -> tuple[int, bytes]:
    if len(body) < SHA512_REQUEST_FLAT.size:
        raise CryptoError(_BADARGS, "short SHA-512 request")
    order = ctx.order
    hi, lo, raw_h, hash_type, is_last, last_len, block = SHA512_REQUEST_FLAT.unpack(order, body)
    if is_last and last_len > 128:
        raise CryptoError(_BADARGS, f"lastBlockLen {last_len} > 128")
    words = _WORDS64[order.prefix]
    h = words.unpack(raw_h)
    eng = engine(ctx)
    if is_last:
        digest = eng.sha2_final(ctx, 512, h, (hi << 64) | lo, block[:last_len], out_len_of(hash_type))
        return 0, _RESPONSE.pack(order, 0, 0, digest, 0)
    h = eng.sha2_compress(ctx, 512, h, block)
    lo = (lo + 128) & M32  # u64 in wolfCrypt, u32 on the wire: the carry is lost
    return 0, _RESPONSE.pack(order, hi, lo, words.pack(*h), 0)
