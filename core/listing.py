"""The contracts a venue lists on a given trading day, derived from the listing rules in
configs/instruments.toml (RULES.md 5): option chains with their expiries, strikes and limits,
futures months, stocks and ETFs. Pure: prices for previous settlements come from the caller.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.calendar import TradingCalendar
from core.config import (
    FuturesConfig,
    InstrumentsConfig,
    OptionChainConfig,
    SecurityConfig,
    StrikeStep,
)
from core.enums import CallPut, InstrumentKind
from core.instruments import Instrument, option_price_limits, percent_price_limits
from core.prices import to_ticks


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """What an option's previous settlement is computed from."""

    underlying: str
    underlying_px: Decimal
    strike: Decimal
    call_put: CallPut
    expiry: date


SettlePricer = Callable[[OptionSpec, date], Decimal]
"""Returns an option's previous settlement price in yuan, given its spec and the day whose close
it is struck at: the trading day before the day listed."""


@dataclass(frozen=True, slots=True)
class Listing:
    """The instruments of one trading day, in a fixed order."""

    day: date
    instruments: tuple[Instrument, ...]

    def by_id(self) -> dict[str, Instrument]:
        return {inst.instrument_id: inst for inst in self.instruments}


def fourth_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    first_wed = first + timedelta(days=(2 - first.weekday()) % 7)
    return first_wed + timedelta(weeks=3)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + n
    return total // 12, total % 12 + 1


def sse_expiry(cal: TradingCalendar, year: int, month: int) -> date:
    """The fourth Wednesday of the month, or the next trading day when that is a holiday."""
    return cal.on_or_after(fourth_wednesday(year, month))


def zce_option_expiry(cal: TradingCalendar, year: int, month: int) -> date:
    """The last trading day on or before the 15th of the month before the delivery month."""
    y, m = _add_months(year, month, -1)
    return cal.on_or_before(date(y, m, 15))


def strike_step(price: Decimal, steps: tuple[StrikeStep, ...]) -> Decimal:
    for band in steps:
        if band.up_to is None or price <= band.up_to:
            return band.step
    return steps[-1].step


def strike_ladder(spot: Decimal, per_side: int, steps: tuple[StrikeStep, ...]) -> list[Decimal]:
    """1 at-the-money strike and `per_side` on each side, each on the grid of its price band."""
    step = strike_step(spot, steps)
    atm = (spot / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    strikes = [atm]
    up = down = atm
    for _ in range(per_side):
        up = up + strike_step(up, steps)
        strikes.append(up)
        # a step below a band edge belongs to the lower band
        below = strike_step(down - Decimal("1e-9"), steps)
        if down - below > 0:
            down = down - below
            strikes.append(down)
    return sorted(strikes)


def list_day(
    config: InstrumentsConfig, cal: TradingCalendar, day: date, settle: SettlePricer,
    closes: Mapping[str, Decimal] | None = None,
) -> Listing:
    """Every contract listed on `day` with its reference data and price limits. `closes`
    gives previous closes (settlements for futures) that replace the configured ones: the
    day before's, when the exchange lists the next day."""
    if not cal.is_trading_day(day):
        raise ValueError(f"{day.isoformat()} is not a trading day")
    closes = closes or {}
    out: list[Instrument] = [_security(sec, closes.get(sec.code)) for sec in config.securities]
    futures_by_product: dict[str, list[Instrument]] = {}
    for fut in config.futures:
        listed = _futures(fut, cal, day, closes)
        futures_by_product[fut.product] = listed
        out.extend(listed)
    spots = {inst.instrument_id: inst.price(inst.prev_close_ticks) for inst in out}
    for chain in config.option_chains:
        out.extend(_chain(chain, cal, day, spots, futures_by_product, settle))
    ids = [inst.instrument_id for inst in out]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"instrument ids listed twice on {day}: {', '.join(dup)}")
    return Listing(day, tuple(out))


def _security(sec: SecurityConfig, close: Decimal | None) -> Instrument:
    prev = to_ticks(close or sec.prev_close, sec.tick, field=f"{sec.code}.prev_close")
    up, down = percent_price_limits(prev, sec.limit_pct)
    return Instrument(
        instrument_id=sec.code,
        venue=sec.venue,
        kind=InstrumentKind(sec.kind),
        product=sec.product or sec.code,
        name=sec.name,
        tick=sec.tick,
        min_qty=sec.min_qty,
        lot=sec.lot,
        prev_close_ticks=prev,
        limit_up_ticks=up,
        limit_down_ticks=down,
    )


def futures_code(product: str, year: int, month: int) -> str:
    """ZCE style: product, last digit of the year, two-digit month (SR701 = January 2027)."""
    return f"{product}{year % 10}{month:02d}"


def _futures(fut: FuturesConfig, cal: TradingCalendar, day: date,
             closes: Mapping[str, Decimal]) -> list[Instrument]:
    out = []
    for ahead in range(fut.listed_months_ahead + 1):
        year, month = _add_months(day.year, day.month, ahead)
        if month not in fut.delivery_months:
            continue
        last_day = _last_trading_day(cal, year, month, fut.last_trading_day)
        if last_day is not None and last_day < day:
            continue
        code = futures_code(fut.product, year, month)
        px = closes.get(code) or fut.front_price + fut.basis_per_month * ahead
        px = (px / fut.tick).to_integral_value() * fut.tick
        prev = to_ticks(px, fut.tick, field=f"{fut.product}.front_price")
        up, down = percent_price_limits(prev, fut.limit_pct)
        out.append(
            Instrument(
                instrument_id=code,
                venue=fut.venue,
                kind=InstrumentKind.FUTURE,
                product=fut.product,
                name=f"{fut.name} {year}-{month:02d}",
                tick=fut.tick,
                min_qty=fut.min_qty,
                multiplier=fut.multiplier,
                prev_close_ticks=prev,
                limit_up_ticks=up,
                limit_down_ticks=down,
                expiry=last_day,
            )
        )
    return out


