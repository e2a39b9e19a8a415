"""BSE stocks: the exchange's market-maker evaluation (RULES.md 1.2, seeds 000 art. 21-24 and
31-41, 004 s.4), exactly as TIMELINE.md reads a timeline.

A quote is valid when, walking each side from its best level, the cumulative size reaches the
minimum (1,000 shares) and, with bid_q and ask_q the prices where it does,
ask_q - bid_q <= max(pct x ask_q, 2 ticks): 2% in continuous trading, 3% in call auctions.
The opening counts on a day when the quote is valid (auction pct) or exempt at 09:20:00 (every
event stamped at or before that instant applied), the closing likewise at 14:58:00; each over
the month's tradable days. Continuous participation of a day = (valid + exempt + top-up time) /
continuous time (less halts), where top-up time is the gap after a fill took the quote out of
the valid state, up to its re-entry, capped at 2 minutes a gap. Deductions: 2 points per 5%
short of the monthly opening (50%) and closing (70%) participation, 1 point per 5% short of
each day's continuous participation (90%), a part of 5% counting whole. Exact fractions
throughout.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

import msgspec

from quoting.obligations.timeline import (
    SECOND_NS,
    CancelEvent,
    ContractRecord,
    ExemptEvent,
    FillEvent,
    PhaseEvent,
    QuoteEvent,
    Timeline,
)
from quoting.rules import RulePack

TRADING = {"opening_auction", "continuous", "closing_auction", "circuit_breaker_auction"}


@dataclass(slots=True)
class _Day:
    cont_ns: int = 0
    valid_ns: int = 0
    exempt_ns: int = 0
    top_up_ns: int = 0
    traded: bool = False
    opening: bool | None = None
    closing: bool | None = None


@dataclass(slots=True, eq=False)
class _Stock:
    record: ContractRecord
    phase: str = "closed"
    own_phase: str | None = None
    exempt: bool = False
    bids: tuple = ()
    asks: tuple = ()
    valid_cont: bool = False
    valid_auction: bool = False
    last_ns: int = 0
    fill_ns: int | None = None
    exit_by_fill_ns: int | None = None
    days: dict[date, _Day] = field(default_factory=dict)
    traded: dict[str, list[Decimal]] = field(default_factory=dict)
    """quarter (YYYY-Qn) -> [amount bought, amount sold]"""

    @property
    def effective(self) -> str:
        return self.own_phase or self.phase


class BseStocksEvaluation:
    def __init__(self, timeline: Timeline, pack: RulePack) -> None:
        self.timeline = timeline
        self.pack = pack
        self.offset = timeline.offset or UTC
        self.stocks = {c: _Stock(r) for c, r in timeline.contracts.items()}
        ev = pack.evaluation
        self._snap_times = (time.fromisoformat(ev.opening_at), time.fromisoformat(ev.closing_at))
        self._pending: list[tuple[int, str, date]] = []  # (time, "opening"/"closing", day)
        self._scheduled: set[date] = set()

    def _day(self, ts_ns: int) -> date:
        return self.timeline.local_date(ts_ns)

    def _local_ns(self, day: date, at: time) -> int:
        return int(datetime.combine(day, at, tzinfo=self.offset).timestamp()) * SECOND_NS

    # ---- validity -----------------------------------------------------------------------------

    def _valid(self, s: _Stock, auction: bool) -> bool:
        need = self.pack.size.continuous
        bid_q = _reach(s.bids, need)
        ask_q = _reach(s.asks, need)
        if bid_q is None or ask_q is None:
            return False
        spread = self.pack.spread
        pct = spread.auction_pct if auction and spread.auction_pct is not None else spread.pct
        allowed = max(pct * ask_q, spread.abs_ticks * s.record.tick)
        return ask_q - bid_q <= allowed

    def _advance(self, s: _Stock, now: int) -> None:
        dt = now - s.last_ns
        if dt > 0:
            day = s.days.get(self._day(s.last_ns))
            if day is None:
                day = s.days[self._day(s.last_ns)] = _Day()
            phase = s.effective
            if phase in TRADING:
                day.traded = True
            if phase == "continuous":
                day.cont_ns += dt
                if s.valid_cont:
                    day.valid_ns += dt
                elif s.exempt:
                    day.exempt_ns += dt
        s.last_ns = max(s.last_ns, now)

    def _requote(self, s: _Stock, now: int, bids: tuple, asks: tuple) -> None:
        self._advance(s, now)
        was_valid = s.valid_cont
        s.bids, s.asks = bids, asks
        s.valid_cont, s.valid_auction = self._valid(s, False), self._valid(s, True)
        if was_valid and not s.valid_cont:
            # out of the valid state: by a fill when a fill came at this very instant
            s.exit_by_fill_ns = now if s.fill_ns == now else None
        elif not was_valid and s.valid_cont and s.exit_by_fill_ns is not None:
            cap = self.pack.evaluation.top_up_cap_s * SECOND_NS
            day = s.days.setdefault(self._day(now), _Day())
            day.top_up_ns += min(now - s.exit_by_fill_ns, cap)
            s.exit_by_fill_ns = None

    # ---- the 09:20 and 14:58 snapshots --------------------------------------------------------

    def _schedule(self, day: date) -> None:
        if day in self._scheduled:
            return
        self._scheduled.add(day)
        opening_at, closing_at = self._snap_times
        self._pending += [(self._local_ns(day, opening_at), "opening", day),
                          (self._local_ns(day, closing_at), "closing", day)]
        self._pending.sort()

    def _take_due(self, before_ns: int | None) -> None:
        """Take every snapshot whose instant lies before `before_ns` (all when None)."""
        while self._pending and (before_ns is None or self._pending[0][0] < before_ns):
            at, which, day = self._pending.pop(0)
            for s in self.stocks.values():
                self._advance(s, at)
                shown = s.exempt or (s.valid_auction if s.effective != "continuous"
                                     else self._valid(s, True))
                setattr(s.days.setdefault(day, _Day()), which, bool(shown))

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        for event, now, day in zip(self.timeline.events, self.timeline.times,
                                   self.timeline.dates, strict=True):
            self._schedule(day)
            self._take_due(now)
            match event:
                case QuoteEvent():
                    self._requote(self.stocks[event.contract], now, event.bids, event.asks)
                case CancelEvent():
                    self._requote(self.stocks[event.contract], now, (), ())
                case FillEvent():
                    stock = self.stocks[event.contract]
                    stock.fill_ns = now
                    amounts = stock.traded.setdefault(_quarter(day), [Decimal(0), Decimal(0)])
                    amounts[event.side == "sell"] += event.price * event.size
                case PhaseEvent():
                    targets = ([self.stocks[event.contract]] if event.contract is not None else
                               [s for s in self.stocks.values()
                                if event.product in (None, "*", s.record.product)])
                    for s in targets:
                        self._advance(s, now)
                        if event.contract is not None:
                            s.own_phase = None if event.phase == "continuous" else event.phase
                        else:
                            s.phase = event.phase
                case ExemptEvent():
                    targets = ([self.stocks[event.contract]] if event.contract is not None else
                               [s for s in self.stocks.values()
                                if event.product in (None, "*", s.record.product)])
                    for s in targets:
                        self._advance(s, now)
                        s.exempt = event.state == "start"
        end = self.timeline.times[-1] if self.timeline.times else 0
        for s in self.stocks.values():
            self._advance(s, end)
        self._take_due(None)

    # ---- results ------------------------------------------------------------------------------

    def result(self) -> dict:
        return {"rules": self.pack.name,
                "products": {c: self._stock_result(s) for c, s in self.stocks.items()}}

    def _short(self, have: Fraction, need: Decimal, points: int) -> int:
        gap = Fraction(need) - have
        if gap <= 0:
            return 0
        return math.ceil(gap / Fraction(self.pack.evaluation.deduction_step)) * points

    def _stock_result(self, s: _Stock) -> dict:
        points = self.pack.evaluation.deduction_points
        part = self.pack.participation
        days_out: dict[str, dict] = {}
        months: dict[str, dict] = {}
        for day in sorted(s.days):
            d = s.days[day]
            if not d.traded:
                continue  # halted all day, or no session: not a tradable day
            share = (Fraction(min(d.valid_ns + d.exempt_ns + d.top_up_ns, d.cont_ns), d.cont_ns)
                     if d.cont_ns else None)
            days_out[day.isoformat()] = {
                "opening": bool(d.opening), "closing": bool(d.closing),
                "continuous_participation": float(share) if share is not None else None,
            }
            month = months.setdefault(f"{day:%Y-%m}", {"days": 0, "opening": 0, "closing": 0,
                                                       "continuous": 0})
            month["days"] += 1
            month["opening"] += bool(d.opening)
            month["closing"] += bool(d.closing)
            if share is not None:
                month["continuous"] += self._short(share, Decimal(str(part.continuous)),
                                                   points["continuous"])
        months_out = {}
        total = 0
        for name, m in months.items():
            opening = Fraction(m["opening"], m["days"])
            closing = Fraction(m["closing"], m["days"])
            deductions = {
                "opening": self._short(opening, Decimal(str(part.opening_auction)),
                                       points["opening"]),
                "closing": self._short(closing, Decimal(str(part.closing_auction)),
                                       points["closing"]),
                "continuous": m["continuous"],
            }
            total += sum(deductions.values())
            months_out[name] = {"opening_participation": float(opening),
                                "closing_participation": float(closing),
                                "tradable_days": m["days"], "deductions": deductions}
        return {"days": days_out, "months": months_out, "deductions": total}


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


class Peer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    stocks_first: Annotated[int, msgspec.Meta(ge=0)]
    stocks_last: Annotated[int, msgspec.Meta(ge=0)]
    turnover: Annotated[float, msgspec.Meta(ge=0)]
    """sum over its stocks of min(quarter buy, quarter sell amount) / makers in the stock"""


class Peers(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the quarterly score needs from outside the timeline (--peers FILE): the number of
    market makers in each stock, the other makers' figures, and supervision."""

    market_makers: dict[str, Annotated[int, msgspec.Meta(gt=0)]]
    peers: list[Peer]
    minor_measures: Annotated[int, msgspec.Meta(ge=0)] = 0
    major_measures: Annotated[int, msgspec.Meta(ge=0)] = 0
    sanction: bool = False


