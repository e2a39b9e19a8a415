"""The pre-send gate: nothing reaches an exchange that breaks the venue's obligations.

`ChainRules` holds what one rule pack says of each contract of a chain, as exact integers;
`ChainRules.check` decides a whole batch of quotes at once (numpy), and `gate` decides one. A
decision is Accept (with the exemption it relied on, if any) or Reject with the rule, the field,
its value and the limit. The gate never changes a quote.

In order, a quote must be: in a phase that takes quotes; one or two sides with positive prices
and quantities in whole lots; inside the price limits; not crossed. Unless the phase owes
nothing (ZCE's opening auction) it must then be two-sided, unless an exemption allows one side
(a contract at its price limit; an option under the cheap-option price, which may drop its bid;
a fund >= 10% away from its IOPV, which may quote the side against the move); each side at least
the phase's minimum size (and amount); and the spread within max(pct x basis, floor), compared
exactly: a spread equal to the limit passes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from core.enums import LimitState, Phase
from core.events import Quote
from core.instruments import Instrument
from quoting.rules import RulePack

I64 = NDArray[np.int64]
NO_PRICE = -1
_PHASES = list(Phase)
PHASE_CODE = {phase: index for index, phase in enumerate(_PHASES)}
LIMIT_CODE = {LimitState.NONE: 0, LimitState.UP: 1, LimitState.DOWN: 2}
_NO_QUOTES = np.array([p in (Phase.CLOSED, Phase.HALTED) for p in _PHASES])
_AUCTION = np.array([p.is_auction for p in _PHASES])


class Rule(IntEnum):
    ACCEPT = 0
    PHASE = 1
    EMPTY = 2
    PRICE = 3
    QUANTITY = 4
    LIMIT = 5
    CROSSED = 6
    ONE_SIDED = 7
    SIZE = 8
    AMOUNT = 9
    SPREAD = 10


class Exemption(IntEnum):
    NONE = 0
    FREE_PHASE = 1
    AT_LIMIT = 2
    CHEAP_OPTION = 3
    IOPV_DEVIATION = 4


# plain ints for the vectorised path (enum attribute access is slow in a hot loop)
(_PHASE, _EMPTY, _PRICE, _QUANTITY, _LIMIT, _CROSSED, _ONE_SIDED, _SIZE, _AMOUNT,
 _SPREAD) = (int(r) for r in list(Rule)[1:])
_EXEMPTION_CODES = [int(e) for e in list(Exemption)[1:]]


def _first(conditions: list[NDArray[np.bool_]], codes: list[int]) -> NDArray[np.int8]:
    """Per element, the code of the first true condition, else 0."""
    out = np.zeros(conditions[0].shape, dtype=np.int8) if conditions else np.zeros(0, np.int8)
    for mask, code in zip(reversed(conditions), reversed(codes), strict=True):
        out = np.where(mask, np.int8(code), out)
    return out


@dataclass(frozen=True, slots=True)
class Accept:
    exemption: Exemption = Exemption.NONE


@dataclass(frozen=True, slots=True)
class Reject:
    rule: Rule
    reason: str


Decision = Accept | Reject


@dataclass(frozen=True, slots=True)
class Market:
    """What the gate needs to know of a contract's market now."""

    phase: Phase
    limit_state: LimitState = LimitState.NONE
    last_px_ticks: int | None = None
    iopv_ticks: int | None = None


def _ratio(value: Fraction) -> tuple[int, int]:
    return value.numerator, value.denominator


