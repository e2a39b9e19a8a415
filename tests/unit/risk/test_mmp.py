"""Market-maker protection trips beyond each level within its window, once, and latches."""

from risk.limits import Protection
from risk.mmp import MarketMakerProtection

S = 1_000_000_000


def mmp(**levels) -> MarketMakerProtection:
    return MarketMakerProtection({"510050": Protection(window_s=1, **levels)})


def test_fills_up_to_the_level_do_not_trip_one_more_does():
    m = mmp(max_fills=3)
    assert [m.on_fill("510050", n, 1, 0, 0) for n in range(3)] == [None] * 3
    why = m.on_fill("510050", 3, 1, 0, 0)
    assert why == "4 fills within 1 s, over 3"
    assert m.tripped == {"510050": why}


def test_fills_outside_the_window_fall_out():
    m = mmp(max_fills=2)
    m.on_fill("510050", 0, 1, 0, 0)
    m.on_fill("510050", S // 2, 1, 0, 0)
    assert m.on_fill("510050", S, 1, 0, 0) is None  # the first is exactly a second old
    assert m.on_fill("510050", S + 1, 1, 0, 0) is not None


def test_volume_delta_and_vega_levels():
    assert "lots filled" in mmp(max_volume=10).on_fill("510050", 0, 11, 0, 0)
    delta = mmp(max_delta=100)
    assert delta.on_fill("510050", 0, 1, 80, 0) is None
    assert delta.on_fill("510050", 1, 1, -70, 0) is None  # signed: they offset
    assert "delta" in delta.on_fill("510050", 2, 1, -200, 0)
    assert "vega" in mmp(max_vega=5).on_fill("510050", 0, 1, 0, -6)


def test_a_tripped_product_stays_tripped_until_reset():
    m = mmp(max_fills=1)
    m.on_fill("510050", 0, 1, 0, 0)
    assert m.on_fill("510050", 1, 1, 0, 0) is not None
    assert m.on_fill("510050", 2, 1, 0, 0) is None  # told once; the latch holds
    assert "510050" in m.tripped
    m.reset("510050")
    assert m.on_fill("510050", 3, 1, 0, 0) is None


def test_a_product_without_levels_never_trips():
    assert mmp(max_fills=1).on_fill("SR", 0, 10**6, 1e12, 1e12) is None
