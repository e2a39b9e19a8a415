"""Events and commands: frozen, tagged msgspec Structs with integer-tick prices.

Every message carries `ts_event` (when it happened, on the exchange or the sender) and `ts_init`
(when this process created the value), in integer nanoseconds since the epoch. The unions at
the bottom are what the journal stores and the links carry; one encoder and one decoder serve
them all.
"""

from typing import Annotated

import msgspec

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

NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
Level = tuple[int, int]
"""One book level: (price in ticks, quantity)."""


class Message(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    ts_event: int
    ts_init: int


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The reach of a mass cancel or a kill: `value` names the contract, product, underlying
    or account; it is empty for `all`."""

    kind: ScopeKind
    value: str = ""

    def __str__(self) -> str:
        return self.kind.value if self.kind is ScopeKind.ALL else f"{self.kind}:{self.value}"

    def covers(self, instrument_id: str, product: str, underlying: str | None) -> bool:
        """Whether a contract is inside (an account scope covers all of the account's)."""
        match self.kind:
            case ScopeKind.CONTRACT:
                return instrument_id == self.value
            case ScopeKind.PRODUCT:
                return product == self.value
            case ScopeKind.UNDERLYING:
                return self.value in (underlying, instrument_id)
            case _:
                return True


# ---- commands: from a member to the exchange -------------------------------------------------


class Quote(Message, frozen=True, kw_only=True):
    """A market maker's two-sided quote on one contract (SSE style: a new one replaces the old).

    A side is absent when its price is None (its quantity is then 0). `rfq_id` marks a response
    to a request for quote.
    """

    quote_id: str
    instrument_id: str
    account: str
    bid_px_ticks: int | None
    bid_qty: NonNegInt
    ask_px_ticks: int | None
    ask_qty: NonNegInt
    rfq_id: str | None = None


class CancelQuote(Message, frozen=True, kw_only=True):
    """Withdraw the account's quote on one contract, both sides."""

    request_id: str
    instrument_id: str
    account: str


class MassCancel(Message, frozen=True, kw_only=True):
    """Cancel every quote and order of `account` inside `scope`."""

    request_id: str
    account: str
    scope: Scope
    include_orders: bool = True


class NewOrder(Message, frozen=True, kw_only=True):
    """A limit order (hedges and simulated takers)."""

    client_id: str
    instrument_id: str
    account: str
    side: Side
    px_ticks: int
    qty: PositiveInt
    tif: TimeInForce = TimeInForce.DAY


class CancelOrder(Message, frozen=True, kw_only=True):
    request_id: str
    client_id: str
    instrument_id: str
    account: str
    side: Side | None = None  # the order's (FIX's OrderCancelRequest requires it)


class RequestForQuote(Message, frozen=True, kw_only=True):
    """A client's request for quote (RFQ) on one contract, sent to the exchange."""

    rfq_id: str
    instrument_id: str
    account: str
    qty: PositiveInt
    side: Side | None = None


# ---- events: from the exchange ---------------------------------------------------------------


class MarketData(Message, frozen=True, kw_only=True):
    """A snapshot of one contract: phase, last trade, five levels a side, and in an auction the
    indicative price and quantity. `iopv_ticks` is an ETF's indicative NAV."""

    instrument_id: str
    seq: int
    phase: Phase
    limit_state: LimitState = LimitState.NONE
    last_px_ticks: int | None = None
    volume: NonNegInt = 0
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    indicative_px_ticks: int | None = None
    indicative_qty: NonNegInt = 0
    iopv_ticks: int | None = None


class QuoteStatus(Message, frozen=True, kw_only=True):
    """The exchange's word on a quote: accepted, rejected (with reason), cancelled, filled.
    The quantities are what remains live on each side."""

    quote_id: str
    instrument_id: str
    account: str
    status: QuoteStatusCode
    reason: str = ""
    bid_px_ticks: int | None = None
    bid_qty: NonNegInt = 0
    ask_px_ticks: int | None = None
    ask_qty: NonNegInt = 0
    rfq_id: str | None = None
    cancel_reason: CancelReason | None = None


class ExecutionReport(Message, frozen=True, kw_only=True):
    """An order's or a quote side's life event. `exec_id` is unique per exchange and day: a
    fill seen twice is the same fill. For a quote, `client_id` is the quote id."""

    exec_id: str
    order_id: str
    client_id: str
    instrument_id: str
    account: str
    side: Side
    exec_type: ExecType
    status: OrderStatus
    px_ticks: int
    qty: NonNegInt
    last_px_ticks: int = 0
    last_qty: NonNegInt = 0
    cum_qty: NonNegInt = 0
    leaves_qty: NonNegInt = 0
    is_quote: bool = False
    liquidity: Liquidity | None = None
    reason: str = ""
    cancel_reason: CancelReason | None = None


class MassCancelReport(Message, frozen=True, kw_only=True):
    """The outcome of a mass cancel: the quotes and orders it cancelled."""

    request_id: str
    account: str
    scope: Scope
    cancelled_quotes: tuple[str, ...] = ()
    cancelled_orders: tuple[str, ...] = ()
    reason: str = ""


class Rfq(Message, frozen=True, kw_only=True):
    """A request for quote as the exchange publishes it to market makers."""

    rfq_id: str
    instrument_id: str
    qty: PositiveInt
    side: Side | None = None
    deadline_ns: int


class PhaseChange(Message, frozen=True, kw_only=True):
    """The trading phase from now on: for a whole venue (`product` and `instrument_id` empty),
    a product, or one contract (its circuit-breaker auction)."""

    venue: Venue
    phase: Phase
    product: str = ""
    instrument_id: str = ""


class LimitStateChange(Message, frozen=True, kw_only=True):
    """A contract's last price reached (or left) a price limit."""

    instrument_id: str
    state: LimitState


class Halt(Message, frozen=True, kw_only=True):
    """Trading in a contract is halted (`halted`) or resumes."""

    instrument_id: str
    halted: bool
    reason: str = ""


class LinkStatus(Message, frozen=True, kw_only=True):
    """A link to an exchange came up, went down or failed, and why (`state` is a
    core.ports.LinkState value). Anything but `up` means: stop quoting on it."""

    link: str
    state: str
    reason: str = ""


class Reject(Message, frozen=True, kw_only=True):
    """A command the exchange could not read or accept, with the field and value at fault."""

    ref_id: str
    reason: str
    ref_type: str = ""  # the kind of command refused (Quote, NewOrder, ...), when known


class StatusRequest(Message, frozen=True, kw_only=True):
    """The status of every live quote and order of the account (a link asks it after a
    reconnect, before quoting again)."""

    request_id: str
    account: str


class StatusReport(Message, frozen=True, kw_only=True):
    """The exchange's answer to a StatusRequest: what of the account stands now."""

    request_id: str
    account: str
    live_quotes: tuple[str, ...] = ()
    live_orders: tuple[str, ...] = ()


Command = (Quote | CancelQuote | MassCancel | NewOrder | CancelOrder | RequestForQuote
           | StatusRequest)
Event = (
    MarketData
    | QuoteStatus
    | ExecutionReport
    | MassCancelReport
    | Rfq
    | PhaseChange
    | LimitStateChange
    | Halt
    | Reject
    | LinkStatus
    | StatusReport
)
AnyMessage = Command | Event

ENCODER = msgspec.msgpack.Encoder()
DECODER = msgspec.msgpack.Decoder(AnyMessage)
JSON_ENCODER = msgspec.json.Encoder()
JSON_DECODER = msgspec.json.Decoder(AnyMessage)
