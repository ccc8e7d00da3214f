"""NVM group through Server.handle: spec vectors, both byte orders, policy, capacity, DMA.

Hex vectors marked "captured" repeat bytes quoted in core spec Appendix A / §4.4 / v1.4.0 diff;
the others are written by hand from the layouts in core spec §4.3 (integers in the client's order,
labels and data raw). Packets are framed by the conftest helper, never by the codec under test.
"""

from __future__ import annotations

import copy

from firmware.hsm.nvm_backend import Metadata, NvmBackend
from firmware.hsm.nvm_ram import RamNvm
from firmware.hsm.server import Server
from firmware.wire import ByteOrder

INIT, CLEANUP, GETAVAILABLE, ADDOBJECT, LIST, GETMETADATA, DESTROY, READ = range(0x0201, 0x0209)
ADDOBJECTDMA, READDMA = 0x0224, 0x0228

OK = "00000000"
BADARGS = "30f8ffff"
ABORTED = "2ef8ffff"
ACCESS = "cbf7ffff"
NOTFOUND = "c8f7ffff"
NOSPACE = "c7f7ffff"
NOTBLANK = "c9f7ffff"

LABEL20 = "4c6162656c3a3230" + "00" * 16  # "Label:20", zero-filled to 24 bytes
DATA20 = "446174613a323020436f756e7465723a30"  # "Data:20 Counter:0", 17 bytes
FRESH_AVAIL = OK + "58f90700" + "00000000" + "1e00" + "0000"  # captured: 522584, 0, 30, 0


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def u16(v: int, order: str = "le") -> str:
    return v.to_bytes(2, "little" if order == "le" else "big").hex()


def u32(v: int, order: str = "le") -> str:
    return v.to_bytes(4, "little" if order == "le" else "big").hex()


def u64(v: int, order: str = "le") -> str:
    return v.to_bytes(8, "little" if order == "le" else "big").hex()


def label(text: str) -> str:
    return text.encode().hex().ljust(48, "0")


def add_req(obj_id: int, data: bytes, flags: int = 0, access: int = 0xFFFF, lbl: str = "", order: str = "le") -> str:
    """ADDOBJECT payload: id, access, flags, len, label[24], data."""
    return u16(obj_id, order) + u16(access, order) + u16(flags, order) + u16(len(data), order) + label(lbl) + data.hex()


def destroy_req(ids: list[int], count: int | None = None, order: str = "le") -> str:
    n = len(ids) if count is None else count
    return u16(n, order) + "".join(u16(i, order) for i in ids) + "0000" * (19 - len(ids))


def read_req(obj_id: int, offset: int, length: int, order: str = "le") -> str:
    return u16(obj_id, order) + u16(offset, order) + u16(length, order)


def list_req(start: int, order: str = "le") -> str:
    return "ffff" + "0000" + u16(start, order)


def avail(wh) -> tuple[int, int, int, int]:
    """(avail_size, reclaim_size, avail_objects, reclaim_objects) from a LE GETAVAILABLE."""
    r = wh.le(GETAVAILABLE)
    assert r[:4] == h(OK) and len(r) == 16
    return (
        int.from_bytes(r[4:8], "little"),
        int.from_bytes(r[8:12], "little"),
        int.from_bytes(r[12:14], "little"),
        int.from_bytes(r[14:16], "little"),
    )


def add_ok(wh, obj_id: int, data: bytes = b"x", flags: int = 0) -> None:
    assert wh.le(ADDOBJECT, add_req(obj_id, data, flags)) == h(OK)


# ---------------------------------------------------------------------------------------------- back-end


def test_ram_store_implements_the_backend_protocol(nvm):
    assert isinstance(nvm, NvmBackend)
    assert nvm.available() == (522584, 0, 30, 0)
    assert nvm.data_size == 522584


def test_metadata_packs_to_the_32_byte_c_struct():
    m = Metadata(id=0x1441, access=0xFFFF, flags=0x07E0, len=32, label=b"AES Key Label")
    le = h("4114 ffff e007 2000") + b"AES Key Label".ljust(24, b"\0")
    assert m.pack() == le
    assert Metadata.unpack(le) == m
    be = h("1441 ffff 07e0 0020") + b"AES Key Label".ljust(24, b"\0")
    assert m.pack(ByteOrder.BIG) == be
    assert Metadata.unpack(be, ByteOrder.BIG) == m
    assert Metadata(id=1).label == bytes(24)


