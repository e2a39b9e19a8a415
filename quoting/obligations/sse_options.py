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
from decimal import Decimal
from fractions import Fraction

from quoting.obligations.engine import ProductState, QuoteTimeEngine
from quoting.obligations.timeline import Timeline
from quoting.rules import RulePack

GRADES = ("D", "C", "B", "A", "AA")


class SseOptionsEvaluation(QuoteTimeEngine):
    def result(self, *, peer_volume: Decimal | None = None, letters: int = 0) -> dict:
        out = {}
        for name, product in self.products.items():
            out[name] = self._product_result(product, peer_volume, letters)
        return {"rules": self.pack.name, "products": out}

    def _product_result(self, product: ProductState, peer_volume: Decimal | None,
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
        rate = sum(self.rfq_valid(r) for r in rfqs) / len(rfqs) if rfqs else None
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


