"""Live obligation meters (worksheet items 22-28): the evaluation engine fed one event at a
time while quoting, read at any moment.

Per contract and product: today's continuous participation so far, whether a valid quote
stands now (live coverage), the spread ratio so far, the RFQ response rate, and two projections
of the day's participation: if quoting stopped now, and if it resumed now and held to the close.
An alert is raised when a meter is about to miss its threshold: a contract without a valid
quote whose remaining slack (the invalid time it can still afford) is under `warn_s`, a product
whose live coverage is under its obligation, an RFQ rate under its floor. Pure: the caller
passes the time and how much continuous trading is left today.
"""

from dataclasses import dataclass, field
from datetime import timezone
from fractions import Fraction

from quoting.obligations.engine import QuoteTimeEngine
from quoting.obligations.timeline import SECOND_NS, ContractRecord, TimedEvent, Timeline
from quoting.rules import RulePack


@dataclass(frozen=True, slots=True)
class ContractMeter:
    contract: str
    participation: float | None
    valid_now: bool
    spread_ratio: float | None
    if_stopped: float | None
    if_resumed: float | None
    slack_s: float | None
    """invalid time still affordable today before the participation falls under the
    threshold (negative: already missed whatever happens)"""


@dataclass(frozen=True, slots=True)
class ProductMeter:
    product: str
    participation: float | None
    coverage_now: float
    coverage_required: float
    rfq_response_rate: float | None
    contracts: list[ContractMeter]
    alerts: list[str] = field(default_factory=list)


class LiveMeters:
    def __init__(self, contracts: list[ContractRecord], pack: RulePack, offset: timezone, *,
                 warn_s: float = 600.0) -> None:
        timeline = Timeline({c.contract: c for c in contracts}, offset=offset)
        self.engine = QuoteTimeEngine(timeline, pack)
        self.pack = pack
        self.warn_s = warn_s

    def feed(self, event: TimedEvent, now_ns: int) -> None:
        """One more event of the day, in time order."""
        self.engine.feed(event, now_ns)

    def read(self, now_ns: int, remaining_continuous_s: float) -> list[ProductMeter]:
        """The meters now; `remaining_continuous_s` is how much continuous trading is left
        today (from the session calendar)."""
        engine = self.engine
        engine.settle(now_ns)
        today = engine.timeline.local_date(now_ns)
        threshold = Fraction(str(self.pack.participation.continuous))
        remaining = int(remaining_continuous_s * SECOND_NS)
        out = []
        for name, product in engine.products.items():
            meters, alerts, shares = [], [], []
            valid_now = 0
            for c in product.contracts:
                day = c.days.get(today)
                cont = day.cont_ns if day else 0
                valid = day.valid_ns if day else 0
                share = Fraction(valid, cont) if cont else None
                total = cont + remaining
                stopped = Fraction(valid, total) if total else None
                resumed = Fraction(valid + remaining, total) if total else None
                slack = (valid + remaining - threshold * total) / SECOND_NS if total else None
                valid_now += c.valid_cont
                if share is not None:
                    shares.append(share)
                meters.append(ContractMeter(
                    contract=c.record.contract,
                    participation=float(share) if share is not None else None,
                    valid_now=c.valid_cont,
                    spread_ratio=(day.ratio_sum / day.ratio_ns) if day and day.ratio_ns
                    else None,
                    if_stopped=float(stopped) if stopped is not None else None,
                    if_resumed=float(resumed) if resumed is not None else None,
                    slack_s=float(slack) if slack is not None else None))
                if slack is not None and not c.valid_cont and slack < self.warn_s:
                    alerts.append(
                        f"{c.record.contract}: no valid quote; "
                        + (f"the day's participation falls under {float(threshold):.0%} "
                           f"after {float(slack) / 60:.1f} more minutes without one"
                           if slack > 0 else
                           f"the day's participation can no longer reach "
                           f"{float(threshold):.0%} (at most {float(resumed):.1%})"))
            total = len(product.contracts)
            coverage = valid_now / total if total else 0.0
            required = self.pack.coverage.continuous
            if required and coverage < required:
                alerts.append(f"{name}: live coverage {coverage:.1%} ({valid_now} of {total}) "
                              f"under the {required:.0%} obligation")
            rfqs = [r for r in engine.rfqs.values()
                    if engine.contracts[r.contract].product is product]
            rate = sum(engine.rfq_valid(r) for r in rfqs) / len(rfqs) if rfqs else None
            if rate is not None and self.pack.rfq.rate and rate < self.pack.rfq.rate:
                alerts.append(f"{name}: RFQ response rate {rate:.0%} under the "
                              f"{self.pack.rfq.rate:.0%} obligation")
            out.append(ProductMeter(
                product=name,
                participation=float(sum(shares) / len(shares)) if shares else None,
                coverage_now=coverage, coverage_required=required, rfq_response_rate=rate,
                contracts=meters, alerts=alerts))
        return out
