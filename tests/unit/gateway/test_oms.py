"""The OMS: transition tables, fills counted once, unknown state and reconciliation."""

import pytest

from core.enums import CancelReason, ExecType, OrderStatus, QuoteStatusCode, Side
from core.events import ExecutionReport, QuoteStatus
from gateway.oms import TRANSITIONS, Input, InvalidTransition, Oms, State, step


def status(quote_id, code, *, contract="C1", reason=None):
    return QuoteStatus(ts_event=0, ts_init=0, quote_id=quote_id, instrument_id=contract,
                       account="MM", status=code, cancel_reason=reason)


def fill(client_id, exec_id, qty, *, quote=True, side=Side.BUY, leaves=0, contract="C1"):
    return ExecutionReport(ts_event=0, ts_init=0, exec_id=exec_id, order_id="o",
                           client_id=client_id, instrument_id=contract, account="MM",
                           side=side, exec_type=ExecType.TRADE,
                           status=OrderStatus.PARTIALLY_FILLED, px_ticks=100, qty=10,
                           last_px_ticks=100, last_qty=qty, leaves_qty=leaves, is_quote=quote)


def test_a_quote_is_accepted_replaced_and_cancelled():
    oms = Oms()
    oms.quote_sent("q1", "C1")
    oms.on_quote_status(status("q1", QuoteStatusCode.ACCEPTED))
    assert oms.quotes["q1"].state is State.LIVE
    oms.quote_sent("q2", "C1")
    assert oms.quotes["q1"].state is State.PENDING_REPLACE
    oms.on_quote_status(status("q1", QuoteStatusCode.CANCELLED, reason=CancelReason.REPLACED))
    oms.on_quote_status(status("q2", QuoteStatusCode.ACCEPTED))
    assert (oms.quotes["q1"].state, oms.quotes["q2"].state) == (State.CANCELLED, State.LIVE)
    oms.cancel_sent("C1")
    assert oms.quotes["q2"].state is State.PENDING_CANCEL
    oms.on_quote_status(status("q2", QuoteStatusCode.CANCELLED))
    assert oms.quotes["q2"].state is State.CANCELLED


def test_an_invalid_transition_names_both_states():
    with pytest.raises(InvalidTransition, match="q1: no transition from filled on accepted"):
        step("q1", State.FILLED, Input.ACCEPTED)
    assert all(isinstance(k[0], State) and isinstance(v, State)
               for k, v in TRANSITIONS.items())


def test_a_fill_is_counted_once_whatever_delivers_it_again():
    oms = Oms()
    oms.quote_sent("q1", "C1")
    oms.on_quote_status(status("q1", QuoteStatusCode.ACCEPTED))
    assert oms.on_execution(fill("q1", "X1", 4))
    assert not oms.on_execution(fill("q1", "X1", 4))  # a replay after a restart
    assert oms.positions == {"C1": 4} and oms.duplicates == 1
    assert oms.quotes["q1"].state is State.PARTIALLY_FILLED and oms.quotes["q1"].filled == 4


def test_orders_follow_their_reports():
    oms = Oms()
    oms.order_sent("h1", "C1")
    new = ExecutionReport(ts_event=0, ts_init=0, exec_id="X0", order_id="o", client_id="h1",
                          instrument_id="C1", account="MM", side=Side.SELL,
                          exec_type=ExecType.NEW, status=OrderStatus.NEW, px_ticks=100, qty=10)
    oms.on_execution(new)
    oms.on_execution(fill("h1", "X1", 6, quote=False, side=Side.SELL, leaves=4))
    assert oms.orders["h1"].state is State.PARTIALLY_FILLED
    oms.on_execution(fill("h1", "X2", 4, quote=False, side=Side.SELL, leaves=0))
    assert oms.orders["h1"].state is State.FILLED and oms.positions == {"C1": -10}
    with pytest.raises(InvalidTransition):
        oms.order_sent("h1", "C1")  # a duplicate client id


def test_a_lost_link_makes_pending_unknown_and_reconcile_settles_it():
    oms = Oms()
    oms.quote_sent("q1", "C1")
    oms.on_quote_status(status("q1", QuoteStatusCode.ACCEPTED))
    oms.quote_sent("q2", "C2")  # sent, never acknowledged
    oms.quote_sent("q3", "C3")
    oms.link_lost()
    assert oms.unknown == ["q2", "q3"] and oms.quotes["q1"].state is State.LIVE
    changed = oms.reconcile({"q1", "q2"})  # the exchange has q1 and q2, not q3
    assert sorted(changed) == ["q2", "q3"]
    states = {k: t.state for k, t in oms.quotes.items()}
    assert states == {"q1": State.LIVE, "q2": State.LIVE, "q3": State.CANCELLED}
    assert oms.unknown == []


def test_the_exchange_confirming_a_cancel_reconcile_already_found_is_no_contradiction():
    oms = Oms()
    oms.quote_sent("q1", "C1")
    oms.link_lost()
    oms.reconcile(set())  # not at the exchange: gone
    assert oms.quotes["q1"].state is State.CANCELLED
    oms.on_quote_status(status("q1", QuoteStatusCode.CANCELLED,
                               reason=CancelReason.MASS_CANCEL))
    assert oms.quotes["q1"].state is State.CANCELLED
    with pytest.raises(InvalidTransition, match="q1: no transition from cancelled on accepted"):
        oms.on_quote_status(status("q1", QuoteStatusCode.ACCEPTED))


def test_a_quote_an_earlier_run_sent_is_adopted_from_the_exchange():
    oms = Oms()
    oms.on_quote_status(status("old.7", QuoteStatusCode.ACCEPTED))
    assert oms.quotes["old.7"].state is State.LIVE


def test_what_the_exchange_says_of_an_unknown_quote_settles_it():
    """After a lost link, a resent status can come before the reconciliation."""
    from core.enums import QuoteStatusCode  # noqa: PLC0415
    from core.events import QuoteStatus  # noqa: PLC0415

    oms = Oms()
    for key, status in (("q1", QuoteStatusCode.CANCELLED), ("q2", QuoteStatusCode.REJECTED),
                        ("q3", QuoteStatusCode.FILLED)):
        oms.quote_sent(key, f"C{key}")
        oms.link_lost()
        oms.on_quote_status(QuoteStatus(ts_event=1, ts_init=1, quote_id=key,
                                        instrument_id=f"C{key}", account="MM01",
                                        status=status))
    assert [oms.quotes[k].state for k in ("q1", "q2", "q3")] == [
        State.CANCELLED, State.REJECTED, State.FILLED]
    assert oms.unknown == []
