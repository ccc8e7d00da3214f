"""The crypto engine: what the symmetric handlers compute with, and what it costs in HSM cycles.

Handlers never call a cipher library directly; they ask ``engine(ctx)`` (the server's
``crypto_engine``, created on first use) for primitives:

* ``random(ctx, n)`` - random bytes (OS entropy, or a seeded deterministic stream);
* ``sha2_compress`` / ``sha2_final`` - SHA-256/512 compression continuing from a client midstate,
  and FIPS 180-4 padding + finalisation; ``digest`` - a one-shot hash by wc_HashType built on them
  (HMAC/HKDF use it);
* ``aes_ecb`` / ``aes_cbc`` / ``aes_ctr`` / ``aes_gcm_encrypt`` / ``aes_gcm_decrypt``;
* ``cmac_update`` / ``cmac_final`` - AES-CMAC on wolfCrypt's resumable state;
* ``ecdsa_sign`` / ``ecdsa_verify`` (nonce k from the caller, so that every engine signs the same bytes)
  and ``ed25519_sign`` / ``ed25519_verify`` - the public-key operations an accelerator may run; the
  software engine computes them with the pk_ecc / pk_25519 math and charges keyenc's ``PK_CYCLES``.

:class:`CryptoEngine` is the interface; the wolfCrypt-shaped state machines (CTR's ``reg/tmp/left``,
CMAC's "keep the last full block pending" rule) live in the base class on top of the block
primitives, so an accelerator engine (the AES/SHA peripherals reached through the HAL) only has to
provide those primitives: same bytes, different virtual time. :class:`SoftwareEngine` is the
software path: it computes on the host (OpenSSL through ``cryptography``/``hashlib``/``ctypes``) and
charges the HSM core the cycles wolfCrypt would need (``SW_COSTS``, all *assumed*, each overridable
by an attribute of the same name on the server config).

Errors are raised as :class:`CryptoError` with wolfCrypt's codes (BAD_FUNC_ARG for a key length
other than 16/24/32, BUFFER_E for a CMAC tag length outside 4..16, BAD_LENGTH_E for ECB on a partial
block, AES_GCM_AUTH_E for a failed tag).

SHA-2 from a midstate (crypto spec §10.1): no Python library can resume a hash from its chaining
value (``hashlib`` objects can be copied but not seeded, ``cryptography`` has no such API), yet the
wolfHSM client ships its wolfCrypt midstate in every request. Two implementations are provided:

* ``sha256_compress_pure`` / ``sha512_compress_pure``: the FIPS 180-4 §6.2.2 / §6.4.2 compression
  written out in Python. It is the reference (readable, no dependencies, portable) and the fallback.
* the fast path: OpenSSL's exported low-level ``SHA256_Transform`` / ``SHA512_Transform`` on a
  ``SHA256_CTX`` / ``SHA512_CTX`` whose ``h[]`` words we set, called through ``ctypes`` in the very
  libcrypto that Python's ``_hashlib`` already has loaded (no extra dependency). It is checked at
  import against the pure function and ``hashlib``; if the symbols are missing (an OpenSSL built
  without deprecated APIs) or the self-test disagrees, the pure function is used.
  ``HSMEMU_SHA2_BACKEND=pure`` forces the reference path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from firmware.wire import WcError

from ..services.crypto import CryptoError

__all__ = [
    "SW_COSTS",
    "CmacState",
    "check_aes_key",
    "CryptoEngine",
    "SoftwareEngine",
    "engine",
    "SHA2_BACKEND",
    "sha256_compress",
    "sha512_compress",
    "sha256_compress_pure",
    "sha512_compress_pure",
    "sha256_compress_fast",
    "sha512_compress_fast",
    "sha2_pad",
]

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF
AES_BLOCK = 16
AES_KEY_SIZES = (16, 24, 32)
CMAC_TAG_MIN, CMAC_TAG_MAX = 4, 16  # WC_CMAC_TAG_MIN_SZ / _MAX_SZ (values file)
GCM_MIN_TAG_ENCRYPT = 12  # WOLFSSL_MIN_AUTH_TAG_SZ: enforced by wc_AesGcmEncrypt only

# HSM-core cycles of the software path. All *assumed*: wolfCrypt's portable C on a Cortex-M3/M4-class
# HSM core at 0 wait states, order of magnitude of wolfSSL's published embedded benchmarks
# (SHA-256 ~50 cycles/byte, SHA-512 ~110 cycles/byte on a 32-bit core, table AES ~65 cycles/byte for
# AES-128 with +20%/+40% for AES-192/256, 4-bit-table GHASH ~100 cycles/byte, Hash_DRBG ~60
# cycles/byte). No figure exists for the emulated core; override any of them with a ServerConfig
# (or board) attribute of the same name.
SW_COSTS: dict[str, int] = {
    "crypto_sw_call": 400,  # assumed: per engine call (context init, argument checks)
    "crypto_sw_sha256_block": 3_300,  # assumed: one 64-byte compression
    "crypto_sw_sha512_block": 14_000,  # assumed: one 128-byte compression (64-bit words on 32 bits)
    "crypto_sw_aes_key_setup": 1_500,  # assumed: AES-128 key expansion (decrypt keys +50%)
    "crypto_sw_aes_block": 1_040,  # assumed: one AES-128 block, x1.2 for 192, x1.4 for 256
    "crypto_sw_ghash_block": 1_600,  # assumed: one GHASH multiplication (4-bit tables)
    "crypto_sw_rng_byte": 60,  # assumed: Hash_DRBG output per byte
    "crypto_sw_sha3_block": 9_000,  # assumed: one Keccak-f[1600] permutation (SHA-3 HMAC in HKDF)
}
_AES_ROUNDS_SCALE = {16: 10, 24: 12, 32: 14}
_ECB_CONTEXTS = 32  # cached ECB contexts per software engine
_SHORT_RUN = 16  # blocks: up to this many, CBC encryption / CTR run on a cached ECB context
ED25519_PURE = 0xFF  # wolfCrypt's Ed25519 type for pure Ed25519 (0 Ed25519ctx, 1 Ed25519ph)


# ================================================================================================ SHA-2


def _iroot(n: int, k: int) -> int:
    """floor(n ** (1/k)) for integers (Newton's method; exact, unlike float roots)."""
    x = 1 << ((n.bit_length() + k - 1) // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


def _primes(count: int) -> list[int]:
    out: list[int] = []
    n = 2
    while len(out) < count:
        if all(n % p for p in out if p * p <= n):
            out.append(n)
        n += 1
    return out


# FIPS 180-4 §4.2.2 / §4.2.3: the constants are the first 32 (64) bits of the fractional parts of the
# cube roots of the first 64 (80) primes. Derived here exactly instead of transcribed.
_K256 = tuple(_iroot(p << 96, 3) & M32 for p in _primes(64))
_K512 = tuple(_iroot(p << 192, 3) & M64 for p in _primes(80))
# §5.3.3 / §5.3.5: initial hash values = fractional parts of the square roots of the first 8 primes.
SHA256_IV = tuple(_iroot(p << 64, 2) & M32 for p in _primes(8))
SHA512_IV = tuple(_iroot(p << 128, 2) & M64 for p in _primes(8))
# §5.3.2 / §5.3.4: SHA-384 uses the 9th..16th primes; SHA-224 the low 32 bits of those.
SHA384_IV = tuple(_iroot(p << 128, 2) & M64 for p in _primes(16)[8:])
SHA224_IV = tuple(w & M32 for w in SHA384_IV)


def sha256_compress_pure(h: Sequence[int], data: bytes) -> tuple[int, ...]:
    """FIPS 180-4 §6.2.2: fold the 64-byte blocks of `data` into the eight 32-bit words `h`."""
    if len(data) % 64:
        raise ValueError("SHA-256 compresses whole 64-byte blocks")
    k = _K256
    h0, h1, h2, h3, h4, h5, h6, h7 = h
    for off in range(0, len(data), 64):
        w = list(struct.unpack_from(">16I", data, off))
        for t in range(16, 64):
            x, y = w[t - 15], w[t - 2]
            s0 = ((x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)) & M32
            s1 = ((y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)) & M32
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & M32)
        a, b, c, d, e, f, g, hh = h0, h1, h2, h3, h4, h5, h6, h7
        for t in range(64):
            big_s1 = ((e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)) & M32
            t1 = hh + big_s1 + ((e & f) ^ (~e & g)) + k[t] + w[t]
            big_s0 = ((a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)) & M32
            t2 = big_s0 + ((a & b) ^ (a & c) ^ (b & c))
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
        h0, h1, h2, h3 = (h0 + a) & M32, (h1 + b) & M32, (h2 + c) & M32, (h3 + d) & M32
        h4, h5, h6, h7 = (h4 + e) & M32, (h5 + f) & M32, (h6 + g) & M32, (h7 + hh) & M32
    return (h0, h1, h2, h3, h4, h5, h6, h7)


def sha512_compress_pure(h: Sequence[int], data: bytes) -> tuple[int, ...]:
    """FIPS 180-4 §6.4.2: fold the 128-byte blocks of `data` into the eight 64-bit words `h`."""
    if len(data) % 128:
        raise ValueError("SHA-512 compresses whole 128-byte blocks")
    k = _K512
    h0, h1, h2, h3, h4, h5, h6, h7 = h
    for off in range(0, len(data), 128):
        w = list(struct.unpack_from(">16Q", data, off))
        for t in range(16, 80):
            x, y = w[t - 15], w[t - 2]
            s0 = ((x >> 1 | x << 63) ^ (x >> 8 | x << 56) ^ (x >> 7)) & M64
            s1 = ((y >> 19 | y << 45) ^ (y >> 61 | y << 3) ^ (y >> 6)) & M64
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & M64)
        a, b, c, d, e, f, g, hh = h0, h1, h2, h3, h4, h5, h6, h7
        for t in range(80):
            big_s1 = ((e >> 14 | e << 50) ^ (e >> 18 | e << 46) ^ (e >> 41 | e << 23)) & M64
            t1 = hh + big_s1 + ((e & f) ^ (~e & g)) + k[t] + w[t]
            big_s0 = ((a >> 28 | a << 36) ^ (a >> 34 | a << 30) ^ (a >> 39 | a << 25)) & M64
            t2 = big_s0 + ((a & b) ^ (a & c) ^ (b & c))
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M64, c, b, a, (t1 + t2) & M64
        h0, h1, h2, h3 = (h0 + a) & M64, (h1 + b) & M64, (h2 + c) & M64, (h3 + d) & M64
        h4, h5, h6, h7 = (h4 + e) & M64, (h5 + f) & M64, (h6 + g) & M64, (h7 + hh) & M64
    return (h0, h1, h2, h3, h4, h5, h6, h7)


