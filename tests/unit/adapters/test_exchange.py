"""The simulated exchange: matching, quotes, limits, circuit breakers, auctions, mass cancel,
RFQs, held orders, the close, cancel-on-disconnect, drop copy and halts."""

import pytest

from core.clock import NS_PER_S
from core.enums import (
    CancelReason,
    ExecType,
    LimitState,
    Liquidity,
    OrderStatus,
    Phase,
    QuoteStatusCode,
    ScopeKind,
    Side,
    TimeInForce,
)
from core.events import (
    CancelOrder,
    CancelQuote,
    ExecutionReport,
    Halt,
    LimitStateChange,
    MarketData,
    MassCancel,
    MassCancelReport,
    PhaseChange,
    QuoteStatus,
    Reject,
    RequestForQuote,
    Rfq,
    Scope,
)
from tests.simkit import (
    T0,
    Recorder,
    make_exchange,
    open_continuous,
    option,
    order,
    quote,
    stock,
)


def setup(*instruments, **kwargs):
    ex, clock = make_exchange(*instruments, **kwargs)
    mm, taker, public = Recorder(), Recorder(), Recorder()
    ex.connect("mm", mm, public=False)
    ex.connect("taker", taker, public=False)
    ex.connect("public", public, public=True)
    return ex, clock, mm, taker, public


def fills(recorder):
    return [e for e in recorder.of(ExecutionReport) if e.exec_type is ExecType.TRADE]


def test_price_time_priority_in_continuous_trading():
    ex, _, mm, taker, _ = setup(stock("830799"))
    open_continuous(ex)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100, client_id="first"))
    ex.submit("mm", order("830799", "A2", Side.SELL, 2510, 100, client_id="second"))
    ex.submit("mm", order("830799", "A3", Side.SELL, 2505, 100, client_id="better"))
    ex.submit("taker", order("830799", "T1", Side.BUY, 2510, 250))
    maker_fills = [(f.client_id, f.last_px_ticks, f.last_qty) for f in fills(mm)]
    assert maker_fills == [("better", 2505, 100), ("first", 2510, 100), ("second", 2510, 50)]
    taker_fills = fills(taker)
    assert [f.liquidity for f in taker_fills] == [Liquidity.TAKER] * 3
    assert taker_fills[-1].status is OrderStatus.FILLED and taker_fills[-1].cum_qty == 250
    assert ex.best("830799") == (None, 2510)


def test_ioc_remainder_is_cancelled_and_day_order_rests():
    ex, _, _, taker, _ = setup(stock("830799"))
    open_continuous(ex)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100))
    ex.submit("taker", order("830799", "T1", Side.BUY, 2510, 300, tif=TimeInForce.IOC))
    last = taker.of(ExecutionReport)[-1]
    assert (last.exec_type, last.cancel_reason, last.cum_qty) == (
        ExecType.CANCELLED, CancelReason.IOC, 100)
    ex.submit("taker", order("830799", "T1", Side.BUY, 2500, 300))
    assert ex.best("830799") == (2500, None)


def test_a_new_quote_replaces_the_old_one():
    ex, _, mm, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 110, 10, quote_id="q1"))
    ex.submit("mm", quote("90000001", "MM", 101, 10, 109, 10, quote_id="q2"))
    statuses = [(s.quote_id, s.status, s.cancel_reason) for s in mm.of(QuoteStatus)]
    assert statuses == [("q1", QuoteStatusCode.ACCEPTED, None),
                        ("q1", QuoteStatusCode.CANCELLED, CancelReason.REPLACED),
                        ("q2", QuoteStatusCode.ACCEPTED, None)]
    assert ex.best("90000001") == (101, 109)
    assert len(ex.live_quotes("MM")) == 1


