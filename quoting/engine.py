"""The quoting engine of one product: a quote model gives theo per contract, construction
lays quotes around it, and the gate decides each. Pure: market state in, quotes and decisions
out. The model is chosen per product and can be switched while running.

Quote models:
- `surface`: theoretical value from the product's volatility surface (BSM for ETF and stock
  options, Black-76 for options on futures); a contract without a volatility gets no quote;
- `mid_skew`: the market's mid plus a skew in yuan; no quote without a two-sided market;
- `iopv`: a fund quoted around its IOPV plus a premium;
- `reference`: a stock quoted around a reference price (the last trade, else the previous
  close) plus a premium.
"""

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from core.enums import CallPut, InstrumentKind, Phase
from quoting.construct import BuiltQuotes, QuoteParams, build_quotes
from quoting.coverage import CoverageCheck, check_withdrawal
from quoting.gate import NO_PRICE, PHASE_CODE, ChainRules, Exemption, Rule
from quoting.models.black import Greeks, black76, bsm
from quoting.surface import Surface

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class QuoteModel(StrEnum):
    SURFACE = "surface"
    MID_SKEW = "mid_skew"
    IOPV = "iopv"
    REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class ChainMarket:
    """The market of every contract of a chain now (prices in ticks, NO_PRICE when none)."""

    phase: I64
    limit: I64
    best_bid: I64
    best_ask: I64
    last_px: I64
    iopv: I64
    underlying_px: F64
    """the underlying's price (the futures price for options on futures), yuan"""
    years: F64
    """time to expiry in years"""
    other_bid: I64 | None = None
    other_ask: I64 | None = None
    """the best bid and ask of everyone else (our own standing quote left out), NO_PRICE when
    none; None: not known (quotes are then built without regard to the book)"""


@dataclass(frozen=True, slots=True)
class ChainQuotes:
    quotes: BuiltQuotes
    rule: NDArray[np.int8]
    exemption: NDArray[np.int8]
    theo: F64

    @property
    def accepted(self) -> NDArray[np.bool_]:
        has_side = (self.quotes.bid_px != NO_PRICE) | (self.quotes.ask_px != NO_PRICE)
        return (self.rule == Rule.ACCEPT) & has_side

    def rejections(self) -> dict[int, Rule]:
        return {int(i): Rule(int(self.rule[i])) for i in np.flatnonzero(self.rule)}