# ------------------------------------------------------------------------ fast path: OpenSSL via ctypes

# sizeof(SHA256_CTX) = 112, sizeof(SHA512_CTX) = 216 (h[8] first in both); a larger buffer is harmless.
_CTX_BYTES = 256


def _libcrypto_path() -> str | None:
    """The libcrypto that `_hashlib` (Python's OpenSSL binding) is linked against, if it can be found."""
    import _hashlib  # noqa: F401 - importing maps the library into this process

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split()[-1] if line.strip() else ""
                if "libcrypto" in os.path.basename(path):
                    return path
    except OSError:
        pass
    return ctypes.util.find_library("crypto")


def _load_transforms() -> tuple[Any, Any] | None:
    path = _libcrypto_path()
    if not path:
        return None
    try:
        lib = ctypes.CDLL(path)
        t256, t512 = lib.SHA256_Transform, lib.SHA512_Transform
    except (OSError, AttributeError):
        return None
    for fn in (t256, t512):
        fn.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
        fn.restype = None
    return t256, t512


def _make_fast(transform: Any, fmt: str, block: int) -> Callable[[Sequence[int], bytes], tuple[int, ...]]:
    codec = struct.Struct(fmt)  # native order: the C struct's h[] words as this host stores them
    pack_into, unpack_from = codec.pack_into, codec.unpack_from
    new_ctx = ctypes.create_string_buffer

    def compress(h: Sequence[int], data: bytes) -> tuple[int, ...]:
        if len(data) % block:
            raise ValueError(f"compresses whole {block}-byte blocks")
        ctx = new_ctx(_CTX_BYTES)  # per call: no shared mutable state between threads or snapshots
        pack_into(ctx, 0, *h)
        if len(data) == block:
            transform(ctx, data)
        else:
            for off in range(0, len(data), block):
                transform(ctx, data[off : off + block])
        return unpack_from(ctx, 0)

    compress.__name__ = compress.__qualname__ = f"sha{block * 4}_compress_fast"
    return compress


