"""The crypto engine behind the symmetric handlers: one per server, created lazily, replaceable (an
accelerator engine provides only block primitives and gets the wolfCrypt state machines - CTR
``reg/tmp/left``, CMAC's pending block - from the base class: same bytes, different cycles)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from test_sym_support import (
    AES_CBC,
    AES_CTR,
    CIPHER,
    CMAC,
    HASH,
    IV,
    SHA256,
    CountingHal,
    SymClient,
    sha_request,
    words,
)

from firmware.hsm.config import ServerConfig
from firmware.hsm.crypto import engine as eng_mod
from firmware.hsm.crypto.engine import CryptoEngine, SoftwareEngine, engine
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import default_server


class _Ctx:
    def __init__(self, server: Any) -> None:
        self.server, self.config = server, server.config

    def spend(self, cycles: int) -> None:
        pass


class BlockEngine(CryptoEngine):
    """What an accelerator driver would provide: single-block AES and one SHA-256 compression per
    call; everything else (CBC chaining, CTR state, CMAC state, padding) comes from the base class or
    is built here from single blocks."""

    name = "blocks"

    def __init__(self) -> None:
        self.blocks = 0

    def random(self, ctx: Any, n: int) -> bytes:
        return bytes(n)

    def sha2_compress(self, ctx: Any, bits: int, h: Sequence[int], data: bytes) -> tuple[int, ...]:
        for off in range(0, len(data), 64):
            h = eng_mod.sha256_compress_pure(h, data[off : off + 64])
        return tuple(h)

    def aes_ecb(self, ctx: Any, key: bytes, data: bytes, encrypt: bool = True) -> bytes:
        eng_mod.check_aes_key(key)
        out = b""
        for off in range(0, len(data), 16):
            self.blocks += 1
            c = Cipher(algorithms.AES(key), modes.ECB())
            op = c.encryptor() if encrypt else c.decryptor()
            out += op.update(data[off : off + 16])
        return out

    def aes_cbc(self, ctx: Any, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        out, prev = b"", iv
        whole = len(data) // 16 * 16
        for off in range(0, whole, 16):
            block = data[off : off + 16]
            if encrypt:
                prev = self.aes_ecb(ctx, key, bytes(a ^ b for a, b in zip(block, prev, strict=True)))
                out += prev
            else:
                out += bytes(a ^ b for a, b in zip(self.aes_ecb(ctx, key, block, False), prev, strict=True))
                prev = block
        return out + data[whole:]

    def aes_ctr_blocks(self, ctx: Any, key: bytes, counter: bytes, data: bytes) -> bytes:
        out = b""
        for i in range(0, len(data), 16):
            ks = self.aes_ecb(ctx, key, eng_mod._ctr_add(counter, i // 16))
            out += bytes(a ^ b for a, b in zip(data[i : i + 16], ks, strict=True))
        return out


def test_engine_is_created_once_per_server_and_seeded_from_the_config() -> None:
    c = SymClient()
    e = engine(_Ctx(c.server))
    assert isinstance(e, SoftwareEngine) and not e.seeded
    assert engine(_Ctx(c.server)) is e is c.server.crypto_engine
    cfg = ServerConfig()
    cfg.rng_seed = 99  # type: ignore[attr-defined]
    seeded = default_server(cfg, nvm=RamNvm())
    assert engine(_Ctx(seeded)).seeded


def _transcript(c: SymClient) -> list[bytes]:
    key, iv = bytes(range(16)), bytes(range(16, 32))
    out = []
    body = struct.pack("<IIIH2x", 1, 16, 40, 0) + bytes(range(40)) + key + iv
    out.append(c.raw(CIPHER, AES_CBC, body))
    reg, tmp, left = iv, bytes(16), 0
    for chunk in (b"abc", b"defghijklmnopqrstu", b"v" * 33):
        body = struct.pack("<IIIH2xI4x", 1, 16, len(chunk), 0, left) + chunk + key + reg + tmp
        reply = c.raw(CIPHER, AES_CTR, body)
        out.append(reply)
        n = len(chunk)
        left = struct.unpack_from("<I", reply, 12)[0]
        reg, tmp = reply[32 + n : 48 + n], reply[48 + n : 64 + n]
    state = bytes(40)
    for chunk in (b"x" * 16, b"y" * 17, b""):
        reply = c.raw(CMAC, CMAC, struct.pack("<IIIH2x", 0, len(chunk), 16, 0) + state + chunk + key)
        out.append(reply)
        state = reply[8:48]
    out.append(c.raw(CMAC, CMAC, struct.pack("<IIIH2x", 16, 0, 16, 0) + state + key))
    state256 = words(c, SHA256, IV[SHA256])
    reply = c.raw(HASH, SHA256, sha_request(c, SHA256, state256, 0, bytes(range(64)), False))
    out.append(reply)
    out.append(
        c.raw(HASH, SHA256, sha_request(c, SHA256, reply[16:48], 64, b"tail".ljust(64, b"\0"), True, last_len=4))
    )
    return out


def test_an_installed_block_engine_gives_the_same_bytes() -> None:
    soft = SymClient(hal=CountingHal())
    block = SymClient(hal=CountingHal())
    block.server.crypto_engine = BlockEngine()
    assert _transcript(block) == _transcript(soft)
    assert block.server.crypto_engine.blocks >= 10
    assert block.hal.cycles < soft.hal.cycles, "this engine charges nothing for the crypto itself"


def test_engine_with_cached_cipher_contexts_snapshots() -> None:
    import copy

    c = SymClient()
    key, iv = bytes(range(16)), bytes(16)
    body = struct.pack("<IIIH2x", 1, 16, 32, 0) + bytes(32) + key + iv
    first = c.raw(CIPHER, AES_CBC, body)
    snap = copy.deepcopy(c.server.crypto_engine)
    assert snap._ecb == {} and c.server.crypto_engine._ecb
    c.server.crypto_engine = snap
    assert c.raw(CIPHER, AES_CBC, body) == first
