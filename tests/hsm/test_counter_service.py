"""COUNTER group through Server.handle (core spec §7.2, v1.4.0 diff §6 and §5.4).

Vectors marked "captured" repeat bytes quoted in core spec §7.2 / Appendix A; the rest are
written by hand from the layouts (8-byte requests and responses, client byte order).
"""

from __future__ import annotations

C_INIT, C_INCREMENT, C_READ, C_DESTROY = 0x0800, 0x0801, 0x0802, 0x0803
GETAVAILABLE, ADDOBJECT, LIST, GETMETADATA, DESTROY = 0x0203, 0x0204, 0x0205, 0x0206, 0x0207

OK = "00000000"
BADARGS = "30f8ffff"
NOTFOUND = "c8f7ffff"
NOSPACE = "c7f7ffff"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def avail(wh) -> tuple[int, int, int, int]:
    r = wh.le(GETAVAILABLE)
    assert r[:4] == h(OK)
    return (
        int.from_bytes(r[4:8], "little"),
        int.from_bytes(r[8:12], "little"),
        int.from_bytes(r[12:14], "little"),
        int.from_bytes(r[14:16], "little"),
    )


def nvm_add(wh, obj_id: int, data: bytes = b"", flags: int = 0, label: bytes = b"") -> None:
    payload = (
        obj_id.to_bytes(2, "little")
        + b"\0\0"
        + flags.to_bytes(2, "little")
        + len(data).to_bytes(2, "little")
        + label.ljust(24, b"\0")
        + data
    )
    assert wh.le(ADDOBJECT, payload) == h(OK)


def test_captured_init_and_increment(wh):
    wh.login(1)
    # INIT counter 0, counterId 1, pad garbage 0700 (captured, Appendix A seq 55/56)
    assert wh.le(C_INIT, "00000000 0100 0700") == h("00000000 00000000")
    assert wh.le(C_INCREMENT, "0100 000000000000") == h("00000000 01000000")
    assert wh.le(C_READ, "0100 ffffffffffff") == h(OK + "01000000")


def test_captured_saturation_and_read_after_destroy(wh):
    wh.login(1)
    assert wh.le(C_INIT, "ffffffff 0200 0000") == h("00000000 ffffffff")  # captured
    before = avail(wh)
    assert wh.le(C_INCREMENT, "0200 000000000000") == h(OK + "ffffffff")  # saturates
    assert avail(wh) == before  # nothing was written
    assert wh.le(C_READ, "0200 000000000000") == h(OK + "ffffffff")
    assert wh.le(C_DESTROY, "0200 000000000000") == h(OK + "00000000")
    assert wh.le(C_READ, "0200 000000000000") == h("c8f7ffff 00000000")  # captured


def test_counter_is_an_nvm_object_with_value_in_the_label(wh):
    wh.login(1)
    assert wh.le(C_INIT, "78563412 0500 0000") == h(OK + "78563412")
    # id = (3 << 12) | (client 1 << 8) | 5, access 0, flags 0, len 0, label = value LE
    assert wh.le(GETMETADATA, "0531") == h(OK + "0531 0000 0000 0000" + "78563412" + "00" * 20)
    assert wh.le(LIST, "ffff 0000 0000") == h(OK + "0100 0531")
    assert avail(wh) == (522584, 0, 29, 0)  # a slot, no data


def test_big_endian_client(wh):
    wh.login(1)
    assert wh.be(C_INIT, "00000005 0002 0000") == h(OK + "00000005")
    assert wh.be(C_INCREMENT, "0002 000000000000") == h(OK + "00000006")
    assert wh.be(C_READ, "0002 000000000000") == h(OK + "00000006")
    # the stored value is in the server's (little-endian) order whatever the client's order
    assert wh.be(GETMETADATA, "3102") == h(OK + "3102 0000 0000 0000" + "06000000" + "00" * 20)
    assert wh.le(C_READ, "0200 000000000000") == h(OK + "06000000")
    assert wh.be(C_DESTROY, "0002 000000000000") == h(OK + "00000000")
    assert wh.be(C_READ, "0002 000000000000") == h("fffff7c8 00000000")


def test_counters_are_per_client_and_use_the_low_byte_of_the_id(wh, server):
    from firmware.hsm.context import Connection

    wh.login(1)
    assert wh.le(C_INIT, "0a000000 0100 0000") == h(OK + "0a000000")
    other = type(wh)(server, wh.hal)
    other.conn = Connection(1)
    other.login(2)
    assert other.le(C_READ, "0100 000000000000") == h(NOTFOUND + "00000000")
    assert other.le(C_INIT, "14000000 0101 0000") == h(OK + "14000000")  # counterId 0x101 -> 0x01
    assert other.le(C_READ, "0100 000000000000") == h(OK + "14000000")
    assert wh.le(C_READ, "0100 000000000000") == h(OK + "0a000000")
    assert wh.le(GETMETADATA, "0132")[:4] == h(OK)  # client 2's counter 1 = 0x3201


