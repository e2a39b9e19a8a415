"""Quote and order lifecycles as transition tables, and the OMS that follows them.

Every quote and order is in one state; only the transitions in the table exist, and any other
raises InvalidTransition naming both the state and the event. A lost link puts everything
still pending in UNKNOWN (the gateway stops quoting until it has reconciled); a reconcile with
the exchange's view settles every UNKNOWN and pending state. A fill is counted once, by its
exec id, however often the exchange or a restart delivers it.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from core.enums import ExecType, QuoteStatusCode, Side
from core.events import ExecutionReport, QuoteStatus


class State(StrEnum):
    PENDING_NEW = "pending_new"
    LIVE = "live"
    PENDING_REPLACE = "pending_replace"
    PENDING_CANCEL = "pending_cancel"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class Input(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REPLACE_SENT = "replace_sent"
    REPLACED = "replaced"
    CANCEL_SENT = "cancel_sent"
    CANCELLED = "cancelled"
    PARTIAL_FILL = "partial_fill"
    FULL_FILL = "full_fill"
    LINK_LOST = "link_lost"
    FOUND_LIVE = "found_live"
    FOUND_GONE = "found_gone"


S, I = State, Input  # noqa: E741 (the table reads as states and inputs)
_OPEN = (S.LIVE, S.PARTIALLY_FILLED)
TRANSITIONS: dict[tuple[State, Input], State] = {
    (S.PENDING_NEW, I.ACCEPTED): S.LIVE,
    (S.PENDING_NEW, I.REJECTED): S.REJECTED,
    (S.PENDING_NEW, I.PARTIAL_FILL): S.PARTIALLY_FILLED,  # filled on entry
    (S.PENDING_NEW, I.FULL_FILL): S.FILLED,
    (S.PENDING_NEW, I.CANCEL_SENT): S.PENDING_CANCEL,
    **{(s, I.REPLACE_SENT): S.PENDING_REPLACE for s in _OPEN},
    **{(s, I.CANCEL_SENT): S.PENDING_CANCEL for s in _OPEN},
    **{(s, I.PARTIAL_FILL): S.PARTIALLY_FILLED for s in _OPEN},
    **{(s, I.FULL_FILL): S.FILLED for s in _OPEN},
    **{(s, I.CANCELLED): S.CANCELLED for s in _OPEN},  # the exchange's own cancel
    (S.PENDING_REPLACE, I.REPLACED): S.CANCELLED,
    (S.PENDING_REPLACE, I.PARTIAL_FILL): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, I.FULL_FILL): S.FILLED,
    (S.PENDING_REPLACE, I.CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, I.CANCELLED): S.CANCELLED,
    # the exchange confirms a cancel of what reconciliation already found gone
    (S.CANCELLED, I.CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, I.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, I.FULL_FILL): S.FILLED,
    (S.PENDING_CANCEL, I.REJECTED): S.LIVE,  # the cancel was refused: it still stands
    **{(s, I.LINK_LOST): S.UNKNOWN for s in (S.PENDING_NEW, S.PENDING_REPLACE,
                                             S.PENDING_CANCEL)},
    **{(s, I.LINK_LOST): s for s in (*_OPEN, S.FILLED, S.CANCELLED, S.REJECTED)},
    **{(s, I.FOUND_LIVE): S.LIVE for s in (S.UNKNOWN, S.PENDING_NEW, S.PENDING_REPLACE,
                                           S.PENDING_CANCEL, S.LIVE)},
    (S.PARTIALLY_FILLED, I.FOUND_LIVE): S.PARTIALLY_FILLED,
    **{(s, I.FOUND_GONE): S.CANCELLED for s in (S.UNKNOWN, S.PENDING_NEW, S.PENDING_REPLACE,
                                                S.PENDING_CANCEL, *_OPEN)},
    # what the exchange says of a quote or order whose state a lost link left unknown (a
    # reconnect's resend can come before the reconciliation does): it settles it
    (S.UNKNOWN, I.CANCELLED): S.CANCELLED,
    (S.UNKNOWN, I.REJECTED): S.REJECTED,
    (S.UNKNOWN, I.FULL_FILL): S.FILLED,
}
TERMINAL = frozenset({S.FILLED, S.CANCELLED, S.REJECTED})


class InvalidTransition(RuntimeError):
    def __init__(self, key: str, state: State, event: Input) -> None:
        self.key, self.state, self.event = key, state, event
        super().__init__(f"{key}: no transition from {state} on {event}")


def step(key: str, state: State, event: Input) -> State:
    """The state after `event`, or InvalidTransition naming both."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(key, state, event) from None


@dataclass(slots=True)
class Tracked:
    key: str
    instrument_id: str
    state: State = S.PENDING_NEW
    filled: int = 0


