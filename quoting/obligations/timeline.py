"""The quote-timeline format (TIMELINE.md): JSON Lines in, typed events out.

`parse` reads every line (bytes), checks it and returns the contracts and the events with
integer nanosecond times; a malformed line is a TimelineError that names the line number, the
field and the problem. Unknown fields are ignored. Prices stay Decimal (exact); events must be
ordered by time (equal times keep file order).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS
_EPOCH_DAY = date(1970, 1, 1)
Px = Annotated[Decimal, msgspec.Meta()]
Size = Annotated[int, msgspec.Meta(ge=0)]
Level = tuple[Decimal, Size]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class ContractRecord(_Event, frozen=True, kw_only=True, tag="contract"):
    contract: str
    product: str
    venue: Literal["SSE", "BSE", "ZCE"]
    kind: Literal["option", "stock", "etf", "future"]
    tick: Decimal
    underlying_kind: Literal["etf", "stock", "future"] | None = None  # future: ZCE (an extension)
    call_put: Literal["call", "put"] | None = None
    strike: Decimal | None = None
    expiry: date | None = None
    tier: Literal["near", "far"] | None = None
    multiplier: Annotated[int, msgspec.Meta(gt=0)] = 1
    """contract units per lot (an extension of TIMELINE.md, for amounts); 1 when absent"""


class _Timed(_Event, frozen=True, kw_only=True):
    ts: datetime


Phase = Literal["pre_open", "opening_auction", "continuous", "circuit_breaker_auction",
                "closing_auction", "halted", "closed", "break"]


class PhaseEvent(_Timed, frozen=True, kw_only=True, tag="phase"):
    phase: Phase
    product: str | None = None
    contract: str | None = None


class LimitEvent(_Timed, frozen=True, kw_only=True, tag="limit"):
    contract: str
    state: Literal["up", "down", "none"]


class QuoteEvent(_Timed, frozen=True, kw_only=True, tag="quote"):
    contract: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


class CancelEvent(_Timed, frozen=True, kw_only=True, tag="cancel"):
    contract: str


class FillEvent(_Timed, frozen=True, kw_only=True, tag="fill"):
    contract: str
    side: Literal["buy", "sell"]
    price: Decimal
    size: Annotated[int, msgspec.Meta(gt=0)]


class RfqEvent(_Timed, frozen=True, kw_only=True, tag="rfq"):
    rfq_id: str
    contract: str


class RfqQuoteEvent(_Timed, frozen=True, kw_only=True, tag="rfq_quote"):
    rfq_id: str
    contract: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


class RfqCancelEvent(_Timed, frozen=True, kw_only=True, tag="rfq_cancel"):
    rfq_id: str
    reason: Literal["filled", "cancelled"]


class ExemptEvent(_Timed, frozen=True, kw_only=True, tag="exempt"):
    state: Literal["start", "end"]
    reason: str = ""
    contract: str | None = None
    product: str | None = None


AnyEvent = (ContractRecord | PhaseEvent | LimitEvent | QuoteEvent | CancelEvent | FillEvent
            | RfqEvent | RfqQuoteEvent | RfqCancelEvent | ExemptEvent)
TimedEvent = (PhaseEvent | LimitEvent | QuoteEvent | CancelEvent | FillEvent | RfqEvent
              | RfqQuoteEvent | RfqCancelEvent | ExemptEvent)

_LINE_DECODER = msgspec.json.Decoder(AnyEvent)
_ALL_DECODER = msgspec.json.Decoder(list[AnyEvent])
_PATH = re.compile(r"at `\$(?:\[\d+\])?(?P<path>[^`]*)`")


class TimelineError(ValueError):
    """A timeline line that cannot be read: names the line, the field and the problem."""

    def __init__(self, line: int, field: str, problem: str) -> None:
        self.line, self.field, self.problem = line, field, problem
        super().__init__(f"line {line}: {field}: {problem}")


@dataclass(slots=True)
class Timeline:
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    events: list[TimedEvent] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    """each event's time in nanoseconds since the epoch"""
    dates: list[date] = field(default_factory=list)
    """each event's local date (in the offset it was written with)"""
    offset: timezone | None = None

    def local_date(self, ts_ns: int) -> date:
        """The date of `ts_ns` in the timeline's UTC offset."""
        delta = (self.offset or UTC).utcoffset(None)
        shifted = ts_ns + (int(delta.total_seconds()) * SECOND_NS if delta else 0)
        return _EPOCH_DAY + timedelta(days=shifted // (86_400 * SECOND_NS))


def _error(line: int, exc: msgspec.ValidationError | msgspec.DecodeError) -> TimelineError:
    message = str(exc)
    match = _PATH.search(message)
    where = match.group("path").lstrip(".") if match else ""
    problem = _PATH.sub("", message).strip(" -")
    missing = re.match(r"Object missing required field `([^`]+)`", problem)
    if missing:
        return TimelineError(line, ".".join(x for x in (where, missing.group(1)) if x),
                             "missing required field")
    return TimelineError(line, where or "line", problem)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime, exactly (no float)."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND_NS + delta.microseconds * 1000


def parse(lines: Iterable[bytes]) -> Timeline:
    """Every line of a timeline, checked; raises TimelineError at the first bad one."""
    raw = [line for line in lines]
    numbered = [(n, line) for n, line in enumerate(raw, 1) if line.strip()]
    try:
        decoded = _ALL_DECODER.decode(b"[" + b",".join(line for _, line in numbered) + b"]")
    except (msgspec.ValidationError, msgspec.DecodeError):
        # find the line (decoding them one by one is slower, and only done on an error)
        for number, line in numbered:
            try:
                _LINE_DECODER.decode(line)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise _error(number, exc) from exc
        raise
    out = Timeline()
    last_ns = None
    for (number, _), event in zip(numbered, decoded, strict=True):
        if isinstance(event, ContractRecord):
            if event.tick <= 0:
                raise TimelineError(number, "tick", f"{event.tick} must be positive")
            if event.kind == "option" and (event.expiry is None or event.strike is None):
                raise TimelineError(number, "expiry" if event.expiry is None else "strike",
                                    "missing required field for an option")
            out.contracts[event.contract] = event
            continue
        ts = event.ts
        if ts.tzinfo is None:
            raise TimelineError(number, "ts", f"{ts.isoformat()} has no UTC offset")
        ts_ns = to_ns(ts)
        if last_ns is not None and ts_ns < last_ns:
            raise TimelineError(number, "ts", f"{ts.isoformat()} is earlier than the line "
                                              "before it (a timeline is ordered by time)")
        contract = getattr(event, "contract", None)
        if contract is not None and contract not in out.contracts:
            raise TimelineError(number, "contract", f"{contract!r} has no contract record "
                                                    "before it")
        for side in ("bids", "asks"):
            for level, (price, _) in enumerate(getattr(event, side, ())):
                if price <= 0:
                    raise TimelineError(number, f"{side}[{level}]", f"price {price} must be "
                                                                    "positive")
        last_ns = ts_ns
        out.events.append(event)
        out.times.append(ts_ns)
        out.dates.append(ts.date())
        out.offset = out.offset or ts.tzinfo  # type: ignore[assignment]
    return out


def local_day_start_ns(day: date, offset: timezone | None) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=offset or UTC)
    return int(moment.timestamp()) * 1_000_000_000



