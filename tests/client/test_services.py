"""NVM, keystore, counters and custom callbacks through the client library, against the emulator.

Written against the v1.4.0 semantics (wolfhsm-v1.4.0-diff.md §5-§7). While a service is missing
from the emulator its group answers with an empty response and these tests skip (see `implemented`).
"""

from __future__ import annotations

import pytest

from emulator.pytest_plugin import running_board
from firmware.client import (
    KEYID_GLOBAL,
    AccessDenied,
    BadArgs,
    NotFound,
    NvmFlags,
    NvmMetadata,
)

from .helpers import implemented


def test_nvm_object_lifecycle(hsm_client):
    hsm = hsm_client
    with implemented("NVM"):
        assert hsm.nvm_init() == (1, 57)
        before = hsm.nvm_get_available()
        hsm.nvm_add_object(0x0114, b"calibration data", label="cal", access=0x00FF, flags=NvmFlags.SENSITIVE)
        after = hsm.nvm_get_available()
        assert after.avail_objects == before.avail_objects - 1
        assert 0x0114 in hsm.nvm_list()
        meta = hsm.nvm_get_metadata(0x0114)
        assert isinstance(meta, NvmMetadata)
        assert (meta.id, meta.access, meta.flags, meta.len) == (0x0114, 0x00FF, NvmFlags.SENSITIVE, 16)
        assert meta.label_text == "cal" and meta.flag_names == ["sensitive"]
        assert hsm.nvm_read(0x0114) == b"calibration data"
        assert hsm.nvm_read(0x0114, offset=12) == b"data"
        assert hsm.nvm_read(0x0114, 0, 11) == b"calibration"
        assert hsm.nvm_read(0x0114, 12, 100) == b"data"  # the server clamps
        hsm.nvm_add_object(0x0114, b"v2", label=b"cal")  # replace
        assert hsm.nvm_read(0x0114) == b"v2"
        hsm.nvm_destroy([0x0114])
        assert 0x0114 not in hsm.nvm_list()
        with pytest.raises(NotFound):
            hsm.nvm_read(0x0114)
        hsm.nvm_cleanup()


def test_nvm_list_iterates_every_object(hsm_client):
    hsm = hsm_client
    ids = [0x0150 + i for i in range(5)]
    with implemented("NVM"):
        start = hsm.nvm_list()
        for i in ids:
            hsm.nvm_add_object(i, bytes([i & 0xFF]) * 7)
        listed = hsm.nvm_list()
        assert listed[: len(start)] == start and listed[len(start) :] == ids  # directory order
        step = hsm.nvm_list_step(0)
        assert step.count == len(listed) and step.id == listed[0]
        hsm.nvm_destroy(ids)
        assert hsm.nvm_list() == start


def test_nvm_large_object_is_read_in_chunks(hsm_client):
    hsm = hsm_client
    data = bytes(range(256)) * 19 + b"tail"  # 4868 bytes: more than one 1280-byte message
    with implemented("NVM"):
        hsm.nvm_add_object(0x0160, data)
        assert hsm.nvm_read(0x0160) == data
        assert hsm.nvm_read(0x0160, 4000, 868) == data[4000:]
        hsm.nvm_destroy(0x0160)


def test_nvm_policy_flags(hsm_client):
    hsm = hsm_client
    with implemented("NVM"):
        hsm.nvm_add_object(0x0170, b"secret", flags=NvmFlags.NONEXPORTABLE | NvmFlags.NONDESTROYABLE)
        with pytest.raises(AccessDenied):
            hsm.nvm_read(0x0170)
        with pytest.raises(AccessDenied):
            hsm.nvm_destroy(0x0170)
        hsm.nvm_add_object(0x0170, b"secret", flags=0)  # modification is allowed
        hsm.nvm_destroy(0x0170)


