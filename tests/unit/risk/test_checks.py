"""Each pre-trade check at its boundary: the limit itself passes, one more is refused, and the
refusal names the check, the field and the value."""

import math

import pytest

from core.enums import Side
from risk.limits import Throttle
from tests.unit.risk.kit import NOW, S, check, config, limits, order, pretrade, quote


def test_quote_size_up_to_the_limit_passes():
    pt = pretrade()
    assert check(pt, quote(bid_qty=50, ask_qty=50)) is None
    refusal = check(pt, quote(iid="C2", bid_qty=51))
    assert refusal.check == "max_quote_qty" and "bid_qty: 51" in refusal.message


def test_notional_per_side_boundary():
    pt = pretrade(products={"510050": limits(max_notional_yuan=100_000)})
    # 100,000 yuan = 2000 ticks x 0.0001 x 10,000 x 50 lots: equal passes
    assert check(pt, quote(bid=1990, bid_qty=50, ask=2000, ask_qty=50), theo=2000) is None
    refusal = check(pt, quote(iid="C2", bid=None, ask=2001, ask_qty=50), theo=2000)
    assert refusal.check == "max_notional" and "ask: 100050.00 yuan" in refusal.message


@pytest.mark.parametrize(("bid", "expected"), [(900, None), (899, "collar_theo")])
def test_collar_against_theo_is_the_larger_of_ticks_and_fraction(bid, expected):
    # theo 1000: max(20 ticks, 10% = 100 ticks) = 100
    refusal = check(pretrade(), quote(bid=bid, ask=1010), theo=1000)
    assert (refusal.check if refusal else None) == expected


def test_collar_against_a_small_theo_uses_the_ticks():
    assert check(pretrade(), quote(bid=1, ask=25), theo=5) is None
    assert check(pretrade(), quote(bid=1, ask=26), theo=5).check == "collar_theo"


def test_collar_against_the_last_trade_only_while_it_is_fresh():
    # last trade 800: max(50, 160) = 160 ticks, so a bid at 990 is 190 away
    fresh = check(pretrade(), quote(bid=990, ask=1010), last_px_ticks=800,
                  last_ns=NOW - 30 * S)
    assert fresh.check == "collar_last_trade" and "last trade 800" in fresh.message
    stale = check(pretrade(), quote(bid=990, ask=1010), last_px_ticks=800,
                  last_ns=NOW - 31 * S)
    assert stale is None


def test_collar_against_the_previous_quote():
    pt = pretrade()
    assert check(pt, quote(bid=990, ask=1010)) is None
    # previous bid 990: max(100, 495) = 495 ticks; theo moves with the quote so only this
    # collar bites
    assert check(pt, quote(bid=1485, ask=1505), theo=1495) is None
    refusal = check(pt, quote(bid=2228, ask=2240), theo=2234)
    assert refusal.check == "collar_previous" and "previous quote's 1485" in refusal.message


def test_the_previous_quote_is_a_reference_only_while_it_is_recent():
    """A contract whose price ran away while its quote could not be sent (one side filled,
    a circuit breaker) must not stay unquoted for good: the previous quote stops being a
    reference after the window (30 s here); theo and the last trade still collar."""
    pt = pretrade()
    assert check(pt, quote(bid=990, ask=1010)) is None
    assert check(pt, quote(bid=2228, ask=2240), theo=2234,
                 now=NOW + 30 * S).check == "collar_previous"
    assert check(pt, quote(bid=2228, ask=2240), theo=2234, now=NOW + 31 * S) is None
    assert check(pt, quote(bid=3400, ask=3410), theo=3405,
                 now=NOW + 40 * S).check == "collar_previous"  # 2228 is the reference now


@pytest.mark.parametrize("theo", [math.nan, math.inf, 0.0, -1.0])
def test_a_missing_or_non_finite_theo_refuses(theo):
    refusal = check(pretrade(), quote(), theo=theo)
    assert refusal.check == "reference" and "missing or not finite" in refusal.message


def test_a_stale_or_absent_reference_refuses():
    assert check(pretrade(), quote(), theo_ns=NOW - 10 * S) is None
    stale = check(pretrade(), quote(), theo_ns=NOW - 11 * S)
    assert stale.check == "reference" and "11 s old" in stale.message
    never = check(pretrade(), quote(), theo_ns=0)
    assert never.check == "reference" and "no market data" in never.message


def test_only_the_dedicated_account_and_tradable_underlyings():
    pt = pretrade()
    wrong = check(pt, quote(account="PROP1"))
    assert wrong.check == "account" and "PROP1" in wrong.message
    pt = pretrade(tradable=["830799"])
    off_list = check(pt, quote())
    assert off_list.check == "tradable" and "510050" in off_list.message


def test_a_contract_without_limits_refuses():
    pt = pretrade(products={})
    assert check(pt, quote()).check == "limits"