@pytest.mark.parametrize(("bid", "ask", "reason"), [
    (110, 110, "quote: crossed"),
    (None, None, "quote: neither side"),
    (100, 1001, "ask_px"),  # above the limit-up of 1000
    (0, 110, "bid_px"),
])
def test_bad_quotes_are_rejected_and_keep_the_old_quote(bid, ask, reason):
    ex, _, mm, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 120, 10, quote_id="good"))
    ex.submit("mm", quote("90000001", "MM", bid, 10, ask, 10, quote_id="bad"))
    rejected = mm.of(QuoteStatus)[-1]
    assert rejected.quote_id == "bad" and rejected.status is QuoteStatusCode.REJECTED
    assert rejected.reason.startswith(reason)
    assert ex.best("90000001") == (100, 120)


def test_orders_outside_price_limits_are_rejected_naming_the_price():
    ex, _, _, taker, _ = setup(stock("830799", prev=2500, up=3250, down=1750))
    open_continuous(ex)
    ex.submit("taker", order("830799", "T1", Side.BUY, 3251, 100))
    ex.submit("taker", order("830799", "T1", Side.SELL, 1749, 100))
    ex.submit("taker", order("830799", "T1", Side.BUY, 3250, 100))
    reports = taker.of(ExecutionReport)
    assert [r.status for r in reports] == [OrderStatus.REJECTED, OrderStatus.REJECTED,
                                           OrderStatus.NEW]
    assert "32.51" in reports[0].reason and "17.49" in reports[1].reason


def test_a_trade_at_the_limit_sets_the_limit_state_and_leaving_it_clears_it():
    ex, _, _, _, public = setup(stock("830799", prev=2500, up=3250, down=1750))
    open_continuous(ex)
    ex.submit("mm", order("830799", "A1", Side.SELL, 3250, 200))
    ex.submit("taker", order("830799", "T1", Side.BUY, 3250, 100))
    ex.submit("mm", order("830799", "A2", Side.BUY, 3000, 100))
    ex.submit("taker", order("830799", "T1", Side.SELL, 3000, 100))
    states = [e.state for e in public.of(LimitStateChange)]
    assert states == [LimitState.UP, LimitState.NONE]


def test_self_trade_prevention_cancels_the_incoming_order():
    ex, _, mm, _, _ = setup(stock("830799"))
    open_continuous(ex)
    ex.submit("mm", order("830799", "MM", Side.SELL, 2510, 100))
    ex.submit("mm", order("830799", "MM", Side.BUY, 2510, 100, client_id="hedge"))
    last = mm.of(ExecutionReport)[-1]
    assert (last.client_id, last.status, last.cancel_reason) == (
        "hedge", OrderStatus.CANCELLED, CancelReason.SELF_TRADE)
    assert not fills(mm)
    assert ex.best("830799") == (None, 2510)


def test_self_trade_prevention_can_cancel_the_resting_order_instead():
    ex, _, mm, _, _ = setup(stock("830799"), self_trade="cancel_resting")
    open_continuous(ex)
    ex.submit("mm", order("830799", "MM", Side.SELL, 2510, 100, client_id="resting"))
    ex.submit("mm", order("830799", "MM", Side.BUY, 2510, 100, client_id="incoming"))
    cancelled = [r.client_id for r in mm.of(ExecutionReport)
                 if r.exec_type is ExecType.CANCELLED]
    assert cancelled == ["resting"]
    assert ex.best("830799") == (2510, None)


def test_a_quote_that_crosses_trades_as_a_taker_and_reports_its_fills():
    ex, _, mm, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("taker", order("90000001", "T1", Side.SELL, 100, 5))
    ex.submit("mm", quote("90000001", "MM", 102, 10, 110, 10, quote_id="q1"))
    quote_fill = fills(mm)[0]
    assert (quote_fill.client_id, quote_fill.is_quote, quote_fill.last_px_ticks,
            quote_fill.last_qty, quote_fill.liquidity) == ("q1", True, 100, 5, Liquidity.TAKER)
    assert ex.best("90000001") == (102, 110)
    assert ex.contracts["90000001"].book.bids.levels() == ((102, 5),)


