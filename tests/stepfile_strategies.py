"""Hypothesis strategies for every domain message the STEP link carries."""

from decimal import Decimal

from hypothesis import strategies as st

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
    Venue,
)
from core.events import (
    CancelOrder,
    CancelQuote,
    ExecutionReport,
    Halt,
    LimitStateChange,
    MassCancel,
    MassCancelReport,
    NewOrder,
    PhaseChange,
    Quote,
    QuoteStatus,
    Reject,
    RequestForQuote,
    Rfq,
    Scope,
)

TICKS = {"10009001": Decimal("0.0001"), "830799": Decimal("0.01"), "SR701": Decimal("1"),
         "SR701C5400": Decimal("0.5")}

ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789-_",
              min_size=1, max_size=12)
texts = st.text(alphabet="abcdef XYZ:0123456789报价撤单成交拒绝价格超出涨跌停", max_size=30)
instruments = st.sampled_from(sorted(TICKS))
ts = st.integers(min_value=946_684_800 * 10**9, max_value=4_102_444_800 * 10**9)
px = st.integers(min_value=0, max_value=5_000_000)
opt_px = st.none() | px
qty = st.integers(min_value=0, max_value=1_000_000)
pos_qty = st.integers(min_value=1, max_value=1_000_000)
sides = st.sampled_from(list(Side))


def scopes():
    return st.one_of(
        st.builds(Scope, kind=st.just(ScopeKind.ALL)),
        st.builds(Scope, kind=st.sampled_from([ScopeKind.CONTRACT, ScopeKind.PRODUCT,
                                               ScopeKind.UNDERLYING, ScopeKind.ACCOUNT]),
                  value=ids),
    )


@st.composite
def quotes(draw):
    bid, ask = draw(opt_px), draw(opt_px)
    return Quote(ts_event=draw(ts), ts_init=draw(ts), quote_id=draw(ids),
                 instrument_id=draw(instruments), account=draw(ids), bid_px_ticks=bid,
                 bid_qty=draw(qty) if bid is not None else 0, ask_px_ticks=ask,
                 ask_qty=draw(qty) if ask is not None else 0, rfq_id=draw(st.none() | ids))


def _common():
    return {"ts_event": ts, "ts_init": ts}


messages = st.one_of(
    quotes(),
    st.builds(CancelQuote, request_id=ids, instrument_id=instruments, account=ids, **_common()),
    st.builds(MassCancel, request_id=ids, account=ids, scope=scopes(),
              include_orders=st.booleans(), **_common()),
    st.builds(NewOrder, client_id=ids, instrument_id=instruments, account=ids, side=sides,
              px_ticks=px, qty=pos_qty, tif=st.sampled_from(list(TimeInForce)), **_common()),
    st.builds(CancelOrder, request_id=ids, client_id=ids, instrument_id=instruments,
              account=ids, **_common()),
    st.builds(RequestForQuote, rfq_id=ids, instrument_id=instruments, account=ids, qty=pos_qty,
              side=st.none() | sides, **_common()),
    st.builds(Rfq, rfq_id=ids, instrument_id=instruments, qty=pos_qty, side=st.none() | sides,
              deadline_ns=ts, **_common()),
    st.builds(QuoteStatus, quote_id=ids, instrument_id=instruments, account=ids,
              status=st.sampled_from(list(QuoteStatusCode)), reason=texts,
              bid_px_ticks=opt_px, bid_qty=qty, ask_px_ticks=opt_px, ask_qty=qty,
              rfq_id=st.none() | ids,
              cancel_reason=st.none() | st.sampled_from(list(CancelReason)), **_common()),
    st.builds(ExecutionReport, exec_id=ids, order_id=ids, client_id=ids,
              instrument_id=instruments, account=ids, side=sides,
              exec_type=st.sampled_from(list(ExecType)),
              status=st.sampled_from(list(OrderStatus)), px_ticks=px, qty=qty,
              last_px_ticks=px, last_qty=qty, cum_qty=qty, leaves_qty=qty,
              is_quote=st.booleans(), liquidity=st.none() | st.sampled_from(list(Liquidity)),
              reason=texts, cancel_reason=st.none() | st.sampled_from(list(CancelReason)),
              **_common()),
    st.builds(MassCancelReport, request_id=ids, account=ids, scope=scopes(),
              cancelled_quotes=st.lists(ids, max_size=5).map(tuple),
              cancelled_orders=st.lists(ids, max_size=5).map(tuple), reason=texts,
              **_common()),
    st.builds(PhaseChange, venue=st.sampled_from(list(Venue)),
              phase=st.sampled_from(list(Phase)), product=st.just("") | ids,
              instrument_id=st.just("") | instruments, **_common()),
    st.builds(LimitStateChange, instrument_id=instruments,
              state=st.sampled_from(list(LimitState)), **_common()),
    st.builds(Halt, instrument_id=instruments, halted=st.booleans(), reason=texts, **_common()),
    st.builds(Reject, ref_id=ids, reason=texts.filter(bool), **_common()),
)
