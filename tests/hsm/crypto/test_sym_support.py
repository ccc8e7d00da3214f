"""Shared helpers of the symmetric-crypto wire tests (RNG, SHA-2, AES, CMAC, HKDF, CMAC-KDF).

Requests are packed with `struct` from the offsets of ``layout/struct-offsets-v1.4.0.txt`` (not with
the server's declarations), framed by hand (core spec §2.1: magic, kind, seq, aux; v1.4.0 crypto
envelope = u32 algoType, u32 algoSubType, diff §10.1) and sent to a real ``default_server()`` through
``Server.handle``. rc bytes (LE): BADARGS 30f8ffff, USAGE 27f8ffff, NOTFOUND c8f7ffff, ABORTED
2ef8ffff, BAD_FUNC_ARG 53ffffff, NOT_COMPILED_IN 52ffffff, BUFFER_E 7cffffff, AES_GCM_AUTH_E 4cffffff,
BAD_LENGTH_E e9feffff.
"""

from __future__ import annotations

import struct
from typing import Any

from firmware.hsm.context import Connection
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import Server, default_server

# actions (wc_AlgoType) and dispatch values (wolfSSL 5.8.4 values file)
HASH, CIPHER, RNG, CMAC, KDF = 1, 2, 4, 7, 9
SHA224, SHA256, SHA384, SHA512, SHA512_224, SHA512_256 = 5, 6, 7, 8, 16, 17
AES_CBC, AES_GCM, AES_CTR, AES_ECB = 2, 3, 4, 13
KDF_HKDF, KDF_TWOSTEP_CMAC = 1, 2

# whNvmFlags
NONMODIFIABLE, EPHEMERAL = 0x0001, 0x0010
ENCRYPT, DECRYPT, SIGN, VERIFY, WRAP, DERIVE = 0x0020, 0x0040, 0x0080, 0x0100, 0x0200, 0x0400

# rc values
OK, BADARGS, ABORTED, USAGE, NOTFOUND, NOSPACE = 0, -2000, -2002, -2009, -2104, -2105
BAD_FUNC_ARG, NOT_COMPILED_IN, BUFFER_E, AES_GCM_AUTH_E, BAD_LENGTH_E = -173, -174, -132, -180, -279

KEY_CACHE, KEY_EVICT, KEY_EXPORT, KEY_COMMIT = 0x0300, 0x0301, 0x0302, 0x0303


def h(s: str) -> bytes:
    return bytes.fromhex("".join(s.split()))


class CountingHal:
    """The HAL slice the crypto path touches: cycle accounting only."""

    def __init__(self) -> None:
        self.cycles = 0

    def spend(self, cycles: int) -> None:
        self.cycles += int(cycles)

    def trace(self, kind: str, detail: str = "") -> None:
        pass


class SymClient:
    """One connection logged in with COMM INIT; little- ('<') or big-endian ('>') framing."""

    def __init__(
        self, server: Server | None = None, client_id: int = 1, order: str = "<", hal: Any = None, login: bool = True
    ) -> None:
        self.server = server if server is not None else default_server(nvm=RamNvm())
        self.order, self.hal, self.conn, self.seq = order, hal, Connection(0), 0
        if login:
            reply = self.call(0x0101, struct.pack(order + "I", client_id))
            assert reply == struct.pack(order + "II", client_id, 57)

    def call(self, kind: int, payload: bytes) -> bytes:
        self.seq = (self.seq + 1) & 0xFFFF
        magic = b"\x01\xa5" if self.order == "<" else b"\xa5\x01"
        header = magic + struct.pack(self.order + "HHH", kind, self.seq, 0)
        reply = self.server.handle(self.conn, header + payload, self.hal)
        assert reply is not None and reply[:8] == header
        assert not self.server.errors, self.server.errors
        return reply[8:]

    def raw(self, action: int, algo: int, body: bytes, sub: int = 0) -> bytes:
        """The whole crypto response payload (8-byte v1.4.0 header + body)."""
        return self.call(0x0400 | action, struct.pack(self.order + "II", algo, sub) + body)

    def crypto(self, action: int, algo: int, body: bytes, sub: int = 0) -> tuple[int, bytes]:
        reply = self.raw(action, algo, body, sub)
        echoed, rc = struct.unpack_from(self.order + "Ii", reply)
        assert echoed == algo, "the response must echo algoType"
        if rc != 0:
            assert len(reply) == 8, "v1.4.0 error responses are the 8-byte header only"
        return rc, reply[8:]

    def u32(self, *values: int) -> bytes:
        return struct.pack(self.order + "I" * len(values), *values)

    def fields(self, body: bytes, fmt: str, offset: int = 0) -> tuple[Any, ...]:
        return struct.unpack_from(self.order + fmt, body, offset)

    # ---- KEY group (core spec §5.4; layout lines 105-112)
    def cache(self, key: bytes, flags: int, key_id: int = 0, label: bytes = b"sym") -> int:
        """KEY CACHE; returns the client id assigned (asserts rc 0)."""
        head = struct.pack(self.order + "IIIH2x24s", flags, len(key), len(label), key_id, label)
        rc, kid = struct.unpack_from(self.order + "iH", self.call(KEY_CACHE, head + key))
        assert rc == 0, rc
        return kid

    def export(self, key_id: int) -> tuple[int, int, bytes, bytes]:
        """KEY EXPORT: (rc, flags of the metadata is not returned -> len, label, key)."""
        reply = self.call(KEY_EXPORT, struct.pack(self.order + "H6x", key_id))
        rc, n = struct.unpack_from(self.order + "iI", reply)
        return rc, n, reply[8:32], reply[36 : 36 + n] if rc == 0 else b""

    def evict(self, key_id: int) -> int:
        return struct.unpack_from(self.order + "i", self.call(KEY_EVICT, struct.pack(self.order + "H6x", key_id)))[0]

    def commit(self, key_id: int) -> int:
        return struct.unpack_from(self.order + "i", self.call(KEY_COMMIT, struct.pack(self.order + "H6x", key_id)))[0]