def sha2_pad(count: int, tail: bytes, block: int) -> bytes:
    """`tail` (the last, partial input) + FIPS 180-4 §5.1 padding for a message of `count + len(tail)`
    bytes: 0x80, zeros, and the bit length as a 64-bit (SHA-256) or 128-bit (SHA-512) big-endian
    number, taken modulo 2^64 / 2^128 as wolfCrypt's 32-bit / 64-bit counter words do."""
    length_bytes = 8 if block == 64 else 16
    bits = ((count + len(tail)) * 8) % (1 << (8 * length_bytes))
    zeros = (block - (len(tail) + 1 + length_bytes) % block) % block
    return bytes(tail) + b"\x80" + bytes(zeros) + bits.to_bytes(length_bytes, "big")


def _self_test(c256: Callable[..., tuple[int, ...]], c512: Callable[..., tuple[int, ...]]) -> bool:
    """Both functions agree with hashlib on "abc" and on a two-block message from a midstate."""
    msg = bytes(range(256)) * 3
    for compress, iv, block, ref in (
        (c256, SHA256_IV, 64, hashlib.sha256),
        (c512, SHA512_IV, 128, hashlib.sha512),
    ):
        for data in (b"abc", msg):
            head = len(data) // block * block
            h = compress(iv, data[:head]) if head else iv
            h = compress(h, sha2_pad(head, data[head:], block))
            fmt = ">8I" if block == 64 else ">8Q"
            if struct.pack(fmt, *h) != ref(data).digest():
                return False
    return True


sha256_compress_fast: Callable[[Sequence[int], bytes], tuple[int, ...]] | None = None
sha512_compress_fast: Callable[[Sequence[int], bytes], tuple[int, ...]] | None = None
_transforms = _load_transforms()
if _transforms is not None:
    _f256 = _make_fast(_transforms[0], "=8I", 64)
    _f512 = _make_fast(_transforms[1], "=8Q", 128)
    try:
        _ok = _self_test(_f256, _f512)
    except (OSError, ValueError, ctypes.ArgumentError):
        _ok = False
    if _ok:
        sha256_compress_fast, sha512_compress_fast = _f256, _f512

if not _self_test(sha256_compress_pure, sha512_compress_pure):  # pragma: no cover - would be a bug here
    raise ImportError("the pure-Python SHA-2 compression fails its self-test")

if sha256_compress_fast is not None and os.environ.get("HSMEMU_SHA2_BACKEND", "").lower() != "pure":
    SHA2_BACKEND = "openssl-ctypes"
    sha256_compress: Callable[[Sequence[int], bytes], tuple[int, ...]] = sha256_compress_fast
    sha512_compress: Callable[[Sequence[int], bytes], tuple[int, ...]] = sha512_compress_fast  # type: ignore[assignment]
