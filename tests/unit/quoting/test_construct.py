"""Quote construction: ticks, spread limits after rounding, price limits, sizes, skew."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.refdata.loader import load_rule_pack
from core.enums import Phase
from quoting.construct import QuoteParams, build_quotes
from quoting.gate import NO_PRICE, PHASE_CODE, ChainRules, Rule
from tests.simkit import option, stock

PACK = load_rule_pack("sse-options")


def chain(n=3, **kw):
    return ChainRules(PACK, [option(f"C{i}", **kw) for i in range(n)])


def one(rules, theo, phase=Phase.CONTINUOUS, **params):
    built = build_quotes(rules, np.array([theo]), QuoteParams.uniform(1, **params), phase)
    return (int(built.bid_px[0]), int(built.bid_qty[0]), int(built.ask_px[0]),
            int(built.ask_qty[0]))


def test_bid_rounds_down_and_ask_rounds_up():
    assert one(chain(1), 0.05003, width_ticks=4) == (498, 10, 503, 10)


def test_a_wide_wish_is_narrowed_to_the_limit_around_its_middle():
    # theo 0.0500 wants 100 ticks; 10% of the bid allows about 50: narrowed, never wider
    bid, _, ask, _ = one(chain(1), 0.05, width_ticks=100)
    assert bid // 10 - 3 <= ask - bid <= bid // 10
    assert bid < 500 < ask


def test_quotes_stay_inside_the_price_limits_and_never_cross():
    rules = chain(1, prev=500, up=600, down=400)
    bid, _, ask, _ = one(rules, 0.0650, width_ticks=4)  # theo above limit-up
    assert ask == 600 and bid < ask
    bid, _, ask, _ = one(rules, 0.0300, width_ticks=4)  # theo below limit-down
    assert bid == 400 and ask > bid


def test_a_cheap_option_may_be_quoted_on_the_ask_alone():
    bid, bid_qty, ask, _ = one(chain(1), 0.0002, width_ticks=6, cheap_bid=False)
    assert (bid, bid_qty) == (NO_PRICE, 0) and 0 < ask < 10


def test_a_cheap_option_keeps_a_one_tick_bid_by_default_for_participation():
    bid, bid_qty, ask, _ = one(chain(1), 0.0002, width_ticks=6)
    assert (bid, bid_qty) == (1, 10) and 1 < ask < 10


def test_sizes_meet_the_phase_minimum():
    assert one(chain(1), 0.05, size=3)[1] == 10
    assert one(chain(1), 0.05, Phase.OPENING_AUCTION, size=3)[1] == 3


def test_disabled_contracts_and_missing_theo_get_no_quote():
    rules = chain(2)
    params = QuoteParams.uniform(2)
    params.enabled[0] = False
    built = build_quotes(rules, np.array([0.05, np.nan]), params, Phase.CONTINUOUS)
    assert list(built.bid_px) == [NO_PRICE, NO_PRICE]
    assert list(built.ask_px) == [NO_PRICE, NO_PRICE]


def test_inventory_skews_both_sides_down():
    rules = chain(1)
    params = QuoteParams.uniform(1, width_ticks=4, skew_inventory=0.00001)
    flat = build_quotes(rules, np.array([0.05]), params, Phase.CONTINUOUS)
    long = build_quotes(rules, np.array([0.05]), params, Phase.CONTINUOUS,
                        inventory=np.array([50.0]))
    assert long.bid_px[0] == flat.bid_px[0] - 5 and long.ask_px[0] == flat.ask_px[0] - 5


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0001, 0.5), st.integers(1, 400), st.floats(0, 0.5),
       st.sampled_from([Phase.CONTINUOUS, Phase.OPENING_AUCTION, Phase.CLOSING_AUCTION]))
def test_whatever_the_wish_built_quotes_pass_the_gate(theo, width, width_pct, phase):
    rules = ChainRules(PACK, [option("C", prev=2000, up=6000, down=1)])
    params = QuoteParams.uniform(1, width_ticks=width, width_pct=width_pct, size=10)
    built = build_quotes(rules, np.array([theo]), params, phase)
    codes, _ = rules.check(np.array([PHASE_CODE[phase]]), np.array([0]), built.bid_px,
                           built.bid_qty, built.ask_px, built.ask_qty)
    assert codes[0] == Rule.ACCEPT, (theo, width, built)


@pytest.mark.parametrize("phase", [Phase.CONTINUOUS, Phase.CLOSING_AUCTION])
def test_bse_quotes_built_on_the_ask_basis_pass(phase):
    rules = ChainRules(load_rule_pack("bse-stocks"), [stock("830799")])
    built = build_quotes(rules, np.array([25.0]), QuoteParams.uniform(1, width_ticks=200,
                                                                        size=100), phase)
    codes, _ = rules.check(np.array([PHASE_CODE[phase]]), np.array([0]), built.bid_px,
                           built.bid_qty, built.ask_px, built.ask_qty)
    assert codes[0] == Rule.ACCEPT and built.bid_qty[0] == 1000


def _against(rules, theo, other_bid, other_ask, phase=Phase.CONTINUOUS, width_ticks=8):
    built = build_quotes(rules, np.array([theo]), QuoteParams.uniform(1, width_ticks=width_ticks),
                         phase, other_bid=np.array([other_bid]),
                         other_ask=np.array([other_ask]))
    return int(built.bid_px[0]), int(built.ask_px[0])


def test_a_quote_never_takes_the_other_side_s_best_price_in_continuous_trading():
    rules = chain(1)
    bid, ask = _against(rules, 0.05035, NO_PRICE, NO_PRICE)  # an empty book: as built
    assert (bid, ask) == (499, 508)
    assert _against(rules, 0.05035, 490, 510) == (bid, ask)  # inside the market: as built
    # someone's stale ask at 498 under our bid: the whole quote moves under it, same width
    assert _against(rules, 0.05035, 480, 498) == (497, 506)
    assert _against(rules, 0.05035, NO_PRICE, 499) == (498, 507)
    # and over a stale bid at 509
    assert _against(rules, 0.05035, 509, 520) == (501, 510)


def test_in_a_call_auction_a_quote_may_cross_the_book():
    assert _against(chain(1), 0.05035, 480, 498, Phase.CLOSING_AUCTION) == (499, 508)


@settings(max_examples=300, deadline=None)
@given(theo=st.integers(100, 5000), other_bid=st.integers(50, 5000),
       spread=st.integers(1, 60), width=st.integers(1, 40))
def test_never_crossing_holds_for_any_book(theo, other_bid, spread, width):
    rules = chain(1, prev=2500, up=9000, down=1)
    bid, ask = _against(rules, theo / 10_000, other_bid, other_bid + spread, width_ticks=width)
    assert bid < other_bid + spread and ask > other_bid and bid < ask
