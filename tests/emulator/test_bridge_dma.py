"""DMA requests carry SoC addresses; the HSM reads/writes them as the hsm_dma bus master, and the
board's allow list decides (aurix-tc3xx: the first 256 KiB of the LMU)."""

import struct

from .bridge_util import connect, roundtrip, running_board

ACCESS = -2101


def hdr(kind: int, seq: int) -> bytes:
    return struct.pack("<HHHH", 0xA501, kind, seq, 0)


def metadata(nvm_id: int, length: int, label: bytes) -> bytes:
    return struct.pack("<HHHH", nvm_id, 0, 0, length) + label.ljust(24, b"\0")


def test_nvm_dma_inside_and_outside_the_allow_list():
    with running_board("aurix-tc3xx") as (soc, bridge, (url,)):
        lmu = soc.memory["lmu"]
        meta_addr, data_addr, out_addr = 0x9005_0000, 0x9005_0100, 0x9005_0200  # inside the window
        data = bytes(range(48))
        lmu.write(meta_addr, metadata(0x51, len(data), b"dma object"))
        lmu.write(data_addr, data)
        s = connect(url)
        assert roundtrip(s, hdr(0x0101, 1) + struct.pack("<I", 3))[8:12] == struct.pack("<I", 3)
        # NVM ADDOBJECTDMA: {u64 metadata_hostaddr, u64 data_hostaddr, u16 data_len, pad[6]}
        add = hdr(0x0224, 2) + struct.pack("<QQH6x", meta_addr, data_addr, len(data))
        assert roundtrip(s, add) == hdr(0x0224, 2) + struct.pack("<i", 0)
        # NVM READDMA: {u64 data_hostaddr, u16 id, u16 offset, u16 data_len, pad[2]}
        read = hdr(0x0228, 3) + struct.pack("<QHHH2x", out_addr, 0x51, 0, len(data))
        assert roundtrip(s, read) == hdr(0x0228, 3) + struct.pack("<i", 0)
        assert lmu.read(out_addr, len(data)) == data

        # outside the allow list: the LMU beyond 256 KiB, and HSM-private RAM
        far = 0x9008_0000
        lmu.write(far, metadata(0x52, 8, b"x"))
        lmu.write(far + 0x100, b"secret!!")
        bad_add = hdr(0x0224, 4) + struct.pack("<QQH6x", far, far + 0x100, 8)
        assert roundtrip(s, bad_add) == hdr(0x0224, 4) + struct.pack("<i", ACCESS)
        before = soc.memory["hsm_ram"].read(0x2000_0000, 64)
        bad_read = hdr(0x0228, 5) + struct.pack("<QHHH2x", 0x2000_0000, 0x51, 0, len(data))
        assert roundtrip(s, bad_read) == hdr(0x0228, 5) + struct.pack("<i", ACCESS)
        assert soc.memory["hsm_ram"].read(0x2000_0000, 64) == before  # nothing written
        # a read whose buffer straddles the end of the window is refused whole
        edge = 0x9008_0000 - 16
        lmu.write(edge, bytes(48))
        straddle = hdr(0x0228, 6) + struct.pack("<QHHH2x", edge, 0x51, 0, len(data))
        assert roundtrip(s, straddle) == hdr(0x0228, 6) + struct.pack("<i", ACCESS)
        assert lmu.read(edge, 48) == bytes(48)
        # nothing was stored for the refused add, and the refusals are in the trace
        meta = roundtrip(s, hdr(0x0206, 7) + struct.pack("<H", 0x52))
        assert struct.unpack("<i", meta[8:12])[0] == -2104
        assert len(soc.trace.find("dma-refused", "hsm")) >= 3