def test_ram_store_state_is_deep_copyable(nvm):
    nvm.add(Metadata(id=5), b"abc")
    snap = copy.deepcopy(nvm)
    nvm.add(Metadata(id=5), b"changed")
    nvm.destroy([5])
    assert nvm.get(5) is None
    assert snap.get(5) == (Metadata(id=5, len=3), b"abc")
    assert snap.available() == (522584 - 8, 0, 29, 0)


def test_add_stores_data_length_and_replaces_in_directory_order(nvm):
    assert nvm.add(Metadata(id=1, len=999), b"12345") == 0
    nvm.add(Metadata(id=2), b"")
    nvm.add(Metadata(id=1), b"123456789")
    assert nvm.list_ids() == [2, 1]  # the replacement took a fresh slot at the end
    assert nvm.metadata(1).len == 9
    assert nvm.available() == (522584 - 8 - 0 - 16, 8, 27, 1)
    assert nvm.compact() == 0
    assert nvm.available() == (522584 - 16, 0, 28, 0)
    assert nvm.list_ids() == [2, 1]


def test_add_with_reclaim_compacts_only_when_needed(nvm):
    for i in range(1, 30):
        nvm.add(Metadata(id=i), b"")
    nvm.add(Metadata(id=1), b"")  # 30 slots used, one superseded
    assert nvm.available()[2:] == (0, 1)
    assert nvm.add(Metadata(id=100), b"") == -2105  # a plain add never reclaims
    assert nvm.add(Metadata(id=100), b"", reclaim=True) == 0
    assert nvm.available()[2:] == (0, 0)  # compacted (29 live), then one more slot taken
    assert nvm.add(Metadata(id=101), b"", reclaim=True) == -2105  # nothing to reclaim
    assert len(nvm.list_ids()) == 30


# ---------------------------------------------------------------------------------------------- INIT / CLEANUP


def test_init_captured_vector(wh):
    assert wh.le(INIT, "01000000") == h("00000000 39000000 01000000")


def test_init_big_endian(wh):
    assert wh.be(INIT, "00000001") == h("00000000 00000039 00000001")


def test_init_wrong_size_is_aborted_with_full_response(wh):
    assert wh.le(INIT, "0100") == h(ABORTED + "00000000 00000000")
    assert wh.be(INIT, "") == h("fffff82e 00000000 00000000")


def test_cleanup_keeps_contents(wh):
    add_ok(wh, 0x14)
    assert wh.le(CLEANUP) == h(OK)
    assert wh.le(CLEANUP, "00") == h(ABORTED)
    assert wh.le(GETMETADATA, "1400")[:4] == h(OK)


def test_unknown_nvm_action_gets_empty_response(wh):
    assert wh.le(0x0209, "01020304") == b""
    assert wh.le(0x0200) == b""


# ---------------------------------------------------------------------------------------------- GETAVAILABLE


def test_fresh_getavailable_captured(wh):
    assert wh.le(GETAVAILABLE) == h(FRESH_AVAIL)
    assert wh.be(GETAVAILABLE) == h(OK + "0007f958" + "00000000" + "001e" + "0000")


def test_getavailable_with_payload_is_aborted(wh):
    assert wh.le(GETAVAILABLE, "00") == h(ABORTED + "00" * 12)


def test_captured_add_getmetadata_read_sequence(wh):
    # core Appendix A, seq 17..20: a 17-byte object reduces avail_size by 24 and avail_objects by 1
    assert wh.le(ADDOBJECT, "1400 ffff 0000 1100" + LABEL20 + DATA20) == h(OK)
    assert wh.le(GETAVAILABLE) == h(OK + "40f90700" + "00000000" + "1d00" + "0000")
    assert wh.le(GETMETADATA, "1400") == h(OK + "1400 ffff 0000 1100" + LABEL20)
    assert wh.le(READ, "1400 0000 1100") == h(OK + DATA20)