class ChainRules:
    """One rule pack applied to a fixed list of contracts, precomputed as integers."""

    def __init__(self, pack: RulePack, instruments: Sequence[Instrument]) -> None:
        self.pack = pack
        self.instruments = list(instruments)
        n = len(self.instruments)
        self.index = {inst.instrument_id: i for i, inst in enumerate(self.instruments)}
        big = np.iinfo(np.int64).max // 4
        self.limit_up = np.array([i.limit_up_ticks if i.limit_up_ticks is not None else big
                                  for i in self.instruments], dtype=np.int64)
        self.limit_down = np.array([i.limit_down_ticks or 1 for i in self.instruments],
                                   dtype=np.int64)
        self.lot = np.array([i.lot for i in self.instruments], dtype=np.int64)
        self.tick = np.array([float(i.tick) for i in self.instruments])
        self.multiplier = np.array([i.multiplier for i in self.instruments], dtype=np.int64)
        pct = {phase: [_ratio(pack.spread_pct(i.tier, phase)) for i in self.instruments]
               for phase in (Phase.CONTINUOUS, Phase.OPENING_AUCTION)}
        self.pct_num = {k: np.array([a for a, _ in v], dtype=np.int64) for k, v in pct.items()}
        self.pct_den = {k: np.array([b for _, b in v], dtype=np.int64) for k, v in pct.items()}
        floors = [_ratio(pack.spread_floor_ticks(i.tick)) for i in self.instruments]
        self.floor_num = np.array([a for a, _ in floors], dtype=np.int64)
        self.floor_den = np.array([b for _, b in floors], dtype=np.int64)
        cheap = []
        for inst in self.instruments:
            kind = inst.underlying_kind.value if inst.underlying_kind else ""
            threshold = pack.exemptions.cheap_option_bid.get(kind) if inst.is_option else None
            cheap.append(_ratio(Fraction(threshold) / Fraction(inst.tick)) if threshold
                         else (0, 1))
        self.cheap_num = np.array([a for a, _ in cheap], dtype=np.int64)
        self.cheap_den = np.array([b for _, b in cheap], dtype=np.int64)
        amount = Fraction(pack.size.min_amount_yuan)
        self.amount = [amount / (Fraction(i.tick) * i.multiplier) for i in self.instruments]
        self.amount_num = np.array([a.numerator for a in self.amount], dtype=np.int64)
        self.amount_den = np.array([a.denominator for a in self.amount], dtype=np.int64)
        dev = pack.exemptions.iopv_deviation
        self.iopv_num, self.iopv_den = _ratio(Fraction(dev)) if dev is not None else (0, 0)
        self.free = np.array([p in pack.exemptions.free_phases for p in _PHASES])
        self.size_by_phase = np.array([pack.min_size(p) for p in _PHASES], dtype=np.int64)
        self._n = n
        self._singles: dict[str, ChainRules] = {}

    def check(self, phase: I64, limit: I64, bid_px: I64, bid_qty: I64, ask_px: I64,
              ask_qty: I64, last_px: I64 | None = None, iopv: I64 | None = None,
              ) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
        """(rule broken or 0, exemption used) per contract. Absent sides have price
        NO_PRICE; phases and limit states are PHASE_CODE / LIMIT_CODE values."""
        has_bid, has_ask = bid_px != NO_PRICE, ask_px != NO_PRICE
        free = self.free[phase]
        auction = _AUCTION[phase]
        conditions: list[NDArray[np.bool_]] = []
        codes: list[int] = []

        def fail(mask: NDArray[np.bool_], code: int) -> None:
            """Rules are listed in order: a quote is rejected by the first it breaks."""
            conditions.append(mask)
            codes.append(code)

        fail(_NO_QUOTES[phase], _PHASE)
        fail(~has_bid & ~has_ask, _EMPTY)
        fail((has_bid & (bid_px <= 0)) | (has_ask & (ask_px <= 0)), _PRICE)
        bad_qty = ((has_bid & ((bid_qty <= 0) | (bid_qty % self.lot != 0)))
                   | (has_ask & ((ask_qty <= 0) | (ask_qty % self.lot != 0))))
        fail(bad_qty, _QUANTITY)
        outside = ((has_bid & ((bid_px > self.limit_up) | (bid_px < self.limit_down)))
                   | (has_ask & ((ask_px > self.limit_up) | (ask_px < self.limit_down))))
        fail(outside, _LIMIT)
        both = has_bid & has_ask
        fail(both & (bid_px >= ask_px), _CROSSED)

        # one side: only where an exemption allows it
        one_sided = has_bid ^ has_ask
        at_limit = (limit != 0) & self.pack.exemptions.one_side_at_limit
        cheap = has_ask & ~has_bid & (ask_px * self.cheap_den < self.cheap_num)
        against = np.zeros(self._n, dtype=bool)
        if iopv is not None and last_px is not None and self.iopv_den:
            known = (iopv > 0) & (last_px > 0)
            moved = np.abs(last_px - iopv) * self.iopv_den >= self.iopv_num * iopv
            up, down = known & moved & (last_px > iopv), known & moved & (last_px < iopv)
            against = (up & has_ask & ~has_bid) | (down & has_bid & ~has_ask)
        exempt = _first([free, one_sided & at_limit, one_sided & cheap, one_sided & against],
                        _EXEMPTION_CODES)
        owed = ~free
        fail(owed & one_sided & (exempt == 0), _ONE_SIDED)
        min_size = self.size_by_phase[phase]
        small = (has_bid & (bid_qty < min_size)) | (has_ask & (ask_qty < min_size))
        fail(owed & small, _SIZE)
        if self.pack.size.min_amount_yuan:
            thin = ((has_bid & (bid_px * bid_qty * self.amount_den < self.amount_num))
                    | (has_ask & (ask_px * ask_qty * self.amount_den < self.amount_num)))
            fail(owed & thin, _AMOUNT)
        pct_num = np.where(auction, self.pct_num[Phase.OPENING_AUCTION],
                           self.pct_num[Phase.CONTINUOUS])
        pct_den = np.where(auction, self.pct_den[Phase.OPENING_AUCTION],
                           self.pct_den[Phase.CONTINUOUS])
        basis = bid_px if self.pack.spread.basis == "bid" else ask_px
        spread = ask_px - bid_px
        allowed = np.maximum(pct_num * basis * self.floor_den, self.floor_num * pct_den)
        fail(owed & both & (spread * pct_den * self.floor_den > allowed), _SPREAD)
        rule = _first(conditions, codes)
        exemption = np.where(rule == 0, exempt, 0).astype(np.int8)
        return rule, exemption

    # ---- one quote ---------------------------------------------------------------------------

    def single(self, instrument_id: str) -> "ChainRules | None":
        """The rules of one contract alone (cached), for deciding one quote cheaply."""
        if instrument_id not in self.index:
            return None
        cached = self._singles.get(instrument_id)
        if cached is None:
            inst = self.instruments[self.index[instrument_id]]
            cached = self._singles[instrument_id] = ChainRules(self.pack, [inst])
        return cached

    def explain(self, i: int, code: Rule, phase: Phase, bid_px: int | None,
                bid_qty: int, ask_px: int | None, ask_qty: int) -> str:
        """Why contract i's quote broke `code`, naming the field, its value and the limit."""
        inst = self.instruments[i]

        def px(value: int | None) -> str:
            return "none" if value is None else str(inst.price(value))

        match code:
            case Rule.PHASE:
                return f"phase: {phase} takes no quotes"
            case Rule.EMPTY:
                return "quote: neither side is present"
            case Rule.PRICE:
                return f"price: bid {px(bid_px)} / ask {px(ask_px)} must be positive"
            case Rule.QUANTITY:
                return (f"qty: bid {bid_qty} / ask {ask_qty} must be positive multiples of "
                        f"{inst.lot}")
            case Rule.LIMIT:
                return (f"price: bid {px(bid_px)} / ask {px(ask_px)} outside the limits "
                        f"[{px(inst.limit_down_ticks)}, {px(inst.limit_up_ticks)}]")
            case Rule.CROSSED:
                return f"quote: crossed, bid {px(bid_px)} >= ask {px(ask_px)}"
            case Rule.ONE_SIDED:
                return (f"quote: one-sided (bid {px(bid_px)}, ask {px(ask_px)}) and no "
                        "exemption applies")
            case Rule.SIZE:
                return (f"size: bid {bid_qty} / ask {ask_qty} below the {phase} minimum "
                        f"{self.pack.min_size(phase)}")
            case Rule.AMOUNT:
                return (f"amount: a side below {self.pack.size.min_amount_yuan} yuan "
                        f"(bid {px(bid_px)} x {bid_qty}, ask {px(ask_px)} x {ask_qty})")
            case Rule.SPREAD:
                assert bid_px is not None and ask_px is not None
                pct = self.pack.spread_pct(inst.tier, phase)
                basis = bid_px if self.pack.spread.basis == "bid" else ask_px
                limit = max(pct * basis, self.pack.spread_floor_ticks(inst.tick))
                limit_yuan = Decimal(limit.numerator) / Decimal(limit.denominator) * inst.tick
                return (f"spread: {inst.price(ask_px - bid_px)} = {px(ask_px)} - {px(bid_px)} "
                        f"exceeds max({pct * 100}% x {self.pack.spread.basis}, floor) = "
                        f"{limit_yuan.normalize()}")
        return "accepted"


def gate(quote: Quote, rules: ChainRules, market: Market) -> Decision:
    """Accept or reject one quote on a contract of `rules`' chain."""
    single = rules.single(quote.instrument_id)
    if single is None:
        return Reject(Rule.EMPTY, f"instrument_id: {quote.instrument_id!r} is not in the "
                                  f"{rules.pack.name} chain")

    def one(value: int) -> I64:
        return np.array([value], dtype=np.int64)

    code, exemption = single.check(
        one(PHASE_CODE[market.phase]), one(LIMIT_CODE[market.limit_state]),
        one(NO_PRICE if quote.bid_px_ticks is None else quote.bid_px_ticks), one(quote.bid_qty),
        one(NO_PRICE if quote.ask_px_ticks is None else quote.ask_px_ticks), one(quote.ask_qty),
        one(market.last_px_ticks or 0), one(market.iopv_ticks or 0))
    if code[0]:
        rule = Rule(int(code[0]))
        return Reject(rule, single.explain(0, rule, market.phase, quote.bid_px_ticks,
                                           quote.bid_qty, quote.ask_px_ticks, quote.ask_qty))
    return Accept(Exemption(int(exemption[0])))