def _last_trading_day(cal: TradingCalendar, year: int, month: int, n: int) -> date | None:
    """The n-th trading day of a delivery month, or None when the calendar does not reach that
    year yet (a far month listed before its holidays are published: it is not yet fixed)."""
    if year not in cal.years:
        return None
    return cal.nth_trading_day(year, month, n)


def _expiries(
    chain: OptionChainConfig,
    cal: TradingCalendar,
    day: date,
    futures: dict[str, list[Instrument]],
) -> list[tuple[date, str]]:
    """(expiry, underlying id) for each listed expiry month, nearest first."""
    if chain.listing == "on_futures":
        listed = futures.get(chain.underlying)
        if not listed:
            raise ValueError(f"option chain {chain.product}: no futures {chain.underlying} listed")
        out = []
        for fut in listed:
            if len(out) == chain.expiries:
                break
            year, month = _month_of(fut.instrument_id, day)
            expiry = zce_option_expiry(cal, year, month)
            if expiry >= day:
                out.append((expiry, fut.instrument_id))
        return out
    year, month = day.year, day.month
    if sse_expiry(cal, year, month) < day:
        year, month = _add_months(year, month, 1)
    months = [(year, month), _add_months(year, month, 1)]
    y, m = months[-1]
    while len(months) < chain.expiries:
        y, m = _add_months(y, m, 1)
        if m % 3 == 0:
            months.append((y, m))
    return [(sse_expiry(cal, y, m), chain.underlying) for y, m in months[: chain.expiries]]


def _month_of(futures_id: str, day: date) -> tuple[int, int]:
    """Decode a ZCE futures code's year digit and month, taking the decade nearest `day`."""
    digit, month = int(futures_id[-3]), int(futures_id[-2:])
    year = day.year - day.year % 10 + digit
    if year < day.year - 1:
        year += 10
    return year, month


def _chain(
    chain: OptionChainConfig,
    cal: TradingCalendar,
    day: date,
    spots: dict[str, Decimal],
    futures: dict[str, list[Instrument]],
    settle: SettlePricer,
) -> list[Instrument]:
    out: list[Instrument] = []
    code = chain.first_code
    settled = cal.previous_trading_day(day)
    for index, (expiry, underlying) in enumerate(_expiries(chain, cal, day, futures)):
        if underlying not in spots:
            raise ValueError(f"option chain {chain.product}: underlying {underlying} not listed")
        spot = spots[underlying]
        tier = "near" if index < chain.near_expiries else "far"
        for cp in (CallPut.CALL, CallPut.PUT):
            for strike in strike_ladder(spot, chain.strikes_per_side, chain.strike_steps):
                spec = OptionSpec(underlying, spot, strike, cp, expiry)
                px = max(settle(spec, settled), chain.tick)
                prev = max(int((px / chain.tick).to_integral_value()), 1)
                up, down = _option_limits(chain, spot, strike, cp, prev)
                if chain.code_style == "zce":
                    letter = "C" if cp is CallPut.CALL else "P"
                    inst_id = name = f"{underlying}{letter}{strike.normalize():f}"
                else:
                    inst_id = str(code)
                    code += 1
                    name = sse_trading_code(chain.underlying, cp, expiry, strike)
                out.append(
                    Instrument(
                        instrument_id=inst_id,
                        venue=chain.venue,
                        kind=InstrumentKind.OPTION,
                        product=chain.product,
                        name=name,
                        tick=chain.tick,
                        min_qty=chain.min_qty,
                        multiplier=chain.multiplier,
                        prev_close_ticks=prev,
                        limit_up_ticks=up,
                        limit_down_ticks=down,
                        underlying=underlying,
                        underlying_kind=InstrumentKind(chain.underlying_kind),
                        call_put=cp,
                        strike=strike,
                        expiry=expiry,
                        tier=tier,
                    )
                )
    return out


def sse_trading_code(underlying: str, cp: CallPut, expiry: date, strike: Decimal) -> str:
    """The SSE contract trading code, e.g. 510050C2612M03100 (strike in 0.001 yuan)."""
    letter = "C" if cp is CallPut.CALL else "P"
    return f"{underlying}{letter}{expiry:%y%m}M{int(strike * 1000):05d}"


def _option_limits(
    chain: OptionChainConfig, spot: Decimal, strike: Decimal, cp: CallPut, prev: int
) -> tuple[int | None, int | None]:
    if chain.limits is not None:
        rule = chain.limits
        return option_price_limits(
            prev_settle_ticks=prev,
            underlying_close=spot,
            strike=strike,
            call_put=cp,
            tick=chain.tick,
            floor_pct=rule.floor_pct,
            rise_pct=rule.rise_pct,
            fall_pct=rule.fall_pct,
        )
    if chain.limit_pct is not None:
        # ZCE: an option moves at most as far as its underlying future may (in price terms)
        width = max(int(spot * chain.limit_pct / chain.tick), 1)
        return prev + width, max(prev - width, 1)
    return None, None