# ------------------------------------------------------------------------------------------ SHA-2 client model

# FIPS 180-4 §5.3 initial hash values (SHA-512/t ones from §5.3.6.1 / §5.3.6.2)
IV = {
    SHA224: (0xC1059ED8, 0x367CD507, 0x3070DD17, 0xF70E5939, 0xFFC00B31, 0x68581511, 0x64F98FA7, 0xBEFA4FA4),
    SHA256: (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19),
    SHA384: (
        0xCBBB9D5DC1059ED8, 0x629A292A367CD507, 0x9159015A3070DD17, 0x152FECD8F70E5939,
        0x67332667FFC00B31, 0x8EB44A8768581511, 0xDB0C2E0D64F98FA7, 0x47B5481DBEFA4FA4,
    ),
    SHA512: (
        0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
        0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
    ),
    SHA512_224: (
        0x8C3D37C819544DA2, 0x73E1996689DCD4D6, 0x1DFAB7AE32FF9C82, 0x679DD514582F9FCF,
        0x0F6D2B697BD44DA8, 0x77E36F7304C48942, 0x3F9D85A86A1D36C8, 0x1112E6AD91D692A1,
    ),
    SHA512_256: (
        0x22312194FC2BF72C, 0x9F555FA3C84C64C2, 0x2393B86B6F53B151, 0x963877195940EABD,
        0x96283EE2A88EFFE3, 0xBE5E1E2553863992, 0x2B0199FC2C85B8AA, 0x0EB72DDC81C52CA2,
    ),
}  # fmt: skip
# wire algoType and resumeState.hashType for each variant
WIRE_ALGO = {SHA224: SHA224, SHA256: SHA256, SHA384: SHA384, SHA512: SHA512, SHA512_224: SHA512, SHA512_256: SHA512}
DIGEST_LEN = {SHA224: 28, SHA256: 32, SHA384: 48, SHA512: 64, SHA512_224: 28, SHA512_256: 32}
HASHLIB = {
    SHA224: "sha224",
    SHA256: "sha256",
    SHA384: "sha384",
    SHA512: "sha512",
    SHA512_224: "sha512_224",
    SHA512_256: "sha512_256",
}


def block_size(variant: int) -> int:
    return 64 if WIRE_ALGO[variant] in (SHA224, SHA256) else 128


def sha_request(
    c: SymClient,
    variant: int,
    state: bytes,
    count: int,
    block: bytes,
    last: bool,
    hi: int = 0,
    hash_type: int | None = None,
    last_len: int | None = None,
) -> bytes:
    """The v1.4.0 one-block request body: [116] for SHA-224/256, [216] for SHA-384/512."""
    o = c.order
    bs = block_size(variant)
    if last_len is None:
        last_len = len(block) if last else 0
    if bs == 64:
        return struct.pack(o + "II32sII64s4x", hi, count, state, int(last), last_len, block)
    ht = (variant if variant != SHA384 else 0) if hash_type is None else hash_type
    return struct.pack(o + "II64sIII128s4x", hi, count, state, ht, int(last), last_len, block)


def words(c: SymClient, variant: int, ws: tuple[int, ...]) -> bytes:
    return struct.pack(c.order + ("8I" if block_size(variant) == 64 else "8Q"), *ws)


def wire_hash(c: SymClient, variant: int, data: bytes, final_full: bool = False) -> bytes:
    """Hash `data` as the v1.4.0 client does: whole blocks as non-final messages, then the tail
    (0..block-1 bytes) as the final message; `final_full` leaves a last whole block for the final
    message (lastBlockLen == block, which the server accepts). Checks every response's shape."""
    algo, bs = WIRE_ALGO[variant], block_size(variant)
    state, count = words(c, variant, IV[variant]), 0
    n_blocks = len(data) // bs
    if final_full and n_blocks and len(data) % bs == 0:
        n_blocks -= 1
    for i in range(n_blocks):
        rc, body = c.crypto(HASH, algo, sha_request(c, variant, state, count, data[i * bs : (i + 1) * bs], False))
        assert rc == 0 and len(body) == 76
        hi, lo = c.fields(body, "II")
        count += bs
        assert (hi << 32 | lo) == count and c.fields(body, "I", 72) == (0,)
        state = body[8 : 8 + bs // 2]
        assert body[8 + bs // 2 : 72] == bytes(72 - 8 - bs // 2)
    tail = data[n_blocks * bs :]
    rc, body = c.crypto(
        HASH, algo, sha_request(c, variant, state, count, tail.ljust(bs, b"\0"), True, last_len=len(tail))
    )
    assert rc == 0 and len(body) == 76
    n = DIGEST_LEN[variant]
    assert body[:8] == bytes(8) and body[8 + n :] == bytes(76 - 8 - n), "final: only the digest is set"
    return body[8 : 8 + n]
