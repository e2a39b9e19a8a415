"""SSE stock and ETF options: the exchange's market-maker evaluation (RULES.md 1.1, seed 002
ch. 5), exactly as TIMELINE.md reads a timeline.

Per contract and day: continuous time (in `continuous`, less limit-up/down and exempt time),
the part of it with a valid quote, and the time-weighted spread ratio over the part with a
two-sided quote. Per product and day: the mean continuous participation, coverage, whether the
opening auction (>= 50% of contracts valid in its last 5 minutes) and the closing auction
(every contract valid in its last minute) count, and each circuit-breaker auction (its contract
valid in its last minute). Per period: the means, the composite, the weighted participation,
the RFQ response rate and the grade. Prices and spreads are compared exactly (Decimal).
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date
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
    Timeline,
)
from quoting.rules import RulePack

AUCTIONS = {"opening_auction", "closing_auction", "circuit_breaker_auction"}
GRADES = ("D", "C", "B", "A", "AA")


@dataclass(slots=True)
class _Day:
    cont_ns: int = 0
    valid_ns: int = 0
    ratio_ns: int = 0
    ratio_sum: float = 0.0


@dataclass(slots=True, eq=False)
class _Contract:
    record: ContractRecord
    product: "_Product"
    pct: Decimal
    own_phase: str | None = None
    limit: str = "none"
    exempt: bool = False
    valid_cont: bool = False
    valid_auction: bool = False
    two_sided: bool = False
    ratio: float = 0.0
    last_ns: int = 0
    last_valid_auction_ns: int = -1
    days: dict[date, _Day] = field(default_factory=dict)

    @property
    def phase(self) -> str:
        return self.own_phase or self.product.phase


@dataclass(slots=True, eq=False)
class _Product:
    name: str
    phase: str = "closed"
    exempt: bool = False
    contracts: list[_Contract] = field(default_factory=list)
    opening: dict[date, bool] = field(default_factory=dict)
    closing: dict[date, bool] = field(default_factory=dict)
    breakers: list[bool] = field(default_factory=list)
    volume: int = 0


@dataclass(slots=True)
class _Rfq:
    contract: str
    requested_ns: int
    answered_ns: int | None = None
    fits: bool = False
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


class SseOptionsEvaluation:
    def __init__(self, timeline: Timeline, pack: RulePack) -> None:
        self.timeline = timeline
        self.pack = pack
        self.offset = timeline.offset or UTC
        tiers = _tiers(list(timeline.contracts.values()))
        self.products: dict[str, _Product] = {}
        self.contracts: dict[str, _Contract] = {}
        for record in timeline.contracts.values():
            product = self.products.setdefault(record.product, _Product(record.product))
            pct = pack.spread.tier_pct.get(tiers[record.contract], pack.spread.pct)
            contract = _Contract(record, product, pct)
            product.contracts.append(contract)
            self.contracts[record.contract] = contract
        self.rfqs: dict[str, _Rfq] = {}
        self._cont_size = pack.size.continuous
        self._auction_size = pack.size.auction
        self._floor = pack.spread.abs_yuan

    # ---- time ---------------------------------------------------------------------------------

    def _day(self, ts_ns: int) -> date:
        return self.timeline.local_date(ts_ns)

    def _advance(self, c: _Contract, now: int) -> None:
        """Credit the time since the contract's last change to what it was doing."""
        dt = now - c.last_ns
        if dt <= 0:
            c.last_ns = max(c.last_ns, now)
            return
        phase = c.phase
        if phase == "continuous" and c.limit == "none" and not (c.exempt or c.product.exempt):
            day = c.days.get(self._day(c.last_ns))
            if day is None:
                day = c.days[self._day(c.last_ns)] = _Day()
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

    def _judge(self, c: _Contract, bids: tuple, asks: tuple) -> tuple[bool, bool, bool, float]:
        """(valid in continuous, valid in an auction, two-sided, spread / allowed)."""
        if not bids or not asks:
            return False, False, False, 0.0
        (bid, bid_qty), (ask, ask_qty) = bids[0], asks[0]
        allowed = max(c.pct * bid, self._floor)
        spread = ask - bid
        fits = spread <= allowed
        ratio = float(spread / allowed) if allowed > 0 else math.inf
        size = min(bid_qty, ask_qty)
        return (fits and size >= self._cont_size, fits and size >= self._auction_size, True,
                ratio)

    def _set_quote(self, c: _Contract, now: int, bids: tuple, asks: tuple) -> None:
        self._advance(c, now)
        c.valid_cont, c.valid_auction, c.two_sided, c.ratio = self._judge(c, bids, asks)

    # ---- phases -------------------------------------------------------------------------------

    def _leave_auction(self, c: _Contract, phase: str, now: int) -> bool:
        """Whether the contract showed a valid quote in the auction's last window."""
        ev = self.pack.evaluation
        window = {"opening_auction": ev.opening_window_s, "closing_auction": ev.closing_window_s,
                  "circuit_breaker_auction": ev.circuit_breaker_window_s}[phase] * SECOND_NS
        ok = c.last_valid_auction_ns > now - window
        c.last_valid_auction_ns = -1
        return ok

    def _product_phase(self, product: _Product, phase: str, now: int) -> None:
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
                product.opening[day] = total > 0 and Fraction(count, total) >= need
            else:
                product.closing[day] = total > 0 and count == total
        product.phase = phase

    def _contract_phase(self, c: _Contract, phase: str, now: int) -> None:
        self._advance(c, now)
        if c.own_phase == "circuit_breaker_auction" and phase != "circuit_breaker_auction":
            c.product.breakers.append(self._leave_auction(c, "circuit_breaker_auction", now))
        c.own_phase = None if phase == "continuous" else phase

    # ---- RFQs ---------------------------------------------------------------------------------

    def _rfq_quote(self, e: RfqQuoteEvent, now: int) -> None:
        rfq = self.rfqs.get(e.rfq_id)
        if rfq is None or rfq.answered_ns is not None:
            return
        c = self.contracts[e.contract]
        valid_cont, _, _, _ = self._judge(c, e.bids, e.asks)
        rfq.answered_ns = now
        rfq.fits = valid_cont and now - rfq.requested_ns <= self.pack.rfq.response_s * SECOND_NS

    def _rfq_valid(self, rfq: _Rfq) -> bool:
        if rfq.answered_ns is None or not rfq.fits:
            return False
        if rfq.left_ns is None or rfq.filled:
            return True  # rested until the close, or was filled
        return rfq.left_ns - rfq.answered_ns >= self.pack.rfq.min_rest_s * SECOND_NS

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        for event, now in zip(self.timeline.events, self.timeline.times, strict=True):
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
                    self.rfqs[event.rfq_id] = _Rfq(event.contract, now)
                case RfqQuoteEvent():
                    self._rfq_quote(event, now)
                case RfqCancelEvent():
                    rfq = self.rfqs.get(event.rfq_id)
                    if rfq is not None and rfq.left_ns is None:
                        rfq.left_ns, rfq.filled = now, event.reason == "filled"
        end = self.timeline.times[-1] if self.timeline.times else 0
        for c in self.contracts.values():
            self._advance(c, end)

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

    # ---- results ------------------------------------------------------------------------------

    def result(self, *, peer_volume: Decimal | None = None, letters: int = 0) -> dict:
        out = {}
        for name, product in self.products.items():
            out[name] = self._product_result(product, peer_volume, letters)
        return {"rules": self.pack.name, "products": out}

    def _product_result(self, product: _Product, peer_volume: Decimal | None,
                        letters: int) -> dict:
        ev = self.pack.evaluation
        threshold = Fraction(str(self.pack.coverage.continuous))
        days = sorted({d for c in product.contracts for d in c.days}
                      | set(product.opening) | set(product.closing))
        closing_held = len(product.closing)
        closing_part = (sum(product.closing.values()) / closing_held) if closing_held else 1.0
        factor = Decimal(0)
        for at_least, value in ev.closing_factors:
            if Decimal(str(closing_part)) >= at_least:
                factor = value
                break
        day_out = {}
        composites, spreads, participations = [], [], []
        for day in days:
            parts, ratios, covered = [], [], 0
            for c in product.contracts:
                d = c.days.get(day)
                if d is None or d.cont_ns == 0:
                    continue
                share = Fraction(d.valid_ns, d.cont_ns)
                parts.append(share)
                covered += share >= threshold
                if d.ratio_ns:
                    ratios.append(d.ratio_sum / d.ratio_ns)
            participation = float(sum(parts) / len(parts)) if parts else None
            spread = sum(ratios) / len(ratios) if ratios else math.nan
            entry: dict[str, object] = {
                "continuous_participation": participation,
                "coverage": covered / len(parts) if parts else None,
                "opening_auction": product.opening.get(day),
                "closing_auction": product.closing.get(day),
                "spread_ratio": None if math.isnan(spread) else spread,
            }
            if participation is not None:
                composite = (0.0 if participation < float(ev.composite_floor)
                             else participation * float(factor))
                entry["composite"] = composite
                composites.append(composite)
                participations.append(participation)
            if not math.isnan(spread):
                spreads.append(spread)
            day_out[day.isoformat()] = entry
        opening_held = len(product.opening)
        opening = sum(product.opening.values()) / opening_held if opening_held else 1.0
        breaker = (sum(product.breakers) / len(product.breakers)) if product.breakers else 1.0
        composite = sum(composites) / len(composites) if composites else 0.0
        w_open, w_cb, w_comp = (float(w) for w in ev.weights)
        weighted = w_open * opening + w_cb * breaker + w_comp * composite
        spread_ratio = sum(spreads) / len(spreads) if spreads else math.nan
        rfqs = [r for r in self.rfqs.values() if self.contracts[r.contract].product is product]
        rate = sum(self._rfq_valid(r) for r in rfqs) / len(rfqs) if rfqs else None
        return {
            "days": day_out,
            "spread_ratio": None if math.isnan(spread_ratio) else spread_ratio,
            "opening_participation": opening,
            "circuit_breaker_participation": breaker,
            "closing_participation": closing_part,
            "composite": composite,
            "weighted_participation": weighted,
            "rfq_response_rate": rate,
            "rfq_requests": len(rfqs),
            "volume": product.volume,
            "grade": grade(spread_ratio, weighted, self.pack, volume=product.volume,
                           peer_volume=peer_volume, letters=letters),
        }


