import pytest

from emulator.mpu import MPU, AccessViolation, Region
from emulator.regs import Reg, RegisterFile, RegisterMap

APP = frozenset({"cpu0", "app"})
DMA = frozenset({"hsm_dma"})


def _mpu():
    return MPU(
        [
            Region("lmu", 0x1000, 0x5000, {"app": "rwx", "hsm": "rw"}),
            Region("dma", 0x1000, 0x2000, {"hsm_dma": "rw"}),
            Region("hsm_ram", 0x8000, 0x9000, {"hsm": "rw"}),
        ]
    )


def test_rights_per_master():
    m = _mpu()
    m.check("cpu0", APP, 0x1000, 4, "x")
    m.check("hsm_dma", DMA, 0x1FFC, 4, "w")
    with pytest.raises(AccessViolation, match="no 'r' right in hsm_ram"):
        m.check("cpu0", APP, 0x8000, 4, "r")
    with pytest.raises(AccessViolation, match="outside every region"):
        m.check("cpu0", APP, 0x7000, 4, "r")


def test_dma_straddling_the_allow_list_is_refused():
    m = _mpu()
    assert m.allows(DMA, 0x1F00, 0x100, "r")
    assert not m.allows(DMA, 0x1F00, 0x101, "r")
    assert m.rights_at(APP, 0x1000) == "rwx"
    assert m.rights_at(APP, 0x8000) == ""


class _Dev:
    def __init__(self):
        self.writes = []

    def write_CTRL(self, master, value):
        self.writes.append((master, value))

    def read_ID(self, master):
        return 0x1234


def test_register_file_access_rules_and_lanes():
    rm = RegisterMap(
        "t",
        [
            Reg("ID", 0x0, "r"),
            Reg("CTRL", 0x4, "rw", reset=0xA5),
            Reg("FLAGS", 0x8, "w1c", banked=True),
            Reg("SET", 0xC, "w1s"),
        ],
    )
    dev = _Dev()
    rf = RegisterFile(rm, dev)
    assert rf.read(0x0, 4, "cpu0") == 0x1234
    assert rf.read(0x1, 1, "cpu0") == 0x12  # byte lane 1
    assert rf.read(0x4, 4, "cpu0") == 0xA5
    rf.write(0x5, 1, 0xFF, "cpu0")  # byte write keeps the other lanes
    assert rf.get("CTRL") == 0xFFA5 and dev.writes == [("cpu0", 0xFF00)]
    rf.set("FLAGS", 0b111, "cpu0")
    rf.set("FLAGS", 0b111, "cpu1")
    rf.write(0x8, 4, 0b010, "cpu0")
    assert rf.get("FLAGS", "cpu0") == 0b101 and rf.get("FLAGS", "cpu1") == 0b111
    rf.write(0xC, 4, 0b1, "x")
    rf.write(0xC, 4, 0b100, "x")
    assert rf.get("SET") == 0b101
    rf.write(0x0, 4, 0, "cpu0")  # read-only: ignored
    assert rf.read(0x0, 4, "cpu0") == 0x1234
    assert rf.read(0x40, 4, "cpu0") == 0  # no register there


def test_register_map_rejects_overlap_and_unknown_placement():
    with pytest.raises(ValueError):
        RegisterMap("t", [Reg("A", 0), Reg("B", 0)])
    with pytest.raises(KeyError):
        RegisterMap("t", [Reg("A")]).placed({"B": 0})
