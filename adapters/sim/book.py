"""A price-time priority order book for one contract.

Resting entries are limit orders and the sides of market makers' quotes. Price levels are kept
in sorted lists with a FIFO queue each; a cancelled entry is marked dead and skipped when it
reaches the front, so a cancel costs O(1) plus, when its level empties, the level's removal.
"""

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field

from core.enums import Side


@dataclass(slots=True, eq=False)
class Entry:
    """One resting order or quote side. `qty` is what is left; `cum` what has traded."""

    seq: int
    order_id: str
    client_id: str
    account: str
    session: str
    side: Side
    px: int
    qty: int
    is_quote: bool = False
    cum: int = 0
    alive: bool = True
    original_qty: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.original_qty:
            self.original_qty = self.qty


class BookSide:
    """One side: prices ascending in `_prices`; the best is the last for bids, first for asks."""

    __slots__ = ("_levels", "_prices", "_qty", "is_bid")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._prices: list[int] = []
        self._levels: dict[int, deque[Entry]] = {}
        self._qty: dict[int, int] = {}

    def __bool__(self) -> bool:
        return bool(self._prices)

    def add(self, entry: Entry) -> None:
        px = entry.px
        level = self._levels.get(px)
        if level is None:
            level = self._levels[px] = deque()
            self._qty[px] = 0
            insort(self._prices, px)
        level.append(entry)
        self._qty[px] += entry.qty

    def best_px(self) -> int | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.is_bid else self._prices[0]

    def best(self) -> Entry | None:
        """The entry with priority: best price, then earliest."""
        px = self.best_px()
        if px is None:
            return None
        level = self._levels[px]
        while not level[0].alive:
            level.popleft()
        return level[0]

    def reduce(self, entry: Entry, qty: int) -> None:
        """Take `qty` off a live entry (a fill or a cancel); an entry left at 0 dies."""
        entry.qty -= qty
        px = entry.px
        self._qty[px] -= qty
        if entry.qty == 0:
            entry.alive = False
        if self._qty[px] == 0:
            del self._qty[px]
            del self._levels[px]
            del self._prices[bisect_left(self._prices, px)]

    def remove(self, entry: Entry) -> None:
        if entry.alive:
            self.reduce(entry, entry.qty)

    def levels(self, depth: int | None = None) -> tuple[tuple[int, int], ...]:
        """(price, quantity) from the best price outward."""
        prices = reversed(self._prices) if self.is_bid else iter(self._prices)
        out = []
        for px in prices:
            if depth is not None and len(out) == depth:
                break
            out.append((px, self._qty[px]))
        return tuple(out)

    def entries(self) -> list[Entry]:
        """Live entries in priority order."""
        prices = reversed(self._prices) if self.is_bid else iter(self._prices)
        return [e for px in prices for e in self._levels[px] if e.alive]

    def total_qty(self) -> int:
        return sum(self._qty.values())


class OrderBook:
    __slots__ = ("asks", "bids", "instrument_id")

    def __init__(self, instrument_id: str) -> None:
        self.instrument_id = instrument_id
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def is_crossed(self) -> bool:
        bid, ask = self.bids.best_px(), self.asks.best_px()
        return bid is not None and ask is not None and bid >= ask
