"""Instruments: the day's reference data for one tradable contract."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec

from core.enums import CallPut, InstrumentKind, Venue
from core.prices import from_ticks

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]


class Instrument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One contract as traded on one day.

    Prices are integer ticks of `tick` yuan. `prev_close_ticks` is the previous close (stocks,
    ETFs) or previous settlement (futures, options); the price limits are the day's, `None`
    where the venue sets none (a BSE stock's first listing day).
    """

    instrument_id: str
    venue: Venue
    kind: InstrumentKind
    product: str
    tick: Decimal
    min_qty: PositiveInt = 1
    lot: PositiveInt = 1
    multiplier: PositiveInt = 1
    prev_close_ticks: PositiveInt
    limit_up_ticks: int | None = None
    limit_down_ticks: int | None = None
    name: str = ""
    underlying: str | None = None
    underlying_kind: InstrumentKind | None = None
    call_put: CallPut | None = None
    strike: Decimal | None = None
    expiry: date | None = None
    tier: str | None = None

    @property
    def is_option(self) -> bool:
        return self.kind is InstrumentKind.OPTION

    def price(self, px_ticks: int) -> Decimal:
        """The decimal price of `px_ticks` in this instrument's ticks."""
        return from_ticks(px_ticks, self.tick)

    def within_limits(self, px_ticks: int) -> bool:
        """True when `px_ticks` lies inside the day's price limits (inclusive)."""
        if self.limit_up_ticks is not None and px_ticks > self.limit_up_ticks:
            return False
        return not (self.limit_down_ticks is not None and px_ticks < self.limit_down_ticks)


def option_price_limits(
    *,
    prev_settle_ticks: int,
    underlying_close: Decimal,
    strike: Decimal,
    call_put: CallPut,
    tick: Decimal,
    floor_pct: Decimal,
    rise_pct: Decimal,
    fall_pct: Decimal,
) -> tuple[int, int]:
    """SSE ETF option limits around the previous settlement (RULES.md 5), in ticks.

    call max rise = max(S*floor, min(2S-K, S)*rise); put max rise = max(K*floor, min(2K-S, S)*rise);
    max fall = S*fall for both, each at least one tick. The percentages come from the rule pack.
    Rises round down and falls round down to whole ticks, so a limit never exceeds the formula.
    """
    s, k = underlying_close, strike
    if call_put is CallPut.CALL:
        rise = max(s * floor_pct, min(2 * s - k, s) * rise_pct)
    else:
        rise = max(k * floor_pct, min(2 * k - s, s) * rise_pct)
    fall = s * fall_pct
    rise_ticks = max(int(rise / tick), 1)
    fall_ticks = max(int(fall / tick), 1)
    up = prev_settle_ticks + rise_ticks
    down = max(prev_settle_ticks - fall_ticks, 1)
    return up, down


def percent_price_limits(prev_close_ticks: int, pct: Decimal) -> tuple[int, int]:
    """Limits at +-pct of the previous close (stocks, ETFs, futures), rounded inward to ticks."""
    width = int(prev_close_ticks * pct)
    return prev_close_ticks + width, max(prev_close_ticks - width, 1)


def instrument_summary(inst: Instrument) -> str:
    """A one-line description for logs and CLI output."""
    base = f"{inst.venue}:{inst.instrument_id} {inst.kind}"
    if inst.is_option:
        return f"{base} {inst.underlying} {inst.call_put} {inst.strike} {inst.expiry}"
    return base