def grade(spread_ratio: float, participation: float, pack: RulePack, *, volume: int = 0,
          peer_volume: Decimal | None = None, letters: int = 0) -> str:
    """SSE's monthly grade (RULES.md 1.1): AA, A, B, C or D."""
    g = pack.evaluation.grading
    spread = Decimal(repr(spread_ratio)) if not math.isnan(spread_ratio) else None
    part = Decimal(repr(participation))
    spread_band = ("fail" if spread is None or spread > g.spread_pass else
                   "excellent" if spread <= g.spread_excellent else "pass")
    part_band = ("excellent" if part >= g.participation_excellent else
                 "pass" if part >= g.participation_pass else "fail")
    bands = {spread_band, part_band}
    if "fail" in bands:
        level = 0
    elif bands == {"excellent"}:
        level = 3
    elif "excellent" in bands:
        level = 2
    else:
        level = 1
    if peer_volume is not None and peer_volume > 0 and level > 0:
        share = Decimal(volume) / peer_volume
        if share >= g.volume_up:
            level = min(level + 1, 4)
        elif share < g.volume_down:
            level -= 1
    elif peer_volume is not None and peer_volume > 0 and level == 0:
        pass  # D is neither raised nor lowered
    if letters >= 2:
        level = 0
    elif letters == 1:
        level = max(level - 1, 0)
    return GRADES[level]