def test_add_getmetadata_read_big_endian(wh):
    assert wh.be(ADDOBJECT, "0014 ffff 0000 0011" + LABEL20 + DATA20) == h(OK)
    assert wh.be(GETAVAILABLE) == h(OK + "0007f940" + "00000000" + "001d" + "0000")
    assert wh.be(GETMETADATA, "0014") == h(OK + "0014 ffff 0000 0011" + LABEL20)
    assert wh.be(READ, "0014 0000 0011") == h(OK + DATA20)
    # the same object seen by a little-endian client
    assert wh.le(GETMETADATA, "1400") == h(OK + "1400 ffff 0000 1100" + LABEL20)


def test_overwrite_takes_a_new_slot_and_old_version_is_reclaimable(wh):
    add_ok(wh, 0x14, bytes(17))
    add_ok(wh, 0x15, bytes(8))
    add_ok(wh, 0x14, bytes(3))
    assert avail(wh) == (522584 - 24 - 8 - 8, 24, 27, 1)
    # the overwritten id moved to the end of the directory
    assert wh.le(LIST, list_req(0)) == h(OK + "0200 1500")
    assert wh.le(LIST, list_req(0x15)) == h(OK + "0100 1400")


# ---------------------------------------------------------------------------------------------- ADDOBJECT


def test_addobject_short_payload_is_aborted(wh):
    assert wh.le(ADDOBJECT, "1400 ffff 0000 0000" + "00" * 23) == h(ABORTED)
    assert wh.le(GETMETADATA, "1400") == h(NOTFOUND + "00" * 32)


def test_addobject_length_mismatch_answers_ok_and_stores_nothing(wh):
    # quirk (core §4.4): payload != 32 + len -> rc 0, nothing stored
    assert wh.le(ADDOBJECT, "1400 ffff 0000 1100" + LABEL20 + DATA20[:-2]) == h(OK)
    assert wh.le(ADDOBJECT, "1400 ffff 0000 0100" + LABEL20 + "aabb") == h(OK)
    assert wh.le(GETMETADATA, "1400") == h(NOTFOUND + "00" * 32)
    assert wh.le(GETAVAILABLE) == h(FRESH_AVAIL)


def test_bit12_is_an_ordinary_flag_at_v1_4_0(wh):
    # HEAD's TRUSTED (0x1000) does not exist at v1.4.0: stored as given, no effect (diff §5.2)
    assert wh.le(ADDOBJECT, add_req(0x14, b"abc", flags=0x1000)) == h(OK)
    assert wh.le(GETMETADATA, "1400") == h(OK + "1400 ffff 0010 0300" + label(""))
    assert wh.le(READ, read_req(0x14, 0, 3)) == h(OK + b"abc".hex())
    assert wh.le(DESTROY, destroy_req([0x14])) == h(OK)


def test_nonmodifiable_refuses_overwrite_and_destroy(wh):
    add_ok(wh, 0x20, b"orig", flags=0x0001)
    assert wh.le(ADDOBJECT, add_req(0x20, b"new!")) == h(ACCESS)
    assert wh.le(DESTROY, destroy_req([0x20])) == h(ACCESS)
    assert wh.le(READ, read_req(0x20, 0, 4)) == h(OK + b"orig".hex())


def test_nondestroyable_allows_overwrite_but_not_destroy(wh):
    add_ok(wh, 0x21, b"v1", flags=0x0800)
    assert wh.le(DESTROY, destroy_req([0x21])) == h(ACCESS)
    add_ok(wh, 0x21, b"v2", flags=0x0800)
    assert wh.le(READ, read_req(0x21, 0, 2)) == h(OK + b"v2".hex())


def test_thirty_object_limit(wh):
    for i in range(30):
        add_ok(wh, 0x100 + i, b"12")
    assert avail(wh) == (522584 - 30 * 8, 0, 0, 0)
    assert wh.le(ADDOBJECT, add_req(0x200, b"x")) == h(NOSPACE)
    # also an overwrite needs a free slot
    assert wh.le(ADDOBJECT, add_req(0x100, b"y")) == h(NOSPACE)
    assert wh.le(READ, read_req(0x100, 0, 2)) == h(OK + b"12".hex())
    assert avail(wh) == (522584 - 30 * 8, 0, 0, 0)
    assert wh.le(LIST, list_req(0)) == h(OK + "1e00 0001")


