"""The gateway's picture of the market and its quoting engines, kept from exchange events.

`MarketState` follows phases (product and contract), price limits, halts and market data, and
builds each product's ChainMarket. `Desk` holds a ProductQuoter per configured product with its
rule pack, fits the options' surfaces to the reference data's previous settlements (as of the
previous trading day's close, weighted by vega), and builds and gates each product's quotes.
Pure of I/O: the gateway process feeds it and sends what it returns.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Annotated

import msgspec
import numpy as np

from core.clock import NS_PER_S
from core.enums import InstrumentKind, LimitState, Phase
from core.events import (
    Event,
    Halt,
    LimitStateChange,
    LinkStatus,
    MarketData,
    PhaseChange,
    Reject,
)
from core.instruments import Instrument
from quoting.construct import QuoteParams
from quoting.engine import ChainMarket, ChainQuotes, ProductQuoter, QuoteModel
from quoting.gate import LIMIT_CODE, NO_PRICE, PHASE_CODE, ChainRules
from quoting.models.black import black76, implied_vol
from quoting.rules import RulePack
from quoting.surface import Surface, SurfaceError, fit_slice

YEAR_NS = 365 * 24 * 3600 * NS_PER_S
QUOTING_PHASES = frozenset({Phase.OPENING_AUCTION, Phase.CONTINUOUS, Phase.CLOSING_AUCTION,
                            Phase.CIRCUIT_BREAKER_AUCTION})


class DeskProduct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pack: str
    model: QuoteModel
    width_ticks: Annotated[int, msgspec.Meta(gt=0)]
    size: Annotated[int, msgspec.Meta(gt=0)]


class DeskConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """configs/desk.toml: what the desk quotes, and how."""

    products: dict[str, DeskProduct]


@dataclass(frozen=True, slots=True)
class ProductSetup:
    """How a product is quoted: its rule pack, quote model, width (ticks) and size."""

    pack: RulePack
    model: QuoteModel
    width_ticks: int
    size: int


@dataclass
class MarketState:
    instruments: dict[str, Instrument]
    product_phase: dict[str, Phase] = field(default_factory=dict)
    own_phase: dict[str, Phase] = field(default_factory=dict)
    limit: dict[str, LimitState] = field(default_factory=dict)
    book: dict[str, MarketData] = field(default_factory=dict)
    now_ns: int = 0
    md_ns: int = 0  # the exchange's time of the latest market data (the snapshot's)
    trade_ns: dict[str, int] = field(default_factory=dict)  # when each last trade was seen
    # what does not move in a chain (its expiries' closes), per contract list and offset
    _static: dict[tuple[int, timezone], np.ndarray] = field(default_factory=dict, repr=False)

    def apply(self, event: Event) -> None:
        if not isinstance(event, LinkStatus | Reject):
            # the exchange's clock; a link's own word carries the gateway's wall clock, which
            # is not the market's time (a simulated day, a replay, a clock that is off)
            self.now_ns = max(self.now_ns, event.ts_event)
        match event:
            case PhaseChange():
                if event.instrument_id:
                    if event.phase is Phase.CONTINUOUS:
                        self.own_phase.pop(event.instrument_id, None)
                    else:
                        self.own_phase[event.instrument_id] = event.phase
                elif event.product:
                    self.product_phase[event.product] = event.phase
                else:
                    for inst in self.instruments.values():
                        if inst.venue is event.venue:
                            self.product_phase[inst.product] = event.phase
            case LimitStateChange():
                self.limit[event.instrument_id] = event.state
            case Halt():
                if event.halted:
                    self.own_phase[event.instrument_id] = Phase.HALTED
                else:
                    self.own_phase.pop(event.instrument_id, None)
            case MarketData():
                before = self.book.get(event.instrument_id)
                # a trade seen happen (the first sight of a contract shows an old one)
                if before is not None and event.last_px_ticks is not None and (
                        event.volume != before.volume
                        or event.last_px_ticks != before.last_px_ticks):
                    self.trade_ns[event.instrument_id] = event.ts_event
                self.book[event.instrument_id] = event
                self.md_ns = max(self.md_ns, event.ts_event)

    def reference_ns(self, inst: Instrument) -> int:
        """How fresh the market data behind a contract's theoretical value is: the latest
        snapshot's time once the reference (the underlying of an option, else the contract)
        has been seen in the feed, for the EzSR snapshot republishes only what changed and a
        newer snapshot confirms the rest; 0 when it never has (missing)."""
        key = inst.underlying if inst.kind is InstrumentKind.OPTION else inst.instrument_id
        return self.md_ns if key in self.book else 0

    def phase(self, inst: Instrument) -> Phase:
        return self.own_phase.get(inst.instrument_id) or self.product_phase.get(
            inst.product, Phase.CLOSED)

    def price(self, instrument_id: str) -> float | None:
        """The mid, else the last price, else the previous close, in yuan."""
        inst = self.instruments.get(instrument_id)
        if inst is None:
            return None
        md = self.book.get(instrument_id)
        tick = float(inst.tick)
        if md is not None and md.bids and md.asks:
            return (md.bids[0][0] + md.asks[0][0]) / 2 * tick
        if md is not None and md.last_px_ticks is not None:
            return md.last_px_ticks * tick
        return inst.prev_close_ticks * tick

    def chain(self, contracts: list[Instrument], offset: timezone,
              ours: Mapping[str, tuple] | None = None) -> ChainMarket:
        """The chain's market now; `ours` (contract -> our standing bid, bid qty, ask, ask
        qty) lets it tell everyone else's best prices from ours."""
        def arr(values: list[int]) -> np.ndarray:
            return np.array(values, dtype=np.int64)

        closes = self._static.get((id(contracts), offset))
        if closes is None:  # the expiries' closes, once (0: no expiry)
            closes = self._static[(id(contracts), offset)] = np.array(
                [close_ns(c.expiry, offset) if c.expiry else 0 for c in contracts],
                dtype=np.int64)  # exact, as years_to subtracts them
        books = [self.book.get(c.instrument_id) for c in contracts]
        underlying = {u: self.price(u) or np.nan for u in {c.underlying for c in contracts}
                      if u}
        product_phase, own, limit = self.product_phase, self.own_phase, self.limit
        return ChainMarket(
            phase=arr([PHASE_CODE[own.get(c.instrument_id)
                                  or product_phase.get(c.product, Phase.CLOSED)]
                       for c in contracts]),
            limit=arr([LIMIT_CODE[limit.get(c.instrument_id, LimitState.NONE)]
                       for c in contracts]),
            best_bid=arr([b.bids[0][0] if b and b.bids else NO_PRICE for b in books]),
            best_ask=arr([b.asks[0][0] if b and b.asks else NO_PRICE for b in books]),
            last_px=arr([b.last_px_ticks if b and b.last_px_ticks else NO_PRICE
                         for b in books]),
            iopv=arr([b.iopv_ticks if b and b.iopv_ticks else NO_PRICE for b in books]),
            underlying_px=np.array([underlying[c.underlying] if c.underlying else 0.0
                                    for c in contracts]),
            years=np.where(closes > 0, np.maximum((closes - self.now_ns) / YEAR_NS,
                                                  MIN_YEARS), 0.0),
            other_bid=None if ours is None else arr([
                _others_best(b.bids, ours.get(c.instrument_id), 0) if b else NO_PRICE
                for c, b in zip(contracts, books, strict=True)]),
            other_ask=None if ours is None else arr([
                _others_best(b.asks, ours.get(c.instrument_id), 2) if b else NO_PRICE
                for c, b in zip(contracts, books, strict=True)]),
        )


