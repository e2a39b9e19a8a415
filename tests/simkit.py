"""Small hand-built exchanges for tests: a few contracts, a simulated clock, recording sinks."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from adapters.sim.exchange import Exchange, ProductRules
from core.clock import NS_PER_S, SimClock
from core.config import CircuitBreakerRule
from core.enums import CallPut, InstrumentKind, Phase, Side, TimeInForce, Venue
from core.events import Event, NewOrder, Quote
from core.instruments import Instrument
from core.listing import Listing

T0 = 1_795_000_000 * NS_PER_S
CB = CircuitBreakerRule(move_pct=Decimal("0.5"), min_ticks=5, duration_s=180)


def option(iid: str, product: str = "510050", *, prev: int = 500, up: int | None = 1000,
           down: int | None = 1, strike: str = "3.0", cp: CallPut = CallPut.CALL) -> Instrument:
    return Instrument(
        instrument_id=iid, venue=Venue.SSE, kind=InstrumentKind.OPTION, product=product,
        tick=Decimal("0.0001"), prev_close_ticks=prev, limit_up_ticks=up, limit_down_ticks=down,
        multiplier=10000, underlying=product, underlying_kind=InstrumentKind.ETF, call_put=cp,
        strike=Decimal(strike), expiry=date(2026, 12, 23), tier="near",
    )


def stock(iid: str, *, prev: int = 2500, up: int = 3250, down: int = 1750) -> Instrument:
    return Instrument(
        instrument_id=iid, venue=Venue.BSE, kind=InstrumentKind.STOCK, product=iid,
        tick=Decimal("0.01"), prev_close_ticks=prev, limit_up_ticks=up, limit_down_ticks=down,
        min_qty=100,
    )


@dataclass
class Recorder:
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def clear(self) -> None:
        self.events.clear()


def make_exchange(*instruments: Instrument, circuit_breaker: bool = False,
                  self_trade: str = "cancel_incoming",
                  tie_break: str = "nearest_reference") -> tuple[Exchange, SimClock]:
    products = {i.product for i in instruments}
    rules = {p: ProductRules(Venue.SSE, tie_break, CB if circuit_breaker else None, self_trade)
             for p in products}
    clock = SimClock(T0)
    return Exchange(Listing(date(2026, 11, 23), tuple(instruments)), rules, clock), clock


def open_continuous(exchange: Exchange) -> None:
    for product in exchange.products:
        exchange.set_phase(product, Phase.CONTINUOUS)


_ids = iter(range(1, 10**9))


def order(iid: str, account: str, side: Side, px: int, qty: int, *,
          tif: TimeInForce = TimeInForce.DAY, client_id: str | None = None) -> NewOrder:
    return NewOrder(ts_event=T0, ts_init=T0, client_id=client_id or f"o{next(_ids)}",
                    instrument_id=iid, account=account, side=side, px_ticks=px, qty=qty, tif=tif)


def quote(iid: str, account: str, bid: int | None, bid_qty: int, ask: int | None, ask_qty: int,
          *, quote_id: str | None = None, rfq_id: str | None = None) -> Quote:
    return Quote(ts_event=T0, ts_init=T0, quote_id=quote_id or f"q{next(_ids)}",
                 instrument_id=iid, account=account, bid_px_ticks=bid,
                 bid_qty=bid_qty if bid is not None else 0, ask_px_ticks=ask,
                 ask_qty=ask_qty if ask is not None else 0, rfq_id=rfq_id)
