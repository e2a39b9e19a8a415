"""configs/risk.toml: the department's limits, decoded once into frozen Structs.

Every number the pre-trade checks, the market-maker protection and the department monitor
compare against lives here; the code knows the kinds of limit, not the values. The exchanges
grant position limits per application (SSE's long-position, total and daily buy-to-open
limits; 002 ch. 2 §4), so the file carries the desk's granted figures.
"""

from typing import Annotated

import msgspec

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNeg = Annotated[float, msgspec.Meta(ge=0)]


class _Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Collar(_Frozen, frozen=True, kw_only=True):
    """A price may stand at most max(`ticks`, `fraction` x reference) from the reference."""

    ticks: NonNegInt
    fraction: NonNeg


class ProductLimits(_Frozen, frozen=True, kw_only=True):
    max_quote_qty: PositiveInt
    """lots a side of one quote"""
    max_order_qty: PositiveInt
    max_notional_yuan: Positive
    """a side of a quote or an order: price x quantity x multiplier"""
    theo: Collar
    last_trade: Collar
    previous_quote: Collar
    long_limit: PositiveInt | None = None
    """SSE: long positions (calls and puts bought) on the underlying, lots"""
    total_limit: PositiveInt | None = None
    """SSE: long plus short positions on the underlying, lots"""
    daily_bto_limit: PositiveInt | None = None
    """SSE: lots bought to open on the underlying today"""
    opening_inventory: NonNegInt = 0
    """stocks and ETFs: what the account holds at the open (units)"""
    inventory_max: NonNegInt | None = None
    inventory_min: NonNegInt | None = None
    """stocks and ETFs: the inventory may not fall below this (0: no short sale)"""


class Throttle(_Frozen, frozen=True, kw_only=True):
    """Quotes and orders leave at most `per_s` a second with bursts up to `burst`; cancels
    are never throttled."""

    per_s: Positive
    burst: PositiveInt


class References(_Frozen, frozen=True, kw_only=True):
    max_age_s: Positive
    """a theoretical value from market data older than this is stale: the quote is refused"""
    last_trade_window_s: Positive
    """a last trade older than this is no reference for the collar"""


class Margin(_Frozen, frozen=True, kw_only=True):
    """Margin for short positions: SSE options by the exchange's formula (RULES.md 5);
    futures and their options by the exchange's rate of the contract value."""

    sse_option_high: Positive = 0.12
    sse_option_low: Positive = 0.07
    future_rate: Positive = 0.08


class Protection(_Frozen, frozen=True, kw_only=True):
    """Market-maker protection per product: fills of our quotes within `window_s` beyond any
    level pull every quote in the product and latch until reset."""

    window_s: Positive
    max_fills: PositiveInt | None = None
    max_volume: PositiveInt | None = None
    max_delta: Positive | None = None
    """|sum of signed fill delta| in underlying units"""
    max_vega: Positive | None = None
    """|sum of signed fill vega| in yuan per vol point"""


class RiskConfig(_Frozen, frozen=True, kw_only=True):
    account: str
    """the dedicated market-making account: nothing else leaves"""
    funds_yuan: Positive
    tradable: list[str]
    """underlyings (or the securities themselves) the desk may trade"""
    throttle: Throttle
    references: References
    margin: Margin = Margin()
    products: dict[str, ProductLimits]
    protection: dict[str, Protection] = {}