def test_a_client_id_is_used_once():
    pt = pretrade()
    assert check(pt, quote(quote_id="Q-dup")) is None
    again = check(pt, quote(iid="C2", quote_id="Q-dup"))
    assert again.check == "duplicate_id" and "Q-dup" in again.message


def test_the_throttle_allows_the_burst_then_refills_with_time():
    pt = pretrade(throttle=Throttle(per_s=10, burst=3))
    ids = ["C1", "C2", "P1"]
    for n, iid in enumerate(ids):
        assert check(pt, quote(iid=iid, bid=950 + n, ask=1050 + n), send_ns=NOW) is None
    refused = check(pt, quote(iid="C1", bid=950, ask=1050), send_ns=NOW)
    assert refused.check == "throttle"
    # a tenth of a second later one token is back
    assert check(pt, quote(iid="C1", bid=951, ask=1051), send_ns=NOW + S // 10) is None


def test_a_quote_refused_by_a_limit_gives_its_token_back():
    pt = pretrade(throttle=Throttle(per_s=1, burst=1))
    assert check(pt, quote(bid=990, bid_qty=50, ask=None), send_ns=NOW) is None
    assert check(pt, quote(iid="P1", bid=990, bid_qty=50, ask=None),
                 send_ns=NOW + S) is None  # long 100: the limit
    assert check(pt, quote(iid="C2", bid=990, bid_qty=1, ask=None),
                 send_ns=NOW + 2 * S).check == "long_limit"
    # the refusal did not spend the token: a quote in the same instant passes
    assert check(pt, quote(iid="C2", bid=None, ask=1010, ask_qty=10),
                 send_ns=NOW + 2 * S) is None


def test_long_limit_counts_every_live_bid_on_the_underlying():
    pt = pretrade()
    assert check(pt, quote(iid="C1", bid=990, bid_qty=50, ask=None)) is None
    assert check(pt, quote(iid="P1", bid=990, bid_qty=50, ask=None)) is None  # 100: the limit
    refusal = check(pt, quote(iid="C2", bid=990, bid_qty=1, ask=None))
    assert refusal.check == "long_limit" and "101 lots" in refusal.message


def test_a_replacing_quote_frees_what_it_replaces():
    pt = pretrade()
    assert check(pt, quote(iid="C1", bid=990, bid_qty=50, ask=None)) is None
    assert check(pt, quote(iid="P1", bid=990, bid_qty=50, ask=None)) is None
    # C1 replaced by a smaller bid: room for C2
    assert check(pt, quote(iid="C1", bid=990, bid_qty=20, ask=None)) is None
    assert check(pt, quote(iid="C2", bid=990, bid_qty=30, ask=None)) is None


def test_a_cancelled_quote_frees_its_reservation():
    pt = pretrade()
    first = quote(iid="C1", bid=990, bid_qty=50, ask=None)
    assert check(pt, first) is None
    assert check(pt, quote(iid="P1", bid=990, bid_qty=50, ask=None)) is None
    assert check(pt, quote(iid="C2", bid=990, bid_qty=10, ask=None)).check == "long_limit"
    pt.quote_gone("C1", first.quote_id)
    assert check(pt, quote(iid="C2", bid=990, bid_qty=10, ask=None)) is None


def test_total_limit_counts_the_larger_side_per_contract():
    pt = pretrade()
    for iid in ("C1", "C2", "P1"):
        assert check(pt, quote(iid=iid, bid=None, ask=1010, ask_qty=50)) is None  # 150
    pt2 = pretrade()
    for iid in ("C1", "C2"):
        assert check(pt2, quote(iid=iid, bid=None, ask=1010, ask_qty=50)) is None
    refusal = check(pt2, quote(iid="P1", bid=990, bid_qty=10, ask=1010, ask_qty=50 + 1))
    assert refusal is not None and refusal.check == "max_quote_qty"
    refusal = check(pt2, quote(iid="P1", bid=None, ask=1010, ask_qty=50), theo=1000)
    assert refusal is None  # exactly 150
    pt2.on_fill("P1", "x", Side.SELL, 1, 1000, is_quote=False)  # a short from elsewhere
    assert pt2.usage()["510050"]["total_worst"] == 151  # the live ask still counts in full


def test_a_fill_that_opens_counts_toward_the_daily_buy_to_open_limit():
    pt = pretrade()
    first = quote(iid="C1", bid=990, bid_qty=50, ask=None)
    assert check(pt, first) is None
    pt.on_fill("C1", first.quote_id, Side.BUY, 50, 990, is_quote=True)
    pt.quote_gone("C1", first.quote_id)
    # bought to open today: 50; a sale closes, then 70 more to open reaches 120 exactly
    assert check(pt, quote(iid="C2", bid=990, bid_qty=50, ask=None)) is None
    pt.on_fill("C1", "o", Side.SELL, 50, 1000, is_quote=False)  # closes: no new opening
    assert check(pt, quote(iid="P1", bid=990, bid_qty=20, ask=None)) is None
    refusal = check(pt, quote(iid="C1", bid=990, bid_qty=1, ask=None))
    assert refusal.check == "daily_bto_limit" and "121 lots" in refusal.message


def test_inventory_cannot_be_sold_short():
    pt = pretrade()
    assert check(pt, quote(iid="830799", bid=2490, bid_qty=100, ask=2510, ask_qty=1000),
                 theo=2500) is None
    refusal = check(pt, quote(iid="830799", bid=2490, bid_qty=100, ask=2510, ask_qty=1100),
                    theo=2500)
    assert refusal.check == "inventory_min" and "-100" in refusal.message


def test_inventory_maximum():
    pt = pretrade()
    assert check(pt, quote(iid="830799", bid=2490, bid_qty=4000, ask=None), theo=2500) is None
    refusal = check(pt, quote(iid="830799", bid=2490, bid_qty=4100, ask=None), theo=2500)
    assert refusal.check == "inventory_max" and "5100" in refusal.message


def test_funds_cover_premium_and_margin():
    # a short call needs ~ (0.1 + max(0.12 x 3.1 - 0, 0.07 x 3.1)) x 10,000 = 4,720 yuan a lot
    pt = pretrade(funds_yuan=4720 * 10 + 1)
    assert check(pt, quote(iid="C1", bid=None, ask=1010, ask_qty=10)) is None
    refusal = check(pt, quote(iid="C2", bid=None, ask=1010, ask_qty=1))
    assert refusal.check == "funds" and "available" in refusal.message


def test_futures_margin_both_ways():
    # 8% x 5500 x 10 = 4,400 yuan a lot either way
    pt = pretrade(funds_yuan=4400 * 5)
    assert check(pt, quote(iid="SR701", bid=5490, bid_qty=5, ask=5510, ask_qty=5),
                 theo=5500) is None
    assert check(pt, quote(iid="SR701", bid=5490, bid_qty=6, ask=None),
                 theo=5500).check == "funds"


def test_a_quote_that_would_trade_with_our_own_order_is_refused():
    pt = pretrade()
    assert pt.check_order(order(side=Side.SELL, px=1000, qty=5), NOW, theo_ticks=1000,
                          theo_ns=NOW, delta_before=50_000, delta_per_lot=5_000) is None
    refusal = check(pt, quote(bid=1000, ask=1010))
    assert refusal.check == "self_trade" and "sell order at 1000" in refusal.message
    assert check(pt, quote(bid=999, ask=1010)) is None


def test_an_order_that_would_trade_with_our_own_quote_is_refused():
    pt = pretrade()
    assert check(pt, quote(bid=990, ask=1010)) is None
    refusal = pt.check_order(order(side=Side.BUY, px=1010), NOW, theo_ticks=1000, theo_ns=NOW,
                             delta_before=-50_000, delta_per_lot=5_000)
    assert refusal.check == "self_trade" and "own ask at 1010" in refusal.message


def test_no_directional_order_leaves_the_account():
    pt = pretrade()
    hedge = pt.check_order(order(side=Side.SELL, px=1000, qty=10), NOW, theo_ticks=1000,
                           theo_ns=NOW, delta_before=50_000, delta_per_lot=5_000)
    assert hedge is None  # 50,000 -> 0
    overshoot = pt.check_order(order(iid="C2", side=Side.SELL, px=1000, qty=19), NOW,
                               theo_ticks=1000, theo_ns=NOW, delta_before=50_000,
                               delta_per_lot=5_000)
    assert overshoot.check == "directional" and "to -45000" in overshoot.message
    directional = pt.check_order(order(iid="C2", side=Side.BUY, px=1000, qty=1), NOW,
                                 theo_ticks=1000, theo_ns=NOW, delta_before=0,
                                 delta_per_lot=5_000)
    assert directional.check == "directional" and "no direction" in directional.message


def test_order_size_limit():
    pt = pretrade()
    refusal = pt.check_order(order(qty=21, side=Side.SELL), NOW, theo_ticks=1000, theo_ns=NOW,
                             delta_before=1e9, delta_per_lot=5_000)
    assert refusal.check == "max_order_qty" and "qty: 21" in refusal.message


def test_a_refused_check_reserves_nothing():
    pt = pretrade()
    before = pt.usage()
    assert check(pt, quote(bid=1, ask=1010)) is not None  # collar
    assert pt.usage() == before


def test_restored_quotes_count_after_a_restart():
    pt = pretrade()
    pt.restore_quote(quote(iid="C1", bid=990, bid_qty=50, ask=None))
    pt.restore_quote(quote(iid="P1", bid=990, bid_qty=50, ask=None))
    assert check(pt, quote(iid="C2", bid=990, bid_qty=1, ask=None)).check == "long_limit"


def test_config_defaults_decode():
    assert config().margin.future_rate == 0.08
