"""Quote construction: from theoretical values and quote parameters to prices and sizes.

Per contract: the theo is skewed by inventory and delta, the wanted width is laid around it,
the bid rounded down and the ask rounded up to ticks, and then the spread is narrowed around
its middle until, after rounding, it is within the rule pack's limit (never wider); both sides
are kept inside the price limits and never crossed; in continuous trading a quote never trades
on arrival: where a side would reach the best price of everyone else on the other side, the
whole quote moves away from it, keeping its width (a quote that trades leaves the contract
one-sided until the requote rests, and the exchange counts only two-sided time). Sizes are at
least the phase's minimum (and amount) in whole lots. Disabled contracts get no quote; an
option whose bid would fall below a tick, where the pack lets a cheap option withdraw its bid,
is quoted on the ask alone.
Vectorised: one call builds a whole chain.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.enums import Phase
from quoting.gate import NO_PRICE, ChainRules

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class QuoteParams:
    """Quote parameters per contract (worksheet item 16), as arrays over the chain.

    `width_ticks` is the wanted spread in ticks, `width_pct` the wanted spread as a share of
    theo (the larger wins); `size` the quantity a side; `skew_inventory` moves theo by so many
    yuan per unit of inventory (positive inventory lowers both sides); `skew_delta` likewise
    per unit of delta exposure; `enabled` says whether the contract is quoted at all;
    `cheap_bid` keeps a one-tick bid on a cheap option whose model bid is worthless (the
    exemption lets it go, but the exchange counts only two-sided quotes as valid: a desk
    that wants the participation pays at most a tick a fill for it)."""

    width_ticks: I64
    width_pct: F64
    size: I64
    skew_inventory: F64
    skew_delta: F64
    enabled: NDArray[np.bool_]
    cheap_bid: NDArray[np.bool_]

    @classmethod
    def uniform(cls, n: int, *, width_ticks: int = 4, width_pct: float = 0.0, size: int = 10,
                skew_inventory: float = 0.0, skew_delta: float = 0.0,
                cheap_bid: bool = True) -> "QuoteParams":
        return cls(np.full(n, width_ticks, dtype=np.int64), np.full(n, width_pct),
                   np.full(n, size, dtype=np.int64), np.full(n, skew_inventory),
                   np.full(n, skew_delta), np.ones(n, dtype=bool), np.full(n, cheap_bid))


@dataclass(frozen=True, slots=True)
class BuiltQuotes:
    """Prices in ticks (NO_PRICE where a side is absent) and quantities, per contract."""

    bid_px: I64
    bid_qty: I64
    ask_px: I64
    ask_qty: I64
    theo_ticks: F64


def _floor_div(num: I64, den: I64) -> I64:
    return num // den


def build_quotes(rules: ChainRules, theo: F64, params: QuoteParams, phase: Phase, *,
                 inventory: F64 | None = None, delta: F64 | None = None,
                 other_bid: I64 | None = None, other_ask: I64 | None = None) -> BuiltQuotes:
    """Two-sided quotes for the whole chain in `phase` (theo in yuan; NaN = no quote).
    `other_bid` / `other_ask`: everyone else's best prices in ticks (NO_PRICE: none)."""
    ticks = rules.tick
    adjusted = theo.astype(np.float64).copy()
    if inventory is not None:
        adjusted -= params.skew_inventory * inventory
    if delta is not None:
        adjusted -= params.skew_delta * delta
    theo_ticks = adjusted / ticks
    quotable = params.enabled & np.isfinite(theo_ticks)
    safe_theo = np.where(quotable, theo_ticks, 0.0)
    width = np.maximum(params.width_ticks, np.ceil(params.width_pct * np.abs(safe_theo)))
    width = np.maximum(width, 1).astype(np.int64)
    bid = np.floor(safe_theo - width / 2.0).astype(np.int64)
    ask = np.ceil(safe_theo + width / 2.0).astype(np.int64)
    ask = np.maximum(ask, bid + 1)

    # never wider than the pack allows: narrow around the middle until it fits
    auction = phase.is_auction
    key = Phase.OPENING_AUCTION if auction else Phase.CONTINUOUS
    pct_num, pct_den = rules.pct_num[key], rules.pct_den[key]
    for _ in range(4):
        basis = np.maximum(bid if rules.pack.spread.basis == "bid" else ask, 0)
        # the allowed spread in whole ticks: floor(max(pct x basis, floor ticks))
        allowed = np.maximum(_floor_div(pct_num * basis, pct_den),
                             _floor_div(rules.floor_num, rules.floor_den))
        allowed = np.maximum(allowed, 1)
        excess = np.maximum(ask - bid - allowed, 0)
        if not excess.any():
            break
        bid = bid + excess // 2
        ask = ask - (excess - excess // 2)

    if not auction and other_bid is not None and other_ask is not None:
        # never take: move the whole quote off the other side's best price
        down = np.where(other_ask != NO_PRICE, np.maximum(bid - other_ask + 1, 0), 0)
        up = np.where((other_bid != NO_PRICE) & (down == 0),
                      np.maximum(other_bid - ask + 1, 0), 0)  # (a crossed book: down only)
        bid = bid - down + up
        ask = ask - down + up

    worthless_bid = bid < 1  # the model's bid is no price at all
    # inside the price limits, never crossed
    ask = np.minimum(ask, rules.limit_up)
    bid = np.maximum(np.minimum(bid, ask - 1), rules.limit_down)
    ask = np.maximum(ask, bid + 1)
    over = ask > rules.limit_up
    ask = np.where(over, rules.limit_up, ask)
    bid = np.where(over, rules.limit_up - 1, bid)

    cheap = (rules.cheap_num > 0) & (ask * rules.cheap_den < rules.cheap_num)
    # a cheap option keeps a one-tick bid when the desk wants it (and it fits under the ask)
    floor_bid = cheap & worthless_bid & params.cheap_bid & (ask >= 2)
    bid = np.where(floor_bid, np.maximum(1, rules.limit_down), bid)
    has_bid = quotable & (bid >= 1) & (bid >= rules.limit_down) & (bid < ask)
    has_bid &= ~(cheap & worthless_bid & ~floor_bid)
    has_ask = quotable.copy()

    # sizes: the wanted size, at least the phase's minimum and amount, in whole lots
    minimum = rules.pack.min_size(phase)
    size = np.maximum(params.size, minimum)
    if rules.pack.size.min_amount_yuan:
        px = np.maximum(np.where(has_bid, bid, ask), 1)
        needed = -(-rules.amount_num // (px * rules.amount_den))  # ceiling division
        size = np.maximum(size, needed)
    size = -(-size // rules.lot) * rules.lot
    return BuiltQuotes(
        bid_px=np.where(has_bid, bid, NO_PRICE), bid_qty=np.where(has_bid, size, 0),
        ask_px=np.where(has_ask, ask, NO_PRICE), ask_qty=np.where(has_ask, size, 0),
        theo_ticks=np.where(quotable, theo_ticks, np.nan),
    )
