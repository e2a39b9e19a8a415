"""The configuration schema: frozen Structs decoded once from TOML, with bounds.

`decode` turns already-parsed TOML into a Struct and, when it does not fit, raises ConfigError
naming the source file, the dotted key and the offending value. Reading files is the shell's
job (adapters/refdata/loader.py).
"""

import copy
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from core.enums import Phase, Venue

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
Offset = Annotated[str, msgspec.Meta(pattern=r"^[+-]\d\d:\d\d$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_]{1,16}$")]


class _Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # msgspec bounds cover int and float; decimal fields named here must be > 0, and those in
    # _FRACTIONS lie strictly between 0 and 1
    _POSITIVE: ClassVar[tuple[str, ...]] = ()
    _FRACTIONS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._POSITIVE:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"field `{name}` must be > 0")
        for name in self._FRACTIONS:
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise ValueError(f"field `{name}` must lie between 0 and 1")


class ConfigError(ValueError):
    """A configuration that does not validate: names the file, the key and the value."""

    def __init__(self, source: str, key: str, value: Any, problem: str) -> None:
        self.source, self.key, self.value, self.problem = source, key, value, problem
        super().__init__(f"{source}: {key} = {value!r}: {problem}")


# ---- venues and sessions -----------------------------------------------------------------------


class ScheduleEntry(_Frozen, frozen=True, kw_only=True):
    """From `at` (local time) the phase is `phase`. `evening` entries happen on the evening of
    the previous trading day (a night session belongs to the next trading day); an entry
    marked `without_evening` applies only on a day whose night session did not run (ZCE's day
    opening auction after a holiday)."""

    at: TimeOfDay
    phase: Phase
    evening: bool = False
    without_evening: bool = False


class Schedule(_Frozen, frozen=True, kw_only=True):
    entries: Annotated[tuple[ScheduleEntry, ...], msgspec.Meta(min_length=2)]
    comment: str = ""


class VenueConfig(_Frozen, frozen=True, kw_only=True):
    utc_offset: Offset = "+08:00"
    self_trade: Literal["cancel_incoming", "cancel_resting"] = "cancel_incoming"
    comment: str = ""


class AuctionRule(_Frozen, frozen=True, kw_only=True):
    """How a call auction picks its one price when several give the maximum volume and the
    minimum imbalance: the reference price's nearest (options, BSE, ZCE) or the midpoint of
    the remaining candidates (SSE stocks and funds)."""

    tie_break: Literal["nearest_reference", "midpoint"]


class CircuitBreakerRule(_Frozen, frozen=True, kw_only=True):
    """A continuous-trading price that moves >= `move_pct` and >= `min_ticks` from the
    reference price sends the contract into a call auction of `duration_s` seconds."""

    _POSITIVE = ("move_pct",)

    move_pct: Decimal
    min_ticks: PositiveInt
    duration_s: PositiveInt


class OptionLimitRule(_Frozen, frozen=True, kw_only=True):
    floor_pct: Decimal
    rise_pct: Decimal
    fall_pct: Decimal


# ---- products ----------------------------------------------------------------------------------


class SecurityConfig(_Frozen, frozen=True, kw_only=True):
    """A stock or an ETF: listed as one contract, in the product `product` (its code unless an
    option product already carries that name)."""

    _POSITIVE = ("tick", "prev_close", "iopv")
    _FRACTIONS = ("limit_pct",)

    code: Code
    name: str
    product: Code | None = None
    venue: Venue
    kind: Literal["stock", "etf"]
    tick: Decimal
    prev_close: Decimal
    limit_pct: Decimal
    schedule: str
    auction: AuctionRule
    min_qty: PositiveInt = 100
    lot: PositiveInt = 1
    iopv: Decimal | None = None
    market_making: bool = False


class FuturesConfig(_Frozen, frozen=True, kw_only=True):
    """A futures product: one contract per listed delivery month."""

    _POSITIVE = ("tick", "front_price")
    _FRACTIONS = ("limit_pct",)

    product: Code
    name: str
    venue: Venue
    tick: Decimal
    multiplier: PositiveInt
    limit_pct: Decimal
    schedule: str
    auction: AuctionRule
    delivery_months: Annotated[tuple[int, ...], msgspec.Meta(min_length=1)]
    listed_months_ahead: Annotated[int, msgspec.Meta(ge=1, le=24)] = 12
    last_trading_day: PositiveInt = 10
    front_price: Decimal
    basis_per_month: Decimal = Decimal(0)
    min_qty: PositiveInt = 1


class StrikeStep(_Frozen, frozen=True, kw_only=True):
    _POSITIVE = ("up_to", "step")
    up_to: Decimal | None = None
    step: Decimal


