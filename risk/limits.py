"""configs/risk.toml: the department's limits, decoded once into frozen Structs.

Every number the pre-trade checks, the market-maker protection and the department monitor
compare against lives here; the code knows the kinds of limit, not the values. The exchanges
grant position limits per application (SSE's long-position, total and daily buy-to-open
limits; 002 ch. 2 §4), so the file carries the desk's granted figures.
"""

from typing import Annotated, Literal

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
    previous_quote_window_s: Positive
    """our previous quote, sent longer ago than this, is no reference for the collar (the
    market may have moved past it since: a collar on it alone would hold the contract
    unquoted for good)"""


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


class GreekLimits(_Frozen, frozen=True, kw_only=True):
    """Absolute levels of a position's Greeks: delta in underlying units, gamma in underlying
    units a 1% move of the underlying, vega in yuan a volatility point, theta in yuan a
    calendar day. None: not watched."""

    delta: Positive | None = None
    gamma: Positive | None = None
    vega: Positive | None = None
    theta: Positive | None = None


class CashLimits(_Frozen, frozen=True, kw_only=True):
    """The book across underlyings, in yuan: delta (units x price), gamma (the change of the
    yuan delta for a 1% move of every underlying), vega a volatility point, theta a day."""

    delta_yuan: Positive | None = None
    gamma_yuan: Positive | None = None
    vega_yuan: Positive | None = None
    theta_yuan: Positive | None = None


class BseLimits(_Frozen, frozen=True, kw_only=True):
    """BSE's monitoring indicators (000 ch. 7): alert levels."""

    turnover_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.3
    """our traded amount over the stock's market turnover"""
    reverse_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.45
    """the amount traded against the day's earlier direction over our traded amount"""
    cancel_ratio: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.95
    """quotes cancelled (by us, not by a fill) over quotes entered"""
    self_trades: NonNegInt = 0
    """fills of ours against ours"""
    price_band: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.05
    """a quote side priced further than this from the last trade (or the previous close)"""
    price_outliers: NonNegInt = 0


class Measure(_Frozen, frozen=True, kw_only=True):
    """What runs, on an authorised confirmation, when an alert of a kind prompts."""

    action: Literal["widen", "reduce_size", "pull", "hedge"]
    factor: Annotated[float, msgspec.Meta(gt=1)] = 2.0
    """widen: the width times this; reduce_size: the size divided by it"""


class Department(_Frozen, frozen=True, kw_only=True):
    """The department risk process (`mmgw risk department`): what it watches and when it
    alerts. Alerts of a kind with a measure raise a prompt on the gateway."""

    interval_s: Positive = 1.0
    """how often the book is revalued, the limits compared and the status written"""
    silence_s: Positive = 5.0
    """the gateway stops quoting when the process, once heard, is silent this long"""
    rate: float = 0.015
    """the rate the department values options with"""
    contract: GreekLimits = GreekLimits()
    underlyings: dict[str, GreekLimits] = {}
    total: CashLimits = CashLimits()
    loss_alert_yuan: Positive | None = None
    """the day's P&L below minus this: an alert"""
    loss_halt_yuan: Positive | None = None
    """below minus this: the process halts everything itself (kill scope all)"""
    maintenance_min: Positive = 1.5
    """cash over maintenance margin below this: an alert"""
    expiry_days: NonNegInt = 3
    """positions in contracts expiring within this many calendar days are listed and alerted"""
    pin_days: NonNegInt = 2
    pin_band: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.02
    """pin risk: a position in a contract expiring within pin_days whose strike is within
    this fraction of the underlying"""
    overnight_from: str = "14:45"
    """local time from which the overnight limits apply to the book as it stands"""
    overnight: CashLimits = CashLimits()
    max_orders_per_s: Positive | None = None
    """quotes and orders sent in any one second (exchange time)"""
    max_notional_yuan: Positive | None = None
    """a side of one quote or order"""
    bse: BseLimits = BseLimits()
    measures: dict[str, Measure] = {}
    """alert kind (delta, gamma, vega, theta, loss, maintenance, ...), or kind and scope
    (delta:underlying, vega:all, ...), -> its preset measure"""


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
    department: Department = Department()