def test_plain_add_never_reclaims_but_destroy_compacts(wh):
    for i in range(29):
        add_ok(wh, 0x100 + i)
    add_ok(wh, 0x100)  # overwrite: the 30th slot, one reclaimable
    assert avail(wh) == (522584 - 30 * 8, 8, 0, 1)
    assert wh.le(ADDOBJECT, add_req(0x200, b"x")) == h(NOSPACE)
    assert wh.le(DESTROY, destroy_req([])) == h(OK)  # list_count 0: pure compaction
    assert avail(wh) == (522584 - 29 * 8, 0, 1, 0)
    add_ok(wh, 0x200)


def test_dma_oversize_objects_nospace_and_the_v1_4_0_partition_quirk(wh, hal):
    # 7 x 65535 B (65536 B each once rounded) + 60000 B leave 3832 B of the 522584 B data area
    for i in range(7):
        assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 64, 65535, obj_id=0x300 + i, hal=hal)) == h(OK)
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 64, 60000, obj_id=0x307, hal=hal)) == h(OK)
    before = avail(wh)
    assert before == (3832, 0, 22, 0)
    # beyond the whole 512 KiB partition: NOSPACE, store unchanged
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 64, 5537, obj_id=0x400, hal=hal)) == h(NOSPACE)
    assert avail(wh) == before
    assert wh.le(GETMETADATA, u16(0x400)) == h(NOTFOUND + "00" * 32)
    # quirk (diff §5.4): past the data area but inside the partition passes the NOSPACE check;
    # the flash range check then refuses the data (BADARGS) after the slot was half-written ...
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 64, 4000, obj_id=0x400, hal=hal)) == h(BADARGS)
    assert avail(wh) == before
    # ... so every later add fails with NOTBLANK until a compaction rewrites the partition
    assert wh.le(ADDOBJECT, add_req(0x401, b"tiny")) == h(NOTBLANK)
    assert wh.le(DESTROY, destroy_req([])) == h(OK)
    add_ok(wh, 0x401, b"tiny")
    assert wh.le(LIST, list_req(0)) == h(OK + "0900 0003")


# ---------------------------------------------------------------------------------------------- LIST


def test_list_captured_sequence_five_objects(wh):
    for i in range(0x14, 0x19):
        add_ok(wh, i)
    assert wh.le(LIST, "ffff 0000 0000") == h("00000000 0500 1400")  # captured
    expected = [(0x14, 4, 0x15), (0x15, 3, 0x16), (0x16, 2, 0x17), (0x17, 1, 0x18), (0x18, 0, 0)]
    for start, count, nxt in expected:
        assert wh.le(LIST, list_req(start)) == h(OK + u16(count) + u16(nxt))
    assert wh.le(LIST, list_req(0x99)) == h(OK + "0000 0000")  # absent start id
    # filters are ignored
    assert wh.le(LIST, "0000 0400 0000") == h(OK + "0500 1400")


def test_list_big_endian_and_empty_store(wh):
    assert wh.be(LIST, "ffff 0000 0000") == h(OK + "0000 0000")
    add_ok(wh, 0x14)
    add_ok(wh, 0x15)
    assert wh.be(LIST, "ffff 0000 0000") == h(OK + "0002 0014")
    assert wh.be(LIST, "ffff 0000 0014") == h(OK + "0001 0015")


def test_list_wrong_size_is_aborted(wh):
    assert wh.le(LIST, "ffff 0000") == h(ABORTED + "0000 0000")


# ---------------------------------------------------------------------------------------------- GETMETADATA


def test_getmetadata_notfound_captured_and_wrong_size(wh):
    assert wh.le(GETMETADATA, "1400") == h("c8f7ffff" + "00" * 32)  # captured
    assert wh.le(GETMETADATA, "140000") == h(ABORTED + "00" * 32)


