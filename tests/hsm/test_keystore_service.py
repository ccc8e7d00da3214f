"""KEY group (0x0300) through Server.handle: hand-written byte vectors from the specs.

References: core spec §5 (key ids, caches, policy, layouts, semantics, key wrap) and the v1.4.0
diff §7-§8 (no TRUSTED, no HW flag, committed flag of read-path keys, ERASE verdict, wrap without
AAD, no trusted KEK, size quirks, cipherType echo). rc bytes (LE): BADARGS 30f8ffff, ABORTED
2ef8ffff, BUFFER_SIZE 2af8ffff, USAGE 27f8ffff, ACCESS cbf7ffff, NOTFOUND c8f7ffff,
NOSPACE c7f7ffff; AES_GCM_AUTH_E (-180) 4cffffff.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from firmware.hsm.context import RequestContext
from firmware.hsm.keystore import KeyStore, KeystoreError, translate_from_client, translate_to_client
from firmware.hsm.nvm_backend import Metadata
from firmware.hsm.server import Server
from firmware.hsm.services.keystore import KeystoreService
from firmware.wire import Header, KeyIdType, NvmFlags, WhError

CACHE, EVICT, EXPORT, COMMIT, ERASE, REVOKE = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0305
CACHE_DMA, EXPORT_DMA = 0x0306, 0x0307
KEYWRAP, UNWRAP_EXPORT, UNWRAP_CACHE, DATAWRAP, DATAUNWRAP = 0x0308, 0x0309, 0x030A, 0x030B, 0x030C
NVM_GETMETADATA = 0x0206

OK12 = bytes(12)  # rc 0, ok 0, pad
RC_BADARGS = "30f8ffff"
RC_ABORTED = "2ef8ffff"
RC_BUFFER_SIZE = "2af8ffff"
RC_USAGE = "27f8ffff"
RC_ACCESS = "cbf7ffff"
RC_NOTFOUND = "c8f7ffff"
RC_NOSPACE = "c7f7ffff"

KEY16 = bytes(range(16))
LABEL = b"key1".ljust(24, b"\0")
KEK = bytes.fromhex("03030dd9eb18172e066e19ce9844540d78a0bee7354340a4228ad10ea3631c0b")  # core §8.5


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def le_cache_req(key_id: int, key: bytes, flags: int = 0x0020, label: bytes = b"key1") -> bytes:
    """CACHE request, little-endian, laid out by hand from core §5.4 (flags, sz, labelSz, id, pad, label)."""
    return (
        flags.to_bytes(4, "little")
        + len(key).to_bytes(4, "little")
        + len(label).to_bytes(4, "little")
        + key_id.to_bytes(2, "little")
        + b"\xee\xee"  # WH_PAD: garbage in client requests, must be ignored
        + label.ljust(24, b"\0")
        + key
    )


def id_req(key_id: int) -> bytes:
    return key_id.to_bytes(2, "little") + b"\xaa" * 6  # u16 id + garbage pad


def cache_resp(client_id: int, rc: str = "00000000") -> bytes:
    return h(rc) + client_id.to_bytes(2, "little") + bytes(6)


@pytest.fixture
def kserver(server: Server) -> Server:
    server.add_service(KeystoreService(server))
    return server


@pytest.fixture
def new_client(kserver: Server, hal: Any, wh: Any) -> Any:
    """Another connection to the same server (the conftest's Any), logged in as `client_id`."""

    def make(client_id: int, with_hal: bool = True) -> Any:
        c = type(wh)(kserver, hal if with_hal else None)
        c.login(client_id)
        return c

    return make


@pytest.fixture
def c1(new_client: Any) -> Any:
    return new_client(1)


@pytest.fixture
def c2(new_client: Any) -> Any:
    c = new_client(2)
    c.conn.channel = 1
    return c


def cache(c: Any, key_id: int, key: bytes = KEY16, flags: int = 0x0020) -> int:
    r = c.le(CACHE, le_cache_req(key_id, key, flags))
    assert r[:4] == bytes(4), r.hex()
    return int.from_bytes(r[4:6], "little")


# ---------------------------------------------------------------------------------- key ids


def test_id_translation_examples_core_5_1() -> None:
    assert translate_from_client(1, 5) == 0x1105
    assert translate_from_client(1, 0x0105) == 0x1005
    assert translate_to_client(0x1005) == 0x0105
    assert translate_from_client(1, 0x0214) == 0x4114
    assert translate_to_client(0x4114) == 0x0214
    assert translate_from_client(1, 4, KeyIdType.SHE) == 0x2104
    assert translate_from_client(1, 1, KeyIdType.COUNTER) == 0x3101
    assert translate_from_client(12, 5) == 0x1C05
    assert translate_to_client(0x1105) == 0x0005
    assert translate_to_client(0x11FF) == 0x00FF


def test_id_translation_v140_drops_hw_flag_and_aliases_user() -> None:
    # v1.4.0 diff §7.2: no HW type; bit 10 of a client id is discarded
    assert translate_from_client(1, 0x0405) == 0x1105
    assert translate_from_client(1, 0xF805) == 0x1105  # other upper bits ignored too
    # diff §3.3: client ids are 8-bit at v1.4.0 and USER has 4 bits: 17 aliases 1, 16 is global
    assert translate_from_client(17, 5) == 0x1105
    assert translate_from_client(16, 5) == 0x1005


def test_cache_response_id_translation_on_the_wire(c1: Any) -> None:
    assert c1.le(CACHE, le_cache_req(5, KEY16)) == cache_resp(0x0005)
    assert c1.le(CACHE, le_cache_req(0x0105, KEY16)) == cache_resp(0x0105)  # global -> 0x1005
    assert c1.le(CACHE, le_cache_req(0, KEY16)) == cache_resp(0x00FF)  # first auto id 0x11FF
    assert c1.le(CACHE, le_cache_req(0, KEY16)) == cache_resp(0x00FE)
    ks = KeyStore.of(c1.server)
    assert ks.global_cache.find(0x1005) is not None
    assert {0x1105, 0x11FF, 0x11FE} <= set(ks.local_cache(c1.conn, c1.server.config).ids())


def test_unique_id_in_the_global_namespace(c1: Any) -> None:
    # diff §7.2: a v1.4.0 client imports ephemeral keys with requested id 0x0100 -> 0x01FF
    assert c1.le(CACHE, le_cache_req(0x0100, KEY16)) == cache_resp(0x01FF)
    assert c1.le(CACHE, le_cache_req(0x0100, KEY16)) == cache_resp(0x01FE)
    assert KeyStore.of(c1.server).global_cache.find(0x10FF) is not None


def test_unique_id_skips_ids_present_in_nvm(c1: Any) -> None:
    assert c1.le(CACHE, le_cache_req(0, KEY16)) == cache_resp(0x00FF)
    assert c1.le(COMMIT, id_req(0x00FF)) == OK12
    assert c1.le(EVICT, id_req(0x00FF)) == OK12  # committed: always evictable
    assert c1.le(CACHE, le_cache_req(0, KEY16)) == cache_resp(0x00FE)


def test_wrapped_ids_are_never_assigned(c1: Any) -> None:
    assert c1.le(CACHE, le_cache_req(0x0200, KEY16)) == cache_resp(0, RC_BADARGS)


# ---------------------------------------------------------------------------------- byte vectors


def test_cache_export_vectors_little_endian(c1: Any) -> None:
    req = h("20000000 10000000 04000000 0500 0000 6b657931" + "00" * 20) + KEY16
    assert req[:14] + req[16:] == (lambda r: r[:14] + r[16:])(le_cache_req(5, KEY16))  # all but the pad
    assert c1.le(CACHE, req) == h("00000000 0500 000000000000")
    resp = c1.le(EXPORT, h("0500 000000000000"))
    assert resp == h("00000000 10000000 6b657931" + "00" * 20 + "00000000") + KEY16


def test_cache_export_vectors_big_endian(c1: Any) -> None:
    req = h("00000020 00000010 00000004 0005 0000 6b657931" + "00" * 20) + KEY16
    assert c1.be(CACHE, req) == h("00000000 0005 000000000000")
    resp = c1.be(EXPORT, h("0005 000000000000"))
    assert resp == h("00000000 00000010 6b657931" + "00" * 20 + "00000000") + KEY16
    # the same key seen by a little-endian request on the same connection
    assert c1.le(EXPORT, h("0500 000000000000"))[4:8] == h("10000000")


def test_cache_big_endian_global_and_error_id(c1: Any) -> None:
    req = h("00000020 00000010 00000004 0105 0000 6b657931" + "00" * 20) + KEY16
    assert c1.be(CACHE, req) == h("00000000 0105 000000000000")
    req = h("00000020 00000010 00000004 0200 0000 6b657931" + "00" * 20) + KEY16  # wrapped, id 0
    assert c1.be(CACHE, req) == h("fffff830 0000 000000000000")  # BADARGS, id 0 on error


def test_evict_vectors(c1: Any) -> None:
    cache(c1, 5)
    assert c1.le(EVICT, h("0500 000000000000")) == h("00000000 00000000 00000000")
    assert c1.le(EVICT, h("0500 000000000000")) == h(RC_NOTFOUND + "00000000 00000000")  # double evict
    assert c1.be(EVICT, h("0005 000000000000")) == h("fffff7c8 00000000 00000000")


def test_commit_vector_and_nvm_object(c1: Any) -> None:
    cache(c1, 5)
    assert c1.le(COMMIT, h("0500 000000000000")) == h("00000000 00000000 00000000")
    # the key is NVM object 0x1105 with the cached metadata (access ANY, flags, len, label)
    meta = c1.le(NVM_GETMETADATA, h("0511"))
    assert meta == h("00000000 0511 ffff 2000 1000 6b657931" + "00" * 20)
    assert c1.server.nvm.get(0x1105) == (Metadata(0x1105, 0xFFFF, 0x0020, 16, LABEL), KEY16)
    for _ in range(30):  # the v1.4.0 suite commits one key 30 times in a row
        assert c1.le(COMMIT, id_req(5)) == OK12
    assert c1.server.nvm.list_ids().count(0x1105) == 1


def test_commit_missing_or_nvm_only_key_is_notfound(c1: Any) -> None:
    assert c1.le(COMMIT, id_req(5)) == h(RC_NOTFOUND + "00000000 00000000")
    cache(c1, 5)
    c1.le(COMMIT, id_req(5))
    c1.le(EVICT, id_req(5))
    assert c1.le(COMMIT, id_req(5)) == h(RC_NOTFOUND + "00000000 00000000")  # must be cached


def test_erase_vectors_v140(c1: Any) -> None:
    cache(c1, 5)
    c1.le(COMMIT, id_req(5))
    assert c1.le(ERASE, h("0500 000000000000")) == h("00000000 00000000 00000000")
    assert c1.server.nvm.get(0x1105) is None
    assert c1.le(EXPORT, id_req(5))[:4] == h(RC_NOTFOUND)  # cached copy gone too
    # v1.4.0 diff §7.4: erase of a key that exists nowhere -> NOTFOUND (HEAD: 0)
    assert c1.le(ERASE, h("0500 000000000000")) == h(RC_NOTFOUND + "00000000 00000000")
    assert c1.be(ERASE, h("0005 000000000000")) == h("fffff7c8 00000000 00000000")


def test_erase_of_a_cache_only_key_v140(c1: Any) -> None:
    # diff §7.4 [probe]: CACHE id 5, ERASE -> NOTFOUND, EXPORT afterwards -> NOTFOUND
    cache(c1, 5)
    assert c1.le(ERASE, id_req(5)) == h(RC_NOTFOUND + "00000000 00000000")
    assert c1.le(EXPORT, id_req(5)) == h(RC_NOTFOUND + "00000000") + bytes(28)


def test_erase_protected_keys(c1: Any) -> None:
    # committed NONDESTROYABLE key: the evict succeeds (committed), the NVM destroy says ACCESS
    cache(c1, 6, flags=int(NvmFlags.NONDESTROYABLE))
    c1.le(COMMIT, id_req(6))
    assert c1.le(ERASE, id_req(6)) == h(RC_ACCESS + "00000000 00000000")
    assert c1.server.nvm.get(0x1106) is not None
    assert KeyStore.of(c1.server).local_cache(c1.conn, c1.server.config).find(0x1106) is None
    # erased id -> BADARGS; wrapped -> ABORTED
    assert c1.le(ERASE, id_req(0)) == h(RC_BADARGS + "00000000 00000000")
    assert c1.le(ERASE, id_req(0x0214)) == h(RC_ABORTED + "00000000 00000000")


def test_revoke(c1: Any, kserver: Server) -> None:
    assert c1.le(REVOKE, id_req(5)) == h(RC_NOTFOUND + "00000000")
    cache(c1, 5, flags=0x0020)
    c1.le(COMMIT, id_req(5))
    assert c1.le(REVOKE, h("0500 000000000000")) == h("00000000 00000000")
    meta, _ = kserver.nvm.get(0x1105)
    assert meta.flags == int(NvmFlags.NONMODIFIABLE)  # usage bits cleared, written back
    assert c1.le(REVOKE, id_req(5)) == bytes(8)  # already revoked and committed
    assert c1.le(ERASE, id_req(5)) == h(RC_ACCESS + "00000000 00000000")
    ctx = RequestContext(kserver, c1.conn, Header(kind=CACHE, seq=1), None)
    with pytest.raises(KeystoreError) as e:
        KeyStore.of(kserver).read(ctx, 0x1105, usage=int(NvmFlags.USAGE_ENCRYPT))
    assert e.value.rc == WhError.USAGE


def test_revoke_cache_only_key_then_commit(c1: Any, kserver: Server) -> None:
    # diff §7.4: REVOKE of a cache-only key changes only the cached metadata; a later COMMIT
    # writes the revoked metadata, and ERASE then answers ACCESS (the suite's revocation test)
    cache(c1, 5, flags=0x07E0)
    assert c1.le(REVOKE, id_req(5)) == bytes(8)
    assert kserver.nvm.get(0x1105) is None
    assert c1.le(COMMIT, id_req(5)) == OK12
    assert kserver.nvm.get(0x1105)[0].flags == int(NvmFlags.NONMODIFIABLE)
    assert c1.le(ERASE, id_req(5)) == h(RC_ACCESS + "00000000 00000000")


def test_unknown_actions_echo(c1: Any) -> None:
    for action in (13, 14, 15, 16, 0x20, 0xFF):
        payload = bytes(range(1, 9))
        assert c1.le(0x0300 | action, payload) == payload


def test_cache_request_size_not_validated_v140(c1: Any) -> None:
    # diff §7.4 [probe]: a 10-byte CACHE request returned rc 0 (missing bytes read as zero here)
    r = c1.le(CACHE, h("00000000 04000000 0000"))
    assert r[:4] == bytes(4) and r[4:6] == h("ff00")


def test_key_op_charges_cycles(c1: Any, hal: Any, kserver: Server) -> None:
    before = hal.cycles
    c1.le(EVICT, id_req(9))
    assert hal.cycles - before >= kserver.config.costs["key_op"]


# ---------------------------------------------------------------------------------- caches, policy


def test_cache_full_nospace_and_committed_slots_are_reused(c1: Any) -> None:
    for n in range(1, 10):  # 9 regular slots
        cache(c1, n)
    assert c1.le(CACHE, le_cache_req(10, KEY16)) == cache_resp(0, RC_NOSPACE)
    # re-caching an id already cached replaces it in place
    assert c1.le(CACHE, le_cache_req(3, KEY16[::-1])) == cache_resp(3)
    # a committed slot may be evicted silently to make room
    assert c1.le(COMMIT, id_req(4)) == OK12
    assert c1.le(CACHE, le_cache_req(10, KEY16)) == cache_resp(10)
    assert c1.le(EVICT, id_req(4)) == h(RC_NOTFOUND + "00000000 00000000")
    assert c1.le(EXPORT, id_req(4))[:4] == bytes(4)  # still in NVM, read back


def test_big_slots(c1: Any) -> None:
    big = bytes(300)
    for n in range(20, 25):  # 5 big slots of 4096 bytes (v1.4.0)
        assert cache(c1, n, big) == n
    assert c1.le(CACHE, le_cache_req(25, big)) == cache_resp(0, RC_NOSPACE)
    assert cache(c1, 26) == 26  # small keys still go to regular slots
    assert c1.le(CACHE, le_cache_req(27, bytes(4097))) == cache_resp(0, RC_BADARGS)
    # small <-> big replacement of one id
    assert cache(c1, 20, KEY16) == 20
    assert cache(c1, 25, big) == 25


def test_export_pulls_nvm_keys_uncommitted_v140(kserver: Server, c1: Any) -> None:
    # diff §7.3 [probe]: after 9 NVM-only keys were EXPORTed, a further CACHE fails with NOSPACE
    c = c1
    for n in range(1, 10):
        cache(c, n)
        assert c.le(COMMIT, id_req(n)) == OK12
    kserver.close_connection(c.conn)
    c.login(1)
    for n in range(1, 10):
        assert c.le(EXPORT, id_req(n))[:8] == h("00000000 10000000")
    assert c.le(CACHE, le_cache_req(10, KEY16)) == cache_resp(0, RC_NOSPACE)


def test_export_then_evict_of_protected_nvm_key_v140(c1: Any, kserver: Server) -> None:
    cache(c1, 7, flags=int(NvmFlags.NONMODIFIABLE))
    c1.le(COMMIT, id_req(7))
    assert c1.le(EVICT, id_req(7)) == OK12  # committed: always evictable
    assert c1.le(EXPORT, id_req(7))[:4] == bytes(4)  # back in the cache, uncommitted at v1.4.0
    assert c1.le(EVICT, id_req(7)) == h(RC_ACCESS + "00000000 00000000")


def test_policy_nonexportable_nonmodifiable(c1: Any, kserver: Server) -> None:
    cache(c1, 5, flags=int(NvmFlags.NONEXPORTABLE))
    assert c1.le(EXPORT, id_req(5)) == h(RC_ACCESS + "00000000") + bytes(28)
    cache(c1, 6, flags=int(NvmFlags.NONMODIFIABLE))
    assert c1.le(CACHE, le_cache_req(6, KEY16)) == cache_resp(0, RC_ACCESS)
    assert c1.le(EVICT, id_req(6)) == h(RC_ACCESS + "00000000 00000000")  # uncommitted protected key
    # policy flags come from NVM when the key is not cached
    kserver.nvm.add(Metadata(0x1109, 0, int(NvmFlags.NONMODIFIABLE), 0, LABEL), KEY16)
    assert c1.le(CACHE, le_cache_req(9, KEY16)) == cache_resp(0, RC_ACCESS)
    assert c1.le(EVICT, id_req(9)) == h(RC_ACCESS + "00000000 00000000")


def test_bit12_is_an_ordinary_flag_v140(c1: Any, kserver: Server) -> None:
    # diff §5.2 [probe]: KEY CACHE with flags 0x1000, COMMIT -> stored; ERASE succeeds
    cache(c1, 5, flags=0x1000)
    assert c1.le(COMMIT, id_req(5)) == OK12
    assert kserver.nvm.get(0x1105)[0].flags == 0x1000
    assert c1.le(EXPORT, id_req(5))[:4] == bytes(4)
    assert c1.le(ERASE, id_req(5)) == OK12


def test_usage_enforcement(c1: Any, kserver: Server) -> None:
    cache(c1, 5, flags=int(NvmFlags.USAGE_ENCRYPT | NvmFlags.USAGE_DECRYPT))
    ctx = RequestContext(kserver, c1.conn, Header(kind=CACHE, seq=1), None)
    ks = KeyStore.of(kserver)
    meta, key = ks.read(ctx, ks.server_id(ctx, 5), usage=int(NvmFlags.USAGE_ENCRYPT))
    assert key == KEY16 and meta.id == 0x1105
    with pytest.raises(KeystoreError) as e:
        ks.read(ctx, 0x1105, usage=int(NvmFlags.USAGE_ENCRYPT | NvmFlags.USAGE_SIGN))
    assert e.value.rc == WhError.USAGE
    with pytest.raises(KeystoreError) as e:
        ks.read(ctx, 0x1100)
    assert e.value.rc == WhError.BADARGS
    with pytest.raises(KeystoreError) as e:
        ks.read(ctx, 0x1109)
    assert e.value.rc == WhError.NOTFOUND


def test_read_freshen_caches_nvm_keys_committed(c1: Any, kserver: Server) -> None:
    kserver.nvm.add(Metadata(0x1108, 0, 0x0020, 0, LABEL), KEY16)  # e.g. provisioned via NVM ADDOBJECT
    ctx = RequestContext(kserver, c1.conn, Header(kind=CACHE, seq=1), None)
    ks = KeyStore.of(kserver)
    assert ks.read(ctx, 0x1108)[1] == KEY16
    assert ks.cached(ctx, 0x1108).committed  # freshen path: committed at both versions
    assert c1.le(EVICT, id_req(8)) == OK12


def test_client_isolation_and_global_keys(c1: Any, c2: Any) -> None:
    cache(c1, 5)
    assert c2.le(EXPORT, id_req(5)) == h(RC_NOTFOUND + "00000000") + bytes(28)  # 0x1205, not 0x1105
    assert c2.le(EVICT, id_req(5)) == h(RC_NOTFOUND + "00000000 00000000")
    assert c1.le(EXPORT, id_req(5))[:4] == bytes(4)
    assert c1.le(CACHE, le_cache_req(0x0105, KEY16[::-1])) == cache_resp(0x0105)
    assert c2.le(EXPORT, id_req(0x0105)) == h("00000000 10000000") + LABEL + bytes(4) + KEY16[::-1]
    # a committed local key stays the owner's: NVM object 0x1105 is not client 2's 0x1205
    c1.le(COMMIT, id_req(5))
    assert c2.le(EXPORT, id_req(5))[:4] == h(RC_NOTFOUND)


def test_reset_connection_drops_the_local_cache_only(c1: Any, kserver: Server) -> None:
    cache(c1, 5)
    cache(c1, 0x0105)
    kserver.close_connection(c1.conn)
    c1.login(1)
    assert c1.le(EXPORT, id_req(5))[:4] == h(RC_NOTFOUND)
    assert c1.le(EXPORT, id_req(0x0105))[:4] == bytes(4)  # the global cache persists


def test_state_is_deep_copyable(c1: Any, kserver: Server) -> None:
    # the emulator snapshots firmware state with copy.deepcopy: key store + connection state
    cache(c1, 5)
    cache(c1, 0x0105)
    ks = KeyStore.of(kserver)
    snap_ks, snap_conn = copy.deepcopy((ks, c1.conn))
    c1.le(EVICT, id_req(0x0105))
    c1.le(EVICT, id_req(5))
    assert ks.global_cache.find(0x1005) is None
    assert snap_ks.global_cache.find(0x1005).data == KEY16
    assert snap_ks.local_cache(snap_conn, kserver.config).find(0x1105).data == KEY16
    assert ks.local_cache(c1.conn, kserver.config).find(0x1105) is None


# ---------------------------------------------------------------------------------- key wrap


def wrap_meta_le(key_id: int = 0x4114, flags: int = 0x07E0, length: int = 32, label: bytes = b"AES Key Label") -> bytes:
    return (
        key_id.to_bytes(2, "little")
        + bytes(2)
        + flags.to_bytes(2, "little")
        + length.to_bytes(2, "little")
        + label.ljust(24, b"\0")
    )


def keywrap_req(key: bytes, meta: bytes, kek_id: int = 10, cipher: int = 3) -> bytes:
    return len(key).to_bytes(2, "little") + kek_id.to_bytes(2, "little") + cipher.to_bytes(2, "little") + meta + key


def unwrap_req(blob: bytes, kek_id: int = 10, cipher: int = 3) -> bytes:
    return (
        len(blob).to_bytes(2, "little")
        + kek_id.to_bytes(2, "little")
        + cipher.to_bytes(2, "little")
        + b"\xbb\xbb"
        + blob
    )


def data_req(data: bytes, kek_id: int = 10, cipher: int = 3) -> bytes:
    return len(data).to_bytes(4, "little") + kek_id.to_bytes(2, "little") + cipher.to_bytes(2, "little") + data


def wrap(c: Any, key: bytes, meta: bytes, kek_id: int = 10) -> bytes:
    r = c.le(KEYWRAP, keywrap_req(key, meta, kek_id))
    assert r[:4] == bytes(4) and r[6:8] == h("0300"), r[:8].hex()
    return r[8:]


def test_key_wrap_round_trip_suite_3(c1: Any) -> None:
    # core §8.5 / diff §12.4: KEK id 10, flags NONEXPORTABLE|USAGE_WRAP, label "Server KEK key"
    assert c1.le(CACHE, le_cache_req(10, KEK, 0x0204, b"Server KEK key")) == cache_resp(10)
    key = bytes(range(100, 132))
    meta = wrap_meta_le()
    r = c1.le(KEYWRAP, keywrap_req(key, meta))
    assert len(r) == 8 + 92 and r[:8] == h("00000000 5c00 0300")  # wrapped size 28 + 32 + 32
    blob = r[8:]
    # v1.4.0: AES-GCM without AAD; blob = IV(12) || TAG(16) || ct; plaintext = metadata || key
    assert AESGCM(KEK).decrypt(blob[:12], blob[28:] + blob[12:28], None) == meta + key
    # unwrap-export returns the same key and the full metadata byte for byte
    assert c1.le(UNWRAP_EXPORT, unwrap_req(blob)) == h("00000000 2000 0300") + meta + key
    # unwrap-and-cache under a client-cached KEK works at v1.4.0 (no trusted KEK), keyId 0x0214
    assert c1.le(UNWRAP_CACHE, unwrap_req(blob)) == h("00000000 1402 0300")
    assert c1.le(EXPORT, id_req(0x0214)) == h("00000000 20000000") + meta[8:] + bytes(4) + key
    assert c1.le(UNWRAP_CACHE, unwrap_req(blob)) == h(RC_ABORTED + "0000 0300")  # already cached
    # CACHE key id 20 (local, same numeric id) comes back as 20; EVICTs
    assert c1.le(CACHE, le_cache_req(20, KEY16)) == cache_resp(20)
    assert c1.le(EVICT, id_req(20)) == OK12
    assert c1.le(EVICT, id_req(0x0214)) == OK12
    assert c1.le(EVICT, id_req(10)) == OK12


def test_data_wrap_round_trip(c1: Any) -> None:
    cache(c1, 10, KEK, 0x0204)
    data = b"Example data!\0"
    r = c1.le(DATAWRAP, data_req(data))
    assert r[:12] == h("00000000 2a000000 0300 0000") and len(r) == 12 + 42
    blob = r[12:]
    assert AESGCM(KEK).decrypt(blob[:12], blob[28:] + blob[12:28], None) == data  # no AAD
    assert c1.le(DATAUNWRAP, data_req(blob)) == h("00000000 0e000000 0300 0000") + data
    # v1.4.0: a key blob and a data blob share the (empty) AAD, so a key blob data-unwraps
    cache(c1, 11, KEY16)
    key_blob = wrap(c1, bytes(32), wrap_meta_le(), kek_id=10)
    assert c1.le(DATAUNWRAP, data_req(key_blob))[:4] == bytes(4)


def test_data_wrap_checks_no_usage_v140(c1: Any) -> None:
    cache(c1, 12, KEK, int(NvmFlags.USAGE_ENCRYPT))
    r = c1.le(DATAWRAP, data_req(b"abc", kek_id=12))
    assert r[:4] == bytes(4)
    assert c1.le(DATAUNWRAP, data_req(r[12:], kek_id=12)) == h("00000000 03000000 0300 0000") + b"abc"
    # the key wrap ops do require USAGE_WRAP
    assert c1.le(KEYWRAP, keywrap_req(bytes(32), wrap_meta_le(), kek_id=12)) == h(RC_USAGE + "0000 0300")


def test_key_wrap_errors(c1: Any) -> None:
    cache(c1, 10, KEK, 0x0204)
    meta = wrap_meta_le()
    # cipher other than AES-GCM: BADARGS with cipherType echoed
    assert c1.le(KEYWRAP, keywrap_req(bytes(32), meta, cipher=2)) == h(RC_BADARGS + "0000 0200")
    # metadata id must be WRAPPED
    assert c1.le(KEYWRAP, keywrap_req(bytes(32), wrap_meta_le(0x1114))) == h(RC_BADARGS + "0000 0300")
    # keySz above KEYWRAP_MAX_KEY_SIZE: BADARGS, cipherType left 0
    big = (5001).to_bytes(2, "little") + h("0a00 0300") + meta
    assert c1.le(KEYWRAP, big) == h(RC_BADARGS + "0000 0000")
    # missing KEK
    assert c1.le(KEYWRAP, keywrap_req(bytes(32), meta, kek_id=9)) == h(RC_NOTFOUND + "0000 0300")
    blob = wrap(c1, bytes(32), meta)
    # tampered blob: the raw wolfCrypt AES_GCM_AUTH_E; unwrap-export error response is 40 bytes
    bad = blob[:-1] + bytes([blob[-1] ^ 1])
    assert c1.le(UNWRAP_EXPORT, unwrap_req(bad)) == h("4cffffff 0000 0300") + bytes(32)
    assert c1.le(UNWRAP_CACHE, unwrap_req(bad)) == h("4cffffff 0000 0300")
    assert c1.le(DATAUNWRAP, data_req(bad)) == h("4cffffff 00000000 0300 0000")
    # short blobs (v1.4.0 diff §8): unwrap-export and data-unwrap BUFFER_SIZE, unwrap-cache BADARGS
    assert c1.le(UNWRAP_EXPORT, unwrap_req(b"\x01")) == h(RC_BUFFER_SIZE + "0000 0300") + bytes(32)
    assert c1.le(UNWRAP_CACHE, unwrap_req(b"\x01")) == h(RC_BADARGS + "0000 0300")
    assert c1.le(DATAUNWRAP, data_req(b"\x01")) == h(RC_BUFFER_SIZE + "00000000 0300 0000")
    # DATAWRAP above the 2000-byte maximum: BADARGS, cipherType left 0
    assert c1.le(DATAWRAP, (2001).to_bytes(4, "little") + h("0a00 0300")) == h(RC_BADARGS + "00000000 0000 0000")
    # a request longer than the server's COMM_DATA_LEN is echoed
    huge = data_req(bytes(5100))
    assert c1.le(DATAWRAP, huge) == huge


def test_unwrap_policy_and_ownership(c1: Any, c2: Any) -> None:
    # a global KEK both clients can use
    cache(c1, 0x010A, KEK, 0x0204)
    blob = wrap(c1, bytes(32), wrap_meta_le(0x4114), kek_id=0x010A)  # client 1's wrapped key 20
    assert c2.le(UNWRAP_EXPORT, unwrap_req(blob, 0x010A)) == h(RC_ACCESS + "0000 0300") + bytes(32)
    assert c2.le(UNWRAP_CACHE, unwrap_req(blob, 0x010A)) == h(RC_ACCESS + "0000 0300")
    glob = wrap(c1, bytes(32), wrap_meta_le(0x4014), kek_id=0x010A)  # global wrapped key 20
    assert c2.le(UNWRAP_EXPORT, unwrap_req(glob, 0x010A))[:8] == h("00000000 2000 0300")
    assert c2.le(UNWRAP_CACHE, unwrap_req(glob, 0x010A)) == h("00000000 1403 0300")  # 0x0314
    ne = wrap(c1, bytes(32), wrap_meta_le(0x4115, flags=0x07E4), kek_id=0x010A)  # NONEXPORTABLE
    assert c1.le(UNWRAP_EXPORT, unwrap_req(ne, 0x010A)) == h(RC_ACCESS + "0000 0300") + bytes(32)
    # unwrap-cache: metadata len must match the key
    short = wrap(c1, bytes(32), wrap_meta_le(0x4116, length=16), kek_id=0x010A)
    assert c1.le(UNWRAP_CACHE, unwrap_req(short, 0x010A)) == h(RC_BADARGS + "0000 0300")


def test_key_wrap_big_endian_client(c1: Any) -> None:
    # metadata travels in the client's order and is translated at the message boundary
    req = h("00000204 00000020 0000000e 000a 0000") + b"Server KEK key".ljust(24, b"\0") + KEK
    assert c1.be(CACHE, req) == h("00000000 000a 000000000000")
    meta_be = h("4114 0000 07e0 0020") + b"AES Key Label".ljust(24, b"\0")
    key = bytes(range(32))
    r = c1.be(KEYWRAP, h("0020 000a 0003") + meta_be + key)
    assert r[:8] == h("00000000 005c 0003")
    blob = r[8:]
    assert c1.be(UNWRAP_EXPORT, h("005c 000a 0003 0000") + blob) == h("00000000 0020 0003") + meta_be + key
    # the same blob, unwrapped by a little-endian request, shows little-endian metadata
    assert c1.le(UNWRAP_EXPORT, unwrap_req(blob))[8:40] == wrap_meta_le(0x4114, 0x07E0, 32)


# ---------------------------------------------------------------------------------- DMA


def cache_dma_req(addr: int, size: int, key_id: int, flags: int = 0x0020, label: bytes = b"dma") -> bytes:
    return (
        addr.to_bytes(8, "little")
        + size.to_bytes(8, "little")
        + flags.to_bytes(4, "little")
        + len(label).to_bytes(4, "little")
        + key_id.to_bytes(2, "little")
        + label.ljust(24, b"\0")
        + bytes(6)
    )


def export_dma_req(addr: int, size: int, key_id: int) -> bytes:
    return addr.to_bytes(8, "little") + size.to_bytes(8, "little") + key_id.to_bytes(2, "little") + bytes(6)


def test_cache_dma_and_export_dma(c1: Any, hal: Any) -> None:
    src, dst = hal.rw + 0x100, hal.rw + 0x200
    hal.poke(src, KEY16)
    req = cache_dma_req(src, 16, 5)
    assert len(req) == 56
    assert c1.le(CACHE_DMA, req) == bytes(16) + h("00000000 0500 0000")
    assert (src, 16) in hal.reads
    assert c1.le(EXPORT, id_req(5)) == h("00000000 10000000") + b"dma".ljust(24, b"\0") + bytes(4) + KEY16
    r = c1.le(EXPORT_DMA, export_dma_req(dst, 64, 5))
    # v1.4.0: len = the client's capacity (64), not the key length (diff §2.5)
    assert r == bytes(16) + h("00000000 40000000") + b"dma".ljust(24, b"\0")
    assert hal.peek(dst, 16) == KEY16 and hal.peek(dst + 16, 4) == bytes(4)
    # capacity below the key length
    assert c1.le(EXPORT_DMA, export_dma_req(dst, 8, 5)) == bytes(16) + h(RC_NOSPACE + "00000000") + bytes(24)
    # auto id over DMA
    assert c1.le(CACHE_DMA, cache_dma_req(src, 16, 0)) == bytes(16) + h("00000000 ff00 0000")


def test_dma_outside_the_allow_list_is_access(c1: Any, hal: Any) -> None:
    r = c1.le(CACHE_DMA, cache_dma_req(hal.outside, 16, 5))
    assert r == hal.outside.to_bytes(8, "little") + (16).to_bytes(8, "little") + h(RC_ACCESS + "0000 0000")
    assert hal.refused == [("r", hal.outside, 16)]
    assert c1.le(EXPORT, id_req(5))[:4] == h(RC_NOTFOUND)  # nothing was cached
    cache(c1, 5)
    r = c1.le(EXPORT_DMA, export_dma_req(hal.ro, 16, 5))  # read-only region: the write is refused
    assert r == hal.ro.to_bytes(8, "little") + (16).to_bytes(8, "little") + h(RC_ACCESS + "00000000") + bytes(24)


def test_dma_without_a_hal_is_refused(new_client: Any, hal: Any) -> None:
    c = new_client(1, with_hal=False)
    r = c.le(CACHE_DMA, cache_dma_req(hal.rw, 16, 5))
    assert r[16:20] == h(RC_ACCESS)


def test_export_dma_freshens_committed(c1: Any, kserver: Server, hal: Any) -> None:
    kserver.nvm.add(Metadata(0x1108, 0, int(NvmFlags.NONMODIFIABLE), 0, LABEL), KEY16)
    assert c1.le(EXPORT_DMA, export_dma_req(hal.rw, 16, 8))[16:20] == bytes(4)
    assert c1.le(EVICT, id_req(8)) == OK12  # pulled in committed: evictable despite NONMODIFIABLE


def test_be_dma_request_layout(c1: Any, hal: Any) -> None:
    src = hal.rw + 0x300
    hal.poke(src, KEY16)
    req = (
        src.to_bytes(8, "big")
        + (16).to_bytes(8, "big")
        + h("00000020 00000003 0007")
        + b"dma".ljust(24, b"\0")
        + bytes(6)
    )
    assert c1.be(CACHE_DMA, req) == bytes(16) + h("00000000 0007 0000")


def test_keystore_is_shared_by_services(kserver: Server) -> None:
    assert KeyStore.of(kserver) is KeyStore.of(kserver)
    assert KeyStore.of(kserver).global_cache.regular[0].capacity == 256
    assert len(KeyStore.of(kserver).global_cache.big) == 5


def test_short_id_requests_are_badargs(c1: Any) -> None:
    assert c1.le(EVICT, h("0500")) == h(RC_BADARGS + "00000000 00000000")
    assert c1.le(EXPORT, h("0500")) == h(RC_BADARGS + "00000000") + bytes(28)
    assert c1.le(REVOKE, b"") == h(RC_BADARGS + "00000000")