else:
    SHA2_BACKEND = "pure-python"
    sha256_compress = sha256_compress_pure
    sha512_compress = sha512_compress_pure

_SHA2 = {
    256: (64, ">8I", lambda h, d: sha256_compress(h, d), "crypto_sw_sha256_block"),
    512: (128, ">8Q", lambda h, d: sha512_compress(h, d), "crypto_sw_sha512_block"),
}
# wc_HashType -> (family, IV, digest length); SHA-3 by hashlib name. Block sizes (HMAC): HASH_BLOCK.
SHA2_BY_HASH_TYPE: dict[int, tuple[int, tuple[int, ...], int]] = {
    5: (256, SHA224_IV, 28),
    6: (256, SHA256_IV, 32),
    7: (512, SHA384_IV, 48),
    8: (512, SHA512_IV, 64),
}
SHA3_BY_HASH_TYPE = {10: "sha3_224", 11: "sha3_256", 12: "sha3_384", 13: "sha3_512"}
HASH_SIZE = {5: 28, 6: 32, 7: 48, 8: 64, 10: 28, 11: 32, 12: 48, 13: 64}
HASH_BLOCK = {5: 64, 6: 64, 7: 128, 8: 128, 10: 144, 11: 136, 12: 104, 13: 72}


# ================================================================================================ AES


def _xor(a: bytes, b: bytes) -> bytes:
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")


def check_aes_key(key: bytes) -> None:
    """wc_AesSetKey / wc_AesGcmSetKey / wc_InitCmac: only 128/192/256-bit keys."""
    if len(key) not in AES_KEY_SIZES:
        raise CryptoError(WcError.BAD_FUNC_ARG, f"AES key of {len(key)} bytes")


def _ctr_add(reg: bytes, n: int) -> bytes:
    """wolfCrypt's IncrementAesCounter n times: the whole 16-byte block is a big-endian counter."""
    return ((int.from_bytes(reg, "big") + n) % (1 << 128)).to_bytes(16, "big")


# GCM in Python, only for IV lengths OpenSSL refuses (wolfCrypt accepts any non-zero length;
# OpenSSL 3 and so `cryptography` accept 8..128 bytes). NIST SP 800-38D §6-§7.
_GCM_R = 0xE1 << 120


def _gf128_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _GCM_R if v & 1 else v >> 1
    return z


def _ghash(h: int, *parts: bytes) -> int:
    """GHASH over the parts, each zero-padded to whole blocks (§6.4)."""
    y = 0
    for part in parts:
        padded = bytes(part) + bytes(-len(part) % 16)
        for off in range(0, len(padded), 16):
            y = _gf128_mul(y ^ int.from_bytes(padded[off : off + 16], "big"), h)
    return y


class CmacState(NamedTuple):
    """wolfCrypt's resumable CMAC state as it crosses the wire (`whMessageCrypto_CmacAesState`)."""

    buffer: bytes = bytes(16)  # pending block; bytes past `size` are stale and kept verbatim
    digest: bytes = bytes(16)  # running CBC-MAC value
    size: int = 0  # bufferSz, 0..16
    total: int = 0  # totalSz (u32): bytes folded into digest


def _dbl(block: bytes) -> bytes:
    """RFC 4493 subkey doubling in GF(2^128)."""
    v = int.from_bytes(block, "big") << 1
    if v >> 128:
        v = (v & ((1 << 128) - 1)) ^ 0x87
    return v.to_bytes(16, "big")


# ================================================================================================ engine