def quarterly_scores(evaluation: "BseStocksEvaluation", result: dict, peers: Peers) -> dict:
    """Quarterly score = stock-count score + turnover score - deductions, floored at 0
    (RULES.md 1.2; 004 s.4: turnover from quarterly totals). Stock count: the mean of the
    quarter's first and last day, over the largest among market makers, x 50; turnover: per
    stock min(buy, sell) / makers in the stock, summed, over the largest, x 50; deductions: the
    months' participation deductions, 10 per minor and 50 per major supervisory measure; a
    disciplinary sanction sets the quarter to 0. The annual score is the mean of quarters."""
    quarters: dict[str, dict] = {}
    for stock in evaluation.stocks.values():
        code = stock.record.contract
        days = sorted(d for d, totals in stock.days.items() if totals.traded)
        for day in days:
            q = quarters.setdefault(_quarter(day), {"first": None, "last": None, "stocks": {}})
            q["first"] = min(q["first"] or day, day)
            q["last"] = max(q["last"] or day, day)
            q["stocks"].setdefault(code, set()).add(day)
    out = {}
    for name, q in sorted(quarters.items()):
        count = Fraction(sum(q["first"] in d for d in q["stocks"].values())
                         + sum(q["last"] in d for d in q["stocks"].values()), 2)
        turnover = Fraction(0)
        for code in q["stocks"]:
            buy, sell = evaluation.stocks[code].traded.get(name, [Decimal(0), Decimal(0)])
            makers = peers.market_makers.get(code)
            if makers is None:
                raise ValueError(f"peers: market_makers has no entry for stock {code}")
            turnover += Fraction(min(buy, sell)) / makers
        best_count = max([count, *(Fraction(p.stocks_first + p.stocks_last, 2)
                                   for p in peers.peers)])
        best_turnover = max([turnover, *(Fraction(p.turnover) for p in peers.peers)])
        count_score = count / best_count * 50 if best_count else Fraction(0)
        turnover_score = turnover / best_turnover * 50 if best_turnover else Fraction(0)
        months = [m for p in result["products"].values() for key, m in p["months"].items()
                  if _quarter(date.fromisoformat(key + "-01")) == name]
        deductions = (sum(sum(m["deductions"].values()) for m in months)
                      + 10 * peers.minor_measures + 50 * peers.major_measures)
        score = Fraction(0) if peers.sanction else max(
            count_score + turnover_score - deductions, Fraction(0))
        out[name] = {"stock_count": float(count), "stock_count_score": float(count_score),
                     "turnover": float(turnover), "turnover_score": float(turnover_score),
                     "deductions": deductions, "score": float(score)}
    annual = sum(q["score"] for q in out.values()) / len(out) if out else None
    return {"quarters": out, "annual_score": annual}


def _reach(levels: tuple, need: int) -> Decimal | None:
    """The price of the level at which the cumulative size first reaches `need`."""
    total = 0
    for price, size in levels:
        total += size
        if total >= need:
            return price
    return None


def evaluate(timeline: Timeline, pack: RulePack, peers: Peers | None = None) -> dict:
    evaluation = BseStocksEvaluation(timeline, pack)
    evaluation.run()
    result = evaluation.result()
    if peers is not None:
        result["score"] = quarterly_scores(evaluation, result, peers)
    return result
