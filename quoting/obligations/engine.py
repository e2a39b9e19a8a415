"""The quote-time engine behind every evaluation: it follows a quote timeline event by event
and keeps, per contract and day, continuous time (in `continuous`, less limit-up/down and
exempt time), the part of it with a valid quote, the time-weighted spread ratio over the part
with a two-sided quote and the amount quoted; per product and day whether the opening and
closing auctions showed enough valid quotes in their last windows; each circuit-breaker auction;
and each RFQ and its answer. Validity comes from the rule pack: both sides, the phase's minimum
size, ask - bid <= max(pct x basis, floor), compared exactly (Decimal).

Fed one event at a time (`feed`), it is also what the live meters run on.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from quoting.obligations.timeline import (
    SECOND_NS,
    CancelEvent,
    ContractRecord,
    ExemptEvent,
    FillEvent,
    LimitEvent,
    PhaseEvent,
    QuoteEvent,
    RfqCancelEvent,
    RfqEvent,
    RfqQuoteEvent,
    TimedEvent,
    Timeline,
)
from quoting.rules import RulePack

AUCTIONS = {"opening_auction", "closing_auction", "circuit_breaker_auction"}
GRADES = ("D", "C", "B", "A", "AA")


@dataclass(slots=True)
class DayTotals:
    cont_ns: int = 0
    valid_ns: int = 0
    ratio_ns: int = 0
    ratio_sum: float = 0.0
    quotes: int = 0
    amount: Decimal = Decimal(0)
    """the value of the quote sides sent (price x size x multiplier), for funds' average
    amount per order"""
    amount_ticks: int = 0
    """more of the same, in price ticks x size (the fast path's exact integer form)"""


@dataclass(slots=True, eq=False)
class ContractState:
    record: ContractRecord
    product: "ProductState"
    pct: Decimal
    own_phase: str | None = None
    limit: str = "none"
    exempt: bool = False
    valid_cont: bool = False
    valid_auction: bool = False
    two_sided: bool = False
    ratio: float = 0.0
    size: int = 0
    """the smaller best-level size of the standing quote (0: none)"""
    last_ns: int = 0
    last_valid_auction_ns: int = -1
    days: dict[date, DayTotals] = field(default_factory=dict)

    @property
    def phase(self) -> str:
        return self.own_phase or self.product.phase


@dataclass(slots=True, eq=False)
class ProductState:
    name: str
    phase: str = "closed"
    exempt: bool = False
    contracts: list[ContractState] = field(default_factory=list)
    opening: dict[date, bool] = field(default_factory=dict)
    closing: dict[date, bool] = field(default_factory=dict)
    breakers: list[bool] = field(default_factory=list)
    volume: int = 0


@dataclass(slots=True)
class RfqState:
    contract: str
    requested_ns: int
    answered_ns: int | None = None
    fits: bool = False
    chain_fits: bool = True
    """every replacement in the answer's chain met size and spread too"""
    replacements: int = 0
    left_ns: int | None = None
    filled: bool = False


def _tiers(records: list[ContractRecord]) -> dict[str, str]:
    """A contract's tier, or by its expiry: the product's first two listed expiries `near`."""
    out = {}
    by_product: dict[str, list[date]] = {}
    for record in records:
        if record.expiry is not None:
            by_product.setdefault(record.product, []).append(record.expiry)
    for record in records:
        if record.tier is not None:
            out[record.contract] = record.tier
        else:
            expiries = sorted(set(by_product.get(record.product, [])))
            out[record.contract] = "near" if record.expiry in expiries[:2] else "far"
    return out


class QuoteTimeEngine:
    def __init__(self, timeline: Timeline, pack: RulePack) -> None:
        self.timeline = timeline
        self.pack = pack
        tiers = _tiers(list(timeline.contracts.values()))
        self.products: dict[str, ProductState] = {}
        self.contracts: dict[str, ContractState] = {}
        for record in timeline.contracts.values():
            product = self.products.setdefault(record.product, ProductState(record.product))
            pct = pack.spread.tier_pct.get(tiers[record.contract], pack.spread.pct)
            contract = ContractState(record, product, pct)
            product.contracts.append(contract)
            self.contracts[record.contract] = contract
        self.rfqs: dict[str, RfqState] = {}
        self._cont_size = pack.size.continuous
        self._auction_size = pack.size.auction
        self._on_ask = pack.spread.basis == "ask"
        self._floor = {c: max(pack.spread.abs_yuan, pack.spread.abs_ticks * r.tick)
                       for c, r in timeline.contracts.items()}
        self._end_ns = 0

    # ---- time ---------------------------------------------------------------------------------

    def _day(self, ts_ns: int) -> date:
        return self.timeline.local_date(ts_ns)

    def _advance(self, c: ContractState, now: int) -> None:
        """Credit the time since the contract's last change to what it was doing."""
        dt = now - c.last_ns
        if dt <= 0:
            c.last_ns = max(c.last_ns, now)
            return
        phase = c.phase
        if phase == "continuous" and c.limit == "none" and not (c.exempt or c.product.exempt):
            day = c.days.get(self._day(c.last_ns))
            if day is None:
                day = c.days[self._day(c.last_ns)] = DayTotals()
            day.cont_ns += dt
            if c.valid_cont:
                day.valid_ns += dt
            if c.two_sided:
                day.ratio_ns += dt
                day.ratio_sum += c.ratio * dt
        elif phase in AUCTIONS and c.valid_auction:
            c.last_valid_auction_ns = now
        c.last_ns = now

    # ---- quotes -------------------------------------------------------------------------------

    def _judge(self, c: ContractState, bids: tuple,
               asks: tuple) -> tuple[bool, bool, bool, float]:
        """(valid in continuous, valid in an auction, two-sided, spread / allowed)."""
        if not bids or not asks:
            return False, False, False, 0.0
        (bid, bid_qty), (ask, ask_qty) = bids[0], asks[0]
        allowed = max(c.pct * (ask if self._on_ask else bid), self._floor[c.record.contract])
        spread = ask - bid
        fits = spread <= allowed
        ratio = float(spread / allowed) if allowed > 0 else math.inf
        size = min(bid_qty, ask_qty)
        return (fits and size >= self._cont_size, fits and size >= self._auction_size, True,
                ratio)

    def _set_quote(self, c: ContractState, now: int, bids: tuple, asks: tuple) -> None:
        self._advance(c, now)
        c.valid_cont, c.valid_auction, c.two_sided, c.ratio = self._judge(c, bids, asks)
        c.size = min(bids[0][1], asks[0][1]) if bids and asks else 0
        if bids or asks:
            day = c.days.get(self._day(now))
            if day is None:
                day = c.days[self._day(now)] = DayTotals()
            multiplier = c.record.multiplier or 1
            for side in (bids[:1], asks[:1]):
                for price, size in side:
                    day.quotes += 1
                    day.amount += price * size * multiplier

    # ---- phases -------------------------------------------------------------------------------

    def _leave_auction(self, c: ContractState, phase: str, now: int) -> bool:
        """Whether the contract showed a valid quote in the auction's last window."""
        ev = self.pack.evaluation
        window = {"opening_auction": ev.opening_window_s, "closing_auction": ev.closing_window_s,
                  "circuit_breaker_auction": ev.circuit_breaker_window_s}[phase] * SECOND_NS
        ok = c.last_valid_auction_ns > now - window
        c.last_valid_auction_ns = -1
        return ok

    def _product_phase(self, product: ProductState, phase: str, now: int) -> None:
        old = product.phase
        for c in product.contracts:
            self._advance(c, now)
        if old in ("opening_auction", "closing_auction") and phase != old:
            shown = [self._leave_auction(c, old, now) for c in product.contracts
                     if c.own_phase is None]
            day = self._day(now)
            count = sum(shown)
            total = len(product.contracts)
            if old == "opening_auction":
                need = Fraction(str(self.pack.coverage.opening_auction))
                product.opening[day] = count > 0 and Fraction(count, total) >= need
            else:
                product.closing[day] = total > 0 and count == total
        product.phase = phase

    def _contract_phase(self, c: ContractState, phase: str, now: int) -> None:
        self._advance(c, now)
        if c.own_phase == "circuit_breaker_auction" and phase != "circuit_breaker_auction":
            c.product.breakers.append(self._leave_auction(c, "circuit_breaker_auction", now))
        c.own_phase = None if phase == "continuous" else phase

    # ---- RFQs ---------------------------------------------------------------------------------

    def _rfq_quote(self, e: RfqQuoteEvent, now: int) -> None:
        rfq = self.rfqs.get(e.rfq_id)
        if rfq is None:
            return
        c = self.contracts[e.contract]
        valid_cont, _, _, _ = self._judge(c, e.bids, e.asks)
        if rfq.answered_ns is not None:  # a replacement: the answer's duration runs on
            rfq.replacements += 1
            rfq.chain_fits &= valid_cont
            return
        rfq.answered_ns = now
        rfq.fits = valid_cont and now - rfq.requested_ns <= self.pack.rfq.response_s * SECOND_NS

    def rfq_valid(self, rfq: RfqState, *, whole_chain: bool = False) -> bool:
        """Answered in time, fitting size and spread when it entered (and, `whole_chain`,
        through every replacement), and resting the minimum time unless filled."""
        if rfq.answered_ns is None or not rfq.fits or (whole_chain and not rfq.chain_fits):
            return False
        if rfq.left_ns is None or rfq.filled:
            return True  # rested until the close, or was filled
        return rfq.left_ns - rfq.answered_ns >= self.pack.rfq.min_rest_s * SECOND_NS

    # ---- the run ------------------------------------------------------------------------------

    def feed(self, event: TimedEvent, now: int) -> None:
        """Take one more event (events come in time order)."""
        self._end_ns = now
        match event:
            case QuoteEvent():
                self._set_quote(self.contracts[event.contract], now, event.bids, event.asks)
            case CancelEvent():
                self._set_quote(self.contracts[event.contract], now, (), ())
            case PhaseEvent():
                if event.contract is not None:
                    self._contract_phase(self.contracts[event.contract], event.phase, now)
                else:
                    targets = (self.products.values() if event.product in (None, "*")
                               else [self.products[event.product]]
                               if event.product in self.products else [])
                    for product in targets:
                        self._product_phase(product, event.phase, now)
            case LimitEvent():
                c = self.contracts[event.contract]
                self._advance(c, now)
                c.limit = event.state
            case ExemptEvent():
                self._exempt(event, now)
            case FillEvent():
                self.contracts[event.contract].product.volume += event.size
            case RfqEvent():
                self.rfqs[event.rfq_id] = RfqState(event.contract, now)
            case RfqQuoteEvent():
                self._rfq_quote(event, now)
            case RfqCancelEvent():
                rfq = self.rfqs.get(event.rfq_id)
                if rfq is not None and rfq.left_ns is None:
                    rfq.left_ns, rfq.filled = now, event.reason == "filled"

    def settle(self, now: int | None = None) -> None:
        """Credit every contract's time up to `now` (default: the last event's time)."""
        end = self._end_ns if now is None else now
        for c in self.contracts.values():
            self._advance(c, end)

    def run(self) -> None:
        for event, now in zip(self.timeline.events, self.timeline.times, strict=True):
            self.feed(event, now)
        self.settle()

    def _exempt(self, event: ExemptEvent, now: int) -> None:
        on = event.state == "start"
        if event.contract is not None:
            c = self.contracts[event.contract]
            self._advance(c, now)
            c.exempt = on
        elif event.product is not None and event.product in self.products:
            product = self.products[event.product]
            for c in product.contracts:
                self._advance(c, now)
            product.exempt = on