# ---------------------------------------------------------------------------------------------- DESTROYOBJECTS


def test_destroy_captured_and_slot_returned(wh):
    assert wh.le(ADDOBJECT, "1400 ffff 0000 1100" + LABEL20 + DATA20) == h(OK)
    assert wh.le(DESTROY, "0100 1400" + "0000" * 18) == h(OK)  # captured
    assert wh.le(GETMETADATA, "1400") == h(NOTFOUND + "00" * 32)
    assert wh.le(GETAVAILABLE) == h(FRESH_AVAIL)  # destroys give slots back at once (diff §5.6)


def test_destroy_present_and_absent_is_notfound_and_destroys_nothing(wh):
    add_ok(wh, 0x14)
    add_ok(wh, 0x14)  # leave something reclaimable: a failed destroy must not compact
    assert wh.le(DESTROY, destroy_req([0x14, 0x15])) == h(NOTFOUND)
    assert wh.le(DESTROY, destroy_req([0x15])) == h(NOTFOUND)
    assert wh.le(GETMETADATA, "1400")[:4] == h(OK)
    assert avail(wh) == (522584 - 16, 8, 28, 1)


def test_destroy_policy_checked_in_list_order(wh):
    add_ok(wh, 0x14)
    add_ok(wh, 0x15, flags=0x0800)
    assert wh.le(DESTROY, destroy_req([0x14, 0x15, 0x99])) == h(ACCESS)
    assert wh.le(DESTROY, destroy_req([0x14, 0x99, 0x15])) == h(NOTFOUND)
    assert wh.le(LIST, list_req(0)) == h(OK + "0200 1400")


def test_destroy_only_counts_list_count_entries(wh):
    add_ok(wh, 0x14)
    add_ok(wh, 0x15)
    # entries beyond list_count (an absent id here) are ignored
    assert wh.le(DESTROY, destroy_req([0x14, 0x99], count=1)) == h(OK)
    assert wh.le(LIST, list_req(0)) == h(OK + "0100 1500")


def test_destroy_big_endian(wh):
    add_ok(wh, 0x14)
    add_ok(wh, 0x15)
    assert wh.be(DESTROY, destroy_req([0x14, 0x15], order="be")) == h(OK)
    assert wh.le(GETAVAILABLE) == h(FRESH_AVAIL)


def test_destroy_bad_count_or_size_is_aborted(wh):
    add_ok(wh, 0x14)
    assert wh.le(DESTROY, "1400" + "1400" * 19) == h(ABORTED)  # list_count 20 > 19
    assert wh.le(DESTROY, "0100 1400") == h(ABORTED)  # 4 bytes instead of 40
    assert wh.le(GETMETADATA, "1400")[:4] == h(OK)


def test_every_successful_destroy_compacts(wh):
    add_ok(wh, 0x14, bytes(8))
    add_ok(wh, 0x15)
    add_ok(wh, 0x14, bytes(8))
    assert avail(wh)[1:] == (8, 27, 1)
    assert wh.le(DESTROY, destroy_req([0x15])) == h(OK)
    assert avail(wh) == (522584 - 8, 0, 29, 0)


# ---------------------------------------------------------------------------------------------- READ


def test_nonexportable_read_captured(wh):
    # core Appendix A seq 361/362 and §4.4
    payload = "0200 ffff 0400 0800" + label("NonExportableNvmObj") + "1122334455667788"
    assert wh.le(ADDOBJECT, payload) == h(OK)
    assert wh.le(READ, "0200 0000 0800") == h("cbf7ffff")
    # a bad offset is reported before the policy
    assert wh.le(READ, "0200 0800 0100") == h(BADARGS)
    # metadata stays visible
    assert wh.le(GETMETADATA, "0200") == h(OK + "0200 ffff 0400 0800" + label("NonExportableNvmObj"))


def test_read_clamps_to_object_end(wh):
    assert wh.le(ADDOBJECT, "1400 ffff 0000 1100" + LABEL20 + DATA20) == h(OK)
    assert wh.le(READ, read_req(0x14, 5, 100)) == h(OK + DATA20[10:])
    assert wh.le(READ, read_req(0x14, 16, 4)) == h(OK + DATA20[-2:])
    assert wh.le(READ, read_req(0x14, 0, 0)) == h(OK)
    assert wh.be(READ, read_req(0x14, 8, 3, "be")) == h(OK + DATA20[16:22])