def test_a_quote_filled_on_both_sides_is_reported_filled():
    ex, _, mm, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 110, 10, quote_id="q1"))
    ex.submit("taker", order("90000001", "T1", Side.SELL, 100, 10))
    ex.submit("taker", order("90000001", "T2", Side.BUY, 110, 10))
    assert mm.of(QuoteStatus)[-1].status is QuoteStatusCode.FILLED
    assert ex.live_quotes("MM") == []


def test_circuit_breaker_sends_the_contract_into_a_three_minute_auction():
    ex, clock, _, taker, public = setup(option("90000001", prev=100), circuit_breaker=True)
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 140, 10, 150, 10))
    # 150 is 50 ticks (50%) above the reference 100: the trade does not happen
    ex.submit("taker", order("90000001", "T1", Side.BUY, 150, 10))
    assert not fills(taker)
    changes = public.of(PhaseChange)
    assert changes[-1].instrument_id == "90000001"
    assert changes[-1].phase is Phase.CIRCUIT_BREAKER_AUCTION
    assert ex.contracts["90000001"].phase is Phase.CIRCUIT_BREAKER_AUCTION
    clock.advance_to(T0 + 179 * NS_PER_S)
    assert ex.contracts["90000001"].phase is Phase.CIRCUIT_BREAKER_AUCTION
    clock.advance_to(T0 + 180 * NS_PER_S)
    # the auction uncrossed the resting buy at 150 with the quote's ask
    assert [(f.last_px_ticks, f.liquidity) for f in fills(taker)] == [(150, Liquidity.AUCTION)]
    assert ex.contracts["90000001"].phase is Phase.CONTINUOUS
    assert ex.contracts["90000001"].reference_px == 150


def test_a_move_under_five_ticks_never_breaks_the_circuit():
    ex, _, _, taker, _ = setup(option("90000001", prev=6), circuit_breaker=True)
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 5, 10, 10, 10))
    ex.submit("taker", order("90000001", "T1", Side.BUY, 10, 1))  # +4 ticks, +67%
    assert fills(taker)[0].last_px_ticks == 10
    ex.submit("mm", quote("90000001", "MM", 5, 10, 11, 10))
    ex.submit("taker", order("90000001", "T1", Side.BUY, 11, 1))  # +5 ticks, +83%: breaks
    assert ex.contracts["90000001"].phase is Phase.CIRCUIT_BREAKER_AUCTION


def test_opening_auction_uncrosses_at_one_price_and_publishes_the_indicative_price():
    ex, _, mm, taker, public = setup(stock("830799", prev=2500))
    ex.set_phase("830799", Phase.OPENING_AUCTION)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2490, 300))
    ex.submit("taker", order("830799", "T1", Side.BUY, 2520, 200))
    ex.submit("taker", order("830799", "T2", Side.BUY, 2500, 200))
    ex.flush()
    snapshot = public.of(MarketData)[-1]
    # at 2490: 400 vs 300 -> 300; at 2500: 400 vs 300 -> 300; at 2520: 200 vs 300 -> 200.
    # 300 at 2490 and 2500, imbalance 100 both: nearest the previous close 2500
    assert (snapshot.indicative_px_ticks, snapshot.indicative_qty) == (2500, 300)
    assert not fills(taker)
    ex.set_phase("830799", Phase.PRE_OPEN)
    assert [(f.client_id, f.last_px_ticks, f.last_qty) for f in fills(mm)] == [
        (mm.of(ExecutionReport)[0].client_id, 2500, 200),
        (mm.of(ExecutionReport)[0].client_id, 2500, 100)]
    assert {f.liquidity for f in fills(taker)} == {Liquidity.AUCTION}
    assert ex.best("830799") == (2500, None)
    assert not ex.contracts["830799"].book.is_crossed()


