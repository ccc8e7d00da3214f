import pytest

from emulator.events import EventQueue
from emulator.timebase import TimeBase, parse_duration_ns


def test_every_clock_is_a_whole_number_of_ticks():
    tb = TimeBase([300_000_000, 200_000_000, 100_000_000, 150_000_000])
    for hz in (300_000_000, 200_000_000, 100_000_000, 150_000_000):
        assert tb.period(hz) * hz == tb.hz
    assert tb.ns(1) * 10**9 == tb.hz
    # 3 cycles at 300 MHz are exactly 10 ns: no rounding anywhere
    assert 3 * tb.period(300_000_000) == tb.ns(10)


@pytest.mark.parametrize(
    "text,ns",
    [("10ms", 10_000_000), ("1s", 10**9), ("250us", 250_000), ("1.5ms", 1_500_000), ("0", 0), ("7ns", 7)],
)
def test_parse_duration(text, ns):
    assert parse_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "ten ms", "5", "-1ms", "1h"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration_ns(text)


def test_events_same_time_run_in_schedule_order():
    q = EventQueue()
    out = []
    q.schedule(5, out.append, "b")
    q.schedule(3, out.append, "a")
    q.schedule(5, out.append, "c")
    saved = q.save()
    while (e := q.pop_due(10)) is not None:
        e[0](*e[1])
    assert out == ["a", "b", "c"]
    q.restore(saved)
    assert len(q) == 3 and q.next_time() == 3
