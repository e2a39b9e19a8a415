"""Invariants of matching and auctions, for any sequence of commands Hypothesis can find."""

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sim.auction import uncross
from core.enums import ExecType, Phase, QuoteStatusCode, ScopeKind, Side, TimeInForce
from core.events import CancelOrder, ExecutionReport, MassCancel, QuoteStatus, Scope
from tests.simkit import T0, Recorder, make_exchange, order, quote, stock

UP, DOWN = 120, 80
ACCOUNTS = ("A", "B", "C")

prices = st.integers(min_value=DOWN - 5, max_value=UP + 5)
sizes = st.integers(min_value=100, max_value=600)
orders = st.builds(
    lambda acct, side, px, qty, ioc: ("order", acct, side, px, qty, ioc),
    st.sampled_from(ACCOUNTS), st.sampled_from(list(Side)), prices, sizes, st.booleans())
quotes = st.builds(
    lambda acct, bid, spread, qb, qa: ("quote", acct, bid, bid + spread, qb, qa),
    st.sampled_from(ACCOUNTS), prices, st.integers(min_value=-2, max_value=6), sizes, sizes)
cancels = st.builds(lambda acct, n: ("cancel", acct, n), st.sampled_from(ACCOUNTS),
                    st.integers(min_value=0, max_value=30))
mass = st.builds(lambda acct: ("mass", acct), st.sampled_from(ACCOUNTS))
phases = st.sampled_from([("phase", Phase.OPENING_AUCTION), ("phase", Phase.CONTINUOUS),
                          ("phase", Phase.CLOSING_AUCTION)])
commands = st.lists(st.one_of(orders, orders, quotes, quotes, cancels, mass, phases),
                    min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(commands)
def test_matching_invariants(script):
    ex, _ = make_exchange(stock("S", prev=100, up=UP, down=DOWN))
    sink = Recorder()
    ex.connect("s", sink, public=False)
    ex.set_phase("S", Phase.CONTINUOUS)
    sent = 0
    for step in script:
        kind = step[0]
        if kind == "order":
            _, acct, side, px, qty, ioc = step
            sent += 1
            ex.submit("s", order("S", acct, side, px, qty, client_id=f"o{sent}",
                                 tif=TimeInForce.IOC if ioc else TimeInForce.DAY))
        elif kind == "quote":
            _, acct, bid, ask, qb, qa = step
            ex.submit("s", quote("S", acct, bid, qb, ask, qa))
        elif kind == "cancel":
            _, acct, n = step
            ex.submit("s", CancelOrder(ts_event=T0, ts_init=T0, request_id="c",
                                       client_id=f"o{n}", instrument_id="S", account=acct))
        elif kind == "mass":
            ex.submit("s", MassCancel(ts_event=T0, ts_init=T0, request_id="m", account=step[1],
                                      scope=Scope(kind=ScopeKind.ALL)))
        else:
            ex.set_phase("S", step[1])
        contract = ex.contracts["S"]
        if contract.phase is Phase.CONTINUOUS:
            assert not contract.book.is_crossed(), "the book stayed crossed after matching"

    reports = sink.of(ExecutionReport)
    trades = [r for r in reports if r.exec_type is ExecType.TRADE]
    # no fill outside the price limits
    assert all(DOWN <= r.last_px_ticks <= UP for r in trades)
    # every trade has two sides of equal size
    bought = sum(r.last_qty for r in trades if r.side is Side.BUY)
    sold = sum(r.last_qty for r in trades if r.side is Side.SELL)
    assert bought == sold
    # quantity is conserved per order: filled + still resting <= sent, and == when not cancelled
    filled = defaultdict(int)
    for r in trades:
        filled[r.order_id] += r.last_qty
    cancelled = {r.order_id for r in reports if r.exec_type is ExecType.CANCELLED}
    # a quote's sides leave the book with the quote's own status (replaced, cancelled)
    gone_quotes = {s.quote_id for s in sink.of(QuoteStatus)
                   if s.status is QuoteStatusCode.CANCELLED}
    cancelled |= {r.order_id for r in reports if r.is_quote and r.client_id in gone_quotes}
    resting = {e.order_id: e.qty for side in (ex.contracts["S"].book.bids,
                                               ex.contracts["S"].book.asks)
               for e in side.entries()}
    originals = {r.order_id: r.qty for r in reports}
    for order_id, original in originals.items():
        total = filled[order_id] + resting.get(order_id, 0)
        if order_id in cancelled:
            assert total <= original
        elif any(r.order_id == order_id and r.exec_type is ExecType.REJECTED for r in reports):
            assert total == 0
        else:
            assert total == original, order_id
    # the book's level totals are the sum of its live entries
    for side in (ex.contracts["S"].book.bids, ex.contracts["S"].book.asks):
        assert side.total_qty() == sum(e.qty for e in side.entries())


levels = st.lists(st.tuples(st.integers(min_value=1, max_value=40),
                            st.integers(min_value=1, max_value=50)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(levels, levels, st.sampled_from(["nearest_reference", "midpoint"]),
       st.integers(min_value=1, max_value=40))
def test_uncross_maximises_volume_and_leaves_no_cross(bids, asks, tie_break, ref):
    result = uncross(bids, asks, tie_break=tie_break, reference_px_ticks=ref)

    def volume_at(px):
        return min(sum(q for p, q in bids if p >= px), sum(q for p, q in asks if p <= px))

    best = max((volume_at(px) for px in range(1, 41)), default=0)
    if result is None:
        assert best == 0
        return
    assert result.qty == best == volume_at(result.px_ticks)
    # what an auction at that price leaves behind is not crossed
    left_bids = sorted(((p, q) for p, q in bids), key=lambda x: -x[0])
    left_asks = sorted(((p, q) for p, q in asks), key=lambda x: x[0])
    remaining = result.qty
    for book in (left_bids, left_asks):
        remaining = result.qty
        for i, (p, q) in enumerate(book):
            if (book is left_bids and p < result.px_ticks) or (
                    book is left_asks and p > result.px_ticks):
                break
            take = min(q, remaining)
            book[i] = (p, q - take)
            remaining -= take
    top_bid = max((p for p, q in left_bids if q > 0), default=None)
    top_ask = min((p for p, q in left_asks if q > 0), default=None)
    assert top_bid is None or top_ask is None or top_bid < top_ask