def _others_best(levels: tuple, ours: tuple | None, side: int) -> int:
    """The best price on one side of the book that is not our standing quote alone (`ours`:
    bid px, bid qty, ask px, ask qty; `side` 0 for bids, 2 for asks)."""
    for px, qty in levels:
        if ours is not None and px == ours[side] and qty <= ours[side + 1]:
            continue  # only our own quote stands there
        return px
    return NO_PRICE


def close_ns(day: date, offset: timezone) -> int:
    """15:00 on `day` (an expiry's close, a settlement's time), in the venue's time zone."""
    return int(datetime.combine(day, time(15, 0), tzinfo=offset).timestamp()) * NS_PER_S


MIN_YEARS = 1 / (365 * 24)  # an hour: the model's floor on the time left


def years_to(expiry: date, now_ns: int, offset: timezone) -> float:
    return max((close_ns(expiry, offset) - now_ns) / YEAR_NS, MIN_YEARS)


class Desk:
    """One ProductQuoter per configured product. `settled_ns` is the time the reference
    data's previous closes and settlements are of (the previous trading day's close): the
    surfaces are fitted at that time, the time the settlement prices were struck."""

    def __init__(self, instruments: list[Instrument], setups: dict[str, ProductSetup],
                 offset: timezone, settled_ns: int) -> None:
        self.offset = offset
        self.instruments = {i.instrument_id: i for i in instruments}
        self.market = MarketState(self.instruments, now_ns=settled_ns)
        self.quoters: dict[str, ProductQuoter] = {}
        self.contracts: dict[str, list[Instrument]] = {}
        for product, setup in setups.items():
            insts = [i for i in instruments if i.product == product]
            if not insts:
                continue
            rules = ChainRules(setup.pack, insts)
            params = QuoteParams.uniform(len(insts), width_ticks=setup.width_ticks,
                                         size=setup.size)
            quoter = ProductQuoter(rules, params, model=setup.model)
            if setup.model is QuoteModel.SURFACE:
                quoter.surface = self._fit(insts, settled_ns)
                quoter.rate = 0.015
            self.quoters[product] = quoter
            self.contracts[product] = insts

    def _fit(self, insts: list[Instrument], settled_ns: int) -> Surface:
        """A surface fitted to the previous settlements' implied volatilities, each weighted
        by its vega over its volatility: a settlement is a price rounded to the tick, so its
        volatility is known to half a tick over its vega. A one-tick option far out of the
        money says next to nothing about its volatility, and must not bend the smile at the
        money (unweighted, the two-day slice of 510050 fitted 16.0% at the money against
        18.0% and priced its at-the-money options 90 ticks low)."""
        surface = Surface(insts[0].underlying or "")
        by_expiry: dict[date, list[Instrument]] = {}
        for inst in insts:
            if inst.expiry is not None:
                by_expiry.setdefault(inst.expiry, []).append(inst)
        for expiry, group in by_expiry.items():
            under = np.array([self.market.price(i.underlying or "") or np.nan for i in group])
            years = np.array([years_to(expiry, settled_ns, self.offset) for _ in group])
            strikes = np.array([float(i.strike or 0) for i in group])
            prices = np.array([float(i.price(i.prev_close_ticks)) for i in group])
            calls = np.array([i.call_put == "call" for i in group])
            on_future = group[0].underlying_kind is InstrumentKind.FUTURE
            forward = under if on_future else under * np.exp(0.015 * years)
            vols = implied_vol(prices, forward, strikes, years, np.exp(-0.015 * years),
                               calls).vol
            with np.errstate(invalid="ignore", divide="ignore"):
                weights = black76(forward, strikes, years, vols, 0.015, calls).vega / vols
            try:
                surface.set_fit(expiry, fit_slice(np.log(strikes / under), vols,
                                                  float(years.mean()), weights).slice)
            except SurfaceError:
                continue  # too few usable prices: no quotes from this slice (NaN theo)
        return surface

    def quote(self, product: str,
              ours: Mapping[str, tuple] | None = None) -> ChainQuotes | None:
        """The product's built and gated quotes now, or None outside a quoting phase; `ours`
        (contract -> our standing quote) keeps the quotes off everyone else's best prices."""
        contracts = self.contracts[product]
        phase = self.market.product_phase.get(product, Phase.CLOSED)
        if phase not in QUOTING_PHASES:
            return None
        chain = self.market.chain(contracts, self.offset, ours)
        return self.quoters[product].quote(chain, phase)