@dataclass
class ProductQuoter:
    rules: ChainRules
    params: QuoteParams
    model: QuoteModel = QuoteModel.SURFACE
    surface: Surface | None = None
    rate: float = 0.015
    carry: float = 0.0
    skew_yuan: float = 0.0
    premium_yuan: float = 0.0
    _static: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        insts = self.rules.instruments
        self._static = {
            "strike": np.array([float(i.strike) if i.strike is not None else np.nan
                                for i in insts]),
            "is_call": np.array([i.call_put == CallPut.CALL
                                 for i in insts]),
            "on_future": np.array([i.underlying_kind == InstrumentKind.FUTURE for i in insts]),
            "prev": np.array([i.prev_close_ticks for i in insts], dtype=np.int64),
        }
        self._ids = [i.instrument_id for i in insts]
        self._expiries = [i.expiry for i in insts]
        self._all_futures = bool(len(insts)) and bool(self._static["on_future"].all())
        self.greeks: Greeks | None = None
        """the price and Greeks of the last `surface` theo, per contract"""
        self.vol: F64 | None = None

    def switch(self, model: QuoteModel) -> None:
        """Change the product's quote model; the next quotes use it."""
        self.model = QuoteModel(model)

    def rows(self, contracts: list[str] | None) -> NDArray[np.int64]:
        """The rows of `contracts`, or of every contract of the product (None)."""
        if contracts is None:
            return np.arange(len(self._ids))
        unknown = [c for c in contracts if c not in self.rules.index]
        if unknown:
            raise KeyError(f"contracts not in {self.rules.pack.name} chain: {unknown}")
        return np.array([self.rules.index[c] for c in contracts], dtype=np.int64)

    def configure(self, contracts: list[str] | None = None, **values: float) -> None:
        """Set quote parameters (width_ticks, width_pct, size, skew_inventory, skew_delta,
        cheap_bid) for
        some contracts, or for the whole product / underlying (None)."""
        rows = self.rows(contracts)
        for name, value in values.items():
            if name not in ("width_ticks", "width_pct", "size", "skew_inventory",
                            "skew_delta", "cheap_bid"):
                raise KeyError(f"{name}: not a quote parameter")
            if name == "cheap_bid" and value not in (0, 1):
                raise ValueError(f"cheap_bid: {value} must be 1 (keep a one-tick bid) or 0")
            if name in ("width_ticks", "size") and (value != int(value) or value <= 0):
                raise ValueError(f"{name}: {value} must be a positive whole number")
            getattr(self.params, name)[rows] = value

    def scale(self, *, width: float = 1.0, size: float = 1.0) -> None:
        """A measure on the whole product: every contract's width in ticks times `width`
        (rounded up), its size times `size` (rounded down, at least one lot). The gate still
        judges each quote against the rule pack, so a measure never breaks an obligation: a
        contract whose width or size it pushes past the rules is not quoted."""
        if width <= 0 or size <= 0:
            raise ValueError(f"scale: width {width} and size {size} must be positive")
        self.params.width_ticks[:] = np.ceil(self.params.width_ticks * width - 1e-9)
        self.params.size[:] = np.maximum(np.floor(self.params.size * size + 1e-9), 1)

    def enable(self, contracts: list[str] | None = None) -> None:
        self.params.enabled[self.rows(contracts)] = True

    def disable(self, contracts: list[str] | None, *, live_valid: set[str], phase: Phase,
                override: bool, now_ns: int, phase_ends_ns: int | None) -> CoverageCheck:
        """Stop quoting some contracts (or all): refused by the coverage guard when it would
        take the product under its coverage obligation, unless `override`."""
        rows = self.rows(contracts)
        withdraw = {self._ids[i] for i in rows}
        check = check_withdrawal(self.rules.instruments[0].product if self._ids else "",
                                 self._ids, live_valid, withdraw, phase, self.rules.pack,
                                 override=override, now_ns=now_ns, phase_ends_ns=phase_ends_ns)
        if check.allowed:
            self.params.enabled[rows] = False
        return check

    def theo(self, market: ChainMarket) -> F64:
        """Theoretical value per contract in yuan (NaN where the model has none)."""
        s = self._static
        tick = self.rules.tick
        if self.model is QuoteModel.SURFACE:
            if self.surface is None:
                return np.full(len(tick), np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.log(s["strike"] / market.underlying_px)
            vol = self.surface.vols(self._ids, self._expiries, k)
            self.vol = vol
            if self._all_futures:
                self.greeks = black76(market.underlying_px, s["strike"], market.years, vol,
                                      self.rate, s["is_call"])
            elif not s["on_future"].any():
                self.greeks = bsm(market.underlying_px, s["strike"], market.years, vol,
                                  self.rate, self.carry, s["is_call"])
            else:
                raise ValueError("a chain mixes options on futures and on spot")
            return self.greeks.price
        if self.model is QuoteModel.MID_SKEW:
            two_sided = (market.best_bid != NO_PRICE) & (market.best_ask != NO_PRICE)
            mid = (market.best_bid + market.best_ask) / 2.0 * tick + self.skew_yuan
            return np.where(two_sided, mid, np.nan)
        if self.model is QuoteModel.IOPV:
            return np.where(market.iopv > 0, market.iopv * tick + self.premium_yuan, np.nan)
        reference = np.where(market.last_px > 0, market.last_px, s["prev"])
        return reference * tick + self.premium_yuan

    def quote(self, market: ChainMarket, phase: Phase, *, inventory: F64 | None = None,
              delta: F64 | None = None) -> ChainQuotes:
        """Build and gate the whole chain's quotes for `phase`."""
        theo = self.theo(market)
        built = build_quotes(self.rules, theo, self.params, phase, inventory=inventory,
                             delta=delta, other_bid=market.other_bid,
                             other_ask=market.other_ask)
        none = (built.bid_px == NO_PRICE) & (built.ask_px == NO_PRICE)
        rule, exemption = self.rules.check(market.phase, market.limit, built.bid_px,
                                           built.bid_qty, built.ask_px, built.ask_qty,
                                           market.last_px, market.iopv)
        # a contract with nothing to quote is not a rejection: it sends nothing
        rule = np.where(none, Rule.ACCEPT, rule).astype(np.int8)
        exemption = np.where(none, Exemption.NONE, exemption).astype(np.int8)
        return ChainQuotes(built, rule, exemption, theo)


def phase_codes(phases: list[Phase]) -> I64:
    return np.array([PHASE_CODE[p] for p in phases], dtype=np.int64)