def test_short_requests_are_badargs_with_a_full_response(wh):
    wh.login(1)
    assert wh.le(C_INIT, "00000000 0100") == h(BADARGS + "00000000")
    assert wh.le(C_INCREMENT, "0100") == h(BADARGS + "00000000")
    assert wh.le(C_READ, "") == h(BADARGS + "00000000")
    assert wh.le(C_DESTROY, "01000000000000") == h(BADARGS + "00000000")
    assert wh.be(C_READ, "0001") == h("fffff830 00000000")
    assert avail(wh) == (522584, 0, 30, 0)


def test_longer_requests_are_accepted(wh):
    wh.login(1)
    assert wh.le(C_INIT, "03000000 0100 0000 deadbeef") == h(OK + "03000000")
    assert wh.le(C_READ, "0100 000000000000 ff") == h(OK + "03000000")


def test_missing_counter(wh):
    wh.login(1)
    assert wh.le(C_INCREMENT, "0900 000000000000") == h(NOTFOUND + "00000000")
    assert wh.le(C_READ, "0900 000000000000") == h(NOTFOUND + "00000000")
    assert avail(wh) == (522584, 0, 30, 0)


def test_unknown_counter_action_echoes_the_request(wh):
    assert wh.le(0x0804, "0100 020304050607") == h("0100 020304050607")
    assert wh.le(0x08FF, "") == b""


def test_destroy_of_a_missing_counter_still_compacts(wh):
    # diff §5.4 probe: reclaim 8 B / 1 object and avail_objects 26 before, 0/0 and 27 after
    wh.login(1)
    nvm_add(wh, 0x14, bytes(8))
    nvm_add(wh, 0x15)
    nvm_add(wh, 0x16)
    nvm_add(wh, 0x14, bytes(8))
    assert avail(wh)[1:] == (8, 26, 1)
    assert wh.le(C_DESTROY, "4200 000000000000") == h(OK + "00000000")
    assert avail(wh)[1:] == (0, 27, 0)


def test_increment_rewrites_and_leaves_the_old_version_reclaimable(wh):
    wh.login(1)
    assert wh.le(C_INIT, "00000000 0100 0000") == h(OK + "00000000")
    assert wh.le(C_INCREMENT, "0100 000000000000") == h(OK + "01000000")
    assert avail(wh) == (522584, 0, 28, 1)
    assert wh.le(C_INIT, "00000000 0100 0000") == h(OK + "00000000")  # reset = INIT with 0
    assert avail(wh) == (522584, 0, 27, 2)
    assert wh.le(C_DESTROY, "0100 000000000000") == h(OK + "00000000")
    assert avail(wh) == (522584, 0, 30, 0)  # the client-only suite's end-of-test check


def test_increment_keeps_flags_and_the_rest_of_the_label(wh):
    wh.login(1)
    nvm_add(wh, 0x3103, flags=0x0002, label=b"\x05\x00\x00\x00tail")
    assert wh.le(C_INCREMENT, "0300 000000000000") == h(OK + "06000000")
    assert wh.le(GETMETADATA, "0331") == h(OK + "0331 0000 0200 0000" + "06000000" + b"tail".hex() + "00" * 16)


def test_counters_bypass_the_nvm_policy(wh):
    # counter writes and destroys are unchecked in the C server: protection flags do not apply
    wh.login(1)
    nvm_add(wh, 0x3104, flags=0x0801, label=b"\x07")
    assert wh.le(C_INCREMENT, "0400 000000000000") == h(OK + "08000000")
    assert wh.le(DESTROY, "0100 0431" + "0000" * 18) == h("cbf7ffff")  # the NVM API refuses
    assert wh.le(C_DESTROY, "0400 000000000000") == h(OK + "00000000")
    assert wh.le(C_READ, "0400 000000000000") == h(NOTFOUND + "00000000")


def test_counter_writes_reclaim_space_when_the_directory_is_full(wh):
    wh.login(1)
    assert wh.le(C_INIT, "00000000 0100 0000") == h(OK + "00000000")
    for i in range(28):
        nvm_add(wh, 0x100 + i)
    assert wh.le(C_INCREMENT, "0100 000000000000") == h(OK + "01000000")  # 30th slot
    assert avail(wh)[2:] == (0, 1)
    # a plain NVM add is refused, the counter's add-with-reclaim compacts first
    assert wh.le(ADDOBJECT, "9999 0000 0000 0000" + "00" * 24) == h(NOSPACE)
    assert wh.le(C_INCREMENT, "0100 000000000000") == h(OK + "02000000")
    assert avail(wh)[2:] == (0, 1)  # compacted to 29, rewrote: the previous version is reclaimable
    assert wh.le(C_INIT, "00000000 0200 0000") == h(OK + "00000000")  # compacts again: 30 live
    assert avail(wh)[2:] == (0, 0)
    # 30 live objects: nothing left to reclaim
    assert wh.le(C_INCREMENT, "0100 000000000000") == h(NOSPACE + "00000000")
    assert wh.le(C_INIT, "00000000 0300 0000") == h(NOSPACE + "00000000")
    assert wh.le(C_READ, "0100 000000000000") == h(OK + "02000000")
