"""Call-auction uncrossing: one price for the whole auction, by the venue's rule.

1. the price that executes the maximum volume;
2. among those, the one with the minimum imbalance |buy volume at or above - sell volume at or
   below|;
3. the venue's tie-break: `nearest_reference` (the candidate nearest the reference price: the
   previous settlement or close in an opening auction, the last price intraday; equally near
   candidates above and below resolve to the lower) or `midpoint` (the middle of the lowest and
   highest remaining candidate, rounded half up to a tick).
At that price every buy above and every sell below it executes in full, and at it at least one
side executes in full, so the book left behind is never crossed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

TieBreak = Literal["nearest_reference", "midpoint"]


@dataclass(frozen=True, slots=True)
class Uncross:
    px_ticks: int
    qty: int
    buy_qty: int
    """buy quantity at or above the price"""
    sell_qty: int
    """sell quantity at or below the price"""


def uncross(
    bids: Iterable[tuple[int, int]],
    asks: Iterable[tuple[int, int]],
    *,
    tie_break: TieBreak,
    reference_px_ticks: int,
) -> Uncross | None:
    """The auction's price and volume from aggregated (price, quantity) levels, or None when
    nothing would trade (an empty side, or no bid at or above an ask)."""
    bid_qty: dict[int, int] = {}
    for px, qty in bids:
        if qty > 0:
            bid_qty[px] = bid_qty.get(px, 0) + qty
    ask_qty: dict[int, int] = {}
    for px, qty in asks:
        if qty > 0:
            ask_qty[px] = ask_qty.get(px, 0) + qty
    if not bid_qty or not ask_qty or max(bid_qty) < min(ask_qty):
        return None
    # only prices between the lowest ask and the highest bid can trade
    lo, hi = min(ask_qty), max(bid_qty)
    prices = sorted(p for p in bid_qty.keys() | ask_qty.keys() if lo <= p <= hi)
    sells_at_or_below = list(accumulate(ask_qty.get(p, 0) for p in prices))
    # no bid lies above `hi`, so buys at or above a price accumulate from the top down
    buys_at_or_above = list(accumulate(bid_qty.get(p, 0) for p in reversed(prices)))[::-1]
    best: list[tuple[int, int, int]] = []  # (price, buy, sell)
    best_key: tuple[int, int] | None = None
    for i, px in enumerate(prices):
        buy, sell = buys_at_or_above[i], sells_at_or_below[i]
        key = (min(buy, sell), -abs(buy - sell))
        if best_key is None or key > best_key:
            best_key, best = key, [(px, buy, sell)]
        elif key == best_key:
            best.append((px, buy, sell))
    volume = best_key[0] if best_key else 0
    if volume <= 0:
        return None
    if len(best) == 1:
        px, buy, sell = best[0]
    elif tie_break == "nearest_reference":
        px, buy, sell = min(best, key=lambda c: (abs(c[0] - reference_px_ticks), c[0]))
    else:
        low, high = best[0][0], best[-1][0]
        px = (low + high + 1) // 2
        buy = sum(q for p, q in bid_qty.items() if p >= px)
        sell = sum(q for p, q in ask_qty.items() if p <= px)
    return Uncross(px_ticks=px, qty=volume, buy_qty=buy, sell_qty=sell)