class OptionChainConfig(_Frozen, frozen=True, kw_only=True):
    """An option product: the listing rules of its chain.

    `listing = "monthly_quarterly"` lists the current and next month and the next two quarter
    months (SSE); `"on_futures"` lists options on the nearest `expiries` futures contracts
    (ZCE). `tier` is `near` for the first `near_expiries` months, `far` after."""

    _POSITIVE = ("tick",)
    _FRACTIONS = ("limit_pct",)

    product: Code
    name: str
    venue: Venue
    underlying: Code
    underlying_kind: Literal["etf", "stock", "future"]
    tick: Decimal
    multiplier: PositiveInt
    listing: Literal["monthly_quarterly", "on_futures"]
    expiries: Annotated[int, msgspec.Meta(ge=1, le=12)] = 4
    near_expiries: NonNegInt = 2
    expiry_rule: Literal["fourth_wednesday", "before_15th_of_previous_month"]
    strikes_per_side: Annotated[int, msgspec.Meta(ge=1, le=80)] = 4
    strike_steps: Annotated[tuple[StrikeStep, ...], msgspec.Meta(min_length=1)]
    code_style: Literal["sse_numeric", "zce"]
    first_code: PositiveInt = 10000001
    schedule: str
    auction: AuctionRule
    limits: OptionLimitRule | None = None
    limit_pct: Decimal | None = None
    circuit_breaker: CircuitBreakerRule | None = None
    min_qty: PositiveInt = 1
    market_making: bool = True


class InstrumentsConfig(_Frozen, frozen=True, kw_only=True):
    securities: tuple[SecurityConfig, ...] = ()
    futures: tuple[FuturesConfig, ...] = ()
    option_chains: tuple[OptionChainConfig, ...] = ()


class VenuesConfig(_Frozen, frozen=True, kw_only=True):
    venues: dict[Venue, VenueConfig]
    schedules: dict[str, Schedule]


class HolidayYear(_Frozen, frozen=True, kw_only=True):
    year: Annotated[int, msgspec.Meta(ge=1990, le=2200)]
    status: Literal["official", "provisional"]
    source: str
    closed: tuple[date, ...]


class HolidaysConfig(_Frozen, frozen=True, kw_only=True):
    years: tuple[HolidayYear, ...] = ()


# ---- the simulator -----------------------------------------------------------------------------


class UnderlyingDynamics(_Frozen, frozen=True, kw_only=True):
    """A seeded underlying path: GBM with Poisson jumps (Merton)."""

    symbol: Code
    vol: Annotated[float, msgspec.Meta(gt=0, le=3)]
    drift: float = 0.0
    jump_rate_per_day: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    jump_mean: float = 0.0
    jump_std: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    smile: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    rate: float = 0.015
    carry: float = 0.0


class FlowConfig(_Frozen, frozen=True, kw_only=True):
    """Simulated clients: takers, background liquidity and RFQs."""

    taker_orders_per_hour: Annotated[float, msgspec.Meta(ge=0)] = 12.0
    taker_max_lots: PositiveInt = 20
    taker_aggression_ticks: NonNegInt = 2
    background_refresh_s: PositiveInt = 60
    background_spread_ticks: PositiveInt = 6
    background_levels: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    background_lots: PositiveInt = 30
    auction_orders: NonNegInt = 4
    rfqs_per_hour: Annotated[float, msgspec.Meta(ge=0)] = 0.5
    rfq_deadline_s: PositiveInt = 15
    rfq_take_probability: Fraction = 0.5
    halt_probability: Fraction = 0.0


class SimConfig(_Frozen, frozen=True, kw_only=True):
    default_day: date
    step_s: PositiveInt = 1
    underlyings: tuple[UnderlyingDynamics, ...]
    flow: FlowConfig = FlowConfig()
    maker_account: str = "MM01"


_PATH_RE = re.compile(r"at `\$(?P<path>[^`]*)`")


def _lookup(raw: Any, path: str) -> Any:
    """Follow a msgspec error path such as `.venues.SSE.self_trade` or `[2].tick` into `raw`."""
    node = raw
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return "<missing>"
    return node


def _dotted(path: str) -> str:
    return path.lstrip(".").replace("[", ".").replace("]", "") or "<root>"


def _error_path(raw: dict[str, Any], schema: type[msgspec.Struct]) -> str | None:
    try:
        msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        match = _PATH_RE.search(str(exc))
        return match.group("path") if match else ""
    return None


def _name_dict_keys(raw: dict[str, Any], schema: type[msgspec.Struct], path: str) -> str:
    """msgspec writes a table key as `[...]`: find the key by converting one entry at a time."""
    while "[...]" in path:
        prefix, rest = path.split("[...]", 1)
        node = _lookup(raw, prefix)
        culprit = "<unknown>"
        for key in node if isinstance(node, dict) else ():
            trial = copy.deepcopy(raw)
            target = _lookup(trial, prefix)
            for other in [k for k in target if k != key]:
                del target[other]
            found = _error_path(trial, schema)
            if found is not None and found.startswith(f"{prefix}[...]"):
                culprit = key
                break
        path = f"{prefix}.{culprit}{rest}"
    return path


def decode(raw: dict[str, Any], schema: type[msgspec.Struct], *, source: str) -> Any:
    """Convert parsed TOML into `schema`, or raise ConfigError(file, key, value, problem)."""
    try:
        return msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH_RE.search(message)
        path = _name_dict_keys(raw, schema, match.group("path") if match else "")
        problem = _PATH_RE.sub("", message).strip(" -")
        field = re.match(r"field `(\w+)` (.*)", problem)
        if field:
            path, problem = f"{path}.{field.group(1)}", field.group(2)
        unknown = re.match(r"Object contains unknown field `([^`]+)`", problem)
        if unknown:
            key = f"{_dotted(path)}.{unknown.group(1)}".removeprefix("<root>.")
            value = _lookup(raw, f"{path}.{unknown.group(1)}")
            raise ConfigError(source, key, value, "unknown key") from exc
        raise ConfigError(source, _dotted(path), _lookup(raw, path), problem) from exc
