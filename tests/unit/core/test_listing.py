"""The listed chains follow the exchanges' contract terms (RULES.md 5)."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config
from core.enums import CallPut, InstrumentKind
from core.instruments import option_price_limits
from core.listing import fourth_wednesday, list_day, strike_ladder


@pytest.fixture(scope="module")
def listing():
    config = load_config()
    return list_day(config.instruments, build_calendar(config.holidays), date(2026, 11, 23),
                    lambda spec, day: Decimal("0.0500"))


def test_the_510050_chain_has_four_expiries_nine_strikes_calls_and_puts(listing):
    options = [i for i in listing.instruments if i.product == "510050"]
    per_expiry = Counter((i.expiry, i.call_put) for i in options)
    assert sorted({e for e, _ in per_expiry}) == [date(2026, 11, 25), date(2026, 12, 23),
                                                  date(2027, 3, 24), date(2027, 6, 23)]
    assert set(per_expiry.values()) == {9}
    tiers = {i.expiry: i.tier for i in options}
    assert [tiers[e] for e in sorted(tiers)] == ["near", "near", "far", "far"]
    assert all(i.multiplier == 10000 and i.tick == Decimal("0.0001") for i in options)


def test_the_other_products_are_listed(listing):
    kinds = Counter((i.venue, i.kind) for i in listing.instruments)
    assert kinds[("BSE", InstrumentKind.STOCK)] == 2
    assert kinds[("SSE", InstrumentKind.ETF)] == 3
    assert kinds[("ZCE", InstrumentKind.FUTURE)] == 6
    assert kinds[("ZCE", InstrumentKind.OPTION)] == 36
    assert "SR701C5400" in listing.by_id()


def test_expiry_is_the_fourth_wednesday():
    assert fourth_wednesday(2026, 11) == date(2026, 11, 25)
    assert fourth_wednesday(2027, 9) == date(2027, 9, 22)


def test_strikes_follow_the_grid_across_a_band_edge():
    steps = load_config().instruments.option_chains[0].strike_steps
    assert strike_ladder(Decimal("3.1"), 4, steps) == [
        Decimal(s) for s in ("2.85", "2.90", "2.95", "3.0", "3.1", "3.2", "3.3", "3.4", "3.5")]


def test_option_price_limits_by_hand():
    # S = 3.000, K = 2.900, previous settlement 0.1500 (1500 ticks)
    # call rise = max(3 x 0.5%, min(2x3 - 2.9, 3) x 10%) = max(0.015, 0.3) = 0.3000
    # put rise = max(2.9 x 0.5%, min(2x2.9 - 3, 3) x 10%) = max(0.0145, 0.28) = 0.2800
    # fall = 3 x 10% = 0.3000 -> down = max(0.15 - 0.30, one tick)
    common = dict(prev_settle_ticks=1500, underlying_close=Decimal("3.000"),
                  strike=Decimal("2.900"), tick=Decimal("0.0001"), floor_pct=Decimal("0.005"),
                  rise_pct=Decimal("0.10"), fall_pct=Decimal("0.10"))
    assert option_price_limits(call_put=CallPut.CALL, **common) == (4500, 1)
    assert option_price_limits(call_put=CallPut.PUT, **common) == (4300, 1)
    deep = dict(common, strike=Decimal("6.5"))  # 2K - S > S: the put's rise is S x 10%
    assert option_price_limits(call_put=CallPut.PUT, **deep) == (1500 + 3000, 1)
    # a call far out of the money: 2S - K = -0.5 -> rise is the floor S x 0.5% = 0.015
    assert option_price_limits(call_put=CallPut.CALL, **deep) == (1500 + 150, 1)