def test_read_errors(wh):
    add_ok(wh, 0x14, b"abc")
    add_ok(wh, 0x15, b"")
    assert wh.le(READ, read_req(0x14, 3, 1)) == h(BADARGS)  # offset == len
    assert wh.le(READ, read_req(0x15, 0, 1)) == h(BADARGS)  # a zero-length object never reads
    assert wh.le(READ, read_req(0x16, 0, 1)) == h(NOTFOUND)
    assert wh.le(READ, "1400 0000") == h(ABORTED)


def test_read_length_limit_follows_server_comm_data_len(wh, server: Server):
    # WH_MESSAGE_NVM_MAX_READ_LEN = COMM_DATA_LEN - 4 = 4996 for the v1.4.0 example server
    assert server.config.comm_data_len == 5000
    data = (bytes(range(256)) * 20)[:5000]  # an ADDOBJECT payload of 5032 bytes still fits 5120
    add_ok(wh, 0x14, data)
    assert wh.le(READ, read_req(0x99, 0, 4997)) == h(ABORTED)  # checked before NOTFOUND
    assert wh.le(READ, read_req(0x14, 0, 4997)) == h(ABORTED)
    r = wh.le(READ, read_req(0x14, 0, 4996))
    assert r[:4] == h(OK) and r[4:] == data[:4996]


def test_nvm_operations_charge_cycles(wh, hal, server: Server):
    before = hal.cycles
    wh.le(GETAVAILABLE)
    assert hal.cycles - before >= server.config.costs["nvm_op"]


# ---------------------------------------------------------------------------------------------- DMA


RO_TAIL = 0x1000 - 16  # 16 bytes before the end of the read-only region


def add_dma_req(meta_addr: int, data_addr: int, data_len: int, order: str = "le", obj_id=None, hal=None) -> str:
    """ADDOBJECTDMA payload; with obj_id, first rewrite the metadata in client memory for that id."""
    if obj_id is not None:
        hal.poke(meta_addr, Metadata(id=obj_id).pack())
    return u64(meta_addr, order) + u64(data_addr, order) + u16(data_len, order) + "00" * 6


def read_dma_req(addr: int, obj_id: int, offset: int, length: int, order: str = "le") -> str:
    return u64(addr, order) + u16(obj_id, order) + u16(offset, order) + u16(length, order) + "0000"


def test_addobjectdma_little_endian(wh, hal):
    # metadata in client memory, client order; its len field is ignored (stored len = data_len)
    hal.poke(hal.rw, h("3000 ffff 0000 ee00") + b"dma".ljust(24, b"\0"))
    hal.poke(hal.rw + 0x100, b"hello dma world")
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 0x100, 15)) == h(OK)
    assert wh.le(GETMETADATA, "3000") == h(OK + "3000 ffff 0000 0f00" + label("dma"))
    assert wh.le(READ, read_req(0x30, 0, 15)) == h(OK + b"hello dma world".hex())
    assert hal.reads == [(hal.rw, 32), (hal.rw + 0x100, 15)]


def test_addobjectdma_big_endian_from_read_only_memory(wh, hal):
    hal.poke(hal.ro, h("0031 0000 0004 0000") + b"be".ljust(24, b"\0"))
    hal.poke(hal.ro + 0x40, b"\x01\x02\x03")
    assert wh.be(ADDOBJECTDMA, add_dma_req(hal.ro, hal.ro + 0x40, 3, "be")) == h(OK)
    assert wh.be(GETMETADATA, "0031") == h(OK + "0031 0000 0004 0003" + label("be"))
    assert wh.le(READ, read_req(0x31, 0, 3)) == h(ACCESS)  # stored NONEXPORTABLE


