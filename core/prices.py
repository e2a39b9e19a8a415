"""Conversions between decimal prices (text at the edges) and integer ticks (inside the core)."""

from decimal import Decimal, InvalidOperation


class PriceError(ValueError):
    """A price that is not a decimal, not positive where it must be, or off the tick grid."""


def to_ticks(px: Decimal | str, tick: Decimal, *, field: str = "price") -> int:
    """Return `px` in whole ticks; raise PriceError naming `field` when it is off the grid."""
    try:
        value = Decimal(px)
    except (InvalidOperation, TypeError) as exc:
        raise PriceError(f"{field}: {px!r} is not a decimal number") from exc
    if not value.is_finite():
        raise PriceError(f"{field}: {px!r} is not a finite number")
    ticks, rest = divmod(value, tick)
    if rest != 0:
        raise PriceError(f"{field}: {px} is not a multiple of the tick {tick}")
    return int(ticks)


def from_ticks(px_ticks: int, tick: Decimal) -> Decimal:
    """Return the decimal price of `px_ticks`, with the tick's number of decimal places."""
    return (tick * px_ticks).quantize(tick)


def round_to_ticks(px: float | Decimal, tick: Decimal, *, up: bool) -> int:
    """Round a model price to whole ticks, up (asks) or down (bids), in exact arithmetic."""
    value = Decimal(str(px)) / tick
    ticks = int(value.to_integral_value(rounding="ROUND_CEILING" if up else "ROUND_FLOOR"))
    return ticks