def split_by_month(timeline: Timeline) -> dict[str, Timeline]:
    """The timeline cut into calendar months (by each event's local date); every month keeps
    all contract records."""
    out: dict[str, Timeline] = {}
    for event, ts, day in zip(timeline.events, timeline.times, timeline.dates, strict=True):
        key = f"{day:%Y-%m}"
        part = out.get(key)
        if part is None:
            part = out[key] = Timeline(dict(timeline.contracts), offset=timeline.offset)
        part.events.append(event)
        part.times.append(ts)
        part.dates.append(day)
    return out


def restrict(timeline: Timeline, venue: str, kinds: Iterable[str]) -> Timeline:
    """The part of a timeline a rule pack governs: its venue's contracts of its kinds, and the
    events about them (phase events for the whole market are kept)."""
    wanted = set(kinds)
    keep = {c: r for c, r in timeline.contracts.items()
            if r.venue == venue and r.kind in wanted}
    products = {r.product for r in keep.values()}
    out = Timeline(keep, offset=timeline.offset)
    for event, ts, day in zip(timeline.events, timeline.times, timeline.dates, strict=True):
        contract = getattr(event, "contract", None)
        if contract is not None and contract not in keep:
            continue
        product = getattr(event, "product", None)
        if contract is None and product not in (None, "*") and product not in products:
            continue
        out.events.append(event)
        out.times.append(ts)
        out.dates.append(day)
    return out