def test_orders_in_pre_open_are_held_until_continuous_trading():
    ex, _, mm, taker, _ = setup(stock("830799"))
    ex.set_phase("830799", Phase.OPENING_AUCTION)
    ex.set_phase("830799", Phase.PRE_OPEN)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100))
    ex.submit("taker", order("830799", "T1", Side.BUY, 2510, 100))
    assert mm.of(ExecutionReport) == [] and ex.best("830799") == (None, None)
    ex.set_phase("830799", Phase.CONTINUOUS)
    assert [f.last_qty for f in fills(taker)] == [100]


def test_mass_cancel_withdraws_what_is_held_for_continuous_trading():
    ex, _, mm, _, _ = setup(stock("830799"))
    ex.set_phase("830799", Phase.PRE_OPEN)
    ex.submit("mm", quote("830799", "MM", 2400, 1000, 2600, 1000, quote_id="held-q"))
    ex.submit("mm", order("830799", "MM", Side.BUY, 2400, 100, client_id="held-o"))
    ex.submit("mm", order("830799", "OTHER", Side.BUY, 2400, 100, client_id="other"))
    ex.submit("mm", MassCancel(ts_event=T0, ts_init=T0, request_id="m", account="MM",
                               scope=Scope(kind=ScopeKind.ALL)))
    assert [r.ref_id for r in mm.of(Reject)] == ["held-q", "held-o"]
    ex.set_phase("830799", Phase.CONTINUOUS)
    assert ex.live_quotes("MM") == [] and ex.live_orders("MM") == []
    assert [e.client_id for e in ex.live_orders("OTHER")] == ["other"]


def test_closed_market_rejects_and_the_close_expires_everything():
    ex, _, mm, _, _ = setup(stock("830799"))
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100))
    assert mm.of(ExecutionReport)[-1].status is OrderStatus.REJECTED
    open_continuous(ex)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100))
    ex.submit("mm", quote("830799", "MM", 2400, 1000, 2600, 1000))
    ex.set_phase("830799", Phase.CLOSING_AUCTION)
    ex.set_phase("830799", Phase.CLOSED)
    assert mm.of(ExecutionReport)[-1].cancel_reason is CancelReason.CLOSE
    assert mm.of(QuoteStatus)[-1].cancel_reason is CancelReason.CLOSE
    assert ex.live_orders() == [] and ex.live_quotes() == []


def _three_products():
    return setup(option("50C1", "510050"), option("50P1", "510050", cp="put"),
                 option("300C1", "510300"), stock("830799"))


@pytest.mark.parametrize(("scope", "expected"), [
    (Scope(kind=ScopeKind.CONTRACT, value="50C1"), {"50C1"}),
    (Scope(kind=ScopeKind.PRODUCT, value="510050"), {"50C1", "50P1"}),
    (Scope(kind=ScopeKind.UNDERLYING, value="510300"), {"300C1"}),
    (Scope(kind=ScopeKind.ACCOUNT, value="MM"), {"50C1", "50P1", "300C1", "830799"}),
    (Scope(kind=ScopeKind.ALL), {"50C1", "50P1", "300C1", "830799"}),
])
def test_mass_cancel_reaches_exactly_its_scope(scope, expected):
    ex, _, mm, _, _ = _three_products()
    open_continuous(ex)
    for iid in ("50C1", "50P1", "300C1"):
        ex.submit("mm", quote(iid, "MM", 100, 10, 110, 10, quote_id=f"q-{iid}"))
        ex.submit("mm", quote(iid, "OTHER", 90, 10, 120, 10))
    ex.submit("mm", order("830799", "MM", Side.BUY, 2400, 100, client_id="o-830799"))
    mm.clear()
    ex.submit("mm", MassCancel(ts_event=T0, ts_init=T0, request_id="m1", account="MM",
                               scope=scope))
    report = mm.of(MassCancelReport)[0]
    cancelled = {q.removeprefix("q-") for q in report.cancelled_quotes} | {
        o.removeprefix("o-") for o in report.cancelled_orders}
    assert cancelled == expected
    # a status for every cancelled quote, and the other account untouched
    statuses = {s.quote_id for s in mm.of(QuoteStatus)
                if s.cancel_reason is CancelReason.MASS_CANCEL}
    assert statuses == set(report.cancelled_quotes)
    assert len(ex.live_quotes("OTHER")) == 3
    remaining = {q.contract.inst.instrument_id for q in ex.live_quotes("MM")}
    assert remaining.isdisjoint(expected)


