"""In-process bridge clients: deterministic scripted workloads without sockets or threads."""

from emulator.bridge import HostBridge
from emulator.soc import Soc
from emulator.trace import Trace

INIT = bytes.fromhex("01a50101010000000100000" "0")
ECHO = bytes.fromhex("01a5050102000000") + b"scripted"


def run_script():
    soc = Soc("spc58nn", trace=Trace("events"), console=lambda s, t: None)
    soc.run_until_idle()
    bridge = HostBridge(soc, log=lambda m: None)
    c = bridge.attach_local()
    replies = [bridge.request(c, INIT), bridge.request(c, ECHO)]
    return soc, replies


def test_local_client_round_trips_deterministically():
    soc_a, rep_a = run_script()
    soc_b, rep_b = run_script()
    assert rep_a == [INIT + bytes.fromhex("39000000"), ECHO]
    assert rep_a == rep_b
    assert soc_a.now == soc_b.now and soc_a.trace.records == soc_b.trace.records
