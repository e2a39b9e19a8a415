"""Every gate rule and exemption at its boundary."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.refdata.loader import load_rule_pack
from core.enums import CallPut, InstrumentKind, LimitState, Phase, Venue
from core.events import Quote
from core.instruments import Instrument
from quoting.gate import (
    LIMIT_CODE,
    NO_PRICE,
    PHASE_CODE,
    Accept,
    ChainRules,
    Exemption,
    Market,
    Reject,
    Rule,
    gate,
)
from tests.simkit import option, stock

CONT = Market(Phase.CONTINUOUS)


def quote(iid, bid, bid_qty, ask, ask_qty):
    return Quote(ts_event=0, ts_init=0, quote_id="q", instrument_id=iid, account="MM",
                 bid_px_ticks=bid, bid_qty=bid_qty if bid is not None else 0,
                 ask_px_ticks=ask, ask_qty=ask_qty if ask is not None else 0)


def rule_of(decision):
    return decision.rule if isinstance(decision, Reject) else Rule.ACCEPT


@pytest.fixture(scope="module")
def sse():
    far = Instrument(**{**{f: getattr(option("FAR"), f) for f in option("FAR").__struct_fields__},
                        "tier": "far"})
    stock_option = Instrument(**{**{f: getattr(option("STK"), f)
                                    for f in option("STK").__struct_fields__},
                                 "underlying_kind": InstrumentKind.STOCK})
    return ChainRules(load_rule_pack("sse-options"),
                      [option("NEAR", prev=500, up=1000, down=1), far, stock_option])


@pytest.mark.parametrize(("bid", "ask", "expected"), [
    (500, 550, Rule.ACCEPT),   # 10% of 0.0500 = 0.0050: equal to the limit passes
    (500, 551, Rule.SPREAD),
    (100, 125, Rule.ACCEPT),   # the 0.0025 floor (25 ticks) above 10% of 0.0100
    (100, 126, Rule.SPREAD),
])
def test_near_month_spread_boundary(sse, bid, ask, expected):
    assert rule_of(gate(quote("NEAR", bid, 10, ask, 10), sse, CONT)) is expected


@pytest.mark.parametrize(("ask", "expected"), [(600, Rule.ACCEPT), (601, Rule.SPREAD)])
def test_far_month_allows_twenty_percent(sse, ask, expected):
    assert rule_of(gate(quote("FAR", 500, 10, ask, 10), sse, CONT)) is expected


@pytest.mark.parametrize(("phase", "size", "expected"), [
    (Phase.CONTINUOUS, 10, Rule.ACCEPT), (Phase.CONTINUOUS, 9, Rule.SIZE),
    (Phase.OPENING_AUCTION, 1, Rule.ACCEPT), (Phase.CLOSING_AUCTION, 1, Rule.ACCEPT),
    (Phase.CIRCUIT_BREAKER_AUCTION, 1, Rule.ACCEPT), (Phase.CONTINUOUS, 0, Rule.QUANTITY),
])
def test_minimum_size_by_phase(sse, phase, size, expected):
    assert rule_of(gate(quote("NEAR", 500, size, 520, 10), sse, Market(phase))) is expected


@pytest.mark.parametrize(("bid", "ask", "expected"), [
    (950, 1000, Rule.ACCEPT), (951, 1001, Rule.LIMIT), (1, 25, Rule.ACCEPT),
    (0, 25, Rule.PRICE), (500, 500, Rule.CROSSED), (None, None, Rule.EMPTY),
])
def test_price_limits_and_shape(sse, bid, ask, expected):
    assert rule_of(gate(quote("NEAR", bid, 10, ask, 10), sse, CONT)) is expected


@pytest.mark.parametrize("phase", [Phase.CLOSED, Phase.HALTED])
def test_no_quotes_when_the_exchange_takes_none(sse, phase):
    decision = gate(quote("NEAR", 500, 10, 520, 10), sse, Market(phase))
    assert rule_of(decision) is Rule.PHASE and str(phase) in decision.reason


@pytest.mark.parametrize(("state", "expected"), [(LimitState.UP, Rule.ACCEPT),
                                                 (LimitState.DOWN, Rule.ACCEPT),
                                                 (LimitState.NONE, Rule.ONE_SIDED)])
def test_one_side_is_enough_at_a_price_limit(sse, state, expected):
    decision = gate(quote("NEAR", None, 0, 1000, 10), sse, Market(Phase.CONTINUOUS, state))
    assert rule_of(decision) is expected
    if expected is Rule.ACCEPT:
        assert decision.exemption is Exemption.AT_LIMIT


@pytest.mark.parametrize(("iid", "ask", "expected"), [
    ("NEAR", 9, Rule.ACCEPT),      # ETF underlying: under 0.001 the bid may go
    ("NEAR", 10, Rule.ONE_SIDED),  # at 0.0010 it may not
    ("STK", 49, Rule.ACCEPT),      # stock underlying: under 0.005
    ("STK", 50, Rule.ONE_SIDED),
])
def test_a_cheap_option_may_withdraw_its_bid(sse, iid, ask, expected):
    decision = gate(quote(iid, None, 0, ask, 10), sse, CONT)
    assert rule_of(decision) is expected
    assert rule_of(gate(quote(iid, 1, 10, None, 0), sse, CONT)) is Rule.ONE_SIDED  # not the ask


def test_a_rejection_names_the_values_and_the_limit(sse):
    decision = gate(quote("NEAR", 500, 10, 551, 10), sse, CONT)
    assert decision.reason == ("spread: 0.0051 = 0.0551 - 0.0500 exceeds max(10% x bid, "
                               "floor) = 0.005")


def etf(prev=1050):
    return Instrument(instrument_id="512880", venue=Venue.SSE, kind=InstrumentKind.ETF,
                      product="512880", tick=Decimal("0.001"), prev_close_ticks=prev,
                      limit_up_ticks=prev * 11 // 10, limit_down_ticks=prev * 9 // 10,
                      min_qty=100, lot=100)


@pytest.mark.parametrize(("last", "bid", "ask", "expected"), [
    (1100, None, 1100, Rule.ACCEPT),   # 10% above the IOPV 1.000: the ask alone, against it
    (1100, 1099, None, Rule.ONE_SIDED),  # the bid alone is with the move
    (1099, None, 1100, Rule.ONE_SIDED),  # 9.9%: not yet
    (900, 900, None, Rule.ACCEPT),
])
def test_a_fund_far_from_its_iopv_may_quote_against_the_move(last, bid, ask, expected):
    rules = ChainRules(load_rule_pack("sse-etf"), [etf(prev=1000)])
    market = Market(Phase.CONTINUOUS, last_px_ticks=last, iopv_ticks=1000)
    decision = gate(quote("512880", bid, 20000, ask, 20000), rules, market)
    assert rule_of(decision) is expected
    if expected is Rule.ACCEPT:
        assert decision.exemption is Exemption.IOPV_DEVIATION


@pytest.mark.parametrize(("px", "qty", "expected"), [
    (1000, 10000, Rule.ACCEPT),   # 1.000 x 10,000 = 10,000 yuan: equal passes
    (999, 10000, Rule.AMOUNT),    # 9,990 yuan
    (999, 10100, Rule.ACCEPT),
    (1000, 9900, Rule.SIZE),
])
def test_a_fund_quote_has_a_minimum_amount(px, qty, expected):
    rules = ChainRules(load_rule_pack("sse-etf"), [etf(prev=1000)])
    assert rule_of(gate(quote("512880", px, qty, px + 2, qty), rules, CONT)) is expected


@pytest.mark.parametrize(("phase", "bid", "ask", "expected"), [
    (Phase.CONTINUOUS, 2450, 2500, Rule.ACCEPT),   # 50 ticks = 2% of the ask 25.00
    (Phase.CONTINUOUS, 2449, 2500, Rule.SPREAD),
    (Phase.OPENING_AUCTION, 2425, 2500, Rule.ACCEPT),  # 3% in call auctions
    (Phase.OPENING_AUCTION, 2424, 2500, Rule.SPREAD),
    (Phase.CONTINUOUS, 48, 50, Rule.ACCEPT),       # 2 ticks beat 2% of 0.50
    (Phase.CONTINUOUS, 47, 50, Rule.SPREAD),
])
def test_bse_spread_on_the_ask_with_a_two_tick_floor(phase, bid, ask, expected):
    rules = ChainRules(load_rule_pack("bse-stocks"),
                       [stock("830799", prev=2500, up=3250, down=20)])
    assert rule_of(gate(quote("830799", bid, 1000, ask, 1000), rules, Market(phase))) \
        is expected
    assert rule_of(gate(quote("830799", bid, 999, ask, 1000), rules, Market(phase))) \
        in (Rule.SIZE, Rule.SPREAD)


def test_zce_opening_auction_owes_nothing_but_continuous_does():
    sr = Instrument(instrument_id="SR701C5400", venue=Venue.ZCE, kind=InstrumentKind.OPTION,
                    product="SR_O", tick=Decimal("0.5"), prev_close_ticks=300,
                    limit_up_ticks=900, limit_down_ticks=1, underlying="SR701",
                    underlying_kind=InstrumentKind.FUTURE, call_put=CallPut.CALL,
                    strike=Decimal("5400"), expiry=date(2026, 12, 15))
    rules = ChainRules(load_rule_pack("zce-options"), [sr])
    lone = quote("SR701C5400", 290, 1, None, 0)
    decision = gate(lone, rules, Market(Phase.OPENING_AUCTION))
    assert decision == Accept(Exemption.FREE_PHASE)
    assert rule_of(gate(lone, rules, CONT)) is Rule.ONE_SIDED
    # even a free phase keeps the price limits
    assert rule_of(gate(quote("SR701C5400", 290, 1, 901, 1), rules,
                        Market(Phase.OPENING_AUCTION))) is Rule.LIMIT


def test_a_contract_outside_the_chain_is_refused(sse):
    assert "is not in the sse-options chain" in gate(quote("X", 1, 10, 2, 10), sse,
                                                     CONT).reason


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 800), st.sampled_from(["NEAR", "FAR"]),
       st.sampled_from([Phase.CONTINUOUS, Phase.OPENING_AUCTION, Phase.CLOSING_AUCTION]))
def test_the_gate_never_passes_a_quote_wider_than_the_limit(bid, spread, iid, phase):
    instruments = [option("NEAR", prev=2500, up=10_000, down=1),
                   Instrument(**{**{f: getattr(option("FAR", prev=2500, up=10_000, down=1), f)
                                    for f in option("FAR").__struct_fields__}, "tier": "far"})]
    rules = ChainRules(load_rule_pack("sse-options"), instruments)
    ask = bid + spread
    if ask > 10_000:
        return
    decision = gate(quote(iid, bid, 10, ask, 10), rules, Market(phase))
    pct = Fraction(1, 10) if iid == "NEAR" else Fraction(1, 5)
    limit_ticks = max(pct * bid, Fraction(25))  # exact, independently of the gate
    if isinstance(decision, Accept):
        assert spread <= limit_ticks
    else:
        assert decision.rule is Rule.SPREAD and spread > limit_ticks


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 1100), st.integers(0, 30), st.integers(-5, 1100),
                          st.integers(0, 30), st.sampled_from(list(PHASE_CODE)),
                          st.sampled_from(list(LIMIT_CODE))), min_size=3, max_size=3))
def test_a_batch_decides_like_one_quote_at_a_time(sse, rows):
    def px(v):
        return NO_PRICE if v < 0 else v
    phase = np.array([PHASE_CODE[r[4]] for r in rows])
    limit = np.array([LIMIT_CODE[r[5]] for r in rows])
    bids = np.array([px(r[0]) for r in rows])
    asks = np.array([px(r[2]) for r in rows])
    bid_qty = np.array([r[1] for r in rows])
    ask_qty = np.array([r[3] for r in rows])
    codes, _ = sse.check(phase, limit, bids, bid_qty, asks, ask_qty)
    for i, row in enumerate(rows):
        one = gate(quote(sse.instruments[i].instrument_id, None if row[0] < 0 else row[0],
                         row[1], None if row[2] < 0 else row[2], row[3]), sse,
                   Market(row[4], row[5]))
        assert rule_of(one) == codes[i]