def test_mass_cancel_of_another_account_or_an_unknown_scope_is_rejected():
    ex, _, mm, _, _ = _three_products()
    open_continuous(ex)
    ex.submit("mm", MassCancel(ts_event=T0, ts_init=T0, request_id="m1", account="MM",
                               scope=Scope(kind=ScopeKind.ACCOUNT, value="OTHER")))
    ex.submit("mm", MassCancel(ts_event=T0, ts_init=T0, request_id="m2", account="MM",
                               scope=Scope(kind=ScopeKind.PRODUCT, value="nope")))
    rejects = mm.of(Reject)
    assert [(r.ref_id, r.reason.split(":")[0]) for r in rejects] == [("m1", "scope"),
                                                                      ("m2", "scope")]


def test_rfq_is_published_answered_and_taken():
    ex, clock, mm, _, public = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("taker", RequestForQuote(ts_event=T0, ts_init=T0, rfq_id="R1",
                                       instrument_id="90000001", account="C1", qty=5))
    rfq = public.of(Rfq)[0]
    assert rfq.deadline_ns == T0 + 15 * NS_PER_S
    clock.advance_to(T0 + 3 * NS_PER_S)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 105, 10, quote_id="resp", rfq_id="R1"))
    assert mm.of(QuoteStatus)[-1].rfq_id == "R1"
    ex.submit("taker", order("90000001", "C1", Side.BUY, 105, 5, tif=TimeInForce.IOC))
    assert fills(mm)[0].client_id == "resp"
    assert ex.rfq_summary() == {"requests": 1, "answered": 1, "answered_in_time": 1}


def test_rfq_outside_continuous_and_response_to_unknown_rfq_are_rejected():
    ex, _, mm, taker, _ = setup(option("90000001"))
    ex.set_phase("510050", Phase.OPENING_AUCTION)
    ex.submit("taker", RequestForQuote(ts_event=T0, ts_init=T0, rfq_id="R1",
                                       instrument_id="90000001", account="C1", qty=5))
    assert taker.of(Reject)[0].reason.startswith("phase")
    ex.submit("mm", quote("90000001", "MM", 100, 10, 105, 10, rfq_id="R9"))
    assert mm.of(QuoteStatus)[-1].reason == "rfq_id: unknown 'R9'"


def test_cancel_on_disconnect_cancels_only_that_sessions_quotes():
    ex, _, _, _, _ = setup(option("90000001"), option("90000002"))
    ex.connect("cod", Recorder(), public=False, cancel_on_disconnect=True)
    open_continuous(ex)
    ex.submit("cod", quote("90000001", "MM", 100, 10, 110, 10))
    ex.submit("cod", order("90000002", "MM", Side.BUY, 90, 10))
    ex.submit("mm", quote("90000002", "MM", 100, 10, 110, 10))
    ex.disconnect("cod")
    assert ex.live_orders() == []
    assert [q.contract.inst.instrument_id for q in ex.live_quotes()] == ["90000002"]
    with pytest.raises(ValueError, match="not connected"):
        ex.submit("cod", quote("90000001", "MM", 100, 10, 110, 10))


def test_without_cancel_on_disconnect_quotes_stay():
    ex, _, _, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 110, 10))
    ex.disconnect("mm")
    assert len(ex.live_quotes()) == 1


def test_drop_copy_receives_every_fill_of_its_accounts():
    ex, _, _, _, _ = setup(option("90000001"))
    copy = Recorder()
    ex.add_drop_copy(copy, frozenset({"MM"}))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 110, 10))
    ex.submit("taker", order("90000001", "T1", Side.SELL, 100, 4))
    ex.submit("taker", order("90000001", "T1", Side.BUY, 110, 3))
    assert [(r.account, r.side, r.last_qty) for r in copy.events] == [
        ("MM", Side.BUY, 4), ("MM", Side.SELL, 3)]