def test_addobjectdma_outside_allow_list_is_access_and_stores_nothing(wh, hal):
    hal.poke(hal.rw, Metadata(id=0x32).pack())
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.outside, hal.rw + 0x100, 4)) == h(ACCESS)
    assert hal.reads == []
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.outside, 4)) == h(ACCESS)
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.ro + RO_TAIL, 64)) == h(ACCESS)  # straddles the end
    assert [r[0] for r in hal.refused] == ["r", "r", "r"]
    assert wh.le(GETAVAILABLE) == h(FRESH_AVAIL)


def test_addobjectdma_policy_and_size(wh, hal):
    add_ok(wh, 0x33, b"keep", flags=0x0001)
    hal.poke(hal.rw, Metadata(id=0x33).pack())
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 0x100, 4)) == h(ACCESS)
    assert wh.le(READ, read_req(0x33, 0, 4)) == h(OK + b"keep".hex())
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw, 4)[:-4]) == h(ABORTED)


def test_addobjectdma_without_a_dma_engine_is_refused(server: Server):
    from firmware.hsm.context import Connection

    packet = h("01a5 2402 0100 0000") + h(add_dma_req(0x2000_0000, 0x2000_0100, 4))
    reply = server.handle(Connection(0), packet)  # no HAL: nothing can be transferred
    assert reply == h("01a5 2402 0100 0000") + h(ACCESS)
    assert not server.errors


def test_readdma_writes_clamped_data(wh, hal):
    assert wh.le(ADDOBJECT, "1400 ffff 0000 1100" + LABEL20 + DATA20) == h(OK)
    hal.poke(hal.rw + 0x200, b"\xee" * 32)
    assert wh.le(READDMA, read_dma_req(hal.rw + 0x200, 0x14, 8, 32)) == h(OK)
    assert hal.peek(hal.rw + 0x200, 32) == h(DATA20)[8:] + b"\xee" * 23
    assert hal.writes == [(hal.rw + 0x200, 9)]
    assert wh.be(READDMA, read_dma_req(hal.rw + 0x300, 0x14, 0, 4, "be")) == h(OK)
    assert hal.peek(hal.rw + 0x300, 4) == b"Data"


def test_readdma_has_no_comm_size_limit(wh, hal):
    data = bytes(range(256)) * 24  # 6144 bytes: more than one READ can return
    hal.poke(hal.rw + 0x1000, data)
    hal.poke(hal.rw, Metadata(id=0x40).pack())
    assert wh.le(ADDOBJECTDMA, add_dma_req(hal.rw, hal.rw + 0x1000, len(data))) == h(OK)
    assert wh.le(READDMA, read_dma_req(hal.rw + 0x4000, 0x40, 0, 6144)) == h(OK)
    assert hal.peek(hal.rw + 0x4000, 6144) == data


def test_readdma_errors_write_nothing(wh, hal):
    add_ok(wh, 0x14, b"secret!!", flags=0x0004)
    add_ok(wh, 0x15, b"public")
    assert wh.le(READDMA, read_dma_req(hal.rw, 0x14, 0, 8)) == h(ACCESS)  # NONEXPORTABLE
    assert wh.le(READDMA, read_dma_req(hal.rw, 0x14, 8, 8)) == h(BADARGS)
    assert wh.le(READDMA, read_dma_req(hal.rw, 0x16, 0, 8)) == h(NOTFOUND)
    assert wh.le(READDMA, read_dma_req(hal.ro, 0x15, 0, 6)) == h(ACCESS)  # read-only region
    assert wh.le(READDMA, read_dma_req(hal.outside, 0x15, 0, 6)) == h(ACCESS)
    assert wh.le(READDMA, read_dma_req(hal.rw, 0x15, 0, 6)[:-4]) == h(ABORTED)
    assert hal.writes == []
    assert hal.peek(hal.ro, 8) == bytes(8)
    assert [k for k, _ in hal.traces if k == "dma-refused"] == ["dma-refused", "dma-refused"]


def test_snapshot_of_the_server_store(wh, nvm: RamNvm):
    add_ok(wh, 0x14, b"one")
    snap = copy.deepcopy(nvm)
    assert wh.le(DESTROY, destroy_req([0x14])) == h(OK)
    assert snap.get(0x14)[1] == b"one" and nvm.get(0x14) is None