ANNUAL_POINTS = {"AA": 4, "A": 3, "B": 2, "C": 1, "D": 0}


def annual_grade(monthly: list[str], *, primary: bool = True, letters: int = 0) -> str:
    """The year's grade from its monthly grades (RULES.md 1.1): the mean of points in bands;
    any monthly D caps the year at A (general makers: B); three letters in a year give D."""
    if not monthly:
        raise ValueError("no monthly grades to fold")
    if letters >= 3:
        return "D"
    mean = Fraction(sum(ANNUAL_POINTS[g] for g in monthly), len(monthly))
    if primary:
        bands = [(Fraction(7, 2), "AA"), (Fraction(5, 2), "A"), (Fraction(3, 2), "B"),
                 (Fraction(1, 2), "C"), (Fraction(0), "D")]
        cap = "A"
    else:
        bands = [(Fraction(5, 2), "A"), (Fraction(3, 2), "B"), (Fraction(1, 2), "C"),
                 (Fraction(0), "D")]
        cap = "B"
    result = next(name for floor, name in bands if mean >= floor)
    if "D" in monthly and ANNUAL_POINTS[result] > ANNUAL_POINTS[cap]:
        result = cap
    return result


def evaluate(timeline: Timeline, pack: RulePack, *, peer_volume: Decimal | None = None,
             letters: int = 0) -> dict:
    evaluation = SseOptionsEvaluation(timeline, pack)
    evaluation.run()
    return evaluation.result(peer_volume=peer_volume, letters=letters)