class CryptoEngine:
    """The primitives handlers use. Subclasses implement the block operations and `random`; the
    wolfCrypt state machines (CTR, CMAC) are shared here so that every engine behaves identically."""

    name = "abstract"

    # ---------------------------------------------------------------- primitives (per engine)

    def random(self, ctx: Any, n: int) -> bytes:
        raise NotImplementedError

    def sha2_compress(self, ctx: Any, bits: int, h: Sequence[int], data: bytes) -> tuple[int, ...]:
        """Continue SHA-256 (`bits` 256, also SHA-224) or SHA-512 (512, also 384, 512/t) from the words
        `h` over whole blocks of `data`."""
        raise NotImplementedError

    def aes_ecb(self, ctx: Any, key: bytes, data: bytes, encrypt: bool = True) -> bytes:
        raise NotImplementedError

    def aes_cbc(self, ctx: Any, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        raise NotImplementedError

    def aes_ctr_blocks(self, ctx: Any, key: bytes, counter: bytes, data: bytes) -> bytes:
        """XOR whole blocks of `data` with AES(counter), AES(counter+1), ... (128-bit increment)."""
        raise NotImplementedError

    def aes_gcm_encrypt(
        self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag_len: int
    ) -> tuple[bytes, bytes]:
        raise NotImplementedError

    def aes_gcm_decrypt(self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag: bytes) -> bytes:
        raise NotImplementedError

    # ---------------------------------------------------------------- SHA-2 finalisation

    def sha2_final(self, ctx: Any, bits: int, h: Sequence[int], count: int, tail: bytes, out_len: int) -> bytes:
        """Absorb `tail` after `count` compressed bytes, pad, and return the big-endian digest cut to
        `out_len` bytes (28 SHA-224 and SHA-512/224, 32, 48, 64)."""
        block, fmt = _SHA2[bits][0], _SHA2[bits][1]
        h = self.sha2_compress(ctx, bits, h, sha2_pad(count, tail, block))
        return struct.pack(fmt, *h)[:out_len]

    def digest(self, ctx: Any, hash_type: int, data: bytes) -> bytes:
        """One-shot hash by wc_HashType: SHA-224/256/384/512 on this engine's SHA-2 compression, SHA3-*
        (10..13) on the host. Other types: BAD_FUNC_ARG (this build has NO_SHA and NO_MD5)."""
        spec = SHA2_BY_HASH_TYPE.get(hash_type)
        if spec is None:
            name = SHA3_BY_HASH_TYPE.get(hash_type)
            if name is None:
                raise CryptoError(WcError.BAD_FUNC_ARG, f"hash type {hash_type}")
            return self.sha3(ctx, name, data)
        bits, iv, out_len = spec
        block = _SHA2[bits][0]
        whole = len(data) // block * block
        h = self.sha2_compress(ctx, bits, iv, data[:whole]) if whole else iv
        return self.sha2_final(ctx, bits, h, whole, data[whole:], out_len)

    def sha3(self, ctx: Any, name: str, data: bytes) -> bytes:
        return hashlib.new(name, data).digest()

    # ---------------------------------------------------------------- public key (per engine)
    # `curve` is a keyenc.EccCurve (wc_id, name, size, p, n, curve()); integers are plain Python ints.

    def ecdsa_sign(self, ctx: Any, curve: Any, priv_scalar: int, digest: bytes, k: int) -> tuple[int, int]:
        """ECDSA (r, s) of `digest` (its leftmost order bits, as wolfCrypt) with the private scalar and
        the caller's nonce `k` (1..n-1). r or s may come back 0: the caller then draws another k."""
        raise NotImplementedError

    def ecdsa_verify(self, ctx: Any, curve: Any, pub_xy: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
        """ECDSA verification with the public point (x, y); r and s already checked to lie in 1..n-1."""
        raise NotImplementedError

    def ed25519_sign(
        self, ctx: Any, seed: bytes, msg: bytes, mode: int = ED25519_PURE, context: bytes = b"", public: bytes = b""
    ) -> bytes:
        """RFC 8032 signature (R || S) with the 32-byte seed: pure Ed25519 (mode 0xFF), Ed25519ctx (0) or
        Ed25519ph (1, `msg` is the SHA-512 pre-hash); `public` (derived when empty) for ctx/ph."""
        raise NotImplementedError

    def ed25519_verify(
        self, ctx: Any, pub: bytes, msg: bytes, sig: bytes, mode: int = ED25519_PURE, context: bytes = b""
    ) -> bool:
        """RFC 8032 verification; the caller has made wolfCrypt's checks (64-byte signature, S < L, a
        decodable public key)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- AES-CTR (wolfCrypt streaming state)

    def aes_ctr(
        self, ctx: Any, key: bytes, reg: bytes, tmp: bytes, left: int, data: bytes
    ) -> tuple[bytes, bytes, bytes, int]:
        """`wc_AesCtrEncrypt` with a restored `reg` (counter block), `tmp` (last keystream block) and
        `left` (unused bytes at the end of `tmp`, 0..16). Returns (out, reg, tmp, left)."""
        check_aes_key(key)
        out: list[bytes] = []
        n, i = len(data), 0
        if left and n:
            take = min(left, n)
            start = AES_BLOCK - left
            out.append(_xor(data[:take], tmp[start : start + take]))
            left -= take
            i = take
        whole = (n - i) // AES_BLOCK * AES_BLOCK
        if whole:
            out.append(self.aes_ctr_blocks(ctx, key, reg, data[i : i + whole]))
            reg = _ctr_add(reg, whole // AES_BLOCK)
            i += whole
        if i < n:
            tmp = self.aes_ecb(ctx, key, reg)
            reg = _ctr_add(reg, 1)
            out.append(_xor(data[i:], tmp))
            left = AES_BLOCK - (n - i)
        return b"".join(out), reg, tmp, left

    # ---------------------------------------------------------------- AES-CMAC (wolfCrypt resumable state)

    def cmac_subkeys(self, ctx: Any, key: bytes) -> tuple[bytes, bytes]:
        check_aes_key(key)
        k1 = _dbl(self.aes_ecb(ctx, key, bytes(16)))
        return k1, _dbl(k1)

    def _cmac_fold(self, ctx: Any, key: bytes, digest: bytes, total: int, blocks: bytes) -> tuple[bytes, int]:
        """Fold whole blocks: digest = AES(block ^ digest), except that wolfCrypt skips the XOR when
        totalSz is 0 (then the digest restarts from the block alone). Runs of blocks are one CBC."""
        nb, pos = len(blocks) // AES_BLOCK, 0
        while pos < nb:
            iv = digest if total else bytes(16)
            run = nb - pos
            if total % AES_BLOCK == 0:  # totalSz returns to 0 (u32 wrap) after this many folds
                run = min(run, (((-total) & M32) or (1 << 32)) // AES_BLOCK)
            chunk = blocks[pos * AES_BLOCK : (pos + run) * AES_BLOCK]
            digest = self.aes_cbc(ctx, key, iv, chunk, True)[-AES_BLOCK:]
            total = (total + run * AES_BLOCK) & M32
            pos += run
        return digest, total

    def cmac_update(self, ctx: Any, key: bytes, state: CmacState, data: bytes) -> CmacState:
        """`wc_CmacUpdate`: fill the pending buffer; fold it only when more input follows, so a
        full last block stays pending. `state.size` must be 0..16 (the caller checks)."""
        check_aes_key(key)
        if not data:
            return state
        buf = bytearray(state.buffer)
        digest, size, total = state.digest, state.size, state.total
        n = len(data)
        add = min(n, AES_BLOCK - size)
        buf[size : size + add] = data[:add]
        size += add
        if size == AES_BLOCK and add < n:
            digest, total = self._cmac_fold(ctx, key, digest, total, bytes(buf))
            rest = n - add
            whole = (rest - 1) // AES_BLOCK * AES_BLOCK  # blocks followed by more input
            if whole:
                digest, total = self._cmac_fold(ctx, key, digest, total, data[add : add + whole])
            last = data[add + whole :]
            buf[: len(last)] = last
            size = len(last)
        return CmacState(bytes(buf), digest, size, total)

    def cmac_final(self, ctx: Any, key: bytes, state: CmacState, out_len: int) -> bytes:
        """`wc_CmacFinal`: K1 for a full pending block, else 0x80-pad and K2; the digest is always
        XORed in. Tag length outside 4..16 -> BUFFER_E."""
        if not CMAC_TAG_MIN <= out_len <= CMAC_TAG_MAX:
            raise CryptoError(WcError.BUFFER_E, f"CMAC tag of {out_len} bytes")
        if state.size > AES_BLOCK:
            raise CryptoError(WcError.BAD_STATE_E, "CMAC buffer size > 16")
        k1, k2 = self.cmac_subkeys(ctx, key)
        if state.size == AES_BLOCK:
            last, sub = state.buffer, k1
        else:
            last = state.buffer[: state.size] + b"\x80" + bytes(AES_BLOCK - 1 - state.size)
            sub = k2
        return self.aes_ecb(ctx, key, _xor(_xor(last, state.digest), sub))[:out_len]

    def cmac(self, ctx: Any, key: bytes, data: bytes, out_len: int = 16) -> bytes:
        """One-shot AES-CMAC (`wc_AesCmacGenerate`: key checked first, then the tag length)."""
        check_aes_key(key)
        if not CMAC_TAG_MIN <= out_len <= CMAC_TAG_MAX:
            raise CryptoError(WcError.BUFFER_E, f"CMAC tag of {out_len} bytes")
        return self.cmac_final(ctx, key, self.cmac_update(ctx, key, CmacState(), data), out_len)


class SoftwareEngine(CryptoEngine):
    """The software path: host computation, HSM cycles charged from ``SW_COSTS`` (or the config).

    Random bytes come from ``os.urandom``, or - when the server config has an ``rng_seed`` - from a
    deterministic stream so that seeded runs are bit-identical. That stream is hand-written on
    purpose: a counter-mode generator, AES-256-CTR keyed with SHA-256("hsmemu-rng" || seed), with the
    byte position as the only state. Neither `cryptography` nor `hashlib` offers a seedable DRBG,
    `random.Random` is not a cryptographic generator and its output is a CPython detail; AES-CTR over
    a fixed key schedule is stable across library versions, fast for bulk requests, and its state is
    one integer (cheap to snapshot with the rest of the firmware).
    """

    name = "software"

    def __init__(self, seed: Any = None) -> None:
        self.seeded = seed is not None
        self._rng_key = b""
        self._rng_pos = 0
        if self.seeded:
            raw = seed if isinstance(seed, bytes | bytearray) else str(seed).encode()
            self._rng_key = hashlib.sha256(b"hsmemu-rng" + bytes(raw)).digest()
        self._ecb: dict[tuple[bytes, bool], Any] = {}

    # Building a `cryptography` cipher costs ~15 us, a block ~0.5 us. ECB contexts carry no chaining
    # state, so a few are kept per key and reused (short CBC/CTR operations are built from them).
    # They are host objects: not part of the firmware state, dropped from snapshots and pickles.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_ecb"] = {}
        return state

    def _ecb_op(self, key: bytes, encrypt: bool) -> Any:
        k = (bytes(key), encrypt)
        op = self._ecb.get(k)
        if op is None:
            if len(self._ecb) >= _ECB_CONTEXTS:
                self._ecb.pop(next(iter(self._ecb)))
            cipher = Cipher(algorithms.AES(k[0]), modes.ECB())
            op = self._ecb[k] = cipher.encryptor() if encrypt else cipher.decryptor()
        return op

    # ---------------------------------------------------------------- costs

    @staticmethod
    def cost(ctx: Any, name: str) -> int:
        return int(getattr(ctx.config, name, SW_COSTS[name]))

    def _spend_aes(self, ctx: Any, key: bytes, blocks: int, decrypt_keys: bool = False) -> None:
        setup = self.cost(ctx, "crypto_sw_aes_key_setup") * (3 if decrypt_keys else 2) // 2
        per_block = self.cost(ctx, "crypto_sw_aes_block") * _AES_ROUNDS_SCALE[len(key)] // 10
        ctx.spend(self.cost(ctx, "crypto_sw_call") + setup + per_block * blocks)

    # ---------------------------------------------------------------- random

    def random(self, ctx: Any, n: int) -> bytes:
        ctx.spend(self.cost(ctx, "crypto_sw_call") + self.cost(ctx, "crypto_sw_rng_byte") * n)
        if n <= 0:
            return b""
        if not self.seeded:
            return os.urandom(n)
        start, skip = divmod(self._rng_pos, AES_BLOCK)
        counter = (start % (1 << 128)).to_bytes(16, "big")
        stream = Cipher(algorithms.AES(self._rng_key), modes.CTR(counter)).encryptor().update(bytes(skip + n))
        self._rng_pos += n
        return stream[skip:]

    # ---------------------------------------------------------------- SHA-2

    def sha2_compress(self, ctx: Any, bits: int, h: Sequence[int], data: bytes) -> tuple[int, ...]:
        block, _fmt, compress, cost_name = _SHA2[bits]
        ctx.spend(self.cost(ctx, cost_name) * (len(data) // block))
        return compress(h, data)

    def sha3(self, ctx: Any, name: str, data: bytes) -> bytes:
        rate = {"sha3_224": 144, "sha3_256": 136, "sha3_384": 104, "sha3_512": 72}[name]
        ctx.spend(self.cost(ctx, "crypto_sw_sha3_block") * (len(data) // rate + 1))
        return hashlib.new(name, data).digest()

    # ---------------------------------------------------------------- public key
    # The math lives next to its handlers (pk_ecc, pk_25519); imported here at call time because those
    # modules import this one (through keyenc). Cycles: keyenc.PK_CYCLES (or the config's override).

    def ecdsa_sign(self, ctx: Any, curve: Any, priv_scalar: int, digest: bytes, k: int) -> tuple[int, int]:
        from .keyenc import ecc_cycles
        from .pk_ecc import ecdsa_sign_k

        ctx.spend(ecc_cycles(ctx, "ecc_sign", curve))
        return ecdsa_sign_k(curve, priv_scalar, digest, k)

    def ecdsa_verify(self, ctx: Any, curve: Any, pub_xy: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
        from .keyenc import ecc_cycles
        from .pk_ecc import ecdsa_verify_rs

        ctx.spend(ecc_cycles(ctx, "ecc_verify", curve))
        return ecdsa_verify_rs(curve, pub_xy, digest, r, s)

    def ed25519_sign(
        self, ctx: Any, seed: bytes, msg: bytes, mode: int = ED25519_PURE, context: bytes = b"", public: bytes = b""
    ) -> bytes:
        from .keyenc import cycles, ed25519_public_of
        from .pk_25519 import ed25519_sign

        ctx.spend(cycles(ctx, "ed25519_sign") + cycles(ctx, "sha512_per_byte") * 2 * len(msg))
        if mode != ED25519_PURE and not public:
            public = ed25519_public_of(seed)
        return ed25519_sign(seed, public, msg, mode, context)

    def ed25519_verify(
        self, ctx: Any, pub: bytes, msg: bytes, sig: bytes, mode: int = ED25519_PURE, context: bytes = b""
    ) -> bool:
        from .keyenc import cycles
        from .pk_25519 import ed25519_verify_math

        ctx.spend(cycles(ctx, "ed25519_verify") + cycles(ctx, "sha512_per_byte") * len(msg))
        return ed25519_verify_math(pub, sig, msg, mode, context)

    # ---------------------------------------------------------------- AES

    def aes_ecb(self, ctx: Any, key: bytes, data: bytes, encrypt: bool = True) -> bytes:
        check_aes_key(key)
        if len(data) % AES_BLOCK:
            raise CryptoError(WcError.BAD_LENGTH_E, "ECB on a partial block")
        self._spend_aes(ctx, key, len(data) // AES_BLOCK, not encrypt)
        return self._ecb_op(key, encrypt).update(bytes(data))

    def aes_cbc(self, ctx: Any, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        """wc_AesCbcEncrypt/Decrypt: whole blocks only; a trailing partial block is left as it was
        (the C server works in place, so those bytes come back unchanged)."""
        check_aes_key(key)
        whole = len(data) // AES_BLOCK * AES_BLOCK
        self._spend_aes(ctx, key, whole // AES_BLOCK, not encrypt)
        if not whole:
            return bytes(data)
        blocks, iv = bytes(data[:whole]), bytes(iv[:AES_BLOCK])
        if not encrypt:  # every block at once: P_i = D(C_i) ^ C_{i-1}
            out = _xor(self._ecb_op(key, False).update(blocks), iv + blocks[:-AES_BLOCK])
        elif whole <= _SHORT_RUN * AES_BLOCK:
            op, prev, parts = self._ecb_op(key, True), iv, []
            for off in range(0, whole, AES_BLOCK):
                prev = op.update(_xor(blocks[off : off + AES_BLOCK], prev))
                parts.append(prev)
            out = b"".join(parts)
        else:
            enc = Cipher(algorithms.AES(bytes(key)), modes.CBC(iv)).encryptor()
            out = enc.update(blocks) + enc.finalize()
        return out + bytes(data[whole:])

    def aes_ctr_blocks(self, ctx: Any, key: bytes, counter: bytes, data: bytes) -> bytes:
        check_aes_key(key)
        n = len(data) // AES_BLOCK
        self._spend_aes(ctx, key, n)
        if n <= _SHORT_RUN:
            start = int.from_bytes(counter, "big")
            counters = b"".join(((start + i) % (1 << 128)).to_bytes(16, "big") for i in range(n))
            return _xor(bytes(data), self._ecb_op(key, True).update(counters))
        return Cipher(algorithms.AES(bytes(key)), modes.CTR(bytes(counter))).encryptor().update(bytes(data))

    def _spend_gcm(self, ctx: Any, key: bytes, aad: bytes, data: bytes) -> None:
        blocks = -(-len(data) // AES_BLOCK)
        ghash = -(-len(aad) // AES_BLOCK) + blocks + 1
        self._spend_aes(ctx, key, blocks + 2)
        ctx.spend(self.cost(ctx, "crypto_sw_ghash_block") * ghash)

    def aes_gcm_encrypt(
        self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag_len: int
    ) -> tuple[bytes, bytes]:
        """wc_AesGcmEncrypt: key 16/24/32, IV of any non-zero length, tag 12..16 bytes."""
        check_aes_key(key)
        if not iv or not GCM_MIN_TAG_ENCRYPT <= tag_len <= AES_BLOCK:
            raise CryptoError(WcError.BAD_FUNC_ARG, f"GCM IV {len(iv)} / tag {tag_len} bytes")
        self._spend_gcm(ctx, key, aad, data)
        out, tag = self._gcm(key, iv, aad, data, encrypt=True)
        return out, tag[:tag_len]

    def aes_gcm_decrypt(self, ctx: Any, key: bytes, iv: bytes, aad: bytes, data: bytes, tag: bytes) -> bytes:
        """wc_AesGcmDecrypt: tag 1..16 bytes (no minimum on this side); mismatch -> AES_GCM_AUTH_E."""
        check_aes_key(key)
        if not iv or not 1 <= len(tag) <= AES_BLOCK:
            raise CryptoError(WcError.BAD_FUNC_ARG, f"GCM IV {len(iv)} / tag {len(tag)} bytes")
        self._spend_gcm(ctx, key, aad, data)
        out, full_tag = self._gcm(key, iv, aad, data, encrypt=False)
        if not hmac.compare_digest(full_tag[: len(tag)], bytes(tag)):
            raise CryptoError(WcError.AES_GCM_AUTH_E, "GCM tag mismatch")
        return out

    @staticmethod
    def _gcm(key: bytes, iv: bytes, aad: bytes, data: bytes, encrypt: bool) -> tuple[bytes, bytes]:
        """(output, full 16-byte tag over the ciphertext). Decryption recomputes the tag from the
        recovered plaintext so that truncated tags of any length can be compared."""
        key, iv, aad, data = bytes(key), bytes(iv), bytes(aad), bytes(data)
        if not 8 <= len(iv) <= 128:
            return _gcm_pure(key, iv, aad, data, encrypt)
        if encrypt:
            enc = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
            enc.authenticate_additional_data(aad)
            out = enc.update(data) + enc.finalize()
            return out, enc.tag
        dec = Cipher(algorithms.AES(key), modes.GCM(iv)).decryptor()
        plain = dec.update(data)  # never finalized: the tag is checked by recomputation below
        enc = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
        enc.authenticate_additional_data(aad)
        enc.update(plain)
        enc.finalize()
        return plain, enc.tag


def _gcm_pure(key: bytes, iv: bytes, aad: bytes, data: bytes, encrypt: bool) -> tuple[bytes, bytes]:
    """GCM per SP 800-38D with the block cipher from OpenSSL (IVs outside OpenSSL's 8..128 bytes)."""
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    h = int.from_bytes(ecb.update(bytes(16)), "big")
    if len(iv) == 12:
        j0 = iv + b"\x00\x00\x00\x01"
    else:
        j0 = _ghash(h, iv, (len(iv) * 8).to_bytes(16, "big")).to_bytes(16, "big")
    prefix, ctr0 = j0[:12], int.from_bytes(j0[12:], "big")
    nblocks = -(-len(data) // 16)
    counters = b"".join(prefix + ((ctr0 + i) & M32).to_bytes(4, "big") for i in range(1, nblocks + 1))
    stream = ecb.update(counters)
    out = _xor(data, stream) if data else b""
    cipher_text = out if encrypt else data
    lengths = (len(aad) * 8).to_bytes(8, "big") + (len(cipher_text) * 8).to_bytes(8, "big")
    s = _ghash(h, aad, cipher_text, lengths)
    tag = (int.from_bytes(ecb.update(j0), "big") ^ s).to_bytes(16, "big")
    return out, tag


def engine(ctx: Any) -> CryptoEngine:
    """The server's crypto engine (``server.crypto_engine``), a :class:`SoftwareEngine` created on first
    use, seeded from ``config.rng_seed`` when that is set. A board with accelerators installs its own
    engine in that attribute before requests arrive."""
    server = ctx.server
    eng = getattr(server, "crypto_engine", None)
    if eng is None:
        eng = SoftwareEngine(seed=getattr(ctx.config, "rng_seed", None))
        server.crypto_engine = eng
    return eng
