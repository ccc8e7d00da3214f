"""The key store: key ids, the local and global key caches, key policy and AES-GCM key wrap.

Reusable by every service that works with keys (KEY group, crypto, SHE, cert). Semantics are those
of wolfHSM v1.4.0 (core spec §5, v1.4.0 diff §7-§8), where v1.4.0 differs from HEAD:
no TRUSTED flag (bit 12 is an ordinary flag), no HW key type (client id bit 10 is dropped), keys
pulled from NVM by the *read* path are cached uncommitted, ERASE returns the NVM destroy verdict,
key wrap uses AES-GCM without AAD.

Key ids come in two forms:

* server ids (16 bits, also the NVM object id): TYPE(15..12) | USER(11..8) | ID(7..0);
* client ids (what requests carry): ID(7..0) | 0x0100 GLOBAL | 0x0200 WRAPPED.

All methods of :class:`KeyStore` take and return **server** ids; translate at the message
boundary with :meth:`KeyStore.server_id` / :func:`translate_to_client`. Errors are raised as
:class:`KeystoreError` carrying the wolfHSM rc.

Usage from another service::

    ks = KeyStore.of(ctx.server)
    key_id = ks.server_id(ctx, req.keyId)                    # client id -> server id
    meta, key = ks.read(ctx, key_id, usage=NvmFlags.USAGE_ENCRYPT)   # cache, else NVM (freshen)

Where the state lives: the global cache (USER 0 keys) is an attribute of the KeyStore, which is
attached to the server (`server.keystore`) and so persists for the server's lifetime; the local
cache of a connection is that connection's service state under :data:`LOCAL_STATE`, dropped when
the connection closes. Everything is plain attributes, so `copy.deepcopy` snapshots it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from firmware.wire import ByteOrder, KeyIdType, NvmFlags, WcError, WhError
from firmware.wire.constants import (
    KEYID_CLIENT_GLOBAL_FLAG,
    KEYID_CLIENT_WRAPPED_FLAG,
    KEYID_ID_MASK,
    KEYID_IDMAX,
    KEYUSER_GLOBAL,
    KEYWRAP_AES_GCM_HEADER_SIZE,
    KEYWRAP_AES_GCM_IV_SIZE,
    KEYWRAP_AES_GCM_TAG_SIZE,
    NVM_ACCESS_ANY,
    NVM_LABEL_LEN,
    NVM_METADATA_SIZE,
    keyid_id,
    keyid_type,
    keyid_user,
    make_keyid,
)

from .nvm_backend import Metadata, destroy_checked

__all__ = [
    "LOCAL_STATE",
    "SERVER_ORDER",
    "CacheSlot",
    "KeyCache",
    "KeyStore",
    "KeystoreError",
    "Op",
    "decode_metadata",
    "encode_metadata",
    "make_metadata",
    "translate_from_client",
    "translate_to_client",
]

LOCAL_STATE = "keystore"  # name of the per-connection state (the local key cache)
# The byte order this firmware keeps multi-byte values in when it must store raw structs (the
# metadata inside key-wrap blobs). The C reference server runs little-endian (x86-64).
SERVER_ORDER = ByteOrder.LITTLE

USAGE_ANY = int(NvmFlags.USAGE_ANY)
_PROTECTED = int(NvmFlags.NONMODIFIABLE | NvmFlags.NONDESTROYABLE)


class KeystoreError(Exception):
    """A key store operation failed; `rc` is the wolfHSM (or wolfCrypt) code for the response."""

    def __init__(self, rc: int, detail: str = "") -> None:
        super().__init__(f"rc {int(rc)}{': ' + detail if detail else ''}")
        self.rc = int(rc)


class Op(Enum):
    """The operations `_KeystoreCheckPolicy` distinguishes (core spec §5.3)."""

    CACHE = "cache"
    EVICT = "evict"
    EXPORT = "export"
    COMMIT = "commit"
    REVOKE = "revoke"


# ------------------------------------------------------------------------------------------ key ids


def translate_from_client(
    client_id: int, req_id: int, key_type: int = KeyIdType.CRYPTO, *, global_keys: bool = True
) -> int:
    """`wh_KeyId_TranslateFromClient` at v1.4.0 (core §5.1, diff §7.2).

    ID = low byte; USER = the client id (its low nibble: v1.4.0 keeps client ids in 8 bits and USER
    has 4, so ids 16..255 alias), or 0 with the GLOBAL flag; TYPE = `key_type`, or WRAPPED with the
    WRAPPED flag. Bit 10 (HEAD's HW flag) and all other upper bits are dropped.
    """
    user = KEYUSER_GLOBAL if (global_keys and req_id & KEYID_CLIENT_GLOBAL_FLAG) else client_id & 0x0F
    ktype = KeyIdType.WRAPPED if req_id & KEYID_CLIENT_WRAPPED_FLAG else key_type
    return make_keyid(ktype, user, req_id & KEYID_ID_MASK)


def translate_to_client(server_id: int, *, global_keys: bool = True) -> int:
    """`wh_KeyId_TranslateToClient`: ID | 0x0100 if USER is global | 0x0200 if TYPE is WRAPPED."""
    out = keyid_id(server_id)
    if global_keys and keyid_user(server_id) == KEYUSER_GLOBAL:
        out |= KEYID_CLIENT_GLOBAL_FLAG
    if keyid_type(server_id) == KeyIdType.WRAPPED:
        out |= KEYID_CLIENT_WRAPPED_FLAG
    return out


# ------------------------------------------------------------------------------------------ metadata


def make_metadata(key_id: int, flags: int, data_len: int, label: bytes = b"", access: int = NVM_ACCESS_ANY) -> Metadata:
    """Metadata of a client-cached key (core §5.2): access ANY, flags truncated to u16, label 24 bytes."""
    return Metadata(
        id=key_id & 0xFFFF,
        access=access & 0xFFFF,
        flags=flags & 0xFFFF,
        len=data_len & 0xFFFF,
        label=bytes(label[:NVM_LABEL_LEN]).ljust(NVM_LABEL_LEN, b"\0"),
    )


def encode_metadata(order: ByteOrder, meta: Metadata) -> bytes:
    """The 32-byte `whNvmMetadata` in the given byte order."""
    return meta.pack(order)


def decode_metadata(order: ByteOrder, raw: bytes) -> Metadata:
    """Decode 32 bytes of `whNvmMetadata` (short input is zero-filled, as a C buffer read would be)."""
    return Metadata.unpack(bytes(raw[:NVM_METADATA_SIZE]).ljust(NVM_METADATA_SIZE, b"\0"), order)


# ------------------------------------------------------------------------------------------ caches


@dataclass
class CacheSlot:
    """One cache slot. Free <=> `meta is None` (wolfHSM: metadata id == 0)."""

    capacity: int
    committed: bool = False
    meta: Metadata | None = None
    data: bytes = b""

    def clear(self) -> None:
        self.committed, self.meta, self.data = False, None, b""


@dataclass
class KeyCache:
    """`KEYCACHE_COUNT` regular slots plus `KEYCACHE_BIG_COUNT` big slots (core §5.2)."""

    regular: list[CacheSlot] = field(default_factory=list)
    big: list[CacheSlot] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: Any) -> KeyCache:
        return cls(
            [CacheSlot(config.keycache_bufsize) for _ in range(config.keycache_count)],
            [CacheSlot(config.keycache_bigbufsize) for _ in range(config.keycache_bigcount)],
        )

    @property
    def max_len(self) -> int:
        return max((s.capacity for s in self.regular + self.big), default=0)

    def slots(self) -> Iterator[CacheSlot]:
        yield from self.regular
        yield from self.big

    def find(self, key_id: int) -> CacheSlot | None:
        return next((s for s in self.slots() if s.meta is not None and s.meta.id == key_id), None)

    def ids(self) -> list[int]:
        return [s.meta.id for s in self.slots() if s.meta is not None]

    def remove(self, key_id: int) -> bool:
        slot = self.find(key_id)
        if slot is None:
            return False
        slot.clear()
        return True

    def take(self, size: int) -> CacheSlot:
        """A slot for `size` bytes: regular if it fits, else big; first free one, else the first
        committed one (evicted); else NOSPACE. Larger than every slot -> BADARGS."""
        bufsize = self.regular[0].capacity if self.regular else 0
        group = self.regular if size <= bufsize else self.big
        if not group or size > group[0].capacity:
            raise KeystoreError(WhError.BADARGS, f"key of {size} bytes fits no cache slot")
        for slot in group:
            if slot.meta is None:
                return slot
        for slot in group:
            if slot.committed:
                slot.clear()
                return slot
        raise KeystoreError(WhError.NOSPACE, "key cache full")

    def try_take(self, size: int) -> CacheSlot | None:
        try:
            return self.take(size)
        except KeystoreError:
            return None


# ------------------------------------------------------------------------------------------ key store


class KeyStore:
    """Key ids, caches, policy and key wrap of one server. Obtain it with :meth:`KeyStore.of`."""

    def __init__(self, config: Any) -> None:
        self.global_keys = bool(getattr(config, "global_keys", True))
        self.global_cache = KeyCache.from_config(config)

    @classmethod
    def of(cls, server: Any) -> KeyStore:
        """The server's key store, created on first use (it lives as `server.keystore`)."""
        ks = getattr(server, "keystore", None)
        if ks is None:
            ks = cls(server.config)
            server.keystore = ks
        return ks

    # ---------------------------------------------------------------- ids

    def server_id(self, ctx: Any, client_key_id: int, key_type: int = KeyIdType.CRYPTO) -> int:
        """Translate a client-facing key id of the requesting connection to a server id."""
        return translate_from_client(ctx.conn.client_id, client_key_id, key_type, global_keys=self.global_keys)

    def client_id(self, server_key_id: int) -> int:
        return translate_to_client(server_key_id, global_keys=self.global_keys)

    def unique_id(self, ctx: Any, key_id: int) -> int:
        """`GetUniqueId`: the highest free ID (255 down to 1) in `key_id`'s TYPE/USER namespace that
        is neither cached nor in NVM. WRAPPED ids are never assigned (BADARGS); none free: NOSPACE."""
        if keyid_type(key_id) == KeyIdType.WRAPPED:
            raise KeystoreError(WhError.BADARGS, "wrapped key ids are never assigned")
        cache = self.cache_for(ctx, key_id)
        nvm = ctx.server.nvm
        used = set(cache.ids()) | (set(nvm.list_ids()) if nvm is not None else set())
        base = key_id & ~KEYID_ID_MASK & 0xFFFF
        for n in range(KEYID_IDMAX, 0, -1):
            if base | n not in used:
                return base | n
        raise KeystoreError(WhError.NOSPACE, "no free key id")

    # ---------------------------------------------------------------- caches

    def local_cache(self, conn: Any, config: Any) -> KeyCache:
        return conn.service_state(LOCAL_STATE, lambda: KeyCache.from_config(config))

    def cache_for(self, ctx: Any, key_id: int) -> KeyCache:
        """Global cache for USER 0 keys (global keys enabled), else the connection's local cache."""
        if self.global_keys and keyid_user(key_id) == KEYUSER_GLOBAL:
            return self.global_cache
        return self.local_cache(ctx.conn, ctx.config)

    def cached(self, ctx: Any, key_id: int) -> CacheSlot | None:
        return self.cache_for(ctx, key_id).find(key_id)

    @staticmethod
    def drop_connection(conn: Any) -> None:
        """Forget a connection's local cache (COMM CLOSE / disconnect)."""
        conn.state.pop(LOCAL_STATE, None)

    def _nvm_get(self, ctx: Any, key_id: int) -> tuple[Metadata, bytes] | None:
        nvm = ctx.server.nvm
        return None if nvm is None else nvm.get(key_id)

    def _nvm_add(self, ctx: Any, meta: Metadata, data: bytes) -> None:
        nvm = ctx.server.nvm
        if nvm is None:
            raise KeystoreError(WhError.NOTIMPL, "server has no NVM")
        rc = nvm.add(meta, bytes(data), reclaim=True)
        if rc:
            raise KeystoreError(rc, "NVM add failed")

    def lookup(self, ctx: Any, key_id: int) -> tuple[Metadata, bytes, CacheSlot | None] | None:
        """The key as found in its cache, else in NVM (not cached by this call); None if absent."""
        slot = self.cached(ctx, key_id)
        if slot is not None:
            assert slot.meta is not None
            return slot.meta, slot.data, slot
        found = self._nvm_get(ctx, key_id)
        if found is None:
            return None
        return found[0], found[1], None

    # ---------------------------------------------------------------- policy

    def check_policy(self, ctx: Any, op: Op, key_id: int) -> None:
        """`_KeystoreCheckPolicy` without TRUSTED (v1.4.0): flags from the cache, else from NVM."""
        if keyid_id(key_id) == 0:
            raise KeystoreError(WhError.BADARGS, "erased key id")
        slot = self.cached(ctx, key_id)
        nvm = ctx.server.nvm
        meta = slot.meta if slot is not None else (None if nvm is None else nvm.metadata(key_id))
        if meta is None:
            raise KeystoreError(WhError.NOTFOUND, f"key 0x{key_id:04x}")
        flags = meta.flags
        if op is Op.CACHE and flags & NvmFlags.NONMODIFIABLE:
            raise KeystoreError(WhError.ACCESS, "non-modifiable key")
        if op is Op.EVICT and not (slot is not None and slot.committed) and flags & _PROTECTED:
            raise KeystoreError(WhError.ACCESS, "non-modifiable/non-destroyable key")
        if op is Op.EXPORT and flags & NvmFlags.NONEXPORTABLE:
            raise KeystoreError(WhError.ACCESS, "non-exportable key")

    @staticmethod
    def check_usage(meta: Metadata, usage: int) -> None:
        """Every bit of `usage` must be set in the key's usage flags, else `WH_ERROR_USAGE`."""
        usage &= USAGE_ANY
        if meta.flags & usage != usage:
            raise KeystoreError(WhError.USAGE, f"key 0x{meta.id:04x} lacks usage 0x{usage:04x}")

    # ---------------------------------------------------------------- the key operations

    def cache(self, ctx: Any, meta: Metadata, data: bytes, *, committed: bool = False) -> int:
        """Cache a client key (CACHE, CACHE_DMA, unwrap-and-cache, keygen/KDF output, SHE RAM key).

        An erased ID field gets a unique id in the metadata's TYPE/USER namespace. Then: length
        (BADARGS), policy CACHE (NONMODIFIABLE -> ACCESS; an unknown id is fine), the old copy is
        evicted, a slot is taken (NOSPACE). Returns the server id the key was cached under.
        """
        key_id = meta.id
        if keyid_id(key_id) == 0:
            key_id = self.unique_id(ctx, key_id)
        cache = self.cache_for(ctx, key_id)
        if len(data) > cache.max_len:
            raise KeystoreError(WhError.BADARGS, f"key of {len(data)} bytes fits no cache slot")
        try:
            self.check_policy(ctx, Op.CACHE, key_id)
        except KeystoreError as e:
            if e.rc != WhError.NOTFOUND:
                raise
        cache.remove(key_id)
        slot = cache.take(len(data))
        slot.meta = meta.replace(id=key_id, len=len(data) & 0xFFFF)
        slot.data = bytes(data)
        slot.committed = committed
        return key_id

    def read(self, ctx: Any, key_id: int, usage: int = 0, *, freshen: bool = True) -> tuple[Metadata, bytes]:
        """Find a key for use: its cache first, else NVM (never for WRAPPED keys), and enforce `usage`.

        `freshen=True` is wolfHSM's freshen path (crypto handlers, KEK use, REVOKE, EXPORT_DMA): an
        NVM key is pulled into the cache *committed*, and no slot means NOSPACE. `freshen=False` is
        the keystore read path (KEY EXPORT, SHE key reads): at v1.4.0 the NVM key is cached
        *uncommitted* if a slot is available, silently not at all otherwise (diff §7.3); it also
        accepts SHE slot 0. Missing key: NOTFOUND; erased id: BADARGS.
        """
        if keyid_id(key_id) == 0 and (freshen or keyid_type(key_id) != KeyIdType.SHE):
            raise KeystoreError(WhError.BADARGS, "erased key id")
        cache = self.cache_for(ctx, key_id)
        slot = cache.find(key_id)
        if slot is not None:
            assert slot.meta is not None
            meta, data = slot.meta, slot.data
        else:
            found = None if keyid_type(key_id) == KeyIdType.WRAPPED else self._nvm_get(ctx, key_id)
            if found is None:
                raise KeystoreError(WhError.NOTFOUND, f"key 0x{key_id:04x}")
            meta, data = found
            slot = cache.take(len(data)) if freshen else cache.try_take(len(data))
            if slot is not None:
                slot.meta, slot.data, slot.committed = meta, bytes(data), freshen
        if usage:
            self.check_usage(meta, usage)
        return meta, bytes(data)

    def evict(self, ctx: Any, key_id: int) -> None:
        """EVICT: policy EVICT, then drop the cached copy (NOTFOUND if it is not cached)."""
        self.check_policy(ctx, Op.EVICT, key_id)
        if not self.cache_for(ctx, key_id).remove(key_id):
            raise KeystoreError(WhError.NOTFOUND, f"key 0x{key_id:04x} not cached")

    def export(self, ctx: Any, key_id: int, *, freshen: bool = False) -> tuple[Metadata, bytes]:
        """EXPORT (read path) / EXPORT_DMA (freshen path): policy EXPORT, then :meth:`read`."""
        self.check_policy(ctx, Op.EXPORT, key_id)
        return self.read(ctx, key_id, freshen=freshen)

    def commit(self, ctx: Any, key_id: int) -> None:
        """COMMIT: the cached key (with its flags) is written to NVM with reclaim; committed = 1."""
        self.check_policy(ctx, Op.COMMIT, key_id)
        if keyid_type(key_id) == KeyIdType.WRAPPED:
            raise KeystoreError(WhError.ABORTED, "wrapped keys cannot be committed")
        slot = self.cached(ctx, key_id)
        if slot is None or slot.meta is None:
            raise KeystoreError(WhError.NOTFOUND, f"key 0x{key_id:04x} not cached")
        self._nvm_add(ctx, slot.meta, slot.data)
        slot.committed = True

    def erase(self, ctx: Any, key_id: int) -> None:
        """ERASE at v1.4.0 (diff §7.4): evict with policy (result ignored), then the policy-checked
        NVM destroy, whose verdict is the result: absent from NVM -> NOTFOUND (also for a key that
        was only cached: that copy is gone anyway), NONMODIFIABLE/NONDESTROYABLE -> ACCESS."""
        if keyid_id(key_id) == 0:
            raise KeystoreError(WhError.BADARGS, "erased key id")
        if keyid_type(key_id) == KeyIdType.WRAPPED:
            raise KeystoreError(WhError.ABORTED, "wrapped keys live in the cache only")
        try:
            self.evict(ctx, key_id)
        except KeystoreError:
            pass
        nvm = ctx.server.nvm
        rc = WhError.NOTFOUND if nvm is None else destroy_checked(nvm, [key_id])
        if rc:
            raise KeystoreError(rc, f"NVM destroy of key 0x{key_id:04x}")

    def revoke(self, ctx: Any, key_id: int) -> None:
        """REVOKE: make the key NONMODIFIABLE with no usage bits; write it back if it is in NVM."""
        self.check_policy(ctx, Op.REVOKE, key_id)
        self.read(ctx, key_id, freshen=True)
        slot = self.cached(ctx, key_id)
        assert slot is not None and slot.meta is not None
        flags = slot.meta.flags
        if flags & NvmFlags.NONMODIFIABLE and not flags & USAGE_ANY and slot.committed:
            return
        slot.meta = slot.meta.replace(flags=(flags | NvmFlags.NONMODIFIABLE) & ~USAGE_ANY & 0xFFFF)
        if ctx.server.nvm is not None and ctx.server.nvm.metadata(key_id) is not None:
            self._nvm_add(ctx, slot.meta, slot.data)
            slot.committed = True

    # ---------------------------------------------------------------- key wrap (AES-GCM, no AAD)

    def random_bytes(self, ctx: Any, n: int) -> bytes:
        """IVs for key wrap. Host randomness for now (to move to the TRNG/DRBG of the HSM)."""
        return os.urandom(n)

    def kek(self, ctx: Any, kek_id: int, usage: int = 0) -> bytes:
        """The key-encryption key's bytes, through the freshen path, with `usage` enforced."""
        _meta, key = self.read(ctx, kek_id, usage=usage)
        return key

    def wrap(self, ctx: Any, kek: bytes, plaintext: bytes) -> bytes:
        """AES-GCM blob `IV(12) || TAG(16) || ciphertext` (v1.4.0: no AAD)."""
        iv = self.random_bytes(ctx, KEYWRAP_AES_GCM_IV_SIZE)
        try:
            sealed = AESGCM(kek).encrypt(iv, bytes(plaintext), None)
        except ValueError as e:
            raise KeystoreError(WcError.BAD_FUNC_ARG, str(e)) from None
        return iv + sealed[-KEYWRAP_AES_GCM_TAG_SIZE:] + sealed[:-KEYWRAP_AES_GCM_TAG_SIZE]

    def unwrap(self, ctx: Any, kek: bytes, blob: bytes) -> bytes:
        """Open a wrap blob; a failed tag check gives wolfCrypt's AES_GCM_AUTH_E as the rc."""
        if len(blob) < KEYWRAP_AES_GCM_HEADER_SIZE:
            raise KeystoreError(WhError.BADARGS, "blob shorter than its header")
        iv = blob[:KEYWRAP_AES_GCM_IV_SIZE]
        tag = blob[KEYWRAP_AES_GCM_IV_SIZE:KEYWRAP_AES_GCM_HEADER_SIZE]
        try:
            return AESGCM(kek).decrypt(iv, bytes(blob[KEYWRAP_AES_GCM_HEADER_SIZE:]) + tag, None)
        except InvalidTag:
            raise KeystoreError(WcError.AES_GCM_AUTH_E, "authentication failed") from None
        except ValueError as e:
            raise KeystoreError(WcError.BAD_FUNC_ARG, str(e)) from None
