"""Custom callbacks registered by a firmware integrator, invoked by an attached client; DMA hooks."""

from firmware.client import Client
from firmware.wire import CustomCbType

from .bridge_util import running_board
from .custom_fw import VETO_ADDR

FW = "tests.emulator.custom_fw:CustomFirmware"


def test_registered_callbacks_user_type_and_dma64():
    with running_board("aurix-tc3xx", hsm_fw=FW) as (soc, bridge, (url,)):
        with Client.connect(url, client_id=4) as hsm:
            assert hsm.custom_check_registered(1) and hsm.custom_check_registered(2)
            assert not hsm.custom_check_registered(3)
            r = hsm.custom_invoke(1, 8, b"abcdef")
            assert r.rc == 7 and r.type == 8 and bytes(r.data)[:256] == (b"abcdef" + bytes(250))[::-1]

            lmu = soc.memory["lmu"]
            src, dst = 0x9005_0000, 0x9005_0100
            lmu.write(src, bytes(range(1, 101)))
            r = hsm.custom_invoke(
                2, CustomCbType.DMA64, {"client_addr": src, "client_sz": 100, "server_addr": dst, "server_sz": 4}
            )
            assert r.rc == 0 and lmu.read(dst, 4) == sum(range(1, 101)).to_bytes(4, "little")

            # outside the allow list, and vetoed by the firmware's pre-DMA hook: refused with ACCESS
            far = {"client_addr": 0x9008_0000, "client_sz": 16, "server_addr": dst, "server_sz": 4}
            assert hsm.custom_invoke(2, CustomCbType.DMA64, far).rc == -2101
            veto = {"client_addr": VETO_ADDR, "client_sz": 16, "server_addr": dst, "server_sz": 4}
            assert hsm.custom_invoke(2, CustomCbType.DMA64, veto).rc == -2101
        log = soc.core("hsm").firmware.dma_log
        assert ("read", "pre", src, 100) in log and ("read", "post", src, 100) in log
        assert ("write", "post", dst, 4) in log
        assert ("read", "post", VETO_ADDR, 16) not in log