def test_a_halted_contract_refuses_orders_and_keeps_its_book():
    ex, _, mm, _, public = setup(stock("830799"))
    open_continuous(ex)
    ex.submit("mm", order("830799", "A1", Side.SELL, 2510, 100, client_id="resting"))
    ex.halt("830799", "news")
    ex.submit("mm", order("830799", "A1", Side.BUY, 2510, 100))
    assert mm.of(ExecutionReport)[-1].status is OrderStatus.REJECTED
    ex.submit("mm", CancelOrder(ts_event=T0, ts_init=T0, request_id="c", client_id="resting",
                                instrument_id="830799", account="A1"))
    assert mm.of(ExecutionReport)[-1].status is OrderStatus.CANCELLED
    ex.resume("830799")
    assert [h.halted for h in public.of(Halt)] == [True, False]


def test_cancel_quote_and_unknown_instrument():
    ex, _, mm, _, _ = setup(option("90000001"))
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 100, 10, 110, 10, quote_id="q1"))
    ex.submit("mm", CancelQuote(ts_event=T0, ts_init=T0, request_id="c1",
                                instrument_id="90000001", account="MM"))
    assert mm.of(QuoteStatus)[-1].status is QuoteStatusCode.CANCELLED
    ex.submit("mm", CancelQuote(ts_event=T0, ts_init=T0, request_id="c2",
                                instrument_id="90000001", account="MM"))
    ex.submit("mm", quote("NOPE", "MM", 100, 10, 110, 10))
    assert [r.reason for r in mm.of(Reject)] == ["no live quote on this contract",
                                                  "instrument_id: unknown 'NOPE'"]


def test_a_scope_covers_what_its_kind_names():
    option = ("10009001", "510050", "510050")
    assert Scope(kind=ScopeKind.UNDERLYING, value="510050").covers(*option)
    assert Scope(kind=ScopeKind.UNDERLYING, value="510050").covers("510050", "510050_ETF", None)
    assert not Scope(kind=ScopeKind.PRODUCT, value="510300").covers(*option)
    assert Scope(kind=ScopeKind.CONTRACT, value="10009001").covers(*option)
    assert not Scope(kind=ScopeKind.CONTRACT, value="10009002").covers(*option)
    assert Scope(kind=ScopeKind.ALL).covers(*option)


def test_a_circuit_breaker_running_into_the_closing_auction_ends_and_says_so():
    """The contract follows its product into the closing auction, and everyone hears that its
    own phase is over (a contract phase of `continuous`), or the closing auction's coverage
    would count it as absent."""
    ex, clock, _, taker, public = setup(option("90000001", prev=100), circuit_breaker=True)
    open_continuous(ex)
    ex.submit("mm", quote("90000001", "MM", 140, 10, 150, 10))
    ex.submit("taker", order("90000001", "T1", Side.BUY, 150, 10))
    assert ex.contracts["90000001"].phase is Phase.CIRCUIT_BREAKER_AUCTION
    clock.advance_to(T0 + 60 * NS_PER_S)
    public.clear()
    ex.set_phase(ex.contracts["90000001"].product.product_id, Phase.CLOSING_AUCTION)
    changes = [(c.instrument_id, c.phase) for c in public.of(PhaseChange)]
    assert changes == [("90000001", Phase.CONTINUOUS), ("", Phase.CLOSING_AUCTION)]
    assert ex.contracts["90000001"].phase is Phase.CLOSING_AUCTION
    assert [(f.last_px_ticks, f.liquidity) for f in fills(taker)] == [(150, Liquidity.AUCTION)]
    clock.advance_to(T0 + 180 * NS_PER_S)  # the breaker's own end no longer comes
    assert [(c.instrument_id, c.phase) for c in public.of(PhaseChange)] == changes