def test_nvm_dma_with_soc_addresses():
    with running_board("spc58nn") as board:
        hsm = board.connect()
        with implemented("NVM"):
            with board.paused() as soc:
                sram = soc.memory["sram"]
                base = sram.origin + 0x3_0000  # inside the HSM's DMA allow list (first 256 KiB)
                data = b"written by DMA" * 4
                sram.write(base, hsm.encode_nvm_metadata(0x0180, len(data), label="dma"))
                sram.write(base + 0x100, data)
            hsm.nvm_add_object_dma(base, base + 0x100, len(data))
            assert hsm.nvm_read(0x0180) == data
            assert hsm.nvm_get_metadata(0x0180).label_text == "dma"
            hsm.nvm_read_dma(0x0180, base + 0x400, 0, len(data))
            with board.paused() as soc:
                assert soc.memory["sram"].read(base + 0x400, len(data)) == data
            with pytest.raises(AccessDenied):  # outside the allow list
                hsm.nvm_read_dma(0x0180, soc.memory["hsm_ram"].origin, 0, 4)
            hsm.nvm_destroy(0x0180)
        with implemented("KEY"):
            with board.paused() as soc:
                soc.memory["sram"].write(base + 0x800, bytes(range(32)))
            kid = hsm.key_cache_dma(base + 0x800, 32, label="dma key", key_id=0x12)
            assert kid == 0x12
            assert hsm.key_export(kid) == (b"dma key", bytes(range(32)))
            label, length = hsm.key_export_dma(kid, base + 0xC00, 64)
            assert label == b"dma key" and length in (32, 64)  # v1.4.0 reports the capacity
            with board.paused() as soc:
                assert soc.memory["sram"].read(base + 0xC00, 32) == bytes(range(32))
        hsm.close()


def test_key_cache_export_commit_erase(hsm_client):
    hsm = hsm_client
    key = bytes(range(16))
    with implemented("KEY"):
        kid = hsm.key_cache(key, label="aes-128")
        assert kid == 0x00FF  # the first id the server assigns (core §5.1)
        label, data = hsm.key_export(kid)
        assert (label, data) == (b"aes-128", key)
        hsm.key_commit(kid)
        hsm.key_evict(kid)
        assert hsm.key_export(kid).data == key  # fetched back from NVM
        hsm.key_erase(kid)
        with pytest.raises(NotFound):
            hsm.key_export(kid)
        with pytest.raises(NotFound):
            hsm.key_evict(kid)
        # an explicit id, replaced in the cache; a cache-only key erases with NOTFOUND at v1.4.0
        assert hsm.key_cache(b"k" * 32, key_id=7) == 7
        assert hsm.key_cache(b"j" * 32, key_id=7, label=b"second") == 7
        assert hsm.key_export(7) == (b"second", b"j" * 32)
        with pytest.raises(NotFound):
            hsm.key_erase(7)


def test_key_policy_and_global_keys(hsm_client):
    hsm = hsm_client
    with implemented("KEY"):
        kid = hsm.key_cache(b"x" * 16, flags=NvmFlags.NONEXPORTABLE, key_id=9)
        with pytest.raises(AccessDenied):
            hsm.key_export(kid)
        hsm.key_evict(kid)
        gid = hsm.key_cache(b"g" * 16, key_id=KEYID_GLOBAL | 5)
        assert gid == KEYID_GLOBAL | 5
        assert hsm.key_export(gid).data == b"g" * 16
        hsm.key_evict(gid)
        rid = hsm.key_cache(b"r" * 16, key_id=11, flags=NvmFlags.USAGE_ENCRYPT)
        hsm.key_commit(rid)
        hsm.key_revoke(rid)
        with pytest.raises(AccessDenied):
            hsm.key_erase(rid)  # revoked = non-modifiable


def test_counters(hsm_client):
    hsm = hsm_client
    with implemented("COUNTER"):
        assert hsm.counter_init(5, 41) == 41
        assert hsm.counter_increment(5) == 42
        assert hsm.counter_read(5) == 42
        assert hsm.counter_reset(5) == 0
        assert hsm.counter_init(5, 0xFFFFFFFF) == 0xFFFFFFFF
        assert hsm.counter_increment(5) == 0xFFFFFFFF  # saturates
        hsm.counter_destroy(5)
        with pytest.raises(NotFound):
            hsm.counter_read(5)
        hsm.counter_destroy(5)  # a missing counter is fine
        with pytest.raises(BadArgs):
            hsm.counter_read(0)


def test_custom_callbacks(hsm_client):
    hsm = hsm_client
    assert [hsm.custom_check_registered(i) for i in range(6)] == [False] * 6


def test_connections_are_separate(hsm_board):
    """Keys cached by one client id are not visible to another (the key id carries the USER)."""
    with implemented("KEY"):
        with hsm_board.connect(client_id=1) as a, hsm_board.connect(client_id=2) as b:
            ka = a.key_cache(b"a" * 16, key_id=3)
            with pytest.raises(NotFound):
                b.key_export(ka)
            assert a.key_export(ka).data == b"a" * 16