@dataclass
class Oms:
    """The gateway's view of its quotes (by quote id) and orders (by client id)."""

    quotes: dict[str, Tracked] = field(default_factory=dict)
    orders: dict[str, Tracked] = field(default_factory=dict)
    live_quote: dict[str, str] = field(default_factory=dict)  # contract -> quote id
    positions: dict[str, int] = field(default_factory=dict)
    exec_ids: set[str] = field(default_factory=set)
    duplicates: int = 0
    open_quotes: set[str] = field(default_factory=set)
    """quote ids not yet filled, cancelled or rejected: what may still stand"""

    def quote_sent(self, quote_id: str, instrument_id: str) -> None:
        """A new quote for a contract: the one standing there is being replaced."""
        previous = self.live_quote.get(instrument_id)
        if previous is not None and self.quotes[previous].state in _OPEN:
            self._apply(self.quotes[previous], I.REPLACE_SENT)
        self.quotes[quote_id] = Tracked(quote_id, instrument_id)
        self.open_quotes.add(quote_id)
        self.live_quote[instrument_id] = quote_id

    def cancel_sent(self, instrument_id: str) -> None:
        current = self.live_quote.get(instrument_id)
        if current is not None and self.quotes[current].state not in TERMINAL:
            self._apply(self.quotes[current], I.CANCEL_SENT)

    def order_sent(self, client_id: str, instrument_id: str) -> None:
        if client_id in self.orders:
            raise InvalidTransition(client_id, self.orders[client_id].state, I.ACCEPTED)
        self.orders[client_id] = Tracked(client_id, instrument_id)

    def on_quote_status(self, status: QuoteStatus) -> None:
        tracked = self.quotes.get(status.quote_id)
        if tracked is None:
            tracked = self.quotes[status.quote_id] = Tracked(status.quote_id,
                                                             status.instrument_id, S.UNKNOWN)
            self.open_quotes.add(status.quote_id)
        event = {QuoteStatusCode.ACCEPTED: I.ACCEPTED, QuoteStatusCode.REJECTED: I.REJECTED,
                 QuoteStatusCode.FILLED: I.FULL_FILL}.get(status.status)
        if status.status is QuoteStatusCode.CANCELLED:
            event = (I.REPLACED if tracked.state is S.PENDING_REPLACE else I.CANCELLED)
        if event is I.FULL_FILL and tracked.state is S.FILLED:
            return  # the last fill already said so
        if event is I.ACCEPTED and tracked.state is S.UNKNOWN:
            event = I.FOUND_LIVE
        assert event is not None
        self._apply(tracked, event)

    def on_execution(self, report: ExecutionReport) -> bool:
        """Apply a report; False when it is a fill already counted (same exec id)."""
        if report.exec_type is ExecType.TRADE:
            if report.exec_id in self.exec_ids:
                self.duplicates += 1
                return False
            self.exec_ids.add(report.exec_id)
            signed = report.last_qty if report.side is Side.BUY else -report.last_qty
            self.positions[report.instrument_id] = (self.positions.get(report.instrument_id, 0)
                                                    + signed)
        book = self.quotes if report.is_quote else self.orders
        tracked = book.get(report.client_id)
        if tracked is None:
            return True
        if report.exec_type is ExecType.TRADE:
            tracked.filled += report.last_qty
            if not report.is_quote:
                self._apply(tracked, I.FULL_FILL if report.leaves_qty == 0
                            else I.PARTIAL_FILL)
            elif tracked.state in (*_OPEN, S.PENDING_NEW, S.PENDING_REPLACE,
                                   S.PENDING_CANCEL):
                self._apply(tracked, I.PARTIAL_FILL)  # a quote is filled by its status
        elif not report.is_quote:
            event = {ExecType.NEW: I.ACCEPTED, ExecType.REJECTED: I.REJECTED,
                     ExecType.CANCELLED: I.CANCELLED}[report.exec_type]
            if tracked.state is S.UNKNOWN and event is I.ACCEPTED:
                event = I.FOUND_LIVE
            self._apply(tracked, event)
        return True

    def mass_cancelled(self, quote_ids: tuple[str, ...], client_ids: tuple[str, ...]
                       ) -> list[Tracked]:
        """The exchange's report of a mass cancel: everything it names is gone (each one's
        own status may follow; it finds the quote cancelled already). Returns what this
        report closed."""
        closed = []
        for book, keys in ((self.quotes, quote_ids), (self.orders, client_ids)):
            for key in keys:
                tracked = book.get(key)
                if tracked is not None and tracked.state not in TERMINAL:
                    self._apply(tracked, I.FOUND_GONE)
                    closed.append(tracked)
        return closed

    def link_lost(self) -> None:
        for tracked in (*self.quotes.values(), *self.orders.values()):
            if tracked.state not in TERMINAL:
                self._apply(tracked, I.LINK_LOST)

    def reconcile(self, live_at_exchange: set[str]) -> list[str]:
        """Settle every open or unknown quote and order against the ids the exchange says are
        live; returns the ids whose state changed."""
        changed = []
        for tracked in (*self.quotes.values(), *self.orders.values()):
            if tracked.state in TERMINAL:
                continue
            before = tracked.state
            self._apply(tracked, I.FOUND_LIVE if tracked.key in live_at_exchange
                        else I.FOUND_GONE)
            if tracked.state is not before:
                changed.append(tracked.key)
        return changed

    @property
    def unknown(self) -> list[str]:
        return [t.key for t in (*self.quotes.values(), *self.orders.values())
                if t.state is S.UNKNOWN]

    def _apply(self, tracked: Tracked, event: Input) -> None:
        tracked.state = step(tracked.key, tracked.state, event)
        if tracked.state in TERMINAL:
            self.open_quotes.discard(tracked.key)
