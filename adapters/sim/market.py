"""The simulated market's fundamentals: seeded underlying paths and the fair values derived
from them (ETFs and stocks at their path, futures at a fixed ratio to the front month, options
by Black-Scholes-Merton or Black-76 with a simple smile, an ETF's IOPV near its price)."""

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal

from core.clock import NS_PER_S
from core.config import InstrumentsConfig, UnderlyingDynamics
from core.enums import CallPut, InstrumentKind
from core.instruments import Instrument
from core.listing import OptionSpec
from quoting.models.bsm import black76_price, bsm_price

TRADING_SECONDS_PER_DAY = 4 * 3600
TRADING_DAYS_PER_YEAR = 252
YEAR_NS = 365 * 24 * 3600 * NS_PER_S
CLOSE = time(15, 0)


class UnderlyingPath:
    """Geometric Brownian motion with Poisson jumps (Merton), in trading time.

    The path advances only when asked for a later time, in one exact step for the elapsed
    interval, so its values depend on the seed and the times asked, never on the wall clock.
    A pause longer than `MAX_GAP_S` (a night, a weekend) moves it as `MAX_GAP_S` of trading
    would: markets gap overnight, but not by a weekend's worth of trading-time variance.
    """

    MAX_GAP_S = 3600.0

    def __init__(self, dyn: UnderlyingDynamics, spot: float, start_ns: int, seed: str) -> None:
        self.dyn = dyn
        self.spot = spot
        self.ts_ns = start_ns
        self._rng = random.Random(seed)
        self._per_second = 1.0 / (TRADING_DAYS_PER_YEAR * TRADING_SECONDS_PER_DAY)

    def price_at(self, ts_ns: int) -> float:
        if ts_ns > self.ts_ns:
            dt = min((ts_ns - self.ts_ns) / NS_PER_S, self.MAX_GAP_S) * self._per_second
            d = self.dyn
            shock = self._rng.gauss(0.0, 1.0)
            log_move = (d.drift - 0.5 * d.vol * d.vol) * dt + d.vol * math.sqrt(dt) * shock
            jumps = self._poisson(d.jump_rate_per_day * TRADING_DAYS_PER_YEAR * dt)
            for _ in range(jumps):
                log_move += self._rng.gauss(d.jump_mean, d.jump_std)
            self.spot *= math.exp(log_move)
            self.ts_ns = ts_ns
        return self.spot

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        limit, k, p = math.exp(-lam), 0, self._rng.random()
        while p > limit:
            k += 1
            p *= self._rng.random()
        return k


@dataclass(frozen=True, slots=True)
class _Link:
    """How an instrument's fair value follows a path."""

    path: str
    ratio: float


class Market:
    """Fair values of every listed instrument at any simulated time."""

    def __init__(
        self,
        instruments: InstrumentsConfig,
        dynamics: tuple[UnderlyingDynamics, ...],
        seed: int,
        start_ns: int,
        tz: timezone,
    ) -> None:
        self._tz = tz
        self._dyn = {d.symbol: d for d in dynamics}
        self._iopv_ratio: dict[str, float] = {}
        spots: dict[str, float] = {}
        for sec in instruments.securities:
            spots[sec.code] = float(sec.prev_close)
            if sec.iopv is not None:
                self._iopv_ratio[sec.code] = float(sec.iopv / sec.prev_close)
        for fut in instruments.futures:
            spots[fut.product] = float(fut.front_price)
        self.paths = {
            symbol: UnderlyingPath(self._dyn[symbol], spot, start_ns, f"{seed}:path:{symbol}")
            for symbol, spot in spots.items()
            if symbol in self._dyn
        }
        self._links: dict[str, _Link] = {}
        self._front: dict[str, float] = {f.product: float(f.front_price)
                                         for f in instruments.futures}
        self._noise = random.Random(f"{seed}:iopv")

    def attach(self, inst: Instrument) -> None:
        """Learn how `inst` follows its path (call once per listed instrument)."""
        if inst.kind is InstrumentKind.FUTURE:
            ratio = float(inst.price(inst.prev_close_ticks)) / self._front[inst.product]
            self._links[inst.instrument_id] = _Link(inst.product, ratio)
        elif inst.instrument_id in self.paths:
            self._links[inst.instrument_id] = _Link(inst.instrument_id, 1.0)

    def underlying_px(self, instrument_id: str, ts_ns: int) -> float:
        link = self._links[instrument_id]
        return self.paths[link.path].price_at(ts_ns) * link.ratio

    def fair(self, inst: Instrument, ts_ns: int) -> float:
        """The instrument's fair value in yuan at `ts_ns`."""
        if not inst.is_option:
            return self.underlying_px(inst.instrument_id, ts_ns)
        assert inst.underlying and inst.strike is not None and inst.expiry is not None
        under = self.underlying_px(inst.underlying, ts_ns)
        years = max((self.expiry_ns(inst.expiry) - ts_ns) / YEAR_NS, 0.0)
        return self._option(inst.underlying, inst.underlying_kind, under, float(inst.strike),
                            years, inst.call_put is CallPut.CALL)

    def iopv(self, inst: Instrument, ts_ns: int) -> float:
        """An ETF's indicative NAV: its fair value times the configured premium, with noise."""
        base = self.fair(inst, ts_ns) * self._iopv_ratio.get(inst.instrument_id, 1.0)
        return base * (1.0 + self._noise.gauss(0.0, 0.0002))

    def settle_pricer(self, instruments_by_symbol: dict[str, InstrumentKind]):
        """A SettlePricer for core.listing: an option's model value at `day`'s close."""

        def settle(spec: OptionSpec, day: date) -> Decimal:
            kind = instruments_by_symbol.get(spec.underlying, InstrumentKind.FUTURE)
            close = datetime.combine(day, CLOSE, tzinfo=self._tz)
            years = max((self.expiry_ns(spec.expiry) - int(close.timestamp()) * NS_PER_S)
                        / YEAR_NS, 0.0)
            value = self._option(spec.underlying, kind, float(spec.underlying_px),
                                 float(spec.strike), years, spec.call_put is CallPut.CALL)
            return Decimal(repr(value))

        return settle

    def _option(self, underlying: str, kind: InstrumentKind | None, under: float, strike: float,
                years: float, is_call: bool) -> float:
        symbol = underlying
        if symbol not in self._dyn:
            symbol = underlying.rstrip("0123456789")  # a futures month follows its product
        dyn = self._dyn[symbol]
        moneyness = math.log(strike / under)
        vol = dyn.vol * (1.0 + dyn.smile * moneyness * moneyness * 100.0)
        if kind is InstrumentKind.FUTURE:
            return black76_price(forward=under, strike=strike, years=years, vol=vol,
                                 rate=dyn.rate, is_call=is_call)
        return bsm_price(spot=under, strike=strike, years=years, vol=vol, rate=dyn.rate,
                         carry=dyn.carry, is_call=is_call)

    def expiry_ns(self, expiry: date) -> int:
        return int(datetime.combine(expiry, CLOSE, tzinfo=self._tz).timestamp()) * NS_PER_S
